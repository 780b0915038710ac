package bctest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// BigCommerce's order status ids (GET /v2/order_statuses).
const (
	StatusIncomplete          = 0
	StatusPending             = 1
	StatusShipped             = 2
	StatusPartiallyShipped    = 3
	StatusRefunded            = 4
	StatusCancelled           = 5
	StatusDeclined            = 6
	StatusAwaitingPayment     = 7
	StatusAwaitingPickup      = 8
	StatusAwaitingShipment    = 9
	StatusCompleted           = 10
	StatusAwaitingFulfillment = 11
	StatusManualVerification  = 12
	StatusDisputed            = 13
	StatusPartiallyRefunded   = 14
)

var statusNames = map[int]string{
	0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded",
	5: "Cancelled", 6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup",
	9: "Awaiting Shipment", 10: "Completed", 11: "Awaiting Fulfillment",
	12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded",
}

// Refund item types of the v3 refunds API.
const (
	ItemProduct      = "PRODUCT"
	ItemShipping     = "SHIPPING"
	ItemHandling     = "HANDLING"
	ItemGiftWrapping = "GIFT_WRAPPING"
	ItemFee          = "FEE"
	ItemOrder        = "ORDER"
)

// Address is a postal address of an order or customer.
type Address struct {
	FirstName, LastName, Company, Street1, Street2, City, State, Zip, Country, CountryISO2, Phone, Email string
}

// LineSpec is one product line of an order. Price is per unit, ex tax
// when the order prices ex tax, inc tax when it prices tax-inclusive; it
// may carry 4 decimal places. Wrapping is the gift-wrapping charge of the
// line (same tax basis), zero for none.
type LineSpec struct {
	ProductID, VariantID int
	SKU, Name            string
	Price                decimal.Decimal
	Quantity             int
	Wrapping             decimal.Decimal
}

// FeeSpec is a custom fee of an order (same tax basis as the prices).
type FeeSpec struct {
	Name string
	Cost decimal.Decimal
}

// OrderSpec describes an order to add. Zero ID takes the next one; zero
// Created and Modified take the server clock; zero StatusID is
// Awaiting Fulfillment (11) — use Pending explicitly via SetStatus.
type OrderSpec struct {
	ID              int
	CustomerID      int
	Created         time.Time
	Modified        time.Time
	StatusID        int
	PaymentMethod   string
	PaymentProvider string
	TaxInclusive    bool
	TaxRate         decimal.Decimal // e.g. 0.0825; zero for no tax
	// TaxPlaces is how many decimal places each computed tax keeps: 0
	// (the default) or 2 rounds it to the cent, so ex and inc figures
	// are whole cents; 4 keeps BigCommerce's 4 places, so a tax-inclusive
	// price's ex-tax figures are seldom whole cents (10.00 with 10 % is
	// 9.0909 ex tax, 0.9091 tax).
	TaxPlaces       int32
	Currency        string // default USD
	Lines           []LineSpec
	Shipping        decimal.Decimal
	Handling        decimal.Decimal
	Fees            []FeeSpec
	CouponCode      string
	CouponAmount    decimal.Decimal
	Discount        decimal.Decimal // manual or automatic order discount
	StoreCredit     decimal.Decimal
	GiftCertificate decimal.Decimal
	Billing         Address
	ShipTo          Address
	ShippingMethod  string
	StaffNotes      string
}

var hundred = decimal.NewFromInt(100)

func r4(d decimal.Decimal) decimal.Decimal { return d.Round(4) }

// taxer computes an order's taxes: its rate, tax basis and the places
// each tax keeps (OrderSpec.TaxPlaces).
type taxer struct {
	rate      decimal.Decimal
	inclusive bool
	places    int32
}

func taxerOf(spec OrderSpec) taxer {
	places := spec.TaxPlaces
	if places != 4 {
		places = 2
	}
	return taxer{rate: spec.TaxRate, inclusive: spec.TaxInclusive, places: places}
}

// split returns (ex, inc, tax) of an amount given on the order's tax
// basis. Tax is computed on the amount and rounded to the cent (as
// BigCommerce's basic tax provider does per line) or to 4 places; ex and
// inc then differ by exactly that tax.
func (tx taxer) split(amount decimal.Decimal) (ex, inc, tax decimal.Decimal) {
	amount = r4(amount)
	if tx.inclusive {
		inc = amount
		tax = amount.Mul(tx.rate).Div(decimal.NewFromInt(1).Add(tx.rate)).Round(tx.places)
		return inc.Sub(tax), inc, tax
	}
	ex = amount
	tax = amount.Mul(tx.rate).Round(tx.places)
	return ex, ex.Add(tax), tax
}

