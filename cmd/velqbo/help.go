package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

// docs is what help, the completions and the man page say about a command.
// commands() holds it for every command, next to the command's flags.
type docs struct {
	summary string // one line: what the command is for
	args    string // positional arguments, e.g. "ORDER_NUMBER"
	long    string // more, in paragraphs, after the usage line
	subs    []subcommand
	// globals are the global flags the command uses; help, completions and
	// the man page list only these (every command still parses them all).
	globals  []string
	examples []example
	// more adds a section after the examples (the setting keys).
	more func(w io.Writer)
}

// subcommand is a sub-action such as `customers link`.
type subcommand struct {
	name, args, summary string
}

// example is a command line and what it does.
type example struct {
	line, what string
}

// Global flag sets, by what a command reads.
var (
	globalsNone   = []string{}
	globalsConfig = []string{"config", "log-format", "log-level"}
	globalsStore  = []string{"config", "db", "log-format", "log-level"}
	globalsSource = []string{"config", "db", "velocity-file", "log-format", "log-level"}
	globalsDaemon = []string{"config", "db", "velocity-file", "listen", "log-format", "log-level"}
)

// flagSets returns the command's own flags and the global flags it uses,
// as registered for parsing.
func (c command) flagSets() (own, global []*flag.Flag) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	if c.flags != nil {
		c.flags(fs)
	}
	fs.VisitAll(func(f *flag.Flag) { own = append(own, f) })
	var g globalFlags
	gfs := flag.NewFlagSet("global", flag.ContinueOnError)
	g.register(gfs)
	for _, name := range c.globals {
		if f := gfs.Lookup(name); f != nil {
			global = append(global, f)
		}
	}
	return own, global
}

// flagArg returns the placeholder of a flag's value ("" for a boolean) and
// its usage without the back quotes that name the placeholder.
func flagArg(f *flag.Flag) (arg, usage string) {
	arg, usage = flag.UnquoteUsage(f)
	switch arg {
	case "string":
		arg = "VALUE"
	case "int", "uint":
		arg = "N"
	case "duration":
		arg = "DURATION"
	case "value":
		arg = "VALUE"
	}
	if d := f.DefValue; d != "" && d != "0" && d != "false" && !strings.Contains(usage, "default") {
		usage += " (default " + d + ")"
	}
	return arg, usage
}

// flagTerm is how a flag is written in help: --name ARG.
func flagTerm(f *flag.Flag) string {
	arg, _ := flagArg(f)
	if arg == "" {
		return "--" + f.Name
	}
	return "--" + f.Name + " " + arg
}

// synopsis is the usage line without "velqbo ".
func (c command) synopsis() string {
	s := c.name
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

// writeHelp writes the help of one command.
func writeHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "velqbo %s: %s\n\nUsage:\n  velqbo %s", c.name, c.summary, c.synopsis())
	own, global := c.flagSets()
	if len(own)+len(global) > 0 {
		io.WriteString(w, " [flags]")
	}
	io.WriteString(w, "\n")
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.long))
	}
	if len(c.subs) > 0 {
		io.WriteString(w, "\nSubcommands:\n")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, s := range c.subs {
			fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(s.name+" "+s.args), s.summary)
		}
		tw.Flush()
	}
	for _, sec := range []struct {
		title string
		flags []*flag.Flag
	}{{"Flags", own}, {"Global flags", global}} {
		if len(sec.flags) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", sec.title)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, f := range sec.flags {
			_, usage := flagArg(f)
			fmt.Fprintf(tw, "  %s\t%s\n", flagTerm(f), usage)
		}
		tw.Flush()
	}
	if len(c.examples) > 0 {
		io.WriteString(w, "\nExamples:\n")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n      %s\n", e.line, e.what)
		}
	}
	if c.more != nil {
		io.WriteString(w, "\n")
		c.more(w)
	}
}

// writeSettingKeys lists the setting keys from reconcile, the one place
// that defines them.
func writeSettingKeys(w io.Writer) {
	io.WriteString(w, "Setting keys (velqbo settings set KEY=VALUE; an empty VALUE clears one):\n")
	for _, s := range reconcile.SettingInfos() {
		kind := s.Kind.String()
		if len(s.Types) > 0 {
			kind += ", of type " + s.TypeList()
		}
		fmt.Fprintf(w, "  %s\n      %s.\n      Takes: %s.\n", s.Key, upperFirst(s.Maps), kind)
	}
	fmt.Fprintf(w, "Velocity payment methods: %s.\n", strings.Join(velocity.KnownMethods(), ", "))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// usage writes the command list.
func writeUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("velqbo reports Velocity orders to QuickBooks Online, exactly once.\n\nUsage: velqbo [global flags] COMMAND [args] [flags]\n\nCommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	var g globalFlags
	gfs := flag.NewFlagSet("global", flag.ContinueOnError)
	g.register(gfs)
	var terms []string
	gfs.VisitAll(func(f *flag.Flag) { terms = append(terms, flagTerm(f)) })
	fmt.Fprintf(&b, "\nGlobal flags (each command's help says which it uses): %s\n", strings.Join(terms, ", "))
	b.WriteString("`velqbo help COMMAND` (or `velqbo COMMAND --help`) explains one command; `velqbo --version` prints the version.\n")
	b.WriteString("Exit codes: 0 done, 1 some items blocked or failed, 2 usage or configuration error, 3 could not run.\n")
	io.WriteString(w, b.String())
}

func helpCommand() command {
	return command{
		name: "help",
		run: func(_ context.Context, m *Main, args []string) error {
			switch len(args) {
			case 0:
				writeUsage(m.Stdout)
				return nil
			case 1:
				c, ok := commandByName(args[0])
				if !ok {
					return usageErrorf("unknown command %q (see `velqbo help`)", args[0])
				}
				writeHelp(m.Stdout, c)
				return nil
			}
			return usageErrorf("help takes at most one COMMAND")
		},
	}
}

// version is the version string; -ldflags "-X main.version=v1.2.3" sets it
// when packaging, else the build info's module version is used.
var version string

func init() {
	if version == "" {
		version = buildVersion()
	}
}

// buildVersion is the main module's version from the build info: a tag or
// pseudo-version when built with module information, "(devel)" for go run.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(devel)"
	}
	return bi.Main.Version
}

// versionLine is what `velqbo version` prints.
func versionLine() string {
	bi, _ := debug.ReadBuildInfo()
	return versionText(version, bi)
}

// versionText is "velqbo VERSION (revision REV (modified), committed
// TIME, GOVERSION)" from the build info bi (nil: the version alone). The
// revision parts are there when the binary was built from a VCS checkout
// with -buildvcs.
func versionText(v string, bi *debug.BuildInfo) string {
	s := "velqbo " + v
	if bi == nil {
		return s
	}
	var rev, at string
	modified := false
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.time":
			at = kv.Value
		case "vcs.modified":
			modified = kv.Value == "true"
		}
	}
	var parts []string
	if rev != "" {
		r := "revision " + rev
		if modified {
			r += " (modified)"
		}
		parts = append(parts, r)
	}
	if at != "" {
		parts = append(parts, "committed "+at)
	}
	if bi.GoVersion != "" {
		parts = append(parts, bi.GoVersion)
	}
	if len(parts) == 0 {
		return s
	}
	return s + " (" + strings.Join(parts, ", ") + ")"
}

func runVersion(_ context.Context, m *Main, args []string) error {
	if len(args) > 0 {
		return usageErrorf("version takes no arguments")
	}
	fmt.Fprintln(m.Stdout, versionLine())
	return nil
}
