package bigcommerce

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/velocity"
)

// MethodGiftCertificate is the payment method key of what a gift
// certificate paid.
const MethodGiftCertificate = "gift_certificate"

// DefaultStatuses is the default bigcommerce.statuses: the paid statuses
// (Shipped, Partially Shipped, Awaiting Pickup, Awaiting Shipment,
// Completed, Awaiting Fulfillment) plus Refunded and Partially Refunded,
// which only follow a payment.
const DefaultStatuses = "2,3,8,9,10,11,4,14"

// unitPriceScale is the most fraction digits QBO keeps in a UnitPrice
// (as reconcile assumes for refund lines).
const unitPriceScale = 7

// Config is what the mapping needs from velqbo's settings.
type Config struct {
	// Statuses are the status_ids that make an order reportable.
	Statuses map[int]bool
	// Terms maps a payment method, as NormalizeMethod gives it, to its net
	// days: an order paid with it is on terms (reported as an Invoice).
	Terms map[string]int
}

// DefaultConfig is the Config of a store with no bigcommerce.* settings:
// DefaultStatuses and no terms methods.
func DefaultConfig() Config {
	st, _ := ParseStatuses(DefaultStatuses)
	return Config{Statuses: st, Terms: map[string]int{}}
}

// ParseStatuses parses bigcommerce.statuses, a comma-separated list of
// status_ids such as "2,3,8,9,10,11,4,14". It returns an error naming the
// first bad entry: not an integer, not a BigCommerce status (0–14), or 5
// (Cancelled, which voids and is never reported).
func ParseStatuses(s string) (map[int]bool, error) {
	out := map[int]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < StatusIncomplete || n > StatusPartiallyRefunded {
			return nil, fmt.Errorf("bigcommerce.statuses: %q is not a BigCommerce status id (0-14)", part)
		}
		if n == StatusCancelled {
			return nil, fmt.Errorf("bigcommerce.statuses: 5 (Cancelled) cannot be reportable: a cancelled order's document is voided")
		}
		out[n] = true
	}
	if len(out) == 0 {
		return nil, errors.New("bigcommerce.statuses: no status ids")
	}
	return out, nil
}

// ParseTerms parses bigcommerce.terms, a comma-separated list of
// payment-method=net-days pairs such as "PO=30,Net 30=30". Method names are
// matched after NormalizeMethod, so case and spacing do not matter. An
// empty string is no terms methods. It returns an error naming the first
// bad pair.
func ParseTerms(s string) (map[string]int, error) {
	out := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, days, ok := strings.Cut(part, "=")
		method := NormalizeMethod(name)
		if !ok || method == "" {
			return nil, fmt.Errorf("bigcommerce.terms: %q is not METHOD=NET_DAYS", strings.TrimSpace(part))
		}
		n, err := strconv.Atoi(strings.TrimSpace(days))
		if err != nil || n < 0 || n > 3650 {
			return nil, fmt.Errorf("bigcommerce.terms: %q: net days %q is not a whole number of days from 0 to 3650", strings.TrimSpace(part), strings.TrimSpace(days))
		}
		if _, dup := out[method]; dup {
			return nil, fmt.Errorf("bigcommerce.terms: method %q is listed twice", strings.TrimSpace(name))
		}
		out[method] = n
	}
	return out, nil
}

// NormalizeMethod turns a BigCommerce payment method or refund provider
// ("Credit Card", "PO", "Bank Deposit", "storecredit") into velqbo's
// method key: lower case, runs of anything but letters and digits as one
// "_" ("credit_card", "po", "bank_deposit"), and "storecredit" as
// "store_credit". The key is what payment_method.<method> settings name,
// so Velocity's own method names map to the same keys.
func NormalizeMethod(s string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if sep && b.Len() > 0 {
				b.WriteByte('_')
			}
			sep = false
			b.WriteRune(r)
			continue
		}
		sep = true
	}
	switch k := b.String(); k {
	case "storecredit":
		return velocity.MethodStoreCredit
	default:
		return k
	}
}

// statusNames are the velocity status strings of BigCommerce's status ids.
var statusNames = map[int]string{
	StatusIncomplete:                 "incomplete",
	StatusPending:                    velocity.StatusPending,
	StatusShipped:                    velocity.StatusShipped,
	StatusPartiallyShipped:           velocity.StatusPartiallyShipped,
	StatusRefunded:                   velocity.StatusRefunded,
	StatusCancelled:                  velocity.StatusCancelled,
	StatusDeclined:                   velocity.StatusDeclined,
	StatusAwaitingPayment:            velocity.StatusAwaitingPayment,
	StatusAwaitingPickup:             "awaiting_pickup",
	StatusAwaitingShipment:           velocity.StatusAwaitingShipment,
	StatusCompleted:                  velocity.StatusCompleted,
	StatusAwaitingFulfillment:        velocity.StatusAwaitingFulfillment,
	StatusManualVerificationRequired: "manual_verification_required",
	StatusDisputed:                   "disputed",
	StatusPartiallyRefunded:          velocity.StatusPartiallyRefunded,
}

// StatusName is the velocity status string of a status_id ("status_<id>"
// for an id BigCommerce does not define).
func StatusName(id int) string {
	if s, ok := statusNames[id]; ok {
		return s
	}
	return "status_" + strconv.Itoa(id)
}

// OrderData is everything velqbo reads about one order. Products, when
// nil, are taken from the order's consignments (include=
// consignments.line_items); ShippingAddresses likewise. Fees, when nil,
// are the order's embedded fees. Refunds are the order's v3 refunds and
// Transactions its v3 transactions (read for terms orders only).
type OrderData struct {
	Order             Order
	Products          []OrderProduct
	ShippingAddresses []ShippingAddress
	Shipments         []Shipment
	Fees              []Fee
	Refunds           []Refund
	Transactions      []Transaction
}

// products is the order's products: d.Products, else every consignment's
// line items, in consignment order.
func (d *OrderData) products() []OrderProduct {
	if d.Products != nil {
		return d.Products
	}
	c := d.Order.Consignments
	if c == nil {
		return nil
	}
	var out []OrderProduct
	for _, s := range c.Shipping {
		out = append(out, s.LineItems.Items...)
	}
	for _, p := range c.Pickups {
		out = append(out, p.LineItems.Items...)
	}
	for _, dl := range c.Downloads {
		out = append(out, dl.LineItems.Items...)
	}
	for _, g := range c.Email.GiftCertificates {
		out = append(out, g.LineItems.Items...)
	}
	return out
}

func (d *OrderData) shippingAddress() (Address, bool) {
	if len(d.ShippingAddresses) > 0 {
		return d.ShippingAddresses[0].Address, true
	}
	if c := d.Order.Consignments; c != nil && len(c.Shipping) > 0 {
		return c.Shipping[0].Address, true
	}
	return Address{}, false
}

func (d *OrderData) fees() []Fee {
	if d.Fees != nil {
		return d.Fees
	}
	if d.Order.Fees != nil {
		return d.Order.Fees.Items
	}
	return nil
}

// MapOrder maps one BigCommerce order onto a velocity.Order, so reconcile
// reports it as it reports a Velocity order. docs/bigcommerce.md gives the
// rules. It is pure: the same data and Config give the same order.
//
// It returns a *velocity.ObjectError (Kind "order", ID the order id) when a
// reportable order must be blocked rather than guessed at: its figures do
// not add up to total_inc_tax to the cent, an amount cannot be posted in
// whole cents, a tax-inclusive order's tax cannot be taken out of its
// lines within a cent, a line cannot be linked, its currency is ambiguous,
// its date_created is missing, a sales receipt was paid partly by store
// credit or a gift certificate, or it is marked Refunded or Partially
// Refunded with no refund record. Orders that
// are not reportable, and cancelled or deleted orders (which reconcile only
// ever voids), are never blocked.
func MapOrder(d *OrderData, cfg *Config) (*velocity.Order, error) {
	if cfg == nil {
		def := DefaultConfig()
		cfg = &def
	}
	w := &d.Order
	id := strconv.FormatInt(w.ID, 10)
	m := &orderMapper{d: d, cfg: cfg}
	o := &velocity.Order{
		ID:             id,
		Number:         id,
		CustomerID:     strconv.FormatInt(w.CustomerID, 10),
		Status:         StatusName(w.StatusID),
		PaymentMethod:  NormalizeMethod(w.PaymentMethod),
		Currency:       cmp.Or(w.DefaultCurrencyCode, w.CurrencyCode),
		Email:          w.BillingAddress.Email,
		BillingAddress: address(w.BillingAddress),
		CreatedAt:      w.DateCreated.Time,
		UpdatedAt:      cmp.Or(w.DateModified.Time, w.DateCreated.Time),
	}
	if sa, ok := d.shippingAddress(); ok {
		o.ShippingAddress = address(sa)
	}
	if net, ok := cfg.Terms[o.PaymentMethod]; ok && o.PaymentMethod != "" {
		o.PaymentTerms = &velocity.PaymentTerms{NetDays: net}
	}
	cancelled := w.StatusID == StatusCancelled || w.IsDeleted
	// A terms order waits in Awaiting Payment until its customer pays:
	// that wait is the receivable its Invoice records, so it is reportable
	// there too.
	reportable := cfg.Statuses[w.StatusID] || (o.PaymentTerms != nil && w.StatusID == StatusAwaitingPayment)
	if cancelled {
		// BigCommerce keeps no cancellation time; the last change is the
		// closest. ApprovedAt is set so that reconcile voids a document it
		// reported while the order was reportable (and creates none if it
		// never was).
		o.Status = velocity.StatusCancelled
		o.CancelledAt = ptr(o.UpdatedAt)
	}
	if (reportable || cancelled) && !w.DateCreated.IsZero() {
		// BigCommerce keeps no approval time: the order's creation is its
		// date (TxnDate is this instant's day in the business time zone).
		o.ApprovedAt = ptr(w.DateCreated.Time)
	}

	m.money(o)
	o.Shipments = m.shipments()
	o.Refunds = m.refunds(o)
	if o.PaymentTerms != nil {
		o.Payments = append(m.creditPayments(), m.payments()...)
	} else {
		m.receiptMethod(o)
	}
	if reportable && !cancelled {
		if w.DateCreated.IsZero() {
			m.failf("date_created is missing")
		}
		if (w.StatusID == StatusRefunded || w.StatusID == StatusPartiallyRefunded) && len(d.Refunds) == 0 {
			m.failf("marked %s in BigCommerce but has no refund record (a refund made outside BigCommerce): record the refund in QBO by hand, or add it in BigCommerce", cmp.Or(w.Status, StatusName(w.StatusID)))
		}
		m.checkCurrency()
		if len(m.errs) > 0 {
			return nil, &velocity.ObjectError{Kind: velocity.KindOrder, ID: id, Reason: strings.Join(m.errs, "; ")}
		}
	}
	return o, nil
}

// maxReasons caps how many problems one ObjectError lists.
const maxReasons = 8

type orderMapper struct {
	d    *OrderData
	cfg  *Config
	errs []string
}

func (m *orderMapper) failf(format string, args ...any) {
	if len(m.errs) < maxReasons {
		m.errs = append(m.errs, fmt.Sprintf(format, args...))
	}
}

func (m *orderMapper) cents(what string, d decimal.Decimal) {
	if !wholeCents(d) {
		m.failf("%s %s is not whole cents", what, d)
	}
}

