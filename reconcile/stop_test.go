package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// TestRunStop stops runs with Options.Stop: before anything is sent, and
// while the first batch of creates is in flight. With one worker and 35
// orders the run sends a batch of 30, then one of 5; the held batch must
// finish and be recorded, the second must not start, the run must record
// itself interrupted without moving the cursor, and the next run must send
// exactly the rest.
func TestRunStop(t *testing.T) {
	const orders = 35
	tests := []struct {
		name        string
		midRun      bool // stop while the first batch is in flight, else before the run
		wantCreated int
	}{
		{name: "before the run", midRun: false, wantCreated: 0},
		{name: "first batch in flight", midRun: true, wantCreated: 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEngHarness(t)
			h.rec.Concurrency = 1
			for i := range orders {
				h.v.AddOrder(engOrder(fmt.Sprintf("ord_%d", i+1), fmt.Sprint(1001+i), 1))
			}
			stop := make(chan struct{})
			held := make(chan struct{}, 1)
			release := make(chan struct{})
			if tt.midRun {
				h.q.Inject(qbotest.Injection{Times: 1, Hold: release, Match: func(c *qbotest.Call) bool {
					if c.Operation != "create" && c.Operation != "batch" {
						return false
					}
					held <- struct{}{}
					return true
				}})
				go func() {
					select {
					case <-held:
					case <-time.After(time.Minute): // a guard against a hang, not a timing assumption
						t.Error("timed out waiting for the first write")
					}
					close(stop)
					close(release)
				}()
			} else {
				close(stop)
			}

			m := h.mark()
			sum, err := h.rec.Run(h.ctx, reconcile.Options{Stop: stop})
			if !errors.Is(err, reconcile.ErrInterrupted) {
				t.Fatalf("Run: got %v; want ErrInterrupted", err)
			}
			if sum == nil || sum.Counts.Created != tt.wantCreated || sum.Counts.Failed != 0 {
				t.Fatalf("summary: got %+v; want %d created and none failed", sum, tt.wantCreated)
			}
			wantWrites := 0
			if tt.midRun {
				wantWrites = 1
			}
			if got := h.writes(m); got != wantWrites {
				t.Errorf("writes: got %d; want %d (no write starts after Stop)", got, wantWrites)
			}
			if got := len(h.live("SalesReceipt")); got != tt.wantCreated {
				t.Errorf("receipts in QBO: got %d; want %d", got, tt.wantCreated)
			}
			runs, err := h.store.LastRuns(h.ctx, 1)
			h.must(err)
			if len(runs) != 1 || runs[0].Status != schema.RunInterrupted || runs[0].FinishedAt.IsZero() {
				t.Fatalf("runs: got %+v; want one finished interrupted run", runs)
			}
			if got := runs[0].Counts["created"]; got != tt.wantCreated {
				t.Errorf("recorded run: created %d; want %d", got, tt.wantCreated)
			}
			pending, err := h.store.PendingIntents(h.ctx)
			h.must(err)
			if len(pending) != 0 {
				t.Errorf("pending intents after a graceful stop: got %d; want 0 (the write in flight was recorded)", len(pending))
			}
			if v, err := h.store.GetCursor(h.ctx, "orders.updated_at"); err == nil && v != "" {
				t.Errorf("orders cursor after an interrupted run: got %q; want none", v)
			}

			// The next run sends the rest, once.
			m = h.mark()
			sum = h.run(reconcile.Options{})
			if got, want := sum.Counts.Created, orders-tt.wantCreated; got != want || !sum.OK() {
				t.Errorf("next run: counts %+v; want %d created, nothing failed", sum.Counts, want)
			}
			if got := len(h.live("SalesReceipt")); got != orders {
				t.Errorf("receipts in QBO after the next run: got %d; want %d", got, orders)
			}
			for i := range orders {
				if got := len(h.byDocNumber("SalesReceipt", fmt.Sprint(1001+i))); got != 1 {
					t.Errorf("receipts numbered %d: got %d; want 1", 1001+i, got)
				}
			}
			if h.writes(m) == 0 {
				t.Error("next run: got no writes; want the rest sent")
			}
		})
	}
}

// TestRunStopThenCutOff: Stop fires while a batch is in flight, then ctx is
// cancelled before it answers (a daemon's grace period ran out). The run
// is still recorded interrupted, its error says both, and the next run
// looks the cut-off batch up instead of sending it again.
func TestRunStopThenCutOff(t *testing.T) {
	const orders = 35
	h := newEngHarness(t)
	h.rec.Concurrency = 1
	for i := range orders {
		h.v.AddOrder(engOrder(fmt.Sprintf("ord_%d", i+1), fmt.Sprint(1001+i), 1))
	}
	stop := make(chan struct{})
	held := make(chan struct{}, 1)
	release := make(chan struct{})
	h.q.Inject(qbotest.Injection{Times: 1, Hold: release, Match: func(c *qbotest.Call) bool {
		if c.Operation != "create" && c.Operation != "batch" {
			return false
		}
		held <- struct{}{}
		return true
	}})
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	go func() {
		select {
		case <-held:
		case <-time.After(time.Minute): // a guard against a hang, not a timing assumption
			t.Error("timed out waiting for the first write")
		}
		close(stop)
		cancel()
	}()
	_, err := h.rec.Run(ctx, reconcile.Options{Stop: stop})
	close(release) // QBO may still commit the batch it held
	if !errors.Is(err, reconcile.ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: got %v; want ErrInterrupted and context.Canceled", err)
	}
	runs, err := h.store.LastRuns(h.ctx, 1)
	h.must(err)
	if len(runs) != 1 || runs[0].Status != schema.RunInterrupted {
		t.Fatalf("runs: got %+v; want one interrupted run", runs)
	}
	pending, err := h.store.PendingIntents(h.ctx)
	h.must(err)
	if len(pending) != 30 {
		t.Errorf("pending intents after the cut-off: got %d; want the 30 of the batch in flight", len(pending))
	}

	// Restarted at once, the run cannot tell whether the cut-off batch
	// still lands: it sends the 5 others and leaves those 30 waiting,
	// unless QBO had already committed them (then they are adopted).
	sum := h.run(reconcile.Options{})
	if sum.Counts.Failed != sum.Counts.Waiting || sum.Counts.Created != orders-30 {
		t.Errorf("restarted run: counts %+v; want %d created, and only waiting items failed", sum.Counts, orders-30)
	}
	// The next run after the window settles them.
	h.clk.Advance(engLandBy)
	sum = h.run(reconcile.Options{})
	if !sum.OK() {
		t.Errorf("next run: counts %+v; want nothing failed", sum.Counts)
	}
	if got := len(h.live("SalesReceipt")); got != orders {
		t.Errorf("receipts in QBO after the next run: got %d; want %d", got, orders)
	}
	for i := range orders {
		if got := len(h.byDocNumber("SalesReceipt", fmt.Sprint(1001+i))); got != 1 {
			t.Errorf("receipts numbered %d: got %d; want 1", 1001+i, got)
		}
	}
}
