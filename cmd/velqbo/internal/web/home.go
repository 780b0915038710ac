package web

import (
	"context"
	"net/http"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// Overview is the dashboard's summary, from the ledger alone.
type Overview struct {
	// Realm is the connected company; "" when none is.
	Realm string
	// Token is the stored refresh token's health (no call to Intuit).
	Token *tokenhealth.Health
	// Runs are the last runs, newest first.
	Runs []schema.Run
	// RunInProgress is set while a run holds the run lease.
	RunInProgress bool
	// Problems counts reconcile.Problems by state; ProblemTotal is their sum.
	Problems     map[reconcile.ProblemState]int
	ProblemTotal int
	// MissingSettings are the required settings not set (without them
	// nearly every document blocks).
	MissingSettings []string
}

// homeData is the dashboard page's data.
type homeData struct {
	Overview
	// Company is the connected company's name, read live; "" when QBO
	// could not be asked quickly.
	Company string
	Err     string
	// ProblemStates lists the states in the order the page shows them.
	ProblemStates []reconcile.ProblemState
}

// homeCompanyWait bounds the live read of the company's name: the
// dashboard shows the realm alone rather than wait for a slow QBO.
const homeCompanyWait = 3 * time.Second

// home is the dashboard: the connected company, the last runs, the
// problems by state, and what to do next when something is missing.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	d := homeData{ProblemStates: []reconcile.ProblemState{reconcile.ProblemBlocked, reconcile.ProblemFailed,
		reconcile.ProblemUnknown, reconcile.ProblemDeleted, reconcile.ProblemDrift}}
	ov, err := s.backend.Overview(r.Context())
	if err != nil {
		s.log.WithError(err).Error("console: dashboard")
		d.Err = "The ledger could not be read: " + err.Error()
	}
	d.Overview = ov
	if ov.Realm != "" {
		ctx, cancel := context.WithTimeout(r.Context(), homeCompanyWait)
		if st, err := s.backend.QBOStatus(ctx); err == nil && st.Company != nil {
			d.Company = st.Company.CompanyName
		}
		cancel()
	}
	s.render(w, r, http.StatusOK, "home.html", d)
}
