package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/runprogress"
	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// main returns a Main configured as e.exec's, for calling its methods
// directly.
func (e *e2e) main() *Main {
	e.t.Helper()
	clk := clock.NewFake(time.Now())
	m := &Main{
		Stdin:           strings.NewReader(""),
		Stdout:          &bytes.Buffer{},
		Stderr:          &bytes.Buffer{},
		Getenv:          envFunc(e.Env),
		Now:             time.Now,
		IsTerminal:      func() bool { return false },
		QBOOptions:      []qbo.Option{qbo.WithClock(clk)},
		VelocityOptions: []velocity.Option{velocity.WithClock(clk)},
	}
	e.must(m.loadConfig(globalFlags{}, map[string]bool{}))
	m.Log = m.newLogger()
	return m
}

// waitFor waits for ch, failing the test after a minute: a guard against a
// hang, not a sleep.
func waitFor(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("%s: still waiting after a minute", what)
	}
}

// TestStartRun: a run started for the console holds the run lease in the
// user's name while it runs in the background, so another run (the
// daemon's, a second click) is refused naming it; its progress is on the
// board and in the ledger while it runs, and its result when it ends.
func TestStartRun(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eOptions{})
	e.Vel.AddOrder(e2eOrder("o1", "1001", 1))
	e.Vel.AddOrder(e2eOrder("o2", "1002", 1))
	m := e.main()
	m.board = &runprogress.Board{}
	ctx := t.Context()
	st, err := m.openStore(ctx)
	e.must(err)
	defer st.Close()

	if _, err := st.AcquireLease(ctx, runLeaseName, "other", time.Minute); err != nil {
		t.Fatal(err)
	}
	mark := e.mark()
	_, err = m.startRun(ctx, "ann", nil)
	var held *schema.LeaseHeldError
	if !errors.As(err, &held) || held.Holder != "other" {
		t.Fatalf("start while another holds the lease: got %v; want a LeaseHeldError naming other", err)
	}
	if w := e.writesSince(mark); len(w) != 0 {
		t.Errorf("writes while the lease is held: %d", len(w))
	}
	e.must(st.ReleaseLease(ctx, runLeaseName, "other"))

	hold, arrived := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.QBO.Inject(qbotest.Injection{Times: 1, Hold: hold, Match: func(c *qbotest.Call) bool {
		if !isWritePtr(c) {
			return false
		}
		once.Do(func() { close(arrived) })
		return true
	}})
	live, err := m.startRun(ctx, "ann", nil)
	if err != nil {
		t.Fatalf("startRun: %v", err)
	}
	waitFor(t, "the run's first write", arrived)

	s, err := m.runStatus(ctx, st)
	e.must(err)
	if s.Live != live || !s.Running() || s.Lease == nil || !strings.Contains(s.Holder(), "console run by ann") || s.Run == nil || s.Run.Status != schema.RunRunning {
		t.Errorf("status while running: got %+v; want the live run, held by console run by ann, with its running row", s)
	}
	_, err = m.startRun(ctx, "bob", nil)
	if !errors.As(err, &held) || !strings.Contains(held.Holder, "console run by ann") {
		t.Errorf("a second start: got %v; want a LeaseHeldError naming ann", err)
	}

	close(hold)
	waitFor(t, "the run", live.Done())
	sum, err := live.Result()
	if err != nil || sum == nil || sum.Counts.Created != 2 {
		t.Fatalf("result: got %+v, %v; want 2 created", sum, err)
	}
	for _, dn := range []string{"1001", "1002"} {
		e.one("SalesReceipt", dn)
	}
	s, err = m.runStatus(ctx, st)
	e.must(err)
	if s.Running() || m.board.Last() != live {
		t.Errorf("status after the run: got %+v, last %v; want nothing running and the run last", s, m.board.Last())
	}
	runs, err := st.LastRuns(ctx, 1)
	e.must(err)
	if len(runs) != 1 || runs[0].ID != sum.RunID || runs[0].Status != schema.RunOK {
		t.Errorf("ledger: got %+v; want run %s ok", runs, sum.RunID)
	}
}

// consoleRun waits for the run the console started (on its board) to end
// and returns its summary.
func (h *consoleHarness) consoleRun(t *testing.T) *reconcile.Summary {
	t.Helper()
	l := h.main.board.Current()
	if l == nil {
		l = h.main.board.Last()
	}
	if l == nil {
		t.Fatal("no run on the console's board")
	}
	waitFor(t, "the console's run", l.Done())
	sum, err := l.Result()
	if err != nil && !errors.Is(err, errIncomplete) {
		t.Fatalf("the console's run: %v", err)
	}
	return sum
}

// hostileOrder adds to the store an order of a linked customer whose
// line sells a product that is not linked and is named like a script: the
// reason it is blocked names the product.
func (h *consoleHarness) hostileOrder(t *testing.T) *velocity.Order {
	t.Helper()
	return h.addOrder(t, "ord_evil", "9001", "", "prod_evil", hostileName)
}

// addOrder adds to the store a copy of the first generated order with id
// and number, without its shipments, payments and refunds; customer, when
// not "", replaces its customer, and product its first line's product
// (named name).
func (h *consoleHarness) addOrder(t *testing.T, id, number, customer, product, name string) *velocity.Order {
	t.Helper()
	o := *h.data.Orders[0]
	o.ID, o.Number = id, number
	if customer != "" {
		o.CustomerID = customer
	}
	o.Lines = slices.Clone(o.Lines)
	if product != "" {
		o.Lines[0].ProductID, o.Lines[0].SKU, o.Lines[0].Name = product, "", name
	}
	o.Refunds, o.Payments, o.Shipments = nil, nil, nil
	h.velocity.AddOrder(&o)
	return &o
}

const hostileName = `<script>alert("x")</script>`

// wantEscaped fails unless body shows hostileName escaped and never raw.
func wantEscaped(t *testing.T, page, body string) {
	t.Helper()
	if strings.Contains(body, hostileName) || strings.Contains(body, "<script>alert") {
		t.Errorf("%s: the hostile name is not escaped", page)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(") {
		t.Errorf("%s: the hostile name is not shown (escaped)", page)
	}
}

func wantIn(t *testing.T, page, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: want %q in\n%s", page, w, body)
		}
	}
}

// TestConsoleRuns_Protected: every route needs a login; Preview and Run
// now are an admin's (a viewer sees no button and gets 403); a forged Run
// now is refused; none of the refused requests runs anything.
func TestConsoleRuns_Protected(t *testing.T) {
	t.Parallel()
	h := newConsole(t, prepared())
	mark := len(h.qbo.Requests())
	for _, p := range []string{"/runs", "/runs/progress", "/runs/preview", "/runs/20260101T000000Z-00000000"} {
		h.checkProtected(t, http.MethodGet, p, nil, false)
	}
	h.checkProtected(t, http.MethodPost, "/runs", url.Values{}, true)
	viewer := h.login(t, "viewer")
	if r := viewer.get(t, "/runs/preview"); r.Code != http.StatusForbidden {
		t.Errorf("GET /runs/preview as viewer: status %d; want 403", r.Code)
	}
	r := viewer.get(t, "/runs").wantCode(t, http.StatusOK)
	if strings.Contains(r.Body, `id="run-now"`) || strings.Contains(r.Body, `id="preview"`) {
		t.Errorf("/runs as viewer: shows Run now or Preview")
	}
	wantIn(t, "/runs as viewer", r.Body, "No runs yet")
	if runs, err := h.store.LastRuns(t.Context(), 5); err != nil || len(runs) != 0 {
		t.Errorf("runs after the refused requests: %v, %v; want none", runs, err)
	}
	for _, c := range h.qbo.Requests()[mark:] {
		if isWrite(c) {
			t.Errorf("QBO write after the refused requests: %+v", c)
		}
	}
}

// TestConsoleRuns_PreviewAndRunNow: Preview shows what a run would send,
// grouped, sending nothing; Run now runs it in the background as `velqbo
// run` does: the documents are in QBO, the run in the ledger, in the
// history and on its own page with its items; hostile names are escaped
// everywhere.
func TestConsoleRuns_PreviewAndRunNow(t *testing.T) {
	t.Parallel()
	h := newConsole(t, prepared())
	h.hostileOrder(t)
	admin := h.login(t, "admin")
	wantIn(t, "/runs before any run", admin.get(t, "/runs").wantCode(t, http.StatusOK).Body,
		"No runs yet", `id="run-now"`, `href="/runs/preview"`)

	mark := len(h.qbo.Requests())
	r := admin.get(t, "/runs/preview").wantCode(t, http.StatusOK)
	wantIn(t, "/runs/preview", r.Body, "would create", "Product not linked to a QuickBooks item",
		`href="/products/prod_evil"`, `href="/orders/9001"`, "Nothing has been sent")
	wantEscaped(t, "/runs/preview", r.Body)
	for _, c := range h.qbo.Requests()[mark:] {
		if isWrite(c) {
			t.Errorf("QBO write by the preview: %+v", c)
		}
	}
	if runs, _ := h.store.LastRuns(t.Context(), 5); len(runs) != 0 {
		t.Errorf("runs after the preview: %v; want none", runs)
	}

	r = admin.post(t, "/runs", url.Values{})
	if r.Code != http.StatusSeeOther || r.Location() != "/runs" {
		t.Fatalf("POST /runs: status %d to %q; want 303 to /runs\n%s", r.Code, r.Location(), r.Body)
	}
	sum := h.consoleRun(t)
	if sum.Counts.Created == 0 || sum.Counts.Blocked != 1 {
		t.Fatalf("the run: counts %+v; want documents created and the hostile order blocked", sum.Counts)
	}
	docs := len(h.qbo.Entities("SalesReceipt")) + len(h.qbo.Entities("Invoice"))
	if docs == 0 {
		t.Errorf("QBO after Run now: no SalesReceipt or Invoice")
	}
	runs, err := h.store.LastRuns(t.Context(), 5)
	if err != nil || len(runs) != 1 || runs[0].ID != sum.RunID || runs[0].Status != schema.RunPartial {
		t.Fatalf("ledger runs: %+v, %v; want run %s partial", runs, err, sum.RunID)
	}
	r = admin.get(t, "/runs").wantCode(t, http.StatusOK)
	wantIn(t, "/runs after the run", r.Body, "The run has started.", `href="/runs/`+sum.RunID+`"`, "partial")
	if strings.Contains(r.Body, "data-poll") {
		t.Errorf("/runs after the run: still polls for progress")
	}
	r = admin.get(t, "/runs/"+sum.RunID).wantCode(t, http.StatusOK)
	wantIn(t, "the run's page", r.Body, "Run "+sum.RunID, "create", `href="/products/prod_evil"`, "created "+strconv.Itoa(sum.Counts.Created))
	wantEscaped(t, "the run's page", r.Body)
	for _, it := range sum.Items {
		if it.Action == "create" && it.DocNumber != "" && !strings.Contains(r.Body, "#"+it.DocNumber) {
			t.Errorf("the run's page: no item with DocNumber %s", it.DocNumber)
		}
	}
	admin.get(t, "/runs/20260101T000000Z-00000000").wantCode(t, http.StatusNotFound)
}

