package reconcile

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/velocity"
)

// MaxDocNumber is the longest DocNumber QBO accepts, in characters.
const MaxDocNumber = 21

// maxPaymentRefNum is the longest PaymentRefNum QBO accepts.
const maxPaymentRefNum = 21

// unitPriceScale is the most fraction digits QBO keeps in a UnitPrice; a
// refund's unit price is only sent when amount ÷ quantity is exact at this
// scale, so that QBO's Qty × UnitPrice equals the Amount to the cent.
const unitPriceScale = 7

// NotApplicableOnReceipt is the NotApplicable reason of a payment on an
// order reported as a SalesReceipt.
const NotApplicableOnReceipt = "not applicable: the sales receipt already records the money"

// MapOrder computes the QBO documents that o should produce. It is pure: no
// I/O, no clock; the same order and Env always give the same documents and
// fingerprints.
//
// The result is never nil. When the order is not to be reported at all,
// OrderDocs.Skip says why and nothing else is set. Otherwise Doc is the
// SalesReceipt or Invoice, Refunds and Payments one Desired each; a
// document that cannot be sent has Blocked set (and a nil Entity): each
// reason with its code, the record it is about and, when a person can fix
// it with a link or a setting, the fix.
//
// Choices this mapping makes, beyond docs/design.md "What is reported, and how":
//   - A cancelled order (cancelled after approval) still maps its Doc, so
//     the engine can void a reported one and knows its type; its refunds
//     and payments are mapped as usual, but the plan sends none of them
//     (diffOrder: voiding the sale is the whole correction). Its
//     Doc is never Blocked: nothing is created for it, so a reason would be
//     noise (Entity is nil when the document could not be mapped).
//   - Refunds and payments of an order whose Doc is blocked are blocked
//     too ("waits for order …"): nothing is half-posted.
//   - Address name and company become the leading address lines (Line1 =
//     name, Line2 = company, then the street lines), the way QBO prints a
//     customer's address block.
//   - A payment whose method has no payment_method.<m> mapping is still
//     sent, without PaymentMethodRef: the money must reach the invoice, and
//     the method is a label. SalesReceipts and RefundReceipts are blocked
//     instead, as docs/design.md ("Choices the code makes") says.
//   - A PaymentRefNum longer than QBO's 21 characters is cut to 21; the
//     full reference is kept in the payment's PrivateNote.
//   - References carry only the QBO id (no name), so renaming a customer or
//     item in QBO does not change any fingerprint.
//   - Only shipped shipments (shipped_at set) contribute tracking; the
//     carrier is the first shipped shipment's that names one.
func MapOrder(o *velocity.Order, env *Env) *OrderDocs {
	docs := &OrderDocs{Order: o}
	if o == nil {
		docs.Skip = "no order"
		return docs
	}
	if env == nil {
		env = &Env{}
	}
	m := newMapper(o, env)
	if why := m.skipReason(); why != "" {
		docs.Skip = why
		return docs
	}
	docs.Cancelled = o.Cancelled()
	if m.customerID == "" && !docs.Cancelled {
		docs.UnlinkedCustomer = o.CustomerID
	}
	docs.Doc = m.orderDoc()
	if docs.Cancelled && len(docs.Doc.Blocked) > 0 {
		// Nothing is created for a cancelled order, only a reported one
		// voided (which needs no payload): reporting it blocked would keep
		// it on every run's list for nothing.
		docs.Doc.Blocked = nil
	}
	docs.Refunds = m.refunds(docs.Doc)
	docs.Payments = m.payments(docs.Doc)
	return docs
}

// mapper holds what the documents of one order share.
type mapper struct {
	o       *velocity.Order
	env     *Env
	s       *Settings
	loc     *time.Location
	taxCode string

	customerID  string   // linked QBO customer id, "" when unlinked
	currencyRef *qbo.Ref // set only for a foreign-currency order in a multicurrency company
	common      reasons  // blocks every document of the order (customer, currency); about the order
}