// checkCurrency blocks an order whose amounts' currency is not certain:
// BigCommerce converts between the display and transactional currencies
// by currency_exchange_rate, and velqbo does not guess which one a figure
// is in.
func (m *orderMapper) checkCurrency() {
	w := &m.d.Order
	codes := []string{}
	for _, c := range []string{w.CurrencyCode, w.DefaultCurrencyCode, w.StoreDefaultCurrencyCode} {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" && !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	if len(codes) > 1 {
		m.failf("order mixes currencies %s (exchange rate %s): velqbo reports single-currency orders only", strings.Join(codes, ", "), w.CurrencyExchangeRate)
	}
}

// money sets the order's lines, extras, discount and total, and records
// every reason the figures cannot be posted exactly (docs/bigcommerce.md
// "The money rule"). QBO gets every line non-taxable and the tax as its
// own line, so the parts must add up to total_inc_tax exactly.
//
// A tax-exclusive order posts BigCommerce's ex-tax figures (exMoney). A
// tax-inclusive order posts them too when they are whole cents and add
// up; otherwise, unless its figures disagree with each other, the net
// amounts are derived from the gross ones (grossMoney), because a
// tax-inclusive price's ex-tax figure is seldom whole cents (10.00 with
// 10 % is 9.0909 ex tax).
func (m *orderMapper) money(o *velocity.Order) {
	parts := m.taxed()
	if !m.d.Order.IsTaxInclusivePricing {
		m.exMoney(o, parts)
		return
	}
	ex, exErrs := m.try(o, func(o *velocity.Order) { m.exMoney(o, parts) })
	if len(exErrs) == 0 || figuresDisagree(parts) {
		*o = ex
		m.errs = append(m.errs, exErrs...)
		return
	}
	gross, grossErrs := m.try(o, func(o *velocity.Order) { m.grossMoney(o, parts) })
	*o = gross
	m.errs = append(m.errs, grossErrs...)
}

// try runs f on a copy of o and returns the copy with the reasons f
// recorded, leaving o and m.errs as they were.
func (m *orderMapper) try(o *velocity.Order, f func(*velocity.Order)) (velocity.Order, []string) {
	saved := m.errs
	m.errs = nil
	cp := *o
	f(&cp)
	errs := m.errs
	m.errs = saved
	return cp, errs
}

// figuresDisagree reports whether some product line or extra of a
// tax-inclusive order has inc-tax − tax ≠ ex-tax: then neither set of
// figures can be trusted, and exMoney's reasons say which.
func figuresDisagree(parts []taxedPart) bool {
	return slices.ContainsFunc(parts, func(pt taxedPart) bool { return !pt.agrees() })
}

// exMoney is the money rule on BigCommerce's ex-tax figures, with
// total_tax as the tax line: each of the order's parts posts its ex-tax
// amount.
func (m *orderMapper) exMoney(o *velocity.Order, parts []taxedPart) {
	w := &m.d.Order
	inclusive := w.IsTaxInclusivePricing
	// linesTotal is BigCommerce's own line totals, so that a line that
	// cannot be mapped does not also show as a total mismatch.
	linesTotal := decimal.Zero
	if len(m.d.products()) == 0 && !w.SubtotalExTax.IsZero() {
		m.failf("subtotal_ex_tax is %s but no order products were read", w.SubtotalExTax.Decimal)
	}
	for _, pt := range parts {
		p := pt.product
		if p == nil {
			// With tax-inclusive pricing the inc-tax figure is the actual
			// one, so the ex-tax one must be it less its tax.
			if inclusive && !pt.agrees() {
				m.failf("%s: inc-tax %s − tax %s is not ex-tax %s", pt.label, pt.gross, pt.tax, pt.ex)
			}
			m.cents(pt.label, pt.ex)
			m.postPart(o, pt, pt.ex)
			continue
		}
		total := pt.ex
		linesTotal = linesTotal.Add(total)
		if inclusive && !pt.agrees() {
			m.failf("%s: total_inc_tax %s − total_tax %s is not total_ex_tax %s", pt.label, pt.gross, pt.tax, total)
		}
		m.cents(pt.label+" total_ex_tax", total)
		if !m.checkProduct(pt) {
			continue
		}
		if p.ProductID != 0 {
			if _, ok := unitPrice(p.PriceExTax.Decimal, decimal.NewFromInt(int64(p.Quantity)), total); !ok {
				m.failf("%s: price_ex_tax %s × %d is not the line total %s, and %s ÷ %d has more than %d decimal places", pt.label, p.PriceExTax.Decimal, p.Quantity, total, total, p.Quantity, unitPriceScale)
				continue
			}
		}
		m.postPart(o, pt, total)
	}
	o.TaxTotal = w.TotalTax.Decimal
	m.cents("total_tax", o.TaxTotal)
	// Coupons and order-level discounts are the discount; store credit and
	// gift certificates paid for the order and are not discounts.
	o.DiscountTotal = w.DiscountAmount.Add(w.CouponDiscount.Decimal)
	m.cents("discount_amount + coupon_discount", o.DiscountTotal)
	o.Total = w.TotalIncTax.Decimal
	m.cents("total_inc_tax", o.Total)
	extras := o.CustomTotal()
	for _, c := range o.CustomAmounts {
		if strings.HasPrefix(c.ID, "product-") {
			extras = extras.Sub(c.Amount) // already in linesTotal
		}
	}
	sum := linesTotal.Add(o.ShippingTotal).Add(o.HandlingTotal).Add(extras).Add(o.TaxTotal).Sub(o.DiscountTotal)
	if !sum.Equal(o.Total) {
		m.failf("total_inc_tax %s is not the sum of its parts %s (lines %s + shipping %s + handling %s + wrapping and fees %s + tax %s − discounts %s)",
			o.Total, sum, linesTotal, o.ShippingTotal, o.HandlingTotal, extras, o.TaxTotal, o.DiscountTotal)
	}
}

