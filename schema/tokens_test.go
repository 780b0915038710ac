package schema

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sampleToken() Token {
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return Token{
		Realm:            "9130350000000001",
		RefreshToken:     "RT1-SECRET-refresh-4f1c9a2b7d",
		AccessToken:      "eyJACCESS-SECRET-access-8e3d",
		AccessExpiresAt:  base.Add(time.Hour),
		RefreshExpiresAt: base.Add(100 * 24 * time.Hour),
		HardExpiresAt:    base.Add(5 * 365 * 24 * time.Hour),
	}
}

func TestStore_SaveToken(t *testing.T) {
	t.Parallel()

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		clock := newTestClock()
		s := MustOpenStore(t, WithClock(clock.Now))
		in := sampleToken()
		if err := s.SaveToken(ctx, in); err != nil {
			t.Fatal(err)
		}
		got, err := s.LoadToken(ctx, in.Realm)
		if err != nil {
			t.Fatal(err)
		}
		want := in
		want.RefreshRotatedAt, want.UpdatedAt = clock.Now(), clock.Now()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("token mismatch (-want +got):\n%s", diff)
		}

		// Same refresh token later: rotation time kept. New one: moved.
		clock.Advance(time.Minute)
		in.AccessToken = "eyJACCESS-2"
		if err := s.SaveToken(ctx, in); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.LoadToken(ctx, in.Realm); !got.RefreshRotatedAt.Equal(want.RefreshRotatedAt) || got.AccessToken != "eyJACCESS-2" {
			t.Errorf("got rotated %s, access %q; want rotated %s, access eyJACCESS-2", got.RefreshRotatedAt, got.AccessToken, want.RefreshRotatedAt)
		}
		clock.Advance(time.Minute)
		in.RefreshToken = "RT2"
		if err := s.SaveToken(ctx, in); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.LoadToken(ctx, in.Realm); !got.RefreshRotatedAt.Equal(clock.Now()) || got.RefreshToken != "RT2" {
			t.Errorf("got rotated %s, refresh %q; want rotated %s, refresh RT2", got.RefreshRotatedAt, got.RefreshToken, clock.Now())
		}

		infos, err := s.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 1 || infos[0].Realm != in.Realm {
			t.Errorf("got token infos %+v; want one for realm %s", infos, in.Realm)
		}

		if err := s.DeleteToken(ctx, in.Realm); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoadToken(ctx, in.Realm); !errors.Is(err, ErrNotFound) {
			t.Errorf("load after delete: got %v; want ErrNotFound", err)
		}
		if err := s.DeleteToken(ctx, in.Realm); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: got %v; want ErrNotFound", err)
		}
	})

	t.Run("ErrNoKey", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s, err := Open(ctx, filepath.Join(t.TempDir(), "v.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.SaveToken(ctx, sampleToken()); !errors.Is(err, ErrNoKey) {
			t.Errorf("save: got %v; want ErrNoKey", err)
		}
		if _, err := s.LoadToken(ctx, "1"); !errors.Is(err, ErrNoKey) {
			t.Errorf("load: got %v; want ErrNoKey", err)
		}
	})

	t.Run("ErrBadKey", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		path := filepath.Join(t.TempDir(), "v.db")
		s := mustOpenStoreAt(t, path)
		tok := sampleToken()
		if err := s.SaveToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		other := mustOpenStoreAt(t, path, WithTokenKey(bytes.Repeat([]byte{7}, 32)))
		_, err := other.LoadToken(ctx, tok.Realm)
		if !errors.Is(err, ErrBadKey) {
			t.Fatalf("got %v; want ErrBadKey", err)
		}
		if !strings.Contains(err.Error(), "VELQBO_SECRET_KEY differs") {
			t.Errorf("got message %q; want it to name VELQBO_SECRET_KEY", err)
		}
		if strings.Contains(err.Error(), tok.RefreshToken) || strings.Contains(err.Error(), tok.AccessToken) {
			t.Errorf("error %q contains a token", err)
		}
		// A new connect under the new key replaces the old token.
		if err := other.SaveToken(ctx, tok); err != nil {
			t.Fatalf("save under new key: %v", err)
		}
		if _, err := other.LoadToken(ctx, tok.Realm); err != nil {
			t.Errorf("load under new key: %v", err)
		}
	})

	t.Run("SwappedColumnsDoNotDecrypt", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := MustOpenStore(t)
		tok := sampleToken()
		if err := s.SaveToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE tokens SET refresh_token_enc = access_token_enc`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoadToken(ctx, tok.Realm); !errors.Is(err, ErrBadKey) {
			t.Errorf("got %v; want ErrBadKey", err)
		}
	})

	t.Run("Redacted", func(t *testing.T) {
		t.Parallel()
		tok := sampleToken()
		for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(f, tok)
			if strings.Contains(out, tok.RefreshToken) || strings.Contains(out, tok.AccessToken) {
				t.Errorf("Sprintf(%q) = %q; want tokens redacted", f, out)
			}
		}
	})
}

// TestStore_TokensNotInClearOnDisk greps the database and WAL files for the
// clear token bytes, while open (before any checkpoint) and after close.
func TestStore_TokensNotInClearOnDisk(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v.db")
	s, err := Open(ctx, path, WithTokenKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	tok := sampleToken()
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	tok.RefreshToken, tok.AccessToken = "RT-SECOND-"+tok.RefreshToken, "AT-SECOND-"+tok.AccessToken
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	secrets := []string{"SECRET-refresh", "SECRET-access", "RT-SECOND", "AT-SECOND"}
	grep := func(stage string) {
		t.Helper()
		found := 0
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			b, err := os.ReadFile(p)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			found++
			for _, sec := range secrets {
				if bytes.Contains(b, []byte(sec)) {
					t.Errorf("%s: %s contains clear token bytes %q", stage, filepath.Base(p), sec)
				}
			}
			// Sanity: while open, the rows sit in the WAL, so the grep must
			// find the (clear) realm there; otherwise it looks at nothing.
			if stage == "open" && strings.HasSuffix(p, "-wal") && !bytes.Contains(b, []byte(tok.Realm)) {
				t.Errorf("%s: WAL does not contain the realm; the grep is not looking at the data", stage)
			}
		}
		if found == 0 {
			t.Fatalf("%s: no database files found", stage)
		}
	}
	grep("open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	grep("closed")
}
