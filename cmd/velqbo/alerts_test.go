package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/daemon"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/sandbox"
)

// webhook is an httptest alert receiver (the daemon package tests the
// alerter with its own).
type webhook struct {
	*httptest.Server
	alerts chan daemon.Alert
	status atomic.Int32 // answered status; 0 means 204
	hits   atomic.Int32
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{alerts: make(chan daemon.Alert, 64)}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.hits.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook: got %s with Content-Type %q; want a JSON POST", r.Method, r.Header.Get("Content-Type"))
		}
		if s := w.status.Load(); s != 0 {
			rw.WriteHeader(int(s))
			return
		}
		var a daemon.Alert
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
func (w *webhook) next(t *testing.T) daemon.Alert {
	t.Helper()
	select {
	case a := <-w.alerts:
		return a
	case <-time.After(time.Minute): // a guard against a hang
		t.Fatal("no alert arrived")
		return daemon.Alert{}
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

// TestDaemon_Alerts drives the daemon against both fakes and checks that
// the webhook receives each kind of alert, once.
func TestDaemon_Alerts(t *testing.T) {
	t.Parallel()
	w := newWebhook(t)
	h := newDaemonHarness(t, 12)
	h.Env["VELQBO_ALERT_WEBHOOK"] = w.URL + "/alerts"
	unlinked := (&sandbox.Sandbox{Data: h.Data}).BlockingProduct()
	h.prepare(map[string]bool{unlinked: true})
	o := defaultDaemonOptions()
	o.verify = true
	o.blockedRuns = 1
	o.tokenDays = 200 // the fake's tokens live ~101 days: "nearing expiry" now
	rig := startDaemon(t, h, o)

	// Run 1: items blocked once (not more than 1 run yet); the token nears
	// its end.
	rig.d.Trigger()
	a := w.next(t)
	if a.Event != daemon.EventTokenExpiring || a.Severity != daemon.SeverityWarning || !strings.Contains(a.Message, "velqbo connect") || a.RunID == "" {
		t.Errorf("run 1 alert: got %+v; want a token_expiring warning for the run", a)
	}

	// Run 2: the same items are blocked for the second run (> 1); the token
	// alert is not repeated the same day.
	rig.d.Trigger()
	a = w.next(t)
	if a.Event != daemon.EventItemsBlocked || a.Details["count"] == nil || a.Details["count"].(float64) < 1 {
		t.Errorf("run 2 alert: got %+v; want items_blocked with a count", a)
	}

	// A person deletes a document in QBO: the run's verify finds it.
	var deleted string
	for _, e := range h.QBO.Entities("SalesReceipt") {
		if !e.Deleted && !e.Voided {
			deleted = e.ID
			break
		}
	}
	if deleted == "" {
		t.Fatal("no SalesReceipt to delete")
	}
	if err := h.QBO.PersonDelete("SalesReceipt", deleted); err != nil {
		t.Fatal(err)
	}
	rig.d.Trigger()
	a = w.next(t)
	if a.Event != daemon.EventDriftFound || !strings.Contains(a.Message, "1 document") {
		t.Errorf("run 3 alert: got %+v; want drift_found for 1 document", a)
	}

	// Velocity refuses us: the run fails.
	failVelocity(h)
	rig.d.Trigger()
	a = w.next(t)
	if a.Event != daemon.EventRunFailed || a.Severity != daemon.SeverityCritical || !strings.Contains(a.Message, "velocity") {
		t.Errorf("run 4 alert: got %+v; want a critical run_failed naming velocity", a)
	}
	if err := rig.stop(); err != nil {
		t.Fatal(err)
	}
	w.none(t) // nothing repeated: the token and blocked alerts are deduplicated
	if strings.Contains(rig.log.String(), "/alerts") {
		t.Errorf("the log names the webhook's path:\n%s", rig.log.String())
	}
}
