package schema

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OrderDigest says that a scan found every document of an order already
// in QBO as desired, for the export line and mapping inputs Digest stands
// for (reconcile computes it and encodes Deps). The ledger keeps it only
// while the order's rows and the links of its deps stay as that scan read
// them (see migrations 0008 and 0009).
type OrderDigest struct {
	OrderID string
	Digest  []byte
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

// rec packs what order_digests.rec holds: the digest's length and bytes,
// docs, updated_at (Unix nanoseconds, 0 when not set), then deps.
func (d OrderDigest) rec() []byte {
	b := binary.AppendUvarint(nil, uint64(len(d.Digest)))
	b = append(b, d.Digest...)
	b = binary.AppendUvarint(b, uint64(d.Docs))
	var ns int64
	if !d.UpdatedAt.IsZero() {
		ns = d.UpdatedAt.UnixNano()
	}
	b = binary.AppendVarint(b, ns)
	return append(b, d.Deps...)
}

var errBadRec = errors.New("malformed order digest")

func (d *OrderDigest) setRec(b []byte) error {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return errBadRec
	}
	d.Digest, b = b[w:w+int(n)], b[w+int(n):]
	docs, w := binary.Uvarint(b)
	if w <= 0 {
		return errBadRec
	}
	d.Docs, b = int(docs), b[w:]
	ns, w := binary.Varint(b)
	if w <= 0 {
		return errBadRec
	}
	if ns != 0 {
		d.UpdatedAt = time.Unix(0, ns).UTC()
	}
	d.Deps = b[w:]
	return nil
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

// HasOrderDigests reports whether any order digest is recorded.
func (s *Store) HasOrderDigests(ctx context.Context) (bool, error) {
	var ok bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM order_digests)`).Scan(&ok); err != nil {
		return false, fmt.Errorf("order digests: %w", err)
	}
	return ok, nil
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

const orderDigestsSQL = `SELECT order_id, epoch, rec FROM order_digests
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
	rows, err := s.digestsStmt.QueryContext(ctx, arr)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d OrderDigest
		var rec []byte
		if err := rows.Scan(&d.OrderID, &d.Epoch, &rec); err != nil {
			return err
		}
		if d.setRec(rec) != nil {
			continue // not trusted: the order is decoded
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
		// One statement per call, each row one JSON string "<hex rec>:<id>"
		// (hex holds no colon): binding parameters per row through the
		// driver, or reading JSON objects, cost more than the inserts.
		vals := make([]string, len(ds))
		var sb strings.Builder
		for i, d := range ds {
			sb.Reset()
			sb.WriteString(hex.EncodeToString(d.rec()))
			sb.WriteByte(':')
			sb.WriteString(d.OrderID)
			vals[i] = sb.String()
		}
		arr, err := json.Marshal(vals)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO order_digests (order_id, epoch, rec)
			SELECT substr(value, instr(value, ':') + 1), ?, unhex(substr(value, 1, instr(value, ':') - 1))
			FROM json_each(?)`, epoch, string(arr)); err != nil {
			return err
		}
		recorded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record order digests: %w", err)
	}
	return recorded, nil
}
