package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

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

// company is a QBO company (a qbotest server) prepared the way a bookkeeper
// prepares one before the first run: accounts and placeholder items mapped
// in the settings, every Velocity customer and product linked to a QBO
// customer and item.
type company struct {
	srv       *qbotest.Server
	settings  map[string]string
	customers map[string]string // Velocity customer id -> QBO customer id
	products  map[string]string // Velocity product id -> QBO item id
}

func newCompany(srv *qbotest.Server, customers []velocity.Customer, products []velocity.Product) *company {
	seed := srv.SeedDefaults()
	co := &company{srv: srv, customers: map[string]string{}, products: map[string]string{}}
	co.settings = reconciletest.Settings(seed)
	for _, c := range customers {
		name := strings.TrimSpace(c.Company)
		if name == "" {
			name = strings.TrimSpace(c.FirstName + " " + c.LastName)
		}
		name = fmt.Sprintf("%s (%s)", name, c.ID)
		co.customers[c.ID] = srv.AddCustomer(name, c.Email)
	}
	for _, p := range products {
		co.products[p.ID] = srv.AddItem(fmt.Sprintf("%s (%s)", p.Name, p.ID), p.SKU)
	}
	return co
}

// prepareStore writes the company's settings and links into the ledger and
// the company facts a first run caches (home currency, multicurrency).
func (co *company) prepareStore(ctx context.Context, st *schema.Store) error {
	if err := st.SetSettings(ctx, co.settings); err != nil {
		return err
	}
	for vid, qid := range co.customers {
		if err := st.SaveLink(ctx, schema.CustomerLinks, schema.Link{VelocityID: vid, QBOID: qid, Method: schema.LinkManual}); err != nil {
			return err
		}
	}
	for vid, qid := range co.products {
		if err := st.SaveLink(ctx, schema.ProductLinks, schema.Link{VelocityID: vid, QBOID: qid, Method: schema.LinkManual}); err != nil {
			return err
		}
	}
	if err := st.SetCursor(ctx, "qbo.home_currency", "USD"); err != nil {
		return err
	}
	return st.SetCursor(ctx, "qbo.multicurrency", "false")
}

// env is the mapping environment a run computes from the ledger: the same
// settings parsed the same way (reconcile.ParseSettings over everything the
// ledger holds), UTC, the cached home currency, and every link.
func (co *company) env(ctx context.Context, st *schema.Store) (*reconcile.Env, error) {
	sets, err := st.Settings(ctx)
	if err != nil {
		return nil, err
	}
	kv := map[string]string{}
	for _, s := range sets {
		kv[s.Key] = s.Value
	}
	settings, err := reconcile.ParseSettings(kv, time.UTC)
	if err != nil {
		return nil, err
	}
	env := &reconcile.Env{Settings: settings, Location: time.UTC, HomeCurrency: "USD",
		Customers: map[string]reconcile.Link{}, Products: map[string]reconcile.Link{}}
	for vid, qid := range co.customers {
		env.Customers[vid] = reconcile.Link{QBOID: qid}
	}
	for vid, qid := range co.products {
		env.Products[vid] = reconcile.Link{QBOID: qid}
	}
	return env, nil
}

// seedStats counts what a seeded ledger holds.
type seedStats struct {
	orders, docs, blocked, skipped, cancelled, notApplicable int
	maxUpdated                                               time.Time
}

