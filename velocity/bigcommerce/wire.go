package bigcommerce

import (
	"reflect"

	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/velqbo/velqbo/velocity"
	"strconv"
	"strings"
	"time"
)

// The wire structs mirror the BigCommerce JSON velqbo reads (the v2 and v3
// REST API; field names as in BigCommerce's OpenAPI specs). Unknown fields
// are ignored: BigCommerce adds fields without notice. Money is Money (v2,
// 4-place strings) or Amount (v3, numbers), both exact decimals. v2 dates
// are Time (RFC 2822); v3 dates are RFC 3339 and decode into time.Time.
// Mapping onto the velocity domain is mapping.go's job: nothing here
// judges whether an order adds up.

// Order statuses (status_id). Stores can rename statuses but not their ids,
// so velqbo keys on the id.
const (
	StatusIncomplete                 = 0
	StatusPending                    = 1
	StatusShipped                    = 2
	StatusPartiallyShipped           = 3
	StatusRefunded                   = 4
	StatusCancelled                  = 5
	StatusDeclined                   = 6
	StatusAwaitingPayment            = 7
	StatusAwaitingPickup             = 8
	StatusAwaitingShipment           = 9
	StatusCompleted                  = 10
	StatusAwaitingFulfillment        = 11
	StatusManualVerificationRequired = 12
	StatusDisputed                   = 13
	StatusPartiallyRefunded          = 14
)

// Refund item types (v3 RefundItem.item_type).
const (
	ItemProduct      = "PRODUCT"
	ItemShipping     = "SHIPPING"
	ItemHandling     = "HANDLING"
	ItemGiftWrapping = "GIFT_WRAPPING"
	ItemFee          = "FEE"
	ItemOrder        = "ORDER"
)

// Transaction events and statuses (v3 Transaction.event, .status).
const (
	EventPurchase      = "purchase"
	EventAuthorization = "authorization"
	EventCapture       = "capture"
	EventRefund        = "refund"
	EventVoid          = "void"
	EventPending       = "pending"
	EventSettled       = "settled"

	TransactionOK    = "ok"
	TransactionError = "error"
)

// rfc2822 is how v2 writes dates: "Tue, 05 Mar 2019 21:40:11 +0000".
const rfc2822 = "Mon, 02 Jan 2006 15:04:05 -0700"

// Time is a v2 date. The empty string (date_shipped before shipping) and
// null decode to the zero Time and the zero Time encodes as "".
type Time struct{ time.Time }

// NewTime returns t as a Time.
func NewTime(t time.Time) Time { return Time{t} }

// Equal reports whether t and o are the same instant.
func (t Time) Equal(o Time) bool { return t.Time.Equal(o.Time) }

// UnmarshalJSON implements json.Unmarshaler. It accepts RFC 2822 with or
// without the weekday and with a one- or two-digit day, and, because the v2
// filters take both, RFC 3339. Any other text is an error quoting it.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	if len(b) == 0 || b[0] != '"' {
		return fmt.Errorf("%s is not a date string", truncate(b))
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("%s is not a date string", truncate(b))
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range []string{rfc2822, "Mon, 2 Jan 2006 15:04:05 -0700", "02 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700", time.RFC3339Nano} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("%s is not an RFC 2822 date", strconv.Quote(s))
}

// MarshalJSON implements json.Marshaler: RFC 2822, or "" for the zero
// Time. BigCommerce's dates are whole seconds; a fraction (only from an
// RFC 3339 input) is written after the seconds, which Parse reads back.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	return []byte(`"` + t.Format("Mon, 02 Jan 2006 15:04:05.999999999 -0700") + `"`), nil
}

// FlexString is a field BigCommerce sends as a string, a number or null
// (payment_provider_id, a transaction's order_id, a form field's value).
// A number keeps its JSON text; null is "". It encodes as a string.
type FlexString string

// UnmarshalJSON implements json.Unmarshaler; objects and arrays are errors.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
	case string(b) == "true" || string(b) == "false":
		*f = FlexString(b)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = FlexString(n)
	default:
		return fmt.Errorf("%s is not a string or number", truncate(b))
	}
	return nil
}

// Resource is a v2 link to a sub-resource, e.g. an order's products:
// {"url": "https://…/v2/orders/100/products", "resource": "/orders/100/products"}.
type Resource struct {
	URL      string `json:"url"`
	Resource string `json:"resource"`
}

// FormField is a custom form field on an address.
type FormField struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value,omitempty"`
}

// Address is a v2 billing or shipping address.
type Address struct {
	FirstName   string      `json:"first_name"`
	LastName    string      `json:"last_name"`
	Company     string      `json:"company"`
	Street1     string      `json:"street_1"`
	Street2     string      `json:"street_2"`
	City        string      `json:"city"`
	State       string      `json:"state"`
	Zip         string      `json:"zip"`
	Country     string      `json:"country"`
	CountryISO2 string      `json:"country_iso2"`
	Phone       string      `json:"phone"`
	Email       string      `json:"email"`
	FormFields  []FormField `json:"form_fields,omitempty"`
}

// Order is a v2 order (GET /v2/orders, /v2/orders/{id}). Products,
// shipping addresses and coupons are links; Consignments is set only when
// the request asked for include=consignments[.line_items] (with
// consignment_structure=object).
type Order struct {
	ID           int64  `json:"id"`
	CustomerID   int64  `json:"customer_id"`
	DateCreated  Time   `json:"date_created"`
	DateModified Time   `json:"date_modified"`
	DateShipped  Time   `json:"date_shipped"`
	StatusID     int    `json:"status_id"`
	Status       string `json:"status"`
	CustomStatus string `json:"custom_status,omitempty"`

	SubtotalExTax  Money `json:"subtotal_ex_tax"`
	SubtotalIncTax Money `json:"subtotal_inc_tax"`
	SubtotalTax    Money `json:"subtotal_tax"`

	BaseShippingCost   Money `json:"base_shipping_cost"`
	ShippingCostExTax  Money `json:"shipping_cost_ex_tax"`
	ShippingCostIncTax Money `json:"shipping_cost_inc_tax"`
	ShippingCostTax    Money `json:"shipping_cost_tax"`

	BaseHandlingCost   Money `json:"base_handling_cost"`
	HandlingCostExTax  Money `json:"handling_cost_ex_tax"`
	HandlingCostIncTax Money `json:"handling_cost_inc_tax"`
	HandlingCostTax    Money `json:"handling_cost_tax"`

	BaseWrappingCost   Money `json:"base_wrapping_cost"`
	WrappingCostExTax  Money `json:"wrapping_cost_ex_tax"`
	WrappingCostIncTax Money `json:"wrapping_cost_inc_tax"`
	WrappingCostTax    Money `json:"wrapping_cost_tax"`

	TotalExTax  Money `json:"total_ex_tax"`
	TotalIncTax Money `json:"total_inc_tax"`
	TotalTax    Money `json:"total_tax"`

	ItemsTotal   int `json:"items_total"`
	ItemsShipped int `json:"items_shipped"`

	PaymentMethod     string     `json:"payment_method"`
	PaymentProviderID FlexString `json:"payment_provider_id"`
	PaymentStatus     string     `json:"payment_status"`
	// RefundedAmount is documented as "always returns 0": refunds are read
	// from v3, never from here.
	RefundedAmount        Money `json:"refunded_amount"`
	StoreCreditAmount     Money `json:"store_credit_amount"`
	GiftCertificateAmount Money `json:"gift_certificate_amount"`
	DiscountAmount        Money `json:"discount_amount"`
	CouponDiscount        Money `json:"coupon_discount"`

	CurrencyCode             string     `json:"currency_code"`
	CurrencyExchangeRate     FlexString `json:"currency_exchange_rate"`
	DefaultCurrencyCode      string     `json:"default_currency_code"`
	StoreDefaultCurrencyCode string     `json:"store_default_currency_code,omitempty"`

	IsTaxInclusivePricing bool `json:"is_tax_inclusive_pricing"`
	IsDeleted             bool `json:"is_deleted"`

	StaffNotes           string     `json:"staff_notes"`
	CustomerMessage      string     `json:"customer_message"`
	OrderSource          string     `json:"order_source,omitempty"`
	ExternalSource       FlexString `json:"external_source,omitempty"`
	ExternalID           FlexString `json:"external_id,omitempty"`
	ExternalOrderID      FlexString `json:"external_order_id,omitempty"`
	ChannelID            int64      `json:"channel_id,omitempty"`
	ShippingAddressCount int        `json:"shipping_address_count"`

	BillingAddress    Address       `json:"billing_address"`
	Products          *Resource     `json:"products,omitempty"`
	ShippingAddresses *Resource     `json:"shipping_addresses,omitempty"`
	Coupons           *Resource     `json:"coupons,omitempty"`
	Consignments      *Consignments `json:"consignments,omitempty"`
	Fees              *Fees         `json:"fees,omitempty"`
}

// Fees is an order's fees field: the fees themselves, or (when the order
// was read without them) a link to /v2/orders/{id}/fees.
type Fees struct {
	Items []Fee
	Link  *Resource
}

// UnmarshalJSON implements json.Unmarshaler: an array of fees, a link
// object, or null.
func (f *Fees) UnmarshalJSON(b []byte) error {
	*f = Fees{}
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '{':
		f.Link = new(Resource)
		return decodeInto(b, f.Link)
	case len(b) > 0 && b[0] == '[':
		return decodeInto(b, &f.Items)
	}
	return fmt.Errorf("%s is neither a list of fees nor a link", truncate(b))
}

// MarshalJSON implements json.Marshaler: the link if set, else the list.
func (f Fees) MarshalJSON() ([]byte, error) {
	if f.Link != nil {
		return json.Marshal(f.Link)
	}
	if f.Items == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(f.Items)
}

// Fee is an order fee (v2 order fees[] or /v2/orders/{id}/fees).
type Fee struct {
	ID                  int64  `json:"id"`
	Type                string `json:"type"`
	DisplayNameCustomer string `json:"display_name_customer"`
	DisplayNameMerchant string `json:"display_name_merchant"`
	Source              string `json:"source"`
	BaseCost            Money  `json:"base_cost"`
	CostExTax           Money  `json:"cost_ex_tax"`
	CostIncTax          Money  `json:"cost_inc_tax"`
	CostTax             Money  `json:"cost_tax"`
	TaxClassID          *int64 `json:"tax_class_id"`
}

// Consignments is an order's consignments field with
// consignment_structure=object: the order's line items grouped by how they
// are fulfilled. Link is set instead when the order carries only a link.
type Consignments struct {
	Pickups   []PickupConsignment   `json:"pickups"`
	Shipping  []ShippingConsignment `json:"shipping"`
	Downloads []DigitalConsignment  `json:"downloads"`
	Email     EmailConsignments     `json:"email"`
	Link      *Resource             `json:"-"`
}

type consignmentsObject Consignments

// UnmarshalJSON implements json.Unmarshaler: the object structure, the
// older array structure (a list of such objects, merged), or a link.
func (c *Consignments) UnmarshalJSON(b []byte) error {
	*c = Consignments{}
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '[':
		var parts []consignmentsObject
		if err := decodeInto(b, &parts); err != nil {
			return err
		}
		for _, p := range parts {
			c.Pickups = append(c.Pickups, p.Pickups...)
			c.Shipping = append(c.Shipping, p.Shipping...)
			c.Downloads = append(c.Downloads, p.Downloads...)
			c.Email.GiftCertificates = append(c.Email.GiftCertificates, p.Email.GiftCertificates...)
		}
		return nil
	case len(b) > 0 && b[0] == '{':
		var probe struct {
			Resource *string `json:"resource"`
			URL      *string `json:"url"`
		}
		if err := json.Unmarshal(b, &probe); err != nil {
			return err
		}
		if probe.Resource != nil || probe.URL != nil {
			c.Link = new(Resource)
			return decodeInto(b, c.Link)
		}
		return decodeInto(b, (*consignmentsObject)(c))
	}
	return fmt.Errorf("%s is not a consignments object", truncate(b))
}

// MarshalJSON implements json.Marshaler: the link if set, else the object.
func (c Consignments) MarshalJSON() ([]byte, error) {
	if c.Link != nil {
		return json.Marshal(c.Link)
	}
	return json.Marshal(consignmentsObject(c))
}

// LineItems is a consignment's line_items: the order products themselves
// (include=consignments.line_items) or links to them.
type LineItems struct {
	Items []OrderProduct
	Links []Resource
}

// UnmarshalJSON implements json.Unmarshaler: an array whose elements are
// order products or links, a single link, or null.
func (l *LineItems) UnmarshalJSON(b []byte) error {
	*l = LineItems{}
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '{':
		var r Resource
		if err := decodeInto(b, &r); err != nil {
			return err
		}
		l.Links = []Resource{r}
		return nil
	case len(b) > 0 && b[0] == '[':
		var raws []json.RawMessage
		if err := decodeInto(b, &raws); err != nil {
			return err
		}
		for i, raw := range raws {
			var probe struct {
				ID       json.RawMessage `json:"id"`
				Resource *string         `json:"resource"`
			}
			if err := json.Unmarshal(raw, &probe); err != nil {
				return &pathError{path: fmt.Sprintf("[%d]", i), why: fmt.Sprintf("%s is not an order product or a link", truncate(raw))}
			}
			if probe.ID == nil && probe.Resource != nil {
				var r Resource
				if err := decodeInto(raw, &r); err != nil {
					return prefixPath(fmt.Sprintf("[%d]", i), err)
				}
				l.Links = append(l.Links, r)
				continue
			}
			var p OrderProduct
			if err := decodeInto(raw, &p); err != nil {
				return prefixPath(fmt.Sprintf("[%d]", i), err)
			}
			l.Items = append(l.Items, p)
		}
		return nil
	}
	return fmt.Errorf("%s is not a list of line items", truncate(b))
}

// MarshalJSON implements json.Marshaler: the products, then the links, in
// one array.
func (l LineItems) MarshalJSON() ([]byte, error) {
	all := make([]any, 0, len(l.Items)+len(l.Links))
	for _, p := range l.Items {
		all = append(all, p)
	}
	for _, r := range l.Links {
		all = append(all, r)
	}
	return json.Marshal(all)
}

// ShippingAddress is one of an order's shipping addresses
// (/v2/orders/{id}/shipping_addresses); its id is the order_address_id of
// the products shipped there.
type ShippingAddress struct {
	ID int64 `json:"id"`
	// OrderID is 0 inside a consignment, which does not repeat it.
	OrderID int64 `json:"order_id,omitempty"`
	Address
	ItemsTotal             int    `json:"items_total"`
	ItemsShipped           int    `json:"items_shipped"`
	ShippingMethod         string `json:"shipping_method"`
	BaseCost               Money  `json:"base_cost"`
	CostExTax              Money  `json:"cost_ex_tax"`
	CostIncTax             Money  `json:"cost_inc_tax"`
	CostTax                Money  `json:"cost_tax"`
	CostTaxClassID         int64  `json:"cost_tax_class_id"`
	BaseHandlingCost       Money  `json:"base_handling_cost"`
	HandlingCostExTax      Money  `json:"handling_cost_ex_tax"`
	HandlingCostIncTax     Money  `json:"handling_cost_inc_tax"`
	HandlingCostTax        Money  `json:"handling_cost_tax"`
	HandlingCostTaxClassID int64  `json:"handling_cost_tax_class_id"`
	ShippingZoneID         int64  `json:"shipping_zone_id"`
	ShippingZoneName       string `json:"shipping_zone_name"`
}

// ShippingConsignment is a shipping consignment: a shipping address with
// the line items shipped to it.
type ShippingConsignment struct {
	ShippingAddress
	LineItems      LineItems `json:"line_items"`
	ShippingQuotes *Resource `json:"shipping_quotes,omitempty"`
}

// PickupConsignment is a pickup consignment.
type PickupConsignment struct {
	ID                        int64          `json:"id"`
	PickupMethodID            int64          `json:"pickup_method_id"`
	PickupMethodDisplayName   string         `json:"pickup_method_display_name"`
	CollectionInstructions    string         `json:"collection_instructions"`
	CollectionTimeDescription string         `json:"collection_time_description"`
	Location                  PickupLocation `json:"location"`
	LineItems                 LineItems      `json:"line_items"`
}

// PickupLocation is where a pickup consignment is collected.
type PickupLocation struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Code          string `json:"code"`
	AddressLine1  string `json:"address_line_1"`
	AddressLine2  string `json:"address_line_2"`
	City          string `json:"city"`
	State         string `json:"state"`
	PostalCode    string `json:"postal_code"`
	CountryAlpha2 string `json:"country_alpha2"`
	Email         string `json:"email"`
	Phone         string `json:"phone"`
}

// DigitalConsignment is a download or an e-mailed gift certificate.
type DigitalConsignment struct {
	RecipientEmail string    `json:"recipient_email"`
	LineItems      LineItems `json:"line_items"`
}

// EmailConsignments holds the e-mailed gift certificates.
type EmailConsignments struct {
	GiftCertificates []DigitalConsignment `json:"gift_certificates"`
}

// OrderProduct is one line of an order (/v2/orders/{id}/products, or a
// consignment's line_items). ProductID is 0 for a custom product.
type OrderProduct struct {
	ID                  int64  `json:"id"`
	OrderID             int64  `json:"order_id"`
	ProductID           int64  `json:"product_id"`
	VariantID           int64  `json:"variant_id"`
	OrderAddressID      int64  `json:"order_address_id"`
	OrderPickupMethodID int64  `json:"order_pickup_method_id,omitempty"`
	Name                string `json:"name"`
	NameCustomer        string `json:"name_customer,omitempty"`
	NameMerchant        string `json:"name_merchant,omitempty"`
	SKU                 string `json:"sku"`
	UPC                 string `json:"upc,omitempty"`
	Type                string `json:"type"`
	Quantity            int    `json:"quantity"`

	BasePrice   Money `json:"base_price"`
	PriceExTax  Money `json:"price_ex_tax"`
	PriceIncTax Money `json:"price_inc_tax"`
	PriceTax    Money `json:"price_tax"`
	BaseTotal   Money `json:"base_total"`
	TotalExTax  Money `json:"total_ex_tax"`
	TotalIncTax Money `json:"total_inc_tax"`
	TotalTax    Money `json:"total_tax"`
	// DiscountedTotalIncTax is the line after every discount, tax included.
	DiscountedTotalIncTax Money `json:"discounted_total_inc_tax"`

	WrappingID         int64  `json:"wrapping_id,omitempty"`
	WrappingName       string `json:"wrapping_name,omitempty"`
	BaseWrappingCost   Money  `json:"base_wrapping_cost"`
	WrappingCostExTax  Money  `json:"wrapping_cost_ex_tax"`
	WrappingCostIncTax Money  `json:"wrapping_cost_inc_tax"`
	WrappingCostTax    Money  `json:"wrapping_cost_tax"`

	IsRefunded       bool  `json:"is_refunded"`
	QuantityRefunded int   `json:"quantity_refunded"`
	RefundAmount     Money `json:"refund_amount"`
	QuantityShipped  int   `json:"quantity_shipped"`

	ParentOrderProductID *int64 `json:"parent_order_product_id"`
	IsBundledProduct     bool   `json:"is_bundled_product"`
	GiftCertificateID    *int64 `json:"gift_certificate_id,omitempty"`

	AppliedDiscounts []AppliedDiscount `json:"applied_discounts"`
	ProductOptions   []ProductOption   `json:"product_options"`
}

// AppliedDiscount is a discount applied to an order product. ID is a
// number for a promotion and "coupon" for a coupon.
type AppliedDiscount struct {
	ID     FlexString `json:"id"`
	Amount Money      `json:"amount"`
	Name   string     `json:"name"`
	Code   FlexString `json:"code"`
	Target string     `json:"target"`
}

// ProductOption is a chosen option of an order product.
type ProductOption struct {
	ID              int64  `json:"id"`
	OptionID        int64  `json:"option_id"`
	ProductOptionID int64  `json:"product_option_id"`
	DisplayName     string `json:"display_name"`
	DisplayValue    string `json:"display_value"`
}

// Shipment is a v2 shipment (/v2/orders/{id}/shipments).
type Shipment struct {
	ID                          int64          `json:"id"`
	OrderID                     int64          `json:"order_id"`
	CustomerID                  int64          `json:"customer_id"`
	OrderAddressID              int64          `json:"order_address_id"`
	DateCreated                 Time           `json:"date_created"`
	TrackingNumber              string         `json:"tracking_number"`
	MerchantShippingCost        Money          `json:"merchant_shipping_cost"`
	ShippingMethod              string         `json:"shipping_method"`
	ShippingProvider            string         `json:"shipping_provider"`
	ShippingProviderDisplayName string         `json:"shipping_provider_display_name"`
	TrackingCarrier             string         `json:"tracking_carrier"`
	TrackingLink                string         `json:"tracking_link"`
	GeneratedTrackingLink       string         `json:"generated_tracking_link"`
	Comments                    string         `json:"comments"`
	BillingAddress              Address        `json:"billing_address"`
	ShippingAddress             Address        `json:"shipping_address"`
	Items                       []ShipmentItem `json:"items"`
}

// ShipmentItem is a quantity of one order product in a shipment.
type ShipmentItem struct {
	OrderProductID int64 `json:"order_product_id"`
	ProductID      int64 `json:"product_id"`
	Quantity       int   `json:"quantity"`
}

// Coupon is a coupon applied to an order (/v2/orders/{id}/coupons). Type
// is 0 per-item, 1 percentage, 2 per-total, 3 shipping, 4 free shipping,
// 5 promotion; Discount is the coupon's own value (a percentage for type
// 1), Amount what it took off this order.
type Coupon struct {
	ID       int64  `json:"id"`
	CouponID int64  `json:"coupon_id"`
	OrderID  int64  `json:"order_id"`
	Code     string `json:"code"`
	Amount   Money  `json:"amount"`
	Type     int    `json:"type"`
	Discount Money  `json:"discount"`
}

// OrderTax is one tax applied to an order (/v2/orders/{id}/taxes).
type OrderTax struct {
	ID             int64  `json:"id"`
	OrderAddressID int64  `json:"order_address_id"`
	TaxClassID     int64  `json:"tax_class_id"`
	Name           string `json:"name"`
	Class          string `json:"class"`
	Rate           Money  `json:"rate"`
	PriorityAmount Money  `json:"priority_amount"`
	LineAmount     Money  `json:"line_amount"`
	OrderProductID int64  `json:"order_product_id"`
	LineItemType   string `json:"line_item_type"`
}

// OrderStatus is one of the store's order statuses (/v2/order_statuses).
type OrderStatus struct {
	ID                int    `json:"id"`
	Name              string `json:"name"`
	SystemLabel       string `json:"system_label"`
	CustomLabel       string `json:"custom_label"`
	SystemDescription string `json:"system_description"`
	Order             int    `json:"order"`
}

// Meta is a v3 response's meta: page-and-limit paging, cursor paging, or
// neither (the refunds list documents an empty meta).
type Meta struct {
	Pagination       *Pagination       `json:"pagination,omitempty"`
	CursorPagination *CursorPagination `json:"cursor_pagination,omitempty"`
}

// Pagination is v3 page-and-limit paging.
type Pagination struct {
	Total       int       `json:"total"`
	Count       int       `json:"count"`
	PerPage     int       `json:"per_page"`
	CurrentPage int       `json:"current_page"`
	TotalPages  int       `json:"total_pages"`
	Links       PageLinks `json:"links"`
}

// PageLinks are the query strings of the neighbouring pages.
type PageLinks struct {
	Previous string `json:"previous,omitempty"`
	Current  string `json:"current,omitempty"`
	Next     string `json:"next,omitempty"`
}

// CursorPagination is v3 cursor paging (after/before).
type CursorPagination struct {
	Count       int       `json:"count,omitempty"`
	PerPage     int       `json:"per_page,omitempty"`
	StartCursor string    `json:"start_cursor,omitempty"`
	EndCursor   string    `json:"end_cursor,omitempty"`
	Links       PageLinks `json:"links"`
}

// Page is one v3 list response.
type Page[T any] struct {
	Data []T  `json:"data"`
	Meta Meta `json:"meta"`
}

// Refund is a v3 refund (GET /v3/orders/payment_actions/refunds, or per
// order). TotalAmount is what was refunded, tax included; TotalTax is the
// tax part (BigCommerce has no TAX item type) and may be negative.
type Refund struct {
	ID                         int64           `json:"id"`
	OrderID                    int64           `json:"order_id"`
	UserID                     int64           `json:"user_id"`
	Created                    time.Time       `json:"created"`
	Reason                     string          `json:"reason"`
	TotalAmount                Amount          `json:"total_amount"`
	TotalTax                   Amount          `json:"total_tax"`
	UsesMerchantOverrideValues bool            `json:"uses_merchant_override_values"`
	Items                      []RefundItem    `json:"items"`
	Payments                   []RefundPayment `json:"payments"`
}

// RefundItem is what one part of a refund was for. ItemID is the order
// product id (PRODUCT, GIFT_WRAPPING), the order address id (SHIPPING,
// HANDLING), the fee id (FEE) or the order id (ORDER); Quantity is set for
// PRODUCT only.
type RefundItem struct {
	ItemType        string             `json:"item_type"`
	ItemID          int64              `json:"item_id"`
	Reason          string             `json:"reason,omitempty"`
	Quantity        int                `json:"quantity,omitempty"`
	RequestedAmount *Amount            `json:"requested_amount"`
	Adjustments     []RefundAdjustment `json:"adjustments,omitempty"`
}

// RefundAdjustment reduces what a refund item returned (Amount < 0).
type RefundAdjustment struct {
	Amount      Amount `json:"amount"`
	Description string `json:"description"`
}

// RefundPayment is how (part of) a refund was paid back. ProviderID is
// e.g. "storecredit" or "braintree".
type RefundPayment struct {
	ID              int64      `json:"id"`
	ProviderID      string     `json:"provider_id"`
	Amount          Amount     `json:"amount"`
	Offline         bool       `json:"offline"`
	IsDeclined      bool       `json:"is_declined"`
	DeclinedMessage string     `json:"declined_message"`
	TransactionID   FlexString `json:"transaction_id,omitempty"`
}

// Transaction is a v3 order transaction (GET /v3/orders/{id}/transactions).
type Transaction struct {
	ID                     int64                  `json:"id"`
	OrderID                FlexString             `json:"order_id"`
	Event                  string                 `json:"event"`
	Method                 string                 `json:"method"`
	Amount                 Amount                 `json:"amount"`
	Currency               string                 `json:"currency"`
	Gateway                string                 `json:"gateway"`
	GatewayTransactionID   FlexString             `json:"gateway_transaction_id,omitempty"`
	DateCreated            time.Time              `json:"date_created"`
	Test                   bool                   `json:"test"`
	Status                 string                 `json:"status"`
	FraudReview            bool                   `json:"fraud_review"`
	ReferenceTransactionID *int64                 `json:"reference_transaction_id,omitempty"`
	PaymentMethodID        FlexString             `json:"payment_method_id,omitempty"`
	Offline                *TransactionOffline    `json:"offline,omitempty"`
	Custom                 *TransactionCustom     `json:"custom,omitempty"`
	GiftCertificate        *TransactionGiftCert   `json:"gift_certificate,omitempty"`
	CreditCard             *TransactionCreditCard `json:"credit_card,omitempty"`
}

// TransactionOffline describes an offline payment (check, purchase order).
type TransactionOffline struct {
	DisplayName string `json:"display_name"`
}

// TransactionCustom describes a custom payment of a manual order.
type TransactionCustom struct {
	PaymentMethod string `json:"payment_method"`
}

// TransactionGiftCert is a gift-certificate payment. Its balances are left
// out: velqbo does not use them, and a derived float there must not make
// the transaction unreadable.
type TransactionGiftCert struct {
	Code   string `json:"code"`
	Status string `json:"status"`
}

// TransactionCreditCard is the card of a card payment.
type TransactionCreditCard struct {
	CardType  string `json:"card_type"`
	CardLast4 string `json:"card_last4"`
}

// Customer is a v3 customer (GET /v3/customers, include=addresses).
type Customer struct {
	ID                int64             `json:"id"`
	Email             string            `json:"email"`
	FirstName         string            `json:"first_name"`
	LastName          string            `json:"last_name"`
	Company           string            `json:"company"`
	Phone             string            `json:"phone"`
	Notes             string            `json:"notes"`
	TaxExemptCategory string            `json:"tax_exempt_category"`
	CustomerGroupID   int64             `json:"customer_group_id"`
	DateCreated       time.Time         `json:"date_created"`
	DateModified      time.Time         `json:"date_modified"`
	AddressCount      int               `json:"address_count"`
	Addresses         []CustomerAddress `json:"addresses,omitempty"`
	OriginChannelID   int64             `json:"origin_channel_id,omitempty"`
	ChannelIDs        []int64           `json:"channel_ids,omitempty"`
}

// CustomerAddress is a v3 customer address. AddressType is "residential"
// or "commercial".
type CustomerAddress struct {
	ID              int64  `json:"id"`
	CustomerID      int64  `json:"customer_id"`
	FirstName       string `json:"first_name"`
	LastName        string `json:"last_name"`
	Company         string `json:"company"`
	Address1        string `json:"address1"`
	Address2        string `json:"address2"`
	City            string `json:"city"`
	StateOrProvince string `json:"state_or_province"`
	PostalCode      string `json:"postal_code"`
	Country         string `json:"country"`
	CountryCode     string `json:"country_code"`
	Phone           string `json:"phone"`
	AddressType     string `json:"address_type"`
}

// CustomerUpdate is one element of PUT /v3/customers: the id and the
// fields to change (nil leaves a field alone).
type CustomerUpdate struct {
	ID        int64   `json:"id"`
	Email     *string `json:"email,omitempty"`
	FirstName *string `json:"first_name,omitempty"`
	LastName  *string `json:"last_name,omitempty"`
	Company   *string `json:"company,omitempty"`
	Phone     *string `json:"phone,omitempty"`
}

// Product is a v3 catalog product (GET /v3/catalog/products,
// include=variants). Derived prices (calculated_price, sale_price) are
// left out: velqbo does not use them, and a float computed there must not
// make a product unreadable. A product without options has one variant, its base
// variant (BaseVariantID), whose SKU is the product's.
type Product struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	Type          string    `json:"type"`
	SKU           string    `json:"sku"`
	Price         Amount    `json:"price"`
	IsVisible     bool      `json:"is_visible"`
	Availability  string    `json:"availability"`
	BaseVariantID *int64    `json:"base_variant_id,omitempty"`
	DateCreated   time.Time `json:"date_created"`
	DateModified  time.Time `json:"date_modified"`
	Variants      []Variant `json:"variants,omitempty"`
}

// Variant is a v3 catalog variant: the unit an order product links to by
// variant_id, and the SKU velqbo links QBO items by. Price is nil when the
// variant inherits the product's price.
type Variant struct {
	ID                 int64         `json:"id"`
	ProductID          int64         `json:"product_id"`
	SKU                string        `json:"sku"`
	SKUID              *int64        `json:"sku_id"`
	Price              *Amount       `json:"price"`
	UPC                string        `json:"upc,omitempty"`
	MPN                string        `json:"mpn,omitempty"`
	GTIN               string        `json:"gtin,omitempty"`
	PurchasingDisabled bool          `json:"purchasing_disabled"`
	OptionValues       []OptionValue `json:"option_values"`
}

// OptionValue is one option choice that defines a variant ("Size: L").
type OptionValue struct {
	ID                int64  `json:"id"`
	Label             string `json:"label"`
	OptionID          int64  `json:"option_id"`
	OptionDisplayName string `json:"option_display_name"`
}

// Decoding. Every decoder takes a response body and returns the objects
// that decoded. A body that is not the expected document at all (an HTML
// error page, a cut-off response) is an error for which IsBodyError is
// true. One object that does not decode does not stop the others: it comes
// back as a *velocity.ObjectError whose Reason names the field, e.g.
// `consignments.shipping[0].line_items[1].price_ex_tax: "1.2.3" is not a
// decimal number`. Its Kind and ID are those of the object a sync would
// have to block: the order for an order's products, shipments, coupons,
// fees, taxes, refunds and transactions (ID empty when the object does
// not say which order: fees, taxes); the customer; the product for a
// product or a variant.

// errBody is wrapped by every whole-body decoding error.
var errBody = errors.New("bigcommerce: unreadable body")

// IsBodyError reports whether err is a decoder's whole-body failure, as
// opposed to one bad object.
func IsBodyError(err error) bool { return errors.Is(err, errBody) }

// DecodeOrder decodes GET /v2/orders/{id}. It returns a
// *velocity.ObjectError for an order that does not decode, and an error
// for which IsBodyError is true when the body is not a JSON object.
func DecodeOrder(data []byte) (*Order, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' || !json.Valid(data) {
		return nil, fmt.Errorf("%w: want a JSON order object, got %s", errBody, truncate(data))
	}
	var o Order
	if err := decodeInto(data, &o); err != nil {
		return nil, objectError(data, v2Order, err)
	}
	return &o, nil
}

// DecodeOrders decodes a page of GET /v2/orders. An empty body (HTTP 204,
// past the last page, as for every v2 and v3 list here) or null is an
// empty page.
func DecodeOrders(data []byte) ([]Order, []*velocity.ObjectError, error) {
	return decodeArray[Order](data, v2Order)
}

// DecodeOrderProducts decodes GET /v2/orders/{id}/products.
func DecodeOrderProducts(data []byte) ([]OrderProduct, []*velocity.ObjectError, error) {
	return decodeArray[OrderProduct](data, v2Sub("product"))
}

// DecodeShippingAddresses decodes GET /v2/orders/{id}/shipping_addresses.
func DecodeShippingAddresses(data []byte) ([]ShippingAddress, []*velocity.ObjectError, error) {
	return decodeArray[ShippingAddress](data, v2Sub("shipping address"))
}

// DecodeShipments decodes GET /v2/orders/{id}/shipments (204: none).
func DecodeShipments(data []byte) ([]Shipment, []*velocity.ObjectError, error) {
	return decodeArray[Shipment](data, v2Sub("shipment"))
}

// DecodeCoupons decodes GET /v2/orders/{id}/coupons.
func DecodeCoupons(data []byte) ([]Coupon, []*velocity.ObjectError, error) {
	return decodeArray[Coupon](data, v2Sub("coupon"))
}

// DecodeFees decodes GET /v2/orders/{id}/fees.
func DecodeFees(data []byte) ([]Fee, []*velocity.ObjectError, error) {
	return decodeArray[Fee](data, v2Sub("fee"))
}

// DecodeOrderTaxes decodes GET /v2/orders/{id}/taxes.
func DecodeOrderTaxes(data []byte) ([]OrderTax, []*velocity.ObjectError, error) {
	return decodeArray[OrderTax](data, v2Sub("tax"))
}

// DecodeOrderStatuses decodes GET /v2/order_statuses.
func DecodeOrderStatuses(data []byte) ([]OrderStatus, []*velocity.ObjectError, error) {
	return decodeArray[OrderStatus](data, identity{kind: "order status", idKey: "id"})
}

// DecodeRefunds decodes a page of GET /v3/orders/payment_actions/refunds
// (or /v3/orders/{id}/payment_actions/refunds).
func DecodeRefunds(data []byte) (Page[Refund], []*velocity.ObjectError, error) {
	return decodePage[Refund](data, v3Sub("refund", "order_id"))
}

// DecodeTransactions decodes GET /v3/orders/{id}/transactions (204: none).
func DecodeTransactions(data []byte) (Page[Transaction], []*velocity.ObjectError, error) {
	return decodePage[Transaction](data, v3Sub("transaction", "order_id"))
}

// DecodeCustomers decodes a page of GET /v3/customers.
func DecodeCustomers(data []byte) (Page[Customer], []*velocity.ObjectError, error) {
	return decodePage[Customer](data, identity{kind: velocity.KindCustomer, idKey: "id"})
}

// DecodeProducts decodes a page of GET /v3/catalog/products.
func DecodeProducts(data []byte) (Page[Product], []*velocity.ObjectError, error) {
	return decodePage[Product](data, identity{kind: velocity.KindProduct, idKey: "id"})
}

// DecodeVariants decodes a page of GET /v3/catalog/variants (or a
// product's variants).
func DecodeVariants(data []byte) (Page[Variant], []*velocity.ObjectError, error) {
	return decodePage[Variant](data, v3Sub("variant", "product_id").withKind(velocity.KindProduct))
}

// identity says how to name a bad object in an ObjectError: its Kind, the
// key of the id reported, and (for a sub-object of an order) what it is,
// named with its own id in front of the reason.
type identity struct {
	kind  string
	idKey string
	sub   string
}

var v2Order = identity{kind: velocity.KindOrder, idKey: "id"}

func v2Sub(sub string) identity {
	return identity{kind: velocity.KindOrder, idKey: "order_id", sub: sub}
}

func v3Sub(sub, idKey string) identity {
	return identity{kind: velocity.KindOrder, idKey: idKey, sub: sub}
}

func (id identity) withKind(kind string) identity { id.kind = kind; return id }

// objectError names the bad object raw by id and says what is wrong.
func objectError(raw json.RawMessage, id identity, err error) *velocity.ObjectError {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m) // raw is a valid object, so this cannot fail
	oe := &velocity.ObjectError{Kind: id.kind, ID: idText(m[id.idKey]), Reason: err.Error()}
	if id.sub != "" {
		own := idText(m["id"])
		prefix := id.sub
		if own != "" {
			prefix += " " + own
		}
		oe.Reason = prefix + ": " + oe.Reason
	}
	return oe
}

