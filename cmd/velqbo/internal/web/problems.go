package web

import "net/http"

// routesProblems registers the Problems screen's routes.
func (s *Server) routesProblems(mux *http.ServeMux) {
}
