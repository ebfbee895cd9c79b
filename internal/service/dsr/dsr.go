// Package dsr holds the use cases of data-subject rights: requests and their workflow, exports, direct transfers, erasure and the notices to recipients.
package dsr

import "github.com/sessionshq/sessions/internal/service"

// Service runs the use cases of data-subject rights: requests and their workflow, exports, direct transfers, erasure and the notices to recipients.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }
