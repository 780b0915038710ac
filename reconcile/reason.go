package reconcile

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// ReasonCode names why an item is blocked or failed. Codes are stable: the
// console and scripts branch on them, so a code is never renamed or reused.
type ReasonCode string

// Reason codes.
const (
	// Links and settings a person must add.
	CodeCustomerNotLinked     ReasonCode = "customer_not_linked"
	CodeProductNotLinked      ReasonCode = "product_not_linked"
	CodeSettingMissing        ReasonCode = "setting_missing"
	CodePaymentMethodUnmapped ReasonCode = "payment_method_unmapped"
	CodeCurrencyMismatch      ReasonCode = "currency_mismatch"

	// Money or numbers QBO cannot take as they are.
	CodeDocNumberInvalid    ReasonCode = "doc_number_invalid"
	CodeNotWholeCents       ReasonCode = "not_whole_cents"
	CodeNegativeAmount      ReasonCode = "negative_amount"
	CodeAmountNotPositive   ReasonCode = "amount_not_positive"
	CodeTotalMismatch       ReasonCode = "total_mismatch"
	CodeRefundsExceedTotal  ReasonCode = "refunds_exceed_total"
	CodePaymentsExceedTotal ReasonCode = "payments_exceed_total"
	CodeUnknownOrderLine    ReasonCode = "unknown_order_line"
	CodeUnknownRefundKind   ReasonCode = "unknown_refund_kind"

	// The source's data.
	CodeInvalidInSource   ReasonCode = "invalid_in_source"
	CodeNotInSource       ReasonCode = "not_in_source"
	CodeDuplicateInSource ReasonCode = "duplicate_in_source"

	// Order of work and QBO's side.
	CodeWaitsForOrder     ReasonCode = "waits_for_order"
	CodeDeletedInQBO      ReasonCode = "deleted_in_qbo"
	CodeCustomerNameTaken ReasonCode = "customer_name_taken"
	CodeCannotCreate      ReasonCode = "cannot_create_customer"
	// CodeQBORejected: QBO refused every attempt of the write before
	// processing it (throttled, unavailable): nothing was written and
	// nothing is wrong with the document; the next run sends it again.
	CodeQBORejected ReasonCode = "qbo_rejected"
	// CodeQBORefusedDocument: QBO refused the document itself (a
	// validation or business-rule fault, e.g. a payment larger than the
	// invoice's open balance); Text is its fault. Sending it unchanged
	// fails again: a person fixes the cause and retries, or skips it.
	CodeQBORefusedDocument ReasonCode = "qbo_refused_document"
	// CodeSkipped: a person set the object aside (velqbo skip); Text says
	// who, when and why. No run sends it until velqbo retry.
	CodeSkipped        ReasonCode = "skipped"
	CodeOutcomeUnknown ReasonCode = "outcome_unknown" // looked up before anything is written again
	// CodeExistsInQBOUnmarked: QBO already holds a document with this
	// DocNumber (or, for a payment, this customer, invoice and amount)
	// that velqbo did not make; Reason.QBODoc names it. Fix: adopt.
	CodeExistsInQBOUnmarked ReasonCode = "exists_in_qbo_unmarked"
	// CodeLookupFailed: QBO could not be searched for the document before
	// creating it, so nothing was created; the next run looks again.
	CodeLookupFailed ReasonCode = "lookup_failed"
	// CodeWriteInFlight: a create of an earlier run may still reach QBO
	// (sent less than the client's timeout plus a margin ago); it is looked
	// up again, not re-sent, once it can no longer land.
	CodeWriteInFlight ReasonCode = "write_in_flight"
)

// SubjectKind says what a reason is about.
type SubjectKind string

// Subject kinds.
const (
	SubjectCustomer      SubjectKind = "customer"       // ID: Velocity customer id
	SubjectProduct       SubjectKind = "product"        // ID: Velocity product id
	SubjectSetting       SubjectKind = "setting"        // ID: setting key, e.g. shipping_item
	SubjectPaymentMethod SubjectKind = "payment_method" // ID: the source's method name
	SubjectOrder         SubjectKind = "order"          // ID: order number, or Velocity order id when unknown
	SubjectRefund        SubjectKind = "refund"         // ID: Velocity refund id
	SubjectPayment       SubjectKind = "payment"        // ID: Velocity payment id
)

// Subject is the record a reason is about.
type Subject struct {
	Kind SubjectKind `json:"kind"`
	ID   string      `json:"id"`
}

// FixAction is what a person does to clear a reason.
type FixAction string

// Fix actions. Each names one thing to do; how it is shown (a command line,
// a link) is the caller's.
const (
	// FixLinkCustomer: link Velocity customer ID to a QBO customer (by
	// hand, by matching, or by creating it).
	FixLinkCustomer FixAction = "link_customer"
	// FixCreateCustomer: create the QBO customer of Velocity customer ID.
	FixCreateCustomer FixAction = "create_customer"
	// FixRenameOrLinkCustomer: rename the QBO record that holds the name,
	// or link Velocity customer ID by hand.
	FixRenameOrLinkCustomer FixAction = "rename_or_link_customer"
	// FixLinkProduct: link Velocity product ID to a QBO item.
	FixLinkProduct FixAction = "link_product"
	// FixSetSetting: choose a QBO record from List and set setting ID to it.
	FixSetSetting FixAction = "set_setting"
	// FixMapPaymentMethod: map the source's payment method ID to a QBO
	// payment method.
	FixMapPaymentMethod FixAction = "map_payment_method"
	// FixResync: re-create the documents of order number ID deleted in QBO.
	FixResync FixAction = "resync"
	// FixAdopt: record the documents QBO already holds for order number ID
	// in the ledger (velqbo adopt), instead of creating them.
	FixAdopt FixAction = "adopt"
	// FixRetryOrSkip: fix the cause (in the source or in QBO), then send
	// order number ID again (velqbo retry), or set it aside (velqbo skip).
	FixRetryOrSkip FixAction = "retry_or_skip"
	// FixRetry: send the skipped order number ID again (velqbo retry).
	FixRetry FixAction = "retry"
)

