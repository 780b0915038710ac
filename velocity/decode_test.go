package velocity

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

const validOrder = `{
 "id":"o1","number":"100234","customer_id":"c1","status":"awaiting_fulfillment",
 "approved_at":"2026-11-24T17:03:00Z","cancelled_at":null,"payment_terms":{"net_days":30},
 "report_as_invoice":false,"payment_method":"terms","currency":"USD","email":"a@example.com",
 "billing_address":{"name":"Zoë","city":"Montréal"},"shipping_address":{},
 "lines":[{"id":"l1","product_id":"p1","sku":"S1","name":"Widget","quantity":"2","unit_price":"19.99"},
          {"id":"l2","product_id":"p2","quantity":"0.5","unit_price":"3.00"}],
 "shipping_total":"5.00","handling_total":"0","tax_total":"1.23","discount_total":"2.00",
 "custom_amounts":[{"id":"ca1","description":"Rush","amount":"-1.50"}],
 "total":"44.21",
 "shipments":[{"id":"s1","created_at":"2026-11-25T10:00:00-05:00","shipped_at":null,"carrier":"UPS","tracking_number":"1Z","items":[{"line_id":"l1","quantity":"2"}]}],
 "refunds":[{"id":"r2","created_at":"2026-11-27T00:00:00Z","lines":[{"kind":"shipping","amount":"5.00"}],"total":"5.00"},
            {"id":"r1","created_at":"2026-11-26T00:00:00Z","lines":[{"kind":"product","line_id":"l1","quantity":"1","amount":"19.99"},{"kind":"tax","amount":"0.50"}],"total":"20.49"}],
 "payments":[{"id":"p1","created_at":"2026-11-28T00:00:00Z","amount":"10.00","method":"check","reference":"1001"}],
 "created_at":"2026-11-24T17:00:00Z","updated_at":"2026-11-28T00:00:00Z","some_future_field":{"x":1}
}`

// withField returns validOrder with key set to raw JSON (or removed when
// raw is "").
func withField(t *testing.T, key, raw string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(validOrder), &m); err != nil {
		t.Fatal(err)
	}
	if raw == "" {
		delete(m, key)
	} else {
		m[key] = json.RawMessage(raw)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeOrder_OK(t *testing.T) {
	o, err := DecodeOrder([]byte(validOrder))
	if err != nil {
		t.Fatalf("DecodeOrder: %v", err)
	}
	d := decimal.RequireFromString
	if !o.Total.Equal(d("44.21")) {
		t.Errorf("Total = %s; want 44.21", o.Total)
	}
	// 2×19.99 + 0.5×3.00 + 5.00 + 0 + 1.23 − 2.00 − 1.50 = 44.21
	if got := o.ComputedTotal(); !got.Equal(o.Total) {
		t.Errorf("ComputedTotal = %s; want %s", got, o.Total)
	}
	if got := o.Lines[1].Amount(); !got.Equal(d("1.5")) {
		t.Errorf("Lines[1].Amount = %s; want 1.5", got)
	}
	if o.PaymentTerms == nil || o.PaymentTerms.NetDays != 30 {
		t.Errorf("PaymentTerms = %+v; want net 30", o.PaymentTerms)
	}
	if o.CancelledAt != nil || o.ApprovedAt == nil {
		t.Errorf("ApprovedAt, CancelledAt = %v, %v; want set, nil", o.ApprovedAt, o.CancelledAt)
	}
	if got, want := o.Shipments[0].CreatedAt, time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("shipment created_at = %v; want %v", got, want)
	}
	var got []string
	for _, r := range o.RefundsOrdered() {
		got = append(got, r.ID)
		if r.N != len(got) {
			t.Errorf("refund %s N = %d; want %d", r.ID, r.N, len(got))
		}
	}
	if diff := cmp.Diff([]string{"r1", "r2"}, got); diff != "" {
		t.Errorf("RefundsOrdered ids (-want +got):\n%s", diff)
	}
	if o.Refunds[0].ID != "r2" {
		t.Errorf("RefundsOrdered changed o.Refunds: first = %s; want r2", o.Refunds[0].ID)
	}
	if !o.RefundsTotal().Equal(d("25.49")) {
		t.Errorf("RefundsTotal = %s; want 25.49", o.RefundsTotal())
	}
}

