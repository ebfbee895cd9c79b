// Package campaigns holds the use cases of marketing: preferences per channel, objections, unsubscribe and the sending of campaigns.
package campaigns

import "github.com/sessionshq/sessions/internal/service"

// Service runs the use cases of marketing: preferences per channel, objections, unsubscribe and the sending of campaigns.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }
