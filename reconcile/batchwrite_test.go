package reconcile_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// batchNight reports four receipts, then changes them so that the next
// run's order phase is one batch of four: tracking numbers on 1001 and
// 1002, an edit of 1003, the cancellation of 1004. It returns the
// receipts' Ids and SyncTokens by DocNumber as the first run left them.
func batchNight(h *engHarness) (ids, tokens map[string]string) {
	h.t.Helper()
	for i := 1; i <= 4; i++ {
		h.v.AddOrder(engOrder(fmt.Sprintf("ord_%d", i), fmt.Sprint(1000+i), 1))
	}
	if sum := h.run(reconcile.Options{}); sum.Counts.Created != 4 {
		h.t.Fatalf("first run: counts %+v; want 4 created", sum.Counts)
	}
	ids, tokens = map[string]string{}, map[string]string{}
	for _, e := range h.q.Entities("SalesReceipt") {
		ids[e.DocNumber], tokens[e.DocNumber] = e.ID, e.SyncToken
	}
	shipped := engStart
	for _, id := range []string{"ord_1", "ord_2"} {
		h.must(h.v.AddShipment(id, velocity.Shipment{ID: "sh_" + id, ShippedAt: &shipped, Carrier: "UPS",
			TrackingNumber: "1Z-" + id, Items: []velocity.ShipmentItem{{LineID: id + "-l1", Quantity: decimal.NewFromInt(1)}}}))
	}
	h.must(h.v.UpdateOrder("ord_3", func(o *velocity.Order) { o.Email = "new@example.com" }))
	h.must(h.v.Cancel("ord_4"))
	return ids, tokens
}

// batchNightWrites are the writes of batchNight's second run.
var batchNightWrites = []string{"update/SalesReceipt", "update/SalesReceipt", "update/SalesReceipt", "void/SalesReceipt"}

// checkBatchNight asserts that QBO holds batchNight's changes, each
// applied once: a receipt's SyncToken moved by one write of velqbo's
// (plus extra[dn] writes of a person's).
func (h *engHarness) checkBatchNight(tokens map[string]string, extra map[string]int) {
	h.t.Helper()
	got := map[string]string{}
	for _, e := range h.q.Entities("SalesReceipt") {
		state := "live"
		if e.Voided {
			state = "voided"
		}
		got[e.DocNumber] = fmt.Sprintf("%s %v token+%d", state, e.Raw["TrackingNum"], atoi(h.t, e.SyncToken)-atoi(h.t, tokens[e.DocNumber]))
	}
	want := map[string]string{}
	for dn, state := range map[string]string{"1001": "live 1Z-ord_1", "1002": "live 1Z-ord_2", "1003": "live <nil>", "1004": "voided <nil>"} {
		want[dn] = fmt.Sprintf("%s token+%d", state, 1+extra[dn])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		h.t.Errorf("receipts in QBO (-want +got):\n%s", diff)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("SyncToken %q: %v", s, err)
	}
	return n
}

