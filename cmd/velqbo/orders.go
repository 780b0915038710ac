package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// ordersCommand is `velqbo orders report-as-invoice ORDER_NUMBER`: the
// person's "Report as Invoice" decision, recorded in the ledger; the next
// run sends the Invoice (and voids a SalesReceipt sent before).
func ordersCommand() command {
	var by string
	return command{
		name: "orders",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&by, "by", "", "who decides, for the ledger and the audit log (default: the OS user and host)")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) != 2 || args[0] != "report-as-invoice" {
				return usageErrorf("orders takes one subcommand: report-as-invoice ORDER_NUMBER")
			}
			return m.withLease(ctx, m.ledgerAndSource, func(r *reconcile.Reconciler) error {
				d, err := r.ReportAsInvoice(ctx, args[1], cmp.Or(by, m.whoAmI()))
				if err != nil {
					return reportAsInvoiceErr(err)
				}
				fmt.Fprintf(m.Stdout, "order %s: reported as an Invoice from the next run (decided by %s)", d.OrderNumber, d.InvoiceDecidedBy)
				if d.QBOType == reconcile.TypeSalesReceipt && d.QBOID != "" {
					fmt.Fprintf(m.Stdout, "; its SalesReceipt %s is then voided", d.QBOID)
				}
				fmt.Fprintln(m.Stdout)
				return nil
			})
		},
	}
}

// ledgerAndSource is a Reconciler on the ledger and the source, without
// QBO: report-as-invoice reads the order to check its terms.
func (m *Main) ledgerAndSource(_ context.Context, st *schema.Store) (*reconcile.Reconciler, error) {
	src, err := m.reconcileSource()
	if err != nil {
		return nil, err
	}
	return &reconcile.Reconciler{Source: src, Store: st, Location: m.Config.Location(), Log: m.Log, Now: m.Now,
		FixText: m.fixText, SourceName: m.Config.sourceName()}, nil
}

// reportAsInvoiceErr maps ReportAsInvoice's errors to exit codes: an order
// that is not in the ledger or cannot become an Invoice is a usage error
// (2); an unknown outcome or an unreachable source is exit 3.
func reportAsInvoiceErr(err error) error {
	switch {
	case errors.Is(err, reconcile.ErrCannotReportAsInvoice), errors.Is(err, schema.ErrNotFound):
		return usageErrorf("%v", err)
	case errors.Is(err, schema.ErrConflict):
		return unavailable(fmt.Errorf("%w (run `velqbo run` first)", err))
	}
	return exitFor(err)
}
