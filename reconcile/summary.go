package reconcile

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"github.com/velqbo/velqbo/schema"
)

// Action is what a run does (or did) with an item, as `run --json` names it.
type Action string

// Item actions.
const (
	ActionCreate  Action = "create"
	ActionUpdate  Action = "update"
	ActionVoid    Action = "void"
	ActionNoop    Action = "noop"
	ActionBlocked Action = "blocked"
	ActionFailed  Action = "failed"
	// ActionAdopt: the document was found in QBO, carrying velqbo's
	// marker and the desired payload, and recorded instead of created.
	ActionAdopt Action = "adopt"
	// ActionSkipped: a person set the object aside (velqbo skip); it is
	// not sent, and neither failed nor blocked.
	ActionSkipped Action = "skipped"
)

// Mode says which orders a run reads.
type Mode string

// Run modes.
const (
	ModeIncremental Mode = "incremental"
	ModeSince       Mode = "since"
	ModeFull        Mode = "full"
)

var (
	// ErrSourceUnavailable means Velocity (API or export file) could not be
	// read: the run did not happen (exit code 3).
	ErrSourceUnavailable = errors.New("velocity source unavailable")
	// ErrQBOAuth means QBO rejected the connection (token revoked or
	// expired, authorization fault): the run stopped (exit code 3).
	ErrQBOAuth = errors.New("qbo rejected the connection")
	// ErrInterrupted is returned when Options.Stop fired before the run
	// finished: the run is recorded interrupted and the next run does the
	// rest. Writes in flight finished and were recorded, unless ctx was
	// cancelled too (then the error also wraps ctx's, and the next run
	// looks those writes up in QBO).
	ErrInterrupted = errors.New("run interrupted: asked to stop; the next run does the rest")
)

// Options say which orders a run or plan reads.
type Options struct {
	// Mode is ModeIncremental (default), ModeSince or ModeFull.
	Mode Mode
	// Since is the start of the window in ModeSince.
	Since time.Time
	// Progress, when set, is called as documents are sent: done of total.
	Progress func(done, total int)
	// Stop, when closed, stops a run gracefully: no new write starts (no
	// new intent is recorded), the writes in flight finish and their
	// outcomes are recorded, and Run records the run interrupted and
	// returns ErrInterrupted; the work left is the next run's. Plan
	// ignores it.
	//
	// It is a channel and not a second context because it must not reach
	// the requests in flight: cancelling a context cuts them off and
	// leaves their outcome unknown, which is what ctx is for (the hard
	// stop after a grace period).
	Stop <-chan struct{}

	// recordDigests: the scan records order digests (Run sets it).
	recordDigests bool
}

// Counts are a run's totals by outcome.
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Voided    int `json:"voided"`
	Unchanged int `json:"unchanged"`
	Blocked   int `json:"blocked"`
	Failed    int `json:"failed"`
	// Adopted counts documents found in QBO and recorded, not created.
	Adopted int `json:"adopted,omitempty"`
	// Waiting counts the failed items whose earlier create may still
	// reach QBO (code write_in_flight): looked up again by a later run.
	Waiting int `json:"waiting,omitempty"`
	// Skipped counts the objects a person set aside (velqbo skip).
	Skipped int `json:"skipped,omitempty"`
	// NeedsPerson counts the failed items QBO refused for the document
	// itself (code qbo_refused_document): retrying alone will not help.
	NeedsPerson int `json:"needs_person,omitempty"`
}

// Item is one unit of work of a run or plan, as `run --json` lists it.
type Item struct {
	Kind        Kind   `json:"kind"`
	SourceID    string `json:"source_id"`
	OrderNumber string `json:"order_number"`
	Action      Action `json:"action"`
	QBOType     string `json:"qbo_type"`
	QBOID       string `json:"qbo_id"`
	DocNumber   string `json:"doc_number"`
	// Reason is why the item is blocked or failed (or a note on one that
	// went through), as a person reads it: Reasons rendered with the
	// Reconciler's FixText, or a message without structure (a QBO fault).
	Reason string `json:"reason"`
	// Reasons is Reason as data, when the engine knows its structure.
	Reasons Reasons `json:"reasons,omitempty"`

	tid string // intuit_tid of the write, logged but not part of the JSON
}

// Summary is the result of Run or Plan; it marshals to docs/cli.md's
// `run --json` object. Items lists every item that is not a noop, plus,
// the first time only, a payment that is not applicable because its order
// is a SalesReceipt (action noop with the reason; the ledger remembers it,
// so later runs count it as unchanged without listing it). Items are sorted
// by order number, kind and source id.
type Summary struct {
	RunID      string    `json:"run_id"`
	Mode       Mode      `json:"mode"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Counts     Counts    `json:"counts"`
	Items      []Item    `json:"items"`
	// Warnings are what the operator should know although nothing
	// failed, such as WarnEmptySource; left out of the JSON when none.
	Warnings []string `json:"warnings,omitempty"`
}

// add counts an item and lists it unless it is a silent noop.
func (s *Summary) add(it Item) {
	switch it.Action {
	case ActionCreate:
		s.Counts.Created++
	case ActionUpdate:
		s.Counts.Updated++
	case ActionVoid:
		s.Counts.Voided++
	case ActionBlocked:
		s.Counts.Blocked++
	case ActionFailed:
		s.Counts.Failed++
		if slices.ContainsFunc(it.Reasons, func(r Reason) bool { return r.Code == CodeWriteInFlight }) {
			s.Counts.Waiting++
		}
		if slices.ContainsFunc(it.Reasons, func(r Reason) bool { return r.Code.NeedsPerson() }) {
			s.Counts.NeedsPerson++
		}
	case ActionSkipped:
		s.Counts.Skipped++
	case ActionAdopt:
		s.Counts.Adopted++
	case ActionNoop:
		s.Counts.Unchanged++
		if it.Reason == "" {
			return
		}
	}
	s.Items = append(s.Items, it)
}

func kindRank(k Kind) int {
	switch k {
	case KindCustomer:
		return 0
	case KindOrder:
		return 1
	case KindShipment:
		return 2
	case KindPayment:
		return 3
	case KindRefund:
		return 4
	}
	return 5
}

func actionRank(a Action) int {
	switch a {
	case ActionCreate:
		return 0
	case ActionUpdate:
		return 1
	case ActionVoid:
		return 2
	}
	return 3
}

// sortItems orders items deterministically, whatever order the concurrent
// apply finished them in.
func (s *Summary) sortItems() {
	slices.SortStableFunc(s.Items, func(a, b Item) int {
		return cmp.Or(cmp.Compare(a.OrderNumber, b.OrderNumber), cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)),
			cmp.Compare(a.SourceID, b.SourceID), cmp.Compare(actionRank(a.Action), actionRank(b.Action)),
			cmp.Compare(a.QBOType, b.QBOType))
	})
}

// OK reports whether nothing failed or was blocked (exit code 0).
func (s *Summary) OK() bool { return s.Counts.Blocked == 0 && s.Counts.Failed == 0 }

func (s *Summary) countsMap() map[string]int {
	c := s.Counts
	m := map[string]int{"created": c.Created, "updated": c.Updated, "voided": c.Voided,
		"unchanged": c.Unchanged, "blocked": c.Blocked, "failed": c.Failed}
	if c.Adopted > 0 {
		m["adopted"] = c.Adopted
	}
	if c.Waiting > 0 {
		m["waiting"] = c.Waiting
	}
	if c.Skipped > 0 {
		m["skipped"] = c.Skipped
	}
	if c.NeedsPerson > 0 {
		m["needs_person"] = c.NeedsPerson
	}
	return m
}

func (s *Summary) runItems() []schema.RunItem {
	out := make([]schema.RunItem, len(s.Items))
	for i, it := range s.Items {
		out[i] = schema.RunItem{RunID: s.RunID, Kind: string(it.Kind), SourceID: it.SourceID, OrderNumber: it.OrderNumber,
			Action: string(it.Action), QBOType: it.QBOType, QBOID: it.QBOID, DocNumber: it.DocNumber, Reason: it.Reason,
			Reasons: it.Reasons.encode()}
	}
	return out
}
