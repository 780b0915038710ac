package qbotest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestServer_CommitLate: a write with CommitLate commits at the end of its
// latency on the server's (fake) clock, whether its client waited or gave
// up; nothing moves before the clock does.
func TestServer_CommitLate(t *testing.T) {
	t.Parallel()
	isCreate := func(c *Call) bool { return c.Entity == "SalesReceipt" && c.Operation == "create" }
	t.Run("ClientGaveUp", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		arrived := make(chan struct{}, 1)
		e.s.Inject(Injection{Times: 1, Latency: 5 * time.Second, CommitLate: true, Match: func(c *Call) bool {
			if !isCreate(c) {
				return false
			}
			arrived <- struct{}{}
			return true
		}})
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.s.CompanyURL()+"/salesreceipt?requestid=late-1",
			strings.NewReader(mustJSON(t, e.receipt("LATE-1"))))
		req.Header.Set("Authorization", "Bearer "+e.tok)
		req.Header.Set("Content-Type", "application/json")
		errc := make(chan error, 1)
		go func() {
			resp, err := e.s.Client().Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		<-arrived
		cancel() // the client dies with its write in flight
		if err := <-errc; err == nil {
			t.Fatal("cancelled client: got an answer; want an error")
		}
		waitFor(t, func() bool { return e.s.LateWrites() == 1 })

		// A lookup before the due time sees nothing.
		e.clock.Advance(4 * time.Second)
		if got := e.query("select * from SalesReceipt where DocNumber = 'LATE-1'").ok(t, "QueryResponse")["SalesReceipt"]; got != nil {
			t.Fatalf("lookup 4s after arrival: got %v; want nothing yet", got)
		}
		if n := len(e.s.Entities("SalesReceipt")); n != 0 {
			t.Fatalf("receipts 4s after arrival: got %d; want 0", n)
		}
		// Then it lands, and the next request sees it.
		e.clock.Advance(time.Second)
		rs := e.query("select * from SalesReceipt where DocNumber = 'LATE-1'").ok(t, "QueryResponse")["SalesReceipt"]
		if l, _ := rs.([]any); len(l) != 1 {
			t.Fatalf("lookup 5s after arrival: got %v; want the receipt", rs)
		}
		if e.s.LateWrites() != 0 {
			t.Errorf("late writes after landing: got %d; want 0", e.s.LateWrites())
		}
		var late Call
		for _, c := range e.s.Requests() {
			if c.RequestID == "late-1" {
				late = c
			}
		}
		if late.Status != http.StatusOK || !late.CommittedAt.Equal(t0.Add(5*time.Second)) {
			t.Errorf("late call: status %d committed at %v; want 200 at %v", late.Status, late.CommittedAt, t0.Add(5*time.Second))
		}
		// QBO's requestid contract holds for it like for any write.
		e.post("salesreceipt", url.Values{"requestid": {"late-1"}}, mustJSON(t, e.receipt("LATE-1"))).ok(t, "SalesReceipt")
		if n := len(e.s.Entities("SalesReceipt")); n != 1 {
			t.Errorf("receipts after a replay: got %d; want 1", n)
		}
	})
	t.Run("ClientWaited", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.s.Inject(Injection{Times: 1, Latency: 3 * time.Second, CommitLate: true, Match: isCreate})
		done := make(chan result, 1)
		go func() {
			done <- e.post("salesreceipt", url.Values{"requestid": {"late-2"}}, mustJSON(t, e.receipt("LATE-2")))
		}()
		waitFor(t, func() bool { return e.s.LateWrites() == 1 })
		e.s.LandDue()
		select {
		case <-done:
			t.Fatal("answered before the clock reached the due time")
		default:
		}
		e.clock.Advance(3 * time.Second)
		e.s.LandDue()
		r := <-done
		if got := str(r.ok(t, "SalesReceipt")["DocNumber"]); got != "LATE-2" {
			t.Errorf("DocNumber: got %q; want LATE-2", got)
		}
	})
}
