package velocity

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"19.99", "0", "-5.00", "1.999", "1e3", " 1", "", "-", ".5", "999999999999999.99", "1.2345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseMoney(s)
		if err != nil {
			return
		}
		// A parsed amount must round-trip through its fixed-point text.
		back, err := ParseMoney(d.StringFixed(2))
		if err != nil || !back.Equal(d) {
			t.Fatalf("ParseMoney(%q) = %s; re-parse of %s = %v, %v", s, d, d.StringFixed(2), back, err)
		}
		if d.Exponent() < -MoneyScale {
			t.Fatalf("ParseMoney(%q) has exponent %d", s, d.Exponent())
		}
		if _, err := ParseQuantity(s); err != nil && !strings.HasPrefix(s, "-") {
			t.Fatalf("ParseQuantity(%q) rejected a valid non-negative money string: %v", s, err)
		}
	})
}

func FuzzDecodeOrder(f *testing.F) {
	f.Add([]byte(validOrder))
	f.Add([]byte(`{"id":"o","number":"1","customer_id":"c","lines":[{"product_id":"p","quantity":"1","unit_price":"1"}],"total":"1","updated_at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"id":"o","total":1.5}`))
	f.Add([]byte(`{"lines":{"x":1},"refunds":[{"lines":[{"kind":"product"}]}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := DecodeOrder(data)
		if err != nil {
			var oe *ObjectError
			if !errors.As(err, &oe) || oe.Reason == "" {
				t.Fatalf("DecodeOrder error %v is not an *ObjectError with a reason", err)
			}
			if o != nil {
				t.Fatalf("DecodeOrder returned an order with an error")
			}
			return
		}
		if o.ID == "" || o.Number == "" || o.CustomerID == "" || len(o.Lines) == 0 || o.UpdatedAt.IsZero() {
			t.Fatalf("valid order lacks a required field: %+v", o)
		}
		for _, r := range o.Refunds {
			sum := r.Lines[0].Amount.Sub(r.Lines[0].Amount)
			for _, l := range r.Lines {
				sum = sum.Add(l.Amount)
			}
			if !sum.Equal(r.Total) {
				t.Fatalf("refund %s total %s != Σ lines %s", r.ID, r.Total, sum)
			}
		}
		_ = o.ComputedTotal()
		_ = o.RefundsOrdered()
	})
}

func FuzzFileReader(f *testing.F) {
	f.Add([]byte(custLine + "\n" + prodLine + "\r\n\n" + ordLine))
	f.Add([]byte("{\"type\":\"order\"\n[]\n{\"type\":\"x\"}\n\xef\xbb\xbf{}"))
	f.Add([]byte(""))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := NewFileReader(bytes.NewReader(data))
		lines := bytes.Count(data, []byte("\n")) + 1
		prev := 0
		for i := 0; ; i++ {
			rec, err := fr.Next()
			if err == io.EOF {
				break
			}
			line := rec.Line
			if err != nil {
				var oe *ObjectError
				if !errors.As(err, &oe) {
					t.Fatalf("fatal error from an in-memory reader: %v", err)
				}
				line = oe.Line
			}
			if line <= prev || line > lines {
				t.Fatalf("line %d after %d (input has %d lines)", line, prev, lines)
			}
			prev = line
			if i > lines {
				t.Fatalf("more results than lines")
			}
		}
	})
}
