package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/web"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.MustRun(exitOK, "a good long password\n", "users", "add", "alice", "--role", "admin")
	h.MustRun(exitOK, "another long password\n", "users", "add", "bob", "--role", "viewer")

	tests := []struct {
		name    string
		stdin   string
		args    []string
		want    int
		wantErr string
	}{
		{"short password", "short\n", []string{"users", "add", "carol", "--role", "admin"}, exitUsage, "at least 12 characters"},
		{"no role", "a good long password\n", []string{"users", "add", "carol"}, exitUsage, "--role admin or --role viewer"},
		{"bad role", "a good long password\n", []string{"users", "add", "carol", "--role", "root"}, exitUsage, "--role admin or --role viewer"},
		{"exists", "a good long password\n", []string{"users", "add", "alice", "--role", "admin"}, exitUsage, "alice exists"},
		{"space in name", "a good long password\n", []string{"users", "add", "a b", "--role", "admin"}, exitUsage, "no spaces"},
		{"remove unknown", "", []string{"users", "remove", "nobody"}, exitUsage, "no user nobody"},
		{"passwd unknown", "a good long password\n", []string{"users", "passwd", "nobody"}, exitUsage, "no user nobody"},
		{"no subcommand", "", []string{"users"}, exitUsage, "say add, list, remove or passwd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.MustRun(tt.want, tt.stdin, tt.args...)
			if !strings.Contains(r.Stderr, tt.wantErr) {
				t.Errorf("got stderr %q; want it to contain %q", r.Stderr, tt.wantErr)
			}
		})
	}

	var got []struct{ Name, Role string }
	if err := json.Unmarshal([]byte(h.MustRun(exitOK, "", "users", "list", "--json").Stdout), &got); err != nil {
		t.Fatal(err)
	}
	want := []struct{ Name, Role string }{{"alice", "admin"}, {"bob", "viewer"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users list (-want +got):\n%s", diff)
	}

	h.MustRun(exitOK, "a new long password!\n", "users", "passwd", "alice")
	st := h.store()
	u, err := st.ConsoleUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := web.VerifyPassword(u.PasswordHash, "a new long password!"); err != nil || !ok {
		t.Errorf("got VerifyPassword(new password) = %v, %v; want true, nil", ok, err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("got hash %q; want argon2id with the stated parameters", u.PasswordHash)
	}

	h.MustRun(exitOK, "", "users", "remove", "bob")
	if out := h.MustRun(exitOK, "", "users", "list").Stdout; strings.Contains(out, "bob") {
		t.Errorf("got bob listed after remove:\n%s", out)
	}
}