// checkProduct records why a product line cannot be posted at all: a
// quantity that is not positive, or (unless it is a custom product, which
// is a custom amount) no variant to link. It reports whether the line can
// be posted.
func (m *orderMapper) checkProduct(pt taxedPart) bool {
	p := pt.product
	if p.Quantity <= 0 {
		m.failf("%s: quantity %d is not positive", pt.label, p.Quantity)
		return false
	}
	if p.ProductID != 0 && p.VariantID == 0 {
		m.failf("%s has no variant_id: velqbo links products by variant", pt.label)
		return false
	}
	return true
}

// Kinds of the taxed parts of an order.
const (
	partProduct  = "product"
	partShipping = "shipping"
	partHandling = "handling"
	partWrapping = "wrapping"
	partFee      = "fee"
)

// taxedPart is one taxed part of an order with BigCommerce's three
// figures for it: a product line, the shipping, the handling, the gift
// wrapping or a fee.
type taxedPart struct {
	kind, label    string
	gross, tax, ex decimal.Decimal
	product        *OrderProduct // kind partProduct
	fee            *Fee          // kind partFee
}

// agrees reports whether the part's figures agree: inc-tax − tax = ex-tax.
func (pt *taxedPart) agrees() bool { return pt.gross.Sub(pt.tax).Equal(pt.ex) }

func productLabel(p *OrderProduct) string {
	label := fmt.Sprintf("product %d", p.ID)
	if p.SKU != "" {
		label += " (" + p.SKU + ")"
	}
	return label
}

// isBundlePart reports whether p is a part of a bundle: the bundle's own
// line carries the price, so its parts are not posted.
func isBundlePart(p *OrderProduct) bool {
	return p.IsBundledProduct && p.ParentOrderProductID != nil && *p.ParentOrderProductID != 0
}

// taxed is the order's taxed parts: its product lines (bundle parts left
// out), then shipping, handling, gift wrapping and each fee.
func (m *orderMapper) taxed() []taxedPart {
	w := &m.d.Order
	var out []taxedPart
	products := m.d.products()
	for i := range products {
		p := &products[i]
		if isBundlePart(p) {
			continue
		}
		out = append(out, taxedPart{kind: partProduct, label: productLabel(p), product: p,
			gross: p.TotalIncTax.Decimal, tax: p.TotalTax.Decimal, ex: p.TotalExTax.Decimal})
	}
	out = append(out,
		taxedPart{kind: partShipping, label: "shipping", gross: w.ShippingCostIncTax.Decimal, tax: w.ShippingCostTax.Decimal, ex: w.ShippingCostExTax.Decimal},
		taxedPart{kind: partHandling, label: "handling", gross: w.HandlingCostIncTax.Decimal, tax: w.HandlingCostTax.Decimal, ex: w.HandlingCostExTax.Decimal},
		taxedPart{kind: partWrapping, label: "wrapping", gross: w.WrappingCostIncTax.Decimal, tax: w.WrappingCostTax.Decimal, ex: w.WrappingCostExTax.Decimal})
	fees := m.d.fees()
	for i := range fees {
		f := &fees[i]
		out = append(out, taxedPart{kind: partFee, label: fmt.Sprintf("fee %d", f.ID), fee: f,
			gross: f.CostIncTax.Decimal, tax: f.CostTax.Decimal, ex: f.CostExTax.Decimal})
	}
	return out
}

// grossMoney is the money rule of a tax-inclusive order whose ex-tax
// figures cannot be posted as they are. BigCommerce calls its inc-tax
// figures the actual ones, so they must be whole cents; the tax line is
// total_tax rounded to the cent (half away from zero); each part posts
// its inc-tax amount less its share of that tax in whole cents, its own
// tax rounded by the largest-remainder method (shareOut). The parts then
// add up to total_inc_tax exactly, and each net amount must be within a
// cent of BigCommerce's ex-tax figure (it is whenever the parts' taxes
// add up to total_tax); otherwise the order is blocked rather than its
// tax moved between lines.
func (m *orderMapper) grossMoney(o *velocity.Order, parts []taxedPart) {
	w := &m.d.Order
	if len(m.d.products()) == 0 && !w.SubtotalIncTax.IsZero() {
		m.failf("subtotal_inc_tax is %s but no order products were read", w.SubtotalIncTax.Decimal)
	}
	sums := map[string]decimal.Decimal{}
	weights := make([]decimal.Decimal, len(parts))
	taxSum := decimal.Zero
	for i, pt := range parts {
		if pt.product != nil {
			m.cents(pt.label+" total_inc_tax", pt.gross)
			m.checkProduct(pt)
		} else {
			m.cents(pt.label+" inc-tax", pt.gross)
		}
		if pt.tax.IsNegative() {
			m.failf("%s: tax %s is negative", pt.label, pt.tax)
		}
		kind := pt.kind
		if kind == partFee || (kind == partProduct && pt.product.ProductID == 0) {
			kind = partWrapping // reported with wrapping, as custom amounts
		}
		sums[kind] = sums[kind].Add(pt.gross)
		weights[i] = pt.tax
		taxSum = taxSum.Add(pt.tax)
	}
	o.DiscountTotal = w.DiscountAmount.Add(w.CouponDiscount.Decimal)
	m.cents("discount_amount + coupon_discount", o.DiscountTotal)
	o.Total = w.TotalIncTax.Decimal
	m.cents("total_inc_tax", o.Total)
	gross := sums[partProduct].Add(sums[partShipping]).Add(sums[partHandling]).Add(sums[partWrapping])
	if sum := gross.Sub(o.DiscountTotal); !sum.Equal(o.Total) {
		m.failf("total_inc_tax %s is not the sum of its parts %s (inc-tax lines %s + shipping %s + handling %s + wrapping, fees and custom products %s − discounts %s)",
			o.Total, sum, sums[partProduct], sums[partShipping], sums[partHandling], sums[partWrapping], o.DiscountTotal)
	}
	// The tax line is what BigCommerce charged, to the cent.
	o.TaxTotal = w.TotalTax.Round(2)
	if len(m.errs) > 0 {
		return
	}
	// Each part's own tax is its quota, so its net amount stays within a
	// cent of its ex-tax figure; when the parts' taxes are not total_tax
	// to the cent, the tax is shared in proportion instead, and the check
	// below blocks what that moves by a cent or more.
	shares, ok := shareOut(o.TaxTotal, weights)
	if !ok {
		shares, ok = allocate(o.TaxTotal, weights)
	}
	if !ok {
		m.failf("total_tax %s but no line, shipping, handling, wrapping or fee carries tax to take it from", w.TotalTax.Decimal)
		return
	}
	for i, pt := range parts {
		net := pt.gross.Sub(shares[i])
		if net.Sub(pt.ex).Abs().GreaterThanOrEqual(cent) || net.IsNegative() {
			m.failf("%s: inc-tax %s less its share %s of the tax line %s is %s, a cent or more from its ex-tax %s (its parts' taxes add up to %s, total_tax is %s): velqbo does not move tax between lines",
				pt.label, pt.gross, shares[i], o.TaxTotal, net, pt.ex, taxSum, w.TotalTax.Decimal)
			continue
		}
		m.postPart(o, pt, net)
	}
}

