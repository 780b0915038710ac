package reconcile_test

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

// brokenSource yields one order that does not decode while bad is set,
// and then has no such order at all.
type brokenSource struct{ bad bool }

func (s *brokenSource) Orders(context.Context, time.Time) iter.Seq2[*velocity.Order, error] {
	return func(yield func(*velocity.Order, error) bool) {
		if s.bad {
			yield(nil, &velocity.ObjectError{Kind: velocity.KindOrder, ID: "7", Reason: "total: not a number"})
		}
	}
}

func (s *brokenSource) GetOrder(_ context.Context, id string) (*velocity.Order, error) {
	if s.bad {
		return nil, &velocity.ObjectError{Kind: velocity.KindOrder, ID: id, Reason: "total: not a number"}
	}
	return nil, velocity.ErrNotFound
}

// TestReasonsNameTheSource: an order that does not decode, and then one
// that is gone, are blocked with reasons naming the configured source;
// the codes do not depend on it.
func TestReasonsNameTheSource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		source       string
		wantInvalid  string
		wantNoLonger string
	}{
		{"", "invalid order in Velocity: total: not a number", "order 7 is no longer in Velocity"},
		{"BigCommerce", "invalid order in BigCommerce: total: not a number", "order 7 is no longer in BigCommerce"},
	} {
		t.Run(cmpOrDefault(tc.source, "default"), func(t *testing.T) {
			t.Parallel()
			h := newEngHarness(t)
			src := &brokenSource{bad: true}
			h.rec.Source, h.rec.SourceName = src, tc.source
			var got []reconcile.Reason
			for _, bad := range []bool{true, false} {
				src.bad = bad
				// The second run has a window, so it reads the blocked order
				// by id.
				opts := reconcile.Options{}
				if !bad {
					opts = reconcile.Options{Mode: reconcile.ModeSince, Since: engStart}
				}
				sum, err := h.rec.Run(h.ctx, opts)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				for _, it := range sum.Items {
					got = append(got, it.Reasons...)
				}
			}
			want := []reconcile.Reason{
				{Code: reconcile.CodeInvalidInSource, Subject: reconcile.Subject{Kind: reconcile.SubjectOrder, ID: "7"}, Text: tc.wantInvalid},
				{Code: reconcile.CodeNotInSource, Subject: reconcile.Subject{Kind: reconcile.SubjectOrder, ID: "7"}, Text: tc.wantNoLonger},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("reasons of the two runs (-want +got):\n%s", diff)
			}
		})
	}
}

func cmpOrDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
