package main

// End-to-end tests of the BigCommerce money rule (docs/bigcommerce.md "The
// money rule") through the binary: 4-place prices and tax-inclusive
// orders from bctest are posted to qbotest with the exact figures, and an
// order whose figures cannot be represented is blocked, naming the
// figure.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity/bigcommerce/bctest"
)

// docLine is what the money tests compare of a QBO document line: its
// item (or discount account), quantity, unit price and amount, numbers
// as canonical decimals ("9.1", not "9.10").
type docLine struct{ Ref, Qty, UnitPrice, Amount string }

func docLines(t *testing.T, raw map[string]any) []docLine {
	t.Helper()
	num := func(v any) string {
		if v == nil {
			return ""
		}
		dv, err := decimal.NewFromString(field(map[string]any{"v": v}, "v"))
		if err != nil {
			t.Fatalf("line number %v: %v", v, err)
		}
		return dv.String()
	}
	lines, _ := raw["Line"].([]any)
	var out []docLine
	for _, l := range lines {
		m, _ := l.(map[string]any)
		switch m["DetailType"] {
		case "SalesItemLineDetail":
			det, _ := m["SalesItemLineDetail"].(map[string]any)
			out = append(out, docLine{Ref: ref(det, "ItemRef"), Qty: num(det["Qty"]), UnitPrice: num(det["UnitPrice"]), Amount: num(m["Amount"])})
		case "DiscountLineDetail":
			det, _ := m["DiscountLineDetail"].(map[string]any)
			out = append(out, docLine{Ref: ref(det, "DiscountAccountRef"), Amount: num(m["Amount"])})
		}
	}
	return out
}

