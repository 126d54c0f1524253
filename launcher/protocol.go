package main

import (
	"math"
	"strconv"
	"syscall"
	"time"
)

// protocolVersion is the `protocol` of the hello; the agent refuses a launcher whose number
// differs from its own, so it changes only with an incompatible change of the messages.
const protocolVersion = 1

// request is any agent → launcher message; the fields that `t` does not use stay zero.
type request struct {
	T                string            `json:"t"`
	ID               string            `json:"id"`
	Shell            string            `json:"shell"`
	Command          string            `json:"command"`
	Env              map[string]string `json:"env"`
	Cwd              string            `json:"cwd"`
	MaxOutputBytes   int               `json:"maxOutputBytes"`
	TimeoutMs        millis            `json:"timeoutMs"`
	KillGraceMs      millis            `json:"killGraceMs"`
	DrainAfterExitMs millis            `json:"drainAfterExitMs"`
	Fenced           bool              `json:"fenced"`
	GraceMs          millis            `json:"graceMs"`
	// A pointer: a lease without its length is refused rather than read as 0, which fences.
	ValidForMs *millis `json:"validForMs"`
}

// millis is a duration as the agent sends it. A float, because a JavaScript number may carry a
// fraction (a lease computed from performance.now()) and that must not fail the whole message.
type millis float64

// maxDuration keeps a huge value from overflowing into a negative duration (a lease of 1e300 ms
// must not fence at once); 2^62 ns is over a century.
const maxDuration = time.Duration(1 << 62)

func (m millis) duration() time.Duration {
	ns := float64(m) * float64(time.Millisecond)
	if ns >= float64(maxDuration) || math.IsNaN(ns) {
		return maxDuration
	}
	return time.Duration(ns)
}

// String prints the value as JavaScript would, so `timed out after N ms` reads alike from
// both executors.
func (m millis) String() string { return strconv.FormatFloat(float64(m), 'f', -1, 64) }

type helloMessage struct {
	T        string `json:"t"`
	Protocol int    `json:"protocol"`
	Version  string `json:"version"`
	Pid      int    `json:"pid"`
}

type startedMessage struct {
	T         string `json:"t"`
	ID        string `json:"id"`
	Pid       int    `json:"pid"`
	StartTime int64  `json:"startTime"`
}

// endedMessage: ExitCode and Signal are pointers so that "absent" is JSON null, as the README
// shows, rather than 0 and "".
type endedMessage struct {
	T               string  `json:"t"`
	ID              string  `json:"id"`
	Kind            string  `json:"kind"`
	ExitCode        *int    `json:"exitCode"`
	Signal          *string `json:"signal"`
	Output          string  `json:"output"`
	OutputTruncated bool    `json:"outputTruncated"`
	StartTime       int64   `json:"startTime"`
	EndTime         int64   `json:"endTime"`
	Error           string  `json:"error"`
}

type errorMessage struct {
	T     string `json:"t"`
	Error string `json:"error"`
}

const (
	kindExited      = "exited"
	kindTimeout     = "timeout"
	kindKilled      = "killed"
	kindFenced      = "fenced"
	kindSpawnFailed = "spawn-failed"
)

// errorText mirrors errorText in agent/executor.ts: both executors must say the same thing.
func errorText(kind string, exitCode *int, signal *string, timeout millis) string {
	switch kind {
	case kindTimeout:
		return "timed out after " + timeout.String() + " ms"
	case kindKilled:
		return "killed on request"
	case kindFenced:
		return "killed: the agent's session lapsed"
	}
	if signal != nil {
		return "terminated by " + *signal
	}
	if exitCode == nil || *exitCode == 0 {
		return ""
	}
	return "exit code " + strconv.Itoa(*exitCode)
}

// signalNames are Linux's, spelled as Node's os.constants.signals does (SIGIO, not SIGPOLL),
// so the names match those of the Node executor.
var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGILL: "SIGILL", syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT",
	syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL",
	syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM",
	syscall.SIGSTKFLT: "SIGSTKFLT", syscall.SIGCHLD: "SIGCHLD", syscall.SIGCONT: "SIGCONT",
	syscall.SIGSTOP: "SIGSTOP", syscall.SIGTSTP: "SIGTSTP", syscall.SIGTTIN: "SIGTTIN",
	syscall.SIGTTOU: "SIGTTOU", syscall.SIGURG: "SIGURG", syscall.SIGXCPU: "SIGXCPU",
	syscall.SIGXFSZ: "SIGXFSZ", syscall.SIGVTALRM: "SIGVTALRM", syscall.SIGPROF: "SIGPROF",
	syscall.SIGWINCH: "SIGWINCH", syscall.SIGIO: "SIGIO", syscall.SIGPWR: "SIGPWR",
	syscall.SIGSYS: "SIGSYS",
}

func signalName(sig syscall.Signal) string {
	if name, ok := signalNames[sig]; ok {
		return name
	}
	return "SIG" + strconv.Itoa(int(sig))
}
