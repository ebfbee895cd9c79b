package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"

	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/video"
	"github.com/sessionshq/sessions/internal/video/videotest"
)

// ---- the harness's video server ----

// harnessVideo is the SFU a harness gives its server.
type harnessVideo int

const (
	noVideo harnessVideo = iota
	// emptyVideo mints and verifies with known keys, and its server API
	// answers that nobody is in any call: enough for every rule around
	// calls, and it starts nothing.
	emptyVideo
	// embeddedVideo is a real embedded SFU on free loopback ports, whose
	// webhooks and signalling reach the harness's server through a
	// listener in front of it (harness.URL). It takes a second to start.
	embeddedVideo
)

// The keys every harness SFU signs with, so tests can sign webhooks.
const (
	harnessLiveKitKey    = "APIharness"
	harnessLiveKitSecret = "harness-livekit-secret-of-at-least-32-characters"
)

func (v harnessVideo) start(t testing.TB, clk clock.Clock, log *slog.Logger, srv func() http.Handler) (*video.SFU, string) {
	t.Helper()
	switch v {
	case emptyVideo:
		// LiveKit's server API is Twirp; "not_found" is what it answers
		// for a participant who is not in the call.
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":"not_found","msg":"participant not found"}`))
		}))
		t.Cleanup(api.Close)
		sfu, err := video.Connect(video.ExternalConfig{URL: api.URL, APIKey: harnessLiveKitKey, APISecret: harnessLiveKitSecret}, clk, log)
		if err != nil {
			t.Fatal(err)
		}
		return sfu, ""
	case embeddedVideo:
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if h := srv(); h != nil {
				h.ServeHTTP(w, r)
				return
			}
			http.Error(w, "starting", http.StatusServiceUnavailable) // LiveKit retries
		}))
		t.Cleanup(front.Close)
		var lastErr error
		for range 3 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			sfu, err := video.StartEmbedded(ctx, video.EmbeddedConfig{
				Port: videotest.FreePort(t, "tcp"), UDPPort: videotest.FreePort(t, "udp"),
				APIKey: harnessLiveKitKey, APISecret: harnessLiveKitSecret,
				WebhookURL: front.URL + "/api/livekit/webhook", PublicURL: front.URL,
			}, clk, log)
			cancel()
			if err == nil {
				t.Cleanup(func() {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					_ = sfu.Close(ctx)
				})
				return sfu, front.URL
			}
			lastErr = err
			if !errors.Is(err, syscall.EADDRINUSE) && !strings.Contains(err.Error(), "address already in use") {
				break
			}
		}
		t.Fatalf("harness: embedded SFU: %v", lastErr)
	}
	return nil, ""
}

// ---- meetings to call into ----

// callMeeting is a meeting written straight into its tables, so these
// tests depend on the schema and not on how meetings are made.
type callMeeting struct {
	ID      string
	Host    *testMember
	HostPID string
}

func newCallMeeting(t *testing.T, h *harness) *callMeeting {
	t.Helper()
	return callHostedBy(t, h, h.newMember(t))
}

// callHostedBy makes a meeting hosted by host.
func callHostedBy(t *testing.T, h *harness, host *testMember) *callMeeting {
	t.Helper()
	cm := &callMeeting{ID: meeting.NewID(), Host: host}
	now := h.Clock.Now()
	if _, err := h.DB.Exec(context.Background(), `INSERT INTO meetings (id, host_id, title, starts_at, time_zone, duration_minutes, state, created_at, updated_at)
		VALUES (?, ?, 'Quarterly review', ?, 'Europe/Bucharest', 60, 'scheduled', ?, ?)`, cm.ID, cm.Host.ID, now, now, now); err != nil {
		t.Fatal(err)
	}
	cm.HostPID = cm.add(t, h, cm.Host.ID, nil, meeting.Host)
	return cm
}

func (cm *callMeeting) add(t *testing.T, h *harness, accountID, email any, role meeting.Role) string {
	t.Helper()
	id := meeting.NewParticipantID()
	if _, err := h.DB.Exec(context.Background(), `INSERT INTO meeting_participants (id, meeting_id, account_id, email, role, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, cm.ID, accountID, email, string(role), h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	return id
}

// member adds m to the meeting and returns their participant id.
func (cm *callMeeting) member(t *testing.T, h *harness, m *testMember, role meeting.Role) string {
	t.Helper()
	return cm.add(t, h, m.ID, m.Email, role)
}

// guest invites an address and returns the participant id and the
// personal link's token, as the invitation mail carries it.
func (cm *callMeeting) guest(t *testing.T, h *harness, email string) (string, string) {
	t.Helper()
	id := cm.add(t, h, nil, email, meeting.RoleParticipant)
	exp := h.Clock.Now().Add(30 * 24 * time.Hour)
	token := signed.Make(h.Secret, meeting.InvitePurpose, id, exp)
	if _, err := h.DB.Exec(context.Background(), `UPDATE meeting_participants SET invite_digest = ?, invite_expires_at = ? WHERE id = ?`,
		signed.Digest(token), exp, id); err != nil {
		t.Fatal(err)
	}
	return id, token
}

func (cm *callMeeting) set(t *testing.T, h *harness, assignment string, args ...any) {
	t.Helper()
	if _, err := h.DB.Exec(context.Background(), `UPDATE meetings SET `+assignment+` WHERE id = ?`, append(args, cm.ID)...); err != nil {
		t.Fatal(err)
	}
}

func (cm *callMeeting) passcode(t *testing.T, h *harness, code string) {
	cm.set(t, h, "passcode_hash = ?", meeting.HashPasscode(h.Secret, cm.ID, code))
}

func (cm *callMeeting) path(rest string) string { return "/api/meetings/" + cm.ID + rest }

// ---- for the access matrix ----

// mxCall is a meeting the matrix cell's caller hosts, with a guest whose
// lobby state is state ("" for none yet).
func mxCall(t *testing.T, e *matrixEnv, state string) (cm *callMeeting, guestPID, guestToken string) {
	t.Helper()
	cm = callHostedBy(t, e.h, e.self)
	guestPID, guestToken = cm.guest(t, e.h, "guest."+e.self.Email)
	if state != "" {
		if _, err := e.h.DB.Exec(context.Background(), `UPDATE meeting_participants SET name = 'Matrix Guest', lobby_state = ? WHERE id = ?`, state, guestPID); err != nil {
			t.Fatal(err)
		}
	}
	return cm, guestPID, guestToken
}

// mxQuestion stores a question in the meeting and returns its id.
func mxQuestion(t *testing.T, e *matrixEnv, cm *callMeeting) string {
	t.Helper()
	msg, err := store.AddMessage(context.Background(), e.h.DB, meeting.Message{
		ID: meeting.NewMessageID(), MeetingID: cm.ID, ParticipantID: cm.HostPID, AuthorName: "Host", Kind: meeting.Question, Body: "Why?", CreatedAt: e.h.Clock.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return msg.ID
}

func lobbyState(t *testing.T, h *harness, pid string) string {
	t.Helper()
	var s *string
	if err := h.DB.QueryRow(context.Background(), `SELECT lobby_state FROM meeting_participants WHERE id = ?`, pid).Scan(&s); err != nil {
		t.Fatal(err)
	}
	if s == nil {
		return ""
	}
	return *s
}

// joinAnswer is the body of a join answer.
type joinAnswer struct {
	State    string `json:"state"`
	Token    string `json:"token"`
	URL      string `json:"url"`
	Identity string `json:"identity"`
	Room     string `json:"room"`
	Role     string `json:"role"`
}

// expectJoin checks a join answer's status and, for 200, that its token
// is LiveKit's for this person in this meeting with the role's powers.
func expectJoin(t *testing.T, h *harness, res *response, status int, room, identity, role string) joinAnswer {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, res.Body)
	}
	var a joinAnswer
	if status == http.StatusOK || status == http.StatusAccepted {
		res.decode(t, &a)
	}
	if status != http.StatusOK {
		if strings.Contains(res.text(), `"token"`) {
			t.Fatalf("a %d answer carries a token: %s", status, res.Body)
		}
		return a
	}
	if a.State != "admitted" || a.Room != room || a.Identity != identity || a.Role != role || a.URL != h.Video.URL() {
		t.Fatalf("join answer %+v", a)
	}
	v, err := auth.ParseAPIToken(a.Token)
	if err != nil {
		t.Fatal(err)
	}
	_, grants, err := v.Verify(harnessLiveKitSecret)
	if err != nil {
		t.Fatalf("the token does not verify with the SFU's secret: %v", err)
	}
	if grants.Identity != identity || grants.Video == nil || grants.Video.Room != room || !grants.Video.RoomJoin {
		t.Fatalf("token grants %+v %+v", grants, grants.Video)
	}
	if grants.Video.RoomAdmin {
		t.Fatalf("a %s's token has roomAdmin, which opens LiveKit's server API past our moderation rules", role)
	}
	return a
}

func postJSON(t *testing.T, c *client, path string, v any) *response {
	t.Helper()
	return c.sendJSON(t, http.MethodPost, path, v)
}

// ---- joining as a member ----

func TestJoinAsMember(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	cm := newCallMeeting(t, h)
	ada := h.newMember(t)
	adaPID := cm.member(t, h, ada, meeting.RoleParticipant)
	ben := h.newMember(t)
	benPID := cm.member(t, h, ben, meeting.CoHost)

	expectJoin(t, h, postJSON(t, h.apiClient(t, cm.Host), cm.path("/join"), map[string]string{}), 200, cm.ID, cm.HostPID, "host")
	expectJoin(t, h, postJSON(t, h.apiClient(t, ada), cm.path("/join"), nil), 200, cm.ID, adaPID, "participant")
	expectJoin(t, h, postJSON(t, h.apiClient(t, ben), cm.path("/join"), nil), 200, cm.ID, benPID, "co-host")
	// Polling gives a fresh token to someone through the door.
	expectJoin(t, h, h.apiClient(t, ada).get(t, cm.path("/join")), 200, cm.ID, adaPID, "participant")

	// The room page's script posts with the session cookie, same-origin.
	browser := h.signIn(t, ada)
	sameOrigin := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Content-Type": {"application/json"}}
	expectJoin(t, h, browser.do(t, http.MethodPost, cm.path("/join"), strings.NewReader(`{}`), sameOrigin), 200, cm.ID, adaPID, "participant")
	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/json"}}
	expectJoin(t, h, browser.do(t, http.MethodPost, cm.path("/join"), strings.NewReader(`{}`), crossSite), 403, "", "", "")

	// A token for another person's meeting, an unknown meeting, no sign-in.
	eve := h.newMember(t)
	expectJoin(t, h, postJSON(t, h.apiClient(t, eve), cm.path("/join"), nil), 403, "", "", "")
	expectJoin(t, h, h.apiClient(t, eve).get(t, cm.path("/join")), 403, "", "", "")
	expectJoin(t, h, postJSON(t, h.apiClient(t, eve), "/api/meetings/mtg_nosuchmeeting/join", nil), 404, "", "", "")
	expectJoin(t, h, postJSON(t, h.anon(), cm.path("/join"), nil), 401, "", "", "")
	// A member who has not asked is told to ask first.
	carl := h.newMember(t)
	cm.member(t, h, carl, meeting.RoleParticipant)
	expectJoin(t, h, h.apiClient(t, carl).get(t, cm.path("/join")), 409, "", "", "")
	// Bodies that are not a join request.
	if res := postJSON(t, h.apiClient(t, ada), cm.path("/join"), map[string]any{"passcode": 42}); res.StatusCode != 400 {
		t.Errorf("a number as passcode: %d", res.StatusCode)
	}
	if res := postJSON(t, h.apiClient(t, ada), cm.path("/join"), map[string]string{"passcode": strings.Repeat("x", 20000)}); res.StatusCode != 413 {
		t.Errorf("a huge body: %d", res.StatusCode)
	}

	// A cancelled meeting has no call.
	cm.set(t, h, "state = 'cancelled'")
	expectJoin(t, h, postJSON(t, h.apiClient(t, cm.Host), cm.path("/join"), nil), 409, "", "", "")

	// Without a video server, joining answers 503.
	plain := newHarness(t)
	cm2 := newCallMeeting(t, plain)
	if res := postJSON(t, plain.apiClient(t, cm2.Host), cm2.path("/join"), nil); res.StatusCode != 503 {
		t.Errorf("no video: %d %s", res.StatusCode, res.Body)
	}
}

func TestJoinPasscode(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	cm := newCallMeeting(t, h)
	cm.passcode(t, h, "tulip-42")
	ada := h.newMember(t)
	adaPID := cm.member(t, h, ada, meeting.RoleParticipant)
	api := h.apiClient(t, ada)

	expectJoin(t, h, postJSON(t, api, cm.path("/join"), nil), 403, "", "", "")
	expectJoin(t, h, postJSON(t, api, cm.path("/join"), map[string]string{"passcode": "tulip-41"}), 403, "", "", "")
	if s := lobbyState(t, h, adaPID); s != "" {
		t.Fatalf("a wrong passcode moved her to %q", s)
	}
	expectJoin(t, h, postJSON(t, api, cm.path("/join"), map[string]string{"passcode": " tulip-42 "}), 200, cm.ID, adaPID, "participant")
	// Through the door once, the page need not send it again.
	expectJoin(t, h, postJSON(t, api, cm.path("/join"), nil), 200, cm.ID, adaPID, "participant")
	expectJoin(t, h, api.get(t, cm.path("/join")), 200, cm.ID, adaPID, "participant")
	// The host needs none.
	expectJoin(t, h, postJSON(t, h.apiClient(t, cm.Host), cm.path("/join"), nil), 200, cm.ID, cm.HostPID, "host")

	// Guessing is limited per person and meeting: after five wrong tries
	// even the right passcode waits, and others are not locked out.
	ben := h.newMember(t)
	benPID := cm.member(t, h, ben, meeting.RoleParticipant)
	for i := range 5 {
		expectJoin(t, h, postJSON(t, h.apiClient(t, ben), cm.path("/join"), map[string]string{"passcode": fmt.Sprintf("guess-%d", i)}), 403, "", "", "")
	}
	res := postJSON(t, h.apiClient(t, ben), cm.path("/join"), map[string]string{"passcode": "tulip-42"})
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after five wrong passcodes: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	carl := h.newMember(t)
	carlPID := cm.member(t, h, carl, meeting.RoleParticipant)
	expectJoin(t, h, postJSON(t, h.apiClient(t, carl), cm.path("/join"), map[string]string{"passcode": "tulip-42"}), 200, cm.ID, carlPID, "participant")
	h.Clock.Advance(16 * time.Minute)
	expectJoin(t, h, postJSON(t, h.apiClient(t, ben), cm.path("/join"), map[string]string{"passcode": "tulip-42"}), 200, cm.ID, benPID, "participant")
}

func TestJoinLockedMeeting(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	cm := newCallMeeting(t, h)
	ada := h.newMember(t)
	adaPID := cm.member(t, h, ada, meeting.RoleParticipant)
	coHost := h.newMember(t)
	coPID := cm.member(t, h, coHost, meeting.CoHost)

	// Only hosts and co-hosts lock.
	if res := postJSON(t, h.apiClient(t, ada), cm.path("/lock"), nil); res.StatusCode != 403 {
		t.Fatalf("a participant locked: %d", res.StatusCode)
	}
	if res := postJSON(t, h.apiClient(t, coHost), cm.path("/lock"), nil); res.StatusCode != 200 {
		t.Fatalf("lock: %d %s", res.StatusCode, res.Body)
	}
	expectJoin(t, h, postJSON(t, h.apiClient(t, ada), cm.path("/join"), nil), 403, "", "", "")
	expectJoin(t, h, postJSON(t, h.apiClient(t, coHost), cm.path("/join"), nil), 200, cm.ID, coPID, "co-host")
	expectJoin(t, h, postJSON(t, h.apiClient(t, cm.Host), cm.path("/join"), nil), 200, cm.ID, cm.HostPID, "host")
	if res := postJSON(t, h.apiClient(t, cm.Host), cm.path("/unlock"), nil); res.StatusCode != 200 {
		t.Fatalf("unlock: %d", res.StatusCode)
	}
	expectJoin(t, h, postJSON(t, h.apiClient(t, ada), cm.path("/join"), nil), 200, cm.ID, adaPID, "participant")
	if n := h.count(t, `SELECT COUNT(*) FROM audit_log WHERE action IN ('meeting.lock', 'meeting.unlock')`); n != 2 {
		t.Errorf("%d lock entries in the audit log, want 2", n)
	}
}

// ---- guests and the lobby ----

func TestGuestWaitsInLobbyUntilAdmitted(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	cm := newCallMeeting(t, h)
	host := h.apiClient(t, cm.Host)
	gina, ginaToken := cm.guest(t, h, "gina@example.org")
	guest := h.anon()
	join := "/api/join/" + ginaToken

	expectJoin(t, h, postJSON(t, guest, join, map[string]string{"name": "Gina Gast", "email": "GINA@example.org"}), 202, "", "", "")
	expectJoin(t, h, guest.get(t, join), 202, "", "", "")
	// Waiting guests do not read the chat.
	if res := guest.get(t, join+"/messages"); res.StatusCode != 403 {
		t.Errorf("a waiting guest read the chat: %d", res.StatusCode)
	}

	res := host.get(t, cm.path("/lobby"))
	var raw struct {
		Waiting []map[string]any `json:"waiting"`
	}
	res.decode(t, &raw)
	if len(raw.Waiting) != 1 || raw.Waiting[0]["id"] != gina || raw.Waiting[0]["name"] != "Gina Gast" || raw.Waiting[0]["lobby_state"] != "waiting" {
		t.Fatalf("lobby %s", res.Body)
	}
	if res := h.apiClient(t, h.newMember(t)).get(t, cm.path("/lobby")); res.StatusCode != 403 {
		t.Errorf("a stranger saw the lobby: %d", res.StatusCode)
	}

	if res := postJSON(t, host, cm.path("/lobby/"+gina+"/admit"), nil); res.StatusCode != 200 {
		t.Fatalf("admit: %d %s", res.StatusCode, res.Body)
	}
	a := expectJoin(t, h, guest.get(t, join), 200, cm.ID, gina, "participant")
	v, _ := auth.ParseAPIToken(a.Token)
	if _, grants, _ := v.Verify(harnessLiveKitSecret); grants.Name != "Gina Gast" {
		t.Errorf("the call shows her as %q", grants.Name)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'meeting.admit' AND subject_kind = 'guest'`); n != 1 {
		t.Errorf("%d admit entries", n)
	}

	// Denied: never a token, whatever the guest tries.
	gus, gusToken := cm.guest(t, h, "gus@example.org")
	gusJoin := "/api/join/" + gusToken
	expectJoin(t, h, postJSON(t, h.anon(), gusJoin, map[string]string{"name": "Gus", "email": "gus@example.org"}), 202, "", "", "")
	if res := postJSON(t, host, cm.path("/lobby/"+gus+"/deny"), nil); res.StatusCode != 200 {
		t.Fatalf("deny: %d %s", res.StatusCode, res.Body)
	}
	expectJoin(t, h, h.anon().get(t, gusJoin), 403, "", "", "")
	expectJoin(t, h, postJSON(t, h.anon(), gusJoin, map[string]string{"name": "Gus", "email": "gus@example.org"}), 403, "", "", "")
	if res := h.anon().get(t, "/j/"+gusToken); res.StatusCode != 403 || strings.Contains(res.text(), "data-join-url") {
		t.Errorf("the denied guest's link: %d", res.StatusCode)
	}

	// With the lobby off, guests come straight in.
	cm.set(t, h, "lobby = ?", false)
	tom, tomToken := cm.guest(t, h, "tom@example.org")
	expectJoin(t, h, postJSON(t, h.anon(), "/api/join/"+tomToken, map[string]string{"name": "Tom", "email": "tom@example.org"}), 200, cm.ID, tom, "participant")
}

func TestGuestLinkRefusals(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	cm := newCallMeeting(t, h)
	gina, token := cm.guest(t, h, "gina@example.org")
	body := map[string]string{"name": "Gina", "email": "gina@example.org"}

	forged := signed.Make([]byte("another-secret-of-at-least-32-bytes!!"), meeting.InvitePurpose, gina, h.Clock.Now().Add(time.Hour))
	otherPurpose := signed.Make(h.Secret, "email-verify", gina, h.Clock.Now().Add(time.Hour))
	tampered := token[:len(token)-2] + "xx"
	for name, tok := range map[string]string{"forged": forged, "other purpose": otherPurpose, "tampered": tampered, "garbage": "not-a-token"} {
		for _, res := range []*response{
			postJSON(t, h.anon(), "/api/join/"+url.PathEscape(tok), body),
			h.anon().get(t, "/api/join/"+url.PathEscape(tok)),
			h.anon().get(t, "/api/join/"+url.PathEscape(tok)+"/messages"),
			h.anon().get(t, "/j/"+url.PathEscape(tok)),
		} {
			if res.StatusCode != 404 {
				t.Errorf("%s link, %s %s: %d", name, res.Request.Method, res.Request.URL.Path, res.StatusCode)
			}
		}
	}

	// The address must be the one invited, and a name is needed.
	if res := postJSON(t, h.anon(), "/api/join/"+token, map[string]string{"name": "Gina", "email": "someone@example.org"}); res.StatusCode != 403 {
		t.Errorf("another address: %d", res.StatusCode)
	}
	res := postJSON(t, h.anon(), "/api/join/"+token, map[string]string{"email": "gina@example.org"})
	if res.StatusCode != 422 || res.problemFields(t)["name"] == "" {
		t.Errorf("no name: %d %s", res.StatusCode, res.Body)
	}
	if s := lobbyState(t, h, gina); s != "" {
		t.Fatalf("refused requests moved her to %q", s)
	}

	// A link stops working when it expires.
	h.Clock.Advance(31 * 24 * time.Hour)
	if res := postJSON(t, h.anon(), "/api/join/"+token, body); res.StatusCode != 404 {
		t.Errorf("expired link: %d", res.StatusCode)
	}
	if res := h.anon().get(t, "/j/"+token); res.StatusCode != 404 {
		t.Errorf("expired link page: %d", res.StatusCode)
	}
}

func TestGuestLandingPage(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	cm := newCallMeeting(t, h)
	cm.passcode(t, h, "tulip-42")
	gina, token := cm.guest(t, h, "gina@example.org")
	browser := h.anon()

	page := browser.get(t, "/j/"+token)
	if page.StatusCode != 200 || !strings.Contains(page.text(), "Quarterly review") || !strings.Contains(page.text(), `name="passcode"`) ||
		!strings.Contains(page.text(), `value="gina@example.org"`) || page.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("landing: %d %s", page.StatusCode, page.Header.Get("Referrer-Policy"))
	}
	form := url.Values{"name": {"Gina <b>Gast</b>"}, "email": {"gina@example.org"}, "passcode": {"wrong"}}
	res := browser.postForm(t, "/j/"+token, form)
	if res.StatusCode != 403 || !strings.Contains(res.text(), "passcode is not right") || strings.Contains(res.text(), "<b>Gast") {
		t.Fatalf("wrong passcode: %d", res.StatusCode)
	}
	form.Set("passcode", "tulip-42")
	res = browser.postForm(t, "/j/"+token, form)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/j/"+token {
		t.Fatalf("through the door: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if s := lobbyState(t, h, gina); s != "waiting" {
		t.Fatalf("after the form she is %q", s)
	}
	// Back at the link, the room, wired to the guest's own addresses.
	room := browser.get(t, "/j/"+token)
	if room.StatusCode != 200 || !strings.Contains(room.text(), `data-join-url="/api/join/`+token+`"`) ||
		!strings.Contains(room.text(), `data-messages-url="/api/join/`+token+`/messages"`) || strings.Contains(room.text(), "/lobby") {
		t.Fatalf("room: %d\n%.2000s", room.StatusCode, room.Body)
	}
	// The room's script asks again with an empty body, and waits.
	expectJoin(t, h, postJSON(t, h.anon(), "/api/join/"+token, map[string]string{}), 202, "", "", "")
}

// ---- hosts acting on others ----

func TestModeration(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	cm := newCallMeeting(t, h)
	host := h.apiClient(t, cm.Host)
	ada := h.newMember(t)
	adaPID := cm.member(t, h, ada, meeting.RoleParticipant)
	coHost := h.newMember(t)
	coPID := cm.member(t, h, coHost, meeting.CoHost)
	expectJoin(t, h, postJSON(t, h.apiClient(t, ada), cm.path("/join"), nil), 200, cm.ID, adaPID, "participant")

	cases := []struct {
		who    *client
		path   string
		status int
	}{
		{h.apiClient(t, ada), "/participants/" + coPID + "/remove", 403},
		{h.apiClient(t, ada), "/participants/" + coPID + "/mute", 403},
		{h.apiClient(t, ada), "/lobby/" + coPID + "/deny", 403},
		{h.apiClient(t, coHost), "/participants/" + cm.HostPID + "/remove", 403},
		{host, "/participants/" + cm.HostPID + "/mute", 422},
		{host, "/participants/par_nobody/remove", 404},
		{h.apiClient(t, h.newMember(t)), "/participants/" + adaPID + "/remove", 403},
		// Nobody is in the call on this SFU.
		{host, "/participants/" + adaPID + "/mute", 404},
	}
	for _, c := range cases {
		if res := postJSON(t, c.who, cm.path(c.path), nil); res.StatusCode != c.status {
			t.Errorf("POST %s: %d, want %d: %s", c.path, res.StatusCode, c.status, res.Body)
		}
	}
	if s := lobbyState(t, h, coPID); s != "" {
		t.Fatalf("refused moderation changed the co-host to %q", s)
	}

	// Removing keeps the person out until a host admits them again.
	res := postJSON(t, h.apiClient(t, coHost), cm.path("/participants/"+adaPID+"/remove"), nil)
	if res.StatusCode != 200 {
		t.Fatalf("remove: %d %s", res.StatusCode, res.Body)
	}
	expectJoin(t, h, postJSON(t, h.apiClient(t, ada), cm.path("/join"), nil), 403, "", "", "")
	if res := h.apiClient(t, ada).get(t, cm.path("/messages")); res.StatusCode != 403 {
		t.Errorf("a removed member reads the chat: %d", res.StatusCode)
	}
	postJSON(t, host, cm.path("/lobby/"+adaPID+"/admit"), nil)
	expectJoin(t, h, postJSON(t, h.apiClient(t, ada), cm.path("/join"), nil), 200, cm.ID, adaPID, "participant")
	if n := h.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'meeting.remove' AND subject_kind = 'member' AND subject_id = ?`, ada.ID); n != 1 {
		t.Errorf("%d remove entries naming her", n)
	}
}

// TestEndCallForEveryone: a host ends the call; it is audited, and the
// door is reset, so an admitted guest waits in the lobby again. Nobody
// else may end it.
func TestEndCallForEveryone(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	cm := newCallMeeting(t, h)
	host := h.apiClient(t, cm.Host)
	ada := h.newMember(t)
	cm.member(t, h, ada, meeting.RoleParticipant)
	gina, token := cm.guest(t, h, "gina@example.org")
	join := "/api/join/" + token
	expectJoin(t, h, postJSON(t, h.anon(), join, map[string]string{"name": "Gina", "email": "gina@example.org"}), 202, "", "", "")
	if res := postJSON(t, host, cm.path("/lobby/"+gina+"/admit"), nil); res.StatusCode != 200 {
		t.Fatalf("admit: %d %s", res.StatusCode, res.Body)
	}
	expectJoin(t, h, h.anon().get(t, join), 200, cm.ID, gina, "participant")

	for name, c := range map[string]*client{"a participant": h.apiClient(t, ada), "a stranger": h.apiClient(t, h.newMember(t))} {
		if res := postJSON(t, c, cm.path("/end"), nil); res.StatusCode != 403 {
			t.Errorf("%s ends the call: %d %s", name, res.StatusCode, res.Body)
		}
	}
	if res := postJSON(t, h.anon(), join+"/end", nil); res.StatusCode/100 == 2 {
		t.Errorf("a guest's link ends the call: %d", res.StatusCode)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'meeting.end_call'`); n != 0 {
		t.Fatalf("%d end entries after refusals", n)
	}

	res := postJSON(t, host, cm.path("/end"), nil)
	if res.StatusCode != 200 {
		t.Fatalf("end: %d %s", res.StatusCode, res.Body)
	}
	var out map[string]bool
	res.decode(t, &out)
	// Nobody is connected on this SFU: the call is over all the same.
	if !out["ended"] || out["disconnected"] {
		t.Errorf("end answered %s", res.Body)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'meeting.end_call' AND subject_id = ?`, cm.ID); n != 1 {
		t.Errorf("%d end entries", n)
	}
	// The guest's page asks again, and waits for a host again.
	expectJoin(t, h, h.anon().get(t, join), 409, "", "", "")
	expectJoin(t, h, postJSON(t, h.anon(), join, nil), 202, "", "", "")
	if res := postJSON(t, host, cm.path("/end"), nil); res.StatusCode != 200 {
		t.Errorf("ending an ended call: %d %s", res.StatusCode, res.Body)
	}
}

// ---- chat and questions ----

func TestChatAndQuestions(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	cm := newCallMeeting(t, h)
	cm.set(t, h, "lobby = ?", false)
	host := h.apiClient(t, cm.Host)
	ada := h.newMember(t)
	cm.member(t, h, ada, meeting.RoleParticipant)
	adaAPI := h.apiClient(t, ada)
	_, token := cm.guest(t, h, "gina@example.org")
	guest := h.anon()

	// Only people let in to the call take part in its chat.
	if res := postJSON(t, adaAPI, cm.path("/messages"), map[string]string{"body": "hello"}); res.StatusCode != 403 {
		t.Fatalf("before joining: %d", res.StatusCode)
	}
	postJSON(t, adaAPI, cm.path("/join"), nil)
	postJSON(t, guest, "/api/join/"+token, map[string]string{"name": "Gina", "email": "gina@example.org"})

	res := postJSON(t, adaAPI, cm.path("/messages"), map[string]string{"body": "  hello all  "})
	if res.StatusCode != 201 {
		t.Fatalf("post: %d %s", res.StatusCode, res.Body)
	}
	var m1 map[string]any
	res.decode(t, &m1)
	if m1["author_name"] != ada.Name || m1["body"] != "hello all" || m1["kind"] != "chat" {
		t.Fatalf("message %s", res.Body)
	}
	res = postJSON(t, guest, "/api/join/"+token+"/messages", map[string]string{"kind": "question", "body": "When is the next one?"})
	if res.StatusCode != 201 {
		t.Fatalf("guest post: %d %s", res.StatusCode, res.Body)
	}
	var q map[string]any
	res.decode(t, &q)

	type page struct {
		Messages []map[string]any `json:"messages"`
		Next     string           `json:"next"`
	}
	var all page
	host.get(t, cm.path("/messages")).decode(t, &all)
	if len(all.Messages) != 2 || all.Messages[1]["author_name"] != "Gina" || all.Messages[1]["kind"] != "question" || all.Next != "2" {
		t.Fatalf("host reads %+v", all)
	}
	var none page
	guest.get(t, "/api/join/"+token+"/messages?since="+all.Next).decode(t, &none)
	if len(none.Messages) != 0 || none.Next != "2" {
		t.Fatalf("nothing new: %+v", none)
	}

	// Questions are marked answered by hosts only.
	if res := postJSON(t, adaAPI, cm.path("/messages/"+q["id"].(string)+"/answered"), nil); res.StatusCode != 403 {
		t.Errorf("a participant answered: %d", res.StatusCode)
	}
	if res := postJSON(t, host, cm.path("/messages/"+q["id"].(string)+"/answered"), nil); res.StatusCode != 200 {
		t.Errorf("answer: %d %s", res.StatusCode, res.Body)
	}
	if res := postJSON(t, host, cm.path("/messages/"+m1["id"].(string)+"/answered"), nil); res.StatusCode != 404 {
		t.Errorf("answering a chat message: %d", res.StatusCode)
	}

	// Bad input.
	for _, c := range []struct {
		body   any
		status int
	}{
		{map[string]string{"body": ""}, 422},
		{map[string]string{"body": strings.Repeat("é", meeting.MaxMessageRunes+1)}, 422},
		{map[string]string{"body": "x", "kind": "poll"}, 422},
		{map[string]string{"body": strings.Repeat("x", 20000)}, 413},
		{map[string]any{"body": 7}, 400},
	} {
		if res := postJSON(t, adaAPI, cm.path("/messages"), c.body); res.StatusCode != c.status {
			t.Errorf("%.40v: %d, want %d", c.body, res.StatusCode, c.status)
		}
	}
	if res := host.get(t, cm.path("/messages?since=-1")); res.StatusCode != 422 {
		t.Errorf("since=-1: %d", res.StatusCode)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM meeting_messages WHERE meeting_id = ?`, cm.ID); n != 2 {
		t.Errorf("%d messages stored, want 2", n)
	}
	if strings.Contains(h.Logs.String(), "When is the next one") || strings.Contains(h.Logs.String(), "gina@example.org") {
		t.Error("a log line carries a message or an address")
	}
}

