package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/daemon"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/sandbox"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/web"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

func demoCommand() command {
	var (
		orders int
		seed   int64
		serve  bool
		asJSON bool
		source string
	)
	return command{
		name: "demo",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&orders, "orders", 120, "how many orders the generated store has")
			fs.Int64Var(&seed, "seed", 1, "seed of the generated store")
			fs.BoolVar(&serve, "serve", false, "after the demo, keep the sandbox running, serve the web console on it and print the environment to use it from another shell")
			fs.BoolVar(&asJSON, "json", false, "print each run's summary as JSON")
			fs.StringVar(&source, "source", sourceVelocity, "the fake store the demo reads: velocity (the Velocity API contract) or bigcommerce (a BigCommerce store's API)")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 0 {
				return usageErrorf("demo takes no arguments")
			}
			if orders < 1 || orders > 100000 {
				return usageErrorf("--orders must be between 1 and 100000")
			}
			if source != sourceVelocity && source != sourceBigCommerce {
				return usageErrorf("--source must be velocity or bigcommerce")
			}
			return m.demo(ctx, demoOptions{seed: seed, orders: orders, source: source, serve: serve, asJSON: asJSON})
		},
	}
}

// demoOptions are the demo's flags.
type demoOptions struct {
	seed          int64
	orders        int
	source        string // sourceVelocity or sourceBigCommerce
	serve, asJSON bool
}

// demo runs the pipeline against a fresh sandbox. The ledger is a
// temporary file deleted at the end, or, when --db FILE was given, FILE,
// which is kept (it must not exist: the demo never touches a real ledger).
// With asJSON stdout carries only the runs' summaries, one JSON object
// each, and the narration goes to stderr.
func (m *Main) demo(ctx context.Context, o demoOptions) error {
	orders, serve, asJSON := o.orders, o.serve, o.asJSON
	w := m.Stdout
	if asJSON {
		w = m.Stderr
	}
	listen := "127.0.0.1:0"
	if serve && m.flagsSet["listen"] {
		listen = m.Config.Listen
		if !daemon.IsLoopback(listen) {
			return usageErrorf("demo: --listen %s is not a loopback address; the demo's console serves on this machine only", listen)
		}
	}
	keep := ""
	if m.flagsSet["db"] {
		keep = m.Config.DB
		if _, err := os.Stat(keep); !errors.Is(err, fs.ErrNotExist) {
			return usageErrorf("demo: --db %s exists; the demo starts a fresh ledger: remove it or name a new file", keep)
		}
	}
	if m.Config.LogLevel == DefaultConfig().LogLevel {
		// The demo narrates; per-run log lines would drown it.
		m.Log.SetLevel(logrus.WarnLevel)
	}
	opts := sandbox.Options{Seed: o.seed, Orders: orders, Customers: max(5, orders/10), Products: max(8, orders/6)}
	if o.source == sourceBigCommerce {
		opts.Source = sandbox.SourceBigCommerce
	}
	sb, err := sandbox.Start(opts)
	if err != nil {
		return unavailable(fmt.Errorf("start the sandbox: %w", err))
	}
	defer sb.Close()
	if err := m.useSandbox(sb, keep); err != nil {
		return err
	}
	fmt.Fprintf(w, "velqbo demo: a fake QuickBooks Online company at %s\n", sb.QBO.URL)
	if sb.BC != nil {
		fmt.Fprintf(w, "             a fake BigCommerce store %s at %s with %d customers, %d product variants and %d orders\n",
			sb.BC.Hash, sb.BC.URL, len(sb.Data.Customers), len(sb.Data.Products), len(sb.BC.OrderIDs()))
	} else {
		fmt.Fprintf(w, "             a fake Velocity store at %s with %d customers, %d products and %d orders\n",
			sb.Vel.URL, len(sb.Data.Customers), len(sb.Data.Products), len(sb.Data.Orders))
	}
	if keep != "" {
		fmt.Fprintf(w, "             a fresh ledger at %s, kept afterwards\n\n", m.Config.DB)
	} else {
		fmt.Fprintf(w, "             a fresh ledger at %s, deleted at the end (--db FILE keeps it)\n\n", m.Config.DB)
	}

	// One product stays unlinked so the demo shows how a blocked order is
	// explained; it is linked before the third run.
	unlinked := sb.BlockingProduct()
	narrated := *m // connect's report is narration
	narrated.Stdout = w
	if err := narrated.prepareSandbox(ctx, sb, map[string]bool{unlinked: unlinked != ""}); err != nil {
		return err
	}
	fmt.Fprintln(w, "1. Connected with OAuth, mapped accounts and placeholder items, linked customers and products")
	if unlinked != "" {
		fmt.Fprintf(w, "   (product %s is left unlinked on purpose)\n", unlinked)
	}

	steps := []string{
		"2. First run: every approved order, shipment, refund and payment goes to QBO",
		"3. Second run, nothing changed in Velocity: nothing is sent again",
	}
	if sb.BC != nil {
		steps = []string{
			"2. First run: every paid order, shipment, refund and terms payment in BigCommerce goes to QBO",
			"3. Second run, nothing changed in BigCommerce: nothing is sent again",
		}
	}
	var first *reconcile.Summary
	for i, title := range steps {
		fmt.Fprintf(w, "\n%s\n", title)
		sum, err := m.reconcileOnce(ctx, reconcile.Options{Mode: reconcile.ModeFull}, false)
		if err != nil {
			return err
		}
		if i == 0 {
			first = sum
		}
		if err := m.demoReport(w, sum, asJSON, keep); err != nil {
			return err
		}
	}

	if unlinked != "" && first.Counts.Blocked > 0 {
		st, err := m.openStore(ctx)
		if err != nil {
			return err
		}
		p := sb.Product(unlinked)
		id, _, err := sb.AddItem(p.Name, p.SKU)
		st.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n4. The bookkeeper links the missing product (`velqbo products link %s %s`) and runs again\n", unlinked, id)
		if err := m.runQuiet(ctx, "products", "link", unlinked, id); err != nil {
			return err
		}
		sum, err := m.reconcileOnce(ctx, reconcile.Options{Mode: reconcile.ModeIncremental}, false)
		if err != nil {
			return err
		}
		if err := m.demoReport(w, sum, asJSON, keep); err != nil {
			return err
		}
	}

	docs := map[string]int{}
	for _, kind := range []string{"SalesReceipt", "Invoice", "RefundReceipt", "Payment"} {
		for _, e := range sb.QBO.Entities(kind) {
			if !e.Deleted {
				docs[kind]++
			}
		}
	}
	fmt.Fprintf(w, "\nThe fake QBO company now holds %d sales receipts, %d invoices, %d refund receipts and %d payments, each once.\n",
		docs["SalesReceipt"], docs["Invoice"], docs["RefundReceipt"], docs["Payment"])
	if keep != "" {
		fmt.Fprintf(w, "\nThe demo's ledger is kept at %s: `velqbo status --db %s` shows its runs and blocked items\n(the fake companies are gone, so commands that ask QBO or Velocity cannot run on it).\n", keep, keep)
	}
	fmt.Fprint(w, `
To point velqbo at a real QBO company:
  1. Create an app at developer.intuit.com; set VELQBO_QBO_CLIENT_ID and VELQBO_QBO_CLIENT_SECRET
     (VELQBO_QBO_ENV=sandbox for a sandbox company), and VELQBO_SECRET_KEY=$(openssl rand -base64 32).
  2. velqbo connect                       (or: velqbo connect --realm ID --refresh-token-stdin)
  3. velqbo settings accounts; velqbo settings items; velqbo settings set deposit_account=ID ...
  4. set VELQBO_VELOCITY_URL and VELQBO_VELOCITY_TOKEN; velqbo customers match --apply; velqbo products match --apply
  5. velqbo plan, then velqbo run; then the daemon for the nightly schedule (README "Install")
`)
	if sb.BC != nil {
		fmt.Fprint(w, `     For a BigCommerce store, step 4 is instead: VELQBO_SOURCE=bigcommerce,
     VELQBO_BIGCOMMERCE_STORE_HASH and VELQBO_BIGCOMMERCE_TOKEN, and
     velqbo settings set bigcommerce.terms=... (README "Getting started with a BigCommerce store").
`)
	}
	if serve {
		base, login, stop, err := m.demoConsole(ctx, listen)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(w, "\nconsole: %s\n", base)
		fmt.Fprintf(w, "one-time login (works once, within 15 minutes): %s%s\n", strings.TrimSuffix(base, "/"), login)
		fmt.Fprintln(w, "\nThe sandbox keeps running until you press Ctrl-C. In another shell:")
		for _, kv := range configEnv(m.Config) {
			fmt.Fprintf(w, "  export %s=%s\n", kv[0], shellQuote(kv[1]))
		}
		fmt.Fprintln(w, "  velqbo status")
		fmt.Fprintln(w, "\nTo connect a second database yourself, with a refresh token issued by the fake company:")
		fmt.Fprintf(w, "  echo %s | VELQBO_DB=./second.db velqbo connect --realm %s --refresh-token-stdin\n", sb.QBO.IssueRefreshToken(), sb.QBO.Realm())
		<-ctx.Done()
	}
	return nil
}

