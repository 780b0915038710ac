package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Side by side (-compare REF): the same benchmark for the commit REF and
// for the work tree, alternately, on one machine in one session, so that
// what the machine does meanwhile weighs on both alike.
//
// REF's tree is extracted with git archive into a temporary directory. The
// work tree's bench/ is copied into it as benchcur/ and built there, so
// both sides run the same harness: with it, every part measures REF's own
// binary (a, d, f) and REF's own engine in process (b, c, e). When the
// harness does not compile against REF's packages (an API it uses changed
// since), REF's side is measured in two halves: the binary parts (a, d, f)
// by the work tree's harness driving REF's binary (-bin), and the
// in-process parts (b, c) by REF's own bench/, when REF has one that
// builds; a part neither can measure is left empty in the table and said so.
// A binary part fails there too when REF's binary refuses the ledger the
// harness prepared (a schema newer than it knows); that failure is said
// under the table and the other parts are still measured.

// comparePassed are the flags a side's run gets from the command line.
var comparePassed = []string{"short", "scan", "catchup", "incr", "updates", "daemon", "idle", "scale", "only"}

// side is one of the two things compared.
type side struct {
	name   string // "f38b41c", "work tree"
	runs   []compareRun
	note   string   // how it was measured, when not as the other side
	failed []string // the runs that failed, and why
}

// compareRun is one way of measuring a side: a bench binary run in a tree.
type compareRun struct {
	bench, dir string
	args       []string
}

func runCompare(ctx context.Context, o options) int {
	if err := compare(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench: compare:", err)
		return 1
	}
	return 0
}

func compare(ctx context.Context, o options) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "velqbo-compare-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	refName, err := gitOut(root, "rev-parse", "--short", o.compare+"^{commit}")
	if err != nil {
		return fmt.Errorf("%s is not a commit: %w", o.compare, err)
	}
	curName := "work tree"
	if head, err := gitOut(root, "rev-parse", "--short", "HEAD"); err == nil {
		curName = head
		if dirty, _ := gitOut(root, "status", "--porcelain", "--untracked-files=no"); dirty != "" {
			curName += " + changes"
		}
	}
	refTree := filepath.Join(tmp, "ref")
	if err := extract(root, o.compare, refTree); err != nil {
		return err
	}
	if err := copyDir(filepath.Join(root, "bench"), filepath.Join(refTree, "benchcur")); err != nil {
		return err
	}

	var passed []string
	flag.Visit(func(f *flag.Flag) {
		for _, p := range comparePassed {
			if f.Name == p {
				passed = append(passed, "-"+f.Name+"="+f.Value.String())
			}
		}
	})
	cur := side{name: curName}
	ref := side{name: refName}
	curBench := filepath.Join(tmp, "bench-cur")
	if err := goBuild(root, curBench, "./bench"); err != nil {
		return err
	}
	// One child per part, so a part that fails on one side (REF's binary
	// refusing a ledger of a newer schema, say) leaves the others measured.
	parts := splitParts(o.only)
	only := func(p string) []string { return append(withoutFlags(passed, "only"), "-only="+p) }
	for _, p := range parts {
		cur.runs = append(cur.runs, compareRun{curBench, root, only(p)})
	}
	refBench := filepath.Join(tmp, "bench-ref")
	if err := goBuild(refTree, refBench, "./benchcur"); err == nil {
		for _, p := range parts {
			ref.runs = append(ref.runs, compareRun{refBench, refTree, only(p)})
		}
	} else {
		fmt.Fprintf(os.Stderr, "the work tree's bench/ does not compile against %s (%v): measuring %s's binary with it, and its in-process parts with %s's own bench/\n", refName, err, refName, refName)
		refBin := filepath.Join(tmp, "velqbo-ref")
		if err := goBuild(refTree, refBin, "./cmd/velqbo", shipped...); err != nil {
			return fmt.Errorf("build %s's velqbo: %w", refName, err)
		}
		own := filepath.Join(tmp, "bench-ref-own")
		ownBuilt := goBuild(refTree, own, "./bench") == nil
		var notes []string
		for _, p := range parts {
			switch {
			case strings.ContainsAny(p, "adf"):
				ref.runs = append(ref.runs, compareRun{curBench, root, append(only(p), "-bin="+refBin)})
			case p == "bc" && ownBuilt:
				// REF's own harness knows neither (e) nor the newer flags:
				// only the mode and the catch-up's size and scale are passed.
				ref.runs = append(ref.runs, compareRun{own, refTree, append(withoutFlags(passed, "only", "scan", "incr", "updates", "daemon", "idle"), "-only=bc")})
				notes = append(notes, "(b, c) by its own bench/")
			default:
				notes = append(notes, "("+p+") not measured")
			}
		}
		ref.note = fmt.Sprintf("the work tree's bench/ does not compile against %s, so its binary was measured by the work tree's harness (-bin), %s", refName, strings.Join(notes, ", "))
	}

	mode := "full"
	if o.short {
		mode = "short"
	}
	vals := map[*side]map[string][]float64{&ref: {}, &cur: {}}
	var order []string
	labels := map[string]metric{}
	for i := range max(1, o.runs) {
		// Alternate which side goes first, so neither always meets the
		// machine warmer or busier.
		sides := []*side{&ref, &cur}
		if i%2 == 1 {
			sides = []*side{&cur, &ref}
		}
		for _, s := range sides {
			for j, r := range s.runs {
				out := filepath.Join(tmp, fmt.Sprintf("run-%d-%s-%d.md", i, strings.ReplaceAll(s.name, " ", "_"), j))
				fmt.Fprintf(os.Stderr, "== round %d of %d: %s\n", i+1, max(1, o.runs), s.name)
				err := r.measure(ctx, out)
				var ms map[string]metric
				var keys []string
				if err == nil {
					ms, keys, err = recordedInOrder(out, mode)
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err != nil {
					fmt.Fprintf(os.Stderr, "bench: compare: %s: %v\n", s.name, err)
					s.failed = append(s.failed, fmt.Sprintf("%s failed in round %d: %s", r.only(), i+1, firstLine(err.Error())))
					continue
				}
				for _, k := range keys {
					vals[s][k] = append(vals[s][k], ms[k].value)
					if _, ok := labels[k]; !ok {
						labels[k] = ms[k]
						order = append(order, k)
					}
				}
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i][0] < order[j][0] })
	table := compareTable(ref, cur, vals[&ref], vals[&cur], order, labels, o.runs, mode)
	fmt.Print("\n" + table)
	if o.write != "" {
		begin, end := sectionMarkers("compare")
		if err := writeSection(o.write, begin, end, begin+"\n"+table+end+"\n"); err != nil {
			return err
		}
		fmt.Printf("wrote the comparison to %s\n", o.write)
	}
	return nil
}

// only is the run's -only value.
func (r compareRun) only() string {
	for _, a := range r.args {
		if v, ok := strings.CutPrefix(a, "-only="); ok {
			return "(" + v + ")"
		}
	}
	return "(all)"
}