// seedLedger records in st what a completed first run over orders would
// have recorded, without sending anything: every order is mapped with the
// real MapOrder against env (so fingerprints are the real ones), and
//   - a sendable document gets a "sent" row with a QBO id (from create,
//     which may put the document into QBO; nil leaves fake ids), SyncToken 0
//     and its fingerprint;
//   - a blocked document gets a "blocked" row with its reason;
//   - a payment on a SalesReceipt gets the "not applicable" row a run
//     records;
//   - skipped and cancelled-before-reporting orders get nothing, as in a run.
//
// Rows go in with ImportDocuments, 5,000 per transaction. The orders cursor
// is set to the newest updated_at, as a run's FinishRun does.
func seedLedger(ctx context.Context, st *schema.Store, env *reconcile.Env, orders iter.Seq2[*velocity.Order, error],
	create func(d *reconcile.Desired) (id string, err error)) (seedStats, error) {
	var ss seedStats
	batch := make([]schema.Document, 0, 5000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := st.ImportDocuments(ctx, batch)
		batch = batch[:0]
		return err
	}
	add := func(d schema.Document) error {
		batch = append(batch, d)
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	}
	next := 0
	for o, err := range orders {
		if err != nil {
			return ss, err
		}
		ss.orders++
		if o.UpdatedAt.After(ss.maxUpdated) {
			ss.maxUpdated = o.UpdatedAt
		}
		docs := reconcile.MapOrder(o, env)
		switch {
		case docs.Skip != "":
			ss.skipped++
			continue
		case docs.Cancelled:
			ss.cancelled++
			continue
		}
		all := append(append([]*reconcile.Desired{docs.Doc}, docs.Refunds...), docs.Payments...)
		for _, d := range all {
			row := schema.Document{Kind: string(d.Kind), SourceID: d.SourceID, OrderNumber: d.OrderNumber, QBOType: d.QBOType,
				DocNumber: d.DocNumber}
			switch {
			case d.NotApplicable != "":
				row.State, row.Fingerprint, row.QBOType = schema.StateSent, "n/a", d.QBOType
				row.NotApplicable = true
				ss.notApplicable++
			case len(d.Blocked) > 0:
				row.State, row.LastError, row.BlockedRuns = schema.StateBlocked, d.Blocked.String(), 1
				ss.blocked++
			default:
				next++
				row.QBOID = strconv.Itoa(1000000 + next)
				if create != nil {
					id, err := create(d)
					if err != nil {
						return ss, fmt.Errorf("seed %s %s: %w", d.Kind, d.SourceID, err)
					}
					row.QBOID = id
				}
				row.State, row.SyncToken, row.Fingerprint = schema.StateSent, "0", d.Fingerprint
				ss.docs++
			}
			if err := add(row); err != nil {
				return ss, err
			}
		}
	}
	if err := flush(); err != nil {
		return ss, err
	}
	if !ss.maxUpdated.IsZero() {
		if err := st.SetCursor(ctx, "orders.updated_at", ss.maxUpdated.UTC().Format(time.RFC3339Nano)); err != nil {
			return ss, err
		}
	}
	return ss, nil
}

// createInQBO puts a desired document into the fake company as a first run
// would have (with the ledger marker in PrivateNote), without going through
// the API: qbotest stores it as it would a create. Payments are linked to
// nothing (their invoice id is only known at apply time).
func createInQBO(srv *qbotest.Server, d *reconcile.Desired, generation int) (string, error) {
	b, err := json.Marshal(d.Entity)
	if err != nil {
		return "", err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // amounts stay exact text, as qbotest wants them
	if err := dec.Decode(&m); err != nil {
		return "", err
	}
	note, _ := m["PrivateNote"].(string)
	letter := map[reconcile.Kind]string{reconcile.KindRefund: "r", reconcile.KindPayment: "p"}[d.Kind]
	if letter == "" {
		letter = "o"
	}
	m["PrivateNote"] = fmt.Sprintf("%s [velqbo:%s:%s:g%d]", strings.TrimSpace(note), letter, d.SourceID, generation)
	if d.Kind == reconcile.KindPayment {
		delete(m, "Line")
	}
	return srv.Add(d.QBOType, m)
}

// buildBinary builds cmd/velqbo as shipped into dir and returns its path.
func buildBinary(root, dir string) (string, error) {
	out := filepath.Join(dir, "velqbo")
	return out, goBuild(root, out, "./cmd/velqbo", shipped...)
}

// moduleRoot is the directory of go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run the benchmark inside the velqbo module")
	}
	return filepath.Dir(gomod), nil
}

// instance is one velqbo installation: its database, key and configuration
// (as environment variables) against a QBO company and a Velocity source.
type instance struct {
	bin string
	env []string
	db  string
}

func newInstance(bin, dir string, srv *qbotest.Server, extra ...string) (*instance, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	db := filepath.Join(dir, "velqbo.db")
	env := append(os.Environ(),
		"VELQBO_DB="+db,
		"VELQBO_SECRET_KEY="+base64.StdEncoding.EncodeToString(key),
		"VELQBO_QBO_CLIENT_ID="+qbotest.DefaultClientID,
		"VELQBO_QBO_CLIENT_SECRET="+qbotest.DefaultClientSecret,
		"VELQBO_QBO_API_URL="+srv.APIURL(),
		"VELQBO_QBO_TOKEN_URL="+srv.TokenURL(),
		"VELQBO_QBO_AUTH_URL="+srv.AuthURL(),
		"VELQBO_QBO_REVOKE_URL="+srv.RevokeURL(),
		"VELQBO_LOG_LEVEL=warn",
	)
	in := &instance{bin: bin, env: append(env, extra...), db: db}
	// For -keep: `set -a; . velqbo.env; velqbo ...` re-runs by hand.
	var sh strings.Builder
	for _, kv := range in.env[len(os.Environ()):] {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&sh, "%s='%s'\n", k, v)
	}
	if err := os.WriteFile(filepath.Join(dir, "velqbo.env"), []byte(sh.String()), 0o600); err != nil {
		return nil, err
	}
	return in, nil
}

// unpaced is the configuration that lifts the binary's QBO pacing, for
// the parts that measure cost, not rate.
var unpaced = []string{"VELQBO_QBO_REQUESTS_PER_MINUTE=1000000", "VELQBO_QBO_BATCHES_PER_MINUTE=100000"}

// serveStore starts a velocitytest server holding ds and returns it with
// the configuration that points an instance at it.
func serveStore(ds *velocitytest.Dataset) (*velocitytest.Server, []string, error) {
	vel, err := velocitytest.Listen("127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	if err := vel.Load(ds); err != nil {
		vel.Close()
		return nil, nil, err
	}
	return vel, []string{"VELQBO_VELOCITY_URL=" + vel.URL, "VELQBO_VELOCITY_TOKEN=" + vel.Token()}, nil
}

// install sets up the binary in dir as a bookkeeper leaves it before its
// first run: srv's company gets the customers and products (newCompany),
// an instance configured by extra is connected to it (`velqbo connect`),
// and its ledger gets the company's settings and links (prepareStore).
// When seed is not nil it then records what it likes in the ledger, given
// the mapping Env; the ledger is closed before install returns, so the
// binary alone holds it.
//
// Returns the errors of each step; seed's is returned as it is.
func install(ctx context.Context, bin, dir string, srv *qbotest.Server, customers []velocity.Customer, products []velocity.Product,
	seed func(st *schema.Store, env *reconcile.Env) error, extra ...string) (*instance, error) {
	co := newCompany(srv, customers, products)
	in, err := newInstance(bin, dir, srv, extra...)
	if err != nil {
		return nil, err
	}
	if err := in.connect(srv); err != nil {
		return nil, err
	}
	st, env, err := co.openLedger(ctx, in.db)
	if err != nil {
		return nil, err
	}
	if seed != nil {
		err = seed(st, env)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return in, nil
}

// connect runs `velqbo connect --realm R --refresh-token-stdin`.
func (in *instance) connect(srv *qbotest.Server) error {
	_, err := in.run(strings.NewReader(srv.IssueRefreshToken()), "connect", "--realm", srv.Realm(), "--refresh-token-stdin")
	return err
}

// procStats is what one run of the binary cost.
type procStats struct {
	wall      time.Duration
	user, sys time.Duration
	maxRSS    int64 // bytes, the child's peak resident set (getrusage)
	stdout    []byte
	exitCode  int
}

// run runs the binary with args; a non-zero exit is returned in the stats,
// not as an error (1 means "something blocked or failed").
func (in *instance) run(stdin *strings.Reader, args ...string) (procStats, error) {
	cmd := exec.Command(in.bin, args...)
	cmd.Env = in.env
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var out strings.Builder
	var errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	ps := procStats{wall: time.Since(start), stdout: []byte(out.String())}
	if cmd.ProcessState == nil {
		return ps, fmt.Errorf("velqbo %s: %w", strings.Join(args, " "), err)
	}
	ps.exitCode = cmd.ProcessState.ExitCode()
	ps.user, ps.sys = cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		ps.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	if ps.exitCode > 1 {
		return ps, fmt.Errorf("velqbo %s: exit %d: %s", strings.Join(args, " "), ps.exitCode, tail(errb.String(), 2000))
	}
	return ps, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// runSummary is the part of `run --json` the benchmark reads.
type runSummary struct {
	Counts reconcile.Counts `json:"counts"`
	Items  []reconcile.Item `json:"items"`
}

func parseSummary(b []byte) (runSummary, error) {
	var s runSummary
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("run --json: %w: %s", err, tail(string(b), 500))
	}
	return s, nil
}

// qboWrites counts the API writes a server received since mark.
func qboWrites(st, mark qbotest.Stats) int {
	return (st.Creates - mark.Creates) + (st.Updates - mark.Updates) + (st.Voids - mark.Voids) +
		(st.Deletes - mark.Deletes) + (st.Batches - mark.Batches)
}

// apiRequests counts the company API requests (OAuth excluded) of calls.
func apiRequests(calls []qbotest.Call) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c.Path, "/v3/company/") {
			n++
		}
	}
	return n
}

// scaledClock runs QBO time faster than real time, for both the client
// (qbo.WithClock) and the server (qbotest.WithClock): one QBO minute is a
// minute/scale of real time. It is the one clock.Clock besides clock.Real
// and clock.Fake: a real clock, sped up.
type scaledClock struct {
	base  time.Time
	start time.Time
	scale float64
}

var _ clock.Clock = (*scaledClock)(nil)

func newScaledClock(scale float64) *scaledClock {
	return &scaledClock{base: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), start: time.Now(), scale: scale}
}

func (c *scaledClock) Now() time.Time {
	return c.base.Add(time.Duration(float64(time.Since(c.start)) * c.scale))
}

func (c *scaledClock) Sleep(ctx context.Context, d time.Duration) error {
	return clock.Real{}.Sleep(ctx, time.Duration(float64(d)/c.scale))
}

// openLedger opens (creating) the ledger at path with the company's
// settings and links written, and the mapping Env they make. opts are
// schema.Open's (the in-process parts pass their clock, as the binary
// passes its own).
func (co *company) openLedger(ctx context.Context, path string, opts ...schema.Option) (*schema.Store, *reconcile.Env, error) {
	st, err := schema.Open(ctx, path, opts...)
	if err != nil {
		return nil, nil, err
	}
	if err := co.prepareStore(ctx, st); err != nil {
		st.Close()
		return nil, nil, err
	}
	env, err := co.env(ctx, st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, env, nil
}

// paceStats counts what a pacedClient met: 429 answers, and errors of the
// ledger's shared windows (after each of which the client paced that
// request in its own memory, as the binary does).
type paceStats struct {
	throttled   atomic.Int64
	storeErrors atomic.Int64
	firstErr    atomic.Pointer[error]
}

// storeErr is the first error of the shared windows, or nil.
func (ps *paceStats) storeErr() error {
	if p := ps.firstErr.Load(); p != nil {
		return fmt.Errorf("the ledger's pacing windows failed %d times, first: %w", ps.storeErrors.Load(), *p)
	}
	return nil
}

// pacedClient is a QBO client of srv on clk paced as the binary paces
// (cmd/velqbo's newQBOConn): the default pacing, booked in the windows
// that st's ledger shares between processes (reconcile.PaceWindows).
// The client hands the windows its clk's time, so the rows age out in QBO
// minutes, and st must be opened on the same clock (schema.WithClock, as
// the binary opens its ledger on its own clock).
func pacedClient(srv *qbotest.Server, clk *scaledClock, st *schema.Store, ps *paceStats) (*qbo.Client, error) {
	conf := qbo.NewOAuthConfig(qbotest.DefaultClientID, qbotest.DefaultClientSecret, "http://localhost/cb")
	conf.Endpoint.TokenURL = srv.TokenURL()
	ts := qbo.NewTokenSource(conf, &oauth2.Token{RefreshToken: srv.IssueRefreshToken()},
		func(context.Context, *oauth2.Token) error { return nil }, srv.Client(), clk.Now)
	return qbo.NewClient(ts.HTTPClient(srv.Client().Transport), qbo.WithBaseURL(srv.URL),
		qbo.WithRealmID(srv.Realm()), qbo.WithClock(clk), qbo.WithPacing(qbo.DefaultPacing()),
		qbo.WithWindowStore(reconcile.PaceWindows{St: st}, func(err error) {
			ps.storeErrors.Add(1)
			ps.firstErr.CompareAndSwap(nil, &err)
		}),
		qbo.WithObserver(qbo.Observer{Throttled: func() { ps.throttled.Add(1) }}))
}
