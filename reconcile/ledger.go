package reconcile

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// LedgerQBO is what rebuilding and checking the ledger read from QBO;
// QBOClient implements it.
type LedgerQBO interface {
	// DatedSince returns every document of type typ whose TxnDate is on or
	// after since (every one when since is zero), paged 1000 at a time.
	// QBO cannot filter on PrivateNote: the caller looks for markers.
	DatedSince(ctx context.Context, typ string, since time.Time) ([]DocRef, error)
	// Newest returns the n documents of type typ created last.
	Newest(ctx context.Context, typ string, n int) ([]DocRef, error)
}

// DatedSince queries `SELECT * FROM <typ> [WHERE TxnDate >= 'date']`.
func (q QBOClient) DatedSince(ctx context.Context, typ string, since time.Time) ([]DocRef, error) {
	clause := ""
	if !since.IsZero() {
		clause = "WHERE TxnDate >= " + qbo.QueryString(since.Format(time.DateOnly))
	}
	return q.queryType(ctx, typ, clause)
}

// Newest queries `SELECT * FROM <typ> ORDERBY MetaData.CreateTime DESC`,
// one page of n.
func (q QBOClient) Newest(ctx context.Context, typ string, n int) ([]DocRef, error) {
	clause := "ORDERBY MetaData.CreateTime DESC"
	page := qbo.Page{StartPosition: 1, MaxResults: n}
	var out []DocRef
	var err error
	switch typ {
	case TypeSalesReceipt:
		out, err = pageRefs(q.C.SalesReceipts.Query(ctx, clause, page))
	case TypeInvoice:
		out, err = pageRefs(q.C.Invoices.Query(ctx, clause, page))
	case TypeRefundReceipt:
		out, err = pageRefs(q.C.RefundReceipts.Query(ctx, clause, page))
	case TypePayment:
		out, err = pageRefs(q.C.Payments.Query(ctx, clause, page))
	default:
		return nil, fmt.Errorf("newest %s: unsupported type", typ)
	}
	return out, err
}

func pageRefs[T any](vs []T, _ *qbo.Response, err error) ([]DocRef, error) {
	if err != nil {
		return nil, err
	}
	out := make([]DocRef, len(vs))
	for i := range vs {
		out[i] = docRef(&vs[i])
	}
	return out, nil
}

func (q QBOClient) queryType(ctx context.Context, typ, clause string) ([]DocRef, error) {
	switch typ {
	case TypeSalesReceipt:
		return queryRefs(ctx, q.C.SalesReceipts.All(ctx, clause))
	case TypeInvoice:
		return queryRefs(ctx, q.C.Invoices.All(ctx, clause))
	case TypeRefundReceipt:
		return queryRefs(ctx, q.C.RefundReceipts.All(ctx, clause))
	case TypePayment:
		return queryRefs(ctx, q.C.Payments.All(ctx, clause))
	}
	return nil, fmt.Errorf("query %s: unsupported type", typ)
}

// RebuildReport is what RebuildLedger did.
type RebuildReport struct {
	// Read counts the QBO documents read, Marked those carrying a velqbo
	// marker.
	Read   int `json:"read"`
	Marked int `json:"marked"`
	// Recorded counts the ledger rows written; Known those the ledger
	// already held with the same document.
	Recorded int `json:"recorded"`
	Known    int `json:"known"`
	// Skipped lists the objects left as they are: the ledger holds another
	// document for them, or a write of theirs has an unknown outcome.
	Skipped []string `json:"skipped,omitempty"`
}

// ErrNoLedgerQBO is returned by RebuildLedger and CheckLedger when r.QBO
// cannot list documents (it does not implement LedgerQBO).
var ErrNoLedgerQBO = errors.New("this QBO connection cannot list documents")

// refundNumberRE splits a refund's DocNumber (RefundDocNumber).
var refundNumberRE = regexp.MustCompile(`^RF-(.+?)(?:-(\d+))?$`)

