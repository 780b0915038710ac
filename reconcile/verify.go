package reconcile

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// Drift kinds: how a document recorded in the ledger differs from QBO.
const (
	DriftDeleted         = "deleted_in_qbo"   // a person deleted it
	DriftVoided          = "voided_in_qbo"    // a person voided it; the ledger says sent
	DriftTotalChanged    = "total_changed"    // TotalAmt differs from the total recorded at send time
	DriftCustomerChanged = "customer_changed" // CustomerRef differs from the customer recorded at send time
	DriftSyncTokenMoved  = "sync_token_moved" // someone else saved it since our last write (not checked on invoices)
)

// Cursors of verify. CursorVerify is the start time (RFC 3339) of the last
// verify; CursorVerifyRecheck lists the documents ("Type:Id", space
// separated) that verify must read again even when CDC says they did not
// change: those with drift, and those skipped because a write to them was
// in flight.
const (
	CursorVerify        = "verify"
	CursorVerifyRecheck = "verify.recheck"
)

// Verify sizing. VerifyIDsPerQuery ids per `Id IN (...)` query and
// qbo.MaxBatchItems queries per batch request read 3000 documents per
// request. CDC answers at most cdcCap objects and looks back at most 30
// days; cdcOverlap re-reads a few minutes before the cursor so that clock
// skew between us and QBO loses nothing.
const (
	VerifyIDsPerQuery = 100
	cdcCap            = 1000
	cdcWindow         = 30*24*time.Hour - time.Hour
	cdcOverlap        = 5 * time.Minute
)

// verifyTypes are the QBO types the ledger records.
var verifyTypes = []string{TypeSalesReceipt, TypeInvoice, TypeRefundReceipt, TypePayment}

// IDQuery names documents of one QBO type by Id.
type IDQuery struct {
	Type string
	IDs  []string
}

// ChangedDoc is one document a CDC answer returned; Deleted documents carry
// only their type and Id.
type ChangedDoc struct {
	DocRef
	Deleted bool
}

// VerifyQBO is what verify reads from QBO; QBOClient implements it.
type VerifyQBO interface {
	// FindByIDs reads, in one request, the documents named by up to
	// qbo.MaxBatchItems queries of up to VerifyIDsPerQuery ids each. A
	// document that does not exist, or was deleted, is absent.
	FindByIDs(ctx context.Context, qs []IDQuery) ([]DocRef, error)
	// ChangedSince returns the documents of the given types changed since
	// t, in one CDC request (QBO caps the answer at 1000 objects and t at
	// 30 days back).
	ChangedSince(ctx context.Context, types []string, since time.Time) ([]ChangedDoc, error)
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Full reads every recorded document back even when CDC could be used.
	Full bool
	// QBO overrides the reader; nil means r.QBO, which must implement
	// VerifyQBO.
	QBO VerifyQBO
}

// Drift is one recorded document that differs from QBO. Drift is the most
// serious kind found (deleted, voided, total, customer, SyncToken, in that
// order); Detail says everything that differs.
type Drift struct {
	Kind        string `json:"kind"`
	SourceID    string `json:"source_id"`
	OrderNumber string `json:"order_number"`
	QBOType     string `json:"qbo_type"`
	QBOID       string `json:"qbo_id"`
	DocNumber   string `json:"doc_number"`
	Drift       string `json:"drift"`
	// Detail says what differs, with the fix rendered by the Reconciler's
	// FixText when there is one (a deleted document: resync).
	Detail string `json:"detail"`
	// Fix is the fix as data; zero when the drift is only reported.
	Fix Fix `json:"fix,omitzero"`
}

