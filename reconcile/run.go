package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// Reconciler reports a Velocity store's orders to one QBO company. Plan and
// Run may be called repeatedly; a Reconciler must not run twice at once
// (cmd holds the run lease).
type Reconciler struct {
	Source   Source
	Store    Store
	QBO      QBO
	Realm    string         // QBO company id, part of every request id
	Location *time.Location // business time zone; nil means UTC
	Log      logrus.FieldLogger
	Now      func() time.Time
	// Concurrency bounds the QBO requests in flight (default 10, QBO's
	// limit per company); the qbo client's pacer decides the rate.
	Concurrency int
	// ChunkSize is how many orders are diffed per ledger query (default 500).
	ChunkSize int
	// Map is the mapping; nil means MapOrder.
	Map func(o *velocity.Order, env *Env) *OrderDocs
	// FixText phrases the fix of a reason in Item.Reason and the ledger's
	// last error (the CLI gives the command that fixes it). Nil leaves the
	// fix out of the text; Item.Reasons carries it as data either way.
	FixText func(Fix) string
	// LandMargin is how long after the QBO client gave up on a write QBO
	// may still commit it (default DefaultLandMargin). A create whose
	// look-up finds nothing is taken for absent only after the client's
	// timeout plus this margin (recover.go, landBy).
	LandMargin time.Duration
	// SourceName names where the orders come from in reasons ("order 7
	// is no longer in BigCommerce"); empty means "Velocity".
	SourceName string
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// sourceName is the configured source as reasons name it.
func (r *Reconciler) sourceName() string { return sourceNameOr(r.SourceName) }

// sourceNameOr is name, or "Velocity" when it is empty: Reconciler and
// Env leave it empty for a Velocity source.
func sourceNameOr(name string) string {
	if name != "" {
		return name
	}
	return "Velocity"
}

func (r *Reconciler) location() *time.Location {
	if r.Location != nil {
		return r.Location
	}
	return time.UTC
}

func (r *Reconciler) log() logrus.FieldLogger {
	if r.Log != nil {
		return r.Log
	}
	l := logrus.New()
	l.Out = io.Discard
	return l
}

func (r *Reconciler) concurrency() int {
	if r.Concurrency > 0 {
		return r.Concurrency
	}
	return 10
}

// qboFatal marks an error that stops the run: QBO refusing the connection.
func (r *Reconciler) qboFatal(err error) error {
	if qbo.IsAuth(err) {
		return fmt.Errorf("%w: %w", ErrQBOAuth, err)
	}
	return err
}

// Run performs one reconciliation: it resolves writes whose outcome is
// unknown, reads the orders of the window (plus every blocked, failed or
// pending object by id), and applies the difference to QBO exactly once,
// recording the run, its items and, when the window was read in full, the
// cursor for the next incremental run.
//
// Per-item failures are in the summary, not the error. The error wraps
// ErrSourceUnavailable when Velocity could not be read, ErrQBOAuth when QBO
// refused the connection (both "could not run"), and ErrInterrupted when
// opts.Stop fired (the run is recorded interrupted); the summary so far is
// returned with it.
func (r *Reconciler) Run(ctx context.Context, opts Options) (*Summary, error) {
	mode := modeName(opts.Mode)
	run, err := r.Store.StartRun(ctx, string(mode))
	if err != nil {
		return nil, err
	}
	sum := &Summary{RunID: run.ID, Mode: mode, StartedAt: r.now(), Items: []Item{}}
	a := &applier{r: r, runID: run.ID, sum: sum, progress: opts.Progress, halt: opts.Stop,
		log: r.log().WithField("run_id", run.ID)}
	fail := func(err error) (*Summary, error) {
		sum.FinishedAt = r.now()
		sum.sortItems()
		status := schema.RunFailed
		if a.halted() && (errors.Is(err, ErrInterrupted) || ctx.Err() != nil) {
			// Asked to stop, and perhaps cut off after that (ctx cancelled
			// at the end of a grace period): the run did not fail, it was
			// interrupted, and the next run does the rest.
			status = schema.RunInterrupted
			if !errors.Is(err, ErrInterrupted) {
				err = fmt.Errorf("%w, then cut off: %w", ErrInterrupted, err)
			}
		}
		fctx := context.WithoutCancel(ctx)
		if aerr := r.Store.AddRunItems(fctx, run.ID, sum.runItems()); aerr != nil {
			a.log.WithError(aerr).Error("record run items")
		}
		if ferr := r.Store.FinishRun(fctx, schema.RunResult{ID: run.ID, Status: status,
			Counts: sum.countsMap(), Error: err.Error()}); ferr != nil {
			a.log.WithError(ferr).Error("finish run")
		}
		if status == schema.RunInterrupted {
			a.log.WithFields(logrus.Fields{"created": sum.Counts.Created, "updated": sum.Counts.Updated,
				"voided": sum.Counts.Voided, "failed": sum.Counts.Failed}).Warn("run interrupted; the next run does the rest")
		}
		return sum, err
	}

	// Phase A: writes with an unknown outcome are looked up before
	// anything else is sent, so none is ever sent twice.
	if err := a.resolvePending(ctx); err != nil {
		return fail(err)
	}
	if err := a.phaseEnd(); err != nil {
		return fail(err)
	}
	popts := opts
	popts.recordDigests = true
	res, fresh, err := r.plan(ctx, popts)
	if err != nil {
		return fail(err)
	}
	sum.warnEmpty(opts, res)
	for _, w := range sum.Warnings {
		a.log.Warn(w)
	}
	if err := a.phaseEnd(); err != nil {
		return fail(err)
	}
	// Phase B: missing customers are created (auto_create_customers) and
	// their orders re-planned, so that this run sends them.
	if res, fresh, err = a.createCustomers(ctx, opts, res, fresh); err != nil {
		return fail(err)
	}
	if err := a.apply(ctx, res); err != nil {
		return fail(err)
	}

	cursors := map[string]string{}
	if !res.maxUpdated.IsZero() {
		old := time.Time{}
		if v, err := r.Store.GetCursor(ctx, cursorOrders); err == nil {
			old, _ = time.Parse(time.RFC3339Nano, v)
		}
		if res.maxUpdated.After(old) {
			cursors[cursorOrders] = res.maxUpdated.UTC().Format(time.RFC3339Nano)
		}
	}
	if fresh != nil {
		cursors[cursorHomeCurrency] = fresh.HomeCurrency
		cursors[cursorMultiCurrency] = fmt.Sprint(fresh.MultiCurrency)
	}
	if err := r.listSkipped(ctx, sum); err != nil {
		return fail(err)
	}
	sum.FinishedAt = r.now()
	sum.sortItems()
	if err := r.Store.AddRunItems(ctx, run.ID, sum.runItems()); err != nil {
		return fail(err)
	}
	status := schema.RunOK
	if !sum.OK() {
		status = schema.RunPartial
	}
	if err := r.Store.FinishRun(ctx, schema.RunResult{ID: run.ID, Status: status, Counts: sum.countsMap(),
		Cursors: cursors}); err != nil {
		return sum, err
	}
	a.log.WithFields(logrus.Fields{"created": sum.Counts.Created, "updated": sum.Counts.Updated,
		"voided": sum.Counts.Voided, "unchanged": sum.Counts.Unchanged, "blocked": sum.Counts.Blocked,
		"failed": sum.Counts.Failed}).Info("run finished")
	return sum, nil
}

// BatchCapacity reports how many batch requests the client would send now
// without waiting (see qbo.Client.BatchCapacity); apply's batch workers ask
// before gathering a batch.
func (q QBOClient) BatchCapacity(max int) int { return q.C.BatchCapacity(max) }