func TestOrder_RefundsOrderedTie(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o := &Order{Refunds: []Refund{{ID: "b", CreatedAt: at}, {ID: "c", CreatedAt: at.Add(-time.Hour)}, {ID: "a", CreatedAt: at}}}
	var got []string
	for _, r := range o.RefundsOrdered() {
		got = append(got, r.ID)
	}
	if diff := cmp.Diff([]string{"c", "a", "b"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestDecodeOrder_Invalid(t *testing.T) {
	tests := []struct {
		name, key, raw string
		wantID         string
		want           string
	}{
		{"MoneyAsNumber", "total", `44.21`, "o1", "total: 44.21 is a JSON number; want a decimal string"},
		{"ThreeDecimals", "lines", `[{"product_id":"p","quantity":"1","unit_price":"1.999"}]`, "o1", `lines[0].unit_price: "1.999" has more than 2 decimal places`},
		{"MissingID", "id", "", "", "id: missing"},
		{"MissingNumber", "number", "", "o1", "number: missing"},
		{"MissingCustomer", "customer_id", "", "o1", "customer_id: missing"},
		{"NoLines", "lines", `[]`, "o1", "lines: no lines"},
		{"NullLines", "lines", `null`, "o1", "lines: no lines"},
		{"LineNoProduct", "lines", `[{"quantity":"1","unit_price":"1.00"}]`, "o1", "lines[0].product_id: missing"},
		{"LineNoQuantity", "lines", `[{"product_id":"p","unit_price":"1.00"}]`, "o1", "lines[0].quantity: missing"},
		{"LineZeroQuantity", "lines", `[{"product_id":"p","quantity":"0","unit_price":"1.00"}]`, "o1", `lines[0].quantity: "0" is not positive`},
		{"LineNoPrice", "lines", `[{"product_id":"p","quantity":"1"}]`, "o1", "lines[0].unit_price: missing"},
		{"DuplicateLineID", "lines", `[{"id":"x","product_id":"p","quantity":"1","unit_price":"1"},{"id":"x","product_id":"p","quantity":"1","unit_price":"1"}]`, "o1", `lines[1].id: duplicate line id "x"`},
		{"NegativeDiscount", "discount_total", `"-1.00"`, "o1", `discount_total: "-1.00" is negative`},
		{"MissingTotal", "total", "", "o1", "total: missing"},
		{"BadTimestamp", "updated_at", `"2026-11-24 17:03"`, "o1", "updated_at: \"2026-11-24 17:03\" is not an RFC 3339"},
		{"NoOffset", "approved_at", `"2026-11-24T17:03:00"`, "o1", "approved_at:"},
		{"MissingUpdatedAt", "updated_at", "", "o1", "updated_at: missing"},
		{"NetDaysString", "payment_terms", `{"net_days":"x"}`, "o1", "payment_terms.net_days"},
		{"RefundZeroAmount", "refunds", `[{"id":"r","created_at":"2026-11-26T00:00:00Z","lines":[{"kind":"tax","amount":"0.00"}],"total":"0.00"}]`, "o1", `refunds[0].lines[0].amount: "0.00" is not positive`},
		{"RefundTotalMismatch", "refunds", `[{"id":"r","created_at":"2026-11-26T00:00:00Z","lines":[{"kind":"tax","amount":"1.00"},{"kind":"shipping","amount":"2.00"}],"total":"4.00"}]`, "o1", "refunds[0].total: 4.00 is not the sum of its lines (3.00)"},
		{"RefundUnknownKind", "refunds", `[{"id":"r","created_at":"2026-11-26T00:00:00Z","lines":[{"kind":"gift","amount":"1.00"}],"total":"1.00"}]`, "o1", `refunds[0].lines[0].kind: unknown kind "gift"`},
		{"RefundBadLine", "refunds", `[{"id":"r","created_at":"2026-11-26T00:00:00Z","lines":[{"kind":"product","line_id":"nope","amount":"1.00"}],"total":"1.00"}]`, "o1", `refunds[0].lines[0].line_id: "nope" is not a line of this order`},
		{"RefundNoCreatedAt", "refunds", `[{"id":"r","lines":[{"kind":"tax","amount":"1.00"}],"total":"1.00"}]`, "o1", "refunds[0].created_at: missing"},
		{"PaymentZero", "payments", `[{"id":"p","amount":"0"}]`, "o1", `payments[0].amount: "0" is not positive`},
		{"PaymentNoID", "payments", `[{"amount":"1.00"}]`, "o1", "payments[0].id: missing"},
		{"ShipmentBadLine", "shipments", `[{"id":"s","items":[{"line_id":"zz","quantity":"1"}]}]`, "o1", `shipments[0].items[0].line_id: "zz" is not a line of this order`},
		{"CustomAmountNumber", "custom_amounts", `[{"amount":5}]`, "o1", "custom_amounts[0].amount: 5 is a JSON number"},
		{"LinesWrongType", "lines", `{"a":1}`, "o1", "lines: got JSON object; want array"},
		{"IDNumber", "id", `123`, "", "id: got JSON number; want string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := DecodeOrder(withField(t, tt.key, tt.raw))
			var oe *ObjectError
			if !errors.As(err, &oe) {
				t.Fatalf("DecodeOrder = %v, %v; want *ObjectError", o, err)
			}
			if oe.Kind != KindOrder || oe.ID != tt.wantID || oe.Line != 0 {
				t.Errorf("Kind, ID, Line = %q, %q, %d; want order, %q, 0", oe.Kind, oe.ID, oe.Line, tt.wantID)
			}
			if !strings.Contains(oe.Reason, tt.want) {
				t.Errorf("Reason = %q; want it to contain %q", oe.Reason, tt.want)
			}
		})
	}
}

func TestObjectError_Error(t *testing.T) {
	tests := []struct {
		err  ObjectError
		want string
	}{
		{ObjectError{Kind: "order", ID: "100234", Reason: `lines[2].unit_price: "1.999" has more than 2 decimal places`}, `order 100234: lines[2].unit_price: "1.999" has more than 2 decimal places`},
		{ObjectError{Line: 7, Reason: "missing type"}, "line 7: missing type"},
		{ObjectError{Line: 3, Kind: "customer", ID: "c9", Reason: "updated_at: missing"}, "line 3: customer c9: updated_at: missing"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
	}
}

func TestDecodeCustomerProduct(t *testing.T) {
	tests := []struct {
		name    string
		decode  func([]byte) error
		in      string
		wantErr string
	}{
		{"CustomerOK", decodeC, `{"id":"c1","first_name":"José","updated_at":"2026-01-01T00:00:00+01:00","extra":[1]}`, ""},
		{"CustomerNoID", decodeC, `{"updated_at":"2026-01-01T00:00:00Z"}`, "id: missing"},
		{"CustomerNoUpdatedAt", decodeC, `{"id":"c1"}`, "updated_at: missing"},
		{"CustomerAddressWrongType", decodeC, `{"id":"c1","updated_at":"2026-01-01T00:00:00Z","billing_address":"x"}`, "billing_address: got JSON string; want object"},
		{"ProductOK", decodeP, `{"id":"p1","sku":"S","price":"9.99","active":true}`, ""},
		{"ProductNoID", decodeP, `{"sku":"S"}`, "id: missing"},
		{"ProductPriceNumber", decodeP, `{"id":"p1","price":9.99}`, "price: 9.99 is a JSON number"},
		{"NotJSON", decodeP, `{"id":`, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode([]byte(tt.in))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got error %v; want nil", err)
				}
				return
			}
			if err == nil || !IsObjectError(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v; want *ObjectError containing %q", err, tt.wantErr)
			}
		})
	}
}

func decodeC(b []byte) error { _, err := DecodeCustomer(b); return err }
func decodeP(b []byte) error { _, err := DecodeProduct(b); return err }