// demoUser is the console user `demo --serve` makes in the sandbox ledger.
const demoUser = "demo"

// demoConsole serves the console on the demo's ledger at listen (a
// loopback address) and returns its URL, a one-time login link (a path)
// for an admin made for the purpose, and the function that stops it. Why
// a one-time link and not a printed password: the password would stay
// valid in the terminal's scrollback; the link is spent on first use.
// The admin's own password is random and never shown.
func (m *Main) demoConsole(ctx context.Context, listen string) (base, login string, stop func(), err error) {
	st, err := m.openStore(ctx)
	if err != nil {
		return "", "", nil, err
	}
	pw := make([]byte, 32)
	rand.Read(pw)
	hash, err := web.HashPassword(base64.StdEncoding.EncodeToString(pw))
	if err == nil {
		err = st.AddConsoleUser(ctx, schema.ConsoleUser{Name: demoUser, Role: schema.RoleAdmin, PasswordHash: hash})
	}
	var srv *web.Server
	if err == nil {
		srv, err = m.newConsoleOn(st, true) // demo --serve refuses a non-loopback --listen
	}
	if err == nil {
		login, err = srv.OneTimeLogin(demoUser)
	}
	var ln net.Listener
	if err == nil {
		ln, err = net.Listen("tcp", listen)
	}
	if err != nil {
		st.Close()
		return "", "", nil, unavailable(fmt.Errorf("demo console: %w", err))
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	return "http://" + ln.Addr().String() + "/", login, func() { hs.Close(); st.Close() }, nil
}

// useSandbox points m's configuration at sb, with the database db (a
// throwaway one in sb.Dir when db is empty) and a random encryption key.
func (m *Main) useSandbox(sb *sandbox.Sandbox, db string) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	c := &m.Config
	c.DB = db
	if db == "" {
		c.DB = filepath.Join(sb.Dir, "velqbo-demo.db")
	}
	c.SecretKey = base64.StdEncoding.EncodeToString(key)
	c.QBO.ClientID = qbotest.DefaultClientID
	c.QBO.ClientSecret = qbotest.DefaultClientSecret
	c.QBO.APIURL = sb.QBO.APIURL()
	c.QBO.TokenURL = sb.QBO.TokenURL()
	c.QBO.AuthURL = sb.QBO.AuthURL()
	c.QBO.RevokeURL = sb.QBO.RevokeURL()
	if sb.BC != nil {
		c.Source = sourceBigCommerce
		c.BigCommerce = BigCommerceConfig{StoreHash: sb.BC.Hash, Token: sb.BC.Token(), APIURL: sb.BC.URL}
		return nil
	}
	c.Source = sourceVelocity
	c.Velocity = VelocityConfig{URL: sb.Vel.URL, Token: sb.Vel.Token()}
	return nil
}

