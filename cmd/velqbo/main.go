// Command velqbo reports a Velocity store's orders to QuickBooks Online
// exactly once and keeps the books right afterwards. This package holds the
// configuration, the subcommands and the wiring; the work happens in
// reconcile, qbo, velocity and schema.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/runprogress"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/bigcommerce"
)

// Exit codes of docs/cli.md "Exit codes".
const (
	exitOK          = 0
	exitIncomplete  = 1 // the run finished, but some items are failed or blocked
	exitUsage       = 2 // usage or configuration error
	exitUnavailable = 3 // not connected, token rejected, source unreachable, lock held
)

func main() {
	// No memory profile is ever read (velqbo serves no pprof), and its
	// sampled stacks were a megabyte and a half of an idle daemon's memory.
	runtime.MemProfileRate = 0
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	m.Signals = sigs
	m.Abandon = func() {
		fmt.Fprintln(os.Stderr, "velqbo: interrupted again: exiting now")
		os.Exit(130)
	}
	code := m.Run(context.Background(), os.Args[1:])
	signal.Stop(sigs)
	os.Exit(code)
}

// Main is one invocation of the binary. Tests build it with their own
// streams, environment and clock and call Run, as the shell would.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time

	Config Config
	Log    *logrus.Logger

	// IsTerminal reports whether progress bars may be drawn on Stderr.
	IsTerminal func() bool
	// Interactive reports whether a command may ask a question on Stderr
	// and read the answer from Stdin (both are terminals); nil: it may not.
	Interactive func() bool
	// OpenBrowser opens the OAuth consent page; nil prints the URL only.
	OpenBrowser func(url string) error

	// QBOOptions and VelocityOptions are appended to the clients' options,
	// so tests can give them a clock whose retry waits do not really wait.
	QBOOptions         []qbo.Option
	VelocityOptions    []velocity.Option
	BigCommerceOptions []bigcommerce.Option

	// Signals, when set, delivers SIGINT and SIGTERM: the first stops a
	// manual run gracefully (or cancels any other command), the second
	// cancels (signals.go).
	Signals <-chan os.Signal
	// Abandon, when set, is called on a signal that comes after the
	// command's context was already cancelled; main exits the process.
	Abandon func()
	intr    *interrupts

	// leaseHolder names the holder of the run lease this Main's runs and
	// verifies take: the daemon's name in the daemon, else (empty) the
	// process's "velqbo run pid … on host".
	leaseHolder string
	// board, when set (by the console), holds the run this process runs,
	// so the console shows its progress whoever started it.
	board *runprogress.Board
	// runStop, when set (the daemon's shutdown), stops the runs the
	// console starts gracefully, as it stops the scheduled ones.
	runStop <-chan struct{}
	// flagsSet names the flags given on the command line (`demo` keeps
	// its ledger only when --db itself was given).
	flagsSet map[string]bool
}

// NewMain returns a Main wired to the process's streams and environment.
func NewMain() *Main {
	return &Main{
		Stdin:       os.Stdin,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		Getenv:      os.Getenv,
		Now:         time.Now,
		IsTerminal:  func() bool { return isTerminal(os.Stderr) },
		Interactive: func() bool { return isTerminal(os.Stdin) && isTerminal(os.Stderr) },
		OpenBrowser: openBrowser,
	}
}

// exitError carries an exit code through the command functions.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// unavailable marks err as "could not run" (exit code 3).
func unavailable(err error) error { return &exitError{code: exitUnavailable, err: err} }

// incomplete marks a finished run with failed or blocked items (exit code 1).
var errIncomplete = &exitError{code: exitIncomplete, err: errors.New("some items are failed or blocked")}

// command is one subcommand: its flags are registered on fs next to the
// global ones, and run gets the positional arguments. Its docs come from
// the table in commands().
type command struct {
	name string
	docs
	flags func(fs *flag.FlagSet)
	run   func(ctx context.Context, m *Main, args []string) error
}

// with returns c described by d.
func (c command) with(d docs) command {
	c.docs = d
	return c
}

// Run parses args, loads the configuration and runs one command. It returns
// the process exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if m.intr == nil {
		m.intr = &interrupts{}
	}
	if m.Signals != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		done := make(chan struct{})
		go m.watchSignals(done, cancel)
		defer func() { close(done); cancel() }()
	}
	err := m.run(ctx, args)
	if err == nil {
		return exitOK
	}
	code := exitUnavailable
	var ee *exitError
	var ce *ConfigValidationError
	switch {
	case errors.As(err, &ee):
		code = ee.code
		if ee == errIncomplete || ee == errInterrupted {
			return code // the summary already said what
		}
	case errors.As(err, &ce):
		code = exitUsage
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	}
	fmt.Fprintf(m.Stderr, "velqbo: %v\n", err)
	return code
}

// globalFlags are accepted before or after the subcommand name.
type globalFlags struct {
	config, db, velocityFile, logFormat, logLevel, listen string
}

// register adds the global flags to fs. The current values are the
// defaults, so values parsed before the command name survive a second
// registration on the command's flag set.
func (g *globalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.config, "config", g.config, "read the YAML configuration `FILE` (default ./velqbo.yaml if present)")
	fs.StringVar(&g.db, "db", g.db, "the SQLite database `FILE` (default ./velqbo.db)")
	fs.StringVar(&g.velocityFile, "velocity-file", g.velocityFile, "read Velocity from the NDJSON export `FILE` instead of the API")
	fs.StringVar(&g.logFormat, "log-format", g.logFormat, "log `FORMAT`: text or json (default text)")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "log `LEVEL`: debug, info, warn, error (default info)")
	fs.StringVar(&g.listen, "listen", g.listen, "the listener `ADDR` of the daemon's /healthz, /metrics and console (default 127.0.0.1:8089; demo --serve: a free loopback port)")
}

func (m *Main) run(ctx context.Context, args []string) error {
	var g globalFlags
	var showVersion bool
	pre := flag.NewFlagSet("velqbo", flag.ContinueOnError)
	pre.SetOutput(io.Discard)
	g.register(pre)
	pre.BoolVar(&showVersion, "version", false, "print the version")
	if err := pre.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(m.Stdout)
			return flag.ErrHelp
		}
		return usageErrorf("%v (see `velqbo help`)", err)
	}
	rest := pre.Args()
	if showVersion {
		if len(rest) > 0 {
			return usageErrorf("--version takes no command")
		}
		fmt.Fprintln(m.Stdout, versionLine())
		return nil
	}
	if len(rest) == 0 {
		writeUsage(m.Stderr)
		return usageErrorf("no command given")
	}
	name := rest[0]
	cmd, ok := commandByName(name)
	if !ok {
		return usageErrorf("unknown command %q (see `velqbo help`)", name)
	}
	if name == "help" { // needs no configuration, so a broken one can be looked up
		if slices.ContainsFunc(rest[1:], func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
			writeHelp(m.Stdout, cmd)
			return flag.ErrHelp
		}
		return cmd.run(ctx, m, rest[1:])
	}
	fs := flag.NewFlagSet("velqbo "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	pos, err := parseInterspersed(fs, rest[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeHelp(m.Stdout, cmd)
			return flag.ErrHelp
		}
		return usageErrorf("%s: %v (see `velqbo help %s`)", name, err, name)
	}
	set := map[string]bool{}
	visit := func(f *flag.Flag) { set[f.Name] = true }
	pre.Visit(visit)
	fs.Visit(visit)

	if err := m.loadConfig(g, set); err != nil {
		return err
	}
	m.flagsSet = set
	m.Log = m.newLogger()
	return cmd.run(ctx, m, pos)
}

// parseInterspersed lets flags follow positional arguments
// (`customers link 12 34 --json`), which the flag package alone does not.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// loadConfig applies defaults, the file, the environment and the flags, in
// rising precedence, then validates.
func (m *Main) loadConfig(g globalFlags, set map[string]bool) error {
	c := DefaultConfig()
	path, explicit := "./velqbo.yaml", false
	if v := m.Getenv("VELQBO_CONFIG"); v != "" {
		path, explicit = v, true
	}
	if set["config"] {
		path, explicit = g.config, true
	}
	if err := readConfigFile(path, explicit, m.Getenv, &c); err != nil {
		return err
	}
	if err := applyEnv(&c, m.Getenv); err != nil {
		return err
	}
	if set["db"] {
		c.DB = g.db
	}
	if set["velocity-file"] {
		c.Velocity.File = g.velocityFile
	}
	if set["log-format"] {
		c.LogFormat = g.logFormat
	}
	if set["log-level"] {
		c.LogLevel = g.logLevel
	}
	if set["listen"] {
		c.Listen = g.listen
	}
	if err := c.Validate(); err != nil {
		return err
	}
	m.Config = c
	return nil
}

func (m *Main) newLogger() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(m.Stderr)
	if m.Config.LogFormat == "json" {
		l.SetFormatter(&logrus.JSONFormatter{})
	} else {
		l.SetFormatter(&logrus.TextFormatter{DisableColors: true, FullTimestamp: true})
	}
	if lvl, err := logrus.ParseLevel(m.Config.LogLevel); err == nil {
		l.SetLevel(lvl)
	}
	return l
}

func commandByName(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// commands is the command table: every subcommand with its purpose,
// arguments, sub-actions, the global flags it uses and examples. Help,
// `velqbo completion` and `velqbo man` are rendered from it.
func commands() []command {
	return []command{
		connectCommand().with(docs{
			summary: "connect velqbo to a QBO company and store its tokens, encrypted with VELQBO_SECRET_KEY",
			long: `Without flags, opens Intuit's consent page in the browser and waits for the
callback on VELQBO_QBO_REDIRECT_URL (localhost). On a server without a
browser, forward the callback port with ssh -L 8090:localhost:8090, or import
a refresh token (e.g. from Intuit's OAuth playground) with --realm and
--refresh-token-stdin.`,
			globals: globalsStore,
			examples: []example{
				{"velqbo connect", "consent in the browser; the company is the one you choose there"},
				{"velqbo connect --realm 9341453 --refresh-token-stdin < token.txt", "import a refresh token on a host without a browser"},
			},
		}),
		disconnectCommand().with(docs{
			summary: "revoke the QBO tokens at Intuit and forget them; the ledger and links stay",
			globals: globalsStore,
			examples: []example{
				{"velqbo disconnect", "revoke and forget"},
				{"velqbo disconnect --forget", "forget them even when Intuit cannot be reached"},
			},
		}),
		settingsCommand().with(docs{
			summary: "show and set the field mappings (accounts, items, payment methods, start date)",
			args:    "[set KEY=VALUE... | accounts | items | payment-methods]",
			long: `Without a subcommand, shows every setting, its QBO name and whether QBO
accepts it. Every QBO id given to set is checked against QBO (it exists, is
active and of the right type) before anything is saved.`,
			subs: []subcommand{
				{"set", "KEY=VALUE...", "set (or, with an empty VALUE, clear) settings"},
				{"accounts", "", "list QBO's active accounts to choose from"},
				{"items", "", "list QBO's active items to choose from"},
				{"payment-methods", "", "list QBO's payment methods and how each Velocity payment method is mapped"},
			},
			globals: globalsStore,
			examples: []example{
				{"velqbo settings", "show the mappings"},
				{"velqbo settings accounts", "find the id of the bank account"},
				{"velqbo settings set deposit_account=35 refund_account=35", "deposit to and refund from account 35"},
				{"velqbo settings payment-methods", "see QBO's payment methods next to Velocity's"},
				{"velqbo settings set payment_method.credit_card=3", "send credit card payments as QBO payment method 3"},
				{"velqbo settings set start_date=2026-01-01", "report only orders approved from 1 January 2026"},
			},
			more: writeSettingKeys,
		}),
		statusCommand().with(docs{
			summary: "token health, the run in progress, the last runs, and the items that need a person",
			globals: globalsStore,
			examples: []example{
				{"velqbo status", "what happened and what is blocked or failed"},
				{"velqbo status --runs 20 --json", "the last 20 runs as JSON"},
			},
		}),
		planCommand().with(docs{
			summary: "show what a run would send; sends nothing",
			globals: globalsSource,
			examples: []example{
				{"velqbo plan", "what the next incremental run would do"},
				{"velqbo plan --since 2026-01-01 --json", "a catch-up from 1 January, as JSON"},
				{"velqbo plan --full --only blocked,failed", "a catch-up's items that need a person"},
			},
		}),
		runCommand().with(docs{
			summary: "one reconciliation: send what is missing or changed in QBO",
			long: `Without --since or --full the run is incremental: orders updated since the
last complete run, plus every blocked, failed or unknown-outcome order.
Re-running is always safe: nothing is sent twice. Ctrl-C (or SIGTERM) stops
it gracefully: the writes in flight finish and are recorded, the run is
recorded interrupted and exits 1; a second Ctrl-C cuts them off (the next
run looks them up in QBO).`,
			globals: globalsSource,
			examples: []example{
				{"velqbo run", "an incremental run"},
				{"velqbo run --since 2026-01-01", "catch up from 1 January (business time zone)"},
				{"velqbo run --full --velocity-file orders.ndjson", "every order of an export file"},
			},
		}),
		resyncCommand().with(docs{
			summary: "re-create, on purpose, the documents of an order that a person deleted in QBO",
			args:    "ORDER_NUMBER",
			globals: globalsSource,
			examples: []example{
				{"velqbo resync 10042", "re-create order 10042's deleted documents"},
			},
		}),
		adoptCommand().with(docs{
			summary: "record documents QBO already holds (made by a person or another integration) instead of creating them",
			args:    "ORDER_NUMBER... | --matching",
			long: `Records in the ledger the QBO document that blocked each named order
(exists_in_qbo_unmarked) and writes nothing to QBO. Named orders are adopted
whatever the documents hold (differences are printed); --matching adopts
only those whose customer and total agree to the cent.`,
			globals: globalsSource,
			examples: []example{
				{"velqbo adopt 10042 10043", "adopt the documents of two orders"},
				{"velqbo adopt --matching", "adopt every blocked one that agrees"},
			},
		}),
		retryCommand().with(docs{
			summary: "send the failed or skipped items of orders again in the next run (undoes skip)",
			args:    "ORDER_NUMBER...",
			long: `For items QBO refused for what the document holds (they need a person:
status marks them [needs a person]): fix the cause in Velocity or QBO, then
retry. The next run reads those orders whatever its window and sends them
again. Changes only the database; recorded in the audit log with --by.`,
			globals: globalsStore,
			examples: []example{
				{"velqbo retry 10042", "send order 10042's failed or skipped items again"},
				{"velqbo retry 10042 10043 --by amy", "two orders, audited as amy"},
			},
		}),
		skipCommand().with(docs{
			summary: "set aside an order's failed or blocked items with a reason; no run sends them until retry",
			args:    "ORDER_NUMBER --reason TEXT",
			long: `The reason is required. It is recorded with who (--by, default the OS user
and host) and when, in the ledger and the audit log. A skipped item is never
sent, voided or updated, nor counted failed: every run and status list it as
skipped with the reason. velqbo retry ORDER_NUMBER undoes it. Changes only
the database.`,
			globals: globalsStore,
			examples: []example{
				{"velqbo skip 10042 --reason \"paid by hand in QBO\"", "set order 10042's failed payment aside"},
			},
		}),
		ordersCommand().with(docs{
			summary: "decide that an order is reported to QBO as an Invoice (\"Report as Invoice\")",
			args:    "report-as-invoice ORDER_NUMBER",
			long: `Records in the ledger, with who (--by, default the OS user and host) and
when, that the order is reported as an Invoice, as Velocity's own "Report as
Invoice" flag does: the next run creates the Invoice and, when a SalesReceipt
was sent for the order, voids it, whatever the run's window. Refused for an
order on terms or already invoiced, decided before, or cancelled. Writes
nothing to QBO; reads the order from the source.`,
			subs: []subcommand{
				{"report-as-invoice", "ORDER_NUMBER [--by NAME]", "report the order as an Invoice from the next run on"},
			},
			globals: globalsSource,
			examples: []example{
				{"velqbo orders report-as-invoice 10042", "the next run invoices order 10042 and voids its receipt"},
			},
		}),
		ledgerCommand().with(docs{
			summary: "rebuild the ledger from QBO after a lost or restored database",
			args:    "rebuild",
			long: `Reads QBO's documents dated on or after --since and records each that
carries velqbo's marker; writes nothing to QBO. Settings and links are not in
QBO: restore or set them.`,
			subs: []subcommand{
				{"rebuild", "[--since DATE]", "record the documents velqbo made that QBO holds"},
			},
			globals: globalsStore,
			examples: []example{
				{"velqbo ledger rebuild --since 2026-01-01", "record velqbo's documents dated from 1 January"},
			},
		}),
		verifyCommand().with(docs{
			summary: "read the recorded documents back from QBO and report drift",
			globals: globalsStore,
			examples: []example{
				{"velqbo verify", "check what changed in QBO since the last verify (CDC)"},
				{"velqbo verify --full --json", "read every recorded document by id"},
			},
		}),
		backupCommand().with(docs{
			summary: "write a consistent copy of the database to FILE, safe while the daemon or a run writes",
			args:    "FILE",
			globals: globalsStore,
			examples: []example{
				{"velqbo backup /var/backups/velqbo.db --force", "a nightly copy that replaces the last one"},
			},
		}),
		daemonCommand().with(docs{
			summary: "run on VELQBO_SCHEDULE, verify, alert; /healthz and /metrics on the listener",
			long: `Stops on SIGINT or SIGTERM: no new write starts, the writes in flight finish
within --grace, and the run is recorded interrupted.`,
			globals: globalsDaemon,
			examples: []example{
				{"velqbo daemon", "run on the schedule until stopped"},
				{"velqbo daemon --run-now --listen 127.0.0.1:9089", "catch up at once; health on another port"},
				{"velqbo daemon --allow-unconfigured", "start before connect and settings are done (runs fail until they are)"},
			},
		}),
		demoCommand().with(docs{
			summary: "the whole pipeline against the built-in sandbox (fake QBO and fake Velocity on loopback)",
			long: `With --source bigcommerce the fake store is a BigCommerce store (bctest's
generated B2B store: terms orders, refunds, shipments, a refund made outside
BigCommerce that stays blocked), read as VELQBO_SOURCE=bigcommerce reads one.

With --db FILE (a file that does not exist yet), the demo keeps its ledger
there, so velqbo status --db FILE shows its runs afterwards; without it the
ledger is a temporary file, deleted at the end.

With --serve the sandbox stays up until Ctrl-C and the web console serves
its ledger on 127.0.0.1 (a free port, or --listen ADDR on loopback): the
demo prints a line "console: URL" and a one-time login link for an admin
made for the demo (docs/console.md).`,
			globals: []string{"config", "db", "listen", "log-format", "log-level"},
			examples: []example{
				{"velqbo demo", "a store of 120 orders, reported twice"},
				{"velqbo demo --serve", "then open the console at the printed URL"},
				{"velqbo demo --source bigcommerce", "the same against a fake BigCommerce store"},
				{"velqbo demo --orders 3000 --serve", "a bigger store, kept up for other commands"},
				{"velqbo demo --db demo.db --json", "keep the ledger in demo.db; print only JSON"},
			},
		}),
		customersCommand().with(docs{
			summary: "link Velocity customers to QBO customers, create or sync them",
			args:    "list|link|unlink|match|create|sync ...",
			subs: []subcommand{
				{"list", "[--unlinked]", "the Velocity customers and their QBO links"},
				{"link", "VELOCITY_ID QBO_ID [--force]", "link a Velocity customer to a QBO customer; both must exist, and --force moves a QBO customer linked to another"},
				{"unlink", "VELOCITY_ID", "remove a link"},
				{"match", "[--apply]", "propose links by email, then name or company; --apply saves them"},
				{"create", "VELOCITY_ID [--link-existing|--force-new]", "create the QBO customer and link it; refused when a QBO customer has its email (--link-existing links that one, --force-new creates anyway)"},
				{"sync", "VELOCITY_ID --keep velocity|qbo [--yes]", "copy the profile one way, after showing the changes and asking (--yes: without asking)"},
			},
			globals: globalsSource,
			examples: []example{
				{"velqbo customers match", "see the proposed links"},
				{"velqbo customers match --apply", "save them"},
				{"velqbo customers link cus_12 58", "link Velocity customer cus_12 to QBO customer 58"},
				{"velqbo customers list --unlinked", "who still needs a link"},
				{"velqbo customers sync cus_12 --keep velocity --yes", "copy Velocity's profile onto the linked QBO customer"},
			},
		}),
		productsCommand().with(docs{
			summary: "link Velocity products to QBO items",
			args:    "list|link|unlink|match ...",
			subs: []subcommand{
				{"list", "[--unlinked]", "the Velocity products and their QBO links"},
				{"link", "VELOCITY_ID QBO_ID [--force]", "link a Velocity product to a QBO item; both must exist, and --force moves an item linked to another"},
				{"unlink", "VELOCITY_ID", "remove a link"},
				{"match", "[--apply]", "propose links by SKU, then name; --apply saves them"},
			},
			globals: globalsSource,
			examples: []example{
				{"velqbo products match --apply", "link every product QBO has by SKU or name"},
				{"velqbo products link prod_7 21", "link Velocity product prod_7 to QBO item 21"},
			},
		}),
		usersCommand().with(docs{
			summary: "manage the web console's local accounts",
			args:    "add|list|remove|passwd ...",
			long: `A console user is an admin (may change things) or a viewer (sees
everything, changes nothing). The password is read from the terminal
without echo, asked twice, or else from the first line of stdin; it must
have at least 12 characters and is stored as an argon2id hash. Removing a
user or changing a password ends the user's sessions. See docs/console.md.`,
			subs: []subcommand{
				{"add", "NAME --role admin|viewer", "create a user; the password is read as above"},
				{"list", "[--json]", "the users, their roles and how many sessions each has"},
				{"remove", "NAME", "delete a user and end their sessions"},
				{"passwd", "NAME", "set a new password and end the user's sessions"},
			},
			globals: globalsStore,
			examples: []example{
				{"velqbo users add alice --role admin", "asks for alice's password twice"},
				{"velqbo users add bob --role viewer < pw.txt", "the password from the first line of a file (or a pipe)"},
				{"velqbo users list", "who may log in"},
			},
		}),
		completionCommand().with(docs{
			summary: "print the shell completion script for bash, zsh or fish",
			args:    "bash|zsh|fish",
			subs: []subcommand{
				{"bash", "", "for /etc/bash_completion.d/velqbo, or `source <(velqbo completion bash)`"},
				{"zsh", "", "for a directory on $fpath, as _velqbo"},
				{"fish", "", "for ~/.config/fish/completions/velqbo.fish"},
			},
			globals: globalsNone,
			examples: []example{
				{"velqbo completion bash > /etc/bash_completion.d/velqbo", "install the bash completion"},
			},
		}),
		manCommand().with(docs{
			summary: "print the manual page (roff), made from the same text as this help",
			globals: globalsNone,
			examples: []example{
				{"velqbo man > /usr/local/share/man/man1/velqbo.1", "install the man page"},
			},
		}),
		{name: "version", docs: docs{
			summary:  "print the version, the VCS revision and the Go version it was built with",
			globals:  globalsNone,
			examples: []example{{"velqbo version", "e.g. velqbo v1.4.0 (revision 5947b2b..., committed 2026-11-26T15:00:00Z, go1.26.0)"}},
		}, run: runVersion},
		helpCommand().with(docs{
			summary:  "list the commands, or explain one",
			args:     "[COMMAND]",
			globals:  globalsNone,
			examples: []example{{"velqbo help settings", "the settings subcommands and every setting key"}},
		}),
	}
}
