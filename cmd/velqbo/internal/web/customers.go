package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// routesCustomers registers the Customers screen's routes; the Products
// screen shares its list, page, selector and link handlers (linkScreen).
func (s *Server) routesCustomers(mux *http.ServeMux) {
	c := customersScreen
	mux.Handle("GET /customers", s.viewer(s.linkList(c)))
	mux.Handle("GET /customers/{id}", s.viewer(s.linkRecord(c)))
	mux.Handle("GET /customers/{id}/search", s.viewer(s.linkSearch(c)))
	mux.Handle("POST /customers/{id}/link", s.admin(s.linkSubmit(c)))
	mux.Handle("POST /customers/{id}/unlink", s.admin(s.unlinkSubmit(c)))
	mux.Handle("POST /customers/{id}/create", s.admin(s.createCustomer))
	mux.Handle("GET /customers/{id}/sync", s.viewer(s.syncPage))
	mux.Handle("POST /customers/{id}/sync", s.admin(s.syncSubmit))
}

// linkScreen is what differs between the Customers and the Products
// screens: both list Velocity records with their QBO links and link them
// by the same engine rules.
type linkScreen struct {
	Kind schema.LinkKind
	// Path is the list's path: /customers or /products.
	Path string
	// Noun and Nouns name a Velocity record; QBONoun what it links to.
	Noun, Nouns, QBONoun string
	// QBOType is qboURL's kind of the linked record.
	QBOType string
}

var (
	customersScreen = linkScreen{Kind: schema.CustomerLinks, Path: "/customers", Noun: "customer", Nouns: "customers", QBONoun: "customer", QBOType: "Customer"}
	productsScreen  = linkScreen{Kind: schema.ProductLinks, Path: "/products", Noun: "product", Nouns: "products", QBONoun: "item", QBOType: "Item"}
)

// listPageSize is how many records a list page shows; searchPageSize how
// many QBO records a selector page shows.
const (
	listPageSize   = 50
	searchPageSize = 10
)

// linkListData is links.html's data.
type linkListData struct {
	Screen  linkScreen
	Query   string
	Filter  string // "", "unlinked" or "blocking"
	Rows    []reconcile.LinkRow
	Total   int
	Invalid []string
	Page    int
	Prev    string // links to the neighbouring pages, "" when none
	Next    string
	Error   string
}

func (s *Server) linkList(sc linkScreen) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		d := linkListData{Screen: sc, Query: strings.TrimSpace(q.Get("q")), Filter: q.Get("filter"), Page: pageNumber(q)}
		f := reconcile.LinkFilter{Text: d.Query, Counts: true}
		switch d.Filter {
		case "unlinked":
			f.Unlinked = true
		case "blocking":
			f.Blocking = true
		default:
			d.Filter = ""
		}
		list, err := s.listLinks(r.Context(), sc, f)
		if err != nil {
			d.Error = s.backendErrorText(r, err)
			s.render(w, r, http.StatusOK, "links.html", d)
			return
		}
		d.Total, d.Invalid = len(list.Rows), list.Invalid
		start := min((d.Page-1)*listPageSize, len(list.Rows))
		end := min(start+listPageSize, len(list.Rows))
		d.Rows = list.Rows[start:end]
		d.Prev, d.Next = pageLinks(sc.Path, url.Values{"q": {d.Query}, "filter": {d.Filter}}, d.Page, end < len(list.Rows))
		s.render(w, r, http.StatusOK, "links.html", d)
	}
}

func (s *Server) listLinks(ctx context.Context, sc linkScreen, f reconcile.LinkFilter) (reconcile.LinkList, error) {
	if sc.Kind == schema.ProductLinks {
		return s.backend.Products(ctx, f)
	}
	return s.backend.Customers(ctx, f)
}

