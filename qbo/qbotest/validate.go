package qbotest

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

const maxDocNumber = 21

// validate applies QBO's checks to the entity as it would be stored.
// selfID is the entity's own Id on update, "" on create.
func (s *Server) validate(entity string, m map[string]any, selfID string, allowDup bool) *fault {
	if isTxn(entity) {
		return s.validateTxn(entity, m, selfID, allowDup)
	}
	switch entity {
	case "Customer", "Vendor", "Employee":
		return s.validatePerson(entity, m, selfID)
	case "Item":
		if f := s.validateName(entity, m, selfID, "product or service"); f != nil {
			return f
		}
		typ := str(m["Type"])
		if typ == "" || typ == "Service" || typ == "NonInventory" || typ == "Inventory" {
			if _, ok := refValue(m, "IncomeAccountRef"); !ok {
				return faultRequired("IncomeAccountRef")
			}
		}
		for _, k := range []string{"IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"} {
			if f := s.checkRef(m, k, "Account", k); f != nil {
				return f
			}
		}
	case "Account":
		if f := s.validateName(entity, m, selfID, "account"); f != nil {
			return f
		}
		if str(m["AccountType"]) == "" {
			return faultRequired("AccountType")
		}
	case "PaymentMethod":
		return s.validateName(entity, m, selfID, "payment method")
	}
	return nil
}

func (s *Server) validateName(entity string, m map[string]any, selfID, kind string) *fault {
	name := strings.TrimSpace(str(m["Name"]))
	if name == "" {
		return faultRequired("Name")
	}
	if n := utf8.RuneCountInString(name); n > 100 {
		return faultLength("Name", 100, n)
	}
	if strings.Contains(name, ":") {
		return faultBusiness("The name cannot contain a colon (:).", "Name")
	}
	for id, r := range s.st.recs[entity] {
		if id != selfID && !r.deleted && strings.EqualFold(strings.TrimSpace(str(r.data["Name"])), name) {
			return faultDuplicateName(kind)
		}
	}
	return nil
}

func personDisplayName(m map[string]any) string {
	if dn := strings.TrimSpace(str(m["DisplayName"])); dn != "" {
		return dn
	}
	var parts []string
	for _, k := range []string{"Title", "GivenName", "MiddleName", "FamilyName", "Suffix"} {
		if v := strings.TrimSpace(str(m[k])); v != "" {
			parts = append(parts, v)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, " ")
	}
	return strings.TrimSpace(str(m["CompanyName"]))
}

// validatePerson enforces QBO's rule that DisplayName is unique across
// customers, vendors and employees together (fault 6240).
func (s *Server) validatePerson(entity string, m map[string]any, selfID string) *fault {
	name := personDisplayName(m)
	if name == "" {
		return faultRequired("DisplayName")
	}
	if n := utf8.RuneCountInString(name); n > 500 {
		return faultLength("DisplayName", 500, n)
	}
	if strings.Contains(name, ":") {
		return faultBusiness("Invalid character found: the name cannot contain a colon (:).", "DisplayName")
	}
	for _, other := range []string{"Customer", "Vendor", "Employee"} {
		for id, r := range s.st.recs[other] {
			if other == entity && id == selfID {
				continue
			}
			if strings.EqualFold(personDisplayName(r.data), name) {
				return faultDuplicateName(strings.ToLower(other))
			}
		}
	}
	if entity == "Customer" {
		if f := s.checkRef(m, "PaymentMethodRef", "PaymentMethod", "PaymentMethodRef"); f != nil {
			return f
		}
	}
	return nil
}

// checkRef checks that m[key] names a live, active entity; element names the field in faults.
func (s *Server) checkRef(m map[string]any, key, entity, element string) *fault {
	id, ok := refValue(m, key)
	if !ok {
		return nil
	}
	if id == "" {
		return faultRequired(element + ".value")
	}
	rec := s.st.live(entity, id)
	if rec == nil {
		return faultNotFound(element)
	}
	if a, ok := rec.data["Active"].(bool); ok && !a {
		return faultNotFound(element)
	}
	return nil
}

