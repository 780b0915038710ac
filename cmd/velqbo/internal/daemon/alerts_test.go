package daemon

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/internal/clock"
)

// webhook is an httptest alert receiver.
type webhook struct {
	*httptest.Server
	alerts chan Alert
	status atomic.Int32 // answered status; 0 means 204
	hits   atomic.Int32
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{alerts: make(chan Alert, 64)}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.hits.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook: got %s with Content-Type %q; want a JSON POST", r.Method, r.Header.Get("Content-Type"))
		}
		if s := w.status.Load(); s != 0 {
			rw.WriteHeader(int(s))
			return
		}
		var a Alert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			t.Errorf("webhook: %v", err)
		}
		w.alerts <- a
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(w.Close)
	return w
}

// next returns the next alert received.
func (w *webhook) next(t *testing.T) Alert {
	t.Helper()
	select {
	case a := <-w.alerts:
		return a
	case <-time.After(time.Minute): // a guard against a hang
		t.Fatal("no alert arrived")
		return Alert{}
	}
}

// none checks that no alert is waiting. Delivery is asynchronous, so it is
// only meaningful after the alerter was closed (flushed).
func (w *webhook) none(t *testing.T) {
	t.Helper()
	select {
	case a := <-w.alerts:
		t.Errorf("unexpected alert: %+v", a)
	default:
	}
}

func discardLog() logrus.FieldLogger {
	l := logrus.New()
	l.Out = io.Discard
	return l
}

func TestAlerter_RetryAndDedupe(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		status   int // the receiver's answer to every attempt
		wantHits int32
	}{
		{"OK", 0, 1},
		{"ServerErrorRetried", http.StatusBadGateway, alertAttempts},
		{"RefusedNotRetried", http.StatusBadRequest, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWebhook(t)
			w.status.Store(int32(tt.status))
			a := newAlerter(w.URL+"/hook?secret=s3cr3t", w.Client(), discardLog(), func() time.Time { return now })
			clk := clock.NewFake(now)
			a.clock = clk
			a.send(Alert{Event: EventRunFailed, Severity: SeverityCritical, Message: "m", RunID: "r1"}, "", 0)
			a.close(t.Context())
			if got := w.hits.Load(); got != tt.wantHits {
				t.Errorf("attempts: got %d; want %d", got, tt.wantHits)
			}
			if got, want := len(clk.Sleeps()), int(tt.wantHits)-1; got != want {
				t.Errorf("backoff waits: got %d; want %d", got, want)
			}
			if tt.status == 0 {
				got := w.next(t)
				want := Alert{Event: EventRunFailed, Severity: SeverityCritical, Message: "m", RunID: "r1", Time: now}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("alert (-want +got):\n%s", diff)
				}
			}
		})
	}

	t.Run("Dedupe", func(t *testing.T) {
		t.Parallel()
		w := newWebhook(t)
		clock := now
		a := newAlerter(w.URL, w.Client(), discardLog(), func() time.Time { return clock })
		tok := Alert{Event: EventTokenExpiring, Severity: SeverityWarning, Message: "soon"}
		a.send(tok, "token", 24*time.Hour)
		clock = clock.Add(23 * time.Hour)
		a.send(tok, "token", 24*time.Hour) // same day: dropped
		a.send(Alert{Event: EventRunFailed, Message: "x"}, "", 0)
		clock = clock.Add(2 * time.Hour)
		a.send(tok, "token", 24*time.Hour) // a day later: sent again
		a.close(t.Context())
		var got []string
		for range 3 {
			got = append(got, w.next(t).Event)
		}
		w.none(t)
		if diff := cmp.Diff([]string{EventTokenExpiring, EventRunFailed, EventTokenExpiring}, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})

	t.Run("NoWebhook", func(t *testing.T) {
		a := newAlerter("", nil, discardLog(), time.Now)
		a.send(Alert{Event: EventRunFailed}, "", 0) // accepted and dropped, never blocks
		a.close(t.Context())
	})
}

// TestAlerter_RetryAfter: a receiver's Retry-After on 429/503 sets the
// wait before the next attempt (never shorter than the backoff), capped so
// that one alert cannot hold up the queue.
func TestAlerter_RetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		want       time.Duration
	}{
		{"Seconds", http.StatusTooManyRequests, "7", 7 * time.Second},
		{"Date", http.StatusServiceUnavailable, now.Add(20 * time.Second).Format(http.TimeFormat), 20 * time.Second},
		{"Capped", http.StatusTooManyRequests, "3600", alertMaxRetryAfter},
		{"ShorterThanBackoff", http.StatusTooManyRequests, "0", 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.retryAfter)
					w.WriteHeader(tt.status)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			a := newAlerter(srv.URL, srv.Client(), discardLog(), func() time.Time { return now })
			clk := clock.NewFake(now)
			a.clock = clk
			a.retry.Jitter = func(d time.Duration) time.Duration { return d }
			a.send(Alert{Event: EventRunFailed}, "", 0)
			a.close(t.Context())
			if got := hits.Load(); got != 2 {
				t.Errorf("attempts: got %d; want 2", got)
			}
			if diff := cmp.Diff([]time.Duration{tt.want}, clk.Sleeps()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAlerter_SlowReceiverNeverBlocks(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	a := newAlerter(srv.URL, srv.Client(), discardLog(), time.Now)
	// Far more alerts than the queue holds: send returns every time.
	for range alertQueue * 2 {
		a.send(Alert{Event: EventRunFailed}, "", 0)
	}
	// A close whose deadline has passed cuts delivery off.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	a.close(ctx)
}

func TestWebhookHost(t *testing.T) {
	t.Parallel()
	if got := webhookHost("https://hooks.example.com/services/T0/B0/SECRET?x=1"); got != "hooks.example.com" {
		t.Errorf("got %q; want the host only", got)
	}
}

// TestAlerter_BadURLKeepsSecret: a webhook URL that does not parse (here a
// stray carriage return from an env file saved on Windows) is reported
// without the URL's path, where the secret is.
func TestAlerter_BadURLKeepsSecret(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"https://hooks.example.com/services/SECRETTOKEN\r", "https://hooks.example.com:port/SECRETTOKEN"} {
		a := &alerter{url: raw, client: http.DefaultClient, ctx: context.Background()}
		err := a.post([]byte("{}"))
		if err == nil {
			t.Fatalf("post to %q: got nil; want an error", raw)
		}
		if strings.Contains(err.Error(), "SECRETTOKEN") {
			t.Errorf("post to a bad URL: got %q; want no secret in it", err)
		}
	}
}