// RebuildLedger records in the ledger the documents velqbo made that QBO
// holds (SalesReceipt, Invoice, RefundReceipt, Payment dated on or after
// since; all when zero), read by TxnDate and recognised by their
// PrivateNote marker, so that a new or restored ledger is back in step
// without a single write to QBO. Each is recorded with its Id, SyncToken,
// marker generation and the payload digest its PrivateNote carries, which
// the next run compares with the desired payload: a document that is as
// desired is left alone. Of several documents of one object, a live one
// wins over a voided one, then the later generation; an order with a live
// Invoice and a live SalesReceipt keeps the Invoice and voids the receipt
// next run, as a report-as-invoice cut short would.
//
// Rows the ledger already holds with a QBO document are never changed.
// Settings and links are not in QBO and are not rebuilt. It returns an
// error wrapping ErrQBOAuth when QBO refuses the connection.
func (r *Reconciler) RebuildLedger(ctx context.Context, since time.Time) (*RebuildReport, error) {
	lq, ok := r.QBO.(LedgerQBO)
	if !ok {
		return nil, ErrNoLedgerQBO
	}
	rep := &RebuildReport{}
	type pick struct {
		doc     DocRef
		gen     int
		receipt string // a live SalesReceipt of the same order, to void
	}
	picks := map[schema.DocumentKey]*pick{}
	invoiceNumbers := map[string]string{} // Invoice Id -> DocNumber
	var keys []schema.DocumentKey
	for _, typ := range verifyTypes {
		docs, err := lq.DatedSince(ctx, typ, since)
		if err != nil {
			return nil, fmt.Errorf("ledger rebuild: read %s: %w", typ, r.qboFatal(err))
		}
		rep.Read += len(docs)
		for _, doc := range docs {
			if typ == TypeInvoice {
				invoiceNumbers[doc.ID] = doc.DocNumber
			}
			ms := markersIn(doc.PrivateNote)
			if len(ms) == 0 {
				continue
			}
			rep.Marked++
			m := ms[len(ms)-1]
			k := m.Kind.key(m.SourceID)
			p := picks[k]
			if p == nil {
				picks[k] = &pick{doc: doc, gen: m.Generation}
				keys = append(keys, k)
				continue
			}
			better := (p.doc.Voided && !doc.Voided) || (p.doc.Voided == doc.Voided && m.Generation > p.gen)
			if !doc.Voided && !p.doc.Voided && m.Generation == p.gen && p.doc.Type != doc.Type {
				// Report as invoice cut short: keep the Invoice.
				inv, sr := doc, p.doc
				if doc.Type == TypeSalesReceipt {
					inv, sr = p.doc, doc
				}
				picks[k] = &pick{doc: inv, gen: m.Generation, receipt: sr.ID}
				continue
			}
			if better {
				picks[k] = &pick{doc: doc, gen: m.Generation}
			}
		}
	}
	byKind := map[string][]string{}
	for _, k := range keys {
		byKind[k.Kind] = append(byKind[k.Kind], k.SourceID)
	}
	rows := map[schema.DocumentKey]schema.Document{}
	for kind, ids := range byKind {
		got, err := r.Store.DocumentsBySource(ctx, kind, ids)
		if err != nil {
			return nil, fmt.Errorf("ledger rebuild: %w", err)
		}
		for _, d := range got {
			rows[d.Key()] = d
		}
	}
	orderNumbers := map[string]bool{}
	for _, k := range keys {
		if p := picks[k]; k.Kind == string(KindOrder) {
			orderNumbers[p.doc.DocNumber] = true
		}
	}
	for _, k := range keys {
		p := picks[k]
		row, known := rows[k]
		switch {
		case known && row.QBOID == p.doc.ID:
			rep.Known++
			continue
		case known && row.HasPendingIntent():
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: a write has an unknown outcome; the next run looks it up", k))
			continue
		case known && row.QBOID != "":
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: the ledger holds %s %s, QBO also %s %s", k, row.QBOType, row.QBOID, p.doc.Type, p.doc.ID))
			continue
		case known && (row.Generation > p.gen || row.PreviousQBOID == p.doc.ID):
			// A resync asked for a new document in place of this one:
			// recording the old one would silently undo the resync.
			rep.Known++
			continue
		}
		fp := fpUnknown
		if d := noteFingerprint(p.doc.PrivateNote); d != "" {
			fp = digestPrefix + d
		}
		o := schema.DocumentOutcome{Key: k, State: schema.StateSent, QBOType: p.doc.Type, QBOID: p.doc.ID,
			SyncToken: p.doc.SyncToken, DocNumber: p.doc.DocNumber, Fingerprint: fp, RequestAttempt: new(0),
			NotApplicable: new(false), Generation: new(p.gen),
			OrderNumber: orderNumberOf(k, p.doc, invoiceNumbers, orderNumbers),
			Audit:       &schema.AuditEntry{Entity: p.doc.Type, Operation: "rebuild", Outcome: "found_by_rebuild", QBOID: p.doc.ID}}
		if p.doc.Voided {
			o.State = schema.StateVoided
		}
		if p.receipt != "" {
			o.VoidReceiptID = new(p.receipt)
		}
		if known {
			o.RequestID = row.PendingRequestID
		}
		if err := r.Store.RecordOutcome(ctx, recordSent(o, p.doc)); err != nil {
			return nil, fmt.Errorf("ledger rebuild: %w", err)
		}
		rep.Recorded++
	}
	return rep, nil
}

