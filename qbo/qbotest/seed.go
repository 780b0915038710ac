package qbotest

import (
	"encoding/json"
	"fmt"

	"github.com/shopspring/decimal"
)

func (s *Server) seedCompany() {
	now := timeStr(s.now())
	meta := map[string]any{"CreateTime": now, "LastUpdatedTime": now}
	s.st.put("CompanyInfo", "1", &record{updated: s.now(), data: map[string]any{
		"Id": "1", "SyncToken": "0", "domain": "QBO", "sparse": false, "MetaData": meta,
		"CompanyName": s.cfg.companyName, "LegalName": s.cfg.companyName, "Country": "US",
		"CompanyAddr":        map[string]any{"Line1": "1 Market St", "City": "San Francisco", "CountrySubDivisionCode": "CA", "PostalCode": "94105", "Country": "US"},
		"SupportedLanguages": "en", "FiscalYearStartMonth": "January",
		"Email": map[string]any{"Address": "books@example.com"},
	}})
	s.st.put("Preferences", "1", &record{updated: s.now(), data: map[string]any{
		"Id": "1", "SyncToken": "0", "domain": "QBO", "sparse": false, "MetaData": meta,
		"SalesFormsPrefs": map[string]any{
			"CustomTxnNumbers": true, "AllowDiscount": true, "AllowShipping": false,
			"AllowDeposit": false, "AllowServiceDate": false, "AllowEstimates": true,
		},
		"CurrencyPrefs":       map[string]any{"MultiCurrencyEnabled": false, "HomeCurrency": map[string]any{"value": s.cfg.homeCurrency}},
		"TaxPrefs":            map[string]any{"UsingSalesTax": true},
		"OtherPrefs":          map[string]any{"NameValue": []any{map[string]any{"Name": "WarnDuplicateDocNum", "Value": fmt.Sprint(s.cfg.dupDocNumberFault)}}},
		"AccountingInfoPrefs": map[string]any{"CustomerTerminology": "Customers"},
	}})
}

// Seeded holds the ids SeedDefaults created, by name.
type Seeded struct {
	Accounts       map[string]string // "Checking", "Undeposited Funds", "Sales", "Discounts given", "Refunds"
	Items          map[string]string // "Shipping", "Handling", "Sales Tax", "Custom Amount", and products by Name
	Products       map[string]string // product Sku → item Id
	PaymentMethods map[string]string // "Cash", "Check", "Credit Card", "ACH", "Wire"
	TaxCodes       map[string]string // "California"
	Vendors        map[string]string
}

// SeedDefaults creates a small realistic company: chart of accounts,
// placeholder items, a few products with Sku, payment methods, a tax code
// and a vendor. It panics if the names already exist (call it once).
func (s *Server) SeedDefaults() Seeded {
	sd := Seeded{Accounts: map[string]string{}, Items: map[string]string{}, Products: map[string]string{},
		PaymentMethods: map[string]string{}, TaxCodes: map[string]string{}, Vendors: map[string]string{}}
	for _, a := range []struct{ name, typ, sub string }{
		{"Checking", "Bank", "Checking"},
		{"Undeposited Funds", "Other Current Asset", "UndepositedFunds"},
		{"Sales", "Income", "SalesOfProductIncome"},
		{"Services", "Income", "ServiceFeeIncome"},
		{"Discounts given", "Income", "DiscountsRefundsGiven"},
		{"Refunds", "Bank", "Checking"},
		{"Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"},
	} {
		sd.Accounts[a.name] = s.mustAdd("Account", map[string]any{"Name": a.name, "AccountType": a.typ, "AccountSubType": a.sub})
	}
	sales := map[string]any{"value": sd.Accounts["Sales"]}
	for _, it := range []struct{ name, typ string }{
		{"Shipping", "Service"}, {"Handling", "Service"}, {"Sales Tax", "NonInventory"}, {"Custom Amount", "NonInventory"},
	} {
		sd.Items[it.name] = s.mustAdd("Item", map[string]any{"Name": it.name, "Type": it.typ, "IncomeAccountRef": sales})
	}
	for _, p := range []struct{ name, sku, price string }{
		{"Widget", "SKU-1", "19.99"}, {"Gadget", "SKU-2", "5.25"}, {"Gizmo", "SKU-3", "120.00"},
	} {
		id := s.mustAdd("Item", map[string]any{"Name": p.name, "Sku": p.sku, "Type": "NonInventory",
			"UnitPrice": json.Number(p.price), "IncomeAccountRef": sales})
		sd.Items[p.name] = id
		sd.Products[p.sku] = id
	}
	for _, pm := range []struct{ name, typ string }{
		{"Cash", "NON_CREDIT_CARD"}, {"Check", "NON_CREDIT_CARD"}, {"Credit Card", "CREDIT_CARD"},
		{"ACH", "NON_CREDIT_CARD"}, {"Wire", "NON_CREDIT_CARD"},
	} {
		sd.PaymentMethods[pm.name] = s.mustAdd("PaymentMethod", map[string]any{"Name": pm.name, "Type": pm.typ})
	}
	sd.TaxCodes["California"] = s.addTaxCode("California", true)
	sd.TaxCodes["Exempt"] = s.addTaxCode("Exempt", false)
	sd.Vendors["Acme Supplies"] = s.AddVendorName("Acme Supplies")
	return sd
}

