package qbo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/internal/clock"
)

const okInvoice = `{"Invoice":{"Id":"42","SyncToken":"0","DocNumber":"1001","TotalAmt":19.99},"time":"2025-09-01T00:00:00Z"}`

func TestNewClient(t *testing.T) {
	if _, err := NewClient(nil); err == nil {
		t.Error("no realm: got nil error; want error")
	}
	if _, err := NewClient(nil, WithRealmID("1"), WithMinorVersion(70)); err == nil {
		t.Error("minorversion 70: got nil error; want error")
	}
	if _, err := NewClient(nil, WithRealmID("1"), WithBaseURL("::")); err == nil {
		t.Error("bad base url: got nil error; want error")
	}
	c, err := NewClient(nil, WithRealmID("1"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := c.NewRequest(t.Context(), http.MethodGet, "invoice/5", nil, nil)
	if got, want := req.URL.String(), "https://quickbooks.api.intuit.com/v3/company/1/invoice/5?minorversion=75"; got != want {
		t.Errorf("url: got %s; want %s", got, want)
	}
}

// TestDo_RetryThenSuccess: two 503s, then success. The requestid and body are
// identical on every attempt, and the backoff doubles under full jitter.
func TestDo_RetryThenSuccess(t *testing.T) {
	var retries []string
	c, mux, clk, _ := setup(t, WithObserver(Observer{Retry: func(_ int, reason string, _ time.Duration) { retries = append(retries, reason) }}))
	var (
		calls  int
		ids    []string
		bodies []string
	)
	mux.HandleFunc("/v3/company/"+testRealm+"/invoice", func(w http.ResponseWriter, r *http.Request) {
		calls++
		ids = append(ids, r.URL.Query().Get("requestid"))
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		if calls <= 2 {
			writeJSON(w, http.StatusServiceUnavailable, `{"Fault":{"Error":[{"Message":"busy","code":"10000"}],"type":"SystemFault"}}`)
			return
		}
		writeJSON(w, http.StatusOK, okInvoice)
	})
	inv, resp, err := c.Invoices.Create(t.Context(), &Invoice{DocNumber: "1001", CustomerRef: &Ref{Value: "7"}}, &RequestOptions{RequestID: "inv-1001-abc"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if inv.Id != "42" || Dec(inv.TotalAmt).String() != "19.99" {
		t.Errorf("got Id %s TotalAmt %s; want 42 19.99", inv.Id, Dec(inv.TotalAmt))
	}
	if resp.Attempts != 3 || resp.IntuitTID != "tid-test-1" {
		t.Errorf("got attempts %d tid %q; want 3 tid-test-1", resp.Attempts, resp.IntuitTID)
	}
	if diff := cmp.Diff([]string{"inv-1001-abc", "inv-1001-abc", "inv-1001-abc"}, ids); diff != "" {
		t.Errorf("requestids (-want +got):\n%s", diff)
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] || bodies[0] == "" {
		t.Errorf("bodies differ across retries: %q", bodies)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second}, clk.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
	if len(retries) != 2 {
		t.Errorf("retry hook calls: got %d; want 2", len(retries))
	}
}

func TestDo_MaxAttempts(t *testing.T) {
	c, mux, _, _ := setup(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 3, Jitter: maxJitter}))
	var calls int
	mux.HandleFunc("/v3/company/"+testRealm+"/invoice/1", func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeJSON(w, http.StatusInternalServerError, "internal")
	})
	_, resp, err := c.Invoices.Get(t.Context(), "1")
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 500 {
		t.Fatalf("got %v; want *Error 500", err)
	}
	if calls != 3 || resp == nil || resp.Attempts != 3 {
		t.Errorf("got %d calls; want 3", calls)
	}
	if !Retryable(err) {
		t.Errorf("Retryable(500): got false; want true")
	}
}

func TestDo_ValidationFaultNotRetried(t *testing.T) {
	c, mux, clk, _ := setup(t)
	var calls int
	fault := refFile(t, "exquickbooks-json", "item", "update_item_error.json")
	mux.HandleFunc("/v3/company/"+testRealm+"/item", func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeJSON(w, http.StatusBadRequest, string(fault))
	})
	_, _, err := c.Items.Update(t.Context(), &Item{Id: "5", SyncToken: "2", Name: "Rock Fountain"}, &RequestOptions{RequestID: "r1"})
	if !IsStaleObject(err) {
		t.Fatalf("got %v; want stale object", err)
	}
	if calls != 1 || len(clk.Sleeps()) != 0 {
		t.Errorf("got %d calls %d sleeps; want 1 and 0", calls, len(clk.Sleeps()))
	}
}

