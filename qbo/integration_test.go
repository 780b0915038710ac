package qbo_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
)

// fakeQBO runs the real client against the stateful fake in qbo/qbotest,
// authenticated through a real TokenSource against the fake's token endpoint.
type fakeQBO struct {
	srv   *qbotest.Server
	clk   *clock.Fake
	c     *qbo.Client
	ts    *qbo.TokenSource
	seed  qbotest.Seeded
	mu    sync.Mutex
	saved []*oauth2.Token
}

func newFakeQBO(t *testing.T, opts ...qbotest.Option) *fakeQBO {
	t.Helper()
	f := &fakeQBO{clk: clock.NewFake(time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC))}
	f.srv = qbotest.NewTestServer(t, append([]qbotest.Option{qbotest.WithClock(f.clk)}, opts...)...)
	f.seed = f.srv.SeedDefaults()
	conf := qbo.NewOAuthConfig(qbotest.DefaultClientID, qbotest.DefaultClientSecret, "http://localhost/cb")
	conf.Endpoint.TokenURL = f.srv.TokenURL()
	f.ts = qbo.NewTokenSource(conf, &oauth2.Token{RefreshToken: f.srv.IssueRefreshToken()},
		func(_ context.Context, tok *oauth2.Token) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.saved = append(f.saved, tok)
			return nil
		}, f.srv.Client(), f.clk.Now)
	c, err := qbo.NewClient(f.ts.HTTPClient(f.srv.Client().Transport),
		qbo.WithBaseURL(f.srv.URL), qbo.WithRealmID(f.srv.Realm()), qbo.WithClock(f.clk),
		qbo.WithTokenInvalidator(f.ts), qbo.WithRetryPolicy(qbo.RetryPolicy{Jitter: func(d time.Duration) time.Duration { return d }}))
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f
}

func (f *fakeQBO) receipt(t *testing.T, doc string) *qbo.SalesReceipt {
	cust := f.srv.AddCustomer("Amy "+doc, "amy@example.com")
	return &qbo.SalesReceipt{
		DocNumber:   doc,
		TxnDate:     "2025-09-01",
		CustomerRef: &qbo.Ref{Value: cust},
		Line: []qbo.Line{{
			Amount:     qbo.MustDecimal("39.98"),
			DetailType: qbo.SalesItemLine,
			SalesItemLineDetail: &qbo.SalesItemLineDetail{
				ItemRef: &qbo.Ref{Value: f.seed.Products["SKU-1"]}, Qty: qbo.MustDecimal("2"), UnitPrice: qbo.MustDecimal("19.99"),
			},
		}},
	}
}

func TestIntegration_SalesReceiptLifecycle(t *testing.T) {
	f := newFakeQBO(t)
	ctx := t.Context()

	created, _, err := f.c.SalesReceipts.Create(ctx, f.receipt(t, "V-1001"), &qbo.RequestOptions{RequestID: "create-V-1001"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if created.Id == "" || created.SyncToken != "0" || qbo.Dec(created.TotalAmt).String() != "39.98" {
		t.Fatalf("created: Id %q SyncToken %q TotalAmt %s; want an Id, 0, 39.98", created.Id, created.SyncToken, qbo.Dec(created.TotalAmt))
	}
	if len(f.saved) != 1 || f.saved[0].RefreshToken == "" {
		t.Errorf("token saves: got %d; want 1 with a refresh token", len(f.saved))
	}

	got, _, err := f.c.SalesReceipts.Get(ctx, created.Id)
	if err != nil || got.DocNumber != "V-1001" {
		t.Fatalf("Get: %v, %v", got, err)
	}

	upd, _, err := f.c.SalesReceipts.SparseUpdate(ctx, &qbo.SalesReceipt{Id: got.Id, SyncToken: got.SyncToken, PrivateNote: qbo.Ptr("velqbo")},
		&qbo.RequestOptions{RequestID: "note-V-1001"})
	if err != nil {
		t.Fatalf("SparseUpdate: %v", err)
	}
	if upd.SyncToken == got.SyncToken || upd.PrivateNote == nil || *upd.PrivateNote != "velqbo" || len(upd.Line) == 0 {
		t.Errorf("sparse update: SyncToken %q note %v lines %d; want bumped token, note, lines kept", upd.SyncToken, upd.PrivateNote, len(upd.Line))
	}

	// The stale SyncToken from before the update is refused with 5010.
	_, _, err = f.c.SalesReceipts.SparseUpdate(ctx, &qbo.SalesReceipt{Id: got.Id, SyncToken: got.SyncToken, PrivateNote: qbo.Ptr("late")},
		&qbo.RequestOptions{RequestID: "late-V-1001"})
	if !qbo.IsStaleObject(err) || qbo.Retryable(err) {
		t.Errorf("stale update: got %v; want non-retryable 5010", err)
	}

	voided, _, err := f.c.SalesReceipts.Void(ctx, upd.Id, upd.SyncToken, &qbo.RequestOptions{RequestID: "void-V-1001"})
	if err != nil {
		t.Fatalf("Void: %v", err)
	}
	if !qbo.Dec(voided.TotalAmt).IsZero() {
		t.Errorf("voided TotalAmt: got %s; want 0", qbo.Dec(voided.TotalAmt))
	}
	if e, ok := f.srv.Get("SalesReceipt", created.Id); !ok || !e.Voided {
		t.Errorf("fake state: got %+v; want voided", e)
	}
	for _, call := range f.srv.Requests() {
		if call.Operation != "token" && call.MinorVersion != "75" {
			t.Errorf("%s %s: minorversion %q; want 75", call.Method, call.Path, call.MinorVersion)
		}
	}
}

// TestIntegration_RequestIDReplay: the response to a create is lost after the
// fake committed it; the client retries with the same requestid and the fake
// replays the first result, so exactly one receipt exists.
func TestIntegration_RequestIDReplay(t *testing.T) {
	f := newFakeQBO(t)
	f.srv.Inject(qbotest.Injection{
		Match:        func(c *qbotest.Call) bool { return c.Operation == "create" },
		Times:        1,
		LoseResponse: true,
	})
	in := f.receipt(t, "V-2001")
	sr, resp, err := f.c.SalesReceipts.Create(t.Context(), in, &qbo.RequestOptions{RequestID: "create-V-2001"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if resp.Attempts != 2 {
		t.Errorf("attempts: got %d; want 2", resp.Attempts)
	}
	if n := len(f.srv.Entities("SalesReceipt")); n != 1 {
		t.Errorf("receipts in QBO: got %d; want 1", n)
	}
	var ids []string
	replayed := false
	for _, c := range f.srv.Requests() {
		if c.Operation == "create" {
			ids = append(ids, c.RequestID)
			replayed = replayed || c.Replayed
		}
	}
	if len(ids) != 2 || ids[0] != "create-V-2001" || ids[1] != ids[0] || !replayed {
		t.Errorf("create calls: requestids %v replayed %v; want two identical and a replay", ids, replayed)
	}
	// An explicit second call with the same requestid is also a replay.
	again, _, err := f.c.SalesReceipts.Create(t.Context(), in, &qbo.RequestOptions{RequestID: "create-V-2001"})
	if err != nil || again.Id != sr.Id {
		t.Errorf("replay: got %v, %v; want Id %s", again, err, sr.Id)
	}
}

// TestIntegration_ExpiredAccessToken: the fake expires the access token; the
// client sees 401, refreshes once (saving the rotated token) and replays.
func TestIntegration_ExpiredAccessToken(t *testing.T) {
	f := newFakeQBO(t)
	if _, _, err := f.c.Preferences(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Minute) // beyond the TokenSource's invalidate debounce
	f.srv.ExpireAccessTokens()
	p, _, err := f.c.Preferences(t.Context())
	if err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if p.HomeCurrency() != "USD" {
		t.Errorf("HomeCurrency: got %q; want USD", p.HomeCurrency())
	}
	if len(f.saved) != 2 {
		t.Errorf("token saves: got %d; want 2", len(f.saved))
	}
}

func TestIntegration_QueryAndNotFound(t *testing.T) {
	f := newFakeQBO(t)
	items, err := f.c.Items.QueryAll(t.Context(), "WHERE Sku = "+qbo.QueryString("SKU-2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Name != "Gadget" || qbo.Dec(items[0].UnitPrice).String() != "5.25" {
		t.Errorf("items: got %+v; want Gadget 5.25", items)
	}
	all, err := f.c.Items.QueryAll(t.Context(), "")
	if err != nil || len(all) < 7 {
		t.Errorf("all items: got %d, %v; want >= 7", len(all), err)
	}
	_, _, err = f.c.Invoices.Get(t.Context(), "999999")
	if !qbo.IsNotFound(err) {
		t.Errorf("Get missing: got %v; want 610", err)
	}
}

// TestIntegration_CancelledInBackoff: the context ends while the client
// waits to retry a write. The error still says what the attempts made
// say — unanswered (may have written) or refused (not written) — and
// still matches context.Canceled; no further attempt is sent.
func TestIntegration_CancelledInBackoff(t *testing.T) {
	tests := []struct {
		name      string
		inj       qbotest.Injection
		wantMay   bool
		wantUnans int
	}{
		{"Unanswered500", qbotest.Injection{Status: 500}, true, 1},
		{"LostAnswer", qbotest.Injection{LoseResponse: true}, true, 1},
		{"Throttled", qbotest.Injection{Throttle: true}, false, 0},
		{"Unavailable503", qbotest.Injection{Status: 503}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeQBO(t)
			ctx, cancel := context.WithCancel(t.Context())
			c, err := qbo.NewClient(f.ts.HTTPClient(f.srv.Client().Transport),
				qbo.WithBaseURL(f.srv.URL), qbo.WithRealmID(f.srv.Realm()), qbo.WithClock(f.clk),
				qbo.WithObserver(qbo.Observer{Retry: func(int, string, time.Duration) { cancel() }}))
			if err != nil {
				t.Fatal(err)
			}
			in := f.receipt(t, "V-3001")
			inj := tt.inj
			inj.Times, inj.Match = 1, func(c *qbotest.Call) bool { return c.Operation == "create" }
			f.srv.Inject(inj)
			_, _, err = c.SalesReceipts.Create(ctx, in, &qbo.RequestOptions{RequestID: "create-V-3001"})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v; want context.Canceled", err)
			}
			var ae *qbo.AttemptsError
			if !errors.As(err, &ae) {
				t.Fatalf("got %T %v; want *AttemptsError", err, err)
			}
			if ae.Attempts != 1 || ae.Unanswered != tt.wantUnans {
				t.Errorf("attempts: got %d, %d unanswered; want 1, %d unanswered", ae.Attempts, ae.Unanswered, tt.wantUnans)
			}
			if got := qbo.MayHaveWritten(err); got != tt.wantMay {
				t.Errorf("MayHaveWritten: got %v; want %v (%v)", got, tt.wantMay, err)
			}
			creates := 0
			for _, call := range f.srv.Requests() {
				if call.Operation == "create" {
					creates++
				}
			}
			if creates != 1 {
				t.Errorf("creates sent: got %d; want 1 (no retry after the cancel)", creates)
			}
		})
	}
}
