// Command bench measures velqbo's performance targets on one machine in one
// run and records or checks the figures in BENCHMARKS.md:
//
//	(a) a no-change full run of the real binary over an NDJSON export
//	    (default 1,000,000 orders): wall time, orders/s, CPU, peak RSS, and
//	    no QBO write;
//	(b) a catch-up of missing documents (default 5,000) through the real qbo
//	    client and reconcile engine against qbotest enforcing QBO's limits on
//	    a time-scaled clock: documents per QBO minute against the ceiling
//	    40×30 + (500−40) = 1,660/min, 429s and failures. The client paces
//	    as the binary's does: every request is booked in the windows its
//	    ledger shares between processes (reconcile.PaceWindows, a short
//	    write transaction to book and one to finish), and the ledger and
//	    the client read the one scaled clock;
//	(c) QBO requests per document (catch-up) and per order (no-change run);
//	(d) incremental runs of the real binary over the Velocity API: nothing
//	    changed, then 1 % of the orders changed, against a full run of the
//	    same store;
//	(e) an update-heavy catch-up: documents already in QBO (default 5,000)
//	    each get a new tracking number and one run reports them, through the
//	    real qbo client and reconcile engine against qbotest enforcing QBO's
//	    limits on a time-scaled clock, paced as in (b): changes per QBO minute
//	    against the same 1,660/min ceiling, 429s, failures, and QBO
//	    requests per updated document;
//	(f) an idle daemon: `velqbo daemon --run-now` over a Velocity store
//	    (default 5,000 orders) finishes its first run, then is left alone
//	    (default 35 s of real time, so one renewal of its lease falls in
//	    it) while /proc is sampled: RSS, CPU time and context switches
//	    over the idle period.
//
// Usage (from the module root):
//
//	go run ./bench                         # full: 1M-order scan, 5,000-document catch-up
//	go run ./bench -short                  # 50k-order scan, 3,500-document catch-up, 5k-order store, 3,500 updates: for CI
//	go run ./bench -write BENCHMARKS.md    # record the figures (the mode's section only)
//	go run ./bench -short -check BENCHMARKS.md  # exit 1 if a figure is >20 % worse than recorded
//	go run ./bench -compare REF -runs 3    # REF and the work tree side by side (compare.go)
//
// It is not a Go benchmark (go test -bench) because (a) and (d) time the
// real binary as a child process, which is what a user runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"
)

func main() {
	os.Exit(run())
}

type options struct {
	scan, catchup, incr int
	updates, daemon     int
	idle                time.Duration
	scale               float64
	short               bool
	only                string
	write, check        string
	tolerance           float64
	checkTries          int
	runs                int
	keep                bool
	bin                 string
	compare             string
}

func run() int {
	var o options
	flag.IntVar(&o.scan, "scan", 1_000_000, "orders in the NDJSON export of the no-change scan (a); 0 skips it")
	flag.IntVar(&o.catchup, "catchup", 5000, "documents to create in the catch-up (b, c); 0 skips it")
	flag.IntVar(&o.incr, "incr", 50_000, "orders in the store of the incremental runs (d); 0 skips it")
	flag.IntVar(&o.updates, "updates", 5000, "documents to update in the update-heavy catch-up (e); 0 skips it")
	flag.IntVar(&o.daemon, "daemon", 5000, "orders in the store of the idle daemon's first run (f); 0 skips it")
	flag.DurationVar(&o.idle, "idle", 35*time.Second, "how long the idle daemon (f) is sampled after its run (real time; 35 s takes in a renewal of its lease, every 30 s)")
	flag.Float64Var(&o.scale, "scale", 10, "time scale of the catch-up: QBO minutes per real minute (10: a QBO minute is 6 s)")
	flag.BoolVar(&o.short, "short", false, "small sizes for CI: -scan 50000 -catchup 3500 -incr 5000 -updates 3500 -daemon 1000 -idle 10s -scale 6")
	flag.StringVar(&o.only, "only", "abcdef", "which parts to run, e.g. -only a or -only bce")
	flag.StringVar(&o.write, "write", "", "write the figures into this file (BENCHMARKS.md), replacing the mode's section")
	flag.StringVar(&o.check, "check", "", "compare with the figures recorded in this file; exit 1 on a regression")
	flag.Float64Var(&o.tolerance, "tolerance", 0.20, "with -check: how much worse a figure may be (0.20 = 20 %)")
	flag.IntVar(&o.runs, "runs", 1, "measure this many times and report each figure's median (use with -write for a robust baseline)")
	flag.IntVar(&o.checkTries, "check-tries", 3, "with -check: measurements a figure must be worse in before it counts as a regression")
	flag.StringVar(&o.bin, "bin", "", "measure this velqbo binary in (a), (d) and (f) instead of building ./cmd/velqbo")
	flag.StringVar(&o.compare, "compare", "", "measure the commit `REF` and the work tree side by side, alternately (-runs rounds); with -write, into the compare section")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (export, databases, binary)")
	flag.Parse()
	if o.short {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["scan"] {
			o.scan = 50_000
		}
		if !set["catchup"] {
			o.catchup = 3500
		}
		if !set["incr"] {
			o.incr = 5000
		}
		if !set["updates"] {
			// Two whole QBO minutes at the 1,660/min ceiling.
			o.updates = 3500
		}
		if !set["daemon"] {
			o.daemon = 1000
		}
		if !set["idle"] {
			o.idle = 10 * time.Second
		}
		if !set["scale"] {
			o.scale = 6 // a QBO minute is 10 s: room for a busy CI machine to keep up
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.compare != "" {
		if o.check != "" || o.bin != "" {
			fmt.Fprintln(os.Stderr, "bench: -compare takes neither -check nor -bin")
			return 2
		}
		return runCompare(ctx, o)
	}
	mode := "full"
	if o.short {
		mode = "short"
	}
	var reps []*report
	for i := 0; i < max(1, o.runs); i++ {
		rep, err := measure(ctx, o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		reps = append(reps, rep)
	}
	rep := medianOf(reps)
	rep.mode = mode
	rep.print(os.Stdout)
	failed := false
	for _, v := range rep.targets() {
		if !v.ok {
			failed = true
		}
		mark := "ok  "
		if !v.ok {
			mark = "FAIL"
		}
		fmt.Printf("target %s %s\n", mark, v.text)
	}
	if o.check != "" {
		regs, err := rep.checkAgainst(o.check, o.tolerance)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: check:", err)
			return 1
		}
		// Noise on a shared machine only ever makes a figure worse, so a
		// figure that looks regressed is measured again (just its part);
		// a real regression is worse every time, noise rarely twice.
		for try := 2; len(regs) > 0 && try <= o.checkTries; try++ {
			o2 := o
			o2.only = partsOf(regs)
			fmt.Printf("check: %d figure(s) look worse; measuring part(s) %s again (try %d of %d)\n", len(regs), o2.only, try, o.checkTries)
			again, err := measure(ctx, o2)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
				return 1
			}
			again.mode = mode
			regs2, err := again.checkAgainst(o.check, o.tolerance)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench: check:", err)
				return 1
			}
			regs = stillRegressed(regs, regs2)
		}
		for _, r := range regs {
			fmt.Println("REGRESSION", r)
		}
		if len(regs) > 0 {
			failed = true
		} else {
			fmt.Printf("check: no figure more than %.0f %% worse than %s (%s)\n", o.tolerance*100, o.check, mode)
		}
	}
	if o.write != "" {
		if err := rep.writeTo(o.write); err != nil {
			fmt.Fprintln(os.Stderr, "bench: write:", err)
			return 1
		}
		fmt.Printf("wrote the %s figures to %s\n", mode, o.write)
	}
	if failed {
		return 1
	}
	return 0
}

func measure(ctx context.Context, o options) (*report, error) {
	rep := &report{machine: describeMachine(), loadBefore: loadAvg(), started: time.Now()}
	dir, err := os.MkdirTemp("", "velqbo-bench-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	bin := o.bin
	if bin == "" && strings.ContainsAny(o.only, "adf") {
		if bin, err = buildBinary(root, dir); err != nil {
			return nil, err
		}
	}
	sub := func(name string) (string, error) {
		d := dir + "/" + name
		return d, os.MkdirAll(d, 0o700)
	}
	if strings.Contains(o.only, "a") && o.scan > 0 {
		fmt.Fprintf(os.Stderr, "(a) no-change scan of %d orders…\n", o.scan)
		d, err := sub("scan")
		if err != nil {
			return nil, err
		}
		r, err := benchScan(ctx, bin, d, o.scan)
		if err != nil {
			return nil, fmt.Errorf("(a) scan: %w", err)
		}
		rep.scan = &r
		if !o.keep {
			os.RemoveAll(d) // the export and its ledger take gigabytes at 1M orders
		}
	}
	if strings.ContainsAny(o.only, "bc") && o.catchup > 0 {
		fmt.Fprintf(os.Stderr, "(b) catch-up of %d documents at %gx…\n", o.catchup, o.scale)
		d, err := sub("catchup")
		if err != nil {
			return nil, err
		}
		r, err := benchCatchup(ctx, d, o.catchup, o.scale)
		if err != nil {
			return nil, fmt.Errorf("(b) catch-up: %w", err)
		}
		r.scale = o.scale
		rep.catchup = &r
	}
	if strings.Contains(o.only, "d") && o.incr > 0 {
		fmt.Fprintf(os.Stderr, "(d) incremental runs over a store of %d orders…\n", o.incr)
		d, err := sub("incr")
		if err != nil {
			return nil, err
		}
		r, err := benchIncremental(ctx, bin, d, o.incr)
		if err != nil {
			return nil, fmt.Errorf("(d) incremental: %w", err)
		}
		rep.incr = &r
	}
	if strings.Contains(o.only, "e") && o.updates > 0 {
		fmt.Fprintf(os.Stderr, "(e) update-heavy catch-up of %d documents at %gx…\n", o.updates, o.scale)
		d, err := sub("updates")
		if err != nil {
			return nil, err
		}
		r, err := benchUpdates(ctx, d, o.updates, o.scale)
		if err != nil {
			return nil, fmt.Errorf("(e) updates: %w", err)
		}
		rep.updates = &r
	}
	if strings.Contains(o.only, "f") && o.daemon > 0 {
		fmt.Fprintf(os.Stderr, "(f) idle daemon after a run over %d orders, sampled for %s…\n", o.daemon, o.idle)
		d, err := sub("idle")
		if err != nil {
			return nil, err
		}
		r, err := benchIdle(ctx, bin, d, o.daemon, o.idle)
		if err != nil {
			return nil, fmt.Errorf("(f) idle daemon: %w", err)
		}
		rep.idle = &r
	}
	rep.loadAfter = loadAvg()
	return rep, nil
}

// machine is what the figures were measured on.
type machine struct {
	nproc  int
	cpu    string
	goVer  string
	os     string
	memMiB int
}

func describeMachine() machine {
	m := machine{nproc: runtime.NumCPU(), goVer: runtime.Version(), os: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		for line := range strings.SplitSeq(string(b), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				fmt.Sscan(strings.TrimSpace(strings.TrimPrefix(line, "MemTotal:")), &kb)
			}
		}
		m.memMiB = kb / 1024
	}
	return m
}

// loadAvg is /proc/loadavg's first three fields, or "".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// regKey is the figure key a regression line starts with ("d.cpu_ms_per_update").
func regKey(r string) string {
	k, _, _ := strings.Cut(r, " ")
	return k
}

// partsOf lists the benchmark parts (a to e) whose figures regressed.
func partsOf(regs []string) string {
	var parts string
	for _, r := range regs {
		if p := regKey(r)[:1]; !strings.Contains(parts, p) {
			parts += p
		}
	}
	return parts
}

// stillRegressed keeps the regressions of the latest measurement whose
// figures were also worse in every earlier one.
func stillRegressed(before, latest []string) []string {
	was := map[string]bool{}
	for _, r := range before {
		was[regKey(r)] = true
	}
	var out []string
	for _, r := range latest {
		if was[regKey(r)] {
			out = append(out, r)
		}
	}
	return out
}