func newMapper(o *velocity.Order, env *Env) *mapper {
	m := &mapper{o: o, env: env, s: &env.Settings, loc: env.Location, taxCode: env.Settings.NonTaxableTaxCode,
		common: reasons{on: Subject{Kind: SubjectOrder, ID: o.Number}}}
	if m.loc == nil {
		m.loc = time.UTC
	}
	if m.taxCode == "" {
		m.taxCode = "NON"
	}
	if l, ok := env.Customers[o.CustomerID]; ok && l.QBOID != "" {
		m.customerID = l.QBOID
	} else {
		m.common.add(Reason{Code: CodeCustomerNotLinked, Subject: Subject{Kind: SubjectCustomer, ID: o.CustomerID},
			Text: fmt.Sprintf("customer %s is not linked to a QBO customer", m.customerLabel()),
			Fix:  Fix{Action: FixLinkCustomer, ID: o.CustomerID}})
	}
	m.checkCurrency()
	return m
}

// customerLabel names the order's customer for a person: the Velocity id
// and, when the order has one, the billing company or name.
func (m *mapper) customerLabel() string {
	a := m.o.BillingAddress
	name := cmp.Or(a.Company, a.Name, m.o.Email)
	if name == "" {
		return m.o.CustomerID
	}
	return fmt.Sprintf("%s (%s)", m.o.CustomerID, name)
}

func (m *mapper) checkCurrency() {
	home := strings.ToUpper(m.env.HomeCurrency)
	cur := strings.ToUpper(strings.TrimSpace(m.o.Currency))
	if cur == "" || home == "" {
		// No currency on the order means the store's (and so the company's)
		// currency; an unknown home currency cannot be checked here.
		return
	}
	if !m.env.MultiCurrency {
		if cur != home {
			m.common.addf(CodeCurrencyMismatch, "order currency %s is not the QBO company's home currency %s (multicurrency is off)", cur, home)
		}
		return
	}
	want := home
	if c := m.env.CustomerCurrency[m.customerID]; m.customerID != "" && c != "" {
		want = strings.ToUpper(c)
	}
	if cur != want {
		m.common.addf(CodeCurrencyMismatch, "order currency %s is not the currency %s of QBO customer %s", cur, want, m.customerID)
		return
	}
	if cur != home {
		m.currencyRef = &qbo.Ref{Value: cur}
	}
}

// skipReason says why the order is not reported at all, or "".
func (m *mapper) skipReason() string {
	o := m.o
	if o.ApprovedAt == nil {
		switch {
		case o.Cancelled():
			return "cancelled before it was approved"
		case o.Status != "":
			return fmt.Sprintf("not approved (status %s)", o.Status)
		}
		return "not approved"
	}
	if o.CancelledAt != nil && o.CancelledAt.Before(*o.ApprovedAt) {
		return "cancelled before it was approved"
	}
	if st := m.s.StartDate; !st.IsZero() {
		// StartDate was parsed in the business time zone; its own calendar
		// day is the cutover day.
		start := st.Format(time.DateOnly)
		if approved := m.date(*o.ApprovedAt); approved < start {
			return fmt.Sprintf("approved %s, before start_date %s", approved, start)
		}
	}
	return ""
}

// date is t's calendar day in the business time zone.
func (m *mapper) date(t time.Time) string { return t.In(m.loc).Format(time.DateOnly) }

// orderDoc maps the SalesReceipt or Invoice.
func (m *mapper) orderDoc() *Desired {
	o := m.o
	d := &Desired{
		Kind: KindOrder, SourceID: o.ID, OrderID: o.ID, OrderNumber: o.Number,
		QBOType: TypeSalesReceipt, DocNumber: o.Number, Total: o.Total,
	}
	invoice := o.PaymentTerms != nil || o.ReportAsInvoice
	if invoice {
		d.QBOType = TypeInvoice
	}
	why := m.common.about(m.common.on)
	checkDocNumber(&why, "order number", o.Number)

	lines := m.orderLines(&why)
	m.checkOrderMoney(&why, lines)

	txnDate := m.date(*o.ApprovedAt)
	note := "Velocity order " + o.Number
	trackingNum, shipDate, shipMethod := m.tracking()
	if invoice {
		net := 0
		if o.PaymentTerms != nil {
			net = o.PaymentTerms.NetDays
		}
		inv := &qbo.Invoice{
			DocNumber:     o.Number,
			TxnDate:       txnDate,
			DueDate:       addDays(txnDate, net),
			PrivateNote:   &note,
			CurrencyRef:   m.currencyRef,
			Line:          lines,
			CustomerRef:   m.customerRef(),
			BillAddr:      address(o.BillingAddress),
			ShipAddr:      address(o.ShippingAddress),
			ShipMethodRef: shipMethod,
			ShipDate:      shipDate,
			TrackingNum:   trackingNum,
			BillEmail:     email(o.Email),
		}
		d.Entity = inv
	} else {
		sr := &qbo.SalesReceipt{
			DocNumber:           o.Number,
			TxnDate:             txnDate,
			PrivateNote:         &note,
			CurrencyRef:         m.currencyRef,
			Line:                lines,
			CustomerRef:         m.customerRef(),
			BillAddr:            address(o.BillingAddress),
			ShipAddr:            address(o.ShippingAddress),
			ShipMethodRef:       shipMethod,
			ShipDate:            shipDate,
			TrackingNum:         trackingNum,
			BillEmail:           email(o.Email),
			DepositToAccountRef: m.account(&why, SettingDepositAccount, m.s.DepositAccount, "the sales receipt"),
			PaymentMethodRef:    m.paymentMethod(&why, o.PaymentMethod, true),
		}
		d.Entity = sr
	}
	m.finish(d, why)
	return d
}

// finish sets Blocked, or the fingerprint of a sendable document.
func (m *mapper) finish(d *Desired, why reasons) {
	if len(why.list) > 0 {
		d.Blocked = why.list
		d.Entity = nil
		return
	}
	d.Fingerprint = Fingerprint(d.Entity)
}

func (m *mapper) customerRef() *qbo.Ref {
	if m.customerID == "" {
		return nil
	}
	return &qbo.Ref{Value: m.customerID}
}

// orderLines builds the document lines and records any reason they
// cannot be sent.
func (m *mapper) orderLines(why *reasons) []qbo.Line {
	o := m.o
	lines := make([]qbo.Line, 0, len(o.Lines)+4+len(o.CustomAmounts))
	unlinked := map[string]bool{}
	for i, l := range o.Lines {
		item := m.productItem(why, l, unlinked)
		amt := l.Amount()
		if !wholeCents(amt) {
			why.addf(CodeNotWholeCents, "line %s amount %s × %s = %s is not whole cents", lineLabel(i, l), l.Quantity, money(l.UnitPrice), amt)
		}
		lines = append(lines, m.itemLine(cmp.Or(l.Name, l.SKU), item, l.Quantity, l.UnitPrice, amt))
	}
	extras := []struct {
		amount              decimal.Decimal
		label, key, setting string
	}{
		{o.ShippingTotal, "Shipping", SettingShippingItem, m.s.ShippingItem},
		{o.HandlingTotal, "Handling", SettingHandlingItem, m.s.HandlingItem},
		{o.TaxTotal, "Tax", SettingTaxItem, m.s.TaxItem},
	}
	for _, x := range extras {
		if x.amount.IsZero() {
			continue
		}
		item := m.item(why, x.key, x.setting, fmt.Sprintf("%s of %s", strings.ToLower(x.label), money(x.amount)))
		m.checkCents(why, strings.ToLower(x.label)+" total", x.amount)
		lines = append(lines, m.itemLine(x.label, item, decimal.NewFromInt(1), x.amount, x.amount))
	}
	for i, c := range o.CustomAmounts {
		if c.Amount.IsZero() {
			continue
		}
		desc := cmp.Or(c.Description, "Custom amount")
		item := m.item(why, SettingCustomItem, m.s.CustomItem, fmt.Sprintf("custom amount %q of %s", desc, money(c.Amount)))
		m.checkCents(why, fmt.Sprintf("custom amount %d", i+1), c.Amount)
		lines = append(lines, m.itemLine(desc, item, decimal.NewFromInt(1), c.Amount, c.Amount))
	}
	if disc := o.DiscountTotal; !disc.IsZero() {
		if disc.IsNegative() {
			why.addf(CodeNegativeAmount, "discount_total %s is negative", disc)
		}
		m.checkCents(why, "discount total", disc)
		var acct *qbo.Ref
		if m.s.DiscountAccount == "" {
			why.add(missingSetting(SettingDiscountAccount, "accounts", "the discount of "+money(disc)))
		} else {
			acct = &qbo.Ref{Value: m.s.DiscountAccount}
		}
		lines = append(lines, qbo.Line{
			Description: "Discount",
			Amount:      qbo.NewDecimal(disc),
			DetailType:  qbo.DiscountLine,
			DiscountLineDetail: &qbo.DiscountLineDetail{
				PercentBased:       qbo.Ptr(false),
				DiscountAccountRef: acct,
			},
		})
	}
	return lines
}

