package velocity

import (
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Decoding orders is most of the cost of reading an export, and
// encoding/json spends it twice (a validating pass, then a reflective
// one). fastDecodeOrder fills a wireOrder in one pass without reflection,
// with exactly the result json.Unmarshal would give, for the shape
// Velocity's exporter writes. Whatever it does not mirror exactly it
// declines (ok false): a syntax error anywhere, a key matching a field only
// case-insensitively or written with escapes, a duplicate key, a value of
// the wrong JSON type, a null array element. The caller then decodes with
// encoding/json, which also produces the error messages. FuzzFastDecodeOrder
// holds the two to the same result.
//
// RawMessage fields alias data instead of copying it: they live only until
// the wire struct is turned into an Order, within the decode of this line.
func fastDecodeOrder(data []byte, w *wireOrder) (ok bool) {
	d := jdec{d: data}
	d.ws()
	if !d.object(d.order(w)) {
		return false
	}
	d.ws()
	return d.i == len(d.d)
}

type jdec struct {
	d []byte
	i int
}

func (d *jdec) ws() {
	for d.i < len(d.d) {
		switch d.d[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jdec) peek() byte {
	if d.i < len(d.d) {
		return d.d[d.i]
	}
	return 0
}

// literal consumes lit ("null", "true", "false").
func (d *jdec) literal(lit string) bool {
	if len(d.d)-d.i >= len(lit) && string(d.d[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

// null consumes a null if one is next.
func (d *jdec) null() bool {
	return d.peek() == 'n' && d.literal("null")
}

// member is called with each key of an object, positioned at its value; it
// consumes the value and says whether all went well. seen tracks the known
// keys met so far (a duplicate declines).
type member func(key []byte, seen *uint32) bool

// object parses {"k": v, ...}, calling m for each member.
func (d *jdec) object(m member) bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	d.ws()
	if d.peek() == '}' {
		d.i++
		return true
	}
	var seen uint32
	for {
		key, ok := d.key()
		if !ok {
			return false
		}
		d.ws()
		if d.peek() != ':' {
			return false
		}
		d.i++
		d.ws()
		if !m(key, &seen) {
			return false
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// key reads an object key with no escapes, in place.
func (d *jdec) key() ([]byte, bool) {
	if d.peek() != '"' {
		return nil, false
	}
	start := d.i + 1
	for j := start; j < len(d.d); j++ {
		switch c := d.d[j]; {
		case c == '"':
			d.i = j + 1
			return d.d[start:j], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// once marks field bit n seen; false for a duplicate key.
func once(seen *uint32, n uint) bool {
	if *seen&(1<<n) != 0 {
		return false
	}
	*seen |= 1 << n
	return true
}

// unknown skips the value of a key that names no field, unless
// encoding/json would match it to one of names case-insensitively.
func (d *jdec) unknown(key []byte, names []string) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return false // Unicode case folding (K, ſ) is beyond this decoder
		}
	}
	for _, n := range names {
		if strings.EqualFold(string(key), n) {
			return false
		}
	}
	return d.skip()
}

// str reads a JSON string into *p (null leaves *p alone, as encoding/json
// does); any other JSON type declines.
func (d *jdec) str(p *string) bool {
	if d.null() {
		return true
	}
	s, ok := d.stringValue()
	if ok {
		*p = s
	}
	return ok
}

func (d *jdec) stringValue() (string, bool) {
	if d.peek() != '"' {
		return "", false
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.d); j++ {
		c := d.d[j]
		switch {
		case c == '"':
			d.i = j + 1
			if ascii || utf8.Valid(d.d[start:j]) {
				return string(d.d[start:j]), true
			}
			return d.unquote(start)
		case c == '\\':
			return d.unquote(start)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// unquote decodes the string starting at start (after the quote) as
// encoding/json's unquote does: escapes resolved, a lone or invalid
// surrogate and every invalid UTF-8 byte turned into U+FFFD.
func (d *jdec) unquote(start int) (string, bool) {
	b := make([]byte, 0, 64)
	j := start
	for j < len(d.d) {
		c := d.d[j]
		switch {
		case c == '"':
			d.i = j + 1
			return string(b), true
		case c < 0x20:
			return "", false
		case c == '\\':
			if j+1 >= len(d.d) {
				return "", false
			}
			switch e := d.d[j+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
				j += 2
			case 'b':
				b, j = append(b, '\b'), j+2
			case 'f':
				b, j = append(b, '\f'), j+2
			case 'n':
				b, j = append(b, '\n'), j+2
			case 'r':
				b, j = append(b, '\r'), j+2
			case 't':
				b, j = append(b, '\t'), j+2
			case 'u':
				r := getu4(d.d[j:])
				if r < 0 {
					return "", false
				}
				j += 6
				if utf16.IsSurrogate(r) {
					r1 := getu4(d.d[j:])
					if dec := utf16.DecodeRune(r, r1); dec != utf8.RuneError {
						j += 6
						b = utf8.AppendRune(b, dec)
						break
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", false
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			j++
		default:
			r, size := utf8.DecodeRune(d.d[j:])
			j += size
			b = utf8.AppendRune(b, r) // RuneError for an invalid byte
		}
	}
	return "", false
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// raw stores the value's text in *p (null included, as RawMessage does).
func (d *jdec) raw(p *json.RawMessage) bool {
	start := d.i
	if !d.skip() {
		return false
	}
	*p = d.d[start:d.i]
	return true
}

func (d *jdec) boolean(p *bool) bool {
	switch {
	case d.null():
		return true
	case d.literal("true"):
		*p = true
		return true
	case d.literal("false"):
		*p = false
		return true
	}
	return false
}

// array parses [elem, ...] of objects into a slice built by add, which
// returns the member function for the new element. null sets the slice to
// nil (reset); [] leaves it empty but not nil (empty).
func (d *jdec) array(reset, empty func(), add func() member) bool {
	if d.null() {
		reset()
		return true
	}
	if d.peek() != '[' {
		return false
	}
	d.i++
	d.ws()
	if d.peek() == ']' {
		d.i++
		empty()
		return true
	}
	for {
		if !d.object(add()) {
			return false
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
			d.ws()
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

// skip consumes any JSON value, validating it as encoding/json would.
func (d *jdec) skip() bool {
	switch c := d.peek(); {
	case c == '"':
		_, ok := d.stringValue()
		return ok
	case c == '{':
		return d.object(func(_ []byte, _ *uint32) bool { return d.skip() })
	case c == '[':
		d.i++
		d.ws()
		if d.peek() == ']' {
			d.i++
			return true
		}
		for {
			if !d.skip() {
				return false
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.i++
				d.ws()
			case ']':
				d.i++
				return true
			default:
				return false
			}
		}
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number()
	}
	return false
}

// number consumes a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jdec) number() bool {
	if d.peek() == '-' {
		d.i++
	}
	switch c := d.peek(); {
	case c == '0':
		d.i++
	case '1' <= c && c <= '9':
		for d.i++; isDigit(d.peek()); d.i++ {
		}
	default:
		return false
	}
	if d.peek() == '.' {
		d.i++
		if !isDigit(d.peek()) {
			return false
		}
		for isDigit(d.peek()) {
			d.i++
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.i++
		if c := d.peek(); c == '+' || c == '-' {
			d.i++
		}
		if !isDigit(d.peek()) {
			return false
		}
		for isDigit(d.peek()) {
			d.i++
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// The field names of each wire struct, for unknown's case-insensitive check.
var (
	orderKeys = []string{"type", "id", "number", "customer_id", "status", "approved_at", "cancelled_at",
		"payment_terms", "report_as_invoice", "payment_method", "currency", "email", "billing_address",
		"shipping_address", "lines", "shipping_total", "handling_total", "tax_total", "discount_total",
		"custom_amounts", "total", "shipments", "refunds", "payments", "created_at", "updated_at"}
	termsKeys        = []string{"net_days"}
	addressKeys      = []string{"name", "company", "line1", "line2", "city", "state", "postal_code", "country", "phone"}
	lineKeys         = []string{"id", "product_id", "sku", "name", "quantity", "unit_price"}
	customKeys       = []string{"id", "description", "amount"}
	shipmentKeys     = []string{"id", "created_at", "shipped_at", "carrier", "method", "tracking_number", "items"}
	shipmentItemKeys = []string{"line_id", "quantity"}
	refundKeys       = []string{"id", "created_at", "payment_method", "reason", "lines", "total"}
	refundLineKeys   = []string{"kind", "line_id", "quantity", "amount", "description"}
	paymentKeys      = []string{"id", "created_at", "amount", "method", "reference"}
)

func (d *jdec) order(w *wireOrder) member {
	return func(k []byte, seen *uint32) bool {
		switch string(k) {
		case "type":
			return once(seen, 0) && d.str(&w.Type)
		case "id":
			return once(seen, 1) && d.str(&w.ID)
		case "number":
			return once(seen, 2) && d.str(&w.Number)
		case "customer_id":
			return once(seen, 3) && d.str(&w.CustomerID)
		case "status":
			return once(seen, 4) && d.str(&w.Status)
		case "approved_at":
			return once(seen, 5) && d.str(&w.ApprovedAt)
		case "cancelled_at":
			return once(seen, 6) && d.str(&w.CancelledAt)
		case "payment_terms":
			if !once(seen, 7) {
				return false
			}
			if d.null() {
				w.PaymentTerms = nil
				return true
			}
			t := &wireTerms{}
			w.PaymentTerms = t
			return d.object(func(k []byte, seen *uint32) bool {
				if string(k) == "net_days" {
					return once(seen, 0) && d.raw(&t.NetDays)
				}
				return d.unknown(k, termsKeys)
			})
		case "report_as_invoice":
			return once(seen, 8) && d.boolean(&w.ReportAsInvoice)
		case "payment_method":
			return once(seen, 9) && d.str(&w.PaymentMethod)
		case "currency":
			return once(seen, 10) && d.str(&w.Currency)
		case "email":
			return once(seen, 11) && d.str(&w.Email)
		case "billing_address":
			return once(seen, 12) && d.address(&w.BillingAddress)
		case "shipping_address":
			return once(seen, 13) && d.address(&w.ShippingAddress)
		case "lines":
			return once(seen, 14) && d.array(func() { w.Lines = nil }, func() { w.Lines = []wireLine{} }, func() member {
				w.Lines = append(w.Lines, wireLine{})
				return d.line(&w.Lines[len(w.Lines)-1])
			})
		case "shipping_total":
			return once(seen, 15) && d.raw(&w.ShippingTotal)
		case "handling_total":
			return once(seen, 16) && d.raw(&w.HandlingTotal)
		case "tax_total":
			return once(seen, 17) && d.raw(&w.TaxTotal)
		case "discount_total":
			return once(seen, 18) && d.raw(&w.DiscountTotal)
		case "custom_amounts":
			return once(seen, 19) && d.array(func() { w.CustomAmounts = nil }, func() { w.CustomAmounts = []wireCustom{} }, func() member {
				w.CustomAmounts = append(w.CustomAmounts, wireCustom{})
				c := &w.CustomAmounts[len(w.CustomAmounts)-1]
				return func(k []byte, seen *uint32) bool {
					switch string(k) {
					case "id":
						return once(seen, 0) && d.str(&c.ID)
					case "description":
						return once(seen, 1) && d.str(&c.Description)
					case "amount":
						return once(seen, 2) && d.raw(&c.Amount)
					}
					return d.unknown(k, customKeys)
				}
			})
		case "total":
			return once(seen, 20) && d.raw(&w.Total)
		case "shipments":
			return once(seen, 21) && d.array(func() { w.Shipments = nil }, func() { w.Shipments = []wireShipment{} }, func() member {
				w.Shipments = append(w.Shipments, wireShipment{})
				return d.shipment(&w.Shipments[len(w.Shipments)-1])
			})
		case "refunds":
			return once(seen, 22) && d.array(func() { w.Refunds = nil }, func() { w.Refunds = []wireRefund{} }, func() member {
				w.Refunds = append(w.Refunds, wireRefund{})
				return d.refund(&w.Refunds[len(w.Refunds)-1])
			})
		case "payments":
			return once(seen, 23) && d.array(func() { w.Payments = nil }, func() { w.Payments = []wirePayment{} }, func() member {
				w.Payments = append(w.Payments, wirePayment{})
				p := &w.Payments[len(w.Payments)-1]
				return func(k []byte, seen *uint32) bool {
					switch string(k) {
					case "id":
						return once(seen, 0) && d.str(&p.ID)
					case "created_at":
						return once(seen, 1) && d.str(&p.CreatedAt)
					case "amount":
						return once(seen, 2) && d.raw(&p.Amount)
					case "method":
						return once(seen, 3) && d.str(&p.Method)
					case "reference":
						return once(seen, 4) && d.str(&p.Reference)
					}
					return d.unknown(k, paymentKeys)
				}
			})
		case "created_at":
			return once(seen, 24) && d.str(&w.CreatedAt)
		case "updated_at":
			return once(seen, 25) && d.str(&w.UpdatedAt)
		}
		return d.unknown(k, orderKeys)
	}
}

// address decodes into a (null leaves it alone).
func (d *jdec) address(a *Address) bool {
	if d.null() {
		return true
	}
	return d.object(func(k []byte, seen *uint32) bool {
		switch string(k) {
		case "name":
			return once(seen, 0) && d.str(&a.Name)
		case "company":
			return once(seen, 1) && d.str(&a.Company)
		case "line1":
			return once(seen, 2) && d.str(&a.Line1)
		case "line2":
			return once(seen, 3) && d.str(&a.Line2)
		case "city":
			return once(seen, 4) && d.str(&a.City)
		case "state":
			return once(seen, 5) && d.str(&a.State)
		case "postal_code":
			return once(seen, 6) && d.str(&a.PostalCode)
		case "country":
			return once(seen, 7) && d.str(&a.Country)
		case "phone":
			return once(seen, 8) && d.str(&a.Phone)
		}
		return d.unknown(k, addressKeys)
	})
}

func (d *jdec) line(l *wireLine) member {
	return func(k []byte, seen *uint32) bool {
		switch string(k) {
		case "id":
			return once(seen, 0) && d.str(&l.ID)
		case "product_id":
			return once(seen, 1) && d.str(&l.ProductID)
		case "sku":
			return once(seen, 2) && d.str(&l.SKU)
		case "name":
			return once(seen, 3) && d.str(&l.Name)
		case "quantity":
			return once(seen, 4) && d.raw(&l.Quantity)
		case "unit_price":
			return once(seen, 5) && d.raw(&l.UnitPrice)
		}
		return d.unknown(k, lineKeys)
	}
}

func (d *jdec) shipment(s *wireShipment) member {
	return func(k []byte, seen *uint32) bool {
		switch string(k) {
		case "id":
			return once(seen, 0) && d.str(&s.ID)
		case "created_at":
			return once(seen, 1) && d.str(&s.CreatedAt)
		case "shipped_at":
			return once(seen, 2) && d.str(&s.ShippedAt)
		case "carrier":
			return once(seen, 3) && d.str(&s.Carrier)
		case "method":
			return once(seen, 4) && d.str(&s.Method)
		case "tracking_number":
			return once(seen, 5) && d.str(&s.TrackingNumber)
		case "items":
			return once(seen, 6) && d.array(func() { s.Items = nil }, func() { s.Items = []wireShipmentItem{} }, func() member {
				s.Items = append(s.Items, wireShipmentItem{})
				it := &s.Items[len(s.Items)-1]
				return func(k []byte, seen *uint32) bool {
					switch string(k) {
					case "line_id":
						return once(seen, 0) && d.str(&it.LineID)
					case "quantity":
						return once(seen, 1) && d.raw(&it.Quantity)
					}
					return d.unknown(k, shipmentItemKeys)
				}
			})
		}
		return d.unknown(k, shipmentKeys)
	}
}

func (d *jdec) refund(r *wireRefund) member {
	return func(k []byte, seen *uint32) bool {
		switch string(k) {
		case "id":
			return once(seen, 0) && d.str(&r.ID)
		case "created_at":
			return once(seen, 1) && d.str(&r.CreatedAt)
		case "payment_method":
			return once(seen, 2) && d.str(&r.PaymentMethod)
		case "reason":
			return once(seen, 3) && d.str(&r.Reason)
		case "lines":
			return once(seen, 4) && d.array(func() { r.Lines = nil }, func() { r.Lines = []wireRefundLine{} }, func() member {
				r.Lines = append(r.Lines, wireRefundLine{})
				l := &r.Lines[len(r.Lines)-1]
				return func(k []byte, seen *uint32) bool {
					switch string(k) {
					case "kind":
						return once(seen, 0) && d.str(&l.Kind)
					case "line_id":
						return once(seen, 1) && d.str(&l.LineID)
					case "quantity":
						return once(seen, 2) && d.raw(&l.Quantity)
					case "amount":
						return once(seen, 3) && d.raw(&l.Amount)
					case "description":
						return once(seen, 4) && d.str(&l.Description)
					}
					return d.unknown(k, refundLineKeys)
				}
			})
		case "total":
			return once(seen, 5) && d.raw(&r.Total)
		}
		return d.unknown(k, refundKeys)
	}
}
