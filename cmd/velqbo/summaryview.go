package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/velqbo/velqbo/reconcile"
)

// summaryView is how run and plan print their summary.
type summaryView struct {
	asJSON bool
	plan   bool
	// only, when set, lists only the items of these actions (--only);
	// the counts and groups still cover every item.
	only map[reconcile.Action]bool
}

// onlyActions are the values --only takes.
var onlyActions = []reconcile.Action{reconcile.ActionBlocked, reconcile.ActionFailed, reconcile.ActionCreate,
	reconcile.ActionUpdate, reconcile.ActionVoid, reconcile.ActionAdopt, reconcile.ActionSkipped}

// view reads --json and --only; an unknown action is a usage error.
func (f *runFlags) view(plan bool) (summaryView, error) {
	v := summaryView{asJSON: f.asJSON, plan: plan}
	if f.only == "" {
		return v, nil
	}
	v.only = map[reconcile.Action]bool{}
	for _, s := range strings.Split(f.only, ",") {
		a := reconcile.Action(strings.TrimSpace(s))
		if !slices.Contains(onlyActions, a) {
			names := make([]string, len(onlyActions))
			for i, a := range onlyActions {
				names[i] = string(a)
			}
			return v, usageErrorf("--only %q: want one or more of %s, comma-separated", s, strings.Join(names, ", "))
		}
		v.only[a] = true
	}
	return v, nil
}

// listed reports whether an item of action a is listed under --only.
func (v summaryView) listed(a reconcile.Action) bool { return v.only == nil || v.only[a] }

// planListAll is the most items a plan lists without --only; a larger one
// (a catch-up) lists the blocked and failed ones, and the groups say the
// rest.
const planListAll = 30

// report prints the summary and returns errIncomplete (exit code 1) when
// something is blocked or failed. --only narrows the items listed (in
// --json too), never the counts or the exit code.
func (m *Main) report(sum *reconcile.Summary, v summaryView) error {
	if v.asJSON {
		out := sum
		if v.only != nil {
			cp := *sum
			cp.Items = slices.DeleteFunc(slices.Clone(sum.Items), func(it reconcile.Item) bool { return !v.listed(it.Action) })
			out = &cp
		}
		if err := writeJSON(m.Stdout, out); err != nil {
			return err
		}
	} else {
		printSummary(m.Stdout, sum, v)
	}
	if sum.Counts.Blocked > 0 || sum.Counts.Failed > 0 {
		return errIncomplete
	}
	return nil
}

