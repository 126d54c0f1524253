// Command cronplane-launcher starts the agent's runs outside the agent's heap and watches over
// them; see README.md for why and for the protocol it speaks on stdin and stdout.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// version is stamped by scripts/build-launcher.sh (-ldflags -X main.version=…).
var version = "dev"

type launcher struct {
	env   []string // the launcher's environment, read once: each run adds its own to it
	out   *writer
	fence *fence

	mu   sync.Mutex
	runs map[string]*run
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println(version)
		return
	}
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: cronplane-launcher [--version]\n\n"+
			"Started by the cronplane agent, it speaks the protocol of launcher/README.md\n"+
			"on stdin and stdout.")
		os.Exit(2)
	}

	// Caught and dropped rather than ignored: an ignored signal stays ignored in every child,
	// so runs could not be stopped with SIGTERM; a caught one is back to default in them.
	// SIGINT, SIGTERM and SIGHUP reach the agent, which stops its runs in order. SIGPIPE is
	// caught so that a closed stdout fails the write (EPIPE) instead of killing the launcher
	// before it has killed the runs.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)

	l := &launcher{env: os.Environ(), runs: map[string]*run{}}
	l.fence = &fence{onLapse: l.fenceAll}
	l.out = newWriter(os.Stdout, func(err error) {
		// Nobody reads the results any more: the agent is gone.
		fmt.Fprintln(os.Stderr, "cronplane-launcher: cannot write to the agent:", err)
		l.killAll()
		os.Exit(1)
	})
	l.out.send(helloMessage{T: "hello", Protocol: protocolVersion, Version: version, Pid: os.Getpid()})

	l.serve(os.Stdin)
	// The agent is gone (or a read failed, which means the same): nothing may outlive it.
	l.killAll()
	l.out.flush(time.Second)
	os.Exit(0)
}

// serve handles the agent's messages until stdin ends.
func (l *launcher) serve(in io.Reader) {
	// ReadBytes rather than a Scanner: a line holds a whole command and environment, with no
	// fixed bound on its length.
	r := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			l.handle(line)
		}
		if err != nil {
			return
		}
	}
}

func (l *launcher) handle(line []byte) {
	var m request
	if err := json.Unmarshal(line, &m); err != nil {
		l.fail("malformed message: " + err.Error())
		return
	}
	switch m.T {
	case "run":
		l.start(m)
	case "kill":
		if r := l.lookup(m.ID); r != nil {
			r.terminate(kindKilled, m.GraceMs.duration())
		}
	case "lease":
		if m.ValidForMs == nil {
			l.fail("lease without validForMs")
			return
		}
		l.fence.renew(m.ValidForMs.duration())
	default:
		l.fail(fmt.Sprintf("unknown message type %q", m.T))
	}
}

func (l *launcher) fail(text string) {
	l.out.send(errorMessage{T: "error", Error: text})
}

func (l *launcher) lookup(id string) *run {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.runs[id]
}

// fenceAll kills every fenced run at once: its lock may already be another agent's.
func (l *launcher) fenceAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.runs {
		if r.fenced {
			r.terminate(kindFenced, 0)
		}
	}
}

func (l *launcher) killAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.runs {
		r.signal(syscall.SIGKILL)
	}
}
