package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

var _ reconcile.VerifyQBO = reconcile.QBOClient{}

// verifyScenario sends five orders: ord_1, ord_3, ord_4, ord_5 as
// SalesReceipts, ord_2 as an Invoice.
func verifyScenario(h *engHarness) {
	h.t.Helper()
	h.v.AddOrder(engOrder("ord_1", "1001", 2))
	h.v.AddOrder(engTermsOrder("ord_2", "1002", 1))
	h.v.AddOrder(engOrder("ord_3", "1003", 3))
	h.v.AddOrder(engOrder("ord_4", "1004", 1))
	h.v.AddOrder(engOrder("ord_5", "1005", 4))
	if sum := h.run(reconcile.Options{}); sum.Counts.Created != 5 {
		h.t.Fatalf("setup run: created %d; want 5 (items %+v)", sum.Counts.Created, sum.Items)
	}
}

func (h *engHarness) verify(opts reconcile.VerifyOptions) *reconcile.DriftReport {
	h.t.Helper()
	rep, err := h.rec.Verify(h.ctx, opts)
	if err != nil {
		h.t.Fatalf("Verify: %v", err)
	}
	return rep
}

// ops counts the QBO calls since mark by operation (query, batch, cdc,
// create, update, void, delete, read).
func (h *engHarness) ops(mark int) map[string]int {
	out := map[string]int{}
	for _, c := range h.q.Requests()[mark:] {
		if c.Operation != "token" && c.Status != http.StatusUnauthorized { // an expired token's first try
			out[c.Operation]++
		}
	}
	return out
}

type driftRow struct{ SourceID, QBOType, Drift string }

func driftRows(rep *reconcile.DriftReport) []driftRow {
	out := []driftRow{}
	for _, d := range rep.Drift {
		out = append(out, driftRow{d.SourceID, d.QBOType, d.Drift})
	}
	return out
}

// personEditFirstLineAmount sets the first line's amount (QBO recomputes
// the total).
func personEditFirstLineAmount(amount string) func(map[string]any) {
	return func(m map[string]any) {
		lines := m["Line"].([]any)
		l := lines[0].(map[string]any)
		l["Amount"] = json.Number(amount)
		if d, ok := l["SalesItemLineDetail"].(map[string]any); ok {
			delete(d, "Qty")
			delete(d, "UnitPrice")
		}
	}
}

func TestVerifyClean(t *testing.T) {
	h := newEngHarness(t)
	verifyScenario(h)
	m := h.mark()
	rep := h.verify(reconcile.VerifyOptions{})
	if !rep.Clean() || rep.Mode != "full" || rep.Checked != 5 || rep.Read != 5 {
		t.Fatalf("clean verify: mode %s checked %d read %d drift %+v; want full, 5, 5, none", rep.Mode, rep.Checked, rep.Read, rep.Drift)
	}
	// Two types, one query each, one batch request.
	if diff := cmp.Diff(map[string]int{"batch": 1}, h.ops(m)); diff != "" {
		t.Errorf("QBO calls (-want +got):\n%s", diff)
	}
	if rep.Requests != 1 {
		t.Errorf("reported requests: got %d; want 1", rep.Requests)
	}
	if d := h.doc("order", "ord_1"); !d.SentTotal.Valid || d.SentTotal.Decimal.String() != "39.98" || d.SentCustomerID != h.cust {
		t.Errorf("ledger facts of ord_1: got total %v customer %q; want total 39.98, customer %s", d.SentTotal, d.SentCustomerID, h.cust)
	}
	if v, err := h.store.GetCursor(h.ctx, reconcile.CursorVerify); err != nil || v != engStart.Format(time.RFC3339Nano) {
		t.Errorf("verify cursor: got %q, %v; want %s", v, err, engStart.Format(time.RFC3339Nano))
	}
}

func (h *engHarness) qboID(kind, id string) string { return h.doc(kind, id).QBOID }

// plantDrift has "a person" delete ord_1's receipt, void ord_2's invoice,
// change ord_3's total, move ord_4 to another customer and add a memo to
// ord_5 (only its SyncToken moves).
func plantDrift(h *engHarness) {
	h.t.Helper()
	h.must(h.q.PersonDelete("SalesReceipt", h.qboID("order", "ord_1")))
	h.must(h.q.PersonVoid("Invoice", h.qboID("order", "ord_2")))
	h.must(h.q.PersonEdit("SalesReceipt", h.qboID("order", "ord_3"), personEditFirstLineAmount("5.00")))
	other := h.q.AddCustomer("Bob Jones", "bob@example.com")
	h.must(h.q.PersonEdit("SalesReceipt", h.qboID("order", "ord_4"), func(m map[string]any) {
		m["CustomerRef"] = map[string]any{"value": other}
	}))
	h.must(h.q.PersonEdit("SalesReceipt", h.qboID("order", "ord_5"), func(m map[string]any) {
		m["CustomerMemo"] = map[string]any{"value": "thanks"}
	}))
}

var plantedDrift = []driftRow{
	{"ord_1", "SalesReceipt", reconcile.DriftDeleted},
	{"ord_2", "Invoice", reconcile.DriftVoided},
	{"ord_3", "SalesReceipt", reconcile.DriftTotalChanged},
	{"ord_4", "SalesReceipt", reconcile.DriftCustomerChanged},
	{"ord_5", "SalesReceipt", reconcile.DriftSyncTokenMoved},
}

func TestVerifyFindsDrift(t *testing.T) {
	for _, full := range []bool{true, false} {
		t.Run(fmt.Sprintf("full=%v", full), func(t *testing.T) {
			h := newEngHarness(t)
			verifyScenario(h)
			if !full {
				h.verify(reconcile.VerifyOptions{}) // sets the cursor: the next one uses CDC
			}
			h.clk.Advance(time.Hour)
			plantDrift(h)
			h.clk.Advance(time.Hour)

			m := h.mark()
			rep := h.verify(reconcile.VerifyOptions{Full: full})
			if diff := cmp.Diff(plantedDrift, driftRows(rep)); diff != "" {
				t.Errorf("drift (-want +got):\n%s", diff)
			}
			wantMode := map[bool]string{true: "full", false: "cdc"}[full]
			if rep.Mode != wantMode {
				t.Errorf("mode: got %s; want %s", rep.Mode, wantMode)
			}
			// Verify only reads: one batch (full) or one CDC call.
			wantOps := map[bool]map[string]int{true: {"batch": 1}, false: {"cdc": 1}}[full]
			if diff := cmp.Diff(wantOps, h.ops(m)); diff != "" {
				t.Errorf("QBO calls (-want +got):\n%s", diff)
			}
			for _, d := range rep.Drift {
				if d.OrderNumber == "" || d.QBOID == "" || d.DocNumber != d.OrderNumber || d.Kind != "order" || d.Detail == "" {
					t.Errorf("drift row %+v: want order number, QBO id, doc number, kind and detail", d)
				}
			}
			if got := h.doc("order", "ord_1").State; got != schema.StateDeletedInQBO {
				t.Errorf("ledger state of the deleted ord_1: got %s; want %s", got, schema.StateDeletedInQBO)
			}
			if got := h.doc("order", "ord_3").State; got != schema.StateSent {
				t.Errorf("ledger state of the edited ord_3: got %s; want sent (only reported)", got)
			}

			// The next verify (CDC now, nothing changed since) still reports
			// what is unresolved, by re-reading it by id; the deleted
			// document is in the ledger and not read again.
			h.clk.Advance(time.Hour)
			m = h.mark()
			rep = h.verify(reconcile.VerifyOptions{})
			if diff := cmp.Diff(plantedDrift[1:], driftRows(rep)); diff != "" {
				t.Errorf("second verify drift (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]int{"cdc": 1, "batch": 1}, h.ops(m)); diff != "" {
				t.Errorf("second verify QBO calls (-want +got):\n%s", diff)
			}
			if rep.Mode != "cdc" || rep.Requests != 2 || rep.Read != 4 {
				t.Errorf("second verify: mode %s requests %d read %d; want cdc, 2, 4", rep.Mode, rep.Requests, rep.Read)
			}
		})
	}
}

func TestVerifyCDCWindow(t *testing.T) {
	tests := []struct {
		name     string
		advance  time.Duration
		wantMode string
		wantOps  map[string]int
		wantRead int
	}{
		{"recent cursor uses CDC", 24 * time.Hour, "cdc", map[string]int{"cdc": 1}, 0},
		{"cursor older than 30 days reads all", 31 * 24 * time.Hour, "full", map[string]int{"batch": 1}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEngHarness(t)
			verifyScenario(h)
			h.clk.Advance(time.Hour)
			h.verify(reconcile.VerifyOptions{})
			h.clk.Advance(tt.advance)
			m := h.mark()
			rep := h.verify(reconcile.VerifyOptions{})
			if !rep.Clean() || rep.Mode != tt.wantMode || rep.Checked != 5 || rep.Read != tt.wantRead {
				t.Errorf("verify: mode %s checked %d read %d drift %+v; want %s, 5, %d, none",
					rep.Mode, rep.Checked, rep.Read, rep.Drift, tt.wantMode, tt.wantRead)
			}
			if diff := cmp.Diff(tt.wantOps, h.ops(m)); diff != "" {
				t.Errorf("QBO calls (-want +got):\n%s", diff)
			}
			if tt.wantMode == "cdc" && !rep.Since.Equal(engStart.Add(55*time.Minute)) {
				t.Errorf("CDC since: got %s; want the last verify minus 5 minutes", rep.Since)
			}
		})
	}
}

// capped answers CDC with its cap of 1000 objects; verify must then read
// everything by id.
type capped struct{ reconcile.VerifyQBO }

func (c capped) ChangedSince(context.Context, []string, time.Time) ([]reconcile.ChangedDoc, error) {
	out := make([]reconcile.ChangedDoc, 1000)
	for i := range out {
		out[i].Type, out[i].ID = reconcile.TypeInvoice, strconv.Itoa(100000+i)
	}
	return out, nil
}

func TestVerifyCDCCapFallsBackToFull(t *testing.T) {
	h := newEngHarness(t)
	verifyScenario(h)
	h.verify(reconcile.VerifyOptions{})
	h.clk.Advance(time.Hour)
	h.must(h.q.PersonDelete("SalesReceipt", h.qboID("order", "ord_4")))
	rep := h.verify(reconcile.VerifyOptions{QBO: capped{h.rec.QBO.(reconcile.VerifyQBO)}})
	if rep.Mode != "full" || rep.Requests != 2 || rep.Read != 5 {
		t.Errorf("capped CDC: mode %s requests %d read %d; want full, 2 (cdc + batch), 5", rep.Mode, rep.Requests, rep.Read)
	}
	if diff := cmp.Diff([]driftRow{{"ord_4", "SalesReceipt", reconcile.DriftDeleted}}, driftRows(rep)); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
}

func TestVerifySkipsPendingAndVoided(t *testing.T) {
	h := newEngHarness(t)
	verifyScenario(h)
	// ord_5 is cancelled: the engine voids it, so its QBO copy (voided)
	// is no drift.
	h.must(h.v.Cancel("ord_5"))
	h.run(reconcile.Options{})
	if st := h.doc("order", "ord_5").State; st != schema.StateVoided {
		t.Fatalf("setup: ord_5 state %s; want voided", st)
	}
	// A write to ord_4 is in flight: its SyncToken may be ours.
	d4 := h.doc("order", "ord_4")
	h.must(h.store.RecordIntent(h.ctx, schema.Intent{Key: d4.Key(), RequestID: "vqpending", Action: "update", Fingerprint: "x"}))
	h.must(h.q.PersonEdit("SalesReceipt", d4.QBOID, func(m map[string]any) { m["CustomerMemo"] = map[string]any{"value": "x"} }))

	rep := h.verify(reconcile.VerifyOptions{})
	if !rep.Clean() || rep.Checked != 3 {
		t.Errorf("verify: checked %d drift %+v; want 3, none", rep.Checked, rep.Drift)
	}
	rc, err := h.store.GetCursor(h.ctx, reconcile.CursorVerifyRecheck)
	if want := "SalesReceipt:" + d4.QBOID; err != nil || rc != want {
		t.Errorf("recheck cursor: got %q, %v; want %q", rc, err, want)
	}
}

// recordingReader answers every id query as found and unchanged, and
// records the shape of each request.
type recordingReader struct {
	docs     map[string]reconcile.DocRef
	requests [][]reconcile.IDQuery
}

func (r *recordingReader) FindByIDs(_ context.Context, qs []reconcile.IDQuery) ([]reconcile.DocRef, error) {
	r.requests = append(r.requests, slices.Clone(qs))
	var out []reconcile.DocRef
	for _, q := range qs {
		for _, id := range q.IDs {
			out = append(out, r.docs[q.Type+":"+id])
		}
	}
	return out, nil
}

func (r *recordingReader) ChangedSince(context.Context, []string, time.Time) ([]reconcile.ChangedDoc, error) {
	return nil, fmt.Errorf("CDC not expected")
}

