package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
)

// write is one write request a qbotest server answered (not a 429): when
// it arrived, how many changes it carried and whether it was a batch.
type write struct {
	at      time.Time
	changes int
	batch   bool
}

// writeLog is the company API traffic of a run, read off the server's log.
type writeLog struct {
	requests int // company API requests, 429s and reads included
	batches  int // batch requests answered
	singles  int // single creates, updates and voids answered
	writes   []write
}

// readWriteLog reads calls. A batch counts its write items (a create,
// update or void each), not the queries it may also carry.
func readWriteLog(calls []qbotest.Call) writeLog {
	var l writeLog
	for _, c := range calls {
		if !strings.HasPrefix(c.Path, "/v3/company/") {
			continue
		}
		l.requests++
		if c.Status == 429 {
			continue
		}
		switch c.Operation {
		case "batch":
			var body struct {
				BatchItemRequest []map[string]json.RawMessage
			}
			_ = json.Unmarshal(c.Body, &body)
			n := 0
			for _, it := range body.BatchItemRequest {
				if _, q := it["Query"]; !q {
					n++
				}
			}
			l.batches++
			l.writes = append(l.writes, write{c.Time, n, true})
		case "create", "update", "void":
			l.singles++
			l.writes = append(l.writes, write{c.Time, 1, false})
		}
	}
	sort.Slice(l.writes, func(i, j int) bool { return l.writes[i].at.Before(l.writes[j].at) })
	return l
}

// rateResult is the write rate in whole QBO minutes.
type rateResult struct {
	minutes   int     // whole QBO minutes from the first write
	inMinutes int     // changes sent within them
	perMin    float64 // inMinutes / minutes
	spanMin   float64 // first to last write, QBO minutes
}

// rate counts the changes of the writes that arrived within the first k
// whole QBO minutes of the first one, divided by k. That is what QBO's
// limits speak of (so many requests in any minute); dividing by the
// first-to-last span instead would credit the first minute's burst to a
// shorter span. It fails when the writes span less than one whole minute.
func (l writeLog) rate() (rateResult, error) {
	var r rateResult
	if len(l.writes) == 0 {
		return r, fmt.Errorf("the run sent nothing")
	}
	first, last := l.writes[0].at, l.writes[len(l.writes)-1].at
	r.spanMin = last.Sub(first).Minutes()
	r.minutes = int(r.spanMin)
	if r.minutes < 1 {
		return r, fmt.Errorf("the writes took %.2f QBO minutes; measuring a rate needs at least one whole minute (use more documents)", r.spanMin)
	}
	cut := first.Add(time.Duration(r.minutes) * time.Minute)
	for _, w := range l.writes {
		if w.at.Before(cut) {
			r.inMinutes += w.changes
		}
	}
	r.perMin = float64(r.inMinutes) / float64(r.minutes)
	return r, nil
}

// debug prints, per 10 QBO seconds, the batch requests, the changes in
// them and the single writes (VELQBO_BENCH_DEBUG).
func (l writeLog) debug(w io.Writer) {
	if len(l.writes) == 0 {
		return
	}
	type bucket struct{ batches, batchChanges, singles int }
	var bs []bucket
	first := l.writes[0].at
	for _, wr := range l.writes {
		i := int(wr.at.Sub(first) / (10 * time.Second))
		for len(bs) <= i {
			bs = append(bs, bucket{})
		}
		if wr.batch {
			bs[i].batches++
			bs[i].batchChanges += wr.changes
		} else {
			bs[i].singles++
		}
	}
	for i, b := range bs {
		fmt.Fprintf(w, "+%3ds batches %2d (%4d changes) singles %3d\n", i*10, b.batches, b.batchChanges, b.singles)
	}
}
