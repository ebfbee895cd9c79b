package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/video"
)

// Video calls: the door of a meeting (passcode, lock and lobby) for
// members and for guests with a personal link, the short-lived LiveKit
// tokens handed out once through it, what hosts and co-hosts do to others
// in the call, the chat and questions, and the webhooks that record
// attendance and whether the call runs. The rules themselves are
// meeting.Join's; these handlers read, apply and answer.
//
// Answers to a join request: 200 {state: "admitted", token, url,
// identity, room, role}, 202 {state: "waiting"} while a guest waits in
// the lobby, 403 for a wrong passcode, a locked meeting, someone a host
// turned away and anyone not invited, 404 for unknown meetings and for
// personal links that are forged, expired or revoked, 409 for a cancelled
// meeting, 503 when this server runs no video.

// callBodyLimit bounds the JSON bodies of call routes: a passcode, a name
// and an address, or one message.
const callBodyLimit = 16 << 10

// ---- answers ----

type joinAnswer struct {
	State    string `json:"state"`
	Token    string `json:"token,omitempty"`
	URL      string `json:"url,omitempty"`
	Identity string `json:"identity,omitempty"`
	Room     string `json:"room,omitempty"`
	Role     string `json:"role,omitempty"`
}

type waitingJSON struct {
	ID            string     `json:"id"`
	ParticipantID string     `json:"participant_id"`
	Name          string     `json:"name"`
	Email         string     `json:"email,omitempty"`
	Guest         bool       `json:"guest"`
	LobbyState    string     `json:"lobby_state"`
	WaitingSince  *time.Time `json:"waiting_since"`
}

type messageJSON struct {
	ID            string     `json:"id"`
	Seq           int64      `json:"seq"`
	ParticipantID string     `json:"participant_id,omitempty"`
	AuthorName    string     `json:"author_name"`
	Kind          string     `json:"kind"`
	Body          string     `json:"body"`
	AnsweredAt    *time.Time `json:"answered_at"`
	CreatedAt     time.Time  `json:"created_at"`
}

func messageOut(m meeting.Message) messageJSON {
	return messageJSON{
		ID: m.ID, Seq: m.Seq, ParticipantID: m.ParticipantID, AuthorName: m.AuthorName, Kind: string(m.Kind),
		Body: m.Body, AnsweredAt: m.AnsweredAt, CreatedAt: m.CreatedAt,
	}
}

type attendanceJSON struct {
	ParticipantID string     `json:"participant_id"`
	Name          string     `json:"name"`
	Role          string     `json:"role"`
	JoinedAt      *time.Time `json:"joined_at"`
	LeftAt        *time.Time `json:"left_at"`
}

type liveJSON struct {
	Running   bool       `json:"running"`
	StartedAt *time.Time `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
}

func newLiveJSON(l meeting.Live) liveJSON {
	return liveJSON{Running: l.Running, StartedAt: l.StartedAt, EndedAt: l.EndedAt}
}

// ---- who is asking ----

// callMember is s.member for the call routes a room page's script calls
// with the session cookie: on /api/ routes the cookie alone is refused for
// writes (s.authenticate), since no cross-origin check covers them, so
// here the same check a browser form gets is made first. Bearer tokens
// work as everywhere.
func (s *Server) callMember(h handlerFunc) handlerFunc {
	guarded := s.member(h)
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Header.Get("Authorization") != "" {
			return guarded(w, r)
		}
		c, err := r.Cookie(s.sessionCookie())
		if err != nil || c.Value == "" {
			return guarded(w, r)
		}
		if err := sameOriginOnly(r); err != nil {
			return err
		}
		p, err := s.bySession(r.Context(), c.Value)
		if err != nil {
			return err
		}
		if p != nil {
			r = withPrincipal(r, p)
		}
		return guarded(w, r)
	}
}

// doorFunc reads who is at a meeting's door and the meeting: members by
// the meeting in the path (memberAtDoor), guests by their personal link
// (guestAtDoor). Routes that both may use take one, so members and guests
// go through the same handler.
type doorFunc func(*http.Request) (meeting.Meeting, meeting.Participant, error)

// memberAtDoor reads the meeting in the path and the signed-in member's
// place in it: 404 for an unknown meeting, 403 when they take no part.
func (s *Server) memberAtDoor(r *http.Request) (meeting.Meeting, meeting.Participant, error) {
	return store.MemberAtDoor(r.Context(), s.DB, r.PathValue("id"), mustPrincipal(r).AccountID)
}

// guestAtDoor reads the participant a personal link names and their
// meeting. Forged, expired, revoked and unknown links are all the same 404.
func (s *Server) guestAtDoor(r *http.Request) (meeting.Meeting, meeting.Participant, error) {
	p, err := store.ParticipantByInvite(r.Context(), s.DB, s.Secret, r.PathValue("token"), s.Clock.Now())
	if err != nil {
		return meeting.Meeting{}, meeting.Participant{}, err
	}
	m, err := store.GetMeeting(r.Context(), s.DB, p.MeetingID)
	return m, p, err
}

// moderatorAtDoor is memberAtDoor for what only hosts and co-hosts do.
func (s *Server) moderatorAtDoor(r *http.Request) (meeting.Meeting, meeting.Participant, error) {
	m, p, err := s.memberAtDoor(r)
	if err != nil {
		return m, p, err
	}
	if !meeting.CanModerate(p.Role) {
		return m, p, errs.E(errs.Forbidden, "only the host and co-hosts may do this")
	}
	return m, p, nil
}

func (s *Server) requireVideo() error {
	if s.Video == nil {
		return errs.E(errs.Unavailable, "video calls are not available on this server")
	}
	return nil
}

// ---- the door ----

type joinBody struct {
	Passcode string `json:"passcode"`
	Name     string `json:"name"`
	Email    string `json:"email"`
}

// decodeOptionalJSON is decodeJSON for routes whose body may be left out.
func decodeOptionalJSON(r *http.Request, dst any) error {
	if r.ContentLength == 0 && len(r.TransferEncoding) == 0 {
		return nil
	}
	return decodeJSON(r, dst)
}

// passcodeThrottle counts one person's wrong passcodes for one meeting.
func (s *Server) passcodeThrottle(m meeting.Meeting, p meeting.Participant) throttle {
	return throttle{ratelimit.Key(s.Secret, "meeting-passcode", m.ID+"/"+p.ID), meeting.PasscodeThrottle}
}

// enter applies the join rules to p and answers: a token when admitted,
// waiting while in the lobby. Asking checks the passcode (when one is due)
// within its limits, and moves a newcomer through the door.
func (s *Server) enter(ctx context.Context, w http.ResponseWriter, m meeting.Meeting, p meeting.Participant, asking bool, passcode string) (meeting.Standing, error) {
	if err := s.requireVideo(); err != nil {
		return "", err
	}
	// Refusals that do not depend on the passcode come first, so a
	// passcode is never checked, or counted, for someone who cannot come
	// in anyway.
	if _, _, err := meeting.Join(m, p, meeting.JoinRequest{Asking: asking, PasscodeOK: true}); err != nil {
		return "", err
	}
	req := meeting.JoinRequest{Asking: asking}
	through := p.LobbyState == meeting.LobbyWaiting || p.LobbyState == meeting.LobbyAdmitted
	if asking && m.HasPasscode() && !meeting.CanModerate(p.Role) && !through {
		t := s.passcodeThrottle(m, p)
		if err := s.refuseIfLocked(ctx, w, t); err != nil {
			return "", err
		}
		if err := meeting.CheckPasscode(s.Secret, m, passcode); err != nil {
			if passcode != "" {
				if cerr := s.countFailure(ctx, t); cerr != nil {
					return "", cerr
				}
			}
			return "", err
		}
		req.PasscodeOK = true
	}
	standing, next, err := meeting.Join(m, p, req)
	if err != nil {
		return "", err
	}
	if next != "" {
		if err := store.SetLobbyState(ctx, s.DB, p.ID, next, s.Clock.Now()); err != nil {
			return "", err
		}
	}
	return standing, nil
}

// answerJoin writes the answer to a join request or poll.
func (s *Server) answerJoin(w http.ResponseWriter, m meeting.Meeting, p meeting.Participant, standing meeting.Standing) error {
	if standing == meeting.Waiting {
		return writeJSONNoStore(w, http.StatusAccepted, joinAnswer{State: string(meeting.Waiting)})
	}
	token, err := s.Video.Token(video.Grant{Room: m.ID, Identity: p.ID, Name: p.DisplayName(), Role: video.Role(p.Role)})
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, joinAnswer{
		State: string(meeting.Admitted), Token: token, URL: s.Video.URL(), Identity: p.ID, Room: m.ID, Role: string(p.Role),
	})
}

// enterAndAnswer is enter followed by answerJoin.
func (s *Server) enterAndAnswer(ctx context.Context, w http.ResponseWriter, m meeting.Meeting, p meeting.Participant, asking bool, passcode string) error {
	standing, err := s.enter(ctx, w, m, p, asking, passcode)
	if err != nil {
		return err
	}
	return s.answerJoin(w, m, p, standing)
}

// apiJoin is POST /api/meetings/{id}/join: a member asks to join the
// call, with the passcode when the meeting has one.
func (s *Server) apiJoin(w http.ResponseWriter, r *http.Request) error {
	var b joinBody
	if err := decodeOptionalJSON(r, &b); err != nil {
		return err
	}
	m, p, err := s.memberAtDoor(r)
	if err != nil {
		return err
	}
	return s.enterAndAnswer(r.Context(), w, m, p, true, b.Passcode)
}

// pollJoin answers GET /api/meetings/{id}/join and GET /api/join/{token}:
// where the person at the door stands, with a fresh token once admitted.
func (s *Server) pollJoin(door doorFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		m, p, err := door(r)
		if err != nil {
			return err
		}
		return s.enterAndAnswer(r.Context(), w, m, p, false, "")
	}
}

// mayArrive makes the door's refusals that do not depend on what a guest
// types (a cancelled or locked meeting, someone turned away, no video on
// this server) before anything they typed is stored.
func (s *Server) mayArrive(m meeting.Meeting, p meeting.Participant) error {
	if _, _, err := meeting.Join(m, p, meeting.JoinRequest{Asking: true, PasscodeOK: true}); err != nil {
		return err
	}
	return s.requireVideo()
}

// guestArrives checks and stores the name and address a guest gives,
// which are required the first time and may be corrected later.
func (s *Server) guestArrives(ctx context.Context, p *meeting.Participant, name, email string) error {
	if !p.Guest() {
		// A member using their personal link is known by their account.
		return nil
	}
	if p.Name != "" && name == "" && email == "" {
		return nil
	}
	d, err := meeting.CheckGuest(*p, name, email)
	if err != nil {
		return err
	}
	if err := store.GuestArrives(ctx, s.DB, p.ID, d, "", s.Clock.Now()); err != nil {
		return err
	}
	p.Name = d.Name
	if p.Email == "" {
		p.Email = d.Email
	}
	return nil
}

// apiGuestJoin is POST /api/join/{token}: a guest asks to join with their
// personal link, giving their name and address (the first time) and the
// passcode when the meeting has one.
func (s *Server) apiGuestJoin(w http.ResponseWriter, r *http.Request) error {
	var b joinBody
	if err := decodeOptionalJSON(r, &b); err != nil {
		return err
	}
	m, p, err := s.guestAtDoor(r)
	if err != nil {
		return err
	}
	if err := s.mayArrive(m, p); err != nil {
		return err
	}
	if err := s.guestArrives(r.Context(), &p, b.Name, b.Email); err != nil {
		return err
	}
	return s.enterAndAnswer(r.Context(), w, m, p, true, b.Passcode)
}

// ---- the guest's personal link in a browser ----

// guestJoinData is what calls_join.html shows.
type guestJoinData struct {
	Action      string
	Title       string
	AskName     bool
	Name, Email string
	AskPasscode bool
	Message     string
	Errors      map[string]string
}

// guestLandingPage is GET /j/{token}: a guest who has not come through
// the door yet gives their name, address and the passcode; one who has
// (waiting or admitted) gets the meeting room.
func (s *Server) guestLandingPage(w http.ResponseWriter, r *http.Request) error {
	m, p, err := s.guestAtDoor(r)
	if err != nil {
		return err
	}
	// The token is in the address: no page it links to may learn it.
	w.Header().Set("Referrer-Policy", "no-referrer")
	if p.LobbyState == meeting.LobbyWaiting || p.LobbyState == meeting.LobbyAdmitted || meeting.CanModerate(p.Role) {
		return s.renderGuestRoom(w, r, m)
	}
	if _, _, err := meeting.Join(m, p, meeting.JoinRequest{Asking: true, PasscodeOK: true}); err != nil {
		return err
	}
	return s.renderGuestLanding(w, r, http.StatusOK, m, p, guestJoinData{Name: p.Name, Email: p.Email})
}

// guestLandingForm is POST /j/{token}: the landing page's form. Through
// the door, the guest is sent back to the link, which now shows the room.
func (s *Server) guestLandingForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	m, p, err := s.guestAtDoor(r)
	if err != nil {
		return err
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	if err := s.mayArrive(m, p); err != nil {
		return err
	}
	name, email := r.PostForm.Get("name"), r.PostForm.Get("email")
	again := guestJoinData{Name: name, Email: email}
	err = s.guestArrives(r.Context(), &p, name, email)
	if err == nil {
		_, err = s.enter(r.Context(), w, m, p, true, r.PostForm.Get("passcode"))
	}
	// The refusals that do not depend on the form were made above, so a
	// refusal here is about what was typed: show the form again.
	if e, ok := errs.As(err); ok && (e.Code == errs.Invalid || e.Code == errs.Forbidden) {
		again.Errors, again.Message = e.Fields, e.Message
		status := http.StatusUnprocessableEntity
		if e.Code == errs.Forbidden {
			status = http.StatusForbidden
		}
		return s.renderGuestLanding(w, r, status, m, p, again)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/j/"+url.PathEscape(r.PathValue("token")), http.StatusSeeOther)
	return nil
}

func (s *Server) renderGuestLanding(w http.ResponseWriter, r *http.Request, status int, m meeting.Meeting, p meeting.Participant, d guestJoinData) error {
	d.Action = "/j/" + url.PathEscape(r.PathValue("token"))
	d.Title = m.Title
	d.AskName = p.Guest()
	d.AskPasscode = m.HasPasscode() && !meeting.CanModerate(p.Role)
	return s.pages.render(w, r, status, "calls_join", view{Title: "Join " + m.Title, Data: d})
}

// renderGuestRoom shows the meeting room to someone who came by their
// personal link: every address the room's script calls carries the link's
// token instead of a session cookie.
func (s *Server) renderGuestRoom(w http.ResponseWriter, r *http.Request, m meeting.Meeting) error {
	base := "/api/join/" + url.PathEscape(r.PathValue("token"))
	return s.renderRoom(w, r, roomData{
		MeetingID: m.ID, Title: m.Title, Locked: m.Locked,
		URLs: roomURLs{Join: base, Poll: base, Messages: base + "/messages", Send: base + "/messages"},
	})
}

// ---- hosts and co-hosts ----

func (s *Server) apiLobby(w http.ResponseWriter, r *http.Request) error {
	m, _, err := s.moderatorAtDoor(r)
	if err != nil {
		return err
	}
	list, err := store.WaitingList(r.Context(), s.DB, m.ID)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"locked": m.Locked, "waiting": jsonList(list, func(p meeting.Participant) waitingJSON {
		return waitingJSON{
			ID: p.ID, ParticipantID: p.ID, Name: p.DisplayName(), Email: p.Email, Guest: p.Guest(),
			LobbyState: p.LobbyState, WaitingSince: p.LobbyAt,
		}
	})})
}

// moderationTarget reads the host or co-host acting and the participant
// in the path they act on.
func (s *Server) moderationTarget(r *http.Request) (meeting.Meeting, meeting.Participant, meeting.Participant, error) {
	m, actor, err := s.moderatorAtDoor(r)
	if err != nil {
		return m, actor, meeting.Participant{}, err
	}
	target, err := store.MeetingParticipant(r.Context(), s.DB, m.ID, r.PathValue("pid"))
	if err != nil {
		return m, actor, target, err
	}
	return m, actor, target, meeting.CanBeModerated(actor, target)
}

func memberParty(r *http.Request) audit.Party {
	return audit.Party{Kind: "member", ID: mustPrincipal(r).AccountID}
}

// apiLobbyAdmit is POST /api/meetings/{id}/lobby/{pid}/admit: a host lets
// someone in, also someone turned away or removed before.
func (s *Server) apiLobbyAdmit(w http.ResponseWriter, r *http.Request) error {
	_, _, target, err := s.moderationTarget(r)
	if err != nil {
		return err
	}
	if err := store.Moderate(r.Context(), s.DB, s.Secret, memberParty(r), "meeting.admit", target, meeting.LobbyAdmitted, s.Clock.Now()); err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]string{"lobby_state": meeting.LobbyAdmitted})
}

// apiLobbyDeny is POST /api/meetings/{id}/lobby/{pid}/deny: a host turns
// someone away. They never get a token until a host admits them.
func (s *Server) apiLobbyDeny(w http.ResponseWriter, r *http.Request) error {
	return s.keepOut(w, r, "meeting.deny", false)
}

// apiRemove is POST /api/meetings/{id}/participants/{pid}/remove: a host
// disconnects someone from the call and keeps them out.
func (s *Server) apiRemove(w http.ResponseWriter, r *http.Request) error {
	return s.keepOut(w, r, "meeting.remove", true)
}

// keepOut turns the target away and ends their connection to the call.
// The door closes first, in its own transaction, so that the person can
// not come straight back with a fresh token. For a removal, a video server
// that cannot be reached is an error (the host must know the person may
// still be connected); for a lobby refusal, where the person is normally
// not connected at all, it is only logged.
func (s *Server) keepOut(w http.ResponseWriter, r *http.Request, action string, mustDisconnect bool) error {
	m, _, target, err := s.moderationTarget(r)
	if err != nil {
		return err
	}
	if err := store.Moderate(r.Context(), s.DB, s.Secret, memberParty(r), action, target, meeting.LobbyDenied, s.Clock.Now()); err != nil {
		return err
	}
	connected := false
	if s.Video != nil {
		err := s.Video.RemoveParticipant(r.Context(), m.ID, target.ID)
		switch {
		case err == nil:
			connected = true
		case errs.CodeOf(err) == errs.NotFound:
		case mustDisconnect:
			return errs.Wrap(errs.Unavailable, err, "they are kept out, but the video server could not be reached to disconnect them; try again")
		default:
			s.Log.LogAttrs(r.Context(), slog.LevelWarn, "could not disconnect a participant turned away", slog.String("error", err.Error()))
		}
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"lobby_state": meeting.LobbyDenied, "disconnected": connected})
}

// apiMute is POST /api/meetings/{id}/participants/{pid}/mute: a host mutes
// someone's microphone. They may unmute themselves.
func (s *Server) apiMute(w http.ResponseWriter, r *http.Request) error {
	if err := s.requireVideo(); err != nil {
		return err
	}
	m, _, target, err := s.moderationTarget(r)
	if err != nil {
		return err
	}
	if err := s.Video.MuteMicrophone(r.Context(), m.ID, target.ID); err != nil {
		return err
	}
	if err := store.Moderate(r.Context(), s.DB, s.Secret, memberParty(r), "meeting.mute", target, "", s.Clock.Now()); err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]bool{"muted": true})
}

func (s *Server) apiLock(w http.ResponseWriter, r *http.Request) error {
	return s.setLocked(w, r, true)
}
func (s *Server) apiUnlock(w http.ResponseWriter, r *http.Request) error {
	return s.setLocked(w, r, false)
}

func (s *Server) setLocked(w http.ResponseWriter, r *http.Request, locked bool) error {
	m, _, err := s.moderatorAtDoor(r)
	if err != nil {
		return err
	}
	if m.State == meeting.Cancelled {
		return errs.E(errs.Conflict, "this meeting was cancelled")
	}
	if err := store.SetLocked(r.Context(), s.DB, s.Secret, memberParty(r), m.ID, locked, s.Clock.Now()); err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]bool{"locked": locked})
}

// ---- chat and questions ----

type messageBody struct {
	Kind string `json:"kind"`
	Body string `json:"body"`
}

// inCall refuses someone not let in to the call: the chat belongs to the
// people in it.
func inCall(m meeting.Meeting, p meeting.Participant) error {
	if m.State == meeting.Cancelled {
		return errs.E(errs.Conflict, "this meeting was cancelled")
	}
	if !meeting.InCall(m, p) {
		return errs.E(errs.Forbidden, "join the call to read and write its chat")
	}
	return nil
}

// listMessages answers GET /api/meetings/{id}/messages and GET
// /api/join/{token}/messages: the conversation after the cursor "since".
func (s *Server) listMessages(door doorFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		m, p, err := door(r)
		if err != nil {
			return err
		}
		if err := inCall(m, p); err != nil {
			return err
		}
		var since int64
		if raw := r.URL.Query().Get("since"); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n < 0 {
				return &errs.Error{Code: errs.Invalid, Message: "some fields are not valid", Fields: map[string]string{"since": "must be the next value of an earlier answer"}}
			}
			since = n
		}
		list, err := store.Messages(r.Context(), s.DB, m.ID, since, store.MaxMessagesPage)
		if err != nil {
			return err
		}
		out := make([]messageJSON, 0, len(list))
		for _, msg := range list {
			out = append(out, messageOut(msg))
			since = msg.Seq
		}
		// next is a string so pages treat it as the opaque cursor it is.
		return writeJSONNoStore(w, http.StatusOK, map[string]any{"messages": out, "next": strconv.FormatInt(since, 10)})
	}
}

// postMessage answers POST /api/meetings/{id}/messages and POST
// /api/join/{token}/messages: a chat message or question.
func (s *Server) postMessage(door doorFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var b messageBody
		if err := decodeJSON(r, &b); err != nil {
			return err
		}
		m, p, err := door(r)
		if err != nil {
			return err
		}
		if err := inCall(m, p); err != nil {
			return err
		}
		kind, body, err := meeting.CheckMessage(b.Kind, b.Body)
		if err != nil {
			return err
		}
		msg, err := store.AddMessage(r.Context(), s.DB, meeting.Message{
			ID: meeting.NewMessageID(), MeetingID: m.ID, ParticipantID: p.ID, AuthorName: p.DisplayName(),
			Kind: kind, Body: body, CreatedAt: s.Clock.Now(),
		})
		if err != nil {
			return err
		}
		return writeJSONNoStore(w, http.StatusCreated, messageOut(msg))
	}
}

// apiAnswered is POST /api/meetings/{id}/messages/{mid}/answered: a host
// marks a question answered.
func (s *Server) apiAnswered(w http.ResponseWriter, r *http.Request) error {
	m, _, err := s.moderatorAtDoor(r)
	if err != nil {
		return err
	}
	if err := store.MarkAnswered(r.Context(), s.DB, m.ID, r.PathValue("mid"), s.Clock.Now()); err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]bool{"answered": true})
}

// ---- attendance and live state ----

// apiAttendance is GET /api/meetings/{id}/attendance: who was in the call
// and when, for the host and co-hosts.
func (s *Server) apiAttendance(w http.ResponseWriter, r *http.Request) error {
	m, _, err := s.moderatorAtDoor(r)
	if err != nil {
		return err
	}
	list, err := store.Attendance(r.Context(), s.DB, m.ID)
	if err != nil {
		return err
	}
	live, err := store.LiveState(r.Context(), s.DB, m.ID)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{
		"live": newLiveJSON(live),
		"attendance": jsonList(list, func(a meeting.Attendance) attendanceJSON {
			return attendanceJSON{ParticipantID: a.ParticipantID, Name: a.Name, Role: string(a.Role), JoinedAt: a.JoinedAt, LeftAt: a.LeftAt}
		}),
	})
}

// apiLive is GET /api/meetings/{id}/live: whether the call runs, for
// everyone taking part.
func (s *Server) apiLive(w http.ResponseWriter, r *http.Request) error {
	m, _, err := s.memberAtDoor(r)
	if err != nil {
		return err
	}
	live, err := store.LiveState(r.Context(), s.DB, m.ID)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newLiveJSON(live))
}

// ---- the video server ----

// livekitWebhook is POST /api/livekit/webhook. Only the video server's
// signature lets a delivery in (401 otherwise); it is not held to the
// per-address limits of open routes, since every delivery comes from the
// same server. LiveKit retries what does not get a 2xx.
func (s *Server) livekitWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.requireVideo(); err != nil {
		return err
	}
	ev, ok, err := s.Video.ReceiveWebhook(r)
	if err != nil {
		return err
	}
	if ok {
		_, err := store.RecordCallEvent(r.Context(), s.DB, meeting.CallEvent{
			ID: ev.ID, Kind: meeting.CallEventKind(ev.Kind), MeetingID: ev.Room,
			ParticipantID: ev.Participant, ConnectionID: ev.Connection, At: ev.At,
		}, s.Clock.Now())
		if err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// videoSignal serves the embedded SFU's signalling on our own origin
// (video.SignalPaths); with an external SFU, clients go to it directly and
// nothing is here.
func (s *Server) videoSignal(w http.ResponseWriter, r *http.Request) error {
	if s.Video == nil {
		return errs.E(errs.NotFound, "there is nothing at this address")
	}
	h, ok := s.Video.SignalHandler()
	if !ok {
		return errs.E(errs.NotFound, "there is nothing at this address")
	}
	h.ServeHTTP(w, r)
	return nil
}
