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
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/velocity"
)

// Exit codes of cli.md.
const (
	exitOK          = 0
	exitIncomplete  = 1 // the run finished, but some items are failed or blocked
	exitUsage       = 2 // usage or configuration error
	exitUnavailable = 3 // not connected, token rejected, source unreachable, lock held
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	m.Signals = sigs
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
	// OpenBrowser opens the OAuth consent page; nil prints the URL only.
	OpenBrowser func(url string) error

	// QBOOptions and VelocityOptions are appended to the clients' options,
	// so tests can give them a clock whose retry waits do not really wait.
	QBOOptions      []qbo.Option
	VelocityOptions []velocity.Option

	// Signals, when set, delivers SIGINT and SIGTERM: the first stops a
	// manual run gracefully (or cancels any other command), the second
	// cancels (signals.go).
	Signals <-chan os.Signal
	intr    *interrupts

	// leaseHolder names the holder of the run lease this Main's runs and
	// verifies take: the daemon's name in the daemon, else (empty) the
	// process's "velqbo run pid … on host".
	leaseHolder string
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
// global ones, and run gets the positional arguments.
type command struct {
	name    string
	summary string
	flags   func(fs *flag.FlagSet)
	run     func(ctx context.Context, m *Main, args []string) error
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
	fs.StringVar(&g.config, "config", g.config, "YAML config file (default ./velqbo.yaml if present)")
	fs.StringVar(&g.db, "db", g.db, "SQLite database file (default ./velqbo.db)")
	fs.StringVar(&g.velocityFile, "velocity-file", g.velocityFile, "read Velocity from this NDJSON export instead of the API")
	fs.StringVar(&g.logFormat, "log-format", g.logFormat, "log format: text or json")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "log level: debug, info, warn, error")
	fs.StringVar(&g.listen, "listen", g.listen, "health/metrics listener of the daemon (default 127.0.0.1:8089)")
}

func (m *Main) run(ctx context.Context, args []string) error {
	var g globalFlags
	pre := flag.NewFlagSet("velqbo", flag.ContinueOnError)
	pre.SetOutput(io.Discard)
	g.register(pre)
	if err := pre.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			m.usage()
			return flag.ErrHelp
		}
		return usageErrorf("%v (see `velqbo help`)", err)
	}
	rest := pre.Args()
	if len(rest) == 0 {
		m.usage()
		return usageErrorf("no command given")
	}
	name := rest[0]
	if name == "help" || name == "-h" || name == "--help" {
		m.usage()
		return nil
	}
	cmd, ok := commandByName(name)
	if !ok {
		return usageErrorf("unknown command %q (see `velqbo help`)", name)
	}
	fs := flag.NewFlagSet("velqbo "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	g.register(fs)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	pos, err := parseInterspersed(fs, rest[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return usageErrorf("%s: %v", name, err)
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

func (m *Main) usage() {
	var b strings.Builder
	b.WriteString("velqbo reports Velocity orders to QuickBooks Online, exactly once.\n\nUsage: velqbo [global flags] COMMAND [args]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-12s %s\n", c.name, c.summary)
	}
	b.WriteString("\nGlobal flags: --config FILE, --db FILE, --velocity-file FILE, --log-format text|json, --log-level LEVEL, --listen ADDR\n")
	b.WriteString("Exit codes: 0 done, 1 some items blocked or failed, 2 usage or configuration error, 3 could not run.\n")
	io.WriteString(m.Stderr, b.String())
}

func commandByName(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// commands lists the subcommands of cli.md that this build implements.
func commands() []command {
	return []command{
		connectCommand(),
		disconnectCommand(),
		settingsCommand(),
		statusCommand(),
		planCommand(),
		runCommand(),
		resyncCommand(),
		adoptCommand(),
		ledgerCommand(),
		verifyCommand(),
		backupCommand(),
		daemonCommand(),
		demoCommand(),
		customersCommand(),
		productsCommand(),
		{name: "version", summary: "print the version", run: runVersion},
	}
}

func runVersion(_ context.Context, m *Main, args []string) error {
	if len(args) > 0 {
		return usageErrorf("version takes no arguments")
	}
	fmt.Fprintf(m.Stdout, "velqbo %s\n", version)
	return nil
}
