package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/reconcile/reconciletest"
	"github.com/velqbo/velqbo/schema"
)

// verifyReady connects, maps the settings, links every customer and
// product, and runs once: the ledger then records real QBO documents.
func verifyReady(t *testing.T, nOrders int) *harness {
	t.Helper()
	h := MustRunMain(t, nOrders)
	h.Connect()
	ctx := t.Context()
	st, err := schema.Open(ctx, h.Env["VELQBO_DB"])
	if err != nil {
		t.Fatal(err)
	}
	settings := reconciletest.Settings(h.Seed)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.SetSettings(ctx, settings))
	for _, c := range h.Data.Customers {
		id := h.QBO.AddCustomer(fmt.Sprintf("%s %s (%s)", c.FirstName, c.LastName, c.Number), c.Email)
		must(st.SaveLink(ctx, schema.CustomerLinks, schema.Link{VelocityID: c.ID, QBOID: id, Method: schema.LinkManual}))
	}
	for _, p := range h.Data.Products {
		id := h.QBO.AddItem(p.Name+" ("+p.SKU+")", p.SKU)
		must(st.SaveLink(ctx, schema.ProductLinks, schema.Link{VelocityID: p.ID, QBOID: id, Method: schema.LinkManual}))
	}
	must(st.Close())
	if r := h.Run("", "run"); r.Code != exitOK && r.Code != exitIncomplete {
		t.Fatalf("run: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	return h
}

// verifyOutput is `velqbo verify --json`.
type verifyOutput struct {
	Mode     string            `json:"mode"`
	Checked  int               `json:"checked"`
	Read     int               `json:"read"`
	Requests int               `json:"requests"`
	Drift    []reconcile.Drift `json:"drift"`
}

func (h *harness) verifyJSON(want int, args ...string) verifyOutput {
	h.t.Helper()
	r := h.MustRun(want, "", append([]string{"verify", "--json"}, args...)...)
	var out verifyOutput
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		h.t.Fatalf("verify --json: %v\n%s", err, r.Stdout)
	}
	return out
}