func (s *Server) checkTaxCode(m map[string]any, key, element string) *fault {
	id, ok := refValue(m, key)
	if !ok || id == "TAX" || id == "NON" {
		return nil
	}
	return s.checkRef(m, key, "TaxCode", element)
}

func (s *Server) validateTxn(entity string, m map[string]any, selfID string, allowDup bool) *fault {
	docNumber := str(m["DocNumber"])
	if n := utf8.RuneCountInString(docNumber); n > maxDocNumber {
		return faultLength("DocNumber", maxDocNumber, n)
	}
	if docNumber != "" && s.cfg.dupDocNumberFault && !allowDup {
		for id, r := range s.st.recs[entity] {
			if id != selfID && !r.deleted && str(r.data["DocNumber"]) == docNumber {
				return faultDuplicateDocNumber()
			}
		}
	}
	if _, ok := refValue(m, "CustomerRef"); !ok && (entity == "Invoice" || entity == "Payment") {
		return faultRequired("CustomerRef")
	}
	if f := s.checkRef(m, "CustomerRef", "Customer", "CustomerRef"); f != nil {
		return f
	}
	if _, ok := refValue(m, "DepositToAccountRef"); !ok && entity == "RefundReceipt" {
		return faultRequired("DepositToAccountRef")
	}
	if f := s.checkRef(m, "DepositToAccountRef", "Account", "DepositToAccountRef"); f != nil {
		return f
	}
	if f := s.checkRef(m, "PaymentMethodRef", "PaymentMethod", "PaymentMethodRef"); f != nil {
		return f
	}
	if cur, ok := refValue(m, "CurrencyRef"); ok && cur != "" && !strings.EqualFold(cur, s.cfg.homeCurrency) {
		return faultBusiness(fmt.Sprintf("Multicurrency is off: the currency %s is not the home currency %s.", cur, s.cfg.homeCurrency), "CurrencyRef")
	}
	if ttd := obj(m["TxnTaxDetail"]); ttd != nil {
		if f := s.checkTaxCode(ttd, "TxnTaxCodeRef", "TxnTaxDetail.TxnTaxCodeRef"); f != nil {
			return f
		}
		if _, present, ok := dec(ttd["TotalTax"]); present && !ok {
			return validationFault("2080", "Illegal number format", "TxnTaxDetail.TotalTax is not a number", "TxnTaxDetail.TotalTax")
		}
	}
	if _, present := m["Line"]; present && list(m["Line"]) == nil {
		return faultRequired("Line")
	}
	if entity == "Payment" {
		return s.validatePayment(m, selfID)
	}
	for _, l := range list(m["Line"]) {
		line := obj(l)
		if line == nil {
			return faultRequired("Line")
		}
		dt := str(line["DetailType"])
		if dt == "" {
			return faultRequired("Line.DetailType")
		}
		amt, present, ok := dec(line["Amount"])
		if present && !ok {
			return validationFault("2080", "Illegal number format", "Line.Amount is not a number", "Line.Amount")
		}
		switch dt {
		case "SalesItemLineDetail":
			if !present {
				return faultRequired("Line.Amount")
			}
			d := obj(line["SalesItemLineDetail"])
			if d == nil {
				return faultRequired("Line.SalesItemLineDetail")
			}
			if _, ok := refValue(d, "ItemRef"); !ok {
				return faultRequired("Line.SalesItemLineDetail.ItemRef")
			}
			if f := s.checkRef(d, "ItemRef", "Item", "Line.SalesItemLineDetail.ItemRef"); f != nil {
				return f
			}
			if f := s.checkTaxCode(d, "TaxCodeRef", "Line.SalesItemLineDetail.TaxCodeRef"); f != nil {
				return f
			}
			qty, qp, qok := dec(d["Qty"])
			price, pp, pok := dec(d["UnitPrice"])
			if !qok || !pok {
				return validationFault("2080", "Illegal number format", "Qty and UnitPrice must be numbers", "Line.SalesItemLineDetail")
			}
			// Exact comparison: the client must send Amount = Qty × UnitPrice to the cent.
			if qp && pp && !qty.Mul(price).Equal(amt) {
				return faultAmount(amt.String())
			}
		case "DiscountLineDetail":
			d := obj(line["DiscountLineDetail"])
			if !present {
				if d == nil || d["PercentBased"] != true {
					return faultRequired("Line.Amount")
				}
				if _, pp, pok := dec(d["DiscountPercent"]); !pp || !pok {
					return faultRequired("Line.DiscountLineDetail.DiscountPercent")
				}
			}
			if d != nil {
				if f := s.checkRef(d, "DiscountAccountRef", "Account", "Line.DiscountLineDetail.DiscountAccountRef"); f != nil {
					return f
				}
			}
		case "SubTotalLineDetail", "DescriptionOnly", "GroupLineDetail", "TaxLineDetail":
		default:
			return validationFault("2010", "Request has invalid or unsupported property",
				"Property Name:Line.DetailType specified is unsupported or invalid: "+dt, "Line.DetailType")
		}
	}
	return nil
}

