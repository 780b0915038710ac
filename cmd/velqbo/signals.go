package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
)

// A manual run stops the way the daemon does: the first SIGINT or SIGTERM
// closes the run's Options.Stop (no new write starts, the writes in flight
// finish and are recorded, the run is recorded interrupted); a second one
// cancels the context, which cuts the writes in flight off (the next run
// looks them up in QBO). Commands that have no graceful stop are cancelled
// by the first signal.

// interrupts is a Main's signal state, shared with the copies of m a
// command makes.
type interrupts struct {
	f      atomic.Pointer[func(os.Signal)] // the graceful stop of the command running
	writes atomic.Int64                    // write requests to QBO in flight
}

// watchSignals turns m.Signals into the graceful stop of the command
// running (when it registered one with onInterrupt) or into cancel, until
// done is closed.
func (m *Main) watchSignals(done <-chan struct{}, cancel context.CancelFunc) {
	graceful, cancelled := false, false
	for {
		select {
		case <-done:
			return
		case sig := <-m.Signals:
			if !graceful {
				if f := m.intr.f.Load(); f != nil {
					graceful = true
					(*f)(sig)
					continue
				}
			}
			if cancelled && m.Abandon != nil {
				// Something does not heed its context (a read of standard
				// input, a prompt): a signal after the cut-off must still
				// end the process, as it would without velqbo's handler.
				m.Abandon()
				return
			}
			cancelled = true
			cancel()
		}
	}
}

// onInterrupt makes the next signal call f instead of cancelling the
// command's context; the returned function undoes it.
func (m *Main) onInterrupt(f func(os.Signal)) (undo func()) {
	m.intr.f.Store(&f)
	return func() { m.intr.f.CompareAndSwap(&f, nil) }
}

// gracefulStop returns an Options.Stop for a manual run, closed by the
// first signal with a word on stderr about what happens next.
func (m *Main) gracefulStop(say func(string)) (stop <-chan struct{}, undo func()) {
	if m.intr == nil { // not started by Run: no signals reach it
		return nil, func() {}
	}
	ch := make(chan struct{})
	undo = m.onInterrupt(func(os.Signal) {
		close(ch)
		say(fmt.Sprintf("stopping: letting %d writes in flight finish; press Ctrl-C again to cut off", m.intr.writes.Load()))
	})
	return ch, undo
}

// inflightTransport counts the write requests (POST: creates, updates,
// voids, batches) in flight, for the stopping message.
type inflightTransport struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (t inflightTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost {
		return t.base.RoundTrip(r)
	}
	t.n.Add(1)
	defer t.n.Add(-1)
	return t.base.RoundTrip(r)
}
