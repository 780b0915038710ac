package web

import "net/http"

// routesCustomers registers the Customers screen's routes.
func (s *Server) routesCustomers(mux *http.ServeMux) {
}
