package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
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
	Documents  map[string]int      `json:"documents"` // "<kind>/<state>" -> n
	LeaseOwner *schema.Lease       `json:"lease,omitempty"`
	Settings   map[string]bool     `json:"-"`
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
}

func statusCommand() command {
	var asJSON bool
	var nRuns int
	return command{
		name:    "status",
		summary: "last runs, blocked items with reasons, token health",
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
			if asJSON {
				return writeJSON(m.Stdout, v)
			}
			m.printStatus(v)
			return nil
		},
	}
}

func ptime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (m *Main) collectStatus(ctx context.Context, st *schema.Store, nRuns int) (*statusView, error) {
	v := &statusView{Runs: []runView{}, Blocked: []blockedView{}, Failed: []blockedView{}, Unknown: []blockedView{}, Deleted: []blockedView{}, Documents: map[string]int{}}
	infos, err := st.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	if len(infos) > 0 {
		v.Connected = true
		v.Token = tokenhealth.Of(infos[0], m.Now())
	}
	runs, err := st.LastRuns(ctx, nRuns)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		v.Runs = append(v.Runs, runView{ID: r.ID, Mode: r.Mode, Status: string(r.Status), StartedAt: r.StartedAt, FinishedAt: ptime(r.FinishedAt), Counts: r.Counts, Error: r.Error})
	}
	blocked, err := st.BlockedItems(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range blocked {
		why := storedReasons(b.Reasons)
		v.Blocked = append(v.Blocked, blockedView{Kind: b.Kind, SourceID: b.SourceID, OrderNumber: b.OrderNumber, QBOType: b.QBOType, DocNumber: b.DocNumber,
			Reason: reasonsText(b.Reason, why), Reasons: why, Runs: b.Runs, Since: b.UpdatedAt})
	}
	docView := func(d schema.Document, reason string, why reconcile.Reasons) blockedView {
		if reason == "" {
			why = storedReasons(d.LastReasons)
			reason = reasonsText(d.LastError, why)
		}
		return blockedView{Kind: d.Kind, SourceID: d.SourceID, OrderNumber: d.OrderNumber, QBOType: d.QBOType, DocNumber: d.DocNumber,
			Reason: reason, Reasons: why, Since: d.UpdatedAt}
	}
	failed, err := st.ListDocuments(ctx, schema.DocumentFilter{States: []schema.State{schema.StateFailed}, Limit: 1000})
	if err != nil {
		return nil, err
	}
	for _, d := range failed {
		v.Failed = append(v.Failed, docView(d, "", nil))
	}
	deleted, err := st.ListDocuments(ctx, schema.DocumentFilter{States: []schema.State{schema.StateDeletedInQBO}, Limit: 1000})
	if err != nil {
		return nil, err
	}
	for _, d := range deleted {
		why := reconcile.Reasons{reconcile.DeletedInQBO(d.OrderNumber)}
		v.Deleted = append(v.Deleted, docView(d, why.Render(fixCommand), why))
	}
	pending, err := st.PendingIntents(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range pending {
		v.Unknown = append(v.Unknown, docView(d, fmt.Sprintf("%s sent, outcome unknown; the next run looks it up in QBO before retrying", d.PendingWrite()), nil))
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
		if t.RefreshRotatedAt != nil {
			fmt.Fprintf(w, "; refresh token rotated %s", t.RefreshRotatedAt.Format(time.RFC3339))
		}
		if t.RefreshExpiresAt != nil {
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
			fmt.Fprintf(w, "  %s%s: %s\n", label, runs, b.Reason)
		}
	}
	section("Blocked", v.Blocked)
	section("Failed", v.Failed)
	section("Outcome unknown", v.Unknown)
	section("Deleted in QBO", v.Deleted)
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
}

func countsLine(c map[string]int) string {
	order := []string{"created", "updated", "voided", "unchanged", "blocked", "failed"}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
	}
	return strings.Join(parts, ", ")
}

// runLeaseName is the lease that keeps two runs off one database.
const runLeaseName = "run"
