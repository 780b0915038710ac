package daemon

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
	"github.com/velqbo/velqbo/schema"
)

// HealthView is the JSON of /healthz.
type HealthView struct {
	// Status is ok, degraded (works, but look at `velqbo status`) or fail
	// (answered with HTTP 503).
	Status        string     `json:"status"`
	Problems      []string   `json:"problems,omitempty"`
	Database      string     `json:"database"`
	RunInProgress bool       `json:"run_in_progress"`
	LastRun       *HealthRun `json:"last_run,omitempty"`
	LastSuccessAt *time.Time `json:"last_success_at,omitempty"`
	LastSuccessS  *float64   `json:"last_success_age_seconds,omitempty"`
	Blocked       int        `json:"blocked_items"`
	// Failed counts the items QBO refused that need a person (fix and
	// retry, or skip); Skipped the items a person set aside.
	Failed  int                 `json:"failed_items"`
	Skipped int                 `json:"skipped_items"`
	Token   *tokenhealth.Health `json:"token,omitempty"`
}

// HealthRun is the last run, in HealthView.
type HealthRun struct {
	ID         string     `json:"run_id"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	AgeSeconds float64    `json:"age_seconds"`
	Error      string     `json:"error,omitempty"`
}

func (d *Daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		v := d.health(ctx)
		code := http.StatusOK
		if v.Status == "fail" {
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(v)
	})
	mux.Handle("GET /metrics", metricsAuth(d.c.MetricsToken, IsLoopback(d.c.Listen), d.metrics.handler(func(ctx context.Context) { d.refresh(ctx) })))
	if d.c.Console != nil {
		mux.Handle("/", d.c.Console)
	}
	return mux
}

// metricsAuth guards /metrics. Why: the metrics name the company's
// activity (runs, failures, token expiry), and the listener may now face
// the network for the console. With a token, every scrape must present it
// (Authorization: Bearer TOKEN, compared in constant time); without one,
// /metrics is served on a loopback listener only.
func metricsAuth(token string, loopback bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			if !loopback {
				http.Error(w, "/metrics on a non-loopback listener needs VELQBO_METRICS_TOKEN", http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="velqbo metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// health answers /healthz from the database: is it reachable, how did the
// last run end and how long ago, when did a run last succeed, and is the
// QBO token healthy.
func (d *Daemon) health(ctx context.Context) *HealthView {
	v := &HealthView{Status: "ok", Database: "ok"}
	now := d.c.Now()
	fail := func(p string) { v.Status = "fail"; v.Problems = append(v.Problems, p) }
	degrade := func(p string) {
		if v.Status == "ok" {
			v.Status = "degraded"
		}
		v.Problems = append(v.Problems, p)
	}
	runs, err := d.st.LastRuns(ctx, 1)
	if err != nil {
		v.Database = "unreachable"
		fail("database: " + err.Error())
		return v
	}
	if len(runs) == 0 {
		degrade("no run yet")
	} else {
		r := runs[0]
		at := r.StartedAt
		if !r.FinishedAt.IsZero() {
			at = r.FinishedAt
		}
		v.LastRun = &HealthRun{ID: r.ID, Status: string(r.Status), StartedAt: r.StartedAt, FinishedAt: ptime(r.FinishedAt),
			AgeSeconds: now.Sub(at).Seconds(), Error: tokenhealth.RunError(r.Error)}
		switch r.Status {
		case schema.RunFailed:
			fail("the last run failed: " + tokenhealth.RunError(r.Error))
		case schema.RunPartial:
			degrade("the last run left items blocked or failed")
		case schema.RunInterrupted:
			degrade("the last run was interrupted")
		}
	}
	if ok, err := d.st.LastSuccessfulRun(ctx); err == nil {
		age := now.Sub(ok.StartedAt).Seconds()
		v.LastSuccessAt, v.LastSuccessS = &ok.StartedAt, &age
	}
	if l, err := d.st.GetLease(ctx, d.c.RunLease); err == nil && l.ExpiresAt.After(now) {
		v.RunInProgress = true
	}
	if blocked, err := d.st.BlockedItems(ctx); err == nil {
		v.Blocked = len(blocked)
	}
	if failed, err := d.st.FailedItems(ctx); err == nil {
		for _, f := range failed {
			if f.NeedsPerson {
				v.Failed++
			}
		}
		if v.Failed > 0 {
			degrade(fmt.Sprintf("%d item(s) refused by QBO need a person: fix and `velqbo retry ORDER_NUMBER`, or `velqbo skip ORDER_NUMBER --reason TEXT` (`velqbo status` says why)", v.Failed))
		}
	}
	if skipped, err := d.st.SkippedItems(ctx); err == nil {
		v.Skipped = len(skipped)
	}
	infos, err := d.st.Tokens(ctx)
	switch {
	case err != nil:
		fail("database: " + err.Error())
	case len(infos) == 0:
		fail("not connected to QBO: run `velqbo connect`")
	default:
		v.Token = tokenhealth.Of(infos[0], now)
		if end := tokenhealth.End(infos[0]); !end.IsZero() && !end.After(now) {
			fail(v.Token.Warning)
		} else if v.Token.Warning != "" {
			degrade(v.Token.Warning)
		}
	}
	return v
}

func ptime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
