package reconcile_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// engScenario loads orders that produce every document type: receipts
// (batched creates), an invoice with a payment, a receipt with a refund.
func engScenario(h *engHarness) {
	h.v.AddOrder(engOrder("ord_1", "1001", 1))
	o2 := engTermsOrder("ord_2", "1002", 2)
	o2.Payments = []velocity.Payment{{ID: "pay_1", CreatedAt: engStart, Amount: engDec("15.00"), Method: velocity.MethodCheck}}
	h.v.AddOrder(o2)
	o3 := engOrder("ord_3", "1003", 3)
	o3.Refunds = []velocity.Refund{{ID: "ref_1", CreatedAt: engStart, Total: engDec("19.99"), Lines: []velocity.RefundLine{{
		Kind: velocity.RefundProduct, LineID: "ord_3-l1", Quantity: decimal.NewFromInt(1), Amount: engDec("19.99")}}}}
	h.v.AddOrder(o3)
	h.v.AddOrder(engOrder("ord_4", "1004", 4))
}

// engWant is what QBO must hold after engScenario: DocNumbers by type
// (payments have none and are counted).
type engWant struct {
	docs     map[string][]string
	payments int
}

var engScenarioWant = engWant{
	docs: map[string][]string{
		"SalesReceipt":  {"1001", "1003", "1004"},
		"Invoice":       {"1002"},
		"RefundReceipt": {"RF-1003"},
	},
	payments: 1,
}

// checkExactlyOnce asserts one live QBO document per expected document
// and nothing else.
func (h *engHarness) checkExactlyOnce(want engWant) {
	h.t.Helper()
	for typ, nums := range want.docs {
		got := map[string]int{}
		for _, e := range h.q.Entities(typ) {
			if !e.Deleted && !e.Voided {
				got[e.DocNumber]++
			}
		}
		wantM := map[string]int{}
		for _, n := range nums {
			wantM[n] = 1
		}
		if diff := cmp.Diff(wantM, got); diff != "" {
			h.t.Errorf("%s documents by DocNumber (-want +got):\n%s", typ, diff)
		}
	}
	if got := len(h.live("Payment")); got != want.payments {
		h.t.Errorf("payments: got %d; want %d", got, want.payments)
	}
	if want.payments > 0 {
		inv := h.byDocNumber("Invoice", "1002")
		if len(inv) == 1 && !inv[0].Balance.Equal(engDec("24.98")) {
			h.t.Errorf("invoice balance: got %s; want 24.98 (payment linked)", inv[0].Balance)
		}
	}
}

// engLandBy is how long after its intent a create of a killed run may
// still land: the engine waits that long before trusting a look-up that
// found nothing (the qbo client's Timeout plus a minute).
const engLandBy = qbo.DefaultTimeout + time.Minute

// settle re-runs until a run sends nothing (at most 3 runs that wait for
// nothing) and checks that the last one is all unchanged. A run that
// leaves creates waiting (they may still reach QBO) is followed by one
// after the window.
func (h *engHarness) settle() {
	h.t.Helper()
	for i := 0; i < 3; i++ {
		m := h.mark()
		sum := h.run(reconcile.Options{})
		if sum.Counts.Waiting > 0 {
			h.clk.Advance(engLandBy)
			i--
			continue
		}
		if h.writes(m) == 0 {
			if !sum.OK() {
				h.t.Errorf("settled run not OK: %+v", sum.Items)
			}
			return
		}
	}
	h.t.Errorf("still writing after 3 re-runs")
}

// engChanges runs engScenario cleanly, then changes it so the next run
// does every other kind of write: report-as-invoice (create Invoice, void
// SalesReceipt), a cancellation (void), an edit (update), a tracking
// update and a new payment.
func engChanges(h *engHarness) {
	engScenario(h)
	h.run(reconcile.Options{})
	h.must(h.v.SetReportAsInvoice("ord_1", true))
	h.must(h.v.AddPayment("ord_1", velocity.Payment{ID: "pay_2", Amount: engDec("5.00"), Method: velocity.MethodCheck}))
	h.must(h.v.Cancel("ord_4"))
	h.must(h.v.UpdateOrder("ord_3", func(o *velocity.Order) { o.Email = "new@example.com" }))
	shipped := engStart
	h.must(h.v.AddShipment("ord_2", velocity.Shipment{ID: "sh_1", ShippedAt: &shipped, Carrier: "UPS", TrackingNumber: "1Z1",
		Items: []velocity.ShipmentItem{{LineID: "ord_2-l1", Quantity: decimal.NewFromInt(2)}}}))
}

