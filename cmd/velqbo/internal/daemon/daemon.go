// Package daemon is the runtime of `velqbo daemon`: the cron schedule,
// the daemon lease, the graceful stop, /healthz and /metrics, and the
// webhook alerts. The command (flags, configuration, how one run is
// wired) stays in cmd/velqbo and hands the runtime its runs as functions.
package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// ErrRunLeaseHeld is wrapped by a run's error when another run holds the
// database's run lease, so the daemon can tell "skip this trigger" from a
// failed run.
var ErrRunLeaseHeld = errors.New("another run holds the database")

// leaseName is the lease a daemon holds for its whole life, so a second
// daemon on the same database refuses to start.
const leaseName = "daemon"

// Config is what the daemon runs with.
type Config struct {
	// Schedule is the cron spec (standard five fields or a descriptor
	// such as @every 6h) of the runs, read in Location.
	Schedule string
	Location *time.Location
	// Listen is the address of /healthz, /metrics and the console.
	Listen string
	// Console, when not nil, serves every path but /healthz and /metrics
	// on the listener (the web console).
	Console http.Handler
	// MetricsToken, when set, is the bearer token /metrics requires. When
	// empty, /metrics is served only on a loopback listener.
	MetricsToken string
	// AlertWebhook receives the alerts; empty sends none.
	AlertWebhook string
	// UserAgent is sent with every alert.
	UserAgent string

	// RunNow also runs once at start.
	RunNow bool
	// Grace is how long the writes in flight of a run may take to finish
	// after shutdown starts before the run is cut off.
	Grace time.Duration
	// BlockedRuns: alert when an item has stayed blocked for more than
	// this many runs.
	BlockedRuns int
	// FailedRuns: alert when an item QBO refused (it needs a person) has
	// failed this many consecutive runs.
	FailedRuns int
	// TokenDays: alert when the QBO refresh token has fewer days left.
	TokenDays int

	// RunLease names the database's run lease, which /healthz reads to
	// tell whether a run is in progress; LeaseTTL is how long the daemon
	// lease lasts without renewal.
	RunLease string
	LeaseTTL time.Duration

	// Run runs one reconciliation with opts. Its error wraps
	// ErrRunLeaseHeld when another run holds the database, and
	// reconcile.ErrInterrupted when opts.Stop stopped it.
	Run func(ctx context.Context, opts reconcile.Options) (*reconcile.Summary, error)
	// Verify, when not nil, reads the recorded documents back from QBO
	// after each finished run (`velqbo verify`); drift is alerted.
	Verify func(ctx context.Context) (*reconcile.DriftReport, error)

	Log logrus.FieldLogger
	Now func() time.Time
}

// Daemon runs reconciliations on a cron schedule and serves /healthz and
// /metrics. Overlap is impossible three times over: the job is wrapped in
// cron's SkipIfStillRunning, each run takes the database's run lease (a
// manual `velqbo run` meanwhile exits 3; a trigger that finds a manual run
// in progress is skipped), and the daemon lease keeps a second daemon out.
type Daemon struct {
	c       Config
	log     logrus.FieldLogger
	st      *schema.Store
	holder  string // of the daemon lease and of every run lease it takes
	metrics *metrics
	alerts  *alerter
	ln      net.Listener
	// job is the trigger as cron runs it: SkipIfStillRunning(Recover(trigger)).
	job cron.Job

	// runCtx is the context runs get. It is deliberately not the signal
	// context: SIGTERM closes stopping, the run's Options.Stop, which lets
	// the writes in flight finish and be recorded; only c.Grace later is
	// runCtx cancelled to cut off what remains.
	// It is the daemon's one long-lived context kept in a struct.
	runCtx     context.Context
	cancelRuns context.CancelFunc

	mu           sync.Mutex
	stopping     chan struct{} // closed when shutdown starts: every run's Options.Stop
	isStopping   bool
	wg           sync.WaitGroup // runs in progress, cron's and RunNow's
	releaseLease func()
}

// New takes the daemon lease in st under a holder name of its own
// (Holder) and binds the health listener. st is the daemon's: it is
// closed when New fails or when Serve returns.
//
// Returns an error wrapping *schema.LeaseHeldError when another daemon
// holds the lease, and the listener's error when Listen cannot be bound.
func New(ctx context.Context, st *schema.Store, c Config) (*Daemon, error) {
	host, _ := os.Hostname()
	var nonce [4]byte
	rand.Read(nonce[:])
	d := &Daemon{c: c, st: st, log: c.Log.WithField("component", "daemon"), stopping: make(chan struct{}),
		holder: fmt.Sprintf("velqbo daemon pid %d on %s #%s", os.Getpid(), host, hex.EncodeToString(nonce[:]))}
	release, err := st.HoldLease(ctx, leaseName, d.holder, c.LeaseTTL, func(err error) {
		d.log.WithError(err).Warn("could not renew the daemon lease")
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	d.releaseLease = func() {
		if err := release(); err != nil {
			d.log.WithError(err).Warn("could not release the daemon lease")
		}
	}

	d.metrics = newMetrics()
	d.alerts = newAlerter(c.AlertWebhook, nil, d.log.WithField("component", "alerts"), c.Now)
	d.alerts.userAgent = c.UserAgent

	if !IsLoopback(c.Listen) {
		if c.MetricsToken == "" {
			d.log.WithField("listen", c.Listen).Warn("the listener is not on loopback: /healthz is readable from the network, and /metrics is refused until VELQBO_METRICS_TOKEN is set")
		} else {
			d.log.WithField("listen", c.Listen).Warn("the listener is not on loopback: /healthz is readable from the network (/metrics needs the bearer token)")
		}
	}
	d.ln, err = net.Listen("tcp", c.Listen)
	if err != nil {
		d.close()
		return nil, fmt.Errorf("health listener: %w", err)
	}
	cl := cronLogger{log: d.log, metrics: d.metrics, alerts: d.alerts}
	d.job = cron.NewChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)).Then(cron.FuncJob(d.trigger))
	d.runCtx, d.cancelRuns = context.WithCancel(context.WithoutCancel(ctx))
	return d, nil
}

// Holder is the daemon's name in the leases it holds: the daemon lease,
// and the run lease of every run it starts.
func (d *Daemon) Holder() string { return d.holder }

// QBOObserver feeds the QBO client's requests, retries and throttling
// into the daemon's metrics; every QBO client its runs build should have it.
func (d *Daemon) QBOObserver() qbo.Observer { return d.metrics.observer() }

// Addr is the health listener's address (useful with port 0).
func (d *Daemon) Addr() string { return d.ln.Addr().String() }

// Trigger is one scheduled run exactly as cron starts it: skipped while
// another is in progress, a panic recovered and reported.
func (d *Daemon) Trigger() { d.job.Run() }

// Stopping is closed when shutdown starts.
func (d *Daemon) Stopping() <-chan struct{} { return d.stopping }

// IsLoopback reports whether addr ("host:port") binds to loopback only.
func IsLoopback(addr string) bool {
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

// Serve runs the schedule and the listener until ctx is done (SIGINT or
// SIGTERM), then shuts down gracefully. It returns nil after a clean stop,
// and cron's error, after shutting down, when Schedule does not parse.
func (d *Daemon) Serve(ctx context.Context) error {
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(d.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.WithError(err).Error("health listener stopped")
		}
	}()
	loc := d.c.Location
	c := cron.New(cron.WithLocation(loc), cron.WithLogger(cronLogger{log: d.log}))
	if _, err := c.AddJob(d.c.Schedule, d.job); err != nil {
		d.shutdown(c, srv)
		return err
	}
	c.Start()
	next := time.Time{}
	if es := c.Entries(); len(es) > 0 {
		next = es[0].Next
	}
	d.refresh(ctx)
	d.log.WithFields(logrus.Fields{"schedule": d.c.Schedule, "timezone": loc.String(), "listen": d.Addr(),
		"next_run": next.Format(time.RFC3339), "holder": d.holder}).Info("daemon started")
	if d.c.RunNow {
		go d.job.Run()
	}
	<-ctx.Done()
	d.shutdown(c, srv)
	return nil
}

// shutdown stops new runs, lets the run in progress drain (its writes in
// flight finish and are recorded), cuts it off after the grace period, and
// then closes the listener, the alerts and the database.
func (d *Daemon) shutdown(c *cron.Cron, srv *http.Server) {
	d.mu.Lock()
	if !d.isStopping {
		d.isStopping = true
		close(d.stopping)
	}
	d.mu.Unlock()
	d.log.WithField("grace", d.c.Grace.String()).Info("shutting down: letting writes in flight finish")
	cut := time.AfterFunc(d.c.Grace, func() {
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

func (d *Daemon) close() {
	if d.releaseLease != nil {
		d.releaseLease()
	}
	if d.ln != nil {
		d.ln.Close()
	}
	d.st.Close()
}
