package qbo

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/internal/clock"
)

const (
	testRealm    = "4620816365"
	baseURLPath  = "/qbo-api"
	companyPath  = "/v3/company/" + testRealm + "/"
	testTokenURL = "/oauth2/v1/tokens/bearer"
)

// newFakeClock returns the client tests' clock: it advances only when
// someone sleeps, and records every sleep.
func newFakeClock() *clock.Fake { return clock.NewFake(time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)) }

// maxJitter makes the backoff deterministic: always the ceiling.
func maxJitter(max time.Duration) time.Duration { return max }

// setup starts a test server whose mux is mounted under baseURLPath (so an
// absolute-URL bug fails) and returns a client pointed at it.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, *clock.Fake, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	api := http.NewServeMux()
	api.Handle(baseURLPath+"/", http.StripPrefix(baseURLPath, mux))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside base path: %s %s", r.Method, r.URL)
		http.Error(w, "outside base path", http.StatusBadGateway)
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	clk := newFakeClock()
	all := append([]Option{
		WithBaseURL(srv.URL + baseURLPath),
		WithRealmID(testRealm),
		WithClock(clk),
		WithRetryPolicy(RetryPolicy{Jitter: maxJitter}),
	}, opts...)
	c, err := NewClient(srv.Client(), all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, mux, clk, srv
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method: got %s; want %s", r.Method, want)
	}
}

// testQuery asserts the given query parameters plus minorversion=75.
func testQuery(t *testing.T, r *http.Request, want map[string]string) {
	t.Helper()
	q := r.URL.Query()
	if got := q.Get("minorversion"); got != "75" {
		t.Errorf("minorversion: got %q; want 75", got)
	}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("query %s: got %q; want %q", k, got, v)
		}
	}
}

// testJSONBody asserts the request body equals want as JSON (exact numbers).
func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	var got, w any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	dec = json.NewDecoder(strings.NewReader(want))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if diff := cmp.Diff(w, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s\nbody: %s", diff, b)
	}
}

// refFile reads a third-party QBO payload from testdata/ (testdata/README.md
// says where each comes from). Call it from the test goroutine, never from an
// HTTP handler: a missing file fails the test, and t.Fatalf must not run on
// another goroutine.
func refFile(t testing.TB, rel ...string) []byte {
	t.Helper()
	p := filepath.Join(append([]string{"testdata"}, rel...)...)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reference payload: %v", err)
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("intuit_tid", "tid-test-1")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
