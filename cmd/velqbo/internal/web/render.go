package web

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/reconcile"
)

// Page is what every template executes on: templates read the page's own
// values as .Data.X.
type Page struct {
	Title string
	User  *User
	// CSRF is the session's form token ({{template "csrf" .}} puts it in
	// a form).
	CSRF  string
	Flash string
	// Path is the request's path, so the nav can mark the current screen.
	Path string
	Data any
}

// FieldErrors are a form's errors by field name; a form re-renders with
// them next to each field.
type FieldErrors map[string]string

// Any reports whether there is at least one error.
func (fe FieldErrors) Any() bool { return len(fe) > 0 }

// parseTemplates parses layout.html and the partials (_*.html) once, and
// each page on a clone of them, keyed by the page's file name.
func (s *Server) parseTemplates() (map[string]*template.Template, error) {
	base := template.New("layout.html").Funcs(s.funcs())
	base, err := base.ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	if partials, _ := fs.Glob(templateFS, "templates/_*.html"); len(partials) > 0 {
		if base, err = base.ParseFS(templateFS, partials...); err != nil {
			return nil, fmt.Errorf("web: parse partials: %w", err)
		}
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := path.Base(n)
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t, err = t.ParseFS(templateFS, n); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes the page template name in the layout, with status, on
// data wrapped in a Page. A template error is logged and answered with
// 500 (nothing half-written reaches the browser).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.execute(w, r, status, name, "layout", data)
}

// renderFragment writes the template called fragment, defined in the page
// template name, without the layout: the answer to an htmx request that
// swaps part of a page. It too executes on a Page.
func (s *Server) renderFragment(w http.ResponseWriter, r *http.Request, status int, name, fragment string, data any) {
	s.execute(w, r, status, name, fragment, data)
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.log.WithField("template", name).Error("console: no such template")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p := s.page(w, r, data)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, p); err != nil {
		s.log.WithError(err).WithField("template", name).Error("console: render")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// page wraps data for the templates, taking the flash message out of its
// cookie (it is shown once).
func (s *Server) page(w http.ResponseWriter, r *http.Request, data any) Page {
	p := Page{Data: data, Path: r.URL.Path}
	if sess := sessionFrom(r.Context()); sess != nil {
		p.User = &sess.User
		p.CSRF = sess.CSRF
	}
	if c, err := r.Cookie(flashCookie); err == nil {
		if b, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			p.Flash = string(b)
		}
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
	}
	return p
}

const flashCookie = "velqbo_flash"

// redirect answers a form post with 303 See Other to to, and shows flash
// (when not empty) on the next page rendered.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(flash)),
			Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// errorPage renders error.html with a message that says what happened.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error.html", errorData{Status: status, StatusText: http.StatusText(status), Message: msg})
}

type errorData struct {
	Status     int
	StatusText string
	Message    string
}

// funcs are the template functions every page may use.
func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		"money":    formatMoney,
		"date":     func(t any) string { return s.formatTime(t, "2 Jan 2006") },
		"datetime": func(t any) string { return s.formatTime(t, "2 Jan 2006 15:04 MST") },
		"qboURL":   s.qboURL,
		// source names the store orders come from (Config.SourceName).
		"source": func() string { return s.c.SourceName },
		// path escapes an id for one path segment: a source or QBO id
		// may hold "/" or "?", which html/template leaves as they are.
		"path":      url.PathEscape,
		"screens":   func() []screen { return screens },
		"stateName": stateName,
		"hasPrefix": strings.HasPrefix,
	}
}

// screen is one entry of the nav.
type screen struct{ Name, Path string }

// screens are the console's screens, in the nav's order.
var screens = []screen{
	{"Integrations", "/integrations"},
	{"Settings", "/settings"},
	{"Customers", "/customers"},
	{"Products", "/products"},
	{"Orders", "/orders"},
	{"Runs", "/runs"},
	{"Problems", "/problems"},
}

// formatMoney writes an amount with two decimals, thousands separated, and
// its currency code: "1,234.50 USD". amount is a decimal.Decimal (or a
// pointer to one; nil is "—").
func formatMoney(amount any, currency string) string {
	var d decimal.Decimal
	switch v := amount.(type) {
	case decimal.Decimal:
		d = v
	case *decimal.Decimal:
		if v == nil {
			return "—"
		}
		d = *v
	case decimal.NullDecimal:
		if !v.Valid {
			return "—"
		}
		d = v.Decimal
	default:
		return fmt.Sprintf("%v %s", amount, currency)
	}
	s := d.StringFixed(2)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return strings.TrimSpace(sign + b.String() + "." + frac + " " + currency)
}

// formatTime shows t (a time.Time or *time.Time) in the business time
// zone; a zero or nil time is "—".
func (s *Server) formatTime(t any, layout string) string {
	var tt time.Time
	switch v := t.(type) {
	case time.Time:
		tt = v
	case *time.Time:
		if v != nil {
			tt = *v
		}
	default:
		return fmt.Sprint(t)
	}
	if tt.IsZero() {
		return "—"
	}
	return tt.In(s.c.Location).Format(layout)
}

// qboPaths are the QuickBooks web app's pages by record type.
var qboPaths = map[string]string{
	"Invoice":       "invoice?txnId=",
	"SalesReceipt":  "salesreceipt?txnId=",
	"RefundReceipt": "refundreceipt?txnId=",
	"Payment":       "recvpayment?txnId=",
	"CreditMemo":    "creditmemo?txnId=",
	"Customer":      "customerdetail?nameId=",
	"Item":          "items?itemId=",
	"Account":       "register?accountId=",
}

// qboURL is the link that opens the QBO record of type kind (Invoice,
// SalesReceipt, RefundReceipt, Payment, Customer, Item …) with id in
// QuickBooks; unknown kinds open the app's home page.
func (s *Server) qboURL(kind, id string) template.URL {
	p, ok := qboPaths[kind]
	if !ok || id == "" {
		return template.URL(s.c.QBOAppURL + "homepage")
	}
	return template.URL(s.c.QBOAppURL + p + url.QueryEscape(id))
}

// stateName is a problem state in words.
func stateName(s reconcile.ProblemState) string {
	switch s {
	case reconcile.ProblemBlocked:
		return "blocked"
	case reconcile.ProblemFailed:
		return "failed"
	case reconcile.ProblemUnknown:
		return "with an unknown outcome"
	case reconcile.ProblemDeleted:
		return "deleted in QuickBooks"
	case reconcile.ProblemDrift:
		return "changed in QuickBooks"
	}
	return string(s)
}