// splitLine is split for a line of q units at unit price: the line's
// figures come from split on the line total, the unit figures are the
// line's divided by q at 4 places (so they may not multiply back exactly,
// as on a real store).
func (tx taxer) splitLine(unit decimal.Decimal, q int) (uEx, uInc, uTax, ex, inc, tax decimal.Decimal) {
	qd := decimal.NewFromInt(int64(q))
	ex, inc, tax = tx.split(unit.Mul(qd))
	if tx.inclusive {
		uInc = r4(unit)
		uEx = r4(ex.Div(qd))
		return uEx, uInc, uInc.Sub(uEx), ex, inc, tax
	}
	uEx = r4(unit)
	uTax = r4(tax.Div(qd))
	return uEx, uEx.Add(uTax), uTax, ex, inc, tax
}

// AddOrder stores the order spec describes and returns its id. It returns
// an error when a line has no quantity or the id is taken.
func (s *Server) AddOrder(spec OrderSpec) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if spec.ID == 0 {
		spec.ID = s.next("order", 100)
	} else if s.seq["order"] < spec.ID {
		s.seq["order"] = spec.ID
	}
	if _, dup := s.orders[spec.ID]; dup {
		return 0, fmt.Errorf("bctest: order %d exists", spec.ID)
	}
	for i, l := range spec.Lines {
		if l.Quantity <= 0 {
			return 0, fmt.Errorf("bctest: order %d line %d: quantity %d", spec.ID, i, l.Quantity)
		}
	}
	now := s.stamp()
	if spec.Created.IsZero() {
		spec.Created = now
	}
	if spec.Modified.IsZero() {
		spec.Modified = spec.Created
	}
	if spec.StatusID == 0 {
		spec.StatusID = StatusAwaitingFulfillment
	}
	if spec.Currency == "" {
		spec.Currency = "USD"
	}
	o := &order{}
	o.w = wOrder{
		ID:                      spec.ID,
		CustomerID:              spec.CustomerID,
		DateCreated:             rfc2822(spec.Created.UTC().Truncate(time.Second)),
		PaymentMethod:           spec.PaymentMethod,
		CurrencyID:              1,
		CurrencyCode:            spec.Currency,
		CurrencyExchangeRate:    "1.0000000000",
		DefaultCurrencyID:       1,
		DefaultCurrencyCode:     spec.Currency,
		StoreDefaultCurrency:    spec.Currency,
		StoreDefaultToTransRate: "1.0000000000",
		OrderSource:             "www",
		ChannelID:               1,
		TaxProviderID:           "BasicTaxProvider",
		CustomerLocale:          "en",
		ShippingCostTaxClassID:  2, HandlingCostTaxClassID: 2, WrappingCostTaxClassID: 3,
	}
	if spec.PaymentProvider != "" {
		o.w.PaymentProviderID = spec.PaymentProvider
	}
	o.address.ID = s.next("address", 0)
	s.build(o, spec)
	o.w.DateModified = rfc2822(spec.Modified.UTC().Truncate(time.Second))
	s.orders[spec.ID] = o
	return spec.ID, nil
}

