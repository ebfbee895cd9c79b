package web

import (
	"context"
	"net/http"
	"time"
)

// healthz says the process is alive; it touches nothing else.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSONNoStore(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says the process can serve: the database answers and it is not
// draining before shutdown. While it drains every other route still
// works; only load balancers are told to send requests elsewhere.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	if s.Draining() {
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Services.Env.Ready(ctx); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
