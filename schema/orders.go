package schema

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DecideInvoice records a person's "Report as Invoice" decision on an
// order's ledger row: who (by) and when, and an audit entry (operation
// "report_as_invoice", detail "by <by>") in the same transaction. It does
// not judge the order (terms, an Invoice already sent): reconcile does.
//
// Returns ErrNotFound when the row does not exist, ErrConflict when the
// order is already decided or the row has a write whose outcome is unknown
// (a run must look it up first), and an error when by is empty or the row
// is not an order's.
func (s *Store) DecideInvoice(ctx context.Context, k DocumentKey, by string) (Document, error) {
	by = strings.TrimSpace(by)
	if by == "" {
		return Document{}, fmt.Errorf("report %s as invoice: who decides is required", k)
	}
	if k.Kind != "order" {
		return Document{}, fmt.Errorf("report %s as invoice: only an order is reported as an invoice", k)
	}
	d, err := s.mutateDocument(ctx, k, false, func(tx *sql.Tx, d *Document, _ bool, now time.Time) error {
		if d.InvoiceDecidedBy != "" {
			return fmt.Errorf("already decided by %s on %s: %w", d.InvoiceDecidedBy, formatTime(d.InvoiceDecidedAt), ErrConflict)
		}
		if d.PendingRequestID != "" {
			return fmt.Errorf("%s (%s) has an unknown outcome; a run must look it up first: %w", d.PendingRequestID, d.PendingWrite(), ErrConflict)
		}
		d.InvoiceDecidedBy, d.InvoiceDecidedAt = by, now.UTC()
		_, err := appendAudit(ctx, tx, AuditEntry{Entity: d.QBOType, Operation: "report_as_invoice", SourceKind: k.Kind,
			SourceID: k.SourceID, QBOID: d.QBOID, Outcome: "decided", Detail: "by " + by}, now)
		return err
	})
	if err != nil {
		return Document{}, fmt.Errorf("report %s as invoice: %w", k, err)
	}
	return d, nil
}

