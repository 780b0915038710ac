package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// ErrNothingToResync is returned by Resync when no document of the order
// is missing from QBO.
var ErrNothingToResync = errors.New("nothing to resync")

// Resync prepares the deliberate re-creation of an order's documents that a
// person deleted (or voided) in QBO: it bumps the generation of each such
// ledger row (schema.BumpGeneration), so the next run creates them again
// under a new marker and new request ids. It only reads QBO.
//
// It returns the rows it reset. It refuses, with an error naming the
// document, when a row recorded deleted_in_qbo still has its document in
// QBO (found and not voided); it returns an error wrapping schema.ErrNotFound
// when the ledger has no row for the order number, ErrNothingToResync when
// every document is still in QBO, schema.ErrConflict when a row has an
// unresolved write (run first), and ErrQBOAuth when QBO refuses the
// connection.
func (r *Reconciler) Resync(ctx context.Context, orderNumber string) ([]schema.Document, error) {
	rows, err := r.Store.DocumentsByOrderNumber(ctx, orderNumber)
	if err != nil {
		return nil, fmt.Errorf("resync %s: %w", orderNumber, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("resync %s: no document recorded for this order: %w", orderNumber, schema.ErrNotFound)
	}
	var targets []schema.Document
	for _, d := range rows {
		if d.HasPendingIntent() {
			return nil, fmt.Errorf("resync %s: %s has a write whose outcome is unknown; a run must look it up first: %w",
				orderNumber, d.Key(), schema.ErrConflict)
		}
		if d.QBOID == "" || d.QBOType == "" {
			continue
		}
		doc, err := r.QBO.Get(ctx, d.QBOType, d.QBOID)
		switch {
		case qbo.IsNotFound(err):
			targets = append(targets, d)
		case err != nil:
			return nil, fmt.Errorf("resync %s: read %s %s: %w", orderNumber, d.QBOType, d.QBOID, r.qboFatal(err))
		case doc.Voided && d.State != schema.StateVoided:
			targets = append(targets, d)
		case d.State == schema.StateDeletedInQBO && !doc.Voided:
			return nil, fmt.Errorf("resync %s: %s %s still exists in QBO (not voided); resync only re-creates deleted documents",
				orderNumber, d.QBOType, d.QBOID)
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("resync %s: every document of this order is still in QBO: %w", orderNumber, ErrNothingToResync)
	}
	var out []schema.Document
	for _, d := range targets {
		nd, err := r.Store.BumpGeneration(ctx, d.Kind, d.SourceID)
		if err != nil {
			return out, fmt.Errorf("resync %s: %w", orderNumber, err)
		}
		r.log().WithFields(map[string]any{"item": d.Key().String(), "previous_qbo_id": d.QBOID,
			"generation": nd.Generation}).Info("resync: will be re-created by the next run")
		out = append(out, nd)
	}
	return out, nil
}
