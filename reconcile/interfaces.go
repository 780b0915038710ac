package reconcile

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// Source is where orders come from: *velocity.Client directly, or an export
// file through FileSource. Orders yields the orders updated at or after
// since (all when zero); an *velocity.ObjectError is one invalid order and
// iteration goes on, any other error ends it. GetOrder returns one order,
// an error matching velocity.ErrNotFound when there is none.
type Source interface {
	Orders(ctx context.Context, since time.Time) iter.Seq2[*velocity.Order, error]
	GetOrder(ctx context.Context, id string) (*velocity.Order, error)
}

// FileSource adapts a velocity export file to Source. GetOrder scans the
// whole file (constant memory), so it is meant for the few orders a run
// re-reads by id.
type FileSource struct{ *velocity.FileSource }

// GetOrder scans the export for the order with id.
func (s FileSource) GetOrder(ctx context.Context, id string) (*velocity.Order, error) {
	for o, err := range s.Orders(ctx, time.Time{}) {
		if err != nil && !velocity.IsObjectError(err) {
			return nil, err
		}
		if o != nil && o.ID == id {
			return o, nil
		}
	}
	return nil, fmt.Errorf("get order %s from export: %w", id, velocity.ErrNotFound)
}

// Store is the part of *schema.Store that reconcile uses: the ledger, links,
// settings, runs and cursors.
type Store interface {
	DocumentsBySource(ctx context.Context, kind string, ids []string) (map[string]schema.Document, error)
	DocumentsByOrderNumber(ctx context.Context, orderNumber string) ([]schema.Document, error)
	EachDocument(ctx context.Context, f schema.DocumentFilter, fn func(schema.Document) error) error
	PendingIntents(ctx context.Context) ([]schema.Document, error)
	Links(ctx context.Context, kind schema.LinkKind, ids []string) (map[string]schema.Link, error)
	Settings(ctx context.Context) ([]schema.Setting, error)
	SaveLink(ctx context.Context, kind schema.LinkKind, l schema.Link) error

	RecordIntent(ctx context.Context, in schema.Intent) error
	RecordOutcome(ctx context.Context, o schema.DocumentOutcome) error
	RecordBlocked(ctx context.Context, p schema.Problem) error
	RecordFailed(ctx context.Context, p schema.Problem) error
	ClearIntent(ctx context.Context, k schema.DocumentKey, requestID string) error
	SetState(ctx context.Context, k schema.DocumentKey, st schema.State) error
	BumpGeneration(ctx context.Context, kind, sourceID string) (schema.Document, error)
	SkipDocument(ctx context.Context, k schema.DocumentKey, reason, by string) (schema.Document, error)
	RetryDocument(ctx context.Context, k schema.DocumentKey, by string) (schema.Document, error)
	DecideInvoice(ctx context.Context, k schema.DocumentKey, by string) (schema.Document, error)
	InvoiceDecisionsDue(ctx context.Context) ([]string, error)

	StartRun(ctx context.Context, mode string) (schema.Run, error)
	FinishRun(ctx context.Context, res schema.RunResult) error
	AddRunItems(ctx context.Context, runID string, items []schema.RunItem) error
	GetCursor(ctx context.Context, name string) (string, error)
}

// DocRef is what reconcile needs to know about a QBO document.
type DocRef struct {
	Type        string
	ID          string
	SyncToken   string
	DocNumber   string
	PrivateNote string
	CustomerID  string
	Voided      bool
	TotalAmt    decimal.Decimal
	// LinkedInvoices are, for a Payment, the Ids of the Invoices it pays.
	LinkedInvoices []string
	// IntuitTID is QBO's transaction id of the response that returned
	// this document, for the audit log and support tickets.
	IntuitTID string
}

// BatchWrite is one write of a batch request: a create (Op qbo.BatchCreate)
// or a sparse update (qbo.BatchUpdate; Id, SyncToken and Sparse set) of
// Entity, or a void (qbo.BatchVoid) of the document Type/ID at SyncToken.
type BatchWrite struct {
	Op        string
	Type      string
	Entity    any
	ID        string
	SyncToken string
}

// BatchOutcome is one write of a batch: Doc on success (Voided set for a
// void), else Err (a QBO fault for that item alone).
type BatchOutcome struct {
	Doc DocRef
	Err error
}

// Company is what reconcile reads about the QBO company, once per run and
// only when there is something to send.
type Company struct {
	HomeCurrency  string
	MultiCurrency bool
}

// QBO is the part of QuickBooks Online that reconcile writes to and reads
// from; QBOClient implements it over *qbo.Client. Entities are the pointer
// types of package qbo (*qbo.Invoice, ...); typ is their QBO type name.
// Errors are the qbo client's (match with qbo.IsStaleObject, qbo.IsNotFound,
// qbo.IsAuth, qbo.Retryable).
type QBO interface {
	Create(ctx context.Context, typ string, entity any, requestID string) (DocRef, error)
	SparseUpdate(ctx context.Context, typ string, entity any, requestID string) (DocRef, error)
	Void(ctx context.Context, typ, id, syncToken, requestID string) (DocRef, error)
	Get(ctx context.Context, typ, id string) (DocRef, error)
	// FindByDocNumber returns the documents of type typ whose DocNumber is
	// one of docNumbers (at most lookupDocNumbers per call).
	FindByDocNumber(ctx context.Context, typ string, docNumbers []string) ([]DocRef, error)
	// FindPayments returns the payments of one QBO customer.
	FindPayments(ctx context.Context, customerID string) ([]DocRef, error)
	// Batch sends up to qbo.MaxBatchItems writes in one batch request,
	// one outcome per write in their order; the error is for the request
	// as a whole.
	Batch(ctx context.Context, writes []BatchWrite, requestID string) ([]BatchOutcome, error)
	Company(ctx context.Context) (Company, error)
}

// QBOClient adapts *qbo.Client to QBO.
type QBOClient struct{ C *qbo.Client }

// Timeout is the qbo client's bound on one call (qbo.Client.Timeout): how
// long after a write began it may still be on its way to QBO.
func (q QBOClient) Timeout() time.Duration { return q.C.Timeout() }

func qboOpts(id string) *qbo.RequestOptions { return &qbo.RequestOptions{RequestID: id} }

// Create creates entity.
func (q QBOClient) Create(ctx context.Context, typ string, entity any, rid string) (DocRef, error) {
	return q.write(ctx, typ, entity, rid, false)
}

// SparseUpdate sends entity (Id, SyncToken and Sparse set) as a sparse update.
func (q QBOClient) SparseUpdate(ctx context.Context, typ string, entity any, rid string) (DocRef, error) {
	return q.write(ctx, typ, entity, rid, true)
}

// entityWriter is the write half of a qbo transaction service.
type entityWriter[T any] interface {
	Create(ctx context.Context, v *T, opts *qbo.RequestOptions) (*T, *qbo.Response, error)
	SparseUpdate(ctx context.Context, v *T, opts *qbo.RequestOptions) (*T, *qbo.Response, error)
}

// write sends entity through the service of its type, as a create or a
// sparse update.
func (q QBOClient) write(ctx context.Context, typ string, entity any, rid string, sparse bool) (DocRef, error) {
	switch e := entity.(type) {
	case *qbo.SalesReceipt:
		return writeVia(ctx, q.C.SalesReceipts, e, rid, sparse)
	case *qbo.Invoice:
		return writeVia(ctx, q.C.Invoices, e, rid, sparse)
	case *qbo.RefundReceipt:
		return writeVia(ctx, q.C.RefundReceipts, e, rid, sparse)
	case *qbo.Payment:
		return writeVia(ctx, q.C.Payments, e, rid, sparse)
	}
	return DocRef{}, fmt.Errorf("write %s: unsupported entity %T", typ, entity)
}

func writeVia[T any](ctx context.Context, w entityWriter[T], e *T, rid string, sparse bool) (DocRef, error) {
	op := w.Create
	if sparse {
		op = w.SparseUpdate
	}
	out, resp, err := op(ctx, e, qboOpts(rid))
	if err != nil {
		return DocRef{}, err
	}
	return withTID(docRef(out), resp), nil
}

