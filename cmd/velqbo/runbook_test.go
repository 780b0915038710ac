package main

// The restore procedure of docs/runbook.md, followed step by step through
// Main, and what a restored database's rotated refresh token makes status
// and run say.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/velocity"
)

// runAt runs velqbo like harness.Run with the clock at now.
func (h *harness) runAt(now func() time.Time, stdin string, args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: envFunc(h.Env),
		Now: now, IsTerminal: func() bool { return false }}
	code := m.Run(h.t.Context(), args)
	return result{Code: code, Stdout: out.String(), Stderr: errb.String()}
}

// TestRunbook_Restore follows docs/runbook.md's "Restore the database"
// procedure, in its order, after the disk under a running daemon was
// lost: the backup is older than the last run, whose refresh made Intuit
// rotate the token the backup holds. RunOnly skips the rebuild, as the
// runbook's "Exactly once after a restore" says a run alone is safe.
func TestRunbook_Restore(t *testing.T) {
	t.Parallel()
	for _, rebuild := range []bool{true, false} {
		name := "WithRebuild"
		if !rebuild {
			name = "RunOnly" // step 7 skipped: the run alone adopts what the copy lacks
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testRestore(t, rebuild)
		})
	}
}

func testRestore(t *testing.T, rebuild bool) {
	h := newDaemonHarness(t, 20)
	h.prepare(nil)

	// Before: the nightly backup timer's `velqbo backup --force FILE`,
	// after a first run; then the daemon's next run, whose token refresh
	// rotates the refresh token, creates more documents.
	h.MustRun(exitOK, "", "run")
	backup := filepath.Join(t.TempDir(), "velqbo-backup.db")
	h.MustRun(exitOK, "", "backup", "--force", backup)
	more := moreOrders(t, h, 5)
	rig := startDaemon(t, h, defaultDaemonOptions())
	h.QBO.ExpireAccessTokens()
	rig.d.Trigger()
	before := qboDocs(t, h.QBO)
	lost := checkConsistent(t, h.store())
	for _, o := range more {
		if lost["order/"+o.ID].QBOID == "" {
			t.Fatalf("order %s: the daemon's run did not report it; the scenario needs documents the backup lacks", o.Number)
		}
	}

	// 1. Stop the daemon.
	if err := rig.stop(); err != nil {
		t.Fatalf("stop the daemon: %v", err)
	}
	// 2. Move the damaged database and its -wal and -shm aside.
	db := h.Env["VELQBO_DB"]
	damaged := filepath.Join(filepath.Dir(db), "damaged")
	if err := os.Mkdir(damaged, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Rename(f, filepath.Join(damaged, filepath.Base(f))); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	// 3. Put the backup in place, mode 0600.
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// 4. `velqbo status`: the restored token was rotated since the backup.
	// (Later than the backup: the access token it holds has run out.)
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	for _, args := range [][]string{{"status"}, {"status", "--json"}} {
		r := h.runAt(later, "", args...)
		if r.Code != exitUnavailable || !strings.Contains(r.Stdout, "reconnect with `velqbo connect`") ||
			!strings.Contains(r.Stderr, "reconnect with `velqbo connect`") || strings.Contains(r.Stdout+r.Stderr, "invalid_grant") {
			t.Errorf("%s after the restore: exit %d\nstdout %s\nstderr %s\nwant exit 3 and \"reconnect with `velqbo connect`\", no raw invalid_grant", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
		}
	}
	// A run says the same, and sends nothing.
	mark := len(h.QBO.Requests())
	r := h.runAt(later, "", "run")
	if r.Code != exitUnavailable || !strings.Contains(r.Stderr, "reconnect with `velqbo connect`") || strings.Contains(r.Stderr, "invalid_grant") {
		t.Errorf("run after the restore: exit %d, stderr %s; want exit 3 and the reconnect message, no raw invalid_grant", r.Code, r.Stderr)
	}
	for _, c := range h.QBO.Requests()[mark:] {
		if isWrite(c) {
			t.Errorf("run with a rejected token wrote %s %s", c.Operation, c.Entity)
		}
	}
	// 5. Told to: reconnect.
	if r := h.runAt(later, h.QBO.IssueRefreshToken()+"\n", "connect", "--realm", h.QBO.Realm(), "--refresh-token-stdin"); r.Code != exitOK {
		t.Fatalf("connect: exit %d, stderr %s", r.Code, r.Stderr)
	}
	// 6. `velqbo status` again: the token is healthy; the ledger looks
	// younger than QBO.
	r = h.runAt(later, "", "status", "--json")
	var v statusView
	if err := json.Unmarshal([]byte(r.Stdout), &v); r.Code != exitOK || err != nil || v.Token == nil || v.Token.Rejected || v.Token.Warning != "" {
		t.Errorf("status after reconnecting: exit %d, %v\n%s; want 0, the token neither rejected nor warned about", r.Code, err, r.Stdout)
	}
	// The run refused in step 4 is listed with the reconnect message.
	if len(v.Runs) == 0 || v.Runs[0].Status != "failed" || !strings.Contains(v.Runs[0].Error, "reconnect with `velqbo connect`") || strings.Contains(r.Stdout, "invalid_grant") {
		t.Errorf("status after reconnecting: runs %+v; want the refused run first, its error the reconnect message, no raw invalid_grant", v.Runs)
	}
	if !v.LedgerLag.Behind() || v.LedgerLag.Unknown != len(more) {
		t.Errorf("status after reconnecting: ledger vs QBO %+v; want the %d documents the copy lacks found", v.LedgerLag, len(more))
	}
	if r := h.runAt(later, "", "status"); !strings.Contains(r.Stdout, "ledger looks younger than QBO") {
		t.Errorf("status after reconnecting:\n%s\nwant it to say the ledger looks younger than QBO", r.Stdout)
	}
	// 7. Told so: `velqbo ledger rebuild`, which writes nothing to QBO.
	mark = len(h.QBO.Requests())
	if rebuild {
		r = h.runAt(later, "", "ledger", "rebuild")
		if r.Code != exitOK || !strings.Contains(r.Stdout, "Nothing was written to QBO") {
			t.Fatalf("ledger rebuild: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
		}
		docs := checkConsistent(t, h.store())
		for _, o := range more {
			if d := docs["order/"+o.ID]; d.QBOID != lost["order/"+o.ID].QBOID {
				t.Errorf("order %s, created after the backup: after the rebuild the ledger holds %s %q; want %q, as before the disk was lost", o.Number, d.QBOType, d.QBOID, lost["order/"+o.ID].QBOID)
			}
		}
	}
	// 8. `velqbo run`: the restored ledger's incremental window covers
	// everything since its last run, so the orders of the lost run are
	// read again, and nothing is sent for them.
	r = h.runAt(later, "", "run", "--json")
	if r.Code != exitOK {
		t.Fatalf("run after the restore: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	sum := decodeSummary(t, r.Stdout)
	for _, c := range h.QBO.Requests()[mark:] {
		if isWrite(c) {
			t.Errorf("rebuild and run after the restore: wrote %s %s; want nothing written", c.Operation, c.Entity)
		}
	}
	if diff := cmp.Diff(before, qboDocs(t, h.QBO)); diff != "" { // qboDocs fails on a duplicate
		t.Errorf("QBO after the restore and run (-before +after):\n%s", diff)
	}
	if want := map[bool]int{true: 0, false: len(more)}[rebuild]; sum.Counts.Adopted != want || sum.Counts.Created != 0 {
		t.Errorf("run after the restore: %+v; want %d adopted, none created", sum.Counts, want)
	}
	docs := checkConsistent(t, h.store())
	for _, o := range more {
		if d := docs["order/"+o.ID]; d.QBOID != lost["order/"+o.ID].QBOID {
			t.Errorf("order %s, created after the backup: after the run the ledger holds %s %q; want %q, as before the disk was lost", o.Number, d.QBOType, d.QBOID, lost["order/"+o.ID].QBOID)
		}
	}
	// 9. Start the daemon again; `velqbo status` after its next run.
	rig = startDaemon(t, h, defaultDaemonOptions())
	rig.d.Trigger()
	if err := rig.stop(); err != nil {
		t.Fatalf("daemon after the restore: %v", err)
	}
	r = h.MustRun(exitOK, "", "status", "--json")
	v = statusView{}
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil || len(v.Runs) == 0 || v.Runs[0].Status != "ok" || v.Token.Rejected || v.LedgerLag.Behind() {
		t.Errorf("status after the daemon's next run: %v\n%s; want its run ok, the token healthy and the ledger in step", err, r.Stdout)
	}
	if diff := cmp.Diff(before, qboDocs(t, h.QBO)); diff != "" {
		t.Errorf("QBO after the daemon's next run (-before +after):\n%s", diff)
	}
}

// moreOrders adds to Velocity n new orders made like the generated store's
// plain ones (approved, no refunds or payments, not cancelled), updated
// now so that an incremental run reads them, and returns them.
func moreOrders(t *testing.T, h *harness, n int) []*velocity.Order {
	t.Helper()
	var out []*velocity.Order
	for _, o := range h.Data.Orders {
		if len(out) == n {
			break
		}
		if o.ApprovedAt == nil || o.CancelledAt != nil || len(o.Refunds) > 0 || len(o.Payments) > 0 {
			continue
		}
		c := o.Clone()
		c.ID, c.Number, c.UpdatedAt = o.ID+"-after", o.Number+"A", time.Now()
		h.Vel.AddOrder(c)
		out = append(out, c)
	}
	if len(out) < n {
		t.Fatalf("the generated store has %d plain orders; want %d", len(out), n)
	}
	return out
}
