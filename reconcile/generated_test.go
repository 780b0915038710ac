package reconcile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// engLoadGenerated loads a generated store into the fake Velocity, links
// every customer (to a new QBO customer) and product (to the seeded items)
// and returns the dataset and the Env the mapping will see.
func engLoadGenerated(h *engHarness, seed int64, opts velocitytest.GenOptions) (*velocitytest.Dataset, *reconcile.Env) {
	h.t.Helper()
	ds := velocitytest.Generate(seed, opts)
	h.must(h.v.Load(ds))
	env := &reconcile.Env{HomeCurrency: "USD", Customers: map[string]reconcile.Link{}, Products: map[string]reconcile.Link{}}
	for i, c := range ds.Customers {
		id := h.q.AddCustomer(fmt.Sprintf("Gen Customer %d", i), "")
		h.link(schema.CustomerLinks, c.ID, id)
		env.Customers[c.ID] = reconcile.Link{QBOID: id}
	}
	items := []string{h.seed.Products["SKU-1"], h.seed.Products["SKU-2"], h.seed.Products["SKU-3"]}
	for i, p := range ds.Products {
		h.link(schema.ProductLinks, p.ID, items[i%len(items)])
		env.Products[p.ID] = reconcile.Link{QBOID: items[i%len(items)]}
	}
	sets, err := h.store.Settings(h.ctx)
	h.must(err)
	kv := map[string]string{}
	for _, s := range sets {
		kv[s.Key] = s.Value
	}
	env.Settings, err = reconcile.ParseSettings(kv, nil)
	h.must(err)
	return ds, env
}

// engExpected counts the documents a first run must create, by QBO type,
// from the mapping itself.
func engExpected(orders []*velocity.Order, env *reconcile.Env) map[string]int {
	want := map[string]int{}
	for _, o := range orders {
		d := reconcile.MapOrder(o, env)
		if d.Skip != "" || d.Cancelled || d.Doc == nil || len(d.Doc.Blocked) > 0 {
			continue
		}
		want[d.Doc.QBOType]++
		for _, r := range d.Refunds {
			if len(r.Blocked) == 0 {
				want[r.QBOType]++
			}
		}
		for _, p := range d.Payments {
			if len(p.Blocked) == 0 && p.NotApplicable == "" {
				want[p.QBOType]++
			}
		}
	}
	return want
}

func TestGeneratedStore(t *testing.T) {
	for _, src := range []string{"api", "file"} {
		t.Run(src, func(t *testing.T) {
			h := newEngHarness(t)
			h.rec.ChunkSize = 7 // many chunks
			ds, env := engLoadGenerated(h, 42, velocitytest.GenOptions{Customers: 8, Products: 12, Orders: 80, Invalid: 3})
			if src == "file" {
				path := filepath.Join(t.TempDir(), "export.ndjson")
				f, err := os.Create(path)
				h.must(err)
				h.must(ds.WriteNDJSON(f))
				h.must(f.Close())
				h.rec.Source = reconcile.FileSource{FileSource: velocity.OpenFileSource(path)}
			}
			want := engExpected(ds.Orders, env)
			t.Logf("expected documents: %v", want)
			var progress int
			sum, err := h.rec.Run(h.ctx, reconcile.Options{Progress: func(done, total int) {
				if done > total {
					t.Errorf("progress %d of %d", done, total)
				}
				progress = done
			}})
			h.must(err)
			if sum.Counts.Failed != 0 {
				t.Errorf("failed items: %+v", sum.Items)
			}
			if sum.Counts.Blocked < 3 {
				t.Errorf("blocked: got %d; want at least the 3 invalid orders", sum.Counts.Blocked)
			}
			got := map[string]int{}
			for _, typ := range []string{"SalesReceipt", "Invoice", "RefundReceipt", "Payment"} {
				if n := len(h.live(typ)); n > 0 {
					got[typ] = n
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("documents in QBO by type (-want +got):\n%s", diff)
			}
			total := 0
			for _, n := range want {
				total += n
			}
			if sum.Counts.Created != total || progress != total {
				t.Errorf("created %d, progress %d; want %d", sum.Counts.Created, progress, total)
			}
			m := h.mark()
			sum2, err := h.rec.Run(h.ctx, reconcile.Options{})
			h.must(err)
			if got := len(h.q.Requests()) - m; got != 0 {
				t.Errorf("second run QBO requests: got %d; want 0", got)
			}
			if sum2.Counts.Created+sum2.Counts.Updated+sum2.Counts.Voided != 0 || sum2.Counts.Blocked != sum.Counts.Blocked {
				t.Errorf("second run counts %+v; want nothing sent and the same %d blocked", sum2.Counts, sum.Counts.Blocked)
			}
		})
	}
}