// Void voids a document in the form its type needs.
func (q QBOClient) Void(ctx context.Context, typ, id, syncToken, rid string) (DocRef, error) {
	var out any
	var resp *qbo.Response
	var err error
	switch typ {
	case TypeSalesReceipt:
		out, resp, err = q.C.SalesReceipts.Void(ctx, id, syncToken, qboOpts(rid))
	case TypeInvoice:
		out, resp, err = q.C.Invoices.Void(ctx, id, syncToken, qboOpts(rid))
	case TypeRefundReceipt:
		out, resp, err = q.C.RefundReceipts.Void(ctx, id, syncToken, qboOpts(rid))
	case TypePayment:
		out, resp, err = q.C.Payments.Void(ctx, id, syncToken, qboOpts(rid))
	default:
		return DocRef{}, fmt.Errorf("void %s %s: unsupported type", typ, id)
	}
	if err != nil {
		return DocRef{}, err
	}
	d := withTID(docRef(out), resp)
	d.Voided = true
	return d, nil
}

// Get reads one document.
func (q QBOClient) Get(ctx context.Context, typ, id string) (DocRef, error) {
	var out any
	var err error
	switch typ {
	case TypeSalesReceipt:
		out, _, err = q.C.SalesReceipts.Get(ctx, id)
	case TypeInvoice:
		out, _, err = q.C.Invoices.Get(ctx, id)
	case TypeRefundReceipt:
		out, _, err = q.C.RefundReceipts.Get(ctx, id)
	case TypePayment:
		out, _, err = q.C.Payments.Get(ctx, id)
	default:
		return DocRef{}, fmt.Errorf("get %s %s: unsupported type", typ, id)
	}
	if err != nil {
		return DocRef{}, err
	}
	return docRef(out), nil
}

// FindByDocNumber queries `SELECT * FROM <typ> WHERE DocNumber IN (...)`.
func (q QBOClient) FindByDocNumber(ctx context.Context, typ string, docNumbers []string) ([]DocRef, error) {
	if len(docNumbers) == 0 {
		return nil, nil
	}
	clause := "WHERE DocNumber IN ("
	for i, dn := range docNumbers {
		if i > 0 {
			clause += ", "
		}
		clause += qbo.QueryString(dn)
	}
	clause += ")"
	var out []DocRef
	var err error
	switch typ {
	case TypeSalesReceipt:
		out, err = queryRefs(ctx, q.C.SalesReceipts.All(ctx, clause))
	case TypeInvoice:
		out, err = queryRefs(ctx, q.C.Invoices.All(ctx, clause))
	case TypeRefundReceipt:
		out, err = queryRefs(ctx, q.C.RefundReceipts.All(ctx, clause))
	default:
		return nil, fmt.Errorf("find %s by doc number: unsupported type", typ)
	}
	return out, err
}

// FindPayments queries `SELECT * FROM Payment WHERE CustomerRef = '<id>'`.
func (q QBOClient) FindPayments(ctx context.Context, customerID string) ([]DocRef, error) {
	return queryRefs(ctx, q.C.Payments.All(ctx, "WHERE CustomerRef = "+qbo.QueryString(customerID)))
}

func queryRefs[T any](_ context.Context, seq iter.Seq2[T, error]) ([]DocRef, error) {
	var out []DocRef
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, docRef(&v))
	}
	return out, nil
}