// build (re)computes the order's products, address and totals from spec,
// keeping order product ids by position. Caller holds s.mu.
func (s *Server) build(o *order, spec OrderSpec) {
	w := &o.w
	inclusive := spec.TaxInclusive
	o.rate = spec.TaxRate
	o.taxPlaces = spec.TaxPlaces
	tx := taxerOf(spec)
	w.IsTaxInclusivePricing = inclusive
	w.StatusID, w.Status, w.CustomStatus = spec.StatusID, statusNames[spec.StatusID], statusNames[spec.StatusID]
	w.PaymentMethod = spec.PaymentMethod
	w.StaffNotes = spec.StaffNotes
	b := spec.Billing
	w.BillingAddress = wAddress{FirstName: b.FirstName, LastName: b.LastName, Company: b.Company, Street1: b.Street1, Street2: b.Street2,
		City: b.City, State: b.State, Zip: b.Zip, Country: b.Country, CountryISO2: b.CountryISO2, Phone: b.Phone, Email: b.Email}

	var subEx, subInc, subTax, wrapEx, wrapInc, wrapTax decimal.Decimal
	items := 0
	old := o.products
	o.products = nil
	for i, l := range spec.Lines {
		uEx, uInc, uTax, ex, inc, tax := tx.splitLine(l.Price, l.Quantity)
		p := &wOrderProduct{}
		if i < len(old) {
			p.ID = old[i].ID
			p.QuantityShipped = min(old[i].QuantityShipped, l.Quantity)
			p.QuantityRefunded = min(old[i].QuantityRefunded, l.Quantity)
		} else {
			p.ID = s.next("order_product", 0)
		}
		p.OrderID, p.ProductID, p.VariantID, p.OrderAddressID = w.ID, l.ProductID, l.VariantID, o.address.ID
		p.Name, p.NameCustomer, p.NameMerchant, p.SKU, p.Type = l.Name, l.Name, l.Name, l.SKU, "physical"
		p.BasePrice = m4(l.Price)
		p.PriceExTax, p.PriceIncTax, p.PriceTax = m4(uEx), m4(uInc), m4(uTax)
		p.Quantity = l.Quantity
		p.BaseTotal = m4(r4(l.Price.Mul(decimal.NewFromInt(int64(l.Quantity)))))
		p.TotalExTax, p.TotalIncTax, p.TotalTax = m4(ex), m4(inc), m4(tax)
		p.IsRefunded = p.QuantityRefunded > 0
		p.AppliedDiscounts = []wAppliedDiscount{}
		p.ProductOptions = []any{}
		p.ConfigurableFields = []any{}
		p.DiscountedTotalIncTax = m4(inc)
		if !l.Wrapping.IsZero() {
			wex, winc, wtax := tx.split(l.Wrapping)
			p.WrappingName = "Gift wrap"
			p.BaseWrappingCost = m4(l.Wrapping)
			p.WrappingCostExTax, p.WrappingCostIncTax, p.WrappingCostTax = m4(wex), m4(winc), m4(wtax)
			wrapEx, wrapInc, wrapTax = wrapEx.Add(wex), wrapInc.Add(winc), wrapTax.Add(wtax)
		}
		subEx, subInc, subTax = subEx.Add(ex), subInc.Add(inc), subTax.Add(tax)
		items += l.Quantity
		o.products = append(o.products, p)
	}
	w.SubtotalExTax, w.SubtotalIncTax, w.SubtotalTax = m4(subEx), m4(subInc), m4(subTax)
	w.BaseWrappingCost = m4(wrapInc)
	if !inclusive {
		w.BaseWrappingCost = m4(wrapEx)
	}
	w.WrappingCostExTax, w.WrappingCostIncTax, w.WrappingCostTax = m4(wrapEx), m4(wrapInc), m4(wrapTax)

	shEx, shInc, shTax := tx.split(spec.Shipping)
	w.BaseShippingCost = m4(r4(spec.Shipping))
	w.ShippingCostExTax, w.ShippingCostIncTax, w.ShippingCostTax = m4(shEx), m4(shInc), m4(shTax)
	hEx, hInc, hTax := tx.split(spec.Handling)
	w.BaseHandlingCost = m4(r4(spec.Handling))
	w.HandlingCostExTax, w.HandlingCostIncTax, w.HandlingCostTax = m4(hEx), m4(hInc), m4(hTax)

	var feeInc, feeTax decimal.Decimal
	oldFees := w.Fees
	w.Fees = nil
	for i, f := range spec.Fees {
		fex, finc, ftax := tx.split(f.Cost)
		id := 0
		if i < len(oldFees) {
			id = oldFees[i].ID
		} else {
			id = s.next("fee", 0)
		}
		w.Fees = append(w.Fees, wFee{ID: id, Type: "custom_fee", DisplayNameCustomer: f.Name, DisplayNameMerchant: f.Name,
			Source: "API", BaseCost: m4(r4(f.Cost)), CostExTax: m4(fex), CostIncTax: m4(finc), CostTax: m4(ftax), TaxClassID: 2})
		feeInc, feeTax = feeInc.Add(finc), feeTax.Add(ftax)
	}

	// Discounts come off the tax-inclusive total; the fake keeps tax on
	// the undiscounted amounts (a simplification: real tax engines tax
	// the discounted price).
	w.DiscountAmount = m4(r4(spec.Discount))
	w.CouponDiscount = m4(r4(spec.CouponAmount))
	o.coupons = nil
	if !spec.CouponAmount.IsZero() || spec.CouponCode != "" {
		o.coupons = []*wCoupon{{ID: s.next("coupon", 0), CouponID: 1, OrderID: w.ID, Code: spec.CouponCode,
			Amount: m4(r4(spec.CouponAmount)), Type: 2, Discount: m4(r4(spec.CouponAmount))}}
	}
	totalTax := subTax.Add(wrapTax).Add(shTax).Add(hTax).Add(feeTax)
	totalInc := subInc.Add(wrapInc).Add(shInc).Add(hInc).Add(feeInc).Sub(r4(spec.Discount)).Sub(r4(spec.CouponAmount))
	w.TotalIncTax, w.TotalTax, w.TotalExTax = m4(totalInc), m4(totalTax), m4(totalInc.Sub(totalTax))
	w.StoreCreditAmount = m4(r4(spec.StoreCredit))
	w.GiftCertificateAmount = m4(r4(spec.GiftCertificate))
	w.ItemsTotal = items
	shipped := 0
	for _, p := range o.products {
		shipped += p.QuantityShipped
	}
	w.ItemsShipped = shipped

	st := spec.ShipTo
	if st == (Address{}) {
		st = b
	}
	a := &o.address
	a.OrderID = w.ID
	a.FirstName, a.LastName, a.Company, a.Street1, a.Street2 = st.FirstName, st.LastName, st.Company, st.Street1, st.Street2
	a.City, a.State, a.Zip, a.Country, a.CountryISO2, a.Phone, a.Email = st.City, st.State, st.Zip, st.Country, st.CountryISO2, st.Phone, st.Email
	a.ItemsTotal, a.ItemsShipped = items, shipped
	a.ShippingMethod = cmpStr(spec.ShippingMethod, "Flat Rate")
	a.BaseCost, a.CostExTax, a.CostIncTax, a.CostTax = w.BaseShippingCost, w.ShippingCostExTax, w.ShippingCostIncTax, w.ShippingCostTax
	a.BaseHandlingCost, a.HandlingCostExTax, a.HandlingCostIncTax, a.HandlingCostTax = w.BaseHandlingCost, w.HandlingCostExTax, w.HandlingCostIncTax, w.HandlingCostTax
	a.CostTaxClassID, a.HandlingCostTaxClassID = 2, 2
	a.ShippingZoneID, a.ShippingZoneName = 1, "United States"
	w.ShippingAddressCount = 1
	w.PaymentStatus = paymentStatus(w.StatusID)
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func paymentStatus(status int) string {
	switch status {
	case StatusShipped, StatusPartiallyShipped, StatusAwaitingPickup, StatusAwaitingShipment, StatusCompleted, StatusAwaitingFulfillment:
		return "captured"
	case StatusRefunded:
		return "refunded"
	case StatusPartiallyRefunded:
		return "partially refunded"
	case StatusCancelled:
		return "void"
	}
	return ""
}

// Spec returns the order as an OrderSpec (what Modify edits). The second
// result is false when there is no such order.
func (s *Server) Spec(id int) (OrderSpec, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		return OrderSpec{}, false
	}
	return o.spec(), true
}

// spec reconstructs the spec of o. Caller holds s.mu.
func (o *order) spec() OrderSpec {
	w := o.w
	d := func(m m4) decimal.Decimal { return decimal.Decimal(m) }
	sp := OrderSpec{ID: w.ID, CustomerID: w.CustomerID, Created: time.Time(w.DateCreated), Modified: time.Time(w.DateModified),
		StatusID: w.StatusID, PaymentMethod: w.PaymentMethod, TaxInclusive: w.IsTaxInclusivePricing, TaxRate: o.rate, TaxPlaces: o.taxPlaces,
		Currency: w.CurrencyCode, Shipping: d(w.BaseShippingCost), Handling: d(w.BaseHandlingCost),
		Discount: d(w.DiscountAmount), CouponAmount: d(w.CouponDiscount), StoreCredit: d(w.StoreCreditAmount),
		GiftCertificate: d(w.GiftCertificateAmount), ShippingMethod: o.address.ShippingMethod, StaffNotes: w.StaffNotes}
	if s, ok := w.PaymentProviderID.(string); ok {
		sp.PaymentProvider = s
	}
	b := w.BillingAddress
	sp.Billing = Address{b.FirstName, b.LastName, b.Company, b.Street1, b.Street2, b.City, b.State, b.Zip, b.Country, b.CountryISO2, b.Phone, b.Email}
	a := o.address
	sp.ShipTo = Address{a.FirstName, a.LastName, a.Company, a.Street1, a.Street2, a.City, a.State, a.Zip, a.Country, a.CountryISO2, a.Phone, a.Email}
	if len(o.coupons) > 0 {
		sp.CouponCode = o.coupons[0].Code
	}
	for _, p := range o.products {
		sp.Lines = append(sp.Lines, LineSpec{ProductID: p.ProductID, VariantID: p.VariantID, SKU: p.SKU, Name: p.Name,
			Price: d(p.BasePrice), Quantity: p.Quantity, Wrapping: d(p.BaseWrappingCost)})
	}
	for _, f := range w.Fees {
		sp.Fees = append(sp.Fees, FeeSpec{Name: f.DisplayNameMerchant, Cost: d(f.BaseCost)})
	}
	return sp
}

