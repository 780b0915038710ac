package main

import (
	"context"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// The Orders screen's engine access: the same Reconciler wiring as
// `velqbo orders report-as-invoice` (ledgerAndSource).

func (b *consoleBackend) PreviewOrder(ctx context.Context, orderID string) (*reconcile.OrderPreview, error) {
	r, err := b.m.ledgerAndSource(ctx, b.st)
	if err != nil {
		return nil, consoleErr(err)
	}
	r.FixText = nil // the page links each fix; the reasons' text stands alone
	return r.PreviewOrder(ctx, orderID)
}

func (b *consoleBackend) ReportAsInvoice(ctx context.Context, orderNumber, by string) (schema.Document, error) {
	var d schema.Document
	err := b.m.withLease(ctx, b.m.ledgerAndSource, func(r *reconcile.Reconciler) error {
		var err error
		d, err = r.ReportAsInvoice(ctx, orderNumber, by)
		return err
	})
	return d, consoleErr(err)
}
