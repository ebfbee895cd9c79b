// Package notices holds the use cases of the privacy notice: publishing versions, telling members of significant changes and their acknowledgements.
package notices

import "github.com/sessionshq/sessions/internal/service"

// Service runs the use cases of the privacy notice: publishing versions, telling members of significant changes and their acknowledgements.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }
