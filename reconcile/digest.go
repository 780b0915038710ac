package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"iter"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// A no-change run over a large export spends most of its time decoding,
// mapping and fingerprinting orders only to find them as the ledger has
// them. An order digest lets a scan recognise such an order from its raw
// export line: a run that finds every document of an order already in QBO
// as desired records a digest of the order's line and of every other input
// of its mapping, and a later scan that finds the same digest (and neither
// the order's ledger rows nor the links its mapping read were written
// since: the triggers of migrations 0008 and 0009) counts the order's documents unchanged
// without decoding the line.
//
// The digest covers, besides the line's every byte: the order id, the
// settings, the company's currency facts, the time zone and the program
// itself (its executable's SHA-256: a new release may map differently).
// The links the mapping reads (the order's customer and products) are its
// deps, checked against the epoch of their last change.

// digestStore is the part of *schema.Store the digests need. A Store
// without it (a test's wrapper) scans without them.
type digestStore interface {
	ScanEpoch(ctx context.Context) (int64, error)
	HasOrderDigests(ctx context.Context) (bool, error)
	LinkChanges(ctx context.Context) (map[schema.LinkKind]map[string]int64, error)
	OrderDigests(ctx context.Context, ids []string) (map[string]schema.OrderDigest, error)
	RecordOrderDigests(ctx context.Context, epoch int64, ds []schema.OrderDigest) (bool, error)
}

// exceptSource is a Source that can leave out the order lines a scan
// recognises before decoding them (velocity.FileSource).
type exceptSource interface {
	OrdersExcept(ctx context.Context, since time.Time, skip func([]velocity.LineDigest, []bool)) iter.Seq2[*velocity.Order, error]
}

// digestFlush is how many digests are written per transaction: one fsync
// each (synchronous=FULL), so a first run over a million orders pays ~100
// of them, and memory holds a few MiB of digests at most.
const digestFlush = 10000

// programDigest is the SHA-256 of the running program. On Linux it reads
// /proc/self/exe, the image this process runs even after an upgrade
// replaced the file on disk (the new file's digests must not be trusted by
// the old code, nor the reverse).
var programDigest = sync.OnceValues(func() ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		exe, eerr := os.Executable()
		if eerr != nil {
			return sum, eerr
		}
		if f, err = os.Open(exe); err != nil {
			return sum, err
		}
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	h.Sum(sum[:0])
	return sum, nil
})

// digester is one scan's use of order digests.
type digester struct {
	st     digestStore
	key    [32]byte // the mapping inputs other than the order and its links
	epoch  int64    // the scan epoch when the scan began
	links  map[schema.LinkKind]map[string]int64
	since  time.Time
	record bool
	// none: no digest is recorded (a first run): lines are hashed for
	// recording, not looked up.
	none bool

	mu         sync.Mutex // guards what follows
	read       int        // orders recognised (and within the window)
	unchanged  int        // their documents
	maxUpdated time.Time
	pending    []schema.OrderDigest
}

