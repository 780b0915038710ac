package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
)

// fakeTerm is a terminal as far as a progress bar goes: a carriage return
// goes back to the start of the line, a newline starts the next one, and
// what is written overwrites what was there.
type fakeTerm struct {
	mu    sync.Mutex
	lines [][]rune
	col   int
}

func (f *fakeTerm) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.lines) == 0 {
		f.lines = [][]rune{nil}
	}
	for _, r := range string(b) {
		last := len(f.lines) - 1
		switch r {
		case '\r':
			f.col = 0
		case '\n':
			f.lines = append(f.lines, nil)
			f.col = 0
		default:
			if f.col < len(f.lines[last]) {
				f.lines[last][f.col] = r
			} else {
				f.lines[last] = append(f.lines[last], r)
			}
			f.col++
		}
	}
	return len(b), nil
}

// screen is what the terminal shows, trailing blanks trimmed.
func (f *fakeTerm) screen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.lines {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	return out
}

func newBarMain(term bool) (*Main, *fakeTerm, *clock.Fake) {
	clk := clock.NewFake(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	ft := &fakeTerm{}
	m := &Main{Stderr: ft, Now: clk.Now, IsTerminal: func() bool { return term }, Config: DefaultConfig()}
	m.Log = logrus.New()
	m.Log.SetOutput(ft)
	m.Log.SetFormatter(&logrus.TextFormatter{DisableColors: true, DisableTimestamp: true})
	return m, ft, clk
}

// TestProgress_PacedBar: on a terminal the bar owns the last line, says
// that it waits for QBO's per-minute limit and for how long (counting
// down), estimates the time left from what the pacing allows (500
// requests a minute, one document each: 2,500 left is 5 minutes, not the
// seconds the first burst's rate would say), lets log lines and notices
// through above it, and is gone when the run ends.
func TestProgress_PacedBar(t *testing.T) {
	m, ft, clk := newBarMain(true)
	p := m.progress(true)
	start := clk.Now()
	for i := 1; i <= 500; i++ {
		p.paced(qbo.PaceEvent{Until: clk.Now()})
		clk.Advance(10 * time.Millisecond)
		p.update(i, 3000)
	}
	p.paced(qbo.PaceEvent{Wait: 55 * time.Second, Until: clk.Now().Add(55 * time.Second)})
	last := func() string { s := ft.screen(); return s[len(s)-1] }

	want := "(500/3000) waiting for QBO's per-minute limit, resuming in 55 s; about 5 min left"
	if got := last(); !strings.Contains(got, want) || !strings.Contains(got, "16%") {
		t.Errorf("bar while paced: got %q; want it to show 16%% and %q", got, want)
	}
	clk.Set(start.Add(5*time.Second + 13*time.Second))
	p.redraw()
	if got, want := last(), "resuming in 42 s"; !strings.Contains(got, want) {
		t.Errorf("bar 13 s later: got %q; want %q", got, want)
	}

	m.Log.Info("a log line")
	p.notice("stopping: letting 3 writes in flight finish; press Ctrl-C again to cut off")
	s := ft.screen()
	if len(s) < 3 {
		t.Fatalf("screen: got %q; want the log line and the notice above the bar", s)
	}
	if diff := cmp.Diff([]string{`level=info msg="a log line"`, "stopping: letting 3 writes in flight finish; press Ctrl-C again to cut off"}, s[len(s)-3:len(s)-1]); diff != "" {
		t.Errorf("lines above the bar (-want +got):\n%s", diff)
	}
	if got := last(); !strings.Contains(got, "resuming in 42 s") {
		t.Errorf("bar after the log line: got %q; want it drawn again below", got)
	}

	clk.Set(start.Add(61 * time.Second))
	p.paced(qbo.PaceEvent{Until: clk.Now()})
	p.update(501, 3000)
	if got := last(); !strings.Contains(got, "(501/3000) sending to QBO; about ") || strings.Contains(got, "waiting") {
		t.Errorf("bar after the wait: got %q; want it sending again", got)
	}
	p.finish()
	if got := last(); got != "" {
		t.Errorf("after finish: the bar's line holds %q; want it cleared", got)
	}
	m.Log.Info("after")
	if s := ft.screen(); s[len(s)-2] != `level=info msg=after` {
		t.Errorf("after finish: logs go to %q; want straight to stderr", s[len(s)-2:])
	}
}

// TestProgress_NotATerminal: without a terminal nothing is drawn; a
// pacing wait is logged once when it starts, and progress at each tenth
// with the time left.
func TestProgress_NotATerminal(t *testing.T) {
	m, ft, clk := newBarMain(false)
	var buf bytes.Buffer
	m.Log.SetOutput(&buf)
	p := m.progress(true)
	for i := 1; i <= 10; i++ {
		p.paced(qbo.PaceEvent{Until: clk.Now()})
		p.update(i, 100)
	}
	until := clk.Now().Add(50 * time.Second)
	p.paced(qbo.PaceEvent{Wait: 50 * time.Second, Until: until})
	clk.Advance(time.Second)
	p.paced(qbo.PaceEvent{Wait: 49 * time.Second, Until: until})
	p.finish()
	if len(ft.screen()) != 0 {
		t.Errorf("stderr: got %q; want nothing drawn", ft.screen())
	}
	got := buf.String()
	for _, want := range []string{`level=info msg=progress done=10 eta="11 s" total=100`} {
		if !strings.Contains(got, want) {
			t.Errorf("log: got\n%s\nwant a line with %q", got, want)
		}
	}
	if n := strings.Count(got, "waiting for QBO's per-minute limit"); n != 1 {
		t.Errorf("log: %d lines about the pacing wait; want 1\n%s", n, got)
	}
}
