package qbotest

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// pathEntities maps URL path segments to canonical entity names.
var pathEntities = map[string]string{
	"salesreceipt":  "SalesReceipt",
	"invoice":       "Invoice",
	"refundreceipt": "RefundReceipt",
	"payment":       "Payment",
	"customer":      "Customer",
	"item":          "Item",
	"account":       "Account",
	"paymentmethod": "PaymentMethod",
	"taxcode":       "TaxCode",
	"vendor":        "Vendor",
	"employee":      "Employee",
	"companyinfo":   "CompanyInfo",
	"preferences":   "Preferences",
}

// canonicalEntity resolves an entity name case-insensitively ("invoice" → "Invoice").
func canonicalEntity(name string) (string, bool) {
	e, ok := pathEntities[strings.ToLower(name)]
	return e, ok
}

func isTxn(entity string) bool {
	switch entity {
	case "SalesReceipt", "Invoice", "RefundReceipt", "Payment":
		return true
	}
	return false
}

func isSalesForm(entity string) bool {
	return entity == "SalesReceipt" || entity == "Invoice" || entity == "RefundReceipt"
}

// isNameList reports entities that are deactivated rather than deleted and
// that queries filter to Active = true by default.
func isNameList(entity string) bool {
	switch entity {
	case "Customer", "Item", "Account", "PaymentMethod", "TaxCode", "Vendor", "Employee":
		return true
	}
	return false
}

type record struct {
	data    map[string]any
	voided  bool
	deleted bool
	updated time.Time // for CDC; also set on delete
}

type store struct {
	recs    map[string]map[string]*record
	next    map[string]int
	nextDoc map[string]int
}

func newStore() *store {
	return &store{recs: map[string]map[string]*record{}, next: map[string]int{}, nextDoc: map[string]int{}}
}

func (st *store) get(entity, id string) *record {
	return st.recs[entity][id]
}

// live returns a non-deleted record.
func (st *store) live(entity, id string) *record {
	r := st.get(entity, id)
	if r == nil || r.deleted {
		return nil
	}
	return r
}

func (st *store) newID(entity string) string {
	st.next[entity]++
	return strconv.Itoa(st.next[entity])
}

func (st *store) put(entity, id string, r *record) {
	if st.recs[entity] == nil {
		st.recs[entity] = map[string]*record{}
	}
	st.recs[entity][id] = r
	if n, err := strconv.Atoi(id); err == nil && n > st.next[entity] {
		st.next[entity] = n
	}
}

// sorted returns records ordered by numeric Id.
func (st *store) sorted(entity string) []*record {
	m := st.recs[entity]
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
	out := make([]*record, len(ids))
	for i, id := range ids {
		out[i] = m[id]
	}
	return out
}

func idLess(a, b string) bool {
	na, ea := strconv.Atoi(a)
	nb, eb := strconv.Atoi(b)
	if ea == nil && eb == nil {
		return na < nb
	}
	return a < b
}

// --- generic JSON value helpers ---

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = deepCopy(x)
		}
		return s
	case decimal.Decimal:
		return num(t)
	case int:
		return json.Number(strconv.Itoa(t))
	case int64:
		return json.Number(strconv.FormatInt(t, 10))
	default:
		return v
	}
}

func copyMap(m map[string]any) map[string]any {
	return deepCopy(m).(map[string]any)
}

func num(d decimal.Decimal) json.Number { return json.Number(d.String()) }

func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	s, _ := v.([]any)
	return s
}

// dec reads an amount from its JSON number text; ok is false when the value
// is present but not a number. Amounts are never parsed through float64.
func dec(v any) (d decimal.Decimal, present, ok bool) {
	switch t := v.(type) {
	case nil:
		return decimal.Zero, false, true
	case json.Number:
		d, err := decimal.NewFromString(t.String())
		return d, true, err == nil
	case string:
		d, err := decimal.NewFromString(strings.TrimSpace(t))
		return d, true, err == nil
	case decimal.Decimal:
		return t, true, true
	case int:
		return decimal.NewFromInt(int64(t)), true, true
	}
	return decimal.Zero, true, false
}

// refValue returns ref.value of a ReferenceType field.
func refValue(m map[string]any, key string) (string, bool) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", false
	}
	if r := obj(v); r != nil {
		return str(r["value"]), true
	}
	return str(v), true
}

func timeStr(t time.Time) string { return t.Format("2006-01-02T15:04:05-07:00") }

func syncTokenOf(m map[string]any) int {
	n, _ := strconv.Atoi(str(m["SyncToken"]))
	return n
}
