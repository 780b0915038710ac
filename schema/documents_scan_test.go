package schema

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

// TestStore_DocumentsBySource_Fields: the rows a reconcile pass reads carry
// every field it compares and acts on, equal to the whole row's, and leave
// the bookkeeping columns zero as documented.
func TestStore_DocumentsBySource_Fields(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := MustOpenStore(t)
	d := Document{Kind: "order", SourceID: "ord_9", OrderNumber: "1009", Generation: 2, QBOType: "Invoice",
		QBOID: "77", SyncToken: "4", DocNumber: "1009", Fingerprint: "b:x;t:y", State: StateFailed,
		PendingRequestID: "vqabc", PendingAction: WriteUpdate, PendingQBOType: "Invoice", PendingQBOID: "77",
		PendingFingerprint: "b:z;t:y", LastError: "boom", Attempts: 3, BlockedRuns: 1,
		RequestAttempt: 2, SourceUpdatedAt: time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC), VoidReceiptID: "12",
		NotApplicable: true, SentTotal: decimal.NewNullDecimal(decimal.RequireFromString("39.98")), SentCustomerID: "58",
		PreviousQBOID: "41"}
	if err := s.ImportDocuments(ctx, []Document{d}); err != nil {
		t.Fatal(err)
	}
	full, err := s.GetDocument(ctx, "order", "ord_9")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.DocumentsBySource(ctx, "order", []string{"ord_9"})
	if err != nil {
		t.Fatal(err)
	}
	want := Document{Kind: full.Kind, SourceID: full.SourceID, OrderNumber: full.OrderNumber, Generation: full.Generation,
		QBOType: full.QBOType, QBOID: full.QBOID, SyncToken: full.SyncToken, DocNumber: full.DocNumber,
		Fingerprint: full.Fingerprint, State: full.State, PendingRequestID: full.PendingRequestID,
		RequestAttempt: full.RequestAttempt, SourceUpdatedAt: full.SourceUpdatedAt, VoidReceiptID: full.VoidReceiptID,
		NotApplicable: full.NotApplicable}
	if diff := cmp.Diff(want, got["ord_9"], cmp.AllowUnexported(Document{})); diff != "" {
		t.Errorf("DocumentsBySource row (-want +got):\n%s", diff)
	}
	if !got["ord_9"].HasPendingIntent() {
		t.Errorf("HasPendingIntent: got false; want true")
	}
}
