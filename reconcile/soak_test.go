package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/reconcile/reconciletest"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// The soak test drives many reconciliations of a changing Velocity store
// against a fake QBO that misbehaves in every way the client must survive
// (5xx, 429, latency, lost responses, expired access tokens) while the
// process is "killed" at random points of a write. Everything runs in
// process on fake clocks: no real sleeps. Afterwards QBO must hold exactly
// the documents the final Velocity state maps to, each once, to the cent.
//
// Bounded form (go test, -short, CI): 40 rounds, about 15 s. VELQBO_SOAK=long:
// 300 rounds.
// VELQBO_SOAK_SEED picks another schedule.

// soak is the world of one soak test: the fakes, the clock, the database
// file and the "process" (store, QBO client, Reconciler) that a kill
// throws away.
type soak struct {
	t    *testing.T
	ctx  context.Context
	rng  *rand.Rand
	clk  *clock.Fake
	q    *qbotest.Server
	seed qbotest.Seeded
	v    *velocitytest.Server
	path string

	// tokMu guards refresh, the newest refresh token, as the database
	// would hold it: a restarted process starts from it.
	tokMu   sync.Mutex
	refresh string

	store *schema.Store
	rec   *reconcile.Reconciler

	orders  []string // every order id loaded into Velocity
	pending []*velocity.Order
	nextPay int

	stats soakStats
}

// soakStats counts what the soak injected and what the runs reported.
type soakStats struct {
	rounds, kills, killsUnfired, restarts, runErrors, runsOK                 int
	inj5xx, inj429, injLost, injLatency, injTokenFaults, expiries, velFaults int
	mutations                                                                map[string]int
	errs                                                                     map[string]int
}

func soakRounds() int {
	if os.Getenv("VELQBO_SOAK") == "long" {
		return 300
	}
	return 40
}

func TestSoak(t *testing.T) {
	seed := uint64(20260601)
	if s := os.Getenv("VELQBO_SOAK_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	rounds := soakRounds()
	t.Logf("soak: seed %d, %d rounds (VELQBO_SOAK=long for 300, VELQBO_SOAK_SEED=n for another schedule)", seed, rounds)

	s := newSoak(t, seed, rounds)
	for r := 0; r < rounds; r++ {
		s.round(r)
	}

	// A clean ending: no faults, runs until one sends nothing.
	s.q.ClearInjections()
	settled := false
	for i := 0; i < 4 && !settled; i++ {
		s.clk.Advance(10 * time.Minute) // the next scheduled run
		m := len(s.q.Requests())
		sum, err := s.rec.Run(s.ctx, reconcile.Options{})
		if err != nil {
			t.Fatalf("clean run %d: %v", i+1, err)
		}
		if soakWrites(s.q.Requests()[m:]) == 0 {
			settled = true
			if !sum.OK() {
				t.Errorf("settled run not OK: counts %+v; items %+v", sum.Counts, sum.Items)
			}
		}
	}
	if !settled {
		t.Errorf("still writing after 4 clean runs")
	}
	s.check()

	// A full run re-reads everything and must find nothing to do: the
	// incremental runs missed nothing.
	s.clk.Advance(10 * time.Minute)
	m := len(s.q.Requests())
	sum, err := s.rec.Run(s.ctx, reconcile.Options{Mode: reconcile.ModeFull})
	if err != nil {
		t.Fatalf("final full run: %v", err)
	}
	if w := soakWrites(s.q.Requests()[m:]); w != 0 || !sum.OK() {
		t.Errorf("final full run: %d writes, counts %+v; want no writes and OK", w, sum.Counts)
	}
	s.report()
}

func newSoak(t *testing.T, seed uint64, rounds int) *soak {
	t.Helper()
	// The fake clock starts after every generated timestamp, so that
	// Velocity's updated_at only moves forward, as it does in life.
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	s := &soak{t: t, ctx: t.Context(), rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), clk: clock.NewFake(start),
		path: filepath.Join(t.TempDir(), "velqbo.db")}
	s.stats.mutations, s.stats.errs = map[string]int{}, map[string]int{}
	s.q = qbotest.NewTestServer(t, qbotest.WithClock(s.clk))
	s.seed = s.q.SeedDefaults()
	s.refresh = s.q.IssueRefreshToken()
	s.v = velocitytest.NewTestServer(t, velocitytest.WithNow(s.clk.Now))

	nOrders := 30 + 3*rounds
	ds := velocitytest.Generate(int64(seed), velocitytest.GenOptions{Customers: 12, Products: 15, Orders: nOrders})
	for _, c := range ds.Customers {
		s.v.AddCustomer(c)
	}
	for _, p := range ds.Products {
		s.v.AddProduct(p)
	}
	s.pending = ds.Orders
	s.open()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.store.SetSettings(s.ctx, reconciletest.Settings(s.seed)))
	for i, c := range ds.Customers {
		id := s.q.AddCustomer(fmt.Sprintf("Soak Customer %d", i), "")
		must(s.store.SaveLink(s.ctx, schema.CustomerLinks, schema.Link{VelocityID: c.ID, QBOID: id, Method: schema.LinkManual}))
	}
	items := []string{s.seed.Products["SKU-1"], s.seed.Products["SKU-2"], s.seed.Products["SKU-3"]}
	for i, p := range ds.Products {
		must(s.store.SaveLink(s.ctx, schema.ProductLinks, schema.Link{VelocityID: p.ID, QBOID: items[i%len(items)], Method: schema.LinkManual}))
	}
	s.addOrders(30)
	return s
}