// touch stamps the order modified now. Caller holds s.mu.
func (s *Server) touch(o *order) { o.w.DateModified = rfc2822(s.stamp()) }

func (s *Server) mutate(id int, f func(o *order) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		return fmt.Errorf("order %d: %w", id, ErrNotFound)
	}
	if err := f(o); err != nil {
		return err
	}
	s.touch(o)
	return nil
}

// Modify edits an order through its spec (lines keep their ids by
// position) and recomputes its totals, as an order edit in the control
// panel does; date_modified moves.
func (s *Server) Modify(id int, f func(*OrderSpec)) error {
	return s.mutate(id, func(o *order) error {
		sp := o.spec()
		f(&sp)
		sp.ID = id
		s.build(o, sp)
		return nil
	})
}

// SetStatus sets the order's status_id; date_modified moves. Setting
// Refunded or Partially Refunded with no refund models a refund made
// outside BigCommerce.
func (s *Server) SetStatus(id, statusID int) error {
	return s.mutate(id, func(o *order) error {
		o.w.StatusID, o.w.Status, o.w.CustomStatus = statusID, statusNames[statusID], statusNames[statusID]
		o.w.PaymentStatus = paymentStatus(statusID)
		return nil
	})
}

// Cancel sets status Cancelled (5).
func (s *Server) Cancel(id int) error { return s.SetStatus(id, StatusCancelled) }

// Delete archives the order (is_deleted true); it stays readable by id.
func (s *Server) Delete(id int) error {
	return s.mutate(id, func(o *order) error {
		o.w.IsDeleted = true
		return nil
	})
}

// ShipmentSpec describes a shipment. Items maps order product ids to the
// quantity shipped; nil ships everything not yet shipped.
type ShipmentSpec struct {
	Items          map[int]int
	TrackingNumber string
	Provider       string // e.g. "usps", "ups", or "" for a custom carrier
	Carrier        string // tracking_carrier
	Method         string
	Created        time.Time
}

// Ship adds a shipment and moves items_shipped, quantity_shipped, the
// status (Shipped or Partially Shipped) and date_shipped; it returns the
// shipment id.
func (s *Server) Ship(orderID int, spec ShipmentSpec) (int, error) {
	var id int
	err := s.mutate(orderID, func(o *order) error {
		now := s.stamp()
		if spec.Created.IsZero() {
			spec.Created = now
		}
		sh := &wShipment{ID: s.next("shipment", 0), OrderID: orderID, CustomerID: o.w.CustomerID, OrderAddressID: o.address.ID,
			DateCreated: rfc2822(spec.Created.UTC().Truncate(time.Second)), TrackingNumber: spec.TrackingNumber,
			ShippingMethod: cmpStr(spec.Method, o.address.ShippingMethod), ShippingProvider: spec.Provider,
			ShippingProviderDisplayName: strings.ToUpper(spec.Provider), TrackingCarrier: spec.Carrier,
			BillingAddress: o.w.BillingAddress, Items: []wShipmentItem{}}
		a := o.address
		sh.ShippingAddress = wAddress{a.FirstName, a.LastName, a.Company, a.Street1, a.Street2, a.City, a.State, a.Zip, a.Country, a.CountryISO2, a.Phone, a.Email}
		for _, p := range o.products {
			q, ok := spec.Items[p.ID]
			if spec.Items == nil {
				q, ok = p.Quantity-p.QuantityShipped, true
			}
			if !ok || q <= 0 {
				continue
			}
			if q > p.Quantity-p.QuantityShipped {
				return fmt.Errorf("bctest: order %d product %d: ship %d of %d left", orderID, p.ID, q, p.Quantity-p.QuantityShipped)
			}
			p.QuantityShipped += q
			sh.Items = append(sh.Items, wShipmentItem{OrderProductID: p.ID, ProductID: p.ProductID, Quantity: q})
		}
		if len(sh.Items) == 0 {
			return fmt.Errorf("bctest: order %d: nothing to ship", orderID)
		}
		o.shipments = append(o.shipments, sh)
		shipped, total := 0, 0
		for _, p := range o.products {
			shipped += p.QuantityShipped
			total += p.Quantity
		}
		o.w.ItemsShipped, o.address.ItemsShipped = shipped, shipped
		o.w.DateShipped = rfc2822(now)
		st := StatusPartiallyShipped
		if shipped == total {
			st = StatusShipped
		}
		o.w.StatusID, o.w.Status, o.w.CustomStatus = st, statusNames[st], statusNames[st]
		id = sh.ID
		return nil
	})
	return id, err
}

