package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/velqbo/velqbo/reconcile"
)

// routesProblems registers the Problems screen's routes.
func (s *Server) routesProblems(mux *http.ServeMux) {
	mux.Handle("GET /problems", s.viewer(s.problemsPage))
}

type problemsData struct {
	Groups []reasonGroup
	// Items counts the problems (an item in two groups counts once).
	Items int
}

// reasonGroup is a reconcile.ReasonGroup as the page shows it.
type reasonGroup struct {
	Code     reconcile.ReasonCode
	Title    string
	Subjects []subjectView
	Items    []itemView
}

// subjectView is one record a group's reasons are about.
type subjectView struct {
	Label string // "product 77"
	Href  string // its page
	N     int
	Fix   *fixLink
}

// itemView is one object of a group (a problem, a plan's or a run's item).
type itemView struct {
	Label       string // "order 1001", "refund rf_9 (order 1001)"
	Href        string // the order's page
	State       string
	QBOType     string
	QBOID       string
	DocNumber   string
	Text        string // the reasons without their fixes
	Fixes       []fixLink
	Runs        int
	NeedsPerson bool
	Since       time.Time
}

// groupViews turns reason groups into what the page shows; item says
// how one item reads, source names the store in the groups' titles.
func groupViews[T any](source string, gs []reconcile.ReasonGroup[T], item func(T) itemView) []reasonGroup {
	out := make([]reasonGroup, 0, len(gs))
	for _, g := range gs {
		v := reasonGroup{Code: g.Code, Title: reasonTitle(g.Code, source)}
		for _, sc := range g.Subjects {
			v.Subjects = append(v.Subjects, subjectView{Label: string(sc.Subject.Kind) + " " + sc.Subject.ID,
				Href: subjectLink(sc.Subject, ""), N: sc.N, Fix: fixFor(sc.Fix)})
		}
		for _, it := range g.Items {
			v.Items = append(v.Items, item(it))
		}
		out = append(out, v)
	}
	return out
}

// newItemView is the common part of an item's view: what it is, the
// order page it opens, and its reasons' text and fixes (text, without
// reasons).
func newItemView(kind, sourceID, orderNumber string, why reconcile.Reasons, text string) itemView {
	v := itemView{Label: kind + " " + sourceID, Text: text}
	if kind == string(reconcile.KindOrder) && orderNumber != "" {
		v.Label = "order " + orderNumber
	} else if orderNumber != "" {
		v.Label += " (order " + orderNumber + ")"
	}
	if orderNumber != "" {
		v.Href = "/orders/" + url.PathEscape(orderNumber)
	}
	if len(why) > 0 {
		v.Text = why.String()
	}
	seen := map[reconcile.Fix]bool{}
	for _, r := range why {
		if f := fixFor(r.Fix); f != nil && !seen[r.Fix] {
			seen[r.Fix] = true
			v.Fixes = append(v.Fixes, *f)
		}
	}
	return v
}

func problemView(p reconcile.Problem) itemView {
	v := newItemView(p.Kind, p.SourceID, p.OrderNumber, p.Reasons, p.Text)
	v.State, v.QBOType, v.QBOID, v.DocNumber = problemStates[p.State], p.QBOType, p.QBOID, p.DocNumber
	v.Runs, v.NeedsPerson, v.Since = p.Runs, p.NeedsPerson, p.Since
	return v
}

// problemStates say a problem's state in words.
var problemStates = map[reconcile.ProblemState]string{
	reconcile.ProblemBlocked: "blocked",
	reconcile.ProblemFailed:  "failed",
	reconcile.ProblemUnknown: "outcome unknown",
	reconcile.ProblemDeleted: "deleted in QuickBooks",
	reconcile.ProblemDrift:   "changed in QuickBooks",
}

// problemsPage lists everything blocked, failed, with an unknown outcome,
// deleted or changed in QBO, grouped by reason, the most frequent first,
// each group with the records it is about and the link that fixes them.
func (s *Server) problemsPage(w http.ResponseWriter, r *http.Request) {
	ps, err := reconcile.Problems(r.Context(), s.backend.Store())
	if err != nil {
		s.ledgerFailed(w, r, err)
		return
	}
	gs := reconcile.GroupByReason(ps, func(p reconcile.Problem) (reconcile.Reasons, reconcile.Subject) {
		return p.Reasons, p.Subject()
	})
	s.render(w, r, http.StatusOK, "problems.html", problemsData{Items: len(ps), Groups: groupViews(s.c.SourceName, gs, problemView)})
}

// fixFor is the link that fixes f from the Runs and Problems pages (the
// orders screen's fixLinkOf, seen from no order's page); nil for no fix.
func fixFor(f reconcile.Fix) *fixLink {
	if l, ok := fixLinkOf(f, ""); ok {
		return &l
	}
	return nil
}

// subjectLink is the page of the record a reason is about: an order (or
// its refund or payment: the order's page, numbered orderNumber), a
// customer, a product or a setting.
func subjectLink(sub reconcile.Subject, orderNumber string) string {
	switch sub.Kind {
	case reconcile.SubjectCustomer:
		return "/customers/" + url.PathEscape(sub.ID)
	case reconcile.SubjectProduct:
		return "/products/" + url.PathEscape(sub.ID)
	case reconcile.SubjectSetting:
		return "/settings#" + url.QueryEscape(sub.ID)
	case reconcile.SubjectPaymentMethod:
		return "/settings#" + url.QueryEscape(reconcile.SettingPaymentMethodPrefix+sub.ID)
	case reconcile.SubjectOrder:
		return "/orders/" + url.PathEscape(sub.ID)
	}
	if orderNumber != "" {
		return "/orders/" + url.PathEscape(orderNumber)
	}
	return ""
}

// reasonTitles head the groups in plain words, "%s" standing for the
// source's name; a code without one shows as it is.
var reasonTitles = map[reconcile.ReasonCode]string{
	reconcile.CodeCustomerNotLinked:     "Customer not linked to QuickBooks",
	reconcile.CodeProductNotLinked:      "Product not linked to a QuickBooks item",
	reconcile.CodeSettingMissing:        "A setting is missing",
	reconcile.CodePaymentMethodUnmapped: "Payment method not mapped",
	reconcile.CodeCurrencyMismatch:      "Currency differs from the company's",
	reconcile.CodeDocNumberInvalid:      "Order number QuickBooks cannot take",
	reconcile.CodeNotWholeCents:         "Amount not in whole cents",
	reconcile.CodeNegativeAmount:        "Negative amount",
	reconcile.CodeAmountNotPositive:     "Amount not positive",
	reconcile.CodeTotalMismatch:         "Lines do not add up to the total",
	reconcile.CodeRefundsExceedTotal:    "Refunds exceed the order total",
	reconcile.CodePaymentsExceedTotal:   "Payments exceed the order total",
	reconcile.CodeUnknownOrderLine:      "Order line of an unknown kind",
	reconcile.CodeUnknownRefundKind:     "Refund of an unknown kind",
	reconcile.CodeInvalidInSource:       "Invalid in %s",
	reconcile.CodeNotInSource:           "No longer in %s",
	reconcile.CodeDuplicateInSource:     "Duplicate in %s",
	reconcile.CodeWaitsForOrder:         "Waits for its order to reach QuickBooks",
	reconcile.CodeDeletedInQBO:          "Deleted in QuickBooks",
	reconcile.CodeCustomerNameTaken:     "Customer name taken in QuickBooks",
	reconcile.CodeCannotCreate:          "Customer cannot be created",
	reconcile.CodeQBORejected:           "QuickBooks was busy or unavailable (the next run retries)",
	reconcile.CodeQBORefusedDocument:    "QuickBooks refused the document",
	reconcile.CodeOutcomeUnknown:        "Outcome unknown (the next run looks it up)",
	reconcile.CodeExistsInQBOUnmarked:   "Already in QuickBooks, not made by velqbo",
	reconcile.CodeLookupFailed:          "QuickBooks could not be searched (the next run retries)",
	reconcile.CodeWriteInFlight:         "A write may still reach QuickBooks (a later run looks it up)",
	reconcile.DriftVoided:               "Voided in QuickBooks by someone else",
	reconcile.DriftTotalChanged:         "Total changed in QuickBooks",
	reconcile.DriftCustomerChanged:      "Customer changed in QuickBooks",
	reconcile.DriftSyncTokenMoved:       "Edited in QuickBooks by someone else",
	reconcile.GroupOther:                "Other",
}

func reasonTitle(c reconcile.ReasonCode, source string) string {
	t, ok := reasonTitles[c]
	switch {
	case !ok:
		return string(c)
	case strings.Contains(t, "%s"):
		return fmt.Sprintf(t, source)
	}
	return t
}
