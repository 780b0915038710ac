package web

import "net/http"

// routesProducts registers the Products screen's routes: the list, a
// product's page with the QBO item selector and suggestions, link and
// unlink, on the handlers the Customers screen uses (linkScreen).
func (s *Server) routesProducts(mux *http.ServeMux) {
	p := productsScreen
	mux.Handle("GET /products", s.viewer(s.linkList(p)))
	mux.Handle("GET /products/{id}", s.viewer(s.linkRecord(p)))
	mux.Handle("GET /products/{id}/search", s.viewer(s.linkSearch(p)))
	mux.Handle("POST /products/{id}/link", s.admin(s.linkSubmit(p)))
	mux.Handle("POST /products/{id}/unlink", s.admin(s.unlinkSubmit(p)))
}
