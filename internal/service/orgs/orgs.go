// Package orgs holds the use cases of organisations: their members, roles, invitations, branding and DPA acceptances.
package orgs

import "github.com/sessionshq/sessions/internal/service"

// Service runs the use cases of organisations: their members, roles, invitations, branding and DPA acceptances.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }
