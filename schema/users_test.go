package schema

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConsoleUsers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clk := newTestClock()
	s := MustOpenStore(t, WithClock(clk.Now))
	for _, u := range []ConsoleUser{{Name: "bob", Role: RoleViewer, PasswordHash: "h1"}, {Name: "alice", Role: RoleAdmin, PasswordHash: "h2"}} {
		if err := s.AddConsoleUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddConsoleUser(ctx, ConsoleUser{Name: "alice", Role: RoleAdmin, PasswordHash: "x"}); !errors.Is(err, ErrConflict) {
		t.Errorf("got %v adding alice twice; want ErrConflict", err)
	}
	if err := s.AddConsoleUser(ctx, ConsoleUser{Name: "carol", Role: "root", PasswordHash: "x"}); err == nil {
		t.Errorf("got no error for role root; want the CHECK to refuse it")
	}
	us, err := s.ConsoleUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range us {
		names = append(names, u.Name+":"+u.Role+":"+u.PasswordHash)
	}
	if diff := cmp.Diff([]string{"alice:admin:", "bob:viewer:"}, names); diff != "" {
		t.Errorf("ConsoleUsers, by name, without hashes (-want +got):\n%s", diff)
	}
	if n, err := s.CountConsoleUsers(ctx); err != nil || n != 2 {
		t.Errorf("CountConsoleUsers = %d, %v; want 2, nil", n, err)
	}

	for _, id := range []string{"s1", "s2"} {
		if err := s.CreateConsoleSession(ctx, ConsoleSession{IDHash: id, User: "alice", Remote: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateConsoleSession(ctx, ConsoleSession{IDHash: "s3", User: "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConsoleSession(ctx, ConsoleSession{IDHash: "s4", User: "nobody"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("got %v for a session of no user; want ErrNotFound", err)
	}
	got, err := s.ConsoleSession(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	want := ConsoleSession{IDHash: "s1", User: "alice", Role: RoleAdmin, CreatedAt: start, LastSeen: start, Remote: "127.0.0.1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ConsoleSession (-want +got):\n%s", diff)
	}
	clk.Advance(10 * time.Minute)
	if err := s.TouchConsoleSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ConsoleSession(ctx, "s1"); !got.LastSeen.Equal(start.Add(10 * time.Minute)) {
		t.Errorf("got LastSeen %v after a touch; want %v", got.LastSeen, start.Add(10*time.Minute))
	}
	// s2 and s3 were last seen at start; s1 ten minutes later.
	if n, err := s.DeleteStaleConsoleSessions(ctx, start.Add(time.Minute), start.Add(-time.Hour)); err != nil || n != 2 {
		t.Errorf("DeleteStaleConsoleSessions = %d, %v; want 2, nil", n, err)
	}
	if err := s.CreateConsoleSession(ctx, ConsoleSession{IDHash: "s5", User: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConsolePassword(ctx, "alice", "h3"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountConsoleSessions(ctx, "alice"); n != 0 {
		t.Errorf("got %d sessions of alice after a new password; want 0", n)
	}
	if u, _ := s.ConsoleUser(ctx, "alice"); u.PasswordHash != "h3" {
		t.Errorf("got hash %q; want h3", u.PasswordHash)
	}
	if err := s.CreateConsoleSession(ctx, ConsoleSession{IDHash: "s6", User: "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveConsoleUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsoleSession(ctx, "s6"); !errors.Is(err, ErrNotFound) {
		t.Errorf("got %v for a removed user's session; want ErrNotFound", err)
	}
	for _, name := range []string{"bob", "nobody"} {
		if err := s.RemoveConsoleUser(ctx, name); !errors.Is(err, ErrNotFound) {
			t.Errorf("RemoveConsoleUser(%s) = %v; want ErrNotFound", name, err)
		}
		if err := s.SetConsolePassword(ctx, name, "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetConsolePassword(%s) = %v; want ErrNotFound", name, err)
		}
	}
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clk := newTestClock()
	s := MustOpenStore(t, WithClock(clk.Now))
	start := clk.Now()
	for range 3 {
		if err := s.RecordLoginFailure(ctx, start.Add(-time.Hour), "user:alice", "addr:10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	n, last, err := s.LoginFailures(ctx, "user:alice", start)
	if err != nil || n != 3 || !last.Equal(start.Add(2*time.Minute)) {
		t.Errorf("LoginFailures = %d, %v, %v; want 3, %v, nil", n, last, err, start.Add(2*time.Minute))
	}
	if n, _, _ := s.LoginFailures(ctx, "user:alice", start.Add(90*time.Second)); n != 1 {
		t.Errorf("got %d failures since 90 s after the first; want 1", n)
	}
	if n, last, _ := s.LoginFailures(ctx, "user:bob", start); n != 0 || !last.IsZero() {
		t.Errorf("got %d failures at %v for bob; want none", n, last)
	}
	if err := s.ClearLoginFailures(ctx, "user:alice"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.LoginFailures(ctx, "user:alice", start); n != 0 {
		t.Errorf("got %d failures after a clear; want 0", n)
	}
	if n, _, _ := s.LoginFailures(ctx, "addr:10.0.0.1", start); n != 3 {
		t.Errorf("got %d failures of the address after clearing the user; want 3", n)
	}
	// A failure recorded later forgets those before forgetBefore.
	if err := s.RecordLoginFailure(ctx, clk.Now(), "addr:10.0.0.2"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.LoginFailures(ctx, "addr:10.0.0.1", start); n != 0 {
		t.Errorf("got %d old failures after they aged out; want 0", n)
	}
}
