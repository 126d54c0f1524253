package main

import (
	"sync"
	"time"
)

// fence is the agent's watchdog. The agent's lock on a `forbid` job lives on its etcd session;
// once that may have lapsed, another agent can be handed the lock, so the fenced runs must
// stop. The launcher keeps the deadline in its own process so that it holds even while the
// agent is frozen (a long GC pause, SIGSTOP, a swapped-out heap).
type fence struct {
	onLapse func()

	mu       sync.Mutex
	deadline time.Time // zero until the first lease: before it no run is fenced by time
	timer    *time.Timer
	// gen tells the current timer from one a newer lease replaced, which may fire regardless.
	gen uint64
}

// renew replaces the deadline, earlier or later: the agent knows best how long its session is
// safe. time.Time carries the monotonic clock, so a wall clock step moves nothing.
func (f *fence) renew(validFor time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deadline = time.Now().Add(validFor)
	f.gen++
	if f.timer != nil {
		f.timer.Stop()
	}
	f.arm(validFor, f.gen)
}

func (f *fence) arm(after time.Duration, gen uint64) {
	f.timer = time.AfterFunc(after, func() { f.check(gen) })
}

func (f *fence) check(gen uint64) {
	f.mu.Lock()
	if gen != f.gen {
		f.mu.Unlock()
		return
	}
	if left := time.Until(f.deadline); left > 0 {
		f.arm(left, gen)
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	f.onLapse()
}

// lapsed says whether a fenced run must not run now; a run that starts after the lapse and
// before a new lease is killed as soon as it has started.
func (f *fence) lapsed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.deadline.IsZero() && !time.Now().Before(f.deadline)
}
