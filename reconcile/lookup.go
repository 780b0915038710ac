package reconcile

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// Look before create: a document the ledger has no QBO Id for may still be
// in QBO (the ledger was restored from an old backup, lost, or is new while
// another integration posted the same orders). Before any create, apply
// looks for it:
//
//   - SalesReceipt, Invoice, RefundReceipt: `DocNumber IN (...)`,
//     lookupDocNumbers DocNumbers a query, so a catch-up spends at most one
//     lookup request per 30 creates (more often one per 100).
//   - Payment (QBO cannot query its DocNumber): `CustomerRef = ...`, once a
//     run per customer, and only when its invoice was not created by this
//     very run (then no payment can be linked to it yet).
//
// What is found decides:
//
//   - A document carrying velqbo's marker for this object (same or later
//     generation) is adopted: recorded with its Id and SyncToken, no
//     create. Its PrivateNote also carries the digest of the payload
//     velqbo last wrote; if it equals the desired payload's, nothing is
//     sent, else the adopted document is updated (never created again).
//     A voided one is recorded voided and left voided.
//   - A document with the DocNumber but no marker for this object (a
//     person's, another integration's) blocks the object with
//     exists_in_qbo_unmarked, naming it; `velqbo adopt` takes it over.
//   - Nothing: the create goes ahead.
//
// A lookup that fails creates nothing: the object fails with
// lookup_failed and the next run looks again.

// lookupDocNumbers is how many DocNumbers one look-before-create query
// names: at most 21 characters each, quoted and URL-encoded, 100 of them
// keep the query URL near 4 KB.
const lookupDocNumbers = 100

// markerRE matches a ledger marker in a PrivateNote: kind letter, source
// id, generation.
var markerRE = regexp.MustCompile(`\[velqbo:([orp]):(\S+?):g(\d+)\]`)

// fpTagRE matches the fingerprint digest apply writes next to the marker.
var fpTagRE = regexp.MustCompile(`\[velqbo:fp:([0-9a-f]{16})\]`)

// digestPrefix marks a ledger fingerprint known only by the digest a
// document's PrivateNote carries (ledger rebuild): it matches a desired
// fingerprint of that digest.
const digestPrefix = "digest:"

// fpUnknown is recorded for an adopted document whose payload is not
// known to match: it equals no fingerprint, so the next diff updates it.
const fpUnknown = "unknown"

// noteDigest is the 16-hex digest of a fingerprint written into PrivateNote.
func noteDigest(fp string) string {
	sum := sha256.Sum256([]byte(fp))
	return hex.EncodeToString(sum[:])[:16]
}

// fpTag is the PrivateNote tag of fingerprint fp, without brackets.
func fpTag(fp string) string { return "velqbo:fp:" + noteDigest(fp) }

// noteFingerprint is the digest tag of a PrivateNote, "" when it has none.
func noteFingerprint(note string) string {
	if m := fpTagRE.FindStringSubmatch(note); m != nil {
		return m[1]
	}
	return ""
}

// sameFingerprint reports whether the fingerprint a ledger row recorded is
// the desired one: equal, or the digest of it (a rebuilt row).
func sameFingerprint(recorded, want string) bool {
	if recorded == want {
		return true
	}
	d, ok := strings.CutPrefix(recorded, digestPrefix)
	return ok && d == noteDigest(want)
}

// noteMarker is one marker read from a PrivateNote.
type noteMarker struct {
	Kind       Kind
	SourceID   string
	Generation int
}

// markersIn reads the ledger markers of a PrivateNote.
func markersIn(note string) []noteMarker {
	var out []noteMarker
	for _, m := range markerRE.FindAllStringSubmatch(note, -1) {
		g, err := strconv.Atoi(m[3])
		if err != nil {
			continue
		}
		k := KindOrder
		switch m[1] {
		case "r":
			k = KindRefund
		case "p":
			k = KindPayment
		}
		out = append(out, noteMarker{Kind: k, SourceID: m[2], Generation: g})
	}
	return out
}

// ownGeneration is the highest generation of the marker of kind/sourceID
// in note, -1 when it carries none.
func ownGeneration(note string, kind Kind, sourceID string) int {
	g := -1
	for _, m := range markersIn(note) {
		if m.Kind == kind && m.SourceID == sourceID {
			g = max(g, m.Generation)
		}
	}
	return g
}

// found is what a lookup found for one object.
type found struct {
	ours    *DocRef // carries the object's marker: adopt it
	gen     int     // ours's marker generation
	foreign *DocRef // same DocNumber (or payment), not velqbo's: block
}

// classify sorts the documents found for an object of kind/sourceID at
// generation gen. A marker of an earlier generation is ignored (resync
// re-creates on purpose); a live document is preferred to a voided one;
// a voided document that is not velqbo's is no duplicate risk.
func classify(kind Kind, sourceID string, gen int, docs []DocRef) found {
	f := found{gen: -1}
	for i := range docs {
		doc := &docs[i]
		g := ownGeneration(doc.PrivateNote, kind, sourceID)
		switch {
		case g >= gen:
			better := f.ours == nil || (f.ours.Voided && !doc.Voided) ||
				(f.ours.Voided == doc.Voided && g > f.gen)
			if better {
				f.ours, f.gen = doc, g
			}
		case g >= 0, doc.Voided:
		case f.foreign == nil:
			f.foreign = doc
		}
	}
	return f
}

// needsLookup reports whether c creates a document the ledger has no QBO
// Id for, searchable by DocNumber.
func needsLookup(c *Change) bool {
	return c.Action == ActionCreate && !c.pending && c.Desired != nil && c.QBOType != TypePayment && c.DocNumber != ""
}

// lookBeforeCreate searches QBO for the documents of the creates among cs
// and settles each (see the top of this file): an adopted or blocked
// change no longer creates.
func (a *applier) lookBeforeCreate(ctx context.Context, cs []*Change) {
	byType := map[string][]string{}
	seen := map[string]bool{}
	var ask []*Change
	for _, c := range cs {
		if !needsLookup(c) {
			continue
		}
		ask = append(ask, c)
		if k := c.QBOType + "\x00" + c.DocNumber; !seen[k] {
			seen[k] = true
			byType[c.QBOType] = append(byType[c.QBOType], c.DocNumber)
		}
	}
	if len(ask) == 0 {
		return
	}
	type query struct {
		typ  string
		nums []string
	}
	var qs []query
	for typ, nums := range byType {
		for start := 0; start < len(nums); start += lookupDocNumbers {
			qs = append(qs, query{typ, nums[start:min(start+lookupDocNumbers, len(nums))]})
		}
	}
	var mu sync.Mutex
	docs := map[string][]DocRef{} // type NUL DocNumber
	failed := map[string]error{}
	next := make(chan query)
	var wg sync.WaitGroup
	for range min(a.r.concurrency(), len(qs)) {
		wg.Go(func() {
			for q := range next {
				got, err := a.r.QBO.FindByDocNumber(ctx, q.typ, q.nums)
				mu.Lock()
				for _, n := range q.nums {
					if err != nil {
						failed[q.typ+"\x00"+n] = err
					}
				}
				for _, d := range got {
					k := q.typ + "\x00" + d.DocNumber
					docs[k] = append(docs[k], d)
				}
				mu.Unlock()
			}
		})
	}
	for _, q := range qs {
		next <- q
	}
	close(next)
	wg.Wait()
	for _, c := range ask {
		k := c.QBOType + "\x00" + c.DocNumber
		if err := failed[k]; err != nil {
			a.lookupFailedFor(ctx, c, err)
		} else {
			a.settle(ctx, c, classify(Kind(c.Key.Kind), c.Key.SourceID, c.generation(), docs[k]))
		}
		if a.stopped() {
			return
		}
	}
}

// lookBeforePayments searches QBO for the payment creates among cs whose
// invoice this run did not create, by the invoice's customer: a payment
// carrying the object's marker is adopted, an unmarked one on the same
// invoice for the same amount blocks.
func (a *applier) lookBeforePayments(ctx context.Context, cs []*Change) {
	byCustomer := map[string][]DocRef{}
	for _, c := range cs {
		if c.Action != ActionCreate || c.pending || c.Desired == nil {
			continue
		}
		if p := c.parent; p != nil && p.Action == ActionCreate && p.done && !p.adopted {
			continue // its invoice is new: nothing can be linked to it yet
		}
		pay, _ := c.Desired.Entity.(*qbo.Payment)
		if pay == nil || pay.CustomerRef == nil || c.invoiceID == "" {
			continue
		}
		cust := pay.CustomerRef.Value
		list, ok := byCustomer[cust]
		if !ok {
			var err error
			if list, err = a.r.QBO.FindPayments(ctx, cust); err != nil {
				a.lookupFailedFor(ctx, c, err)
				if a.stopped() {
					return
				}
				continue
			}
			byCustomer[cust] = list
		}
		var cands []DocRef
		for _, d := range list {
			if ownGeneration(d.PrivateNote, KindPayment, c.Key.SourceID) >= 0 {
				cands = append(cands, d)
				continue
			}
			// Only an unmarked payment can be this one made by someone
			// else: one carrying velqbo's marker for another payment is
			// that payment (instalments of equal size are common).
			if len(markersIn(d.PrivateNote)) == 0 && d.TotalAmt.Equal(c.Desired.Total) && slices.Contains(d.LinkedInvoices, c.invoiceID) {
				cands = append(cands, d)
			}
		}
		a.settle(ctx, c, classify(KindPayment, c.Key.SourceID, c.generation(), cands))
		if a.stopped() {
			return
		}
	}
}

// lookupFailedFor fails c: it could not be looked for, so it is not
// created. QBO refusing the connection stops the run.
func (a *applier) lookupFailedFor(ctx context.Context, c *Change, err error) {
	if qbo.IsAuth(err) {
		a.stop(fmt.Errorf("%w: %w", ErrQBOAuth, err))
		return
	}
	text := "not created: QBO could not be searched for it first: " + err.Error()
	c.fail(CodeLookupFailed, text)
	if a.dry {
		return
	}
	a.storeErr(a.r.Store.RecordFailed(ctx, schema.Problem{Key: c.Key, RunID: a.runID, Reason: text,
		Reasons: c.Why.encode(), OrderNumber: c.OrderNumber}))
	a.report(c.item(), false)
}