// itemLine is a SalesItemLine, always sent with the non-taxable code so QBO
// adds no tax of its own (tax is Velocity's explicit tax line).
func (m *mapper) itemLine(desc string, item *qbo.Ref, qty, price, amt decimal.Decimal) qbo.Line {
	if wholeCents(amt) {
		amt = amt.Round(2)
	}
	return qbo.Line{
		Description: desc,
		Amount:      qbo.NewDecimal(amt),
		DetailType:  qbo.SalesItemLine,
		SalesItemLineDetail: &qbo.SalesItemLineDetail{
			ItemRef:    item,
			Qty:        qbo.NewDecimal(qty),
			UnitPrice:  qbo.NewDecimal(price),
			TaxCodeRef: &qbo.Ref{Value: m.taxCode},
		},
	}
}

// productItem is the QBO item linked to the line's product, or nil with a
// reason (once per product).
func (m *mapper) productItem(why *reasons, l velocity.OrderLine, seen map[string]bool) *qbo.Ref {
	if link, ok := m.env.Products[l.ProductID]; ok && link.QBOID != "" {
		return &qbo.Ref{Value: link.QBOID}
	}
	if !seen[l.ProductID] {
		seen[l.ProductID] = true
		name := l.ProductID
		if s := cmp.Or(l.SKU, l.Name); s != "" {
			name = fmt.Sprintf("%s (%s id %s)", s, sourceNameOr(m.env.SourceName), l.ProductID)
		}
		why.add(Reason{Code: CodeProductNotLinked, Subject: Subject{Kind: SubjectProduct, ID: l.ProductID},
			Text: fmt.Sprintf("product %s is not linked to a QBO item", name),
			Fix:  Fix{Action: FixLinkProduct, ID: l.ProductID}})
	}
	return nil
}

// item is a placeholder item setting as a reference, or nil with a reason.
func (m *mapper) item(why *reasons, key, id, forWhat string) *qbo.Ref {
	if id == "" {
		why.add(missingSetting(key, "items", forWhat))
		return nil
	}
	return &qbo.Ref{Value: id}
}

// account is an account setting as a reference, or nil with a reason.
func (m *mapper) account(why *reasons, key, id, forWhat string) *qbo.Ref {
	if id == "" {
		why.add(missingSetting(key, "accounts", forWhat))
		return nil
	}
	return &qbo.Ref{Value: id}
}

// paymentMethod maps a Velocity payment method. An empty method sends no
// PaymentMethodRef. An unmapped one blocks when required, else is omitted.
// "terms" is never required: it says the order was on credit, not how money
// moved (a refund of a terms order carries it), so it has no natural QBO
// PaymentMethod; it is used when mapped all the same.
func (m *mapper) paymentMethod(why *reasons, method string, required bool) *qbo.Ref {
	if method == "" {
		return nil
	}
	if id := m.s.PaymentMethods[method]; id != "" {
		return &qbo.Ref{Value: id}
	}
	if required && method != velocity.MethodTerms {
		why.add(Reason{Code: CodePaymentMethodUnmapped, Subject: Subject{Kind: SubjectPaymentMethod, ID: method},
			Text: fmt.Sprintf("payment method %q is not mapped to a QBO payment method", method),
			Fix:  Fix{Action: FixMapPaymentMethod, ID: method}})
	}
	return nil
}