// linkRecordData is link.html's data: one Velocity record, its link, the
// suggestions and the QBO selector.
type linkRecordData struct {
	Screen   linkScreen
	ID       string
	Customer *velocity.Customer
	Product  *velocity.Product
	Link     *schema.Link
	// Blocking are the orders the record blocks now.
	Blocking    []schema.BlockedOrder
	Suggestions []reconcile.Suggestion
	// SuggestError says why there are no suggestions (QBO not connected …).
	SuggestError string
	Search       searchData
	// Force asks to confirm a link that takes a QBO record linked elsewhere.
	Force *forceData
	// Existing lists the QBO customers that already have the email (a
	// refused "Create a new one").
	Existing []reconcile.ExistingCustomer
	Error    string
}

// Name is how the page names the record.
func (d linkRecordData) Name() string {
	switch {
	case d.Customer != nil:
		return reconcile.CustomerName(d.Customer)
	case d.Product != nil:
		return d.Product.Name
	}
	return d.ID
}

// searchData is the QBO selector's results (the "qbo-results" fragment).
type searchData struct {
	Screen    linkScreen
	ID        string
	Query     string
	Customers []reconcile.QBOCustomer
	Items     []reconcile.QBOItem
	Offset    int
	Prev      string
	Next      string
	Searched  bool
	Error     string
}

// forceData asks to confirm taking a QBO record linked to other records.
type forceData struct {
	QBOID, QBOName string
	HeldBy         []string
}

// loadRecord fills d with the record, its link and its blocked-order
// count; ok is false when the page was answered (not found or an error).
func (s *Server) loadRecord(w http.ResponseWriter, r *http.Request, sc linkScreen, d *linkRecordData) bool {
	ctx := r.Context()
	var link *schema.Link
	var err error
	if sc.Kind == schema.ProductLinks {
		d.Product, link, err = s.backend.Product(ctx, d.ID)
	} else {
		d.Customer, link, err = s.backend.Customer(ctx, d.ID)
	}
	switch {
	case errors.Is(err, velocity.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, s.c.SourceName+" has no "+sc.Noun+" "+d.ID+".")
		return false
	case velocity.IsObjectError(err):
		s.errorPage(w, r, http.StatusUnprocessableEntity, s.c.SourceName+" "+sc.Noun+" "+d.ID+" is invalid: "+err.Error())
		return false
	case err != nil:
		s.errorPage(w, r, http.StatusServiceUnavailable, s.backendErrorText(r, err))
		return false
	}
	d.Link = link
	blocking, err := s.backend.BlockedOrders(ctx, sc.Kind, d.ID)
	if err != nil {
		// The page is still useful without the list: say so in the log.
		s.log.WithError(err).WithField("path", r.URL.Path).Warn("console: blocked orders")
	}
	d.Blocking = blocking
	return true
}

// renderRecord renders link.html with the suggestions (read from QBO
// unless the record is linked and nothing asks for them) and status.
func (s *Server) renderRecord(w http.ResponseWriter, r *http.Request, status int, sc linkScreen, d linkRecordData) {
	if d.Link == nil {
		sug, err := s.backend.Suggest(r.Context(), sc.Kind, d.ID)
		if err != nil {
			d.SuggestError = s.backendErrorText(r, err)
		}
		d.Suggestions = sug
	}
	if d.Search.Screen.Path == "" {
		d.Search = searchData{Screen: sc, ID: d.ID}
	}
	s.render(w, r, status, "link.html", d)
}

func (s *Server) linkRecord(sc linkScreen) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := linkRecordData{Screen: sc, ID: r.PathValue("id")}
		if !s.loadRecord(w, r, sc, &d) {
			return
		}
		// Without JavaScript the selector's form submits here with q.
		if q := r.URL.Query(); q.Has("q") {
			d.Search = s.search(r, sc, d.ID)
		}
		s.renderRecord(w, r, http.StatusOK, sc, d)
	}
}

// linkSearch answers the selector as you type (static/selector.js, which
// sends HX-Request as htmx would): the results fragment alone. Any other
// request is sent to the whole page with the results.
func (s *Server) linkSearch(sc linkScreen) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if r.Header.Get("HX-Request") == "" {
			http.Redirect(w, r, sc.Path+"/"+url.PathEscape(id)+"?"+r.URL.RawQuery, http.StatusSeeOther)
			return
		}
		s.renderFragment(w, r, http.StatusOK, "link.html", "qbo-results", linkRecordData{Screen: sc, ID: id, Search: s.search(r, sc, id)})
	}
}

