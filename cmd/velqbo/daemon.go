package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// daemonOptions are the daemon's flags.
type daemonOptions struct {
	runNow      bool
	verify      bool
	grace       time.Duration
	blockedRuns int
	tokenDays   int
}

func daemonCommand() command {
	var o daemonOptions
	return command{
		name:    "daemon",
		summary: "run `run` on VELQBO_SCHEDULE; /healthz and /metrics on VELQBO_LISTEN (loopback)",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&o.runNow, "run-now", false, "also run once at start, e.g. to catch up after downtime")
			fs.BoolVar(&o.verify, "verify", true, "after each run, read the recorded documents back from QBO and alert on drift (--verify=false to skip)")
			fs.DurationVar(&o.grace, "grace", 30*time.Second, "on SIGINT/SIGTERM, how long writes in flight may take to finish before they are cut off")
			fs.IntVar(&o.blockedRuns, "alert-blocked-runs", 3, "alert when an item has stayed blocked for more than this many runs")
			fs.IntVar(&o.tokenDays, "alert-token-days", tokenWarnDays, "alert when the QBO refresh token has fewer days left than this")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 0 {
				return usageErrorf("daemon takes no arguments")
			}
			if o.grace <= 0 || o.blockedRuns < 1 || o.tokenDays < 0 {
				return usageErrorf("daemon: --grace must be positive, --alert-blocked-runs at least 1, --alert-token-days not negative")
			}
			d, err := m.newDaemon(ctx, o)
			if err != nil {
				return err
			}
			return d.serve(ctx)
		},
	}
}

// errRunLeaseHeld is wrapped by holdLease's error when another run holds
// the database's run lease, so the daemon can tell "skip this trigger"
// from a failed run.
var errRunLeaseHeld = errors.New("another run holds the database")

// daemonLeaseName is the lease a daemon holds for its whole life, so a
// second daemon on the same database refuses to start.
const daemonLeaseName = "daemon"

// daemon runs reconciliations on a cron schedule and serves /healthz and
// /metrics. Overlap is impossible three times over: the job is wrapped in
// cron's SkipIfStillRunning, each run takes the database's run lease (a
// manual `velqbo run` meanwhile exits 3; a trigger that finds a manual run
// in progress is skipped), and the daemon lease keeps a second daemon out.
type daemon struct {
	m       *Main
	o       daemonOptions
	log     logrus.FieldLogger
	st      *schema.Store
	holder  string // of the daemon lease and of every run lease it takes
	metrics *metrics
	alerts  *alerter
	ln      net.Listener
	// job is the trigger as cron runs it: SkipIfStillRunning(Recover(trigger)).
	job cron.Job

	// verify, when set (--verify, the default), reads the recorded
	// documents back from QBO after each finished run (`velqbo verify`).
	verify func(ctx context.Context) (*reconcile.DriftReport, error)

	// runCtx is the context runs get. It is deliberately not the signal
	// context: SIGTERM closes stopping, the run's Options.Stop, which lets
	// the writes in flight finish and be recorded; only o.grace later is
	// runCtx cancelled to cut off what remains.
	// It is the daemon's one long-lived context (style §3.6).
	runCtx     context.Context
	cancelRuns context.CancelFunc

	mu           sync.Mutex
	stopping     chan struct{} // closed when shutdown starts: every run's Options.Stop
	isStopping   bool
	wg           sync.WaitGroup // runs in progress, cron's and --run-now's
	releaseLease func()
}

