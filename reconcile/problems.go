package reconcile

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/velqbo/velqbo/schema"
)

// GroupOther is the group of the items whose reason has no structure (a
// QBO fault, a row written before reasons were stored): it is not a
// ReasonCode.
const GroupOther ReasonCode = "other"

// ReasonGroup is the items that share one reason code.
type ReasonGroup[T any] struct {
	Code  ReasonCode
	Items []T
	// Subjects are the records the group's reasons are about, the most
	// frequent first (linking one product may clear hundreds of items).
	Subjects []SubjectCount
}

// SubjectCount is one record reasons are about, how many reasons name it,
// and the fix of the first of them.
type SubjectCount struct {
	Subject Subject
	Fix     Fix
	N       int
}

// GroupByReason groups items by the codes of their reasons, the group with
// the most items first (then by code): an item with reasons of two codes is
// in both groups, once each. of returns an item's reasons, and the record
// it is about when it has none (it is then in GroupOther).
func GroupByReason[T any](items []T, of func(T) (Reasons, Subject)) []ReasonGroup[T] {
	type group struct {
		g     ReasonGroup[T]
		count map[Subject]*SubjectCount
	}
	groups := map[ReasonCode]*group{}
	get := func(code ReasonCode) *group {
		g := groups[code]
		if g == nil {
			g = &group{g: ReasonGroup[T]{Code: code}, count: map[Subject]*SubjectCount{}}
			groups[code] = g
		}
		return g
	}
	about := func(g *group, s Subject, f Fix) {
		if s.ID == "" {
			return
		}
		c := g.count[s]
		if c == nil {
			c = &SubjectCount{Subject: s, Fix: f}
			g.count[s] = c
		}
		c.N++
	}
	for _, it := range items {
		rs, fallback := of(it)
		if len(rs) == 0 {
			g := get(GroupOther)
			about(g, fallback, Fix{})
			g.g.Items = append(g.g.Items, it)
			continue
		}
		seen := map[ReasonCode]bool{}
		for _, r := range rs {
			g := get(r.Code)
			about(g, r.Subject, r.Fix)
			if !seen[r.Code] {
				seen[r.Code] = true
				g.g.Items = append(g.g.Items, it)
			}
		}
	}
	out := make([]ReasonGroup[T], 0, len(groups))
	for _, g := range groups {
		for _, c := range g.count {
			g.g.Subjects = append(g.g.Subjects, *c)
		}
		slices.SortFunc(g.g.Subjects, func(a, b SubjectCount) int {
			return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(subjectKey(a.Subject), subjectKey(b.Subject)))
		})
		out = append(out, g.g)
	}
	slices.SortFunc(out, func(a, b ReasonGroup[T]) int {
		return cmp.Or(cmp.Compare(len(b.Items), len(a.Items)), cmp.Compare(a.Code, b.Code))
	})
	return out
}

func subjectKey(s Subject) string { return string(s.Kind) + " " + s.ID }

// ProblemState says why a ledger object is a problem.
type ProblemState string

// Problem states.
const (
	ProblemBlocked ProblemState = "blocked"
	ProblemFailed  ProblemState = "failed"
	// ProblemUnknown: a write whose outcome is unknown; the next run looks
	// it up in QBO before anything is sent again.
	ProblemUnknown ProblemState = "outcome_unknown"
	// ProblemDeleted: a person deleted the document in QBO (verify found
	// it); resync re-creates it.
	ProblemDeleted ProblemState = "deleted_in_qbo"
	// ProblemDrift: the last verify found the document changed in QBO by
	// someone else (voided, total, customer, SyncToken); only reported.
	ProblemDrift ProblemState = "drift"
)

// Problem is one object that needs a person's attention, or at least their
// knowledge.
type Problem struct {
	State       ProblemState
	Kind        string
	SourceID    string
	OrderNumber string
	QBOType     string
	QBOID       string
	DocNumber   string
	// Reasons say why, as data; empty for a row that has only Text (a QBO
	// fault, or a row written before reasons were stored).
	Reasons Reasons
	// Text is the reason as the ledger stores it (rendered with the CLI's
	// fixes), for a row without Reasons.
	Text string
	// Runs is how many runs in a row blocked it (failed it, for one that
	// NeedsPerson).
	Runs        int
	NeedsPerson bool
	// Since is when the ledger row last changed (for drift: when the
	// verify that found it started).
	Since time.Time
}

// Subject is the record p is about when it has no reasons: its order (or
// its refund or payment).
func (p Problem) Subject() Subject {
	d := schema.Document{Kind: p.Kind, SourceID: p.SourceID, OrderNumber: p.OrderNumber}
	return Subject{Kind: subjectKind(d.Kind), ID: cmp.Or(subjectID(d), d.OrderNumber, d.SourceID)}
}

// ProblemStore is what Problems reads: *schema.Store.
type ProblemStore interface {
	BlockedItems(ctx context.Context) ([]schema.BlockedItem, error)
	FailedItems(ctx context.Context) ([]schema.BlockedItem, error)
	PendingIntents(ctx context.Context) ([]schema.Document, error)
	ListDocuments(ctx context.Context, f schema.DocumentFilter) ([]schema.Document, error)
	GetCursor(ctx context.Context, name string) (string, error)
}

// problemsListed is the most rows of one state Problems reads.
const problemsListed = 1000

// Problems lists everything blocked, failed, with an unknown outcome,
// deleted in QBO, or found changed in QBO by the last verify: blocked
// first (longest-blocked first), then failed (those needing a person
// first), unknown, deleted and drift. At most 1000 of each state. It
// returns the store's errors, and one for a stored drift list it cannot
// read.
func Problems(ctx context.Context, st ProblemStore) ([]Problem, error) {
	var out []Problem
	fromItem := func(state ProblemState, b schema.BlockedItem) Problem {
		rs, _ := DecodeReasons(b.Reasons)
		return Problem{State: state, Kind: b.Kind, SourceID: b.SourceID, OrderNumber: b.OrderNumber, QBOType: b.QBOType,
			DocNumber: b.DocNumber, Reasons: rs, Text: b.Reason, Runs: b.Runs, NeedsPerson: b.NeedsPerson, Since: b.UpdatedAt}
	}
	fromDoc := func(state ProblemState, d schema.Document, why Reason) Problem {
		return Problem{State: state, Kind: d.Kind, SourceID: d.SourceID, OrderNumber: d.OrderNumber, QBOType: d.QBOType,
			QBOID: d.QBOID, DocNumber: d.DocNumber, Reasons: Reasons{why}, Text: why.Text, Since: d.UpdatedAt}
	}
	blocked, err := st.BlockedItems(ctx)
	if err != nil {
		return nil, fmt.Errorf("problems: %w", err)
	}
	for _, b := range blocked[:min(len(blocked), problemsListed)] {
		out = append(out, fromItem(ProblemBlocked, b))
	}
	failed, err := st.FailedItems(ctx)
	if err != nil {
		return nil, fmt.Errorf("problems: %w", err)
	}
	for _, b := range failed[:min(len(failed), problemsListed)] {
		out = append(out, fromItem(ProblemFailed, b))
	}
	pending, err := st.PendingIntents(ctx)
	if err != nil {
		return nil, fmt.Errorf("problems: %w", err)
	}
	for _, d := range pending[:min(len(pending), problemsListed)] {
		out = append(out, fromDoc(ProblemUnknown, d, OutcomeUnknown(d)))
	}
	deleted, err := st.ListDocuments(ctx, schema.DocumentFilter{States: []schema.State{schema.StateDeletedInQBO}, Limit: problemsListed})
	if err != nil {
		return nil, fmt.Errorf("problems: %w", err)
	}
	for _, d := range deleted {
		out = append(out, fromDoc(ProblemDeleted, d, DeletedInQBO(d.OrderNumber)))
	}
	drift, at, err := LastDrift(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("problems: %w", err)
	}
	for _, d := range drift[:min(len(drift), problemsListed)] {
		subject := Problem{Kind: d.Kind, SourceID: d.SourceID, OrderNumber: d.OrderNumber}.Subject()
		out = append(out, Problem{State: ProblemDrift, Kind: d.Kind, SourceID: d.SourceID, OrderNumber: d.OrderNumber,
			QBOType: d.QBOType, QBOID: d.QBOID, DocNumber: d.DocNumber, Text: d.Detail, Since: at,
			Reasons: Reasons{{Code: ReasonCode(d.Drift), Subject: subject, Text: d.Detail, Fix: d.Fix}}})
	}
	return out, nil
}

// OutcomeUnknown is the reason of a row whose last write has no recorded
// outcome: nobody needs to act, the next run looks it up.
func OutcomeUnknown(d schema.Document) Reason {
	num := cmp.Or(d.OrderNumber, d.SourceID)
	return Reason{Code: CodeOutcomeUnknown, Subject: Subject{Kind: subjectKind(d.Kind), ID: cmp.Or(subjectID(d), num)},
		Text: fmt.Sprintf("%s sent, outcome unknown; the next run looks it up in QBO before retrying", d.PendingWrite())}
}

// CursorVerifyDrift holds the drift the last verify found other than
// deleted documents (the ledger marks those), as JSON: what the console's
// Problems shows until the next verify.
const CursorVerifyDrift = "verify.drift"

// LastDrift returns the drift the last verify found that the ledger does
// not record (everything but deleted documents), and when that verify
// started; none when no verify has stored any. It returns the store's
// errors, and one for stored drift it cannot read.
func LastDrift(ctx context.Context, st interface {
	GetCursor(ctx context.Context, name string) (string, error)
}) ([]Drift, time.Time, error) {
	s, err := st.GetCursor(ctx, CursorVerifyDrift)
	if errors.Is(err, schema.ErrNotFound) || (err == nil && s == "") {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	var drift []Drift
	if err := json.Unmarshal([]byte(s), &drift); err != nil {
		return nil, time.Time{}, fmt.Errorf("read %s: %w", CursorVerifyDrift, err)
	}
	var at time.Time
	if v, err := st.GetCursor(ctx, CursorVerify); err == nil {
		at, _ = time.Parse(time.RFC3339Nano, v)
	}
	return drift, at, nil
}

// ActionGroup is the items of a run or plan that share one action.
type ActionGroup struct {
	Action Action
	Items  []Item
	// ByType counts the items of each QBO type.
	ByType map[string]int
}

// actionOrder is the order GroupByAction lists the actions in: what is
// sent, then what needs a person, then the rest.
var actionOrder = []Action{ActionCreate, ActionUpdate, ActionVoid, ActionAdopt, ActionBlocked, ActionFailed, ActionSkipped, ActionNoop}

// GroupByAction groups items by action, in the order create, update, void,
// adopt, blocked, failed, skipped, noop; actions without items are left
// out.
func GroupByAction(items []Item) []ActionGroup {
	groups := map[Action]*ActionGroup{}
	for _, it := range items {
		g := groups[it.Action]
		if g == nil {
			g = &ActionGroup{Action: it.Action, ByType: map[string]int{}}
			groups[it.Action] = g
		}
		g.Items = append(g.Items, it)
		if it.QBOType != "" {
			g.ByType[it.QBOType]++
		}
	}
	var out []ActionGroup
	for _, a := range actionOrder {
		if g := groups[a]; g != nil {
			out = append(out, *g)
		}
	}
	return out
}
