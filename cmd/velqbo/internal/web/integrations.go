package web

import "net/http"

// routesIntegrations registers the Integrations screen's routes.
func (s *Server) routesIntegrations(mux *http.ServeMux) {
}
