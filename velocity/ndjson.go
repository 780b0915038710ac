package velocity

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime"
	"time"
)

// MaxLineBytes is the longest export line the reader accepts. A longer
// line is reported as invalid and skipped without being held in memory.
const MaxLineBytes = 8 << 20

// readBufferSize is the bufio buffer of the export reader: large enough
// that almost every line is decoded straight from it, without a copy.
const readBufferSize = 1 << 20

// Record is one object read from an NDJSON export line. Exactly one of
// Customer, Product and Order is set, as Kind says.
type Record struct {
	Line     int
	Kind     string
	Customer *Customer
	Product  *Product
	Order    *Order
}

// kind masks select which record types a reader decodes; the others are
// skipped after a cheap look at their "type".
type kindMask uint8

const (
	maskCustomer kindMask = 1 << iota
	maskProduct
	maskOrder
	// maskUntyped reports lines whose type cannot be determined (bad JSON,
	// missing or unknown type, too long).
	maskUntyped
	maskAll = maskCustomer | maskProduct | maskOrder | maskUntyped
)

// FileReader reads an NDJSON export one line at a time, in constant
// memory. Lines may come in any order; blank lines are skipped; a trailing
// '\r' (CRLF files) and a leading UTF-8 byte order mark are ignored.
type FileReader struct {
	br   *bufio.Reader
	line int
	buf  []byte // holds a line that spans more than one bufio buffer
	mask kindMask
}

// NewFileReader returns a reader of the NDJSON export in r.
func NewFileReader(r io.Reader) *FileReader {
	return newFileReader(r, maskAll)
}

func newFileReader(r io.Reader, mask kindMask) *FileReader {
	return &FileReader{br: bufio.NewReaderSize(r, readBufferSize), mask: mask}
}

// Next returns the next record. At the end of the input it returns io.EOF.
// A malformed line (bad JSON, missing or unknown type, longer than
// MaxLineBytes, an invalid object) yields an *ObjectError carrying the
// line number, and the next call goes on with the following line. Any
// other error is a read error from the underlying reader and is final.
func (fr *FileReader) Next() (Record, error) {
	for {
		line, tooLong, err := fr.readLine()
		if err != nil {
			return Record{}, err
		}
		if tooLong {
			if fr.mask&maskUntyped == 0 {
				continue
			}
			return Record{}, tooLongError(fr.line)
		}
		if fr.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		rec, err, ok := fr.decode(line)
		if !ok {
			continue
		}
		return rec, err
	}
}

// All returns an iterator over the remaining records, as Next; it stops
// after a read error.
func (fr *FileReader) All() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for {
			rec, err := fr.Next()
			if err == io.EOF {
				return
			}
			if !yield(rec, err) || (err != nil && !IsObjectError(err)) {
				return
			}
		}
	}
}

// readLine returns the next line without its '\n'. The slice is valid until
// the next call. A line longer than MaxLineBytes is consumed to its end and
// reported with tooLong, never buffered whole.
func (fr *FileReader) readLine() (line []byte, tooLong bool, err error) {
	fr.buf = fr.buf[:0]
	n := 0
	for {
		chunk, err := fr.br.ReadSlice('\n')
		if len(chunk) == 0 && err == io.EOF && n == 0 {
			return nil, false, io.EOF
		}
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			return nil, false, fmt.Errorf("read export line %d: %w", fr.line+1, err)
		}
		n += len(chunk)
		if n > MaxLineBytes+1 {
			tooLong = true
			fr.buf = fr.buf[:0]
		} else if err == bufio.ErrBufferFull || len(fr.buf) > 0 {
			fr.buf = append(fr.buf, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		fr.line++
		if tooLong {
			return nil, true, nil
		}
		if len(fr.buf) > 0 {
			chunk = fr.buf
		}
		chunk = bytes.TrimSuffix(chunk, []byte{'\n'})
		if len(chunk) > MaxLineBytes {
			return nil, true, nil
		}
		return chunk, false, nil
	}
}

var typePrefix = []byte(`{"type":"`)

// lineType finds the record type. Exports written by Velocity (and by
// velocitytest) start with "type", so the common case needs no extra JSON
// pass; anything else is decoded generically once.
func lineType(line []byte) (string, error) {
	if bytes.HasPrefix(line, typePrefix) {
		rest := line[len(typePrefix):]
		if end := bytes.IndexByte(rest, '"'); end >= 0 && bytes.IndexByte(rest[:end], '\\') < 0 {
			switch t := rest[:end]; string(t) {
			case KindOrder:
				return KindOrder, nil
			case KindCustomer:
				return KindCustomer, nil
			case KindProduct:
				return KindProduct, nil
			}
		}
	}
	var probe struct {
		Type *string `json:"type"`
		ID   any     `json:"id"`
	}
	if err := json.Unmarshal(line, &probe); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return "", fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "type" {
			return "", fmt.Errorf("type: got JSON %s; want string", te.Value)
		}
		return "", fmt.Errorf("not a JSON object: %v", err)
	}
	if probe.Type == nil {
		return "", errors.New("missing type")
	}
	switch *probe.Type {
	case KindOrder, KindCustomer, KindProduct:
		return *probe.Type, nil
	}
	return "", fmt.Errorf("unknown type %q; want customer, product or order", *probe.Type)
}

// decode turns one non-blank line into a record. ok is false when the
// line's kind is masked out.
func (fr *FileReader) decode(line []byte) (rec Record, err error, ok bool) {
	return decodeLine(line, fr.line, fr.mask)
}

