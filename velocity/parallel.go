package velocity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"iter"
	"sync"
)

// Decoding JSON is the cost of reading an export (the reading itself is
// cheap), so a pass decodes lines on every core while one goroutine reads
// them. Lines travel in batches, and batches are handed back in file order,
// so the result is exactly what FileReader.Next would give, with memory
// bounded by the batches in flight.

const (
	batchLines = 256
	batchBytes = 1 << 20
)

type lineItem struct {
	no      int
	off     int // into batch.buf; -1 when the line was too long
	end     int
	tooLong bool
}

type batch struct {
	items []lineItem
	buf   []byte
	out   []batchResult
	err   error // a read error after the items: final
	done  chan struct{}

	// With a skip function (OrdersExcept): the order lines shown to it,
	// the index in items of each, and its answers.
	lines []LineDigest
	at    []int
	skip  []bool
}

type batchResult struct {
	rec Record
	err error
}

var batchPool = sync.Pool{New: func() any {
	return &batch{items: make([]lineItem, 0, batchLines), buf: make([]byte, 0, batchBytes+64<<10), out: make([]batchResult, 0, batchLines)}
}}

// parallelRecords yields the records of r as FileReader.Next would
// (masked), decoding on workers goroutines. Stopping early, or ctx being
// done, stops and joins every goroutine before it returns.
func parallelRecords(ctx context.Context, r io.Reader, mask kindMask, workers int) iter.Seq2[Record, error] {
	return parallelRecordsExcept(ctx, r, mask, workers, nil)
}

// parallelRecordsExcept is parallelRecords, showing each batch's order
// lines to skip, when not nil, before they are decoded (see
// FileSource.OrdersExcept).
func parallelRecordsExcept(ctx context.Context, r io.Reader, mask kindMask, workers int, skip func([]LineDigest, []bool)) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		if workers < 1 {
			workers = 1
		}
		parent := ctx
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		jobs := make(chan *batch, workers)
		ordered := make(chan *batch, 2*workers)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range jobs {
					b.decode(mask, skip)
					close(b.done)
				}
			}()
		}
		go func() {
			defer close(jobs)
			defer close(ordered)
			fr := newFileReader(r, mask)
			for {
				b := batchPool.Get().(*batch)
				b.items, b.buf, b.out, b.err = b.items[:0], b.buf[:0], b.out[:0], nil
				b.done = make(chan struct{})
				for len(b.items) < batchLines && len(b.buf) < batchBytes {
					line, tooLong, err := fr.readLine()
					if err != nil {
						if err != io.EOF {
							b.err = err
						}
						break
					}
					if tooLong {
						b.items = append(b.items, lineItem{no: fr.line, tooLong: true})
						continue
					}
					if fr.line == 1 {
						line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
					}
					line = bytes.TrimSpace(line)
					if len(line) == 0 {
						continue
					}
					off := len(b.buf)
					b.buf = append(b.buf, line...)
					b.items = append(b.items, lineItem{no: fr.line, off: off, end: len(b.buf)})
				}
				last := b.err != nil || (len(b.items) < batchLines && len(b.buf) < batchBytes)
				select {
				case ordered <- b:
				case <-ctx.Done():
					return
				}
				select {
				case jobs <- b:
				case <-ctx.Done():
					close(b.done)
					return
				}
				if last {
					return
				}
			}
		}()
		defer func() {
			cancel()
			for b := range ordered {
				<-b.done
			}
			wg.Wait()
		}()
		for b := range ordered {
			select {
			case <-b.done:
			case <-ctx.Done():
				yield(Record{}, ctx.Err())
				return
			}
			if err := ctx.Err(); err != nil {
				yield(Record{}, err)
				return
			}
			for _, res := range b.out {
				if !yield(res.rec, res.err) {
					return
				}
			}
			if b.err != nil {
				yield(Record{}, b.err)
				return
			}
			batchPool.Put(b)
		}
		// The reader stops quietly when ctx is done; say why the records
		// ended.
		if err := parent.Err(); err != nil {
			yield(Record{}, err)
		}
	}
}

func (b *batch) decode(mask kindMask, skip func([]LineDigest, []bool)) {
	b.lines, b.at, b.skip = b.lines[:0], b.at[:0], b.skip[:0] // a pooled batch holds the last pass's
	if skip != nil {
		b.showLines(skip)
	}
	k := 0 // the next of b.at
	for i, it := range b.items {
		shown := k < len(b.at) && b.at[k] == i
		if shown {
			k++
			if b.skip[k-1] {
				continue
			}
		}
		if it.tooLong {
			if mask&maskUntyped != 0 {
				b.out = append(b.out, batchResult{err: tooLongError(it.no)})
			}
			continue
		}
		rec, err, ok := decodeLine(b.buf[it.off:it.end], it.no, mask)
		if ok {
			if shown && rec.Order != nil {
				rec.Order.LineSHA256 = b.lines[k-1].SHA256
			}
			b.out = append(b.out, batchResult{rec, err})
		}
	}
}

// showLines hashes the batch's order lines whose id can be read without
// decoding and asks skip about them.
func (b *batch) showLines(skip func([]LineDigest, []bool)) {
	for i, it := range b.items {
		if it.tooLong {
			continue
		}
		line := b.buf[it.off:it.end]
		id, ok := orderLineID(line)
		if !ok {
			continue
		}
		b.lines = append(b.lines, LineDigest{ID: id, SHA256: sha256.Sum256(line)})
		b.at = append(b.at, i)
		b.skip = append(b.skip, false)
	}
	if len(b.lines) > 0 {
		skip(b.lines, b.skip)
	}
}

var orderPrefix = []byte(`{"type":"order","id":"`)

// orderLineID reads the id of an order line written the way Velocity's
// exporter writes it: starting {"type":"order","id":"…", the id without
// escapes. Any other line is not shown to skip (ok false), and is decoded.
func orderLineID(line []byte) (id string, ok bool) {
	if !bytes.HasPrefix(line, orderPrefix) {
		return "", false
	}
	rest := line[len(orderPrefix):]
	end := bytes.IndexByte(rest, '"')
	if end <= 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return "", false
	}
	return string(rest[:end]), true
}
