package schema

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestStore_DecideInvoice: the decision is stored with who and when,
// audited, refused twice and over an unknown outcome; InvoiceDecisionsDue
// lists the decided orders whose Invoice is not in QBO (or whose replaced
// receipt is not voided yet).
func TestStore_DecideInvoice(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := MustOpenStore(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rows := []Document{
		{Kind: "order", SourceID: "ord_1", OrderNumber: "1001", QBOType: "SalesReceipt", QBOID: "11", State: StateSent},
		{Kind: "order", SourceID: "ord_2", OrderNumber: "1002", QBOType: "Invoice", QBOID: "12", State: StateSent},
		{Kind: "order", SourceID: "ord_3", OrderNumber: "1003", QBOType: "Invoice", QBOID: "13", State: StateSent, VoidReceiptID: "9"},
		{Kind: "order", SourceID: "ord_4", OrderNumber: "1004", QBOType: "SalesReceipt", QBOID: "14", State: StateVoided},
		{Kind: "order", SourceID: "ord_5", OrderNumber: "1005", State: StateBlocked},
		{Kind: "order", SourceID: "ord_6", OrderNumber: "1006", State: StatePending, PendingRequestID: "rid", PendingAction: WriteCreate},
		{Kind: "refund", SourceID: "rf_1", OrderNumber: "1001", State: StateBlocked},
	}
	if err := s.ImportDocuments(ctx, rows); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ord_1", "ord_2", "ord_3", "ord_4", "ord_5"} {
		d, err := s.DecideInvoice(ctx, DocumentKey{Kind: "order", SourceID: id}, " amy ")
		if err != nil {
			t.Fatalf("decide %s: %v", id, err)
		}
		if d.InvoiceDecidedBy != "amy" || !d.InvoiceDecidedAt.Equal(t0) {
			t.Errorf("decide %s: got by %q at %v; want amy at %v", id, d.InvoiceDecidedBy, d.InvoiceDecidedAt, t0)
		}
	}
	got, err := s.GetDocument(ctx, "order", "ord_1")
	if err != nil {
		t.Fatal(err)
	}
	if got.InvoiceDecidedBy != "amy" || !got.InvoiceDecidedAt.Equal(t0) {
		t.Errorf("stored: got by %q at %v; want amy at %v", got.InvoiceDecidedBy, got.InvoiceDecidedAt, t0)
	}
	if m, _ := s.DocumentsBySource(ctx, "order", []string{"ord_1"}); m["ord_1"].InvoiceDecidedBy != "amy" {
		t.Errorf("DocumentsBySource: decided by %q; want amy", m["ord_1"].InvoiceDecidedBy)
	}
	audit, err := s.ListAudit(ctx, AuditFilter{SourceKind: "order", SourceID: "ord_1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 || audit[0].Operation != "report_as_invoice" || audit[0].Detail != "by amy" {
		t.Errorf("audit: got %+v; want one report_as_invoice by amy", audit)
	}

	for _, tc := range []struct {
		name string
		key  DocumentKey
		by   string
		want error
	}{
		{"Twice", DocumentKey{"order", "ord_1"}, "bob", ErrConflict},
		{"UnknownOutcome", DocumentKey{"order", "ord_6"}, "bob", ErrConflict},
		{"NoRow", DocumentKey{"order", "ord_9"}, "bob", ErrNotFound},
		{"NoOne", DocumentKey{"order", "ord_6"}, " ", nil},
		{"Refund", DocumentKey{"refund", "rf_1"}, "bob", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.DecideInvoice(ctx, tc.key, tc.by)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("got %v; want an error wrapping %v", err, tc.want)
			}
		})
	}

	due, err := s.InvoiceDecisionsDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// ord_2 holds its Invoice; ord_4 is voided.
	if diff := cmp.Diff([]string{"ord_1", "ord_3", "ord_5"}, due); diff != "" {
		t.Errorf("due (-want +got):\n%s", diff)
	}
}

// TestStore_ListOrders: search by number, each state filter (an order
// matches by any of its objects), paging newest first (highest number,
// 10000 above 9999; no number last), and the states of each order's
// objects.
func TestStore_ListOrders(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := MustOpenStore(t)
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	rows := []Document{
		{Kind: "order", SourceID: "ord_1", OrderNumber: "1001", State: StateSent, QBOID: "1", FirstSeenAt: day(1)},
		{Kind: "payment", SourceID: "pay_1", OrderNumber: "1001", State: StateFailed, FirstSeenAt: day(1)},
		{Kind: "order", SourceID: "ord_2", OrderNumber: "1002", State: StateBlocked, FirstSeenAt: day(2)},
		{Kind: "order", SourceID: "ord_3", OrderNumber: "1003", State: StateDeletedInQBO, QBOID: "3", FirstSeenAt: day(3)},
		{Kind: "order", SourceID: "ord_4", OrderNumber: "2004", State: StateSent, QBOID: "4", FirstSeenAt: day(4)},
		{Kind: "refund", SourceID: "rf_4", OrderNumber: "2004", State: StatePending, PendingRequestID: "r",
			PendingAction: WriteCreate, FirstSeenAt: day(4)},
		{Kind: "order", SourceID: "ord_5", OrderNumber: "2005", State: StateSkipped, FirstSeenAt: day(5)},
		{Kind: "order", SourceID: "ord_bad", State: StateBlocked, FirstSeenAt: day(6)},
		{Kind: "order", SourceID: "ord_10000", OrderNumber: "10000", State: StateVoided, FirstSeenAt: day(0)},
		{Kind: "order", SourceID: "ord_bad2", State: StateSent, FirstSeenAt: day(7)},
	}
	if err := s.ImportDocuments(ctx, rows); err != nil {
		t.Fatal(err)
	}
	ids := func(p OrderPage) []string {
		var out []string
		for _, it := range p.Items {
			out = append(out, it.Order.SourceID)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		f         OrderFilter
		want      []string
		wantTotal int
	}{
		{"All", OrderFilter{}, []string{"ord_10000", "ord_5", "ord_4", "ord_3", "ord_2", "ord_1", "ord_bad2", "ord_bad"}, 8},
		{"Number", OrderFilter{Number: "100"}, []string{"ord_10000", "ord_3", "ord_2", "ord_1"}, 4},
		{"Sent", OrderFilter{State: OrderSent}, []string{"ord_4", "ord_1", "ord_bad2"}, 3},
		{"BlockedUnnumbered", OrderFilter{State: OrderBlocked}, []string{"ord_2", "ord_bad"}, 2},
		{"FailedPayment", OrderFilter{State: OrderFailed}, []string{"ord_1"}, 1},
		{"Unknown", OrderFilter{State: OrderUnknown}, []string{"ord_4"}, 1},
		{"Deleted", OrderFilter{State: OrderDeletedInQBO}, []string{"ord_3"}, 1},
		{"Skipped", OrderFilter{State: OrderSkipped}, []string{"ord_5"}, 1},
		{"NumberAndState", OrderFilter{Number: "20", State: OrderSent}, []string{"ord_4"}, 1},
		{"Page2", OrderFilter{Limit: 3, Offset: 3}, []string{"ord_3", "ord_2", "ord_1"}, 8},
		{"PastTheEnd", OrderFilter{Limit: 3, Offset: 9}, nil, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.ListOrders(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, ids(p)); diff != "" {
				t.Errorf("orders (-want +got):\n%s", diff)
			}
			if p.Total != tc.wantTotal {
				t.Errorf("total: got %d; want %d", p.Total, tc.wantTotal)
			}
		})
	}
	t.Run("ObjectStates", func(t *testing.T) {
		p, err := s.ListOrders(ctx, OrderFilter{Number: "2004"})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 1 {
			t.Fatalf("got %d orders; want 1", len(p.Items))
		}
		it := p.Items[0]
		if diff := cmp.Diff([]State{StatePending, StateSent}, it.States); diff != "" || it.Objects != 2 || it.Unknown != 1 {
			t.Errorf("got states %v, %d objects, %d unknown; want [pending sent], 2, 1 (%s)", it.States, it.Objects, it.Unknown, diff)
		}
	})
	t.Run("InvalidState", func(t *testing.T) {
		if _, err := s.ListOrders(ctx, OrderFilter{State: "lost"}); err == nil {
			t.Error("got nil error; want one for an unknown state")
		}
	})
}
