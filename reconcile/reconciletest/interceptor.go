// NewStore and NewQBO wrap the Store and QBO that reconcile consumes so
// that a test can intercept any of their calls, in the style of
// controller-runtime's pkg/client/interceptor: a struct of optional funcs,
// one per method, each given the wrapped value to call through.
//
// It is how tests put crash points into the write protocol without hooks
// in production code. A write is: Store.RecordIntent, then the QBO write
// (Create, SparseUpdate, Void or Batch), then Store.RecordOutcome (or
// RecordFailed). "Killed before the intent is recorded" is a RecordIntent
// interceptor that fails without calling through; "after the intent,
// before QBO is called" one that calls through and then fails; "after QBO
// answered, before the outcome is recorded" a QBO write interceptor that
// calls through and then fails; and so on. A Reconciler whose Store fails
// stops the run, as on any ledger fault.

package reconciletest

import (
	"context"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// StoreFuncs holds the interceptors of a Store: each non-nil func is called
// instead of the method of the same name, with the wrapped Store to call
// through (or not). A nil func calls through.
type StoreFuncs struct {
	DocumentsBySource      func(ctx context.Context, next reconcile.Store, kind string, ids []string) (map[string]schema.Document, error)
	DocumentsByOrderNumber func(ctx context.Context, next reconcile.Store, orderNumber string) ([]schema.Document, error)
	EachDocument           func(ctx context.Context, next reconcile.Store, f schema.DocumentFilter, fn func(schema.Document) error) error
	PendingIntents         func(ctx context.Context, next reconcile.Store) ([]schema.Document, error)
	Links                  func(ctx context.Context, next reconcile.Store, kind schema.LinkKind, ids []string) (map[string]schema.Link, error)
	Settings               func(ctx context.Context, next reconcile.Store) ([]schema.Setting, error)
	SaveLink               func(ctx context.Context, next reconcile.Store, kind schema.LinkKind, l schema.Link) error
	RecordIntent           func(ctx context.Context, next reconcile.Store, in schema.Intent) error
	RecordOutcome          func(ctx context.Context, next reconcile.Store, o schema.DocumentOutcome) error
	RecordBlocked          func(ctx context.Context, next reconcile.Store, p schema.Problem) error
	RecordFailed           func(ctx context.Context, next reconcile.Store, p schema.Problem) error
	ClearIntent            func(ctx context.Context, next reconcile.Store, k schema.DocumentKey, requestID string) error
	SetState               func(ctx context.Context, next reconcile.Store, k schema.DocumentKey, st schema.State) error
	BumpGeneration         func(ctx context.Context, next reconcile.Store, kind, sourceID string) (schema.Document, error)
	SkipDocument           func(ctx context.Context, next reconcile.Store, k schema.DocumentKey, reason, by string) (schema.Document, error)
	RetryDocument          func(ctx context.Context, next reconcile.Store, k schema.DocumentKey, by string) (schema.Document, error)
	DecideInvoice          func(ctx context.Context, next reconcile.Store, k schema.DocumentKey, by string) (schema.Document, error)
	InvoiceDecisionsDue    func(ctx context.Context, next reconcile.Store) ([]string, error)
	StartRun               func(ctx context.Context, next reconcile.Store, mode string) (schema.Run, error)
	FinishRun              func(ctx context.Context, next reconcile.Store, res schema.RunResult) error
	AddRunItems            func(ctx context.Context, next reconcile.Store, runID string, items []schema.RunItem) error
	GetCursor              func(ctx context.Context, next reconcile.Store, name string) (string, error)
}

func (s *store) DocumentsBySource(ctx context.Context, kind string, ids []string) (map[string]schema.Document, error) {
	if s.funcs.DocumentsBySource != nil {
		return s.funcs.DocumentsBySource(ctx, s.next, kind, ids)
	}
	return s.next.DocumentsBySource(ctx, kind, ids)
}

func (s *store) DocumentsByOrderNumber(ctx context.Context, orderNumber string) ([]schema.Document, error) {
	if s.funcs.DocumentsByOrderNumber != nil {
		return s.funcs.DocumentsByOrderNumber(ctx, s.next, orderNumber)
	}
	return s.next.DocumentsByOrderNumber(ctx, orderNumber)
}

func (s *store) EachDocument(ctx context.Context, f schema.DocumentFilter, fn func(schema.Document) error) error {
	if s.funcs.EachDocument != nil {
		return s.funcs.EachDocument(ctx, s.next, f, fn)
	}
	return s.next.EachDocument(ctx, f, fn)
}

func (s *store) PendingIntents(ctx context.Context) ([]schema.Document, error) {
	if s.funcs.PendingIntents != nil {
		return s.funcs.PendingIntents(ctx, s.next)
	}
	return s.next.PendingIntents(ctx)
}

func (s *store) Links(ctx context.Context, kind schema.LinkKind, ids []string) (map[string]schema.Link, error) {
	if s.funcs.Links != nil {
		return s.funcs.Links(ctx, s.next, kind, ids)
	}
	return s.next.Links(ctx, kind, ids)
}

func (s *store) Settings(ctx context.Context) ([]schema.Setting, error) {
	if s.funcs.Settings != nil {
		return s.funcs.Settings(ctx, s.next)
	}
	return s.next.Settings(ctx)
}

func (s *store) SaveLink(ctx context.Context, kind schema.LinkKind, l schema.Link) error {
	if s.funcs.SaveLink != nil {
		return s.funcs.SaveLink(ctx, s.next, kind, l)
	}
	return s.next.SaveLink(ctx, kind, l)
}

func (s *store) RecordIntent(ctx context.Context, in schema.Intent) error {
	if s.funcs.RecordIntent != nil {
		return s.funcs.RecordIntent(ctx, s.next, in)
	}
	return s.next.RecordIntent(ctx, in)
}

func (s *store) RecordOutcome(ctx context.Context, o schema.DocumentOutcome) error {
	if s.funcs.RecordOutcome != nil {
		return s.funcs.RecordOutcome(ctx, s.next, o)
	}
	return s.next.RecordOutcome(ctx, o)
}

func (s *store) RecordBlocked(ctx context.Context, p schema.Problem) error {
	if s.funcs.RecordBlocked != nil {
		return s.funcs.RecordBlocked(ctx, s.next, p)
	}
	return s.next.RecordBlocked(ctx, p)
}

func (s *store) RecordFailed(ctx context.Context, p schema.Problem) error {
	if s.funcs.RecordFailed != nil {
		return s.funcs.RecordFailed(ctx, s.next, p)
	}
	return s.next.RecordFailed(ctx, p)
}

func (s *store) ClearIntent(ctx context.Context, k schema.DocumentKey, requestID string) error {
	if s.funcs.ClearIntent != nil {
		return s.funcs.ClearIntent(ctx, s.next, k, requestID)
	}
	return s.next.ClearIntent(ctx, k, requestID)
}

func (s *store) SetState(ctx context.Context, k schema.DocumentKey, st schema.State) error {
	if s.funcs.SetState != nil {
		return s.funcs.SetState(ctx, s.next, k, st)
	}
	return s.next.SetState(ctx, k, st)
}

func (s *store) BumpGeneration(ctx context.Context, kind, sourceID string) (schema.Document, error) {
	if s.funcs.BumpGeneration != nil {
		return s.funcs.BumpGeneration(ctx, s.next, kind, sourceID)
	}
	return s.next.BumpGeneration(ctx, kind, sourceID)
}

func (s *store) SkipDocument(ctx context.Context, k schema.DocumentKey, reason, by string) (schema.Document, error) {
	if s.funcs.SkipDocument != nil {
		return s.funcs.SkipDocument(ctx, s.next, k, reason, by)
	}
	return s.next.SkipDocument(ctx, k, reason, by)
}

func (s *store) RetryDocument(ctx context.Context, k schema.DocumentKey, by string) (schema.Document, error) {
	if s.funcs.RetryDocument != nil {
		return s.funcs.RetryDocument(ctx, s.next, k, by)
	}
	return s.next.RetryDocument(ctx, k, by)
}

func (s *store) StartRun(ctx context.Context, mode string) (schema.Run, error) {
	if s.funcs.StartRun != nil {
		return s.funcs.StartRun(ctx, s.next, mode)
	}
	return s.next.StartRun(ctx, mode)
}

func (s *store) FinishRun(ctx context.Context, res schema.RunResult) error {
	if s.funcs.FinishRun != nil {
		return s.funcs.FinishRun(ctx, s.next, res)
	}
	return s.next.FinishRun(ctx, res)
}

func (s *store) AddRunItems(ctx context.Context, runID string, items []schema.RunItem) error {
	if s.funcs.AddRunItems != nil {
		return s.funcs.AddRunItems(ctx, s.next, runID, items)
	}
	return s.next.AddRunItems(ctx, runID, items)
}

func (s *store) GetCursor(ctx context.Context, name string) (string, error) {
	if s.funcs.GetCursor != nil {
		return s.funcs.GetCursor(ctx, s.next, name)
	}
	return s.next.GetCursor(ctx, name)
}

func (s *store) DecideInvoice(ctx context.Context, k schema.DocumentKey, by string) (schema.Document, error) {
	if s.funcs.DecideInvoice != nil {
		return s.funcs.DecideInvoice(ctx, s.next, k, by)
	}
	return s.next.DecideInvoice(ctx, k, by)
}

func (s *store) InvoiceDecisionsDue(ctx context.Context) ([]string, error) {
	if s.funcs.InvoiceDecisionsDue != nil {
		return s.funcs.InvoiceDecisionsDue(ctx, s.next)
	}
	return s.next.InvoiceDecisionsDue(ctx)
}

var (
	_ reconcile.Store = (*store)(nil)
	_ reconcile.QBO   = (*qboClient)(nil)
)

type store struct {
	next  reconcile.Store
	funcs StoreFuncs
}

// cursorSetter is the optional Store method Verify uses.
type cursorSetter interface {
	SetCursor(ctx context.Context, name, value string) error
}

// NewStore returns next with funcs intercepting its methods. The optional
// method reconcile looks for (SetCursor) is passed through when next has
// it, so the wrapped Store behaves as next does.
func NewStore(next reconcile.Store, funcs StoreFuncs) reconcile.Store {
	s := &store{next: next, funcs: funcs}
	if cs, ok := next.(cursorSetter); ok {
		return struct {
			*store
			cursorSetter
		}{s, cs}
	}
	return s
}

// QBOFuncs holds the interceptors of a QBO: each non-nil func is called
// instead of the method of the same name, with the wrapped QBO to call
// through (or not). A nil func calls through.
type QBOFuncs struct {
	Create          func(ctx context.Context, next reconcile.QBO, typ string, entity any, requestID string) (reconcile.DocRef, error)
	SparseUpdate    func(ctx context.Context, next reconcile.QBO, typ string, entity any, requestID string) (reconcile.DocRef, error)
	Void            func(ctx context.Context, next reconcile.QBO, typ, id, syncToken, requestID string) (reconcile.DocRef, error)
	Get             func(ctx context.Context, next reconcile.QBO, typ, id string) (reconcile.DocRef, error)
	FindByDocNumber func(ctx context.Context, next reconcile.QBO, typ string, docNumbers []string) ([]reconcile.DocRef, error)
	FindPayments    func(ctx context.Context, next reconcile.QBO, customerID string) ([]reconcile.DocRef, error)
	Batch           func(ctx context.Context, next reconcile.QBO, writes []reconcile.BatchWrite, requestID string) ([]reconcile.BatchOutcome, error)
	Company         func(ctx context.Context, next reconcile.QBO) (reconcile.Company, error)
}

func (q *qboClient) Create(ctx context.Context, typ string, entity any, requestID string) (reconcile.DocRef, error) {
	if q.funcs.Create != nil {
		return q.funcs.Create(ctx, q.next, typ, entity, requestID)
	}
	return q.next.Create(ctx, typ, entity, requestID)
}

func (q *qboClient) SparseUpdate(ctx context.Context, typ string, entity any, requestID string) (reconcile.DocRef, error) {
	if q.funcs.SparseUpdate != nil {
		return q.funcs.SparseUpdate(ctx, q.next, typ, entity, requestID)
	}
	return q.next.SparseUpdate(ctx, typ, entity, requestID)
}

func (q *qboClient) Void(ctx context.Context, typ, id, syncToken, requestID string) (reconcile.DocRef, error) {
	if q.funcs.Void != nil {
		return q.funcs.Void(ctx, q.next, typ, id, syncToken, requestID)
	}
	return q.next.Void(ctx, typ, id, syncToken, requestID)
}

func (q *qboClient) Get(ctx context.Context, typ, id string) (reconcile.DocRef, error) {
	if q.funcs.Get != nil {
		return q.funcs.Get(ctx, q.next, typ, id)
	}
	return q.next.Get(ctx, typ, id)
}

func (q *qboClient) FindByDocNumber(ctx context.Context, typ string, docNumbers []string) ([]reconcile.DocRef, error) {
	if q.funcs.FindByDocNumber != nil {
		return q.funcs.FindByDocNumber(ctx, q.next, typ, docNumbers)
	}
	return q.next.FindByDocNumber(ctx, typ, docNumbers)
}

func (q *qboClient) FindPayments(ctx context.Context, customerID string) ([]reconcile.DocRef, error) {
	if q.funcs.FindPayments != nil {
		return q.funcs.FindPayments(ctx, q.next, customerID)
	}
	return q.next.FindPayments(ctx, customerID)
}

func (q *qboClient) Batch(ctx context.Context, writes []reconcile.BatchWrite, requestID string) ([]reconcile.BatchOutcome, error) {
	if q.funcs.Batch != nil {
		return q.funcs.Batch(ctx, q.next, writes, requestID)
	}
	return q.next.Batch(ctx, writes, requestID)
}

func (q *qboClient) Company(ctx context.Context) (reconcile.Company, error) {
	if q.funcs.Company != nil {
		return q.funcs.Company(ctx, q.next)
	}
	return q.next.Company(ctx)
}

type qboClient struct {
	next  reconcile.QBO
	funcs QBOFuncs
}

// The optional QBO methods reconcile looks for.
type (
	batchPacer       interface{ BatchCapacity(max int) int }
	customerServicer interface {
		CustomerService() reconcile.CustomerWriter
	}
)

// NewQBO returns next with funcs intercepting its methods. The optional
// methods reconcile looks for (BatchCapacity, CustomerService) are passed
// through when next has them, so the wrapped QBO paces batches and
// creates customers as next does.
func NewQBO(next reconcile.QBO, funcs QBOFuncs) reconcile.QBO {
	q := &qboClient{next: next, funcs: funcs}
	bp, pacer := next.(batchPacer)
	cs, servicer := next.(customerServicer)
	switch {
	case pacer && servicer:
		return struct {
			*qboClient
			batchPacer
			customerServicer
		}{q, bp, cs}
	case pacer:
		return struct {
			*qboClient
			batchPacer
		}{q, bp}
	case servicer:
		return struct {
			*qboClient
			customerServicer
		}{q, cs}
	}
	return q
}
