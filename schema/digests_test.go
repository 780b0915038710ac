package schema

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestOrderDigests_Invalidation: a digest is recorded only at the epoch
// its scan began, and any write to a row of its order (found by id or by
// number) removes it; a link write is stamped with a later epoch.
func TestOrderDigests_Invalidation(t *testing.T) {
	ctx := context.Background()
	digest := func(id string) OrderDigest {
		return OrderDigest{OrderID: id, Digest: []byte("d-" + id), Docs: 2,
			UpdatedAt: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Deps: []byte("x")}
	}
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, s *Store)
		gone  []string // digests removed by the write
	}{
		{name: "order row", write: func(t *testing.T, s *Store) {
			mustImport(t, s, Document{Kind: "order", SourceID: "ord_1", OrderNumber: "1001", State: StateSent, QBOID: "9"})
		}, gone: []string{"ord_1"}},
		{name: "refund row of the order", write: func(t *testing.T, s *Store) {
			mustImport(t, s, Document{Kind: "refund", SourceID: "ref_1", OrderNumber: "1002", State: StateSent, QBOID: "9"})
		}, gone: []string{"ord_2"}},
		{name: "row deleted", write: func(t *testing.T, s *Store) {
			if _, err := s.db.ExecContext(ctx, `DELETE FROM documents WHERE source_id = 'pay_1'`); err != nil {
				t.Fatal(err)
			}
		}, gone: []string{"ord_1"}},
		{name: "link", write: func(t *testing.T, s *Store) {
			if err := s.SaveLink(ctx, CustomerLinks, Link{VelocityID: "cus_1", QBOID: "5", Method: LinkManual}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MustOpenStore(t)
			mustImport(t, s,
				Document{Kind: "order", SourceID: "ord_1", OrderNumber: "1001", State: StateSent, QBOID: "7"},
				Document{Kind: "order", SourceID: "ord_2", OrderNumber: "1002", State: StateSent, QBOID: "6"},
				Document{Kind: "payment", SourceID: "pay_1", OrderNumber: "1001", State: StateSent, QBOID: "8"})
			epoch, err := s.ScanEpoch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ok, err := s.RecordOrderDigests(ctx, epoch, []OrderDigest{digest("ord_1"), digest("ord_2")})
			if err != nil || !ok {
				t.Fatalf("record: got %v, %v; want true, nil", ok, err)
			}
			tc.write(t, s)
			got, err := s.OrderDigests(ctx, []string{"ord_1", "ord_2"})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"ord_1", "ord_2"} {
				_, kept := got[id]
				gone := false
				for _, g := range tc.gone {
					gone = gone || g == id
				}
				if kept == gone {
					t.Errorf("digest of %s kept: got %v; want %v", id, kept, !gone)
				}
			}
			if d, ok := got["ord_2"]; ok {
				want := digest("ord_2")
				want.Epoch = epoch
				if diff := cmp.Diff(want, d); diff != "" {
					t.Errorf("digest of ord_2 (-want +got):\n%s", diff)
				}
			}
			now, err := s.ScanEpoch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if now <= epoch {
				t.Errorf("epoch after the write: got %d; want > %d", now, epoch)
			}
			// A scan that began before the write records nothing.
			if ok, err := s.RecordOrderDigests(ctx, epoch, []OrderDigest{digest("ord_3")}); err != nil || ok {
				t.Errorf("record at the old epoch: got %v, %v; want false, nil", ok, err)
			}
			if got, _ := s.OrderDigests(ctx, []string{"ord_3"}); len(got) != 0 {
				t.Errorf("digests at the old epoch: got %+v; want none", got)
			}
			if tc.name == "link" {
				lc, err := s.LinkChanges(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n := lc[CustomerLinks]["cus_1"]; n <= epoch {
					t.Errorf("link change epoch: got %d; want > %d", n, epoch)
				}
			}
		})
	}
}

func mustImport(t *testing.T, s *Store, docs ...Document) {
	t.Helper()
	if err := s.ImportDocuments(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
}
