package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// ErrCannotReportAsInvoice is returned by ReportAsInvoice when the order
// is an Invoice already (on terms, marked so in the source, decided
// before, or sent as one) or can no longer become one (voided, gone from
// the source); the error's text says which.
var ErrCannotReportAsInvoice = errors.New("cannot report as invoice")

// ReportAsInvoice records a person's decision that order orderNumber is
// reported as an Invoice, as the source's "Report as Invoice" flag does:
// from the next run on the order maps to an Invoice; a SalesReceipt already
// sent for it is replaced (the Invoice is created, then the receipt
// voided, exactly once, as for the flag). The ledger row keeps who (by)
// and when, and the audit log records it. It writes nothing to QBO; every
// run re-reads the order, whatever its window, until its Invoice is in
// QBO.
//
// When r.Source is set the order is read from it to check its terms and
// flag; without a source the ledger's record decides.
//
// It returns the order's ledger row. It returns an error when by is
// empty, one wrapping schema.ErrNotFound when the ledger has no row for
// the order (a run must read it first), ErrCannotReportAsInvoice (with the
// reason) when the order is or cannot become an Invoice, schema.ErrConflict
// when its row has a write whose outcome is unknown (a run must look it up
// first), and ErrSourceUnavailable when the source cannot be read.
func (r *Reconciler) ReportAsInvoice(ctx context.Context, orderNumber, by string) (schema.Document, error) {
	by = strings.TrimSpace(by)
	if by == "" {
		return schema.Document{}, fmt.Errorf("report %s as invoice: who decides is required", orderNumber)
	}
	refuse := func(format string, args ...any) (schema.Document, error) {
		return schema.Document{}, fmt.Errorf("report %s as invoice: %s: %w", orderNumber, fmt.Sprintf(format, args...), ErrCannotReportAsInvoice)
	}
	rows, err := r.Store.DocumentsByOrderNumber(ctx, orderNumber)
	if err != nil {
		return schema.Document{}, fmt.Errorf("report %s as invoice: %w", orderNumber, err)
	}
	var row *schema.Document
	for i := range rows {
		if rows[i].Kind == string(KindOrder) {
			row = &rows[i]
			break
		}
	}
	if row == nil {
		return schema.Document{}, fmt.Errorf("report %s as invoice: order %s is not in the ledger; a run reads it first: %w",
			orderNumber, orderNumber, schema.ErrNotFound)
	}
	if row.HasPendingIntent() {
		return schema.Document{}, fmt.Errorf("report %s as invoice: %s has a write whose outcome is unknown; a run must look it up first: %w",
			orderNumber, row.Key(), schema.ErrConflict)
	}
	var o *velocity.Order
	if r.Source != nil && row.InvoiceDecidedBy == "" && row.State != schema.StateVoided {
		var err error
		o, err = r.Source.GetOrder(ctx, row.SourceID)
		switch {
		case errors.Is(err, velocity.ErrNotFound):
			return refuse("order %s is no longer in %s", row.SourceID, r.sourceName())
		case err != nil && !velocity.IsObjectError(err):
			return schema.Document{}, fmt.Errorf("report %s as invoice: read order %s: %w: %w", orderNumber, row.SourceID, ErrSourceUnavailable, err)
		case err != nil:
			o = nil // invalid in the source: the decision holds once it is fixed
		}
	}
	if why := InvoiceRefusal(*row, o); why != "" {
		return refuse("%s", why)
	}
	d, err := r.Store.DecideInvoice(ctx, row.Key(), by)
	if err != nil {
		return schema.Document{}, fmt.Errorf("report %s as invoice: %w", orderNumber, err)
	}
	r.log().WithFields(map[string]any{"item": d.Key().String(), "order_number": orderNumber, "by": by,
		"qbo_type": d.QBOType, "qbo_id": d.QBOID}).Info("report as invoice: the next run sends the Invoice")
	return d, nil
}

// InvoiceRefusal says why the order of ledger row row cannot be decided
// "Report as Invoice", or "" when it can: decided before, voided
// (cancelled), on terms or flagged in the source, or an Invoice already.
// o is the order as the source holds it, nil when not read (the ledger's
// record then decides). ReportAsInvoice refuses with it; the console
// shows it instead of the button.
func InvoiceRefusal(row schema.Document, o *velocity.Order) string {
	switch {
	case row.InvoiceDecidedBy != "":
		return fmt.Sprintf("%s decided it on %s already", row.InvoiceDecidedBy, row.InvoiceDecidedAt.UTC().Format(time.RFC3339))
	case row.State == schema.StateVoided:
		return fmt.Sprintf("its %s %s is voided (the order was cancelled)", row.QBOType, row.QBOID)
	case o != nil && o.PaymentTerms != nil:
		return fmt.Sprintf("the order is on terms (net %d days), so it is reported as an Invoice already", o.PaymentTerms.NetDays)
	case o != nil && o.ReportAsInvoice:
		// Only the Velocity contract has the flag (a BigCommerce order
		// never sets it), so naming Velocity here is right for any source.
		return "Velocity marks the order Report as Invoice already"
	case o != nil && o.CancelledAt != nil:
		return "the order was cancelled"
	case row.QBOType == TypeInvoice && row.QBOID != "":
		return fmt.Sprintf("it is invoiced already (Invoice %s)", row.QBOID)
	case row.QBOType == TypeInvoice:
		return "it is reported as an Invoice already (on terms, or marked Report as Invoice)"
	}
	return ""
}

// OrderPreview is what the next run would do for one order.
type OrderPreview struct {
	// Order is the order as the source holds it now.
	Order *velocity.Order
	// Items are the order's objects the next run would act on, or that
	// are blocked or failed, with their reasons; an object not listed is
	// in QBO as desired (or skipped). Shipments that only change the
	// tracking of the order's document are items of kind shipment.
	Items []Item
	// Unchanged counts the objects in QBO as desired.
	Unchanged int
}

// PreviewOrder maps order id as a run would (settings, links, cached
// company facts, a Report as Invoice decision) and diffs it with the
// ledger, as Plan does for a window, without asking QBO: a create is
// listed as such even when the look before create would adopt a document.
// It writes nothing.
//
// It returns an error matching velocity.ErrNotFound when the source has no
// such order, a *velocity.ObjectError when it is invalid there, and one
// wrapping ErrSourceUnavailable when the source cannot be read.
func (r *Reconciler) PreviewOrder(ctx context.Context, id string) (*OrderPreview, error) {
	pc, err := r.loadPlanCtx(ctx, Options{Mode: ModeFull})
	if err != nil {
		return nil, err
	}
	o, err := r.Source.GetOrder(ctx, id)
	switch {
	case errors.Is(err, velocity.ErrNotFound), velocity.IsObjectError(err):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("read order %s: %w: %w", id, ErrSourceUnavailable, err)
	}
	l, err := r.loadChunk(ctx, []*velocity.Order{o}, &pc.env)
	if err != nil {
		return nil, err
	}
	changes, unchanged := r.diffChunk(l)
	p := &OrderPreview{Order: o, Unchanged: unchanged, Items: []Item{}}
	for _, c := range changes {
		p.Items = append(p.Items, c.item())
		if c.replaces != "" && c.Action == ActionCreate {
			p.Items = append(p.Items, Item{Kind: KindOrder, SourceID: c.Key.SourceID, OrderNumber: c.OrderNumber,
				Action: ActionVoid, QBOType: TypeSalesReceipt, QBOID: c.replaces, DocNumber: c.OrderNumber})
		}
	}
	return p, nil
}