// RefundItemSpec is one item of a refund. ItemID is the order product id
// (PRODUCT, GIFT_WRAPPING), the order address id (SHIPPING, HANDLING),
// the fee id (FEE) or the order id (ORDER); zero picks the order's first.
// Amount, when set, is the tax-inclusive amount refunded (required for
// ORDER); otherwise the item's full tax-inclusive amount is (for PRODUCT,
// Quantity units of it).
type RefundItemSpec struct {
	Type     string
	ItemID   int
	Quantity int
	Amount   decimal.Decimal
}

// RefundSpec describes a refund created through BigCommerce.
type RefundSpec struct {
	Items    []RefundItemSpec
	Reason   string
	Provider string // default "storecredit"
	Offline  bool
	Created  time.Time
	// Quiet leaves the order as it is (status and date_modified), to test
	// reading refunds created since the cursor on orders that did not move.
	Quiet bool
}

// Refund creates a v3 refund. Its total_amount is the sum of the items'
// tax-inclusive amounts and total_tax their tax (both 2 places, as v3
// sends them). Unless Quiet, the order's status becomes Refunded when the
// refunds reach total_inc_tax, else Partially Refunded. It returns the
// refund id.
func (s *Server) Refund(orderID int, spec RefundSpec) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[orderID]
	if o == nil {
		return 0, fmt.Errorf("order %d: %w", orderID, ErrNotFound)
	}
	rf := &wRefund{ID: s.next("refund", 0), OrderID: orderID, UserID: 1, Reason: spec.Reason, Items: []wRefundItem{}}
	var total, tax decimal.Decimal
	for _, it := range spec.Items {
		amt, t, wi, err := o.refundItem(it)
		if err != nil {
			return 0, err
		}
		total, tax = total.Add(amt), tax.Add(t)
		rf.Items = append(rf.Items, wi)
	}
	created := spec.Created
	if created.IsZero() {
		created = s.stamp()
	}
	rf.Created = iso(created.UTC().Truncate(time.Second))
	rf.TotalAmount, rf.TotalTax = num(total.Round(2)), num(tax.Round(2))
	rf.Payments = []wRefundPayment{{ID: s.next("refund_payment", 0), ProviderID: cmpStr(spec.Provider, "storecredit"),
		Amount: num(total.Round(2)), Offline: spec.Offline}}
	s.refunds = append(s.refunds, rf)
	if !spec.Quiet {
		refunded := decimal.Zero
		for _, r := range s.refunds {
			if r.OrderID == orderID {
				refunded = refunded.Add(decimal.Decimal(r.TotalAmount))
			}
		}
		st := StatusPartiallyRefunded
		if refunded.GreaterThanOrEqual(decimal.Decimal(o.w.TotalIncTax).Round(2)) {
			st = StatusRefunded
		}
		o.w.StatusID, o.w.Status, o.w.CustomStatus = st, statusNames[st], statusNames[st]
		o.w.PaymentStatus = paymentStatus(st)
		s.touch(o)
	}
	return rf.ID, nil
}

