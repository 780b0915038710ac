package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// Recovery of pending intents: the writes of an earlier run whose outcome
// was never recorded (write.go) are looked up in QBO and settled before
// this run sends anything.

// lookupChunk is how many DocNumbers one lookup query names.
const lookupChunk = 30

// resolvePending is phase A: every row whose last write has no recorded
// outcome is resolved before anything is sent.
//
//   - create: QBO is searched (`DocNumber IN (...)`, batched; payments,
//     which have no DocNumber, by `CustomerRef = <the invoice's customer>`)
//     for a document carrying the row's PrivateNote marker. Found: its Id
//     and SyncToken are adopted, nothing is created again. Not found: the
//     intent is cleared and the scan creates it with the same request id.
//   - update: the intent is cleared; the scan re-sends the update with the
//     same request id, which QBO answers from its replay store if the
//     first one arrived (a 610 on the way marks the row deleted_in_qbo).
//   - void: the document is read; voided (or gone) is recorded as such,
//     else the intent is cleared and the void is sent again.
//
// A lookup that fails leaves the intent; the item is reported failed and
// looked up again next run. QBO refusing the connection stops the run.
func (a *applier) resolvePending(ctx context.Context) error {
	rows, err := a.r.Store.PendingIntents(ctx)
	if err != nil {
		return err
	}
	creates := map[string][]schema.Document{} // by QBO type
	for _, d := range rows {
		// An intent recorded without its target acts on the row's own
		// document.
		typ := cmp.Or(d.PendingQBOType, d.QBOType)
		switch d.PendingAction {
		case schema.WriteCreate:
			creates[typ] = append(creates[typ], d)
		case schema.WriteVoid, schema.WriteVoidReplaced:
			a.resolveVoid(ctx, d, typ, cmp.Or(d.PendingQBOID, d.QBOID), d.PendingAction == schema.WriteVoidReplaced)
		default:
			a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
		}
		if a.stopped() {
			return a.err()
		}
	}
	for typ, ds := range creates {
		if typ == TypePayment {
			a.resolvePayments(ctx, ds)
		} else {
			a.resolveCreates(ctx, typ, ds)
		}
		if a.stopped() {
			return a.err()
		}
	}
	return a.err()
}

func (a *applier) lookupFailed(d schema.Document, err error) {
	if qbo.IsAuth(err) {
		a.stop(fmt.Errorf("%w: %w", ErrQBOAuth, err))
		return
	}
	a.log.WithError(err).WithField("item", d.Key().String()).Warn("look up unknown outcome")
}

// adopt records a document found by lookup as the outcome of the pending
// create. When the row held a SalesReceipt and an Invoice was found, the
// receipt is remembered for voiding.
func (a *applier) adopt(ctx context.Context, d schema.Document, typ string, doc DocRef) {
	o := schema.DocumentOutcome{Key: d.Key(), RequestID: d.PendingRequestID,
		State: schema.StateSent, QBOType: typ, QBOID: doc.ID, SyncToken: doc.SyncToken, DocNumber: doc.DocNumber,
		RequestAttempt: new(0), Audit: &schema.AuditEntry{Entity: typ, Operation: string(ActionCreate), Outcome: "found_by_lookup"}}
	if d.QBOID != "" && d.QBOType != "" && d.QBOType != typ {
		o.VoidReceiptID = new(d.QBOID)
	}
	a.log.WithFields(logrus.Fields{"item": d.Key().String(), "qbo_type": typ, "qbo_id": doc.ID}).
		Info("found the document of an unknown outcome; adopted")
	a.finish(ctx, nil, written{outcome: recordSent(o, doc)}, nil)
}

func (a *applier) resolveCreates(ctx context.Context, typ string, ds []schema.Document) {
	for start := 0; start < len(ds); start += lookupChunk {
		chunk := ds[start:min(start+lookupChunk, len(ds))]
		var nums []string
		for _, d := range chunk {
			if d.DocNumber != "" && !slices.Contains(nums, d.DocNumber) {
				nums = append(nums, d.DocNumber)
			}
		}
		found, err := a.r.QBO.FindByDocNumber(ctx, typ, nums)
		if err != nil {
			a.lookupFailed(chunk[0], err)
			continue
		}
		for _, d := range chunk {
			a.adoptOrClear(ctx, d, typ, found)
		}
	}
}

// adoptOrClear adopts the document carrying d's marker, or clears d's intent.
func (a *applier) adoptOrClear(ctx context.Context, d schema.Document, typ string, found []DocRef) {
	m := marker(d.Kind, d.SourceID, d.Generation)
	for _, doc := range found {
		if hasMarker(doc.PrivateNote, m) {
			a.adopt(ctx, d, typ, doc)
			return
		}
	}
	a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
}

// resolvePayments looks pending payment creates up by the customer of the
// invoice they pay (QBO cannot query a Payment by DocNumber).
func (a *applier) resolvePayments(ctx context.Context, ds []schema.Document) {
	byCustomer := map[string][]DocRef{}
	for _, d := range ds {
		rows, err := a.r.Store.DocumentsByOrderNumber(ctx, d.OrderNumber)
		if err != nil {
			a.storeErr(err)
			return
		}
		invoiceID := ""
		for _, r := range rows {
			if r.Kind == string(KindOrder) && r.QBOType == TypeInvoice {
				invoiceID = r.QBOID
			}
		}
		if invoiceID == "" {
			// No invoice, so no payment could have been linked to one.
			a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
			continue
		}
		inv, err := a.r.QBO.Get(ctx, TypeInvoice, invoiceID)
		if err != nil {
			a.lookupFailed(d, err)
			continue
		}
		pays, ok := byCustomer[inv.CustomerID]
		if !ok {
			if pays, err = a.r.QBO.FindPayments(ctx, inv.CustomerID); err != nil {
				a.lookupFailed(d, err)
				continue
			}
			byCustomer[inv.CustomerID] = pays
		}
		a.adoptOrClear(ctx, d, TypePayment, pays)
	}
}

// resolveVoid settles a pending void of typ/id; receipt is the void of a
// SalesReceipt replaced by an Invoice (the row keeps the Invoice).
func (a *applier) resolveVoid(ctx context.Context, d schema.Document, typ, id string, receipt bool) {
	doc, err := a.r.QBO.Get(ctx, typ, id)
	gone := qbo.IsNotFound(err)
	if err != nil && !gone {
		a.lookupFailed(d, err)
		return
	}
	if !gone && !doc.Voided {
		a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
		return
	}
	o := schema.DocumentOutcome{Key: d.Key(), RequestID: d.PendingRequestID, State: schema.StateVoided,
		SyncToken: doc.SyncToken, Audit: &schema.AuditEntry{Entity: typ, Operation: string(ActionVoid), QBOID: id,
			Outcome: "found_by_lookup"}}
	if gone {
		o.State = schema.StateDeletedInQBO
	}
	if receipt {
		o.State, o.SyncToken, o.VoidReceiptID = schema.StateSent, "", new("")
	}
	a.finish(ctx, nil, written{outcome: o}, nil)
}
