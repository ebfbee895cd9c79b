// Package meetings holds the use cases of meetings: scheduling, participants and their invitations, the agenda and its templates, and shared files and links.
package meetings

import "github.com/sessionshq/sessions/internal/service"

// Service runs the use cases of meetings: scheduling, participants and their invitations, the agenda and its templates, and shared files and links.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }
