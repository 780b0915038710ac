package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/daemon"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// daemonOptions are the daemon's flags.
type daemonOptions struct {
	runNow      bool
	verify      bool
	grace       time.Duration
	blockedRuns int
	failedRuns  int
	tokenDays   int
	// allowUnconfigured starts the daemon although it cannot run yet
	// (unconfigured's problems are then logged, not refused).
	allowUnconfigured bool
}

func daemonCommand() command {
	var o daemonOptions
	return command{
		name: "daemon",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&o.runNow, "run-now", false, "also run once at start, e.g. to catch up after downtime")
			fs.BoolVar(&o.verify, "verify", true, "after each run, read the recorded documents back from QBO and alert on drift (--verify=false to skip)")
			fs.DurationVar(&o.grace, "grace", 30*time.Second, "on SIGINT/SIGTERM, how long writes in flight may take to finish before they are cut off")
			fs.IntVar(&o.blockedRuns, "alert-blocked-runs", 3, "alert when an item has stayed blocked for more than this many runs")
			fs.IntVar(&o.failedRuns, "alert-failed-runs", 2, "alert when an item QBO refused (it needs a person: fix and `velqbo retry`, or `velqbo skip`) has failed this many runs in a row")
			fs.IntVar(&o.tokenDays, "alert-token-days", tokenhealth.WarnDays, "alert when the QBO refresh token has fewer days left than this")
			fs.BoolVar(&o.allowUnconfigured, "allow-unconfigured", false, "start even when no QBO company is connected, no Velocity source is set or required settings are missing (runs fail until they are)")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 0 {
				return usageErrorf("daemon takes no arguments")
			}
			if o.grace <= 0 || o.blockedRuns < 1 || o.failedRuns < 1 || o.tokenDays < 0 {
				return usageErrorf("daemon: --grace must be positive, --alert-blocked-runs and --alert-failed-runs at least 1, --alert-token-days not negative")
			}
			problems, err := m.unconfigured(ctx)
			if err != nil {
				return err
			}
			if len(problems) > 0 && !o.allowUnconfigured {
				return usageErrorf("daemon: refusing to start, it cannot run:\n  - %s\nFix these (README \"Install\"), or start it anyway with --allow-unconfigured.", strings.Join(problems, "\n  - "))
			}
			d, err := m.newDaemon(ctx, o)
			if err != nil {
				return err
			}
			err = d.Serve(ctx)
			m.waitConsoleRun(o.grace)
			if err != nil {
				return &ConfigValidationError{Field: "VELQBO_SCHEDULE", Value: m.Config.Schedule, Err: err}
			}
			return nil
		},
	}
}

// newDaemon opens the database and starts the daemon runtime on it with
// m's configuration; every run and verify it starts is m's, under the
// daemon's lease holder name. It returns an exit-code-3 error naming the
// holder when another daemon runs on the same database.
func (m *Main) newDaemon(ctx context.Context, o daemonOptions) (*daemon.Daemon, error) {
	open := m.openStore
	if o.allowUnconfigured {
		open = m.createStore
	}
	st, err := open(ctx)
	if err != nil {
		return nil, err
	}
	if problems, _ := m.unconfigured(ctx); len(problems) > 0 {
		m.Log.WithField("problems", problems).Warn("started with --allow-unconfigured: runs fail until this is fixed")
	}
	c := daemon.Config{
		Schedule:     m.Config.Schedule,
		Location:     m.Config.Location(),
		Listen:       m.Config.Listen,
		AlertWebhook: m.Config.AlertWebhook,
		UserAgent:    "velqbo/" + version,
		RunNow:       o.runNow,
		Grace:        o.grace,
		BlockedRuns:  o.blockedRuns,
		FailedRuns:   o.failedRuns,
		TokenDays:    o.tokenDays,
		RunLease:     runLeaseName,
		LeaseTTL:     leaseTTL,
		Run: func(ctx context.Context, opts reconcile.Options) (*reconcile.Summary, error) {
			return m.reconcileOnce(ctx, opts, false)
		},
		Log: m.Log,
		Now: m.Now,
	}
	if o.verify {
		c.Verify = m.verifyOnce
	}
	c.MetricsToken = m.Config.MetricsToken
	if !m.Config.Console.Off {
		console, err := m.consoleOn(ctx, st, m.Config.Listen)
		if err != nil {
			st.Close()
			return nil, err
		}
		c.Console = console.Handler()
	}
	d, err := daemon.New(ctx, st, c)
	if err != nil {
		var held *schema.LeaseHeldError
		if errors.As(err, &held) {
			return nil, unavailable(fmt.Errorf("another daemon runs on %s: %s, since %s", m.Config.DB, held.Holder, held.Since.Format(time.RFC3339)))
		}
		return nil, unavailable(err)
	}
	// Every QBO client the daemon's runs build reports to its metrics.
	m.QBOOptions = append(slices.Clip(m.QBOOptions), qbo.WithObserver(d.QBOObserver()))
	// Every run and verify the daemon starts takes the run lease under
	// the daemon's name.
	m.leaseHolder = d.Holder()
	// A run started in the console stops with the daemon, as a scheduled
	// one does.
	m.runStop = d.Stopping()
	return d, nil
}

// requiredSettings are the settings without which nearly every document
// blocks: every SalesReceipt and Payment needs deposit_account, every
// RefundReceipt refund_account.
var requiredSettings = []string{reconcile.SettingDepositAccount, reconcile.SettingRefundAccount}

// unconfigured lists, in words that say what to do, why a run cannot
// succeed with m's configuration: no database, no QBO company connected (or
// no key or app credentials to use its token), no Velocity source, required
// settings missing. It creates nothing and asks no one over the network. The
// error is for a database that exists but cannot be read.
func (m *Main) unconfigured(ctx context.Context) ([]string, error) {
	var problems []string
	if _, _, err := m.velocitySource(); err != nil {
		if m.Config.Source == sourceBigCommerce {
			problems = append(problems, "no BigCommerce store: set VELQBO_BIGCOMMERCE_STORE_HASH and VELQBO_BIGCOMMERCE_TOKEN")
		} else {
			problems = append(problems, "no Velocity source: set VELQBO_VELOCITY_URL and VELQBO_VELOCITY_TOKEN (or VELQBO_VELOCITY_FILE for an export)")
		}
	}
	if m.Config.QBO.ClientID == "" || m.Config.QBO.ClientSecret == "" {
		problems = append(problems, "no QBO app credentials: set VELQBO_QBO_CLIENT_ID and VELQBO_QBO_CLIENT_SECRET")
	}
	if m.Config.SecretKey == "" {
		problems = append(problems, "no VELQBO_SECRET_KEY: the stored QBO tokens are sealed with it")
	}
	st, err := m.openStore(ctx)
	if errors.Is(err, schema.ErrNoDatabase) {
		return append(problems, m.noDatabase().Error()), nil
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	infos, err := st.Tokens(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	if len(infos) == 0 {
		problems = append(problems, fmt.Sprintf("no QBO company connected to %s: run `velqbo connect`", m.Config.DB))
	}
	missing, err := missingSettings(ctx, st)
	if err != nil {
		return nil, unavailable(err)
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("settings not set: %s (`velqbo settings accounts` lists the ids; `velqbo settings set KEY=VALUE`)", strings.Join(missing, ", ")))
	}
	return problems, nil
}

// missingSettings are the requiredSettings with no value in st, in their
// order: the daemon refuses to start without them and the console's home
// page lists them.
func missingSettings(ctx context.Context, st *schema.Store) ([]string, error) {
	all, err := st.Settings(ctx)
	if err != nil {
		return nil, err
	}
	kv := map[string]string{}
	for _, s := range all {
		kv[s.Key] = s.Value
	}
	var missing []string
	for _, k := range requiredSettings {
		if kv[k] == "" {
			missing = append(missing, k)
		}
	}
	return missing, nil
}
