package daemon

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
	"github.com/velqbo/velqbo/reconcile"
)

// trigger is one scheduled run. It is only ever called through d.job.
func (d *Daemon) trigger() {
	d.mu.Lock()
	if d.isStopping {
		d.mu.Unlock()
		return
	}
	d.wg.Add(1)
	d.mu.Unlock()
	defer d.wg.Done()
	defer ReleaseMemory()

	PrepareRun()
	d.metrics.running.Set(1)
	defer d.metrics.running.Set(0)
	start := time.Now()
	sum, err := d.c.Run(d.runCtx, reconcile.Options{Mode: reconcile.ModeIncremental, Stop: d.stopping})
	elapsed := time.Since(start)

	outcome := outcomeFailed
	switch {
	case err == nil && sum.OK():
		outcome = outcomeOK
	case err == nil:
		outcome = outcomePartial
	case errors.Is(err, ErrRunLeaseHeld):
		d.metrics.runs.WithLabelValues(outcomeSkipped).Inc()
		d.log.WithError(err).Warn("scheduled run skipped")
		return
	case errors.Is(err, reconcile.ErrInterrupted) || d.runCtx.Err() != nil:
		// Stopped by the shutdown (the engine recorded the run interrupted),
		// or cut off after the grace period before it could start.
		outcome = outcomeInterrupted
	}
	d.metrics.observeRun(outcome, sum, elapsed)
	fields := logrus.Fields{"outcome": outcome, "duration": elapsed.Round(time.Millisecond).String()}
	runID := ""
	if sum != nil {
		runID = sum.RunID
		c := sum.Counts
		fields["run_id"], fields["created"], fields["updated"], fields["voided"] = sum.RunID, c.Created, c.Updated, c.Voided
		fields["unchanged"], fields["blocked"], fields["failed"] = c.Unchanged, c.Blocked, c.Failed
		if c.Waiting > 0 {
			// Creates of an earlier run that may still reach QBO: the next
			// scheduled run looks them up.
			fields["waiting"] = c.Waiting
		}
	}
	log := d.log.WithFields(fields)
	switch outcome {
	case outcomeFailed:
		log.WithError(err).Error("scheduled run failed")
		d.alerts.send(Alert{Event: EventRunFailed, Severity: SeverityCritical, RunID: runID,
			Message: "velqbo: the scheduled run failed: " + err.Error(),
			Details: map[string]any{"error": err.Error()}}, "", 0)
	case outcomeInterrupted:
		log.Warn("scheduled run interrupted by shutdown; the next run finishes the work")
	default:
		log.Info("scheduled run finished")
	}
	if outcome == outcomeInterrupted {
		return
	}
	actx, cancel := context.WithTimeout(d.runCtx, time.Minute)
	defer cancel()
	d.refresh(actx)
	d.checkAlerts(actx, runID)
	if (outcome == outcomeOK || outcome == outcomePartial) && d.c.Verify != nil {
		d.checkDrift(actx, runID)
	}
}

// ReleaseMemory collects the heap a finished run used and returns it to the
// OS. Why: a daemon waits hours between runs, and Go would keep the run's
// heap mapped until its next collection, which an idle process does not
// reach for minutes (and then returns it only gradually): the idle daemon
// held 52 MiB after a 1,000-order run instead of 34 MiB. One forced
// collection per run costs milliseconds. It then drops the code pages the
// run faulted in (releaseCode, Linux only).
func ReleaseMemory() {
	debug.FreeOSMemory()
	releaseCode()
}

// PrepareRun undoes what ReleaseMemory did to the binary's code mappings
// (Linux only): a run about to start gets the kernel's read-ahead back.
func PrepareRun() {
	resumeCode()
}

func (d *Daemon) refresh(ctx context.Context) {
	if err := d.metrics.refresh(ctx, d.st, d.c.Now()); err != nil {
		d.log.WithError(err).Warn("refresh metrics from the database")
	}
}

// alertEvery is how often the same standing condition (a token nearing
// its end, the same items still blocked) is alerted again.
const alertEvery = 24 * time.Hour

