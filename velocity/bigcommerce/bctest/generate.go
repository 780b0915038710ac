package bctest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"
)

// GenOptions sizes a generated store.
type GenOptions struct {
	Seed   uint64
	Orders int
	// Start is when the first order was placed (default 2026-01-05 UTC);
	// order i is placed at Start + i·Step (default 7 minutes).
	Start time.Time
	Step  time.Duration
}

// Case is the B2B situation a generated order shows; order i has case
// Cases[i % len(Cases)], so every case appears once the store has
// len(Cases) orders.
type Case string

// The cases of a generated store.
const (
	CaseCardShipped        Case = "card, shipped"
	CaseTermsPO            Case = "terms PO, awaiting payment"
	CaseTermsPaid          Case = "terms Net 30, paid by an offline transaction"
	CaseTaxInclusive       Case = "tax-inclusive pricing"
	CaseCouponDiscount     Case = "coupon and order discount"
	CaseFeesHandling       Case = "fee and handling"
	CaseGiftWrapping       Case = "gift wrapping"
	CaseStoreCredit        Case = "store credit and gift certificate"
	CasePartiallyShipped   Case = "partially shipped"
	CaseRefundProduct      Case = "refund of a product"
	CaseRefundShipping     Case = "refund of shipping and handling"
	CaseRefundOther        Case = "refund of wrapping, fee and an order amount"
	CaseRefundOutside      Case = "refunded outside BigCommerce (no record)"
	CaseCancelled          Case = "cancelled"
	CaseDeleted            Case = "deleted"
	CasePending            Case = "pending (not reportable)"
	CaseFourPlacePrice     Case = "4-place unit price"
	CaseAwaitingFulfilment Case = "card, awaiting fulfillment"
)

// Cases lists the generated cases in order.
var Cases = []Case{
	CaseCardShipped, CaseTermsPO, CaseTermsPaid, CaseTaxInclusive, CaseCouponDiscount, CaseFeesHandling,
	CaseGiftWrapping, CaseStoreCredit, CasePartiallyShipped, CaseRefundProduct, CaseRefundShipping,
	CaseRefundOther, CaseRefundOutside, CaseCancelled, CaseDeleted, CasePending, CaseFourPlacePrice,
	CaseAwaitingFulfilment, CaseCardShipped, CaseCardShipped,
}

// GeneratedTerms is the bigcommerce.terms setting that matches the
// payment methods of a generated store.
const GeneratedTerms = "PO=30,Net 30=30"

// CaseOf returns the case of the generated order with the given id.
func CaseOf(id int) Case { return Cases[(id-firstGeneratedID)%len(Cases)] }

const firstGeneratedID = 1001

func cents(c int64) decimal.Decimal { return decimal.New(c, -2) }

// Generate fills the store with a deterministic B2B store: customers,
// catalog products (some with variants) and opt.Orders orders with ids
// from 1001 spread over the cases in Cases. Dates come from opt.Start,
// not from the server clock, so the same options give the same store.
func (s *Server) Generate(opt GenOptions) error {
	if opt.Start.IsZero() {
		opt.Start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	}
	if opt.Step <= 0 {
		opt.Step = 7 * time.Minute
	}
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	type variant struct {
		productID, variantID int
		sku, name            string
		price                decimal.Decimal
	}
	var catalog []variant
	for i := range 24 {
		price := cents(int64(500 + rng.IntN(20000)))
		name := fmt.Sprintf("Clinic supply %d", i+1)
		sku := fmt.Sprintf("BC-%03d", i+1)
		if i%3 == 0 {
			sizes := []string{"S", "M", "L"}
			var vs []VariantSpec
			for _, sz := range sizes {
				vs = append(vs, VariantSpec{SKU: sku + "-" + sz, Label: sz})
			}
			pid, vids := s.AddProduct(ProductSpec{Name: name, SKU: sku, Price: price, Visible: true, Variants: vs, Modified: opt.Start.Add(-time.Hour)})
			for j, v := range vids {
				catalog = append(catalog, variant{pid, v, vs[j].SKU, name + " " + sizes[j], price})
			}
			continue
		}
		pid, vids := s.AddProduct(ProductSpec{Name: name, SKU: sku, Price: price, Visible: true, Modified: opt.Start.Add(-time.Hour)})
		catalog = append(catalog, variant{pid, vids[0], sku, name, price})
	}
	nCust := max(5, opt.Orders/20)
	var custs []int
	var addrs []Address
	for i := range nCust {
		a := Address{FirstName: fmt.Sprintf("Dana%d", i+1), LastName: "Buyer", Company: fmt.Sprintf("Clinic %d LLC", i+1),
			Street1: fmt.Sprintf("%d Main St", 10+i), City: "Austin", State: "Texas", Zip: "78701", Country: "United States",
			CountryISO2: "US", Phone: "512-555-0100", Email: fmt.Sprintf("buyer%d@clinic%d.example", i+1, i+1)}
		id := s.AddCustomer(CustomerSpec{Email: a.Email, FirstName: a.FirstName, LastName: a.LastName, Company: a.Company,
			Phone: a.Phone, Addresses: []Address{a}, Modified: opt.Start.Add(-time.Hour)})
		custs = append(custs, id)
		addrs = append(addrs, a)
	}
	rate := decimal.RequireFromString("0.0825")
	for i := range opt.Orders {
		id := firstGeneratedID + i
		c := Cases[i%len(Cases)]
		ci := rng.IntN(nCust)
		created := opt.Start.Add(time.Duration(i) * opt.Step)
		spec := OrderSpec{ID: id, CustomerID: custs[ci], Created: created, PaymentMethod: "Credit Card",
			PaymentProvider: fmt.Sprintf("ch_%d", id), TaxRate: rate, Billing: addrs[ci],
			Shipping: cents(int64(500 + rng.IntN(2000)))}
		for range 1 + rng.IntN(4) {
			v := catalog[rng.IntN(len(catalog))]
			spec.Lines = append(spec.Lines, LineSpec{ProductID: v.productID, VariantID: v.variantID, SKU: v.sku, Name: v.name,
				Price: v.price, Quantity: 1 + rng.IntN(12)})
		}
		ship, partial := false, false
		var refund *RefundSpec
		var txn *TransactionSpec
		status := 0
		switch c {
		case CaseCardShipped:
			ship = true
		case CaseTermsPO:
			spec.PaymentMethod, spec.PaymentProvider, status = "PO", "", StatusAwaitingPayment
		case CaseTermsPaid:
			spec.PaymentMethod, spec.PaymentProvider = "Net 30", ""
			ship = true
			txn = &TransactionSpec{Event: "purchase", Method: "offline", Gateway: "cheque", Offline: "Check", Created: created.Add(20 * 24 * time.Hour)}
		case CaseTaxInclusive:
			spec.TaxInclusive, spec.TaxRate = true, decimal.RequireFromString("0.2")
			ship = true
		case CaseCouponDiscount:
			spec.CouponCode, spec.CouponAmount, spec.Discount = "B2B10", cents(1000), cents(250)
			ship = true
		case CaseFeesHandling:
			spec.Fees = []FeeSpec{{Name: "Hazmat fee", Cost: cents(1250)}}
			spec.Handling = cents(300)
			ship = true
		case CaseGiftWrapping:
			spec.Lines[0].Wrapping = cents(499)
		case CaseStoreCredit:
			spec.StoreCredit, spec.GiftCertificate = cents(2000), cents(500)
			ship = true
		case CasePartiallyShipped:
			spec.Lines[0].Quantity = max(spec.Lines[0].Quantity, 2)
			partial = true
		case CaseRefundProduct:
			ship = true
			refund = &RefundSpec{Items: []RefundItemSpec{{Type: ItemProduct, Quantity: 1}}, Reason: "damaged"}
		case CaseRefundShipping:
			spec.Handling = cents(300)
			refund = &RefundSpec{Items: []RefundItemSpec{{Type: ItemShipping}, {Type: ItemHandling}}, Reason: "late"}
		case CaseRefundOther:
			spec.Lines[0].Wrapping = cents(350)
			spec.Fees = []FeeSpec{{Name: "Rush fee", Cost: cents(900)}}
			refund = &RefundSpec{Items: []RefundItemSpec{{Type: ItemGiftWrapping}, {Type: ItemFee}, {Type: ItemOrder, Amount: cents(500)}}, Reason: "goodwill"}
		case CaseRefundOutside:
			ship = true
			status = StatusPartiallyRefunded
		case CaseCancelled:
			status = StatusCancelled
		case CaseDeleted:
		case CasePending:
			status = StatusPending
		case CaseFourPlacePrice:
			// 4 places that come to whole cents at this quantity.
			spec.Lines[0].Price = decimal.RequireFromString("12.3455")
			spec.Lines[0].Quantity = 20
		case CaseAwaitingFulfilment:
		}
		if _, err := s.AddOrder(spec); err != nil {
			return err
		}
		at := created.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
		if ship || partial {
			sh := ShipmentSpec{TrackingNumber: fmt.Sprintf("1Z%010d", id), Provider: "ups", Carrier: "ups", Created: at}
			if partial {
				sh.Items = map[int]int{s.ProductIDs(id)[0]: 1}
			}
			if _, err := s.Ship(id, sh); err != nil {
				return err
			}
		}
		if refund != nil {
			refund.Created = at.Add(24 * time.Hour)
			if _, err := s.Refund(id, *refund); err != nil {
				return err
			}
		}
		if txn != nil {
			s.mu.Lock()
			txn.Amount = decimal.Decimal(s.orders[id].w.TotalIncTax).Round(2)
			s.mu.Unlock()
			if _, err := s.AddTransaction(id, *txn); err != nil {
				return err
			}
		}
		if status != 0 {
			if err := s.SetStatus(id, status); err != nil {
				return err
			}
		}
		if c == CaseDeleted {
			if err := s.Delete(id); err != nil {
				return err
			}
		}
		// Every change above was stamped with the server clock; a
		// generated store dates them from its own timeline instead.
		last := created
		if ship || partial {
			last = at
		}
		if refund != nil {
			last = refund.Created
		}
		if txn != nil {
			last = txn.Created
		}
		s.mu.Lock()
		s.orders[id].w.DateModified = rfc2822(last.UTC().Truncate(time.Second))
		s.mu.Unlock()
	}
	return nil
}

// SetModified sets an order's date_modified, for tests that place
// changes on a timeline.
func (s *Server) SetModified(id int, t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		return fmt.Errorf("order %d: %w", id, ErrNotFound)
	}
	o.w.DateModified = rfc2822(t.UTC().Truncate(time.Second))
	return nil
}
