package reconcile_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// fuzzEnv links everything the order names and maps every payment method
// it uses, so that what remains to block it is the order's own data.
func fuzzEnv(t testing.TB, o *velocity.Order) *reconcile.Env {
	env := mapEnv(t)
	env.Customers = map[string]reconcile.Link{o.CustomerID: {QBOID: "58"}}
	env.Products = map[string]reconcile.Link{}
	for _, l := range o.Lines {
		env.Products[l.ProductID] = reconcile.Link{QBOID: "19"}
	}
	env.Settings.PaymentMethods = map[string]string{o.PaymentMethod: "3"}
	for _, r := range o.Refunds {
		env.Settings.PaymentMethods[r.PaymentMethod] = "3"
	}
	env.HomeCurrency = strings.ToUpper(strings.TrimSpace(o.Currency))
	return env
}

func FuzzMapOrder(f *testing.F) {
	add := func(o *velocity.Order) {
		b, err := json.Marshal(o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	base := mapOrder()
	add(base)
	inv := mapOrder()
	inv.PaymentTerms = &velocity.PaymentTerms{NetDays: 30}
	inv.Payments = []velocity.Payment{{ID: "p1", CreatedAt: *mapTime("2026-03-10T18:00:00Z"), Amount: mapDec("55.83"), Method: "check"}}
	inv.Refunds = []velocity.Refund{
		mapRefund("r1", "2026-03-05T12:00:00Z", "5.00", mapShipRefund("5.00")),
		mapRefund("r2", "2026-03-05T12:00:00Z", "50.84", velocity.RefundLine{Kind: velocity.RefundProduct, LineID: "l1", Quantity: mapDec("3"), Amount: mapDec("50.84")}),
	}
	add(inv)
	odd := mapOrder()
	odd.Lines[1].Quantity, odd.Lines[1].UnitPrice = mapDec("1.5"), mapDec("0.99")
	odd.DiscountTotal, odd.Total = mapDec("1.00"), mapDec("54.83")
	add(odd)
	for _, o := range velocitytest.Generate(3, velocitytest.GenOptions{Customers: 5, Products: 5, Orders: 12}).Orders {
		add(o)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := velocity.DecodeOrder(data)
		if err != nil {
			return
		}
		docs := reconcile.MapOrder(o, fuzzEnv(t, o))
		if docs == nil {
			t.Fatal("MapOrder returned nil")
		}
		if docs.Skip != "" {
			if docs.Doc != nil || docs.Refunds != nil || docs.Payments != nil {
				t.Fatalf("skipped (%q) but documents set", docs.Skip)
			}
			return
		}
		d := docs.Doc
		if d == nil {
			t.Fatal("not skipped, but no Doc")
		}
		fuzzCheckState(t, "order", d, docs.Cancelled)
		if d.Entity != nil {
			lines := fuzzLines(t, d.Entity)
			if got := reconcile.DocumentTotal(lines); !got.Equal(o.Total) || !d.Total.Equal(o.Total) {
				t.Fatalf("sendable order document totals %s (Desired %s); want the order total %s", got, d.Total, o.Total)
			}
			if o.Total.IsNegative() || !o.ComputedTotal().Equal(o.Total) {
				t.Fatalf("sendable order with total %s, parts %s", o.Total, o.ComputedTotal())
			}
			fuzzCheckCents(t, lines)
		}
		refunded := decimal.Zero
		for _, r := range docs.Refunds {
			fuzzCheckState(t, "refund", r, false)
			if r.Entity == nil {
				continue
			}
			lines := fuzzLines(t, r.Entity)
			if got := reconcile.DocumentTotal(lines); !got.Equal(r.Total) {
				t.Fatalf("refund %s lines total %s; want %s", r.SourceID, got, r.Total)
			}
			fuzzCheckCents(t, lines)
			refunded = refunded.Add(r.Total)
			if refunded.GreaterThan(o.Total) {
				t.Fatalf("sendable refunds total %s, more than the order total %s", refunded, o.Total)
			}
		}
		for _, p := range docs.Payments {
			if p.NotApplicable != "" {
				if d.QBOType != reconcile.TypeSalesReceipt || p.Entity != nil || len(p.Blocked) > 0 {
					t.Fatalf("payment %s not applicable on a %s (entity %v, blocked %q)", p.SourceID, d.QBOType, p.Entity, p.Blocked)
				}
				continue
			}
			fuzzCheckState(t, "payment", p, false)
			if pay, ok := p.Entity.(*qbo.Payment); ok {
				if !pay.TotalAmt.Equal(p.Total) || !pay.Line[0].Amount.Equal(p.Total) {
					t.Fatalf("payment %s: TotalAmt %s line %s; want %s", p.SourceID, pay.TotalAmt, pay.Line[0].Amount, p.Total)
				}
			}
		}
	})
}

// fuzzCheckState checks that a document is exactly one of: sendable (an
// entity and its fingerprint), blocked (a reason, no entity), or the
// unmappable document of a cancelled order.
func fuzzCheckState(t *testing.T, what string, d *reconcile.Desired, cancelled bool) {
	t.Helper()
	switch {
	case len(d.Blocked) > 0:
		if cancelled {
			t.Fatalf("%s %s of a cancelled order is blocked: %q", what, d.SourceID, d.Blocked)
		}
		if d.Entity != nil || d.Fingerprint != "" {
			t.Fatalf("%s %s blocked (%q) with an entity or fingerprint", what, d.SourceID, d.Blocked)
		}
	case d.Entity != nil:
		if d.Fingerprint == "" || d.Fingerprint != reconcile.Fingerprint(d.Entity) {
			t.Fatalf("%s %s: fingerprint %q; want Fingerprint(Entity)", what, d.SourceID, d.Fingerprint)
		}
		if n := utf8.RuneCountInString(d.DocNumber); n > reconcile.MaxDocNumber {
			t.Fatalf("%s %s sendable with a %d-character DocNumber", what, d.SourceID, n)
		}
	case !cancelled:
		t.Fatalf("%s %s: neither blocked nor sendable", what, d.SourceID)
	}
}

func fuzzLines(t *testing.T, e any) []qbo.Line {
	switch x := e.(type) {
	case *qbo.SalesReceipt:
		return x.Line
	case *qbo.Invoice:
		return x.Line
	case *qbo.RefundReceipt:
		return x.Line
	}
	t.Fatalf("unexpected entity %T", e)
	return nil
}

// fuzzCheckCents checks what QBO checks: each amount in whole cents and,
// where Qty and UnitPrice are sent, Amount = Qty × UnitPrice exactly.
func fuzzCheckCents(t *testing.T, lines []qbo.Line) {
	t.Helper()
	for i, l := range lines {
		amt := qbo.Dec(l.Amount)
		if !amt.Equal(amt.Round(2)) {
			t.Fatalf("line %d amount %s is not whole cents", i+1, amt)
		}
		if d := l.SalesItemLineDetail; d != nil && d.Qty != nil && d.UnitPrice != nil {
			if !d.Qty.Mul(d.UnitPrice.Decimal).Equal(amt) {
				t.Fatalf("line %d: %s × %s ≠ %s", i+1, d.Qty, d.UnitPrice, amt)
			}
		}
	}
}
