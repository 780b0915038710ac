package qbo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
)

// Decimal is an exact QBO money or quantity value (xs:decimal in the XSD).
//
// It embeds shopspring's decimal.Decimal, so all arithmetic methods are
// available, but it has its own JSON encoding: it marshals as a bare JSON
// number (19.99, not "19.99"), which is what QBO sends and expects, and it
// unmarshals from the number's literal text, never through float64, so
// 0.1 + 0.2 stays 0.3 to the cent. shopspring's package-global
// MarshalJSONWithoutQuotes is deliberately left alone: other packages in the
// same binary may rely on its default.
//
// Entity fields hold *Decimal: nil means "absent" (omitted from the request,
// which matters for sparse updates) and a pointer to zero means an explicit 0.
type Decimal struct {
	decimal.Decimal
}

// NewDecimal wraps d for use in an entity field.
func NewDecimal(d decimal.Decimal) *Decimal { return &Decimal{d} }

// ParseDecimal parses s ("19.99", "-3", "1e2") exactly. It returns an error
// if s is not a decimal number.
func ParseDecimal(s string) (*Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return nil, fmt.Errorf("parse decimal %q: %w", s, err)
	}
	if err := checkExponent(d); err != nil {
		return nil, err
	}
	return &Decimal{d}, nil
}

// MustDecimal is ParseDecimal for constants; it panics on malformed input.
func MustDecimal(s string) *Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DecimalFromCents returns cents/100 exactly, e.g. 1999 -> 19.99.
func DecimalFromCents(cents int64) *Decimal { return &Decimal{decimal.New(cents, -2)} }

// Dec returns the value of d, or zero when d is nil (absent).
func Dec(d *Decimal) decimal.Decimal {
	if d == nil {
		return decimal.Zero
	}
	return d.Decimal
}

// MarshalJSON writes d as a JSON number in plain (non-exponent) notation.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return []byte(d.Decimal.String()), nil
}

// UnmarshalJSON reads a JSON number from its literal text. A quoted number
// is accepted too (some QBO fields echo strings), null leaves d unchanged,
// and anything else is an error.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		u, err := strconv.Unquote(s)
		if err != nil {
			return fmt.Errorf("qbo decimal: invalid string %s", truncate(s, 40))
		}
		s = u
	} else if !json.Valid(b) || len(b) == 0 || !(b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		return fmt.Errorf("qbo decimal: not a number: %s", truncate(s, 40))
	}
	v, err := decimal.NewFromString(s)
	if err != nil {
		return fmt.Errorf("qbo decimal: %w", err)
	}
	if err := checkExponent(v); err != nil {
		return err
	}
	d.Decimal = v
	return nil
}

// maxExponent bounds the scale of accepted values. Money and quantities never
// come close; the bound stops "1e999999999" from turning into a gigabyte of
// zeros when the value is formatted.
const maxExponent = 1000

func checkExponent(v decimal.Decimal) error {
	if e := v.Exponent(); e > maxExponent || e < -maxExponent {
		return fmt.Errorf("qbo decimal: exponent %d out of range", e)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Ptr returns a pointer to v, for optional entity fields:
// PrivateNote: qbo.Ptr("note"), Active: qbo.Ptr(false).
func Ptr[T any](v T) *T { return &v }