// TestBatchedWrites: the updates and the void of a night go in one batch
// request, and each item ends on its own: a stale SyncToken (5010) is
// re-read and that item alone sent again, a refused item fails alone, a
// deleted document is recorded deleted_in_qbo, an item whose answer says
// nothing about whether it was done is looked up by the next run.
func TestBatchedWrites(t *testing.T) {
	tests := []struct {
		name string
		// before runs after batchNight, before the batched run.
		before      func(h *engHarness, ids map[string]string)
		wantWritten []string
		wantFailed  map[string]reconcile.ReasonCode // by order number
		// wantNext are the writes of the run after (nil: none).
		wantNext []string
		extra    map[string]int
		// wantState is a ledger state the order 1003 must be in ("" to skip).
		wantState schema.State
	}{
		{
			name:        "all applied",
			wantWritten: batchNightWrites,
		},
		{
			name: "5010 on an update",
			before: func(h *engHarness, ids map[string]string) {
				h.must(h.q.PersonEdit("SalesReceipt", ids["1001"], func(m map[string]any) { m["CustomerMemo"] = map[string]any{"value": "hi"} }))
			},
			wantWritten: append([]string{"update/SalesReceipt"}, batchNightWrites...),
			extra:       map[string]int{"1001": 1},
		},
		{
			name: "5010 on the void",
			before: func(h *engHarness, ids map[string]string) {
				h.must(h.q.PersonEdit("SalesReceipt", ids["1004"], func(m map[string]any) { m["CustomerMemo"] = map[string]any{"value": "hi"} }))
			},
			wantWritten: append(batchNightWrites[:3:3], "void/SalesReceipt", "void/SalesReceipt"),
			extra:       map[string]int{"1004": 1},
		},
		{
			// A QBO that ignores optionsData in a batch answers the receipt
			// live after an empty sparse update: the void is read again
			// and sent alone, not recorded as done.
			name: "the void answered live",
			before: func(h *engHarness, ids map[string]string) {
				h.q.IgnoreBatchVoidOption(true)
			},
			wantWritten: append(batchNightWrites, "void/SalesReceipt"),
			extra:       map[string]int{"1004": 1},
		},
		{
			// A QBO that refuses the batch form of a void: the void is
			// sent alone in the single request's form.
			name: "the void's batch form refused",
			before: func(h *engHarness, ids map[string]string) {
				h.q.InjectWriteFault(qbotest.WriteFault{Code: "6000", Times: 1, Match: func(op, _ string, body map[string]any) bool {
					return op == "void" && body["Id"] == ids["1004"]
				}})
			},
			wantWritten: append(batchNightWrites, "void/SalesReceipt"),
		},
		{
			name: "one item refused",
			before: func(h *engHarness, ids map[string]string) {
				h.q.InjectWriteFault(qbotest.WriteFault{Code: "6000", Times: 1, Match: func(op, _ string, body map[string]any) bool {
					return op == "update" && body["Id"] == ids["1002"]
				}})
			},
			wantWritten: batchNightWrites,
			wantFailed:  map[string]reconcile.ReasonCode{"1002": reconcile.CodeQBORefusedDocument},
			wantNext:    []string{"update/SalesReceipt"},
		},
		{
			name: "one item's document deleted",
			before: func(h *engHarness, ids map[string]string) {
				h.must(h.q.PersonDelete("SalesReceipt", ids["1003"]))
			},
			wantWritten: batchNightWrites,
			wantState:   schema.StateDeletedInQBO,
		},
		{
			name: "one item done, answered with a SystemFault",
			before: func(h *engHarness, ids map[string]string) {
				h.q.InjectWriteFault(qbotest.WriteFault{Type: qbotest.FaultSystem, Code: "10000", Execute: true, Times: 1,
					Match: func(op, _ string, body map[string]any) bool { return op == "update" && body["Id"] == ids["1002"] }})
			},
			wantWritten: batchNightWrites,
			wantFailed:  map[string]reconcile.ReasonCode{"1002": reconcile.CodeOutcomeUnknown},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEngHarness(t)
			ids, tokens := batchNight(h)
			if tt.before != nil {
				tt.before(h, ids)
			}
			m := h.mark()
			sum := h.run(reconcile.Options{})
			if diff := cmp.Diff(tt.wantWritten, h.written(m)); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			batches := 0
			for _, c := range h.q.Requests()[m:] {
				if c.Operation == "batch" {
					batches++
					if got := len(c.Writes()); got != 4 {
						t.Errorf("batch of %d writes; want the night's 4", got)
					}
				}
			}
			if batches != 1 {
				t.Errorf("batch requests: got %d; want 1", batches)
			}
			failed := map[string]reconcile.ReasonCode{}
			for _, it := range sum.Items {
				if it.Action == reconcile.ActionFailed && len(it.Reasons) > 0 {
					failed[it.OrderNumber] = it.Reasons[0].Code
				}
			}
			if tt.wantFailed == nil {
				tt.wantFailed = map[string]reconcile.ReasonCode{}
			}
			if diff := cmp.Diff(tt.wantFailed, failed); diff != "" {
				t.Errorf("failed items (-want +got):\n%s", diff)
			}
			if tt.wantState != "" {
				if d := h.doc("order", "ord_3"); d.State != tt.wantState {
					t.Errorf("ord_3 state: got %s; want %s", d.State, tt.wantState)
				}
				return
			}
			if tt.wantFailed["1002"] == reconcile.CodeQBORefusedDocument {
				_, err := h.rec.Retry(h.ctx, []string{"1002"}, "amy")
				h.must(err)
			}
			m = h.mark()
			h.run(reconcile.Options{})
			if diff := cmp.Diff(tt.wantNext, h.written(m)); diff != "" {
				t.Errorf("writes of the next run (-want +got):\n%s", diff)
			}
			h.settle()
			h.checkBatchNight(tokens, tt.extra)
		})
	}
}

