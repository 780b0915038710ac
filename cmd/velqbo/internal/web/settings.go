package web

import "net/http"

// routesSettings registers the Settings screen's routes.
func (s *Server) routesSettings(mux *http.ServeMux) {
}
