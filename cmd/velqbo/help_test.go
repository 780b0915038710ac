package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

// runQuiet runs velqbo with no configuration in an empty directory.
func runQuiet(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: envFunc(map[string]string{"VELQBO_DB": filepath.Join(t.TempDir(), "velqbo.db")})}
	code := m.Run(t.Context(), args)
	return result{Code: code, Stdout: out.String(), Stderr: errb.String()}
}

func TestHelp_EveryCommand(t *testing.T) {
	t.Parallel()
	allGlobals := everyGlobal()
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			byFlag := runQuiet(t, c.name, "--help")
			if byFlag.Code != exitOK {
				t.Fatalf("velqbo %s --help: exit %d; want 0\nstderr: %s", c.name, byFlag.Code, byFlag.Stderr)
			}
			byHelp := runQuiet(t, "help", c.name)
			if byHelp.Code != exitOK {
				t.Fatalf("velqbo help %s: exit %d; want 0\nstderr: %s", c.name, byHelp.Code, byHelp.Stderr)
			}
			if byFlag.Stdout != byHelp.Stdout {
				t.Errorf("velqbo %s --help and velqbo help %s differ:\n%s\n---\n%s", c.name, c.name, byFlag.Stdout, byHelp.Stdout)
			}
			got := byHelp.Stdout
			if c.summary == "" || strings.Contains(c.summary, "\n") {
				t.Errorf("summary: got %q; want one line", c.summary)
			}
			want := []string{"velqbo " + c.name + ": " + c.summary + "\n", "Usage:\n  velqbo " + c.synopsis(), "Examples:\n  velqbo " + c.name}
			own, global := c.flagSets()
			for _, f := range append(own, global...) {
				want = append(want, "  "+flagTerm(f)+"  ")
			}
			for _, s := range c.subs {
				want = append(want, "  "+strings.TrimSpace(s.name+" "+s.args)+"  ")
			}
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("help lacks %q:\n%s", w, got)
				}
			}
			for _, g := range allGlobals {
				if !slices.Contains(c.globals, g.name) && strings.Contains(got, "--"+g.name+" ") {
					t.Errorf("help shows --%s, which %s does not use:\n%s", g.name, c.name, got)
				}
			}
		})
	}
}

func TestHelp_Details(t *testing.T) {
	t.Parallel()
	var keys []string
	for _, s := range reconcile.SettingInfos() {
		keys = append(keys, "  "+s.Key+"\n", upperFirst(s.Maps), "Takes: "+s.Kind.String())
	}
	tests := []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{"ResyncArgument", []string{"resync", "--help"}, []string{"velqbo resync ORDER_NUMBER"}, nil},
		{"VersionHasNoListen", []string{"version", "--help"}, nil, []string{"--listen", "--db", "Flags:"}},
		{"DaemonHasListen", []string{"help", "daemon"}, []string{"--listen ADDR", "--grace DURATION", "(default 30s)"}, nil},
		{"SettingsKeys", []string{"help", "settings"}, append(keys, "payment-methods", strings.Join(velocity.KnownMethods(), ", ")), nil},
		{"CustomersSubs", []string{"customers", "--help"}, []string{"list [--unlinked]", "link VELOCITY_ID QBO_ID", "unlink VELOCITY_ID", "match [--apply]", "create VELOCITY_ID", "sync VELOCITY_ID --keep velocity|qbo"}, nil},
		{"LedgerRebuild", []string{"help", "ledger"}, []string{"velqbo ledger rebuild", "rebuild [--since DATE]"}, nil},
		{"List", []string{"help"}, commandNames(), nil},
		{"ListByFlag", []string{"--help"}, commandNames(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runQuiet(t, tt.args...)
			if r.Code != exitOK {
				t.Fatalf("velqbo %v: exit %d; want 0\nstderr: %s", tt.args, r.Code, r.Stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Stdout, w) {
					t.Errorf("velqbo %v lacks %q:\n%s", tt.args, w, r.Stdout)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(r.Stdout, w) {
					t.Errorf("velqbo %v shows %q:\n%s", tt.args, w, r.Stdout)
				}
			}
		})
	}
	t.Run("UnknownCommand", func(t *testing.T) {
		r := runQuiet(t, "help", "frobnicate")
		if r.Code != exitUsage || !strings.Contains(r.Stderr, `unknown command "frobnicate"`) {
			t.Errorf("velqbo help frobnicate: got exit %d, %q; want %d naming it", r.Code, r.Stderr, exitUsage)
		}
	})
	t.Run("BadFlagNamesHelp", func(t *testing.T) {
		r := runQuiet(t, "resync", "--nope")
		if r.Code != exitUsage || !strings.Contains(r.Stderr, "`velqbo help resync`") {
			t.Errorf("velqbo resync --nope: got exit %d, %q; want %d pointing at `velqbo help resync`", r.Code, r.Stderr, exitUsage)
		}
	})
}

