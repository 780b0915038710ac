package qbotest

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// lateWrite is a CommitLate write waiting for its due time.
type lateWrite struct {
	due  time.Time
	r    *http.Request // detached from the client's context
	c    *Call
	body []byte
	lose bool

	resp response
	left bool          // the client stopped waiting before the commit
	done chan struct{} // closed once committed
}

// commitLate queues a CommitLate write and waits for its commit, or for
// the client to go away (the write still commits when due).
func (s *Server) commitLate(ctx context.Context, resp *response, r *http.Request, c *Call, body []byte, inj *Injection) bool {
	lw := &lateWrite{due: s.now().Add(inj.Latency), r: r.Clone(context.WithoutCancel(ctx)), c: c, body: body,
		lose: inj.LoseResponse, resp: response{header: http.Header{}}, done: make(chan struct{})}
	s.mu.Lock()
	s.late = append(s.late, lw)
	s.mu.Unlock()
	go s.landWhenDue(lw)
	select {
	case <-lw.done:
	case <-ctx.Done():
	case <-s.done:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-lw.done:
		*resp = lw.resp
		return lw.lose
	default:
		// Gone before the commit: the commit records the call's status.
		lw.left = true
		resp.deferred = true
		s.faultResponse(resp, faultSystem(http.StatusServiceUnavailable))
		return false
	}
}

// landWhenDue commits lw when its time has come on the server's clock. On
// a real clock that is a timer; a fake clock moves only when a test moves
// it, so the timer is only a re-check and LandDue (called before every API
// request) does the work.
func (s *Server) landWhenDue(lw *lateWrite) {
	for {
		wait := lw.due.Sub(s.now())
		if wait <= 0 {
			s.LandDue()
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-lw.done:
			t.Stop()
			return
		case <-s.done:
			t.Stop()
			return
		}
	}
}

// LandDue commits, in due order, every CommitLate write whose latency has
// passed on the server's clock. The server calls it before serving each
// API request; a test on a fake clock calls it after moving the clock to
// see a late write land without sending anything.
func (s *Server) LandDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var due []*lateWrite
	s.late = slices.DeleteFunc(s.late, func(lw *lateWrite) bool {
		if lw.due.After(now) {
			return false
		}
		due = append(due, lw)
		return true
	})
	slices.SortStableFunc(due, func(a, b *lateWrite) int { return a.due.Compare(b.due) })
	for _, lw := range due {
		s.execute(&lw.resp, lw.r, lw.c, lw.body)
		lw.c.CommittedAt = now
		if lw.left {
			lw.c.Status = lw.resp.status
		}
		close(lw.done)
	}
}

// LateWrites reports how many CommitLate writes have not committed yet.
func (s *Server) LateWrites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.late)
}
