package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"unicode"

	"golang.org/x/term"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/web"
	"github.com/velqbo/velqbo/schema"
)

func usersCommand() command {
	var (
		role   string
		asJSON bool
	)
	return command{
		name: "users",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&role, "role", "", "with add: admin (may change things) or viewer (sees, changes nothing)")
			fs.BoolVar(&asJSON, "json", false, "with list: print JSON")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) == 0 {
				return usageErrorf("users: say add, list, remove or passwd (see `velqbo help users`)")
			}
			sub, rest := args[0], args[1:]
			want := map[string]int{"add": 1, "list": 0, "remove": 1, "passwd": 1}
			n, ok := want[sub]
			if !ok {
				return usageErrorf("users: unknown subcommand %q: say add, list, remove or passwd", sub)
			}
			if len(rest) != n {
				return usageErrorf("users %s: takes %d argument(s)", sub, n)
			}
			if role != "" && sub != "add" {
				return usageErrorf("users %s: --role is for add", sub)
			}
			switch sub {
			case "add":
				return m.usersAdd(ctx, rest[0], role)
			case "list":
				return m.usersList(ctx, asJSON)
			case "remove":
				return m.usersRemove(ctx, rest[0])
			default:
				return m.usersPasswd(ctx, rest[0])
			}
		},
	}
}

// validUserName refuses names that would be confusing in the console and
// the logs: empty, too long, spaces or control characters.
func validUserName(name string) error {
	if name == "" || len(name) > 64 {
		return usageErrorf("users: a name has 1 to 64 characters")
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return usageErrorf("users: a name has no spaces or control characters")
		}
	}
	return nil
}

func (m *Main) usersAdd(ctx context.Context, name, role string) error {
	if err := validUserName(name); err != nil {
		return err
	}
	if role != schema.RoleAdmin && role != schema.RoleViewer {
		return usageErrorf("users add: --role admin or --role viewer is required")
	}
	st, err := m.createStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.ConsoleUser(ctx, name); err == nil {
		return usageErrorf("users add: %s exists (`velqbo users passwd %s` changes the password)", name, name)
	}
	hash, err := m.readNewPassword(name)
	if err != nil {
		return err
	}
	if err := st.AddConsoleUser(ctx, schema.ConsoleUser{Name: name, Role: role, PasswordHash: hash}); err != nil {
		if errors.Is(err, schema.ErrConflict) {
			return usageErrorf("users add: %s exists", name)
		}
		return err
	}
	fmt.Fprintf(m.Stdout, "added %s (%s)\n", name, role)
	return nil
}

func (m *Main) usersList(ctx context.Context, asJSON bool) error {
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	us, err := st.ConsoleUsers(ctx)
	if err != nil {
		return err
	}
	type userView struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Created  string `json:"created_at"`
		Sessions int    `json:"sessions"`
	}
	views := []userView{}
	for _, u := range us {
		n, err := st.CountConsoleSessions(ctx, u.Name)
		if err != nil {
			return err
		}
		views = append(views, userView{u.Name, u.Role, u.CreatedAt.In(m.Config.Location()).Format("2006-01-02 15:04 MST"), n})
	}
	if asJSON {
		return writeJSON(m.Stdout, views)
	}
	if len(views) == 0 {
		fmt.Fprintln(m.Stdout, "no console users: `velqbo users add NAME --role admin` creates one")
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tSESSIONS")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", v.Name, v.Role, v.Created, v.Sessions)
	}
	return tw.Flush()
}

func (m *Main) usersRemove(ctx context.Context, name string) error {
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RemoveConsoleUser(ctx, name); err != nil {
		if errors.Is(err, schema.ErrNotFound) {
			return usageErrorf("users remove: no user %s", name)
		}
		return err
	}
	fmt.Fprintf(m.Stdout, "removed %s; their sessions are ended\n", name)
	return nil
}

func (m *Main) usersPasswd(ctx context.Context, name string) error {
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.ConsoleUser(ctx, name); errors.Is(err, schema.ErrNotFound) {
		return usageErrorf("users passwd: no user %s", name)
	} else if err != nil {
		return err
	}
	hash, err := m.readNewPassword(name)
	if err != nil {
		return err
	}
	if err := st.SetConsolePassword(ctx, name, hash); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "changed the password of %s; their sessions are ended\n", name)
	return nil
}

// readNewPassword reads a password and returns its hash: from the
// terminal without echo, asked twice, when stdin is one; else the first
// line of stdin (for scripts: `printf '%s\n' "$PW" | velqbo users add …`).
// Returns a usage error for a password that is too short or two entries
// that differ.
func (m *Main) readNewPassword(name string) (string, error) {
	var pw string
	if f, ok := m.Stdin.(*os.File); ok && m.Interactive != nil && m.Interactive() {
		read := func(prompt string) (string, error) {
			fmt.Fprint(m.Stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(m.Stderr)
			return string(b), err
		}
		first, err := read(fmt.Sprintf("password for %s (at least %d characters): ", name, web.MinPasswordLength))
		if err != nil {
			return "", err
		}
		again, err := read("again: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", usageErrorf("users: the two passwords differ")
		}
		pw = first
	} else {
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	hash, err := web.HashPassword(pw)
	if err != nil {
		return "", usageErrorf("users: %v", err)
	}
	return hash, nil
}