// settle acts on what the lookup found for c: adopt, block, or leave the
// create as it is.
func (a *applier) settle(ctx context.Context, c *Change, f found) {
	switch {
	case f.ours != nil:
		a.adoptFound(ctx, c, *f.ours, f.gen)
	case f.foreign != nil:
		a.blockUnmarked(ctx, c, *f.foreign)
	}
}

// adoptFound records doc as c's document. When its PrivateNote says it
// holds the desired payload (or it is voided) nothing more is sent;
// otherwise c becomes an update of doc.
func (a *applier) adoptFound(ctx context.Context, c *Change, doc DocRef, gen int) {
	same := noteFingerprint(doc.PrivateNote) == noteDigest(c.Desired.Fingerprint)
	o := schema.DocumentOutcome{Key: c.Key, State: schema.StateSent, OrderNumber: c.OrderNumber,
		QBOType: c.QBOType, QBOID: doc.ID, SyncToken: doc.SyncToken, DocNumber: cmp.Or(doc.DocNumber, c.DocNumber),
		Fingerprint: c.Desired.Fingerprint, RequestAttempt: new(0), NotApplicable: new(false), Generation: new(gen),
		Audit: &schema.AuditEntry{Entity: c.QBOType, Operation: "adopt", Outcome: "found_by_lookup", QBOID: doc.ID}}
	switch {
	case doc.Voided:
		o.State = schema.StateVoided
	case !same:
		o.Fingerprint = fpUnknown
	}
	if same && !c.sourceUpdated.IsZero() {
		o.SourceUpdatedAt = new(c.sourceUpdated)
	}
	if c.replaces != "" {
		o.VoidReceiptID = new(c.replaces)
	}
	if a.dry {
		// Plan: say what Run would do, record nothing.
	} else if err := a.r.Store.RecordOutcome(ctx, withRun(recordSent(o, doc), a.runID)); err != nil {
		a.storeErr(err)
		return
	}
	a.log.WithFields(logrus.Fields{"item": c.Key.String(), "order_number": c.OrderNumber, "qbo_type": c.QBOType,
		"qbo_id": doc.ID, "voided": doc.Voided, "same_payload": same}).Info("found in QBO before creating; adopted")
	c.adopted, c.QBOID = true, doc.ID
	if same || doc.Voided {
		c.Action, c.done, c.resultID = ActionAdopt, true, doc.ID
		a.report(c.item(), false)
		return
	}
	prior := schema.Document{Kind: c.Key.Kind, SourceID: c.Key.SourceID, OrderNumber: c.OrderNumber, Generation: gen,
		QBOType: c.QBOType, QBOID: doc.ID, SyncToken: doc.SyncToken, DocNumber: o.DocNumber, Fingerprint: fpUnknown,
		State: schema.StateSent}
	c.Action, c.Prior = ActionUpdate, &prior
}

func withRun(o schema.DocumentOutcome, runID string) schema.DocumentOutcome {
	if o.Audit != nil {
		o.Audit.RunID = runID
	}
	return o
}

// blockUnmarked blocks c: QBO holds doc, which velqbo did not make.
func (a *applier) blockUnmarked(ctx context.Context, c *Change, doc DocRef) {
	a.r.explain(c, ActionBlocked, Reasons{UnmarkedInQBO(c.subject(), c.OrderNumber, doc)})
	if a.dry {
		return
	}
	a.storeErr(a.r.Store.RecordBlocked(ctx, schema.Problem{Key: c.Key, RunID: a.runID, Reason: c.Reason,
		Reasons: c.Why.encode(), OrderNumber: c.OrderNumber, QBOType: c.QBOType, DocNumber: c.DocNumber}))
	a.report(c.item(), false)
}

// UnmarkedInQBO is the reason of an object whose document QBO already
// holds without velqbo's marker: doc, made by a person or another
// integration. adopt takes it over.
func UnmarkedInQBO(on Subject, orderNumber string, doc DocRef) Reason {
	what := doc.Type + " " + doc.ID
	if doc.DocNumber != "" {
		what += " (DocNumber " + doc.DocNumber + ")"
	} else {
		what += " of " + doc.TotalAmt.StringFixed(2)
	}
	r := Reason{Code: CodeExistsInQBOUnmarked, Subject: on,
		Text:   "QBO already holds " + what + ", not made by velqbo; not created again",
		Fix:    Fix{Action: FixAdopt, ID: orderNumber},
		QBODoc: QBODoc{Type: doc.Type, ID: doc.ID, DocNumber: doc.DocNumber}}
	if ms := markersIn(doc.PrivateNote); len(ms) > 0 {
		// velqbo's, for another object (two objects with one number):
		// adopting it would give one document to two objects.
		m := ms[len(ms)-1]
		r.Text = fmt.Sprintf("QBO already holds %s, made by velqbo for %s %s; not created again", what, m.Kind, m.SourceID)
		r.Fix = Fix{}
	}
	return r
}
