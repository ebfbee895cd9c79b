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
	s.handle("GET /account", s.accountPage)
	s.handle("GET /admin", s.operator(s.adminPage))

	// Privacy centre, data map and sub-processors.
	s.handle("GET /privacy", s.privacyPage)
	s.handle("GET /privacy/subprocessors", s.subprocessorsPage)
	s.handle("GET /privacy/record", s.recordPage)
	s.handle("GET /api/subprocessors", s.subprocessorsAPI)
	s.handle("GET /api/datamap", s.datamapAPI)
	s.handle("GET /admin/subprocessors", s.operator(s.adminSubprocessorsPage))
	s.handle("POST /admin/subprocessors/{id}", s.operator(s.adminSubprocessorPost))
	s.handle("GET /api/admin/subprocessors", s.operator(s.adminSubprocessorsAPI))
	s.handle("PUT /api/admin/subprocessors/{id}", s.operator(s.adminSubprocessorPut))

	// Mail outbox.
	s.handle("GET /admin/outbox", s.operator(s.outboxPage))
	s.handle("GET /admin/outbox/{id}", s.operator(s.outboxMessagePage))
	s.handle("POST /admin/outbox/{id}/retry", s.operator(s.outboxRetryForm))
	s.handle("GET /api/admin/outbox", s.operator(s.apiOutboxList))
	s.handle("GET /api/admin/outbox/{id}", s.operator(s.apiOutboxGet))
	s.handle("POST /api/admin/outbox/{id}/retry", s.operator(s.apiOutboxRetry))

	// Audit log.
	s.handle("GET /admin/audit", s.operator(s.auditPage))
	s.handle("GET /api/admin/audit/verify", s.operator(s.auditVerify))

	// API description.
	s.handle("GET /api/openapi.json", s.openAPI)
}
