package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// SettingRecord is the QBO record a setting's value names, as `velqbo
// settings --json` prints it.
type SettingRecord struct {
	Name   string `json:"name,omitempty"`
	Type   string `json:"type,omitempty"`
	Active bool   `json:"active"`
	Found  bool   `json:"found"`
}

// SettingState is one stored setting with the QBO record it names and what
// is wrong with it, when QBO was asked.
type SettingState struct {
	Key     string         `json:"key"`
	Value   string         `json:"value"`
	QBO     *SettingRecord `json:"qbo,omitempty"`
	Problem string         `json:"problem,omitempty"`
}

// SettingChoice is a QBO record that fits a setting: what a dropdown offers.
type SettingChoice struct {
	ID   string
	Name string
	Type string
}

// usPseudoCodes are the tax codes of US companies that are not TaxCode
// entities, by whether each is taxable: QBO accepts them in TaxCodeRef but a
// read finds nothing.
var usPseudoCodes = map[string]bool{"NON": false, "TAX": true}

// Tax code record types: a SettingRecord's or SettingChoice's Type for a
// TaxCode, from its Taxable flag.
const (
	taxCodeTaxable    = "taxable"
	taxCodeNotTaxable = "not taxable"
)

func taxCodeType(taxable bool) string {
	if taxable {
		return taxCodeTaxable
	}
	return taxCodeNotTaxable
}

// kindNeedsQBO reports whether a value of kind is a QBO id to check there.
func kindNeedsQBO(kind SettingKind) bool {
	return kind == SettingAccount || kind == SettingItem || kind == SettingPaymentMethod || kind == SettingTaxCode
}

// SettingNeedsQBO reports whether setting key to v must be checked against
// QBO: a non-empty value of a key that names a QBO record. An unknown key
// needs nothing (CheckSettingValue refuses it).
func SettingNeedsQBO(key, v string) bool {
	kind, err := KindOfSetting(key)
	return err == nil && v != "" && kindNeedsQBO(kind)
}

// LookupSetting reads the QBO record that value v of key names. A record
// QBO does not have is Found false, not an error; the error is QBO's (or the
// client's) when it could not be asked. Keys whose values are not QBO ids
// return a zero record.
func LookupSetting(ctx context.Context, c *qbo.Client, key, v string) (SettingRecord, error) {
	kind, err := KindOfSetting(key)
	if err != nil {
		return SettingRecord{}, err
	}
	return lookupKind(ctx, c, kind, v)
}

func lookupKind(ctx context.Context, c *qbo.Client, kind SettingKind, id string) (SettingRecord, error) {
	var (
		n   SettingRecord
		err error
	)
	switch kind {
	case SettingAccount:
		var a *qbo.Account
		if a, _, err = c.Accounts.Get(ctx, id); err == nil {
			n = SettingRecord{Name: accountName(a), Type: a.AccountType, Active: isActive(a.Active), Found: true}
		}
	case SettingItem:
		var it *qbo.Item
		if it, _, err = c.Items.Get(ctx, id); err == nil {
			n = SettingRecord{Name: it.Name, Type: it.Type, Active: isActive(it.Active), Found: true}
		}
	case SettingPaymentMethod:
		var pm *qbo.PaymentMethod
		if pm, _, err = c.PaymentMethods.Get(ctx, id); err == nil {
			n = SettingRecord{Name: pm.Name, Type: pm.Type, Active: isActive(pm.Active), Found: true}
		}
	case SettingTaxCode:
		if taxable, ok := usPseudoCodes[id]; ok {
			return SettingRecord{Name: id + " (US pseudo-code)", Type: taxCodeType(taxable), Active: true, Found: true}, nil
		}
		var tc *qbo.TaxCode
		if tc, _, err = c.TaxCodes.Get(ctx, id); err == nil {
			n = SettingRecord{Name: tc.Name, Type: taxCodeType(isTaxable(tc)), Active: isActive(tc.Active), Found: true}
		}
	default:
		return SettingRecord{}, nil
	}
	if qbo.IsNotFound(err) {
		return SettingRecord{}, nil
	}
	return n, err
}

// isActive reads QBO's Active flag, which QBO leaves out for active records.
func isActive(p *bool) bool { return p == nil || *p }

// isTaxable reads a TaxCode's Taxable flag, which QBO leaves out for codes
// that are not taxable.
func isTaxable(tc *qbo.TaxCode) bool { return tc.Taxable != nil && *tc.Taxable }

func accountName(a *qbo.Account) string {
	if a.FullyQualifiedName != "" {
		return a.FullyQualifiedName
	}
	return a.Name
}

