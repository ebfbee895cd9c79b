package web_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/store"
)

// roomMeeting makes a meeting hosted by host, starting tomorrow, and
// returns its id; edit adjusts the input first.
func roomMeeting(t *testing.T, h *harness, host *testMember, edit ...func(*meeting.Input)) string {
	t.Helper()
	in := meeting.Input{
		Title: "Room check", Start: h.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
		TimeZone: "Europe/Bucharest", DurationMinutes: 45,
	}
	for _, e := range edit {
		e(&in)
	}
	m, err := h.Srv.Services.Meetings.Create(context.Background(), host.ID, "", in)
	if err != nil {
		t.Fatalf("create meeting: %v", err)
	}
	return m.ID
}

// roomInvite adds email to the meeting with role and returns the personal
// link's path (/j/...) from the invitation mail.
func roomInvite(t *testing.T, h *harness, host *testMember, meetingID, email string, role meeting.Role) string {
	t.Helper()
	if _, err := h.Srv.Services.Meetings.Invite(context.Background(), host.ID, meetingID, email, string(role)); err != nil {
		t.Fatalf("invite: %v", err)
	}
	msg := h.nextMail(t)
	link := regexp.MustCompile(`https?://sessions\.test(/j/[A-Za-z0-9._~-]+)`).FindStringSubmatch(msg.Text)
	if link == nil {
		t.Fatalf("no personal link in the invitation:\n%s", msg.Text)
	}
	return link[1]
}

// roomAttrs reads the data-* attributes of the page's #room element.
func roomAttrs(t *testing.T, page string) map[string]string {
	t.Helper()
	start := strings.Index(page, `id="room"`)
	if start < 0 {
		t.Fatalf("the page has no #room element:\n%.2000s", page)
	}
	tag := page[start:]
	tag = tag[:strings.Index(tag, ">")]
	attrs := map[string]string{}
	for _, m := range regexp.MustCompile(`data-([a-z-]+)="([^"]*)"`).FindAllStringSubmatch(tag, -1) {
		attrs[m[1]] = html.UnescapeString(m[2])
	}
	return attrs
}

func TestRoomPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	host := h.newMember(t)
	invited := h.newMember(t)
	outsider := h.newMember(t)
	pass := "open sesame"
	id := roomMeeting(t, h, host, func(in *meeting.Input) {
		in.Title = "Quarterly <review>"
		in.Passcode = &pass
	})
	roomInvite(t, h, host, id, invited.Email, meeting.RoleParticipant)
	hostPart, err := store.MeetingParticipants(ctx, h.DB, id)
	if err != nil || len(hostPart) == 0 {
		t.Fatalf("participants: %v", err)
	}
	if _, err := h.Srv.Services.Meetings.AddAgendaItems(ctx, host.ID, id, []meeting.ItemInput{
		{Title: "Numbers", PlannedMinutes: 20, Notes: "Bring the sheet", OwnerParticipantID: hostPart[0].ID},
		{Title: "Questions", PlannedMinutes: 10},
	}); err != nil {
		t.Fatalf("agenda: %v", err)
	}
	path := "/meetings/" + id + "/room"
	api := "/api/meetings/" + id

	t.Run("the host gets the room with moderation", func(t *testing.T) {
		res := h.signIn(t, host).get(t, path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %.500s", res.StatusCode, res.text())
		}
		page := res.text()
		a := roomAttrs(t, page)
		want := map[string]string{
			"meeting-id": id, "join-url": api + "/join", "poll-url": api + "/join",
			"messages-url": api + "/messages", "send-url": api + "/messages",
			"lobby-url": api + "/lobby", "admit-url": api + "/lobby/:pid/admit", "deny-url": api + "/lobby/:pid/deny",
			"lock-url": api + "/lock", "unlock-url": api + "/unlock",
			"remove-url": api + "/participants/:pid/remove", "mute-url": api + "/participants/:pid/mute",
			"end-url": api + "/end", "answered-url": api + "/messages/:mid/answered",
			"locked": "false",
		}
		for k, v := range want {
			if a[k] != v {
				t.Errorf("data-%s = %q, want %q", k, a[k], v)
			}
		}
		for _, s := range []string{
			"Quarterly &lt;review&gt;", // escaped, not markup
			"Numbers", "20 min", "Bring the sheet", "Led by " + host.Name, "Questions",
			`src="/static/meeting.`, `href="/static/meeting.`,
			// The host's tools: lock and lobby, the knock banner, ending the call.
			`id="host-tools"`, `id="knock"`, `id="end-all"`,
		} {
			if !strings.Contains(page, s) {
				t.Errorf("the page lacks %q", s)
			}
		}
		// The host needs no passcode; no inline script is on the page.
		if strings.Contains(page, `id="join-passcode"`) {
			t.Error("the host is asked for the passcode")
		}
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]`).MatchString(page) {
			t.Error("the page has an inline script")
		}
		if got := res.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self';") {
			t.Errorf("CSP %q", got)
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
		}
	})

	t.Run("a participant gets no moderation and is asked the passcode", func(t *testing.T) {
		res := h.signIn(t, invited).get(t, path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		a := roomAttrs(t, res.text())
		if a["join-url"] != api+"/join" {
			t.Errorf("join url %q", a["join-url"])
		}
		for _, k := range []string{"lobby-url", "admit-url", "deny-url", "lock-url", "unlock-url", "remove-url", "mute-url", "end-url", "answered-url"} {
			if a[k] != "" {
				t.Errorf("a participant's page has data-%s = %q", k, a[k])
			}
		}
		// The host's tools are not on the page at all, hidden or not.
		for _, tool := range []string{`id="host-tools"`, `id="lock-toggle"`, `id="knock"`, `id="end-all"`} {
			if strings.Contains(res.text(), tool) {
				t.Errorf("a participant's page has %s", tool)
			}
		}
		if !strings.Contains(res.text(), `id="join-passcode"`) {
			t.Error("no passcode field")
		}
	})

	t.Run("refusals", func(t *testing.T) {
		if res := h.signIn(t, outsider).get(t, path); res.StatusCode != http.StatusForbidden {
			t.Errorf("someone taking no part: %d", res.StatusCode)
		}
		if res := h.signIn(t, host).get(t, "/meetings/mtg_nosuchmeeting/room"); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown meeting: %d", res.StatusCode)
		}
		res := h.anon().get(t, path)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin?next=") {
			t.Errorf("anonymous: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
	})

	t.Run("a guest co-host's link shows the room with the agenda", func(t *testing.T) {
		link := roomInvite(t, h, host, id, "guest.cohost@example.com", meeting.CoHost)
		res := h.anon().get(t, link)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %.500s", res.StatusCode, res.text())
		}
		a := roomAttrs(t, res.text())
		if !strings.HasPrefix(a["join-url"], "/api/join/") {
			t.Errorf("guest join url %q", a["join-url"])
		}
		if !strings.Contains(res.text(), "Bring the sheet") {
			t.Error("the guest's room has no agenda")
		}
	})

	t.Run("a cancelled meeting has no room", func(t *testing.T) {
		if _, err := h.Srv.Services.Meetings.Cancel(ctx, host.ID, id); err != nil {
			t.Fatal(err)
		}
		if res := h.signIn(t, host).get(t, path); res.StatusCode != http.StatusConflict {
			t.Errorf("cancelled: %d", res.StatusCode)
		}
	})
}
