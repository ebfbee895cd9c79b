// Package calls holds the use cases of video calls: the door, the lobby, moderation, chat and questions, and the video server's events.
package calls

import "github.com/sessionshq/sessions/internal/service"

// Service runs the use cases of video calls: the door, the lobby, moderation, chat and questions, and the video server's events.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }
