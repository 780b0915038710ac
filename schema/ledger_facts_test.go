package schema

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

// TestStore_RecordOutcome_Facts: an outcome's nil facts keep the stored
// values, set ones replace them, and a zero value clears one.
func TestStore_RecordOutcome_Facts(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	stored := ledgerFacts{RequestAttempt: 3, SourceUpdatedAt: at, VoidReceiptID: "12", NotApplicable: true,
		SentTotal: total("39.98"), SentCustomerID: "58", PreviousQBOID: "41"}
	tests := []struct {
		name string
		o    DocumentOutcome
		want ledgerFacts
	}{
		{name: "NilKeeps", want: stored},
		{name: "Set", o: DocumentOutcome{RequestAttempt: new(4), SourceUpdatedAt: new(at.Add(time.Hour).In(time.FixedZone("x", 3600))),
			VoidReceiptID: new("13"), NotApplicable: new(false), SentTotal: new(decimal.RequireFromString("-0.10")),
			SentCustomerID: new("59")},
			want: ledgerFacts{RequestAttempt: 4, SourceUpdatedAt: at.Add(time.Hour), VoidReceiptID: "13",
				SentTotal: total("-0.1"), SentCustomerID: "59", PreviousQBOID: "41"}},
		{name: "ZeroClears", o: DocumentOutcome{RequestAttempt: new(0), SourceUpdatedAt: new(time.Time{}),
			VoidReceiptID: new(""), NotApplicable: new(false), SentCustomerID: new("")},
			want: ledgerFacts{SentTotal: total("39.98"), PreviousQBOID: "41"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := MustOpenStore(t)
			if err := s.ImportDocuments(ctx, []Document{{Kind: "order", SourceID: "ord_1001", State: StateSent, QBOID: "146",
				RequestAttempt: stored.RequestAttempt, SourceUpdatedAt: stored.SourceUpdatedAt, VoidReceiptID: stored.VoidReceiptID,
				NotApplicable: stored.NotApplicable, SentTotal: stored.SentTotal, SentCustomerID: stored.SentCustomerID,
				PreviousQBOID: stored.PreviousQBOID}}); err != nil {
				t.Fatal(err)
			}
			o := tt.o
			o.Key, o.State = orderKey, StateSent
			if err := s.RecordOutcome(ctx, o); err != nil {
				t.Fatal(err)
			}
			d, err := s.GetDocument(ctx, "order", "ord_1001")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, factsOf(d)); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStore_Intent_Target: an intent's action and target are stored with
// it and cleared with it.
func TestStore_Intent_Target(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        Intent
		wantWrite string // PendingWrite
		resolve   func(context.Context, *Store, Intent) error
	}{
		{name: "CreateCleared", in: Intent{Action: WriteCreate, TargetType: "Invoice"}, wantWrite: "create Invoice",
			resolve: func(ctx context.Context, s *Store, in Intent) error { return s.ClearIntent(ctx, in.Key, in.RequestID) }},
		{name: "VoidRecorded", in: Intent{Action: WriteVoid, TargetType: "Invoice", TargetID: "146"}, wantWrite: "void Invoice 146",
			resolve: func(ctx context.Context, s *Store, in Intent) error {
				return s.RecordOutcome(ctx, DocumentOutcome{Key: in.Key, RequestID: in.RequestID, State: StateVoided})
			}},
		{name: "VoidReplacedFailed", in: Intent{Action: WriteVoidReplaced, TargetType: "SalesReceipt", TargetID: "12"},
			wantWrite: "voidreplaced SalesReceipt 12",
			resolve: func(ctx context.Context, s *Store, in Intent) error {
				return s.RecordOutcome(ctx, DocumentOutcome{Key: in.Key, RequestID: in.RequestID, State: StateFailed})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := MustOpenStore(t)
			in := tt.in
			in.Key, in.RequestID = orderKey, "req-"+tt.name
			if err := s.RecordIntent(ctx, in); err != nil {
				t.Fatal(err)
			}
			pending, err := s.PendingIntents(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(pending) != 1 {
				t.Fatalf("pending intents: got %d; want 1", len(pending))
			}
			p := pending[0]
			if got, want := [4]string{p.PendingRequestID, string(p.PendingAction), p.PendingQBOType, p.PendingQBOID},
				[4]string{in.RequestID, string(in.Action), in.TargetType, in.TargetID}; got != want {
				t.Errorf("pending intent: got %q; want %q", got, want)
			}
			if got := p.PendingWrite(); got != tt.wantWrite {
				t.Errorf("PendingWrite: got %q; want %q", got, tt.wantWrite)
			}
			if err := tt.resolve(ctx, s, in); err != nil {
				t.Fatal(err)
			}
			d, err := s.GetDocument(ctx, "order", "ord_1001")
			if err != nil {
				t.Fatal(err)
			}
			if got := [4]string{d.PendingRequestID, string(d.PendingAction), d.PendingQBOType, d.PendingQBOID}; got != [4]string{} {
				t.Errorf("after resolving: intent %q left; want none", got)
			}
		})
	}
}

// TestStore_RecordIntent_InvalidAction: an action outside the four is
// refused, and nothing is recorded.
func TestStore_RecordIntent_InvalidAction(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := MustOpenStore(t)
	for _, a := range []WriteAction{"", "delete", "create:Invoice"} {
		if err := s.RecordIntent(ctx, Intent{Key: orderKey, Action: a, RequestID: "req-1"}); err == nil {
			t.Errorf("action %q: got no error; want one", a)
		}
	}
	if _, err := s.GetDocument(ctx, "order", "ord_1001"); !errors.Is(err, ErrNotFound) {
		t.Errorf("row after refused intents: got %v; want ErrNotFound", err)
	}
}
