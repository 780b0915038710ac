package qbotest

import (
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

var accountClassification = map[string]string{
	"Bank": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset", "Other Asset": "Asset",
	"Accounts Receivable": "Asset", "Equity": "Equity", "Expense": "Expense", "Other Expense": "Expense",
	"Cost of Goods Sold": "Expense", "Accounts Payable": "Liability", "Credit Card": "Liability",
	"Long Term Liability": "Liability", "Other Current Liability": "Liability",
	"Income": "Revenue", "Other Income": "Revenue",
}

// fillDefaults sets the fields QBO fills in on its own and the names of references.
func (s *Server) fillDefaults(entity string, m map[string]any) {
	setDefault := func(k string, v any) {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	switch entity {
	case "Customer", "Vendor", "Employee":
		name := personDisplayName(m)
		m["DisplayName"] = name
		setDefault("Active", true)
		setDefault("PrintOnCheckName", name)
		if entity == "Customer" {
			m["FullyQualifiedName"] = name
			setDefault("Job", false)
			setDefault("BillWithParent", false)
			setDefault("Taxable", false)
			setDefault("Balance", num(decimal.Zero))
			setDefault("BalanceWithJobs", num(decimal.Zero))
			setDefault("CurrencyRef", map[string]any{"value": s.cfg.homeCurrency, "name": currencyName(s.cfg.homeCurrency)})
			setDefault("PreferredDeliveryMethod", "Print")
		}
	case "Item":
		setDefault("Active", true)
		setDefault("Type", "Service")
		setDefault("Taxable", false)
		setDefault("TrackQtyOnHand", false)
		setDefault("UnitPrice", num(decimal.Zero))
		m["FullyQualifiedName"] = str(m["Name"])
		s.nameRef(m, "IncomeAccountRef", "Account", "Name")
		s.nameRef(m, "ExpenseAccountRef", "Account", "Name")
		s.nameRef(m, "AssetAccountRef", "Account", "Name")
	case "Account":
		setDefault("Active", true)
		setDefault("SubAccount", false)
		setDefault("CurrentBalance", num(decimal.Zero))
		setDefault("CurrentBalanceWithSubAccounts", num(decimal.Zero))
		setDefault("Classification", accountClassification[str(m["AccountType"])])
		setDefault("CurrencyRef", map[string]any{"value": s.cfg.homeCurrency, "name": currencyName(s.cfg.homeCurrency)})
		m["FullyQualifiedName"] = str(m["Name"])
	case "PaymentMethod":
		setDefault("Active", true)
		setDefault("Type", "NON_CREDIT_CARD")
	}
	if !isTxn(entity) {
		return
	}
	setDefault("TxnDate", s.now().Format("2006-01-02"))
	setDefault("CurrencyRef", map[string]any{"value": s.cfg.homeCurrency, "name": currencyName(s.cfg.homeCurrency)})
	if _, ok := m["DepositToAccountRef"]; !ok && (entity == "SalesReceipt" || entity == "Payment") {
		// Without DepositToAccountRef QBO deposits to Undeposited Funds.
		if id := s.findByName("Account", "Name", "Undeposited Funds"); id != "" {
			m["DepositToAccountRef"] = map[string]any{"value": id}
		}
	}
	s.nameRef(m, "CustomerRef", "Customer", "DisplayName")
	s.nameRef(m, "DepositToAccountRef", "Account", "Name")
	s.nameRef(m, "PaymentMethodRef", "PaymentMethod", "Name")
	if isSalesForm(entity) {
		setDefault("PrintStatus", "NotSet")
		setDefault("EmailStatus", "NotSet")
		setDefault("ApplyTaxAfterDiscount", false)
		setDefault("CustomField", []any{})
		for _, l := range list(m["Line"]) {
			line := obj(l)
			if d := obj(line["SalesItemLineDetail"]); d != nil {
				s.nameRef(d, "ItemRef", "Item", "Name")
			}
			if d := obj(line["DiscountLineDetail"]); d != nil {
				s.nameRef(d, "DiscountAccountRef", "Account", "Name")
			}
		}
	}
}

func currencyName(code string) string {
	switch strings.ToUpper(code) {
	case "USD":
		return "United States Dollar"
	case "CAD":
		return "Canadian Dollar"
	case "GBP":
		return "British Pound Sterling"
	case "EUR":
		return "Euro"
	case "AUD":
		return "Australian Dollar"
	}
	return code
}

func (s *Server) findByName(entity, field, name string) string {
	for _, r := range s.st.sorted(entity) {
		if !r.deleted && strings.EqualFold(str(r.data[field]), name) {
			return str(r.data["Id"])
		}
	}
	return ""
}

// nameRef fills ref.name from the referenced entity, as QBO does in responses.
func (s *Server) nameRef(m map[string]any, key, entity, field string) {
	ref := obj(m[key])
	if ref == nil {
		return
	}
	if r := s.st.live(entity, str(ref["value"])); r != nil {
		ref["name"] = str(r.data[field])
	}
}

// compute sets the server-owned money fields of a transaction. The client's
// TotalAmt is ignored for sales forms: QBO computes it from the lines, and
// a voided document has all amounts set to zero.
func (s *Server) compute(entity string, rec *record) {
	switch {
	case entity == "Payment":
		s.computePayment(rec)
	case isSalesForm(entity):
		s.computeSalesForm(entity, rec)
	}
}

func (s *Server) computeSalesForm(entity string, rec *record) {
	m := rec.data
	var items, discounts []any
	subtotal, discount := decimal.Zero, decimal.Zero
	nextID := 1
	for _, l := range list(m["Line"]) {
		if id, err := strconv.Atoi(str(obj(l)["Id"])); err == nil && id >= nextID {
			nextID = id + 1
		}
	}
	lineNum := 0
	for _, l := range list(m["Line"]) {
		line := obj(l)
		if line == nil {
			continue // only PersonEdit can store such a line; QBO would drop it
		}
		dt := str(line["DetailType"])
		switch dt {
		case "SubTotalLineDetail":
			continue // server-owned, rebuilt below
		case "DiscountLineDetail":
			discounts = append(discounts, line)
			continue
		}
		if rec.voided {
			line["Amount"] = num(decimal.Zero)
			if d := obj(line["SalesItemLineDetail"]); d != nil {
				d["Qty"] = num(decimal.Zero)
			}
		}
		if dt == "SalesItemLineDetail" || dt == "GroupLineDetail" {
			subtotal = subtotal.Add(decAmt(line["Amount"]))
		}
		if _, ok := line["Id"]; !ok {
			line["Id"] = strconv.Itoa(nextID)
			nextID++
		}
		lineNum++
		line["LineNum"] = num(decimal.NewFromInt(int64(lineNum)))
		items = append(items, line)
	}
	for _, l := range discounts {
		line := obj(l)
		d := obj(line["DiscountLineDetail"])
		if _, present, _ := dec(line["Amount"]); !present && d != nil {
			pct := decAmt(d["DiscountPercent"])
			line["Amount"] = num(subtotal.Mul(pct).Div(decimal.NewFromInt(100)).Round(2))
		}
		if rec.voided {
			line["Amount"] = num(decimal.Zero)
		}
		// QBO discount lines carry a positive Amount that is subtracted.
		discount = discount.Add(decAmt(line["Amount"]))
	}
	lines := append(items, map[string]any{
		"Amount": num(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": map[string]any{},
	})
	lines = append(lines, discounts...)
	m["Line"] = lines

	tax := decimal.Zero
	ttd := obj(m["TxnTaxDetail"])
	if ttd == nil {
		ttd = map[string]any{}
		m["TxnTaxDetail"] = ttd
	}
	if rec.voided {
		ttd["TotalTax"] = num(decimal.Zero)
		delete(ttd, "TaxLine")
	}
	if t, present, ok := dec(ttd["TotalTax"]); present && ok {
		tax = t
	} else {
		ttd["TotalTax"] = num(decimal.Zero)
	}
	total := subtotal.Sub(discount).Add(tax)
	m["TotalAmt"] = num(total)
	switch entity {
	case "Invoice":
		s.computeInvoiceLinks(rec, total)
	default:
		m["Balance"] = num(decimal.Zero)
	}
}

func (s *Server) computeInvoiceLinks(rec *record, total decimal.Decimal) {
	m := rec.data
	id := str(m["Id"])
	var links []any
	for _, lt := range list(m["LinkedTxn"]) {
		if str(obj(lt)["TxnType"]) != "Payment" {
			links = append(links, lt)
		}
	}
	for _, p := range s.paymentsFor(id) {
		links = append(links, map[string]any{"TxnId": str(p.data["Id"]), "TxnType": "Payment"})
	}
	if links != nil {
		m["LinkedTxn"] = links
	} else {
		delete(m, "LinkedTxn")
	}
	if rec.voided {
		m["Balance"] = num(decimal.Zero)
		return
	}
	m["Balance"] = num(total.Sub(s.appliedTo(id, "")))
}

func (s *Server) computePayment(rec *record) {
	m := rec.data
	if rec.voided {
		m["TotalAmt"] = num(decimal.Zero)
		m["UnappliedAmt"] = num(decimal.Zero)
		for _, l := range list(m["Line"]) {
			if line := obj(l); line != nil {
				line["Amount"] = num(decimal.Zero)
			}
		}
		return
	}
	total := decAmt(m["TotalAmt"])
	applied := decimal.Zero
	for _, l := range list(m["Line"]) {
		applied = applied.Add(decAmt(obj(l)["Amount"]))
	}
	m["TotalAmt"] = num(total)
	m["UnappliedAmt"] = num(total.Sub(applied))
	if _, ok := m["ProcessPayment"]; !ok {
		m["ProcessPayment"] = false
	}
}