// printSummary writes the counts, for a plan the items grouped by action
// and QBO type, the blocked and failed grouped by reason code and what they
// are about, and the items.
func printSummary(w io.Writer, sum *reconcile.Summary, v summaryView) {
	c := sum.Counts
	if v.plan {
		fmt.Fprintf(w, "Plan (%s): would create %d, would update %d, would void %d, unchanged %d, blocked %d, failed %d\n",
			sum.Mode, c.Created, c.Updated, c.Voided, c.Unchanged, c.Blocked, c.Failed)
		if c.Adopted > 0 {
			fmt.Fprintf(w, "Would adopt %d document(s) found in QBO with velqbo's marker instead of creating them.\n", c.Adopted)
		}
	} else {
		fmt.Fprintf(w, "Run %s (%s): created %d, updated %d, voided %d, unchanged %d, blocked %d, failed %d\n",
			sum.RunID, sum.Mode, c.Created, c.Updated, c.Voided, c.Unchanged, c.Blocked, c.Failed)
		if c.Adopted > 0 {
			fmt.Fprintf(w, "Adopted %d document(s) found in QBO with velqbo's marker instead of creating them.\n", c.Adopted)
		}
	}
	if c.Waiting > 0 {
		fmt.Fprintf(w, "%d of the failed wait for a write of an earlier run that may still reach QBO: a later run looks them up.\n", c.Waiting)
	}
	for _, warn := range sum.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warn)
	}
	if c.NeedsPerson > 0 {
		fmt.Fprintf(w, "%d of the failed were refused by QBO for what the document holds: every run fails them again until a person fixes the cause and runs `velqbo retry ORDER_NUMBER`, or sets them aside with `velqbo skip ORDER_NUMBER --reason TEXT`.\n", c.NeedsPerson)
	}
	if c.Skipped > 0 {
		fmt.Fprintf(w, "%d item(s) skipped: set aside by a person, not sent (`velqbo retry ORDER_NUMBER` sends them again).\n", c.Skipped)
	}
	if len(sum.Items) == 0 {
		if v.plan {
			fmt.Fprintln(w, "Nothing to send.")
		}
		return
	}
	if v.plan {
		printByAction(w, sum.Items)
	}
	printByReason(w, sum.Items)

	var list []reconcile.Item
	needsPerson := func(a reconcile.Action) bool { return a == reconcile.ActionBlocked || a == reconcile.ActionFailed }
	for _, it := range sum.Items {
		if v.listed(it.Action) {
			list = append(list, it)
		}
	}
	left := 0
	if v.plan && v.only == nil && len(list) > planListAll {
		list = slices.DeleteFunc(list, func(it reconcile.Item) bool { return !needsPerson(it.Action) })
		left = len(sum.Items) - len(list)
	}
	if len(list) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACTION\tKIND\tORDER\tQBO\tDOC\tREASON")
		for _, it := range list {
			qboRef := it.QBOType
			if it.QBOID != "" {
				qboRef += " " + it.QBOID
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", it.Action, it.Kind, it.OrderNumber, qboRef, it.DocNumber, oneLine(it.Reason))
		}
		tw.Flush()
	}
	if left > 0 {
		fmt.Fprintf(w, "\n%d more items are not listed: --only create,update,void lists them (--json has every item).\n", left)
	}
}

// printByAction writes one line per action: how many items, and of them
// how many of each QBO type.
func printByAction(w io.Writer, items []reconcile.Item) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, g := range reconcile.GroupByAction(items) {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", actionWords(g.Action), len(g.Items), topCounts(g.ByType, 0))
	}
	tw.Flush()
}

// actionWords says what a plan's item action means.
func actionWords(a reconcile.Action) string {
	switch a {
	case reconcile.ActionBlocked, reconcile.ActionFailed, reconcile.ActionSkipped:
		return string(a)
	case reconcile.ActionNoop:
		return "noted"
	}
	return "would " + string(a)
}

// printByReason writes, for the blocked and failed items, one line per
// reason code: how many items, and the records the reasons are about, the
// most frequent first (linking one product may clear hundreds).
func printByReason(w io.Writer, items []reconcile.Item) {
	var bad []reconcile.Item
	for _, it := range items {
		if it.Action == reconcile.ActionBlocked || it.Action == reconcile.ActionFailed {
			bad = append(bad, it)
		}
	}
	groups := reconcile.GroupByReason(bad, func(it reconcile.Item) (reconcile.Reasons, reconcile.Subject) {
		// A reason without structure (a QBO fault): the order is what
		// it is about.
		return it.Reasons, reconcile.Subject{Kind: reconcile.SubjectOrder, ID: it.OrderNumber}
	})
	if len(groups) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BLOCKED OR FAILED BY\tITEMS\tABOUT")
	for _, g := range groups {
		about := map[string]int{}
		for _, s := range g.Subjects {
			about[string(s.Subject.Kind)+" "+s.Subject.ID] = s.N
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", g.Code, len(g.Items), topCounts(about, 3))
	}
	tw.Flush()
}

// topCounts lists counts as "k (n), ...", the largest first, then by key;
// at most max of them (0: all) and "and N more".
func topCounts(counts map[string]int, max int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b)) })
	var parts []string
	for i, k := range keys {
		if max > 0 && i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(keys)-max))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}