// newDaemon opens the database, takes the daemon lease and binds the
// health listener. It returns an exit-code-3 error naming the holder when
// another daemon runs on the same database.
func (m *Main) newDaemon(ctx context.Context, o daemonOptions) (*daemon, error) {
	host, _ := os.Hostname()
	var nonce [4]byte
	rand.Read(nonce[:])
	d := &daemon{m: m, o: o, log: m.Log.WithField("component", "daemon"), stopping: make(chan struct{}),
		holder: fmt.Sprintf("velqbo daemon pid %d on %s #%s", os.Getpid(), host, hex.EncodeToString(nonce[:]))}
	st, err := m.openStore(ctx)
	if err != nil {
		return nil, err
	}
	d.st = st
	release, err := st.HoldLease(ctx, daemonLeaseName, d.holder, leaseTTL, func(err error) {
		d.log.WithError(err).Warn("could not renew the daemon lease")
	})
	if err != nil {
		st.Close()
		var held *schema.LeaseHeldError
		if errors.As(err, &held) {
			return nil, unavailable(fmt.Errorf("another daemon runs on %s: %s, since %s", m.Config.DB, held.Holder, held.Since.Format(time.RFC3339)))
		}
		return nil, unavailable(err)
	}
	d.releaseLease = func() {
		if err := release(); err != nil {
			d.log.WithError(err).Warn("could not release the daemon lease")
		}
	}

	d.metrics = newMetrics()
	// Every QBO client the daemon's runs build reports to its metrics.
	m.QBOOptions = append(slices.Clip(m.QBOOptions), qbo.WithObserver(d.metrics.observer()))
	d.alerts = newAlerter(m.Config.AlertWebhook, nil, d.log.WithField("component", "alerts"), m.Now)

	if !isLoopback(m.Config.Listen) {
		d.log.WithField("listen", m.Config.Listen).Warn("the health listener is not on loopback: /healthz and /metrics are readable from the network")
	}
	d.ln, err = net.Listen("tcp", m.Config.Listen)
	if err != nil {
		d.close()
		return nil, unavailable(fmt.Errorf("health listener: %w", err))
	}
	// Every run and verify the daemon starts takes the run lease under
	// the daemon's name.
	m.leaseHolder = d.holder
	if o.verify {
		d.verify = m.verifyOnce
	}
	cl := cronLogger{log: d.log, metrics: d.metrics, alerts: d.alerts}
	d.job = cron.NewChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)).Then(cron.FuncJob(d.trigger))
	d.runCtx, d.cancelRuns = context.WithCancel(context.WithoutCancel(ctx))
	return d, nil
}

// isLoopback reports whether addr ("host:port") binds to loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr is the health listener's address (useful with port 0).
func (d *daemon) Addr() string { return d.ln.Addr().String() }

// serve runs the schedule and the listener until ctx is done (SIGINT or
// SIGTERM), then shuts down gracefully. It returns nil after a clean stop.
func (d *daemon) serve(ctx context.Context) error {
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(d.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.WithError(err).Error("health listener stopped")
		}
	}()
	loc := d.m.Config.Location()
	c := cron.New(cron.WithLocation(loc), cron.WithLogger(cronLogger{log: d.log}))
	if _, err := c.AddJob(d.m.Config.Schedule, d.job); err != nil {
		d.shutdown(c, srv)
		return &ConfigValidationError{Field: "VELQBO_SCHEDULE", Value: d.m.Config.Schedule, Err: err}
	}
	c.Start()
	next := time.Time{}
	if es := c.Entries(); len(es) > 0 {
		next = es[0].Next
	}
	d.refresh(ctx)
	d.log.WithFields(logrus.Fields{"schedule": d.m.Config.Schedule, "timezone": loc.String(), "listen": d.Addr(),
		"next_run": next.Format(time.RFC3339), "holder": d.holder}).Info("daemon started")
	if d.o.runNow {
		go d.job.Run()
	}
	<-ctx.Done()
	d.shutdown(c, srv)
	return nil
}

// shutdown stops new runs, lets the run in progress drain (its writes in
// flight finish and are recorded), cuts it off after the grace period, and
// then closes the listener, the alerts and the database.
func (d *daemon) shutdown(c *cron.Cron, srv *http.Server) {
	d.mu.Lock()
	if !d.isStopping {
		d.isStopping = true
		close(d.stopping)
	}
	d.mu.Unlock()
	d.log.WithField("grace", d.o.grace.String()).Info("shutting down: letting writes in flight finish")
	cut := time.AfterFunc(d.o.grace, func() {
		d.log.Warn("grace period over: cutting off the run in progress; the next run looks its writes up in QBO")
		d.cancelRuns()
	})
	<-c.Stop().Done()
	d.wg.Wait()
	cut.Stop()
	d.cancelRuns()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		d.log.WithError(err).Warn("health listener shutdown")
	}
	d.alerts.close(sctx)
	d.close()
	d.log.Info("daemon stopped")
}

func (d *daemon) close() {
	if d.releaseLease != nil {
		d.releaseLease()
	}
	if d.ln != nil {
		d.ln.Close()
	}
	d.st.Close()
}

// trigger is one scheduled run. It is only ever called through d.job.
func (d *daemon) trigger() {
	d.mu.Lock()
	if d.isStopping {
		d.mu.Unlock()
		return
	}
	d.wg.Add(1)
	d.mu.Unlock()
	defer d.wg.Done()

	d.metrics.running.Set(1)
	defer d.metrics.running.Set(0)
	start := time.Now()
	sum, err := d.m.reconcileOnce(d.runCtx, reconcile.Options{Mode: reconcile.ModeIncremental, Stop: d.stopping}, false)
	elapsed := time.Since(start)

	outcome := outcomeFailed
	switch {
	case err == nil && sum.OK():
		outcome = outcomeOK
	case err == nil:
		outcome = outcomePartial
	case errors.Is(err, errRunLeaseHeld):
		d.metrics.runs.WithLabelValues(outcomeSkipped).Inc()
		d.log.WithError(err).Warn("scheduled run skipped")
		return
	case errors.Is(err, reconcile.ErrInterrupted) || d.runCtx.Err() != nil:
		// Stopped by the shutdown (the engine recorded the run interrupted),
		// or cut off after the grace period before it could start.
		outcome = outcomeInterrupted
	}
	d.metrics.observeRun(outcome, sum, elapsed)
	fields := logrus.Fields{"outcome": outcome, "duration": elapsed.Round(time.Millisecond).String()}
	runID := ""
	if sum != nil {
		runID = sum.RunID
		c := sum.Counts
		fields["run_id"], fields["created"], fields["updated"], fields["voided"] = sum.RunID, c.Created, c.Updated, c.Voided
		fields["unchanged"], fields["blocked"], fields["failed"] = c.Unchanged, c.Blocked, c.Failed
	}
	log := d.log.WithFields(fields)
	switch outcome {
	case outcomeFailed:
		log.WithError(err).Error("scheduled run failed")
		d.alerts.send(alert{Event: alertRunFailed, Severity: severityCritical, RunID: runID,
			Message: "velqbo: the scheduled run failed: " + err.Error(),
			Details: map[string]any{"error": err.Error()}}, "", 0)
	case outcomeInterrupted:
		log.Warn("scheduled run interrupted by shutdown; the next run finishes the work")
	default:
		log.Info("scheduled run finished")
	}
	if outcome == outcomeInterrupted {
		return
	}
	actx, cancel := context.WithTimeout(d.runCtx, time.Minute)
	defer cancel()
	d.refresh(actx)
	d.checkAlerts(actx, runID)
	if (outcome == outcomeOK || outcome == outcomePartial) && d.verify != nil {
		d.checkDrift(actx, runID)
	}
}

func (d *daemon) refresh(ctx context.Context) {
	if err := d.metrics.refresh(ctx, d.st, d.m.Now()); err != nil {
		d.log.WithError(err).Warn("refresh metrics from the database")
	}
}

// alertEvery is how often the same standing condition (a token nearing
// its end, the same items still blocked) is alerted again.
const alertEvery = 24 * time.Hour

