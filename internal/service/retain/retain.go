// Package retain holds the use cases of retention: the periodic enforcement of the data map's retention rules, dry runs and legal holds.
package retain

import "github.com/sessionshq/sessions/internal/service"

// Service runs the use cases of retention: the periodic enforcement of the data map's retention rules, dry runs and legal holds.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }
