package velocity

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The wire structs mirror the contract JSON. Money and quantities are kept
// as raw JSON so that a JSON number (which would have gone through float64
// in a careless client) is reported, not silently accepted, and so that a
// bad amount never stops the rest of the object from decoding: the id is
// still read and named in the error.

type wireAddress = Address

type wireCustomer struct {
	Type            string      `json:"type"`
	ID              string      `json:"id"`
	Number          string      `json:"number"`
	FirstName       string      `json:"first_name"`
	LastName        string      `json:"last_name"`
	Company         string      `json:"company"`
	Email           string      `json:"email"`
	Phone           string      `json:"phone"`
	BillingAddress  wireAddress `json:"billing_address"`
	ShippingAddress wireAddress `json:"shipping_address"`
	OrganizationID  string      `json:"organization_id"`
	UpdatedAt       string      `json:"updated_at"`
}

type wireProduct struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	SKU       string          `json:"sku"`
	Name      string          `json:"name"`
	Price     json.RawMessage `json:"price"`
	Active    bool            `json:"active"`
	UpdatedAt string          `json:"updated_at"`
}

type wireOrder struct {
	Type            string          `json:"type"`
	ID              string          `json:"id"`
	Number          string          `json:"number"`
	CustomerID      string          `json:"customer_id"`
	Status          string          `json:"status"`
	ApprovedAt      string          `json:"approved_at"`
	CancelledAt     string          `json:"cancelled_at"`
	PaymentTerms    *wireTerms      `json:"payment_terms"`
	ReportAsInvoice bool            `json:"report_as_invoice"`
	PaymentMethod   string          `json:"payment_method"`
	Currency        string          `json:"currency"`
	Email           string          `json:"email"`
	BillingAddress  wireAddress     `json:"billing_address"`
	ShippingAddress wireAddress     `json:"shipping_address"`
	Lines           []wireLine      `json:"lines"`
	ShippingTotal   json.RawMessage `json:"shipping_total"`
	HandlingTotal   json.RawMessage `json:"handling_total"`
	TaxTotal        json.RawMessage `json:"tax_total"`
	DiscountTotal   json.RawMessage `json:"discount_total"`
	CustomAmounts   []wireCustom    `json:"custom_amounts"`
	Total           json.RawMessage `json:"total"`
	Shipments       []wireShipment  `json:"shipments"`
	Refunds         []wireRefund    `json:"refunds"`
	Payments        []wirePayment   `json:"payments"`
	CreatedAt       string          `json:"created_at"`
	UpdatedAt       string          `json:"updated_at"`
}

type wireTerms struct {
	NetDays json.RawMessage `json:"net_days"`
}

type wireLine struct {
	ID        string          `json:"id"`
	ProductID string          `json:"product_id"`
	SKU       string          `json:"sku"`
	Name      string          `json:"name"`
	Quantity  json.RawMessage `json:"quantity"`
	UnitPrice json.RawMessage `json:"unit_price"`
}

type wireCustom struct {
	ID          string          `json:"id"`
	Description string          `json:"description"`
	Amount      json.RawMessage `json:"amount"`
}

type wireShipment struct {
	ID             string             `json:"id"`
	CreatedAt      string             `json:"created_at"`
	ShippedAt      string             `json:"shipped_at"`
	Carrier        string             `json:"carrier"`
	Method         string             `json:"method"`
	TrackingNumber string             `json:"tracking_number"`
	Items          []wireShipmentItem `json:"items"`
}

type wireShipmentItem struct {
	LineID   string          `json:"line_id"`
	Quantity json.RawMessage `json:"quantity"`
}

type wireRefund struct {
	ID            string           `json:"id"`
	CreatedAt     string           `json:"created_at"`
	PaymentMethod string           `json:"payment_method"`
	Reason        string           `json:"reason"`
	Lines         []wireRefundLine `json:"lines"`
	Total         json.RawMessage  `json:"total"`
}

type wireRefundLine struct {
	Kind        string          `json:"kind"`
	LineID      string          `json:"line_id"`
	Quantity    json.RawMessage `json:"quantity"`
	Amount      json.RawMessage `json:"amount"`
	Description string          `json:"description"`
}

type wirePayment struct {
	ID        string          `json:"id"`
	CreatedAt string          `json:"created_at"`
	Amount    json.RawMessage `json:"amount"`
	Method    string          `json:"method"`
	Reference string          `json:"reference"`
}

// maxReasons caps how many problems one ObjectError lists.
const maxReasons = 8

// validator collects the problems of one object, each prefixed by the path
// of the field, so a bookkeeper can find it.
type validator struct {
	errs []string
}

func (v *validator) failf(path, format string, args ...any) {
	if len(v.errs) >= maxReasons {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	v.errs = append(v.errs, msg)
}

func (v *validator) reason() string {
	return strings.Join(v.errs, "; ")
}

type sign int

const (
	anySign sign = iota
	nonNegative
	positive
)

// money parses an optional or required money field.
func (v *validator) money(path string, raw json.RawMessage, required bool, sg sign) decimal.Decimal {
	return v.decimalField(path, raw, required, ParseMoney, sg)
}

// quantity parses an optional or required quantity, which must be positive.
func (v *validator) quantity(path string, raw json.RawMessage, required bool) decimal.Decimal {
	return v.decimalField(path, raw, required, ParseQuantity, positive)
}

// decimalField parses a decimal string with parse and checks its sign,
// recording any problem under path.
func (v *validator) decimalField(path string, raw json.RawMessage, required bool, parse func(string) (decimal.Decimal, error), sg sign) decimal.Decimal {
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			v.failf(path, "missing")
		}
		return decimal.Zero
	}
	s, err := unquoteDecimal(raw)
	if err != nil {
		v.failf(path, "%v", err)
		return decimal.Zero
	}
	d, err := parse(s)
	if err != nil {
		v.failf(path, "%v", err)
		return decimal.Zero
	}
	v.checkSign(path, s, d, sg)
	return d
}

func (v *validator) checkSign(path, s string, d decimal.Decimal, sg sign) {
	switch sg {
	case nonNegative:
		if d.Sign() < 0 {
			v.failf(path, "%q is negative; want ≥ 0", s)
		}
	case positive:
		if d.Sign() <= 0 {
			v.failf(path, "%q is not positive; want > 0", s)
		}
	}
}

func (v *validator) timestamp(path, s string, required bool) time.Time {
	if s == "" {
		if required {
			v.failf(path, "missing")
		}
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		v.failf(path, "%q is not an RFC 3339 timestamp with offset", s)
		return time.Time{}
	}
	return t
}

func (v *validator) optTimestamp(path, s string) *time.Time {
	if s == "" {
		return nil
	}
	t := v.timestamp(path, s, false)
	if t.IsZero() {
		return nil
	}
	return &t
}

func (v *validator) required(path, s string) {
	if s == "" {
		v.failf(path, "missing")
	}
}

// unmarshal decodes data into w. A structural type mismatch (an array
// where an object belongs) is recorded as a problem but does not stop the
// decode: encoding/json fills every other field, so the id is still known.
func (v *validator) unmarshal(data []byte, w any) bool {
	err := json.Unmarshal(data, w)
	if err == nil {
		return true
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(object)"
		}
		v.failf(field, "got JSON %s; want %s", te.Value, jsonKind(te.Type))
		return true
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		v.failf("", "invalid JSON at byte %d: %v", se.Offset, se)
		return false
	}
	v.failf("", "invalid JSON: %v", err)
	return false
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a JSON value"
		}
		return "array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "object"
	}
	return t.String()
}