// DriftReport is the result of one verify.
type DriftReport struct {
	// Mode is "full" (every document read by Id) or "cdc" (only the
	// documents QBO says changed since Since, plus the recheck list).
	Mode       string    `json:"mode"`
	Since      time.Time `json:"since,omitzero"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Checked counts the recorded documents covered; Read those whose QBO
	// copy was actually compared.
	Checked int `json:"checked"`
	Read    int `json:"read"`
	// Requests counts the QBO requests made (batches and CDC calls).
	Requests int     `json:"requests"`
	Drift    []Drift `json:"drift"`
}

// Clean reports whether no drift was found.
func (rep *DriftReport) Clean() bool { return len(rep.Drift) == 0 }

type cursorSetter interface {
	SetCursor(ctx context.Context, name, value string) error
}

// docKey is "Type:Id".
func docKey(typ, id string) string { return typ + ":" + id }

// Verify reads every recorded document back from QBO and reports drift: a
// document deleted, voided, or edited (total, customer, SyncToken) by
// someone else. It never writes to QBO. A document found deleted is marked
// schema.StateDeletedInQBO in the ledger, so runs report it and `resync`
// can re-create it; other drift is only reported (and re-read by the next
// verify until it is resolved).
//
// When the last verify started less than 30 days ago (and not opts.Full),
// it asks CDC what changed since then and reads only those, falling back to
// reading everything when CDC answers its cap of 1000 objects. Otherwise it
// reads documents by Id, 3000 per batch request.
//
// Rows voided by us, or with a write in flight, are not checked. The error
// wraps ErrQBOAuth when QBO refuses the connection; the report so far is
// returned with any error.
func (r *Reconciler) Verify(ctx context.Context, opts VerifyOptions) (*DriftReport, error) {
	rd := opts.QBO
	if rd == nil {
		v, ok := r.QBO.(VerifyQBO)
		if !ok {
			return nil, fmt.Errorf("verify: %T cannot read documents by id", r.QBO)
		}
		rd = v
	}
	v := &verifier{r: r, rd: rd, log: r.log(),
		rep: &DriftReport{Mode: "full", StartedAt: r.now(), Drift: []Drift{}}, recheck: map[string]bool{}}
	err := v.run(ctx, opts)
	v.rep.FinishedAt = r.now()
	slices.SortStableFunc(v.rep.Drift, func(a, b Drift) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.SourceID, b.SourceID))
	})
	if err != nil {
		return v.rep, fmt.Errorf("verify: %w", r.qboFatal(err))
	}
	v.log.WithFields(logrus.Fields{"mode": v.rep.Mode, "checked": v.rep.Checked, "read": v.rep.Read,
		"requests": v.rep.Requests, "drift": len(v.rep.Drift)}).Info("verify finished")
	return v.rep, nil
}

type verifier struct {
	r   *Reconciler
	rd  VerifyQBO
	log logrus.FieldLogger
	rep *DriftReport
	// recheck collects the documents the next verify must read again.
	recheck map[string]bool
}

func (v *verifier) run(ctx context.Context, opts VerifyOptions) error {
	last, prevRecheck := v.cursors(ctx)
	since := last.Add(-cdcOverlap)
	if !opts.Full && !last.IsZero() && v.rep.StartedAt.Sub(since) < cdcWindow {
		done, err := v.viaCDC(ctx, since, prevRecheck)
		if err != nil || done {
			return err
		}
		v.log.WithField("since", since).Info("verify: CDC answered its cap; reading every document")
		v.rep.Mode, v.rep.Since = "full", time.Time{}
		v.rep.Checked, v.rep.Read, v.rep.Drift = 0, 0, []Drift{}
		clear(v.recheck)
	}
	if err := v.full(ctx); err != nil {
		return err
	}
	return v.saveCursors(ctx)
}

func (v *verifier) cursors(ctx context.Context) (time.Time, []string) {
	var last time.Time
	if s, err := v.r.Store.GetCursor(ctx, CursorVerify); err == nil {
		last, _ = time.Parse(time.RFC3339Nano, s)
	}
	var recheck []string
	if s, err := v.r.Store.GetCursor(ctx, CursorVerifyRecheck); err == nil {
		recheck = strings.Fields(s)
	}
	return last, recheck
}

// saveCursors records the start time, the recheck list and the drift. The start time,
// not the end: what changed while verify read is in the next CDC answer.
func (v *verifier) saveCursors(ctx context.Context) error {
	cs, ok := v.r.Store.(cursorSetter)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(v.recheck))
	for k := range v.recheck {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if err := cs.SetCursor(ctx, CursorVerifyRecheck, strings.Join(keys, " ")); err != nil {
		return err
	}
	// The drift the ledger does not record is kept until the next verify
	// (which reads those documents again: they are on the recheck list),
	// so the console can list it without asking QBO.
	var kept []Drift
	for _, d := range v.rep.Drift {
		if d.Drift != DriftDeleted {
			kept = append(kept, d)
		}
	}
	slices.SortStableFunc(kept, func(a, b Drift) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.SourceID, b.SourceID))
	})
	drift := ""
	if len(kept) > 0 {
		b, err := json.Marshal(kept)
		if err != nil {
			return err
		}
		drift = string(b)
	}
	if err := cs.SetCursor(ctx, CursorVerifyDrift, drift); err != nil {
		return err
	}
	return cs.SetCursor(ctx, CursorVerify, v.rep.StartedAt.UTC().Format(time.RFC3339Nano))
}

// inScope reports whether a ledger row is compared with QBO. Rows with a
// write in flight are remembered for the next verify.
func (v *verifier) inScope(d schema.Document) bool {
	if d.State == schema.StateVoided || !isVerifyType(d.QBOType) {
		return false
	}
	if d.HasPendingIntent() {
		v.recheck[docKey(d.QBOType, d.QBOID)] = true
		return false
	}
	return true
}

func isVerifyType(t string) bool { return slices.Contains(verifyTypes, t) }

// full reads every recorded document by Id: rows are buffered per type into
// queries of VerifyIDsPerQuery ids, and every qbo.MaxBatchItems queries go
// out as one batch request.
func (v *verifier) full(ctx context.Context) error {
	var rows []schema.Document
	var queries []IDQuery
	buf := map[string][]string{}
	flush := func() error {
		if len(queries) == 0 {
			return nil
		}
		found, err := v.fetch(ctx, queries)
		if err != nil {
			return err
		}
		for _, d := range rows {
			doc, ok := found[docKey(d.QBOType, d.QBOID)]
			if err := v.check(ctx, d, doc, !ok); err != nil {
				return err
			}
		}
		rows, queries = rows[:0], queries[:0]
		return nil
	}
	// rows are checked once their query has been sent: a row whose type
	// buffer is still filling waits in pending.
	pending := map[string][]schema.Document{}
	err := v.r.Store.EachDocument(ctx, schema.DocumentFilter{InQBO: true}, func(d schema.Document) error {
		if !v.inScope(d) {
			return nil
		}
		v.rep.Checked++
		buf[d.QBOType] = append(buf[d.QBOType], d.QBOID)
		pending[d.QBOType] = append(pending[d.QBOType], d)
		if len(buf[d.QBOType]) < VerifyIDsPerQuery {
			return nil
		}
		queries = append(queries, IDQuery{Type: d.QBOType, IDs: buf[d.QBOType]})
		rows = append(rows, pending[d.QBOType]...)
		buf[d.QBOType], pending[d.QBOType] = nil, nil
		if len(queries) < qbo.MaxBatchItems {
			return nil
		}
		return flush()
	})
	if err != nil {
		return err
	}
	for _, t := range verifyTypes {
		if len(buf[t]) == 0 {
			continue
		}
		if len(queries) == qbo.MaxBatchItems {
			if err := flush(); err != nil {
				return err
			}
		}
		queries = append(queries, IDQuery{Type: t, IDs: buf[t]})
		rows = append(rows, pending[t]...)
	}
	return flush()
}

// idRequests splits ids (by type, taken in the order of types) into
// `Id IN (...)` queries of up to VerifyIDsPerQuery ids, and yields them in
// groups of up to qbo.MaxBatchItems: one FindByIDs request each.
func idRequests(types []string, ids map[string][]string) iter.Seq[[]IDQuery] {
	return func(yield func([]IDQuery) bool) {
		var qs []IDQuery
		for _, t := range types {
			for chunk := range slices.Chunk(ids[t], VerifyIDsPerQuery) {
				qs = append(qs, IDQuery{Type: t, IDs: chunk})
			}
		}
		for group := range slices.Chunk(qs, qbo.MaxBatchItems) {
			if !yield(group) {
				return
			}
		}
	}
}

// fetch sends one batch of id queries and indexes the answer by "Type:Id".
func (v *verifier) fetch(ctx context.Context, qs []IDQuery) (map[string]DocRef, error) {
	v.rep.Requests++
	docs, err := v.rd.FindByIDs(ctx, qs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]DocRef, len(docs))
	for _, d := range docs {
		out[docKey(d.Type, d.ID)] = d
	}
	return out, nil
}

// viaCDC checks only the documents CDC reports changed since the cursor,
// plus the recheck list of the last verify (read by Id). It returns false,
// having changed nothing, when CDC answered its cap.
func (v *verifier) viaCDC(ctx context.Context, since time.Time, prevRecheck []string) (bool, error) {
	v.rep.Requests++
	changed, err := v.rd.ChangedSince(ctx, verifyTypes, since)
	if err != nil {
		return false, err
	}
	if len(changed) >= cdcCap {
		return false, nil
	}
	v.rep.Mode, v.rep.Since = "cdc", since
	type seen struct {
		doc     DocRef
		deleted bool
	}
	looked := map[string]seen{}
	for _, c := range changed {
		looked[docKey(c.Type, c.ID)] = seen{doc: c.DocRef, deleted: c.Deleted}
	}
	// The recheck list, minus what CDC already returned, read by Id: absent
	// from the answer means deleted.
	byType := map[string][]string{}
	for _, k := range prevRecheck {
		typ, id, ok := strings.Cut(k, ":")
		if !ok || !isVerifyType(typ) || id == "" {
			continue
		}
		if _, ok := looked[k]; !ok {
			byType[typ] = append(byType[typ], id)
		}
	}
	for qs := range idRequests(verifyTypes, byType) {
		found, err := v.fetch(ctx, qs)
		if err != nil {
			return false, err
		}
		for _, q := range qs {
			for _, id := range q.IDs {
				k := docKey(q.Type, id)
				d, ok := found[k]
				looked[k] = seen{doc: d, deleted: !ok}
			}
		}
	}

	err = v.r.Store.EachDocument(ctx, schema.DocumentFilter{InQBO: true}, func(d schema.Document) error {
		if !v.inScope(d) {
			return nil
		}
		v.rep.Checked++
		s, ok := looked[docKey(d.QBOType, d.QBOID)]
		if !ok {
			return nil // unchanged since the last verify
		}
		return v.check(ctx, d, s.doc, s.deleted)
	})
	if err != nil {
		return false, err
	}
	return true, v.saveCursors(ctx)
}

// check compares one ledger row with its QBO document, records the drift,
// and marks a deleted document in the ledger.
func (v *verifier) check(ctx context.Context, d schema.Document, doc DocRef, deleted bool) error {
	v.rep.Read++
	dr := Drift{Kind: d.Kind, SourceID: d.SourceID, OrderNumber: d.OrderNumber, QBOType: d.QBOType,
		QBOID: d.QBOID, DocNumber: d.DocNumber}
	switch {
	case deleted:
		dr.Drift = DriftDeleted
		why := DeletedInQBO(d.OrderNumber)
		why.Text = fmt.Sprintf("%s %s was deleted in QBO", d.QBOType, d.QBOID)
		dr.Detail, dr.Fix = v.r.text(Reasons{why}), why.Fix
	case doc.Voided:
		dr.Drift = DriftVoided
		dr.Detail = fmt.Sprintf("%s %s was voided in QBO by someone else", d.QBOType, d.QBOID)
	default:
		kinds, details := compareDoc(d, doc)
		if len(kinds) == 0 {
			return nil
		}
		dr.Drift, dr.Detail = kinds[0], strings.Join(details, "; ")
	}
	v.rep.Drift = append(v.rep.Drift, dr)
	v.log.WithFields(logrus.Fields{"item": d.Key().String(), "order": d.OrderNumber, "qbo_type": d.QBOType,
		"qbo_id": d.QBOID, "drift": dr.Drift}).Warn("verify: " + dr.Detail)
	if dr.Drift != DriftDeleted {
		v.recheck[docKey(d.QBOType, d.QBOID)] = true
		return nil
	}
	// Only the ledger changes: QBO is never written to by verify.
	if err := v.r.Store.SetState(ctx, d.Key(), schema.StateDeletedInQBO); err != nil && !errors.Is(err, schema.ErrNotFound) {
		return err
	}
	return nil
}

// compareDoc lists what differs between a ledger row and a live document,
// most serious first. The total and customer are compared only when the
// row recorded them at send time.
func compareDoc(d schema.Document, doc DocRef) (kinds, details []string) {
	if want := d.SentTotal; want.Valid && !want.Decimal.Equal(doc.TotalAmt) {
		kinds = append(kinds, DriftTotalChanged)
		details = append(details, fmt.Sprintf("total %s in QBO; %s was sent", doc.TotalAmt.StringFixed(2), want.Decimal.StringFixed(2)))
	}
	if want := d.SentCustomerID; want != "" && want != doc.CustomerID {
		kinds = append(kinds, DriftCustomerChanged)
		details = append(details, fmt.Sprintf("customer %s in QBO; %s was sent", doc.CustomerID, want))
	}
	// A payment applied to an Invoice (ours, or one the bookkeeper
	// records) changes its Balance and so its SyncToken: for invoices only
	// the total and the customer tell an edit.
	if d.SyncToken != "" && doc.SyncToken != d.SyncToken && d.QBOType != TypeInvoice {
		kinds = append(kinds, DriftSyncTokenMoved)
		details = append(details, fmt.Sprintf("SyncToken %s in QBO; %s was recorded (edited by someone else)", doc.SyncToken, d.SyncToken))
	}
	return kinds, details
}

// recordSent adds to a confirmed create or update's outcome the TotalAmt
// and CustomerRef QBO answered, so that verify can tell a later edit by
// someone else. Rows without them skip those checks.
func recordSent(o schema.DocumentOutcome, doc DocRef) schema.DocumentOutcome {
	if doc.ID != "" {
		o.SentTotal, o.SentCustomerID = new(doc.TotalAmt), new(doc.CustomerID)
	}
	return o
}

// FindByIDs sends one batch of `SELECT * FROM <Type> WHERE Id IN (...)`
// queries. Its request id is random: a read must never be answered from
// QBO's replay cache.
func (q QBOClient) FindByIDs(ctx context.Context, qs []IDQuery) ([]DocRef, error) {
	if len(qs) == 0 {
		return nil, nil
	}
	items := make([]qbo.BatchItem, len(qs))
	for i, iq := range qs {
		quoted := make([]string, len(iq.IDs))
		for j, id := range iq.IDs {
			quoted[j] = qbo.QueryString(id)
		}
		items[i] = qbo.BatchItem{BID: fmt.Sprintf("q%d", i),
			Query: fmt.Sprintf("SELECT * FROM %s WHERE Id IN (%s) MAXRESULTS 1000", iq.Type, strings.Join(quoted, ", "))}
	}
	res, _, err := q.C.Batch(ctx, items, qboOpts("vqv"+rand.Text()))
	if err != nil {
		return nil, fmt.Errorf("read documents by id: %w", err)
	}
	var out []DocRef
	for _, r := range res {
		var i int
		if _, err := fmt.Sscanf(r.BID, "q%d", &i); err != nil || i < 0 || i >= len(qs) {
			return nil, fmt.Errorf("read documents by id: unexpected batch item %q", r.BID)
		}
		if r.Err != nil {
			return nil, fmt.Errorf("read %s by id: %w", qs[i].Type, r.Err)
		}
		docs, err := decodeQueryRefs(qs[i].Type, r.QueryResponse)
		if err != nil {
			return nil, fmt.Errorf("read %s by id: %w", qs[i].Type, err)
		}
		out = append(out, docs...)
	}
	return out, nil
}

// decodeQueryRefs decodes a QueryResponse object ({"Invoice": [...], ...}).
func decodeQueryRefs(typ string, raw json.RawMessage) ([]DocRef, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	list, ok := m[typ]
	if !ok {
		return nil, nil
	}
	switch typ {
	case TypeSalesReceipt:
		return decodeRefs[qbo.SalesReceipt](list)
	case TypeInvoice:
		return decodeRefs[qbo.Invoice](list)
	case TypeRefundReceipt:
		return decodeRefs[qbo.RefundReceipt](list)
	case TypePayment:
		return decodeRefs[qbo.Payment](list)
	}
	return nil, fmt.Errorf("unsupported type %s", typ)
}

func decodeRefs[T any](raw json.RawMessage) ([]DocRef, error) {
	var vs []T
	if err := json.Unmarshal(raw, &vs); err != nil {
		return nil, err
	}
	out := make([]DocRef, len(vs))
	for i := range vs {
		out[i] = docRef(&vs[i])
	}
	return out, nil
}

// ChangedSince asks CDC for the documents of types changed since t.
func (q QBOClient) ChangedSince(ctx context.Context, types []string, since time.Time) ([]ChangedDoc, error) {
	res, _, err := q.C.CDC(ctx, types, since)
	if err != nil {
		return nil, fmt.Errorf("changes since %s: %w", since.Format(time.RFC3339), err)
	}
	var out []ChangedDoc
	add := func(d DocRef, status string) {
		out = append(out, ChangedDoc{DocRef: d, Deleted: status == qbo.StatusDeleted})
	}
	for i := range res.SalesReceipts {
		add(docRef(&res.SalesReceipts[i]), res.SalesReceipts[i].Status)
	}
	for i := range res.Invoices {
		add(docRef(&res.Invoices[i]), res.Invoices[i].Status)
	}
	for i := range res.RefundReceipts {
		add(docRef(&res.RefundReceipts[i]), res.RefundReceipts[i].Status)
	}
	for i := range res.Payments {
		add(docRef(&res.Payments[i]), res.Payments[i].Status)
	}
	return out, nil
}
