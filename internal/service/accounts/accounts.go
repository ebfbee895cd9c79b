// Package accounts holds the use cases of accounts: sign-up, sign-in, e-mailed links, security settings, the profile and its picture, guardians, deactivation and API tokens.
package accounts

import "github.com/sessionshq/sessions/internal/service"

// Service runs the use cases of accounts: sign-up, sign-in, e-mailed links, security settings, the profile and its picture, guardians, deactivation and API tokens.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }
