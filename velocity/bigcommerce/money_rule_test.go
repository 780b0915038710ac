package bigcommerce

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/velocity"
)

// inclusiveOrder is a tax-inclusive order at 10 % with BigCommerce's
// 4-place tax, so no ex-tax figure is whole cents: 3 × 10.00 (27.2727 +
// 2.7273 tax), 1 × 5.25 (4.7727 + 0.4773), shipping 7.50 (6.8182 +
// 0.6818), coupon 2.00: total_tax 3.8864, total_inc_tax 40.75.
func inclusiveOrder() OrderData {
	p1 := OrderProduct{ID: 11, OrderID: 500, ProductID: 3, VariantID: 31, Name: "Gloves", SKU: "GL-M", Quantity: 3,
		PriceIncTax: MustMoney("10.0000"), PriceExTax: MustMoney("9.0909"), PriceTax: MustMoney("0.9091"),
		TotalIncTax: MustMoney("30.0000"), TotalExTax: MustMoney("27.2727"), TotalTax: MustMoney("2.7273")}
	p2 := OrderProduct{ID: 12, OrderID: 500, ProductID: 4, VariantID: 41, Name: "Masks", SKU: "MK", Quantity: 1,
		PriceIncTax: MustMoney("5.2500"), PriceExTax: MustMoney("4.7727"), PriceTax: MustMoney("0.4773"),
		TotalIncTax: MustMoney("5.2500"), TotalExTax: MustMoney("4.7727"), TotalTax: MustMoney("0.4773")}
	return OrderData{
		Order: Order{
			ID: 500, CustomerID: 42, StatusID: StatusAwaitingFulfillment, IsTaxInclusivePricing: true,
			DateCreated:    NewTime(time.Date(2026, 3, 1, 4, 30, 0, 0, time.UTC)),
			DateModified:   NewTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)),
			SubtotalIncTax: MustMoney("35.2500"), SubtotalExTax: MustMoney("32.0454"), SubtotalTax: MustMoney("3.2046"),
			ShippingCostIncTax: MustMoney("7.5000"), ShippingCostExTax: MustMoney("6.8182"), ShippingCostTax: MustMoney("0.6818"),
			CouponDiscount: MustMoney("2.0000"),
			TotalIncTax:    MustMoney("40.7500"), TotalTax: MustMoney("3.8864"), TotalExTax: MustMoney("36.8636"),
			PaymentMethod: "Credit Card", CurrencyCode: "USD", DefaultCurrencyCode: "USD",
		},
		Products: []OrderProduct{p1, p2},
	}
}

