package web

// routes is the whole route table. Browser pages and API routes are kept
// apart: everything under /api/ speaks JSON and problem+json, everything
// else renders HTML and is covered by cross-origin protection. Staff
// routes are wrapped in s.operator.
func (s *Server) routes() {
	// Probes and assets.
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.handle("GET /static/{file}", s.static)

	// Shell pages.
	s.handle("GET /{$}", s.homePage)

	// Privacy centre, data map and sub-processors.

	// Mail outbox.

	// Audit log.

	// API description.
	s.handle("GET /api/openapi.json", s.openAPI)
}