// postPart puts one part's net amount on the order: a product line, a
// custom amount (custom products, wrapping, fees) or an extra. Gift
// wrapping and fees have no field of their own in the domain order (and
// no setting in reconcile): they are custom amounts, posted on
// custom_item with their description, and none when zero.
func (m *orderMapper) postPart(o *velocity.Order, pt taxedPart, net decimal.Decimal) {
	switch pt.kind {
	case partShipping:
		o.ShippingTotal = net
	case partHandling:
		o.HandlingTotal = net
	case partWrapping:
		if !net.IsZero() {
			o.CustomAmounts = append(o.CustomAmounts, velocity.CustomAmount{ID: "wrapping", Description: "Gift wrapping", Amount: net})
		}
	case partFee:
		if !net.IsZero() {
			o.CustomAmounts = append(o.CustomAmounts, velocity.CustomAmount{ID: "fee-" + strconv.FormatInt(pt.fee.ID, 10), Description: feeName(pt.fee), Amount: net})
		}
	case partProduct:
		p := pt.product
		if p.ProductID == 0 {
			o.CustomAmounts = append(o.CustomAmounts, customProduct(p, net))
			return
		}
		o.Lines = append(o.Lines, netLines(p, net)...)
	}
}

// feeName is how a fee is described: its merchant name, else its
// customer name, else "Fee".
func feeName(f *Fee) string { return cmp.Or(f.DisplayNameMerchant, f.DisplayNameCustomer, "Fee") }

// customProduct is a custom product (product_id 0): it has no catalog
// entry to link, so it is a custom amount, on custom_item.
func customProduct(p *OrderProduct, amount decimal.Decimal) velocity.CustomAmount {
	return velocity.CustomAmount{
		ID:          "product-" + strconv.FormatInt(p.ID, 10),
		Description: fmt.Sprintf("%s × %d", cmp.Or(p.Name, "Custom product"), p.Quantity),
		Amount:      amount,
	}
}

// netLines posts a net line amount of a product: one line at
// price_ex_tax, or at net ÷ quantity when QBO can hold that exactly (see
// unitPrice). Otherwise (27.28 for 3; only a derived net amount, as
// exMoney blocks such an ex-tax one) no unit price reproduces it, and the
// line is split in two on the same item so that every unit is still
// counted and every amount is whole cents: quantity − k units at the
// price rounded down to the cent and k units at one cent more (2 × 9.09 +
// 1 × 9.10). The second line's ID is the order product id with "-2".
func netLines(p *OrderProduct, net decimal.Decimal) []velocity.OrderLine {
	line := velocity.OrderLine{
		ID:        strconv.FormatInt(p.ID, 10),
		ProductID: strconv.FormatInt(p.VariantID, 10),
		SKU:       p.SKU,
		Name:      cmp.Or(p.Name, p.NameMerchant, p.NameCustomer),
	}
	q := int64(p.Quantity)
	if unit, ok := unitPrice(p.PriceExTax.Decimal, decimal.NewFromInt(q), net); ok {
		line.Quantity, line.UnitPrice = decimal.NewFromInt(q), unit
		return []velocity.OrderLine{line}
	}
	c := net.Shift(2).IntPart() // net is whole cents and not negative
	unit, k := c/q, c%q
	first, second := line, line
	first.Quantity, first.UnitPrice = decimal.NewFromInt(q-k), decimal.New(unit, -2)
	second.ID += "-2"
	second.Quantity, second.UnitPrice = decimal.NewFromInt(k), decimal.New(unit+1, -2)
	return []velocity.OrderLine{first, second}
}

var cent = decimal.New(1, -2)

// allocate shares total (whole cents) out over weights in whole cents, in
// proportion: each weight's quota is total × weight ÷ Σ weights, and
// shareOut rounds the quotas to cents by the largest-remainder method. So
// the shares add up to total exactly, each is within a cent of its quota,
// a zero weight gets nothing, and the same inputs give the same shares.
// It reports false when a weight is negative, or when total is not zero
// and the weights add up to zero.
func allocate(total decimal.Decimal, weights []decimal.Decimal) ([]decimal.Decimal, bool) {
	sum := decimal.Zero
	for _, w := range weights {
		if w.IsNegative() {
			return nil, false
		}
		sum = sum.Add(w)
	}
	if !total.IsZero() && !sum.IsPositive() {
		return nil, false
	}
	abs := total.Abs()
	quotas := make([]decimal.Decimal, len(weights))
	for i, w := range weights {
		quotas[i] = w
		if !sum.Equal(abs) {
			quotas[i] = abs.Mul(w).DivRound(sum, 16)
		}
	}
	shares, ok := shareOut(abs, quotas)
	if !ok {
		return nil, false
	}
	if total.IsNegative() {
		for i := range shares {
			shares[i] = shares[i].Neg()
		}
	}
	return shares, true
}

// shareOut rounds each quota down to the cent and gives the cents that
// leaves short of total one each to the positive quotas with the largest
// remainders, the earliest on a tie: the largest-remainder method. Each
// share is then within a cent of its quota and a zero quota gets nothing.
// Quotas that add up to total, or whose sum rounds to it, can always be
// shared out; it reports false for others (more cents left than positive
// quotas, or fewer than none). total and quotas are not negative.
func shareOut(total decimal.Decimal, quotas []decimal.Decimal) ([]decimal.Decimal, bool) {
	type remainder struct {
		i int
		r decimal.Decimal
	}
	shares := make([]decimal.Decimal, len(quotas))
	rems := make([]remainder, 0, len(quotas))
	left := total
	for i, q := range quotas {
		fl := q.Shift(2).Floor().Shift(-2)
		shares[i] = fl
		left = left.Sub(fl)
		if q.IsPositive() {
			rems = append(rems, remainder{i, q.Sub(fl)})
		}
	}
	if left.IsNegative() || left.GreaterThan(cent.Mul(decimal.NewFromInt(int64(len(rems))))) {
		return nil, false
	}
	slices.SortStableFunc(rems, func(a, b remainder) int { return b.r.Cmp(a.r) })
	for j := 0; left.IsPositive(); j++ {
		shares[rems[j].i] = shares[rems[j].i].Add(cent)
		left = left.Sub(cent)
	}
	return shares, true
}

// unitPrice is the unit price that reproduces the line total exactly:
// price when price × qty is the total, else total ÷ qty when QBO can hold
// it (at most unitPriceScale places).
func unitPrice(price, qty, total decimal.Decimal) (decimal.Decimal, bool) {
	if price.Mul(qty).Equal(total) {
		return price, true
	}
	u := total.DivRound(qty, unitPriceScale)
	if u.Mul(qty).Equal(total) {
		return u, true
	}
	return decimal.Decimal{}, false
}

// shipments maps the v2 shipments. A BigCommerce shipment is created when
// the goods ship, so its creation is its ship time.
func (m *orderMapper) shipments() []velocity.Shipment {
	var out []velocity.Shipment
	for _, s := range m.d.Shipments {
		vs := velocity.Shipment{
			ID:             strconv.FormatInt(s.ID, 10),
			CreatedAt:      s.DateCreated.Time,
			Carrier:        cmp.Or(s.ShippingProviderDisplayName, s.TrackingCarrier, s.ShippingProvider),
			Method:         s.ShippingMethod,
			TrackingNumber: s.TrackingNumber,
		}
		if !s.DateCreated.IsZero() {
			vs.ShippedAt = ptr(s.DateCreated.Time)
		}
		for _, it := range s.Items {
			vs.Items = append(vs.Items, velocity.ShipmentItem{
				LineID:   strconv.FormatInt(it.OrderProductID, 10),
				Quantity: decimal.NewFromInt(int64(it.Quantity)),
			})
		}
		out = append(out, vs)
	}
	return out
}

// refunds maps the v3 refunds. Each item becomes a line by its type and
// the refund's tax a tax line; reconcile blocks a refund whose lines do
// not add up to its total_amount. A product line's amount is its
// requested_amount when BigCommerce gives one, else quantity × the line's
// price in the store's pricing mode (a gift wrapping's, its wrapping
// cost); adjustments reduce the item they belong to.
func (m *orderMapper) refunds(o *velocity.Order) []velocity.Refund {
	if len(m.d.Refunds) == 0 {
		return nil
	}
	byID := map[int64]OrderProduct{}
	for _, p := range m.d.products() {
		byID[p.ID] = p
	}
	fees := map[int64]Fee{}
	for _, f := range m.d.fees() {
		fees[f.ID] = f
	}
	out := make([]velocity.Refund, 0, len(m.d.Refunds))
	for _, r := range m.d.Refunds {
		vr := velocity.Refund{
			ID:            strconv.FormatInt(r.ID, 10),
			CreatedAt:     r.Created,
			Reason:        r.Reason,
			Total:         r.TotalAmount.Decimal,
			PaymentMethod: refundMethod(r, o.PaymentMethod),
		}
		var bases []refundTaxBasis
		for _, it := range r.Items {
			amt := decimal.Zero
			requested := it.RequestedAmount != nil && !it.RequestedAmount.IsZero()
			if requested {
				amt = it.RequestedAmount.Decimal
			}
			for _, a := range it.Adjustments {
				amt = amt.Add(a.Amount.Decimal)
			}
			line := velocity.RefundLine{Amount: amt, Description: it.Reason}
			var basis refundTaxBasis
			switch it.ItemType {
			case ItemProduct:
				line.Kind = velocity.RefundProduct
				line.LineID = strconv.FormatInt(it.ItemID, 10)
				line.Quantity = decimal.NewFromInt(int64(it.Quantity))
				if p, ok := byID[it.ItemID]; ok {
					basis = taxShare(p.TotalTax, p.TotalIncTax)
					if !requested {
						line.Amount = m.priced(p.PriceExTax, p.PriceIncTax).Mul(line.Quantity).Add(amt)
					}
				}
			case ItemShipping:
				line.Kind = velocity.RefundShipping
				basis = taxShare(m.d.Order.ShippingCostTax, m.d.Order.ShippingCostIncTax)
			case ItemHandling:
				line.Kind = velocity.RefundHandling
				basis = taxShare(m.d.Order.HandlingCostTax, m.d.Order.HandlingCostIncTax)
			case ItemGiftWrapping:
				line.Kind = velocity.RefundCustom
				line.Description = cmp.Or(it.Reason, "Gift wrapping refund")
				if p, ok := byID[it.ItemID]; ok {
					basis = taxShare(p.WrappingCostTax, p.WrappingCostIncTax)
					if !requested {
						line.Amount = m.priced(p.WrappingCostExTax, p.WrappingCostIncTax).Add(amt)
					}
				}
			case ItemFee:
				line.Kind = velocity.RefundCustom
				name := "Fee"
				if f, ok := fees[it.ItemID]; ok {
					name = feeName(&f)
					basis = taxShare(f.CostTax, f.CostIncTax)
				}
				line.Description = cmp.Or(it.Reason, name+" refund")
			case ItemOrder:
				basis.exempt = true
				line.Kind = velocity.RefundCustom
				line.Description = cmp.Or(it.Reason, r.Reason, "Order refund")
			default:
				// reconcile blocks the refund on the unknown kind.
				line.Kind = strings.ToLower(it.ItemType)
			}
			vr.Lines = append(vr.Lines, line)
			bases = append(bases, basis)
		}
		vr.Lines = withRefundTax(vr.Lines, bases, r.TotalTax.Decimal, r.TotalAmount.Decimal)
		out = append(out, vr)
	}
	return out
}

// priced is the figure of the store's pricing mode: inc when prices
// include tax, else ex.
func (m *orderMapper) priced(ex, inc Money) decimal.Decimal {
	if m.d.Order.IsTaxInclusivePricing {
		return inc.Decimal
	}
	return ex.Decimal
}

// refundTaxBasis is how a refund item carries tax: exempt (an ORDER
// amount), or the tax share of the order part it refunds (tax ÷ inc-tax),
// when known.
type refundTaxBasis struct {
	exempt, known bool
	share         decimal.Decimal
}

// taxShare is the basis of an order part with this tax and inc-tax
// amount; unknown when the part has no inc-tax amount.
func taxShare(tax, inc Money) refundTaxBasis {
	if !inc.IsPositive() || tax.IsNegative() {
		return refundTaxBasis{}
	}
	return refundTaxBasis{known: true, share: tax.DivRound(inc.Decimal, 16)}
}

// withRefundTax adds the refund's tax as a tax line. BigCommerce gives
// item amounts in the store's pricing mode: ex-tax, with total_amount =
// items + total_tax (its documented example, is_tax_included false), or
// tax-inclusive, with total_amount = items. The figures tell which. In the
// inclusive form the tax is inside the items, and v3 gives no per-item
// tax: it is taken out of the taxable items (all but ORDER, which is
// tax-exempt) by the order's rule, allocate in whole cents in proportion
// to the tax each item's amount carries at its order part's own tax share
// (a tax-free shipping gets none), or to their amounts when a part's share
// is not known. So the refund still totals total_amount and QBO's tax
// item gets the refunded tax. A tax that is not whole cents is left for
// reconcile to block.
func withRefundTax(lines []velocity.RefundLine, bases []refundTaxBasis, tax, total decimal.Decimal) []velocity.RefundLine {
	if tax.IsZero() {
		return lines
	}
	items := decimal.Zero
	for _, l := range lines {
		items = items.Add(l.Amount)
	}
	taxLine := velocity.RefundLine{Kind: velocity.RefundTax, Amount: tax, Description: "Tax refund"}
	if !items.Equal(total) || !wholeCents(tax) {
		return append(lines, taxLine)
	}
	weights := make([]decimal.Decimal, len(lines))
	byShare, sum := true, decimal.Zero
	for i, l := range lines {
		weights[i] = decimal.Zero
		if !bases[i].exempt && l.Amount.IsPositive() {
			weights[i] = l.Amount
			byShare = byShare && bases[i].known
		}
	}
	if byShare {
		taxed := make([]decimal.Decimal, len(weights))
		for i, w := range weights {
			taxed[i] = w.Mul(bases[i].share)
			sum = sum.Add(taxed[i])
		}
		if sum.IsPositive() {
			weights = taxed
		}
	}
	shares, ok := allocate(tax, weights)
	if !ok {
		return append(lines, taxLine)
	}
	out := slices.Clone(lines)
	for i := range out {
		out[i].Amount = out[i].Amount.Sub(shares[i])
	}
	return append(out, taxLine)
}

// Store credit and gift certificates paid for the order: they are payment
// methods, never discounts, and total_inc_tax includes what they paid.

// creditPayments are a terms order's store credit and gift certificate
// amounts as payments against its Invoice, dated with the order (they are
// spent at checkout). Their ids are derived from the order id, so they are
// stable from run to run.
func (m *orderMapper) creditPayments() []velocity.Payment {
	w := &m.d.Order
	var out []velocity.Payment
	for _, c := range []struct {
		amount Money
		method string
	}{{w.StoreCreditAmount, velocity.MethodStoreCredit}, {w.GiftCertificateAmount, MethodGiftCertificate}} {
		if c.amount.IsZero() {
			continue
		}
		m.cents(c.method+" amount", c.amount.Decimal)
		out = append(out, velocity.Payment{
			ID:        c.method + "-" + strconv.FormatInt(w.ID, 10),
			CreatedAt: w.DateCreated.Time,
			Amount:    c.amount.Decimal,
			Method:    c.method,
		})
	}
	return out
}

// receiptMethod sets the payment method of an order reported as a sales
// receipt, which has one: store credit or gift certificate when that paid
// the whole order, else the order's own. An order paid partly by store
// credit or a gift certificate and partly otherwise is blocked: one
// receipt cannot record two methods, and posting it under one would put
// money in the wrong place.
func (m *orderMapper) receiptMethod(o *velocity.Order) {
	w := &m.d.Order
	sc, gc := w.StoreCreditAmount.Decimal, w.GiftCertificateAmount.Decimal
	switch {
	case sc.IsZero() && gc.IsZero():
	case gc.IsZero() && sc.Equal(w.TotalIncTax.Decimal):
		o.PaymentMethod = velocity.MethodStoreCredit
	case sc.IsZero() && gc.Equal(w.TotalIncTax.Decimal):
		o.PaymentMethod = MethodGiftCertificate
	default:
		m.failf("paid with store credit %s and gift certificate %s of total_inc_tax %s, the rest by %q: a sales receipt records one payment method, so record this order in QBO by hand (or put the customer on terms)",
			sc, gc, w.TotalIncTax.Decimal, cmp.Or(w.PaymentMethod, "another method"))
	}
}