func TestBigCommerceMoney(t *testing.T) {
	b := newBCE2E(t)
	line := func(sku, price string, qty int) bctest.LineSpec {
		name, pid := map[string]string{"SKU-1": "Widget", "SKU-2": "Gadget"}[sku], map[string]int{"SKU-1": 1, "SKU-2": 2}[sku]
		return bctest.LineSpec{ProductID: pid, VariantID: b.variants[sku], SKU: sku, Name: name, Price: d(price), Quantity: qty}
	}
	add := func(spec bctest.OrderSpec) {
		t.Helper()
		spec.CustomerID, spec.PaymentMethod, spec.Created = b.custID, "Credit Card", time.Now().Add(-time.Hour)
		_, err := b.BC.AddOrder(spec)
		b.must(err)
	}
	// A 4-place unit price that comes to whole cents at its quantity,
	// priced ex tax at 8.25 %: 20 × 12.3455 = 246.91 (tax 20.37), 5.25
	// (0.43), shipping 7.50 (0.62).
	add(bctest.OrderSpec{ID: 201, TaxRate: d("0.0825"), Shipping: d("7.50"),
		Lines: []bctest.LineSpec{line("SKU-1", "12.3455", 20), line("SKU-2", "5.25", 1)}})
	// Tax-inclusive at 10 %, taxes kept to 4 places as BigCommerce keeps
	// them: no ex-tax figure is whole cents (27.2727, 4.7727, 6.8182, tax
	// 3.8864); coupon 2.00.
	add(bctest.OrderSpec{ID: 202, TaxInclusive: true, TaxRate: d("0.1"), TaxPlaces: 4, Shipping: d("7.50"),
		CouponCode: "SAVE2", CouponAmount: d("2"),
		Lines: []bctest.LineSpec{line("SKU-1", "10.00", 3), line("SKU-2", "5.25", 1)}})
	// Tax-inclusive where the widgets' net 63.64 has no unit price for 7.
	add(bctest.OrderSpec{ID: 203, TaxInclusive: true, TaxRate: d("0.1"), TaxPlaces: 4, Shipping: d("7.50"),
		Lines: []bctest.LineSpec{line("SKU-1", "10.00", 7), line("SKU-2", "5.25", 1)}})
	// Tax-inclusive with a 4-place inc-tax price: the gross is not whole
	// cents, which no QBO document can carry.
	add(bctest.OrderSpec{ID: 204, TaxInclusive: true, TaxRate: d("0.1"), TaxPlaces: 4, Shipping: d("7.50"),
		Lines: []bctest.LineSpec{line("SKU-2", "3.3333", 1)}})

	sum := b.run(exitIncomplete)
	if diff := cmp.Diff(counts(3, 0, 0, 0, 1, 0), sum.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	widget, gadget := b.Seed.Products["SKU-1"], b.Seed.Products["SKU-2"]
	shipping, tax, discount := b.Seed.Items["Shipping"], b.Seed.Items["Sales Tax"], b.Seed.Accounts["Discounts given"]
	for _, tc := range []struct {
		order string
		lines []docLine
		total string
	}{
		{order: "201", total: "281.08", lines: []docLine{
			{widget, "20", "12.3455", "246.91"},
			{gadget, "1", "5.25", "5.25"},
			{shipping, "1", "7.5", "7.5"},
			{tax, "1", "21.42", "21.42"},
		}},
		// 30.00 − 2.73, 5.25 − 0.48, 7.50 − 0.68: the tax line 3.89
		// shared by largest remainder over 2.7273, 0.4773 and 0.6818.
		{order: "202", total: "40.75", lines: []docLine{
			{widget, "3", "9.09", "27.27"},
			{gadget, "1", "4.77", "4.77"},
			{shipping, "1", "6.82", "6.82"},
			{tax, "1", "3.89", "3.89"},
			{Ref: discount, Amount: "2"},
		}},
		// Tax 7.52 over 6.3636, 0.4773, 0.6818: 6.36, 0.48, 0.68; the
		// widgets' 63.64 is 6 × 9.09 + 1 × 9.10.
		{order: "203", total: "82.75", lines: []docLine{
			{widget, "6", "9.09", "54.54"},
			{widget, "1", "9.1", "9.1"},
			{gadget, "1", "4.77", "4.77"},
			{shipping, "1", "6.82", "6.82"},
			{tax, "1", "7.52", "7.52"},
		}},
	} {
		t.Run(tc.order, func(t *testing.T) {
			sr := b.one("SalesReceipt", tc.order)
			if !sr.TotalAmt.Equal(d(tc.total)) {
				t.Errorf("SalesReceipt %s TotalAmt: got %s; want %s (total_inc_tax)", tc.order, sr.TotalAmt, tc.total)
			}
			if diff := cmp.Diff(tc.lines, docLines(t, sr.Raw)); diff != "" {
				t.Errorf("SalesReceipt %s lines (-want +got):\n%s", tc.order, diff)
			}
		})
	}

	t.Run("204 blocked", func(t *testing.T) {
		if n := len(b.docs("SalesReceipt", "204")); n != 0 {
			t.Errorf("SalesReceipt 204: got %d documents; want none", n)
		}
		i := slices.IndexFunc(sum.Items, func(it reconcile.Item) bool { return it.SourceID == "204" })
		if i < 0 || sum.Items[i].Action != reconcile.ActionBlocked {
			t.Fatalf("order 204: got %+v; want blocked", sum.Items)
		}
		want := "total_inc_tax 3.3333 is not whole cents"
		if !slices.ContainsFunc(sum.Items[i].Reasons, func(r reconcile.Reason) bool { return strings.Contains(r.Text, want) }) {
			t.Errorf("order 204 reasons: got %+v; want one naming %q", sum.Items[i].Reasons, want)
		}
	})

	t.Run("refund of a tax-inclusive order", func(t *testing.T) {
		// One widget of 202 back: 10.00 with 0.91 tax (0.9091 rounded).
		_, err := b.BC.Refund(202, bctest.RefundSpec{Items: []bctest.RefundItemSpec{{Type: bctest.ItemProduct, ItemID: b.BC.ProductIDs(202)[0], Quantity: 1}}, Reason: "damaged"})
		b.must(err)
		b.run(exitIncomplete) // 204 stays blocked
		rr := b.one("RefundReceipt", "RF-202")
		if !rr.TotalAmt.Equal(d("10")) {
			t.Errorf("RefundReceipt RF-202 TotalAmt: got %s; want 10.00", rr.TotalAmt)
		}
		want := []docLine{{widget, "1", "9.09", "9.09"}, {tax, "1", "0.91", "0.91"}}
		if diff := cmp.Diff(want, docLines(t, rr.Raw)); diff != "" {
			t.Errorf("RefundReceipt RF-202 lines (-want +got):\n%s", diff)
		}
	})
}
