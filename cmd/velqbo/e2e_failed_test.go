package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/daemon"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// healthz reads the daemon's /healthz.
func (r *daemonRig) healthz() (int, daemon.HealthView) {
	r.t.Helper()
	code, body := r.get("/healthz")
	var hv daemon.HealthView
	if err := json.Unmarshal([]byte(body), &hv); err != nil {
		r.t.Fatalf("/healthz: %v (%q)", err, body)
	}
	return code, hv
}

// statusJSON runs `velqbo status --json` and decodes it.
func (e *e2e) statusJSON() statusView {
	e.t.Helper()
	r := e.mustExec(exitOK, "status", "--json")
	var v statusView
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		e.t.Fatalf("status --json: %v\n%s", err, r.Stdout)
	}
	return v
}

// TestE2E_FailedNeedsPerson: a payment larger than its invoice's open
// balance (a person recorded part of it in QBO by hand) is refused by QBO
// on every run: failed, needing a person. After --alert-failed-runs runs the
// daemon's webhook gets items_failed and /healthz says degraded with the
// count. `skip` sets it aside: status shows it skipped with the reason, the
// next run sends nothing and exits 0, /healthz is ok. `retry` brings it
// back: the next run sends it, and it fails again.
func TestE2E_FailedNeedsPerson(t *testing.T) {
	t.Parallel()
	w := newWebhook(t)
	e := newE2E(t, e2eOptions{env: map[string]string{"VELQBO_LISTEN": "127.0.0.1:0", "VELQBO_ALERT_WEBHOOK": w.URL + "/alerts"}})
	o := e2eTerms("o1", "1001", 1)
	e.Vel.AddOrder(o)
	sum := e.summary(exitOK, "run")
	if sum.Counts.Created != 1 {
		t.Fatalf("first run: counts %+v; want the invoice created", sum.Counts)
	}
	inv := e.QBO.Entities("Invoice")
	if len(inv) != 1 {
		t.Fatalf("invoices: got %d; want 1", len(inv))
	}
	// A bookkeeper records 10.00 of it by hand in QBO; then the customer's
	// full payment arrives in Velocity: more than the open balance.
	if _, err := e.QBO.Add("Payment", map[string]any{"CustomerRef": map[string]any{"value": e.Cust}, "TotalAmt": "10.00",
		"Line": []any{map[string]any{"Amount": "10.00", "LinkedTxn": []any{map[string]any{"TxnId": inv[0].ID, "TxnType": "Invoice"}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Vel.UpdateOrder("o1", func(o *velocity.Order) {
		o.Payments = []velocity.Payment{{ID: "pa_1", Amount: o.Total, Method: velocity.MethodCheck, Reference: "chk 1", CreatedAt: e2eApproved}}
	}); err != nil {
		t.Fatal(err)
	}

	do := defaultDaemonOptions()
	do.failedRuns = 2
	rig := startDaemon(t, e.harness, do)
	for run := 1; run <= 2; run++ {
		rig.d.Trigger()
		st := e.statusJSON()
		if len(st.Failed) != 1 || !st.Failed[0].NeedsPerson || st.Failed[0].Runs != run || st.Failed[0].SourceID != "pa_1" ||
			!strings.Contains(st.Failed[0].Reason, "open balance") || !strings.Contains(st.Failed[0].Reason, "velqbo retry 1001") ||
			!strings.Contains(st.Failed[0].Reason, "velqbo skip 1001 --reason") {
			t.Fatalf("status after run %d: failed %+v; want payment pa_1 needing a person for %d runs, with QBO's fault and retry/skip", run, st.Failed, run)
		}
		if len(st.Failed[0].Reasons) != 1 || st.Failed[0].Reasons[0].Code != reconcile.CodeQBORefusedDocument {
			t.Errorf("status after run %d: reasons %+v; want qbo_refused_document", run, st.Failed[0].Reasons)
		}
	}
	a := w.next(t)
	if a.Event != daemon.EventItemsFailed || a.Details["count"] != 1.0 || !strings.Contains(a.Message, "velqbo retry") {
		t.Errorf("alert: got %+v; want items_failed for 1 item naming retry", a)
	}
	if items, _ := a.Details["items"].([]any); len(items) != 1 || items[0].(map[string]any)["order_number"] != "1001" || items[0].(map[string]any)["runs"] != 2.0 {
		t.Errorf("alert items: got %v; want order 1001 after 2 runs", a.Details["items"])
	}
	code, hv := rig.healthz()
	if code != http.StatusOK || hv.Status != "degraded" || hv.Failed != 1 || !strings.Contains(strings.Join(hv.Problems, "; "), "1 item(s) refused by QBO need a person") {
		t.Errorf("/healthz with a failed item: %d %+v; want 200 degraded, failed_items 1", code, hv)
	}
	if got := rig.metrics()["velqbo_failed_items"]; got != 1 {
		t.Errorf("velqbo_failed_items: got %v; want 1", got)
	}

	// Skip: a reason is required; then it is set aside.
	r := e.exec("skip", "1001")
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "--reason") {
		t.Errorf("skip without --reason: exit %d, stderr %q; want 2 asking for --reason", r.Code, r.Stderr)
	}
	r = e.mustExec(exitOK, "skip", "1001", "--reason", "paid in QBO by hand; the rest credited", "--by", "amy")
	if !strings.Contains(r.Stdout, "payment pa_1 of order 1001: skipped by amy") {
		t.Errorf("skip: stdout %q; want the payment named", r.Stdout)
	}
	st := e.statusJSON()
	if len(st.Failed) != 0 || len(st.Skipped) != 1 || st.Skipped[0].SkippedBy != "amy" || st.Skipped[0].SkipReason != "paid in QBO by hand; the rest credited" ||
		!strings.Contains(st.Skipped[0].Reason, "velqbo retry 1001") {
		t.Errorf("status after skip: failed %+v, skipped %+v; want only pa_1 skipped by amy with the reason", st.Failed, st.Skipped)
	}
	if r := e.mustExec(exitOK, "status"); !strings.Contains(r.Stdout, "Skipped") || !strings.Contains(r.Stdout, "paid in QBO by hand") {
		t.Errorf("status: want a Skipped section with the reason:\n%s", r.Stdout)
	}
	audit, err := e.store().ListAudit(t.Context(), schema.AuditFilter{SourceKind: "payment", SourceID: "pa_1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) == 0 || audit[0].Operation != "skip" || audit[0].Detail != "by amy: paid in QBO by hand; the rest credited" {
		t.Errorf("audit after skip: %+v; want the skip by amy first", audit)
	}

	mark := len(e.QBO.Requests())
	sum = e.summary(exitOK, "run")
	if n := len(e.writesSince(mark)); n != 0 || sum.Counts.Skipped != 1 || sum.Counts.Failed != 0 {
		t.Errorf("run after skip: %d writes, counts %+v; want none sent, 1 skipped, exit 0", n, sum.Counts)
	}
	code, hv = rig.healthz()
	if code != http.StatusOK || hv.Status != "ok" || hv.Failed != 0 || hv.Skipped != 1 {
		t.Errorf("/healthz after skip and a run: %d %+v; want ok, no failed, 1 skipped", code, hv)
	}

	// Retry: the next run sends it again, and QBO refuses it again.
	r = e.mustExec(exitOK, "retry", "1001", "--by", "bob")
	if !strings.Contains(r.Stdout, "payment pa_1 of order 1001: the next run sends it again") {
		t.Errorf("retry: stdout %q", r.Stdout)
	}
	mark = len(e.QBO.Requests())
	sum = e.summary(exitIncomplete, "run")
	if n := len(e.writesSince(mark)); n == 0 || sum.Counts.Failed != 1 || sum.Counts.NeedsPerson != 1 || sum.Counts.Skipped != 0 {
		t.Errorf("run after retry: %d writes, counts %+v; want the payment sent and failed again", n, sum.Counts)
	}
	st = e.statusJSON()
	if len(st.Skipped) != 0 || len(st.Failed) != 1 || !st.Failed[0].NeedsPerson || st.Failed[0].Runs != 1 {
		t.Errorf("status after retry: failed %+v, skipped %+v; want pa_1 failed again, 1 run", st.Failed, st.Skipped)
	}
	if r := e.exec("retry", "1002"); r.Code != exitUsage {
		t.Errorf("retry of an unknown order: exit %d; want 2", r.Code)
	}
	if n := len(e.QBO.Entities("Payment")); n != 1 {
		t.Errorf("QBO payments: got %d; want only the one recorded by hand", n)
	}
}
