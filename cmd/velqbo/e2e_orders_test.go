package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/schema"
)

// TestE2E_ReportAsInvoice: `velqbo orders report-as-invoice` records the
// decision; the next run creates the Invoice and voids the SalesReceipt,
// though the order did not change in Velocity and is outside the run's
// window; the run after sends nothing. A terms order, an order decided
// before and one not in the ledger are refused (exit 2) with the reason.
func TestE2E_ReportAsInvoice(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eOptions{})
	o1 := e2eOrder("o1", "1001", 1)
	o1.UpdatedAt = time.Now().Add(-2 * time.Hour)
	e.Vel.AddOrder(o1)
	e.Vel.AddOrder(e2eTerms("o2", "1002", 1))
	if sum := e.summary(exitOK, "run"); sum.Counts.Created != 2 {
		t.Fatalf("first run: counts %+v; want 2 created", sum.Counts)
	}
	receipts := e.QBO.Entities("SalesReceipt")
	if len(receipts) != 1 {
		t.Fatalf("receipts: got %d; want 1", len(receipts))
	}

	r := e.mustExec(exitOK, "orders", "report-as-invoice", "1001", "--by", "amy")
	if want := "order 1001: reported as an Invoice from the next run (decided by amy); its SalesReceipt " + receipts[0].ID + " is then voided\n"; r.Stdout != want {
		t.Errorf("stdout: got %q; want %q", r.Stdout, want)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"Terms", []string{"1002"}, "on terms (net 30 days)"},
		{"Again", []string{"1001"}, "amy decided it on "},
		{"NotInLedger", []string{"1009"}, "not in the ledger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.exec(append([]string{"orders", "report-as-invoice"}, tc.args...)...)
			if r.Code != exitUsage || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 saying %q", r.Code, r.Stderr, tc.want)
			}
		})
	}
	if r := e.exec("orders", "report-as-invoice"); r.Code != exitUsage {
		t.Errorf("without an order number: exit %d; want 2", r.Code)
	}

	sum := e.summary(exitOK, "run")
	var got []string
	for _, it := range sum.Items {
		got = append(got, string(it.Action)+" "+it.QBOType+" "+it.OrderNumber)
	}
	if diff := cmp.Diff([]string{"create Invoice 1001", "void SalesReceipt 1001"}, got); diff != "" {
		t.Errorf("run after the decision (-want +got):\n%s", diff)
	}
	if rc, _ := e.QBO.Get("SalesReceipt", receipts[0].ID); !rc.Voided {
		t.Errorf("receipt %s not voided", receipts[0].ID)
	}
	n := 0
	for _, inv := range e.QBO.Entities("Invoice") {
		if inv.DocNumber == "1001" && !inv.Voided {
			n++
		}
	}
	if n != 1 {
		t.Errorf("invoices 1001: got %d; want 1", n)
	}
	if sum := e.summary(exitOK, "run"); len(sum.Items) != 0 {
		t.Errorf("run after: items %+v; want none", sum.Items)
	}
	audit, err := e.store().ListAudit(t.Context(), schema.AuditFilter{SourceKind: "order", SourceID: "o1"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range audit {
		found = found || (a.Operation == "report_as_invoice" && a.Detail == "by amy")
	}
	if !found {
		t.Errorf("audit: %+v; want the decision by amy", audit)
	}
}