var engChangesWant = engWant{
	docs: map[string][]string{
		"SalesReceipt":  {"1003"},
		"Invoice":       {"1001", "1002"},
		"RefundReceipt": {"RF-1003"},
	},
	payments: 2,
}

// TestCrashAtEveryStep kills the run at the n-th time it reaches every
// crash step, for every n until a run completes, then re-runs: QBO must
// hold exactly one document per expected document.
func TestCrashAtEveryStep(t *testing.T) {
	steps := []crashStep{beforeIntent, afterIntent, afterSend, afterOutcome}
	scenarios := []struct {
		name  string
		setup func(*engHarness)
		want  engWant
	}{
		{"new", engScenario, engScenarioWant},
		{"changes", engChanges, engChangesWant},
	}
	for _, sc := range scenarios {
		for _, conc := range []int{1, 4} {
			for _, step := range steps {
				// Groups run in parallel; within a group n grows until the
				// kill no longer fires (the run completed).
				t.Run(fmt.Sprintf("%s/c%d/%s", sc.name, conc, step), func(t *testing.T) {
					t.Parallel()
					for n := 1; n <= 40; n++ {
						fired := false
						t.Run(fmt.Sprint(n), func(t *testing.T) {
							h := newEngHarness(t)
							h.rec.Concurrency = conc
							sc.setup(h)
							c := &crash{step: step, at: n}
							restore := c.install(h.rec)
							_, err := h.rec.Run(h.ctx, reconcile.Options{})
							restore()
							fired = c.killed()
							if fired != (err != nil) {
								t.Fatalf("killed %v, Run error %v", fired, err)
							}
							if fired && !errors.Is(err, errKilled) {
								t.Fatalf("Run error %v; want the kill", err)
							}
							h.settle()
							h.checkExactlyOnce(sc.want)
							if sc.name == "changes" {
								if got := h.byDocNumber("SalesReceipt", "1004"); len(got) != 1 || !got[0].Voided {
									t.Errorf("1004 not voided: %+v", got)
								}
								if got := h.byDocNumber("SalesReceipt", "1001"); len(got) != 1 || !got[0].Voided {
									t.Errorf("replaced receipt 1001 not voided: %+v", got)
								}
							}
						})
						if !fired {
							if n == 1 {
								t.Errorf("the kill never fired")
							}
							return
						}
					}
				})
			}
		}
	}
}

// TestCrashBetweenInvoiceAndReceiptVoid: the Invoice replacing a reported
// SalesReceipt is recorded, then the run dies before voiding the receipt;
// the next run finishes the job without a second invoice.
func TestCrashBetweenInvoiceAndReceiptVoid(t *testing.T) {
	for _, step := range []crashStep{afterSend, afterOutcome} {
		t.Run(step.String(), func(t *testing.T) {
			h := newEngHarness(t)
			h.v.AddOrder(engOrder("ord_1", "1001", 2))
			h.run(reconcile.Options{})
			receipt := h.byDocNumber("SalesReceipt", "1001")[0]
			h.must(h.v.SetReportAsInvoice("ord_1", true))
			restore := (&crash{step: step, at: 1}).install(h.rec)
			if _, err := h.rec.Run(h.ctx, reconcile.Options{}); !errors.Is(err, errKilled) {
				t.Fatalf("Run: %v; want the kill", err)
			}
			restore()
			if got := h.byDocNumber("Invoice", "1001"); len(got) != 1 {
				t.Fatalf("invoices after the kill: got %d; want 1 (sent before the kill)", len(got))
			}
			if r, _ := h.q.Get("SalesReceipt", receipt.ID); r.Voided {
				t.Fatalf("receipt voided before the kill")
			}
			sum := h.run(reconcile.Options{})
			if r, _ := h.q.Get("SalesReceipt", receipt.ID); !r.Voided {
				t.Errorf("receipt not voided by the next run; items %+v", sum.Items)
			}
			if got := h.byDocNumber("Invoice", "1001"); len(got) != 1 {
				t.Errorf("invoices: got %d; want 1", len(got))
			}
			h.settle()
		})
	}
}

