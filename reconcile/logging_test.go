package reconcile_test

import (
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// TestRunLogsAndAuditsEachChange checks the operator's view of a run: one
// log line per applied change with the stable field names, and the
// intuit_tid of QBO's answer in both that line and the audit log.
func TestRunLogsAndAuditsEachChange(t *testing.T) {
	h := newEngHarness(t)
	logger, hook := test.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	h.rec.Log = logger
	h.v.AddOrder(engOrder("ord_1", "1001", 2))
	h.v.AddOrder(engTermsOrder("ord_2", "1002", 1))
	sum := h.run(reconcile.Options{})
	if sum.Counts.Created != 2 {
		t.Fatalf("created: got %d; want 2", sum.Counts.Created)
	}

	applied := map[string]logrus.Fields{}
	batched := 0
	for _, e := range hook.AllEntries() {
		switch e.Message {
		case "applied":
			applied[e.Data["source_id"].(string)] = e.Data
			if e.Level != logrus.DebugLevel {
				t.Errorf("\"applied\" of %v: level %v; want debug (one line per batch at info)", e.Data["source_id"], e.Level)
			}
		case "batch sent":
			if e.Level != logrus.InfoLevel {
				t.Errorf("\"batch sent\": level %v; want info", e.Level)
			}
			n, _ := e.Data["documents"].(int)
			batched += n
		}
	}
	// Single workers may carry creates too, so a batch is not certain.
	if batched > 2 {
		t.Errorf("\"batch sent\" lines: %d documents in all; want at most 2", batched)
	}
	for _, id := range []string{"ord_1", "ord_2"} {
		f, ok := applied[id]
		if !ok {
			t.Errorf("no \"applied\" log line for %s; got %d lines", id, len(hook.AllEntries()))
			continue
		}
		for _, key := range []string{"kind", "source_id", "qbo_id", "action", "intuit_tid", "qbo_type", "doc_number"} {
			if v, _ := f[key].(string); v == "" {
				t.Errorf("%s: log field %q: got %v; want a value", id, key, f[key])
			}
		}
	}

	audit, err := h.store.ListAudit(h.ctx, schema.AuditFilter{})
	h.must(err)
	if len(audit) < 2 {
		t.Fatalf("audit entries: got %d; want at least 2", len(audit))
	}
	tids := map[string]bool{}
	for _, c := range h.q.Requests() {
		tids[c.IntuitTID] = true
	}
	for _, a := range audit {
		if a.IntuitTID == "" || !tids[a.IntuitTID] {
			t.Errorf("audit %s %s: intuit_tid %q; want one the QBO fake sent", a.Operation, a.Entity, a.IntuitTID)
		}
	}
}
