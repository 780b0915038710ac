package daemon

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// Run outcomes, the label values of velqbo_runs_total. The first four are
// schema's run statuses; skipped and panicked never reach the database.
const (
	outcomeOK          = "ok"          // finished; nothing failed or blocked
	outcomePartial     = "partial"     // finished; some items failed or blocked
	outcomeFailed      = "failed"      // could not run or could not finish
	outcomeInterrupted = "interrupted" // stopped by SIGINT/SIGTERM
	outcomeSkipped     = "skipped"     // a trigger found a run in progress
	outcomePanicked    = "panicked"    // recovered; reported as a failure
)

// metrics are the daemon's Prometheus metrics. They live on a private
// registry, not the global one, so that two daemons in one test binary never
// share counters. Gauges that mirror the database (blocked items, token
// expiry, last success) are refreshed from it just before each scrape, so a
// scrape always tells the truth even after a manual `velqbo run`.
type metrics struct {
	reg *prometheus.Registry

	runs         *prometheus.CounterVec
	documents    *prometheus.CounterVec
	runDuration  prometheus.Gauge
	running      prometheus.Gauge
	blocked      prometheus.Gauge
	failed       prometheus.Gauge
	skipped      prometheus.Gauge
	lastSuccess  prometheus.Gauge
	tokenExpiry  prometheus.Gauge
	qboRequests  *prometheus.CounterVec
	qboLatency   *prometheus.HistogramVec
	qboThrottled prometheus.Counter
	qboRetries   *prometheus.CounterVec
	qboPaced     prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "velqbo_runs_total",
			Help: "Scheduled runs by outcome: ok, partial, failed, interrupted, skipped (one was in progress), panicked."},
			[]string{"outcome"}),
		documents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "velqbo_documents_total",
			Help: "Documents handled by scheduled runs, by action (create, update, void, noop, blocked, failed, adopt, skipped) and QBO type."},
			[]string{"action", "type"}),
		runDuration: prometheus.NewGauge(prometheus.GaugeOpts{Name: "velqbo_last_run_duration_seconds",
			Help: "Wall time of the last scheduled run."}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{Name: "velqbo_run_in_progress",
			Help: "1 while a scheduled run is in progress."}),
		blocked: prometheus.NewGauge(prometheus.GaugeOpts{Name: "velqbo_blocked_items",
			Help: "Objects blocked now (see `velqbo status`)."}),
		failed: prometheus.NewGauge(prometheus.GaugeOpts{Name: "velqbo_failed_items",
			Help: "Objects QBO refused that need a person (fix and `velqbo retry`, or `velqbo skip`)."}),
		skipped: prometheus.NewGauge(prometheus.GaugeOpts{Name: "velqbo_skipped_items",
			Help: "Objects a person set aside with `velqbo skip`."}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "velqbo_last_success_timestamp_seconds",
			Help: "Start time of the last run that read its whole window (ok or partial), as a Unix time; 0 if none."}),
		tokenExpiry: prometheus.NewGauge(prometheus.GaugeOpts{Name: "velqbo_qbo_refresh_token_expiry_seconds",
			Help: "Seconds until the QBO refresh token expires (the earlier of the rolling and the hard limit); negative when expired."}),
		qboRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "velqbo_qbo_requests_total",
			Help: "HTTP attempts to the QBO API by entity path and status code (0: transport error)."},
			[]string{"path", "code"}),
		qboLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "velqbo_qbo_request_duration_seconds",
			Help: "Duration of each HTTP attempt to the QBO API.", Buckets: prometheus.DefBuckets},
			[]string{"path"}),
		qboThrottled: prometheus.NewCounter(prometheus.CounterOpts{Name: "velqbo_qbo_throttled_total",
			Help: "HTTP 429 (ThrottleExceeded) answers from QBO."}),
		qboRetries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "velqbo_qbo_retries_total",
			Help: "QBO requests retried, by reason class."}, []string{"reason"}),
		qboPaced: prometheus.NewCounter(prometheus.CounterOpts{Name: "velqbo_qbo_paced_total",
			Help: "Requests the client-side pacer delayed to stay within QBO's limits."}),
	}
	m.reg.MustRegister(m.runs, m.documents, m.runDuration, m.running, m.blocked, m.failed, m.skipped, m.lastSuccess, m.tokenExpiry,
		m.qboRequests, m.qboLatency, m.qboThrottled, m.qboRetries, m.qboPaced,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every outcome is present from the start, so a rate() over a counter
	// that has never moved works and dashboards show zeros, not gaps.
	for _, o := range []string{outcomeOK, outcomePartial, outcomeFailed, outcomeInterrupted, outcomeSkipped, outcomePanicked} {
		m.runs.WithLabelValues(o)
	}
	m.qboThrottled.Add(0)
	return m
}

// observer feeds the QBO client's counters into the metrics.
func (m *metrics) observer() qbo.Observer {
	return qbo.Observer{
		Request: func(_, path string, status int, d time.Duration) {
			if path == "" {
				path = "other"
			}
			m.qboRequests.WithLabelValues(path, strconv.Itoa(status)).Inc()
			m.qboLatency.WithLabelValues(path).Observe(d.Seconds())
		},
		Retry: func(_ int, reason string, _ time.Duration) {
			m.qboRetries.WithLabelValues(retryClass(reason)).Inc()
		},
		Throttled: func() { m.qboThrottled.Inc() },
		Paced:     func(time.Duration) { m.qboPaced.Inc() },
	}
}

// retryClass bounds the reason label: the client's reasons may carry
// details (status texts, error strings) that would explode cardinality.
func retryClass(reason string) string {
	switch {
	case reason == "throttled":
		return "throttled"
	case reason == "network error":
		return "network"
	case strings.HasPrefix(reason, "401"), strings.HasPrefix(reason, "http 401"):
		return "unauthorized"
	case strings.HasPrefix(reason, "http 5"):
		return "server_error"
	}
	return "other"
}

// observeRun counts a finished scheduled run.
func (m *metrics) observeRun(outcome string, sum *reconcile.Summary, d time.Duration) {
	m.runs.WithLabelValues(outcome).Inc()
	m.runDuration.Set(d.Seconds())
	if sum == nil {
		return
	}
	listed := map[[2]string]int{}
	unlistedNoops := sum.Counts.Unchanged
	for _, it := range sum.Items {
		typ := it.QBOType
		if typ == "" {
			typ = string(it.Kind)
		}
		listed[[2]string{string(it.Action), typ}]++
		if it.Action == reconcile.ActionNoop {
			unlistedNoops--
		}
	}
	for k, n := range listed {
		m.documents.WithLabelValues(k[0], k[1]).Add(float64(n))
	}
	if unlistedNoops > 0 {
		// Unchanged documents are counted, not listed, by the engine: their
		// type is not known here.
		m.documents.WithLabelValues(string(reconcile.ActionNoop), "any").Add(float64(unlistedNoops))
	}
}

// refresh sets the gauges that mirror the database.
func (m *metrics) refresh(ctx context.Context, st *schema.Store, now time.Time) error {
	blocked, err := st.BlockedItems(ctx)
	if err != nil {
		return err
	}
	m.blocked.Set(float64(len(blocked)))
	failed, err := st.FailedItems(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, f := range failed {
		if f.NeedsPerson {
			n++
		}
	}
	m.failed.Set(float64(n))
	skipped, err := st.SkippedItems(ctx)
	if err != nil {
		return err
	}
	m.skipped.Set(float64(len(skipped)))
	switch run, err := st.LastSuccessfulRun(ctx); {
	case err == nil:
		m.lastSuccess.Set(float64(run.StartedAt.Unix()))
	case errors.Is(err, schema.ErrNotFound):
		m.lastSuccess.Set(0)
	default:
		return err
	}
	infos, err := st.Tokens(ctx)
	if err != nil {
		return err
	}
	if len(infos) > 0 {
		if end := tokenhealth.End(infos[0]); !end.IsZero() {
			m.tokenExpiry.Set(end.Sub(now).Seconds())
		}
	}
	return nil
}

// handler serves /metrics, refreshing the database gauges first. A database
// error is logged by the caller's refresh function and the scrape still
// answers with the last known values.
func (m *metrics) handler(refresh func(ctx context.Context)) http.Handler {
	// DisableCompression: the page is a few kilobytes, and promhttp keeps a
	// gzip writer (1.6 MiB of compressor state) in a pool after a scrape,
	// which an idle daemon held until its next collection.
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, DisableCompression: true})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refresh(r.Context())
		h.ServeHTTP(w, r)
	})
}
