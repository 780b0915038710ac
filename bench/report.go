package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// metric is one figure. Better says which way is good; "" marks a figure
// that describes the setup and is not compared.
type metric struct {
	key, label string
	value      float64
	unit       string
	better     string // "lower", "higher" or ""
}

type report struct {
	mode                  string
	machine               machine
	loadBefore, loadAfter string
	started               time.Time
	scan                  *scanResult
	catchup               *catchupResult
	incr                  *incrResult
	updates               *updatesResult
	idle                  *idleResult
	// median, when set, replaces each figure with its median over runs
	// measurements (-runs): a baseline from one lucky run would make the
	// regression check fail on ordinary noise.
	median map[string]float64
	runs   int
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func (r *report) metrics() []metric {
	var ms []metric
	add := func(key, label string, v float64, unit, better string) {
		if m, ok := r.median[key]; ok {
			v = m
		}
		ms = append(ms, metric{key, label, v, unit, better})
	}
	if s := r.scan; s != nil {
		add("a.orders", "(a) orders in the export", float64(s.orders), "orders", "")
		add("a.export_mib", "(a) export size", mib(s.exportBytes), "MiB", "")
		add("a.wall_s", "(a) no-change full run, wall time", s.run.wall.Seconds(), "s", "lower")
		add("a.orders_per_s", "(a) orders per second", s.ordersPerSec, "orders/s", "higher")
		add("a.cpu_s", "(a) CPU time (user+sys)", (s.run.user + s.run.sys).Seconds(), "s", "lower")
		add("a.peak_rss_mib", "(a) peak RSS of velqbo", mib(s.run.maxRSS), "MiB", "lower")
		add("a.first_wall_s", "(a) first no-change run after seeding (records digests), wall", s.first.wall.Seconds(), "s", "lower")
		add("a.first_cpu_s", "(a) first no-change run, CPU time", (s.first.user + s.first.sys).Seconds(), "s", "lower")
		add("a.first_peak_rss_mib", "(a) first no-change run, peak RSS", mib(s.first.maxRSS), "MiB", "lower")
		add("a.unchanged", "(a) documents unchanged", float64(s.unchanged), "docs", "")
		add("a.qbo_requests", "(a) QBO requests", float64(s.qboRequests), "requests", "lower")
	}
	if c := r.catchup; c != nil {
		add("b.docs", "(b) documents created", float64(c.docs), "docs", "")
		add("b.scale", "(b) time scale (QBO min per real min)", c.scale, "x", "")
		add("b.minutes", "(b) whole QBO minutes measured", float64(c.minutes), "min", "")
		add("b.docs_per_min", "(b) documents per QBO minute", c.docsPerMin, "docs/min", "higher")
		add("b.limit_pct", "(b) share of the 1,660/min ceiling", 100*c.docsPerMin/limitDocsPerMinute, "%", "higher")
		add("b.throttled", "(b) 429 answers", float64(c.throttled), "429s", "lower")
		add("b.failed", "(b) failed items", float64(c.failed), "items", "lower")
		add("b.real_s", "(b) real time of the catch-up run", c.realSeconds, "s", "")
		add("c.requests_per_doc", "(c) QBO requests per document (catch-up)", c.reqPerDoc, "req/doc", "lower")
		add("c.batches", "(c) batch requests", float64(c.batches), "requests", "")
		add("c.singles", "(c) single creates", float64(c.singles), "requests", "")
	}
	if s := r.scan; s != nil && s.orders > 0 {
		add("c.requests_per_order_nochange", "(c) QBO requests per order (no-change run)", float64(s.qboRequests)/float64(s.orders), "req/order", "lower")
	}
	if d := r.incr; d != nil {
		cpu := func(p procStats) float64 { return (p.user + p.sys).Seconds() }
		add("d.store", "(d) orders in the store", float64(d.store), "orders", "")
		add("d.changed", "(d) orders changed (1 %)", float64(d.changed), "orders", "")
		add("d.updated", "(d) documents updated by the 1 % run", float64(d.updated), "docs", "")
		add("d.nochange_s", "(d) incremental run, nothing changed: wall", d.noChange.wall.Seconds(), "s", "lower")
		add("d.nochange_cpu_s", "(d) incremental run, nothing changed: velqbo CPU", cpu(d.noChange), "s", "lower")
		add("d.changed_s", "(d) incremental run, 1 % changed: wall", d.changedRun.wall.Seconds(), "s", "lower")
		add("d.changed_cpu_s", "(d) incremental run, 1 % changed: velqbo CPU", cpu(d.changedRun), "s", "lower")
		add("d.full_s", "(d) full run of the same store: wall", d.full.wall.Seconds(), "s", "")
		add("d.full_cpu_s", "(d) full run of the same store: velqbo CPU", cpu(d.full), "s", "")
		add("d.changed_vs_full_cpu_pct", "(d) velqbo CPU of the 1 % run / full run", 100*cpu(d.changedRun)/cpu(d.full), "%", "lower")
		add("d.cpu_ms_per_update", "(d) velqbo CPU per updated document", 1000*(cpu(d.changedRun)-cpu(d.noChange))/float64(max(d.updated, 1)), "ms/doc", "lower")
		add("d.velocity_requests", "(d) Velocity API requests, 1 % changed run", float64(d.changedVelocityReqs), "requests", "")
		add("d.qbo_per_update", "(d) QBO requests per updated document", d.changedQBOPerUpdate, "req/doc", "lower")
	}
	if u := r.updates; u != nil {
		add("e.docs", "(e) documents updated", float64(u.updated), "docs", "")
		add("e.scale", "(e) time scale (QBO min per real min)", u.scale, "x", "")
		add("e.minutes", "(e) whole QBO minutes measured", float64(u.minutes), "min", "")
		add("e.changes_per_min", "(e) changes per QBO minute", u.perMin, "changes/min", "higher")
		add("e.limit_pct", "(e) share of the 1,660/min ceiling", 100*u.perMin/limitDocsPerMinute, "%", "higher")
		add("e.throttled", "(e) 429 answers", float64(u.throttled), "429s", "lower")
		add("e.failed", "(e) failed items", float64(u.failed), "items", "lower")
		add("e.real_s", "(e) real time of the update run", u.realSeconds, "s", "")
		add("e.requests_per_update", "(e) QBO requests per updated document", u.reqPerDoc, "req/doc", "lower")
		add("e.batches", "(e) batch requests", float64(u.batches), "requests", "")
		add("e.singles", "(e) single writes", float64(u.singles), "requests", "")
	}
	if f := r.idle; f != nil {
		add("f.store", "(f) orders in the daemon's store", float64(f.store), "orders", "")
		add("f.created", "(f) documents its first run created", f.created, "docs", "")
		add("f.run_s", "(f) its first run and verify, wall", f.runSeconds, "s", "")
		add("f.peak_rss_mib", "(f) peak RSS of the daemon", mib(f.peakRSS), "MiB", "")
		add("f.rss_after_run_mib", "(f) RSS when the run had finished", mib(f.rssAfterRun), "MiB", "")
		add("f.idle_s", "(f) idle period sampled", f.idle.Seconds(), "s", "")
		add("f.idle_rss_mib", "(f) idle daemon: largest RSS", mib(f.idleRSS), "MiB", "lower")
		add("f.idle_anon_mib", "(f) idle daemon: largest anonymous RSS (not the binary's mapped code)", mib(f.idleAnon), "MiB", "lower")
		add("f.idle_cpu_s", "(f) idle daemon: CPU time (user+sys) over the period", f.idleCPU.Seconds(), "s", "lower")
		add("f.idle_wakeups", "(f) idle daemon: context switches over the period", float64(f.wakeups), "switches", "lower")
	}
	return ms
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nvelqbo benchmark (%s) — %d CPU (%s), %s, load %s → %s\n", r.mode, r.machine.nproc, r.machine.cpu,
		r.machine.goVer, r.loadBefore, r.loadAfter)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, m := range r.metrics() {
		fmt.Fprintf(tw, "%s\t%s\t %s\t\n", m.label, formatValue(m.value), m.unit)
	}
	tw.Flush()
}

func formatValue(v float64) string {
	switch {
	case v == float64(int64(v)) && (v >= 100 || v <= -100 || v == 0):
		return strconv.FormatInt(int64(v), 10)
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// tableValue writes a figure for BENCHMARKS.md: whole numbers as such,
// others with enough digits for a 20 % comparison.
func tableValue(v float64) string {
	switch a := math.Abs(v); {
	case v == math.Trunc(v) || a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// verdict is one binding target.
type verdict struct {
	ok   bool
	text string
}

// targets are the binding goals (issue 3 item 8, issue 6 item 5, issue 14
// item 2): the million-order scan within 10 s and 256 MiB, the catch-up at
// ≥ 90 % of the ceiling with no failure, no QBO write on a no-change run,
// the 1 % run costing a fraction of a full one and ≤ 0.1 QBO requests per
// updated document, the update-heavy catch-up at ≥ 95 % of the ceiling
// with no failure, and an idle daemon within 30 MiB using no CPU.
func (r *report) targets() []verdict {
	var vs []verdict
	if s := r.scan; s != nil {
		vs = append(vs, verdict{s.qboWrites == 0, fmt.Sprintf("(a) no QBO write on a no-change run: %d", s.qboWrites)})
		if s.orders >= 1_000_000 {
			vs = append(vs, verdict{s.run.wall <= 10*time.Second, fmt.Sprintf("(a) 1M-order no-change run ≤ 10 s: %.1f s", s.run.wall.Seconds())})
			rss := max(s.run.maxRSS, s.first.maxRSS)
			vs = append(vs, verdict{rss <= 256<<20, fmt.Sprintf("(a) peak RSS ≤ 256 MiB (either run): %.0f MiB", mib(rss))})
		}
	}
	if c := r.catchup; c != nil {
		pct := 100 * c.docsPerMin / limitDocsPerMinute
		vs = append(vs, verdict{pct >= 90, fmt.Sprintf("(b) catch-up ≥ 90 %% of 1,660/min: %.0f/min = %.1f %%", c.docsPerMin, pct)})
		vs = append(vs, verdict{c.failed == 0, fmt.Sprintf("(b) no failed item (429s seen: %d): %d failed", c.throttled, c.failed)})
	}
	if d := r.incr; d != nil {
		// velqbo's own CPU: the fake Velocity server's cost (it clones every
		// order for every page) is in the bench process, not in velqbo.
		cpu := func(p procStats) time.Duration { return p.user + p.sys }
		n, c, f := cpu(d.noChange), cpu(d.changedRun), cpu(d.full)
		vs = append(vs, verdict{n < f/4, fmt.Sprintf("(d) a no-change incremental run does not scale with the store: velqbo CPU %.2f s vs %.2f s for a full run of %d orders", n.Seconds(), f.Seconds(), d.store)})
		per := (c - n) / time.Duration(max(d.updated, 1))
		vs = append(vs, verdict{per < 10*time.Millisecond, fmt.Sprintf("(d) the 1 %% run costs per change, not per stored order: %.1f ms velqbo CPU per updated document (%d updated)", float64(per)/float64(time.Millisecond), d.updated)})
		vs = append(vs, verdict{d.changedQBOPerUpdate <= 0.1, fmt.Sprintf("(d) ≤ 0.1 QBO requests per updated document in the 1 %% run: %.2f", d.changedQBOPerUpdate)})
	}
	if u := r.updates; u != nil {
		pct := 100 * u.perMin / limitDocsPerMinute
		vs = append(vs, verdict{pct >= 95, fmt.Sprintf("(e) update-heavy catch-up ≥ 95 %% of 1,660 changes/min: %.0f/min = %.1f %%", u.perMin, pct)})
		vs = append(vs, verdict{u.failed == 0, fmt.Sprintf("(e) no failed item (429s seen: %d): %d failed", u.throttled, u.failed)})
	}
	if f := r.idle; f != nil {
		vs = append(vs, verdict{f.idleRSS <= idleRSSMax, fmt.Sprintf("(f) idle daemon ≤ 30 MiB RSS: %.1f MiB", mib(f.idleRSS))})
		vs = append(vs, verdict{f.idleCPU.Seconds() <= idleCPUMax, fmt.Sprintf("(f) idle daemon uses no CPU (≤ %.2f s over %s): %.2f s", idleCPUMax, f.idle, f.idleCPU.Seconds())})
	}
	return vs
}

// Sections of BENCHMARKS.md that -write replaces, one per mode; the rest of
// the file is left as it is.
func sectionMarkers(mode string) (begin, end string) {
	return "<!-- bench:" + mode + ":begin -->", "<!-- bench:" + mode + ":end -->"
}

func (r *report) section() string {
	var b strings.Builder
	begin, end := sectionMarkers(r.mode)
	b.WriteString(begin + "\n")
	title := map[string]string{"full": "Full run", "short": "Short run (CI)"}[r.mode]
	fmt.Fprintf(&b, "### %s\n\n", title)
	fmt.Fprintf(&b, "Recorded %s on %d CPU (%s), %d MiB, %s, %s; load average %s before, %s after.\n\n",
		r.started.UTC().Format("2006-01-02 15:04 MST"), r.machine.nproc, r.machine.cpu, r.machine.memMiB,
		r.machine.os, r.machine.goVer, r.loadBefore, r.loadAfter)
	if r.runs > 1 {
		fmt.Fprintf(&b, "Each figure is the median of %d runs.\n\n", r.runs)
	}
	b.WriteString("| key | figure | value | unit | better |\n|---|---|---:|---|---|\n")
	for _, m := range r.metrics() {
		better := m.better
		if better == "" {
			better = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", m.key, m.label, tableValue(m.value), m.unit, better)
	}
	b.WriteString("\n")
	for _, v := range r.targets() {
		mark := "met"
		if !v.ok {
			mark = "**missed**"
		}
		fmt.Fprintf(&b, "- target %s: %s\n", mark, v.text)
	}
	b.WriteString(end + "\n")
	return b.String()
}

const benchmarksHeader = `# Benchmarks

Measured by ` + "`go run ./bench`" + ` (see bench/main.go for what each part does and how the
ledger is seeded). Reproduce on one machine:

    go run ./bench -write BENCHMARKS.md          # full: 1,000,000-order scan, 5,000-document catch-up
    go run ./bench -short -write BENCHMARKS.md   # short (CI) figures
    go run ./bench -short -check BENCHMARKS.md   # exit 1 if a figure is > 20 % worse than recorded
    go run ./bench -compare REF -runs 3          # REF and the work tree side by side

Wall-clock figures depend on what else the machine is doing: the load average
is recorded with them.

`

// writeTo replaces the mode's section of path (creating the file with a
// header if needed) and leaves everything else in it untouched.
func (r *report) writeTo(path string) error {
	begin, end := sectionMarkers(r.mode)
	return writeSection(path, begin, end, r.section())
}

// writeSection replaces the text from begin to end (sec holds both
// markers) in path, or appends sec when path has no begin marker; a
// missing file is created with benchmarksHeader.
func writeSection(path, begin, end, sec string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	text := string(old)
	if text == "" {
		text = benchmarksHeader
	}
	if i := strings.Index(text, begin); i >= 0 {
		j := strings.Index(text[i:], end)
		if j < 0 {
			return fmt.Errorf("%s: %s without %s", path, begin, end)
		}
		j += i + len(end)
		if j < len(text) && text[j] == '\n' {
			j++
		}
		text = text[:i] + sec + text[j:]
	} else {
		if !strings.HasSuffix(text, "\n\n") {
			text += "\n"
		}
		text += sec
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// recorded reads the mode's figures from path.
func recorded(path, mode string) (map[string]metric, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	begin, end := sectionMarkers(mode)
	out := map[string]metric{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == begin:
			in = true
		case line == end:
			in = false
		case in && strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			if len(cells) != 5 {
				continue
			}
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			v, err := strconv.ParseFloat(cells[2], 64)
			if err != nil {
				continue // the header row
			}
			better := cells[4]
			if better == "—" {
				better = ""
			}
			out[cells[0]] = metric{key: cells[0], label: cells[1], value: v, unit: cells[3], better: better}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no %s figures (run with -write first)", path, mode)
	}
	return out, nil
}

// noiseFloor is, per unit, the absolute difference below which a change
// is not reported as a regression.
var noiseFloor = map[string]float64{"s": 0.25, "ms/doc": 1, "MiB": 16, "req/doc": 0.02, "req/order": 0.001,
	"switches": 50}

// checkAgainst lists the figures more than tol worse than recorded. A
// figure recorded as zero (429s, QBO requests of a no-change run) must stay
// zero.
func (r *report) checkAgainst(path string, tol float64) ([]string, error) {
	old, err := recorded(path, r.mode)
	if err != nil {
		return nil, err
	}
	var regs []string
	for _, m := range r.metrics() {
		o, ok := old[m.key]
		if !ok || m.better == "" {
			continue
		}
		// A figure must be worse by the tolerance and by more than its
		// unit's noise floor: 0.08 s against 0.1 s is scheduling noise,
		// not a regression. Counts that must stay zero have no floor.
		slack := noiseFloor[m.unit]
		worse := false
		switch m.better {
		case "lower":
			worse = m.value > o.value*(1+tol) && m.value-o.value > slack
		case "higher":
			worse = m.value < o.value*(1-tol) && o.value-m.value > slack
		}
		if worse {
			regs = append(regs, fmt.Sprintf("%s (%s): %s %s; recorded %s", m.key, m.label, formatValue(m.value), m.unit, formatValue(o.value)))
		}
	}
	return regs, nil
}

// medianOf sets on last the median of each figure over reps.
func medianOf(reps []*report) *report {
	last := reps[len(reps)-1]
	vals := map[string][]float64{}
	for _, r := range reps {
		for _, m := range r.metrics() {
			vals[m.key] = append(vals[m.key], m.value)
		}
	}
	last.median = map[string]float64{}
	for k, vs := range vals {
		sort.Float64s(vs)
		n := len(vs)
		if n%2 == 1 {
			last.median[k] = vs[n/2]
		} else {
			last.median[k] = (vs[n/2-1] + vs[n/2]) / 2
		}
	}
	last.runs = len(reps)
	return last
}
