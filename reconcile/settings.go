package reconcile

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity/bigcommerce"
)

// Setting keys (docs/design.md "Settings"). Values that are QBO ids are checked
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
	// SettingBigCommerceStatuses and SettingBigCommerceTerms are the
	// reporting rules of a BigCommerce source (VELQBO_SOURCE=bigcommerce).
	SettingBigCommerceStatuses = "bigcommerce.statuses"
	SettingBigCommerceTerms    = "bigcommerce.terms"
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
	SettingStatusIDs                            // BigCommerce status_ids, comma-separated
	SettingTermsMethods                         // METHOD=NET_DAYS pairs, comma-separated
)

// settingKinds lists the fixed keys, from SettingInfos.
var settingKinds = func() map[string]SettingKind {
	kinds := map[string]SettingKind{}
	for _, i := range SettingInfos() {
		if !strings.HasPrefix(i.Key, SettingPaymentMethodPrefix) {
			kinds[i.Key] = i.Kind
		}
	}
	return kinds
}()

// String names the kind as help prints it.
func (k SettingKind) String() string {
	switch k {
	case SettingAccount:
		return "QBO Account id"
	case SettingItem:
		return "QBO Item id"
	case SettingPaymentMethod:
		return "QBO PaymentMethod id"
	case SettingTaxCode:
		return "QBO TaxCode id (NON in US companies)"
	case SettingDate:
		return "date YYYY-MM-DD"
	case SettingBool:
		return "true or false"
	case SettingStatusIDs:
		return "BigCommerce status ids, e.g. 2,3,8,9,10,11,4,14"
	case SettingTermsMethods:
		return "payment method=net days, e.g. PO=30,Net 30=30"
	}
	return "unknown"
}

// SettingInfo describes one setting key: what it maps and what it takes.
// `velqbo settings set` checks values against Types, and help, completions
// and the man page render the list, so it is the one description of the keys.
type SettingInfo struct {
	Key  string
	Kind SettingKind
	// Maps says what the setting is used for.
	Maps string
	// Types are the QBO AccountType or Item Type values accepted (for a
	// TaxCode: "not taxable" or "taxable", from its Taxable flag); empty
	// accepts any record of Kind.
	Types []string
}

var (
	bankTypes        = []string{"Bank", "Other Current Asset"}
	discountTypes    = []string{"Income", "Other Income", "Expense", "Other Expense"}
	placeholderTypes = []string{"Service", "NonInventory"}
)

// SettingInfos lists the setting keys in the order help shows them; the
// last is the payment method pattern, its Key ending in "<method>".
func SettingInfos() []SettingInfo {
	return []SettingInfo{
		{Key: SettingDepositAccount, Kind: SettingAccount, Types: bankTypes,
			Maps: "the account SalesReceipts and Payments deposit the money to"},
		{Key: SettingRefundAccount, Kind: SettingAccount, Types: bankTypes,
			Maps: "the account RefundReceipts are paid from (QBO requires one)"},
		{Key: SettingDiscountAccount, Kind: SettingAccount, Types: discountTypes,
			Maps: "the account of an order's discount line"},
		{Key: SettingShippingItem, Kind: SettingItem, Types: placeholderTypes,
			Maps: "the item of the shipping line (and of shipping refunds)"},
		{Key: SettingHandlingItem, Kind: SettingItem, Types: placeholderTypes,
			Maps: "the item of the handling line (and of handling refunds)"},
		{Key: SettingTaxItem, Kind: SettingItem, Types: placeholderTypes,
			Maps: "the item of the line carrying the order's tax amount"},
		{Key: SettingCustomItem, Kind: SettingItem, Types: placeholderTypes,
			Maps: "the item of custom lines that are not a catalogue product"},
		{Key: SettingNonTaxableTaxCode, Kind: SettingTaxCode, Types: []string{taxCodeNotTaxable},
			Maps: "the tax code sent on every line so QBO adds no tax of its own (default NON)"},
		{Key: SettingStartDate, Kind: SettingDate,
			Maps: "go-live cutover: orders approved before it are not reported"},
		{Key: SettingAutoCreateCustomers, Kind: SettingBool,
			Maps: "create a QBO customer for an unlinked customer of the source instead of blocking (default false)"},
		{Key: SettingBigCommerceStatuses, Kind: SettingStatusIDs,
			Maps: "BigCommerce source: the order statuses that are reported (default " + bigcommerce.DefaultStatuses + ")"},
		{Key: SettingBigCommerceTerms, Kind: SettingTermsMethods,
			Maps: "BigCommerce source: the payment methods that mean an order is on terms (an Invoice), with net days"},
		{Key: SettingPaymentMethodPrefix + "<method>", Kind: SettingPaymentMethod,
			Maps: "the QBO payment method of a payment method of the source's orders; terms needs none"},
	}
}

// SettingInfoOf returns the description of key, a payment method key
// included. ok is false for an unknown key.
func SettingInfoOf(key string) (info SettingInfo, ok bool) {
	infos := SettingInfos()
	for _, i := range infos {
		if i.Key == key {
			return i, true
		}
	}
	if m, found := strings.CutPrefix(key, SettingPaymentMethodPrefix); found && m != "" {
		i := infos[len(infos)-1]
		i.Key = key
		return i, true
	}
	return SettingInfo{}, false
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
	case SettingStatusIDs:
		if _, err := bigcommerce.ParseStatuses(v); err != nil {
			return err
		}
	case SettingTermsMethods:
		if _, err := bigcommerce.ParseTerms(v); err != nil {
			return err
		}
	case SettingAccount, SettingItem, SettingPaymentMethod:
		if strings.TrimSpace(v) != v || strings.ContainsAny(v, " '\"\\") {
			return fmt.Errorf("setting %s: %q is not a QBO id", key, v)
		}
	}
	return nil
}

// BigCommerceConfig is the reporting rules of a BigCommerce source, from
// the settings bigcommerce.statuses and bigcommerce.terms (unset:
// bigcommerce.DefaultConfig's). It returns an error naming the setting
// whose stored value does not parse.
func BigCommerceConfig(all []schema.Setting) (bigcommerce.Config, error) {
	cfg := bigcommerce.DefaultConfig()
	for _, s := range all {
		if s.Value == "" {
			continue
		}
		var err error
		switch s.Key {
		case SettingBigCommerceStatuses:
			cfg.Statuses, err = bigcommerce.ParseStatuses(s.Value)
		case SettingBigCommerceTerms:
			cfg.Terms, err = bigcommerce.ParseTerms(s.Value)
		}
		if err != nil {
			return bigcommerce.Config{}, fmt.Errorf("setting %s: %w", s.Key, err)
		}
	}
	return cfg, nil
}
