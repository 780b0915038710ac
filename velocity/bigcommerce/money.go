package bigcommerce

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
)

// Limits on BigCommerce amounts.
const (
	// WireScale is the number of fraction digits BigCommerce stores for an
	// amount; v2 sends money as strings with exactly this many ("62.6793").
	WireScale = 4
	// maxIntDigits bounds the integer part so that a hostile body cannot
	// make us build a huge number; no real amount comes close.
	maxIntDigits = 15
	// maxFracDigits bounds the written fraction digits; digits past
	// WireScale must be zeros (currency_exchange_rate-style padding).
	maxFracDigits = 10
)

// ParseAmount parses a BigCommerce amount as written on the wire: an
// optional leading '-', 1 to 15 digits, and optionally '.' and 1 to 10
// digits of which at most the first 4 may be non-zero ("62.6793", "924.47",
// "0", "10.000000"). Exponents, '+', spaces and empty strings are rejected.
//
// The value is read from its text and never goes through float64, so
// "0.1" is exactly one tenth: v3 sends amounts as JSON numbers
// (documented as floats) and a float round trip would change the cents.
// More than 4 significant fraction digits is an error rather than a
// rounding: velqbo blocks an amount it cannot represent instead of
// guessing.
func ParseAmount(s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Decimal{}, errors.New("empty string; want a decimal")
	}
	i := 0
	if s[0] == '-' {
		i = 1
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intDigits := i - start
	if intDigits == 0 {
		return decimal.Decimal{}, fmt.Errorf("%s is not a decimal number", strconv.Quote(s))
	}
	if intDigits > maxIntDigits {
		return decimal.Decimal{}, fmt.Errorf("%s has more than %d integer digits", strconv.Quote(s), maxIntDigits)
	}
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		frac := s[fs:i]
		if len(frac) == 0 || i != len(s) {
			return decimal.Decimal{}, fmt.Errorf("%s is not a decimal number", strconv.Quote(s))
		}
		if len(frac) > maxFracDigits {
			return decimal.Decimal{}, fmt.Errorf("%s has more than %d decimal places", strconv.Quote(s), maxFracDigits)
		}
		if len(frac) > WireScale && bytes.ContainsFunc([]byte(frac[WireScale:]), func(r rune) bool { return r != '0' }) {
			return decimal.Decimal{}, fmt.Errorf("%s has more than %d significant decimal places", strconv.Quote(s), WireScale)
		}
	}
	if i != len(s) {
		return decimal.Decimal{}, fmt.Errorf("%s is not a decimal number", strconv.Quote(s))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%s is not a decimal number", strconv.Quote(s))
	}
	return d, nil
}

// unmarshalAmount reads an amount from a JSON string or a JSON number
// (BigCommerce uses both, sometimes for the same field: fees are
// "Float, Float-As-String, Integer"). null is zero, exactly like an absent
// field, which encoding/json also leaves zero; the mapping's total checks
// catch an amount that mattered.
func unmarshalAmount(b []byte) (decimal.Decimal, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return decimal.Decimal{}, errors.New("empty value; want a decimal")
	}
	switch b[0] {
	case 'n':
		if string(b) == "null" {
			return decimal.Zero, nil
		}
	case '"':
		s, err := strconv.Unquote(string(b))
		if err != nil {
			return decimal.Decimal{}, fmt.Errorf("%s is not a decimal string", b)
		}
		return ParseAmount(s)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return ParseAmount(string(b))
	}
	return decimal.Decimal{}, fmt.Errorf("%s is not a decimal string or number", truncate(b))
}

func truncate(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// Money is a v2 amount: decoded from a decimal string (or a number) exactly,
// encoded as BigCommerce's v2 writes it, a string with 4 decimal places.
type Money struct{ decimal.Decimal }

// NewMoney returns d as a Money.
func NewMoney(d decimal.Decimal) Money { return Money{d} }

// MustMoney parses s with ParseAmount and panics on error; for tests and
// constants.
func MustMoney(s string) Money {
	d, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return Money{d}
}

// Equal reports whether m and o are the same amount (so go-cmp compares
// values, not representations: "1.5" equals "1.5000").
func (m Money) Equal(o Money) bool { return m.Decimal.Equal(o.Decimal) }

// UnmarshalJSON implements json.Unmarshaler; see ParseAmount for what is
// accepted and the errors returned.
func (m *Money) UnmarshalJSON(b []byte) error {
	d, err := unmarshalAmount(b)
	if err != nil {
		return err
	}
	m.Decimal = d
	return nil
}

// MarshalJSON implements json.Marshaler: "12.3400".
func (m Money) MarshalJSON() ([]byte, error) {
	return []byte(`"` + m.StringFixed(WireScale) + `"`), nil
}

// Amount is a v3 amount: decoded from a JSON number (or a string) exactly,
// encoded as a JSON number as v3 writes it.
type Amount struct{ decimal.Decimal }

// NewAmount returns d as an Amount.
func NewAmount(d decimal.Decimal) Amount { return Amount{d} }

// MustAmount parses s with ParseAmount and panics on error; for tests and
// constants.
func MustAmount(s string) Amount {
	d, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return Amount{d}
}

// Equal reports whether a and o are the same amount.
func (a Amount) Equal(o Amount) bool { return a.Decimal.Equal(o.Decimal) }

// UnmarshalJSON implements json.Unmarshaler; see ParseAmount.
func (a *Amount) UnmarshalJSON(b []byte) error {
	d, err := unmarshalAmount(b)
	if err != nil {
		return err
	}
	a.Decimal = d
	return nil
}

// MarshalJSON implements json.Marshaler: a JSON number such as 12.34.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(a.String()), nil }