// ---- the video server's webhooks ----

// signWebhook signs body as LiveKit does: a JWT with the body's SHA-256.
func signWebhook(t *testing.T, body []byte, key, secret string) string {
	t.Helper()
	sum := sha256.Sum256(body)
	tok, err := auth.NewAccessToken(key, secret).SetValidFor(time.Minute).SetSha256(base64.StdEncoding.EncodeToString(sum[:])).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func webhookBody(t *testing.T, id, event, room, identity, sid string, at time.Time) []byte {
	t.Helper()
	ev := map[string]any{"event": event, "id": id, "createdAt": at.Unix(), "room": map[string]any{"name": room}}
	if identity != "" {
		ev["participant"] = map[string]any{"identity": identity, "sid": sid, "name": "Name Not Kept"}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func postWebhook(t *testing.T, h *harness, body []byte, authz string) int {
	t.Helper()
	header := http.Header{"Content-Type": {"application/webhook+json"}}
	if authz != "" {
		header.Set("Authorization", authz)
	}
	return h.anon().do(t, http.MethodPost, "/api/livekit/webhook", bytes.NewReader(body), header).StatusCode
}

func TestWebhookDrivesAttendance(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	cm := newCallMeeting(t, h)
	ada := h.newMember(t)
	adaPID := cm.member(t, h, ada, meeting.RoleParticipant)
	t0 := h.Clock.Now().Truncate(time.Second)
	// Ada came through the door: the webhooks hold her to it.
	expectJoin(t, h, postJSON(t, h.apiClient(t, ada), cm.path("/join"), nil), 200, cm.ID, adaPID, "participant")

	send := func(body []byte) int {
		return postWebhook(t, h, body, signWebhook(t, body, harnessLiveKitKey, harnessLiveKitSecret))
	}
	joined := webhookBody(t, "EV_a1", "participant_joined", cm.ID, adaPID, "PA_a1", t0.Add(time.Second))

	// Unsigned, signed with another secret, signed for another body.
	if st := postWebhook(t, h, joined, ""); st != 401 {
		t.Errorf("unsigned: %d", st)
	}
	if st := postWebhook(t, h, joined, signWebhook(t, joined, harnessLiveKitKey, "another-secret-that-is-long-enough-to-pass")); st != 401 {
		t.Errorf("wrong secret: %d", st)
	}
	if st := postWebhook(t, h, joined, signWebhook(t, []byte(`{}`), harnessLiveKitKey, harnessLiveKitSecret)); st != 401 {
		t.Errorf("another body's signature: %d", st)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM meeting_attendance`); n != 0 {
		t.Fatalf("refused webhooks recorded %d visits", n)
	}

	for _, b := range [][]byte{
		webhookBody(t, "EV_r1", "room_started", cm.ID, "", "", t0),
		webhookBody(t, "EV_h1", "participant_joined", cm.ID, cm.HostPID, "PA_h1", t0),
		joined, joined, // LiveKit retried
		webhookBody(t, "EV_a2", "participant_left", cm.ID, adaPID, "PA_a1", t0.Add(90*time.Second)),
		webhookBody(t, "EV_t1", "track_published", cm.ID, adaPID, "PA_a1", t0.Add(2*time.Second)),
	} {
		if st := send(b); st != 204 {
			t.Fatalf("signed webhook: %d", st)
		}
	}
	if n := h.count(t, `SELECT COUNT(*) FROM meeting_attendance`); n != 2 {
		t.Errorf("%d visits, want 2", n)
	}

	var got struct {
		Live       map[string]any   `json:"live"`
		Attendance []map[string]any `json:"attendance"`
	}
	res := h.apiClient(t, cm.Host).get(t, cm.path("/attendance"))
	res.decode(t, &got)
	if got.Live["running"] != true || len(got.Attendance) != 2 {
		t.Fatalf("attendance %s", res.Body)
	}
	a := got.Attendance[1]
	if a["participant_id"] != adaPID || a["name"] != ada.Name || a["joined_at"] != t0.Add(time.Second).Format(time.RFC3339) ||
		a["left_at"] != t0.Add(90*time.Second).Format(time.RFC3339) {
		t.Errorf("her visit %v", a)
	}
	if res := h.apiClient(t, ada).get(t, cm.path("/attendance")); res.StatusCode != 403 {
		t.Errorf("a participant read the attendance: %d", res.StatusCode)
	}
	var live map[string]any
	h.apiClient(t, ada).get(t, cm.path("/live")).decode(t, &live)
	if live["running"] != true {
		t.Errorf("live %v", live)
	}
	if strings.Contains(h.Logs.String(), "Name Not Kept") {
		t.Error("the name LiveKit sends reached a log line")
	}
}

// TestEmbeddedSFUServesTheRoutes runs a real embedded SFU behind the
// harness: its signalling is served on our origin, and moderation reaches
// its server API.
func TestEmbeddedSFUServesTheRoutes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts an SFU")
	}
	h := newHarnessOpts(t, harnessOptions{Video: embeddedVideo})
	cm := newCallMeeting(t, h)
	ada := h.newMember(t)
	adaPID := cm.member(t, h, ada, meeting.RoleParticipant)
	a := expectJoin(t, h, postJSON(t, h.apiClient(t, ada), cm.path("/join"), nil), 200, cm.ID, adaPID, "participant")
	if !strings.HasPrefix(a.URL, "ws://"+strings.TrimPrefix(h.URL, "http://")) {
		t.Fatalf("clients are sent to %s, not our origin %s", a.URL, h.URL)
	}
	// LiveKit's own answer to a validation request, through our origin.
	resp, err := http.Get(h.URL + "/rtc/validate?access_token=" + url.QueryEscape(a.Token))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/rtc/validate through our origin: %d", resp.StatusCode)
	}
	// Nobody is connected: muting finds no one, removing still keeps her out.
	if res := postJSON(t, h.apiClient(t, cm.Host), cm.path("/participants/"+adaPID+"/mute"), nil); res.StatusCode != 404 {
		t.Errorf("mute: %d %s", res.StatusCode, res.Body)
	}
	res := postJSON(t, h.apiClient(t, cm.Host), cm.path("/participants/"+adaPID+"/remove"), nil)
	if res.StatusCode != 200 || !strings.Contains(res.text(), `"disconnected": false`) {
		t.Errorf("remove: %d %s", res.StatusCode, res.Body)
	}
	// Removed, her token no longer passes signalling on our origin.
	resp, err = http.Get(h.URL + "/rtc/validate?access_token=" + url.QueryEscape(a.Token))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("/rtc/validate with the removed member's token: %d, want 403", resp.StatusCode)
	}
}
