package schema

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeOutcomes records, in order, one create (intent, then outcome with
// its audit entry) per document until ctx is done, signalling on started
// after the first n and returning how many it recorded.
func writeOutcomes(ctx context.Context, s *Store, started chan<- struct{}, n int) (int, error) {
	for i := 0; ; i++ {
		if ctx.Err() != nil {
			return i, nil
		}
		if i == n {
			close(started)
		}
		k := DocumentKey{Kind: "order", SourceID: fmt.Sprintf("ord_%06d", i)}
		req := fmt.Sprintf("req-%06d", i)
		if err := s.RecordIntent(context.WithoutCancel(ctx), Intent{Key: k, Action: "create", RequestID: req, Fingerprint: "fp", DocNumber: strconv.Itoa(1000 + i)}); err != nil {
			return i, err
		}
		err := s.RecordOutcome(context.WithoutCancel(ctx), DocumentOutcome{Key: k, RequestID: req, State: StateSent, QBOID: strconv.Itoa(i + 1), QBOType: "SalesReceipt",
			Audit: &AuditEntry{Entity: "SalesReceipt", Operation: "create", HTTPStatus: 200, Outcome: "ok"}})
		if err != nil {
			return i, err
		}
	}
}

// checkSnapshot opens the copy at path as velqbo would and checks it is a
// whole database as of one commit of writeOutcomes: integrity_check ok,
// the current migrations, and documents 0..n-1 exactly, each sent with its
// one audit entry (the last may have only its intent), and no audit entry
// without its document.
func checkSnapshot(t *testing.T, path string, want []Migration) int {
	t.Helper()
	ctx := t.Context()
	c := mustOpenStoreAt(t, path)
	if err := c.IntegrityCheck(ctx); err != nil {
		t.Fatalf("the copy: %v", err)
	}
	got, err := c.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("migrations of the copy (-want +got):\n%s", diff)
	}
	docs, err := c.ListDocuments(ctx, DocumentFilter{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	audit, err := c.ListAudit(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]int{}
	for _, a := range audit {
		audited[a.SourceID]++
	}
	for i, d := range docs {
		if i == len(docs)-1 && d.State == StatePending && audited[d.SourceID] == 0 {
			continue // its intent was committed, its outcome not yet
		}
		if d.State != StateSent || d.PendingRequestID != "" {
			t.Errorf("copy: %s is %s with intent %q; want sent, no intent (each commit leaves it so)", d.SourceID, d.State, d.PendingRequestID)
		}
		if audited[d.SourceID] != 1 {
			t.Errorf("copy: %s has %d audit entries; want 1", d.SourceID, audited[d.SourceID])
		}
		delete(audited, d.SourceID)
	}
	if len(audited) > 0 {
		t.Errorf("copy: audit entries without their document: %v", audited)
	}
	for i, d := range docs {
		if want := fmt.Sprintf("ord_%06d", i); d.SourceID != want {
			t.Fatalf("copy: document %d is %s; want %s (a prefix of the commits, none missing)", i, d.SourceID, want)
		}
	}
	return len(docs)
}

func TestStore_Backup_WhileWriting(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := MustOpenStore(t)
	want, err := s.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}

	wctx, stop := context.WithCancel(ctx)
	started := make(chan struct{})
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := writeOutcomes(wctx, s, started, 50)
		done <- result{n, err}
	}()
	<-started

	dir := t.TempDir()
	var paths []string
	for i := range 3 {
		path := filepath.Join(dir, fmt.Sprintf("copy-%d.db", i))
		if err := s.Backup(ctx, path, BackupOptions{}); err != nil {
			stop()
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	after, err := s.ListDocuments(ctx, DocumentFilter{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	r := <-done
	if r.err != nil {
		t.Fatalf("writer: %v", r.err)
	}
	if len(after) <= 50 {
		t.Errorf("the writer recorded %d documents by the end of the copies; want more than the 50 before them (the copies must not stop it)", len(after))
	}
	for i, path := range paths {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("copy %d: mode %v; want 0600", i, perm)
		}
		for _, side := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Stat(path + side); err == nil {
				t.Errorf("copy %d: %s exists; want one self-contained file", i, side)
			}
		}
	}
	var counts []int
	for i, path := range paths {
		n := checkSnapshot(t, path, want)
		if n < 50 || n > len(after) || (i > 0 && n < counts[i-1]) {
			t.Errorf("copy %d holds %d documents; want between 50 (taken after them) and %d (written when the copies were done), and no fewer than the copy before (%v)", i, n, len(after), counts)
		}
		counts = append(counts, n)
	}
	t.Logf("the copies hold %v documents; %d were written when the last was done, %d in all", counts, len(after), r.n)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".velqbo-backup-") {
			t.Errorf("temporary %s left behind", e.Name())
		}
	}
}

func TestStore_Backup_Destination(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := MustOpenStore(t)
	if err := s.SetSetting(ctx, "deposit_account", "35"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.db")
	old := []byte("last week's backup")

	tests := []struct {
		name      string
		path      string
		overwrite bool
		wantErr   error // nil: the copy is made
		wantText  string
	}{
		{name: "New", path: filepath.Join(dir, "new.db")},
		{name: "ExistsRefused", path: existing, wantErr: ErrExists, wantText: "file exists"},
		{name: "ExistsOverwritten", path: existing, overwrite: true},
		{name: "TheDatabaseItself", path: s.Path(), overwrite: true, wantText: "the database itself"},
		{name: "NoDirectory", path: filepath.Join(dir, "missing", "x.db"), wantText: "no such file"},
		{name: "Empty", path: "", wantText: "no destination"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(existing, old, 0o600); err != nil {
				t.Fatal(err)
			}
			err := s.Backup(ctx, tt.path, BackupOptions{Overwrite: tt.overwrite})
			if tt.wantText != "" || tt.wantErr != nil {
				if err == nil || !errors.Is(err, cmpOrAny(tt.wantErr, err)) || !strings.Contains(err.Error(), tt.wantText) {
					t.Fatalf("got error %v; want %v containing %q", err, tt.wantErr, tt.wantText)
				}
				if b, _ := os.ReadFile(existing); !bytes.Equal(b, old) {
					t.Errorf("the existing file changed: got %q; want %q", b, old)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v; want the copy made", err)
			}
			c := mustOpenStoreAt(t, tt.path)
			if v, err := c.GetSetting(ctx, "deposit_account"); err != nil || v != "35" {
				t.Errorf("copy's setting: got %q, %v; want 35", v, err)
			}
		})
	}
}

// cmpOrAny is want, or err itself when no sentinel is wanted.
func cmpOrAny(want, err error) error {
	if want == nil {
		return err
	}
	return want
}

func TestStore_Backup_TokensStaySealed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := MustOpenStore(t)
	secret := Token{Realm: "9130", RefreshToken: "AB11-refresh-secret-value", AccessToken: "eyJ-access-secret-value"}
	// A replaced token leaves its sealed bytes in the original's free
	// pages at most; the copy holds the current one only, still sealed.
	if err := s.SaveToken(ctx, Token{Realm: "9130", RefreshToken: "AB11-older-refresh", AccessToken: "eyJ-older-access"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveToken(ctx, secret); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := s.Backup(ctx, path, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{secret.RefreshToken, secret.AccessToken, "AB11-older-refresh", "eyJ-older-access", string(testKey)} {
		if bytes.Contains(raw, []byte(v)) {
			t.Errorf("the copy holds %q in clear", v)
		}
	}
	c := mustOpenStoreAt(t, path)
	got, err := c.LoadToken(ctx, "9130")
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken != secret.RefreshToken || got.AccessToken != secret.AccessToken {
		t.Errorf("token in the copy: got %v; want the original's, opened with the same key", got)
	}
	other := mustOpenStoreAt(t, path, WithTokenKey(bytes.Repeat([]byte{7}, 32)))
	if _, err := other.LoadToken(ctx, "9130"); !errors.Is(err, ErrBadKey) {
		t.Errorf("token in the copy under another key: got %v; want ErrBadKey", err)
	}
}
