package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/daemon"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/runprogress"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// runFlags are the window flags shared by run and plan.
type runFlags struct {
	since  string
	full   bool
	asJSON bool
	only   string
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.since, "since", "", "catch up: read orders updated since DATE (YYYY-MM-DD in the business time zone, or RFC 3339)")
	fs.BoolVar(&f.full, "full", false, "catch up: read every order")
	fs.BoolVar(&f.asJSON, "json", false, "print the summary as one JSON object on stdout")
	fs.StringVar(&f.only, "only", "", "list only the items whose action is one of `ACTIONS`: blocked, failed, create, update, void, adopt, skipped (comma-separated)")
}

// options turns the flags into reconcile.Options.
func (f *runFlags) options(loc *time.Location) (reconcile.Options, error) {
	switch {
	case f.full && f.since != "":
		return reconcile.Options{}, usageErrorf("--since and --full exclude each other")
	case f.full:
		return reconcile.Options{Mode: reconcile.ModeFull}, nil
	case f.since != "":
		t, err := time.ParseInLocation(time.DateOnly, f.since, loc)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, f.since); err != nil {
				return reconcile.Options{}, usageErrorf("--since %q: want YYYY-MM-DD or an RFC 3339 time", f.since)
			}
		}
		return reconcile.Options{Mode: reconcile.ModeSince, Since: t}, nil
	}
	return reconcile.Options{Mode: reconcile.ModeIncremental}, nil
}

func runCommand() command {
	var f runFlags
	return command{
		name:  "run",
		flags: f.register,
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 0 {
				return usageErrorf("run takes no arguments (did you mean --since %s?)", args[0])
			}
			opts, err := f.options(m.Config.Location())
			if err != nil {
				return err
			}
			v, err := f.view(false)
			if err != nil {
				return err
			}
			sum, err := m.reconcileOnce(ctx, opts, false)
			if errors.Is(err, reconcile.ErrInterrupted) && sum != nil {
				return m.reportInterrupted(ctx, sum, v)
			}
			if err != nil {
				return err
			}
			return m.report(sum, v)
		},
	}
}

// reportInterrupted prints the summary of a run that Ctrl-C or SIGTERM
// stopped, says what happens next, and returns exit code 1: the run did
// not finish, nothing was lost, and the next run does the rest.
func (m *Main) reportInterrupted(ctx context.Context, sum *reconcile.Summary, v summaryView) error {
	if err := m.report(sum, v); err != nil && err != errIncomplete {
		return err
	}
	msg := "interrupted: every write that was sent is recorded; the next run does the rest"
	if ctx.Err() != nil {
		msg = "interrupted and cut off: the next run looks up in QBO the writes that were cut off, then does the rest"
	}
	fmt.Fprintf(m.Stderr, "velqbo: %s\n", msg)
	return errInterrupted
}

// errInterrupted is exit code 1 for a run stopped by a signal, after
// reportInterrupted said so.
var errInterrupted = &exitError{code: exitIncomplete, err: reconcile.ErrInterrupted}

func planCommand() command {
	var f runFlags
	return command{
		name:  "plan",
		flags: f.register,
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 0 {
				return usageErrorf("plan takes no arguments")
			}
			opts, err := f.options(m.Config.Location())
			if err != nil {
				return err
			}
			v, err := f.view(true)
			if err != nil {
				return err
			}
			sum, err := m.reconcileOnce(ctx, opts, true)
			if err != nil {
				return err
			}
			return m.report(sum, v)
		},
	}
}

func resyncCommand() command {
	return command{
		name: "resync",
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) != 1 {
				return usageErrorf("resync takes one ORDER_NUMBER")
			}
			return m.withLease(ctx, m.newReconciler, func(r *reconcile.Reconciler) error {
				docs, err := r.Resync(ctx, args[0])
				if errors.Is(err, reconcile.ErrNothingToResync) {
					return usageErrorf("%v", err)
				}
				if errors.Is(err, schema.ErrConflict) {
					err = fmt.Errorf("%w (run `velqbo run` first)", err)
				}
				if err != nil {
					return exitFor(err)
				}
				for _, d := range docs {
					fmt.Fprintf(m.Stdout, "%s %s (%s %s): will be re-created by the next run (generation %d)\n", d.Kind, d.SourceID, d.QBOType, d.DocNumber, d.Generation)
				}
				return nil
			})
		},
	}
}

// newReconciler wires the engine to the configured source, the database and
// the connected QBO company.
func (m *Main) newReconciler(ctx context.Context, st *schema.Store) (*reconcile.Reconciler, error) {
	rsrc, err := m.reconcileSource()
	if err != nil {
		return nil, err
	}
	conn, err := m.connectQBO(ctx, st)
	if err != nil {
		return nil, err
	}
	return &reconcile.Reconciler{
		Source:      rsrc,
		Store:       st,
		QBO:         reconcile.QBOClient{C: conn.Client},
		Realm:       conn.Realm,
		Location:    m.Config.Location(),
		Log:         m.Log,
		Now:         m.Now,
		Concurrency: m.Config.QBO.Concurrency,
		FixText:     m.fixText,
		LandMargin:  m.Config.QBO.LandMargin,
		SourceName:  m.Config.sourceName(),
	}, nil
}

// reconcileSource is the configured Velocity source (the API or an
// export file) as reconcile reads it.
func (m *Main) reconcileSource() (reconcile.Source, error) {
	src, client, err := m.velocitySource()
	if err != nil {
		return nil, err
	}
	if client != nil {
		return client, nil
	}
	return reconcile.FileSource{FileSource: src.(*velocity.FileSource)}, nil
}

// leaseTTL is how long a run's lease lasts without renewal: a crashed run
// blocks the next one for at most this long.
const leaseTTL = 2 * time.Minute

// reconcileOnce runs (or plans) one reconciliation. A run holds the
// database's run lease, so a second process waits for nothing: it exits
// with code 3 and says who holds it.
func (m *Main) reconcileOnce(ctx context.Context, opts reconcile.Options, dryRun bool) (sum *reconcile.Summary, err error) {
	if dryRun {
		return m.plan(ctx, opts)
	}
	bar := m.progress(true)
	defer bar.finish()
	lr, err := m.leaseRun(ctx, bar)
	if err != nil {
		return nil, err
	}
	defer func() { lr.close(sum, err) }()
	if opts.Stop == nil {
		// A manual run (the daemon brings its own Stop): the first
		// signal stops it gracefully.
		stop, undo := m.gracefulStop(bar.notice)
		defer undo()
		opts.Stop = stop
	}
	return lr.run(ctx, opts)
}

// plan is `velqbo plan`: what a run would do, written nowhere. It takes no
// lease: it changes nothing.
func (m *Main) plan(ctx context.Context, opts reconcile.Options) (*reconcile.Summary, error) {
	st, err := m.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	r, err := m.newReconciler(ctx, st)
	if err != nil {
		return nil, err
	}
	sum, err := r.Plan(ctx, opts)
	return sum, exitFor(err)
}

// leasedRun is a run ready to start: the ledger open, the Reconciler
// built and the run lease held.
type leasedRun struct {
	m       *Main
	st      *schema.Store
	r       *reconcile.Reconciler
	bar     *progressReporter
	holder  string
	release func()
	// live is the run on m's board (nil when m has none).
	live *runprogress.Live
}

// leaseRun opens the ledger, builds the Reconciler (its QBO client
// reporting its pacing to bar) and takes the run lease; the run is then on
// m's board, when m has one, until close. Its errors are those of
// openStore, newReconciler and holdLease (a lease held by another run:
// exit code 3, wrapping *schema.LeaseHeldError).
func (m *Main) leaseRun(ctx context.Context, bar *progressReporter) (*leasedRun, error) {
	st, err := m.openStore(ctx)
	if err != nil {
		return nil, err
	}
	// The bar hears from the QBO client's pacing: when it waits, and
	// what the per-minute windows allow.
	paced := *m
	paced.QBOOptions = append(slices.Clip(m.QBOOptions), qbo.WithPaceHook(bar.paced))
	r, err := paced.newReconciler(ctx, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	release, err := m.holdLease(ctx, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	lr := &leasedRun{m: m, st: st, r: r, bar: bar, holder: m.runLeaseHolder(), release: release}
	if m.board != nil {
		lr.live = m.board.Begin(bar.track, lr.holder, m.Now())
	}
	return lr, nil
}

// run runs the reconciliation.
func (lr *leasedRun) run(ctx context.Context, opts reconcile.Options) (*reconcile.Summary, error) {
	opts.Progress = lr.bar.update
	sum, err := lr.r.Run(ctx, opts)
	lr.bar.finish()
	return sum, exitFor(err)
}

// close releases the lease, closes the ledger, and then takes the run off
// the board with its result: whoever waits for the run to end finds the
// lease free.
func (lr *leasedRun) close(sum *reconcile.Summary, err error) {
	lr.release()
	lr.st.Close()
	if lr.live != nil {
		lr.m.board.Finish(lr.live, sum, err)
	}
}

// runLeaseHolder is the name m's runs and verifies hold the run lease
// under.
func (m *Main) runLeaseHolder() string {
	if m.leaseHolder != "" {
		return m.leaseHolder
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("velqbo run pid %d on %s", os.Getpid(), host)
}

// holdLease takes the run lease, renewed in the background until release
// is called (schema's HoldLease).
func (m *Main) holdLease(ctx context.Context, st *schema.Store) (release func(), err error) {
	host, _ := os.Hostname()
	holder := m.runLeaseHolder()
	onRenewErr := func(err error) { m.Log.WithError(err).Warn("could not renew the run lease") }
	rel, err := st.HoldLease(ctx, runLeaseName, holder, leaseTTL, onRenewErr)
	var held *schema.LeaseHeldError
	if errors.As(err, &held) && held.Host == host && processGone(held.PID) {
		// The holder was killed (kill -9, OOM, power cut) on this machine
		// and cannot renew: waiting out its TTL would only delay the
		// re-run that finishes its work. Only its exact holder row is
		// removed, so a live run that took the lease meanwhile keeps it.
		m.Log.WithFields(map[string]any{"holder": held.Holder, "pid": held.PID}).Warn("taking over the run lease of a process that is gone")
		if err := st.ReleaseLease(ctx, runLeaseName, held.Holder); err != nil {
			return nil, err
		}
		rel, err = st.HoldLease(ctx, runLeaseName, holder, leaseTTL, onRenewErr)
	}
	if err != nil {
		if errors.As(err, &held) {
			return nil, unavailable(runLeaseHeldError{held})
		}
		return nil, err
	}
	return func() {
		if err := rel(); err != nil {
			m.Log.WithError(err).Warn("could not release the run lease")
		}
	}, nil
}

// runLeaseHeldError is a run that could not start because another holds
// the run lease: errors.Is(err, daemon.ErrRunLeaseHeld) tells the daemon to
// skip a trigger, and errors.As to *schema.LeaseHeldError tells the
// console who runs.
type runLeaseHeldError struct{ held *schema.LeaseHeldError }

func (e runLeaseHeldError) Error() string {
	h := e.held
	return fmt.Sprintf("%v: %s (pid %d on %s) since %s; try again when it finishes", daemon.ErrRunLeaseHeld, h.Holder, h.PID, h.Host, h.Since.Format(time.RFC3339))
}

func (e runLeaseHeldError) Unwrap() []error { return []error{daemon.ErrRunLeaseHeld, e.held} }

// processGone reports whether no process with pid exists on this machine.
// Where that cannot be told (a signal 0 is not supported), the process is
// taken to be alive, so the lease is only ever waited out, never stolen.
func processGone(pid int) bool {
	if pid <= 0 || pid == os.Getpid() {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// exitFor maps the engine's "could not run" errors to exit code 3.
func exitFor(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, qbo.ErrTokenRejected):
		return unavailable(errTokenRejected)
	case errors.Is(err, reconcile.ErrQBOAuth):
		return unavailable(fmt.Errorf("%w: run `velqbo connect` again", err))
	case errors.Is(err, reconcile.ErrSourceUnavailable):
		return unavailable(err)
	}
	return unavailable(qboError(err))
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
