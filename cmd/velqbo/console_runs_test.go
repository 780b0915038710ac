package main

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/runprogress"
	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// main returns a Main configured as e.exec's, for calling its methods
// directly.
func (e *e2e) main() *Main {
	e.t.Helper()
	clk := clock.NewFake(time.Now())
	m := &Main{
		Stdin:           strings.NewReader(""),
		Stdout:          &bytes.Buffer{},
		Stderr:          &bytes.Buffer{},
		Getenv:          envFunc(e.Env),
		Now:             time.Now,
		IsTerminal:      func() bool { return false },
		QBOOptions:      []qbo.Option{qbo.WithClock(clk)},
		VelocityOptions: []velocity.Option{velocity.WithClock(clk)},
	}
	e.must(m.loadConfig(globalFlags{}, map[string]bool{}))
	m.Log = m.newLogger()
	return m
}

// waitFor waits for ch, failing the test after a minute: a guard against a
// hang, not a sleep.
func waitFor(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("%s: still waiting after a minute", what)
	}
}

// TestStartRun: a run started for the console holds the run lease in the
// user's name while it runs in the background, so another run (the
// daemon's, a second click) is refused naming it; its progress is on the
// board and in the ledger while it runs, and its result when it ends.
func TestStartRun(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eOptions{})
	e.Vel.AddOrder(e2eOrder("o1", "1001", 1))
	e.Vel.AddOrder(e2eOrder("o2", "1002", 1))
	m := e.main()
	m.board = &runprogress.Board{}
	ctx := t.Context()
	st, err := m.openStore(ctx)
	e.must(err)
	defer st.Close()

	if _, err := st.AcquireLease(ctx, runLeaseName, "other", time.Minute); err != nil {
		t.Fatal(err)
	}
	mark := e.mark()
	_, err = m.startRun(ctx, "ann", nil)
	var held *schema.LeaseHeldError
	if !errors.As(err, &held) || held.Holder != "other" {
		t.Fatalf("start while another holds the lease: got %v; want a LeaseHeldError naming other", err)
	}
	if w := e.writesSince(mark); len(w) != 0 {
		t.Errorf("writes while the lease is held: %d", len(w))
	}
	e.must(st.ReleaseLease(ctx, runLeaseName, "other"))

	hold, arrived := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.QBO.Inject(qbotest.Injection{Times: 1, Hold: hold, Match: func(c *qbotest.Call) bool {
		if !isWritePtr(c) {
			return false
		}
		once.Do(func() { close(arrived) })
		return true
	}})
	live, err := m.startRun(ctx, "ann", nil)
	if err != nil {
		t.Fatalf("startRun: %v", err)
	}
	waitFor(t, "the run's first write", arrived)

	s, err := m.runStatus(ctx, st)
	e.must(err)
	if s.Live != live || !s.Running() || s.Lease == nil || !strings.Contains(s.Holder(), "console user ann") || s.Run == nil || s.Run.Status != schema.RunRunning {
		t.Errorf("status while running: got %+v; want the live run, held by console user ann, with its running row", s)
	}
	_, err = m.startRun(ctx, "bob", nil)
	if !errors.As(err, &held) || !strings.Contains(held.Holder, "console user ann") {
		t.Errorf("a second start: got %v; want a LeaseHeldError naming ann", err)
	}

	close(hold)
	waitFor(t, "the run", live.Done())
	sum, err := live.Result()
	if err != nil || sum == nil || sum.Counts.Created != 2 {
		t.Fatalf("result: got %+v, %v; want 2 created", sum, err)
	}
	for _, dn := range []string{"1001", "1002"} {
		e.one("SalesReceipt", dn)
	}
	s, err = m.runStatus(ctx, st)
	e.must(err)
	if s.Running() || m.board.Last() != live {
		t.Errorf("status after the run: got %+v, last %v; want nothing running and the run last", s, m.board.Last())
	}
	runs, err := st.LastRuns(ctx, 1)
	e.must(err)
	if len(runs) != 1 || runs[0].ID != sum.RunID || runs[0].Status != schema.RunOK {
		t.Errorf("ledger: got %+v; want run %s ok", runs, sum.RunID)
	}
}