// refundItem resolves one refund item against the order: its
// tax-inclusive amount, its tax, and its wire form. Caller holds s.mu.
func (o *order) refundItem(it RefundItemSpec) (amt, tax decimal.Decimal, wi wRefundItem, err error) {
	d := func(m m4) decimal.Decimal { return decimal.Decimal(m) }
	wi = wRefundItem{ItemType: it.Type, ItemID: it.ItemID}
	ratio := func(inc, t decimal.Decimal) decimal.Decimal {
		if inc.IsZero() || it.Amount.IsZero() {
			return t
		}
		return r4(t.Mul(it.Amount).Div(inc))
	}
	pick := func(whole, t decimal.Decimal) {
		amt, tax = whole, t
		if !it.Amount.IsZero() {
			amt, tax = it.Amount, ratio(whole, t)
		}
		a := num(amt)
		wi.RequestedAmount = &a
	}
	switch it.Type {
	case ItemProduct, ItemGiftWrapping:
		var p *wOrderProduct
		for _, op := range o.products {
			if op.ID == it.ItemID || it.ItemID == 0 {
				p = op
				break
			}
		}
		if p == nil {
			return amt, tax, wi, fmt.Errorf("bctest: order %d has no product %d", o.w.ID, it.ItemID)
		}
		wi.ItemID = p.ID
		if it.Type == ItemGiftWrapping {
			pick(d(p.WrappingCostIncTax), d(p.WrappingCostTax))
			break
		}
		q := it.Quantity
		if q == 0 {
			q = p.Quantity - p.QuantityRefunded
		}
		if q <= 0 || q > p.Quantity-p.QuantityRefunded {
			return amt, tax, wi, fmt.Errorf("bctest: order %d product %d: refund %d of %d left", o.w.ID, p.ID, q, p.Quantity-p.QuantityRefunded)
		}
		p.QuantityRefunded += q
		p.IsRefunded = true
		wi.Quantity = &q
		// q of the line's units: their share of the line's figures.
		share := decimal.NewFromInt(int64(q)).Div(decimal.NewFromInt(int64(p.Quantity)))
		amt, tax = d(p.TotalIncTax).Mul(share).Round(2), d(p.TotalTax).Mul(share).Round(2)
		if !it.Amount.IsZero() {
			amt, tax = it.Amount, ratio(amt, tax)
		}
	case ItemShipping:
		wi.ItemID = o.address.ID
		pick(d(o.w.ShippingCostIncTax), d(o.w.ShippingCostTax))
	case ItemHandling:
		wi.ItemID = o.address.ID
		pick(d(o.w.HandlingCostIncTax), d(o.w.HandlingCostTax))
	case ItemFee:
		i := slices.IndexFunc(o.w.Fees, func(f wFee) bool { return f.ID == it.ItemID || it.ItemID == 0 })
		if i < 0 {
			return amt, tax, wi, fmt.Errorf("bctest: order %d has no fee %d", o.w.ID, it.ItemID)
		}
		wi.ItemID = o.w.Fees[i].ID
		pick(d(o.w.Fees[i].CostIncTax), d(o.w.Fees[i].CostTax))
	case ItemOrder:
		// ORDER refunds are tax-exempt custom amounts.
		if it.Amount.IsZero() {
			return amt, tax, wi, fmt.Errorf("bctest: order %d: an ORDER refund needs an amount", o.w.ID)
		}
		wi.ItemID = o.w.ID
		amt = it.Amount
		a := num(amt)
		wi.RequestedAmount = &a
	default:
		return amt, tax, wi, fmt.Errorf("bctest: refund item type %q", it.Type)
	}
	return amt, tax, wi, nil
}

// TransactionSpec describes a v3 transaction of an order.
type TransactionSpec struct {
	Event   string // purchase, authorization, capture, refund, void, pending, settled
	Method  string // credit_card, offline, custom, store_credit, ...
	Amount  decimal.Decimal
	Gateway string
	// Offline is the offline method's display name (check, PO, ...).
	Offline string
	Status  string // ok (default) or error
	Created time.Time
	// Quiet leaves the order's date_modified alone.
	Quiet bool
}

// AddTransaction records a transaction on an order and, unless Quiet,
// moves its date_modified (marking a terms order paid changes its status
// in practice). It returns the transaction id.
func (s *Server) AddTransaction(orderID int, spec TransactionSpec) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[orderID]
	if o == nil {
		return 0, fmt.Errorf("order %d: %w", orderID, ErrNotFound)
	}
	if spec.Created.IsZero() {
		spec.Created = s.stamp()
	}
	t := &wTransaction{ID: s.next("transaction", 0), OrderID: fmt.Sprint(orderID), Event: spec.Event, Method: spec.Method,
		Amount: num(spec.Amount), Currency: o.w.CurrencyCode, Gateway: cmpStr(spec.Gateway, "custom"),
		GatewayTransactionID: fmt.Sprintf("gw-%d-%d", orderID, s.seq["transaction"]),
		DateCreated:          iso(spec.Created.UTC().Truncate(time.Second)), Status: cmpStr(spec.Status, "ok"),
		PaymentMethodID: spec.Method}
	if spec.Offline != "" {
		t.Offline = &wOffline{DisplayName: spec.Offline}
	}
	o.transactions = append(o.transactions, t)
	if !spec.Quiet {
		s.touch(o)
	}
	return t.ID, nil
}