// TestBatchedWrites_LostBatch: the answer of the night's batch is lost on
// every attempt. Every item keeps its intent; the next run looks each up
// (is the update's fingerprint in the PrivateNote, is the receipt voided)
// and sends again only what QBO does not hold, so each change is applied
// once.
func TestBatchedWrites_LostBatch(t *testing.T) {
	tests := []struct {
		name     string
		lose     qbotest.Injection
		refuse   bool // QBO refuses 1002's update inside the lost batch
		wantNext []string
	}{
		{"applied", qbotest.Injection{LoseResponse: true}, false, nil},
		{"not applied", qbotest.Injection{Status: 500}, false, batchNightWrites},
		{"mixed", qbotest.Injection{LoseResponse: true}, true, []string{"update/SalesReceipt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEngHarness(t)
			ids, tokens := batchNight(h)
			lose := tt.lose
			lose.Match = func(c *qbotest.Call) bool { return c.Operation == "batch" }
			h.q.Inject(lose)
			if tt.refuse {
				h.q.InjectWriteFault(qbotest.WriteFault{Code: "6000", Times: 1, Match: func(op, _ string, body map[string]any) bool {
					return op == "update" && body["Id"] == ids["1002"]
				}})
			}
			sum := h.run(reconcile.Options{})
			if sum.Counts.Failed != 4 {
				t.Errorf("lost batch: counts %+v; want its 4 items failed", sum.Counts)
			}
			for _, it := range sum.Items {
				if !it.Reasons.Has(reconcile.CodeOutcomeUnknown) {
					t.Errorf("item %s %s: reasons %+v; want %s", it.OrderNumber, it.Action, it.Reasons, reconcile.CodeOutcomeUnknown)
				}
			}
			pending, err := h.store.PendingIntents(h.ctx)
			h.must(err)
			if len(pending) != 4 {
				t.Errorf("pending intents: got %d; want the batch's 4", len(pending))
			}
			h.q.ClearInjections()
			m := h.mark()
			if sum := h.run(reconcile.Options{}); !sum.OK() {
				t.Errorf("next run not OK: %+v", sum.Items)
			}
			if diff := cmp.Diff(tt.wantNext, h.written(m)); diff != "" {
				t.Errorf("writes of the next run (-want +got):\n%s", diff)
			}
			h.settle()
			h.checkBatchNight(tokens, nil)
		})
	}
}

// TestBatchedWrites_Crash: the run dies between the items' intents and
// their outcomes, before the batch is sent or after it was answered; the
// next run sends exactly what QBO does not hold.
func TestBatchedWrites_Crash(t *testing.T) {
	tests := []struct {
		name     string
		step     crashStep
		at       int
		wantNext []string
	}{
		{"after two intents, batch not sent", afterIntent, 2, batchNightWrites},
		{"after the batch answered", afterSend, 1, nil},
		{"after the first outcome", afterOutcome, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEngHarness(t)
			_, tokens := batchNight(h)
			c := &crash{step: tt.step, at: tt.at}
			restore := c.install(h.rec)
			_, err := h.rec.Run(h.ctx, reconcile.Options{})
			restore()
			if !c.killed() || !errors.Is(err, errKilled) {
				t.Fatalf("Run: killed %v, error %v; want the kill", c.killed(), err)
			}
			m := h.mark()
			h.run(reconcile.Options{})
			if diff := cmp.Diff(tt.wantNext, h.written(m)); diff != "" {
				t.Errorf("writes of the next run (-want +got):\n%s", diff)
			}
			h.settle()
			h.checkBatchNight(tokens, nil)
		})
	}
}

