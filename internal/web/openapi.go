package web

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every route under /api/. A test fails when a
// registered API route is missing from it.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDocument)
	return err
}
