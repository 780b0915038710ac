package reconcile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// TestRefusedIsNotUnknown: a write QBO refused on every attempt
// (throttling, 503) is failed and not sent, its intent cleared, and the
// next run sends it again like any failed item; a write some attempt of
// which may have been processed (a 500, a lost answer) is outcome unknown,
// its intent kept for the next run's look-up. Either way the order ends up
// in QBO once.
func TestRefusedIsNotUnknown(t *testing.T) {
	// QBO's XML throttle fault on 403 (quickbooks-ruby's fixture, licence
	// in qbo/testdata): throttling, never a reason to reconnect.
	xmlThrottle, err := os.ReadFile(filepath.Join("..", "qbo", "testdata", "quickbooks-ruby-xml", "spec", "fixtures", "throttle_exceeded_error.xml"))
	if err != nil {
		t.Fatal(err)
	}
	authFault := []byte(`{"Fault":{"Error":[{"Message":"message=AuthenticationFailed; errorCode=003200; statusCode=401",` +
		`"Detail":"Token expired","code":"3200"}],"type":"AuthenticationFault"}}`)
	tests := []struct {
		name        string
		inj         qbotest.Injection
		wantCode    reconcile.ReasonCode
		wantPending bool
		wantText    []string
	}{
		{"throttled", qbotest.Injection{Throttle: true}, reconcile.CodeQBORejected, false,
			[]string{"not sent: QBO refused every attempt", "ThrottleExceeded", "not written: QBO refused all 5 attempts"}},
		{"503", qbotest.Injection{Status: 503}, reconcile.CodeQBORejected, false,
			[]string{"not sent: QBO refused every attempt", "http 503", "[10000]"}},
		{"XML ThrottleExceeded on 403", qbotest.Injection{Status: 403, Body: xmlThrottle}, reconcile.CodeQBORejected, false,
			[]string{"not sent: QBO refused every attempt", "http 403", "[3001]", "The request limit was reached"}},
		// An Intuit outage: the run goes on (h.run fails on ErrQBOAuth).
		{"AuthenticationFault on 503", qbotest.Injection{Status: 503, Body: authFault}, reconcile.CodeQBORejected, false,
			[]string{"not sent: QBO refused every attempt", "AuthenticationFault"}},
		{"AuthenticationFault on 500", qbotest.Injection{Status: 500, Body: authFault}, reconcile.CodeOutcomeUnknown, true,
			[]string{"outcome unknown"}},
		{"500", qbotest.Injection{Status: 500}, reconcile.CodeOutcomeUnknown, true,
			[]string{"outcome unknown"}},
		{"answer lost", qbotest.Injection{LoseResponse: true}, reconcile.CodeOutcomeUnknown, true,
			[]string{"outcome unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEngHarness(t)
			h.v.AddOrder(engOrder("ord_1", "1001", 1))
			inj := tt.inj
			inj.Match = func(c *qbotest.Call) bool { return c.Operation == "create" || c.Operation == "batch" }
			h.q.Inject(inj)
			sum := h.run(reconcile.Options{})
			if len(sum.Items) != 1 || sum.Items[0].Action != reconcile.ActionFailed {
				t.Fatalf("items: got %+v; want ord_1 failed", sum.Items)
			}
			it := sum.Items[0]
			if len(it.Reasons) != 1 || it.Reasons[0].Code != tt.wantCode {
				t.Errorf("reasons: got %+v; want one %s", it.Reasons, tt.wantCode)
			}
			for _, s := range tt.wantText {
				if !contains(it.Reason, s) {
					t.Errorf("reason %q: want it to contain %q", it.Reason, s)
				}
			}
			d := h.doc("order", "ord_1")
			if got := d.HasPendingIntent(); got != tt.wantPending {
				t.Errorf("ledger: pending intent %v; want %v", got, tt.wantPending)
			}
			if !tt.wantPending && d.State != schema.StateFailed {
				t.Errorf("ledger: state %s; want %s", d.State, schema.StateFailed)
			}
			pend, err := h.store.PendingIntents(h.ctx)
			h.must(err)
			if got := len(pend) > 0; got != tt.wantPending {
				t.Errorf("PendingIntents: got %d; want pending %v", len(pend), tt.wantPending)
			}

			h.q.ClearInjections()
			if tt.wantPending {
				// An unknown create may still land for a while: the run that
				// sends it again is one after that window (inflight_test.go).
				h.clk.Advance(engLandBy)
			}
			sum = h.run(reconcile.Options{})
			if !sum.OK() {
				t.Errorf("second run: items %+v; want all done", sum.Items)
			}
			if got := h.byDocNumber("SalesReceipt", "1001"); len(got) != 1 {
				t.Errorf("SalesReceipts 1001: got %d; want 1", len(got))
			}
			if d := h.doc("order", "ord_1"); d.State != schema.StateSent || d.QBOID == "" || d.HasPendingIntent() {
				t.Errorf("ledger after the second run: state %s id %q pending %v; want sent with an id", d.State, d.QBOID, d.HasPendingIntent())
			}
		})
	}
}
