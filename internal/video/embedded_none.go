//go:build nosfu

package video

import (
	"context"
	"errors"
	"log/slog"

	"github.com/sessionshq/sessions/internal/platform/clock"
)

// HasEmbedded reports whether this build carries the embedded SFU.
const HasEmbedded = false

// StartEmbedded refuses: this binary was built with -tags nosfu, without
// LiveKit's server, and calls need an external one (SESSIONS_LIVEKIT_URL).
func StartEmbedded(context.Context, EmbeddedConfig, clock.Clock, *slog.Logger) (*SFU, error) {
	return nil, errors.New("video: this build has no embedded SFU (built with -tags nosfu); set SESSIONS_LIVEKIT_URL, SESSIONS_LIVEKIT_API_KEY and SESSIONS_LIVEKIT_API_SECRET to use an external LiveKit")
}
