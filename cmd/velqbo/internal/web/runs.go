package web

import "net/http"

// routesRuns registers the Runs screen's routes.
func (s *Server) routesRuns(mux *http.ServeMux) {
}
