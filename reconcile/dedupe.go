package reconcile

import (
	"cmp"
	"fmt"
	"time"
)

// duplicateInSource blocks an order that appears twice in one read with
// the same updated_at but different content: velqbo cannot tell which copy
// is the truth, and guessing would post the wrong money. source names the
// store the orders were read from (Reconciler.sourceName).
func duplicateInSource(orderID, number string, at time.Time, source string) Reason {
	return Reason{Code: CodeDuplicateInSource, Subject: Subject{Kind: SubjectOrder, ID: cmp.Or(number, orderID)},
		Text: fmt.Sprintf("order %s appears more than once in one read of %s with the same updated_at (%s) but different content; wait for %s to settle (or fix the export file), then run again",
			orderID, source, at.UTC().Format(time.RFC3339), source)}
}

// dedupeChanges resolves an order that one read returned more than once (a
// duplicated line in an export, or an order edited while the API was being
// paged, which moves it to a later page). Without this, each copy plans its
// own create and the money is posted twice.
//
// Every copy plans at most one change per ledger key, so a key planned
// twice means a duplicated order. For such an order the copy with the
// newest updated_at wins and the other copies' changes are dropped; copies
// tied on updated_at whose changes differ block the order with a reason.
// Orders read once, and invalid objects (which post nothing), pass through
// untouched; the cost is in proportion to the changes, not to the store.
// source names the store in the blocking reason.
func dedupeChanges(changes []*Change, source string) []*Change {
	perKey := make(map[string]int, len(changes))
	dupOrders := map[string]bool{}
	for _, c := range changes {
		if c.sourceUpdated.IsZero() {
			continue // not from a decoded order: an invalid object, listed as is
		}
		k := c.Key.String()
		perKey[k]++
		if perKey[k] > 1 {
			dupOrders[c.OrderID] = true
		}
	}
	if len(dupOrders) == 0 {
		return changes
	}
	// newest updated_at per duplicated order, and whether that newest
	// timestamp is shared by copies that disagree.
	newest := map[string]time.Time{}
	for _, c := range changes {
		if dupOrders[c.OrderID] && c.sourceUpdated.After(newest[c.OrderID]) {
			newest[c.OrderID] = c.sourceUpdated
		}
	}
	conflict := map[string]bool{}
	seen := map[string]*Change{}
	for _, c := range changes {
		if !dupOrders[c.OrderID] || !c.sourceUpdated.Equal(newest[c.OrderID]) {
			continue
		}
		k := c.Key.String()
		if prev, ok := seen[k]; ok && changeSignature(prev) != changeSignature(c) {
			conflict[c.OrderID] = true
		}
		seen[k] = c
	}
	out := changes[:0]
	kept := map[string]bool{}
	for _, c := range changes {
		if !dupOrders[c.OrderID] {
			out = append(out, c)
			continue
		}
		if !c.sourceUpdated.Equal(newest[c.OrderID]) {
			continue // an older copy
		}
		k := c.Key.String()
		if kept[k] {
			continue // an identical copy of a change already kept
		}
		kept[k] = true
		if conflict[c.OrderID] {
			c.Action, c.Why = ActionBlocked, Reasons{duplicateInSource(c.OrderID, c.OrderNumber, newest[c.OrderID], source)}
			c.Reason = c.Why.String()
		}
		out = append(out, c)
	}
	return out
}

// changeSignature is what two copies' changes must agree on to be the same.
func changeSignature(c *Change) string {
	fp := ""
	if c.Desired != nil {
		fp = c.Desired.Fingerprint + "|" + c.Desired.Blocked.String()
	}
	return string(c.Action) + "|" + c.QBOType + "|" + c.DocNumber + "|" + fp
}

// staleCopy reports whether a change would write a copy of the order older
// than the one the ledger row was last written from, which happens when a
// read returns an order twice and the newer copy is already in QBO.
func staleCopy(c *Change) bool {
	if c.Prior == nil || c.sourceUpdated.IsZero() {
		return false
	}
	if c.Action != ActionUpdate && c.Action != ActionVoid && c.Action != ActionCreate {
		return false
	}
	recorded := c.Prior.SourceUpdatedAt
	return !recorded.IsZero() && c.sourceUpdated.Before(recorded)
}