func decodeLine(line []byte, lineNo int, mask kindMask) (rec Record, err error, ok bool) {
	kind, terr := lineType(line)
	if terr != nil {
		if mask&maskUntyped == 0 {
			return Record{}, nil, false
		}
		return Record{}, &ObjectError{Line: lineNo, Reason: terr.Error()}, true
	}
	rec = Record{Line: lineNo, Kind: kind}
	switch kind {
	case KindOrder:
		if mask&maskOrder == 0 {
			return Record{}, nil, false
		}
		rec.Order, err = decodeOrder(line, lineNo)
	case KindCustomer:
		if mask&maskCustomer == 0 {
			return Record{}, nil, false
		}
		rec.Customer, err = decodeCustomer(line, lineNo)
	case KindProduct:
		if mask&maskProduct == 0 {
			return Record{}, nil, false
		}
		rec.Product, err = decodeProduct(line, lineNo)
	}
	if err != nil {
		return Record{}, err, true
	}
	return rec, nil, true
}

// FileSource reads objects from an NDJSON export with the same streaming
// shape as Client, so that a catch-up run from a dump and a normal run
// over HTTP are one code path. Each pass (Orders, Customers, Products)
// re-opens the export and scans it whole, in constant memory.
//
// Lines whose type cannot be told (bad JSON, missing or unknown type, too
// long) are reported by the Orders pass only, so that a run making all
// three passes reports each of them once.
type FileSource struct {
	open func() (io.ReadCloser, error)
}

// NewFileSource returns a source that calls open at the start of each pass.
func NewFileSource(open func() (io.ReadCloser, error)) *FileSource {
	return &FileSource{open: open}
}

// OpenFileSource returns a source reading the export file at path. The
// file is opened at each pass, so a missing file is reported then.
func OpenFileSource(path string) *FileSource {
	return NewFileSource(func() (io.ReadCloser, error) { return os.Open(path) })
}

// Orders yields the export's orders with updated_at ≥ since (all of them
// when since is zero), and an *ObjectError for each invalid order line and
// each line whose type cannot be told. An invalid order is reported
// whatever since is, because its updated_at cannot be trusted. Any other
// error (open, read, ctx) ends the iteration.
func (s *FileSource) Orders(ctx context.Context, since time.Time) iter.Seq2[*Order, error] {
	return filePass(ctx, s, maskOrder|maskUntyped, func(r Record) (*Order, time.Time) { return r.Order, r.Order.UpdatedAt }, since, nil)
}

// LineDigest is an export line of an order seen before it is decoded: the
// order's id, read from the start of the line, and the SHA-256 of the line
// (without its end of line, the white space around it and a leading byte
// order mark).
type LineDigest struct {
	ID     string
	SHA256 [32]byte
}

// OrdersExcept is Orders, except that the lines of each batch of order
// lines are first shown to skip, concurrently from the decoding
// goroutines: skip sets out[i] for each line it needs no order of, and
// those are neither decoded nor yielded, whatever since is. Only lines that
// start {"type":"order","id":"…" (as Velocity's exporter writes them) with
// an id free of escapes are shown; the others are decoded and yielded as by
// Orders. Each order decoded from a shown line carries its LineSHA256.
func (s *FileSource) OrdersExcept(ctx context.Context, since time.Time, skip func(lines []LineDigest, out []bool)) iter.Seq2[*Order, error] {
	return filePass(ctx, s, maskOrder|maskUntyped, func(r Record) (*Order, time.Time) { return r.Order, r.Order.UpdatedAt }, since, skip)
}

// Customers yields the export's customers with updated_at ≥ since (all of
// them when since is zero), and an *ObjectError for each invalid customer
// line. Any other error ends the iteration.
func (s *FileSource) Customers(ctx context.Context, since time.Time) iter.Seq2[*Customer, error] {
	return filePass(ctx, s, maskCustomer, func(r Record) (*Customer, time.Time) { return r.Customer, r.Customer.UpdatedAt }, since, nil)
}

// Products yields the export's products with updated_at ≥ since (all of
// them when since is zero; a product without updated_at is always
// yielded), and an *ObjectError for each invalid product line. Any other
// error ends the iteration.
func (s *FileSource) Products(ctx context.Context, since time.Time) iter.Seq2[*Product, error] {
	return filePass(ctx, s, maskProduct, func(r Record) (*Product, time.Time) { return r.Product, r.Product.UpdatedAt }, since, nil)
}

// Records yields every record of the export in file order, with
// *ObjectErrors for malformed lines. Any other error ends the iteration.
func (s *FileSource) Records(ctx context.Context) iter.Seq2[Record, error] {
	return filePass(ctx, s, maskAll, func(r Record) (Record, time.Time) { return r, time.Time{} }, time.Time{}, nil)
}

func filePass[T any](ctx context.Context, s *FileSource, mask kindMask, pick func(Record) (T, time.Time), since time.Time,
	skip func([]LineDigest, []bool)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rc, err := s.open()
		if err != nil {
			yield(zero, fmt.Errorf("open velocity export: %w", err))
			return
		}
		defer rc.Close()
		for rec, err := range parallelRecordsExcept(ctx, rc, mask, runtime.GOMAXPROCS(0), skip) {
			if err != nil {
				if !yield(zero, err) || !IsObjectError(err) {
					return
				}
				continue
			}
			v, updated := pick(rec)
			if !since.IsZero() && !updated.IsZero() && updated.Before(since) {
				continue
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

func tooLongError(line int) error {
	return &ObjectError{Line: line, Reason: fmt.Sprintf("line longer than %d bytes; skipped", MaxLineBytes)}
}