// missingSetting is the reason of an unset setting key, chosen from the
// QBO records of list ("items" or "accounts").
func missingSetting(key, list, forWhat string) Reason {
	return Reason{Code: CodeSettingMissing, Subject: Subject{Kind: SubjectSetting, ID: key},
		Text: fmt.Sprintf("setting %s is not set (needed for %s)", key, forWhat),
		Fix:  Fix{Action: FixSetSetting, ID: key, List: list}}
}

func (m *mapper) checkCents(why *reasons, what string, d decimal.Decimal) {
	if !wholeCents(d) {
		why.addf(CodeNotWholeCents, "%s %s is not whole cents", what, d)
	}
}

// checkOrderMoney blocks an order whose document would not total, to the
// cent, what Velocity charged: wrong money is never posted.
func (m *mapper) checkOrderMoney(why *reasons, lines []qbo.Line) {
	o := m.o
	m.checkCents(why, "order total", o.Total)
	if o.Total.IsNegative() {
		why.addf(CodeNegativeAmount, "order total %s is negative", money(o.Total))
	}
	if parts := o.ComputedTotal(); !parts.Equal(o.Total) {
		why.addf(CodeTotalMismatch, "order total %s does not equal its parts %s", money(o.Total), money(parts))
		return
	}
	if doc := DocumentTotal(lines); !doc.Equal(o.Total) {
		why.addf(CodeTotalMismatch, "document total %s does not equal order total %s", money(doc), money(o.Total))
	}
}

// DocumentTotal is what QBO computes as a sales form's TotalAmt from its
// lines when it adds no tax: Σ SalesItemLine amounts − Σ discount amounts.
func DocumentTotal(lines []qbo.Line) decimal.Decimal {
	sum := decimal.Zero
	for _, l := range lines {
		switch l.DetailType {
		case qbo.SalesItemLine, qbo.GroupLine:
			sum = sum.Add(qbo.Dec(l.Amount))
		case qbo.DiscountLine:
			sum = sum.Sub(qbo.Dec(l.Amount))
		}
	}
	return sum
}