// TestLostResponses drops the answer of committed writes: the client's
// retry with the same request id is answered from QBO's replay store, and
// when even that is lost the next run finds the documents by marker.
func TestLostResponses(t *testing.T) {
	for _, times := range []int{1, 100} {
		t.Run(fmt.Sprint(times), func(t *testing.T) {
			h := newEngHarness(t)
			engScenario(h)
			h.q.Inject(qbotest.Injection{Match: func(c *qbotest.Call) bool {
				return c.Operation == "create" || c.Operation == "batch"
			}, LoseResponse: true, Times: times})
			sum, err := h.rec.Run(h.ctx, reconcile.Options{})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if times == 1 && !sum.OK() {
				t.Errorf("one lost response should be absorbed by the retry; items %+v", sum.Items)
			}
			if times > 1 && sum.Counts.Failed == 0 {
				t.Errorf("with every answer lost some items must be failed (outcome unknown); got %+v", sum.Counts)
			}
			// Failed for an unknown outcome, or waiting for an order
			// document whose outcome is unknown: each says so by code.
			codes := map[reconcile.ReasonCode]int{}
			for _, it := range sum.Items {
				if it.Action != reconcile.ActionFailed {
					continue
				}
				if len(it.Reasons) != 1 || !contains(it.Reason, it.Reasons[0].Text) {
					t.Errorf("failed item %+v; want one reason, its text the item's", it)
					continue
				}
				codes[it.Reasons[0].Code]++
				if it.Reasons[0].Code != reconcile.CodeOutcomeUnknown {
					continue
				}
				// The ledger row keeps the code for status.
				d := h.doc(string(it.Kind), it.SourceID)
				if rs, err := reconcile.DecodeReasons(d.LastReasons); err != nil || !rs.Has(reconcile.CodeOutcomeUnknown) {
					t.Errorf("%s %s: last reasons %s (%v); want %s", it.Kind, it.SourceID, d.LastReasons, err, reconcile.CodeOutcomeUnknown)
				}
			}
			if times > 1 && (codes[reconcile.CodeOutcomeUnknown] == 0 || len(codes) != 2 || codes[reconcile.CodeWaitsForOrder] == 0) {
				t.Errorf("failed items by code: got %v; want both %s and %s", codes, reconcile.CodeOutcomeUnknown, reconcile.CodeWaitsForOrder)
			}
			h.q.ClearInjections()
			h.settle()
			h.checkExactlyOnce(engScenarioWant)
		})
	}
}

// TestStorms: 5xx and 429 answers are retried by the client; a storm longer
// than the retries leaves outcomes unknown, resolved by the next run.
func TestStorms(t *testing.T) {
	tests := []struct {
		name string
		inj  qbotest.Injection
	}{
		{"503 short", qbotest.Injection{Status: 503, Times: 3}},
		{"429 short", qbotest.Injection{Throttle: true, Times: 3}},
		{"500 long", qbotest.Injection{Status: 500, Times: 200}},
		{"429 long", qbotest.Injection{Throttle: true, Times: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEngHarness(t)
			engScenario(h)
			inj := tt.inj
			inj.Match = func(c *qbotest.Call) bool { return c.Method == "POST" && c.Operation != "token" }
			h.q.Inject(inj)
			if _, err := h.rec.Run(h.ctx, reconcile.Options{}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			h.q.ClearInjections()
			h.settle()
			h.checkExactlyOnce(engScenarioWant)
		})
	}
}

// TestPlanEqualsRun: what plan lists is what the run then does.
func TestPlanEqualsRun(t *testing.T) {
	h := newEngHarness(t)
	engScenario(h)
	m := h.mark()
	plan, err := h.rec.Plan(h.ctx, reconcile.Options{})
	h.must(err)
	if got := h.writes(m); got != 0 {
		t.Fatalf("Plan sent %d writes; want 0", got)
	}
	if rows, _ := h.store.ListDocuments(h.ctx, schema.DocumentFilter{}); len(rows) != 0 {
		t.Fatalf("Plan wrote %d ledger rows; want 0", len(rows))
	}
	sum := h.run(reconcile.Options{})
	if diff := cmp.Diff(engItems(plan), engItems(sum)); diff != "" {
		t.Errorf("plan vs run (-plan +run):\n%s", diff)
	}
	if diff := cmp.Diff(plan.Counts, sum.Counts); diff != "" {
		t.Errorf("plan vs run counts (-plan +run):\n%s", diff)
	}
}
