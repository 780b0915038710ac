package daemon

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile"
)

func scrape(t *testing.T, m *metrics) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.handler(func(_ context.Context) {}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return parseMetrics(rec.Body.String())
}

// parseMetrics parses the Prometheus text format into series → value,
// keyed as printed ("name{label=\"v\"}").
func parseMetrics(body string) map[string]float64 {
	out := map[string]float64{}
	for line := range strings.SplitSeq(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		var v float64
		if err := json.Unmarshal([]byte(line[i+1:]), &v); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

func TestMetrics_ObserveRun(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	sum := &reconcile.Summary{Counts: reconcile.Counts{Created: 2, Unchanged: 5, Blocked: 1}, Items: []reconcile.Item{
		{Kind: "order", Action: reconcile.ActionCreate, QBOType: "Invoice"},
		{Kind: "payment", Action: reconcile.ActionCreate, QBOType: "Payment"},
		{Kind: "order", Action: reconcile.ActionBlocked},
		{Kind: "payment", Action: reconcile.ActionNoop, QBOType: "Payment", Reason: "not applicable"},
	}}
	m.observeRun(outcomePartial, sum, 3*time.Second)
	m.observeRun(outcomeFailed, nil, time.Second)
	got := scrape(t, m)
	want := map[string]float64{
		`velqbo_runs_total{outcome="partial"}`:                   1,
		`velqbo_runs_total{outcome="failed"}`:                    1,
		`velqbo_runs_total{outcome="ok"}`:                        0,
		`velqbo_runs_total{outcome="skipped"}`:                   0,
		`velqbo_documents_total{action="create",type="Invoice"}`: 1,
		`velqbo_documents_total{action="create",type="Payment"}`: 1,
		`velqbo_documents_total{action="blocked",type="order"}`:  1,
		`velqbo_documents_total{action="noop",type="Payment"}`:   1,
		`velqbo_documents_total{action="noop",type="any"}`:       4,
		`velqbo_last_run_duration_seconds`:                       1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v; want %v", k, got[k], v)
		}
	}
}

func TestMetrics_Observer(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	o := m.observer()
	o.Request("POST", "batch", 200, 150*time.Millisecond)
	o.Request("POST", "invoice", 429, time.Millisecond)
	o.Request("GET", "", 0, time.Millisecond)
	o.Throttled()
	for _, r := range []string{"throttled", "http 503 ", "network error", "401: token refresh", "http 400 2020"} {
		o.Retry(1, r, 0)
	}
	o.Paced(time.Second)
	got := scrape(t, m)
	want := map[string]float64{
		`velqbo_qbo_requests_total{code="200",path="batch"}`:      1,
		`velqbo_qbo_requests_total{code="429",path="invoice"}`:    1,
		`velqbo_qbo_requests_total{code="0",path="other"}`:        1,
		`velqbo_qbo_request_duration_seconds_count{path="batch"}`: 1,
		`velqbo_qbo_throttled_total`:                              1,
		`velqbo_qbo_retries_total{reason="throttled"}`:            1,
		`velqbo_qbo_retries_total{reason="server_error"}`:         1,
		`velqbo_qbo_retries_total{reason="network"}`:              1,
		`velqbo_qbo_retries_total{reason="unauthorized"}`:         1,
		`velqbo_qbo_retries_total{reason="other"}`:                1,
		`velqbo_qbo_paced_total`:                                  1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v; want %v", k, got[k], v)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	got := map[string]bool{}
	for _, a := range []string{"127.0.0.1:8089", "[::1]:8089", "localhost:1", "0.0.0.0:8089", ":8089", "10.0.0.5:80", "nonsense"} {
		got[a] = IsLoopback(a)
	}
	want := map[string]bool{"127.0.0.1:8089": true, "[::1]:8089": true, "localhost:1": true, "0.0.0.0:8089": false,
		":8089": false, "10.0.0.5:80": false, "nonsense": false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IsLoopback (-want +got):\n%s", diff)
	}
}
