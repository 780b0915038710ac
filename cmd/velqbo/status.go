package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// statusView is `velqbo status --json`.
type statusView struct {
	Connected  bool                `json:"connected"`
	Token      *tokenhealth.Health `json:"token,omitempty"`
	Runs       []runView           `json:"runs"`
	Blocked    []blockedView       `json:"blocked"`
	Failed     []blockedView       `json:"failed"`
	Unknown    []blockedView       `json:"unknown_outcome"`
	Deleted    []blockedView       `json:"deleted_in_qbo"`
	Skipped    []blockedView       `json:"skipped"`
	Documents  map[string]int      `json:"documents"` // "<kind>/<state>" -> n
	LeaseOwner *schema.Lease       `json:"lease,omitempty"`
	// LedgerLag is the comparison of QBO's newest documents with the
	// ledger (checkLedger); absent when QBO could not be asked.
	LedgerLag *reconcile.LedgerLag `json:"ledger_vs_qbo,omitempty"`
	Settings  map[string]bool      `json:"-"`
}

type runView struct {
	ID         string         `json:"run_id"`
	Mode       string         `json:"mode"`
	Status     string         `json:"status"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
	Counts     map[string]int `json:"counts"`
	Error      string         `json:"error,omitempty"`
}

type blockedView struct {
	Kind        string    `json:"kind"`
	SourceID    string    `json:"source_id"`
	OrderNumber string    `json:"order_number,omitempty"`
	QBOType     string    `json:"qbo_type,omitempty"`
	DocNumber   string    `json:"doc_number,omitempty"`
	Reason      string    `json:"reason"`
	Runs        int       `json:"runs,omitempty"`
	Since       time.Time `json:"updated_at"`
	// Reasons is Reason as data when the ledger has it (as in run --json).
	Reasons reconcile.Reasons `json:"reasons,omitempty"`
	// NeedsPerson: failed because QBO refused the document itself; Runs
	// is then how many runs in a row it failed so.
	NeedsPerson bool `json:"needs_person,omitempty"`
	// SkippedBy, SkippedAt and SkipReason: a skipped item's person's word.
	SkippedBy  string     `json:"skipped_by,omitempty"`
	SkippedAt  *time.Time `json:"skipped_at,omitempty"`
	SkipReason string     `json:"skip_reason,omitempty"`
}

func statusCommand() command {
	var asJSON bool
	var nRuns int
	return command{
		name: "status",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			fs.IntVar(&nRuns, "runs", 5, "how many recent runs to show")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 0 {
				return usageErrorf("status takes no arguments")
			}
			st, err := m.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := m.collectStatus(ctx, st, nRuns)
			if err != nil {
				return err
			}
			if v.Connected {
				m.checkToken(ctx, st, v)
			}
			if asJSON {
				err = writeJSON(m.Stdout, v)
			} else {
				m.printStatus(v)
			}
			if err == nil && v.Token != nil && v.Token.Rejected {
				return unavailable(errTokenRejected)
			}
			return err
		},
	}
}

// checkToken is checkTokenHealth for status: v.Token gets the fresh dates,
// or Rejected and the reconnect warning, or a warning saying Intuit could
// not be asked.
func (m *Main) checkToken(ctx context.Context, st *schema.Store, v *statusView) {
	v.Token = m.checkTokenHealth(ctx, st, v.Token)
}

// checkTokenHealth asks Intuit whether the stored refresh token still
// works, when the stored access token has run out (so the dates h shows
// could be stale: a database restored from a backup holds a refresh token
// Intuit has replaced since), and the key and the app's credentials are
// configured. It refreshes the token, which stores the new pair, exactly as
// the next run would, and returns h with the fresh dates, or Rejected and
// the reconnect warning, or a warning saying Intuit could not be asked.
// `velqbo status` and the console's Integrations screen both ask here.
//
// Why only then: an access token still valid means some command refreshed
// within the hour, and a refresh at every status would rotate the token
// under a run in progress. Intuit keeps an older refresh token working for
// about a day after a newer one is issued, so a run that refreshes at the
// same moment is not locked out.
func (m *Main) checkTokenHealth(ctx context.Context, st *schema.Store, h *tokenhealth.Health) *tokenhealth.Health {
	if h == nil || (h.AccessExpiresAt != nil && h.AccessExpiresAt.After(m.Now())) {
		return h
	}
	if m.Config.SecretKey == "" || m.Config.QBO.ClientID == "" || m.Config.QBO.ClientSecret == "" {
		return h
	}
	conn, err := m.connectQBO(ctx, st)
	if err == nil {
		_, err = conn.TS.TokenContext(ctx)
	}
	switch {
	case errors.Is(err, qbo.ErrTokenRejected):
		h.Rejected = true
		h.Warning = errTokenRejected.Error()
	case err != nil:
		h.Warning = fmt.Sprintf("could not ask Intuit whether the refresh token still works: %v", err)
	default:
		if infos, err := st.Tokens(ctx); err == nil && len(infos) > 0 {
			h = tokenhealth.Of(infos[0], m.Now())
		}
	}
	return h
}

func ptime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (m *Main) collectStatus(ctx context.Context, st *schema.Store, nRuns int) (*statusView, error) {
	v := &statusView{Runs: []runView{}, Blocked: []blockedView{}, Failed: []blockedView{}, Unknown: []blockedView{}, Deleted: []blockedView{}, Skipped: []blockedView{}, Documents: map[string]int{}}
	infos, err := st.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	if len(infos) > 0 {
		v.Connected = true
		v.Token = tokenhealth.Of(infos[0], m.Now())
		v.LedgerLag = m.checkLedger(ctx, st)
	}
	runs, err := st.LastRuns(ctx, nRuns)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		v.Runs = append(v.Runs, runView{ID: r.ID, Mode: r.Mode, Status: string(r.Status), StartedAt: r.StartedAt, FinishedAt: ptime(r.FinishedAt), Counts: r.Counts, Error: tokenhealth.RunError(r.Error)})
	}
	blocked, err := st.BlockedItems(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range blocked {
		why := storedReasons(b.Reasons)
		v.Blocked = append(v.Blocked, blockedView{Kind: b.Kind, SourceID: b.SourceID, OrderNumber: b.OrderNumber, QBOType: b.QBOType, DocNumber: b.DocNumber,
			Reason: m.reasonsText(b.Reason, why), Reasons: why, Runs: b.Runs, Since: b.UpdatedAt})
	}
	docView := func(d schema.Document, reason string, why reconcile.Reasons) blockedView {
		if reason == "" {
			why = storedReasons(d.LastReasons)
			reason = m.reasonsText(d.LastError, why)
		}
		return blockedView{Kind: d.Kind, SourceID: d.SourceID, OrderNumber: d.OrderNumber, QBOType: d.QBOType, DocNumber: d.DocNumber,
			Reason: reason, Reasons: why, Since: d.UpdatedAt}
	}
	failed, err := st.ListDocuments(ctx, schema.DocumentFilter{States: []schema.State{schema.StateFailed}, Limit: 1000})
	if err != nil {
		return nil, err
	}
	for _, d := range failed {
		b := docView(d, "", nil)
		if d.NeedsPerson {
			b.NeedsPerson, b.Runs = true, d.FailedRuns
		}
		v.Failed = append(v.Failed, b)
	}
	skipped, err := st.ListDocuments(ctx, schema.DocumentFilter{States: []schema.State{schema.StateSkipped}, Limit: 1000})
	if err != nil {
		return nil, err
	}
	for _, d := range skipped {
		why := reconcile.Reasons{reconcile.SkippedReason(d)}
		b := docView(d, why.Render(m.fixText), why)
		b.SkippedBy, b.SkippedAt, b.SkipReason = d.SkippedBy, ptime(d.SkippedAt), d.SkipReason
		v.Skipped = append(v.Skipped, b)
	}
	deleted, err := st.ListDocuments(ctx, schema.DocumentFilter{States: []schema.State{schema.StateDeletedInQBO}, Limit: 1000})
	if err != nil {
		return nil, err
	}
	for _, d := range deleted {
		why := reconcile.Reasons{reconcile.DeletedInQBO(d.OrderNumber)}
		v.Deleted = append(v.Deleted, docView(d, why.Render(m.fixText), why))
	}
	pending, err := st.PendingIntents(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range pending {
		v.Unknown = append(v.Unknown, docView(d, reconcile.OutcomeUnknown(d).Text, nil))
	}
	counts, err := st.CountDocuments(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		v.Documents[c.Kind+"/"+string(c.State)] = c.N
	}
	if l, err := st.GetLease(ctx, runLeaseName); err == nil && l.ExpiresAt.After(m.Now()) {
		v.LeaseOwner = &l
	}
	return v, nil
}

func (m *Main) printStatus(v *statusView) {
	w := m.Stdout
	if !v.Connected {
		fmt.Fprintln(w, "QBO: not connected (run `velqbo connect`)")
	} else {
		t := v.Token
		fmt.Fprintf(w, "QBO company %s", t.Realm)
		// A rejected token's stored dates describe a token Intuit no
		// longer takes: only the warning is printed.
		if t.RefreshRotatedAt != nil && !t.Rejected {
			fmt.Fprintf(w, "; refresh token rotated %s", t.RefreshRotatedAt.Format(time.RFC3339))
		}
		if t.RefreshExpiresAt != nil && !t.Rejected {
			fmt.Fprintf(w, ", valid until %s", t.RefreshExpiresAt.Format(time.DateOnly))
		}
		fmt.Fprintln(w)
		if t.Warning != "" {
			fmt.Fprintf(w, "  ! %s\n", t.Warning)
		}
	}
	if v.LeaseOwner != nil {
		fmt.Fprintf(w, "A run is in progress: %s (pid %d on %s) since %s\n", v.LeaseOwner.Holder, v.LeaseOwner.PID, v.LeaseOwner.Host, v.LeaseOwner.AcquiredAt.Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	if len(v.Runs) == 0 {
		fmt.Fprintln(w, "No runs yet: `velqbo plan` shows what the first run would send.")
	} else {
		fmt.Fprintln(w, "Recent runs:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, r := range v.Runs {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", r.StartedAt.Format(time.RFC3339), r.Mode, r.Status, countsLine(r.Counts), r.Error)
		}
		tw.Flush()
	}
	section := func(title string, items []blockedView) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s (%d):\n", title, len(items))
		for _, b := range items {
			label := b.Kind + " " + b.SourceID
			if b.OrderNumber != "" {
				label = fmt.Sprintf("%s %s (order %s)", b.Kind, b.SourceID, b.OrderNumber)
			}
			runs := ""
			if b.Runs > 1 {
				runs = fmt.Sprintf(" [%d runs]", b.Runs)
			}
			if b.NeedsPerson {
				runs += " [needs a person]"
			}
			fmt.Fprintf(w, "  %s%s: %s\n", label, runs, b.Reason)
		}
	}
	section("Blocked", v.Blocked)
	section("Failed", v.Failed)
	section("Outcome unknown", v.Unknown)
	section("Deleted in QBO", v.Deleted)
	section("Skipped (set aside by a person; not sent)", v.Skipped)
	if len(v.Documents) > 0 {
		keys := make([]string, 0, len(v.Documents))
		for k := range v.Documents {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, v.Documents[k])
		}
		fmt.Fprintf(w, "\nLedger: %s\n", strings.Join(parts, ", "))
	}
	printLedgerLag(w, v.LedgerLag)
}

func countsLine(c map[string]int) string {
	order := []string{"created", "updated", "voided", "unchanged", "blocked", "failed"}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
	}
	for _, k := range []string{"adopted", "skipped"} {
		if n := c[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	return strings.Join(parts, ", ")
}

// runLeaseName is the lease that keeps two runs off one database.
const runLeaseName = "run"