// open starts a "process": it opens the database file and builds a QBO
// client from the newest stored refresh token, as a restarted velqbo does.
func (s *soak) open() {
	t := s.t
	t.Helper()
	// The ledger's times (pending_at) and the engine's now are one clock.
	st, err := schema.Open(s.ctx, s.path, schema.WithClock(s.clk.Now))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	s.store = st
	conf := qbo.NewOAuthConfig(qbotest.DefaultClientID, qbotest.DefaultClientSecret, "http://localhost/cb")
	conf.Endpoint.TokenURL = s.q.TokenURL()
	s.tokMu.Lock()
	tok := &oauth2.Token{RefreshToken: s.refresh}
	s.tokMu.Unlock()
	save := func(_ context.Context, tok *oauth2.Token) error {
		s.tokMu.Lock()
		defer s.tokMu.Unlock()
		if tok.RefreshToken != "" {
			s.refresh = tok.RefreshToken
		}
		return nil
	}
	ts := qbo.NewTokenSource(conf, tok, save, s.q.Client(), s.clk.Now)
	qc, err := qbo.NewClient(ts.HTTPClient(s.q.Client().Transport),
		qbo.WithBaseURL(s.q.URL), qbo.WithRealmID(s.q.Realm()), qbo.WithClock(s.clk),
		qbo.WithTokenInvalidator(ts), qbo.WithRetryPolicy(qbo.RetryPolicy{Jitter: func(d time.Duration) time.Duration { return d }}))
	if err != nil {
		t.Fatal(err)
	}
	vc, err := s.v.NewClient(velocity.WithClock(s.clk))
	if err != nil {
		t.Fatal(err)
	}
	s.rec = &reconcile.Reconciler{
		Source: vc, Store: s.store, QBO: reconcile.QBOClient{C: qc}, Realm: s.q.Realm(),
		Now: s.clk.Now, Concurrency: 1 + s.rng.IntN(6), ChunkSize: 5 + s.rng.IntN(40),
	}
}

// restart is kill -9 and start again: everything in memory is lost, the
// database file stays.
func (s *soak) restart() {
	s.t.Helper()
	if err := s.store.Close(); err != nil {
		s.t.Fatalf("close store: %v", err)
	}
	s.stats.restarts++
	s.open()
}

// addOrders loads the next n generated orders into Velocity, stamped now:
// they are new orders.
func (s *soak) addOrders(n int) {
	for ; n > 0 && len(s.pending) > 0; n-- {
		o := s.pending[0].Clone()
		s.pending = s.pending[1:]
		o.UpdatedAt = time.Time{}
		s.v.AddOrder(o)
		s.orders = append(s.orders, o.ID)
		s.stats.mutations["new order"]++
	}
}

// live returns a random order that is approved and not cancelled.
func (s *soak) pickLive(ok func(*velocity.Order) bool) *velocity.Order {
	for range 20 {
		o, found := s.v.Order(s.orders[s.rng.IntN(len(s.orders))])
		if found && o.Approved() && !o.Cancelled() && (ok == nil || ok(o)) {
			return o
		}
	}
	return nil
}

func (s *soak) cents(max decimal.Decimal) decimal.Decimal {
	c := max.Shift(2).IntPart()
	if c > 5000 {
		c = 5000
	}
	if c < 1 {
		return decimal.Zero
	}
	return decimal.New(1+s.rng.Int64N(c), -2)
}

// mutate changes the Velocity store as its users would between runs.
func (s *soak) mutate() {
	s.clk.Advance(time.Duration(1+s.rng.IntN(120)) * time.Minute)
	n := 1 + s.rng.IntN(5)
	for range n {
		var kind string
		var err error
		switch x := s.rng.IntN(100); {
		case x < 25:
			s.addOrders(1 + s.rng.IntN(4))
			continue
		case x < 40:
			kind = "shipment"
			if o := s.pickLive(nil); o != nil {
				l := o.Lines[s.rng.IntN(len(o.Lines))]
				at := s.clk.Now()
				err = s.v.AddShipment(o.ID, velocity.Shipment{ShippedAt: &at, Carrier: []string{"UPS", "FedEx", "USPS"}[s.rng.IntN(3)],
					TrackingNumber: fmt.Sprintf("1Z%08d", s.rng.IntN(1e8)), Items: []velocity.ShipmentItem{{LineID: l.ID, Quantity: l.Quantity}}})
			}
		case x < 55:
			kind = "refund"
			if o := s.pickLive(func(o *velocity.Order) bool { return o.Total.Sub(o.RefundsTotal()).IsPositive() }); o != nil {
				amt := s.cents(o.Total.Sub(o.RefundsTotal()))
				method := o.PaymentMethod
				if o.OnTerms() {
					method = velocity.MethodCheck
				}
				err = s.v.AddRefund(o.ID, velocity.Refund{PaymentMethod: method, Reason: "soak",
					Lines: []velocity.RefundLine{{Kind: velocity.RefundCustom, Amount: amt, Description: "goodwill"}}})
			}
		case x < 70:
			kind = "payment"
			if o := s.pickLive(func(o *velocity.Order) bool { return o.Total.Sub(o.PaymentsTotal()).IsPositive() }); o != nil {
				s.nextPay++
				err = s.v.AddPayment(o.ID, velocity.Payment{ID: fmt.Sprintf("soakpay_%d", s.nextPay),
					Amount: s.cents(o.Total.Sub(o.PaymentsTotal())), Method: velocity.MethodCheck, Reference: fmt.Sprintf("chk %d", s.nextPay)})
			}
		case x < 82:
			// An edit that raises the total: one more of an integer-quantity
			// line (refunds and payments stay within the total).
			kind = "edit"
			if o := s.pickLive(nil); o != nil {
				err = s.v.UpdateOrder(o.ID, func(o *velocity.Order) {
					o.Email = fmt.Sprintf("edited%d@example.com", s.rng.IntN(1000))
					for i, l := range o.Lines {
						if l.Quantity.Equal(l.Quantity.Truncate(0)) {
							o.Lines[i].Quantity = l.Quantity.Add(decimal.NewFromInt(1))
							o.Total = o.Total.Add(l.UnitPrice)
							break
						}
					}
				})
			}
		case x < 88:
			kind = "cancel"
			if o := s.pickLive(func(o *velocity.Order) bool { return len(o.Refunds) == 0 && len(o.Payments) == 0 }); o != nil {
				err = s.v.Cancel(o.ID)
			}
		case x < 94:
			kind = "report as invoice"
			if o := s.pickLive(func(o *velocity.Order) bool { return !o.OnTerms() && !o.ReportAsInvoice }); o != nil {
				err = s.v.SetReportAsInvoice(o.ID, true)
			}
		default:
			kind = "approve"
			for _, id := range s.orders {
				if o, ok := s.v.Order(id); ok && !o.Approved() && !o.Cancelled() {
					err = s.v.Approve(id)
					break
				}
			}
		}
		if err != nil {
			s.t.Fatalf("%s: %v", kind, err)
		}
		s.stats.mutations[kind]++
	}
}

// arm injects this round's faults.
func (s *soak) arm() {
	s.q.ClearInjections()
	writes := func(c *qbotest.Call) bool {
		return c.Method == "POST" && c.Operation != "token" && c.Operation != "query" && c.Operation != "other"
	}
	api := func(c *qbotest.Call) bool { return c.Operation != "token" }
	if s.rng.IntN(3) == 0 {
		times := 1 + s.rng.IntN(4)
		if s.rng.IntN(6) == 0 {
			times = 60 // a storm longer than the client's retries
		}
		s.q.Inject(qbotest.Injection{Match: api, Status: []int{500, 502, 503, 504}[s.rng.IntN(4)], Times: times})
		s.stats.inj5xx += times
	}
	if s.rng.IntN(3) == 0 {
		times := 1 + s.rng.IntN(4)
		if s.rng.IntN(6) == 0 {
			times = 60
		}
		s.q.Inject(qbotest.Injection{Match: api, Throttle: true, Times: times})
		s.stats.inj429 += times
	}
	if s.rng.IntN(3) == 0 {
		times := 1 + s.rng.IntN(3)
		s.q.Inject(qbotest.Injection{Match: writes, LoseResponse: true, Times: times})
		s.stats.injLost += times
	}
	if s.rng.IntN(4) == 0 {
		times := 1 + s.rng.IntN(5)
		// Latency on the fake clock: long enough to outlive an access token.
		s.q.Inject(qbotest.Injection{Match: api, Latency: time.Duration(1+s.rng.IntN(40)) * time.Minute, Times: times})
		s.stats.injLatency += times
	}
	if s.rng.IntN(8) == 0 {
		s.q.Inject(qbotest.Injection{Match: func(c *qbotest.Call) bool { return c.Operation == "token" }, Status: 503, Times: 1})
		s.stats.injTokenFaults++
	}
	if s.rng.IntN(4) == 0 {
		s.q.ExpireAccessTokens()
		s.stats.expiries++
	}
	if s.rng.IntN(6) == 0 {
		kind := []velocitytest.FaultKind{velocitytest.FaultUnavailable, velocitytest.FaultRateLimit, velocitytest.FaultTruncated}[s.rng.IntN(3)]
		s.v.InjectFault(velocitytest.Fault{Kind: kind, Path: "/v1/orders", RetryAfter: 1})
		s.stats.velFaults++
	}
}

// round is one iteration: change Velocity, arm faults, run (maybe killed).
func (s *soak) round(r int) {
	s.stats.rounds++
	s.mutate()
	s.arm()

	sends := 0
	kill := s.rng.IntN(10) < 3
	killAt := 1 + s.rng.IntN(12)
	// The intent is drawn twice as often as a send or an outcome, then
	// split evenly between before and after it.
	killStep := []crashStep{afterIntent, afterIntent, afterSend, afterOutcome}[s.rng.IntN(4)]
	if killStep == afterIntent && s.rng.IntN(2) == 0 {
		killStep = beforeIntent
	}
	expireAt := -1
	if s.rng.IntN(4) == 0 {
		expireAt = 1 + s.rng.IntN(8)
	}
	c := &crash{step: killStep, onStep: func(step crashStep) {
		if step != afterSend {
			return
		}
		sends++
		if sends == expireAt {
			// The access token expires in the middle of the run. A
			// minute passes first: the token source rightly ignores
			// a second 401 within seconds of its last refresh.
			s.clk.Advance(time.Minute)
			s.q.ExpireAccessTokens()
			s.stats.expiries++
		}
	}}
	if kill {
		c.at = killAt
	}
	restore := c.install(s.rec)
	mode := reconcile.Options{}
	if s.rng.IntN(10) == 0 {
		mode.Mode = reconcile.ModeFull
	}
	sum, err := s.rec.Run(s.ctx, mode)
	restore()
	fired := c.killed()
	switch {
	case fired:
		if !errors.Is(err, errKilled) {
			s.t.Fatalf("round %d: killed run returned %v; want the kill", r, err)
		}
		s.stats.kills++
		s.restart()
	case err != nil:
		s.stats.runErrors++
		s.stats.errs[soakErrClass(err)]++
		s.t.Logf("round %d: run error (tolerated under faults): %v", r, err)
	default:
		if kill {
			s.stats.killsUnfired++
		}
		if sum.OK() {
			s.stats.runsOK++
		}
		for _, it := range sum.Items {
			if it.Action == "blocked" {
				s.t.Errorf("round %d: %s %s blocked: %s (valid generated data must never block)", r, it.Kind, it.SourceID, it.Reason)
			}
		}
	}
	// Some rounds also restart without a kill: a daemon restarted by its
	// supervisor.
	if !fired && s.rng.IntN(10) == 0 {
		s.restart()
	}
}

func soakErrClass(err error) string {
	switch {
	case errors.Is(err, reconcile.ErrSourceUnavailable):
		return "velocity unavailable"
	case errors.Is(err, reconcile.ErrQBOAuth):
		return "qbo auth"
	}
	return "other"
}

func soakWrites(calls []qbotest.Call) int {
	n := 0
	for _, c := range calls {
		if c.Method == "POST" && c.Operation != "query" && c.Operation != "token" && c.Operation != "other" {
			n++
		}
	}
	return n
}

