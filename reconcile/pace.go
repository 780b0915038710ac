package reconcile

import (
	"context"
	"time"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// DefaultPacePoll is how often a request that found a shared window full
// of requests still in flight (possibly in other processes) asks the
// ledger again whether one has ended.
const DefaultPacePoll = 500 * time.Millisecond

// PaceWindows is the ledger's qbo.WindowStore: the QBO clients of every
// process on one database pace against one set of per-minute windows per
// realm (schema's pace_slots), as QBO counts them. Give each client its own
// (qbo.WithWindowStore(reconcile.PaceWindows{St: st}, onError)).
type PaceWindows struct {
	St *schema.Store
	// Poll is how often an unsettled slot asks again; 0 means
	// DefaultPacePoll.
	Poll time.Duration
}

var _ qbo.WindowStore = PaceWindows{}

func paceWindow(w qbo.Window) schema.PaceWindow {
	return schema.PaceWindow{Realm: w.Realm, Kind: string(w.Kind), Limit: w.Limit, Per: w.Per, Hold: w.Hold}
}

func paceWindows(ws []qbo.Window) []schema.PaceWindow {
	out := make([]schema.PaceWindow, len(ws))
	for i, w := range ws {
		out[i] = paceWindow(w)
	}
	return out
}

func paceSlot(s schema.PaceSlot) qbo.Slot {
	return qbo.Slot{At: s.At, Settled: s.Settled, Ref: s}
}

// Reserve returns schema.Store.ReservePace's errors.
func (p PaceWindows) Reserve(ctx context.Context, ws []qbo.Window, now time.Time) ([]qbo.Slot, error) {
	got, err := p.St.ReservePace(ctx, paceWindows(ws), now)
	if err != nil {
		return nil, err
	}
	out := make([]qbo.Slot, len(got))
	for i, s := range got {
		out[i] = paceSlot(s)
	}
	return out, nil
}

// Ready returns schema.Store.PaceReady's errors.
func (p PaceWindows) Ready(ctx context.Context, w qbo.Window, s qbo.Slot, now time.Time) (qbo.Slot, error) {
	poll := p.Poll
	if poll <= 0 {
		poll = DefaultPacePoll
	}
	got, err := p.St.PaceReady(ctx, paceWindow(w), s.Ref.(schema.PaceSlot), now, poll)
	if err != nil {
		return s, err
	}
	return paceSlot(got), nil
}

// Finish returns schema.Store.FinishPace's errors.
func (p PaceWindows) Finish(ctx context.Context, ws []qbo.Window, slots []qbo.Slot, end time.Time) error {
	ss := make([]schema.PaceSlot, len(slots))
	for i, s := range slots {
		ss[i] = s.Ref.(schema.PaceSlot)
	}
	return p.St.FinishPace(ctx, paceWindows(ws), ss, end)
}

// Capacity returns schema.Store.PaceCapacity's errors.
func (p PaceWindows) Capacity(ctx context.Context, w qbo.Window, now time.Time, max int) (int, error) {
	return p.St.PaceCapacity(ctx, paceWindow(w), now, max)
}
