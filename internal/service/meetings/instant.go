package meetings

import (
	"context"
	"time"

	"github.com/sessionshq/sessions/internal/meeting"
)

// InstantMinutes is how long an instant meeting is booked for; the call
// itself may run past it.
const InstantMinutes = 60

// StartNow creates a meeting hosted by the member that starts at the
// server's time, for an hour, in the member's time zone (UTC when they
// have none), so its call can be joined at once. The title may be "".
func (s *Service) StartNow(ctx context.Context, accountID, title string, loc *time.Location) (meeting.Meeting, error) {
	if title == "" {
		title = "Instant meeting"
	}
	if loc == nil {
		loc = time.UTC
	}
	now := s.env.Clock.Now().Truncate(time.Minute)
	return s.Create(ctx, accountID, "", meeting.Input{
		Title: title, Start: now.UTC().Format(time.RFC3339), TimeZone: loc.String(), DurationMinutes: InstantMinutes,
	})
}
