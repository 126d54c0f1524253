package main

import (
	"bufio"
	"encoding/json"
	"io"
	"time"
)

// writer is the only goroutine that writes stdout, so lines never interleave. It flushes when
// no message is waiting: a burst of starts and ends becomes a few large writes, a lone message
// goes out at once.
type writer struct {
	messages chan any
}

// flushRequest asks the writer to flush what it has and then close the channel.
type flushRequest chan struct{}

// newWriter starts the writer; onFail is called once if stdout can no longer be written.
func newWriter(out io.Writer, onFail func(error)) *writer {
	w := &writer{messages: make(chan any, 1024)}
	go w.loop(out, onFail)
	return w
}

func (w *writer) send(message any) { w.messages <- message }

func (w *writer) loop(out io.Writer, onFail func(error)) {
	buf := bufio.NewWriterSize(out, 64<<10)
	enc := json.NewEncoder(buf)
	// Output is not HTML: keep <, > and & as they are.
	enc.SetEscapeHTML(false)
	for message := range w.messages {
		if done, ok := message.(flushRequest); ok {
			err := buf.Flush()
			close(done)
			if err != nil {
				onFail(err)
				return
			}
			continue
		}
		if err := enc.Encode(message); err != nil {
			onFail(err)
			return
		}
		if len(w.messages) == 0 {
			if err := buf.Flush(); err != nil {
				onFail(err)
				return
			}
		}
	}
}

// flush waits up to timeout for the messages sent so far to be written; a stdout nobody reads
// must not keep the launcher from exiting.
func (w *writer) flush(timeout time.Duration) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	done := make(flushRequest)
	select {
	case w.messages <- done:
	case <-deadline.C:
		return
	}
	select {
	case <-done:
	case <-deadline.C:
	}
}