// TestVerifyFullBatching checks the request count on a big ledger: 3000
// invoices, 150 receipts and one payment are 30 + 2 + 1 queries of at most
// 100 ids, so two batch requests.
func TestVerifyFullBatching(t *testing.T) {
	h := newEngHarness(t)
	rd := &recordingReader{docs: map[string]reconcile.DocRef{}}
	var rows []schema.Document
	add := func(kind, typ string, n int) {
		for i := range n {
			id := fmt.Sprintf("%s-%05d", kind, i)
			qid := fmt.Sprintf("%d", len(rows)+1)
			rows = append(rows, schema.Document{Kind: kind, SourceID: id, OrderNumber: id, QBOType: typ, QBOID: qid,
				SyncToken: "0", DocNumber: id, State: schema.StateSent})
			rd.docs[typ+":"+qid] = reconcile.DocRef{Type: typ, ID: qid, SyncToken: "0"}
		}
	}
	add("order", reconcile.TypeInvoice, 3000)
	add("refund", reconcile.TypeSalesReceipt, 150)
	add("payment", reconcile.TypePayment, 1)
	h.must(h.store.ImportDocuments(h.ctx, rows))

	rep := h.verify(reconcile.VerifyOptions{QBO: rd})
	if !rep.Clean() || rep.Checked != 3151 || rep.Read != 3151 || rep.Requests != 2 {
		t.Fatalf("verify: checked %d read %d requests %d drift %d; want 3151, 3151, 2, 0", rep.Checked, rep.Read, rep.Requests, len(rep.Drift))
	}
	seen := map[string]int{}
	for i, req := range rd.requests {
		if len(req) > qbo.MaxBatchItems {
			t.Errorf("request %d: %d queries; want at most %d", i, len(req), qbo.MaxBatchItems)
		}
		for _, q := range req {
			if len(q.IDs) > reconcile.VerifyIDsPerQuery {
				t.Errorf("query of %d ids; want at most %d", len(q.IDs), reconcile.VerifyIDsPerQuery)
			}
			for _, id := range q.IDs {
				seen[q.Type+":"+id]++
			}
		}
	}
	if len(seen) != 3151 {
		t.Errorf("distinct documents read: got %d; want 3151", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s read %d times; want once", k, n)
		}
	}

	// One of them is missing from QBO: reported and marked in the ledger.
	delete(rd.docs, "Invoice:17")
	rd.requests = nil
	rep = h.verify(reconcile.VerifyOptions{Full: true, QBO: rd})
	if diff := cmp.Diff([]driftRow{{"order-00016", "Invoice", reconcile.DriftDeleted}}, driftRows(rep)); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
	if st := h.doc("order", "order-00016").State; st != schema.StateDeletedInQBO {
		t.Errorf("ledger state: got %s; want %s", st, schema.StateDeletedInQBO)
	}
}

// FuzzFindByIDs feeds arbitrary QueryResponse objects to the batch decoder
// behind QBOClient.FindByIDs over a loopback server: it must never panic,
// and what it returns is of the queried type.
func FuzzFindByIDs(f *testing.F) {
	f.Add([]byte(`{"Invoice":[{"Id":"1","SyncToken":"2","DocNumber":"1001","TotalAmt":12.50,"CustomerRef":{"value":"7"}}],"startPosition":1,"maxResults":1}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"Invoice":[{"Id":"3","PrivateNote":"Voided","TotalAmt":0}]}`))
	f.Add([]byte(`{"Invoice":{"Id":"1"}}`))
	f.Add([]byte(`{"Invoice":[{"TotalAmt":"1e99999"}]}`))
	f.Add([]byte(`[]`))
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"BatchItemResponse":[{"bId":"q0","QueryResponse":%s}]}`, body)
	}))
	defer srv.Close()
	c, err := qbo.NewClient(srv.Client(), qbo.WithBaseURL(srv.URL), qbo.WithRealmID("1"),
		qbo.WithPacing(qbo.Pacing{RequestsPerMinute: 100000, BatchRequestsPerMinute: 100000, MaxInFlight: 1}),
		qbo.WithRetryPolicy(qbo.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		f.Fatal(err)
	}
	q := reconcile.QBOClient{C: c}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		body = raw
		docs, err := q.FindByIDs(context.Background(), []reconcile.IDQuery{{Type: reconcile.TypeInvoice, IDs: []string{"1"}}})
		if err != nil {
			return
		}
		for _, d := range docs {
			if d.Type != reconcile.TypeInvoice {
				t.Errorf("decoded type %q; want Invoice", d.Type)
			}
		}
	})
}
