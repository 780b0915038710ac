package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/daemon"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/sandbox"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// syncBuffer is an io.Writer that several goroutines may log to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newMain returns a Main configured from the harness's environment, as
// Run would configure it before a command.
func (h *harness) newMain(stderr io.Writer) *Main {
	h.t.Helper()
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: stderr, Getenv: envFunc(h.Env),
		Now: time.Now, IsTerminal: func() bool { return false }}
	if err := m.loadConfig(globalFlags{}, map[string]bool{}); err != nil {
		h.t.Fatal(err)
	}
	m.Log = m.newLogger()
	return m
}

// prepare connects and maps everything as a bookkeeper would (the demo's
// preparation), leaving the products in unlinked without a link.
func (h *harness) prepare(unlinked map[string]bool) {
	h.t.Helper()
	sb := &sandbox.Sandbox{QBO: h.QBO, Seed: h.Seed, Vel: h.Vel, Data: h.Data}
	if err := h.newMain(io.Discard).prepareSandbox(h.t.Context(), sb, unlinked); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) store() *schema.Store {
	h.t.Helper()
	st, err := h.newMain(io.Discard).openStore(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { st.Close() })
	return st
}

// daemonRig is a daemon running in-process: serve runs in a goroutine and
// the test triggers runs through d.Trigger, exactly as cron would, so
// no test waits for the schedule.
type daemonRig struct {
	t      *testing.T
	d      *daemon.Daemon
	log    *syncBuffer
	cancel context.CancelFunc // SIGTERM
	done   chan error
}

func defaultDaemonOptions() daemonOptions {
	return daemonOptions{grace: time.Hour, blockedRuns: 3, failedRuns: 2, tokenDays: tokenhealth.WarnDays}
}

func startDaemon(t *testing.T, h *harness, o daemonOptions) *daemonRig {
	t.Helper()
	return startDaemonWith(t, h, o, nil)
}

// startDaemonWith lets the test adjust the Main (clients' options) first.
func startDaemonWith(t *testing.T, h *harness, o daemonOptions, adjust func(*Main)) *daemonRig {
	t.Helper()
	r := &daemonRig{t: t, log: &syncBuffer{}, done: make(chan error, 1)}
	m := h.newMain(r.log)
	if adjust != nil {
		adjust(m)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d, err := m.newDaemon(ctx, o)
	if err != nil {
		cancel()
		t.Fatalf("newDaemon: %v", err)
	}
	r.d, r.cancel = d, cancel
	go func() { r.done <- d.Serve(ctx) }()
	t.Cleanup(func() { r.stop() })
	return r
}

// stop delivers "SIGTERM" and waits for serve to return.
func (r *daemonRig) stop() error {
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(time.Minute): // a guard, not a wait: serve returns at once
		r.t.Fatalf("daemon did not stop; log:\n%s", r.log.String())
		return nil
	}
}

// get fetches a path from the daemon's listener.
func (r *daemonRig) get(path string) (int, string) {
	r.t.Helper()
	resp, err := http.Get("http://" + r.d.Addr() + path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// metricsText parses the Prometheus text format into series → value,
// keyed as printed ("name{label=\"v\"}").
func (r *daemonRig) metrics() map[string]float64 {
	r.t.Helper()
	code, body := r.get("/metrics")
	if code != http.StatusOK {
		r.t.Fatalf("/metrics: status %d", code)
	}
	return parseMetrics(body)
}

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

// sumMetric adds every series of a metric whose labels contain all of with.
func sumMetric(ms map[string]float64, name string, with ...string) float64 {
	total := 0.0
	for k, v := range ms {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for _, w := range with {
			ok = ok && strings.Contains(k, w)
		}
		if ok {
			total += v
		}
	}
	return total
}

// holdFirstWrite holds the first create (single or batch) QBO receives
// until release is called; held receives when it arrives.
func holdFirstWrite(q *qbotest.Server) (held <-chan struct{}, release func()) {
	hc := make(chan struct{}, 1)
	rel := make(chan struct{})
	q.Inject(qbotest.Injection{Times: 1, Hold: rel, Match: func(c *qbotest.Call) bool {
		if c.Operation != "create" && c.Operation != "batch" {
			return false
		}
		select {
		case hc <- struct{}{}:
		default:
		}
		return true
	}})
	var once sync.Once
	return hc, func() { once.Do(func() { close(rel) }) }
}

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute): // a guard against a hang, not a timing assumption
		t.Fatalf("timed out waiting for %s", what)
	}
}

