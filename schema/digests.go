package schema

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// OrderDigest says that a scan found every document of an order already
// in QBO as desired, for the export line and mapping inputs Digest stands
// for (reconcile computes it and encodes Deps). The ledger keeps it only
// while the order's rows and the links of its deps stay as that scan read
// them (see migration 0008).
type OrderDigest struct {
	OrderID     string
	OrderNumber string
	Digest      []byte
	// Epoch is the scan epoch at which the recording scan began (set by
	// RecordOrderDigests).
	Epoch int64
	// Docs is how many documents the scan counted unchanged for the order.
	Docs      int
	UpdatedAt time.Time
	// Deps names the customer and products whose links the mapping read,
	// in reconcile's encoding.
	Deps []byte
}

// ScanEpoch returns the ledger's write epoch: it advances with every write
// to a ledger row or a link. A scan reads it before it reads the ledger and
// hands it to RecordOrderDigests.
func (s *Store) ScanEpoch(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT n FROM scan_epoch WHERE id = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("scan epoch: %w", err)
	}
	return n, nil
}

// LinkChanges returns, per link kind and Velocity id, the epoch of the
// last write to that link (made, changed or removed). Links never written
// since migration 0008 are absent.
func (s *Store) LinkChanges(ctx context.Context) (map[LinkKind]map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT link_kind, velocity_id, epoch FROM link_changes`)
	if err != nil {
		return nil, fmt.Errorf("link changes: %w", err)
	}
	defer rows.Close()
	out := map[LinkKind]map[string]int64{}
	for rows.Next() {
		var k LinkKind
		var id string
		var n int64
		if err := rows.Scan(&k, &id, &n); err != nil {
			return nil, fmt.Errorf("link changes: %w", err)
		}
		if out[k] == nil {
			out[k] = map[string]int64{}
		}
		out[k][id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("link changes: %w", err)
	}
	return out, nil
}

const orderDigestsSQL = `SELECT order_id, order_number, digest, epoch, docs, updated_at, deps FROM order_digests
	WHERE order_id IN (SELECT value FROM json_each(?))`

// OrderDigests returns the recorded digests of the given orders, keyed by
// order id; orders without one are absent. It returns the query's error.
func (s *Store) OrderDigests(ctx context.Context, ids []string) (map[string]OrderDigest, error) {
	out := make(map[string]OrderDigest, len(ids))
	for start := 0; start < len(ids); start += lookupChunk {
		chunk := ids[start:min(start+lookupChunk, len(ids))]
		arr, err := json.Marshal(chunk)
		if err != nil {
			return nil, fmt.Errorf("order digests: %w", err)
		}
		if err := s.queryDigests(ctx, string(arr), out); err != nil {
			return nil, fmt.Errorf("order digests: %w", err)
		}
	}
	return out, nil
}

func (s *Store) queryDigests(ctx context.Context, arr string, out map[string]OrderDigest) error {
	rows, err := s.db.QueryContext(ctx, orderDigestsSQL, arr)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d OrderDigest
		if err := rows.Scan(&d.OrderID, &d.OrderNumber, &d.Digest, &d.Epoch, &d.Docs, scanTime(&d.UpdatedAt), &d.Deps); err != nil {
			return err
		}
		out[d.OrderID] = d
	}
	return rows.Err()
}

// RecordOrderDigests stores ds (replacing any digest of the same orders)
// with epoch, in one transaction, if the scan epoch is still epoch: when a
// ledger row or link was written since the scan began, what the scan read
// may be stale, so nothing is stored and it returns false. It returns the
// database's error.
func (s *Store) RecordOrderDigests(ctx context.Context, epoch int64, ds []OrderDigest) (bool, error) {
	recorded := false
	err := s.withTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		var now int64
		if err := tx.QueryRowContext(ctx, `SELECT n FROM scan_epoch WHERE id = 1`).Scan(&now); err != nil {
			return err
		}
		if now != epoch {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO order_digests
			(order_id, order_number, digest, epoch, docs, updated_at, deps) VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range ds {
			if d.Deps == nil {
				d.Deps = []byte{}
			}
			if _, err := stmt.ExecContext(ctx, d.OrderID, d.OrderNumber, d.Digest, epoch, d.Docs,
				formatTime(d.UpdatedAt), d.Deps); err != nil {
				return fmt.Errorf("order %s: %w", d.OrderID, err)
			}
		}
		recorded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record order digests: %w", err)
	}
	return recorded, nil
}