// TestConsoleRuns_InProgress: while another run holds the lease, Run now
// is refused naming it, and the page shows that a run is in progress (from
// the ledger) and polls; a run the console started shows its holder, and a
// second Run now is refused naming the first; once it ends the box is
// gone.
func TestConsoleRuns_InProgress(t *testing.T) {
	t.Parallel()
	h := newConsole(t, prepared())
	admin := h.login(t, "admin")
	if _, err := h.store.AcquireLease(t.Context(), runLeaseName, "nightly run", time.Minute); err != nil {
		t.Fatal(err)
	}
	r := admin.post(t, "/runs", url.Values{}).wantCode(t, http.StatusConflict)
	wantIn(t, "Run now while held", r.Body, "A run is already in progress, started by nightly run", `data-poll="/runs/progress"`)
	r = admin.get(t, "/runs/progress").wantCode(t, http.StatusOK)
	wantIn(t, "/runs/progress while held", r.Body, "A run is in progress", "nightly run", "another velqbo process", `http-equiv="refresh"`)
	if strings.Contains(r.Body, "<html") {
		t.Errorf("/runs/progress: got a whole page; want the fragment")
	}
	if runs, _ := h.store.LastRuns(t.Context(), 5); len(runs) != 0 {
		t.Errorf("runs while the lease is held: %v; want none", runs)
	}
	if err := h.store.ReleaseLease(t.Context(), runLeaseName, "nightly run"); err != nil {
		t.Fatal(err)
	}

	hold, arrived := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h.qbo.Inject(qbotest.Injection{Times: 1, Hold: hold, Match: func(c *qbotest.Call) bool {
		if !isWritePtr(c) {
			return false
		}
		once.Do(func() { close(arrived) })
		return true
	}})
	admin.post(t, "/runs", url.Values{}).wantCode(t, http.StatusSeeOther)
	waitFor(t, "the run's first write", arrived)
	r = admin.get(t, "/runs/progress").wantCode(t, http.StatusOK)
	wantIn(t, "/runs/progress while the console runs", r.Body, "A run is in progress", "console run by admin", "run-progress-text")
	r = h.login(t, "viewer").get(t, "/runs").wantCode(t, http.StatusOK)
	wantIn(t, "/runs as viewer while the console runs", r.Body, "console run by admin", `data-poll="/runs/progress"`)
	r = admin.post(t, "/runs", url.Values{}).wantCode(t, http.StatusConflict)
	wantIn(t, "a second Run now", r.Body, "A run is already in progress, started by console run by admin")
	close(hold)
	sum := h.consoleRun(t)
	if sum.Counts.Created == 0 {
		t.Errorf("the held run: counts %+v; want documents created", sum.Counts)
	}
	r = admin.get(t, "/runs/progress").wantCode(t, http.StatusOK)
	if strings.Contains(r.Body, "data-poll") || strings.Contains(r.Body, "refresh") {
		t.Errorf("/runs/progress after the run: %s; want the idle box", r.Body)
	}
}

// TestStartRun_Stop: the daemon's shutdown (runStop) stops a run the
// console started as it stops a scheduled one: the write in flight
// finishes, the run is recorded as ended, the lease is free, and
// waitConsoleRun returns once it has.
func TestStartRun_Stop(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eOptions{})
	for _, n := range []string{"1", "2", "3"} {
		e.Vel.AddOrder(e2eOrder("o"+n, "100"+n, 1))
	}
	m := e.main()
	stop := make(chan struct{})
	m.runStop = stop
	hold, arrived := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.QBO.Inject(qbotest.Injection{Times: 1, Hold: hold, Match: func(c *qbotest.Call) bool {
		if !isWritePtr(c) {
			return false
		}
		once.Do(func() { close(arrived) })
		return true
	}})
	b := &consoleBackend{m: m}
	live, err := b.RunNow(t.Context(), "ann")
	if err != nil {
		t.Fatalf("RunNow: %v", err)
	}
	waitFor(t, "the run's first write", arrived)
	close(stop)
	close(hold)
	m.waitConsoleRun(time.Minute)
	select {
	case <-live.Done():
	default:
		t.Fatal("waitConsoleRun returned before the run ended")
	}
	st, err := m.openStore(t.Context())
	e.must(err)
	defer st.Close()
	runs, err := st.LastRuns(t.Context(), 1)
	e.must(err)
	if len(runs) != 1 || runs[0].Status == schema.RunRunning || runs[0].FinishedAt.IsZero() {
		t.Errorf("ledger after the stop: %+v; want the run ended", runs)
	}
	if _, err := st.GetLease(t.Context(), runLeaseName); !errors.Is(err, schema.ErrNotFound) {
		t.Errorf("lease after the stop: got %v; want it released", err)
	}
}
