package web

import "net/http"

// routesOrders registers the Orders screen's routes.
func (s *Server) routesOrders(mux *http.ServeMux) {
}