// TestBatchedPayments: the payments of two invoices go in one batch, after
// the invoices (a later phase); when that batch's answer is lost, the
// next run finds the payments QBO holds by their marker and creates only
// those it does not, once they can no longer land.
func TestBatchedPayments(t *testing.T) {
	tests := []struct {
		name     string
		lose     *qbotest.Injection
		wantWait int // payments the next run leaves waiting: they may still land
		wantNext []string
	}{
		{"answered", nil, 0, nil},
		{"lost, applied", &qbotest.Injection{LoseResponse: true}, 0, nil},
		{"lost, not applied", &qbotest.Injection{Status: 500}, 2, []string{"create/Payment", "create/Payment"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEngHarness(t)
			for i := 1; i <= 2; i++ {
				o := engTermsOrder(fmt.Sprintf("ord_%d", i), fmt.Sprint(1000+i), 2)
				o.Payments = []velocity.Payment{{ID: fmt.Sprintf("pay_%d", i), CreatedAt: engStart, Amount: engDec("15.00"), Method: velocity.MethodCheck}}
				h.v.AddOrder(o)
			}
			if tt.lose != nil {
				lose := *tt.lose
				lose.Match = func(c *qbotest.Call) bool {
					ws := c.Writes()
					return c.Operation == "batch" && len(ws) > 0 && ws[0].Entity == "Payment"
				}
				h.q.Inject(lose)
			}
			m := h.mark()
			h.run(reconcile.Options{})
			// Invoices first, in a batch of their own; then the payments.
			var order []string
			for _, c := range h.q.Requests()[m:] {
				if c.Operation != "batch" {
					continue
				}
				var entities []string
				for _, w := range c.Writes() {
					entities = append(entities, w.Operation+"/"+w.Entity)
				}
				if len(order) == 0 || order[len(order)-1] != fmt.Sprint(entities) {
					order = append(order, fmt.Sprint(entities))
				}
			}
			want := []string{"[create/Invoice create/Invoice]", "[create/Payment create/Payment]"}
			if diff := cmp.Diff(want, order); diff != "" {
				t.Errorf("batch requests (-want +got):\n%s", diff)
			}
			h.q.ClearInjections()
			m = h.mark()
			if sum := h.run(reconcile.Options{}); sum.Counts.Waiting != tt.wantWait {
				t.Errorf("next run: counts %+v; want %d waiting", sum.Counts, tt.wantWait)
			}
			if tt.wantWait > 0 {
				if got := h.written(m); len(got) != 0 {
					t.Errorf("next run inside the window wrote %v; want nothing", got)
				}
				h.clk.Advance(engLandBy)
				m = h.mark()
				h.run(reconcile.Options{})
			}
			if diff := cmp.Diff(tt.wantNext, h.written(m)); diff != "" {
				t.Errorf("writes of the next run (-want +got):\n%s", diff)
			}
			h.settle()
			if got := len(h.live("Payment")); got != 2 {
				t.Errorf("payments in QBO: got %d; want 2", got)
			}
			for _, dn := range []string{"1001", "1002"} {
				if inv := h.byDocNumber("Invoice", dn); len(inv) != 1 || !inv[0].Balance.Equal(engDec("24.98")) {
					t.Errorf("invoice %s: %+v; want one, balance 24.98 (its payment linked once)", dn, inv)
				}
			}
		})
	}
}
