package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// countingSource is an export's source that counts the orders it decodes
// and yields, so a test sees which lines the order digests left out.
type countingSource struct {
	reconcile.FileSource
	yielded atomic.Int64
}

func (s *countingSource) count(seq iter.Seq2[*velocity.Order, error]) iter.Seq2[*velocity.Order, error] {
	return func(yield func(*velocity.Order, error) bool) {
		for o, err := range seq {
			if err == nil {
				s.yielded.Add(1)
			}
			if !yield(o, err) {
				return
			}
		}
	}
}

func (s *countingSource) Orders(ctx context.Context, since time.Time) iter.Seq2[*velocity.Order, error] {
	return s.count(s.FileSource.Orders(ctx, since))
}

func (s *countingSource) OrdersExcept(ctx context.Context, since time.Time, skip func([]velocity.LineDigest, []bool)) iter.Seq2[*velocity.Order, error] {
	return s.count(s.FileSource.OrdersExcept(ctx, since, skip))
}

// noDigests hides the order digests of a store: the oracle's view.
type noDigests struct{ reconcile.Store }

// digestHarness is engScenario (plus a tracked shipment) reported once
// from an export file, then run again so that every order's digest is
// recorded.
type digestHarness struct {
	*engHarness
	path  string
	src   *countingSource
	lines []string // the export's order lines, as reported
}

func newDigestHarness(t *testing.T) *digestHarness {
	t.Helper()
	h := &digestHarness{engHarness: newEngHarness(t)}
	engScenario(h.engHarness)
	shipped := engStart
	h.must(h.v.AddShipment("ord_1", velocity.Shipment{ID: "sh_1", ShippedAt: &shipped, Carrier: "UPS",
		TrackingNumber: "1Z999", Items: []velocity.ShipmentItem{{LineID: "ord_1-l1", Quantity: decimal.NewFromInt(1)}}}))
	for _, id := range []string{"ord_1", "ord_2", "ord_3", "ord_4"} {
		o, ok := h.v.Order(id)
		if !ok {
			t.Fatalf("order %s missing", id)
		}
		b, err := json.Marshal(o)
		h.must(err)
		h.lines = append(h.lines, `{"type":"order",`+string(b[1:]))
	}
	h.path = filepath.Join(t.TempDir(), "export.ndjson")
	h.write(h.lines)
	h.src = &countingSource{FileSource: reconcile.FileSource{FileSource: velocity.OpenFileSource(h.path)}}
	h.rec.Source = h.src
	full := reconcile.Options{Mode: reconcile.ModeFull}
	if sum := h.run(full); sum.Counts.Created == 0 || sum.Counts.Blocked+sum.Counts.Failed > 0 {
		t.Fatalf("first run: %+v; want creates, nothing blocked or failed", sum.Counts)
	}
	h.run(full) // finds everything unchanged: records the digests
	h.src.yielded.Store(0)
	sum := h.run(full)
	if got := h.src.yielded.Load(); got != 0 || len(sum.Items) != 0 {
		t.Fatalf("third run decoded %d orders, items %+v; want 0 (every order recognised), none", got, sum.Items)
	}
	return h
}

func (h *digestHarness) write(lines []string) {
	h.t.Helper()
	var buf bytes.Buffer
	for _, l := range lines {
		buf.WriteString(l)
		buf.WriteByte('\n')
	}
	h.must(os.WriteFile(h.path, buf.Bytes(), 0o600))
}

// check plans with the digests and without (the oracle), in full mode
// and, with windows, in incremental and since mode too, and wants the same
// items, counts and warnings. It returns the full plan and how many orders
// it decoded.
func (h *digestHarness) check(what string, windows bool) (got *reconcile.Summary, decoded int64) {
	h.t.Helper()
	modes := []reconcile.Options{{Mode: reconcile.ModeFull}}
	if windows {
		modes = append(modes, reconcile.Options{}, reconcile.Options{Mode: reconcile.ModeSince, Since: engStart})
	}
	for _, opts := range modes {
		h.src.yielded.Store(0)
		sum, err := h.rec.Plan(h.ctx, opts)
		if err != nil {
			h.t.Fatalf("%s: plan %s: %v", what, opts.Mode, err)
		}
		if opts.Mode == reconcile.ModeFull {
			got, decoded = sum, h.src.yielded.Load()
		}
		oracle := *h.rec
		oracle.Store = noDigests{h.store}
		want, err := oracle.Plan(h.ctx, opts)
		if err != nil {
			h.t.Fatalf("%s: oracle plan %s: %v", what, opts.Mode, err)
		}
		if diff := cmp.Diff(want.Counts, sum.Counts); diff != "" {
			h.t.Errorf("%s, %s: counts with digests (-want, without +got):\n%s", what, opts.Mode, diff)
		}
		if diff := cmp.Diff(want.Items, sum.Items, cmpopts.IgnoreUnexported(reconcile.Item{})); diff != "" {
			h.t.Errorf("%s, %s: items with digests (-want, without +got):\n%s", what, opts.Mode, diff)
		}
		if diff := cmp.Diff(want.Warnings, sum.Warnings); diff != "" {
			h.t.Errorf("%s, %s: warnings with digests (-want, without +got):\n%s", what, opts.Mode, diff)
		}
	}
	return got, decoded
}

// TestOrderDigestOneByteChange: changing any one letter or digit of an
// order's export line (a value, a key, the id, the type) gives the plan a
// scan without digests gives. Each round changes the k-th letter or digit
// of every line at once.
func TestOrderDigestOneByteChange(t *testing.T) {
	h := newDigestHarness(t)
	alnum := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	other := func(c byte) byte {
		switch c {
		case '9', 'z', 'Z':
			return c - 1
		}
		return c + 1
	}
	rounds := 0
	for k := 0; ; k++ {
		changed := 0
		lines := make([]string, len(h.lines))
		for j, l := range h.lines {
			lines[j] = l
			seen := 0
			for i := 0; i < len(l); i++ {
				if !alnum(l[i]) {
					continue
				}
				if seen == k {
					b := []byte(l)
					b[i] = other(b[i])
					lines[j] = string(b)
					changed++
					break
				}
				seen++
			}
		}
		if changed == 0 {
			break
		}
		rounds++
		h.write(lines)
		h.check(fmt.Sprintf("letter or digit %d", k), false)
		if t.Failed() {
			for j := range lines {
				if lines[j] != h.lines[j] {
					t.Logf("line %d:\n  was %s\n  now %s", j, h.lines[j], lines[j])
				}
			}
			t.Fatalf("round %d (changing letter or digit %d of each line) differs", k, k)
		}
	}
	if rounds < 100 {
		t.Errorf("rounds: got %d; want every letter and digit of the lines changed (over 100)", rounds)
	}
	// The unchanged export is recognised again: nothing was recorded by
	// the plans.
	h.write(h.lines)
	if _, got := h.check("unchanged", true); got != 0 {
		t.Errorf("unchanged export: decoded %d orders; want 0", got)
	}
}

// TestOrderDigestInputsChange: what the mapping reads besides the line
// (settings, links, the ledger rows) invalidates the digests it concerns.
func TestOrderDigestInputsChange(t *testing.T) {
	for _, tc := range []struct {
		name        string
		change      func(h *digestHarness)
		wantUpdated int
		wantBlocked int
		wantSkipped bool
	}{
		{name: "setting", change: func(h *digestHarness) {
			h.must(h.store.SetSettings(h.ctx, map[string]string{reconcile.SettingDepositAccount: h.seed.Accounts["Refunds"]}))
		}, wantUpdated: 4}, // the three SalesReceipts and the Payment deposit elsewhere
		{name: "product link changed", change: func(h *digestHarness) {
			h.link(schema.ProductLinks, "prod_1", h.q.AddItem("Digest Gadget", "SKU-DG"))
		}, wantUpdated: 5}, // every order and the refund carry the item
		{name: "customer link changed", change: func(h *digestHarness) {
			h.link(schema.CustomerLinks, "cus_1", h.q.AddCustomer("Bea Jones", "bea@example.com"))
		}, wantUpdated: 6}, // and the Payment
		{name: "customer unlinked", change: func(h *digestHarness) {
			h.must(h.store.DeleteLink(h.ctx, schema.CustomerLinks, "cus_1"))
		}, wantBlocked: 4},
		{name: "ledger row set aside", change: func(h *digestHarness) {
			_, err := h.store.SkipDocument(h.ctx, schema.DocumentKey{Kind: "order", SourceID: "ord_4"}, "test", "ann")
			h.must(err)
		}, wantSkipped: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newDigestHarness(t)
			tc.change(h)
			got, _ := h.check(tc.name, true)
			if got.Counts.Updated != tc.wantUpdated || got.Counts.Blocked != tc.wantBlocked {
				t.Errorf("updated %d, blocked %d; want %d, %d", got.Counts.Updated, got.Counts.Blocked, tc.wantUpdated, tc.wantBlocked)
			}
			if tc.wantSkipped && len(got.Items) == 0 {
				t.Errorf("items: none; want the skipped row listed")
			}
		})
	}
}

// TestOrderDigestAfterUpdate: an order edited in the export is decoded and
// updated; the next run finds it unchanged and records its new digest; the
// run after that decodes nothing.
func TestOrderDigestAfterUpdate(t *testing.T) {
	h := newDigestHarness(t)
	h.must(h.v.UpdateOrder("ord_4", func(o *velocity.Order) {
		o.Lines[0].Quantity = decimal.NewFromInt(5)
		o.Total = engDec("99.95")
	}))
	o, _ := h.v.Order("ord_4")
	b, err := json.Marshal(o)
	h.must(err)
	h.lines[3] = `{"type":"order",` + string(b[1:])
	h.write(h.lines)
	full := reconcile.Options{Mode: reconcile.ModeFull}
	for i, want := range []struct {
		counts  reconcile.Counts
		decoded int64
	}{
		{engCounts(0, 1, 0, 5, 0, 0), 1}, // ord_4 updated
		{engCounts(0, 0, 0, 6, 0, 0), 1}, // ord_4 unchanged: its digest recorded
		{engCounts(0, 0, 0, 6, 0, 0), 0},
	} {
		h.src.yielded.Store(0)
		sum := h.run(full)
		if diff := cmp.Diff(want.counts, sum.Counts); diff != "" {
			t.Errorf("run %d counts (-want +got):\n%s", i+1, diff)
		}
		if got := h.src.yielded.Load(); got != want.decoded {
			t.Errorf("run %d decoded %d orders; want %d", i+1, got, want.decoded)
		}
	}
	if sr := h.byDocNumber("SalesReceipt", "1004"); len(sr) != 1 || !sr[0].TotalAmt.Equal(engDec("99.95")) {
		t.Errorf("receipt 1004: got %+v; want one totalling 99.95", sr)
	}
}