// InvoiceDecisionsDue returns the source ids of the orders a person decided
// to report as Invoices whose row does not hold that Invoice yet, or still
// has the replaced SalesReceipt to void: every run re-reads them by id,
// whatever its window, because the decision does not move the order's
// updated_at in the source. Voided, skipped and deleted-in-QBO rows wait
// for their own fix and are left out.
func (s *Store) InvoiceDecisionsDue(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source_id FROM documents
		WHERE source_kind = 'order' AND invoice_decided_by <> ''
		AND state NOT IN ('voided', 'skipped', 'deleted_in_qbo')
		AND (qbo_type <> 'Invoice' OR qbo_id = '' OR void_receipt_id <> '')
		ORDER BY source_id`)
	if err != nil {
		return nil, fmt.Errorf("invoice decisions due: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("invoice decisions due: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("invoice decisions due: %w", err)
	}
	return out, nil
}

// OrderState selects orders by the state of their objects in ListOrders.
type OrderState string

// Order states for OrderFilter.State. Every one but OrderSent matches an
// order when any of its objects (the order, a refund, a payment) is so.
const (
	OrderAny          OrderState = ""
	OrderSent         OrderState = "sent" // the order's own document is in QBO
	OrderBlocked      OrderState = "blocked"
	OrderFailed       OrderState = "failed"
	OrderUnknown      OrderState = "unknown" // a write whose outcome is unknown
	OrderDeletedInQBO OrderState = "deleted_in_qbo"
	OrderSkipped      OrderState = "skipped"
)

// OrderStates lists the filters of ListOrders, in the order a screen offers them.
var OrderStates = []OrderState{OrderSent, OrderBlocked, OrderFailed, OrderUnknown, OrderDeletedInQBO, OrderSkipped}

// Valid reports whether st is one of the order states (OrderAny included).
func (st OrderState) Valid() bool {
	return st == OrderAny || strings.Contains(" sent blocked failed unknown deleted_in_qbo skipped ", " "+string(st)+" ")
}

// OrderFilter selects orders for ListOrders.
type OrderFilter struct {
	// Number keeps the orders whose number contains it (case-sensitive).
	Number string
	State  OrderState
	// Offset skips that many orders; Limit caps the page (0: 50).
	Offset, Limit int
}

// OrderListItem is one order of ListOrders: its own row, and what its
// objects (the order, its refunds and payments) are.
type OrderListItem struct {
	Order Document
	// States are the distinct states of the order's objects, sorted.
	States []State
	// Objects counts the order's rows; Unknown those with a write whose
	// outcome is unknown.
	Objects, Unknown int
}

// OrderPage is a page of ListOrders and the number of orders that match.
type OrderPage struct {
	Items []OrderListItem
	Total int
}

// sameOrder matches the rows p of the order row o: by order number, or o
// itself when it has none (an order invalid in the source).
const sameOrder = `((p.source_kind = o.source_kind AND p.source_id = o.source_id)
	OR (o.order_number <> '' AND p.order_number = o.order_number))`

// ListOrders returns a page of the ledger's orders matching f, newest
// first: the highest order number first (numbers compare as numbers when
// they are digits: a longer one is higher), the orders without a number
// (invalid in the source) last. It returns an error for an invalid state.
func (s *Store) ListOrders(ctx context.Context, f OrderFilter) (OrderPage, error) {
	if !f.State.Valid() {
		return OrderPage{}, fmt.Errorf("list orders: invalid state %q", f.State)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	where := ` WHERE o.source_kind = 'order'`
	var args []any
	if f.Number != "" {
		where += ` AND instr(o.order_number, ?) > 0`
		args = append(args, f.Number)
	}
	switch f.State {
	case OrderAny:
	case OrderSent:
		where += ` AND o.state = 'sent'`
	case OrderUnknown:
		where += ` AND EXISTS (SELECT 1 FROM documents p WHERE ` + sameOrder + ` AND p.pending_request_id IS NOT NULL)`
	default:
		where += ` AND EXISTS (SELECT 1 FROM documents p WHERE ` + sameOrder + ` AND p.state = ?)`
		args = append(args, string(f.State))
	}
	var page OrderPage
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents o`+where, args...).Scan(&page.Total); err != nil {
		return OrderPage{}, fmt.Errorf("list orders: %w", err)
	}
	cols := "o." + strings.Join(strings.Fields(strings.ReplaceAll(documentCols, ",", " ")), ", o.")
	q := `SELECT ` + cols + `,
		(SELECT group_concat(DISTINCT p.state) FROM documents p WHERE ` + sameOrder + `),
		(SELECT COUNT(*) FROM documents p WHERE ` + sameOrder + `),
		(SELECT COUNT(*) FROM documents p WHERE ` + sameOrder + ` AND p.pending_request_id IS NOT NULL)
		FROM documents o` + where + ` ORDER BY length(o.order_number) DESC, o.order_number DESC, o.source_id DESC LIMIT ? OFFSET ?`
	rows, err := s.db.QueryContext(ctx, q, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return OrderPage{}, fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it OrderListItem
		var states sql.NullString
		d, err := scanDocument(orderRowScanner{rows, []any{&states, &it.Objects, &it.Unknown}})
		if err != nil {
			return OrderPage{}, fmt.Errorf("list orders: %w", err)
		}
		it.Order = d
		for st := range strings.SplitSeq(states.String, ",") {
			if st != "" {
				it.States = append(it.States, State(st))
			}
		}
		slices.Sort(it.States)
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return OrderPage{}, fmt.Errorf("list orders: %w", err)
	}
	return page, nil
}

// orderRowScanner scans a document row followed by extra columns.
type orderRowScanner struct {
	rows  *sql.Rows
	extra []any
}

func (r orderRowScanner) Scan(dest ...any) error { return r.rows.Scan(append(dest, r.extra...)...) }