func (v *validator) objectError(kind, id string, line int) error {
	if len(v.errs) == 0 {
		return nil
	}
	return &ObjectError{Kind: kind, ID: id, Line: line, Reason: v.reason()}
}

// DecodeCustomer decodes and validates one customer object. It returns an
// *ObjectError naming the field when the object is invalid (id and
// updated_at are required).
func DecodeCustomer(data []byte) (*Customer, error) { return decodeCustomer(data, 0) }

// DecodeProduct decodes and validates one product object. It returns an
// *ObjectError naming the field when the object is invalid (id is
// required; price, when present, must be a money string).
func DecodeProduct(data []byte) (*Product, error) { return decodeProduct(data, 0) }

// DecodeOrder decodes and validates one order object with its embedded
// shipments, refunds and payments. It returns an *ObjectError naming every
// invalid field (up to a few) when the object is invalid. It does not
// compare the order total with its lines: that is reconcile's call.
func DecodeOrder(data []byte) (*Order, error) { return decodeOrder(data, 0) }

func decodeCustomer(data []byte, line int) (*Customer, error) {
	var w wireCustomer
	var v validator
	if !v.unmarshal(data, &w) {
		return nil, v.objectError(KindCustomer, "", line)
	}
	v.required("id", w.ID)
	c := &Customer{
		ID:              w.ID,
		Number:          w.Number,
		FirstName:       w.FirstName,
		LastName:        w.LastName,
		Company:         w.Company,
		Email:           w.Email,
		Phone:           w.Phone,
		BillingAddress:  w.BillingAddress,
		ShippingAddress: w.ShippingAddress,
		OrganizationID:  w.OrganizationID,
		UpdatedAt:       v.timestamp("updated_at", w.UpdatedAt, true),
	}
	if err := v.objectError(KindCustomer, w.ID, line); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeProduct(data []byte, line int) (*Product, error) {
	var w wireProduct
	var v validator
	if !v.unmarshal(data, &w) {
		return nil, v.objectError(KindProduct, "", line)
	}
	v.required("id", w.ID)
	p := &Product{
		ID:        w.ID,
		SKU:       w.SKU,
		Name:      w.Name,
		Price:     v.money("price", w.Price, false, anySign),
		Active:    w.Active,
		UpdatedAt: v.timestamp("updated_at", w.UpdatedAt, false),
	}
	if err := v.objectError(KindProduct, w.ID, line); err != nil {
		return nil, err
	}
	return p, nil
}

func decodeOrder(data []byte, line int) (*Order, error) {
	return decodeOrderWith(fastDecodeOrder, data, line)
}

// decodeOrderWith is decodeOrder with fast as the first decoder (the
// decoder benchmark passes others).
func decodeOrderWith(fast func([]byte, *wireOrder) bool, data []byte, line int) (*Order, error) {
	var w wireOrder
	var v validator
	if !fast(data, &w) {
		// Anything the one-pass decoder does not mirror exactly (and every
		// malformed line, for its error message) goes through encoding/json.
		w = wireOrder{}
		if !v.unmarshal(data, &w) {
			return nil, v.objectError(KindOrder, "", line)
		}
	}
	o := v.order(&w)
	if err := v.objectError(KindOrder, w.ID, line); err != nil {
		return nil, err
	}
	return o, nil
}

func idx(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

func (v *validator) order(w *wireOrder) *Order {
	v.required("id", w.ID)
	v.required("number", w.Number)
	v.required("customer_id", w.CustomerID)
	o := &Order{
		ID:              w.ID,
		Number:          w.Number,
		CustomerID:      w.CustomerID,
		Status:          w.Status,
		ApprovedAt:      v.optTimestamp("approved_at", w.ApprovedAt),
		CancelledAt:     v.optTimestamp("cancelled_at", w.CancelledAt),
		ReportAsInvoice: w.ReportAsInvoice,
		PaymentMethod:   w.PaymentMethod,
		Currency:        w.Currency,
		Email:           w.Email,
		BillingAddress:  w.BillingAddress,
		ShippingAddress: w.ShippingAddress,
		ShippingTotal:   v.money("shipping_total", w.ShippingTotal, false, anySign),
		HandlingTotal:   v.money("handling_total", w.HandlingTotal, false, anySign),
		TaxTotal:        v.money("tax_total", w.TaxTotal, false, anySign),
		// The discount is subtracted, so a negative one would add money.
		DiscountTotal: v.money("discount_total", w.DiscountTotal, false, nonNegative),
		Total:         v.money("total", w.Total, true, anySign),
		CreatedAt:     v.timestamp("created_at", w.CreatedAt, false),
		UpdatedAt:     v.timestamp("updated_at", w.UpdatedAt, true),
	}
	if w.PaymentTerms != nil {
		n, err := strconv.Atoi(string(w.PaymentTerms.NetDays))
		switch {
		case len(w.PaymentTerms.NetDays) == 0 || string(w.PaymentTerms.NetDays) == "null":
			v.failf("payment_terms.net_days", "missing")
		case err != nil || n < 0 || n > 3650:
			v.failf("payment_terms.net_days", "%s is not a whole number of days", w.PaymentTerms.NetDays)
		}
		o.PaymentTerms = &PaymentTerms{NetDays: n}
	}

	if len(w.Lines) == 0 {
		v.failf("lines", "no lines; want at least one")
	}
	lineIDs := make(map[string]struct{}, len(w.Lines))
	o.Lines = make([]OrderLine, len(w.Lines))
	for i := range w.Lines {
		wl := &w.Lines[i]
		p := idx("lines", i)
		v.required(p+".product_id", wl.ProductID)
		o.Lines[i] = OrderLine{
			ID:        wl.ID,
			ProductID: wl.ProductID,
			SKU:       wl.SKU,
			Name:      wl.Name,
			Quantity:  v.quantity(p+".quantity", wl.Quantity, true),
			UnitPrice: v.money(p+".unit_price", wl.UnitPrice, true, anySign),
		}
		if wl.ID != "" {
			if _, dup := lineIDs[wl.ID]; dup {
				v.failf(p+".id", "duplicate line id %q", wl.ID)
			}
			lineIDs[wl.ID] = struct{}{}
		}
	}

	if len(w.CustomAmounts) > 0 {
		o.CustomAmounts = make([]CustomAmount, len(w.CustomAmounts))
		for i, wc := range w.CustomAmounts {
			o.CustomAmounts[i] = CustomAmount{
				ID:          wc.ID,
				Description: wc.Description,
				Amount:      v.money(idx("custom_amounts", i)+".amount", wc.Amount, true, anySign),
			}
		}
	}

	if len(w.Shipments) > 0 {
		o.Shipments = make([]Shipment, len(w.Shipments))
		for i := range w.Shipments {
			ws := &w.Shipments[i]
			p := idx("shipments", i)
			v.required(p+".id", ws.ID)
			s := Shipment{
				ID:             ws.ID,
				CreatedAt:      v.timestamp(p+".created_at", ws.CreatedAt, false),
				ShippedAt:      v.optTimestamp(p+".shipped_at", ws.ShippedAt),
				Carrier:        ws.Carrier,
				Method:         ws.Method,
				TrackingNumber: ws.TrackingNumber,
			}
			if len(ws.Items) > 0 {
				s.Items = make([]ShipmentItem, len(ws.Items))
				for j, wi := range ws.Items {
					ip := p + idx(".items", j)
					v.required(ip+".line_id", wi.LineID)
					if wi.LineID != "" {
						if _, ok := lineIDs[wi.LineID]; !ok {
							v.failf(ip+".line_id", "%q is not a line of this order", wi.LineID)
						}
					}
					s.Items[j] = ShipmentItem{LineID: wi.LineID, Quantity: v.quantity(ip+".quantity", wi.Quantity, true)}
				}
			}
			o.Shipments[i] = s
		}
	}

	// seen holds the refund and payment ids, each the key of a ledger row.
	var seen map[string]struct{}
	if len(w.Refunds) > 0 {
		o.Refunds = make([]Refund, len(w.Refunds))
		for i := range w.Refunds {
			o.Refunds[i] = v.refund(idx("refunds", i), &w.Refunds[i], lineIDs)
			// Each refund is its own QBO document keyed by its id: two
			// refunds sharing one would race for one ledger row.
			v.unique(idx("refunds", i)+".id", "refund", w.Refunds[i].ID, &seen)
		}
	}

	if len(w.Payments) > 0 {
		o.Payments = make([]Payment, len(w.Payments))
		for i, wp := range w.Payments {
			p := idx("payments", i)
			v.required(p+".id", wp.ID)
			v.unique(p+".id", "payment", wp.ID, &seen)
			o.Payments[i] = Payment{
				ID:        wp.ID,
				CreatedAt: v.timestamp(p+".created_at", wp.CreatedAt, false),
				Amount:    v.money(p+".amount", wp.Amount, true, positive),
				Method:    wp.Method,
				Reference: wp.Reference,
			}
		}
	}
	return o
}

// unique fails field when id (non-empty) was seen before in this order.
func (v *validator) unique(field, what, id string, seen *map[string]struct{}) {
	if id == "" {
		return
	}
	if *seen == nil {
		*seen = map[string]struct{}{}
	}
	key := what + "\x00" + id
	if _, dup := (*seen)[key]; dup {
		v.failf(field, "duplicate %s id %q", what, id)
	}
	(*seen)[key] = struct{}{}
}

func (v *validator) refund(p string, wr *wireRefund, lineIDs map[string]struct{}) Refund {
	v.required(p+".id", wr.ID)
	r := Refund{
		ID: wr.ID,
		// Refund numbering (RF-<number>-<n>) sorts by created_at, so it
		// must be present.
		CreatedAt:     v.timestamp(p+".created_at", wr.CreatedAt, true),
		PaymentMethod: wr.PaymentMethod,
		Reason:        wr.Reason,
	}
	n0 := len(v.errs)
	r.Total = v.money(p+".total", wr.Total, true, positive)
	ok := len(v.errs) == n0
	if len(wr.Lines) == 0 {
		v.failf(p+".lines", "no lines; want at least one")
	}
	r.Lines = make([]RefundLine, len(wr.Lines))
	sum := decimal.Zero
	for j := range wr.Lines {
		wl := &wr.Lines[j]
		lp := p + idx(".lines", j)
		n := len(v.errs)
		rl := RefundLine{
			Kind:        wl.Kind,
			LineID:      wl.LineID,
			Amount:      v.money(lp+".amount", wl.Amount, true, positive),
			Description: wl.Description,
		}
		switch wl.Kind {
		case RefundProduct:
			v.required(lp+".line_id", wl.LineID)
			if wl.LineID != "" {
				if _, found := lineIDs[wl.LineID]; !found {
					v.failf(lp+".line_id", "%q is not a line of this order", wl.LineID)
				}
			}
			rl.Quantity = v.quantity(lp+".quantity", wl.Quantity, false)
		case RefundShipping, RefundHandling, RefundTax, RefundCustom:
		case "":
			v.failf(lp+".kind", "missing")
		default:
			v.failf(lp+".kind", "unknown kind %q; want product, shipping, handling, tax or custom", wl.Kind)
		}
		if len(v.errs) != n {
			ok = false
		}
		sum = sum.Add(rl.Amount)
		r.Lines[j] = rl
	}
	if ok && len(wr.Lines) > 0 && !sum.Equal(r.Total) {
		v.failf(p+".total", "%s is not the sum of its lines (%s)", r.Total.StringFixed(2), sum.StringFixed(2))
	}
	return r
}
