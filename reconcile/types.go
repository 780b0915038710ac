// Package reconcile maps Velocity orders to the QuickBooks Online documents
// they should produce, diffs them against the ledger, and applies the
// difference exactly once. It is the only package that knows both sides; it
// does no HTTP or SQL of its own and reaches the world through the small
// interfaces declared in this package.
package reconcile

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// Kind is an item's kind, as `run --json` names it.
type Kind string

// Item kinds. Ledger rows use KindOrder, KindRefund and KindPayment as
// their source kind (schema.DocumentKey.Kind); a shipment is the tracking
// part of its order's row.
const (
	KindOrder    Kind = "order"
	KindShipment Kind = "shipment"
	KindRefund   Kind = "refund"
	KindPayment  Kind = "payment"
	KindCustomer Kind = "customer"
)

// key is the ledger key of the object of kind k with source id id.
func (k Kind) key(id string) schema.DocumentKey {
	return schema.DocumentKey{Kind: string(k), SourceID: id}
}

// QBO document types.
const (
	TypeSalesReceipt  = "SalesReceipt"
	TypeInvoice       = "Invoice"
	TypeRefundReceipt = "RefundReceipt"
	TypePayment       = "Payment"
	TypeCustomer      = "Customer"
)

// Link is a Velocity record's QBO counterpart.
type Link struct {
	QBOID string
	Name  string
}

// Env is everything the mapping needs besides the order itself. It is
// read once per run (settings, company currency) and per batch of orders
// (links).
type Env struct {
	Settings     Settings
	Location     *time.Location // business time zone for TxnDate, DueDate, ShipDate
	HomeCurrency string         // the QBO company's home currency, e.g. "USD"
	// MultiCurrency is true when the company has multicurrency on; the
	// order's currency must then equal its customer's (CustomerCurrency).
	MultiCurrency    bool
	CustomerCurrency map[string]string // QBO customer id -> currency code, when known

	Customers map[string]Link // Velocity customer id -> QBO customer
	Products  map[string]Link // Velocity product id -> QBO item

	// SourceName names the source in reasons, as Reconciler.SourceName
	// ("Velocity" when empty).
	SourceName string
}

// Desired is one QBO document that a Velocity object should produce, as
// computed by the mapping: plain data, no I/O.
type Desired struct {
	Kind        Kind   // KindOrder, KindRefund or KindPayment
	SourceID    string // Velocity order, refund or payment id
	OrderID     string
	OrderNumber string
	QBOType     string
	DocNumber   string

	// Entity is the payload to create: *qbo.SalesReceipt, *qbo.Invoice,
	// *qbo.RefundReceipt or *qbo.Payment, without Id, SyncToken or the
	// ledger marker in PrivateNote (apply adds the marker). A Payment's
	// LinkedTxn TxnId is left empty: apply fills in the Invoice's Id.
	Entity any

	// Fingerprint is the canonical hash of Entity: for an order document
	// "b:<body>;t:<tracking>", so that a change of shipments alone is told
	// apart from an edit of the order; for others a single hash.
	Fingerprint string

	// Total is what the document must total in QBO, checked to the cent
	// before sending and against QBO's TotalAmt after.
	Total decimal.Decimal

	// Blocked, when set, is why this document cannot be sent: what is
	// wrong, about which record, and the fix as data (which link or
	// setting). Entity may be nil then.
	Blocked Reasons
	// NotApplicable, when set, says why nothing is sent and nothing is
	// wrong (a payment on an order reported as a SalesReceipt).
	NotApplicable string
}

// OrderDocs is what one Velocity order should look like in QBO.
type OrderDocs struct {
	Order *velocity.Order
	// Skip, when set, says why the order is not reported at all (not yet
	// approved, approved before start_date, cancelled before it was ever
	// approved). Nothing else is set then.
	Skip string
	// Cancelled is true when the order was cancelled: a document already
	// reported must be voided, and none is created.
	Cancelled bool
	Doc       *Desired   // the SalesReceipt or Invoice
	Refunds   []*Desired // in refund order (n = 1, 2, ...)
	Payments  []*Desired // one per payment; NotApplicable on receipts
	// UnlinkedCustomer is the order's Velocity customer id when Env has no
	// QBO customer for it (its documents are then blocked): the customer
	// a run creates when auto_create_customers is on.
	UnlinkedCustomer string
}