func (s *Server) addTaxCode(name string, taxable bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.st.newID("TaxCode")
	now := timeStr(s.now())
	s.st.put("TaxCode", id, &record{updated: s.now(), data: map[string]any{
		"Id": id, "SyncToken": "0", "domain": "QBO", "sparse": false,
		"MetaData": map[string]any{"CreateTime": now, "LastUpdatedTime": now},
		"Name":     name, "Description": name, "Active": true, "Taxable": taxable, "TaxGroup": taxable,
	}})
	return id
}

func (s *Server) mustAdd(entity string, fields map[string]any) string {
	id, err := s.Add(entity, fields)
	if err != nil {
		panic(fmt.Sprintf("qbotest: add %s: %v", entity, err))
	}
	return id
}

// Add creates an entity as a POST would (validation included) and returns its Id.
// The error describes the QBO fault when validation fails.
func (s *Server) Add(entity string, fields map[string]any) (string, error) {
	e, ok := canonicalEntity(entity)
	if !ok {
		return "", fmt.Errorf("add %s: unknown entity", entity)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, f := s.create(e, fields, false)
	if f != nil {
		return "", fmt.Errorf("add %s: %w", e, f)
	}
	return str(out["Id"]), nil
}

// AddCustomer creates an active customer and returns its Id. It panics on a
// duplicate or invalid name.
func (s *Server) AddCustomer(displayName, email string) string {
	f := map[string]any{"DisplayName": displayName}
	if email != "" {
		f["PrimaryEmailAddr"] = map[string]any{"Address": email}
	}
	return s.mustAdd("Customer", f)
}

// AddItem creates a NonInventory item on the "Sales" income account (created
// if missing) and returns its Id. sku may be empty.
func (s *Server) AddItem(name, sku string) string {
	s.mu.Lock()
	acct := s.findByName("Account", "Name", "Sales")
	s.mu.Unlock()
	if acct == "" {
		acct = s.AddAccount("Sales", "Income")
	}
	f := map[string]any{"Name": name, "Type": "NonInventory", "IncomeAccountRef": map[string]any{"value": acct}}
	if sku != "" {
		f["Sku"] = sku
	}
	return s.mustAdd("Item", f)
}

// AddAccount creates an account of the given AccountType ("Bank", "Income",
// "Other Current Asset", ...) and returns its Id.
func (s *Server) AddAccount(name, accountType string) string {
	return s.mustAdd("Account", map[string]any{"Name": name, "AccountType": accountType})
}

// AddPaymentMethod creates a payment method and returns its Id.
func (s *Server) AddPaymentMethod(name string) string {
	return s.mustAdd("PaymentMethod", map[string]any{"Name": name})
}

// AddVendorName creates a vendor, whose DisplayName then collides with
// customer names (fault 6240), and returns its Id.
func (s *Server) AddVendorName(name string) string {
	return s.mustAdd("Vendor", map[string]any{"DisplayName": name})
}

// AddEmployeeName creates an employee, whose DisplayName then collides with
// customer names (fault 6240), and returns its Id.
func (s *Server) AddEmployeeName(name string) string {
	return s.mustAdd("Employee", map[string]any{"DisplayName": name})
}

// Entity is an inspection view of one stored entity.
type Entity struct {
	ID          string
	DocNumber   string
	SyncToken   string
	TotalAmt    decimal.Decimal
	Balance     decimal.Decimal
	PrivateNote string
	Voided      bool
	Deleted     bool
	// Raw is a deep copy of the stored JSON object (numbers as json.Number).
	Raw map[string]any
}

func view(r *record) Entity {
	return Entity{
		ID: str(r.data["Id"]), DocNumber: str(r.data["DocNumber"]), SyncToken: str(r.data["SyncToken"]),
		TotalAmt: decAmt(r.data["TotalAmt"]), Balance: decAmt(r.data["Balance"]),
		PrivateNote: str(r.data["PrivateNote"]), Voided: r.voided, Deleted: r.deleted, Raw: copyMap(r.data),
	}
}

// Entities returns every stored entity of a kind ("Invoice" or "invoice"),
// deleted ones included, ordered by Id.
func (s *Server) Entities(entity string) []Entity {
	e, _ := canonicalEntity(entity)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Entity
	for _, r := range s.st.sorted(e) {
		out = append(out, view(r))
	}
	return out
}

// Get returns one stored entity; ok is false if it never existed.
func (s *Server) Get(entity, id string) (Entity, bool) {
	e, _ := canonicalEntity(entity)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.get(e, id)
	if r == nil {
		return Entity{}, false
	}
	return view(r), true
}

// ErrNotFound is returned by the Person helpers for an unknown or deleted entity.
var ErrNotFound = fmt.Errorf("qbotest: entity not found")

// PersonDelete deletes a transaction as a person would in the QBO UI (no
// SyncToken needed). Reads then answer 610 and CDC reports it Deleted.
func (s *Server) PersonDelete(entity, id string) error {
	e, _ := canonicalEntity(entity)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.live(e, id)
	if r == nil {
		return fmt.Errorf("person delete %s %s: %w", e, id, ErrNotFound)
	}
	before := copyMap(r.data)
	r.deleted = true
	r.updated = s.now()
	s.afterWrite(e, before, r)
	return nil
}

// PersonVoid voids a transaction as a person would in the QBO UI.
func (s *Server) PersonVoid(entity, id string) error {
	e, _ := canonicalEntity(entity)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.live(e, id)
	if r == nil || !isTxn(e) {
		return fmt.Errorf("person void %s %s: %w", e, id, ErrNotFound)
	}
	before := copyMap(r.data)
	s.voidLocked(e, r)
	s.afterWrite(e, before, r)
	return nil
}

// PersonEdit changes an entity as a person would in the QBO UI: edit gets
// the stored object (set amounts as json.Number or decimal.Decimal), then
// SyncToken and LastUpdatedTime advance and totals are recomputed. No
// validation runs.
func (s *Server) PersonEdit(entity, id string, edit func(map[string]any)) error {
	e, _ := canonicalEntity(entity)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.live(e, id)
	if r == nil {
		return fmt.Errorf("person edit %s %s: %w", e, id, ErrNotFound)
	}
	before := copyMap(r.data)
	m := copyMap(r.data)
	edit(m)
	r.data = copyMap(m) // normalises decimal.Decimal and ints to json.Number
	r.data["Id"] = before["Id"]
	s.bump(r, before)
	s.compute(e, r)
	s.afterWrite(e, before, r)
	return nil
}
