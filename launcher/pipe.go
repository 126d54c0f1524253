package main

import (
	"errors"
	"os"
	"sync"
	"syscall"
)

var readBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// readOutput reads the run's pipe into output until EOF, or until await sets a read deadline
// because the drain ran out.
func readOutput(pr *os.File, output *capture) {
	bp := readBuffers.Get().(*[]byte)
	defer readBuffers.Put(bp)
	for {
		n, err := pr.Read(*bp)
		output.write((*bp)[:n])
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			sweep(pr, output, *bp)
		}
		return
	}
}

// sweepLimit bounds sweep, so a background child that writes without pause cannot hold it.
const sweepLimit = 1 << 20

// sweep takes, without waiting, what the pipe holds when the drain runs out. When nothing but
// the exited shell ever wrote to it, that is all of the output (its EOF is there, only not yet
// read), so a short drain loses nothing to scheduling.
func sweep(pr *os.File, output *capture, buf []byte) {
	conn, err := pr.SyscallConn()
	if err != nil {
		return
	}
	_ = conn.Control(func(fd uintptr) {
		// The descriptor is non-blocking (os.Pipe puts it in Go's poller): an empty pipe
		// answers EAGAIN rather than waiting.
		for taken := 0; taken < sweepLimit; {
			n, err := syscall.Read(int(fd), buf)
			if n <= 0 || err != nil {
				return
			}
			output.write(buf[:n])
			taken += n
		}
	})
}