// singleDocOrders returns sent order documents whose order has no other
// document (no refund or payment linked to them), by QBO type.
func singleDocOrders(t *testing.T, h *harness) map[string][]schema.Document {
	t.Helper()
	st, err := schema.Open(t.Context(), h.Env["VELQBO_DB"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := st.ListDocuments(t.Context(), schema.DocumentFilter{InQBO: true})
	if err != nil {
		t.Fatal(err)
	}
	perOrder := map[string]int{}
	for _, d := range all {
		perOrder[d.OrderNumber]++
	}
	out := map[string][]schema.Document{}
	for _, d := range all {
		if d.Kind == string(reconcile.KindOrder) && d.State == schema.StateSent && perOrder[d.OrderNumber] == 1 {
			out[d.QBOType] = append(out[d.QBOType], d)
		}
	}
	return out
}

func TestVerify_CleanCompany(t *testing.T) {
	t.Parallel()
	h := verifyReady(t, 30)
	out := h.verifyJSON(exitOK)
	if len(out.Drift) != 0 || out.Checked == 0 || out.Read != out.Checked || out.Mode != "full" || out.Requests != 1 {
		t.Fatalf("clean verify: %+v; want full mode, every document read in 1 request, no drift", out)
	}
	// Human output, second time through CDC.
	r := h.MustRun(exitOK, "", "verify")
	if !strings.Contains(r.Stdout, "No drift") || !strings.Contains(r.Stdout, "changes since") {
		t.Errorf("verify output:\n%s\nwant a CDC verify saying no drift", r.Stdout)
	}
}

func TestVerify_PlantedDrift(t *testing.T) {
	t.Parallel()
	h := verifyReady(t, 30)
	docs := singleDocOrders(t, h)
	receipts, invoices := docs[reconcile.TypeSalesReceipt], docs[reconcile.TypeInvoice]
	if len(receipts) < 2 || len(invoices) < 1 {
		t.Fatalf("generated store: %d receipts, %d invoices on their own; want at least 2 and 1", len(receipts), len(invoices))
	}
	del, edit, void := receipts[0], receipts[1], invoices[0]
	if err := h.QBO.PersonDelete(del.QBOType, del.QBOID); err != nil {
		t.Fatal(err)
	}
	if err := h.QBO.PersonVoid(void.QBOType, void.QBOID); err != nil {
		t.Fatal(err)
	}
	err := h.QBO.PersonEdit(edit.QBOType, edit.QBOID, func(m map[string]any) {
		l := m["Line"].([]any)[0].(map[string]any)
		l["Amount"] = json.Number("0.01")
		if d, ok := l["SalesItemLineDetail"].(map[string]any); ok {
			delete(d, "Qty")
			delete(d, "UnitPrice")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	edited, _ := h.QBO.Get(edit.QBOType, edit.QBOID)
	mark := len(h.QBO.Requests())

	type row struct{ SourceID, QBOID, Drift string }
	want := []row{
		{del.SourceID, del.QBOID, reconcile.DriftDeleted},
		{edit.SourceID, edit.QBOID, reconcile.DriftTotalChanged},
		{void.SourceID, void.QBOID, reconcile.DriftVoided},
	}
	sort.Slice(want, func(i, j int) bool { return want[i].SourceID < want[j].SourceID })
	got := func(out verifyOutput) []row {
		rs := []row{}
		for _, d := range out.Drift {
			rs = append(rs, row{d.SourceID, d.QBOID, d.Drift})
		}
		return rs
	}
	out := h.verifyJSON(exitIncomplete)
	if diff := cmp.Diff(want, got(out)); diff != "" {
		t.Errorf("verify --json drift (-want +got):\n%s", diff)
	}
	// Verify never writes to QBO.
	for _, c := range h.QBO.Requests()[mark:] {
		if c.Operation != "batch" && c.Operation != "token" && c.Operation != "cdc" {
			t.Errorf("verify sent %s %s (%s); want reads only", c.Method, c.Path, c.Operation)
		}
	}
	if e, _ := h.QBO.Get(edit.QBOType, edit.QBOID); e.SyncToken != edited.SyncToken || !e.TotalAmt.Equal(edited.TotalAmt) {
		t.Errorf("edited document after verify: SyncToken %s total %s; want the person's %s, %s untouched",
			e.SyncToken, e.TotalAmt, edited.SyncToken, edited.TotalAmt)
	}

	// The deleted document is in the ledger now: status lists it, and the
	// next verify (through CDC) still reports the other two.
	var status struct {
		Deleted []struct {
			SourceID string `json:"source_id"`
		} `json:"deleted_in_qbo"`
	}
	h.mustJSON(&status, "status", "--json")
	if len(status.Deleted) != 1 || status.Deleted[0].SourceID != del.SourceID {
		t.Errorf("status deleted_in_qbo: got %+v; want %s", status.Deleted, del.SourceID)
	}
	out = h.verifyJSON(exitIncomplete)
	var rest []row
	for _, r := range want {
		if r.Drift != reconcile.DriftDeleted {
			rest = append(rest, r)
		}
	}
	if diff := cmp.Diff(rest, got(out)); diff != "" || out.Mode != "cdc" {
		t.Errorf("second verify: mode %s, drift (-want +got):\n%s", out.Mode, diff)
	}

	r := h.MustRun(exitIncomplete, "", "verify")
	for _, s := range []string{"voided_in_qbo", "total_changed"} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("verify table lacks %s:\n%s", s, r.Stdout)
		}
	}
	if !strings.Contains(r.Stderr, "differ from what was sent") {
		t.Errorf("verify stderr: %q; want the drift count", r.Stderr)
	}
}

func TestVerify_NotConnected(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	r := h.MustRun(exitUnavailable, "", "verify", "--json")
	if r.Stdout != "" {
		t.Errorf("stdout: %q; want nothing", r.Stdout)
	}
	h.MustRun(exitUsage, "", "verify", "extra")
}