// splitParts is one run per part of only; (c) is measured by (b)'s run.
func splitParts(only string) []string {
	var out []string
	for _, p := range "abcdef" {
		switch {
		case !strings.ContainsRune(only, p):
		case p == 'b' || p == 'c':
			if !slices.Contains(out, "bc") {
				out = append(out, "bc")
			}
		default:
			out = append(out, string(p))
		}
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// measure runs the bench binary in its tree with -write out. A missed
// target exits 1 and still writes the figures; other failures do not.
func (r compareRun) measure(ctx context.Context, out string) error {
	cmd := exec.CommandContext(ctx, r.bench, append(withoutFlags(r.args), "-write="+out)...)
	cmd.Dir = r.dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	err := cmd.Run()
	if _, serr := os.Stat(out); serr != nil {
		if err == nil {
			err = serr
		}
		return fmt.Errorf("%s %s: %w", r.bench, strings.Join(r.args, " "), err)
	}
	return nil
}

func compareTable(ref, cur side, rv, cv map[string][]float64, order []string, labels map[string]metric, runs int, mode string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Side by side (%s sizes)\n\n", mode)
	fmt.Fprintf(&b, "`go run ./bench -compare %s%s`, %s: %s and %s measured alternately on %d CPU (%s), load average %s at the end",
		ref.name, map[bool]string{true: " -short", false: ""}[mode == "short"], time.Now().UTC().Format("2006-01-02 15:04 MST"),
		ref.name, cur.name, describeMachine().nproc, describeMachine().cpu, loadAvg())
	if runs > 1 {
		fmt.Fprintf(&b, "; each figure is the median of %d runs", runs)
	}
	b.WriteString(".")
	if ref.note != "" {
		fmt.Fprintf(&b, " %s: %s.", ref.name, ref.note)
	}
	for _, s := range []side{ref, cur} {
		for _, f := range s.failed {
			fmt.Fprintf(&b, " %s: %s.", s.name, f)
		}
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "| key | figure | %s | %s | change | better |\n|---|---|---:|---:|---:|---|\n", ref.name, cur.name)
	for _, k := range order {
		m := labels[k]
		before, okB := medianOK(rv[k])
		after, okA := medianOK(cv[k])
		cell := func(v float64, ok bool) string {
			if !ok {
				return "—"
			}
			return tableValue(v) + " " + m.unit
		}
		change := ""
		if okB && okA && m.better != "" {
			switch {
			case before == after:
				change = "="
			case before == 0:
				change = fmt.Sprintf("%+g", after)
			default:
				change = fmt.Sprintf("%+.0f %%", 100*(after-before)/before)
			}
		}
		better := m.better
		if better == "" {
			better = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", k, m.label, cell(before, okB), cell(after, okA), change, better)
	}
	return b.String()
}

func medianOK(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// recordedInOrder is recorded with the keys in the order of the table.
func recordedInOrder(path, mode string) (map[string]metric, []string, error) {
	ms, err := recorded(path, mode)
	if err != nil {
		return nil, nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var keys []string
	for line := range strings.SplitSeq(string(b), "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if k := strings.TrimSpace(cells[0]); len(cells) == 5 {
			if _, ok := ms[k]; ok && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return ms, keys, nil
}

// withoutFlags copies args without the flags named in drop.
func withoutFlags(args []string, drop ...string) []string {
	var out []string
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !slices.Contains(drop, name) {
			out = append(out, a)
		}
	}
	return out
}

func gitOut(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// extract writes the tree of ref into dir (git archive: no worktree, no
// change to the repository).
func extract(root, ref, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	arch := exec.Command("git", "archive", "--format=tar", ref)
	arch.Dir = root
	tar := exec.Command("tar", "-xf", "-", "-C", dir)
	pipe, err := arch.StdoutPipe()
	if err != nil {
		return err
	}
	tar.Stdin = pipe
	var errb bytes.Buffer
	arch.Stderr, tar.Stderr = &errb, &errb
	if err := tar.Start(); err != nil {
		return err
	}
	if err := arch.Run(); err != nil {
		tar.Wait()
		return fmt.Errorf("git archive %s: %w: %s", ref, err, errb.String())
	}
	if err := tar.Wait(); err != nil {
		return fmt.Errorf("tar: %w: %s", err, errb.String())
	}
	return nil
}

// copyDir copies the regular files of src (not its subdirectories) to dst.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	es, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range es {
		if !e.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err == nil {
			_, err = io.Copy(out, in)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		in.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// shipped are the build flags of the velqbo the Dockerfile ships (with
// CGO_ENABLED=0, which goBuild always sets): the bench measures that
// binary, statically linked and without symbols.
var shipped = []string{"-trimpath", "-tags", "timetzdata", "-ldflags", "-s -w"}

// goBuild builds pkg in dir into out, with CGO_ENABLED=0 and flags.
func goBuild(dir, out, pkg string, flags ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.IndexByte(msg, '\n'); i > 0 {
			if j := strings.IndexByte(msg[i+1:], '\n'); j > 0 {
				msg = msg[:i+1+j]
			}
		}
		return fmt.Errorf("go build %s: %w: %s", pkg, err, msg)
	}
	return nil
}
