package web

import "net/http"

// routesProducts registers the Products screen's routes.
func (s *Server) routesProducts(mux *http.ServeMux) {
}
