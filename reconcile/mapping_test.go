package reconcile_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/Chicago without relying on the host's zoneinfo

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/mapping/*.golden from the current mapping")

// cmpDecimals compares exact decimals by value (10 == 10.00), which is
// what QBO does; their unexported fields would make cmp panic otherwise.
var cmpDecimals = cmp.Options{
	cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) }),
	cmp.Comparer(func(a, b qbo.Decimal) bool { return a.Equal(b.Decimal) }),
}

func mapDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func mapQD(s string) *qbo.Decimal { return qbo.MustDecimal(s) }

func mapTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func mapChicago(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// mapEnv is a fully configured Env: every setting set, cus_1 and the
// fixture's products linked.
func mapEnv(t testing.TB) *reconcile.Env {
	return &reconcile.Env{
		Settings: reconcile.Settings{
			DepositAccount:    "35",
			RefundAccount:     "36",
			DiscountAccount:   "37",
			ShippingItem:      "41",
			HandlingItem:      "42",
			TaxItem:           "43",
			CustomItem:        "44",
			NonTaxableTaxCode: "NON",
			PaymentMethods:    map[string]string{"credit_card": "3", "check": "2", "ach": "4"},
		},
		Location:     mapChicago(t),
		HomeCurrency: "USD",
		Customers:    map[string]reconcile.Link{"cus_1": {QBOID: "58", Name: "Acme Supply Co."}},
		Products: map[string]reconcile.Link{
			"prod_1": {QBOID: "19", Name: "Widget"},
			"prod_2": {QBOID: "20", Name: "Gadget"},
		},
	}
}

// mapOrder is a plain credit-card order: 2 × 19.99 + 1 × 5.25 + shipping
// 7.50 + tax 3.10 = 55.83, approved 2026-03-02 09:04 in Chicago.
func mapOrder() *velocity.Order {
	addr := velocity.Address{
		Name: "Ana García", Company: "Acme Supply Co.", Line1: "12 Main St", Line2: "Suite 300",
		City: "Austin", State: "TX", PostalCode: "78701", Country: "US", Phone: "+1-555-000-1111",
	}
	return &velocity.Order{
		ID:              "ord_1",
		Number:          "100234",
		CustomerID:      "cus_1",
		Status:          velocity.StatusAwaitingFulfillment,
		ApprovedAt:      mapTime("2026-03-02T15:04:05Z"),
		PaymentMethod:   velocity.MethodCreditCard,
		Currency:        "USD",
		Email:           "ana@example.com",
		BillingAddress:  addr,
		ShippingAddress: addr,
		Lines: []velocity.OrderLine{
			{ID: "l1", ProductID: "prod_1", SKU: "SKU-1", Name: "Widget", Quantity: mapDec("2"), UnitPrice: mapDec("19.99")},
			{ID: "l2", ProductID: "prod_2", SKU: "SKU-2", Name: "Gadget", Quantity: mapDec("1"), UnitPrice: mapDec("5.25")},
		},
		ShippingTotal: mapDec("7.50"),
		TaxTotal:      mapDec("3.10"),
		Total:         mapDec("55.83"),
		CreatedAt:     *mapTime("2026-03-02T14:00:00Z"),
		UpdatedAt:     *mapTime("2026-03-02T15:04:05Z"),
	}
}

func mapItemLine(desc, item, qty, price, amount string) qbo.Line {
	return qbo.Line{
		Description: desc,
		Amount:      mapQD(amount),
		DetailType:  qbo.SalesItemLine,
		SalesItemLineDetail: &qbo.SalesItemLineDetail{
			ItemRef:    &qbo.Ref{Value: item},
			Qty:        mapQD(qty),
			UnitPrice:  mapQD(price),
			TaxCodeRef: &qbo.Ref{Value: "NON"},
		},
	}
}

func mapAddr() *qbo.PhysicalAddress {
	return &qbo.PhysicalAddress{
		Line1: "Ana García", Line2: "Acme Supply Co.", Line3: "12 Main St", Line4: "Suite 300",
		City: "Austin", CountrySubDivisionCode: "TX", PostalCode: "78701", Country: "US",
	}
}

// mapDoc maps o and fails unless the order document is there and sendable.
func mapDoc(t *testing.T, o *velocity.Order, env *reconcile.Env) *reconcile.OrderDocs {
	t.Helper()
	docs := reconcile.MapOrder(o, env)
	if docs.Skip != "" {
		t.Fatalf("Skip: got %q; want the order mapped", docs.Skip)
	}
	if docs.Doc == nil {
		t.Fatal("Doc: got nil; want a document")
	}
	if len(docs.Doc.Blocked) > 0 {
		t.Fatalf("Doc.Blocked: got %q; want sendable", docs.Doc.Blocked)
	}
	return docs
}

func TestMapOrder_SalesReceipt(t *testing.T) {
	docs := mapDoc(t, mapOrder(), mapEnv(t))
	d := docs.Doc
	note := "Velocity order 100234"
	want := &qbo.SalesReceipt{
		DocNumber:   "100234",
		TxnDate:     "2026-03-02",
		PrivateNote: &note,
		Line: []qbo.Line{
			mapItemLine("Widget", "19", "2", "19.99", "39.98"),
			mapItemLine("Gadget", "20", "1", "5.25", "5.25"),
			mapItemLine("Shipping", "41", "1", "7.50", "7.50"),
			mapItemLine("Tax", "43", "1", "3.10", "3.10"),
		},
		CustomerRef:         &qbo.Ref{Value: "58"},
		BillAddr:            mapAddr(),
		ShipAddr:            mapAddr(),
		BillEmail:           &qbo.EmailAddress{Address: "ana@example.com"},
		PaymentMethodRef:    &qbo.Ref{Value: "3"},
		DepositToAccountRef: &qbo.Ref{Value: "35"},
	}
	if diff := cmp.Diff(want, d.Entity, cmpDecimals); diff != "" {
		t.Errorf("SalesReceipt (-want +got):\n%s", diff)
	}
	wantHead := reconcile.Desired{
		Kind: reconcile.KindOrder, SourceID: "ord_1", OrderID: "ord_1", OrderNumber: "100234",
		QBOType: reconcile.TypeSalesReceipt, DocNumber: "100234", Total: mapDec("55.83"),
	}
	gotHead := *d
	gotHead.Entity, gotHead.Fingerprint = nil, ""
	if diff := cmp.Diff(wantHead, gotHead, cmpDecimals); diff != "" {
		t.Errorf("Desired (-want +got):\n%s", diff)
	}
	if got := d.Fingerprint; got != reconcile.Fingerprint(d.Entity) || !strings.HasPrefix(got, "b:") {
		t.Errorf("Fingerprint: got %q; want Fingerprint(Entity) in b:…;t:… form", got)
	}
	if docs.Cancelled || docs.Refunds != nil || docs.Payments != nil {
		t.Errorf("Cancelled/Refunds/Payments: got %v/%v/%v; want false/nil/nil", docs.Cancelled, docs.Refunds, docs.Payments)
	}
}

func TestMapOrder_Invoice(t *testing.T) {
	tests := []struct {
		name        string
		terms       *velocity.PaymentTerms
		asInvoice   bool
		wantDueDate string
	}{
		{"terms net 30", &velocity.PaymentTerms{NetDays: 30}, false, "2026-04-01"},
		{"terms net 0", &velocity.PaymentTerms{NetDays: 0}, false, "2026-03-02"},
		{"report as invoice", nil, true, "2026-03-02"},
		{"terms and report as invoice", &velocity.PaymentTerms{NetDays: 15}, true, "2026-03-17"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := mapOrder()
			o.PaymentTerms, o.ReportAsInvoice = tt.terms, tt.asInvoice
			o.PaymentMethod = velocity.MethodTerms // unmapped: an invoice does not need it
			env := mapEnv(t)
			env.Settings.DepositAccount = "" // nor the deposit account
			d := mapDoc(t, o, env).Doc
			if d.QBOType != reconcile.TypeInvoice {
				t.Fatalf("QBOType: got %s; want Invoice", d.QBOType)
			}
			inv, ok := d.Entity.(*qbo.Invoice)
			if !ok {
				t.Fatalf("Entity: got %T; want *qbo.Invoice", d.Entity)
			}
			if inv.TxnDate != "2026-03-02" || inv.DueDate != tt.wantDueDate {
				t.Errorf("TxnDate/DueDate: got %s/%s; want 2026-03-02/%s", inv.TxnDate, inv.DueDate, tt.wantDueDate)
			}
			if inv.DocNumber != "100234" || inv.CustomerRef == nil || inv.CustomerRef.Value != "58" {
				t.Errorf("DocNumber/CustomerRef: got %s/%v; want 100234/58", inv.DocNumber, inv.CustomerRef)
			}
			if inv.DepositToAccountRef != nil {
				t.Errorf("DepositToAccountRef: got %v; want none on an invoice", inv.DepositToAccountRef)
			}
			if got := reconcile.DocumentTotal(inv.Line); !got.Equal(mapDec("55.83")) {
				t.Errorf("document total: got %s; want 55.83", got)
			}
		})
	}
}

func TestMapOrder_Skip(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(o *velocity.Order, env *reconcile.Env)
		want   string // substring of Skip; "" = not skipped
	}{
		{"unapproved", func(o *velocity.Order, _ *reconcile.Env) {
			o.ApprovedAt, o.Status = nil, velocity.StatusPending
		}, "not approved"},
		{"cancelled, never approved", func(o *velocity.Order, _ *reconcile.Env) {
			o.ApprovedAt, o.CancelledAt, o.Status = nil, mapTime("2026-03-03T00:00:00Z"), velocity.StatusCancelled
		}, "cancelled before it was approved"},
		{"declined, never approved", func(o *velocity.Order, _ *reconcile.Env) {
			o.ApprovedAt, o.Status = nil, velocity.StatusDeclined
		}, "not approved (status declined)"},
		{"cancelled before the approval time", func(o *velocity.Order, _ *reconcile.Env) {
			o.CancelledAt = mapTime("2026-03-02T15:00:00Z")
		}, "cancelled before it was approved"},
		{"approved before start_date", func(o *velocity.Order, env *reconcile.Env) {
			env.Settings.StartDate = time.Date(2026, 3, 3, 0, 0, 0, 0, env.Location)
		}, "approved 2026-03-02, before start_date 2026-03-03"},
		{"approved on start_date", func(o *velocity.Order, env *reconcile.Env) {
			env.Settings.StartDate = time.Date(2026, 3, 2, 0, 0, 0, 0, env.Location)
		}, ""},
		// 2026-03-01T03:00Z is still 2026-02-28 in Chicago: before a 03-01 cutover.
		{"start_date in the business time zone", func(o *velocity.Order, env *reconcile.Env) {
			o.ApprovedAt = mapTime("2026-03-01T03:00:00Z")
			env.Settings.StartDate = time.Date(2026, 3, 1, 0, 0, 0, 0, env.Location)
		}, "approved 2026-02-28, before start_date 2026-03-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, env := mapOrder(), mapEnv(t)
			tt.mutate(o, env)
			docs := reconcile.MapOrder(o, env)
			if tt.want == "" {
				if docs.Skip != "" || docs.Doc == nil {
					t.Fatalf("Skip: got %q (Doc %v); want the order mapped", docs.Skip, docs.Doc)
				}
				return
			}
			if !strings.Contains(docs.Skip, tt.want) {
				t.Errorf("Skip: got %q; want it to contain %q", docs.Skip, tt.want)
			}
			if docs.Doc != nil || docs.Refunds != nil || docs.Payments != nil || docs.Cancelled {
				t.Errorf("skipped order: got Doc %v Refunds %v Payments %v Cancelled %v; want nothing else set",
					docs.Doc, docs.Refunds, docs.Payments, docs.Cancelled)
			}
		})
	}
}

func TestMapOrder_TxnDateTimeZone(t *testing.T) {
	o := mapOrder()
	o.ApprovedAt = mapTime("2026-03-01T03:00:00Z")
	d := mapDoc(t, o, mapEnv(t)).Doc
	if got := d.Entity.(*qbo.SalesReceipt).TxnDate; got != "2026-02-28" {
		t.Errorf("TxnDate: got %s; want 2026-02-28 (the Chicago date)", got)
	}
	env := mapEnv(t)
	env.Location = nil // UTC
	d = mapDoc(t, o, env).Doc
	if got := d.Entity.(*qbo.SalesReceipt).TxnDate; got != "2026-03-01" {
		t.Errorf("TxnDate with no location: got %s; want 2026-03-01 (UTC)", got)
	}
}

func TestMapOrder_CancelledAfterApproval(t *testing.T) {
	o := mapOrder()
	o.CancelledAt, o.Status = mapTime("2026-03-04T10:00:00Z"), velocity.StatusCancelled
	o.Refunds = []velocity.Refund{{
		ID: "r1", CreatedAt: *mapTime("2026-03-03T10:00:00Z"), PaymentMethod: velocity.MethodCreditCard,
		Lines: []velocity.RefundLine{{Kind: velocity.RefundShipping, Amount: mapDec("7.50")}}, Total: mapDec("7.50"),
	}}
	docs := mapDoc(t, o, mapEnv(t))
	if !docs.Cancelled {
		t.Error("Cancelled: got false; want true")
	}
	if docs.Doc.QBOType != reconcile.TypeSalesReceipt || docs.Doc.Entity == nil {
		t.Errorf("Doc: got type %q entity %T; want the SalesReceipt still mapped (the engine voids it)", docs.Doc.QBOType, docs.Doc.Entity)
	}
	if len(docs.Refunds) != 1 || len(docs.Refunds[0].Blocked) > 0 {
		t.Errorf("Refunds: got %+v; want the refund mapped (money really went back)", docs.Refunds)
	}
	// A cancelled order is never reported blocked: nothing is created for it.
	env := mapEnv(t)
	delete(env.Customers, "cus_1")
	docs = reconcile.MapOrder(o, env)
	if !docs.Cancelled || docs.Doc == nil || len(docs.Doc.Blocked) > 0 || docs.Doc.Entity != nil || docs.Doc.QBOType != reconcile.TypeSalesReceipt {
		t.Errorf("cancelled, unmappable: got Cancelled %v Doc %+v; want cancelled, type kept, no block, no entity", docs.Cancelled, docs.Doc)
	}
	// Status cancelled without a timestamp: treated as after approval.
	o.CancelledAt = nil
	if docs := mapDoc(t, o, mapEnv(t)); !docs.Cancelled {
		t.Error("status cancelled without cancelled_at: Cancelled got false; want true")
	}
}

func TestMapOrder_Payments(t *testing.T) {
	payments := []velocity.Payment{
		{ID: "p2", CreatedAt: *mapTime("2026-03-20T18:00:00Z"), Amount: mapDec("20.00"), Method: velocity.MethodWire, Reference: "W-77"},
		{ID: "p1", CreatedAt: *mapTime("2026-03-10T04:00:00Z"), Amount: mapDec("35.83"), Method: velocity.MethodCheck, Reference: "CHK-1001"},
	}
	t.Run("on an invoice", func(t *testing.T) {
		o := mapOrder()
		o.PaymentTerms, o.PaymentMethod, o.Payments = &velocity.PaymentTerms{NetDays: 30}, velocity.MethodTerms, payments
		docs := mapDoc(t, o, mapEnv(t))
		if len(docs.Payments) != 2 {
			t.Fatalf("Payments: got %d; want 2", len(docs.Payments))
		}
		p1 := docs.Payments[0]
		if p1.SourceID != "p1" || p1.Kind != reconcile.KindPayment || p1.QBOType != reconcile.TypePayment || len(p1.Blocked) > 0 || p1.NotApplicable != "" {
			t.Fatalf("first payment: got %+v; want p1 (by created_at), sendable", p1)
		}
		note := "Velocity order 100234 payment"
		want := &qbo.Payment{
			TxnDate:     "2026-03-09", // 04:00Z is the evening before in Chicago
			PrivateNote: &note,
			Line: []qbo.Line{{Amount: mapQD("35.83"),
				LinkedTxn: []qbo.LinkedTxn{{TxnType: "Invoice"}}}},
			CustomerRef:         &qbo.Ref{Value: "58"},
			DepositToAccountRef: &qbo.Ref{Value: "35"},
			PaymentMethodRef:    &qbo.Ref{Value: "2"},
			PaymentRefNum:       qbo.Ptr("CHK-1001"),
			TotalAmt:            mapQD("35.83"),
		}
		if diff := cmp.Diff(want, p1.Entity, cmpDecimals); diff != "" {
			t.Errorf("Payment (-want +got):\n%s", diff)
		}
		if !p1.Total.Equal(mapDec("35.83")) {
			t.Errorf("Total: got %s; want 35.83", p1.Total)
		}
		// wire is not mapped: the payment is sent without a method.
		p2 := docs.Payments[1]
		if len(p2.Blocked) > 0 {
			t.Fatalf("unmapped method: Blocked got %q; want sendable", p2.Blocked)
		}
		if got := p2.Entity.(*qbo.Payment).PaymentMethodRef; got != nil {
			t.Errorf("unmapped method: PaymentMethodRef got %v; want none", got)
		}
	})
	t.Run("on a sales receipt", func(t *testing.T) {
		o := mapOrder()
		o.Payments = payments[:1]
		docs := mapDoc(t, o, mapEnv(t))
		if len(docs.Payments) != 1 {
			t.Fatalf("Payments: got %d; want 1", len(docs.Payments))
		}
		p := docs.Payments[0]
		if p.NotApplicable != reconcile.NotApplicableOnReceipt || len(p.Blocked) > 0 || p.Entity != nil {
			t.Errorf("payment on a receipt: got NotApplicable %q Blocked %q Entity %v; want %q, no block, no entity",
				p.NotApplicable, p.Blocked, p.Entity, reconcile.NotApplicableOnReceipt)
		}
	})
	t.Run("long reference", func(t *testing.T) {
		o := mapOrder()
		o.PaymentTerms = &velocity.PaymentTerms{NetDays: 30}
		o.Payments = []velocity.Payment{{ID: "p1", CreatedAt: *mapTime("2026-03-10T18:00:00Z"), Amount: mapDec("1.00"),
			Reference: "ch_3OqXyZ2eZvKYlo2C0123456789"}}
		p := mapDoc(t, o, mapEnv(t)).Payments[0].Entity.(*qbo.Payment)
		if got := *p.PaymentRefNum; got != "ch_3OqXyZ2eZvKYlo2C01" {
			t.Errorf("PaymentRefNum: got %q; want the first 21 characters", got)
		}
		if !strings.Contains(*p.PrivateNote, "ch_3OqXyZ2eZvKYlo2C0123456789") {
			t.Errorf("PrivateNote: got %q; want the full reference", *p.PrivateNote)
		}
	})
}

func mapRefund(id, created, total string, lines ...velocity.RefundLine) velocity.Refund {
	return velocity.Refund{ID: id, CreatedAt: *mapTime(created), PaymentMethod: velocity.MethodCreditCard,
		Lines: lines, Total: mapDec(total)}
}

func mapShipRefund(amount string) velocity.RefundLine {
	return velocity.RefundLine{Kind: velocity.RefundShipping, Amount: mapDec(amount)}
}

func TestMapOrder_RefundNumbering(t *testing.T) {
	o := mapOrder()
	// Given out of order; r-b and r-a share created_at, so the id decides.
	o.Refunds = []velocity.Refund{
		mapRefund("r-c", "2026-03-09T12:00:00Z", "1.00", mapShipRefund("1.00")),
		mapRefund("r-b", "2026-03-05T12:00:00Z", "1.00", mapShipRefund("1.00")),
		mapRefund("r-a", "2026-03-05T12:00:00Z", "1.00", mapShipRefund("1.00")),
	}
	docs := mapDoc(t, o, mapEnv(t))
	var got [][2]string
	for _, r := range docs.Refunds {
		got = append(got, [2]string{r.SourceID, r.DocNumber})
		if len(r.Blocked) > 0 {
			t.Errorf("refund %s: Blocked %q; want sendable", r.SourceID, r.Blocked)
		}
	}
	want := [][2]string{{"r-a", "RF-100234"}, {"r-b", "RF-100234-2"}, {"r-c", "RF-100234-3"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refund numbering (-want +got):\n%s", diff)
	}

	t.Run("21-character limit", func(t *testing.T) {
		o := mapOrder()
		o.Number = "123456789012345678" // 18: RF-… is 21, RF-…-2 is 23
		o.Refunds = []velocity.Refund{
			mapRefund("r1", "2026-03-05T12:00:00Z", "1.00", mapShipRefund("1.00")),
			mapRefund("r2", "2026-03-06T12:00:00Z", "1.00", mapShipRefund("1.00")),
		}
		docs := mapDoc(t, o, mapEnv(t))
		if r := docs.Refunds[0]; len(r.Blocked) > 0 || r.DocNumber != "RF-123456789012345678" {
			t.Errorf("first refund: got %q blocked %q; want RF-123456789012345678 sendable", r.DocNumber, r.Blocked)
		}
		r := docs.Refunds[1]
		if !strings.Contains(r.Blocked.String(), `refund number "RF-123456789012345678-2" is 23 characters; QBO allows at most 21`) ||
			!r.Blocked.Has(reconcile.CodeDocNumberInvalid) {
			t.Errorf("second refund: Blocked got %q; want the DocNumber length reason (%s)", r.Blocked, reconcile.CodeDocNumberInvalid)
		}
		if r.Entity != nil || r.Fingerprint != "" {
			t.Errorf("blocked refund: got Entity %v Fingerprint %q; want none", r.Entity, r.Fingerprint)
		}
	})
}

func TestMapOrder_RefundPayload(t *testing.T) {
	o := mapOrder()
	o.Refunds = []velocity.Refund{{
		ID: "r1", CreatedAt: *mapTime("2026-03-05T02:30:00Z"), PaymentMethod: velocity.MethodCreditCard, Reason: "damaged in transit",
		Lines: []velocity.RefundLine{
			{Kind: velocity.RefundProduct, LineID: "l1", Quantity: mapDec("1"), Amount: mapDec("19.99")},
			// 10.00 / 3 is not exact: Amount only, quantity in the description.
			{Kind: velocity.RefundProduct, LineID: "l2", Quantity: mapDec("3"), Amount: mapDec("10.00"), Description: "Gadget credit"},
			{Kind: velocity.RefundShipping, Amount: mapDec("7.50"), Description: "Shipping refund"},
			{Kind: velocity.RefundTax, Amount: mapDec("1.00")},
		},
		Total: mapDec("38.49"),
	}}
	docs := mapDoc(t, o, mapEnv(t))
	r := docs.Refunds[0]
	if len(r.Blocked) > 0 {
		t.Fatalf("Blocked: got %q; want sendable", r.Blocked)
	}
	note := "Velocity order 100234 refund 1: damaged in transit"
	want := &qbo.RefundReceipt{
		DocNumber:   "RF-100234",
		TxnDate:     "2026-03-04",
		PrivateNote: &note,
		Line: []qbo.Line{
			mapItemLine("Widget", "19", "1", "19.99", "19.99"),
			{Description: "Gadget credit (quantity 3)", Amount: mapQD("10.00"), DetailType: qbo.SalesItemLine,
				SalesItemLineDetail: &qbo.SalesItemLineDetail{ItemRef: &qbo.Ref{Value: "20"}, TaxCodeRef: &qbo.Ref{Value: "NON"}}},
			mapItemLine("Shipping refund", "41", "1", "7.50", "7.50"),
			mapItemLine("Tax refund", "43", "1", "1.00", "1.00"),
		},
		CustomerRef:         &qbo.Ref{Value: "58"},
		BillAddr:            mapAddr(),
		BillEmail:           &qbo.EmailAddress{Address: "ana@example.com"},
		PaymentMethodRef:    &qbo.Ref{Value: "3"},
		DepositToAccountRef: &qbo.Ref{Value: "36"},
	}
	if diff := cmp.Diff(want, r.Entity, cmpDecimals); diff != "" {
		t.Errorf("RefundReceipt (-want +got):\n%s", diff)
	}
	if !r.Total.Equal(mapDec("38.49")) || r.Kind != reconcile.KindRefund || r.QBOType != reconcile.TypeRefundReceipt {
		t.Errorf("Desired: got Total %s Kind %s QBOType %s; want 38.49 refund RefundReceipt", r.Total, r.Kind, r.QBOType)
	}
	o.Refunds[0].Reason = strings.Repeat("ü", 5000)
	note = *mapDoc(t, o, mapEnv(t)).Refunds[0].Entity.(*qbo.RefundReceipt).PrivateNote
	if n := len([]rune(note)); n != 3900 || !strings.HasPrefix(note, "Velocity order 100234 refund 1: üü") {
		t.Errorf("long reason: PrivateNote is %d characters (%.40q…); want it cut to 3900", n, note)
	}
	if strings.HasPrefix(r.Fingerprint, "b:") || len(r.Fingerprint) != 32 {
		t.Errorf("Fingerprint: got %q; want a single 32-character hash", r.Fingerprint)
	}
}

func TestMapOrder_Blocked(t *testing.T) {
	type mutate func(o *velocity.Order, env *reconcile.Env)
	subj := func(k reconcile.SubjectKind, id string) reconcile.Subject { return reconcile.Subject{Kind: k, ID: id} }
	setFix := func(key, list string) reconcile.Fix {
		return reconcile.Fix{Action: reconcile.FixSetSetting, ID: key, List: list}
	}
	order, noFix := subj(reconcile.SubjectOrder, "100234"), reconcile.Fix{}
	tests := []struct {
		name   string
		mutate mutate
		// Where the block must show: "doc", "refund" (only the second
		// refund of the fixture's two), "refunds" (both), "payment".
		where string
		// The reason's code, subject and fix, and what its text says. The
		// command each fix renders to is cmd/velqbo's (TestReasonText).
		code    reconcile.ReasonCode
		subject reconcile.Subject
		fix     reconcile.Fix
		want    string
	}{
		{"unlinked customer", func(_ *velocity.Order, env *reconcile.Env) { delete(env.Customers, "cus_1") }, "doc", reconcile.CodeCustomerNotLinked, subj(reconcile.SubjectCustomer, "cus_1"), reconcile.Fix{Action: reconcile.FixLinkCustomer, ID: "cus_1"},
			"customer cus_1 (Acme Supply Co.) is not linked to a QBO customer"},
		{"unlinked product", func(o *velocity.Order, _ *reconcile.Env) {
			o.Lines[1].ProductID, o.Lines[1].SKU = "77", "SKU-9"
		}, "doc", reconcile.CodeProductNotLinked, subj(reconcile.SubjectProduct, "77"), reconcile.Fix{Action: reconcile.FixLinkProduct, ID: "77"},
			"product SKU-9 (Velocity id 77) is not linked to a QBO item"},
		{"unlinked product of a BigCommerce source", func(o *velocity.Order, env *reconcile.Env) {
			o.Lines[1].ProductID, o.Lines[1].SKU, env.SourceName = "77", "SKU-9", "BigCommerce"
		}, "doc", reconcile.CodeProductNotLinked, subj(reconcile.SubjectProduct, "77"), reconcile.Fix{Action: reconcile.FixLinkProduct, ID: "77"},
			"product SKU-9 (BigCommerce id 77) is not linked to a QBO item"},
		{"missing deposit_account on a receipt", func(_ *velocity.Order, env *reconcile.Env) { env.Settings.DepositAccount = "" }, "doc", reconcile.CodeSettingMissing, subj(reconcile.SubjectSetting, "deposit_account"), setFix("deposit_account", "accounts"),
			"setting deposit_account is not set (needed for the sales receipt)"},
		{"missing payment method mapping", func(_ *velocity.Order, env *reconcile.Env) { delete(env.Settings.PaymentMethods, "credit_card") }, "doc", reconcile.CodePaymentMethodUnmapped, subj(reconcile.SubjectPaymentMethod, "credit_card"), reconcile.Fix{Action: reconcile.FixMapPaymentMethod, ID: "credit_card"},
			"payment method \"credit_card\" is not mapped to a QBO payment method"},
		{"missing shipping_item", func(_ *velocity.Order, env *reconcile.Env) { env.Settings.ShippingItem = "" }, "doc", reconcile.CodeSettingMissing, subj(reconcile.SubjectSetting, "shipping_item"), setFix("shipping_item", "items"),
			"setting shipping_item is not set (needed for shipping of 7.50)"},
		{"missing tax_item", func(_ *velocity.Order, env *reconcile.Env) { env.Settings.TaxItem = "" }, "doc", reconcile.CodeSettingMissing, subj(reconcile.SubjectSetting, "tax_item"), setFix("tax_item", "items"),
			"setting tax_item is not set"},
		{"missing handling_item", func(o *velocity.Order, env *reconcile.Env) {
			env.Settings.HandlingItem = ""
			o.HandlingTotal, o.Total = mapDec("2.00"), mapDec("57.83")
		}, "doc", reconcile.CodeSettingMissing, subj(reconcile.SubjectSetting, "handling_item"), setFix("handling_item", "items"),
			"setting handling_item is not set"},
		{"missing custom_item", func(o *velocity.Order, env *reconcile.Env) {
			env.Settings.CustomItem = ""
			o.CustomAmounts = []velocity.CustomAmount{{ID: "c1", Description: "Rush fee", Amount: mapDec("4.00")}}
			o.Total = mapDec("59.83")
		}, "doc", reconcile.CodeSettingMissing, subj(reconcile.SubjectSetting, "custom_item"), setFix("custom_item", "items"),
			"setting custom_item is not set (needed for custom amount \"Rush fee\" of 4.00)"},
		{"missing discount_account", func(o *velocity.Order, env *reconcile.Env) {
			env.Settings.DiscountAccount = ""
			o.DiscountTotal, o.Total = mapDec("5.00"), mapDec("50.83")
		}, "doc", reconcile.CodeSettingMissing, subj(reconcile.SubjectSetting, "discount_account"), setFix("discount_account", "accounts"),
			"setting discount_account is not set"},
		{"missing refund_account", func(_ *velocity.Order, env *reconcile.Env) { env.Settings.RefundAccount = "" }, "refunds", reconcile.CodeSettingMissing, subj(reconcile.SubjectSetting, "refund_account"), setFix("refund_account", "accounts"),
			"setting refund_account is not set (needed for refund RF-100234-2)"},
		{"unmapped refund payment method", func(o *velocity.Order, _ *reconcile.Env) { o.Refunds[1].PaymentMethod = "store_credit" }, "refund", reconcile.CodePaymentMethodUnmapped, subj(reconcile.SubjectPaymentMethod, "store_credit"), reconcile.Fix{Action: reconcile.FixMapPaymentMethod, ID: "store_credit"},
			"payment method \"store_credit\" is not mapped"},
		{"missing deposit_account for a payment", func(o *velocity.Order, env *reconcile.Env) {
			o.PaymentTerms = &velocity.PaymentTerms{NetDays: 30}
			env.Settings.DepositAccount = ""
		}, "payment", reconcile.CodeSettingMissing, subj(reconcile.SubjectSetting, "deposit_account"), setFix("deposit_account", "accounts"),
			"setting deposit_account is not set (needed for payment p1)"},
		{"foreign currency, multicurrency off", func(o *velocity.Order, _ *reconcile.Env) { o.Currency = "EUR" }, "doc", reconcile.CodeCurrencyMismatch, order, noFix,
			"order currency EUR is not the QBO company's home currency USD (multicurrency is off)"},
		{"currency differs from the customer's", func(o *velocity.Order, env *reconcile.Env) {
			o.Currency = "EUR"
			env.MultiCurrency = true
			env.CustomerCurrency = map[string]string{"58": "CAD"}
		}, "doc", reconcile.CodeCurrencyMismatch, order, noFix,
			"order currency EUR is not the currency CAD of QBO customer 58"},
		{"order number too long", func(o *velocity.Order, _ *reconcile.Env) { o.Number = "1234567890123456789012" }, "doc", reconcile.CodeDocNumberInvalid, subj(reconcile.SubjectOrder, "1234567890123456789012"), noFix,
			`order number "1234567890123456789012" is 22 characters; QBO allows at most 21 in a DocNumber`},
		{"line amount not whole cents", func(o *velocity.Order, _ *reconcile.Env) {
			o.Lines[1].Quantity, o.Lines[1].UnitPrice = mapDec("1.5"), mapDec("0.99")
		}, "doc", reconcile.CodeNotWholeCents, order, noFix,
			"line 2 (SKU-2) amount 1.5 × 0.99 = 1.485 is not whole cents"},
		{"three-decimal quantity", func(o *velocity.Order, _ *reconcile.Env) {
			o.Lines[1].Quantity, o.Lines[1].UnitPrice = mapDec("0.333"), mapDec("3.00")
		}, "doc", reconcile.CodeNotWholeCents, order, noFix,
			"amount 0.333 × 3.00 = 0.999 is not whole cents"},
		{"total does not equal its parts", func(o *velocity.Order, _ *reconcile.Env) { o.Total = mapDec("55.84") }, "doc", reconcile.CodeTotalMismatch, order, noFix,
			"order total 55.84 does not equal its parts 55.83"},
		{"negative total", func(o *velocity.Order, _ *reconcile.Env) {
			o.Lines[0].UnitPrice, o.Total = mapDec("-40.00"), mapDec("-64.15")
		}, "doc", reconcile.CodeNegativeAmount, order, noFix,
			"order total -64.15 is negative"},
		{"refunds exceed the order", func(o *velocity.Order, _ *reconcile.Env) {
			o.Refunds[1].Lines[0].Amount, o.Refunds[1].Total = mapDec("50.84"), mapDec("50.84")
		}, "refund", reconcile.CodeRefundsExceedTotal, subj(reconcile.SubjectRefund, "r2"), noFix,
			"refunds through RF-100234-2 total 55.84, more than the order total 55.83"},
		{"refund of an unknown line", func(o *velocity.Order, _ *reconcile.Env) {
			o.Refunds[1].Lines[0] = velocity.RefundLine{Kind: velocity.RefundProduct, LineID: "nope", Quantity: mapDec("1"), Amount: mapDec("5.00")}
		}, "refund", reconcile.CodeUnknownOrderLine, subj(reconcile.SubjectRefund, "r2"), noFix,
			`refund line 1 refers to order line "nope", which the order does not have`},
		{"refund total not positive", func(o *velocity.Order, _ *reconcile.Env) {
			o.Refunds[1].Lines[0].Amount, o.Refunds[1].Total = mapDec("-2.50"), mapDec("-2.50")
		}, "refund", reconcile.CodeAmountNotPositive, subj(reconcile.SubjectRefund, "r2"), noFix,
			"refund line 1 amount -2.50 is not positive"},
		{"refund line of an unknown kind", func(o *velocity.Order, _ *reconcile.Env) { o.Refunds[1].Lines[0].Kind = "gift_wrap" }, "refund",
			reconcile.CodeUnknownRefundKind, subj(reconcile.SubjectRefund, "r2"), noFix, `refund line 1 has unknown kind "gift_wrap"`},
		{"payments exceed the order", func(o *velocity.Order, _ *reconcile.Env) {
			o.PaymentTerms = &velocity.PaymentTerms{NetDays: 30}
			o.Payments[0].Amount = mapDec("55.84")
		}, "payment", reconcile.CodePaymentsExceedTotal, subj(reconcile.SubjectPayment, "p1"), noFix,
			"payments through p1 total 55.84, more than the order total 55.83"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, env := mapOrder(), mapEnv(t)
			o.Refunds = []velocity.Refund{
				mapRefund("r1", "2026-03-05T12:00:00Z", "5.00", mapShipRefund("5.00")),
				mapRefund("r2", "2026-03-06T12:00:00Z", "2.50", mapShipRefund("2.50")),
			}
			o.Payments = []velocity.Payment{{ID: "p1", CreatedAt: *mapTime("2026-03-10T18:00:00Z"), Amount: mapDec("10.00"), Method: "check"}}
			tt.mutate(o, env)
			docs := reconcile.MapOrder(o, env)
			if docs.Skip != "" || docs.Doc == nil {
				t.Fatalf("Skip %q Doc %v; want the order mapped", docs.Skip, docs.Doc)
			}
			var d *reconcile.Desired
			switch tt.where {
			case "doc":
				d = docs.Doc
			case "refund":
				d = docs.Refunds[1]
				if len(docs.Doc.Blocked) > 0 || len(docs.Refunds[0].Blocked) > 0 {
					t.Errorf("only the second refund should block: Doc %q, first refund %q", docs.Doc.Blocked, docs.Refunds[0].Blocked)
				}
			case "refunds":
				d = docs.Refunds[1]
				if len(docs.Doc.Blocked) > 0 || len(docs.Refunds[0].Blocked) == 0 {
					t.Errorf("both refunds and not the order should block: Doc %q, first refund %q", docs.Doc.Blocked, docs.Refunds[0].Blocked)
				}
			case "payment":
				d = docs.Payments[0]
				if len(docs.Doc.Blocked) > 0 {
					t.Errorf("only the payment should block: Doc %q", docs.Doc.Blocked)
				}
			}
			if !strings.Contains(d.Blocked.String(), tt.want) {
				t.Errorf("Blocked: got %q; want it to contain %q", d.Blocked, tt.want)
			}
			i := slices.IndexFunc(d.Blocked, func(r reconcile.Reason) bool { return r.Code == tt.code && r.Subject == tt.subject })
			if i < 0 {
				t.Fatalf("Blocked: got %+v; want a reason with code %s about %+v", d.Blocked, tt.code, tt.subject)
			}
			if got := d.Blocked[i]; got.Fix != tt.fix || !strings.Contains(got.Text, tt.want) {
				t.Errorf("reason %s: got fix %+v text %q; want fix %+v, text containing %q", tt.code, got.Fix, got.Text, tt.fix, tt.want)
			}
			if d.Entity != nil || d.Fingerprint != "" {
				t.Errorf("blocked: got Entity %T Fingerprint %q; want none", d.Entity, d.Fingerprint)
			}
			if tt.where == "doc" {
				for _, r := range docs.Refunds {
					if len(r.Blocked) == 0 {
						t.Errorf("refund %s of a blocked order: got sendable; want it held", r.SourceID)
					}
				}
			}
		})
	}
}

func TestMapOrder_BlockedDependents(t *testing.T) {
	o, env := mapOrder(), mapEnv(t)
	o.PaymentTerms = &velocity.PaymentTerms{NetDays: 30}
	o.Total = mapDec("55.84") // the invoice blocks on money
	o.Refunds = []velocity.Refund{mapRefund("r1", "2026-03-05T12:00:00Z", "5.00", mapShipRefund("5.00"))}
	o.Payments = []velocity.Payment{{ID: "p1", CreatedAt: *mapTime("2026-03-10T18:00:00Z"), Amount: mapDec("10.00")}}
	docs := reconcile.MapOrder(o, env)
	waits := func(text string) reconcile.Reasons {
		return reconcile.Reasons{{Code: reconcile.CodeWaitsForOrder,
			Subject: reconcile.Subject{Kind: reconcile.SubjectOrder, ID: "100234"}, Text: text}}
	}
	if diff := cmp.Diff(waits("waits for order 100234, which is blocked"), docs.Refunds[0].Blocked); diff != "" {
		t.Errorf("refund: Blocked (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(waits("waits for invoice 100234, which is blocked"), docs.Payments[0].Blocked); diff != "" {
		t.Errorf("payment: Blocked (-want +got):\n%s", diff)
	}
}

func TestMapOrder_Currency(t *testing.T) {
	t.Run("multicurrency, customer's currency", func(t *testing.T) {
		o, env := mapOrder(), mapEnv(t)
		o.Currency = "EUR"
		env.MultiCurrency = true
		env.CustomerCurrency = map[string]string{"58": "EUR"}
		sr := mapDoc(t, o, env).Doc.Entity.(*qbo.SalesReceipt)
		if sr.CurrencyRef == nil || sr.CurrencyRef.Value != "EUR" {
			t.Errorf("CurrencyRef: got %v; want EUR", sr.CurrencyRef)
		}
	})
	t.Run("home currency sends no CurrencyRef", func(t *testing.T) {
		o, env := mapOrder(), mapEnv(t)
		o.Currency = "usd"
		env.MultiCurrency = true
		sr := mapDoc(t, o, env).Doc.Entity.(*qbo.SalesReceipt)
		if sr.CurrencyRef != nil {
			t.Errorf("CurrencyRef: got %v; want none", sr.CurrencyRef)
		}
	})
}

func TestMapOrder_Lines(t *testing.T) {
	o := mapOrder()
	o.Lines[0].Quantity, o.Lines[0].UnitPrice = mapDec("1.5"), mapDec("0.98") // 1.470: whole cents
	o.HandlingTotal = mapDec("2.00")
	o.DiscountTotal = mapDec("4.00")
	o.CustomAmounts = []velocity.CustomAmount{
		{ID: "c1", Description: "Rush fee", Amount: mapDec("6.00")},
		{ID: "c2", Description: "Loyalty credit", Amount: mapDec("-3.25")},
		{ID: "c3", Amount: mapDec("0")},
	}
	o.Total = mapDec("18.07") // 1.47 + 5.25 + 7.50 + 2.00 + 3.10 − 4.00 + 6.00 − 3.25
	sr := mapDoc(t, o, mapEnv(t)).Doc.Entity.(*qbo.SalesReceipt)
	want := []qbo.Line{
		mapItemLine("Widget", "19", "1.5", "0.98", "1.47"),
		mapItemLine("Gadget", "20", "1", "5.25", "5.25"),
		mapItemLine("Shipping", "41", "1", "7.50", "7.50"),
		mapItemLine("Handling", "42", "1", "2.00", "2.00"),
		mapItemLine("Tax", "43", "1", "3.10", "3.10"),
		mapItemLine("Rush fee", "44", "1", "6.00", "6.00"),
		mapItemLine("Loyalty credit", "44", "1", "-3.25", "-3.25"),
		{Description: "Discount", Amount: mapQD("4.00"), DetailType: qbo.DiscountLine,
			DiscountLineDetail: &qbo.DiscountLineDetail{PercentBased: qbo.Ptr(false), DiscountAccountRef: &qbo.Ref{Value: "37"}}},
	}
	if diff := cmp.Diff(want, sr.Line, cmpDecimals); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if got := reconcile.DocumentTotal(sr.Line); !got.Equal(o.Total) {
		t.Errorf("DocumentTotal: got %s; want %s", got, o.Total)
	}
}

func TestMapOrder_Tracking(t *testing.T) {
	o := mapOrder()
	o.Shipments = []velocity.Shipment{
		{ID: "s3", ShippedAt: mapTime("2026-03-06T15:00:00Z"), Carrier: "FedEx", TrackingNumber: "777000111222"},
		{ID: "s1", ShippedAt: mapTime("2026-03-04T03:30:00Z"), Carrier: "UPS", TrackingNumber: "1Z999AA10123456784"},
		{ID: "s4", Carrier: "DHL", TrackingNumber: "NOT-SHIPPED"}, // label only: not yet shipped
		{ID: "s2", ShippedAt: mapTime("2026-03-04T03:30:00Z"), Carrier: "UPS", TrackingNumber: "1Z999AA10123456784"},
		{ID: "s0", ShippedAt: mapTime("2026-03-05T15:00:00Z"), Carrier: "UPS"},
	}
	sr := mapDoc(t, o, mapEnv(t)).Doc.Entity.(*qbo.SalesReceipt)
	type tracking struct {
		Num, Date *string
		Method    *qbo.Ref
	}
	want := tracking{qbo.Ptr("1Z999AA10123456784, 777000111222"), qbo.Ptr("2026-03-03"), &qbo.Ref{Value: "UPS", Name: "UPS"}}
	if diff := cmp.Diff(want, tracking{sr.TrackingNum, sr.ShipDate, sr.ShipMethodRef}); diff != "" {
		t.Errorf("tracking (-want +got):\n%s", diff)
	}

	o.Shipments = nil
	sr = mapDoc(t, o, mapEnv(t)).Doc.Entity.(*qbo.SalesReceipt)
	if sr.TrackingNum != nil || sr.ShipDate != nil || sr.ShipMethodRef != nil {
		t.Errorf("no shipments: got %v %v %v; want no tracking fields", sr.TrackingNum, sr.ShipDate, sr.ShipMethodRef)
	}
}

func TestMapOrder_UnicodeAddresses(t *testing.T) {
	o := mapOrder()
	o.BillingAddress = velocity.Address{Name: "Zoë Müller", Company: "日本商事株式会社", Line1: "1-2 銀座通り",
		City: "東京", State: "東京都", PostalCode: "100-0001", Country: "JP"}
	o.ShippingAddress = velocity.Address{Name: "Søren Ægir", Company: "Søren Ægir", Line1: "Bahnhofstraße 1",
		City: "Zürich", State: "ZH", PostalCode: "8001", Country: "CH", Phone: "+41 44 000 00 00"}
	o.Email = "zoë@exämple.jp"
	sr := mapDoc(t, o, mapEnv(t)).Doc.Entity.(*qbo.SalesReceipt)
	wantBill := &qbo.PhysicalAddress{Line1: "Zoë Müller", Line2: "日本商事株式会社", Line3: "1-2 銀座通り",
		City: "東京", CountrySubDivisionCode: "東京都", PostalCode: "100-0001", Country: "JP"}
	wantShip := &qbo.PhysicalAddress{Line1: "Søren Ægir", Line2: "Bahnhofstraße 1", // company = name: once
		City: "Zürich", CountrySubDivisionCode: "ZH", PostalCode: "8001", Country: "CH"}
	if diff := cmp.Diff(wantBill, sr.BillAddr); diff != "" {
		t.Errorf("BillAddr (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantShip, sr.ShipAddr); diff != "" {
		t.Errorf("ShipAddr (-want +got):\n%s", diff)
	}
	if sr.BillEmail == nil || sr.BillEmail.Address != "zoë@exämple.jp" {
		t.Errorf("BillEmail: got %v; want zoë@exämple.jp", sr.BillEmail)
	}
	// The payload survives JSON unchanged (no escaping surprises).
	b, err := json.Marshal(sr)
	if err != nil {
		t.Fatal(err)
	}
	var back qbo.SalesReceipt
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sr.BillAddr, back.BillAddr); diff != "" {
		t.Errorf("BillAddr after JSON (-want +got):\n%s", diff)
	}

	o.BillingAddress, o.ShippingAddress = velocity.Address{Phone: "+1"}, velocity.Address{}
	sr = mapDoc(t, o, mapEnv(t)).Doc.Entity.(*qbo.SalesReceipt)
	if sr.BillAddr != nil || sr.ShipAddr != nil {
		t.Errorf("empty addresses: got %v %v; want none", sr.BillAddr, sr.ShipAddr)
	}
}

func TestMapOrder_Deterministic(t *testing.T) {
	o := mapOrder()
	o.PaymentTerms = &velocity.PaymentTerms{NetDays: 30}
	o.Payments = []velocity.Payment{{ID: "p1", CreatedAt: *mapTime("2026-03-10T18:00:00Z"), Amount: mapDec("10.00"), Method: "check"}}
	o.Refunds = []velocity.Refund{mapRefund("r1", "2026-03-05T12:00:00Z", "5.00", mapShipRefund("5.00"))}
	a, b := reconcile.MapOrder(o, mapEnv(t)), reconcile.MapOrder(o.Clone(), mapEnv(t))
	if diff := cmp.Diff(a, b, cmpDecimals); diff != "" {
		t.Errorf("two mappings of one order differ (-first +second):\n%s", diff)
	}
}

// goldenView is what a golden file records: the documents, without the
// source order.
type goldenView struct {
	Skip      string               `json:",omitempty"`
	Cancelled bool                 `json:",omitempty"`
	Doc       *reconcile.Desired   `json:",omitempty"`
	Refunds   []*reconcile.Desired `json:",omitempty"`
	Payments  []*reconcile.Desired `json:",omitempty"`
}

func TestMapOrder_Golden(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(o *velocity.Order, env *reconcile.Env)
	}{
		{"receipt_full", func(o *velocity.Order, _ *reconcile.Env) {
			o.HandlingTotal = mapDec("2.00")
			o.DiscountTotal = mapDec("4.00")
			o.CustomAmounts = []velocity.CustomAmount{{ID: "c1", Description: "Rush fee", Amount: mapDec("6.00")}}
			o.Total = mapDec("59.83")
			o.Shipments = []velocity.Shipment{
				{ID: "s1", ShippedAt: mapTime("2026-03-04T16:00:00Z"), Carrier: "UPS", TrackingNumber: "1Z999AA10123456784"},
				{ID: "s2", ShippedAt: mapTime("2026-03-05T16:00:00Z"), Carrier: "UPS", TrackingNumber: "1Z999AA10123456785"},
			}
			o.Refunds = []velocity.Refund{
				mapRefund("r1", "2026-03-06T12:00:00Z", "19.99",
					velocity.RefundLine{Kind: velocity.RefundProduct, LineID: "l1", Quantity: mapDec("1"), Amount: mapDec("19.99")}),
				mapRefund("r2", "2026-03-07T12:00:00Z", "7.50", mapShipRefund("7.50")),
			}
			o.Payments = []velocity.Payment{{ID: "p1", CreatedAt: *mapTime("2026-03-02T15:05:00Z"), Amount: mapDec("59.83"), Method: "credit_card"}}
		}},
		{"invoice_terms_payments", func(o *velocity.Order, _ *reconcile.Env) {
			o.PaymentTerms, o.PaymentMethod = &velocity.PaymentTerms{NetDays: 30}, velocity.MethodTerms
			o.Shipments = []velocity.Shipment{{ID: "s1", ShippedAt: mapTime("2026-03-03T01:00:00Z"), Carrier: "FedEx", TrackingNumber: "777000111222"}}
			o.Payments = []velocity.Payment{
				{ID: "p1", CreatedAt: *mapTime("2026-03-15T18:00:00Z"), Amount: mapDec("20.00"), Method: "check", Reference: "CHK-1001"},
				{ID: "p2", CreatedAt: *mapTime("2026-03-30T18:00:00Z"), Amount: mapDec("35.83"), Method: "ach", Reference: "txn_00ab12cd34ef5678"},
			}
		}},
		{"blocked_invoice", func(o *velocity.Order, env *reconcile.Env) {
			o.ReportAsInvoice = true
			o.Lines[1].ProductID, o.Lines[1].SKU = "77", "SKU-9"
			env.Settings.ShippingItem = ""
			o.Refunds = []velocity.Refund{mapRefund("r1", "2026-03-06T12:00:00Z", "7.50", mapShipRefund("7.50"))}
			o.Payments = []velocity.Payment{{ID: "p1", CreatedAt: *mapTime("2026-03-15T18:00:00Z"), Amount: mapDec("20.00"), Method: "check"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, env := mapOrder(), mapEnv(t)
			tt.mutate(o, env)
			docs := reconcile.MapOrder(o, env)
			got, err := json.MarshalIndent(goldenView{docs.Skip, docs.Cancelled, docs.Doc, docs.Refunds, docs.Payments}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "mapping", tt.name+".golden")
			if *updateGolden {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `go test ./reconcile -run TestMapOrder_Golden -update` to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
		})
	}
}

func TestMapOrder_TermsMethodNeverBlocks(t *testing.T) {
	o := mapOrder()
	o.PaymentTerms, o.PaymentMethod = &velocity.PaymentTerms{NetDays: 30}, velocity.MethodTerms
	r := mapRefund("r1", "2026-03-05T12:00:00Z", "5.00", mapShipRefund("5.00"))
	r.PaymentMethod = velocity.MethodTerms
	o.Refunds = []velocity.Refund{r}
	docs := mapDoc(t, o, mapEnv(t))
	if got := docs.Refunds[0]; len(got.Blocked) > 0 || got.Entity.(*qbo.RefundReceipt).PaymentMethodRef != nil {
		t.Errorf("refund paid back on terms: got Blocked %q; want sendable with no PaymentMethodRef", got.Blocked)
	}
	env := mapEnv(t)
	env.Settings.PaymentMethods[velocity.MethodTerms] = "9"
	docs = mapDoc(t, o, env)
	if got := docs.Refunds[0].Entity.(*qbo.RefundReceipt).PaymentMethodRef; got == nil || got.Value != "9" {
		t.Errorf("terms mapped: PaymentMethodRef got %v; want 9", got)
	}
}