// TestDo_200WithFault: a 200 carrying a ValidationFault is an error and is not
// retried; a 200 carrying a SystemFault is retried.
func TestDo_200WithFault(t *testing.T) {
	c, mux, _, _ := setup(t)
	var calls int
	fault := refFile(t, "exquickbooks-json", "api", "query_error.json")
	mux.HandleFunc("/v3/company/"+testRealm+"/query", func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeJSON(w, http.StatusOK, string(fault))
	})
	_, _, err := c.Items.Query(t.Context(), "WHERE Name = NULL", Page{})
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 200 || e.Code() != "4000" {
		t.Fatalf("got %v; want *Error 200 code 4000", err)
	}
	if calls != 1 {
		t.Errorf("calls: got %d; want 1", calls)
	}

	calls = 0
	mux.HandleFunc("/v3/company/"+testRealm+"/customer/3", func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			writeJSON(w, http.StatusOK, `{"Fault":{"Error":[{"Message":"System Failure Error","code":"10000"}],"type":"SystemFault"}}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"Customer":{"Id":"3","DisplayName":"Amy"}}`)
	})
	cu, _, err := c.Customers.Get(t.Context(), "3")
	if err != nil || cu.DisplayName != "Amy" || calls != 2 {
		t.Errorf("got %v, %v after %d calls; want Amy after 2", cu, err, calls)
	}
}

func TestDo_Throttled(t *testing.T) {
	t.Run("RetryAfter", func(t *testing.T) {
		var throttled atomic.Int32
		c, mux, clk, _ := setup(t, WithObserver(Observer{Throttled: func() { throttled.Add(1) }}))
		var calls int
		mux.HandleFunc("/v3/company/"+testRealm+"/invoice/1", func(w http.ResponseWriter, r *http.Request) {
			calls++
			if calls == 1 {
				w.Header().Set("Retry-After", "7")
				writeJSON(w, http.StatusTooManyRequests, `{"Fault":{"Error":[{"Message":"message=ThrottleExceeded; errorCode=003001; statusCode=429"}],"type":"SERVICE"}}`)
				return
			}
			writeJSON(w, http.StatusOK, okInvoice)
		})
		if _, _, err := c.Invoices.Get(t.Context(), "1"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]time.Duration{7 * time.Second}, clk.Sleeps()); diff != "" {
			t.Errorf("sleeps (-want +got):\n%s", diff)
		}
		if throttled.Load() != 1 {
			t.Errorf("throttled hook: got %d; want 1", throttled.Load())
		}
	})
	t.Run("NoRetryAfter", func(t *testing.T) {
		c, mux, clk, _ := setup(t)
		var calls int
		mux.HandleFunc("/v3/company/"+testRealm+"/invoice/1", func(w http.ResponseWriter, r *http.Request) {
			calls++
			if calls == 1 {
				writeJSON(w, http.StatusTooManyRequests, "Too Many Requests")
				return
			}
			writeJSON(w, http.StatusOK, okInvoice)
		})
		if _, _, err := c.Invoices.Get(t.Context(), "1"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]time.Duration{60 * time.Second}, clk.Sleeps()); diff != "" {
			t.Errorf("sleeps (-want +got):\n%s", diff)
		}
	})
}

// TestDo_ContextCancelStopsBackoff: cancelling during the retry wait stops
// the loop with ctx's error and no further request.
func TestDo_ContextCancelStopsBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	c, mux, _, _ := setup(t, WithObserver(Observer{Retry: func(int, string, time.Duration) { cancel() }}))
	var calls int
	mux.HandleFunc("/v3/company/"+testRealm+"/invoice/1", func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeJSON(w, http.StatusBadGateway, "")
	})
	_, _, err := c.Invoices.Get(ctx, "1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v; want context.Canceled", err)
	}
	if calls != 1 {
		t.Errorf("calls: got %d; want 1", calls)
	}
}

func TestDo_NetworkErrorRetried(t *testing.T) {
	c, mux, clk, srv := setup(t)
	var calls int
	mux.HandleFunc("/v3/company/"+testRealm+"/invoice/1", func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			// Drop the connection without a response.
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		writeJSON(w, http.StatusOK, okInvoice)
	})
	_ = srv
	if _, _, err := c.Invoices.Get(t.Context(), "1"); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if calls != 2 || len(clk.Sleeps()) != 1 {
		t.Errorf("got %d calls %d sleeps; want 2 and 1", calls, len(clk.Sleeps()))
	}
}

// tokenServer serves Intuit's token endpoint: each refresh issues
// access-N/refresh-N, rotating the refresh token.
type tokenServer struct {
	mu       sync.Mutex
	calls    int
	lastRT   []string
	rejectRT string
	delay    chan struct{}
}

func (ts *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if ts.delay != nil {
		<-ts.delay
	}
	_ = r.ParseForm()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	rt := r.PostForm.Get("refresh_token")
	ts.lastRT = append(ts.lastRT, rt)
	if r.PostForm.Get("grant_type") != "refresh_token" {
		http.Error(w, "bad grant", http.StatusBadRequest)
		return
	}
	if rt == ts.rejectRT {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant"}`)
		return
	}
	ts.calls++
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"token_type":"bearer","expires_in":3600,"access_token":"access-%d","refresh_token":"refresh-%d","x_refresh_token_expires_in":8726400}`, ts.calls, ts.calls)
}

func newTestTokenSource(t *testing.T, srvURL string, tok *oauth2.Token, save SaveFunc, clk *clock.Fake) *TokenSource {
	conf := NewOAuthConfig("client-id", "client-secret", "http://localhost/cb")
	conf.Endpoint.TokenURL = srvURL + testTokenURL
	return NewTokenSource(conf, tok, save, nil, clk.Now)
}

// TestDo_UnauthorizedRefreshesOnce: a 401 forces exactly one refresh, whose
// rotated token is saved before the replay uses it.
func TestDo_UnauthorizedRefreshesOnce(t *testing.T) {
	mux := http.NewServeMux()
	tsrv := &tokenServer{}
	mux.Handle(testTokenURL, tsrv)
	var (
		mu      sync.Mutex
		auths   []string
		saved   []string
		always  bool
		apiHits int
	)
	mux.HandleFunc(baseURLPath+companyPath+"invoice/1", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		apiHits++
		a := r.Header.Get("Authorization")
		auths = append(auths, a)
		if always || a == "Bearer stale" {
			writeJSON(w, http.StatusUnauthorized, `{"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401","code":"3200"}],"type":"AUTHENTICATION"}}`)
			return
		}
		// The token used must already be persisted.
		if len(saved) == 0 || "Bearer "+saved[len(saved)-1] != a {
			t.Errorf("request used %q before it was saved (saved %v)", a, saved)
		}
		writeJSON(w, http.StatusOK, okInvoice)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	clk := newFakeClock()
	ts := newTestTokenSource(t, srv.URL, &oauth2.Token{AccessToken: "stale", RefreshToken: "refresh-0", Expiry: clk.Now().Add(time.Hour)},
		func(_ context.Context, tok *oauth2.Token) error {
			mu.Lock()
			defer mu.Unlock()
			saved = append(saved, tok.AccessToken)
			if want := fmt.Sprintf("refresh-%d", len(saved)); tok.RefreshToken != want {
				t.Errorf("saved refresh token: got %q; want %s", tok.RefreshToken, want)
			}
			if got := RefreshTokenExpiry(tok, clk.Now()); !got.Equal(clk.Now().Add(8726400 * time.Second)) {
				t.Errorf("x_refresh_token_expires_in: got %v", got)
			}
			return nil
		}, clk)
	c, err := NewClient(ts.HTTPClient(srv.Client().Transport), WithBaseURL(srv.URL+baseURLPath), WithRealmID(testRealm),
		WithClock(clk), WithTokenInvalidator(ts))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Invoices.Get(t.Context(), "1"); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff([]string{"Bearer stale", "Bearer access-1"}, auths); diff != "" {
		t.Errorf("Authorization headers (-want +got):\n%s", diff)
	}
	if tsrv.calls != 1 || len(saved) != 1 {
		t.Errorf("got %d refreshes %d saves; want 1 and 1", tsrv.calls, len(saved))
	}

	// A second 401 after the one refresh is returned, not looped on.
	always, apiHits = true, 0
	clk.Sleep(t.Context(), time.Minute) // past MinInvalidateInterval
	_, _, err = c.Invoices.Get(t.Context(), "1")
	if !IsAuth(err) {
		t.Errorf("got %v; want auth error", err)
	}
	if apiHits != 2 || tsrv.calls != 2 {
		t.Errorf("got %d API hits %d refreshes; want 2 and 2", apiHits, tsrv.calls)
	}
}

// TestDo_TokenRejected: invalid_grant from the token endpoint surfaces as
// ErrTokenRejected through the oauth2 transport and *url.Error, unretried.
func TestDo_TokenRejected(t *testing.T) {
	mux := http.NewServeMux()
	tsrv := &tokenServer{rejectRT: "dead"}
	mux.Handle(testTokenURL, tsrv)
	var apiHits int
	mux.HandleFunc(baseURLPath+companyPath+"invoice/1", func(w http.ResponseWriter, r *http.Request) { apiHits++ })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	clk := newFakeClock()
	ts := newTestTokenSource(t, srv.URL, &oauth2.Token{RefreshToken: "dead"}, nil, clk)
	c, err := NewClient(ts.HTTPClient(srv.Client().Transport), WithBaseURL(srv.URL+baseURLPath), WithRealmID(testRealm), WithClock(clk), WithTokenInvalidator(ts))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Invoices.Get(t.Context(), "1")
	if !errors.Is(err, ErrTokenRejected) || !IsAuth(err) || Retryable(err) {
		t.Errorf("got %v; want ErrTokenRejected, auth, not retryable", err)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Errorf("RetrieveError not in chain: %v", err)
	}
	if apiHits != 0 || len(clk.Sleeps()) != 0 || len(tsrv.lastRT) != 1 {
		t.Errorf("got %d API hits, %d sleeps, %d token calls; want 0, 0, 1", apiHits, len(clk.Sleeps()), len(tsrv.lastRT))
	}
}

// TestPacing_RequestsPerMinute: with a limit of N per minute, request N+1
// waits (on the fake clock) until the first leaves the window.
func TestPacing_RequestsPerMinute(t *testing.T) {
	var paced []time.Duration
	c, mux, clk, _ := setup(t, WithPacing(Pacing{RequestsPerMinute: 3, BatchRequestsPerMinute: 2}),
		WithObserver(Observer{Paced: func(d time.Duration) { paced = append(paced, d) }}))
	mux.HandleFunc("/v3/company/"+testRealm+"/invoice/1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, okInvoice)
	})
	start := clk.Now()
	for i := 0; i < 3; i++ {
		clk.Sleep(t.Context(), 10*time.Second) // requests at t=10s, 20s, 30s
		if _, _, err := c.Invoices.Get(t.Context(), "1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(clk.Sleeps()); got != 3 {
		t.Fatalf("sleeps after 3 requests: got %d; want 3 (no pacing)", got)
	}
	if _, _, err := c.Invoices.Get(t.Context(), "1"); err != nil {
		t.Fatal(err)
	}
	// 4th request at t=30s must wait until t=70s (first request + 1 min).
	if got, want := clk.Now().Sub(start), 70*time.Second; got != want {
		t.Errorf("4th request sent at +%v; want +%v", got, want)
	}
	if diff := cmp.Diff([]time.Duration{40 * time.Second}, paced); diff != "" {
		t.Errorf("paced (-want +got):\n%s", diff)
	}
}

func TestPacing_BatchPerMinute(t *testing.T) {
	c, mux, clk, _ := setup(t, WithPacing(Pacing{RequestsPerMinute: 100, BatchRequestsPerMinute: 2}))
	mux.HandleFunc("/v3/company/"+testRealm+"/batch", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"BatchItemResponse":[{"bId":"1","Invoice":{"Id":"1"}}]}`)
	})
	items := []BatchItem{{BID: "1", Operation: BatchCreate, Entity: &Invoice{DocNumber: "1"}}}
	for i := range 3 {
		if _, _, err := c.Batch(t.Context(), items, &RequestOptions{RequestID: fmt.Sprintf("b%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]time.Duration{time.Minute}, clk.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

// TestPacing_MaxInFlight: never more than MaxInFlight requests at the server.
func TestPacing_MaxInFlight(t *testing.T) {
	c, mux, _, _ := setup(t, WithPacing(Pacing{MaxInFlight: 2}))
	var (
		cur, peak atomic.Int32
		arrived   = make(chan struct{}, 10)
		release   = make(chan struct{})
	)
	mux.HandleFunc("/v3/company/"+testRealm+"/invoice/1", func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		arrived <- struct{}{}
		<-release
		cur.Add(-1)
		writeJSON(w, http.StatusOK, okInvoice)
	})
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, _, err := c.Invoices.Get(t.Context(), "1"); err != nil {
				t.Error(err)
			}
		})
	}
	// Handlers leave only when released, one at a time, so if the client let
	// a third request through while two were in flight, peak would exceed 2.
	<-arrived
	<-arrived
	for range 3 {
		release <- struct{}{}
		<-arrived
	}
	close(release)
	wg.Wait()
	if got := peak.Load(); got != 2 {
		t.Errorf("peak in-flight: got %d; want 2", got)
	}
}

// TestDo_TimeoutBoundsRetries: a call never schedules an attempt past its
// Timeout. With QBO asking for 100 s each time and the 5-minute default,
// the third 503 is returned instead of a fourth attempt at 300 s.
func TestDo_TimeoutBoundsRetries(t *testing.T) {
	tests := []struct {
		name      string
		opts      []Option
		timeout   time.Duration
		wantCalls int
		wantWaits []time.Duration
	}{
		{name: "Default", timeout: DefaultTimeout, wantCalls: 3, wantWaits: []time.Duration{100 * time.Second, 100 * time.Second}},
		{name: "Shorter", opts: []Option{WithTimeout(150 * time.Second)}, timeout: 150 * time.Second, wantCalls: 2,
			wantWaits: []time.Duration{100 * time.Second}},
		{name: "ZeroKeepsDefault", opts: []Option{WithTimeout(0)}, timeout: DefaultTimeout, wantCalls: 3,
			wantWaits: []time.Duration{100 * time.Second, 100 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, clk, _ := setup(t, tt.opts...)
			if got := c.Timeout(); got != tt.timeout {
				t.Errorf("Timeout: got %v; want %v", got, tt.timeout)
			}
			var calls int
			mux.HandleFunc("/v3/company/"+testRealm+"/invoice", func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.Header().Set("Retry-After", "100")
				writeJSON(w, http.StatusServiceUnavailable, `{"Fault":{"Error":[{"Message":"busy","code":"10000"}],"type":"SystemFault"}}`)
			})
			_, resp, err := c.Invoices.Create(t.Context(), &Invoice{DocNumber: "1001"}, &RequestOptions{RequestID: "inv-1001"})
			var qe *Error
			if !errors.As(err, &qe) || qe.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("Create: got %v; want the last 503", err)
			}
			if resp == nil || resp.Attempts != tt.wantCalls {
				t.Errorf("response: got %+v; want the last attempt's (%d)", resp, tt.wantCalls)
			}
			if calls != tt.wantCalls {
				t.Errorf("calls: got %d; want %d", calls, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantWaits, clk.Sleeps()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContainsPattern(t *testing.T) {
	tests := []struct{ in, want string }{
		{"doe", `'%doe%'`},
		{" O'Brien ", `'%O\'Brien%'`},
		{`a\b`, `'%a\\b%'`},
		{"50%", `'%50%%'`},
		{"%", ""},
		{"  ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ContainsPattern(tt.in); got != tt.want {
				t.Errorf("ContainsPattern(%q): got %s; want %s", tt.in, got, tt.want)
			}
		})
	}
}