// idText is an id as text: a number's digits or a string's contents; ""
// for anything else.
func idText(raw json.RawMessage) string {
	var f FlexString
	if raw == nil || json.Unmarshal(raw, &f) != nil {
		return ""
	}
	s := string(f)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

func decodeArray[T any](data []byte, id identity) ([]T, []*velocity.ObjectError, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil, nil, nil
	}
	var raws []json.RawMessage
	if data[0] != '[' || json.Unmarshal(data, &raws) != nil {
		return nil, nil, fmt.Errorf("%w: want a JSON array, got %s", errBody, truncate(data))
	}
	return decodeElems[T](raws, id)
}

func decodeElems[T any](raws []json.RawMessage, id identity) ([]T, []*velocity.ObjectError, error) {
	out := make([]T, 0, len(raws))
	var bad []*velocity.ObjectError
	for i, raw := range raws {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '{' {
			bad = append(bad, &velocity.ObjectError{Kind: id.kind, Reason: fmt.Sprintf("element %d: %s is not an object", i, truncate(raw))})
			continue
		}
		var v T
		if err := decodeInto(raw, &v); err != nil {
			bad = append(bad, objectError(raw, id, err))
			continue
		}
		out = append(out, v)
	}
	return out, bad, nil
}

func decodePage[T any](data []byte, id identity) (Page[T], []*velocity.ObjectError, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return Page[T]{}, nil, nil
	}
	var env struct {
		Data json.RawMessage `json:"data"`
		Meta json.RawMessage `json:"meta"`
	}
	if data[0] != '{' || json.Unmarshal(data, &env) != nil {
		return Page[T]{}, nil, fmt.Errorf("%w: want a JSON object {data, meta}, got %s", errBody, truncate(data))
	}
	var p Page[T]
	if len(env.Meta) > 0 {
		if err := decodeInto(env.Meta, &p.Meta); err != nil {
			return Page[T]{}, nil, fmt.Errorf("%w: meta%s", errBody, prefixPath("", err).(*pathError).dotted())
		}
	}
	var raws []json.RawMessage
	if d := bytes.TrimSpace(env.Data); len(d) > 0 && string(d) != "null" {
		if d[0] != '[' || json.Unmarshal(d, &raws) != nil {
			return Page[T]{}, nil, fmt.Errorf("%w: data: want a JSON array, got %s", errBody, truncate(d))
		}
	}
	items, bad, err := decodeElems[T](raws, id)
	p.Data = items
	return p, bad, err
}

// pathError is a decoding error located at a field path such as
// ".consignments.shipping[0].line_items[1].price_ex_tax".
type pathError struct {
	path string
	why  string
}

func (e *pathError) Error() string {
	if e.path == "" {
		return e.why
	}
	return strings.TrimPrefix(e.path, ".") + ": " + e.why
}

// dotted is the error with its path kept as a suffix of an outer name
// ("meta" + ".pagination.total: …").
func (e *pathError) dotted() string {
	if e.path == "" {
		return ": " + e.why
	}
	return e.path + ": " + e.why
}

func prefixPath(prefix string, err error) error {
	var pe *pathError
	if errors.As(err, &pe) {
		return &pathError{path: prefix + pe.path, why: pe.why}
	}
	return &pathError{path: prefix, why: err.Error()}
}

// decodeInto unmarshals raw into v. On failure it finds the field at fault
// (encoding/json does not name the field for an error from a custom
// UnmarshalJSON) and returns a *pathError naming it.
func decodeInto(raw []byte, v any) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	if path, why := locate(raw, reflect.TypeOf(v)); why != "" {
		return &pathError{path: path, why: why}
	}
	return &pathError{why: strings.TrimPrefix(err.Error(), "json: ")}
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// locate re-decodes raw against t piece by piece and returns the path of
// the first value that does not decode and why. It runs only after a
// failed decode, so its cost does not matter.
func locate(raw []byte, t reflect.Type) (path, why string) {
	for t.Kind() == reflect.Pointer {
		if string(bytes.TrimSpace(raw)) == "null" {
			return "", ""
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		err := json.Unmarshal(raw, reflect.New(t).Interface())
		if err == nil {
			return "", ""
		}
		var pe *pathError
		if errors.As(err, &pe) {
			return pe.path, pe.why
		}
		if t == timeType {
			return "", fmt.Sprintf("%s is not an RFC 3339 date-time", truncate(raw))
		}
		return "", strings.TrimPrefix(err.Error(), "json: ")
	}
	switch t.Kind() {
	case reflect.Struct:
		if string(bytes.TrimSpace(raw)) == "null" {
			return "", ""
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return "", fmt.Sprintf("%s is not an object", truncate(raw))
		}
		return locateFields(m, t)
	case reflect.Slice:
		if string(bytes.TrimSpace(raw)) == "null" {
			return "", ""
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return "", fmt.Sprintf("%s is not a list", truncate(raw))
		}
		for i, it := range items {
			if p, w := locate(it, t.Elem()); w != "" {
				return fmt.Sprintf("[%d]%s", i, p), w
			}
		}
		return "", ""
	}
	if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
		want := "a " + t.Kind().String()
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			want = "an integer"
		case reflect.Bool:
			want = "true or false"
		}
		return "", fmt.Sprintf("%s is not %s", truncate(raw), want)
	}
	return "", ""
}

func locateFields(m map[string]json.RawMessage, t reflect.Type) (string, string) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshalerType) {
				if p, w := locateFields(m, ft); w != "" {
					return p, w
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		raw, ok := lookupKey(m, name)
		if !ok {
			continue
		}
		if p, w := locate(raw, f.Type); w != "" {
			return "." + name + p, w
		}
	}
	return "", ""
}

// lookupKey finds a JSON key the way encoding/json does: the exact name,
// else a case-insensitive match.
func lookupKey(m map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}
