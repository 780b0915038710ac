package velocity

import (
	"cmp"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Address is a postal address. Every field is optional.
type Address struct {
	Name       string `json:"name,omitempty"`
	Company    string `json:"company,omitempty"`
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
	Phone      string `json:"phone,omitempty"`
}

// IsZero reports whether every field of a is empty.
func (a Address) IsZero() bool { return a == Address{} }

// Customer is a Velocity customer. ID and UpdatedAt are always set on a
// customer returned by this package.
type Customer struct {
	ID              string    `json:"id"`
	Number          string    `json:"number,omitempty"`
	FirstName       string    `json:"first_name,omitempty"`
	LastName        string    `json:"last_name,omitempty"`
	Company         string    `json:"company,omitempty"`
	Email           string    `json:"email,omitempty"`
	Phone           string    `json:"phone,omitempty"`
	BillingAddress  Address   `json:"billing_address"`
	ShippingAddress Address   `json:"shipping_address"`
	OrganizationID  string    `json:"organization_id,omitempty"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Product is a Velocity product. Price is zero when Velocity sent none.
type Product struct {
	ID        string          `json:"id"`
	SKU       string          `json:"sku,omitempty"`
	Name      string          `json:"name,omitempty"`
	Price     decimal.Decimal `json:"price"`
	Active    bool            `json:"active"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Order statuses as Velocity sends them (BigCommerce style). Other strings
// are passed through unchanged.
const (
	StatusPending             = "pending"
	StatusAwaitingPayment     = "awaiting_payment"
	StatusAwaitingFulfillment = "awaiting_fulfillment"
	StatusAwaitingShipment    = "awaiting_shipment"
	StatusPartiallyShipped    = "partially_shipped"
	StatusShipped             = "shipped"
	StatusCompleted           = "completed"
	StatusPartiallyRefunded   = "partially_refunded"
	StatusRefunded            = "refunded"
	StatusCancelled           = "cancelled"
	StatusDeclined            = "declined"
)

// Payment methods Velocity is known to send. Other strings are passed
// through unchanged.
const (
	MethodCreditCard  = "credit_card"
	MethodACH         = "ach"
	MethodStoreCredit = "store_credit"
	MethodCheck       = "check"
	MethodWire        = "wire"
	MethodCash        = "cash"
	MethodTerms       = "terms"
)

// KnownMethods returns the payment methods Velocity is known to send, in
// the order of the constants above.
func KnownMethods() []string {
	return []string{MethodCreditCard, MethodACH, MethodStoreCredit, MethodCheck, MethodWire, MethodCash, MethodTerms}
}

// Refund line kinds.
const (
	RefundProduct  = "product"
	RefundShipping = "shipping"
	RefundHandling = "handling"
	RefundTax      = "tax"
	RefundCustom   = "custom"
)

// Order is a Velocity order with its shipments, refunds and payments
// embedded. Money fields hold exact decimals with at most 2 fraction digits.
type Order struct {
	ID              string          `json:"id"`
	Number          string          `json:"number"`
	CustomerID      string          `json:"customer_id"`
	Status          string          `json:"status,omitempty"`
	ApprovedAt      *time.Time      `json:"approved_at"`
	CancelledAt     *time.Time      `json:"cancelled_at"`
	PaymentTerms    *PaymentTerms   `json:"payment_terms"`
	ReportAsInvoice bool            `json:"report_as_invoice"`
	PaymentMethod   string          `json:"payment_method,omitempty"`
	Currency        string          `json:"currency,omitempty"`
	Email           string          `json:"email,omitempty"`
	BillingAddress  Address         `json:"billing_address"`
	ShippingAddress Address         `json:"shipping_address"`
	Lines           []OrderLine     `json:"lines"`
	ShippingTotal   decimal.Decimal `json:"shipping_total"`
	HandlingTotal   decimal.Decimal `json:"handling_total"`
	TaxTotal        decimal.Decimal `json:"tax_total"`
	DiscountTotal   decimal.Decimal `json:"discount_total"`
	CustomAmounts   []CustomAmount  `json:"custom_amounts"`
	Total           decimal.Decimal `json:"total"`
	Shipments       []Shipment      `json:"shipments"`
	Refunds         []Refund        `json:"refunds"`
	Payments        []Payment       `json:"payments"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`

	// LineSHA256 is the SHA-256 of the export line the order was decoded
	// from (see LineDigest), set by FileSource.OrdersExcept only; zero
	// otherwise.
	LineSHA256 [32]byte `json:"-"`
}

// PaymentTerms is set when an order was placed on terms.
type PaymentTerms struct {
	NetDays int `json:"net_days"`
}

// OrderLine is one product line of an order.
type OrderLine struct {
	ID        string          `json:"id,omitempty"`
	ProductID string          `json:"product_id"`
	SKU       string          `json:"sku,omitempty"`
	Name      string          `json:"name,omitempty"`
	Quantity  decimal.Decimal `json:"quantity"`
	UnitPrice decimal.Decimal `json:"unit_price"`
}

// CustomAmount is a signed extra amount on an order (a fee or a credit).
type CustomAmount struct {
	ID          string          `json:"id,omitempty"`
	Description string          `json:"description,omitempty"`
	Amount      decimal.Decimal `json:"amount"`
}

// Shipment is one shipment of an order.
type Shipment struct {
	ID             string         `json:"id"`
	CreatedAt      time.Time      `json:"created_at"`
	ShippedAt      *time.Time     `json:"shipped_at"`
	Carrier        string         `json:"carrier,omitempty"`
	Method         string         `json:"method,omitempty"`
	TrackingNumber string         `json:"tracking_number,omitempty"`
	Items          []ShipmentItem `json:"items"`
}

// ShipmentItem is a quantity of one order line in a shipment.
type ShipmentItem struct {
	LineID   string          `json:"line_id"`
	Quantity decimal.Decimal `json:"quantity"`
}

// Refund is one refund of an order. Total equals the sum of its line
// amounts (checked on decode).
type Refund struct {
	ID            string          `json:"id"`
	CreatedAt     time.Time       `json:"created_at"`
	PaymentMethod string          `json:"payment_method,omitempty"`
	Reason        string          `json:"reason,omitempty"`
	Lines         []RefundLine    `json:"lines"`
	Total         decimal.Decimal `json:"total"`
}

// RefundLine is one line of a refund. LineID and Quantity are set for
// kind "product" only; Quantity is zero when Velocity sent none.
type RefundLine struct {
	Kind        string          `json:"kind"`
	LineID      string          `json:"line_id,omitempty"`
	Quantity    decimal.Decimal `json:"quantity"`
	Amount      decimal.Decimal `json:"amount"`
	Description string          `json:"description,omitempty"`
}

// Payment is a payment applied to an order (usually one on terms).
type Payment struct {
	ID        string          `json:"id"`
	CreatedAt time.Time       `json:"created_at"`
	Amount    decimal.Decimal `json:"amount"`
	Method    string          `json:"method,omitempty"`
	Reference string          `json:"reference,omitempty"`
}

// Amount is quantity × unit price, exact (it may carry more than 2
// fraction digits when the quantity is fractional).
func (l OrderLine) Amount() decimal.Decimal { return l.Quantity.Mul(l.UnitPrice) }

// LinesTotal is the exact sum of the line amounts.
func (o *Order) LinesTotal() decimal.Decimal {
	sum := decimal.Zero
	for _, l := range o.Lines {
		sum = sum.Add(l.Amount())
	}
	return sum
}

// CustomTotal is the exact sum of the custom amounts.
func (o *Order) CustomTotal() decimal.Decimal {
	sum := decimal.Zero
	for _, c := range o.CustomAmounts {
		sum = sum.Add(c.Amount)
	}
	return sum
}

// ComputedTotal is what the contract says Total must equal:
// Σ line amounts + shipping + handling + tax − discount + Σ custom amounts.
// Comparing it with Total is reconcile's job (use Equal, not ==).
func (o *Order) ComputedTotal() decimal.Decimal {
	return o.LinesTotal().
		Add(o.ShippingTotal).
		Add(o.HandlingTotal).
		Add(o.TaxTotal).
		Sub(o.DiscountTotal).
		Add(o.CustomTotal())
}

// RefundsTotal is the exact sum of the refund totals.
func (o *Order) RefundsTotal() decimal.Decimal {
	sum := decimal.Zero
	for _, r := range o.Refunds {
		sum = sum.Add(r.Total)
	}
	return sum
}

// PaymentsTotal is the exact sum of the payment amounts.
func (o *Order) PaymentsTotal() decimal.Decimal {
	sum := decimal.Zero
	for _, p := range o.Payments {
		sum = sum.Add(p.Amount)
	}
	return sum
}

// NumberedRefund is a refund with its 1-based position among the order's
// refunds.
type NumberedRefund struct {
	N int
	Refund
}

// RefundsOrdered returns the order's refunds sorted by CreatedAt, then ID,
// numbered from 1. The n-th refund is reported as RF-<number> (n = 1) or
// RF-<number>-<n>, so this order must never change for a given input.
func (o *Order) RefundsOrdered() []NumberedRefund {
	rs := slices.Clone(o.Refunds)
	slices.SortStableFunc(rs, func(a, b Refund) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	out := make([]NumberedRefund, len(rs))
	for i, r := range rs {
		out[i] = NumberedRefund{N: i + 1, Refund: r}
	}
	return out
}

// Approved reports whether the order has been approved (and so is to be
// reported), regardless of a later cancellation.
func (o *Order) Approved() bool { return o.ApprovedAt != nil }

// Cancelled reports whether the order has been cancelled.
func (o *Order) Cancelled() bool { return o.CancelledAt != nil || o.Status == StatusCancelled }

// OnTerms reports whether the order was placed on payment terms.
func (o *Order) OnTerms() bool { return o.PaymentTerms != nil }

// Clone returns a deep copy of o.
func (o *Order) Clone() *Order {
	c := *o
	c.ApprovedAt = clonePtr(o.ApprovedAt)
	c.CancelledAt = clonePtr(o.CancelledAt)
	c.PaymentTerms = clonePtr(o.PaymentTerms)
	c.Lines = slices.Clone(o.Lines)
	c.CustomAmounts = slices.Clone(o.CustomAmounts)
	c.Shipments = slices.Clone(o.Shipments)
	for i := range c.Shipments {
		c.Shipments[i].ShippedAt = clonePtr(c.Shipments[i].ShippedAt)
		c.Shipments[i].Items = slices.Clone(c.Shipments[i].Items)
	}
	c.Refunds = slices.Clone(o.Refunds)
	for i := range c.Refunds {
		c.Refunds[i].Lines = slices.Clone(c.Refunds[i].Lines)
	}
	c.Payments = slices.Clone(o.Payments)
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
