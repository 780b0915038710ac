package schema

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStore_AuditAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := newTestClock()
	s := MustOpenStore(t, WithClock(clock.Now))
	for i, op := range []string{"create", "update"} {
		id, err := s.AppendAudit(ctx, AuditEntry{RunID: "r1", Entity: "Invoice", Operation: op, SourceKind: "order", SourceID: "o1", HTTPStatus: 200, Outcome: "ok"})
		if err != nil {
			t.Fatal(err)
		}
		if id != int64(i+1) {
			t.Errorf("got id %d; want %d", id, i+1)
		}
	}
	for _, stmt := range []string{`UPDATE audit SET outcome = 'tampered'`, `DELETE FROM audit`, `DELETE FROM audit WHERE id = 1`} {
		if _, err := s.db.ExecContext(ctx, stmt); err == nil {
			t.Errorf("%s: got nil error; want append-only refusal", stmt)
		}
	}
	got, err := s.ListAudit(ctx, AuditFilter{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	for run, want := range map[string]int{"r1": 2, "r2": 0} {
		if n, err := s.RunWrites(ctx, run); err != nil || n != want {
			t.Errorf("RunWrites(%s): got %d, %v; want %d", run, n, err, want)
		}
	}
	want := []AuditEntry{
		{ID: 2, At: clock.Now(), RunID: "r1", Entity: "Invoice", Operation: "update", SourceKind: "order", SourceID: "o1", HTTPStatus: 200, Outcome: "ok"},
		{ID: 1, At: clock.Now(), RunID: "r1", Entity: "Invoice", Operation: "create", SourceKind: "order", SourceID: "o1", HTTPStatus: 200, Outcome: "ok"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	older, err := s.ListAudit(ctx, AuditFilter{BeforeID: 2, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(older) != 1 || older[0].ID != 1 {
		t.Errorf("page before 2: got %+v; want entry 1 only", older)
	}
}

func TestStore_Lease(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := newTestClock()
	s := MustOpenStore(t, WithClock(clock.Now))
	host, _ := os.Hostname()

	a, err := s.AcquireLease(ctx, "run", "daemon-A", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := Lease{Name: "run", Holder: "daemon-A", PID: os.Getpid(), Host: host, AcquiredAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Minute)}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("lease (-want +got):\n%s", diff)
	}

	t.Run("HeldByAnother", func(t *testing.T) {
		_, err := s.AcquireLease(ctx, "run", "cli-B", time.Minute)
		var held *LeaseHeldError
		if !errors.As(err, &held) {
			t.Fatalf("got %v; want *LeaseHeldError", err)
		}
		wantErr := &LeaseHeldError{Name: "run", Holder: "daemon-A", PID: os.Getpid(), Host: host, Since: a.AcquiredAt, Expires: a.ExpiresAt}
		if diff := cmp.Diff(wantErr, held); diff != "" {
			t.Errorf("LeaseHeldError (-want +got):\n%s", diff)
		}
		if !errors.Is(err, ErrConflict) {
			t.Error("errors.Is(err, ErrConflict): got false; want true")
		}
		if _, err := s.RenewLease(ctx, "run", "cli-B", time.Minute); !errors.As(err, &held) {
			t.Errorf("renew by another: got %v; want *LeaseHeldError", err)
		}
	})

	t.Run("RenewKeepsAcquiredAt", func(t *testing.T) {
		clock.Advance(30 * time.Second)
		r, err := s.RenewLease(ctx, "run", "daemon-A", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !r.AcquiredAt.Equal(a.AcquiredAt) || !r.ExpiresAt.Equal(clock.Now().Add(time.Minute)) {
			t.Errorf("got acquired %s expires %s; want %s, %s", r.AcquiredAt, r.ExpiresAt, a.AcquiredAt, clock.Now().Add(time.Minute))
		}
	})

	t.Run("ExpiredTakenOver", func(t *testing.T) {
		clock.Advance(2 * time.Minute)
		b, err := s.AcquireLease(ctx, "run", "cli-B", time.Minute)
		if err != nil {
			t.Fatalf("take over expired lease: %v", err)
		}
		if b.Holder != "cli-B" || !b.AcquiredAt.Equal(clock.Now()) {
			t.Errorf("got %+v; want cli-B acquired now", b)
		}
		if _, err := s.RenewLease(ctx, "run", "daemon-A", time.Minute); err == nil {
			t.Error("renew of a lost lease: got nil error; want an error")
		}
	})

	t.Run("Release", func(t *testing.T) {
		if err := s.ReleaseLease(ctx, "run", "daemon-A"); err != nil {
			t.Fatal(err)
		}
		if l, err := s.GetLease(ctx, "run"); err != nil || l.Holder != "cli-B" {
			t.Fatalf("release by a non-holder: got %+v, %v; want cli-B's lease kept", l, err)
		}
		if err := s.ReleaseLease(ctx, "run", "cli-B"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetLease(ctx, "run"); !errors.Is(err, ErrNotFound) {
			t.Errorf("after release: got %v; want ErrNotFound", err)
		}
		if _, err := s.RenewLease(ctx, "run", "cli-B", time.Minute); !errors.Is(err, ErrNotFound) {
			t.Errorf("renew after release: got %v; want ErrNotFound", err)
		}
		if _, err := s.AcquireLease(ctx, "run", "daemon-A", time.Minute); err != nil {
			t.Errorf("acquire after release: %v", err)
		}
	})
}

func TestStore_Settings(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := newTestClock()
	s := MustOpenStore(t, WithClock(clock.Now))
	if _, err := s.GetSetting(ctx, "deposit_account"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unset: got %v; want ErrNotFound", err)
	}
	if err := s.SetSettings(ctx, map[string]string{"deposit_account": "35", "payment_method.card": "4"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, "deposit_account", "36"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetSetting(ctx, "deposit_account"); err != nil || v != "36" {
		t.Errorf("got %q, %v; want 36, nil", v, err)
	}
	if err := s.SetSettings(ctx, map[string]string{"x": "1", "": "bad"}); err == nil {
		t.Error("empty key: got nil error; want an error")
	}
	if _, err := s.GetSetting(ctx, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("failed SetSettings left x behind: got %v; want ErrNotFound", err)
	}
	if err := s.DeleteSetting(ctx, "payment_method.card"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSetting(ctx, "payment_method.card"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: got %v; want ErrNotFound", err)
	}
	all, err := s.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Setting{{Key: "deposit_account", Value: "36", UpdatedAt: clock.Now()}}, all); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
}

func TestStore_Links(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := newTestClock()
	s := MustOpenStore(t, WithClock(clock.Now))
	for _, kind := range []LinkKind{CustomerLinks, ProductLinks} {
		t.Run(string(kind), func(t *testing.T) {
			if err := s.SaveLink(ctx, kind, Link{VelocityID: "v1", QBOID: "58", QBOName: "Acme", Method: LinkManual}); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveLink(ctx, kind, Link{VelocityID: "v2", QBOID: "59", Method: LinkMatch}); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveLink(ctx, kind, Link{VelocityID: "v2", QBOID: "60", QBOName: "New", Method: LinkCreate}); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveLink(ctx, kind, Link{VelocityID: "v3", QBOID: "1", Method: "guess"}); err == nil {
				t.Error("unknown method: got nil error; want an error")
			}
			l, err := s.GetLink(ctx, kind, "v2")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Link{VelocityID: "v2", QBOID: "60", QBOName: "New", Method: LinkCreate, LinkedAt: clock.Now()}, l); diff != "" {
				t.Errorf("relinked (-want +got):\n%s", diff)
			}
			ids := []string{"v1", "v2", "nope"}
			for i := range 1200 {
				ids = append(ids, "filler"+string(rune('a'+i%26)))
			}
			m, err := s.Links(ctx, kind, ids)
			if err != nil {
				t.Fatal(err)
			}
			if len(m) != 2 || m["v1"].QBOID != "58" || m["v2"].QBOID != "60" {
				t.Errorf("got %+v; want v1→58, v2→60", m)
			}
			if err := s.DeleteLink(ctx, kind, "v1"); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteLink(ctx, kind, "v1"); !errors.Is(err, ErrNotFound) {
				t.Errorf("second unlink: got %v; want ErrNotFound", err)
			}
			if _, err := s.GetLink(ctx, kind, "v1"); !errors.Is(err, ErrNotFound) {
				t.Errorf("unlinked: got %v; want ErrNotFound", err)
			}
			all, err := s.ListLinks(ctx, kind)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 1 || all[0].VelocityID != "v2" {
				t.Errorf("got %+v; want only v2", all)
			}
		})
	}
	if _, err := s.ListLinks(ctx, "vendor"); err == nil {
		t.Error("unknown link kind: got nil error; want an error")
	}
}

func TestStore_Runs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := newTestClock()
	s := MustOpenStore(t, WithClock(clock.Now))

	if _, err := s.LastSuccessfulRun(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("no runs: got %v; want ErrNotFound", err)
	}
	r1, err := s.StartRun(ctx, "full")
	if err != nil {
		t.Fatal(err)
	}
	items := []RunItem{
		{Kind: "order", SourceID: "o1", OrderNumber: "1001", Action: "create", QBOType: "Invoice", QBOID: "9", DocNumber: "1001"},
		{Kind: "order", SourceID: "o2", OrderNumber: "1002", Action: "blocked", Reason: "customer c7 is not linked",
			Reasons: []byte(`[{"code":"customer_not_linked"}]`)},
	}
	if err := s.AddRunItems(ctx, r1.ID, items); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if err := s.FinishRun(ctx, RunResult{ID: r1.ID, Status: RunPartial, Counts: map[string]int{"created": 1, "blocked": 1},
		Cursors: map[string]string{"orders.updated_at": "2025-03-01T11:59:00Z"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, RunResult{ID: r1.ID, Status: RunOK}); !errors.Is(err, ErrConflict) {
		t.Errorf("finish twice: got %v; want ErrConflict", err)
	}
	if err := s.FinishRun(ctx, RunResult{ID: "nope", Status: RunOK}); !errors.Is(err, ErrNotFound) {
		t.Errorf("finish unknown: got %v; want ErrNotFound", err)
	}
	if err := s.AddRunItems(ctx, "nope", items); err == nil {
		t.Error("items for unknown run: got nil error; want a foreign key error")
	}
	if v, err := s.GetCursor(ctx, "orders.updated_at"); err != nil || v != "2025-03-01T11:59:00Z" {
		t.Errorf("cursor: got %q, %v; want the run's cursor", v, err)
	}

	gotItems, err := s.RunItems(ctx, r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		items[i].RunID = r1.ID
	}
	if diff := cmp.Diff(items, gotItems); diff != "" {
		t.Errorf("run items (-want +got):\n%s", diff)
	}

	// A run left "running" (killed) is marked interrupted by the next start.
	clock.Advance(time.Minute)
	r2, err := s.StartRun(ctx, "incremental")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	r3, err := s.StartRun(ctx, "incremental")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.LastRuns(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].ID != r3.ID || runs[1].ID != r2.ID || runs[2].ID != r1.ID {
		t.Fatalf("got %+v; want r3, r2, r1", runs)
	}
	if runs[1].Status != RunInterrupted || runs[1].FinishedAt.IsZero() {
		t.Errorf("r2: got status %s finished %s; want interrupted with a finish time", runs[1].Status, runs[1].FinishedAt)
	}
	wantR1 := Run{ID: r1.ID, Mode: "full", StartedAt: r1.StartedAt, FinishedAt: r1.StartedAt.Add(time.Minute), Status: RunPartial,
		Counts: map[string]int{"created": 1, "blocked": 1}}
	if diff := cmp.Diff(wantR1, runs[2]); diff != "" {
		t.Errorf("r1 (-want +got):\n%s", diff)
	}
	last, err := s.LastSuccessfulRun(ctx)
	if err != nil || last.ID != r1.ID {
		t.Errorf("last successful: got %+v, %v; want r1", last, err)
	}
	if _, err := s.GetRun(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get unknown run: got %v; want ErrNotFound", err)
	}

	if err := s.SetCursor(ctx, "c", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetCursor(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing cursor: got %v; want ErrNotFound", err)
	}
}

func TestStore_MoveLink(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := newTestClock()
	s := MustOpenStore(t, WithClock(clock.Now))
	for _, kind := range []LinkKind{CustomerLinks, ProductLinks} {
		t.Run(string(kind), func(t *testing.T) {
			if err := s.SaveLink(ctx, kind, Link{VelocityID: "v1", QBOID: "58", QBOName: "Acme", Method: LinkMatch}); err != nil {
				t.Fatal(err)
			}
			held, err := s.LinksToQBO(ctx, kind, "58")
			if err != nil {
				t.Fatal(err)
			}
			if len(held) != 1 || held[0].VelocityID != "v1" {
				t.Fatalf("LinksToQBO(58): got %+v; want v1", held)
			}
			audit := []AuditEntry{
				{Entity: "Customer", Operation: "unlink", SourceKind: string(kind), SourceID: "v1", QBOID: "58", Outcome: "ok"},
				{Entity: "Customer", Operation: "link", SourceKind: string(kind), SourceID: "v2", QBOID: "58", Outcome: "ok"},
			}
			if err := s.MoveLink(ctx, kind, Link{VelocityID: "v2", QBOID: "58", QBOName: "Acme", Method: LinkManual}, []string{"v1"}, audit); err != nil {
				t.Fatal(err)
			}
			all, err := s.ListLinks(ctx, kind)
			if err != nil {
				t.Fatal(err)
			}
			want := []Link{{VelocityID: "v2", QBOID: "58", QBOName: "Acme", Method: LinkManual, LinkedAt: clock.Now()}}
			if diff := cmp.Diff(want, all); diff != "" {
				t.Errorf("links after move (-want +got):\n%s", diff)
			}
			got, err := s.ListAudit(ctx, AuditFilter{SourceKind: string(kind)})
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, a := range got {
				ops = append(ops, a.Operation+" "+a.SourceID)
			}
			if diff := cmp.Diff([]string{"link v2", "unlink v1"}, ops); diff != "" {
				t.Errorf("audit, newest first (-want +got):\n%s", diff)
			}
			if err := s.MoveLink(ctx, kind, Link{VelocityID: "v3", QBOID: "58", Method: "guess"}, []string{"v2"}, nil); err == nil {
				t.Error("unknown method: got nil error; want an error")
			}
			if none, err := s.LinksToQBO(ctx, kind, "nope"); err != nil || len(none) != 0 {
				t.Errorf("LinksToQBO(nope): got %v, %v; want none", none, err)
			}
		})
	}
}