// NeedsPerson reports whether an item failed for code c waits for a
// person: the runs alone cannot get it through. Every other failure
// (throttling, an outage, an unknown outcome, a lookup that failed, a
// write still in flight, an order document not yet in QBO) is retried by
// the next run.
func (c ReasonCode) NeedsPerson() bool { return c == CodeQBORefusedDocument }

// Fix is the remedy of a reason, as data. The zero Fix means there is
// nothing to run: the source's data or QBO's must change.
type Fix struct {
	Action FixAction `json:"action"`
	// ID is what the action takes: a Velocity customer or product id, a
	// setting key, a payment method name, an order number.
	ID string `json:"id"`
	// List, for FixSetSetting, is the kind of QBO record to choose from:
	// "items" or "accounts".
	List string `json:"list,omitempty"`
}

// IsZero reports whether f is no fix.
func (f Fix) IsZero() bool { return f.Action == "" }

// Reason is why one item is blocked or failed: a stable code, the record
// it is about, the sentence a bookkeeper reads, and the fix as data.
type Reason struct {
	Code    ReasonCode `json:"code"`
	Subject Subject    `json:"subject"`
	// Text states the problem for a person, without the remedy: callers
	// render Fix their own way (a command line, a link).
	Text string `json:"text"`
	Fix  Fix    `json:"fix,omitzero"`
	// QBODoc is the QBO document the reason is about, when there is one
	// (exists_in_qbo_unmarked: the document found in QBO).
	QBODoc QBODoc `json:"qbo_doc,omitzero"`
}

// QBODoc names one QBO document.
type QBODoc struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	DocNumber string `json:"doc_number,omitempty"`
}

// Render is the reason as one sentence: Text, then the fix as fixText
// phrases it. A nil fixText (or an empty phrase) gives Text alone.
func (r Reason) Render(fixText func(Fix) string) string {
	if r.Fix.IsZero() || fixText == nil {
		return r.Text
	}
	phrase := fixText(r.Fix)
	if phrase == "" {
		return r.Text
	}
	sep := ": "
	switch r.Fix.Action {
	case FixResync, FixCreateCustomer, FixAdopt, FixRetryOrSkip, FixRetry:
		// These remedies read as a second clause: "deleted in QBO; run …".
		sep = "; "
	}
	return r.Text + sep + phrase
}

// Reasons are all the reasons of one item, in the order they were found.
type Reasons []Reason

// Render joins the rendered reasons with "; ".
func (rs Reasons) Render(fixText func(Fix) string) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Render(fixText)
	}
	return strings.Join(parts, "; ")
}

// String is the reasons without their fixes.
func (rs Reasons) String() string { return rs.Render(nil) }

// Has reports whether one of the reasons has code c.
func (rs Reasons) Has(c ReasonCode) bool {
	return slices.ContainsFunc(rs, func(r Reason) bool { return r.Code == c })
}

// add appends r unless an equal reason is already there.
func (rs *Reasons) add(r Reason) {
	if !slices.Contains(*rs, r) {
		*rs = append(*rs, r)
	}
}

func (rs Reasons) clone() Reasons { return slices.Clone(rs) }

// encode is rs as the ledger stores it next to the text (LastReasons,
// run items): JSON, nil when there are none.
func (rs Reasons) encode() []byte {
	if len(rs) == 0 {
		return nil
	}
	b, err := json.Marshal(rs)
	if err != nil {
		// Reasons hold only strings: Marshal cannot fail on them.
		panic(fmt.Sprintf("encode reasons: %v", err))
	}
	return b
}

// DecodeReasons reads reasons as the ledger stores them
// (schema.Document.LastReasons, BlockedItem.Reasons, RunItem.Reasons).
// Empty data gives nil: a row written without them. It returns an error
// when b is not such data.
func DecodeReasons(b []byte) (Reasons, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var rs Reasons
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("decode reasons: %w", err)
	}
	return rs, nil
}

// text renders reasons for Item.Reason and the ledger with the
// Reconciler's FixText.
func (r *Reconciler) text(rs Reasons) string { return rs.Render(r.FixText) }

// explain sets c's action and structured reasons, and renders them as its
// Reason.
func (r *Reconciler) explain(c *Change, action Action, why Reasons) {
	c.Action, c.Why, c.Reason = action, why, r.text(why)
}

// subject is the record a change is about: its refund or payment, else
// its order.
func (c *Change) subject() Subject {
	switch c.Key.Kind {
	case string(KindRefund):
		return Subject{Kind: SubjectRefund, ID: c.Key.SourceID}
	case string(KindPayment):
		return Subject{Kind: SubjectPayment, ID: c.Key.SourceID}
	}
	return Subject{Kind: SubjectOrder, ID: cmp.Or(c.OrderNumber, c.OrderID)}
}

// fail marks c failed for a reason about c itself that has no fix.
func (c *Change) fail(code ReasonCode, text string) {
	c.Action, c.Why, c.Reason = ActionFailed, Reasons{{Code: code, Subject: c.subject(), Text: text}}, text
}

// DeletedInQBO is the reason of a document of order orderNumber that a
// person deleted in QBO: resync re-creates it.
func DeletedInQBO(orderNumber string) Reason {
	return Reason{Code: CodeDeletedInQBO, Subject: Subject{Kind: SubjectOrder, ID: orderNumber},
		Text: "deleted in QBO", Fix: Fix{Action: FixResync, ID: orderNumber}}
}
