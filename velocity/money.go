package velocity

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
)

// Limits on decimal strings.
const (
	// MoneyScale is the most fraction digits a money string may carry.
	MoneyScale = 2
	// QuantityScale is the most fraction digits a quantity string may carry.
	QuantityScale = 4
	// maxDigits bounds the integer part so that a hostile input cannot make
	// us allocate a huge big.Int; no real amount comes close.
	maxDigits = 15
)

// ParseMoney parses a Velocity money string: an optional leading '-', 1 to
// 15 digits, and optionally '.' followed by 1 or 2 digits ("19.99", "-5.00",
// "0"). Exponents, '+', spaces, and missing digits on either side of the
// point are rejected. The sign is not checked here: callers decide which
// fields must be non-negative or positive.
//
// Money is parsed from its text and never goes through float64, so the
// value is exact.
func ParseMoney(s string) (decimal.Decimal, error) {
	return parseDecimal(s, MoneyScale, true)
}

// ParseQuantity parses a Velocity quantity string: 1 to 15 digits, and
// optionally '.' and 1 to 4 digits ("2", "0.5"). Negative quantities are
// rejected; a zero quantity parses (validation rejects it where a quantity
// must be positive).
func ParseQuantity(s string) (decimal.Decimal, error) {
	return parseDecimal(s, QuantityScale, false)
}

func parseDecimal(s string, scale int, signed bool) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Decimal{}, errors.New("empty")
	}
	i := 0
	neg := false
	if s[0] == '-' {
		if !signed {
			return decimal.Decimal{}, fmt.Errorf("%q is negative", s)
		}
		neg = true
		i = 1
	}
	var v int64
	intDigits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		v = v*10 + int64(s[i]-'0')
		intDigits++
		if intDigits > maxDigits {
			return decimal.Decimal{}, fmt.Errorf("%q has more than %d integer digits", s, maxDigits)
		}
	}
	if intDigits == 0 {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal number", s)
	}
	frac := 0
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			v = v*10 + int64(s[i]-'0')
			frac++
			if frac > scale {
				// Keep scanning so that "1.999x" reports the bad character
				// rather than the digit count.
				for j := i; j < len(s); j++ {
					if s[j] < '0' || s[j] > '9' {
						return decimal.Decimal{}, fmt.Errorf("%q is not a decimal number", s)
					}
				}
				return decimal.Decimal{}, fmt.Errorf("%q has more than %d decimal places", s, scale)
			}
		}
		if frac == 0 {
			return decimal.Decimal{}, fmt.Errorf("%q is not a decimal number", s)
		}
	}
	if i != len(s) {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal number", s)
	}
	if neg {
		v = -v
	}
	return decimal.New(v, int32(-frac)), nil
}

// unquoteDecimal returns the text of a JSON string holding a decimal, and a
// reason when raw is not a JSON string. Decimal strings never need escapes,
// so a backslash is rejected rather than unescaped.
func unquoteDecimal(raw []byte) (string, error) {
	if len(raw) == 0 {
		return "", errors.New("missing")
	}
	switch raw[0] {
	case '"':
	case 'n':
		return "", errors.New("missing (null)")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "", fmt.Errorf("%s is a JSON number; want a decimal string", raw)
	default:
		return "", fmt.Errorf("%s is not a decimal string", raw)
	}
	if len(raw) < 2 || raw[len(raw)-1] != '"' {
		return "", fmt.Errorf("%s is not a decimal string", raw)
	}
	body := raw[1 : len(raw)-1]
	for _, b := range body {
		if b == '\\' || b == '"' || b < 0x20 {
			return "", fmt.Errorf("%s is not a decimal number", strconv.Quote(string(body)))
		}
	}
	return string(body), nil
}