// configEnv is the part of c that useSandbox sets, as environment
// variables, for a second shell (`velqbo demo --serve`).
func configEnv(c Config) [][2]string {
	env := [][2]string{
		{"VELQBO_DB", c.DB},
		{"VELQBO_SECRET_KEY", c.SecretKey},
		{"VELQBO_QBO_CLIENT_ID", c.QBO.ClientID},
		{"VELQBO_QBO_CLIENT_SECRET", c.QBO.ClientSecret},
		{"VELQBO_QBO_API_URL", c.QBO.APIURL},
		{"VELQBO_QBO_TOKEN_URL", c.QBO.TokenURL},
		{"VELQBO_QBO_AUTH_URL", c.QBO.AuthURL},
		{"VELQBO_QBO_REVOKE_URL", c.QBO.RevokeURL},
	}
	if c.Source == sourceBigCommerce {
		return append(env, [][2]string{
			{"VELQBO_SOURCE", c.Source},
			{"VELQBO_BIGCOMMERCE_STORE_HASH", c.BigCommerce.StoreHash},
			{"VELQBO_BIGCOMMERCE_TOKEN", c.BigCommerce.Token},
			{"VELQBO_BIGCOMMERCE_API_URL", c.BigCommerce.APIURL},
		}...)
	}
	return append(env, [][2]string{
		{"VELQBO_VELOCITY_URL", c.Velocity.URL},
		{"VELQBO_VELOCITY_TOKEN", c.Velocity.Token},
	}...)
}

// prepareSandbox does what a bookkeeper does before the first run:
// connect m's database to sb's fake company, then map and link everything
// (sandbox.Prepare), leaving the products in unlinked without a link.
func (m *Main) prepareSandbox(ctx context.Context, sb *sandbox.Sandbox, unlinked map[string]bool) error {
	conn, err := m.storeConnection(ctx, sb.QBO.Realm(), &oauth2.Token{RefreshToken: sb.QBO.IssueRefreshToken()})
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, conn)
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return sb.Prepare(ctx, st, unlinked)
}

// runQuiet runs another velqbo command with the same configuration,
// discarding its output.
func (m *Main) runQuiet(ctx context.Context, args ...string) error {
	sub := *m
	sub.Stdout = discard{}
	cmd, _ := commandByName(args[0])
	return cmd.run(ctx, &sub, args[1:])
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// demoReport prints one run's summary: JSON on stdout, or counts and the
// first problems on w. keep is the kept ledger's path, "" when it is
// deleted at the end.
func (m *Main) demoReport(w io.Writer, sum *reconcile.Summary, asJSON bool, keep string) error {
	if asJSON {
		return writeJSON(m.Stdout, sum)
	}
	c := sum.Counts
	fmt.Fprintf(w, "   created %d, updated %d, voided %d, unchanged %d, blocked %d, failed %d\n",
		c.Created, c.Updated, c.Voided, c.Unchanged, c.Blocked, c.Failed)
	shown := 0
	for _, it := range sum.Items {
		if it.Action != reconcile.ActionBlocked && it.Action != reconcile.ActionFailed {
			continue
		}
		if shown == 3 {
			if keep != "" {
				fmt.Fprintf(w, "   ... (`velqbo status --db %s` lists them all)\n", keep)
			} else {
				fmt.Fprintln(w, "   ... (with --db FILE the demo keeps its ledger, and `velqbo status --db FILE` lists them all)")
			}
			break
		}
		// An order that did not decode has no order number, only its id.
		fmt.Fprintf(w, "   %s %s %s: %s\n", it.Action, it.Kind, cmp.Or(it.OrderNumber, it.SourceID), oneLine(it.Reason))
		shown++
	}
	return nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