// tracking is the shipments' tracking fields: all tracking numbers of
// shipped shipments in ship order, the first ship date and its carrier.
func (m *mapper) tracking() (num, date *string, method *qbo.Ref) {
	var shipped []velocity.Shipment
	for _, s := range m.o.Shipments {
		if s.ShippedAt != nil {
			shipped = append(shipped, s)
		}
	}
	if len(shipped) == 0 {
		return nil, nil, nil
	}
	slices.SortStableFunc(shipped, func(a, b velocity.Shipment) int {
		if c := a.ShippedAt.Compare(*b.ShippedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	var nums []string
	carrier := ""
	for _, s := range shipped {
		if t := strings.TrimSpace(s.TrackingNumber); t != "" && !slices.Contains(nums, t) {
			nums = append(nums, t)
		}
		if carrier == "" {
			carrier = strings.TrimSpace(s.Carrier)
		}
	}
	if len(nums) > 0 {
		num = qbo.Ptr(strings.Join(nums, ", "))
	}
	date = qbo.Ptr(m.date(*shipped[0].ShippedAt))
	if carrier != "" {
		method = &qbo.Ref{Value: carrier, Name: carrier}
	}
	return num, date, method
}

// RefundDocNumber is the DocNumber of an order's n-th refund: RF-<number>
// for the first, RF-<number>-<n> after.
func RefundDocNumber(orderNumber string, n int) string {
	if n <= 1 {
		return "RF-" + orderNumber
	}
	return "RF-" + orderNumber + "-" + strconv.Itoa(n)
}

func (m *mapper) refunds(doc *Desired) []*Desired {
	o := m.o
	ordered := o.RefundsOrdered()
	if len(ordered) == 0 {
		return nil
	}
	out := make([]*Desired, 0, len(ordered))
	cum := decimal.Zero
	for _, nr := range ordered {
		r := nr.Refund
		docNumber := RefundDocNumber(o.Number, nr.N)
		d := &Desired{
			Kind: KindRefund, SourceID: r.ID, OrderID: o.ID, OrderNumber: o.Number,
			QBOType: TypeRefundReceipt, DocNumber: docNumber, Total: r.Total,
		}
		why := m.common.about(Subject{Kind: SubjectRefund, ID: r.ID})
		checkDocNumber(&why, "refund number", docNumber)
		lines := m.refundLines(&why, r)

		m.checkCents(&why, "refund total", r.Total)
		if !r.Total.IsPositive() {
			why.addf(CodeAmountNotPositive, "refund total %s is not positive", money(r.Total))
		}
		if sum := DocumentTotal(lines); !sum.Equal(r.Total) {
			why.addf(CodeTotalMismatch, "refund total %s does not equal its lines %s", money(r.Total), money(sum))
		}
		// Refunds are checked cumulatively in refund order: the one that
		// takes the sum past the order total, and any after it, block.
		cum = cum.Add(r.Total)
		if cum.GreaterThan(o.Total) {
			why.addf(CodeRefundsExceedTotal, "refunds through %s total %s, more than the order total %s", docNumber, money(cum), money(o.Total))
		}
		if len(doc.Blocked) > 0 && len(why.list) == 0 {
			why.add(Reason{Code: CodeWaitsForOrder, Subject: Subject{Kind: SubjectOrder, ID: o.Number},
				Text: fmt.Sprintf("waits for order %s, which is blocked", o.Number)})
		}

		txnDate := m.date(*o.ApprovedAt)
		if !r.CreatedAt.IsZero() {
			txnDate = m.date(r.CreatedAt)
		}
		note := fmt.Sprintf("Velocity order %s refund %d", o.Number, nr.N)
		if r.Reason != "" {
			note = capNote(note + ": " + r.Reason)
		}
		d.Entity = &qbo.RefundReceipt{
			DocNumber:           docNumber,
			TxnDate:             txnDate,
			PrivateNote:         &note,
			CurrencyRef:         m.currencyRef,
			Line:                lines,
			CustomerRef:         m.customerRef(),
			BillAddr:            address(o.BillingAddress),
			BillEmail:           email(o.Email),
			PaymentMethodRef:    m.paymentMethod(&why, r.PaymentMethod, true),
			DepositToAccountRef: m.account(&why, SettingRefundAccount, m.s.RefundAccount, "refund "+docNumber),
		}
		m.finish(d, why)
		out = append(out, d)
	}
	return out
}

// refundLines maps a refund's lines by kind: products on their linked item,
// the rest on the placeholder items.
func (m *mapper) refundLines(why *reasons, r velocity.Refund) []qbo.Line {
	lines := make([]qbo.Line, 0, len(r.Lines))
	unlinked := map[string]bool{}
	for j, rl := range r.Lines {
		m.checkCents(why, fmt.Sprintf("refund line %d amount", j+1), rl.Amount)
		if !rl.Amount.IsPositive() {
			why.addf(CodeAmountNotPositive, "refund line %d amount %s is not positive", j+1, money(rl.Amount))
		}
		switch rl.Kind {
		case velocity.RefundProduct:
			ol, ok := m.orderLine(rl.LineID)
			if !ok {
				why.addf(CodeUnknownOrderLine, "refund line %d refers to order line %q, which the order does not have", j+1, rl.LineID)
				lines = append(lines, m.amountLine(rl.Description, nil, rl.Amount))
				continue
			}
			item := m.productItem(why, ol, unlinked)
			desc := cmp.Or(rl.Description, ol.Name, ol.SKU)
			if rl.Quantity.IsPositive() {
				unit := rl.Amount.DivRound(rl.Quantity, unitPriceScale)
				if unit.Mul(rl.Quantity).Equal(rl.Amount) {
					lines = append(lines, m.itemLine(desc, item, rl.Quantity, unit, rl.Amount))
					continue
				}
				// No exact unit price: send the amount alone, so QBO cannot
				// recompute it, and keep the quantity for the reader.
				desc = fmt.Sprintf("%s (quantity %s)", desc, rl.Quantity)
			}
			lines = append(lines, m.amountLine(desc, item, rl.Amount))
		case velocity.RefundShipping, velocity.RefundHandling, velocity.RefundTax, velocity.RefundCustom:
			key, id := m.refundItemSetting(rl.Kind)
			item := m.item(why, key, id, fmt.Sprintf("a %s refund line", rl.Kind))
			desc := cmp.Or(rl.Description, strings.ToUpper(rl.Kind[:1])+rl.Kind[1:]+" refund")
			lines = append(lines, m.itemLine(desc, item, decimal.NewFromInt(1), rl.Amount, rl.Amount))
		default:
			why.addf(CodeUnknownRefundKind, "refund line %d has unknown kind %q", j+1, rl.Kind)
		}
	}
	return lines
}

func (m *mapper) refundItemSetting(kind string) (key, id string) {
	switch kind {
	case velocity.RefundShipping:
		return SettingShippingItem, m.s.ShippingItem
	case velocity.RefundHandling:
		return SettingHandlingItem, m.s.HandlingItem
	case velocity.RefundTax:
		return SettingTaxItem, m.s.TaxItem
	}
	return SettingCustomItem, m.s.CustomItem
}

// amountLine is a SalesItemLine with an Amount and no Qty or UnitPrice.
func (m *mapper) amountLine(desc string, item *qbo.Ref, amt decimal.Decimal) qbo.Line {
	return qbo.Line{
		Description: desc,
		Amount:      qbo.NewDecimal(amt),
		DetailType:  qbo.SalesItemLine,
		SalesItemLineDetail: &qbo.SalesItemLineDetail{
			ItemRef:    item,
			TaxCodeRef: &qbo.Ref{Value: m.taxCode},
		},
	}
}

func (m *mapper) orderLine(id string) (velocity.OrderLine, bool) {
	if id == "" {
		return velocity.OrderLine{}, false
	}
	for _, l := range m.o.Lines {
		if l.ID == id {
			return l, true
		}
	}
	return velocity.OrderLine{}, false
}

func (m *mapper) payments(doc *Desired) []*Desired {
	o := m.o
	if len(o.Payments) == 0 {
		return nil
	}
	ps := slices.Clone(o.Payments)
	slices.SortStableFunc(ps, func(a, b velocity.Payment) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	out := make([]*Desired, 0, len(ps))
	cum := decimal.Zero
	for _, p := range ps {
		d := &Desired{
			Kind: KindPayment, SourceID: p.ID, OrderID: o.ID, OrderNumber: o.Number,
			QBOType: TypePayment, Total: p.Amount,
		}
		out = append(out, d)
		if doc.QBOType != TypeInvoice {
			d.NotApplicable = NotApplicableOnReceipt
			continue
		}
		why := m.common.about(Subject{Kind: SubjectPayment, ID: p.ID})
		m.checkCents(&why, "payment amount", p.Amount)
		if !p.Amount.IsPositive() {
			why.addf(CodeAmountNotPositive, "payment amount %s is not positive", money(p.Amount))
		}
		cum = cum.Add(p.Amount)
		if cum.GreaterThan(o.Total) {
			why.addf(CodePaymentsExceedTotal, "payments through %s total %s, more than the order total %s", p.ID, money(cum), money(o.Total))
		}
		if len(doc.Blocked) > 0 && len(why.list) == 0 {
			why.add(Reason{Code: CodeWaitsForOrder, Subject: Subject{Kind: SubjectOrder, ID: o.Number},
				Text: fmt.Sprintf("waits for invoice %s, which is blocked", o.Number)})
		}
		txnDate := m.date(*o.ApprovedAt)
		if !p.CreatedAt.IsZero() {
			txnDate = m.date(p.CreatedAt)
		}
		note := "Velocity order " + o.Number + " payment"
		var refNum *string
		if ref := strings.TrimSpace(p.Reference); ref != "" {
			if utf8.RuneCountInString(ref) > maxPaymentRefNum {
				note = capNote(note + " " + ref)
				ref = string([]rune(ref)[:maxPaymentRefNum])
			}
			refNum = &ref
		}
		amt := qbo.NewDecimal(p.Amount)
		d.Entity = &qbo.Payment{
			TxnDate:             txnDate,
			PrivateNote:         &note,
			CurrencyRef:         m.currencyRef,
			Line:                []qbo.Line{{Amount: amt, LinkedTxn: []qbo.LinkedTxn{{TxnType: TypeInvoice}}}},
			CustomerRef:         m.customerRef(),
			DepositToAccountRef: m.account(&why, SettingDepositAccount, m.s.DepositAccount, "payment "+p.ID),
			PaymentMethodRef:    m.paymentMethod(&why, p.Method, false),
			PaymentRefNum:       refNum,
			TotalAmt:            amt,
		}
		m.finish(d, why)
	}
	return out
}

// maxNote leaves room for the ledger marker within QBO's 4000-character
// PrivateNote.
const maxNote = 3900

// capNote cuts free text (a refund reason, a payment reference) that would
// make the PrivateNote too long for QBO; the note is for people, the money
// is unaffected.
func capNote(s string) string {
	if utf8.RuneCountInString(s) <= maxNote {
		return s
	}
	return string([]rune(s)[:maxNote-1]) + "…"
}

func checkDocNumber(why *reasons, what, n string) {
	if c := utf8.RuneCountInString(n); c > MaxDocNumber {
		why.addf(CodeDocNumberInvalid, "%s %q is %d characters; QBO allows at most %d in a DocNumber", what, quoteCap(n), c, MaxDocNumber)
	}
	// A control character (NUL, an ANSI escape) is no document number: QBO
	// would refuse or garble it, and it would reach terminals and logs.
	if !utf8.ValidString(n) || strings.IndexFunc(n, unicode.IsControl) >= 0 {
		why.addf(CodeDocNumberInvalid, "%s %q holds control characters or invalid UTF-8; QBO cannot store it in a DocNumber", what, quoteCap(n))
	}
}

// quoteCap shortens hostile free text quoted in a reason: a megabyte-long
// order number must not become a megabyte-long reason.
func quoteCap(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

func lineLabel(i int, l velocity.OrderLine) string {
	s := strconv.Itoa(i + 1)
	if l.SKU != "" {
		s += " (" + l.SKU + ")"
	}
	return s
}

// addDays adds n calendar days to a YYYY-MM-DD date.
func addDays(date string, n int) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	return t.AddDate(0, 0, n).Format(time.DateOnly)
}

func wholeCents(d decimal.Decimal) bool { return d.Equal(d.Truncate(2)) }

// money formats an amount with two decimals for a message; an amount with
// more (which blocks on its own) is shown exactly.
func money(d decimal.Decimal) string {
	if wholeCents(d) {
		return d.StringFixed(2)
	}
	return d.String()
}

// address maps a Velocity address; name and company lead the address lines.
func address(a velocity.Address) *qbo.PhysicalAddress {
	a.Phone = ""
	if a.IsZero() {
		return nil
	}
	var lines []string
	for _, s := range []string{a.Name, a.Company, a.Line1, a.Line2} {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(lines, s) {
			lines = append(lines, s)
		}
	}
	pa := &qbo.PhysicalAddress{
		City:                   strings.TrimSpace(a.City),
		CountrySubDivisionCode: strings.TrimSpace(a.State),
		PostalCode:             strings.TrimSpace(a.PostalCode),
		Country:                strings.TrimSpace(a.Country),
	}
	for i, s := range lines {
		*[]*string{&pa.Line1, &pa.Line2, &pa.Line3, &pa.Line4}[i] = s
	}
	return pa
}

func email(s string) *qbo.EmailAddress {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return &qbo.EmailAddress{Address: s}
}

// reasons collects why a document is blocked.
type reasons struct {
	on   Subject // the document's own record: its order, refund or payment
	list Reasons
}

func (r *reasons) add(x Reason) { r.list.add(x) }

// addf adds a reason about the document's own record, with no fix.
func (r *reasons) addf(code ReasonCode, format string, args ...any) {
	r.add(Reason{Code: code, Subject: r.on, Text: fmt.Sprintf(format, args...)})
}

// about copies r for a document whose own record is on.
func (r reasons) about(on Subject) reasons { return reasons{on: on, list: r.list.clone()} }
