package main

import (
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// run is one command in flight, the leader of its own process group (its pid is the group id),
// so that every signal reaches the grandchildren too.
type run struct {
	id        string
	pid       int
	fenced    bool
	startTime int64
	timeoutMs millis
	timeout   *time.Timer

	mu        sync.Mutex
	cause     string // the first of timeout, killed, fenced: later causes do not change the kind
	over      bool   // the group has been killed for good; no signal may follow (see await)
	killTimer *time.Timer
}

// start launches one run and reports `started`, or `ended` with spawn-failed.
func (l *launcher) start(m request) {
	if m.ID == "" {
		l.fail("run without an id")
		return
	}
	if l.lookup(m.ID) != nil {
		l.fail("run " + strconv.Quote(m.ID) + " is already in flight")
		return
	}

	cmd := exec.Command(m.Shell, "-c", m.Command)
	cmd.Env = l.environ(m.Env)
	cmd.Dir = m.Cwd
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// One pipe for stdout and stderr keeps their lines in the order they were written. Handing
	// exec an *os.File passes the descriptor itself, so no goroutine copies between pipes.
	pr, pw, err := os.Pipe()
	if err != nil {
		l.spawnFailed(m.ID, err)
		return
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	startTime := time.Now().UnixMilli()
	err = cmd.Start()
	// Only the run's processes may hold the write end, or the pipe would never report EOF.
	pw.Close()
	if err != nil {
		pr.Close()
		if cwdErr := checkDir(m.Cwd); cwdErr != nil {
			err = cwdErr
		}
		l.spawnFailed(m.ID, err)
		return
	}

	r := &run{id: m.ID, pid: cmd.Process.Pid, fenced: m.Fenced, startTime: startTime, timeoutMs: m.TimeoutMs}
	l.mu.Lock()
	l.runs[r.id] = r
	l.mu.Unlock()
	l.out.send(startedMessage{T: "started", ID: r.id, Pid: r.pid, StartTime: startTime})

	// After the run is registered: a lapse from now on finds it, one before is seen here.
	if r.fenced && l.fence.lapsed() {
		r.terminate(kindFenced, 0)
	}
	if d := m.TimeoutMs.duration(); d > 0 {
		grace := m.KillGraceMs.duration()
		r.timeout = time.AfterFunc(d, func() { r.terminate(kindTimeout, grace) })
	}
	output := newCapture(m.MaxOutputBytes)
	eof := make(chan struct{})
	go func() {
		readOutput(pr, output)
		close(eof)
	}()
	go l.await(r, cmd, pr, eof, output, m.DrainAfterExitMs.duration())
}

// await ends a run: the shell exits, its output closes (or the drain runs out), what is left of
// the group is killed, then `ended` goes out.
func (l *launcher) await(r *run, cmd *exec.Cmd, pr *os.File, eof <-chan struct{}, output *capture, drainAfterExit time.Duration) {
	// The shell stays a zombie until cmd.Wait, which keeps its pid, and so the group id, from
	// being reused: every signal up to the final SIGKILL reaches this run's group and no other.
	reaped := false
	if waitExited(r.pid) != nil {
		_ = cmd.Wait() // cannot wait without reaping: still correct, only without that guard
		reaped = true
	}

	drain := time.NewTimer(drainAfterExit)
	select {
	case <-eof:
	case <-drain.C:
		// A background child still holds the pipe. The deadline ends the reader, which first
		// takes what the pipe already holds.
		if pr.SetReadDeadline(time.Now()) != nil {
			pr.Close()
		}
		<-eof
	}
	drain.Stop()
	pr.Close()

	cause := r.finish()
	if !reaped {
		_ = cmd.Wait()
	}

	kind := kindExited
	if cause != "" {
		kind = cause
	}
	var exitCode *int
	var signal *string
	if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		name := signalName(status.Signal())
		signal = &name
	} else {
		code := cmd.ProcessState.ExitCode()
		exitCode = &code
	}
	text, truncated := output.text()

	l.mu.Lock()
	delete(l.runs, r.id) // before `ended`: the agent may reuse the id as soon as it reads it
	l.mu.Unlock()
	l.out.send(endedMessage{
		T: "ended", ID: r.id, Kind: kind, ExitCode: exitCode, Signal: signal,
		Output: text, OutputTruncated: truncated,
		StartTime: r.startTime, EndTime: time.Now().UnixMilli(),
		Error: errorText(kind, exitCode, signal, r.timeoutMs),
	})
}

// terminate ends the group on behalf of cause: SIGTERM, then SIGKILL after grace (at once when
// grace is 0, which also escalates an earlier, gentler request).
func (r *run) terminate(cause string, grace time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.over {
		return
	}
	if r.cause == "" {
		r.cause = cause
	}
	if grace <= 0 {
		r.signalLocked(syscall.SIGKILL)
		return
	}
	r.signalLocked(syscall.SIGTERM)
	if r.killTimer != nil {
		r.killTimer.Stop()
	}
	r.killTimer = time.AfterFunc(grace, func() { r.signal(syscall.SIGKILL) })
}

func (r *run) signal(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.signalLocked(sig)
}

func (r *run) signalLocked(sig syscall.Signal) {
	if !r.over {
		_ = syscall.Kill(-r.pid, sig) // ESRCH: the group is gone already
	}
}

// finish kills whatever is left of the group, so a finished run leaves nothing behind, and
// stops its timers. It returns the cause that ended the run early, if any.
func (r *run) finish() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.signalLocked(syscall.SIGKILL)
	r.over = true
	if r.killTimer != nil {
		r.killTimer.Stop()
	}
	if r.timeout != nil {
		r.timeout.Stop()
	}
	return r.cause
}

func (l *launcher) spawnFailed(id string, err error) {
	now := time.Now().UnixMilli()
	l.out.send(endedMessage{
		T: "ended", ID: id, Kind: kindSpawnFailed, StartTime: now, EndTime: now,
		Error: "failed to start: " + err.Error(),
	})
}

// environ is the launcher's environment plus the run's. os/exec keeps the last of duplicate
// keys, so a run's value overrides an inherited one.
func (l *launcher) environ(extra map[string]string) []string {
	env := make([]string, len(l.env), len(l.env)+len(extra))
	copy(env, l.env)
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}
