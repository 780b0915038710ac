package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// ordersPageSize is how many orders the list shows a page.
const ordersPageSize = 50

// routesOrders registers the Orders screen's routes: the list, an order's
// QuickBooks section, and the actions on it, each the engine function its
// command calls (orders report-as-invoice, retry, skip, adopt, resync).
func (s *Server) routesOrders(mux *http.ServeMux) {
	mux.Handle("GET /orders", s.viewer(s.ordersList))
	mux.Handle("GET /orders/{number}", s.viewer(s.orderShow))
	mux.Handle("POST /orders/{number}/report-as-invoice", s.admin(s.orderReportAsInvoice))
	mux.Handle("POST /orders/{number}/retry", s.admin(s.orderRetry))
	mux.Handle("POST /orders/{number}/skip", s.admin(s.orderSkip))
	mux.Handle("POST /orders/{number}/adopt", s.admin(s.orderAdopt))
	mux.Handle("POST /orders/{number}/resync", s.admin(s.orderResync))
}

// stateLabels name the order filters.
var stateLabels = map[schema.OrderState]string{
	schema.OrderSent:         "Sent",
	schema.OrderBlocked:      "Blocked",
	schema.OrderFailed:       "Failed",
	schema.OrderUnknown:      "Outcome unknown",
	schema.OrderDeletedInQBO: "Deleted in QuickBooks",
	schema.OrderSkipped:      "Skipped",
}

// stateOption is one choice of the state filter.
type stateOption struct {
	Value, Label string
	Selected     bool
}

// ordersListData is the Orders list.
type ordersListData struct {
	Number   string
	State    schema.OrderState
	States   []stateOption
	Orders   []schema.OrderListItem
	Total    int
	From, To int
	Prev     string // URL of the previous page, "" on the first
	Next     string // URL of the next page, "" on the last
	Filtered bool
	Error    string
}

func (s *Server) ordersList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := ordersListData{Number: strings.TrimSpace(q.Get("q")), State: schema.OrderState(q.Get("state"))}
	status := http.StatusOK
	if !d.State.Valid() {
		d.Error = fmt.Sprintf("There is no state %q; showing every order.", d.State)
		d.State, status = schema.OrderAny, http.StatusBadRequest
	}
	page := pageNumber(q)
	d.Filtered = d.Number != "" || d.State != schema.OrderAny
	d.States = []stateOption{{Value: "", Label: "Any state", Selected: d.State == schema.OrderAny}}
	for _, st := range schema.OrderStates {
		d.States = append(d.States, stateOption{Value: string(st), Label: stateLabels[st], Selected: st == d.State})
	}
	res, err := s.backend.Store().ListOrders(r.Context(), schema.OrderFilter{Number: d.Number, State: d.State,
		Offset: (page - 1) * ordersPageSize, Limit: ordersPageSize})
	if err != nil {
		s.log.WithError(err).Error("console: list orders")
		s.errorPage(w, r, http.StatusInternalServerError, "The ledger could not be read.")
		return
	}
	d.Orders, d.Total = res.Items, res.Total
	if len(d.Orders) > 0 {
		d.From, d.To = (page-1)*ordersPageSize+1, (page-1)*ordersPageSize+len(d.Orders)
	}
	d.Prev, d.Next = pageLinks("/orders", url.Values{"q": {d.Number}, "state": {string(d.State)}}, page, page*ordersPageSize < d.Total)
	s.render(w, r, status, "orders.html", d)
}

// orderData is an order's page: its ledger rows, the order as the source
// holds it, what the next run would do, and the actions a person may take.
type orderData struct {
	Number string
	// Order is the order's own ledger row; nil when the ledger holds only
	// refunds or payments under this number.
	Order *schema.Document
	Docs  []docRow
	// Source is the order as the source holds it now; nil with SourceError
	// when it could not be read.
	Source      *velocity.Order
	SourceError string
	Shipments   []shipmentRow
	// Next is what the next run would do for the order (nil: unknown).
	Next []nextItem
	// InvoiceRefusal says why "Report as Invoice" is not offered; "" offers it.
	InvoiceRefusal string
	// CanRetry, CanSkip, CanAdopt and CanResync offer those actions.
	CanRetry, CanSkip, CanAdopt, CanResync bool
	// Errors are the forms' errors by field ("confirm", "reason") or by
	// action ("action": the engine's refusal).
	Errors FieldErrors
	Reason string // the skip reason typed, kept when the form re-renders
}

// docRow is one ledger row of the order (the order, a refund, a payment).
type docRow struct {
	schema.Document
	What     string // "Order", "Refund rf_1", "Payment pay_1"
	Total    decimal.NullDecimal
	Currency string
	Reasons  reconcile.Reasons
	Fixes    []fixLink
}

// nextItem is an item of the next run, with the links that fix it.
type nextItem struct {
	reconcile.Item
	Fixes []fixLink
}

// shipmentRow is a shipment of the order and whether QBO has its tracking.
type shipmentRow struct {
	velocity.Shipment
	State string
}

func (s *Server) orderShow(w http.ResponseWriter, r *http.Request) {
	s.renderOrder(w, r, http.StatusOK, r.PathValue("number"), nil, "")
}

// renderOrder renders order number's page with status, the forms' errors
// and the skip reason typed.
func (s *Server) renderOrder(w http.ResponseWriter, r *http.Request, status int, number string, errs FieldErrors, reason string) {
	d, err := s.orderData(r.Context(), number)
	switch {
	case errors.Is(err, schema.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("The ledger holds no order %s. Orders appear here once a run has read them.", number))
		return
	case err != nil:
		s.log.WithError(err).Error("console: read order")
		s.errorPage(w, r, http.StatusInternalServerError, "The ledger could not be read.")
		return
	}
	d.Errors, d.Reason = errs, reason
	s.render(w, r, status, "order.html", d)
}

// orderData reads what the order page shows. It returns schema.ErrNotFound
// when the ledger holds nothing under the number.
func (s *Server) orderData(ctx context.Context, number string) (*orderData, error) {
	rows, err := s.backend.Store().DocumentsByOrderNumber(ctx, number)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, schema.ErrNotFound
	}
	d := &orderData{Number: number}
	for i := range rows {
		if rows[i].Kind == string(reconcile.KindOrder) {
			d.Order = &rows[i]
			break
		}
	}
	if d.Order != nil {
		p, err := s.backend.PreviewOrder(ctx, d.Order.SourceID)
		switch {
		case errors.Is(err, velocity.ErrNotFound):
			d.SourceError = s.c.SourceName + " no longer has this order."
		case velocity.IsObjectError(err):
			d.SourceError = s.c.SourceName + " holds this order with invalid data: " + err.Error()
		case err != nil:
			d.SourceError = s.c.SourceName + " could not be read just now, so the order's details and the next run's work are not shown: " + err.Error()
		default:
			d.Source = p.Order
			for _, it := range p.Items {
				ni := nextItem{Item: it}
				for _, rs := range it.Reasons {
					if f, ok := fixLinkOf(rs.Fix, number); ok {
						ni.Fixes = append(ni.Fixes, f)
					}
				}
				d.Next = append(d.Next, ni)
			}
		}
		d.InvoiceRefusal = reconcile.InvoiceRefusal(*d.Order, d.Source)
		if d.InvoiceRefusal == "" && d.Order.HasPendingIntent() {
			d.InvoiceRefusal = "a write of its document has an unknown outcome; the next run looks it up first"
		}
	}
	currency := ""
	if d.Source != nil {
		currency = d.Source.Currency
	}
	for _, row := range rows {
		dr := docRow{Document: row, What: whatOf(row), Total: row.SentTotal, Currency: currency}
		if !dr.Total.Valid {
			dr.Total = sourceTotal(d.Source, row)
		}
		if rs, err := reconcile.DecodeReasons(row.LastReasons); err == nil {
			dr.Reasons = rs
		}
		if row.State == schema.StateSkipped {
			dr.Reasons = reconcile.Reasons{reconcile.SkippedReason(row)}
		}
		for _, rs := range dr.Reasons {
			if f, ok := fixLinkOf(rs.Fix, number); ok {
				dr.Fixes = append(dr.Fixes, f)
			}
		}
		d.Docs = append(d.Docs, dr)
		switch row.State {
		case schema.StateFailed:
			d.CanRetry, d.CanSkip = true, true
		case schema.StateSkipped:
			d.CanRetry, d.CanSkip = true, true
		case schema.StateBlocked, schema.StatePending:
			d.CanSkip = true
		case schema.StateDeletedInQBO:
			d.CanResync = true
		}
		for _, rs := range dr.Reasons {
			switch rs.Fix.Action {
			case reconcile.FixAdopt:
				d.CanAdopt = true
			case reconcile.FixResync:
				d.CanResync = true
			}
		}
	}
	d.Shipments = shipmentRows(d)
	return d, nil
}

// whatOf names a ledger row for a person.
func whatOf(d schema.Document) string {
	switch reconcile.Kind(d.Kind) {
	case reconcile.KindOrder:
		return "Order"
	case reconcile.KindRefund:
		return "Refund " + d.SourceID
	case reconcile.KindPayment:
		return "Payment " + d.SourceID
	}
	return d.Kind + " " + d.SourceID
}

// sourceTotal is the total the source gives a row not confirmed by QBO.
func sourceTotal(o *velocity.Order, d schema.Document) decimal.NullDecimal {
	if o == nil {
		return decimal.NullDecimal{}
	}
	switch reconcile.Kind(d.Kind) {
	case reconcile.KindOrder:
		return decimal.NewNullDecimal(o.Total)
	case reconcile.KindRefund:
		for _, rf := range o.Refunds {
			if rf.ID == d.SourceID {
				return decimal.NewNullDecimal(rf.Total)
			}
		}
	case reconcile.KindPayment:
		for _, p := range o.Payments {
			if p.ID == d.SourceID {
				return decimal.NewNullDecimal(p.Amount)
			}
		}
	}
	return decimal.NullDecimal{}
}

// shipmentRows says for each shipment whether its tracking is on the
// order's QBO document: the next run's shipment item (a tracking-only
// update) means not yet.
func shipmentRows(d *orderData) []shipmentRow {
	if d.Source == nil {
		return nil
	}
	pending := false
	for _, it := range d.Next {
		if it.Kind == reconcile.KindShipment || (it.Kind == reconcile.KindOrder && it.Action != reconcile.ActionNoop) {
			pending = true
		}
	}
	var out []shipmentRow
	for _, sh := range d.Source.Shipments {
		row := shipmentRow{Shipment: sh}
		switch {
		case sh.ShippedAt == nil:
			row.State = "not shipped yet: not sent"
		case d.Order == nil || d.Order.QBOID == "":
			row.State = "waits for the order's document"
		case pending:
			row.State = "the next run sends its tracking"
		default:
			row.State = "on the QuickBooks document"
		}
		out = append(out, row)
	}
	return out
}

// actor is who the engine records for a console action: the user's name.
func actor(r *http.Request) string {
	u, _ := CurrentUser(r.Context())
	return u.Name
}

// orderAction renders the outcome of an action on order number: back to
// the order with flash on success, or the page again with the engine's
// refusal (409) or the failure.
func (s *Server) orderAction(w http.ResponseWriter, r *http.Request, number, flash string, err error) {
	if err == nil {
		s.redirect(w, r, "/orders/"+url.PathEscape(number), flash)
		return
	}
	status := http.StatusConflict
	msg := err.Error()
	switch {
	case errors.Is(err, ErrRunInProgress):
		msg = "A run is in progress, so nothing was changed; try again when it ends. (" + err.Error() + ")"
	case errors.Is(err, ErrNotConnected):
		msg = "velqbo is not connected to QuickBooks: connect it on Integrations first."
	case errors.Is(err, reconcile.ErrSourceUnavailable):
		status = http.StatusServiceUnavailable
	case errors.Is(err, reconcile.ErrCannotReportAsInvoice), errors.Is(err, reconcile.ErrNothingToRetry),
		errors.Is(err, reconcile.ErrNothingToSkip), errors.Is(err, reconcile.ErrNothingToResync),
		errors.Is(err, schema.ErrConflict), errors.Is(err, schema.ErrNotFound):
	default:
		s.log.WithError(err).WithField("order_number", number).Error("console: order action")
		status = http.StatusBadGateway
	}
	s.renderOrder(w, r, status, number, FieldErrors{"action": msg}, "")
}