func (s *Server) validatePayment(m map[string]any, selfID string) *fault {
	total, present, ok := dec(m["TotalAmt"])
	if !present {
		return faultRequired("TotalAmt")
	}
	if !ok {
		return validationFault("2080", "Illegal number format", "TotalAmt is not a number", "TotalAmt")
	}
	applied := decimal.Zero
	for _, l := range list(m["Line"]) {
		line := obj(l)
		if line == nil {
			return faultRequired("Line")
		}
		amt, present, ok := dec(line["Amount"])
		if !present {
			return faultRequired("Line.Amount")
		}
		if !ok {
			return validationFault("2080", "Illegal number format", "Line.Amount is not a number", "Line.Amount")
		}
		applied = applied.Add(amt)
		for _, lt := range list(line["LinkedTxn"]) {
			t := obj(lt)
			if str(t["TxnType"]) != "Invoice" {
				continue
			}
			inv := s.st.live("Invoice", str(t["TxnId"]))
			if inv == nil || inv.voided {
				return faultNotFound("Line.LinkedTxn.TxnId")
			}
			open := decAmt(inv.data["TotalAmt"]).Sub(s.appliedTo(str(inv.data["Id"]), selfID))
			if amt.GreaterThan(open) {
				return faultBusiness(fmt.Sprintf("The payment amount %s is more than the open balance %s of invoice %s.", amt, open, str(t["TxnId"])), "Line.Amount")
			}
		}
	}
	if applied.GreaterThan(total) {
		return faultBusiness("The amount applied to transactions is more than the total payment amount.", "TotalAmt")
	}
	return nil
}

func decAmt(v any) decimal.Decimal {
	d, _, _ := dec(v)
	return d
}

// paymentsFor returns live, non-voided payments linked to the invoice.
func (s *Server) paymentsFor(invoiceID string) []*record {
	var out []*record
	for _, p := range s.st.sorted("Payment") {
		if p.deleted || p.voided {
			continue
		}
		for _, id := range linkedInvoices(p.data) {
			if id == invoiceID {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// appliedTo sums payment amounts applied to the invoice, skipping payment skipID.
func (s *Server) appliedTo(invoiceID, skipID string) decimal.Decimal {
	sum := decimal.Zero
	for _, p := range s.paymentsFor(invoiceID) {
		if str(p.data["Id"]) == skipID {
			continue
		}
		for _, l := range list(p.data["Line"]) {
			line := obj(l)
			for _, lt := range list(line["LinkedTxn"]) {
				t := obj(lt)
				if str(t["TxnType"]) == "Invoice" && str(t["TxnId"]) == invoiceID {
					sum = sum.Add(decAmt(line["Amount"]))
				}
			}
		}
	}
	return sum
}
