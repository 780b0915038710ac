package main

// Loud misconfiguration: the daemon refuses to start when it cannot run,
// commands that need a ledger never create one, and a full read of an empty
// source is a warning.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile"
)

// emptyLedger creates the harness's database without connecting it.
func (h *harness) emptyLedger() {
	h.t.Helper()
	st, err := h.newMain(io.Discard).createStore(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	st.Close()
}

// startedWriter is a log sink that closes started when the daemon logs
// that it serves.
type startedWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	started chan struct{}
	once    sync.Once
}

func (w *startedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "daemon started") {
		w.once.Do(func() { close(w.started) })
	}
	return len(p), nil
}

func (w *startedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestDaemon_RefusesUnconfigured runs `velqbo daemon` through Main in each
// state a new install passes through: it exits 2 naming every missing
// piece until it can run, unless --allow-unconfigured, and then starts
// and stops on "SIGTERM".
func TestDaemon_RefusesUnconfigured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(h *harness)
		args  []string
		want  []string // in stderr, each; nil: the daemon starts
		// absent: messages that must not be there
		absent []string
		noDB   bool // the database file must still not exist
	}{
		{name: "NothingAtAll", setup: func(h *harness) {
			for _, k := range []string{"VELQBO_VELOCITY_URL", "VELQBO_VELOCITY_TOKEN", "VELQBO_SECRET_KEY", "VELQBO_QBO_CLIENT_ID", "VELQBO_QBO_CLIENT_SECRET"} {
				delete(h.Env, k)
			}
		}, want: []string{"refusing to start", "no database at", "velqbo connect", "no Velocity source", "VELQBO_VELOCITY_URL",
			"no QBO app credentials", "VELQBO_SECRET_KEY", "--allow-unconfigured"}, noDB: true},
		{name: "NoDatabase", want: []string{"no database at", "velqbo connect"}, absent: []string{"Velocity source", "credentials"}, noDB: true},
		{name: "NotConnected", setup: func(h *harness) { h.emptyLedger() },
			want: []string{"no QBO company connected", "velqbo connect", "settings not set: deposit_account, refund_account"}},
		{name: "NoSettings", setup: func(h *harness) { h.Connect() },
			want: []string{"settings not set: deposit_account, refund_account", "velqbo settings set"}, absent: []string{"connected to"}},
		{name: "OneSettingMissing", setup: func(h *harness) {
			h.prepare(nil)
			h.MustRun(exitOK, "", "settings", "set", "refund_account=")
		}, want: []string{"settings not set: refund_account"}, absent: []string{"deposit_account"}},
		{name: "NoSource", setup: func(h *harness) {
			h.prepare(nil)
			delete(h.Env, "VELQBO_VELOCITY_TOKEN")
		}, want: []string{"no Velocity source"}, absent: []string{"settings", "connect"}},
		{name: "Configured", setup: func(h *harness) { h.prepare(nil) }},
		{name: "ConfiguredFromAFile", setup: func(h *harness) {
			h.prepare(nil)
			delete(h.Env, "VELQBO_VELOCITY_URL")
			delete(h.Env, "VELQBO_VELOCITY_TOKEN")
			h.Env["VELQBO_VELOCITY_FILE"] = filepath.Join(t.TempDir(), "export.ndjson")
		}},
		{name: "AllowUnconfigured", args: []string{"--allow-unconfigured"}, setup: func(h *harness) { h.Connect() }},
		{name: "AllowUnconfiguredNoDatabase", args: []string{"--allow-unconfigured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newDaemonHarness(t, 3)
			if tt.setup != nil {
				tt.setup(h)
			}
			if tt.want != nil {
				r := h.MustRun(exitUsage, "", append([]string{"daemon"}, tt.args...)...)
				for _, w := range tt.want {
					if !strings.Contains(r.Stderr, w) {
						t.Errorf("stderr: got %q; want it to contain %q", r.Stderr, w)
					}
				}
				for _, a := range tt.absent {
					if strings.Contains(r.Stderr, a) {
						t.Errorf("stderr: got %q; want no %q", r.Stderr, a)
					}
				}
				if _, err := os.Stat(h.Env["VELQBO_DB"]); tt.noDB && !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the refused daemon left a database at %s (stat: %v)", h.Env["VELQBO_DB"], err)
				}
				return
			}
			log := &startedWriter{started: make(chan struct{})}
			m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: log, Getenv: envFunc(h.Env),
				Now: time.Now, IsTerminal: func() bool { return false }}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan int, 1)
			go func() { done <- m.Run(ctx, append([]string{"daemon"}, tt.args...)) }()
			select {
			case <-log.started:
			case code := <-done:
				t.Fatalf("daemon exited %d before it started; log:\n%s", code, log.String())
			case <-time.After(time.Minute): // a guard against a hang
				t.Fatalf("daemon did not start; log:\n%s", log.String())
			}
			cancel() // SIGTERM
			select {
			case code := <-done:
				if code != exitOK {
					t.Errorf("daemon: exit %d after SIGTERM; want 0; log:\n%s", code, log.String())
				}
			case <-time.After(time.Minute):
				t.Fatalf("daemon did not stop; log:\n%s", log.String())
			}
			if allow := len(tt.args) > 0; allow != strings.Contains(log.String(), "allow-unconfigured") {
				t.Errorf("log names --allow-unconfigured: got %v; want %v; log:\n%s", !allow, allow, log.String())
			}
		})
	}
}

// TestReadOnly_NoDatabase: no command but connect creates a database; a
// mistyped --db is exit 3 naming the path and `velqbo connect`.
func TestReadOnly_NoDatabase(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	missing := filepath.Join(t.TempDir(), "typo.db")
	for _, args := range [][]string{
		{"status"}, {"status", "--json"}, {"plan"}, {"plan", "--full", "--json"}, {"run"},
		{"settings"}, {"settings", "--json"}, {"settings", "accounts"}, {"settings", "items"},
		{"settings", "set", "start_date=2026-01-01"},
		{"customers", "list"}, {"products", "list", "--unlinked"}, {"customers", "match"}, {"customers", "link", "1", "2"},
		{"verify"}, {"verify", "--full"}, {"resync", "1001"}, {"adopt", "--matching"}, {"ledger", "rebuild"},
		{"backup", filepath.Join(t.TempDir(), "b.db")}, {"disconnect", "--forget"},
		{"retry", "1001"}, {"skip", "1001", "--reason", "refunded by hand"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			r := h.MustRun(exitUnavailable, "", append([]string{"--db", missing}, args...)...)
			if want := "no database at " + missing; !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, "velqbo connect") {
				t.Errorf("stderr: got %q; want %q and `velqbo connect`", r.Stderr, want)
			}
			if r.Stdout != "" {
				t.Errorf("stdout: got %q; want nothing", r.Stdout)
			}
			if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("velqbo %s created %s (stat: %v)", strings.Join(args, " "), missing, err)
			}
		})
	}
	h.Env["VELQBO_DB"] = missing
	h.Connect()
	if _, err := os.Stat(missing); err != nil {
		t.Errorf("connect did not create the database: %v", err)
	}
	h.MustRun(exitOK, "", "status")
}

// TestFull_EmptySource: a full read that finds no order at all says so in
// the summary, text and JSON, for plan and run; a non-empty one does not.
func TestFull_EmptySource(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	empty := filepath.Join(t.TempDir(), "empty.ndjson")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, src := range []struct {
		name string
		args []string
	}{{"API", nil}, {"File", []string{"--velocity-file", empty}}} {
		t.Run(src.name, func(t *testing.T) {
			for _, cmd := range []string{"plan", "run"} {
				r := h.MustRun(exitOK, "", append([]string{cmd, "--full", "--json"}, src.args...)...)
				var sum reconcile.Summary
				if err := json.Unmarshal([]byte(r.Stdout), &sum); err != nil {
					t.Fatalf("%s --json: %v\n%s", cmd, err, r.Stdout)
				}
				if diff := cmp.Diff([]string{reconcile.WarnEmptySource}, sum.Warnings); diff != "" {
					t.Errorf("%s --full --json warnings (-want +got):\n%s", cmd, diff)
				}
				r = h.MustRun(exitOK, "", append([]string{cmd, "--full"}, src.args...)...)
				if !strings.Contains(r.Stdout, "Warning: the source held no orders") {
					t.Errorf("%s --full: got %q; want the empty-source warning", cmd, r.Stdout)
				}
				// An incremental run finding nothing is the normal case.
				r = h.MustRun(exitOK, "", append([]string{cmd, "--json"}, src.args...)...)
				if strings.Contains(r.Stdout, `"warnings"`) {
					t.Errorf("%s --json (incremental): got %s; want no warnings", cmd, r.Stdout)
				}
			}
		})
	}
	one := filepath.Join(t.TempDir(), "one.ndjson")
	if err := os.WriteFile(one, []byte("{not an order}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.Run("", "plan", "--full", "--json", "--velocity-file", one)
	if strings.Contains(r.Stdout, `"warnings"`) || !strings.Contains(r.Stdout, "blocked") {
		t.Errorf("plan --full of a one-line export: got %s; want the line blocked and no empty-source warning", r.Stdout)
	}
}

// TestDemo_JSONAndDB: `demo --json` prints only JSON on stdout; `demo --db
// FILE` keeps its ledger there and says so, and refuses a FILE that exists.
func TestDemo_JSONAndDB(t *testing.T) {
	t.Parallel()
	run := func(args ...string) result {
		var out, errb bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errb, Getenv: envFunc(nil), Now: time.Now, IsTerminal: func() bool { return false }}
		code := m.Run(t.Context(), append([]string{"demo", "--orders", "12"}, args...))
		return result{Code: code, Stdout: out.String(), Stderr: errb.String()}
	}
	t.Run("JSON", func(t *testing.T) {
		t.Parallel()
		r := run("--json")
		if r.Code != exitOK {
			t.Fatalf("demo --json: exit %d\nstderr: %s", r.Code, r.Stderr)
		}
		dec := json.NewDecoder(strings.NewReader(r.Stdout))
		n := 0
		for {
			var sum reconcile.Summary
			err := dec.Decode(&sum)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("demo --json stdout is not only JSON objects: %v\n%s", err, r.Stdout)
			}
			if sum.RunID == "" {
				t.Errorf("object %d: no run_id; want a run summary", n)
			}
			n++
		}
		if n < 2 {
			t.Errorf("demo --json: %d summaries; want at least 2", n)
		}
		if !strings.Contains(r.Stderr, "velqbo demo:") || !strings.Contains(r.Stderr, "deleted at the end") {
			t.Errorf("demo --json stderr: got %q; want the narration there", r.Stderr)
		}
	})
	t.Run("DB", func(t *testing.T) {
		t.Parallel()
		db := filepath.Join(t.TempDir(), "demo.db")
		r := run("--db", db)
		if r.Code != exitOK {
			t.Fatalf("demo --db: exit %d\nstderr: %s", r.Code, r.Stderr)
		}
		if !strings.Contains(r.Stdout, "kept at "+db) || !strings.Contains(r.Stdout, "velqbo status --db "+db) {
			t.Errorf("demo --db stdout: got %q; want it to say the ledger is kept at %s", r.Stdout, db)
		}
		var out, errb bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errb, Getenv: envFunc(nil), Now: time.Now, IsTerminal: func() bool { return false }}
		if code := m.Run(t.Context(), []string{"status", "--db", db, "--json"}); code != exitOK {
			t.Fatalf("status on the kept ledger: exit %d\n%s", code, errb.String())
		}
		var v statusView
		if err := json.Unmarshal(out.Bytes(), &v); err != nil || len(v.Runs) < 2 {
			t.Errorf("status on the kept ledger: %v, %d runs; want the demo's runs\n%s", err, len(v.Runs), out.String())
		}
		r = run("--db", db)
		if r.Code != exitUsage || !strings.Contains(r.Stderr, "exists") {
			t.Errorf("demo --db on an existing file: exit %d, stderr %q; want 2 and \"exists\"", r.Code, r.Stderr)
		}
	})
	t.Run("NoDB", func(t *testing.T) {
		t.Parallel()
		r := run()
		if r.Code != exitOK {
			t.Fatalf("demo: exit %d\nstderr: %s", r.Code, r.Stderr)
		}
		if strings.Contains(r.Stdout, "`velqbo status`") {
			t.Errorf("demo without --db points at `velqbo status` for a ledger it deletes:\n%s", r.Stdout)
		}
	})
}