// newDigester returns the scan's digester, or nil when the scan cannot use
// digests: the source cannot skip lines, the store keeps no digests, the
// mapping is not MapOrder, or the program cannot be read.
func (r *Reconciler) newDigester(ctx context.Context, pc *planCtx) *digester {
	st, ok := r.Store.(digestStore)
	if !ok || r.Map != nil || pc.env.CustomerCurrency != nil || pc.settings == nil {
		return nil
	}
	if _, ok := r.Source.(exceptSource); !ok {
		return nil
	}
	prog, err := programDigest()
	if err != nil {
		r.log().WithError(err).Warn("order digests off: cannot read the program")
		return nil
	}
	// The epoch is read before anything else of the ledger: a write after
	// it makes RecordOrderDigests refuse this scan's digests.
	epoch, err := st.ScanEpoch(ctx)
	if err != nil {
		r.log().WithError(err).Warn("order digests off")
		return nil
	}
	links, err := st.LinkChanges(ctx)
	if err != nil {
		r.log().WithError(err).Warn("order digests off")
		return nil
	}
	some, err := st.HasOrderDigests(ctx)
	if err != nil {
		r.log().WithError(err).Warn("order digests off")
		return nil
	}
	h := sha256.New()
	field := func(s string) {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	field("velqbo order digest 1")
	h.Write(prog[:])
	loc := pc.env.Location
	if loc == nil {
		loc = time.UTC
	}
	field(loc.String())
	field(pc.env.HomeCurrency)
	if pc.env.MultiCurrency {
		field("multicurrency")
	} else {
		field("")
	}
	for _, k := range slices.Sorted(mapKeys(pc.settings)) {
		field(k)
		field(pc.settings[k])
	}
	d := &digester{st: st, epoch: epoch, links: links, since: pc.since, record: pc.record, none: !some}
	h.Sum(d.key[:0])
	return d
}

func mapKeys(m map[string]string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// digest is an order's digest: the mapping inputs, the id and the line.
func (d *digester) digest(id string, line [32]byte) []byte {
	h := sha256.New()
	h.Write(d.key[:])
	h.Write(binary.AppendUvarint(nil, uint64(len(id))))
	h.Write([]byte(id))
	h.Write(line[:])
	return h.Sum(nil)
}

// skip is the source's skip function: a line is skipped when its digest is
// recorded and no link among its deps changed since. A ledger error skips
// nothing (the lines are decoded and the scan meets the error itself).
func (d *digester) skip(ctx context.Context) func([]velocity.LineDigest, []bool) {
	return func(lines []velocity.LineDigest, out []bool) {
		if d.none {
			return
		}
		ids := make([]string, len(lines))
		for i, l := range lines {
			ids[i] = l.ID
		}
		rows, err := d.st.OrderDigests(ctx, ids)
		if err != nil || len(rows) == 0 {
			return
		}
		var read, unchanged int
		var maxUpdated time.Time
		for i, l := range lines {
			row, ok := rows[l.ID]
			if !ok || string(row.Digest) != string(d.digest(l.ID, l.SHA256)) || !d.depsUnchanged(row) {
				continue
			}
			out[i] = true
			// The same window as FileSource.Orders: an order older than
			// since is left out, one without updated_at is not.
			if !d.since.IsZero() && !row.UpdatedAt.IsZero() && row.UpdatedAt.Before(d.since) {
				continue
			}
			read++
			unchanged += row.Docs
			if row.UpdatedAt.After(maxUpdated) {
				maxUpdated = row.UpdatedAt
			}
		}
		d.mu.Lock()
		d.read += read
		d.unchanged += unchanged
		if maxUpdated.After(d.maxUpdated) {
			d.maxUpdated = maxUpdated
		}
		d.mu.Unlock()
	}
}

// depsUnchanged reports whether no link the order's mapping read was
// written since its digest was recorded.
func (d *digester) depsUnchanged(row schema.OrderDigest) bool {
	if len(d.links) == 0 {
		return true
	}
	ok := true
	i := 0
	eachDep(row.Deps, func(id string) {
		kind := schema.ProductLinks
		if i == 0 {
			kind = schema.CustomerLinks
		}
		i++
		if n, changed := d.links[kind][id]; changed && n > row.Epoch {
			ok = false
		}
	})
	return ok && i > 0
}

// deps encodes the ids whose links the mapping of o reads: its customer,
// then the products of its lines, each as a uvarint length and the bytes.
func deps(o *velocity.Order) []byte {
	b := binary.AppendUvarint(nil, uint64(len(o.CustomerID)))
	b = append(b, o.CustomerID...)
	for _, l := range o.Lines {
		b = binary.AppendUvarint(b, uint64(len(l.ProductID)))
		b = append(b, l.ProductID...)
	}
	return b
}

// eachDep calls fn with each id deps encoded; it stops at malformed bytes.
func eachDep(b []byte, fn func(string)) {
	for len(b) > 0 {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return
		}
		fn(string(b[w : w+int(n)]))
		b = b[w+int(n):]
	}
}

// add queues o's digest (its documents, docs of them, found as desired)
// and writes the queue when it is full.
func (d *digester) add(ctx context.Context, r *Reconciler, o *velocity.Order, docs int) {
	d.mu.Lock()
	record := d.record
	d.mu.Unlock()
	if !record {
		return
	}
	od := schema.OrderDigest{OrderID: o.ID, Digest: d.digest(o.ID, o.LineSHA256),
		Docs: docs, UpdatedAt: o.UpdatedAt, Deps: deps(o)}
	d.mu.Lock()
	if !d.record {
		d.mu.Unlock()
		return
	}
	d.pending = append(d.pending, od)
	var full []schema.OrderDigest
	if len(d.pending) >= digestFlush {
		full, d.pending = d.pending, nil
	}
	d.mu.Unlock()
	if full != nil {
		d.write(ctx, r, full)
	}
}

// flush writes what is queued.
func (d *digester) flush(ctx context.Context, r *Reconciler) {
	d.mu.Lock()
	full := d.pending
	d.pending = nil
	d.mu.Unlock()
	if len(full) > 0 {
		d.write(ctx, r, full)
	}
}

// write records ds. Digests only save a later scan work, so a failure is
// logged and ends the recording, and so does a ledger write since the scan
// began (the scan may have read rows or links that are now different).
func (d *digester) write(ctx context.Context, r *Reconciler, ds []schema.OrderDigest) {
	ok, err := d.st.RecordOrderDigests(ctx, d.epoch, ds)
	if err != nil {
		r.log().WithError(err).Warn("record order digests")
	}
	if err != nil || !ok {
		d.mu.Lock()
		d.record, d.pending = false, nil
		d.mu.Unlock()
	}
}
