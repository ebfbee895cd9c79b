// Package consents holds the use cases of consent: the cookie tool, the consent ledger, restriction, the purpose gate's inputs and first-party analytics.
package consents

import "github.com/sessionshq/sessions/internal/service"

// Service runs the use cases of consent: the cookie tool, the consent ledger, restriction, the purpose gate's inputs and first-party analytics.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }
