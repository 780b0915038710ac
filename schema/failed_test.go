package schema

import (
	"errors"
	"testing"
	"time"
)

// TestStore_FailedNeedsPerson: a refused write marks the row as needing a
// person and counts each run once; any other outcome clears both.
func TestStore_FailedNeedsPerson(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := MustOpenStore(t)
	refuse := func(run string, needsPerson bool) Document {
		t.Helper()
		if err := s.RecordOutcome(ctx, DocumentOutcome{Key: orderKey, State: StateFailed, OrderNumber: "1001",
			Error: "refused", NeedsPerson: needsPerson, RunID: run}); err != nil {
			t.Fatal(err)
		}
		d, err := s.GetDocument(ctx, orderKey.Kind, orderKey.SourceID)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	steps := []struct {
		run         string
		needsPerson bool
		wantRuns    int
	}{
		{"run-1", true, 1},
		{"run-1", true, 1}, // the same run counts once
		{"run-2", true, 2},
		{"run-3", false, 0}, // a transient failure clears it
		{"run-4", true, 1},
	}
	for i, st := range steps {
		d := refuse(st.run, st.needsPerson)
		if d.NeedsPerson != st.needsPerson || d.FailedRuns != st.wantRuns {
			t.Errorf("step %d (%s): needs person %v, failed runs %d; want %v, %d", i, st.run, d.NeedsPerson, d.FailedRuns, st.needsPerson, st.wantRuns)
		}
	}
	items, err := s.FailedItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || !items[0].NeedsPerson || items[0].Runs != 1 || items[0].OrderNumber != "1001" {
		t.Errorf("FailedItems: got %+v; want order 1001 needing a person, 1 run", items)
	}
	if err := s.RecordOutcome(ctx, DocumentOutcome{Key: orderKey, State: StateSent, QBOID: "7"}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.GetDocument(ctx, orderKey.Kind, orderKey.SourceID); d.NeedsPerson || d.FailedRuns != 0 {
		t.Errorf("after a success: needs person %v, failed runs %d; want cleared", d.NeedsPerson, d.FailedRuns)
	}
}

// TestStore_SkipRetry: a skip is recorded with reason, who and when, and
// audited; blocking a skipped row leaves it skipped; a retry puts it back
// to pending, audited, and refuses rows neither failed nor skipped.
func TestStore_SkipRetry(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := newTestClock()
	s := MustOpenStore(t, WithClock(clock.Now))
	if _, err := s.SkipDocument(ctx, orderKey, "x", "amy"); !errors.Is(err, ErrNotFound) {
		t.Errorf("skip of a missing row: got %v; want ErrNotFound", err)
	}
	if err := s.RecordIntent(ctx, Intent{Key: orderKey, Action: WriteCreate, RequestID: "r1", OrderNumber: "1001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SkipDocument(ctx, orderKey, "x", "amy"); !errors.Is(err, ErrConflict) {
		t.Errorf("skip with an unknown outcome: got %v; want ErrConflict", err)
	}
	if err := s.RecordOutcome(ctx, DocumentOutcome{Key: orderKey, RequestID: "r1", State: StateFailed, Error: "refused", NeedsPerson: true, RunID: "run-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SkipDocument(ctx, orderKey, " ", "amy"); err == nil {
		t.Error("skip without a reason: got no error")
	}
	clock.Advance(time.Minute)
	d, err := s.SkipDocument(ctx, orderKey, "handled by hand", "amy")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != StateSkipped || d.SkipReason != "handled by hand" || d.SkippedBy != "amy" || !d.SkippedAt.Equal(clock.Now()) || d.NeedsPerson {
		t.Errorf("skipped row: %+v; want skipped by amy now, no longer needing a person", d)
	}
	if err := s.RecordBlocked(ctx, Problem{Key: orderKey, RunID: "run-2", Reason: "blocked"}); err != nil {
		t.Fatal(err)
	}
	skipped, err := s.SkippedItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].SkipReason != "handled by hand" || skipped[0].SkippedBy != "amy" {
		t.Errorf("SkippedItems after RecordBlocked: got %+v; want the row still skipped", skipped)
	}

	d, err = s.RetryDocument(ctx, orderKey, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != StatePending || d.SkipReason != "" || d.SkippedBy != "" || !d.SkippedAt.IsZero() || d.LastError != "" {
		t.Errorf("retried row: %+v; want pending, skip and error cleared", d)
	}
	if _, err := s.RetryDocument(ctx, orderKey, "bob"); !errors.Is(err, ErrConflict) {
		t.Errorf("retry of a pending row: got %v; want ErrConflict", err)
	}
	audit, err := s.ListAudit(ctx, AuditFilter{SourceKind: orderKey.Kind, SourceID: orderKey.SourceID})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, a := range audit {
		ops = append(ops, a.Operation+": "+a.Detail)
	}
	if len(ops) < 2 || ops[0] != "retry: by bob; was skipped by amy: handled by hand" || ops[1] != "skip: by amy: handled by hand" {
		t.Errorf("audit, newest first: got %q; want the retry by bob, then the skip by amy", ops)
	}
}
