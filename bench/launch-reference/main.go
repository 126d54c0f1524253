// Command launch-reference is the benchmark's yardstick for launching runs: plain os/exec,
// nothing else (no scheduling, no protocol, no process groups, no timeouts). It starts -n runs
// of `shell -c command`, keeping -inflight of them running, each with stdout and stderr captured
// through one pipe read to EOF and each waited for, and prints one JSON line:
//
//	{"runs":2000,"seconds":1.23,"runsPerSecond":1626,"failed":0}
//
// A run fails when it cannot start or exits non-zero.
package main

import (
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	runs := flag.Int("n", 2000, "how many runs to launch")
	inflight := flag.Int("inflight", 32, "how many runs to keep running at once")
	shell := flag.String("shell", "/bin/bash", "the shell that runs the command")
	command := flag.String("command", "echo tick", "the command, run as shell -c command")
	flag.Parse()

	var failed atomic.Int64
	slots := make(chan struct{}, max(*inflight, 1))
	var wg sync.WaitGroup
	began := time.Now()
	for range *runs {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if launch(*shell, *command) != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	seconds := time.Since(began).Seconds()

	_ = json.NewEncoder(os.Stdout).Encode(struct {
		Runs          int     `json:"runs"`
		Seconds       float64 `json:"seconds"`
		RunsPerSecond float64 `json:"runsPerSecond"`
		Failed        int64   `json:"failed"`
	}{*runs, seconds, float64(*runs) / seconds, failed.Load()})
}

// launch runs one command the way the launcher does at its core: one pipe for stdout and
// stderr, handed to the child as a descriptor, read to EOF, then the child waited for.
func launch(shell, command string) error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	cmd := exec.Command(shell, "-c", command)
	cmd.Stdout, cmd.Stderr = pw, pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, pr)
	return cmd.Wait()
}