func TestVersionText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		version string
		bi      *debug.BuildInfo
		want    string
	}{
		{"NoBuildInfo", "v1.2.3", nil, "velqbo v1.2.3"},
		{"GoRun", "(devel)", &debug.BuildInfo{GoVersion: "go1.26.0"}, "velqbo (devel) (go1.26.0)"},
		{"Clean", "v1.2.3", &debug.BuildInfo{GoVersion: "go1.26.0", Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-11-26T15:00:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			"velqbo v1.2.3 (revision abc123, committed 2026-11-26T15:00:00Z, go1.26.0)"},
		{"Modified", "v0.0.0-20261126150000-abc123", &debug.BuildInfo{GoVersion: "go1.26.0", Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}},
			"velqbo v0.0.0-20261126150000-abc123 (revision abc123 (modified), go1.26.0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionText(tt.version, tt.bi); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

// TestHelp_Binary drives the built binary: help for every command,
// --version and version stamped by -ldflags, and no database created.
func TestHelp_Binary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "velqbo")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7-test", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("velqbo %v: %v\nstderr: %s", args, err, errb.String())
		}
		return out.String()
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if got := run(args...); !strings.HasPrefix(got, "velqbo v9.8.7-test (") || !strings.Contains(got, "go1.") {
			t.Errorf("velqbo %v: got %q; want the stamped version and the Go version", args, got)
		}
	}
	list := run("help")
	for _, c := range commands() {
		if !strings.Contains(list, "  "+c.name+" ") {
			t.Errorf("velqbo help lacks %s:\n%s", c.name, list)
		}
		got := run(c.name, "--help")
		if !strings.HasPrefix(got, "velqbo "+c.name+": "+c.summary) || !strings.Contains(got, "Usage:\n  velqbo "+c.synopsis()) {
			t.Errorf("velqbo %s --help:\n%s", c.name, got)
		}
	}
	if got := run("resync", "--help"); !strings.Contains(got, "ORDER_NUMBER") {
		t.Errorf("velqbo resync --help lacks ORDER_NUMBER:\n%s", got)
	}
	if got := run("version", "--help"); strings.Contains(got, "--listen") {
		t.Errorf("velqbo version --help shows --listen:\n%s", got)
	}
	if _, err := os.Stat(filepath.Join(work, "velqbo.db")); err == nil {
		t.Errorf("help created velqbo.db in the working directory")
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			r := runQuiet(t, "completion", shell)
			if r.Code != exitOK {
				t.Fatalf("velqbo completion %s: exit %d; want 0\nstderr: %s", shell, r.Code, r.Stderr)
			}
			for _, c := range commands() {
				if !strings.Contains(r.Stdout, c.name) {
					t.Errorf("lacks the command %s", c.name)
				}
				for _, s := range c.subs {
					if !strings.Contains(r.Stdout, s.name) {
						t.Errorf("lacks %s %s", c.name, s.name)
					}
				}
				for _, f := range allFlags(c) {
					w := "--" + f.name
					if shell == "fish" {
						w = "-l " + f.name
					}
					if !strings.Contains(r.Stdout, w) {
						t.Errorf("lacks %s of %s", w, c.name)
					}
				}
			}
			if path, err := exec.LookPath(shell); err == nil {
				check := []string{"-n"}
				if shell == "fish" {
					check = []string{"--no-execute"}
				}
				file := filepath.Join(t.TempDir(), "velqbo."+shell)
				if err := os.WriteFile(file, []byte(r.Stdout), 0o600); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command(path, append(check, file)...).CombinedOutput(); err != nil {
					t.Errorf("%s %v: %v\n%s", shell, check, err, out)
				}
			}
		})
	}
	if r := runQuiet(t, "completion", "tcsh"); r.Code != exitUsage {
		t.Errorf("velqbo completion tcsh: exit %d; want %d", r.Code, exitUsage)
	}
}

// TestCompletion_BashCompletes sources the bash completion and asks it
// what follows a few command lines.
func TestCompletion_BashCompletes(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := runQuiet(t, "completion", "bash").Stdout
	tests := []struct {
		line    []string // the words, the last being completed
		want    []string
		notWant []string
	}{
		{[]string{"velqbo", "cust"}, []string{"customers"}, nil},
		{[]string{"velqbo", "customers", ""}, []string{"list", "link", "unlink", "match", "create", "sync"}, nil},
		{[]string{"velqbo", "--db", "x.db", "settings", "pay"}, []string{"payment-methods"}, nil},
		{[]string{"velqbo", "run", "--"}, []string{"--since", "--full", "--json", "--velocity-file", "--help"}, []string{"--listen"}},
		{[]string{"velqbo", "version", "--"}, []string{"--help"}, []string{"--listen", "--db"}},
		{[]string{"velqbo", "customers", "sync", "cus_1", "--keep", ""}, []string{"velocity", "qbo"}, nil},
		{[]string{"velqbo", "help", "res"}, []string{"resync"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.line, "_"), func(t *testing.T) {
			t.Parallel()
			var words []string
			for _, w := range tt.line {
				words = append(words, "'"+w+"'")
			}
			prog := script + "\nCOMP_WORDS=(" + strings.Join(words, " ") + ")\nCOMP_CWORD=" + strconv.Itoa(len(tt.line)-1) +
				"\n_velqbo\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
			out, err := exec.Command(bash, "--norc", "--noprofile", "-c", prog).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			got := strings.Fields(string(out))
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("got %v; want %s among them", got, w)
				}
			}
			for _, w := range tt.notWant {
				if slices.Contains(got, w) {
					t.Errorf("got %v; want no %s", got, w)
				}
			}
		})
	}
}

func TestMan(t *testing.T) {
	t.Parallel()
	r := runQuiet(t, "man")
	if r.Code != exitOK {
		t.Fatalf("velqbo man: exit %d; want 0\nstderr: %s", r.Code, r.Stderr)
	}
	page := r.Stdout
	esc := func(s string) string { return strings.ReplaceAll(s, "-", `\-`) }
	for _, c := range commands() {
		if !strings.Contains(page, `.SS "velqbo `+esc(c.synopsis())+`"`) {
			t.Errorf("lacks the section of %s", c.name)
		}
		for _, s := range c.subs {
			if !strings.Contains(page, esc(strings.TrimSpace(s.name+" "+s.args))) {
				t.Errorf("lacks %s %s", c.name, s.name)
			}
		}
		for _, f := range allFlags(c) {
			if !strings.Contains(page, `\-\-`+esc(f.name)) {
				t.Errorf("lacks --%s of %s", f.name, c.name)
			}
		}
	}
	for _, s := range reconcile.SettingInfos() {
		if !strings.Contains(page, esc(s.Key)) {
			t.Errorf("lacks the setting %s", s.Key)
		}
	}
	if groff, err := exec.LookPath("groff"); err == nil {
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
		cmd.Stdin = strings.NewReader(page)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("groff -man -ww: %v\n%s", err, out)
		}
	}
}

// commandRef matches a velqbo command line in a code span or block:
// `velqbo ...` inline, or a line of a fenced block starting with it.
var (
	inlineRef = regexp.MustCompile("`(?:\\$ )?velqbo ([^`\n]+)`")
	// binRef is the binary run by its path, as in a unit's ExecStart.
	binRef    = regexp.MustCompile(`bin/velqbo ([^\n"']+)`)
	blockLine = regexp.MustCompile(`^\s*(?:\$ |\./)?velqbo ([^\n]+)$`)
)