// checkAlerts sends the standing-condition alerts after a run.
func (d *daemon) checkAlerts(ctx context.Context, runID string) {
	blocked, err := d.st.BlockedItems(ctx)
	if err != nil {
		d.log.WithError(err).Warn("read blocked items for alerts")
	} else {
		var long []map[string]any
		var ids []string
		for _, b := range blocked {
			if b.Runs > d.o.blockedRuns {
				ids = append(ids, b.Kind+"/"+b.SourceID)
				if len(long) < 20 {
					long = append(long, map[string]any{"kind": b.Kind, "source_id": b.SourceID,
						"order_number": b.OrderNumber, "runs": b.Runs, "reason": b.Reason})
				}
			}
		}
		if len(ids) > 0 {
			sort.Strings(ids)
			d.alerts.send(alert{Event: alertItemsBlocked, Severity: severityWarning, RunID: runID,
				Message: fmt.Sprintf("velqbo: %d item(s) blocked for more than %d runs; `velqbo status` says why", len(ids), d.o.blockedRuns),
				Details: map[string]any{"count": len(ids), "items": long}},
				alertItemsBlocked+":"+strings.Join(ids, ","), alertEvery)
		}
	}
	infos, err := d.st.Tokens(ctx)
	if err != nil {
		d.log.WithError(err).Warn("read token health for alerts")
		return
	}
	if len(infos) == 0 {
		return
	}
	now := d.m.Now()
	end := tokenEnd(infos[0])
	if end.IsZero() {
		return
	}
	left := end.Sub(now)
	if left >= time.Duration(d.o.tokenDays)*24*time.Hour {
		return
	}
	sev, msg := severityWarning, fmt.Sprintf("velqbo: the QBO refresh token expires in %d days (%s); if runs do not renew it, run `velqbo connect`", int(left.Hours()/24), end.UTC().Format(time.DateOnly))
	if left <= 0 {
		sev, msg = severityCritical, "velqbo: the QBO refresh token has expired: run `velqbo connect`"
	}
	d.alerts.send(alert{Event: alertTokenExpiring, Severity: sev, RunID: runID, Message: msg,
		Details: map[string]any{"realm": infos[0].Realm, "expires_at": end.UTC(), "days_left": int(left.Hours() / 24)}},
		alertTokenExpiring+":"+infos[0].Realm+":"+sev, alertEvery)
}

func (d *daemon) checkDrift(ctx context.Context, runID string) {
	rep, err := d.verify(ctx)
	if err != nil {
		d.log.WithError(err).Warn("verify after the run")
		return
	}
	if rep == nil || rep.Clean() {
		return
	}
	keys := make([]string, 0, len(rep.Drift))
	items := rep.Drift
	for _, x := range rep.Drift {
		keys = append(keys, x.QBOType+":"+x.QBOID+":"+x.Drift)
	}
	sort.Strings(keys)
	if len(items) > 20 {
		items = items[:20]
	}
	d.log.WithFields(logrus.Fields{"run_id": runID, "drift": len(rep.Drift)}).Warn("verify found documents changed in QBO")
	d.alerts.send(alert{Event: alertDriftFound, Severity: severityWarning, RunID: runID,
		Message: fmt.Sprintf("velqbo: %d document(s) in QBO differ from what was sent; `velqbo verify` lists them", len(rep.Drift)),
		Details: map[string]any{"count": len(rep.Drift), "drift": items}},
		alertDriftFound+":"+strings.Join(keys, ","), alertEvery)
}

// cronLogger is cron's Logger on logrus. It turns SkipIfStillRunning's
// "skip" and Recover's "panic" into metrics and, for a panic, an alert.
type cronLogger struct {
	log     logrus.FieldLogger
	metrics *metrics
	alerts  *alerter
}

func kvFields(kv []any) logrus.Fields {
	f := logrus.Fields{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return f
}

func (l cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" && l.metrics != nil {
		l.metrics.runs.WithLabelValues(outcomeSkipped).Inc()
		l.log.Warn("a scheduled run is still in progress; this trigger is skipped")
		return
	}
	l.log.WithFields(kvFields(kv)).Debug("cron: " + msg)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.WithError(err).WithFields(kvFields(kv)).Error("cron: " + msg)
	if msg == "panic" && l.metrics != nil {
		l.metrics.runs.WithLabelValues(outcomePanicked).Inc()
		l.alerts.send(alert{Event: alertRunFailed, Severity: severityCritical,
			Message: fmt.Sprintf("velqbo: the scheduled run crashed: %v", err),
			Details: map[string]any{"error": fmt.Sprint(err)}}, "", 0)
	}
}

// healthView is the JSON of /healthz.
type healthView struct {
	// Status is ok, degraded (works, but look at `velqbo status`) or fail
	// (answered with HTTP 503).
	Status        string       `json:"status"`
	Problems      []string     `json:"problems,omitempty"`
	Database      string       `json:"database"`
	RunInProgress bool         `json:"run_in_progress"`
	LastRun       *healthRun   `json:"last_run,omitempty"`
	LastSuccessAt *time.Time   `json:"last_success_at,omitempty"`
	LastSuccessS  *float64     `json:"last_success_age_seconds,omitempty"`
	Blocked       int          `json:"blocked_items"`
	Token         *tokenHealth `json:"token,omitempty"`
}

type healthRun struct {
	ID         string     `json:"run_id"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	AgeSeconds float64    `json:"age_seconds"`
	Error      string     `json:"error,omitempty"`
}

func (d *daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		v := d.health(ctx)
		code := http.StatusOK
		if v.Status == "fail" {
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		writeJSON(w, v)
	})
	mux.Handle("GET /metrics", d.metrics.handler(func(ctx context.Context) { d.refresh(ctx) }))
	return mux
}

// health answers /healthz from the database: is it reachable, how did the
// last run end and how long ago, when did a run last succeed, and is the
// QBO token healthy.
func (d *daemon) health(ctx context.Context) *healthView {
	v := &healthView{Status: "ok", Database: "ok"}
	now := d.m.Now()
	fail := func(p string) { v.Status = "fail"; v.Problems = append(v.Problems, p) }
	degrade := func(p string) {
		if v.Status == "ok" {
			v.Status = "degraded"
		}
		v.Problems = append(v.Problems, p)
	}
	runs, err := d.st.LastRuns(ctx, 1)
	if err != nil {
		v.Database = "unreachable"
		fail("database: " + err.Error())
		return v
	}
	if len(runs) == 0 {
		degrade("no run yet")
	} else {
		r := runs[0]
		at := r.StartedAt
		if !r.FinishedAt.IsZero() {
			at = r.FinishedAt
		}
		v.LastRun = &healthRun{ID: r.ID, Status: string(r.Status), StartedAt: r.StartedAt, FinishedAt: ptime(r.FinishedAt),
			AgeSeconds: now.Sub(at).Seconds(), Error: r.Error}
		switch r.Status {
		case schema.RunFailed:
			fail("the last run failed: " + r.Error)
		case schema.RunPartial:
			degrade("the last run left items blocked or failed")
		case schema.RunInterrupted:
			degrade("the last run was interrupted")
		}
	}
	if ok, err := d.st.LastSuccessfulRun(ctx); err == nil {
		age := now.Sub(ok.StartedAt).Seconds()
		v.LastSuccessAt, v.LastSuccessS = &ok.StartedAt, &age
	}
	if l, err := d.st.GetLease(ctx, runLeaseName); err == nil && l.ExpiresAt.After(now) {
		v.RunInProgress = true
	}
	if blocked, err := d.st.BlockedItems(ctx); err == nil {
		v.Blocked = len(blocked)
	}
	infos, err := d.st.Tokens(ctx)
	switch {
	case err != nil:
		fail("database: " + err.Error())
	case len(infos) == 0:
		fail("not connected to QBO: run `velqbo connect`")
	default:
		v.Token = tokenHealthOf(infos[0], now)
		if end := tokenEnd(infos[0]); !end.IsZero() && !end.After(now) {
			fail(v.Token.Warning)
		} else if v.Token.Warning != "" {
			degrade(v.Token.Warning)
		}
	}
	return v
}
