package web

// routes is the whole route table. Browser pages and API routes are kept
// apart: everything under /api/ speaks JSON and problem+json, everything
// else renders HTML and is covered by cross-origin protection.
func (s *Server) routes() {
	// Probes and assets.
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.handle("GET /static/{file}", s.static)

	// Pages.
	s.handle("GET /{$}", s.homePage)

	// API.
	s.handle("GET /api/openapi.json", s.openAPI)
}
