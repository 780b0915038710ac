package main

// End-to-end acceptance tests of `velqbo run` / `velqbo plan` (issue 3):
// every row of docs/design.md's "What is reported, and how" table, exit codes,
// plan = run, idempotent re-runs, lost responses and 5xx/429 storms, and the
// run lease, all through Main against qbotest and velocitytest.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// e2eApproved is when the hand-built orders were approved: an afternoon in
// UTC, so the calendar day is the same in every US time zone.
var e2eApproved = time.Date(2025, 6, 2, 15, 0, 0, 0, time.UTC)

// e2eStartDate is the go-live cutover the setup maps.
const e2eStartDate = "2025-01-01"

// e2eProducts is the Velocity catalogue: prod_1 and prod_2 are linked to
// the seeded QBO items SKU-1 and SKU-2, prod_3 is never linked.
var e2eProducts = []velocity.Product{
	{ID: "prod_1", SKU: "SKU-1", Name: "Widget", Price: d("19.99"), Active: true},
	{ID: "prod_2", SKU: "SKU-2", Name: "Gadget", Price: d("5.25"), Active: true},
	{ID: "prod_3", SKU: "SKU-9", Name: "Sprocket", Price: d("3.00"), Active: true},
}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// e2e is a harness prepared the way a bookkeeper prepares velqbo before the
// first run: connected, every setting mapped, cus_1, prod_1 and prod_2
// linked.
type e2e struct {
	*harness
	Cust string // QBO customer linked to cus_1
	// ahead moves velqbo's clock (Main.Now: the ledger's times and the
	// engine's) forward of the wall clock, so that a test can let a
	// create's in-flight window pass without waiting for it.
	ahead atomic.Int64
	// clk, when set, is every exec's QBO and Velocity clock, shared by all
	// of them (and by a qbotest server given it) instead of a fresh fake
	// per exec.
	clk *clock.Fake
}

type e2eOptions struct {
	qbo       []qbotest.Option
	env       map[string]string
	noConnect bool
	clock     *clock.Fake // e2e.clk
}

func newE2E(t *testing.T, o e2eOptions) *e2e {
	t.Helper()
	h := MustRunMain(t, 0)
	if len(o.qbo) > 0 {
		h.QBO = qbotest.NewTestServer(t, o.qbo...)
		h.Seed = h.QBO.SeedDefaults()
		h.Env["VELQBO_QBO_API_URL"] = h.QBO.APIURL()
		h.Env["VELQBO_QBO_TOKEN_URL"] = h.QBO.TokenURL()
		h.Env["VELQBO_QBO_AUTH_URL"] = h.QBO.AuthURL()
		h.Env["VELQBO_QBO_REVOKE_URL"] = h.QBO.RevokeURL()
	}
	for k, v := range o.env {
		h.Env[k] = v
	}
	e := &e2e{harness: h, clk: o.clock}
	h.Vel.AddCustomer(velocity.Customer{ID: "cus_1", Number: "C-1", FirstName: "Amy", LastName: "Smith",
		Company: "Smith Hardware", Email: "amy@example.com"})
	for _, p := range e2eProducts {
		h.Vel.AddProduct(p)
	}
	if o.noConnect {
		return e
	}
	h.Connect()
	e.Cust = h.QBO.AddCustomer("Smith Hardware", "amy@example.com")
	e.mustExec(exitOK, "customers", "link", "cus_1", e.Cust)
	e.mustExec(exitOK, "products", "link", "prod_1", h.Seed.Products["SKU-1"])
	e.mustExec(exitOK, "products", "link", "prod_2", h.Seed.Products["SKU-2"])
	e.mustExec(exitOK, sandboxSettingsArgs(h.Seed, "start_date="+e2eStartDate)...)
	return e
}

// exec runs velqbo in-process like harness.Run, with clients whose waits
// (retry backoff, the 60 s throttle wait, pacing) run on a fake clock that
// starts at the real time: they cost nothing.
func (e *e2e) exec(args ...string) result {
	e.t.Helper()
	var out, errb bytes.Buffer
	clk := e.clk
	if clk == nil {
		clk = clock.NewFake(time.Now())
	}
	m := &Main{
		Stdin:           strings.NewReader(""),
		Stdout:          &out,
		Stderr:          &errb,
		Getenv:          envFunc(e.Env),
		Now:             func() time.Time { return time.Now().Add(time.Duration(e.ahead.Load())) },
		IsTerminal:      func() bool { return false },
		QBOOptions:      []qbo.Option{qbo.WithClock(clk)},
		VelocityOptions: []velocity.Option{velocity.WithClock(clk)},
	}
	code := m.Run(e.t.Context(), args)
	return result{Code: code, Stdout: out.String(), Stderr: errb.String()}
}

func (e *e2e) mustExec(want int, args ...string) result {
	e.t.Helper()
	r := e.exec(args...)
	if r.Code != want {
		e.t.Fatalf("velqbo %s: exit code %d; want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, want, r.Stdout, r.Stderr)
	}
	return r
}

// summary runs `velqbo <cmd> --json args...`, checks the exit code and
// decodes the one JSON object on stdout.
func (e *e2e) summary(want int, cmd string, args ...string) *reconcile.Summary {
	e.t.Helper()
	r := e.mustExec(want, append([]string{cmd, "--json"}, args...)...)
	return decodeSummary(e.t, r.Stdout)
}

func decodeSummary(t *testing.T, stdout string) *reconcile.Summary {
	t.Helper()
	var sum reconcile.Summary
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sum); err != nil {
		t.Fatalf("decode summary: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON object:\n%s", stdout)
	}
	return &sum
}

func (e *e2e) run(want int, args ...string) *reconcile.Summary {
	e.t.Helper()
	return e.summary(want, "run", args...)
}

func (e *e2e) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// isWrite reports whether a call asked QBO to change something.
func isWrite(c qbotest.Call) bool {
	if c.Method != http.MethodPost {
		return false
	}
	switch c.Operation {
	case "create", "update", "void", "delete", "batch":
		return true
	}
	return false
}

func (e *e2e) mark() int { return len(e.QBO.Requests()) }

// writesSince returns the write calls received since mark.
func (e *e2e) writesSince(mark int) []qbotest.Call {
	var out []qbotest.Call
	for _, c := range e.QBO.Requests()[mark:] {
		if isWrite(c) {
			out = append(out, c)
		}
	}
	return out
}

// docs returns the entities of typ with DocNumber dn that were not deleted.
func (e *e2e) docs(typ, dn string) []qbotest.Entity {
	var out []qbotest.Entity
	for _, x := range e.QBO.Entities(typ) {
		if x.DocNumber == dn && !x.Deleted {
			out = append(out, x)
		}
	}
	return out
}

// one returns the only non-deleted entity of typ with DocNumber dn.
func (e *e2e) one(typ, dn string) qbotest.Entity {
	e.t.Helper()
	got := e.docs(typ, dn)
	if len(got) != 1 {
		e.t.Fatalf("%s %s: got %d documents; want 1", typ, dn, len(got))
	}
	return got[0]
}

// ref is the value of the reference field key of a stored QBO object.
func ref(raw map[string]any, key string) string {
	m, _ := raw[key].(map[string]any)
	s, _ := m["value"].(string)
	return s
}

func field(raw map[string]any, key string) string {
	switch v := raw[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// e2eItem is what a test compares of a summary item.
type e2eItem struct{ Kind, SourceID, Action, QBOType, DocNumber string }

func items(s *reconcile.Summary) []e2eItem {
	out := []e2eItem{}
	for _, it := range s.Items {
		out = append(out, e2eItem{string(it.Kind), it.SourceID, string(it.Action), it.QBOType, it.DocNumber})
	}
	return out
}

func counts(created, updated, voided, unchanged, blocked, failed int) reconcile.Counts {
	return reconcile.Counts{Created: created, Updated: updated, Voided: voided, Unchanged: unchanged, Blocked: blocked, Failed: failed}
}

// e2eOrder is an approved credit-card order of cus_1: qty widgets at 19.99,
// one gadget at 5.25, shipping 7.50 and tax 2.00.
func e2eOrder(id, number string, qty int64) *velocity.Order {
	approved := e2eApproved
	addr := velocity.Address{Name: "Amy Smith", Company: "Smith Hardware", Line1: "1 Main St", City: "Springfield",
		State: "IL", PostalCode: "62701", Country: "US"}
	o := &velocity.Order{
		ID: id, Number: number, CustomerID: "cus_1", Status: velocity.StatusAwaitingFulfillment,
		ApprovedAt: &approved, PaymentMethod: velocity.MethodCreditCard, Currency: "USD", Email: "amy@example.com",
		BillingAddress: addr, ShippingAddress: addr,
		Lines: []velocity.OrderLine{
			{ID: id + "-l1", ProductID: "prod_1", SKU: "SKU-1", Name: "Widget", Quantity: decimal.NewFromInt(qty), UnitPrice: d("19.99")},
			{ID: id + "-l2", ProductID: "prod_2", SKU: "SKU-2", Name: "Gadget", Quantity: decimal.NewFromInt(1), UnitPrice: d("5.25")},
		},
		ShippingTotal: d("7.50"),
		TaxTotal:      d("2.00"),
		CreatedAt:     approved.Add(-time.Hour),
	}
	o.Total = o.ComputedTotal()
	return o
}

// e2eTerms is e2eOrder on net-30 terms: an Invoice.
func e2eTerms(id, number string, qty int64) *velocity.Order {
	o := e2eOrder(id, number, qty)
	o.PaymentMethod = velocity.MethodTerms
	o.PaymentTerms = &velocity.PaymentTerms{NetDays: 30}
	return o
}

func at(day, hour int) *time.Time {
	t := time.Date(2025, 6, day, hour, 0, 0, 0, time.UTC)
	return &t
}

// TestE2E_ReportingRules drives every row of docs/design.md's "What is
// reported, and how" table through `velqbo run --json` on a small
// hand-built store.
func TestE2E_ReportingRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		// setup builds the store and may run velqbo before the run under test.
		setup     func(e *e2e)
		wantCode  int
		wantItems []e2eItem
		// check inspects QBO after the run; mark is the request count
		// before it.
		check func(t *testing.T, e *e2e, sum *reconcile.Summary, mark int)
	}{
		{
			name:      "ReceiptNotOnTerms",
			setup:     func(e *e2e) { e.Vel.AddOrder(e2eOrder("o1", "1001", 2)) },
			wantItems: []e2eItem{{"order", "o1", "create", "SalesReceipt", "1001"}},
			check: func(t *testing.T, e *e2e, sum *reconcile.Summary, _ int) {
				sr := e.one("SalesReceipt", "1001")
				want := map[string]string{
					"DepositToAccountRef": e.Seed.Accounts["Undeposited Funds"],
					"PaymentMethodRef":    e.Seed.PaymentMethods["Credit Card"],
					"CustomerRef":         e.Cust,
				}
				for k, v := range want {
					if got := ref(sr.Raw, k); got != v {
						t.Errorf("SalesReceipt %s: got %q; want %q", k, got, v)
					}
				}
				if want := d("54.73"); !sr.TotalAmt.Equal(want) {
					t.Errorf("TotalAmt: got %s; want %s", sr.TotalAmt, want)
				}
				if got := field(sr.Raw, "TxnDate"); got != "2025-06-02" {
					t.Errorf("TxnDate: got %q; want 2025-06-02", got)
				}
				if !strings.Contains(sr.PrivateNote, "Velocity order 1001") || !strings.Contains(sr.PrivateNote, "[velqbo:o:o1:g") {
					t.Errorf("PrivateNote: got %q; want the order number and the marker", sr.PrivateNote)
				}
				if em, _ := sr.Raw["BillEmail"].(map[string]any); em["Address"] != "amy@example.com" {
					t.Errorf("BillEmail: got %v; want amy@example.com", sr.Raw["BillEmail"])
				}
				if sum.Items[0].QBOID != sr.ID {
					t.Errorf("item qbo_id: got %q; want %q", sum.Items[0].QBOID, sr.ID)
				}
			},
		},
		{
			name:      "TermsInvoiceWithDueDate",
			setup:     func(e *e2e) { e.Vel.AddOrder(e2eTerms("o2", "1002", 1)) },
			wantItems: []e2eItem{{"order", "o2", "create", "Invoice", "1002"}},
			check: func(t *testing.T, e *e2e, _ *reconcile.Summary, _ int) {
				inv := e.one("Invoice", "1002")
				if got, want := [2]string{field(inv.Raw, "TxnDate"), field(inv.Raw, "DueDate")}, [2]string{"2025-06-02", "2025-07-02"}; got != want {
					t.Errorf("TxnDate, DueDate: got %v; want %v", got, want)
				}
				if want := d("34.74"); !inv.TotalAmt.Equal(want) || !inv.Balance.Equal(want) {
					t.Errorf("TotalAmt %s Balance %s; want both %s", inv.TotalAmt, inv.Balance, want)
				}
				if n := len(e.docs("SalesReceipt", "1002")); n != 0 {
					t.Errorf("sales receipts 1002: got %d; want 0", n)
				}
			},
		},
		{
			name: "ReportAsInvoice",
			setup: func(e *e2e) {
				o := e2eOrder("o3", "1003", 1)
				o.ReportAsInvoice = true
				e.Vel.AddOrder(o)
			},
			wantItems: []e2eItem{{"order", "o3", "create", "Invoice", "1003"}},
			check: func(t *testing.T, e *e2e, _ *reconcile.Summary, _ int) {
				inv := e.one("Invoice", "1003")
				if got := field(inv.Raw, "DueDate"); got != "2025-06-02" {
					t.Errorf("DueDate without terms: got %q; want the TxnDate 2025-06-02", got)
				}
			},
		},
		{
			name: "ReportAsInvoiceAfterReceipt",
			setup: func(e *e2e) {
				e.Vel.AddOrder(e2eOrder("o4", "1004", 1))
				e.run(exitOK)
				e.must(e.Vel.SetReportAsInvoice("o4", true))
			},
			wantItems: []e2eItem{{"order", "o4", "create", "Invoice", "1004"}, {"order", "o4", "void", "SalesReceipt", "1004"}},
			check: func(t *testing.T, e *e2e, sum *reconcile.Summary, mark int) {
				if sr := e.one("SalesReceipt", "1004"); !sr.Voided {
					t.Errorf("SalesReceipt 1004: not voided")
				}
				if inv := e.one("Invoice", "1004"); !inv.TotalAmt.Equal(d("34.74")) || inv.Voided {
					t.Errorf("Invoice 1004: total %s voided %v; want 34.74, live", inv.TotalAmt, inv.Voided)
				}
				// Invoice first, void second.
				var ops []string
				for _, c := range e.writesSince(mark) {
					ops = append(ops, c.Operation+" "+c.Entity)
				}
				if want := []string{"create Invoice", "void SalesReceipt"}; !cmp.Equal(ops, want) {
					t.Errorf("writes: got %q; want %q", ops, want)
				}
				if diff := cmp.Diff(counts(1, 0, 1, 0, 0, 0), sum.Counts); diff != "" {
					t.Errorf("counts (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "CancelledAfterReporting",
			setup: func(e *e2e) {
				e.Vel.AddOrder(e2eOrder("o5", "1005", 1))
				e.run(exitOK)
				e.must(e.Vel.Cancel("o5"))
			},
			wantItems: []e2eItem{{"order", "o5", "void", "SalesReceipt", "1005"}},
			check: func(t *testing.T, e *e2e, sum *reconcile.Summary, mark int) {
				if sr := e.one("SalesReceipt", "1005"); !sr.Voided || !sr.TotalAmt.IsZero() {
					t.Errorf("SalesReceipt 1005: voided %v total %s; want voided, 0", sr.Voided, sr.TotalAmt)
				}
				if w := e.writesSince(mark); len(w) != 1 || w[0].Operation != "void" {
					t.Errorf("writes: got %d (%+v); want one void", len(w), w)
				}
			},
		},
		{
			name: "EditedAfterReporting",
			setup: func(e *e2e) {
				e.Vel.AddOrder(e2eOrder("o6", "1006", 2))
				e.run(exitOK)
				e.must(e.Vel.UpdateOrder("o6", func(o *velocity.Order) {
					o.Lines[0].Quantity = decimal.NewFromInt(5)
					o.Total = o.ComputedTotal()
				}))
			},
			wantItems: []e2eItem{{"order", "o6", "update", "SalesReceipt", "1006"}},
			check: func(t *testing.T, e *e2e, _ *reconcile.Summary, mark int) {
				w := e.writesSince(mark)
				if len(w) != 1 || w[0].Operation != "update" || !w[0].Sparse || w[0].Status != http.StatusOK {
					t.Fatalf("writes: got %+v; want one successful sparse update", w)
				}
				sr := e.one("SalesReceipt", "1006")
				if want := d("114.70"); !sr.TotalAmt.Equal(want) {
					t.Errorf("TotalAmt after edit: got %s; want %s", sr.TotalAmt, want)
				}
				if w[0].ID != sr.ID {
					t.Errorf("updated id %s; want %s", w[0].ID, sr.ID)
				}
			},
		},
		{
			name: "EditedAfterReportingStaleSyncToken",
			setup: func(e *e2e) {
				e.Vel.AddOrder(e2eOrder("o7", "1007", 2))
				e.run(exitOK)
				sr := e.one("SalesReceipt", "1007")
				// A person edits the receipt in QBO: the ledger's SyncToken is stale.
				e.must(e.QBO.PersonEdit("SalesReceipt", sr.ID, func(m map[string]any) {
					m["CustomerMemo"] = map[string]any{"value": "left at the back door"}
				}))
				e.must(e.Vel.UpdateOrder("o7", func(o *velocity.Order) {
					o.Lines[0].Quantity = decimal.NewFromInt(3)
					o.Total = o.ComputedTotal()
				}))
			},
			wantItems: []e2eItem{{"order", "o7", "update", "SalesReceipt", "1007"}},
			check: func(t *testing.T, e *e2e, _ *reconcile.Summary, mark int) {
				sr := e.one("SalesReceipt", "1007")
				var got []string
				for _, c := range e.QBO.Requests()[mark:] {
					if c.Entity == "SalesReceipt" && (c.Operation == "update" || c.Operation == "read") {
						got = append(got, fmt.Sprintf("%s %d", c.Operation, c.Status))
					}
				}
				if want := []string{"update 400", "read 200", "update 200"}; !cmp.Equal(got, want) {
					t.Errorf("calls on the receipt: got %q; want %q (one re-read heals the 5010)", got, want)
				}
				if want := d("74.72"); !sr.TotalAmt.Equal(want) {
					t.Errorf("TotalAmt: got %s; want %s", sr.TotalAmt, want)
				}
				if sr.SyncToken != "2" {
					t.Errorf("SyncToken: got %s; want 2 (create, person edit, update)", sr.SyncToken)
				}
			},
		},
		{
			name: "Shipments",
			setup: func(e *e2e) {
				e.Vel.AddOrder(e2eOrder("o8", "1008", 2))
				e.run(exitOK)
				// Added out of order: tracking follows shipped_at.
				e.must(e.Vel.AddShipment("o8", velocity.Shipment{ID: "sh_2", ShippedAt: at(5, 9), Carrier: "FedEx",
					TrackingNumber: "7712", Items: []velocity.ShipmentItem{{LineID: "o8-l2", Quantity: decimal.NewFromInt(1)}}}))
				e.must(e.Vel.AddShipment("o8", velocity.Shipment{ID: "sh_1", ShippedAt: at(3, 10), Carrier: "UPS",
					TrackingNumber: "1Z999", Items: []velocity.ShipmentItem{{LineID: "o8-l1", Quantity: decimal.NewFromInt(2)}}}))
			},
			wantItems: []e2eItem{{"shipment", "o8", "update", "SalesReceipt", "1008"}},
			check: func(t *testing.T, e *e2e, _ *reconcile.Summary, mark int) {
				sr := e.one("SalesReceipt", "1008")
				got := [3]string{field(sr.Raw, "TrackingNum"), field(sr.Raw, "ShipDate"), ref(sr.Raw, "ShipMethodRef")}
				if want := [3]string{"1Z999, 7712", "2025-06-03", "UPS"}; got != want {
					t.Errorf("TrackingNum, ShipDate, ShipMethodRef: got %q; want %q", got, want)
				}
				if !sr.TotalAmt.Equal(d("54.73")) {
					t.Errorf("TotalAmt: got %s; want 54.73 unchanged", sr.TotalAmt)
				}
				if w := e.writesSince(mark); len(w) != 1 || !w[0].Sparse {
					t.Errorf("writes: got %+v; want one sparse update", w)
				}
			},
		},
		{
			name: "Refunds",
			setup: func(e *e2e) {
				e.Vel.AddOrder(e2eOrder("o9", "1009", 2))
				e.run(exitOK)
				e.must(e.Vel.AddRefund("o9", velocity.Refund{ID: "re_1", CreatedAt: *at(5, 12), PaymentMethod: velocity.MethodCreditCard,
					Lines: []velocity.RefundLine{{Kind: velocity.RefundProduct, LineID: "o9-l1", Quantity: decimal.NewFromInt(1), Amount: d("19.99")}}}))
				e.must(e.Vel.AddRefund("o9", velocity.Refund{ID: "re_2", CreatedAt: *at(6, 12), PaymentMethod: velocity.MethodCreditCard,
					Lines: []velocity.RefundLine{{Kind: velocity.RefundShipping, Amount: d("7.50")}}}))
			},
			wantItems: []e2eItem{{"refund", "re_1", "create", "RefundReceipt", "RF-1009"}, {"refund", "re_2", "create", "RefundReceipt", "RF-1009-2"}},
			check: func(t *testing.T, e *e2e, _ *reconcile.Summary, _ int) {
				for _, tt := range []struct{ dn, total, date string }{{"RF-1009", "19.99", "2025-06-05"}, {"RF-1009-2", "7.50", "2025-06-06"}} {
					rr := e.one("RefundReceipt", tt.dn)
					got := [5]string{rr.TotalAmt.StringFixed(2), field(rr.Raw, "TxnDate"), ref(rr.Raw, "DepositToAccountRef"),
						ref(rr.Raw, "PaymentMethodRef"), ref(rr.Raw, "CustomerRef")}
					want := [5]string{tt.total, tt.date, e.Seed.Accounts["Refunds"], e.Seed.PaymentMethods["Credit Card"], e.Cust}
					if got != want {
						t.Errorf("%s total, date, deposit, method, customer: got %q; want %q", tt.dn, got, want)
					}
				}
			},
		},
		{
			name: "PaymentOnInvoice",
			setup: func(e *e2e) {
				e.Vel.AddOrder(e2eTerms("o10", "1010", 1))
				e.run(exitOK)
				e.must(e.Vel.AddPayment("o10", velocity.Payment{ID: "pa_1", Amount: d("10.00"), Method: velocity.MethodCheck, Reference: "chk 12"}))
				// The partial payment first, on its own run.
				sum := e.run(exitOK)
				if diff := cmp.Diff([]e2eItem{{"payment", "pa_1", "create", "Payment", ""}}, items(sum)); diff != "" {
					e.t.Errorf("first payment items (-want +got):\n%s", diff)
				}
				if inv := e.one("Invoice", "1010"); !inv.Balance.Equal(d("24.74")) {
					e.t.Errorf("Balance after 10.00 of 34.74: got %s; want 24.74", inv.Balance)
				}
				e.must(e.Vel.AddPayment("o10", velocity.Payment{ID: "pa_2", Amount: d("24.74"), Method: velocity.MethodACH, Reference: "ach-77"}))
			},
			wantItems: []e2eItem{{"payment", "pa_2", "create", "Payment", ""}},
			check: func(t *testing.T, e *e2e, _ *reconcile.Summary, _ int) {
				inv := e.one("Invoice", "1010")
				if !inv.Balance.IsZero() {
					t.Errorf("invoice Balance when fully paid: got %s; want 0", inv.Balance)
				}
				pays := e.QBO.Entities("Payment")
				if len(pays) != 2 {
					t.Fatalf("payments: got %d; want 2", len(pays))
				}
				for i, want := range []struct{ amt, refNum, method string }{
					{"10.00", "chk 12", e.Seed.PaymentMethods["Check"]}, {"24.74", "ach-77", e.Seed.PaymentMethods["ACH"]},
				} {
					p := pays[i]
					lines, _ := p.Raw["Line"].([]any)
					var linked []string
					for _, l := range lines {
						for _, lt := range l.(map[string]any)["LinkedTxn"].([]any) {
							m := lt.(map[string]any)
							linked = append(linked, field(m, "TxnType")+" "+field(m, "TxnId"))
						}
					}
					got := []string{p.TotalAmt.StringFixed(2), field(p.Raw, "PaymentRefNum"), ref(p.Raw, "PaymentMethodRef"),
						ref(p.Raw, "DepositToAccountRef"), ref(p.Raw, "CustomerRef"), strings.Join(linked, ",")}
					wantS := []string{want.amt, want.refNum, want.method, e.Seed.Accounts["Undeposited Funds"], e.Cust, "Invoice " + inv.ID}
					if diff := cmp.Diff(wantS, got); diff != "" {
						t.Errorf("payment %d (amount, ref, method, deposit, customer, linked) (-want +got):\n%s", i, diff)
					}
				}
			},
		},
		{
			name: "PaymentOnReceiptNotApplicable",
			setup: func(e *e2e) {
				o := e2eOrder("o11", "1011", 1)
				o.Payments = []velocity.Payment{{ID: "pa_3", Amount: o.Total, Method: velocity.MethodCreditCard, CreatedAt: e2eApproved}}
				e.Vel.AddOrder(o)
			},
			wantItems: []e2eItem{{"order", "o11", "create", "SalesReceipt", "1011"}, {"payment", "pa_3", "noop", "Payment", ""}},
			check: func(t *testing.T, e *e2e, sum *reconcile.Summary, _ int) {
				if got := sum.Items[1].Reason; got != reconcile.NotApplicableOnReceipt {
					t.Errorf("payment reason: got %q; want %q", got, reconcile.NotApplicableOnReceipt)
				}
				if diff := cmp.Diff(counts(1, 0, 0, 1, 0, 0), sum.Counts); diff != "" {
					t.Errorf("counts (-want +got):\n%s", diff)
				}
				if n := len(e.QBO.Entities("Payment")); n != 0 {
					t.Errorf("QBO payments: got %d; want 0", n)
				}
			},
		},
		{
			name: "ApprovedBeforeStartDate",
			setup: func(e *e2e) {
				o := e2eOrder("o12", "1012", 1)
				before := time.Date(2024, 12, 31, 18, 0, 0, 0, time.UTC)
				o.ApprovedAt, o.CreatedAt = &before, before
				e.Vel.AddOrder(o)
			},
			wantItems: []e2eItem{},
			check: func(t *testing.T, e *e2e, sum *reconcile.Summary, mark int) {
				if w := e.writesSince(mark); len(w) != 0 {
					t.Errorf("writes: got %d; want 0", len(w))
				}
				if sum.Counts.Created != 0 {
					t.Errorf("created: got %d; want 0", sum.Counts.Created)
				}
			},
		},
		{
			name: "BlockedUnlinkedProductThenLinked",
			setup: func(e *e2e) {
				e.Vel.AddOrder(e2eOrder("o13", "1013", 1))
				o := e2eOrder("o14", "1014", 1)
				o.Lines = append(o.Lines, velocity.OrderLine{ID: "o14-l3", ProductID: "prod_3", SKU: "SKU-9", Name: "Sprocket",
					Quantity: decimal.NewFromInt(2), UnitPrice: d("3.00")})
				o.Total = o.ComputedTotal()
				e.Vel.AddOrder(o)
			},
			wantCode:  exitIncomplete,
			wantItems: []e2eItem{{"order", "o13", "create", "SalesReceipt", "1013"}, {"order", "o14", "blocked", "SalesReceipt", "1014"}},
			check: func(t *testing.T, e *e2e, sum *reconcile.Summary, _ int) {
				reason := sum.Items[1].Reason
				for _, want := range []string{"SKU-9", "velqbo products link prod_3"} {
					if !strings.Contains(reason, want) {
						t.Errorf("blocked reason: got %q; want it to contain %q", reason, want)
					}
				}
				// --json carries the same reason as data for the console.
				wantWhy := reconcile.Reasons{{Code: reconcile.CodeProductNotLinked,
					Subject: reconcile.Subject{Kind: reconcile.SubjectProduct, ID: "prod_3"},
					Text:    "product SKU-9 (Velocity id prod_3) is not linked to a QBO item",
					Fix:     reconcile.Fix{Action: reconcile.FixLinkProduct, ID: "prod_3"}}}
				if diff := cmp.Diff(wantWhy, sum.Items[1].Reasons); diff != "" {
					t.Errorf("blocked reasons (-want +got):\n%s", diff)
				}
				// The ledger keeps both: status shows the same text and data.
				var status struct {
					Blocked []struct {
						SourceID string            `json:"source_id"`
						Reason   string            `json:"reason"`
						Reasons  reconcile.Reasons `json:"reasons"`
					} `json:"blocked"`
				}
				if err := json.Unmarshal([]byte(e.mustExec(exitOK, "status", "--json").Stdout), &status); err != nil {
					t.Fatalf("status --json: %v", err)
				}
				if b := status.Blocked; len(b) != 1 || b[0].SourceID != "o14" || b[0].Reason != reason || cmp.Diff(wantWhy, b[0].Reasons) != "" {
					t.Errorf("status blocked: got %+v; want o14 with reason %q and %+v", b, reason, wantWhy)
				}
				if n := len(e.docs("SalesReceipt", "1014")); n != 0 {
					t.Errorf("blocked order sent: %d receipts 1014", n)
				}
				// Blocked orders are retried by every run until they pass.
				e.run(exitIncomplete)
				e.mustExec(exitOK, "products", "link", "prod_3", e.QBO.AddItem("Sprocket", "SKU-9"))
				sum = e.run(exitOK)
				if diff := cmp.Diff([]e2eItem{{"order", "o14", "create", "SalesReceipt", "1014"}}, items(sum)); diff != "" {
					t.Errorf("after linking (-want +got):\n%s", diff)
				}
				if sr := e.one("SalesReceipt", "1014"); !sr.TotalAmt.Equal(d("40.74")) {
					t.Errorf("1014 total: got %s; want 40.74", sr.TotalAmt)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, e2eOptions{env: tt.env})
			tt.setup(e)
			mark := e.mark()
			sum := e.run(tt.wantCode)
			if diff := cmp.Diff(tt.wantItems, items(sum)); diff != "" {
				t.Fatalf("run items (-want +got):\n%s\nsummary: %+v", diff, sum)
			}
			if tt.check != nil {
				tt.check(t, e, sum, mark)
			}
			// Whatever happened, a re-run sends nothing more.
			if tt.wantCode == exitOK {
				m := e.mark()
				again := e.run(exitOK)
				if w := e.writesSince(m); len(w) != 0 || len(again.Items) != 0 {
					t.Errorf("re-run: %d writes, items %+v; want none", len(w), again.Items)
				}
			}
		})
	}
}

// TestE2E_BusinessTimeZone: TxnDate is the approval's calendar day in
// VELQBO_TIMEZONE.
func TestE2E_BusinessTimeZone(t *testing.T) {
	t.Parallel()
	tests := []struct{ tz, want string }{
		{"", "2025-06-03"}, // default UTC
		{"UTC", "2025-06-03"},
		{"America/Chicago", "2025-06-02"},
		{"Asia/Tokyo", "2025-06-03"},
	}
	for _, tt := range tests {
		t.Run(cmpOr(tt.tz, "default"), func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, e2eOptions{env: map[string]string{"VELQBO_TIMEZONE": tt.tz}})
			o := e2eTerms("o1", "1001", 1)
			approved := time.Date(2025, 6, 3, 3, 0, 0, 0, time.UTC)
			o.ApprovedAt = &approved
			e.Vel.AddOrder(o)
			e.run(exitOK)
			inv := e.one("Invoice", "1001")
			if got := field(inv.Raw, "TxnDate"); got != tt.want {
				t.Errorf("TxnDate of an order approved 2025-06-03T03:00Z: got %s; want %s", got, tt.want)
			}
			due, _ := time.Parse(time.DateOnly, tt.want)
			if got, want := field(inv.Raw, "DueDate"), due.AddDate(0, 0, 30).Format(time.DateOnly); got != want {
				t.Errorf("DueDate: got %s; want %s", got, want)
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestE2E_CouldNotRun: exit code 3, with a message that says what to do.
func TestE2E_CouldNotRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  e2eOptions
		setup func(e *e2e)
		msg   []string
	}{
		{name: "NotConnected", opts: e2eOptions{noConnect: true}, msg: []string{"velqbo connect"}},
		{name: "VelocityUnreachable", setup: func(e *e2e) {
			down := velocitytest.NewServer()
			down.Close()
			e.Env["VELQBO_VELOCITY_URL"] = down.URL
		}, msg: []string{"velocity"}},
		{name: "VelocityTokenRejected", setup: func(e *e2e) { e.Env["VELQBO_VELOCITY_TOKEN"] = "wrong" }, msg: []string{"velocity"}},
		{name: "QBOTokenRevoked", setup: func(e *e2e) { e.QBO.RevokeAll() }, msg: []string{"velqbo connect"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, tt.opts)
			e.Vel.AddOrder(e2eOrder("o1", "1001", 1))
			if tt.setup != nil {
				tt.setup(e)
			}
			mark := e.mark()
			for _, cmd := range []string{"run", "plan"} {
				r := e.mustExec(exitUnavailable, cmd, "--json")
				for _, want := range tt.msg {
					if !strings.Contains(strings.ToLower(r.Stderr), strings.ToLower(want)) {
						t.Errorf("%s stderr: got %q; want it to mention %q", cmd, r.Stderr, want)
					}
				}
				if r.Stdout != "" {
					t.Errorf("%s stdout: got %q; want nothing", cmd, r.Stdout)
				}
			}
			if w := e.writesSince(mark); len(w) != 0 {
				t.Errorf("writes: got %d; want 0", len(w))
			}
		})
	}
}

// e2eScenario adds n orders of every kind the design reports (receipts,
// invoices with full and partial payments, receipts with two refunds,
// receipts with a not-applicable payment) and returns the books QBO must
// end up with.
func e2eScenario(vel *velocitytest.Server, n int) []bookDoc {
	var want []bookDoc
	for i := range n {
		id, num := fmt.Sprintf("so%d", i+1), fmt.Sprint(2001+i)
		qty := int64(i%3 + 1)
		var o *velocity.Order
		switch i % 5 {
		case 1, 2:
			o = e2eTerms(id, num, qty)
			amt := o.Total
			if i%5 == 2 {
				amt = d("10.00")
			}
			o.Payments = []velocity.Payment{{ID: "p" + id, Amount: amt, Method: velocity.MethodCheck, Reference: "chk " + num, CreatedAt: *at(10, 9)}}
		case 3:
			o = e2eOrder(id, num, qty)
			o.Refunds = []velocity.Refund{
				{ID: "r" + id + "a", CreatedAt: *at(11, 9), PaymentMethod: velocity.MethodCreditCard, Total: d("19.99"),
					Lines: []velocity.RefundLine{{Kind: velocity.RefundProduct, LineID: id + "-l1", Quantity: decimal.NewFromInt(1), Amount: d("19.99")}}},
				{ID: "r" + id + "b", CreatedAt: *at(12, 9), PaymentMethod: velocity.MethodCreditCard, Total: d("7.50"),
					Lines: []velocity.RefundLine{{Kind: velocity.RefundShipping, Amount: d("7.50")}}},
			}
		case 4:
			o = e2eOrder(id, num, qty)
			o.Payments = []velocity.Payment{{ID: "p" + id, Amount: o.Total, Method: velocity.MethodCreditCard, CreatedAt: *at(10, 9)}}
		default:
			o = e2eOrder(id, num, qty)
		}
		vel.AddOrder(o)
		want = append(want, expectedBooks(o)...)
	}
	return want
}

// bookDoc is one live QBO document as the books show it: its type, number,
// the Velocity object its marker names, its total and (invoices) balance.
type bookDoc struct {
	Type, DocNumber, Source, Total, Balance string
}

// expectedBooks is what docs/design.md's "What is reported, and how" table
// says o produces in QBO.
func expectedBooks(o *velocity.Order) []bookDoc {
	if o.Cancelled() {
		return nil
	}
	invoice := o.PaymentTerms != nil || o.ReportAsInvoice
	doc := bookDoc{Type: "SalesReceipt", DocNumber: o.Number, Source: "o:" + o.ID, Total: o.Total.StringFixed(2)}
	out := []bookDoc{}
	if invoice {
		doc.Type = "Invoice"
		doc.Balance = o.Total.Sub(o.PaymentsTotal()).StringFixed(2)
		for _, p := range o.Payments {
			out = append(out, bookDoc{Type: "Payment", Source: "p:" + p.ID, Total: p.Amount.StringFixed(2)})
		}
	}
	out = append(out, doc)
	for _, r := range o.RefundsOrdered() {
		dn := "RF-" + o.Number
		if r.N > 1 {
			dn += fmt.Sprintf("-%d", r.N)
		}
		out = append(out, bookDoc{Type: "RefundReceipt", DocNumber: dn, Source: "r:" + r.ID, Total: r.Total.StringFixed(2)})
	}
	return out
}

var markerRE = regexp.MustCompile(`\[velqbo:([orp]):([^\]]+):g\d+\]`)

// bookTypes are the QBO document types velqbo writes.
var bookTypes = []string{"SalesReceipt", "Invoice", "Payment", "RefundReceipt"}

// checkBooks asserts that QBO holds exactly the wanted live documents, to
// the cent, and that no Velocity object ever got a second document (voided
// ones included): booksProblems.
func checkBooks(t *testing.T, q *qbotest.Server, want []bookDoc) {
	t.Helper()
	for _, p := range booksProblems(q, want) {
		t.Error(p)
	}
}

// booksProblems lists how QBO's books differ from want: a live document
// missing, extra or with another total, and two documents for one Velocity
// object. A live document names its object by velqbo's marker. A voided one
// has lost it (QBO writes "Voided" into its PrivateNote), so it is named by
// its type and DocNumber, which voiding keeps: two voided documents of one
// type and number are a duplicate too. (A voided Payment has no DocNumber
// and is not checked.)
func booksProblems(q *qbotest.Server, want []bookDoc) []string {
	var problems []string
	got := []bookDoc{}
	perSource := map[string][]string{}
	for _, typ := range bookTypes {
		for _, x := range q.Entities(typ) {
			if x.Deleted {
				continue
			}
			src := "(no marker)"
			if m := markerRE.FindStringSubmatch(x.PrivateNote); m != nil {
				src = m[1] + ":" + m[2]
			}
			if x.Voided {
				src = "voided #" + x.DocNumber
				if x.DocNumber == "" {
					src = "voided id " + x.ID
				}
			}
			perSource[typ+" "+src] = append(perSource[typ+" "+src], x.ID)
			if x.Voided {
				continue
			}
			b := bookDoc{Type: typ, DocNumber: x.DocNumber, Source: src, Total: x.TotalAmt.StringFixed(2)}
			if typ == "Invoice" {
				b.Balance = x.Balance.StringFixed(2)
			}
			got = append(got, b)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(perSource)) {
		if ids := perSource[k]; len(ids) > 1 {
			problems = append(problems, fmt.Sprintf("duplicate documents for %s: ids %v", k, ids))
		}
	}
	byKey := func(a, b bookDoc) int {
		return strings.Compare(a.Type+"|"+a.Source+"|"+a.DocNumber, b.Type+"|"+b.Source+"|"+b.DocNumber)
	}
	want = slices.Clone(want)
	slices.SortFunc(want, byKey)
	slices.SortFunc(got, byKey)
	if diff := cmp.Diff(want, got); diff != "" {
		problems = append(problems, fmt.Sprintf("QBO books (-want +got):\n%s", diff))
	}
	return problems
}

// settle re-runs until a run is clean (at most max runs), as the daemon's
// next runs would, and then checks that one more run sends nothing.
func (e *e2e) settle(max int) {
	e.t.Helper()
	for i := 0; ; i++ {
		r := e.exec("run", "--json")
		if r.Code == exitOK {
			break
		}
		if r.Code == exitIncomplete && i < max+3 && decodeSummary(e.t, r.Stdout).Counts.Waiting > 0 {
			// Creates of an earlier run may still land: the next run is
			// one after their window (the QBO client's timeout plus a
			// minute).
			e.ahead.Add(int64(qbo.DefaultTimeout + time.Minute))
			max++
			continue
		}
		if r.Code != exitIncomplete || i == max-1 {
			e.t.Fatalf("settling run %d: exit %d; want 0 within %d runs\nstdout: %s\nstderr: %s", i+1, r.Code, max, r.Stdout, r.Stderr)
		}
	}
	m := e.mark()
	sum := e.run(exitOK)
	if w := e.writesSince(m); len(w) != 0 || sum.Counts.Created != 0 || len(sum.Items) != 0 {
		e.t.Errorf("run after settling: %d writes, counts %+v, items %+v; want nothing", len(w), sum.Counts, sum.Items)
	}
}

// TestE2E_PlanEqualsRun: `plan --json` lists exactly what the following
// `run --json` does, and sends no writes.
func TestE2E_PlanEqualsRun(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eOptions{})
	e2eScenario(e.Vel, 12)
	blocked := e2eOrder("ob", "2999", 1)
	blocked.Lines[1].ProductID, blocked.Lines[1].SKU = "prod_3", "SKU-9"
	e.Vel.AddOrder(blocked)

	changes := func() {
		// Every kind of action of a later run.
		e.must(e.Vel.UpdateOrder("so1", func(o *velocity.Order) {
			o.Lines[0].Quantity = o.Lines[0].Quantity.Add(decimal.NewFromInt(1))
			o.Total = o.ComputedTotal()
		}))
		e.must(e.Vel.AddShipment("so6", velocity.Shipment{ID: "sh_1", ShippedAt: at(4, 8), Carrier: "USPS", TrackingNumber: "9400",
			Items: []velocity.ShipmentItem{{LineID: "so6-l1", Quantity: decimal.NewFromInt(1)}}}))
		e.must(e.Vel.Cancel("so5"))
		e.must(e.Vel.SetReportAsInvoice("so11", true))
		e.must(e.Vel.AddRefund("so9", velocity.Refund{ID: "rx", CreatedAt: *at(20, 9), PaymentMethod: velocity.MethodCreditCard,
			Lines: []velocity.RefundLine{{Kind: velocity.RefundTax, Amount: d("2.00")}}}))
		e.must(e.Vel.AddPayment("so3", velocity.Payment{ID: "px", Amount: d("5.00"), Method: velocity.MethodWire, CreatedAt: *at(21, 9)}))
	}
	for i, step := range []func(){func() {}, changes} {
		step()
		mark := e.mark()
		plan := e.summary(exitIncomplete, "plan")
		if w := e.writesSince(mark); len(w) != 0 {
			t.Fatalf("phase %d: plan sent %d writes: %+v", i, len(w), w)
		}
		if len(plan.Items) == 0 {
			t.Fatalf("phase %d: plan lists nothing", i)
		}
		sum := e.run(exitIncomplete)
		if diff := cmp.Diff(items(plan), items(sum)); diff != "" {
			t.Errorf("phase %d: plan vs run (-plan +run):\n%s", i, diff)
		}
		if diff := cmp.Diff(plan.Counts, sum.Counts); diff != "" {
			t.Errorf("phase %d: plan vs run counts (-plan +run):\n%s", i, diff)
		}
		if i == 1 {
			acts := map[string]bool{}
			for _, it := range sum.Items {
				acts[string(it.Kind)+" "+string(it.Action)] = true
			}
			for _, a := range []string{"order update", "shipment update", "order void", "order create", "refund create", "payment create", "order blocked"} {
				if !acts[a] {
					t.Errorf("phase 1 lacks a %q item: %+v", a, sum.Items)
				}
			}
		}
	}
	// A plan after the run lists only what is still blocked.
	plan := e.summary(exitIncomplete, "plan")
	if diff := cmp.Diff([]e2eItem{{"order", "ob", "blocked", "SalesReceipt", "2999"}}, items(plan)); diff != "" {
		t.Errorf("final plan (-want +got):\n%s", diff)
	}
}

// TestE2E_RerunSendsNothing: a second run without a source change writes
// nothing, in every mode.
func TestE2E_RerunSendsNothing(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eOptions{})
	want := e2eScenario(e.Vel, 15)
	first := e.run(exitOK)
	if first.Counts.Created == 0 {
		t.Fatalf("first run created nothing: %+v", first.Counts)
	}
	checkBooks(t, e.QBO, want)
	for _, args := range [][]string{nil, {"--full"}, {"--since", "2025-01-01"}, nil} {
		t.Run(cmpOr(strings.Join(args, " "), "incremental"), func(t *testing.T) {
			m := e.mark()
			sum := e.run(exitOK, args...)
			if w := e.writesSince(m); len(w) != 0 {
				t.Errorf("writes: got %d (%+v); want 0", len(w), w)
			}
			if sum.Counts.Created != 0 || len(sum.Items) != 0 {
				t.Errorf("counts %+v items %+v; want created 0 and no items", sum.Counts, sum.Items)
			}
		})
	}
	checkBooks(t, e.QBO, want)
}

// TestE2E_LostResponsesAndStorms: whatever QBO's answers do during a run,
// the books end with exactly one document per Velocity object, to the
// cent, once later runs settled what was left unknown.
func TestE2E_LostResponsesAndStorms(t *testing.T) {
	t.Parallel()
	post := func(c *qbotest.Call) bool { return c.Method == http.MethodPost && c.Operation != "token" }
	creates := func(c *qbotest.Call) bool { return c.Operation == "create" || c.Operation == "batch" }
	// creating matches a create of one of the entities, alone or in a batch.
	creating := func(entities ...string) func(c *qbotest.Call) bool {
		return func(c *qbotest.Call) bool {
			for _, e := range entities {
				if c.Operation == "create" && c.Entity == e || c.Operation == "batch" && bytes.Contains(c.Body, []byte(`"`+e+`":`)) {
					return true
				}
			}
			return false
		}
	}
	tests := []struct {
		name string
		// source is VELQBO_SOURCE: "" for the Velocity contract.
		source string
		inj    qbotest.Injection
		// unknown: the storm outlasts the client's retries, so some
		// outcomes must be left unknown for the next run to look up.
		unknown bool
		// night: the storm hits the run after a clean one, whose writes
		// are e2eNight's batched updates and voids.
		night bool
	}{
		{name: "LoseOneCreate", inj: qbotest.Injection{Match: creates, LoseResponse: true, Times: 1}},
		{name: "LoseSomeCreates", inj: qbotest.Injection{Match: creates, LoseResponse: true, Times: 7}},
		{name: "LoseEveryCreate", inj: qbotest.Injection{Match: creates, LoseResponse: true}, unknown: true},
		{name: "LoseEveryWrite", inj: qbotest.Injection{Match: isWritePtr, LoseResponse: true}, unknown: true},
		{name: "503Short", inj: qbotest.Injection{Match: post, Status: http.StatusServiceUnavailable, Times: 3}},
		{name: "503Long", inj: qbotest.Injection{Match: post, Status: http.StatusServiceUnavailable, Times: 60}},
		{name: "500Everything", inj: qbotest.Injection{Match: post, Status: http.StatusInternalServerError}, unknown: true},
		{name: "429Short", inj: qbotest.Injection{Match: post, Throttle: true, Times: 3}},
		{name: "429Long", inj: qbotest.Injection{Match: post, Throttle: true, Times: 60}},
		// The same with a BigCommerce store, for a few storms: what
		// differs is the source, not how a write is made safe.
		{name: "BigCommerce/LoseSomeCreates", source: sourceBigCommerce, inj: qbotest.Injection{Match: creates, LoseResponse: true, Times: 7}},
		{name: "BigCommerce/LoseEveryWrite", source: sourceBigCommerce, inj: qbotest.Injection{Match: isWritePtr, LoseResponse: true}, unknown: true},
		{name: "BigCommerce/503Long", source: sourceBigCommerce, inj: qbotest.Injection{Match: post, Status: http.StatusServiceUnavailable, Times: 60}},
		{name: "BigCommerce/LoseInvoiceAndPaymentCreates", source: sourceBigCommerce, inj: qbotest.Injection{Match: creating("Invoice", "Payment"), LoseResponse: true, Times: 14}},
		{name: "BigCommerce/LoseEveryPaymentCreate", source: sourceBigCommerce, inj: qbotest.Injection{Match: creating("Payment"), LoseResponse: true}, unknown: true},
		// A night of batched updates and voids after a clean first run.
		{name: "Night/LoseEveryBatchedUpdateAndVoid", night: true, inj: qbotest.Injection{Match: updatingOrVoiding, LoseResponse: true}, unknown: true},
		{name: "Night/500EveryBatchedUpdateAndVoid", night: true, inj: qbotest.Injection{Match: updatingOrVoiding, Status: http.StatusInternalServerError}, unknown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				e    *e2e
				want []bookDoc
			)
			if tt.source == sourceBigCommerce {
				b := newBCE2E(t, qbotest.WithoutLimits())
				e, want = b.e2e, bcScenario(t, b, 20)
			} else {
				e = newE2E(t, e2eOptions{qbo: []qbotest.Option{qbotest.WithoutLimits()}})
				want = e2eScenario(e.Vel, 20)
			}
			if tt.night {
				e.run(exitOK)
				want = e2eNight(t, e, want)
			}
			e.QBO.Inject(tt.inj)
			r := e.exec("run", "--json")
			if r.Code != exitOK && r.Code != exitIncomplete {
				t.Fatalf("run during the storm: exit %d; want 0 or 1\nstderr: %s", r.Code, r.Stderr)
			}
			sum := decodeSummary(t, r.Stdout)
			unknown := 0
			for _, it := range sum.Items {
				if it.Action == reconcile.ActionFailed && strings.Contains(it.Reason, "outcome unknown") {
					unknown++
				}
			}
			if tt.unknown && unknown == 0 {
				t.Errorf("no item left \"outcome unknown\" by a storm longer than the retries; items %+v", sum.Items)
			}
			if (r.Code == exitOK) != sum.OK() {
				t.Errorf("exit %d with counts %+v", r.Code, sum.Counts)
			}
			t.Logf("during the storm: exit %d, counts %+v, %d outcomes unknown; qbotest %+v", r.Code, sum.Counts, unknown, e.QBO.Stats())
			e.QBO.ClearInjections()
			e.settle(3)
			checkBooks(t, e.QBO, want)
		})
	}
}

func isWritePtr(c *qbotest.Call) bool { return isWrite(*c) }

// updatingOrVoiding matches a batch request that carries an update or a
// void.
func updatingOrVoiding(c *qbotest.Call) bool {
	if c.Operation != "batch" {
		return false
	}
	for _, w := range c.Writes() {
		if w.Operation == "update" || w.Operation == "void" {
			return true
		}
	}
	return false
}

// e2eNight changes e2eScenario's orders (n ≥ 20) after a clean run so
// that the next run's writes are one batch of updates and a void: so1
// cancelled, tracking numbers on so11 and so16, a new email on so5. It
// returns the books wanted afterwards, and checks at the end of the test
// that the tracking numbers reached QBO.
func e2eNight(t *testing.T, e *e2e, want []bookDoc) []bookDoc {
	t.Helper()
	e.must(e.Vel.Cancel("so1"))
	for _, id := range []string{"so11", "so16"} {
		e.must(e.Vel.AddShipment(id, velocity.Shipment{ID: "sh" + id, ShippedAt: at(12, 9), Carrier: "UPS", TrackingNumber: "1Z" + id,
			Items: []velocity.ShipmentItem{{LineID: id + "-l1", Quantity: decimal.NewFromInt(1)}}}))
	}
	e.must(e.Vel.UpdateOrder("so5", func(o *velocity.Order) { o.Email = "night@example.com" }))
	t.Cleanup(func() {
		for dn, track := range map[string]string{"2011": "1Zso11", "2016": "1Zso16"} {
			if docs := e.docs("SalesReceipt", dn); len(docs) != 1 || docs[0].Raw["TrackingNum"] != track {
				t.Errorf("receipt %s: %+v; want one with tracking number %s", dn, docs, track)
			}
		}
	})
	return slices.DeleteFunc(want, func(b bookDoc) bool { return b.Source == "o:so1" })
}

// TestE2E_LeaseHeld: a run while another holder has the lease exits 3 and
// names the holder; plan takes no lease.
func TestE2E_LeaseHeld(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eOptions{})
	e.Vel.AddOrder(e2eOrder("o1", "1001", 1))
	key, err := base64.StdEncoding.DecodeString(testSecretKey)
	e.must(err)
	st, err := schema.Open(t.Context(), e.Env["VELQBO_DB"], schema.WithTokenKey(key))
	e.must(err)
	defer st.Close()
	if _, err := st.AcquireLease(t.Context(), runLeaseName, "other", time.Minute); err != nil {
		t.Fatal(err)
	}
	mark := e.mark()
	r := e.mustExec(exitUnavailable, "run", "--json")
	for _, want := range []string{"another run holds the database", "other", fmt.Sprintf("pid %d", os.Getpid())} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr: got %q; want it to contain %q", r.Stderr, want)
		}
	}
	if w := e.writesSince(mark); len(w) != 0 {
		t.Errorf("writes while the lease is held: %d", len(w))
	}
	// The commands that change ledger rows a run plans from wait for the
	// run too (a skip under a run's feet would still be sent).
	for _, args := range [][]string{{"skip", "1001", "--reason", "x"}, {"retry", "1001"}, {"adopt", "1001"}, {"resync", "1001"}} {
		r := e.mustExec(exitUnavailable, args...)
		if !strings.Contains(r.Stderr, "another run holds the database") {
			t.Errorf("%v while the lease is held: stderr %q; want it to name the run", args, r.Stderr)
		}
	}
	e.summary(exitOK, "plan")
	if err := st.ReleaseLease(t.Context(), runLeaseName, "other"); err != nil {
		t.Fatal(err)
	}
	sum := e.run(exitOK)
	if diff := cmp.Diff([]e2eItem{{"order", "o1", "create", "SalesReceipt", "1001"}}, items(sum)); diff != "" {
		t.Errorf("run after release (-want +got):\n%s", diff)
	}
	if _, err := st.GetLease(t.Context(), runLeaseName); !errors.Is(err, schema.ErrNotFound) {
		t.Errorf("lease after the run: got err %v; want it released (ErrNotFound)", err)
	}
}

