package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/velqbo/velqbo/schema"
)

// Failed items that need a person: QBO refused a document for what it
// holds (CodeQBORefusedDocument), so every run would send it again and
// fail again. A person fixes the cause and retries it, or sets it aside
// with a reason (skip). Both are engine functions so that the CLI and
// the console do the same thing.

var (
	// ErrNothingToSkip is returned by Skip when no object of the order is
	// failed, blocked or pending (everything is in QBO, or was skipped).
	ErrNothingToSkip = errors.New("nothing to skip")
	// ErrNothingToRetry is returned by Retry when no object of an order is
	// failed or skipped.
	ErrNothingToRetry = errors.New("nothing to retry")
)

// Skip sets aside every object of order orderNumber that is not in QBO as
// desired (failed, blocked or pending; a skipped one gets the new reason):
// no run sends it, counts it failed or blocked, or voids or updates its
// document, until Retry. Runs list it as skipped, with who, when and why;
// so does `status`. The ledger row and the audit log record reason and by
// (who skipped it).
//
// It returns the rows it skipped. It returns an error when reason or by is
// empty, one wrapping schema.ErrNotFound when the ledger has no row for
// the order number, ErrNothingToSkip when none is to skip, and
// schema.ErrConflict when a row has a write whose outcome is unknown (a
// run must look it up first: the document may be in QBO); then nothing is
// skipped.
func (r *Reconciler) Skip(ctx context.Context, orderNumber, reason, by string) ([]schema.Document, error) {
	reason, by = strings.TrimSpace(reason), strings.TrimSpace(by)
	if reason == "" || by == "" {
		return nil, fmt.Errorf("skip %s: a reason and who skips are required", orderNumber)
	}
	rows, err := r.Store.DocumentsByOrderNumber(ctx, orderNumber)
	if err != nil {
		return nil, fmt.Errorf("skip %s: %w", orderNumber, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("skip %s: no object of this order is recorded: %w", orderNumber, schema.ErrNotFound)
	}
	var targets []schema.Document
	for _, d := range rows {
		if d.HasPendingIntent() {
			return nil, fmt.Errorf("skip %s: %s has a write whose outcome is unknown; a run must look it up first: %w",
				orderNumber, d.Key(), schema.ErrConflict)
		}
		switch d.State {
		case schema.StateFailed, schema.StateBlocked, schema.StatePending, schema.StateSkipped:
			targets = append(targets, d)
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("skip %s: every object of this order is in QBO: %w", orderNumber, ErrNothingToSkip)
	}
	var out []schema.Document
	for _, d := range targets {
		nd, err := r.Store.SkipDocument(ctx, d.Key(), reason, by)
		if err != nil {
			return out, fmt.Errorf("skip %s: %w", orderNumber, err)
		}
		r.log().WithFields(map[string]any{"item": d.Key().String(), "order_number": orderNumber, "by": by,
			"reason": reason, "was": string(d.State)}).Warn("skipped by a person: no run sends it until velqbo retry")
		out = append(out, nd)
	}
	return out, nil
}

// Retry brings back the failed and skipped objects of each order number:
// their rows return to pending, without error, skip or failed-run count,
// so the next run reads those orders whatever its window and sends them
// again (a row whose document is already as desired is just marked
// sent). An audit entry records by (who retried) for each row.
//
// It returns the rows it reset. An order number with no row, or none
// failed or skipped, is an error (wrapping schema.ErrNotFound or
// ErrNothingToRetry) joined to the others; the other numbers are retried.
// A row with a write whose outcome is unknown is left to the next run's
// look-up (an error wrapping schema.ErrConflict).
func (r *Reconciler) Retry(ctx context.Context, orderNumbers []string, by string) ([]schema.Document, error) {
	by = strings.TrimSpace(by)
	if by == "" {
		return nil, errors.New("retry: who retries is required")
	}
	var out []schema.Document
	var errs []error
	for _, num := range orderNumbers {
		rows, err := r.Store.DocumentsByOrderNumber(ctx, num)
		if err != nil {
			return out, fmt.Errorf("retry %s: %w", num, err)
		}
		if len(rows) == 0 {
			errs = append(errs, fmt.Errorf("retry %s: no object of this order is recorded: %w", num, schema.ErrNotFound))
			continue
		}
		n := 0
		for _, d := range rows {
			if d.State != schema.StateFailed && d.State != schema.StateSkipped {
				continue
			}
			n++
			if d.HasPendingIntent() {
				errs = append(errs, fmt.Errorf("retry %s: %s has a write whose outcome is unknown; the next run looks it up: %w",
					num, d.Key(), schema.ErrConflict))
				continue
			}
			nd, err := r.Store.RetryDocument(ctx, d.Key(), by)
			if err != nil {
				return out, fmt.Errorf("retry %s: %w", num, err)
			}
			r.log().WithFields(map[string]any{"item": d.Key().String(), "order_number": num, "by": by,
				"was": string(d.State)}).Info("retried by a person: the next run sends it again")
			out = append(out, nd)
		}
		if n == 0 {
			errs = append(errs, fmt.Errorf("retry %s: no object of this order is failed or skipped: %w", num, ErrNothingToRetry))
		}
	}
	return out, errors.Join(errs...)
}

// SkippedReason is the reason a skipped row is listed with: who set it
// aside, when, and why; fixed by retry.
func SkippedReason(d schema.Document) Reason {
	num := cmp.Or(d.OrderNumber, d.SourceID)
	return Reason{Code: CodeSkipped, Subject: Subject{Kind: subjectKind(d.Kind), ID: cmp.Or(subjectID(d), num)},
		Text: fmt.Sprintf("skipped by %s on %s: %s", d.SkippedBy, d.SkippedAt.UTC().Format(time.RFC3339), d.SkipReason),
		Fix:  Fix{Action: FixRetry, ID: num}}
}

func subjectKind(kind string) SubjectKind {
	switch Kind(kind) {
	case KindRefund:
		return SubjectRefund
	case KindPayment:
		return SubjectPayment
	}
	return SubjectOrder
}

func subjectID(d schema.Document) string {
	if Kind(d.Kind) == KindOrder {
		return d.OrderNumber
	}
	return d.SourceID
}

// listSkipped adds every skipped row of the ledger to sum (action
// skipped, with SkippedReason), so that no run or plan is silent about
// what a person set aside.
func (r *Reconciler) listSkipped(ctx context.Context, sum *Summary) error {
	return r.Store.EachDocument(ctx, schema.DocumentFilter{States: []schema.State{schema.StateSkipped}}, func(d schema.Document) error {
		why := Reasons{SkippedReason(d)}
		sum.add(Item{Kind: Kind(d.Kind), SourceID: d.SourceID, OrderNumber: d.OrderNumber, Action: ActionSkipped,
			QBOType: d.QBOType, QBOID: d.QBOID, DocNumber: d.DocNumber, Reason: r.text(why), Reasons: why})
		return nil
	})
}
