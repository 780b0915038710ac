package schema

import (
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

// createV1 makes a database at schema version 1, as velqbo before
// 0002_typed_ledger left it, and inserts rows into its documents table
// with the version 1 columns.
func createV1(t *testing.T, path string, rows []v1Row) {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].version != 1 {
		t.Fatalf("first migration: got version %d; want 1", ms[0].version)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{schemaMigrationsDDL, ms[0].sql} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, ?, ?)`,
		ms[0].name, "2026-01-01T00:00:00.000000000Z"); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var act, req, at any // NULL without an intent
		if r.pendingAction != "" {
			act, req, at = r.pendingAction, "vq-"+r.id, "2026-01-02T00:00:00.000000000Z"
		}
		if _, err := db.Exec(`INSERT INTO documents (source_kind, source_id, order_number, qbo_type, qbo_id,
			state, pending_request_id, pending_action, pending_at, attempts, extra, first_seen_at, updated_at)
			VALUES ('order', ?, ?, ?, ?, 'sent', ?, ?, ?, 1, ?, ?, ?)`,
			r.id, "n-"+r.id, r.qboType, r.qboID, req, act, at,
			r.extra, "2026-01-01T00:00:00.000000000Z", "2026-01-01T00:00:00.000000000Z"); err != nil {
			t.Fatalf("insert %s: %v", r.id, err)
		}
	}
}

type v1Row struct {
	id               string
	qboType, qboID   string
	extra            string // the JSON of the extra column
	pendingAction    string // colon-joined; empty: no intent
	want             ledgerFacts
	wantIntentAction WriteAction
	// wantIntentType and wantIntentID are what reconcile's resolvePending
	// read from the colon-joined form (the type and void target defaulting
	// to the row's own).
	wantIntentType, wantIntentID string
}

// ledgerFacts are the typed fields that replaced Extra.
type ledgerFacts struct {
	RequestAttempt  int
	SourceUpdatedAt time.Time
	VoidReceiptID   string
	NotApplicable   bool
	SentTotal       decimal.NullDecimal
	SentCustomerID  string
	PreviousQBOID   string
}

func factsOf(d Document) ledgerFacts {
	return ledgerFacts{d.RequestAttempt, d.SourceUpdatedAt, d.VoidReceiptID, d.NotApplicable, d.SentTotal,
		d.SentCustomerID, d.PreviousQBOID}
}

func total(s string) decimal.NullDecimal { return decimal.NewNullDecimal(decimal.RequireFromString(s)) }

// TestMigrate_TypedLedger opens a version 1 database holding every Extra key
// and every form of pending action with the current code: each value must
// arrive in its typed field, and the pending intents must still be listed,
// guarded and resolvable.
func TestMigrate_TypedLedger(t *testing.T) {
	t.Parallel()
	rows := []v1Row{
		{id: "every_key", qboType: "Invoice", qboID: "146",
			extra: `{"attempt":"2","source_updated":"2026-03-04T05:06:07.123456Z","void_sales_receipt":"12",` +
				`"not_applicable":"true","total":"39.98","customer":"58","previous_qbo_id":"41"}`,
			want: ledgerFacts{RequestAttempt: 2, SourceUpdatedAt: time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC),
				VoidReceiptID: "12", NotApplicable: true, SentTotal: total("39.98"), SentCustomerID: "58", PreviousQBOID: "41"}},
		{id: "empty", qboType: "SalesReceipt", qboID: "7", extra: `{}`},
		{id: "whole_second", extra: `{"source_updated":"2026-03-04T05:06:07Z","total":"0"}`,
			want: ledgerFacts{SourceUpdatedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), SentTotal: total("0")}},
		{id: "nanoseconds", extra: `{"source_updated":"2026-03-04T05:06:07.000000001Z","total":"-5.5"}`,
			want: ledgerFacts{SourceUpdatedAt: time.Date(2026, 3, 4, 5, 6, 7, 1, time.UTC), SentTotal: total("-5.5")}},
		{id: "offset", extra: `{"source_updated":"2026-03-04T07:06:07.5+02:00"}`,
			want: ledgerFacts{SourceUpdatedAt: time.Date(2026, 3, 4, 5, 6, 7, 500000000, time.UTC)}},
		// What the old code could not parse it ignored: attempt 0, no
		// stale-copy guard, no total compared.
		{id: "unparsable", extra: `{"attempt":"x","source_updated":"yesterday","total":"n/a","note":"kept nowhere"}`},
		{id: "create", qboType: "Invoice", extra: `{"attempt":"1"}`, pendingAction: "create:Invoice",
			want: ledgerFacts{RequestAttempt: 1}, wantIntentAction: WriteCreate, wantIntentType: "Invoice"},
		{id: "create_bare", qboType: "SalesReceipt", extra: `{}`, pendingAction: "create",
			wantIntentAction: WriteCreate, wantIntentType: "SalesReceipt"},
		{id: "update", qboType: "SalesReceipt", qboID: "77", extra: `{}`, pendingAction: "update:SalesReceipt",
			wantIntentAction: WriteUpdate, wantIntentType: "SalesReceipt", wantIntentID: "77"},
		{id: "void", qboType: "Invoice", qboID: "146", extra: `{}`, pendingAction: "void:Invoice:146",
			wantIntentAction: WriteVoid, wantIntentType: "Invoice", wantIntentID: "146"},
		{id: "void_type_only", qboType: "Invoice", qboID: "9", extra: `{}`, pendingAction: "void:Invoice",
			wantIntentAction: WriteVoid, wantIntentType: "Invoice", wantIntentID: "9"},
		{id: "void_bare", qboType: "RefundReceipt", qboID: "8", extra: `{}`, pendingAction: "void",
			wantIntentAction: WriteVoid, wantIntentType: "RefundReceipt", wantIntentID: "8"},
		{id: "empty_parts", qboType: "Invoice", qboID: "5", extra: `{}`, pendingAction: "void::",
			wantIntentAction: WriteVoid, wantIntentType: "Invoice", wantIntentID: "5"},
		{id: "void_colon_id", qboType: "Invoice", qboID: "1", extra: `{}`, pendingAction: "void:Invoice:a:b",
			wantIntentAction: WriteVoid, wantIntentType: "Invoice", wantIntentID: "a:b"},
		{id: "voidreplaced", qboType: "Invoice", qboID: "146", extra: `{"void_sales_receipt":"12"}`,
			pendingAction: "voidreplaced:SalesReceipt:12", want: ledgerFacts{VoidReceiptID: "12"},
			wantIntentAction: WriteVoidReplaced, wantIntentType: "SalesReceipt", wantIntentID: "12"},
	}
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "velqbo.db")
	createV1(t, path, rows)
	s := mustOpenStoreAt(t, path)

	applied, err := s.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(applied, func(m Migration) bool { return m.Name == "0002_typed_ledger.sql" }) {
		t.Errorf("applied migrations %+v; want 0002_typed_ledger.sql among them", applied)
	}
	var extraCols int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('documents') WHERE name = 'extra'`).Scan(&extraCols); err != nil {
		t.Fatal(err)
	}
	if extraCols != 0 {
		t.Errorf("documents.extra: still there after the migration")
	}

	// Stored as every other value of its kind: times in the fixed-width
	// UTC form, money as the decimal text it was.
	var at, tot, totType string
	if err := s.db.QueryRowContext(ctx, `SELECT source_updated_at, sent_total, typeof(sent_total) FROM documents
		WHERE source_id = 'every_key'`).Scan(&at, &tot, &totType); err != nil {
		t.Fatal(err)
	}
	if at != "2026-03-04T05:06:07.123456000Z" || tot != "39.98" || totType != "text" {
		t.Errorf("stored source_updated_at %q, sent_total %q (%s); want 2026-03-04T05:06:07.123456000Z, 39.98 (text)", at, tot, totType)
	}

	for _, r := range rows {
		t.Run(r.id, func(t *testing.T) {
			d, err := s.GetDocument(ctx, "order", r.id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(r.want, factsOf(d)); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
			if d.LastReasons != nil {
				t.Errorf("last reasons %q; want none on a row written before 0003_reasons", d.LastReasons)
			}
			type intent struct {
				Action     WriteAction
				Type, ID   string
				RequestID  string
				HasPending bool
			}
			want := intent{Action: r.wantIntentAction, Type: r.wantIntentType, ID: r.wantIntentID}
			if r.pendingAction != "" {
				want.RequestID, want.HasPending = "vq-"+r.id, true
			}
			got := intent{d.PendingAction, d.PendingQBOType, d.PendingQBOID, d.PendingRequestID, d.HasPendingIntent()}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("intent (-want +got):\n%s", diff)
			}
			// The hot read path carries the facts a reconcile pass acts on.
			byID, err := s.DocumentsBySource(ctx, "order", []string{r.id})
			if err != nil {
				t.Fatal(err)
			}
			b := byID[r.id]
			if b.RequestAttempt != r.want.RequestAttempt || !b.SourceUpdatedAt.Equal(r.want.SourceUpdatedAt) ||
				b.VoidReceiptID != r.want.VoidReceiptID || b.NotApplicable != r.want.NotApplicable ||
				b.PendingRequestID != want.RequestID {
				t.Errorf("DocumentsBySource: got %+v; want facts %+v, pending %q", b, r.want, want.RequestID)
			}
		})
	}

	// Every migrated intent is listed, still guards its row, and resolves.
	pending, err := s.PendingIntents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var gotPending, wantPending []string
	for _, d := range pending {
		gotPending = append(gotPending, d.SourceID)
	}
	for _, r := range rows {
		if r.pendingAction != "" {
			wantPending = append(wantPending, r.id)
		}
	}
	slices.Sort(wantPending)
	if diff := cmp.Diff(wantPending, gotPending); diff != "" {
		t.Errorf("pending intents (-want +got):\n%s", diff)
	}
	for _, d := range pending {
		if err := s.RecordIntent(ctx, Intent{Key: d.Key(), Action: WriteCreate, RequestID: "other"}); !errors.Is(err, ErrConflict) {
			t.Errorf("%s: a new intent over the migrated one: got %v; want ErrConflict", d.SourceID, err)
		}
	}
	for i, d := range pending {
		var err error
		if i%2 == 0 {
			err = s.ClearIntent(ctx, d.Key(), d.PendingRequestID)
		} else {
			err = s.RecordOutcome(ctx, DocumentOutcome{Key: d.Key(), RequestID: d.PendingRequestID, State: StateSent, QBOID: "900"})
		}
		if err != nil {
			t.Errorf("%s: resolve: %v", d.SourceID, err)
		}
	}
	if left, err := s.PendingIntents(ctx); err != nil || len(left) != 0 {
		t.Errorf("pending intents after resolving: got %d, %v; want none", len(left), err)
	}
	for _, r := range rows {
		d, err := s.GetDocument(ctx, "order", r.id)
		if err != nil {
			t.Fatal(err)
		}
		if d.PendingAction != "" || d.PendingQBOType != "" || d.PendingQBOID != "" {
			t.Errorf("%s after resolving: intent %s %s %s left; want none", r.id, d.PendingAction, d.PendingQBOType, d.PendingQBOID)
		}
	}
}