func newDaemonHarness(t *testing.T, orders int) *harness {
	h := MustRunMain(t, orders)
	h.Env["VELQBO_LISTEN"] = "127.0.0.1:0"
	// One worker: the first batch of creates is the only write in flight,
	// which makes "in flight when SIGTERM came" deterministic.
	h.Env["VELQBO_QBO_CONCURRENCY"] = "1"
	return h
}

func TestDaemon_OverlappingTriggersOneRun(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, 12)
	h.prepare(nil)
	rig := startDaemon(t, h, defaultDaemonOptions())
	held, release := holdFirstWrite(h.QBO)
	defer release()

	first := make(chan struct{})
	go func() { rig.d.Trigger(); close(first) }()
	wait(t, held, "the first run's first write")

	// A second trigger while the first is in flight returns at once.
	rig.d.Trigger()

	// A manual run and a second daemon on the same database are refused
	// with exit code 3 and told who holds it.
	r := h.MustRun(exitUnavailable, "", "run")
	if !strings.Contains(r.Stderr, "another run holds the database: velqbo daemon pid") {
		t.Errorf("manual run: stderr %q; want it to name the daemon holding the lease", r.Stderr)
	}
	r = h.MustRun(exitUnavailable, "", "daemon")
	if !strings.Contains(r.Stderr, "another daemon runs on") || !strings.Contains(r.Stderr, rig.d.Holder()) {
		t.Errorf("second daemon: stderr %q; want it to name %q", r.Stderr, rig.d.Holder())
	}

	release()
	wait(t, first, "the first run")
	runs, err := h.store().LastRuns(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("runs: got %d; want 1 (%+v)", len(runs), runs)
	}
	if runs[0].Status != schema.RunOK && runs[0].Status != schema.RunPartial {
		t.Errorf("run status: got %s (%s); want ok or partial", runs[0].Status, runs[0].Error)
	}
	ms := rig.metrics()
	if got := ms[`velqbo_runs_total{outcome="skipped"}`]; got != 1 {
		t.Errorf("skipped runs: got %v; want 1", got)
	}
	if got := ms[`velqbo_runs_total{outcome="ok"}`] + ms[`velqbo_runs_total{outcome="partial"}`]; got != 1 {
		t.Errorf("finished runs: got %v; want 1", got)
	}
	if !strings.Contains(rig.log.String(), "trigger is skipped") {
		t.Errorf("log: want a line saying the trigger was skipped:\n%s", rig.log.String())
	}
}

// qboDocs counts the live documents QBO holds, by type, and fails on any
// document that exists twice (same ledger marker in PrivateNote).
func qboDocs(t *testing.T, q *qbotest.Server) map[string]int {
	t.Helper()
	out := map[string]int{}
	seen := map[string]string{}
	for _, typ := range []string{"SalesReceipt", "Invoice", "RefundReceipt", "Payment"} {
		for _, e := range q.Entities(typ) {
			if e.Deleted || e.Voided {
				continue
			}
			out[typ]++
			if prev, dup := seen[e.PrivateNote]; dup {
				t.Errorf("duplicate in QBO: %s %s and %s have the note %q", typ, e.ID, prev, e.PrivateNote)
			}
			seen[e.PrivateNote] = typ + " " + e.ID
		}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestDaemon_SIGTERMMidRun(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, 12)
	h.prepare(nil)
	rig := startDaemon(t, h, defaultDaemonOptions())
	held, release := holdFirstWrite(h.QBO)
	defer release()

	triggered := make(chan struct{})
	go func() { rig.d.Trigger(); close(triggered) }()
	wait(t, held, "the first write")
	rig.cancel() // SIGTERM while the first batch is in flight
	wait(t, rig.d.Stopping(), "the drain to start")
	release() // the write in flight finishes
	if err := rig.stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	wait(t, triggered, "the trigger to return")

	st := h.store()
	runs, err := st.LastRuns(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != schema.RunInterrupted {
		t.Fatalf("runs: got %+v; want one interrupted run", runs)
	}
	afterStop := qboDocs(t, h.QBO)
	if got, want := runs[0].Counts["created"], total(afterStop); got == 0 || got != want {
		t.Errorf("interrupted run: created %d; want the %d documents QBO holds (and more than 0)", got, want)
	}
	// The write in flight finished and was recorded: nothing is left with
	// an unknown outcome for the next run to look up.
	pending, err := st.PendingIntents(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 0 {
		t.Errorf("pending intents after a graceful stop: got %d; want 0", len(pending))
	}
	if !strings.Contains(rig.log.String(), "interrupted") {
		t.Errorf("log: want the run logged as interrupted:\n%s", rig.log.String())
	}

	// The next run completes the work; the one after finds nothing to do.
	var sum struct {
		Counts map[string]int `json:"counts"`
	}
	r := h.Run("", "run", "--json")
	if r.Code != exitOK && r.Code != exitIncomplete {
		t.Fatalf("run after stop: exit %d; stderr %s", r.Code, r.Stderr)
	}
	if err := json.Unmarshal([]byte(r.Stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Counts["failed"] != 0 || sum.Counts["created"] == 0 {
		t.Errorf("run after stop: counts %v; want the rest created and nothing failed", sum.Counts)
	}
	final := qboDocs(t, h.QBO)
	if got, want := total(final), total(afterStop)+sum.Counts["created"]; got != want {
		t.Errorf("QBO documents: got %d; want %d (interrupted run + next run)", got, want)
	}
	r = h.Run("", "run", "--json")
	if err := json.Unmarshal([]byte(r.Stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Counts["created"]+sum.Counts["updated"]+sum.Counts["voided"]+sum.Counts["failed"] != 0 {
		t.Errorf("third run: counts %v; want nothing sent", sum.Counts)
	}
}

func TestDaemon_HealthAndMetrics(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, 12)
	unlinked := (&sandbox.Sandbox{Data: h.Data}).BlockingProduct()
	h.prepare(map[string]bool{unlinked: true})
	// Retry waits on a fake clock, so a 429 costs no wall time.
	fc := clock.NewFake(time.Now())
	rig := startDaemonWith(t, h, defaultDaemonOptions(), func(m *Main) {
		m.QBOOptions = append(m.QBOOptions, qbo.WithClock(fc))
	})

	// Before any run: the database answers, but nothing has run yet.
	code, body := rig.get("/healthz")
	var hv daemon.HealthView
	if err := json.Unmarshal([]byte(body), &hv); err != nil {
		t.Fatalf("/healthz: %v (%q)", err, body)
	}
	if code != http.StatusOK || hv.Database != "ok" || hv.LastRun != nil || hv.Token == nil {
		t.Errorf("/healthz before a run: %d %s; want 200, database ok, no last run, token health", code, body)
	}

	h.QBO.Inject(qbotest.Injection{Times: 1, Throttle: true, Match: func(c *qbotest.Call) bool {
		return c.Operation == "create" || c.Operation == "batch"
	}})
	rig.d.Trigger()

	st := h.store()
	runs, err := st.LastRuns(t.Context(), 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %+v", err, runs)
	}
	run := runs[0]
	blocked, err := st.BlockedItems(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(blocked) == 0 || run.Status != schema.RunPartial {
		t.Fatalf("run: status %s with %d blocked; want partial with the unlinked product's orders blocked", run.Status, len(blocked))
	}

	ms := rig.metrics()
	checks := []struct {
		name string
		got  float64
		want float64
	}{
		{"runs partial", ms[`velqbo_runs_total{outcome="partial"}`], 1},
		{"runs failed", ms[`velqbo_runs_total{outcome="failed"}`], 0},
		{"created", sumMetric(ms, "velqbo_documents_total", `action="create"`), float64(run.Counts["created"])},
		{"blocked documents", sumMetric(ms, "velqbo_documents_total", `action="blocked"`), float64(run.Counts["blocked"])},
		{"blocked items", ms["velqbo_blocked_items"], float64(len(blocked))},
		{"throttled", ms["velqbo_qbo_throttled_total"], 1},
		{"throttle retries", ms[`velqbo_qbo_retries_total{reason="throttled"}`], 1},
		{"qbo requests", sumMetric(ms, "velqbo_qbo_requests_total"), float64(apiCalls(h.QBO))},
		{"429 requests", sumMetric(ms, "velqbo_qbo_requests_total", `code="429"`), 1},
		{"latency observations", sumMetric(ms, "velqbo_qbo_request_duration_seconds_count"), float64(apiCalls(h.QBO))},
		{"last success", ms["velqbo_last_success_timestamp_seconds"], float64(run.StartedAt.Unix())},
		{"in progress", ms["velqbo_run_in_progress"], 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v; want %v", c.name, c.got, c.want)
		}
	}
	if exp := ms["velqbo_qbo_refresh_token_expiry_seconds"]; exp < 90*24*3600 || exp > 102*24*3600 {
		t.Errorf("token expiry: got %v s; want about 101 days", exp)
	}

	code, body = rig.get("/healthz")
	hv = daemon.HealthView{}
	if err := json.Unmarshal([]byte(body), &hv); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK || hv.Status != "degraded" || hv.LastRun == nil || hv.LastRun.ID != run.ID ||
		hv.LastRun.Status != "partial" || hv.Blocked != len(blocked) || hv.LastSuccessAt == nil || hv.Token == nil ||
		hv.Token.DaysLeft == nil || *hv.Token.DaysLeft < 90 {
		t.Errorf("/healthz after a partial run: %d %s; want 200 degraded, the run, %d blocked, token ~100 days", code, body, len(blocked))
	}

	// Velocity refuses the token: the next run fails and /healthz says so.
	failVelocity(h)
	rig.d.Trigger()
	code, body = rig.get("/healthz")
	hv = daemon.HealthView{}
	if err := json.Unmarshal([]byte(body), &hv); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || hv.Status != "fail" || hv.LastRun == nil || hv.LastRun.Status != "failed" {
		t.Errorf("/healthz after a failed run: %d %s; want 503 fail", code, body)
	}
	if got := rig.metrics()[`velqbo_runs_total{outcome="failed"}`]; got != 1 {
		t.Errorf("failed runs: got %v; want 1", got)
	}
}

// apiCalls counts the QBO API requests (OAuth excluded) the fake received.
func apiCalls(q *qbotest.Server) int {
	n := 0
	for _, c := range q.Requests() {
		if strings.HasPrefix(c.Path, "/v3/company/") {
			n++
		}
	}
	return n
}

// failVelocity makes the Velocity API refuse every request (401), so the
// next run cannot read its source and fails.
func failVelocity(h *harness) {
	h.Vel.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultStatus, Status: http.StatusUnauthorized, Count: 1000})
}

// TestDeployExampleConfig keeps the shipped example config loadable.
func TestDeployExampleConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"VELQBO_QBO_CLIENT_ID": "id", "VELQBO_QBO_CLIENT_SECRET": "secret",
		"VELQBO_VELOCITY_TOKEN": "tok", "VELQBO_SECRET_KEY": testSecretKey, "VELQBO_ALERT_WEBHOOK": "https://hooks.example/x"}
	c := DefaultConfig()
	if err := readConfigFile("../../deploy/velqbo.example.yaml", true, envFunc(env), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Schedule != "0 2 * * *" || c.Listen != "127.0.0.1:8089" || c.AlertWebhook != "https://hooks.example/x" || c.QBO.ClientSecret != "secret" {
		t.Errorf("example config: got %+v", c)
	}
}