// soakEnv is the mapping's view of the world, built from the ledger's
// settings and links as a run would: the expectations come from MapOrder
// and the final Velocity state, not from anything the runs recorded.
func (s *soak) env() *reconcile.Env {
	s.t.Helper()
	sets, err := s.store.Settings(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	kv := map[string]string{}
	for _, st := range sets {
		kv[st.Key] = st.Value
	}
	env := &reconcile.Env{HomeCurrency: "USD", Customers: map[string]reconcile.Link{}, Products: map[string]reconcile.Link{}}
	if env.Settings, err = reconcile.ParseSettings(kv, nil); err != nil {
		s.t.Fatal(err)
	}
	for _, kind := range []schema.LinkKind{schema.CustomerLinks, schema.ProductLinks} {
		links, err := s.store.ListLinks(s.ctx, kind)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, l := range links {
			if kind == schema.CustomerLinks {
				env.Customers[l.VelocityID] = reconcile.Link{QBOID: l.QBOID}
			} else {
				env.Products[l.VelocityID] = reconcile.Link{QBOID: l.QBOID}
			}
		}
	}
	return env
}

// check compares QBO with what the final Velocity state maps to.
func (s *soak) check() {
	t := s.t
	t.Helper()
	env := s.env()
	byNumber := map[string][]qbotest.Entity{} // "<type>/<DocNumber>" -> entities (deleted excluded)
	byMarker := map[string][]qbotest.Entity{} // payment marker -> live payments
	liveCount := map[string]int{}
	for _, typ := range []string{"SalesReceipt", "Invoice", "RefundReceipt", "Payment"} {
		for _, e := range s.q.Entities(typ) {
			if e.Deleted {
				continue
			}
			if !e.Voided {
				liveCount[typ]++
			}
			if typ == "Payment" {
				if i := strings.Index(e.PrivateNote, "[velqbo:p:"); i >= 0 && !e.Voided {
					m := e.PrivateNote[i:]
					byMarker[m[:strings.Index(m, "]")+1]] = append(byMarker[m[:strings.Index(m, "]")+1]], e)
				}
				continue
			}
			byNumber[typ+"/"+e.DocNumber] = append(byNumber[typ+"/"+e.DocNumber], e)
		}
	}
	liveOf := func(es []qbotest.Entity) (live, voided []qbotest.Entity) {
		for _, e := range es {
			if e.Voided {
				voided = append(voided, e)
			} else {
				live = append(live, e)
			}
		}
		return
	}
	want := map[string]int{}
	var docs, cancelled, voidedReceipts int
	for _, id := range s.orders {
		o, ok := s.v.Order(id)
		if !ok {
			t.Fatalf("order %s vanished from Velocity", id)
		}
		d := reconcile.MapOrder(o, env)
		if d.Skip != "" {
			for _, typ := range []string{"SalesReceipt", "Invoice"} {
				if es := byNumber[typ+"/"+o.Number]; len(es) != 0 {
					t.Errorf("order %s is not reported (%s) but QBO holds %d %s", o.Number, d.Skip, len(es), typ)
				}
			}
			continue
		}
		if d.Cancelled {
			cancelled++
			for _, typ := range []string{"SalesReceipt", "Invoice"} {
				if live, _ := liveOf(byNumber[typ+"/"+o.Number]); len(live) != 0 {
					t.Errorf("cancelled order %s: %d live %s; want none (voided)", o.Number, len(live), typ)
				}
			}
			continue
		}
		if len(d.Doc.Blocked) > 0 {
			t.Errorf("order %s blocked: %s", o.Number, d.Doc.Blocked)
			continue
		}
		docs++
		want[d.Doc.QBOType]++
		live, _ := liveOf(byNumber[d.Doc.QBOType+"/"+o.Number])
		if len(live) != 1 {
			t.Errorf("order %s: %d live %s; want exactly 1", o.Number, len(live), d.Doc.QBOType)
		} else {
			e := live[0]
			if !e.TotalAmt.Equal(o.Total) || !e.TotalAmt.Equal(d.Doc.Total) {
				t.Errorf("order %s: %s TotalAmt %s; want %s (Velocity)", o.Number, d.Doc.QBOType, e.TotalAmt, o.Total)
			}
			if !strings.Contains(e.PrivateNote, "[velqbo:o:"+o.ID+":g0]") {
				t.Errorf("order %s: PrivateNote %q lacks its marker", o.Number, e.PrivateNote)
			}
			if d.Doc.QBOType == reconcile.TypeInvoice {
				if bal := o.Total.Sub(o.PaymentsTotal()); !e.Balance.Equal(bal) {
					t.Errorf("invoice %s: Balance %s; want %s (total less payments)", o.Number, e.Balance, bal)
				}
			}
		}
		other := reconcile.TypeSalesReceipt
		if d.Doc.QBOType == other {
			other = reconcile.TypeInvoice
		}
		live, voided := liveOf(byNumber[other+"/"+o.Number])
		if len(live) != 0 || len(voided) > 1 {
			t.Errorf("order %s: %d live and %d voided %s besides its %s; want none live, at most one voided", o.Number, len(live), len(voided), other, d.Doc.QBOType)
		}
		voidedReceipts += len(voided)
		for i, r := range d.Refunds {
			if len(r.Blocked) > 0 {
				t.Errorf("refund %s of %s blocked: %s", r.SourceID, o.Number, r.Blocked)
				continue
			}
			want[r.QBOType]++
			vr := o.RefundsOrdered()[i].Refund
			live, _ := liveOf(byNumber["RefundReceipt/"+r.DocNumber])
			if len(live) != 1 {
				t.Errorf("refund %s (%s): %d live RefundReceipts; want exactly 1", vr.ID, r.DocNumber, len(live))
			} else if !live[0].TotalAmt.Equal(vr.Total) {
				t.Errorf("refund %s (%s): TotalAmt %s; want %s", vr.ID, r.DocNumber, live[0].TotalAmt, vr.Total)
			}
		}
		for _, p := range d.Payments {
			got := byMarker["[velqbo:p:"+p.SourceID+":g0]"]
			if p.NotApplicable != "" {
				if len(got) != 0 {
					t.Errorf("payment %s on receipt %s: %d in QBO; want none", p.SourceID, o.Number, len(got))
				}
				continue
			}
			if len(p.Blocked) > 0 {
				t.Errorf("payment %s of %s blocked: %s", p.SourceID, o.Number, p.Blocked)
				continue
			}
			want[p.QBOType]++
			if len(got) != 1 {
				t.Errorf("payment %s of %s: %d in QBO; want exactly 1", p.SourceID, o.Number, len(got))
			} else if !got[0].TotalAmt.Equal(p.Total) {
				t.Errorf("payment %s: TotalAmt %s; want %s", p.SourceID, got[0].TotalAmt, p.Total)
			}
		}
	}
	for _, typ := range []string{"SalesReceipt", "Invoice", "RefundReceipt", "Payment"} {
		if liveCount[typ] != want[typ] {
			t.Errorf("live %s in QBO: got %d; want %d (a stray or duplicate document)", typ, liveCount[typ], want[typ])
		}
	}
	t.Logf("soak: QBO holds exactly the expected documents: %d orders reported, %d cancelled (voided), %d receipts replaced by invoices; live by type %v",
		docs, cancelled, voidedReceipts, liveCount)
}

func (s *soak) report() {
	st := s.q.Stats()
	lost, injected5xx := 0, 0
	for _, c := range s.q.Requests() {
		if c.Injected && c.Status >= 500 {
			injected5xx++
		}
		if c.Lost {
			lost++
		}
	}
	var muts []string
	for k, v := range s.stats.mutations {
		muts = append(muts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(muts)
	s.t.Logf("soak: %d rounds, %d orders; mutations: %s", s.stats.rounds, len(s.orders), strings.Join(muts, ", "))
	s.t.Logf("soak: armed 5xx %d, 429 %d, lost responses %d, latency %d, token endpoint 503 %d, access-token expiries %d, Velocity faults %d",
		s.stats.inj5xx, s.stats.inj429, s.stats.injLost, s.stats.injLatency, s.stats.injTokenFaults, s.stats.expiries, s.stats.velFaults)
	s.t.Logf("soak: survived %d kills (%d armed kills never reached), %d restarts, %d runs with a run-level error %v, %d runs OK",
		s.stats.kills, s.stats.killsUnfired, s.stats.restarts, s.stats.runErrors, s.stats.errs, s.stats.runsOK)
	s.t.Logf("soak: QBO saw %d requests: %d creates, %d updates, %d voids, %d batches, %d requestid replays, %d answered 5xx by injection, %d throttled, %d unauthorized, %d responses lost; fake time now %s",
		st.Requests, st.Creates, st.Updates, st.Voids, st.Batches, st.Replays, injected5xx, st.Throttled, st.Unauthorized, lost, s.clk.Now().Format(time.RFC3339))
	if s.stats.kills == 0 || lost == 0 || st.Throttled == 0 || injected5xx == 0 {
		s.t.Errorf("the schedule did not exercise every fault (kills %d, lost %d, 429 %d, 5xx %d): pick another seed", s.stats.kills, lost, st.Throttled, injected5xx)
	}
}