// checkAlerts sends the standing-condition alerts after a run.
func (d *Daemon) checkAlerts(ctx context.Context, runID string) {
	blocked, err := d.st.BlockedItems(ctx)
	if err != nil {
		d.log.WithError(err).Warn("read blocked items for alerts")
	} else {
		var long []map[string]any
		var ids []string
		for _, b := range blocked {
			if b.Runs > d.c.BlockedRuns {
				ids = append(ids, b.Kind+"/"+b.SourceID)
				if len(long) < 20 {
					long = append(long, map[string]any{"kind": b.Kind, "source_id": b.SourceID,
						"order_number": b.OrderNumber, "runs": b.Runs, "reason": b.Reason})
				}
			}
		}
		if len(ids) > 0 {
			sort.Strings(ids)
			d.alerts.send(Alert{Event: EventItemsBlocked, Severity: SeverityWarning, RunID: runID,
				Message: fmt.Sprintf("velqbo: %d item(s) blocked for more than %d runs; `velqbo status` says why", len(ids), d.c.BlockedRuns),
				Details: map[string]any{"count": len(ids), "items": long}},
				EventItemsBlocked+":"+strings.Join(ids, ","), alertEvery)
		}
	}
	d.checkFailed(ctx, runID)
	infos, err := d.st.Tokens(ctx)
	if err != nil {
		d.log.WithError(err).Warn("read token health for alerts")
		return
	}
	if len(infos) == 0 {
		return
	}
	now := d.c.Now()
	end := tokenhealth.End(infos[0])
	if end.IsZero() {
		return
	}
	left := end.Sub(now)
	if left >= time.Duration(d.c.TokenDays)*24*time.Hour {
		return
	}
	sev, msg := SeverityWarning, fmt.Sprintf("velqbo: the QBO refresh token expires in %d days (%s); if runs do not renew it, run `velqbo connect`", int(left.Hours()/24), end.UTC().Format(time.DateOnly))
	if left <= 0 {
		sev, msg = SeverityCritical, "velqbo: the QBO refresh token has expired: run `velqbo connect`"
	}
	d.alerts.send(Alert{Event: EventTokenExpiring, Severity: sev, RunID: runID, Message: msg,
		Details: map[string]any{"realm": infos[0].Realm, "expires_at": end.UTC(), "days_left": int(left.Hours() / 24)}},
		EventTokenExpiring+":"+infos[0].Realm+":"+sev, alertEvery)
}

// checkFailed alerts on the items QBO refused for what the document holds
// for at least FailedRuns runs in a row: the runs alone will not get them
// through, a person must fix and retry them or skip them. The same items
// are alerted again after alertEvery.
func (d *Daemon) checkFailed(ctx context.Context, runID string) {
	failed, err := d.st.FailedItems(ctx)
	if err != nil {
		d.log.WithError(err).Warn("read failed items for alerts")
		return
	}
	var items []map[string]any
	var ids []string
	for _, f := range failed {
		if !f.NeedsPerson || f.Runs < d.c.FailedRuns {
			continue
		}
		ids = append(ids, f.Kind+"/"+f.SourceID)
		if len(items) < 20 {
			items = append(items, map[string]any{"kind": f.Kind, "source_id": f.SourceID,
				"order_number": f.OrderNumber, "runs": f.Runs, "reason": f.Reason})
		}
	}
	if len(ids) == 0 {
		return
	}
	sort.Strings(ids)
	d.alerts.send(Alert{Event: EventItemsFailed, Severity: SeverityWarning, RunID: runID,
		Message: fmt.Sprintf("velqbo: QBO refused %d item(s) for %d runs or more; a person must fix the cause and run `velqbo retry ORDER_NUMBER`, or `velqbo skip ORDER_NUMBER --reason TEXT`; `velqbo status` says why", len(ids), d.c.FailedRuns),
		Details: map[string]any{"count": len(ids), "items": items}},
		EventItemsFailed+":"+strings.Join(ids, ","), alertEvery)
}

func (d *Daemon) checkDrift(ctx context.Context, runID string) {
	rep, err := d.c.Verify(ctx)
	if err != nil {
		d.log.WithError(err).Warn("verify after the run")
		return
	}
	if rep == nil || rep.Clean() {
		return
	}
	keys := make([]string, 0, len(rep.Drift))
	items := rep.Drift
	for _, x := range rep.Drift {
		keys = append(keys, x.QBOType+":"+x.QBOID+":"+x.Drift)
	}
	sort.Strings(keys)
	if len(items) > 20 {
		items = items[:20]
	}
	d.log.WithFields(logrus.Fields{"run_id": runID, "drift": len(rep.Drift)}).Warn("verify found documents changed in QBO")
	d.alerts.send(Alert{Event: EventDriftFound, Severity: SeverityWarning, RunID: runID,
		Message: fmt.Sprintf("velqbo: %d document(s) in QBO differ from what was sent; `velqbo verify` lists them", len(rep.Drift)),
		Details: map[string]any{"count": len(rep.Drift), "drift": items}},
		EventDriftFound+":"+strings.Join(keys, ","), alertEvery)
}

// cronLogger is cron's Logger on logrus. It turns SkipIfStillRunning's
// "skip" and Recover's "panic" into metrics and, for a panic, an alert.
type cronLogger struct {
	log     logrus.FieldLogger
	metrics *metrics
	alerts  *alerter
}

func kvFields(kv []any) logrus.Fields {
	f := logrus.Fields{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return f
}

func (l cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" && l.metrics != nil {
		l.metrics.runs.WithLabelValues(outcomeSkipped).Inc()
		l.log.Warn("a scheduled run is still in progress; this trigger is skipped")
		return
	}
	l.log.WithFields(kvFields(kv)).Debug("cron: " + msg)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.WithError(err).WithFields(kvFields(kv)).Error("cron: " + msg)
	if msg == "panic" && l.metrics != nil {
		l.metrics.runs.WithLabelValues(outcomePanicked).Inc()
		l.alerts.send(Alert{Event: EventRunFailed, Severity: SeverityCritical,
			Message: fmt.Sprintf("velqbo: the scheduled run crashed: %v", err),
			Details: map[string]any{"error": fmt.Sprint(err)}}, "", 0)
	}
}