// SettingProblem says why rec, the record a value of key names, is wrong
// for key, or "" when it fits: missing, inactive, or of a type key does not
// take (SettingInfo.Types).
func SettingProblem(key string, rec SettingRecord) string {
	if !rec.Found {
		return "no such record in QBO"
	}
	if !rec.Active {
		return fmt.Sprintf("%q is inactive in QBO", rec.Name)
	}
	info, _ := SettingInfoOf(key)
	if len(info.Types) > 0 && !slices.Contains(info.Types, rec.Type) {
		if info.Kind == SettingTaxCode {
			// Why refused: the code is sent on every line of every
			// document, so a taxable one has QBO add its own tax on top
			// of the explicit tax line velqbo sends.
			return fmt.Sprintf("tax code %q is %s in QBO, so QBO would add its own tax to every line; %s must be a code that is %s",
				rec.Name, rec.Type, key, info.TypeList())
		}
		noun := "account"
		if info.Kind == SettingItem {
			noun = "item"
		}
		return fmt.Sprintf("%q is a %s %s; %s must be a %s %s", rec.Name, rec.Type, noun, key, info.TypeList(), noun)
	}
	return ""
}

// TypeList names the types the key takes as "a, b or c".
func (i SettingInfo) TypeList() string {
	words := i.Types
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// SettingErrors are the problems of a set of values, by key.
type SettingErrors map[string]string

// CheckSettings checks every pair of kv as `velqbo settings set` and the
// console's settings page do before saving: its form (CheckSettingValue),
// then, for values naming QBO records, that QBO has the record, active and
// of a type the key takes (SettingProblem). c is only used when some value
// needs QBO (SettingNeedsQBO) and may then not be nil. The problems come
// back by key; the error is for a QBO that could not be asked, naming the
// pair being checked. Form problems are found before QBO is asked.
func CheckSettings(ctx context.Context, c *qbo.Client, kv map[string]string) (SettingErrors, error) {
	problems := SettingErrors{}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := CheckSettingValue(k, kv[k]); err != nil {
			problems[k] = err.Error()
		}
	}
	for _, k := range keys {
		if _, bad := problems[k]; bad || !SettingNeedsQBO(k, kv[k]) {
			continue
		}
		if c == nil {
			return problems, fmt.Errorf("check %s=%s in QBO: not connected", k, kv[k])
		}
		rec, err := LookupSetting(ctx, c, k, kv[k])
		if err != nil {
			return problems, fmt.Errorf("check %s=%s in QBO: %w", k, kv[k], err)
		}
		if why := SettingProblem(k, rec); why != "" {
			problems[k] = why
		}
	}
	return problems, nil
}

// SettingsWriter is the part of *schema.Store that saves settings.
type SettingsWriter interface {
	SetSettings(ctx context.Context, kv map[string]string) error
}

// SetSettings checks kv with CheckSettings and saves all of it only when
// every pair is valid: nothing is saved that QBO would refuse, and a
// refused batch saves none of its valid pairs either, so the settings are
// never half of what was asked. It returns the problems by key (nothing
// saved) or the error of QBO or of the store.
func SetSettings(ctx context.Context, st SettingsWriter, c *qbo.Client, kv map[string]string) (SettingErrors, error) {
	problems, err := CheckSettings(ctx, c, kv)
	if err != nil || len(problems) > 0 {
		return problems, err
	}
	return nil, st.SetSettings(ctx, kv)
}

// DescribeSettings returns the stored settings that are not internal (keys
// starting with "_"), sorted by key, each with the QBO record it names and
// its problem when c is not nil (nil: not connected, ids only). The error is
// QBO's.
func DescribeSettings(ctx context.Context, c *qbo.Client, all []schema.Setting) ([]SettingState, error) {
	var out []SettingState
	for _, s := range all {
		if strings.HasPrefix(s.Key, "_") {
			continue
		}
		v := SettingState{Key: s.Key, Value: s.Value}
		if c != nil && SettingNeedsQBO(s.Key, s.Value) {
			rec, err := LookupSetting(ctx, c, s.Key, s.Value)
			if err != nil {
				return nil, err
			}
			v.QBO = &rec
			v.Problem = SettingProblem(s.Key, rec)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// SettingChoices lists, live from QBO, the active records a value of key
// may name, sorted by name: the accounts or items of the types the key
// takes, the payment methods, or the tax codes that are not taxable (NON
// first, US companies' pseudo-code for "no tax"). Dates and booleans have no choices (nil). The
// error is for an unknown key or from QBO.
func SettingChoices(ctx context.Context, c *qbo.Client, key string) ([]SettingChoice, error) {
	m, err := SettingChoicesFor(ctx, c, []string{key})
	return m[key], err
}

// SettingChoicesFor is SettingChoices for several keys, asking QBO once per
// kind of record (all accounts once for every account key, ...).
func SettingChoicesFor(ctx context.Context, c *qbo.Client, keys []string) (map[string][]SettingChoice, error) {
	records := map[SettingKind][]SettingChoice{}
	out := map[string][]SettingChoice{}
	for _, key := range keys {
		info, ok := SettingInfoOf(key)
		if !ok {
			_, err := KindOfSetting(key)
			return nil, err
		}
		if !kindNeedsQBO(info.Kind) {
			continue
		}
		all, fetched := records[info.Kind]
		if !fetched {
			var err error
			if all, err = activeRecords(ctx, c, info.Kind); err != nil {
				return nil, err
			}
			records[info.Kind] = all
		}
		fits := []SettingChoice{}
		for _, r := range all {
			if len(info.Types) == 0 || slices.Contains(info.Types, r.Type) {
				fits = append(fits, r)
			}
		}
		out[key] = fits
	}
	return out, nil
}

// activeRecords lists QBO's active records of kind, sorted by name, tax
// codes after NON.
func activeRecords(ctx context.Context, c *qbo.Client, kind SettingKind) ([]SettingChoice, error) {
	var out []SettingChoice
	switch kind {
	case SettingAccount:
		for a, err := range c.Accounts.All(ctx, "WHERE Active = true") {
			if err != nil {
				return nil, err
			}
			out = append(out, SettingChoice{ID: a.Id, Name: accountName(&a), Type: a.AccountType})
		}
	case SettingItem:
		for it, err := range c.Items.All(ctx, "WHERE Active = true") {
			if err != nil {
				return nil, err
			}
			out = append(out, SettingChoice{ID: it.Id, Name: it.Name, Type: it.Type})
		}
	case SettingPaymentMethod:
		for pm, err := range c.PaymentMethods.All(ctx, "WHERE Active = true") {
			if err != nil {
				return nil, err
			}
			out = append(out, SettingChoice{ID: pm.Id, Name: pm.Name, Type: pm.Type})
		}
	case SettingTaxCode:
		for tc, err := range c.TaxCodes.All(ctx, "") {
			if err != nil {
				return nil, err
			}
			if isActive(tc.Active) {
				out = append(out, SettingChoice{ID: tc.Id, Name: tc.Name, Type: taxCodeType(isTaxable(&tc))})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	if kind == SettingTaxCode {
		out = append([]SettingChoice{{ID: "NON", Name: "NON (US pseudo-code)", Type: taxCodeNotTaxable}}, out...)
	}
	return out, nil
}

// PaymentMethodMapping is a Velocity payment method and the QBO payment
// method its setting maps it to.
type PaymentMethodMapping struct {
	Method  string `json:"method"`
	Key     string `json:"key"`
	QBOID   string `json:"qbo_id,omitempty"`
	QBOName string `json:"qbo_name,omitempty"`
	// QBOInactive: the mapped QBO method has been made inactive since.
	QBOInactive bool `json:"qbo_inactive,omitempty"`
	// Needed is false for terms, which says the order was on credit, not
	// how money moved, and blocks nothing when unmapped.
	Needed bool `json:"needed"`
	// Known is false for a method that is only in the settings.
	Known bool `json:"known"`
}

// PaymentMethodMappings lists the Velocity payment methods velqbo knows
// (velocity.KnownMethods, in that order) and then, sorted, any other method
// the settings map, each with its mapped QBO id from all and that method's
// name and state from qboMethods (QBO's payment methods, inactive ones
// included).
func PaymentMethodMappings(all []schema.Setting, qboMethods []qbo.PaymentMethod) []PaymentMethodMapping {
	names := map[string]string{}
	inactive := map[string]bool{}
	for _, pm := range qboMethods {
		names[pm.Id] = pm.Name
		inactive[pm.Id] = !isActive(pm.Active)
	}
	mapped := map[string]string{}
	for _, s := range all {
		if method, ok := strings.CutPrefix(s.Key, SettingPaymentMethodPrefix); ok && method != "" && s.Value != "" {
			mapped[method] = s.Value
		}
	}
	var rows []PaymentMethodMapping
	seen := map[string]bool{}
	add := func(method string, known bool) {
		seen[method] = true
		id := mapped[method]
		rows = append(rows, PaymentMethodMapping{Method: method, Key: SettingPaymentMethodPrefix + method,
			QBOID: id, QBOName: names[id], QBOInactive: inactive[id], Needed: method != velocity.MethodTerms, Known: known})
	}
	for _, method := range velocity.KnownMethods() {
		add(method, true)
	}
	extra := []string{}
	for method := range mapped {
		if !seen[method] {
			extra = append(extra, method)
		}
	}
	sort.Strings(extra)
	for _, method := range extra {
		add(method, false)
	}
	return rows
}
