package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/daemon"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/runprogress"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/web"
	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// consoleBackend is web.Backend over m: every screen calls the same
// wiring (openStore, connectQBO, newReconciler, withLease …) as the
// command it stands for. Each screen's methods are in console_<screen>.go.
type consoleBackend struct {
	m  *Main
	st *schema.Store
}

var _ web.Backend = (*consoleBackend)(nil)

// newConsole builds the console over m's configuration and the open ledger
// st (which the caller closes after the console is done).
func (m *Main) newConsole(st *schema.Store) (*web.Server, error) {
	return m.newConsoleOn(st, false)
}

// newConsoleOn is newConsole for a console served on loopback when
// loopbackOnly: it then refuses requests naming another host (web.Config
// LoopbackOnly: DNS rebinding).
func (m *Main) newConsoleOn(st *schema.Store, loopbackOnly bool) (*web.Server, error) {
	app := web.QBOAppProduction
	if m.Config.QBO.Env == "sandbox" {
		app = web.QBOAppSandbox
	}
	if m.board == nil {
		// Runs of this process (the daemon's, the console's) show their
		// progress on the Runs page.
		m.board = &runprogress.Board{}
	}
	return web.New(web.Config{
		Backend:       &consoleBackend{m: m, st: st},
		SourceName:    m.Config.sourceName(),
		Clock:         mainClock{m.Now},
		Location:      m.Config.Location(),
		Log:           m.Log,
		QBOAppURL:     app,
		SecureCookies: m.Config.Console.SecureCookies,
		IdleTimeout:   m.Config.Console.IdleTimeout,
		MaxAge:        m.Config.Console.SessionMaxAge,
		LoopbackOnly:  loopbackOnly,
		AllowHosts:    m.consoleHosts(),
	})
}

// consoleHosts are the host names a loopback console accepts besides this
// machine's: the host of VELQBO_QBO_REDIRECT_URL, which names the console
// behind a reverse proxy (docs/console.md).
func (m *Main) consoleHosts() []string {
	u, err := url.Parse(m.Config.QBO.RedirectURL)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	return []string{u.Hostname()}
}

// consoleOn builds the console to serve on the address listen. Why the
// check: a console reachable from the network with no user would be a
// login page nobody can pass, or, worse, tempt someone to weaken it; it is
// refused (exit 2) until `velqbo users add` has made one.
func (m *Main) consoleOn(ctx context.Context, st *schema.Store, listen string) (*web.Server, error) {
	loopback := daemon.IsLoopback(listen)
	if !loopback {
		n, err := st.CountConsoleUsers(ctx)
		if err != nil {
			return nil, unavailable(err)
		}
		if n == 0 {
			return nil, usageErrorf("the console on %s (not loopback) needs a user first: run `velqbo users add NAME --role admin`, or set VELQBO_CONSOLE_OFF=true to serve only /healthz and /metrics", listen)
		}
	}
	return m.newConsoleOn(st, loopback)
}

// mainClock is m.Now as a clock.Clock (the console never sleeps).
type mainClock struct{ now func() time.Time }

func (c mainClock) Now() time.Time { return c.now() }

func (c mainClock) Sleep(ctx context.Context, d time.Duration) error {
	return clock.Real{}.Sleep(ctx, d)
}

func (b *consoleBackend) Store() *schema.Store { return b.st }

func (b *consoleBackend) WithLease(ctx context.Context, need web.Need, fn func(r *reconcile.Reconciler) error) error {
	build := b.m.newReconciler
	switch need {
	case web.NeedLedger:
		build = b.m.ledgerOnly
	case web.NeedQBO:
		build = b.m.qboOnly
	}
	// The console's own holder name: the daemon's would renew a scheduled
	// run's lease instead of waiting for it.
	lm := *b.m
	lm.leaseHolder = consoleHolder("action")
	return consoleErr(lm.withLease(ctx, build, fn))
}

func (b *consoleBackend) QBO(ctx context.Context) (*qbo.Client, string, error) {
	conn, err := b.m.connectQBO(ctx, b.st)
	if err != nil {
		return nil, "", consoleErr(err)
	}
	return conn.Client, conn.Realm, nil
}

func (b *consoleBackend) Overview(ctx context.Context) (web.Overview, error) {
	var ov web.Overview
	infos, err := b.st.Tokens(ctx)
	if err != nil {
		return ov, err
	}
	if len(infos) > 0 {
		ov.Realm = infos[0].Realm
		ov.Token = tokenhealth.Of(infos[0], b.m.Now())
	}
	if ov.Runs, err = b.st.LastRuns(ctx, 5); err != nil {
		return ov, err
	}
	rs, err := b.m.runStatus(ctx, b.st)
	if err != nil {
		return ov, err
	}
	ov.RunInProgress = rs.Live != nil || rs.Lease != nil
	problems, err := reconcile.Problems(ctx, b.st)
	if err != nil {
		return ov, err
	}
	ov.Problems = map[reconcile.ProblemState]int{}
	for _, p := range problems {
		ov.Problems[p.State]++
	}
	ov.ProblemTotal = len(problems)
	ov.MissingSettings, err = missingSettings(ctx, b.st)
	return ov, err
}

// consoleErr marks the CLI's "not connected" with web.ErrNotConnected
// (pages then point to Integrations) and a held run lease with
// web.ErrRunInProgress; other errors pass unchanged.
func consoleErr(err error) error {
	switch {
	case errors.Is(err, errNotConnected):
		return fmt.Errorf("%w: %w", web.ErrNotConnected, err)
	case errors.Is(err, daemon.ErrRunLeaseHeld):
		return fmt.Errorf("%w: %w", web.ErrRunInProgress, err)
	}
	return err
}