func (s *Server) orderReportAsInvoice(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	if r.PostFormValue("confirm") != "yes" {
		s.renderOrder(w, r, http.StatusUnprocessableEntity, number,
			FieldErrors{"confirm": "Tick the box to confirm: the order is sent as an Invoice and a SalesReceipt sent for it is voided."}, "")
		return
	}
	d, err := s.backend.ReportAsInvoice(r.Context(), number, actor(r))
	flash := fmt.Sprintf("Order %s is reported as an Invoice from the next run on.", number)
	if err == nil && d.QBOType == reconcile.TypeSalesReceipt && d.QBOID != "" {
		flash = fmt.Sprintf("Order %s is reported as an Invoice from the next run on; its SalesReceipt %s is then voided.", number, d.QBOID)
	}
	s.orderAction(w, r, number, flash, err)
}

func (s *Server) orderRetry(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	var n int
	err := s.backend.WithLease(r.Context(), NeedLedger, func(rec *reconcile.Reconciler) error {
		docs, err := rec.Retry(r.Context(), []string{number}, actor(r))
		n = len(docs)
		return err
	})
	s.orderAction(w, r, number, fmt.Sprintf("Order %s: %d item(s) will be sent again by the next run.", number, n), err)
}

func (s *Server) orderSkip(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		s.renderOrder(w, r, http.StatusUnprocessableEntity, number, FieldErrors{"reason": "Say why the order is set aside: the reason is shown with it on every run."}, "")
		return
	}
	var n int
	err := s.backend.WithLease(r.Context(), NeedLedger, func(rec *reconcile.Reconciler) error {
		docs, err := rec.Skip(r.Context(), number, reason, actor(r))
		n = len(docs)
		return err
	})
	if err != nil && !errors.Is(err, ErrRunInProgress) {
		s.renderOrder(w, r, http.StatusConflict, number, FieldErrors{"action": err.Error()}, reason)
		return
	}
	s.orderAction(w, r, number, fmt.Sprintf("Order %s: %d item(s) set aside; no run sends them until you retry.", number, n), err)
}

func (s *Server) orderAdopt(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	var res []reconcile.Adoption
	err := s.backend.WithLease(r.Context(), NeedFull, func(rec *reconcile.Reconciler) error {
		var err error
		res, err = rec.Adopt(r.Context(), reconcile.AdoptOptions{OrderNumbers: []string{number}})
		return err
	})
	if err == nil {
		var adopted, why []string
		for _, a := range res {
			if a.Adopted {
				adopted = append(adopted, strings.TrimSpace(a.QBOType+" "+a.QBOID))
			} else if a.Why != "" {
				why = append(why, a.Why)
			}
		}
		if len(adopted) == 0 {
			err = fmt.Errorf("nothing was adopted: %s: %w", strings.Join(why, "; "), schema.ErrConflict)
		} else {
			s.orderAction(w, r, number, fmt.Sprintf("Order %s: took over %s; nothing was written to QuickBooks.", number, strings.Join(adopted, ", ")), nil)
			return
		}
	}
	s.orderAction(w, r, number, "", err)
}

func (s *Server) orderResync(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	var n int
	err := s.backend.WithLease(r.Context(), NeedQBO, func(rec *reconcile.Reconciler) error {
		docs, err := rec.Resync(r.Context(), number)
		n = len(docs)
		return err
	})
	s.orderAction(w, r, number, fmt.Sprintf("Order %s: %d document(s) will be re-created in QuickBooks by the next run.", number, n), err)
}
