package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/internal/retry"
)

// Alert events, the "event" field of the webhook's JSON.
const (
	EventRunFailed     = "run_failed"     // a scheduled run could not run or could not finish
	EventItemsBlocked  = "items_blocked"  // items blocked for more than N consecutive runs
	EventItemsFailed   = "items_failed"   // items QBO refused (a person must act) for N consecutive runs
	EventDriftFound    = "drift_found"    // verify found documents changed or deleted in QBO
	EventTokenExpiring = "token_expiring" // the QBO refresh token nears (or passed) its end
)

// Alert severities.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
)

// Alert is the JSON message POSTed to VELQBO_ALERT_WEBHOOK. It never holds a
// token or secret: only run ids, item ids, counts and reasons.
type Alert struct {
	Event    string         `json:"event"`
	Severity string         `json:"severity"`
	Message  string         `json:"message"`
	RunID    string         `json:"run_id,omitempty"`
	Time     time.Time      `json:"time"`
	Details  map[string]any `json:"details,omitempty"`
}

// alerter delivers alerts to a webhook from one background goroutine, so a
// slow or dead receiver never holds up a run: send only queues. Delivery
// is retried a few times with a short timeout each, then given up (and
// logged); an alert is a courtesy, the truth is in `velqbo status`.
type alerter struct {
	url       string
	client    *http.Client
	userAgent string // "velqbo/<version>"
	log       logrus.FieldLogger
	now       func() time.Time
	// clock waits between delivery attempts; tests use a clock.Fake.
	clock clock.Clock
	retry retry.Policy

	queue chan Alert
	done  chan struct{}
	ctx   context.Context // the sender's; cancelled by close when the flush times out
	stop  context.CancelFunc

	mu     sync.Mutex
	last   map[string]time.Time // dedupe key → when last queued
	closed bool
}

const (
	alertTimeout  = 10 * time.Second
	alertAttempts = 3 // in all, the first included
	alertQueue    = 64
	// alertMaxRetryAfter caps a receiver's Retry-After: one goroutine
	// delivers every alert, so a long wait would hold up the ones behind.
	alertMaxRetryAfter = 30 * time.Second
)

// newAlerter returns an alerter for webhook; with an empty webhook it
// accepts alerts and drops them. client nil means a default client with
// alertTimeout.
func newAlerter(webhook string, client *http.Client, log logrus.FieldLogger, now func() time.Time) *alerter {
	if client == nil {
		client = &http.Client{Timeout: alertTimeout}
	}
	a := &alerter{url: webhook, client: client, log: log, now: now, clock: clock.Real{},
		retry: retry.Policy{MaxAttempts: alertAttempts, Base: 2 * time.Second, Max: 10 * time.Second},
		queue: make(chan Alert, alertQueue), done: make(chan struct{}), last: map[string]time.Time{}}
	a.ctx, a.stop = context.WithCancel(context.Background())
	if webhook == "" {
		close(a.done)
		return a
	}
	go a.loop()
	return a
}

// webhookHost names the receiver in logs without its path or query, where
// chat services put their secret.
func webhookHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Host
}

// send queues al unless an alert with the same dedupe key was queued less
// than every ago (every 0: never deduplicated). It never blocks: when the
// queue is full the alert is dropped and logged.
func (a *alerter) send(al Alert, key string, every time.Duration) {
	if a.url == "" {
		return
	}
	now := a.now()
	al.Time = now.UTC()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if key != "" && every > 0 {
		if t, ok := a.last[key]; ok && now.Sub(t) < every {
			return
		}
		a.last[key] = now
	}
	select {
	case a.queue <- al:
	default:
		a.log.WithField("event", al.Event).Warn("alert queue full; alert dropped")
	}
}

func (a *alerter) loop() {
	defer close(a.done)
	for al := range a.queue {
		a.deliver(al)
	}
}

func (a *alerter) deliver(al Alert) {
	body, err := json.Marshal(al)
	if err != nil {
		a.log.WithError(err).Error("encode alert")
		return
	}
	log := a.log.WithFields(logrus.Fields{"event": al.Event, "webhook": webhookHost(a.url)})
	attempts, err := a.retry.Do(a.ctx, a.clock, func(int) error { return a.post(body) })
	var ie *retry.InterruptedError
	switch {
	case err == nil:
		log.Info("alert sent")
	case errors.As(err, &ie):
		log.WithError(ie.Last).Warn("alert not delivered; shutting down")
	case a.ctx.Err() != nil:
		log.WithError(err).Warn("alert not delivered; shutting down")
	default:
		log.WithError(err).WithField("attempt", attempts).Warn("alert not delivered; given up")
	}
}

// post sends one attempt. A 4xx other than 408/429 is the receiver
// refusing the message for good, so it is marked retry.Permanent; a
// Retry-After on 429/503 is honoured up to alertMaxRetryAfter.
func (a *alerter) post(body []byte) error {
	ctx, cancel := context.WithTimeout(a.ctx, alertTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		// The parse error quotes the whole URL, and a webhook URL often
		// holds its secret token: say what is wrong without it.
		return retry.Permanent(fmt.Errorf("alert request: VELQBO_ALERT_WEBHOOK is not a valid URL (host %s)", webhookHost(a.url)))
	}
	req.Header.Set("Content-Type", "application/json")
	if a.userAgent != "" {
		req.Header.Set("User-Agent", a.userAgent)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		// The error names the URL; keep only the host in what is logged.
		return fmt.Errorf("post to %s: %w", webhookHost(a.url), unwrapURLError(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		after, _ := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), a.clock.Now(), alertMaxRetryAfter)
		return retry.After(fmt.Errorf("webhook answered %s", resp.Status), after)
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return retry.Permanent(fmt.Errorf("webhook answered %s", resp.Status))
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// close stops accepting alerts and waits until the queued ones are
// delivered or ctx is done, whichever comes first.
func (a *alerter) close(ctx context.Context) {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		if a.url != "" {
			close(a.queue)
		}
	}
	a.mu.Unlock()
	select {
	case <-a.done:
	case <-ctx.Done():
		a.stop()
		<-a.done
	}
	a.stop()
}
