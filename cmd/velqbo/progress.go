package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/runprogress"
	"github.com/velqbo/velqbo/qbo"
)

// progressReporter shows how far a run is. On a terminal it draws a bar on
// stderr that owns its line: log lines (and notices such as the stopping
// message) are written above it, it says so while the QBO client waits
// for QBO's per-minute window, and its estimate of the time left uses the
// documents a minute that the pacing allows, not the rate of the last
// burst (which is all a bar of its own would know). Elsewhere it logs a
// line at each tenth of the work and one when a pacing wait begins.
type progressReporter struct {
	m      *Main
	now    func() time.Time
	w      io.Writer
	term   bool
	logOut io.Writer // the logger's output before the bar took it
	// track holds the counts and the pacing the bar and the time left
	// are drawn from (the console reads the same).
	track *runprogress.Tracker

	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	lastLog  int
	lastDraw time.Time
	tick     chan struct{} // closed by finish: stops the redraws
}

// progressRedraw is how often the bar is redrawn at most, and while
// nothing happens (the countdown of a pacing wait).
const progressRedraw = time.Second

// pacing is the QBO client's per-minute limits as configured.
func (m *Main) pacing() qbo.Pacing {
	d := qbo.DefaultPacing()
	c := m.Config.QBO
	if c.RequestsPerMinute > 0 {
		d.RequestsPerMinute = c.RequestsPerMinute
	}
	if c.BatchesPerMinute > 0 {
		d.BatchRequestsPerMinute = c.BatchesPerMinute
	}
	return d
}

// progress returns the reporter of a run: a bar when term and stderr is a
// terminal, else log lines.
func (m *Main) progress(term bool) *progressReporter {
	p := &progressReporter{m: m, now: m.Now, w: m.Stderr, track: runprogress.NewTracker(m.pacing()), lastLog: -1}
	p.term = term && m.IsTerminal != nil && m.IsTerminal()
	if p.term && m.Log != nil {
		p.logOut = m.Log.Out
		m.Log.SetOutput(logAboveBar{p})
	}
	return p
}

// update is reconcile's Options.Progress.
func (p *progressReporter) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if total <= 0 {
		return
	}
	now := p.now()
	p.track.Update(done, total, now)
	if p.term {
		if p.bar == nil {
			p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionShowCount(),
				progressbar.OptionSetWidth(30), progressbar.OptionSetPredictTime(false), progressbar.OptionSetElapsedTime(false),
				progressbar.OptionShowDescriptionAtLineEnd(), progressbar.OptionThrottle(0), progressbar.OptionClearOnFinish())
			p.tick = make(chan struct{})
			go p.ticker(p.tick)
		}
		if done < total && now.Sub(p.lastDraw) < progressRedraw/10 {
			return
		}
		p.draw(now)
		return
	}
	if tenth := done * 10 / total; tenth > p.lastLog {
		p.lastLog = tenth
		f := map[string]any{"done": done, "total": total}
		if s := p.track.Snapshot(now); s.HasETA {
			f["eta"] = runprogress.RoughDuration(s.ETA)
		}
		p.m.Log.WithFields(f).Info("progress")
	}
}

// paced is the QBO client's pace hook (qbo.WithPaceHook).
func (p *progressReporter) paced(e qbo.PaceEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	newWait := p.track.Paced(e)
	if e.Wait < runprogress.PaceNotable {
		return
	}
	if newWait && !p.term && p.m.Log != nil {
		p.m.Log.WithField("resume_in", runprogress.RoughDuration(e.Wait)).Info("waiting for QBO's per-minute limit")
	}
	if p.bar != nil {
		p.draw(p.now())
	}
}

// ticker redraws the bar while nothing else does, so the countdown of a
// pacing wait moves.
func (p *progressReporter) ticker(stop <-chan struct{}) {
	t := time.NewTicker(progressRedraw)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.redraw()
		}
	}
}

// redraw draws the bar again at the clock's now.
func (p *progressReporter) redraw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.draw(p.now())
	}
}

// draw renders the bar at now. p.mu is held.
func (p *progressReporter) draw(now time.Time) {
	p.lastDraw = now
	snap := p.track.Snapshot(now)
	p.bar.ChangeMax(snap.Total)
	p.bar.Describe(describeProgress(snap))
	p.bar.Set(snap.Done)
}

// describeProgress is the text after the bar: what velqbo does and the
// time left.
func describeProgress(snap runprogress.Snapshot) string {
	s := "sending to QBO"
	if snap.Waiting > 0 {
		s = fmt.Sprintf("waiting for QBO's per-minute limit, resuming in %s", runprogress.RoughDuration(snap.Waiting))
	}
	if snap.HasETA {
		s += fmt.Sprintf("; about %s left", runprogress.RoughDuration(snap.ETA))
	}
	return s
}

// notice writes one line for the operator on stderr, above the bar.
func (p *progressReporter) notice(msg string) {
	logAboveBar{p}.Write([]byte(msg + "\n"))
}

// finish removes the bar and gives the logger its output back.
func (p *progressReporter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		close(p.tick)
		p.bar.Finish()
		p.bar = nil
	}
	if p.logOut != nil {
		p.m.Log.SetOutput(p.logOut)
		p.logOut = nil
	}
}

// logAboveBar writes above the bar: it clears the bar's line, writes, and
// draws the bar again below.
type logAboveBar struct{ p *progressReporter }

func (l logAboveBar) Write(b []byte) (int, error) {
	p := l.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		return p.w.Write(b)
	}
	p.bar.Clear()
	n, err := p.w.Write(b)
	p.draw(p.now())
	return n, err
}