// orderNumberOf derives the order number of a found document: an order
// document's DocNumber, a refund's DocNumber without RF- (and -n), the
// DocNumber of the Invoice a payment pays.
func orderNumberOf(k schema.DocumentKey, doc DocRef, invoiceNumbers map[string]string, orders map[string]bool) string {
	switch Kind(k.Kind) {
	case KindOrder:
		return doc.DocNumber
	case KindPayment:
		for _, id := range doc.LinkedInvoices {
			if n := invoiceNumbers[id]; n != "" {
				return n
			}
		}
	case KindRefund:
		if m := refundNumberRE.FindStringSubmatch(doc.DocNumber); m != nil {
			whole := strings.TrimPrefix(doc.DocNumber, "RF-")
			if orders[whole] || m[2] == "" {
				return whole
			}
			return m[1]
		}
	}
	return ""
}

// LedgerLag is what CheckLedger found among QBO's newest documents.
type LedgerLag struct {
	// Checked counts the newest documents read that carry a velqbo marker;
	// Unknown those of them the ledger does not hold.
	Checked int `json:"checked"`
	Unknown int `json:"unknown"`
	// Examples name a few of the unknown ones.
	Examples []QBODoc `json:"examples,omitempty"`
}

// Behind reports whether the ledger looks younger than QBO's data.
func (l *LedgerLag) Behind() bool { return l != nil && l.Unknown > 0 }

// CheckLedger reads the n newest documents of each type velqbo writes
// (one query each) and counts those carrying a velqbo marker that the
// ledger does not hold: the sign of a ledger restored from an old backup,
// lost, or new. It never writes.
func (r *Reconciler) CheckLedger(ctx context.Context, n int) (*LedgerLag, error) {
	lq, ok := r.QBO.(LedgerQBO)
	if !ok {
		return nil, ErrNoLedgerQBO
	}
	lag := &LedgerLag{}
	for _, typ := range verifyTypes {
		docs, err := lq.Newest(ctx, typ, n)
		if err != nil {
			return nil, fmt.Errorf("check ledger: read %s: %w", typ, r.qboFatal(err))
		}
		for _, doc := range docs {
			ms := markersIn(doc.PrivateNote)
			if len(ms) == 0 {
				continue
			}
			lag.Checked++
			m := ms[len(ms)-1]
			rows, err := r.Store.DocumentsBySource(ctx, string(m.Kind), []string{m.SourceID})
			if err != nil {
				return nil, fmt.Errorf("check ledger: %w", err)
			}
			row, ok := rows[m.SourceID]
			if ok && (row.QBOID == doc.ID || row.PreviousQBOID == doc.ID || row.VoidReceiptID == doc.ID ||
				row.HasPendingIntent() || row.Generation > m.Generation) {
				continue
			}
			if ok && doc.Voided && row.QBOID != "" {
				continue // a receipt an Invoice replaced, voided
			}
			lag.Unknown++
			if len(lag.Examples) < 3 {
				lag.Examples = append(lag.Examples, QBODoc{Type: doc.Type, ID: doc.ID, DocNumber: doc.DocNumber})
			}
		}
	}
	return lag, nil
}
