// Package console holds the use cases of the staff console: looking people up, staff roles, the first administrator, the outbox, the audit log and the sub-processor registry.
package console

import "github.com/sessionshq/sessions/internal/service"

// Service runs the use cases of the staff console: looking people up, staff roles, the first administrator, the outbox, the audit log and the sub-processor registry.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }
