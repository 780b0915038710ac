package main

// `velqbo backup` while the daemon writes, and its refusals, through Main.
// The restore procedure that uses the copies is in runbook_test.go.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/schema"
)

// holdWrite holds the nth write (create or batch) QBO receives until
// release is called; held receives when it arrives.
func holdWrite(q *qbotest.Server, n int) (held <-chan struct{}, release func()) {
	hc := make(chan struct{}, 1)
	rel := make(chan struct{})
	seen := 0
	q.Inject(qbotest.Injection{Times: 1, Hold: rel, Match: func(c *qbotest.Call) bool {
		if c.Operation != "create" && c.Operation != "batch" {
			return false
		}
		if seen++; seen < n {
			return false
		}
		select {
		case hc <- struct{}{}:
		default:
		}
		return true
	}})
	var once sync.Once
	return hc, func() { once.Do(func() { close(rel) }) }
}

// openCopy opens a backup as velqbo would, with the key; it must pass
// integrity_check.
func openCopy(t *testing.T, path string) *schema.Store {
	t.Helper()
	key, err := schema.DecodeKey(testSecretKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := schema.Open(t.Context(), path, schema.WithTokenKey(key))
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.IntegrityCheck(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

// checkConsistent checks that the ledger in st is a snapshot as of one
// commit: every document with an outcome has its audit entry, and every
// audit entry of a document has its document, with the outcome recorded.
// It returns the documents by kind/source id.
func checkConsistent(t *testing.T, st *schema.Store) map[string]schema.Document {
	t.Helper()
	ctx := t.Context()
	docs, err := st.ListDocuments(ctx, schema.DocumentFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	audit, err := st.ListAudit(ctx, schema.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byDoc := map[string][]schema.AuditEntry{}
	for _, a := range audit {
		byDoc[a.SourceKind+"/"+a.SourceID] = append(byDoc[a.SourceKind+"/"+a.SourceID], a)
	}
	out := map[string]schema.Document{}
	for _, d := range docs {
		k := d.Kind + "/" + d.SourceID
		out[k] = d
		if d.QBOID == "" {
			continue
		}
		found := false
		for _, a := range byDoc[k] {
			// ok, found_by_lookup, found_by_rebuild, adopted, ...: any
			// entry that recorded this document.
			found = found || (a.QBOID == d.QBOID && a.Outcome != "rejected")
		}
		if !found {
			t.Errorf("%s: %s %s recorded without its audit entry (audit %+v)", k, d.QBOType, d.QBOID, byDoc[k])
		}
	}
	for k, as := range byDoc {
		if d, ok := out[k]; !ok || (d.QBOID == "" && as[0].Outcome == "ok") {
			t.Errorf("%s: audit entry %+v without its recorded document", k, as[0])
		}
	}
	return out
}

func TestBackup_WhileTheDaemonWrites(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, 40)
	h.prepare(nil)
	rig := startDaemon(t, h, defaultDaemonOptions())
	// The second write is held: the first batch's outcomes are recorded,
	// the second's intents are written and its answer is pending.
	held, release := holdWrite(h.QBO, 2)
	defer release()
	triggered := make(chan struct{})
	go func() { rig.d.Trigger(); close(triggered) }()
	wait(t, held, "the second write")

	dir := t.TempDir()
	mid := filepath.Join(dir, "mid-run.db")
	r := h.MustRun(exitOK, "", "backup", mid, "--json")
	var v backupView
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("backup --json: %v (%q)", err, r.Stdout)
	}
	fi, err := os.Stat(mid)
	if err != nil {
		t.Fatal(err)
	}
	if v.File != mid || v.Database != h.Env["VELQBO_DB"] || v.Bytes != fi.Size() || v.Bytes == 0 || v.StartedAt.IsZero() || v.FinishedAt.Before(v.StartedAt) {
		t.Errorf("backup --json: got %+v; want the file, the database, its %d bytes and the times", v, fi.Size())
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the copy's mode: got %v; want 0600 (it holds the sealed tokens)", fi.Mode().Perm())
	}

	// More copies while the rest of the run writes.
	release()
	during := filepath.Join(dir, "during.db")
	copies := 0
	for done := false; !done; {
		select {
		case <-triggered:
			done = true
		default:
		}
		h.MustRun(exitOK, "", "backup", "--force", during)
		copies++
	}

	live := checkConsistent(t, h.store())
	for _, path := range []string{mid, during} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			for _, side := range []string{"-wal", "-shm"} {
				if _, err := os.Stat(path + side); err == nil {
					t.Errorf("%s%s exists; want one self-contained file", path, side)
				}
			}
			st := openCopy(t, path)
			got, err := st.Migrations(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want, err := h.store().Migrations(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("migrations (-live +copy):\n%s", diff)
			}
			docs := checkConsistent(t, st)
			sent := 0
			for k, d := range docs {
				if d.QBOID == "" {
					continue
				}
				sent++
				if l := live[k]; l.QBOID != d.QBOID {
					t.Errorf("%s: the copy says %s %s, the live ledger %s %s", k, d.QBOType, d.QBOID, l.QBOType, l.QBOID)
				}
			}
			pending, err := st.PendingIntents(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if path == mid && (sent == 0 || len(pending) == 0) {
				t.Errorf("mid-run copy: %d documents sent, %d intents pending; want the first write's outcomes and the held write's intents", sent, len(pending))
			}
			t.Logf("%s: %d documents with a QBO id, %d intents pending (the live ledger: %d documents)", filepath.Base(path), sent, len(pending), len(live))
			r := h.MustRun(exitOK, "", "--db", path, "status", "--json")
			if !strings.Contains(r.Stdout, `"connected": true`) {
				t.Errorf("status on the copy: %s; want it connected", r.Stdout)
			}
		})
	}
	t.Logf("%d copies taken while the run finished", copies)
}

func TestBackup_Refusals(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	dir := t.TempDir()
	existing := filepath.Join(dir, "velqbo-backup.db")
	old := []byte("yesterday's backup")

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
		msg  string // in stderr; empty means stdout names the file
		keep bool   // the existing file is unchanged
		// dbOnly leaves only VELQBO_DB in the environment: no key, no
		// credentials, no Velocity, as a backup timer may run it.
		dbOnly bool
	}{
		{name: "Exists", args: []string{"backup", existing}, want: exitUsage, msg: "--force", keep: true},
		{name: "ExistsForce", args: []string{"backup", "--force", existing}, want: exitOK},
		{name: "ForceAfterFile", args: []string{"backup", existing, "--force"}, want: exitOK},
		{name: "New", args: []string{"backup", filepath.Join(dir, "new.db")}, want: exitOK, keep: true},
		{name: "NoFile", args: []string{"backup"}, want: exitUsage, msg: "one FILE", keep: true},
		{name: "TwoFiles", args: []string{"backup", "a.db", "b.db"}, want: exitUsage, msg: "one FILE", keep: true},
		{name: "TheDatabaseItself", args: []string{"backup", "--force", h.Env["VELQBO_DB"]}, want: exitUnavailable, msg: "the database itself", keep: true},
		{name: "NoDatabase", args: []string{"backup", filepath.Join(dir, "x.db")}, env: map[string]string{"VELQBO_DB": filepath.Join(dir, "missing.db")}, want: exitUnavailable, msg: "no database at", keep: true},
		{name: "OnlyTheDatabase", args: []string{"backup", "--force", existing}, dbOnly: true, want: exitOK},
		{name: "DBFlag", args: []string{"--db", h.Env["VELQBO_DB"], "backup", "--force", existing}, env: map[string]string{"VELQBO_DB": filepath.Join(dir, "elsewhere.db")}, dbOnly: true, want: exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(existing, old, 0o600); err != nil {
				t.Fatal(err)
			}
			sub := *h
			sub.t, sub.Env = t, map[string]string{}
			for k, v := range h.Env {
				if !tt.dbOnly || k == "VELQBO_DB" {
					sub.Env[k] = v
				}
			}
			for k, v := range tt.env {
				sub.Env[k] = v
			}
			r := sub.Run("", tt.args...)
			if r.Code != tt.want {
				t.Fatalf("exit code: got %d; want %d (stderr %q)", r.Code, tt.want, r.Stderr)
			}
			if tt.msg != "" && !strings.Contains(r.Stderr, tt.msg) {
				t.Errorf("stderr: got %q; want it to contain %q", r.Stderr, tt.msg)
			}
			if tt.msg == "" && !strings.Contains(r.Stdout, "backed up") {
				t.Errorf("stdout: got %q; want it to say what was backed up", r.Stdout)
			}
			b, _ := os.ReadFile(existing)
			if unchanged := bytes.Equal(b, old); unchanged != tt.keep {
				t.Errorf("the existing file unchanged: got %v; want %v", unchanged, tt.keep)
			}
			if !tt.keep {
				openCopy(t, existing)
			}
			if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
				t.Errorf("backup created the missing database")
			}
		})
	}
}
