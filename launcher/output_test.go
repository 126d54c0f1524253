package main

import (
	"strings"
	"testing"
)

func captured(max int, chunks ...string) (string, bool) {
	c := newCapture(max)
	for _, chunk := range chunks {
		c.write([]byte(chunk))
	}
	return c.text()
}

func TestCaptureKeepsEverythingUpToTheCap(t *testing.T) {
	text, truncated := captured(10, "0123", "", "456789")
	if text != "0123456789" || truncated {
		t.Fatalf("got %q, truncated %v", text, truncated)
	}
}

// The marker must match agent/output-buffer.ts byte for byte (U+2026 on both sides).
func TestCaptureKeepsHeadAndTail(t *testing.T) {
	for _, tc := range []struct {
		max    int
		chunks []string
		want   string
	}{
		{10, []string{"0123456789abcdefghij"}, "01234\n[… 10 bytes of output truncated by cronplane …]\nfghij"},
		{11, []string{"0123456789a", "b"}, "01234\n[… 1 bytes of output truncated by cronplane …]\n6789ab"},
		{11, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"},
			"01234\n[… 13 bytes of output truncated by cronplane …]\nijklmn"},
		{1, []string{"ab"}, "\n[… 1 bytes of output truncated by cronplane …]\nb"},
		{0, []string{"ab"}, "\n[… 2 bytes of output truncated by cronplane …]\n"},
	} {
		text, truncated := captured(tc.max, tc.chunks...)
		if text != tc.want || !truncated {
			t.Errorf("max %d: got %q, truncated %v; want %q", tc.max, text, truncated, tc.want)
		}
	}
}

func TestCaptureStaysNearItsCap(t *testing.T) {
	c := newCapture(1000)
	chunk := []byte(strings.Repeat("x", 99))
	for range 10000 {
		c.write(chunk)
	}
	if len(c.head) != 500 || len(c.tail) > 1000 {
		t.Fatalf("head %d bytes, tail %d bytes", len(c.head), len(c.tail))
	}
	if text, _ := c.text(); !strings.Contains(text, "[… 989000 bytes of output") {
		t.Fatalf("got %q", text)
	}
}

// As Node's Buffer.toString: one U+FFFD per maximal ill-formed subsequence.
func TestValidTextReplacesAsNodeDoes(t *testing.T) {
	for in, want := range map[string]string{
		"plain €":              "plain €",
		"a\xffb":               "a\uFFFDb",
		"\xff\xff":             "\uFFFD\uFFFD",
		"cut \xe2\x82":         "cut \uFFFD",
		"\xf0\x9f\x98!":        "\uFFFD!",
		"\xed\xa0\x80":         "\uFFFD\uFFFD\uFFFD", // a surrogate's encoding
		"\xc0\xaf":             "\uFFFD\uFFFD",       // overlong
		"\xf4\x90\x80\x80":     "\uFFFD\uFFFD\uFFFD\uFFFD",
		"\xef\xbf\xbd is fine": "\uFFFD is fine",
	} {
		if got := validText([]byte(in)); got != want {
			t.Errorf("validText(%q) = %q, want %q", in, got, want)
		}
	}
}

// A head cut inside a character reads as in the Node executor: one U+FFFD before the marker.
func TestCaptureCutInsideACharacter(t *testing.T) {
	text, _ := captured(7, "ab€€€€")
	want := "ab\uFFFD\n[… 7 bytes of output truncated by cronplane …]\n\uFFFD€"
	if text != want {
		t.Fatalf("got %q, want %q", text, want)
	}
}