// search runs the selector's search of q's text, one page from offset.
func (s *Server) search(r *http.Request, sc linkScreen, id string) searchData {
	q := r.URL.Query()
	d := searchData{Screen: sc, ID: id, Query: strings.TrimSpace(q.Get("q")), Searched: true}
	if n, err := strconv.Atoi(q.Get("offset")); err == nil && n > 0 {
		d.Offset = n
	}
	if d.Query == "" {
		return d
	}
	page := reconcile.SearchPage{Offset: d.Offset, Size: searchPageSize}
	var more bool
	if sc.Kind == schema.ProductLinks {
		found, err := s.backend.SearchQBOItems(r.Context(), d.Query, page)
		if err != nil {
			d.Error = s.backendErrorText(r, err)
			return d
		}
		d.Items, more = found.Results, found.More
	} else {
		found, err := s.backend.SearchQBOCustomers(r.Context(), d.Query, page)
		if err != nil {
			d.Error = s.backendErrorText(r, err)
			return d
		}
		d.Customers, more = found.Results, found.More
	}
	at := func(off int) string {
		return sc.Path + "/" + url.PathEscape(id) + "?" + url.Values{"q": {d.Query}, "offset": {strconv.Itoa(off)}}.Encode()
	}
	if d.Offset > 0 {
		d.Prev = at(max(d.Offset-searchPageSize, 0))
	}
	if more {
		d.Next = at(d.Offset + searchPageSize)
	}
	return d
}

func (s *Server) linkSubmit(sc linkScreen) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := linkRecordData{Screen: sc, ID: r.PathValue("id")}
		qboID := strings.TrimSpace(r.PostFormValue("qbo_id"))
		force := r.PostFormValue("force") == "1"
		if qboID == "" {
			if !s.loadRecord(w, r, sc, &d) {
				return
			}
			d.Error = "Choose a QuickBooks " + sc.QBONoun + " to link."
			s.renderRecord(w, r, http.StatusUnprocessableEntity, sc, d)
			return
		}
		res, err := s.backend.Link(r.Context(), sc.Kind, d.ID, qboID, force)
		var refused *reconcile.LinkRefusedError
		switch {
		case errors.As(err, &refused) && refused.Code == reconcile.LinkHeld:
			if !s.loadRecord(w, r, sc, &d) {
				return
			}
			d.Force = &forceData{QBOID: qboID, QBOName: refused.QBOName, HeldBy: refused.HeldBy}
			s.renderRecord(w, r, http.StatusConflict, sc, d)
			return
		case errors.As(err, &refused):
			if !s.loadRecord(w, r, sc, &d) {
				return
			}
			d.Error = s.linkRefusalText(sc, refused)
			s.renderRecord(w, r, http.StatusUnprocessableEntity, sc, d)
			return
		case err != nil:
			if !s.loadRecord(w, r, sc, &d) {
				return
			}
			d.Error = s.backendErrorText(r, err)
			s.renderRecord(w, r, http.StatusServiceUnavailable, sc, d)
			return
		}
		msg := "Linked to QuickBooks " + sc.QBONoun + " " + res.QBOName + "."
		switch {
		case len(res.Moved) > 0:
			msg += " It was linked to " + s.c.SourceName + " " + sc.Noun + " " + strings.Join(res.Moved, ", ") + " before; that link was removed."
		case len(res.SharedWith) > 0:
			msg += " The item is shared with " + s.c.SourceName + " " + sc.Noun + " " + strings.Join(res.SharedWith, ", ") + "."
		}
		s.redirect(w, r, sc.Path+"/"+url.PathEscape(d.ID), msg)
	}
}

// linkRefusalText is a refused link in the console's words (the engine's
// text names the CLI's flags).
func (s *Server) linkRefusalText(sc linkScreen, e *reconcile.LinkRefusedError) string {
	switch e.Code {
	case reconcile.LinkNoQBO:
		return "QuickBooks has no " + sc.QBONoun + " with id " + e.QBOID + ". Search for it again."
	case reconcile.LinkInactiveQBO:
		return "QuickBooks " + sc.QBONoun + " " + e.QBOName + " is inactive (or a category). Reactivate it in QuickBooks or choose another."
	case reconcile.LinkNoVelocity:
		return s.c.SourceName + " has no " + sc.Noun + " " + e.VelocityID + "."
	case reconcile.LinkInvalidVelocity:
		return s.c.SourceName + " " + sc.Noun + " " + e.VelocityID + " is invalid: " + e.Detail
	}
	return e.Error()
}

func (s *Server) unlinkSubmit(sc linkScreen) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		err := s.backend.Unlink(r.Context(), sc.Kind, id)
		switch {
		case errors.Is(err, schema.ErrNotFound):
			s.redirect(w, r, sc.Path+"/"+url.PathEscape(id), s.c.SourceName+" "+sc.Noun+" "+id+" was not linked.")
		case err != nil:
			s.errorPage(w, r, http.StatusInternalServerError, s.backendErrorText(r, err))
		default:
			s.redirect(w, r, sc.Path+"/"+url.PathEscape(id), "Unlinked. Orders of this "+sc.Noun+" wait until it is linked again.")
		}
	}
}

// createCustomer is "Create a new one…": `customers create`, with
// link_existing and force_new as its --link-existing and --force-new.
func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request) {
	sc := customersScreen
	d := linkRecordData{Screen: sc, ID: r.PathValue("id")}
	opts := reconcile.CreateOptions{LinkExisting: r.PostFormValue("link_existing") == "1", ForceNew: r.PostFormValue("force_new") == "1"}
	res, err := s.backend.CreateCustomer(r.Context(), d.ID, opts)
	var existing *reconcile.ExistingCustomersError
	var linked *reconcile.AlreadyLinkedError
	var taken *reconcile.NameTakenError
	var refused *reconcile.LinkRefusedError
	switch {
	case errors.As(err, &existing):
		if !s.loadRecord(w, r, sc, &d) {
			return
		}
		d.Existing = existing.Existing
		s.renderRecord(w, r, http.StatusConflict, sc, d)
		return
	case errors.As(err, &linked):
		s.redirect(w, r, sc.Path+"/"+url.PathEscape(d.ID), "Already linked to QuickBooks customer "+linked.Link.QBOName+"; nothing created.")
		return
	case errors.As(err, &taken), errors.As(err, &refused), err != nil:
		if !s.loadRecord(w, r, sc, &d) {
			return
		}
		status := http.StatusUnprocessableEntity
		switch {
		case taken != nil:
			d.Error = taken.Error() + ". Rename one of them in QuickBooks, or link this customer by hand."
		case refused != nil:
			d.Error = s.linkRefusalText(sc, refused)
		default:
			d.Error, status = s.backendErrorText(r, err), http.StatusServiceUnavailable
		}
		s.renderRecord(w, r, status, sc, d)
		return
	}
	msg := "Created QuickBooks customer " + res.QBOName + " and linked it."
	switch {
	case res.Linked:
		msg = "Linked the existing QuickBooks customer " + res.QBOName + " (" + res.Reason + "); nothing created."
	case res.Found:
		msg = "Found QuickBooks customer " + res.QBOName + " (created by an earlier, interrupted attempt) and linked it."
	case res.Renamed:
		msg += " The plain name was taken by another QuickBooks customer, vendor or employee, so the customer number was added."
	}
	s.redirect(w, r, sc.Path+"/"+url.PathEscape(d.ID), msg)
}

// syncData is customer_sync.html's data.
type syncData struct {
	ID     string
	Name   string
	Link   schema.Link
	Fields []reconcile.ProfileField
	Keep   string // "" until chosen
	Plan   *reconcile.ProfileSync
	Target string // the record the write changes
	Error  string
}

// syncPage is "Sync customer profile…": both records side by side, then,
// with keep chosen, the changes to confirm. Nothing is written here.
func (s *Server) syncPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	keep := r.URL.Query().Get("keep")
	if keep != reconcile.KeepVelocity && keep != reconcile.KeepQBO {
		keep = ""
	}
	s.renderSync(w, r, http.StatusOK, id, keep, "")
}

