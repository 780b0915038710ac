package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/runprogress"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// runsListed is how many runs the history shows.
const runsListed = 50

// routesRuns registers the Runs screen's routes.
func (s *Server) routesRuns(mux *http.ServeMux) {
	mux.Handle("GET /runs", s.viewer(s.runsPage))
	mux.Handle("GET /runs/progress", s.viewer(s.runProgress))
	mux.Handle("GET /runs/preview", s.admin(s.runPreview))
	mux.Handle("POST /runs", s.admin(s.runNow))
	mux.Handle("GET /runs/{id}", s.viewer(s.runPage))
}

// runRow is one run of the history.
type runRow struct {
	schema.Run
	// Duration is how long it took ("" while it runs).
	Duration string
}

func newRunRow(r schema.Run) runRow {
	row := runRow{Run: r}
	if !r.FinishedAt.IsZero() {
		row.Duration = runprogress.RoughDuration(r.FinishedAt.Sub(r.StartedAt))
	}
	return row
}

// progressView is the run-in-progress box (the fragment the page polls).
type progressView struct {
	Status runprogress.Status
	// Snapshot is the live progress, when this process runs the run.
	Snapshot *runprogress.Snapshot
	ETA      string // "about 4 min left", or ""
	Waiting  string // "resuming in 42 s", or ""
	Since    time.Time
}

func (s *Server) progressView(r *http.Request) (progressView, error) {
	st, err := s.backend.RunStatus(r.Context())
	if err != nil {
		return progressView{}, err
	}
	v := progressView{Status: st}
	switch {
	case st.Live != nil:
		v.Since = st.Live.Started
		snap := st.Live.Snapshot(s.clk.Now())
		v.Snapshot = &snap
		if snap.HasETA {
			v.ETA = "about " + runprogress.RoughDuration(snap.ETA) + " left"
		}
		if snap.Waiting > 0 {
			v.Waiting = "waiting for QuickBooks' per-minute limit, resuming in " + runprogress.RoughDuration(snap.Waiting)
		}
	case st.Run != nil:
		v.Since = st.Run.StartedAt
	case st.Lease != nil:
		v.Since = st.Lease.AcquiredAt
	}
	return v, nil
}

type runsData struct {
	Progress progressView
	Runs     []runRow
	// Error says why Run now did not start a run.
	Error string
	// NotConnected: the error is that no company is connected.
	NotConnected bool
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	s.renderRuns(w, r, http.StatusOK, runsData{})
}

func (s *Server) renderRuns(w http.ResponseWriter, r *http.Request, status int, d runsData) {
	var err error
	if d.Progress, err = s.progressView(r); err != nil {
		s.ledgerFailed(w, r, err)
		return
	}
	runs, err := s.backend.Store().LastRuns(r.Context(), runsListed)
	if err != nil {
		s.ledgerFailed(w, r, err)
		return
	}
	for _, run := range runs {
		d.Runs = append(d.Runs, newRunRow(run))
	}
	s.render(w, r, status, "runs.html", d)
}

// runProgress is the progress box alone, for the page's polling.
func (s *Server) runProgress(w http.ResponseWriter, r *http.Request) {
	v, err := s.progressView(r)
	if err != nil {
		s.ledgerFailed(w, r, err)
		return
	}
	s.renderFragment(w, r, http.StatusOK, "runs.html", "progress-fragment", v)
}

// runNow starts a run as `velqbo run` does and goes back to the Runs page,
// which shows its progress.
func (s *Server) runNow(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r.Context())
	_, err := s.backend.RunNow(r.Context(), sess.User.Name)
	if err == nil {
		s.redirect(w, r, "/runs", "The run has started.")
		return
	}
	d := runsData{Error: runError(err)}
	status := http.StatusConflict
	if errors.Is(err, ErrNotConnected) {
		d.NotConnected, status = true, http.StatusConflict
	} else if !errors.Is(err, ErrRunInProgress) {
		s.log.WithError(err).Warn("console: run now")
		status = http.StatusServiceUnavailable
	}
	s.renderRuns(w, r, status, d)
}

// runError says in words why a run could not start.
func runError(err error) string {
	var held *schema.LeaseHeldError
	switch {
	case errors.As(err, &held):
		return fmt.Sprintf("A run is already in progress, started by %s at %s. Its progress is shown below; try again when it finishes.",
			held.Holder, held.Since.UTC().Format(time.RFC3339))
	case errors.Is(err, ErrNotConnected):
		return "No QuickBooks company is connected, so nothing can be sent."
	}
	return "The run could not start: " + err.Error()
}

