package main

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// capture keeps the head and the tail of a run's output, as agent/output-buffer.ts does: the
// start says what the command was doing, the end how it failed, and memory stays near the cap
// however much the command prints.
type capture struct {
	max     int
	headMax int
	tailMax int
	head    []byte
	// tail holds the latest bytes after the head; it may grow to twice tailMax before it is cut
	// back, so each byte is moved at most once more.
	tail  []byte
	total int64
}

func newCapture(maxBytes int) *capture {
	maxBytes = max(maxBytes, 0)
	return &capture{max: maxBytes, headMax: maxBytes / 2, tailMax: maxBytes - maxBytes/2}
}

func (c *capture) write(p []byte) {
	c.total += int64(len(p))
	if n := min(c.headMax-len(c.head), len(p)); n > 0 {
		c.head = append(c.head, p[:n]...)
		p = p[n:]
	}
	if len(p) == 0 {
		return
	}
	c.tail = append(c.tail, p...)
	if len(c.tail) > 2*c.tailMax {
		c.tail = append(c.tail[:0], c.tail[len(c.tail)-c.tailMax:]...)
	}
}

// text is the captured output, with a marker between head and tail when some was left out.
func (c *capture) text() (text string, truncated bool) {
	if c.total <= int64(c.max) {
		return validText(append(c.head, c.tail...)), false
	}
	kept := c.tail[len(c.tail)-min(len(c.tail), c.tailMax):]
	omitted := c.total - int64(len(c.head)) - int64(len(kept))
	marker := "\n[… " + strconv.FormatInt(omitted, 10) + " bytes of output truncated by cronplane …]\n"
	return validText(c.head) + marker + validText(kept), true
}

// validText decodes UTF-8 the way Node's Buffer.toString does (the WHATWG decoder): each
// maximal ill-formed subsequence becomes one U+FFFD. Go's own rule (one per byte) would make a
// cut multi-byte character read differently here than from the Node executor.
func validText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 16)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			sb.WriteRune(utf8.RuneError)
			b = b[illFormedPrefix(b):]
			continue
		}
		sb.Write(b[:size])
		b = b[size:]
	}
	return sb.String()
}

// illFormedPrefix is the length of the maximal subpart at the start of b, which does not begin
// a well-formed character: its lead byte and the continuation bytes that could still have
// completed one.
func illFormedPrefix(b []byte) int {
	need, lo, hi := 0, byte(0x80), byte(0xBF)
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for n <= need && n < len(b) && b[n] >= lo && b[n] <= hi {
		n++
		lo, hi = 0x80, 0xBF
	}
	return n
}
