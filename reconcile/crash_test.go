package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/reconcile/reconciletest"
	"github.com/velqbo/velqbo/schema"
)

var errKilled = errors.New("killed")

// crashStep is a point of the write protocol (record the intent, send to
// QBO, record the outcome) at which a test kills the run.
type crashStep int

const (
	beforeIntent crashStep = iota // the write intent is about to be recorded
	afterIntent                   // the intent is recorded; QBO is not called yet
	afterSend                     // QBO answered (or failed); the outcome is not recorded
	afterOutcome                  // the outcome is recorded
)

func (s crashStep) String() string {
	return [...]string{"before-intent", "after-intent", "after-send", "after-outcome"}[s]
}

// crash kills a run, as kill -9 would, the at-th time it reaches step
// (never when at is 0). From then on every ledger write and every QBO
// write fails with errKilled: a killed process records and sends nothing
// more, and the run stops on the ledger fault with an error wrapping
// errKilled. Reads go through; their results can no longer be recorded.
//
// The steps are reached at these calls of the Store and QBO the run uses:
//   - beforeIntent: Store.RecordIntent, before it is called;
//   - afterIntent: Store.RecordIntent, after it succeeded;
//   - afterSend: the QBO write (Create, SparseUpdate, Void; Batch
//     once per document) after it answered, and Store.SaveLink of a created
//     customer before it is called;
//   - afterOutcome: Store.RecordOutcome, RecordFailed or SaveLink, after it
//     succeeded.
type crash struct {
	step crashStep
	at   int
	// onStep, when set, is called each time a step is reached, before the
	// kill is considered (the soak expires tokens mid-run with it).
	onStep func(crashStep)

	mu    sync.Mutex
	calls int
	fired bool
}

// reach records that step was reached n times; false means the process is
// dead (killed now or before).
func (c *crash) reach(step crashStep, n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range n {
		if c.fired {
			return false
		}
		if c.onStep != nil {
			c.onStep(step)
		}
		if step == c.step && c.at > 0 {
			c.calls++
			if c.calls == c.at {
				c.fired = true
			}
		}
	}
	return !c.fired
}

// killed reports whether the kill happened.
func (c *crash) killed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fired
}

// gate fails a write once the process is dead.
func (c *crash) gate(op string) error {
	if c.killed() {
		return fmt.Errorf("%s: %w", op, errKilled)
	}
	return nil
}

// install wraps rec's Store and QBO with the crash points; restore puts
// the originals back.
func (c *crash) install(rec *reconcile.Reconciler) (restore func()) {
	st, q := rec.Store, rec.QBO
	rec.Store, rec.QBO = c.store(st), c.qbo(q)
	return func() { rec.Store, rec.QBO = st, q }
}

// write runs one ledger write: the gate, then the call.
func (c *crash) write(op string, call func() error) error {
	if err := c.gate(op); err != nil {
		return err
	}
	return call()
}

// outcome runs a ledger write that records an outcome: afterOutcome is
// reached when it succeeded.
func (c *crash) outcome(op string, call func() error) error {
	if err := c.write(op, call); err != nil {
		return err
	}
	if !c.reach(afterOutcome, 1) {
		return fmt.Errorf("%s: %w", op, errKilled)
	}
	return nil
}

func (c *crash) store(next reconcile.Store) reconcile.Store {
	return reconciletest.NewStore(next, reconciletest.StoreFuncs{
		RecordIntent: func(ctx context.Context, next reconcile.Store, in schema.Intent) error {
			if !c.reach(beforeIntent, 1) {
				return fmt.Errorf("record intent: %w", errKilled)
			}
			if err := next.RecordIntent(ctx, in); err != nil {
				return err
			}
			if !c.reach(afterIntent, 1) {
				return fmt.Errorf("after the intent: %w", errKilled)
			}
			return nil
		},
		RecordOutcome: func(ctx context.Context, next reconcile.Store, o schema.DocumentOutcome) error {
			return c.outcome("record outcome", func() error { return next.RecordOutcome(ctx, o) })
		},
		RecordFailed: func(ctx context.Context, next reconcile.Store, p schema.Problem) error {
			return c.outcome("record failed", func() error { return next.RecordFailed(ctx, p) })
		},
		SaveLink: func(ctx context.Context, next reconcile.Store, kind schema.LinkKind, l schema.Link) error {
			if !c.reach(afterSend, 1) {
				return fmt.Errorf("save link: %w", errKilled)
			}
			return c.outcome("save link", func() error { return next.SaveLink(ctx, kind, l) })
		},
		RecordBlocked: func(ctx context.Context, next reconcile.Store, p schema.Problem) error {
			return c.write("record blocked", func() error { return next.RecordBlocked(ctx, p) })
		},
		ClearIntent: func(ctx context.Context, next reconcile.Store, k schema.DocumentKey, rid string) error {
			return c.write("clear intent", func() error { return next.ClearIntent(ctx, k, rid) })
		},
		SetState: func(ctx context.Context, next reconcile.Store, k schema.DocumentKey, st schema.State) error {
			return c.write("set state", func() error { return next.SetState(ctx, k, st) })
		},
		BumpGeneration: func(ctx context.Context, next reconcile.Store, kind, id string) (schema.Document, error) {
			if err := c.gate("bump generation"); err != nil {
				return schema.Document{}, err
			}
			return next.BumpGeneration(ctx, kind, id)
		},
		FinishRun: func(ctx context.Context, next reconcile.Store, res schema.RunResult) error {
			return c.write("finish run", func() error { return next.FinishRun(ctx, res) })
		},
		AddRunItems: func(ctx context.Context, next reconcile.Store, id string, items []schema.RunItem) error {
			return c.write("add run items", func() error { return next.AddRunItems(ctx, id, items) })
		},
	})
}

// sent is a QBO write's answer passed on, unless the process died when
// (or before) QBO answered.
func sent[T any](c *crash, n int, v T, err error) (T, error) {
	if !c.reach(afterSend, n) {
		var zero T
		return zero, fmt.Errorf("after the send: %w", errKilled)
	}
	return v, err
}

func (c *crash) qbo(next reconcile.QBO) reconcile.QBO {
	return reconciletest.NewQBO(next, reconciletest.QBOFuncs{
		Create: func(ctx context.Context, next reconcile.QBO, typ string, e any, rid string) (reconcile.DocRef, error) {
			if err := c.gate("create"); err != nil {
				return reconcile.DocRef{}, err
			}
			d, err := next.Create(ctx, typ, e, rid)
			return sent(c, 1, d, err)
		},
		SparseUpdate: func(ctx context.Context, next reconcile.QBO, typ string, e any, rid string) (reconcile.DocRef, error) {
			if err := c.gate("update"); err != nil {
				return reconcile.DocRef{}, err
			}
			d, err := next.SparseUpdate(ctx, typ, e, rid)
			return sent(c, 1, d, err)
		},
		Void: func(ctx context.Context, next reconcile.QBO, typ, id, token, rid string) (reconcile.DocRef, error) {
			if err := c.gate("void"); err != nil {
				return reconcile.DocRef{}, err
			}
			d, err := next.Void(ctx, typ, id, token, rid)
			return sent(c, 1, d, err)
		},
		Batch: func(ctx context.Context, next reconcile.QBO, ws []reconcile.BatchWrite, rid string) ([]reconcile.BatchOutcome, error) {
			if err := c.gate("batch"); err != nil {
				return nil, err
			}
			out, err := next.Batch(ctx, ws, rid)
			return sent(c, len(ws), out, err)
		},
	})
}