// TestCommandsNamedExist finds every `velqbo COMMAND ...` that the source,
// the docs, deploy/ and Dockerfiles, the help text and the rendered reasons name, and checks that the
// command and its sub-action exist and that its flags are the command's.
func TestCommandsNamedExist(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	type ref struct{ where, line string }
	var refs []ref
	scan := func(where, text string, blocks bool) {
		for _, m := range inlineRef.FindAllStringSubmatch(text, -1) {
			refs = append(refs, ref{where, m[1]})
		}
		for _, m := range binRef.FindAllStringSubmatch(text, -1) {
			refs = append(refs, ref{where, m[1]})
		}
		if !blocks {
			return
		}
		in := false
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "```") {
				in = !in
				continue
			}
			if m := blockLine.FindStringSubmatch(l); in && m != nil {
				// A command list's description follows two spaces.
				refs = append(refs, ref{where, regexp.MustCompile(`\s{2,}`).Split(m[1], 2)[0]})
			}
		}
	}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		isDoc := rel == "README.md" || (filepath.Dir(rel) == "docs" && strings.HasSuffix(rel, ".md"))
		isSource := strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go")
		isDeploy := strings.HasPrefix(rel, "deploy"+string(filepath.Separator)) || strings.HasPrefix(d.Name(), "Dockerfile")
		if isDeploy {
			isSource = true
		}
		if !isDoc && !isSource {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scan(rel, string(b), isDoc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		var b bytes.Buffer
		writeHelp(&b, c)
		scan("help of "+c.name, b.String(), false)
		for _, e := range c.examples {
			refs = append(refs, ref{"example of " + c.name, strings.TrimPrefix(e.line, "velqbo ")})
		}
	}
	for _, a := range []reconcile.FixAction{reconcile.FixLinkCustomer, reconcile.FixCreateCustomer, reconcile.FixRenameOrLinkCustomer,
		reconcile.FixLinkProduct, reconcile.FixSetSetting, reconcile.FixMapPaymentMethod, reconcile.FixResync, reconcile.FixAdopt,
		reconcile.FixRetryOrSkip, reconcile.FixRetry} {
		for _, list := range []string{"", "accounts", "items"} {
			scan("fix "+string(a)+" "+list, fixCommand("Velocity", reconcile.Fix{Action: a, ID: "X1", List: list}), false)
		}
	}
	if len(refs) < 50 {
		t.Fatalf("found %d command references; the scan is broken", len(refs))
	}
	checked := 0
	for _, r := range refs {
		if why := checkCommandLine(r.line); why != "" {
			t.Errorf("%s: `velqbo %s`: %s", r.where, r.line, why)
		}
		checked++
	}
	t.Logf("checked %d command references", checked)
}

// checkCommandLine says what is wrong with a velqbo command line written in
// a message or doc (without "velqbo "), or "". Placeholders and format
// verbs are accepted as arguments.
func checkCommandLine(line string) string {
	var words []string
	for _, w := range strings.Fields(strings.ReplaceAll(line, "[global flags]", "")) {
		w = strings.Trim(w, "[](),.;")
		if w == "" || w == "|" || w == "..." {
			continue
		}
		words = append(words, w)
	}
	var g globalFlags
	pre := flag.NewFlagSet("velqbo", flag.ContinueOnError)
	g.register(pre)
	var c *command
	for i := 0; i < len(words); i++ {
		w := words[i]
		if strings.HasPrefix(w, "-") {
			if c == nil && (w == "--version" || w == "--help" || w == "-h") {
				if i == len(words)-1 {
					return ""
				}
				continue
			}
			name, _, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
			var f *flag.Flag
			if c == nil {
				f = pre.Lookup(name)
			} else {
				f = lookupFlag(*c, name)
			}
			if name == "help" {
				continue
			}
			if f == nil {
				where := "before the command"
				if c != nil {
					where = "of " + c.name
				}
				return "--" + name + " is not a flag " + where
			}
			if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool && !hasValue {
				i++ // its value
			}
			continue
		}
		if c == nil {
			if strings.Contains(w, "%") || w == "COMMAND" {
				return ""
			}
			found, ok := commandByName(w)
			if !ok {
				return "no such command " + w
			}
			c = &found
			if subs := subWords(found); len(subs) > 0 && i+1 < len(words) && !strings.HasPrefix(words[i+1], "-") {
				next := words[i+1]
				if isPlaceholder(next) {
					i++
					continue
				}
				for _, alt := range strings.Split(next, "|") {
					if !slices.Contains(subs, alt) {
						return "no subcommand " + alt + " of " + found.name
					}
				}
				i++
			}
		}
	}
	if c == nil {
		return "no command"
	}
	return ""
}

// isPlaceholder reports whether w stands for a value: KEY=VALUE, ID, a
// format verb.
func isPlaceholder(w string) bool {
	return strings.Contains(w, "%") || strings.ToUpper(w) == w
}

// lookupFlag finds a flag of c by name, its own or a global one.
func lookupFlag(c command, name string) *flag.Flag {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	var g globalFlags
	g.register(fs)
	if c.flags != nil {
		c.flags(fs)
	}
	return fs.Lookup(name)
}

func TestCheckCommandLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want string // a part of the problem; "" for none
	}{
		{"resync 10042", ""},
		{"settings payment-methods", ""},
		{"settings set payment_method.credit_card=ID", ""},
		{"customers link %s QBO_CUSTOMER_ID", ""},
		{"--db x.db status --json", ""},
		{"daemon --verify=false --grace 30s", ""},
		{"accounts|items", "no such command accounts|items"},
		{"items list", "no such command items"},
		{"customers frob 1", "no subcommand frob"},
		{"resync --bogus 1", "--bogus is not a flag of resync"},
		{"--bogus run", "--bogus is not a flag before the command"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got := checkCommandLine(tt.line)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("checkCommandLine(%q): got %q; want %q", tt.line, got, tt.want)
			}
		})
	}
}

func TestSettings_PaymentMethods(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	pm := h.Seed.PaymentMethods
	if err := h.QBO.PersonEdit("PaymentMethod", pm["Wire"], func(m map[string]any) { m["Active"] = false }); err != nil {
		t.Fatal(err)
	}
	h.MustRun(exitOK, "", "settings", "set", "payment_method.credit_card="+pm["Credit Card"], "payment_method.paypal="+pm["Cash"],
		"payment_method.ach="+pm["ACH"])
	// Made inactive after it was mapped: listed as such.
	if err := h.QBO.PersonEdit("PaymentMethod", pm["ACH"], func(m map[string]any) { m["Active"] = false }); err != nil {
		t.Fatal(err)
	}

	r := h.MustRun(exitOK, "", "settings", "payment-methods", "--json")
	var got struct {
		QBO      []paymentMethodRow  `json:"qbo"`
		Velocity []velocityMethodRow `json:"velocity"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	wantQBO := paymentMethodRow{ID: pm["Wire"], Name: "Wire", Type: "NON_CREDIT_CARD", Active: false}
	if !slices.Contains(got.QBO, wantQBO) || len(got.QBO) != len(pm) {
		t.Errorf("qbo: got %+v; want the %d seeded methods, %+v among them", got.QBO, len(pm), wantQBO)
	}
	var wantVel []velocityMethodRow
	for _, m := range velocity.KnownMethods() {
		row := velocityMethodRow{Method: m, Key: "payment_method." + m, Needed: m != velocity.MethodTerms, Known: true}
		switch m {
		case velocity.MethodCreditCard:
			row.QBOID, row.QBOName = pm["Credit Card"], "Credit Card"
		case velocity.MethodACH:
			row.QBOID, row.QBOName, row.QBOInactive = pm["ACH"], "ACH", true
		}
		wantVel = append(wantVel, row)
	}
	wantVel = append(wantVel, velocityMethodRow{Method: "paypal", Key: "payment_method.paypal", QBOID: pm["Cash"], QBOName: "Cash", Needed: true})
	if diff := cmp.Diff(wantVel, got.Velocity); diff != "" {
		t.Errorf("velocity (-want +got):\n%s", diff)
	}

	r = h.MustRun(exitOK, "", "settings", "payment-methods")
	for _, w := range []string{"Wire", "false", "credit_card", "payment_method.credit_card", pm["Credit Card"] + " (Credit Card)", pm["ACH"] + " (ACH, inactive in QBO)", "not needed", "velqbo settings set payment_method.METHOD=ID"} {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("settings payment-methods lacks %q:\n%s", w, r.Stdout)
		}
	}
	if r := h.Run("", "settings", "payment-methods", "extra"); r.Code != exitUsage {
		t.Errorf("settings payment-methods extra: exit %d; want %d", r.Code, exitUsage)
	}
}
