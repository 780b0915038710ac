package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/velocity"
)

// TestE2E_PaceSharedAcrossProcesses: consecutive velqbo processes on one
// database (the setup's connect, links and settings, a burst of `customers
// link`, then a run) share QBO's per-company budget through the ledger's
// windows: QBO, enforcing a small limit on the clock every process waits
// on, throttles none of them. Paced per process (each starting with an
// empty window), the same processes met two 429s.
func TestE2E_PaceSharedAcrossProcesses(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Now())
	e := newE2E(t, e2eOptions{
		qbo:   []qbotest.Option{qbotest.WithClock(clk), qbotest.WithLimits(qbotest.Limits{RequestsPerMinute: 8, BatchPerMinute: 2})},
		env:   map[string]string{"VELQBO_QBO_REQUESTS_PER_MINUTE": "8", "VELQBO_QBO_BATCHES_PER_MINUTE": "2"},
		clock: clk,
	})
	start := clk.Now()
	// Eight links: with the run's writes in one batch request, the burst
	// is what overruns the window of 8.
	for i := 2; i <= 9; i++ {
		id := fmt.Sprintf("cus_%d", i)
		name := fmt.Sprintf("Shop %d", i)
		email := fmt.Sprintf("shop%d@example.com", i)
		e.Vel.AddCustomer(velocity.Customer{ID: id, Number: fmt.Sprintf("C-%d", i), Company: name, Email: email})
		e.mustExec(exitOK, "customers", "link", id, e.QBO.AddCustomer(name, email))
	}
	for i := 1; i <= 6; i++ {
		e.Vel.AddOrder(e2eOrder(fmt.Sprintf("o%d", i), fmt.Sprintf("%d", 1000+i), 1))
	}
	sum := e.run(exitOK)
	if got, want := sum.Counts.Created, 6; got != want {
		t.Errorf("created: got %d; want %d", got, want)
	}
	if st := e.QBO.Stats(); st.Throttled != 0 {
		t.Errorf("429s at QBO: got %d; want 0 (requests %d)", st.Throttled, st.Requests)
	}
	if took := clk.Now().Sub(start); took < time.Minute {
		t.Errorf("the burst and the run took %v on the shared clock; want over a minute (they waited for the window)", took)
	}
}