type previewData struct {
	Summary *reconcile.Summary
	Actions []actionView
	Reasons []reasonGroup
	// Items are the items listed (all of them, up to previewListed).
	Items []itemView
	// More counts the items not listed.
	More         int
	Error        string
	NotConnected bool
	Progress     progressView
}

// previewListed is the most items the preview lists.
const previewListed = 500

// runPreview is `velqbo plan`: what a run would do now, grouped by action
// and by reason.
func (s *Server) runPreview(w http.ResponseWriter, r *http.Request) {
	var d previewData
	var err error
	if d.Progress, err = s.progressView(r); err != nil {
		s.ledgerFailed(w, r, err)
		return
	}
	sum, err := s.backend.Preview(r.Context())
	if err != nil {
		d.Error, d.NotConnected = "The preview could not be made: "+err.Error(), errors.Is(err, ErrNotConnected)
		if !d.NotConnected {
			s.log.WithError(err).Warn("console: preview")
		}
		s.render(w, r, http.StatusServiceUnavailable, "run_preview.html", d)
		return
	}
	d.Summary = sum
	for _, g := range reconcile.GroupByAction(sum.Items) {
		d.Actions = append(d.Actions, actionView{Action: g.Action, Words: actionWords[g.Action], N: len(g.Items), ByType: byType(g.ByType)})
	}
	var bad []reconcile.Item
	for _, it := range sum.Items {
		if it.Action == reconcile.ActionBlocked || it.Action == reconcile.ActionFailed {
			bad = append(bad, it)
		}
	}
	d.Reasons = groupViews(s.c.SourceName, reconcile.GroupByReason(bad, itemReasons), summaryItemView)
	for _, it := range sum.Items[:min(len(sum.Items), previewListed)] {
		d.Items = append(d.Items, summaryItemView(it))
	}
	d.More = len(sum.Items) - len(d.Items)
	s.render(w, r, http.StatusOK, "run_preview.html", d)
}

// actionView is one line of the preview's counts by action.
type actionView struct {
	Action reconcile.Action
	Words  string
	N      int
	ByType string // "SalesReceipt 3, Invoice 1"
}

// actionWords say what a plan's action means.
var actionWords = map[reconcile.Action]string{
	reconcile.ActionCreate:  "would create",
	reconcile.ActionUpdate:  "would update",
	reconcile.ActionVoid:    "would void",
	reconcile.ActionAdopt:   "would adopt (found in QuickBooks with velqbo's marker)",
	reconcile.ActionBlocked: "blocked",
	reconcile.ActionFailed:  "failed",
	reconcile.ActionSkipped: "skipped (set aside by a person)",
	reconcile.ActionNoop:    "noted",
}

// byType lists counts by QBO type, the largest first.
func byType(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// summaryItemView is a plan's item as the page shows it.
func summaryItemView(it reconcile.Item) itemView {
	v := newItemView(string(it.Kind), it.SourceID, it.OrderNumber, it.Reasons, it.Reason)
	v.State, v.QBOType, v.QBOID, v.DocNumber = string(it.Action), it.QBOType, it.QBOID, it.DocNumber
	return v
}

// itemReasons is an item's reasons, and its order when it has none.
func itemReasons(it reconcile.Item) (reconcile.Reasons, reconcile.Subject) {
	return it.Reasons, reconcile.Subject{Kind: reconcile.SubjectOrder, ID: it.OrderNumber}
}

type runData struct {
	Run      runRow
	Items    []itemView
	Progress progressView
	// Live: the run is this process's run in progress.
	Live bool
}

// runPage is one run: its counts and its items.
func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	st := s.backend.Store()
	run, err := st.GetRun(r.Context(), id)
	if errors.Is(err, schema.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, "There is no run "+id+".")
		return
	}
	if err != nil {
		s.ledgerFailed(w, r, err)
		return
	}
	items, err := st.RunItems(r.Context(), id)
	if err != nil {
		s.ledgerFailed(w, r, err)
		return
	}
	d := runData{Run: newRunRow(run)}
	for _, it := range items {
		why, _ := reconcile.DecodeReasons(it.Reasons)
		v := newItemView(it.Kind, it.SourceID, it.OrderNumber, why, it.Reason)
		v.State, v.QBOType, v.QBOID, v.DocNumber = it.Action, it.QBOType, it.QBOID, it.DocNumber
		d.Items = append(d.Items, v)
	}
	if run.Status == schema.RunRunning {
		if d.Progress, err = s.progressView(r); err != nil {
			s.ledgerFailed(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "run.html", d)
}

// ledgerFailed logs err and answers 500.
func (s *Server) ledgerFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.log.WithError(err).WithField("path", r.URL.Path).Error("console")
	s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong reading the ledger; the log says what.")
}
