package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// idleCPUMax is the idle daemon's CPU target: /proc counts CPU time in
// clock ticks of 10 ms, so this is at most five ticks over the idle
// period, i.e. nothing beyond a lease renewal or two.
const idleCPUMax = 0.05 // s

// idleRSSMax is the idle daemon's memory target (issue 14).
const idleRSSMax = 30 << 20

// idleResult is what the idle daemon measured.
type idleResult struct {
	store       int           // orders in the store
	created     float64       // documents the daemon's run created
	runSeconds  float64       // the run (and its verify), wall
	peakRSS     int64         // VmHWM at the end of the idle period
	rssAfterRun int64         // VmRSS when the run had finished
	idleRSS     int64         // the largest VmRSS sampled over the idle period
	idleAnon    int64         // the largest RssAnon sampled over the idle period
	idleCPU     time.Duration // user+sys over the idle period
	wakeups     int           // context switches of all its threads over the idle period
	idle        time.Duration // the idle period
}

// benchIdle starts `velqbo daemon --run-now` against a velocitytest store
// of n orders and a qbotest company (no limits: this is about what the
// daemon holds after a run, not about pacing), waits until its first run
// and verify have finished (read from /metrics), and then leaves it alone
// for idle, sampling /proc once a second: the RSS, the CPU time and the
// context switches of all its threads (a ticker or poller wakes it up).
// The schedule is once a day, so no run starts within the period.
func benchIdle(ctx context.Context, bin, dir string, n int, idle time.Duration) (idleResult, error) {
	res := idleResult{store: n, idle: idle}
	ds := velocitytest.Generate(7, velocitytest.GenOptions{Orders: n})
	vel, velEnv, err := serveStore(ds)
	if err != nil {
		return res, err
	}
	defer vel.Close()
	srv := qbotest.NewServer(qbotest.WithoutLimits())
	defer srv.Close()
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	extra := append(append(velEnv, unpaced...), "VELQBO_LISTEN="+addr, "VELQBO_SCHEDULE=@every 24h", "VELQBO_LOG_LEVEL=info")
	in, err := install(ctx, bin, dir, srv, ds.Customers, ds.Products, nil, extra...)
	if err != nil {
		return res, err
	}

	logf, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		return res, err
	}
	defer logf.Close()
	cmd := exec.Command(in.bin, "daemon", "--run-now")
	cmd.Env = in.env
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			return fmt.Errorf("the daemon did not stop within a minute of SIGTERM")
		}
	}
	defer stop()
	fail := func(err error) (idleResult, error) {
		stop()
		b, _ := os.ReadFile(logf.Name())
		return res, fmt.Errorf("%w; the end of its log:\n%s", err, tail(string(b), 3000))
	}

	// Wait for the first run to be counted and no run to be in progress
	// (the gauge drops after the verify and the alerts).
	metricsURL := "http://" + addr + "/metrics"
	for {
		m, err := scrape(ctx, metricsURL)
		if err == nil && m["velqbo_run_in_progress"] == 0 && m["velqbo_runs_total"] > 0 {
			for k, v := range m {
				if strings.HasPrefix(k, "velqbo_documents_total{") && strings.Contains(k, `action="create"`) {
					res.created += v
				}
			}
			if m[`velqbo_runs_total{outcome="ok"}`] == 0 {
				return fail(fmt.Errorf("the daemon's first run did not finish ok: %v of %v runs ok", m[`velqbo_runs_total{outcome="ok"}`], m["velqbo_runs_total"]))
			}
			break
		}
		select {
		case err := <-exited:
			stopped = true
			return fail(fmt.Errorf("the daemon exited: %v", err))
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Since(start) > 10*time.Minute {
			return fail(fmt.Errorf("the daemon's first run took more than 10 minutes"))
		}
	}
	res.runSeconds = time.Since(start).Seconds()

	pid := cmd.Process.Pid
	first, err := readProc(pid)
	if err != nil {
		return fail(err)
	}
	res.rssAfterRun = first.rss
	last := first
	for t := time.Duration(0); t < idle; t += time.Second {
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case err := <-exited:
			stopped = true
			return fail(fmt.Errorf("the daemon exited while idle: %v", err))
		case <-time.After(time.Second):
		}
		if last, err = readProc(pid); err != nil {
			return fail(err)
		}
		res.idleRSS, res.idleAnon = max(res.idleRSS, last.rss), max(res.idleAnon, last.anon)
	}
	if os.Getenv("VELQBO_BENCH_DEBUG") != "" {
		if m, err := scrape(ctx, metricsURL); err == nil {
			for k, v := range m {
				if strings.HasPrefix(k, "go_memstats_") || strings.HasPrefix(k, "go_goroutines") || strings.HasPrefix(k, "go_threads") {
					fmt.Fprintf(os.Stderr, "%s %.0f\n", k, v)
				}
			}
		}
		for _, f := range []string{"status", "smaps_rollup"} {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
			os.Stderr.Write(b)
		}
	}
	res.peakRSS = last.hwm
	res.idleCPU = last.cpu - first.cpu
	res.wakeups = last.switches - first.switches
	if err := stop(); err != nil {
		return res, fmt.Errorf("stop the daemon: %w", err)
	}
	return res, nil
}

// freeAddr is a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// scrape reads the unlabelled and labelled samples of a Prometheus text
// page; a metric's samples are also summed under its bare name.
func scrape(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		key := line[:i]
		out[key] = v
		if name, _, ok := strings.Cut(key, "{"); ok {
			out[name] += v
		}
	}
	return out, sc.Err()
}

// procSample is what /proc says of a process at one moment.
type procSample struct {
	rss, hwm int64         // VmRSS, VmHWM in bytes
	anon     int64         // RssAnon: the part of VmRSS not backed by a file (the binary's code is)
	cpu      time.Duration // utime + stime
	switches int           // voluntary and involuntary context switches of all its threads
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

func readProc(pid int) (procSample, error) {
	var s procSample
	dir := fmt.Sprintf("/proc/%d", pid)
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, err
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime 14 and stime 15.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("%s/stat: %d fields", dir, len(f))
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	s.cpu = time.Duration(ut+st) * clockTick
	num := func(text, key string) int64 {
		for line := range strings.SplitSeq(text, "\n") {
			if v, ok := strings.CutPrefix(line, key+":"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				return n
			}
		}
		return 0
	}
	b, err = os.ReadFile(dir + "/status")
	if err != nil {
		return s, err
	}
	s.rss, s.hwm, s.anon = num(string(b), "VmRSS")*1024, num(string(b), "VmHWM")*1024, num(string(b), "RssAnon")*1024
	tasks, err := os.ReadDir(dir + "/task")
	if err != nil {
		return s, err
	}
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/task/" + t.Name() + "/status")
		if err != nil {
			continue // the thread ended
		}
		s.switches += int(num(string(b), "voluntary_ctxt_switches") + num(string(b), "nonvoluntary_ctxt_switches"))
	}
	return s, nil
}
