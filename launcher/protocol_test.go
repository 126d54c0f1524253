package main

import (
	"testing"
	"time"
)

// The same texts as errorText in agent/executor.ts.
func TestErrorText(t *testing.T) {
	zero, three, sigterm := 0, 3, "SIGTERM"
	for _, tc := range []struct {
		kind     string
		exitCode *int
		signal   *string
		want     string
	}{
		{kindExited, &zero, nil, ""},
		{kindExited, &three, nil, "exit code 3"},
		{kindExited, nil, &sigterm, "terminated by SIGTERM"},
		{kindTimeout, nil, &sigterm, "timed out after 1500 ms"},
		{kindKilled, &zero, nil, "killed on request"},
		{kindFenced, nil, &sigterm, "killed: the agent's session lapsed"},
	} {
		if got := errorText(tc.kind, tc.exitCode, tc.signal, 1500); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.kind, got, tc.want)
		}
	}
}

func TestMillis(t *testing.T) {
	if d := millis(1.5).duration(); d != 1500*time.Microsecond {
		t.Errorf("1.5 ms is %v", d)
	}
	if d := millis(1e300).duration(); d != maxDuration {
		t.Errorf("a huge lease must not overflow into a negative one: %v", d)
	}
	if s := millis(250).String(); s != "250" {
		t.Errorf("250 ms prints as %q", s)
	}
}