func TestMapOrder_TaxInclusive(t *testing.T) {
	created := time.Date(2026, 3, 1, 4, 30, 0, 0, time.UTC)
	modified := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	baseWant := func() *velocity.Order {
		return &velocity.Order{
			ID: "500", Number: "500", CustomerID: "42", Status: velocity.StatusAwaitingFulfillment,
			ApprovedAt: &created, PaymentMethod: velocity.MethodCreditCard, Currency: "USD",
			Lines: []velocity.OrderLine{
				// 30.00 − 2.73 and 5.25 − 0.48: the tax line 3.89 shared by
				// largest remainder over 2.7273, 0.4773 and 0.6818.
				{ID: "11", ProductID: "31", SKU: "GL-M", Name: "Gloves", Quantity: dec("3"), UnitPrice: dec("9.09")},
				{ID: "12", ProductID: "41", SKU: "MK", Name: "Masks", Quantity: dec("1"), UnitPrice: dec("4.77")},
			},
			ShippingTotal: dec("6.82"), HandlingTotal: dec("0"), TaxTotal: dec("3.89"), DiscountTotal: dec("2"),
			Total: dec("40.75"), CreatedAt: created, UpdatedAt: modified,
		}
	}
	for _, tc := range []struct {
		name string
		edit func(d *OrderData)
		want func(o *velocity.Order) // nil: blocked
		err  string
	}{
		{name: "net lines are the gross less their share of the rounded tax", want: func(*velocity.Order) {}},
		{
			name: "a net line that no unit price reproduces is split on its item",
			edit: func(d *OrderData) {
				p := &d.Products[0]
				p.Quantity, p.TotalIncTax, p.TotalTax, p.TotalExTax = 7, MustMoney("70"), MustMoney("6.3636"), MustMoney("63.6364")
				d.Order.TotalTax, d.Order.TotalIncTax = MustMoney("7.5227"), MustMoney("80.75")
			},
			want: func(o *velocity.Order) {
				// 63.64 ÷ 7 has no exact unit price: 6 × 9.09 + 1 × 9.10.
				o.Lines = []velocity.OrderLine{
					{ID: "11", ProductID: "31", SKU: "GL-M", Name: "Gloves", Quantity: dec("6"), UnitPrice: dec("9.09")},
					{ID: "11-2", ProductID: "31", SKU: "GL-M", Name: "Gloves", Quantity: dec("1"), UnitPrice: dec("9.10")},
					{ID: "12", ProductID: "41", SKU: "MK", Name: "Masks", Quantity: dec("1"), UnitPrice: dec("4.77")},
				}
				o.TaxTotal, o.Total = dec("7.52"), dec("80.75")
			},
		},
		{
			name: "fees, wrapping and custom products take their share of the tax",
			edit: func(d *OrderData) {
				d.Products = append(d.Products, OrderProduct{ID: 13, Name: "Engraving", Quantity: 2,
					PriceIncTax: MustMoney("1.10"), PriceExTax: MustMoney("1"), TotalIncTax: MustMoney("2.20"), TotalTax: MustMoney("0.20"), TotalExTax: MustMoney("2")})
				d.Order.WrappingCostIncTax, d.Order.WrappingCostTax, d.Order.WrappingCostExTax = MustMoney("3"), MustMoney("0.2727"), MustMoney("2.7273")
				d.Fees = []Fee{{ID: 8, DisplayNameMerchant: "Insurance", CostIncTax: MustMoney("5"), CostTax: MustMoney("0.4545"), CostExTax: MustMoney("4.5455")}}
				d.Order.TotalTax, d.Order.TotalIncTax = MustMoney("4.8136"), MustMoney("50.95")
			},
			want: func(o *velocity.Order) {
				o.CustomAmounts = []velocity.CustomAmount{
					{ID: "product-13", Description: "Engraving × 2", Amount: dec("2")},
					{ID: "wrapping", Description: "Gift wrapping", Amount: dec("2.73")},
					{ID: "fee-8", Description: "Insurance", Amount: dec("4.55")},
				}
				o.TaxTotal, o.Total = dec("4.81"), dec("50.95")
			},
		},
		{
			name: "a refund takes its tax out of its items by the same rule",
			edit: func(d *OrderData) {
				d.Order.StatusID = StatusPartiallyRefunded
				d.Refunds = []Refund{{ID: 71, Created: modified, TotalAmount: MustAmount("17.50"), TotalTax: MustAmount("1.59"),
					Items: []RefundItem{
						{ItemType: ItemProduct, ItemID: 11, Quantity: 1},
						{ItemType: ItemShipping, ItemID: 9, RequestedAmount: ptr(MustAmount("7.50"))},
					}}}
			},
			want: func(o *velocity.Order) {
				o.Status = velocity.StatusPartiallyRefunded
				// 1.59 over 10.00 and 7.50: quotas 0.9086 and 0.6814.
				o.Refunds = []velocity.Refund{{ID: "71", CreatedAt: modified, PaymentMethod: velocity.MethodCreditCard, Total: dec("17.5"),
					Lines: []velocity.RefundLine{
						{Kind: velocity.RefundProduct, LineID: "11", Quantity: dec("1"), Amount: dec("9.09")},
						{Kind: velocity.RefundShipping, Amount: dec("6.82")},
						{Kind: velocity.RefundTax, Amount: dec("1.59"), Description: "Tax refund"},
					}}}
			},
		},
		{
			name: "a refund puts no tax on a tax-free part",
			edit: func(d *OrderData) {
				d.Order.ShippingCostTax, d.Order.ShippingCostExTax = Money{}, MustMoney("7.50")
				d.Order.TotalTax = MustMoney("3.2046")
				d.Order.StatusID = StatusPartiallyRefunded
				d.Refunds = []Refund{{ID: 72, Created: modified, TotalAmount: MustAmount("17.50"), TotalTax: MustAmount("0.91"),
					Items: []RefundItem{
						{ItemType: ItemProduct, ItemID: 11, Quantity: 1},
						{ItemType: ItemShipping, ItemID: 9, RequestedAmount: ptr(MustAmount("7.50"))},
					}}}
			},
			want: func(o *velocity.Order) {
				o.Status = velocity.StatusPartiallyRefunded
				// Tax 3.20 over 2.7273 and 0.4773 (a tie of remainders:
				// the earliest gets the cent); shipping carries none.
				o.Lines[1].UnitPrice = dec("4.78")
				o.ShippingTotal, o.TaxTotal = dec("7.5"), dec("3.2")
				o.Refunds = []velocity.Refund{{ID: "72", CreatedAt: modified, PaymentMethod: velocity.MethodCreditCard, Total: dec("17.5"),
					Lines: []velocity.RefundLine{
						{Kind: velocity.RefundProduct, LineID: "11", Quantity: dec("1"), Amount: dec("9.09")},
						{Kind: velocity.RefundShipping, Amount: dec("7.5")},
						{Kind: velocity.RefundTax, Amount: dec("0.91"), Description: "Tax refund"},
					}}}
			},
		},
		{
			name: "a refund with a part of unknown tax share splits its tax by amounts",
			edit: func(d *OrderData) {
				// The order has no handling, so the handling refunded has
				// no inc-tax amount to take a tax share from.
				d.Order.StatusID = StatusPartiallyRefunded
				d.Refunds = []Refund{{ID: 73, Created: modified, TotalAmount: MustAmount("17.50"), TotalTax: MustAmount("1.59"),
					Items: []RefundItem{
						{ItemType: ItemProduct, ItemID: 11, Quantity: 1},
						{ItemType: ItemHandling, ItemID: 9, RequestedAmount: ptr(MustAmount("7.50"))},
					}}}
			},
			want: func(o *velocity.Order) {
				o.Status = velocity.StatusPartiallyRefunded
				// 1.59 over 10.00 and 7.50: quotas 0.9086 and 0.6814, not
				// all of it on the product, whose share alone is known.
				o.Refunds = []velocity.Refund{{ID: "73", CreatedAt: modified, PaymentMethod: velocity.MethodCreditCard, Total: dec("17.5"),
					Lines: []velocity.RefundLine{
						{Kind: velocity.RefundProduct, LineID: "11", Quantity: dec("1"), Amount: dec("9.09")},
						{Kind: velocity.RefundHandling, Amount: dec("6.82")},
						{Kind: velocity.RefundTax, Amount: dec("1.59"), Description: "Tax refund"},
					}}}
			},
		},
		{
			name: "a refund tax that is not whole cents is left in its items for reconcile to block",
			edit: func(d *OrderData) {
				d.Order.StatusID = StatusPartiallyRefunded
				d.Refunds = []Refund{{ID: 74, Created: modified, TotalAmount: MustAmount("17.50"), TotalTax: MustAmount("1.5909"),
					Items: []RefundItem{
						{ItemType: ItemProduct, ItemID: 11, Quantity: 1},
						{ItemType: ItemShipping, ItemID: 9, RequestedAmount: ptr(MustAmount("7.50"))},
					}}}
			},
			want: func(o *velocity.Order) {
				o.Status = velocity.StatusPartiallyRefunded
				// No cent is moved: the lines keep their gross amounts and
				// the tax line its 4 places, so the refund does not total
				// 17.50 in whole cents and reconcile blocks it.
				o.Refunds = []velocity.Refund{{ID: "74", CreatedAt: modified, PaymentMethod: velocity.MethodCreditCard, Total: dec("17.5"),
					Lines: []velocity.RefundLine{
						{Kind: velocity.RefundProduct, LineID: "11", Quantity: dec("1"), Amount: dec("10")},
						{Kind: velocity.RefundShipping, Amount: dec("7.5")},
						{Kind: velocity.RefundTax, Amount: dec("1.5909"), Description: "Tax refund"},
					}}}
			},
		},
		{
			name: "a gross amount that is not whole cents is blocked",
			edit: func(d *OrderData) {
				p := &d.Products[1]
				p.PriceIncTax, p.TotalIncTax, p.TotalTax, p.TotalExTax = MustMoney("3.3333"), MustMoney("3.3333"), MustMoney("0.3030"), MustMoney("3.0303")
				d.Order.TotalTax, d.Order.TotalIncTax = MustMoney("3.7121"), MustMoney("38.8333")
			},
			err: "product 12 (MK) total_inc_tax 3.3333 is not whole cents; total_inc_tax 38.8333 is not whole cents",
		},
		{
			name: "line taxes that miss total_tax are blocked, not moved",
			edit: func(d *OrderData) { d.Order.TotalTax = MustMoney("3.3864") },
			err: "product 11 (GL-M): inc-tax 30 less its share 2.38 of the tax line 3.39 is 27.62, a cent or more from its ex-tax 27.2727 (its parts' taxes add up to 3.8864, total_tax is 3.3864): velqbo does not move tax between lines; " +
				"product 12 (MK): inc-tax 5.25 less its share 0.42 of the tax line 3.39 is 4.83, a cent or more from its ex-tax 4.7727 (its parts' taxes add up to 3.8864, total_tax is 3.3864): velqbo does not move tax between lines; " +
				"shipping: inc-tax 7.5 less its share 0.59 of the tax line 3.39 is 6.91, a cent or more from its ex-tax 6.8182 (its parts' taxes add up to 3.8864, total_tax is 3.3864): velqbo does not move tax between lines",
		},
		{
			name: "a negative tax on a part is blocked",
			edit: func(d *OrderData) {
				d.Order.ShippingCostTax, d.Order.ShippingCostExTax = MustMoney("-0.4545"), MustMoney("7.9545")
				d.Order.TotalTax = MustMoney("2.7501")
			},
			err: "shipping: tax -0.4545 is negative",
		},
		{
			name: "tax that no part carries is blocked",
			edit: func(d *OrderData) {
				for i := range d.Products {
					d.Products[i].TotalTax, d.Products[i].TotalExTax = Money{}, d.Products[i].TotalIncTax
				}
				d.Order.ShippingCostTax, d.Order.ShippingCostExTax = Money{}, d.Order.ShippingCostIncTax
				d.Order.TotalTax = MustMoney("1")
			},
			err: "total_tax 1 but no line, shipping, handling, wrapping or fee carries tax to take it from",
		},
		{
			name: "gross parts that do not add up are blocked",
			edit: func(d *OrderData) { d.Order.TotalIncTax = MustMoney("41.75") },
			err:  "total_inc_tax 41.75 is not the sum of its parts 40.75 (inc-tax lines 35.25 + shipping 7.5 + handling 0 + wrapping, fees and custom products 0 − discounts 2)",
		},
		{
			name: "figures that disagree are blocked as before",
			edit: func(d *OrderData) { d.Products[1].TotalTax = MustMoney("0.4000") },
			err:  "product 11 (GL-M) total_ex_tax 27.2727 is not whole cents; product 12 (MK): total_inc_tax 5.25 − total_tax 0.4 is not total_ex_tax 4.7727; product 12 (MK) total_ex_tax 4.7727 is not whole cents; shipping 6.8182 is not whole cents; total_tax 3.8864 is not whole cents",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := inclusiveOrder()
			if tc.edit != nil {
				tc.edit(&d)
			}
			got, err := MapOrder(&d, nil)
			if tc.want == nil {
				want := &velocity.ObjectError{Kind: "order", ID: "500", Reason: tc.err}
				if diff := cmp.Diff(want, err); diff != "" || got != nil {
					t.Errorf("MapOrder = %v; want nil and error (-want +got):\n%s", got, diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("MapOrder: %v", err)
			}
			want := baseWant()
			tc.want(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mapped order (-want +got):\n%s", diff)
			}
			if !got.ComputedTotal().Equal(got.Total) {
				t.Errorf("parts %s; want total %s", got.ComputedTotal(), got.Total)
			}
		})
	}
}

func TestAllocate(t *testing.T) {
	decs := func(ss ...string) []decimal.Decimal {
		out := make([]decimal.Decimal, len(ss))
		for i, s := range ss {
			out[i] = dec(s)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		total   string
		weights []decimal.Decimal
		want    []decimal.Decimal // nil: refused
	}{
		{name: "weights that add up to the total are the quotas", total: "3.89", weights: decs("2.7273", "0.4773", "0.6818"), want: decs("2.73", "0.48", "0.68")},
		{name: "proportional with a zero weight", total: "1", weights: decs("6", "3", "0"), want: decs("0.67", "0.33", "0")},
		{name: "a tie goes to the earliest", total: "0.01", weights: decs("1", "1"), want: decs("0.01", "0")},
		{name: "cents left over spread one each", total: "0.03", weights: decs("1", "1", "1", "1"), want: decs("0.01", "0.01", "0.01", "0")},
		{name: "a negative total shares negatively", total: "-1.01", weights: decs("1", "1"), want: decs("-0.51", "-0.5")},
		{name: "zero total", total: "0", weights: decs("0", "0"), want: decs("0", "0")},
		{name: "no weight to share over", total: "1", weights: decs("0", "0")},
		{name: "a negative weight", total: "1", weights: decs("2", "-1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := allocate(dec(tc.total), tc.weights)
			if tc.want == nil {
				if ok {
					t.Errorf("allocate = %v, true; want refused", got)
				}
				return
			}
			if !ok {
				t.Fatalf("allocate refused; want %v", tc.want)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("allocate (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("property", func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for i := range 5000 {
			total := decimal.New(int64(r.IntN(100000)-20000), -2)
			weights := make([]decimal.Decimal, 1+r.IntN(6))
			sum := decimal.Zero
			for j := range weights {
				weights[j] = decimal.New(int64(r.IntN(30000)), -4)
				if r.IntN(4) == 0 {
					weights[j] = decimal.Zero
				}
				sum = sum.Add(weights[j])
			}
			got, ok := allocate(total, weights)
			if !ok {
				if total.IsZero() || sum.IsPositive() {
					t.Fatalf("%d: allocate(%s, %v) refused", i, total, weights)
				}
				continue
			}
			shares := decimal.Zero
			for j, s := range got {
				shares = shares.Add(s)
				if !wholeCents(s) {
					t.Fatalf("%d: share %s is not whole cents", i, s)
				}
				if sum.IsPositive() {
					quota := total.Mul(weights[j]).Div(sum)
					if s.Sub(quota).Abs().GreaterThanOrEqual(cent) {
						t.Fatalf("%d: share %s of %s is a cent or more from its quota %s", i, s, total, quota)
					}
				}
			}
			if !shares.Equal(total) {
				t.Fatalf("%d: shares add up to %s; want %s", i, shares, total)
			}
		}
	})
}
