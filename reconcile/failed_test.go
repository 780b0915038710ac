package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// TestFailureCode: a failed write needs a person only when QBO refused the
// document itself; throttling and outages are sent again by the next run,
// and a write that may have landed is looked up.
func TestFailureCode(t *testing.T) {
	fault := func(status int, typ, code string) error {
		return &qbo.Error{StatusCode: status, Type: typ, Errors: []qbo.FaultError{{Code: code, Message: "m"}}}
	}
	tests := []struct {
		name string
		err  error
		want reconcile.ReasonCode
	}{
		{"validation fault", fault(400, qbo.FaultValidation, "2020"), reconcile.CodeQBORefusedDocument},
		{"business rule (payment over the open balance)", fault(400, qbo.FaultValidation, "6000"), reconcile.CodeQBORefusedDocument},
		{"duplicate DocNumber", fault(400, qbo.FaultValidation, qbo.CodeDuplicateDocNum), reconcile.CodeQBORefusedDocument},
		{"validation fault in a batch item", fault(0, qbo.FaultValidation, "2500"), reconcile.CodeQBORefusedDocument},
		{"request the client would not send", &qbo.ValidationError{Field: "requestid", Msg: "too long"}, reconcile.CodeQBORefusedDocument},
		{"other 4xx", fault(404, "", ""), reconcile.CodeQBORefusedDocument},
		{"stale SyncToken", fault(400, qbo.FaultValidation, qbo.CodeStaleObject), reconcile.CodeQBORejected},
		{"throttled", fault(429, "", qbo.CodeThrottled), reconcile.CodeQBORejected},
		{"503", fault(503, qbo.FaultSystem, "10000"), reconcile.CodeQBORejected},
		{"refused on every attempt", &qbo.AttemptsError{Err: fault(503, "", ""), Attempts: 5}, reconcile.CodeQBORejected},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("refused")}, reconcile.CodeQBORejected},
		{"500", fault(500, qbo.FaultSystem, "10000"), reconcile.CodeOutcomeUnknown},
		{"504 after a 429", &qbo.AttemptsError{Err: fault(504, "", ""), Attempts: 2, Unanswered: 1}, reconcile.CodeOutcomeUnknown},
		{"connection lost", &net.OpError{Op: "read", Err: errors.New("reset")}, reconcile.CodeOutcomeUnknown},
		{"cancelled", fmt.Errorf("post: %w", context.Canceled), reconcile.CodeOutcomeUnknown},
		{"cancelled in the back-off after a 500", &qbo.AttemptsError{Err: context.Canceled, Attempts: 1, Unanswered: 1}, reconcile.CodeOutcomeUnknown},
		{"cancelled in the back-off after a 429",
			&qbo.AttemptsError{Err: fmt.Errorf("%w (waiting to retry after: %v)", context.Canceled, fault(429, "", qbo.CodeThrottled)), Attempts: 1},
			reconcile.CodeQBORejected},
		{"timed out in the back-off after a 503", &qbo.AttemptsError{Err: context.DeadlineExceeded, Attempts: 2}, reconcile.CodeQBORejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reconcile.FailureCode(tt.err)
			if got != tt.want {
				t.Errorf("FailureCode(%v): got %s; want %s", tt.err, got, tt.want)
			}
			if got.NeedsPerson() != (tt.want == reconcile.CodeQBORefusedDocument) {
				t.Errorf("%s.NeedsPerson(): got %v", got, got.NeedsPerson())
			}
		})
	}
}

// refuseCreates makes QBO refuse every create of the harness's documents
// with a validation fault, as it refuses a document it judges wrong.
func refuseCreates(h *engHarness) {
	h.q.Inject(qbotest.Injection{Match: func(c *qbotest.Call) bool { return c.Operation == "create" || c.Operation == "batch" },
		Status: 400, Body: []byte(`{"Fault":{"Error":[{"Message":"A business validation error has occurred","Detail":"Business Validation Error: the document is wrong","code":"6000"}],"type":"ValidationFault"}}`)})
}

func onlyItem(t *testing.T, sum *reconcile.Summary) reconcile.Item {
	t.Helper()
	if len(sum.Items) != 1 {
		t.Fatalf("items: got %+v; want one", sum.Items)
	}
	return sum.Items[0]
}

// TestFailedNeedsPerson: a refused document is failed, needing a person,
// counted once per run for as many runs as it fails; a retry clears the
// count and, once the cause is fixed, the next run sends it.
func TestFailedNeedsPerson(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 1))
	refuseCreates(h)
	for run := 1; run <= 2; run++ {
		sum := h.run(reconcile.Options{})
		it := onlyItem(t, sum)
		if it.Action != reconcile.ActionFailed || !it.Reasons.Has(reconcile.CodeQBORefusedDocument) || sum.Counts.NeedsPerson != 1 {
			t.Fatalf("run %d: item %+v, counts %+v; want failed qbo_refused_document, needs_person 1", run, it, sum.Counts)
		}
		d := h.doc("order", "ord_1")
		if d.State != schema.StateFailed || !d.NeedsPerson || d.FailedRuns != run {
			t.Errorf("run %d: ledger state %s, needs person %v, failed runs %d; want failed, true, %d", run, d.State, d.NeedsPerson, d.FailedRuns, run)
		}
	}
	items, err := h.store.FailedItems(h.ctx)
	h.must(err)
	if len(items) != 1 || !items[0].NeedsPerson || items[0].Runs != 2 || items[0].OrderNumber != "1001" {
		t.Errorf("FailedItems: got %+v; want order 1001 needing a person for 2 runs", items)
	}

	// The cause is fixed (here: QBO takes it now); a retry clears the
	// count, and the next run sends it.
	h.q.ClearInjections()
	docs, err := h.rec.Retry(h.ctx, []string{"1001"}, "amy")
	h.must(err)
	if len(docs) != 1 || docs[0].State != schema.StatePending || docs[0].NeedsPerson || docs[0].FailedRuns != 0 || docs[0].LastError != "" {
		t.Fatalf("Retry: got %+v; want the row pending with nothing of its failure left", docs)
	}
	sum := h.run(reconcile.Options{})
	if it := onlyItem(t, sum); it.Action != reconcile.ActionCreate || !sum.OK() {
		t.Errorf("run after retry: items %+v; want ord_1 created", sum.Items)
	}
	if got := h.byDocNumber("SalesReceipt", "1001"); len(got) != 1 {
		t.Errorf("SalesReceipts 1001: got %d; want 1", len(got))
	}
	if _, err := h.rec.Retry(h.ctx, []string{"1001"}, "amy"); !errors.Is(err, reconcile.ErrNothingToRetry) {
		t.Errorf("Retry of a sent order: got %v; want ErrNothingToRetry", err)
	}
}

// TestTransientFailureNeedsNoPerson: a throttled write is failed but needs
// no person, and the next run sends it without anyone's help.
func TestTransientFailureNeedsNoPerson(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 1))
	h.q.Inject(qbotest.Injection{Throttle: true, Match: func(c *qbotest.Call) bool { return c.Operation == "create" || c.Operation == "batch" }})
	sum := h.run(reconcile.Options{})
	it := onlyItem(t, sum)
	if it.Action != reconcile.ActionFailed || !it.Reasons.Has(reconcile.CodeQBORejected) || sum.Counts.NeedsPerson != 0 {
		t.Fatalf("item %+v, counts %+v; want failed qbo_rejected, no person needed", it, sum.Counts)
	}
	if d := h.doc("order", "ord_1"); d.NeedsPerson || d.FailedRuns != 0 {
		t.Errorf("ledger: needs person %v, failed runs %d; want false, 0", d.NeedsPerson, d.FailedRuns)
	}
	h.q.ClearInjections()
	if sum := h.run(reconcile.Options{}); !sum.OK() || sum.Counts.Created != 1 {
		t.Errorf("second run: counts %+v; want it created", sum.Counts)
	}
}

// TestSkipThenRetry: a skipped order is never sent, is listed skipped by
// every run (which is then OK), and a retry brings it back: sent again,
// and failed again while QBO still refuses it.
func TestSkipThenRetry(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 1))
	h.v.AddOrder(engOrder("ord_2", "1002", 2))
	// QBO refuses the document of 1001 whether it goes alone or in a batch.
	h.q.InjectWriteFault(qbotest.WriteFault{Code: "6000", Match: func(op, _ string, body map[string]any) bool {
		return op == "create" && body["DocNumber"] == "1001"
	}})
	sum := h.run(reconcile.Options{})
	if sum.Counts.Failed != 1 || sum.Counts.Created != 1 {
		t.Fatalf("first run: counts %+v; want 1001 failed, 1002 created", sum.Counts)
	}

	if _, err := h.rec.Skip(h.ctx, "1001", "", "amy"); err == nil {
		t.Error("Skip without a reason: got no error")
	}
	if _, err := h.rec.Skip(h.ctx, "1002", "not ours", "amy"); !errors.Is(err, reconcile.ErrNothingToSkip) {
		t.Errorf("Skip of a sent order: got %v; want ErrNothingToSkip", err)
	}
	if _, err := h.rec.Skip(h.ctx, "9999", "no such", "amy"); !errors.Is(err, schema.ErrNotFound) {
		t.Errorf("Skip of an unknown order: got %v; want ErrNotFound", err)
	}
	docs, err := h.rec.Skip(h.ctx, "1001", "paid twice by the customer; credited by hand", "amy")
	h.must(err)
	if len(docs) != 1 || docs[0].State != schema.StateSkipped || docs[0].SkippedBy != "amy" || docs[0].SkippedAt.IsZero() {
		t.Fatalf("Skip: got %+v; want ord_1 skipped by amy", docs)
	}
	audit, err := h.store.ListAudit(h.ctx, schema.AuditFilter{SourceKind: "order", SourceID: "ord_1"})
	h.must(err)
	if len(audit) == 0 || audit[0].Operation != "skip" || audit[0].Detail != "by amy: paid twice by the customer; credited by hand" {
		t.Errorf("audit: newest %+v; want the skip, by amy, with the reason", audit[:min(1, len(audit))])
	}

	for _, opts := range []reconcile.Options{{}, {Mode: reconcile.ModeFull}} {
		mark := h.mark()
		sum = h.run(opts)
		if n := h.writes(mark); n != 0 {
			t.Errorf("run %s after skip: %d writes; want none", opts.Mode, n)
		}
		want := []engItem{{"order", "ord_1", "skipped", "SalesReceipt"}}
		if diff := cmp.Diff(want, engItems(sum)); diff != "" || !sum.OK() || sum.Counts.Skipped != 1 || sum.Counts.Failed != 0 {
			t.Errorf("run %s after skip: counts %+v, items (-want +got):\n%s", opts.Mode, sum.Counts, diff)
		}
		if it := sum.Items[0]; !it.Reasons.Has(reconcile.CodeSkipped) || !contains(it.Reason, "skipped by amy") ||
			!contains(it.Reason, "credited by hand") || !contains(it.Reason, "[retry 1001]") {
			t.Errorf("skipped item reason %q; want who, why and the retry", it.Reason)
		}
	}
	plan, err := h.rec.Plan(h.ctx, reconcile.Options{})
	h.must(err)
	if plan.Counts.Skipped != 1 || !plan.OK() {
		t.Errorf("plan after skip: counts %+v; want 1 skipped, OK", plan.Counts)
	}
	// Blocking it (a product link removed) leaves it skipped.
	h.must(h.store.RecordBlocked(h.ctx, schema.Problem{Key: schema.DocumentKey{Kind: "order", SourceID: "ord_1"}, Reason: "x"}))
	if d := h.doc("order", "ord_1"); d.State != schema.StateSkipped {
		t.Errorf("after RecordBlocked: state %s; want skipped", d.State)
	}

	docs, err = h.rec.Retry(h.ctx, []string{"1001"}, "bob")
	h.must(err)
	if len(docs) != 1 || docs[0].State != schema.StatePending || docs[0].SkipReason != "" {
		t.Fatalf("Retry: got %+v; want ord_1 pending, skip cleared", docs)
	}
	mark := h.mark()
	sum = h.run(reconcile.Options{})
	if h.writes(mark) == 0 || sum.Counts.Failed != 1 || sum.Counts.Skipped != 0 || sum.Counts.NeedsPerson != 1 {
		t.Errorf("run after retry: counts %+v; want it sent and failed again", sum.Counts)
	}
	if d := h.doc("order", "ord_1"); d.State != schema.StateFailed || !d.NeedsPerson || d.FailedRuns != 1 {
		t.Errorf("ledger after retry: state %s, needs person %v, runs %d; want failed, true, 1", d.State, d.NeedsPerson, d.FailedRuns)
	}
	h.q.ClearInjections()
	h.must(errors.Join(func() error { _, err := h.rec.Retry(h.ctx, []string{"1001"}, "bob"); return err }()))
	if sum := h.run(reconcile.Options{}); !sum.OK() || sum.Counts.Created != 1 {
		t.Errorf("run once QBO takes it: counts %+v; want it created", sum.Counts)
	}
}
