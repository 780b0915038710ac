package bigcommerce

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/velqbo/velqbo/internal/clock"
)

// pacer keeps the client within its share of the store's rate-limit
// quota. BigCommerce counts every app's requests in one window (30 s,
// 150 or 450 requests on the common plans) and says where the window
// stands in each answer's X-Rate-Limit-* headers. Why a share and not the
// whole quota: the other apps of the store (ERP, shipping, marketing)
// share the window, and a back-office report can wait where a checkout
// integration cannot.
//
// Before each request, wait lets it through when the client has spent
// fewer than share × quota requests in the current window and the
// window has requests left; otherwise it sleeps until the window resets.
// Until an answer has carried the headers (the first request, or a plan
// without a limit) nothing is held back.
type pacer struct {
	mu    sync.Mutex
	clock clock.Clock
	share float64

	known   bool      // the current window is known from the headers
	quota   int       // X-Rate-Limit-Requests-Quota
	left    int       // X-Rate-Limit-Requests-Left, less what we sent since
	resetAt time.Time // when the current window ends
	spent   int       // our requests in the current window
	waited  time.Duration
}

// budget is the requests per window the client may spend.
func (p *pacer) budget() int { return max(1, int(float64(p.quota)*p.share)) }

// wait blocks until one more request fits, or ctx is done (its error).
func (p *pacer) wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		now := p.clock.Now()
		if p.known && !now.Before(p.resetAt) {
			// The window is over: the next answer says how the new one
			// stands; until then count from zero.
			p.known, p.spent = false, 0
		}
		if !p.known || (p.spent < p.budget() && p.left > 0) {
			p.spent++
			p.left--
			p.mu.Unlock()
			return nil
		}
		d := p.resetAt.Sub(now)
		p.waited += d
		p.mu.Unlock()
		if err := p.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// observe reads an answer's rate-limit headers, received at now. It
// returns how long until the window resets and whether the headers were
// there (a 429 with them means the quota is spent; without them, that the
// platform is under load).
func (p *pacer) observe(h http.Header, now time.Time) (reset time.Duration, ok bool) {
	quota, err1 := strconv.Atoi(h.Get("X-Rate-Limit-Requests-Quota"))
	left, err2 := strconv.Atoi(h.Get("X-Rate-Limit-Requests-Left"))
	resetMs, err3 := strconv.ParseInt(h.Get("X-Rate-Limit-Time-Reset-Ms"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || quota <= 0 || resetMs < 0 {
		return 0, false
	}
	// A header from the other side must not park a run for long.
	reset = min(time.Duration(resetMs)*time.Millisecond, maxRetryAfter)
	resetAt := now.Add(reset)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.known && resetAt.After(p.resetAt.Add(time.Second)) {
		// The server started a new window that we had not seen end (its
		// clock and ours differ): this answer is our first in it.
		p.spent = 1
	}
	p.known, p.quota, p.left, p.resetAt = true, quota, left, resetAt
	return reset, true
}

// Waited returns how long the pacer has held requests back so far.
func (p *pacer) Waited() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waited
}