// TestE2E_SeveralVoids: a run voids four receipts at once — two cancelled
// orders and two reported as Invoices — and checkBooks accepts the books;
// it still refuses them with a stray second live receipt of an order, or
// a second voided receipt of one number.
func TestE2E_SeveralVoids(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eOptions{})
	const n = 20
	e2eScenario(e.Vel, n)
	e.run(exitOK)
	e.must(e.Vel.Cancel("so1"))
	e.must(e.Vel.Cancel("so6"))
	e.must(e.Vel.SetReportAsInvoice("so11", true))
	e.must(e.Vel.SetReportAsInvoice("so16", true))
	e.run(exitOK)
	var want []bookDoc
	for i := range n {
		o, ok := e.Vel.Order(fmt.Sprintf("so%d", i+1))
		if !ok {
			t.Fatalf("order so%d not in Velocity", i+1)
		}
		want = append(want, expectedBooks(o)...)
	}
	voided := 0
	for _, x := range e.QBO.Entities("SalesReceipt") {
		if x.Voided {
			voided++
		}
	}
	if voided != 4 {
		t.Fatalf("voided receipts: got %d; want 4", voided)
	}
	checkBooks(t, e.QBO, want)

	plant := func(t *testing.T, of qbotest.Entity, edit func(map[string]any)) {
		t.Helper()
		raw := maps.Clone(of.Raw)
		for _, k := range []string{"Id", "SyncToken", "MetaData", "TotalAmt", "Balance"} {
			delete(raw, k)
		}
		edit(raw)
		id, err := e.QBO.Add("SalesReceipt", raw)
		e.must(err)
		t.Cleanup(func() { e.must(e.QBO.PersonDelete("SalesReceipt", id)) })
	}
	t.Run("StrayLiveDuplicate", func(t *testing.T) {
		plant(t, e.one("SalesReceipt", "2020"), func(map[string]any) {})
		if p := booksProblems(e.QBO, want); !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, "duplicate documents for SalesReceipt o:so20:") }) {
			t.Errorf("books with a second live receipt of so20: got problems %q; want a duplicate named", p)
		}
	})
	t.Run("SecondVoidedOfOneNumber", func(t *testing.T) {
		plant(t, e.one("SalesReceipt", "2020"), func(raw map[string]any) { raw["DocNumber"] = "2001" })
		var id string
		for _, x := range e.QBO.Entities("SalesReceipt") {
			if x.DocNumber == "2001" && !x.Voided && !x.Deleted {
				id = x.ID
			}
		}
		e.must(e.QBO.PersonVoid("SalesReceipt", id))
		if p := booksProblems(e.QBO, want); !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, "duplicate documents for SalesReceipt voided #2001:") }) {
			t.Errorf("books with two voided receipts 2001: got problems %q; want a duplicate named", p)
		}
	})
	if p := booksProblems(e.QBO, want); len(p) != 0 {
		t.Errorf("books after the planted documents were deleted: got problems %q; want none", p)
	}
}
