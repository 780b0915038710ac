package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Setting is one stored field mapping or option.
type Setting struct {
	Key       string
	Value     string
	UpdatedAt time.Time
}

// GetSetting returns a setting's value. Returns ErrNotFound when unset.
func (s *Store) GetSetting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("get setting %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("get setting %s: %w", key, err)
	}
	return v, nil
}

// SetSettings sets several settings in one transaction (all or none).
func (s *Store) SetSettings(ctx context.Context, kv map[string]string) error {
	err := s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		for k, v := range kv {
			if k == "" {
				return errors.New("empty setting key")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
				k, v, formatTime(now)); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set settings: %w", err)
	}
	return nil
}

// SetSetting sets one setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	return s.SetSettings(ctx, map[string]string{key: value})
}

// DeleteSetting unsets a setting. Returns ErrNotFound when it was not set.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	res, err := s.exec(ctx, `DELETE FROM settings WHERE key = ?`, key)
	if err != nil {
		return fmt.Errorf("delete setting %s: %w", key, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete setting %s: %w", key, ErrNotFound)
	}
	return nil
}

// Settings returns every setting, by key.
func (s *Store) Settings(ctx context.Context) ([]Setting, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value, updated_at FROM settings ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("list settings: %w", err)
	}
	defer rows.Close()
	out := []Setting{}
	for rows.Next() {
		var st Setting
		if err := rows.Scan(&st.Key, &st.Value, scanTime(&st.UpdatedAt)); err != nil {
			return nil, fmt.Errorf("list settings: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list settings: %w", err)
	}
	return out, nil
}

// LinkMethod is how a link was made.
type LinkMethod string

// Link methods.
const (
	LinkManual LinkMethod = "manual" // `customers link` / `products link`
	LinkMatch  LinkMethod = "match"  // `match --apply`
	LinkCreate LinkMethod = "create" // velqbo created the QBO record
)

// LinkKind says which links table: customers or products.
type LinkKind string

// Link kinds.
const (
	CustomerLinks LinkKind = "customer"
	ProductLinks  LinkKind = "product"
)

func (k LinkKind) table() (string, error) {
	switch k {
	case CustomerLinks:
		return "customer_links", nil
	case ProductLinks:
		return "product_links", nil
	}
	return "", fmt.Errorf("unknown link kind %q", k)
}

// Link ties a Velocity customer or product to a QBO customer or item.
type Link struct {
	VelocityID string
	QBOID      string
	QBOName    string
	Method     LinkMethod
	LinkedAt   time.Time
}

// SaveLink links (or re-links) a Velocity customer/product; LinkedAt is set
// to now. Returns an error for an unknown method.
func (s *Store) SaveLink(ctx context.Context, kind LinkKind, l Link) error {
	table, err := kind.table()
	if err != nil {
		return fmt.Errorf("save link: %w", err)
	}
	if l.VelocityID == "" || l.QBOID == "" {
		return fmt.Errorf("save %s link: velocity and QBO ids are required", kind)
	}
	switch l.Method {
	case LinkManual, LinkMatch, LinkCreate:
	default:
		return fmt.Errorf("save %s link %s: unknown method %q", kind, l.VelocityID, l.Method)
	}
	err = s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (velocity_id, qbo_id, qbo_name, method, linked_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (velocity_id) DO UPDATE SET qbo_id = excluded.qbo_id, qbo_name = excluded.qbo_name,
				method = excluded.method, linked_at = excluded.linked_at`,
			l.VelocityID, l.QBOID, l.QBOName, string(l.Method), formatTime(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("save %s link %s: %w", kind, l.VelocityID, err)
	}
	return nil
}

// DeleteLink unlinks a Velocity customer/product. Returns ErrNotFound when
// it was not linked.
func (s *Store) DeleteLink(ctx context.Context, kind LinkKind, velocityID string) error {
	table, err := kind.table()
	if err != nil {
		return fmt.Errorf("delete link: %w", err)
	}
	res, err := s.exec(ctx, `DELETE FROM `+table+` WHERE velocity_id = ?`, velocityID)
	if err != nil {
		return fmt.Errorf("delete %s link %s: %w", kind, velocityID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete %s link %s: %w", kind, velocityID, ErrNotFound)
	}
	return nil
}

const linkCols = `velocity_id, qbo_id, qbo_name, method, linked_at`

func scanLink(r rowScanner) (Link, error) {
	var l Link
	err := r.Scan(&l.VelocityID, &l.QBOID, &l.QBOName, &l.Method, scanTime(&l.LinkedAt))
	return l, err
}

// GetLink returns one link. Returns ErrNotFound when not linked.
func (s *Store) GetLink(ctx context.Context, kind LinkKind, velocityID string) (Link, error) {
	table, err := kind.table()
	if err != nil {
		return Link{}, fmt.Errorf("get link: %w", err)
	}
	l, err := scanLink(s.db.QueryRowContext(ctx, `SELECT `+linkCols+` FROM `+table+` WHERE velocity_id = ?`, velocityID))
	if errors.Is(err, sql.ErrNoRows) {
		return Link{}, fmt.Errorf("get %s link %s: %w", kind, velocityID, ErrNotFound)
	}
	if err != nil {
		return Link{}, fmt.Errorf("get %s link %s: %w", kind, velocityID, err)
	}
	return l, nil
}

// Links returns the links of the given Velocity ids, keyed by Velocity id
// (unlinked ids are absent), looked up a chunk at a time.
func (s *Store) Links(ctx context.Context, kind LinkKind, ids []string) (map[string]Link, error) {
	table, err := kind.table()
	if err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	out := map[string]Link{}
	collect := func(q string, args ...any) error {
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLink(rows)
			if err != nil {
				return err
			}
			out[l.VelocityID] = l
		}
		return rows.Err()
	}
	for start := 0; start < len(ids); start += lookupChunk {
		chunk := ids[start:min(start+lookupChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		q := `SELECT ` + linkCols + ` FROM ` + table + ` WHERE velocity_id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		if err := collect(q, args...); err != nil {
			return nil, fmt.Errorf("%s links: %w", kind, err)
		}
	}
	return out, nil
}

// ListLinks returns every link of a kind, ordered by Velocity id.
func (s *Store) ListLinks(ctx context.Context, kind LinkKind) ([]Link, error) {
	table, err := kind.table()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+linkCols+` FROM `+table+` ORDER BY velocity_id`)
	if err != nil {
		return nil, fmt.Errorf("list %s links: %w", kind, err)
	}
	defer rows.Close()
	out := []Link{}
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s links: %w", kind, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s links: %w", kind, err)
	}
	return out, nil
}

// LinksToQBO returns the links of a kind that point at one QBO record,
// ordered by Velocity id (none: an empty slice).
func (s *Store) LinksToQBO(ctx context.Context, kind LinkKind, qboID string) ([]Link, error) {
	table, err := kind.table()
	if err != nil {
		return nil, fmt.Errorf("links to QBO: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+linkCols+` FROM `+table+` WHERE qbo_id = ? ORDER BY velocity_id`, qboID)
	if err != nil {
		return nil, fmt.Errorf("%s links to QBO %s: %w", kind, qboID, err)
	}
	defer rows.Close()
	out := []Link{}
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("%s links to QBO %s: %w", kind, qboID, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s links to QBO %s: %w", kind, qboID, err)
	}
	return out, nil
}

// MoveLink saves l after deleting the links of the Velocity ids in
// release (the records l takes its QBO record from), and appends audit,
// all in one transaction: a crash leaves either the old links or the new
// one, never both or neither. Errors as SaveLink's.
func (s *Store) MoveLink(ctx context.Context, kind LinkKind, l Link, release []string, audit []AuditEntry) error {
	table, err := kind.table()
	if err != nil {
		return fmt.Errorf("move link: %w", err)
	}
	if l.VelocityID == "" || l.QBOID == "" {
		return fmt.Errorf("move %s link: velocity and QBO ids are required", kind)
	}
	switch l.Method {
	case LinkManual, LinkMatch, LinkCreate:
	default:
		return fmt.Errorf("move %s link %s: unknown method %q", kind, l.VelocityID, l.Method)
	}
	err = s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		for _, id := range release {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE velocity_id = ?`, id); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (velocity_id, qbo_id, qbo_name, method, linked_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (velocity_id) DO UPDATE SET qbo_id = excluded.qbo_id, qbo_name = excluded.qbo_name,
				method = excluded.method, linked_at = excluded.linked_at`,
			l.VelocityID, l.QBOID, l.QBOName, string(l.Method), formatTime(now))
		if err != nil {
			return err
		}
		for _, a := range audit {
			if _, err := appendAudit(ctx, tx, a, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("move %s link %s: %w", kind, l.VelocityID, err)
	}
	return nil
}
