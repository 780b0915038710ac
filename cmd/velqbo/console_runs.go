package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/daemon"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/runprogress"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// consoleLeases numbers the console's holds of the run lease.
var consoleLeases atomic.Int64

// consoleHolder names the run lease's holder for one thing the console
// does (what: "run by ann"). Each name is new: a holder that takes a lease
// it already holds renews it, so a name shared with the daemon's runs or
// with another click would let the two overlap.
func consoleHolder(what string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("console %s #%d (velqbo pid %d on %s)", what, consoleLeases.Add(1), os.Getpid(), host)
}

// startRun starts an incremental run in the background, the way `velqbo
// run` runs, under the run lease held in user's name, and returns once the
// lease is held; progress goes to the log at each tenth, and the run is on
// m's board (created if m has none) until it ends. stop, when closed, stops
// it gracefully as a signal stops `velqbo run`.
//
// The errors are those that keep a run from starting: not connected, no
// source, no database, and another run holding the lease (exit code 3,
// wrapping *schema.LeaseHeldError, which names it).
func (m *Main) startRun(ctx context.Context, user string, stop <-chan struct{}) (*runprogress.Live, error) {
	if m.board == nil {
		m.board = &runprogress.Board{} // newConsole makes one; a test's Main may not
	}
	// The run outlives the request that started it; the lease's renewal
	// runs on this context, so it must not end with the request.
	ctx = context.WithoutCancel(ctx)
	rm := *m
	rm.leaseHolder = consoleHolder("run by " + user)
	bar := rm.progress(false)
	lr, err := rm.leaseRun(ctx, bar)
	if err != nil {
		bar.finish()
		return nil, err
	}
	live := lr.live
	go func() {
		daemon.PrepareRun()
		var sum *reconcile.Summary
		var err error
		defer func() {
			lr.close(sum, err)
			daemon.ReleaseMemory()
		}()
		sum, err = lr.run(ctx, reconcile.Options{Mode: reconcile.ModeIncremental, Stop: stop})
		if err != nil {
			m.Log.WithError(err).WithField("holder", lr.holder).Warn("the run started in the console did not finish")
		}
	}()
	return live, nil
}

// waitConsoleRun waits, for at most grace, for a run the console started
// to finish after the daemon asked it to stop (runStop): its writes in
// flight are recorded before the process exits. A run cut off by the exit
// is looked up by the next run, as any other.
func (m *Main) waitConsoleRun(grace time.Duration) {
	if m.board == nil {
		return
	}
	l := m.board.Current()
	if l == nil {
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-l.Done():
	case <-t.C:
		m.Log.Warn("grace period over: the run started in the console is cut off; the next run looks its writes up in QBO")
	}
}

// runStatus says whether a run is in progress, and how far it is: from
// m's board when this process runs it, else from the ledger (the lease,
// the run's row and the writes its audit log holds so far).
func (m *Main) runStatus(ctx context.Context, st *schema.Store) (runprogress.Status, error) {
	var s runprogress.Status
	if m.board != nil {
		s.Live = m.board.Current()
	}
	if l, err := st.GetLease(ctx, runLeaseName); err == nil && l.ExpiresAt.After(m.Now()) {
		s.Lease = &l
	} else if err != nil && !errors.Is(err, schema.ErrNotFound) {
		return s, err
	}
	if s.Live == nil && s.Lease == nil {
		return s, nil
	}
	runs, err := st.LastRuns(ctx, 1)
	if err != nil {
		return s, err
	}
	if len(runs) == 1 && runs[0].Status == schema.RunRunning {
		s.Run = &runs[0]
		if s.Writes, err = st.RunWrites(ctx, runs[0].ID); err != nil {
			return s, err
		}
	}
	return s, nil
}

// preview is `velqbo plan` for the console: an incremental plan.
func (m *Main) preview(ctx context.Context) (*reconcile.Summary, error) {
	return m.plan(ctx, reconcile.Options{Mode: reconcile.ModeIncremental})
}

func (b *consoleBackend) Preview(ctx context.Context) (*reconcile.Summary, error) {
	sum, err := b.m.preview(ctx)
	return sum, consoleErr(err)
}

func (b *consoleBackend) RunNow(ctx context.Context, user string) (*runprogress.Live, error) {
	live, err := b.m.startRun(ctx, user, b.m.runStop)
	return live, consoleErr(err)
}

func (b *consoleBackend) RunStatus(ctx context.Context) (runprogress.Status, error) {
	return b.m.runStatus(ctx, b.st)
}
