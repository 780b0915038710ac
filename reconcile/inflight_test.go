package reconcile_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
)

// TestRunKilledWithBatchInFlight is issue 10's "31 duplicates": a run is
// killed (its context cut) while its batch of 30 creates is in flight at a
// QBO that takes 5 s per write, and it is restarted at once with one order
// more that is listed first, so the batch it would send is composed
// differently (another requestid, which QBO's de-duplication does not
// match). The restarted run must not trust a look-up that finds nothing
// while the first batch may still land: it leaves those 30 waiting, says
// so, and sends only the new order. Then either the first batch lands and
// is adopted, or it never does and a run after the window creates the 30.
// Every order ends up in QBO exactly once.
func TestRunKilledWithBatchInFlight(t *testing.T) {
	const orders = 30
	tests := []struct {
		name string
		// lands: QBO commits the batch 5 s after it arrived although its
		// client is gone; else QBO drops it with the connection.
		lands bool
	}{
		{name: "batch lands after the restart", lands: true},
		{name: "batch never lands", lands: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEngHarness(t)
			h.rec.Concurrency = 1
			for i := range orders {
				h.v.AddOrder(engOrder(fmt.Sprintf("ord_%d", i+1), fmt.Sprint(1001+i), 1))
			}
			arrived := make(chan struct{}, 1)
			inj := qbotest.Injection{Times: 1, Match: func(c *qbotest.Call) bool {
				if c.Operation != "batch" {
					return false
				}
				arrived <- struct{}{}
				return true
			}}
			if tt.lands {
				inj.Latency, inj.CommitLate = 5*time.Second, true
			} else {
				inj.Hold = make(chan struct{}) // never released: dropped when the client goes
			}
			h.q.Inject(inj)
			ctx, cancel := context.WithCancel(h.ctx)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := h.rec.Run(ctx, reconcile.Options{})
				done <- err
			}()
			select {
			case <-arrived:
			case <-time.After(time.Minute): // a guard against a hang, not a timing assumption
				t.Fatal("the first batch never reached QBO")
			}
			sentAt := h.clk.Now()
			cancel() // kill: the batch is in flight, its answer never read
			if err := <-done; err == nil {
				t.Fatal("killed run: got no error")
			}
			pending, err := h.store.PendingIntents(h.ctx)
			h.must(err)
			if len(pending) != orders {
				t.Fatalf("pending intents after the kill: got %d; want %d", len(pending), orders)
			}

			// Restarted at once, with a new order listed first.
			h.clk.Advance(time.Second)
			first := engOrder("ord_0", "1000", 1)
			first.UpdatedAt = engStart.Add(-48 * time.Hour)
			h.v.AddOrder(first)
			m := h.mark()
			sum := h.run(reconcile.Options{})
			if sum.Counts.Created != 1 || sum.Counts.Waiting != orders || sum.Counts.Failed != orders {
				t.Errorf("restarted run: counts %+v; want 1 created and %d failed, all waiting", sum.Counts, orders)
			}
			retry := pending[0].PendingAt.Add(engLandBy)
			wantWhy := fmt.Sprintf("waiting: a write sent at %s may still reach QBO; looked up again after %s",
				pending[0].PendingAt.Format(time.TimeOnly), retry.Format(time.TimeOnly))
			for _, it := range sum.Items {
				if it.OrderNumber == "1000" {
					continue
				}
				if it.Action != reconcile.ActionFailed || len(it.Reasons) != 1 || it.Reasons[0].Code != reconcile.CodeWriteInFlight ||
					it.Reason != wantWhy {
					t.Errorf("restarted run, order %s: got %s %q %+v; want failed, code %s, %q", it.OrderNumber, it.Action,
						it.Reason, it.Reasons, reconcile.CodeWriteInFlight, wantWhy)
				}
			}
			if got := h.writes(m); got != 1 {
				t.Errorf("restarted run: %d writes; want 1 (the new order)", got)
			}
			if pending, _ = h.store.PendingIntents(h.ctx); len(pending) != orders {
				t.Errorf("pending intents after the restarted run: got %d; want %d, still to be looked up", len(pending), orders)
			}

			wantCreated := 0
			if tt.lands {
				// The first batch lands, 5 s after it arrived; the next run
				// finds it, inside the window as it is.
				h.clk.Set(sentAt.Add(5 * time.Second))
				h.q.LandDue()
				if n := h.q.LateWrites(); n != 0 {
					t.Fatalf("late writes: %d not landed", n)
				}
			} else {
				// Nothing lands: a run inside the window still waits, and
				// only one after it creates the documents.
				h.clk.Set(retry.Add(-time.Second))
				m = h.mark()
				if sum = h.run(reconcile.Options{}); sum.Counts.Waiting != orders || h.writes(m) != 0 {
					t.Errorf("run inside the window: counts %+v, %d writes; want %d waiting, no write", sum.Counts, h.writes(m), orders)
				}
				h.clk.Set(retry)
				wantCreated = orders
			}
			sum = h.run(reconcile.Options{})
			if !sum.OK() || sum.Counts.Created != wantCreated {
				t.Errorf("last run: counts %+v items %+v; want %d created, nothing failed", sum.Counts, sum.Items, wantCreated)
			}
			for i := range orders + 1 {
				if got := len(h.byDocNumber("SalesReceipt", fmt.Sprint(1000+i))); got != 1 {
					t.Errorf("receipts numbered %d: got %d; want 1", 1000+i, got)
				}
			}
			if pending, _ = h.store.PendingIntents(h.ctx); len(pending) != 0 {
				t.Errorf("pending intents at the end: got %d; want 0", len(pending))
			}
		})
	}
}