func (s *Server) renderSync(w http.ResponseWriter, r *http.Request, status int, id, keep, msg string) {
	plan, err := s.backend.PlanProfileSync(r.Context(), id, planKeep(keep))
	if s.syncFailed(w, r, id, err) {
		return
	}
	d := syncData{ID: id, Name: reconcile.CustomerName(plan.Velocity), Link: schema.Link{QBOID: plan.QBOID, QBOName: plan.QBO.DisplayName},
		Fields: reconcile.ProfileFields(reconcile.FromVelocity(plan.Velocity), reconcile.FromQBO(plan.QBO)), Keep: keep, Error: msg}
	if keep != "" {
		d.Plan = &plan
		d.Target = "QuickBooks customer " + plan.QBO.DisplayName
		if keep == reconcile.KeepQBO {
			d.Target = s.c.SourceName + " customer " + d.Name
		}
	}
	s.render(w, r, status, "customer_sync.html", d)
}

// planKeep is the side a preview plans with: keep, or Velocity's while
// none is chosen (the page then shows only the records).
func planKeep(keep string) string {
	if keep == "" {
		return reconcile.KeepVelocity
	}
	return keep
}

// syncFailed answers the errors of a sync's plan or apply; false when err
// is nil.
func (s *Server) syncFailed(w http.ResponseWriter, r *http.Request, id string, err error) bool {
	var gone *reconcile.QBOCustomerGoneError
	switch {
	case err == nil:
		return false
	case errors.Is(err, schema.ErrNotFound):
		s.redirect(w, r, "/customers/"+url.PathEscape(id), "This customer is not linked to a QuickBooks customer yet: link one or create one first.")
	case errors.Is(err, velocity.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, s.c.SourceName+" has no customer "+id+".")
	case errors.As(err, &gone):
		s.redirect(w, r, "/customers/"+url.PathEscape(id), "The linked QuickBooks customer "+gone.QBOID+" is gone or inactive: link another one.")
	default:
		s.errorPage(w, r, http.StatusServiceUnavailable, s.backendErrorText(r, err))
	}
	return true
}

// syncSubmit applies the confirmed changes (`customers sync --keep`): the
// form carries the digest of the changes shown, and nothing is written
// when the records changed since.
func (s *Server) syncSubmit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	keep := r.PostFormValue("keep")
	if keep != reconcile.KeepVelocity && keep != reconcile.KeepQBO {
		s.renderSync(w, r, http.StatusUnprocessableEntity, id, "", "Choose which record to keep.")
		return
	}
	confirm := r.PostFormValue("confirm")
	if confirm == "" {
		// Why: the form must name the changes the person saw; an empty
		// digest would write whatever the changes are now (--yes).
		s.renderSync(w, r, http.StatusUnprocessableEntity, id, keep, "Review the changes below, then confirm.")
		return
	}
	done, err := s.backend.ApplyProfileSync(r.Context(), id, keep, confirm)
	var changed *reconcile.SyncChangedError
	if errors.As(err, &changed) {
		s.renderSync(w, r, http.StatusConflict, id, keep, "The records changed since you looked; nothing was written. Review the new changes below.")
		return
	}
	if s.syncFailed(w, r, id, err) {
		return
	}
	msg := "The records already agree; nothing written."
	if done.Written {
		msg = "Profile synced: " + strconv.Itoa(len(done.Changes)) + " field(s) updated."
	}
	s.redirect(w, r, "/customers/"+url.PathEscape(id), msg)
}

// backendErrorText is an engine error in words for the page.
func (s *Server) backendErrorText(r *http.Request, err error) string {
	switch {
	case errors.Is(err, ErrNotConnected):
		return "velqbo is not connected to QuickBooks Online. Connect it on the Integrations page."
	case errors.Is(err, reconcile.ErrSourceUnavailable):
		return s.c.SourceName + " could not be read just now: " + err.Error()
	}
	s.log.WithError(err).WithField("path", r.URL.Path).Warn("console: backend")
	return err.Error()
}