// Batch sends one batch request of creates, sparse updates and voids. A
// write it cannot express (a void of another type, one without Id or
// SyncToken) is not sent and gets its *qbo.ValidationError as its outcome.
func (q QBOClient) Batch(ctx context.Context, writes []BatchWrite, rid string) ([]BatchOutcome, error) {
	out := make([]BatchOutcome, len(writes))
	items := make([]qbo.BatchItem, 0, len(writes))
	for i, w := range writes {
		bid := fmt.Sprintf("b%d", i)
		out[i].Err = fmt.Errorf("batch item %s: no result", bid)
		switch w.Op {
		case qbo.BatchVoid:
			it, err := qbo.BatchVoidItem(bid, w.Type, w.ID, w.SyncToken)
			if err != nil {
				out[i].Err = err
				continue
			}
			items = append(items, it)
		default:
			items = append(items, qbo.BatchItem{BID: bid, Operation: w.Op, Entity: w.Entity})
		}
	}
	if len(items) == 0 {
		return out, nil
	}
	res, resp, err := q.C.Batch(ctx, items, qboOpts(rid))
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		var i int
		if _, err := fmt.Sscanf(r.BID, "b%d", &i); err != nil || i < 0 || i >= len(out) {
			continue
		}
		switch {
		case r.Err != nil:
			out[i] = BatchOutcome{Err: r.Err}
		case r.Entity != nil:
			// A void's answer keeps what the document says (Voided from
			// its status or PrivateNote): the applier checks it (voided).
			out[i] = BatchOutcome{Doc: withTID(docRef(r.Entity), resp)}
		case r.Raw != nil:
			// QBO answered, with something velqbo cannot read: it may have
			// written, so the outcome is unknown and the item looked up.
			out[i].Err = fmt.Errorf("batch item %s: QBO answered with an entity velqbo does not know: %.200s", r.BID, r.Raw)
		}
	}
	return out, nil
}

// Company reads the company preferences (home currency, multicurrency).
func (q QBOClient) Company(ctx context.Context) (Company, error) {
	p, _, err := q.C.Preferences(ctx)
	if err != nil {
		return Company{}, err
	}
	return Company{HomeCurrency: p.HomeCurrency(), MultiCurrency: p.MultiCurrencyEnabled()}, nil
}

func qboNote(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func qboRefID(r *qbo.Ref) string {
	if r == nil {
		return ""
	}
	return r.Value
}

// docRef extracts a DocRef from one of qbo's entity pointers. QBO marks a
// voided sales form by setting PrivateNote to "Voided" and its amounts to
// zero; the status field says so in CDC answers.
func docRef(v any) DocRef {
	var d DocRef
	var total *qbo.Decimal
	var status string
	switch e := v.(type) {
	case *qbo.SalesReceipt:
		d = DocRef{Type: TypeSalesReceipt, ID: e.Id, SyncToken: e.SyncToken, DocNumber: e.DocNumber,
			PrivateNote: qboNote(e.PrivateNote), CustomerID: qboRefID(e.CustomerRef)}
		total, status = e.TotalAmt, e.Status
	case *qbo.Invoice:
		d = DocRef{Type: TypeInvoice, ID: e.Id, SyncToken: e.SyncToken, DocNumber: e.DocNumber,
			PrivateNote: qboNote(e.PrivateNote), CustomerID: qboRefID(e.CustomerRef)}
		total, status = e.TotalAmt, e.Status
	case *qbo.RefundReceipt:
		d = DocRef{Type: TypeRefundReceipt, ID: e.Id, SyncToken: e.SyncToken, DocNumber: e.DocNumber,
			PrivateNote: qboNote(e.PrivateNote), CustomerID: qboRefID(e.CustomerRef)}
		total, status = e.TotalAmt, e.Status
	case *qbo.Payment:
		d = DocRef{Type: TypePayment, ID: e.Id, SyncToken: e.SyncToken, DocNumber: e.DocNumber,
			PrivateNote: qboNote(e.PrivateNote), CustomerID: qboRefID(e.CustomerRef)}
		total, status = e.TotalAmt, e.Status
		for _, l := range e.Line {
			for _, lt := range l.LinkedTxn {
				if lt.TxnType == TypeInvoice && !slices.Contains(d.LinkedInvoices, lt.TxnId) {
					d.LinkedInvoices = append(d.LinkedInvoices, lt.TxnId)
				}
			}
		}
	}
	if total != nil {
		d.TotalAmt = qbo.Dec(total)
	}
	d.Voided = status == qbo.StatusVoided || d.PrivateNote == "Voided"
	return d
}

// withTID records the intuit_tid of the response that carried d.
func withTID(d DocRef, resp *qbo.Response) DocRef {
	if resp != nil {
		d.IntuitTID = resp.IntuitTID
	}
	return d
}

// intuitTID is the intuit_tid of a QBO fault, or "".
func intuitTID(err error) string {
	var qe *qbo.Error
	if errors.As(err, &qe) {
		return qe.IntuitTID
	}
	return ""
}
