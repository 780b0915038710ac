package reconcile

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Setting keys (design.md "Settings"). Values that are QBO ids are checked
// against QBO by `velqbo settings set`.
const (
	SettingDepositAccount      = "deposit_account"
	SettingRefundAccount       = "refund_account"
	SettingDiscountAccount     = "discount_account"
	SettingShippingItem        = "shipping_item"
	SettingHandlingItem        = "handling_item"
	SettingTaxItem             = "tax_item"
	SettingCustomItem          = "custom_item"
	SettingNonTaxableTaxCode   = "non_taxable_tax_code"
	SettingStartDate           = "start_date"
	SettingAutoCreateCustomers = "auto_create_customers"
	// SettingPaymentMethodPrefix + a Velocity payment method (credit_card,
	// ach, check, ...) names the QBO PaymentMethod id to use for it.
	SettingPaymentMethodPrefix = "payment_method."
)

// SettingKind says what a setting's value is, so it can be checked.
type SettingKind int

const (
	SettingAccount       SettingKind = iota + 1 // a QBO Account id
	SettingItem                                 // a QBO Item id
	SettingPaymentMethod                        // a QBO PaymentMethod id
	SettingTaxCode                              // a QBO TaxCode id or US pseudo-code (NON)
	SettingDate                                 // YYYY-MM-DD
	SettingBool                                 // true or false
)

// settingKinds lists the fixed keys.
var settingKinds = map[string]SettingKind{
	SettingDepositAccount:      SettingAccount,
	SettingRefundAccount:       SettingAccount,
	SettingDiscountAccount:     SettingAccount,
	SettingShippingItem:        SettingItem,
	SettingHandlingItem:        SettingItem,
	SettingTaxItem:             SettingItem,
	SettingCustomItem:          SettingItem,
	SettingNonTaxableTaxCode:   SettingTaxCode,
	SettingStartDate:           SettingDate,
	SettingAutoCreateCustomers: SettingBool,
}

// KindOfSetting reports what kind of value key takes. It returns an error
// naming the known keys for an unknown one.
func KindOfSetting(key string) (SettingKind, error) {
	if k, ok := settingKinds[key]; ok {
		return k, nil
	}
	if m, ok := strings.CutPrefix(key, SettingPaymentMethodPrefix); ok && m != "" {
		return SettingPaymentMethod, nil
	}
	known := make([]string, 0, len(settingKinds)+1)
	for k := range settingKinds {
		known = append(known, k)
	}
	sort.Strings(known)
	known = append(known, SettingPaymentMethodPrefix+"<velocity method>")
	return 0, fmt.Errorf("unknown setting %q (known: %s)", key, strings.Join(known, ", "))
}

// Settings are the field mappings, parsed.
type Settings struct {
	DepositAccount  string
	RefundAccount   string
	DiscountAccount string
	ShippingItem    string
	HandlingItem    string
	TaxItem         string
	CustomItem      string
	// NonTaxableTaxCode is sent on every line so QBO adds no tax of its own;
	// "NON" in US companies.
	NonTaxableTaxCode string
	// StartDate is the go-live cutover: orders approved before it (in the
	// business time zone) are not reported. Zero means no cutover.
	StartDate           time.Time
	AutoCreateCustomers bool
	PaymentMethods      map[string]string // Velocity method -> QBO PaymentMethod id
}

// ParseSettings turns the stored key/value pairs into Settings. Dates are
// read in loc. It returns an error naming the first malformed value.
func ParseSettings(kv map[string]string, loc *time.Location) (Settings, error) {
	if loc == nil {
		loc = time.UTC
	}
	s := Settings{NonTaxableTaxCode: "NON", PaymentMethods: map[string]string{}}
	for key, v := range kv {
		kind, err := KindOfSetting(key)
		if err != nil {
			continue // a key from a newer version: ignore rather than refuse to run
		}
		if err := CheckSettingValue(key, v); err != nil {
			return Settings{}, err
		}
		switch key {
		case SettingDepositAccount:
			s.DepositAccount = v
		case SettingRefundAccount:
			s.RefundAccount = v
		case SettingDiscountAccount:
			s.DiscountAccount = v
		case SettingShippingItem:
			s.ShippingItem = v
		case SettingHandlingItem:
			s.HandlingItem = v
		case SettingTaxItem:
			s.TaxItem = v
		case SettingCustomItem:
			s.CustomItem = v
		case SettingNonTaxableTaxCode:
			if v != "" {
				s.NonTaxableTaxCode = v
			}
		case SettingStartDate:
			if v != "" {
				s.StartDate, _ = time.ParseInLocation(time.DateOnly, v, loc)
			}
		case SettingAutoCreateCustomers:
			s.AutoCreateCustomers, _ = strconv.ParseBool(v)
		default:
			if kind == SettingPaymentMethod && v != "" {
				s.PaymentMethods[strings.TrimPrefix(key, SettingPaymentMethodPrefix)] = v
			}
		}
	}
	return s, nil
}

// CheckSettingValue checks the form of a value (not its existence in QBO).
// An empty value clears a setting and is always accepted.
func CheckSettingValue(key, v string) error {
	kind, err := KindOfSetting(key)
	if err != nil {
		return err
	}
	if v == "" {
		return nil
	}
	switch kind {
	case SettingDate:
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return fmt.Errorf("setting %s: %q is not a date of the form YYYY-MM-DD", key, v)
		}
	case SettingBool:
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("setting %s: %q is not true or false", key, v)
		}
	case SettingAccount, SettingItem, SettingPaymentMethod:
		if strings.TrimSpace(v) != v || strings.ContainsAny(v, " '\"\\") {
			return fmt.Errorf("setting %s: %q is not a QBO id", key, v)
		}
	}
	return nil
}