// refundMethod is how a refund was paid back: store credit when every
// payment went to store credit, else the order's own payment method (the
// money goes back the way it came).
func refundMethod(r Refund, orderMethod string) string {
	if len(r.Payments) > 0 && !slices.ContainsFunc(r.Payments, func(p RefundPayment) bool {
		return NormalizeMethod(p.ProviderID) != velocity.MethodStoreCredit
	}) {
		return velocity.MethodStoreCredit
	}
	return orderMethod
}

// payments maps a terms order's successful transactions: purchase,
// capture and settled events with status ok, test ones left out. A
// transaction that refers to one already counted (a settlement of a
// capture) is the same money and is not counted again.
func (m *orderMapper) payments() []velocity.Payment {
	txns := slices.Clone(m.d.Transactions)
	slices.SortStableFunc(txns, func(a, b Transaction) int { return cmp.Compare(a.ID, b.ID) })
	counted := map[int64]bool{}
	var out []velocity.Payment
	for _, t := range txns {
		switch t.Event {
		case EventPurchase, EventCapture, EventSettled:
		default:
			continue
		}
		if t.Status != TransactionOK || t.Test {
			continue
		}
		if ref := t.ReferenceTransactionID; ref != nil && counted[*ref] {
			counted[t.ID] = true
			continue
		}
		counted[t.ID] = true
		method := t.Method
		switch {
		case t.Offline != nil && t.Offline.DisplayName != "":
			method = t.Offline.DisplayName
		case t.Custom != nil && t.Custom.PaymentMethod != "":
			method = t.Custom.PaymentMethod
		}
		out = append(out, velocity.Payment{
			ID:        strconv.FormatInt(t.ID, 10),
			CreatedAt: t.DateCreated,
			Amount:    t.Amount.Decimal,
			Method:    NormalizeMethod(method),
			Reference: string(t.GatewayTransactionID),
		})
	}
	return out
}

// address maps a v2 address; the name is first and last name.
func address(a Address) velocity.Address {
	return velocity.Address{
		Name:       strings.TrimSpace(a.FirstName + " " + a.LastName),
		Company:    a.Company,
		Line1:      a.Street1,
		Line2:      a.Street2,
		City:       a.City,
		State:      a.State,
		PostalCode: a.Zip,
		Country:    cmp.Or(a.Country, a.CountryISO2),
		Phone:      a.Phone,
	}
}

// MapCustomer maps a v3 customer. Its first address (in BigCommerce's
// order) is both the billing and the shipping address: BigCommerce does
// not mark a default.
func MapCustomer(c *Customer) *velocity.Customer {
	vc := &velocity.Customer{
		ID:        strconv.FormatInt(c.ID, 10),
		FirstName: c.FirstName,
		LastName:  c.LastName,
		Company:   c.Company,
		Email:     c.Email,
		Phone:     c.Phone,
		UpdatedAt: cmp.Or(c.DateModified, c.DateCreated),
	}
	if len(c.Addresses) > 0 {
		a := c.Addresses[0]
		va := velocity.Address{
			Name:       strings.TrimSpace(a.FirstName + " " + a.LastName),
			Company:    a.Company,
			Line1:      a.Address1,
			Line2:      a.Address2,
			City:       a.City,
			State:      a.StateOrProvince,
			PostalCode: a.PostalCode,
			Country:    cmp.Or(a.Country, a.CountryCode),
			Phone:      a.Phone,
		}
		vc.BillingAddress, vc.ShippingAddress = va, va
	}
	return vc
}

// MapProduct maps a v3 catalog product to one velocity.Product per
// variant: orders link by variant, and QBO items by the variant's SKU. A
// product without options is its base variant. The name carries the
// variant's option labels ("Glove (Size: L)"); the price is the variant's,
// else the product's. A product read without its variants maps to its
// base variant alone; it returns a *velocity.ObjectError (Kind "product")
// when it has neither.
func MapProduct(p *Product) ([]*velocity.Product, error) {
	active := p.Availability != "disabled"
	updated := cmp.Or(p.DateModified, p.DateCreated)
	if len(p.Variants) == 0 {
		if p.BaseVariantID == nil || *p.BaseVariantID == 0 {
			return nil, &velocity.ObjectError{Kind: velocity.KindProduct, ID: strconv.FormatInt(p.ID, 10),
				Reason: "no variants and no base_variant_id: read products with include=variants"}
		}
		return []*velocity.Product{{ID: strconv.FormatInt(*p.BaseVariantID, 10), SKU: p.SKU, Name: p.Name,
			Price: p.Price.Decimal, Active: active, UpdatedAt: updated}}, nil
	}
	out := make([]*velocity.Product, 0, len(p.Variants))
	for _, v := range p.Variants {
		name := p.Name
		var opts []string
		for _, ov := range v.OptionValues {
			opts = append(opts, cmp.Or(ov.OptionDisplayName, "Option")+": "+ov.Label)
		}
		if len(opts) > 0 {
			name += " (" + strings.Join(opts, ", ") + ")"
		}
		price := p.Price.Decimal
		if v.Price != nil {
			price = v.Price.Decimal
		}
		out = append(out, &velocity.Product{
			ID:        strconv.FormatInt(v.ID, 10),
			SKU:       cmp.Or(v.SKU, p.SKU),
			Name:      name,
			Price:     price,
			Active:    active && !v.PurchasingDisabled,
			UpdatedAt: updated,
		})
	}
	return out, nil
}

func wholeCents(d decimal.Decimal) bool { return d.Equal(d.Truncate(2)) }

func ptr[T any](v T) *T { return &v }
