package main

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestFence(t *testing.T) {
	var lapses atomic.Int32
	f := &fence{onLapse: func() { lapses.Add(1) }}
	if f.lapsed() {
		t.Fatal("fenced before the first lease")
	}

	f.renew(30 * time.Millisecond)
	f.renew(time.Hour) // a newer lease replaces the deadline; the first timer must not fire
	time.Sleep(60 * time.Millisecond)
	if f.lapsed() || lapses.Load() != 0 {
		t.Fatalf("lapsed %v after %d lapses, under a lease of an hour", f.lapsed(), lapses.Load())
	}

	f.renew(20 * time.Millisecond) // and may move it earlier
	time.Sleep(60 * time.Millisecond)
	if !f.lapsed() || lapses.Load() != 1 {
		t.Fatalf("lapsed %v after %d lapses, past the deadline", f.lapsed(), lapses.Load())
	}

	f.renew(0)
	time.Sleep(10 * time.Millisecond)
	if !f.lapsed() || lapses.Load() != 2 {
		t.Fatalf("a lease of 0 must fence at once: lapsed %v, %d lapses", f.lapsed(), lapses.Load())
	}
}