// CustomerSpec describes a v3 customer.
type CustomerSpec struct {
	ID                                         int
	Email, FirstName, LastName, Company, Phone string
	GroupID                                    int
	Addresses                                  []Address
	Modified                                   time.Time
}

// AddCustomer stores a customer and returns its id; a zero Modified takes
// the server clock.
func (s *Server) AddCustomer(spec CustomerSpec) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if spec.ID == 0 {
		spec.ID = s.next("customer", 0)
	} else if s.seq["customer"] < spec.ID {
		s.seq["customer"] = spec.ID
	}
	if spec.Modified.IsZero() {
		spec.Modified = s.stamp()
	}
	c := &wCustomer{ID: spec.ID, Email: spec.Email, FirstName: spec.FirstName, LastName: spec.LastName, Company: spec.Company,
		Phone: spec.Phone, CustomerGroupID: spec.GroupID, DateCreated: iso(spec.Modified), DateModified: iso(spec.Modified),
		OriginChannelID: 1, ChannelIDs: []int{1}, StoreCreditAmounts: []wStoreCredit{{Amount: num(decimal.Zero)}}}
	for _, a := range spec.Addresses {
		c.Addresses = append(c.Addresses, wCustomerAddress{ID: s.next("customer_address", 0), CustomerID: spec.ID,
			FirstName: a.FirstName, LastName: a.LastName, Company: a.Company, Address1: a.Street1, Address2: a.Street2,
			City: a.City, StateOrProvince: a.State, PostalCode: a.Zip, CountryCode: a.CountryISO2, Country: a.Country,
			Phone: a.Phone, AddressType: "commercial"})
	}
	c.AddressCount = len(c.Addresses)
	s.customers[c.ID] = c
	return c.ID
}

// VariantSpec is one variant of a catalog product.
type VariantSpec struct {
	SKU   string
	Price decimal.Decimal // zero: the product's price
	Label string
}

// ProductSpec describes a catalog product. A product without Variants
// gets its base variant (same SKU), as BigCommerce creates one.
type ProductSpec struct {
	ID       int
	Name     string
	SKU      string
	Price    decimal.Decimal
	Visible  bool
	Variants []VariantSpec
	Modified time.Time
}

// AddProduct stores a product and returns its id and its variants' ids.
func (s *Server) AddProduct(spec ProductSpec) (int, []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if spec.ID == 0 {
		spec.ID = s.next("product", 0)
	} else if s.seq["product"] < spec.ID {
		s.seq["product"] = spec.ID
	}
	if spec.Modified.IsZero() {
		spec.Modified = s.stamp()
	}
	p := &wProduct{ID: spec.ID, Name: spec.Name, Type: "physical", SKU: spec.SKU, Price: num(spec.Price),
		CalculatedPrice: num(spec.Price), IsVisible: spec.Visible, Availability: "available",
		DateCreated: iso(spec.Modified), DateModified: iso(spec.Modified)}
	vs := spec.Variants
	if len(vs) == 0 {
		vs = []VariantSpec{{SKU: spec.SKU}}
	}
	var ids []int
	for _, v := range vs {
		price := v.Price
		if price.IsZero() {
			price = spec.Price
		}
		pr := num(price)
		wv := wVariant{ID: s.next("variant", 0), ProductID: p.ID, SKU: v.SKU, Price: &pr, CalculatedPrice: num(price),
			OptionValues: []wOptionValue{}}
		if v.Label != "" {
			wv.OptionValues = append(wv.OptionValues, wOptionValue{ID: wv.ID, Label: v.Label, OptionID: 1, OptionDisplayName: "Size"})
		}
		p.Variants = append(p.Variants, wv)
		ids = append(ids, wv.ID)
	}
	p.BaseVariantID = ids[0]
	s.products[p.ID] = p
	return p.ID, ids
}

// OrderIDs returns the stored order ids in ascending order.
func (s *Server) OrderIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, 0, len(s.orders))
	for id := range s.orders {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// ProductIDs returns the order product ids of an order, in line order.
func (s *Server) ProductIDs(orderID int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[orderID]
	if o == nil {
		return nil
	}
	var ids []int
	for _, p := range o.products {
		ids = append(ids, p.ID)
	}
	return ids
}
