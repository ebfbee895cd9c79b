package meeting

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/mail"
)

// TestMailLinksTheHostItNames checks that every message about a meeting
// to one of its participants is linked to the host it names as organiser,
// so that the host's erasure finds it.
func TestMailLinksTheHostItNames(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC)
	m := Meeting{ID: "mtg_1", HostID: "acc_host", Title: "Planning", State: Scheduled,
		Schedule: Schedule{StartsAt: now.Add(24 * time.Hour), TimeZone: "UTC", DurationMinutes: 30}}
	in := Invitation{Meeting: m, Organiser: CalendarPerson{Name: "Hannah Host", Email: "host@example.com"},
		To: CalendarPerson{Email: "guest@example.com"}, Link: "https://sessions.example/j/token", Domain: "sessions.example", Now: now}
	for name, msg := range map[string]mail.Message{
		"invitation": InvitationMail(in, false), "update": InvitationMail(in, true), "cancellation": CancellationMail(in),
	} {
		if !strings.Contains(string(msg.Attachments[0].Data), "host@example.com") {
			t.Fatalf("the %s's calendar file does not name the host; the test proves nothing", name)
		}
		if msg.AboutID != "acc_host" {
			t.Errorf("the %s names the host but is linked to %q", name, msg.AboutID)
		}
	}
}
