package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Console roles: an admin may change things, a viewer only looks.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer"
)

// ConsoleUser is a local account of the web console.
type ConsoleUser struct {
	Name string
	Role string
	// PasswordHash is the PHC-format hash the console made; the ledger
	// never sees the password.
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ConsoleSession is a logged-in browser. IDHash is the hex SHA-256 of the
// id in its cookie.
type ConsoleSession struct {
	IDHash    string
	User      string
	Role      string
	CreatedAt time.Time
	LastSeen  time.Time
	Remote    string
}

// AddConsoleUser creates u. Returns ErrConflict when the name is taken.
func (s *Store) AddConsoleUser(ctx context.Context, u ConsoleUser) error {
	if u.Name == "" || u.PasswordHash == "" {
		return errors.New("add console user: name and password hash are required")
	}
	err := s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO console_users (name, role, password_hash, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?)`, u.Name, u.Role, u.PasswordHash, formatTime(now), formatTime(now))
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("user %q exists: %w", u.Name, ErrConflict)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("add console user: %w", err)
	}
	return nil
}

// ConsoleUser returns the user called name. Returns ErrNotFound when there
// is none.
func (s *Store) ConsoleUser(ctx context.Context, name string) (ConsoleUser, error) {
	var u ConsoleUser
	err := s.db.QueryRowContext(ctx, `SELECT name, role, password_hash, created_at, updated_at
		FROM console_users WHERE name = ?`, name).Scan(&u.Name, &u.Role, &u.PasswordHash, scanTime(&u.CreatedAt), scanTime(&u.UpdatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return ConsoleUser{}, fmt.Errorf("console user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return ConsoleUser{}, fmt.Errorf("console user %q: %w", name, err)
	}
	return u, nil
}

// ConsoleUsers lists every user by name, without password hashes.
func (s *Store) ConsoleUsers(ctx context.Context) ([]ConsoleUser, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, role, created_at, updated_at FROM console_users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("console users: %w", err)
	}
	defer rows.Close()
	var us []ConsoleUser
	for rows.Next() {
		var u ConsoleUser
		if err := rows.Scan(&u.Name, &u.Role, scanTime(&u.CreatedAt), scanTime(&u.UpdatedAt)); err != nil {
			return nil, fmt.Errorf("console users: %w", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("console users: %w", err)
	}
	return us, nil
}

// RemoveConsoleUser deletes the user called name and all its sessions.
// Returns ErrNotFound when there is none.
func (s *Store) RemoveConsoleUser(ctx context.Context, name string) error {
	err := s.withTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE user_name = ?`, name); err != nil {
			return err
		}
		return mustAffect(tx.ExecContext(ctx, `DELETE FROM console_users WHERE name = ?`, name))
	})
	if err != nil {
		return fmt.Errorf("remove console user %q: %w", name, err)
	}
	return nil
}

// SetConsolePassword replaces the password hash of the user called name
// and ends all its sessions, so a changed password locks out whoever had
// the old one. Returns ErrNotFound when there is no such user.
func (s *Store) SetConsolePassword(ctx context.Context, name, hash string) error {
	err := s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := mustAffect(tx.ExecContext(ctx, `UPDATE console_users SET password_hash = ?, updated_at = ? WHERE name = ?`,
			hash, formatTime(now), name)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE user_name = ?`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("set console password of %q: %w", name, err)
	}
	return nil
}

// CountConsoleUsers returns how many users exist.
func (s *Store) CountConsoleUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM console_users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count console users: %w", err)
	}
	return n, nil
}

// CreateConsoleSession records a new session of sess.User, started now.
// Returns ErrNotFound when the user does not exist.
func (s *Store) CreateConsoleSession(ctx context.Context, sess ConsoleSession) error {
	err := s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM console_users WHERE name = ?`, sess.User).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO console_sessions (id_hash, user_name, created_at, last_seen, remote) VALUES (?, ?, ?, ?, ?)`,
			sess.IDHash, sess.User, formatTime(now), formatTime(now), sess.Remote)
		return err
	})
	if err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	return nil
}

// ConsoleSession returns the session whose id hashes to idHash, with its
// user's current role. Returns ErrNotFound when there is none.
func (s *Store) ConsoleSession(ctx context.Context, idHash string) (ConsoleSession, error) {
	var c ConsoleSession
	err := s.db.QueryRowContext(ctx, `SELECT s.id_hash, s.user_name, u.role, s.created_at, s.last_seen, s.remote
		FROM console_sessions s JOIN console_users u ON u.name = s.user_name WHERE s.id_hash = ?`, idHash).
		Scan(&c.IDHash, &c.User, &c.Role, scanTime(&c.CreatedAt), scanTime(&c.LastSeen), &c.Remote)
	if errors.Is(err, sql.ErrNoRows) {
		return ConsoleSession{}, fmt.Errorf("console session: %w", ErrNotFound)
	}
	if err != nil {
		return ConsoleSession{}, fmt.Errorf("console session: %w", err)
	}
	return c, nil
}

// CountConsoleSessions returns how many sessions user has; all users'
// when user is empty.
func (s *Store) CountConsoleSessions(ctx context.Context, user string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM console_sessions WHERE ? = '' OR user_name = ?`, user, user).Scan(&n); err != nil {
		return 0, fmt.Errorf("count console sessions: %w", err)
	}
	return n, nil
}

// TouchConsoleSession sets the session's last use to now.
func (s *Store) TouchConsoleSession(ctx context.Context, idHash string) error {
	if _, err := s.exec(ctx, `UPDATE console_sessions SET last_seen = ? WHERE id_hash = ?`, formatTime(s.now()), idHash); err != nil {
		return fmt.Errorf("touch console session: %w", err)
	}
	return nil
}

// DeleteConsoleSession ends a session; ending one that does not exist is
// not an error.
func (s *Store) DeleteConsoleSession(ctx context.Context, idHash string) error {
	if _, err := s.exec(ctx, `DELETE FROM console_sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}

// DeleteStaleConsoleSessions ends the sessions last used before idle or
// started before created, and returns how many it ended.
func (s *Store) DeleteStaleConsoleSessions(ctx context.Context, idle, created time.Time) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM console_sessions WHERE last_seen < ? OR created_at < ?`, formatTime(idle), formatTime(created))
	if err != nil {
		return 0, fmt.Errorf("delete stale console sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// RecordLoginFailure records one failed login under each of keys, at now,
// and forgets failures of any key older than forgetBefore.
func (s *Store) RecordLoginFailure(ctx context.Context, forgetBefore time.Time, keys ...string) error {
	err := s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE failed_at < ?`, formatTime(forgetBefore)); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (key, failed_at) VALUES (?, ?)`, k, formatTime(now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

// LoginFailures returns how many failures key has had since since, and
// when the latest was (zero when none).
func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error) {
	var n int
	var last sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT count(*), max(failed_at) FROM login_failures WHERE key = ? AND failed_at >= ?`,
		key, formatTime(since)).Scan(&n, &last)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("login failures: %w", err)
	}
	t, err := parseTime(last.String)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("login failures: %w", err)
	}
	return n, t, nil
}

// ClearLoginFailures forgets the failures of key (after a good login).
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM login_failures WHERE key = ?`, key); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

// mustAffect turns an Exec that changed no row into ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}
