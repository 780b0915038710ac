package schema

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Token is the OAuth state of one QBO company (realm). Its String and
// GoString never print the tokens themselves.
type Token struct {
	Realm            string
	RefreshToken     string
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
	// RefreshRotatedAt is when the refresh token last changed value. The
	// store sets it on SaveToken.
	RefreshRotatedAt time.Time
	// HardExpiresAt is the absolute end of the authorization (the user must
	// reconnect), when known.
	HardExpiresAt time.Time
	UpdatedAt     time.Time
}

// String describes the token without its secrets.
func (t Token) String() string {
	return fmt.Sprintf("Token{Realm: %q, AccessExpiresAt: %s, RefreshExpiresAt: %s, tokens redacted}",
		t.Realm, formatTime(t.AccessExpiresAt), formatTime(t.RefreshExpiresAt))
}

// GoString is String, so %#v redacts too.
func (t Token) GoString() string { return t.String() }

// TokenInfo is a stored token's metadata: what `status` can show without
// the encryption key.
type TokenInfo struct {
	Realm            string
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
	RefreshRotatedAt time.Time
	HardExpiresAt    time.Time
	UpdatedAt        time.Time
}

const (
	colRefresh = "refresh_token"
	colAccess  = "access_token"
)

// SaveToken seals and stores t, replacing the realm's previous token.
// RefreshRotatedAt is set to now when the refresh token differs from the
// stored one (or none was stored), and kept otherwise. Because QBO rotates
// refresh tokens, callers save a new token before using it.
//
// Returns ErrNoKey when the store has no token key. A stored token sealed
// under another key is simply replaced.
func (s *Store) SaveToken(ctx context.Context, t Token) error {
	if t.Realm == "" {
		return errors.New("save token: empty realm")
	}
	c, err := newSealer(s.key)
	if err != nil {
		return fmt.Errorf("save token for realm %s: %w", t.Realm, err)
	}
	refEnc, err := c.seal(t.Realm, colRefresh, []byte(t.RefreshToken))
	if err != nil {
		return fmt.Errorf("save token for realm %s: %w", t.Realm, err)
	}
	accEnc, err := c.seal(t.Realm, colAccess, []byte(t.AccessToken))
	if err != nil {
		return fmt.Errorf("save token for realm %s: %w", t.Realm, err)
	}
	err = s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		rotated := now
		var oldEnc []byte
		var oldRotated string
		err := tx.QueryRowContext(ctx, `SELECT refresh_token_enc, refresh_rotated_at FROM tokens WHERE realm = ?`, t.Realm).
			Scan(&oldEnc, &oldRotated)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			if old, err := c.open(t.Realm, colRefresh, oldEnc); err == nil && bytes.Equal(old, []byte(t.RefreshToken)) {
				if rt, err := parseTime(oldRotated); err == nil && !rt.IsZero() {
					rotated = rt
				}
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tokens
			(realm, refresh_token_enc, access_token_enc, access_expires_at, refresh_expires_at, refresh_rotated_at, hard_expires_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (realm) DO UPDATE SET
				refresh_token_enc = excluded.refresh_token_enc,
				access_token_enc = excluded.access_token_enc,
				access_expires_at = excluded.access_expires_at,
				refresh_expires_at = excluded.refresh_expires_at,
				refresh_rotated_at = excluded.refresh_rotated_at,
				hard_expires_at = excluded.hard_expires_at,
				updated_at = excluded.updated_at`,
			t.Realm, refEnc, accEnc, formatTime(t.AccessExpiresAt), formatTime(t.RefreshExpiresAt),
			formatTime(rotated), formatTime(t.HardExpiresAt), formatTime(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("save token for realm %s: %w", t.Realm, err)
	}
	return nil
}

// LoadToken loads and decrypts the realm's token.
//
// Returns ErrNotFound when none is stored, ErrNoKey when the store has no
// token key, and ErrBadKey when the stored token was sealed with another key.
func (s *Store) LoadToken(ctx context.Context, realm string) (Token, error) {
	c, err := newSealer(s.key)
	if err != nil {
		return Token{}, fmt.Errorf("load token for realm %s: %w", realm, err)
	}
	t := Token{Realm: realm}
	var refEnc, accEnc []byte
	err = s.db.QueryRowContext(ctx, `SELECT refresh_token_enc, access_token_enc, access_expires_at,
		refresh_expires_at, refresh_rotated_at, hard_expires_at, updated_at FROM tokens WHERE realm = ?`, realm).
		Scan(&refEnc, &accEnc, scanTime(&t.AccessExpiresAt), scanTime(&t.RefreshExpiresAt),
			scanTime(&t.RefreshRotatedAt), scanTime(&t.HardExpiresAt), scanTime(&t.UpdatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("load token for realm %s: %w", realm, ErrNotFound)
	}
	if err != nil {
		return Token{}, fmt.Errorf("load token for realm %s: %w", realm, err)
	}
	ref, err := c.open(realm, colRefresh, refEnc)
	if err != nil {
		return Token{}, fmt.Errorf("load token for realm %s: %w", realm, err)
	}
	acc, err := c.open(realm, colAccess, accEnc)
	if err != nil {
		return Token{}, fmt.Errorf("load token for realm %s: %w", realm, err)
	}
	t.RefreshToken, t.AccessToken = string(ref), string(acc)
	return t, nil
}

// Tokens lists the stored tokens' metadata, by realm; it needs no key.
func (s *Store) Tokens(ctx context.Context) ([]TokenInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT realm, access_expires_at, refresh_expires_at,
		refresh_rotated_at, hard_expires_at, updated_at FROM tokens ORDER BY realm`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []TokenInfo
	for rows.Next() {
		var ti TokenInfo
		if err := rows.Scan(&ti.Realm, scanTime(&ti.AccessExpiresAt), scanTime(&ti.RefreshExpiresAt),
			scanTime(&ti.RefreshRotatedAt), scanTime(&ti.HardExpiresAt), scanTime(&ti.UpdatedAt)); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, ti)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// DeleteToken forgets the realm's token (disconnect). The ledger and the
// links stay. Returns ErrNotFound when no token was stored.
func (s *Store) DeleteToken(ctx context.Context, realm string) error {
	res, err := s.exec(ctx, `DELETE FROM tokens WHERE realm = ?`, realm)
	if err != nil {
		return fmt.Errorf("delete token for realm %s: %w", realm, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete token for realm %s: %w", realm, ErrNotFound)
	}
	return nil
}
