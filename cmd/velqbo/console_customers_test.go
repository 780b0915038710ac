package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// hostile is a name that runs script if a page does not escape it.
const hostile = `<script>alert("x")</script>`

// getHX requests path as htmx does (HX-Request), for the selector's
// results fragment.
func (c *consoleClient) getHX(t *testing.T, path string) *consoleResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, c.h.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("HX-Request", "true")
	return c.do(t, req)
}

// wantBody fails unless the body contains every one of want.
func (r *consoleResponse) wantBody(t *testing.T, want ...string) *consoleResponse {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.Body, w) {
			t.Errorf("body: got no %q in\n%s", w, r.Body)
		}
	}
	return r
}

// wantEscaped fails when raw appears unescaped in the body.
func (r *consoleResponse) wantEscaped(t *testing.T, raw string) {
	t.Helper()
	if strings.Contains(r.Body, raw) {
		t.Errorf("body holds %q unescaped", raw)
	}
	if !strings.Contains(r.Body, "&lt;script&gt;") {
		t.Errorf("body: got no escaped &lt;script&gt;")
	}
}

// linkOf is the ledger's link of a Velocity record ("" when unlinked).
func (h *consoleHarness) linkOf(t *testing.T, kind schema.LinkKind, id string) schema.Link {
	t.Helper()
	l, err := h.store.GetLink(t.Context(), kind, id)
	if errors.Is(err, schema.ErrNotFound) {
		return schema.Link{}
	} else if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestConsoleCustomers_Protected(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(2))
	id := h.data.Customers[0].ID
	qid := h.qbo.AddCustomer("Somebody Else", "else@example.com")
	for _, path := range []string{"/customers", "/customers/" + id, "/customers/" + id + "/search?q=x", "/customers/" + id + "/sync",
		"/products", "/products/" + h.data.Products[0].ID, "/products/" + h.data.Products[0].ID + "/search?q=x"} {
		t.Run("GET"+path, func(t *testing.T) { h.checkProtected(t, http.MethodGet, path, nil, false) })
	}
	posts := []struct {
		path string
		form url.Values
	}{
		{"/customers/" + id + "/link", url.Values{"qbo_id": {qid}}},
		{"/customers/" + id + "/create", nil},
		{"/customers/" + id + "/sync", url.Values{"keep": {"velocity"}, "confirm": {"x"}}},
		{"/products/" + h.data.Products[0].ID + "/link", url.Values{"qbo_id": {h.seed.Items["Shipping"]}}},
	}
	for _, p := range posts {
		t.Run("POST"+p.path, func(t *testing.T) { h.checkProtected(t, http.MethodPost, p.path, p.form, true) })
	}
	// An unlink refused must leave the link: link first, as the CLI does.
	h.MustRun(exitOK, "", "customers", "link", id, qid)
	t.Run("POST/unlink", func(t *testing.T) {
		h.checkProtected(t, http.MethodPost, "/customers/"+id+"/unlink", nil, true)
		h.checkProtected(t, http.MethodPost, "/products/"+h.data.Products[0].ID+"/unlink", nil, true)
	})
	if l := h.linkOf(t, schema.CustomerLinks, id); l.QBOID != qid {
		t.Errorf("after refused posts: customer link %+v; want still %s", l, qid)
	}
	if l := h.linkOf(t, schema.ProductLinks, h.data.Products[0].ID); l.QBOID != "" {
		t.Errorf("after refused posts: product link %+v; want none", l)
	}
	if n := len(h.qbo.Entities("Customer")); n != 1 {
		t.Errorf("QBO customers after refused posts: got %d; want 1 (nothing created)", n)
	}
}

func TestConsoleCustomers_List(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0))
	h.velocity.AddCustomer(velocity.Customer{ID: "cus_h", Number: "C9", FirstName: hostile, Email: "h@example.com"})
	h.velocity.AddCustomer(velocity.Customer{ID: "cus_linked", Number: "C10", Company: "Linked Co", Email: "l@example.com"})
	h.velocity.AddCustomer(velocity.Customer{ID: "cus_blocks", Number: "C11", Company: "Blocking Co", Email: "b@example.com"})
	qid := h.qbo.AddCustomer(hostile+" QBO", "q@example.com")
	h.MustRun(exitOK, "", "customers", "link", "cus_linked", qid)
	reason := `[{"code":"customer_not_linked","subject":{"kind":"customer","id":"cus_blocks"},"text":"not linked"}]`
	for _, o := range []string{"o1", "o2"} {
		if err := h.store.RecordBlocked(t.Context(), schema.Problem{Key: schema.DocumentKey{Kind: "order", SourceID: o},
			OrderNumber: "N" + o, Reason: "not linked", Reasons: []byte(reason)}); err != nil {
			t.Fatal(err)
		}
	}
	viewer := h.login(t, "viewer")
	ids := regexp.MustCompile(`href="/customers/(cus_[a-z]+)"`)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"cus_h", "cus_linked", "cus_blocks"}},
		{"?filter=unlinked", []string{"cus_h", "cus_blocks"}},
		{"?filter=blocking", []string{"cus_blocks"}},
		{"?q=linked+co", []string{"cus_linked"}},
		{"?q=zzz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := viewer.get(t, "/customers"+tt.query).wantCode(t, http.StatusOK)
			var got []string
			for _, m := range ids.FindAllStringSubmatch(r.Body, -1) {
				got = append(got, m[1])
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("customers: got %v; want %v", got, tt.want)
			}
			if tt.query == "" {
				r.wantEscaped(t, hostile)
				r.wantBody(t, `<span class="badge blocking">2</span>`)
			}
			if tt.want == nil {
				r.wantBody(t, "No customers match")
			}
		})
	}
	// The customer's page escapes both names too.
	viewer.get(t, "/customers/cus_h").wantCode(t, http.StatusOK).wantEscaped(t, hostile)
	viewer.get(t, "/customers/cus_linked").wantCode(t, http.StatusOK).wantEscaped(t, hostile)
	viewer.get(t, "/customers/cus_nope").wantCode(t, http.StatusNotFound)
	// The page names the orders it blocks, each a link to the order.
	viewer.get(t, "/customers/cus_blocks").wantCode(t, http.StatusOK).
		wantBody(t, `<span class="badge blocking">2</span>`, `<a href="/orders/No1">No1</a>, <a href="/orders/No2">No2</a>`)
	// A viewer sees no forms that change anything.
	if r := viewer.get(t, "/customers/cus_linked"); strings.Contains(r.Body, `id="unlink"`) {
		t.Errorf("viewer's page shows the unlink button")
	}
}

func TestConsoleCustomers_SelectorAndLink(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0))
	vc := harborCustomer()
	h.velocity.AddCustomer(vc)
	h.velocity.AddCustomer(velocity.Customer{ID: "cus_other", Number: "C1", Company: "Other", Email: "o@example.com"})
	match := h.qbo.AddCustomer("Harbor Lights", "accounts@harbor.example")
	evil := h.qbo.AddCustomer(hostile+" Harbor", "evil@example.com")
	admin := h.login(t, "admin")

	t.Run("SuggestionWithReason", func(t *testing.T) {
		admin.get(t, "/customers/"+vc.ID).wantCode(t, http.StatusOK).
			wantBody(t, `id="link-suggested-`+match+`"`, "same company name after normalising")
	})
	t.Run("AmbiguousGivesEachCandidate", func(t *testing.T) {
		h.velocity.AddCustomer(velocity.Customer{ID: "cus_amb", Number: "C5", FirstName: "Kim", LastName: "Park", Email: "shared@example.com"})
		a := h.qbo.AddCustomer("Park Holdings", "shared@example.com")
		b := h.qbo.AddCustomer("K. Park Design", "shared@example.com")
		admin.get(t, "/customers/cus_amb").wantCode(t, http.StatusOK).
			wantBody(t, `id="link-suggested-`+a+`"`, `id="link-suggested-`+b+`"`, "same email shared@example.com (one of 2)")
	})
	t.Run("ViewerSeesSuggestionsWithoutButtons", func(t *testing.T) {
		r := h.login(t, "viewer").get(t, "/customers/"+vc.ID).wantCode(t, http.StatusOK).
			wantBody(t, `id="suggestions"`, "same company name after normalising")
		for _, form := range []string{`id="link-suggested-`, `id="qbo-search"`, `id="create"`, `method="post" action="/customers/`} {
			if strings.Contains(r.Body, form) {
				t.Errorf("viewer's page: got %s; want no forms that change anything", form)
			}
		}
	})
	t.Run("SearchFragment", func(t *testing.T) {
		r := admin.getHX(t, "/customers/"+vc.ID+"/search?q=harbor").wantCode(t, http.StatusOK)
		r.wantBody(t, `id="link-`+match+`"`, `id="link-`+evil+`"`)
		r.wantEscaped(t, hostile)
		if strings.Contains(r.Body, "<html") {
			t.Errorf("htmx search: got a whole page; want the results fragment")
		}
	})
	t.Run("SearchAsYouTypeScript", func(t *testing.T) {
		admin.get(t, "/customers/"+vc.ID).wantBody(t, `data-live-search="/customers/`+vc.ID+`/search"`, `<script src="/static/selector.js" defer></script>`)
		admin.get(t, "/static/selector.js").wantCode(t, http.StatusOK).wantBody(t, `"HX-Request": "true"`)
	})
	t.Run("SearchWithoutJavaScript", func(t *testing.T) {
		admin.get(t, "/customers/"+vc.ID+"?q=HARBOR+LIGHTS").wantCode(t, http.StatusOK).
			wantBody(t, `id="link-`+match+`"`, "<html")
		if r := admin.get(t, "/customers/"+vc.ID+"/search?q=x"); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/customers/"+vc.ID+"?") {
			t.Errorf("search without htmx: status %d to %q; want 303 to the page", r.Code, r.Location())
		}
	})
	t.Run("Link", func(t *testing.T) {
		r := admin.post(t, "/customers/"+vc.ID+"/link", url.Values{"qbo_id": {match}}).wantCode(t, http.StatusSeeOther)
		if r.Location() != "/customers/"+vc.ID {
			t.Errorf("link: redirect to %q; want the customer's page", r.Location())
		}
		if l := h.linkOf(t, schema.CustomerLinks, vc.ID); l.QBOID != match || l.Method != schema.LinkManual {
			t.Errorf("link: got %+v; want %s, manual", l, match)
		}
		admin.get(t, "/customers/"+vc.ID).wantBody(t, "Linked to QuickBooks customer Harbor Lights", `id="linked"`)
	})
	t.Run("RefusedAtTheField", func(t *testing.T) {
		admin.post(t, "/customers/cus_other/link", url.Values{"qbo_id": {"999"}}).wantCode(t, http.StatusUnprocessableEntity).
			wantBody(t, "QuickBooks has no customer with id 999")
		admin.post(t, "/customers/cus_other/link", nil).wantCode(t, http.StatusUnprocessableEntity).
			wantBody(t, "Choose a QuickBooks customer")
	})
	t.Run("HeldElsewhereAsksThenMoves", func(t *testing.T) {
		admin.post(t, "/customers/cus_other/link", url.Values{"qbo_id": {match}}).wantCode(t, http.StatusConflict).
			wantBody(t, `id="force-link"`, "is linked to Velocity customer "+vc.ID)
		if l := h.linkOf(t, schema.CustomerLinks, "cus_other"); l.QBOID != "" {
			t.Fatalf("before confirming: cus_other linked %+v; want nothing", l)
		}
		admin.post(t, "/customers/cus_other/link", url.Values{"qbo_id": {match}, "force": {"1"}}).wantCode(t, http.StatusSeeOther)
		if l := h.linkOf(t, schema.CustomerLinks, "cus_other"); l.QBOID != match {
			t.Errorf("forced: cus_other linked %+v; want %s", l, match)
		}
		if l := h.linkOf(t, schema.CustomerLinks, vc.ID); l.QBOID != "" {
			t.Errorf("forced: %s still linked %+v; want the link moved", vc.ID, l)
		}
	})
	t.Run("Unlink", func(t *testing.T) {
		admin.post(t, "/customers/cus_other/unlink", nil).wantCode(t, http.StatusSeeOther)
		if l := h.linkOf(t, schema.CustomerLinks, "cus_other"); l.QBOID != "" {
			t.Errorf("unlinked: got %+v; want none", l)
		}
	})
}

func TestConsoleCustomers_Create(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0))
	vc := harborCustomer()
	h.velocity.AddCustomer(vc)
	dup := velocity.Customer{ID: "cus_dup", Number: "C2", FirstName: "Ana", LastName: "Lima", Email: "ana@example.com"}
	h.velocity.AddCustomer(dup)
	existing := h.qbo.AddCustomer("Ana Lima (QBO)", "ana@example.com")
	admin := h.login(t, "admin")
	before := len(h.qbo.Entities("Customer"))

	t.Run("Creates", func(t *testing.T) {
		admin.post(t, "/customers/"+vc.ID+"/create", nil).wantCode(t, http.StatusSeeOther)
		l := h.linkOf(t, schema.CustomerLinks, vc.ID)
		if l.Method != schema.LinkCreate {
			t.Fatalf("create: link %+v; want method create", l)
		}
		e, ok := h.qbo.Get("Customer", l.QBOID)
		if !ok || e.Raw["DisplayName"] != "Harbor Lights" {
			t.Errorf("create: QBO customer %v; want DisplayName Harbor Lights", e.Raw["DisplayName"])
		}
		admin.post(t, "/customers/"+vc.ID+"/create", nil).wantCode(t, http.StatusSeeOther)
		if n := len(h.qbo.Entities("Customer")); n != before+1 {
			t.Errorf("QBO customers after a second create: got %d; want %d", n, before+1)
		}
	})
	t.Run("BothNamesTaken", func(t *testing.T) {
		taken := velocity.Customer{ID: "cus_taken", Number: "C7", Company: "Taken Co", Email: "t@example.com"}
		h.velocity.AddCustomer(taken)
		h.qbo.AddVendorName("Taken Co")
		h.qbo.AddEmployeeName("Taken Co (C7)")
		admin.post(t, "/customers/cus_taken/create", nil).wantCode(t, http.StatusUnprocessableEntity).
			wantBody(t, "Rename one of them in QuickBooks")
		if l := h.linkOf(t, schema.CustomerLinks, "cus_taken"); l.QBOID != "" {
			t.Errorf("names taken: linked %+v; want nothing", l)
		}
	})
	t.Run("SameEmailOffersToLink", func(t *testing.T) {
		admin.post(t, "/customers/cus_dup/create", nil).wantCode(t, http.StatusConflict).
			wantBody(t, `id="link-existing-`+existing+`"`, `id="create-anyway"`, "same email ana@example.com")
		if l := h.linkOf(t, schema.CustomerLinks, "cus_dup"); l.QBOID != "" {
			t.Errorf("refused create: linked %+v; want nothing", l)
		}
		admin.post(t, "/customers/cus_dup/link", url.Values{"qbo_id": {existing}}).wantCode(t, http.StatusSeeOther)
		if l := h.linkOf(t, schema.CustomerLinks, "cus_dup"); l.QBOID != existing {
			t.Errorf("linked the existing: got %+v; want %s", l, existing)
		}
		if n := len(h.qbo.Entities("Customer")); n != before+1 {
			t.Errorf("QBO customers: got %d; want %d (nothing created)", n, before+1)
		}
	})
}

var confirmRE = regexp.MustCompile(`name="confirm" value="([0-9a-f]+)"`)

func TestConsoleCustomers_Sync(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0))
	vc := harborCustomer()
	h.velocity.AddCustomer(vc)
	h.MustRun(exitOK, "", "customers", "create", vc.ID)
	qid := h.linkOf(t, schema.CustomerLinks, vc.ID).QBOID
	vc.Phone = "+1-555-010-7777"
	h.velocity.AddCustomer(vc)
	admin := h.login(t, "admin")
	path := "/customers/" + vc.ID + "/sync"

	r := admin.get(t, path).wantCode(t, http.StatusOK).wantBody(t, `id="keep-velocity"`, `id="keep-qbo"`, "555-010-7777", "555-010-0900")
	if strings.Contains(r.Body, `id="confirm-sync"`) {
		t.Errorf("before choosing a side: got a confirm button")
	}
	r = admin.get(t, path+"?keep=velocity").wantCode(t, http.StatusOK).wantBody(t, `id="confirm-sync"`, "555-010-7777")
	m := confirmRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no confirm digest on the preview:\n%s", r.Body)
	}
	phone := func() string {
		e, _ := h.qbo.Get("Customer", qid)
		p, _ := e.Raw["PrimaryPhone"].(map[string]any)
		s, _ := p["FreeFormNumber"].(string)
		return s
	}
	t.Run("NoConfirmWritesNothing", func(t *testing.T) {
		admin.post(t, path, url.Values{"keep": {"velocity"}}).wantCode(t, http.StatusUnprocessableEntity)
		if got := phone(); got != "+1-555-010-0900" {
			t.Errorf("QBO phone: got %q; want unchanged", got)
		}
	})
	t.Run("ChangedSinceShown", func(t *testing.T) {
		admin.post(t, path, url.Values{"keep": {"velocity"}, "confirm": {"0000"}}).wantCode(t, http.StatusConflict).
			wantBody(t, "changed since you looked")
		if got := phone(); got != "+1-555-010-0900" {
			t.Errorf("QBO phone: got %q; want unchanged", got)
		}
	})
	t.Run("Confirmed", func(t *testing.T) {
		admin.post(t, path, url.Values{"keep": {"velocity"}, "confirm": {m[1]}}).wantCode(t, http.StatusSeeOther)
		if got := phone(); got != "+1-555-010-7777" {
			t.Errorf("QBO phone: got %q; want Velocity's", got)
		}
		admin.get(t, path+"?keep=velocity").wantBody(t, `id="in-sync"`)
	})
	t.Run("KeepQBOWritesVelocity", func(t *testing.T) {
		vc.Phone = "+1-555-010-1234"
		h.velocity.AddCustomer(vc)
		r := admin.get(t, path+"?keep=qbo").wantCode(t, http.StatusOK)
		m := confirmRE.FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("no confirm digest:\n%s", r.Body)
		}
		admin.post(t, path, url.Values{"keep": {"qbo"}, "confirm": {m[1]}}).wantCode(t, http.StatusSeeOther)
		if got, _ := h.velocity.Customer(vc.ID); got.Phone != "+1-555-010-7777" {
			t.Errorf("Velocity phone: got %q; want QBO's", got.Phone)
		}
	})
	t.Run("Unlinked", func(t *testing.T) {
		h.velocity.AddCustomer(velocity.Customer{ID: "cus_un", Number: "C3", Company: "Un", Email: "u@example.com"})
		if r := admin.get(t, "/customers/cus_un/sync"); r.Code != http.StatusSeeOther {
			t.Errorf("sync of an unlinked customer: status %d; want 303 to its page", r.Code)
		}
	})
}

func TestConsoleCustomers_Paging(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0))
	for i := range listPageSizeForTest + 5 {
		id := fmt.Sprintf("cus_p%03d", i)
		h.velocity.AddCustomer(velocity.Customer{ID: id, Number: id, Company: "Paged " + id, Email: id + "@example.com"})
	}
	viewer := h.login(t, "viewer")
	first := viewer.get(t, "/customers?q=paged").wantCode(t, http.StatusOK).wantBody(t, `id="next-page"`, `href="/customers/cus_p000"`)
	if strings.Contains(first.Body, `href="/customers/cus_p050"`) || strings.Contains(first.Body, `id="prev-page"`) {
		t.Errorf("page 1: got a record of page 2 or a previous link")
	}
	second := viewer.get(t, "/customers?page=2&q=paged").wantCode(t, http.StatusOK).wantBody(t, `href="/customers/cus_p054"`, `id="prev-page"`)
	if strings.Contains(second.Body, `href="/customers/cus_p049"`) || strings.Contains(second.Body, `id="next-page"`) {
		t.Errorf("page 2: got a record of page 1 or a next link")
	}
}

// listPageSizeForTest is the console's list page size.
const listPageSizeForTest = 50

func TestConsoleCustomers_NotConnected(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(2), notConnected())
	admin := h.login(t, "admin")
	id := h.data.Customers[0].ID
	// The list and the page work from Velocity and the ledger alone; what
	// needs QBO says to connect.
	admin.get(t, "/customers").wantCode(t, http.StatusOK).wantBody(t, `href="/customers/`+id+`"`)
	admin.get(t, "/customers/"+id).wantCode(t, http.StatusOK).wantBody(t, "Integrations page")
	admin.getHX(t, "/customers/"+id+"/search?q=a").wantCode(t, http.StatusOK).wantBody(t, "Integrations page")
	admin.post(t, "/customers/"+id+"/link", url.Values{"qbo_id": {"1"}}).wantCode(t, http.StatusServiceUnavailable).wantBody(t, "Integrations page")
	admin.post(t, "/customers/"+id+"/create", nil).wantCode(t, http.StatusServiceUnavailable).wantBody(t, "Integrations page")
	if l := h.linkOf(t, schema.CustomerLinks, id); l.QBOID != "" {
		t.Errorf("not connected: linked %+v; want nothing", l)
	}
}
