package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// AdoptOptions say which objects blocked with exists_in_qbo_unmarked
// Adopt takes over.
type AdoptOptions struct {
	// OrderNumbers are taken over whatever the QBO documents hold.
	OrderNumbers []string
	// Matching takes over every blocked object whose QBO document has the
	// desired customer and total, to the cent, and lists the others.
	Matching bool
}

// Adoption is what Adopt did with one object.
type Adoption struct {
	Kind        Kind   `json:"kind"`
	SourceID    string `json:"source_id"`
	OrderNumber string `json:"order_number"`
	QBOType     string `json:"qbo_type"`
	QBOID       string `json:"qbo_id"`
	DocNumber   string `json:"doc_number"`
	Adopted     bool   `json:"adopted"`
	// Differences lists how the QBO document differs from the desired
	// one (customer, total); Why says why it was not adopted.
	Differences []string `json:"differences,omitempty"`
	Why         string   `json:"why,omitempty"`
}

// Adopt records in the ledger the QBO documents that blocked their objects
// because velqbo did not make them (exists_in_qbo_unmarked), instead of
// creating others: each is read again from QBO, compared with the desired
// document (customer and total), and recorded with the desired payload's
// fingerprint, so the next run leaves it as it is and later changes of the
// order update it. It never writes to QBO: the document keeps its own
// PrivateNote until velqbo next updates it.
//
// It returns one Adoption per object considered; an order number with no
// such object gets one with Why set. The error is a ledger failure, or
// wraps ErrQBOAuth when QBO refuses the connection (Velocity or QBO
// failing for one object is that object's Why).
func (r *Reconciler) Adopt(ctx context.Context, opts AdoptOptions) ([]Adoption, error) {
	want := map[string]bool{}
	for _, n := range opts.OrderNumbers {
		want[n] = true
	}
	type cand struct {
		row schema.Document
		doc QBODoc
	}
	var cands []cand
	f := schema.DocumentFilter{States: []schema.State{schema.StateBlocked}}
	err := r.Store.EachDocument(ctx, f, func(d schema.Document) error {
		if d.QBOID != "" || (len(want) > 0 && !want[d.OrderNumber]) {
			return nil
		}
		rs, _ := DecodeReasons(d.LastReasons)
		for _, x := range rs {
			if x.Code == CodeExistsInQBOUnmarked && x.QBODoc.ID != "" {
				cands = append(cands, cand{d, x.QBODoc})
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("adopt: %w", err)
	}
	var out []Adoption
	seen := map[string]bool{}
	for _, c := range cands {
		seen[c.row.OrderNumber] = true
	}
	for _, n := range opts.OrderNumbers {
		if !seen[n] {
			out = append(out, Adoption{OrderNumber: n,
				Why: "nothing to adopt: no document of this order is blocked as already in QBO (a run finds them)"})
		}
	}
	if len(cands) == 0 {
		return out, nil
	}
	rows := make([]schema.Document, len(cands))
	for i, c := range cands {
		rows[i] = c.row
	}
	desired, err := r.desiredOf(ctx, rows)
	if err != nil {
		return out, err
	}
	for _, c := range cands {
		a := Adoption{Kind: Kind(c.row.Kind), SourceID: c.row.SourceID, OrderNumber: c.row.OrderNumber,
			QBOType: c.doc.Type, QBOID: c.doc.ID, DocNumber: c.doc.DocNumber}
		wd := desired[c.row.Key()]
		doc, err := r.QBO.Get(ctx, c.doc.Type, c.doc.ID)
		switch {
		case qbo.IsAuth(err):
			return out, r.qboFatal(err)
		case qbo.IsNotFound(err):
			a.Why = "no longer in QBO: the next run creates it"
		case err != nil:
			a.Why = "could not read it from QBO: " + err.Error()
		case doc.Voided:
			a.Why = "voided in QBO: the next run creates a new one"
		case len(markersIn(doc.PrivateNote)) > 0:
			a.Why = "made by velqbo for another object (" + doc.PrivateNote + "); it is not this one's to take"
		case wd == nil:
			a.Why = "the order cannot be mapped now (see `velqbo status`); nothing recorded"
		}
		if a.Why == "" {
			a.Differences = differences(doc, wd, r.sourceName())
			if opts.Matching && !slices.Contains(opts.OrderNumbers, c.row.OrderNumber) && len(a.Differences) > 0 {
				a.Why = strings.Join(a.Differences, "; ")
			}
		}
		if a.Why == "" {
			o := schema.DocumentOutcome{Key: c.row.Key(), State: schema.StateSent, OrderNumber: c.row.OrderNumber,
				QBOType: c.doc.Type, QBOID: doc.ID, SyncToken: doc.SyncToken, DocNumber: cmp.Or(doc.DocNumber, c.row.DocNumber),
				Fingerprint: wd.Fingerprint, RequestAttempt: new(0), NotApplicable: new(false),
				Audit: &schema.AuditEntry{Entity: c.doc.Type, Operation: "adopt", Outcome: "adopted", QBOID: doc.ID,
					Detail: strings.Join(a.Differences, "; ")}}
			if err := r.Store.RecordOutcome(ctx, recordSent(o, doc)); err != nil {
				return out, fmt.Errorf("adopt: %w", err)
			}
			a.Adopted = true
		}
		out = append(out, a)
	}
	slices.SortStableFunc(out, func(x, y Adoption) int {
		return cmp.Or(cmp.Compare(x.OrderNumber, y.OrderNumber), cmp.Compare(kindRank(x.Kind), kindRank(y.Kind)))
	})
	return out, nil
}

// differences says how doc differs from the desired document in customer
// and total.
func differences(doc DocRef, want *Desired, source string) []string {
	var out []string
	if cust := desiredCustomer(want.Entity); cust != "" && cust != doc.CustomerID {
		out = append(out, fmt.Sprintf("customer %s in QBO, %s wanted", doc.CustomerID, cust))
	}
	if !doc.TotalAmt.Equal(want.Total) {
		out = append(out, fmt.Sprintf("total %s in QBO, %s in %s", doc.TotalAmt.StringFixed(2), want.Total.StringFixed(2), source))
	}
	return out
}

func desiredCustomer(e any) string {
	switch v := e.(type) {
	case *qbo.SalesReceipt:
		return qboRefID(v.CustomerRef)
	case *qbo.Invoice:
		return qboRefID(v.CustomerRef)
	case *qbo.RefundReceipt:
		return qboRefID(v.CustomerRef)
	case *qbo.Payment:
		return qboRefID(v.CustomerRef)
	}
	return ""
}

// desiredOf maps the orders of rows as a run would (settings, links,
// cached company facts) and returns the desired document of each row by
// key; a row whose order cannot be read or mapped is absent.
func (r *Reconciler) desiredOf(ctx context.Context, rows []schema.Document) (map[schema.DocumentKey]*Desired, error) {
	pc, err := r.loadPlanCtx(ctx, Options{Mode: ModeFull})
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, d := range rows {
		if d.Kind == string(KindOrder) {
			ids[d.SourceID] = true
			continue
		}
		ds, err := r.Store.DocumentsByOrderNumber(ctx, d.OrderNumber)
		if err != nil {
			return nil, err
		}
		for _, o := range ds {
			if o.Kind == string(KindOrder) {
				ids[o.SourceID] = true
			}
		}
	}
	var orders []*velocity.Order
	for id := range ids {
		o, err := r.Source.GetOrder(ctx, id)
		if err != nil {
			continue
		}
		orders = append(orders, o)
	}
	out := map[schema.DocumentKey]*Desired{}
	if len(orders) == 0 {
		return out, nil
	}
	l, err := r.loadChunk(ctx, orders, &pc.env)
	if err != nil {
		return nil, err
	}
	mapFn := r.Map
	if mapFn == nil {
		mapFn = MapOrder
	}
	for _, o := range l.orders {
		docs := mapFn(l.decided(o), &l.env)
		if docs.Skip != "" || docs.Cancelled {
			continue
		}
		for _, d := range slices.Concat([]*Desired{docs.Doc}, docs.Refunds, docs.Payments) {
			if d != nil && len(d.Blocked) == 0 && d.NotApplicable == "" && d.Entity != nil {
				out[d.Kind.key(d.SourceID)] = d
			}
		}
	}
	return out, nil
}
