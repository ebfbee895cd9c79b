package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/service/calls"
)

// Video calls: the door of a meeting (passcode, lock and lobby) for
// members and for guests with a personal link, the short-lived LiveKit
// tokens handed out once through it, what hosts and co-hosts do to others
// in the call, the chat and questions, and the webhooks that record
// attendance and whether the call runs. The use cases are
// internal/service/calls'; these handlers decode, call and answer.
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

// doorFunc names who is at a meeting's door: members by the meeting in
// the path (memberAtDoor), guests by their personal link (guestAtDoor).
// Routes that both may use take one, so members and guests go through
// the same handler.
type doorFunc func(*http.Request) calls.Door

// memberAtDoor is the signed-in member at the door of the meeting in the
// path.
func (s *Server) memberAtDoor(r *http.Request) calls.Door {
	return calls.MemberDoor(actorOf(r), r.PathValue("id"))
}

// guestAtDoor is whoever holds the personal link in the path.
func (s *Server) guestAtDoor(r *http.Request) calls.Door {
	return calls.GuestDoor(r.PathValue("token"))
}

// ---- the door ----

type joinBody struct {
	Passcode string `json:"passcode"`
	Name     string `json:"name"`
	Email    string `json:"email"`
}

func (b joinBody) input() calls.JoinInput {
	return calls.JoinInput{Passcode: b.Passcode, Name: b.Name, Email: b.Email}
}

// decodeOptionalJSON is decodeJSON for routes whose body may be left out.
func decodeOptionalJSON(r *http.Request, dst any) error {
	if r.ContentLength == 0 && len(r.TransferEncoding) == 0 {
		return nil
	}
	return decodeJSON(r, dst)
}

// answerJoin writes the answer to a join request or poll.
func answerJoin(w http.ResponseWriter, e calls.Entry) error {
	if e.Standing == meeting.Waiting {
		return writeJSONNoStore(w, http.StatusAccepted, joinAnswer{State: string(meeting.Waiting)})
	}
	return writeJSONNoStore(w, http.StatusOK, joinAnswer{
		State: string(meeting.Admitted), Token: e.Token, URL: e.URL, Identity: e.Identity, Room: e.Room, Role: string(e.Role),
	})
}

// join asks for the person at the door to come in and answers.
func (s *Server) join(w http.ResponseWriter, r *http.Request, d calls.Door, b joinBody) error {
	e, err := s.Services.Calls.Join(r.Context(), d, b.input())
	if err != nil {
		return err
	}
	return answerJoin(w, e)
}

// apiJoin is POST /api/meetings/{id}/join: a member asks to join the
// call, with the passcode when the meeting has one.
func (s *Server) apiJoin(w http.ResponseWriter, r *http.Request) error {
	var b joinBody
	if err := decodeOptionalJSON(r, &b); err != nil {
		return err
	}
	return s.join(w, r, s.memberAtDoor(r), b)
}

// pollJoin answers GET /api/meetings/{id}/join and GET /api/join/{token}:
// where the person at the door stands, with a fresh token once admitted.
func (s *Server) pollJoin(door doorFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		e, err := s.Services.Calls.Poll(r.Context(), door(r))
		if err != nil {
			return err
		}
		return answerJoin(w, e)
	}
}

// apiGuestJoin is POST /api/join/{token}: a guest asks to join with their
// personal link, giving their name and address (the first time) and the
// passcode when the meeting has one.
func (s *Server) apiGuestJoin(w http.ResponseWriter, r *http.Request) error {
	var b joinBody
	if err := decodeOptionalJSON(r, &b); err != nil {
		return err
	}
	return s.join(w, r, s.guestAtDoor(r), b)
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

// noReferrer keeps the personal link's token, which is in the address,
// from every page the answer links to, once the link proved good.
func noReferrer(w http.ResponseWriter, l calls.Landing) {
	if l.Meeting.ID != "" {
		w.Header().Set("Referrer-Policy", "no-referrer")
	}
}

// guestLandingPage is GET /j/{token}: a guest who has not come through
// the door yet gives their name, address and the passcode; one who has
// (waiting or admitted) gets the meeting room.
func (s *Server) guestLandingPage(w http.ResponseWriter, r *http.Request) error {
	l, err := s.Services.Calls.GuestLanding(r.Context(), r.PathValue("token"))
	noReferrer(w, l)
	if err != nil {
		return err
	}
	if l.InRoom {
		return s.renderGuestRoom(w, r, l.Room)
	}
	return s.renderGuestLanding(w, r, http.StatusOK, l, guestJoinData{Name: l.Participant.Name, Email: l.Participant.Email})
}

// guestLandingForm is POST /j/{token}: the landing page's form. Through
// the door, the guest is sent back to the link, which now shows the room.
func (s *Server) guestLandingForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	name, email := r.PostForm.Get("name"), r.PostForm.Get("email")
	l, err := s.Services.Calls.GuestArrive(r.Context(), r.PathValue("token"),
		calls.JoinInput{Passcode: r.PostForm.Get("passcode"), Name: name, Email: email})
	noReferrer(w, l)
	if err != nil {
		return err
	}
	// A refusal about what was typed: show the form again.
	if e := l.Refused; e != nil {
		again := guestJoinData{Name: name, Email: email, Errors: e.Fields, Message: e.Message}
		status := http.StatusUnprocessableEntity
		if e.Code == errs.Forbidden {
			status = http.StatusForbidden
		}
		return s.renderGuestLanding(w, r, status, l, again)
	}
	http.Redirect(w, r, "/j/"+url.PathEscape(r.PathValue("token")), http.StatusSeeOther)
	return nil
}

func (s *Server) renderGuestLanding(w http.ResponseWriter, r *http.Request, status int, l calls.Landing, d guestJoinData) error {
	m, p := l.Meeting, l.Participant
	d.Action = "/j/" + url.PathEscape(r.PathValue("token"))
	d.Title = m.Title
	d.AskName = p.Guest()
	d.AskPasscode = m.HasPasscode() && !meeting.CanModerate(p.Role)
	return s.pages.render(w, r, status, "calls_join", view{Title: "Join " + m.Title, Data: d})
}

// renderGuestRoom shows the meeting room to someone who came by their
// personal link: every address the room's script calls carries the link's
// token instead of a session cookie.
func (s *Server) renderGuestRoom(w http.ResponseWriter, r *http.Request, room calls.Room) error {
	m := room.Meeting
	base := "/api/join/" + url.PathEscape(r.PathValue("token"))
	return s.renderRoom(w, r, roomData{
		MeetingID: m.ID, Title: m.Title, Locked: m.Locked, Agenda: roomAgenda(room.Agenda),
		URLs: roomURLs{Join: base, Poll: base, Messages: base + "/messages", Send: base + "/messages"},
	})
}

// ---- hosts and co-hosts ----

func (s *Server) apiLobby(w http.ResponseWriter, r *http.Request) error {
	l, err := s.Services.Calls.Lobby(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"locked": l.Locked, "waiting": jsonList(l.Waiting, func(p meeting.Participant) waitingJSON {
		return waitingJSON{
			ID: p.ID, ParticipantID: p.ID, Name: p.DisplayName(), Email: p.Email, Guest: p.Guest(),
			LobbyState: p.LobbyState, WaitingSince: p.LobbyAt,
		}
	})})
}

// apiLobbyAdmit is POST /api/meetings/{id}/lobby/{pid}/admit: a host lets
// someone in, also someone turned away or removed before.
func (s *Server) apiLobbyAdmit(w http.ResponseWriter, r *http.Request) error {
	if err := s.Services.Calls.Admit(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("pid")); err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]string{"lobby_state": meeting.LobbyAdmitted})
}

// apiLobbyDeny is POST /api/meetings/{id}/lobby/{pid}/deny: a host turns
// someone away. They never get a token until a host admits them.
func (s *Server) apiLobbyDeny(w http.ResponseWriter, r *http.Request) error {
	connected, err := s.Services.Calls.Deny(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("pid"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"lobby_state": meeting.LobbyDenied, "disconnected": connected})
}

// apiRemove is POST /api/meetings/{id}/participants/{pid}/remove: a host
// disconnects someone from the call and keeps them out.
func (s *Server) apiRemove(w http.ResponseWriter, r *http.Request) error {
	connected, err := s.Services.Calls.Remove(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("pid"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"lobby_state": meeting.LobbyDenied, "disconnected": connected})
}

// apiMute is POST /api/meetings/{id}/participants/{pid}/mute: a host mutes
// someone's microphone. They may unmute themselves.
func (s *Server) apiMute(w http.ResponseWriter, r *http.Request) error {
	if err := s.Services.Calls.Mute(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("pid")); err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]bool{"muted": true})
}

// apiEndCall is POST /api/meetings/{id}/end: a host ends the call for
// everyone in it.
func (s *Server) apiEndCall(w http.ResponseWriter, r *http.Request) error {
	connected, err := s.Services.Calls.EndCall(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]bool{"ended": true, "disconnected": connected})
}

func (s *Server) apiLock(w http.ResponseWriter, r *http.Request) error {
	return s.setLocked(w, r, true)
}
func (s *Server) apiUnlock(w http.ResponseWriter, r *http.Request) error {
	return s.setLocked(w, r, false)
}

func (s *Server) setLocked(w http.ResponseWriter, r *http.Request, locked bool) error {
	if err := s.Services.Calls.SetLocked(r.Context(), actorOf(r), r.PathValue("id"), locked); err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]bool{"locked": locked})
}

// ---- chat and questions ----

type messageBody struct {
	Kind string `json:"kind"`
	Body string `json:"body"`
}

// listMessages answers GET /api/meetings/{id}/messages and GET
// /api/join/{token}/messages: the conversation after the cursor "since".
func (s *Server) listMessages(door doorFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var since int64
		if raw := r.URL.Query().Get("since"); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n < 0 {
				return &errs.Error{Code: errs.Invalid, Message: "some fields are not valid", Fields: map[string]string{"since": "must be the next value of an earlier answer"}}
			}
			since = n
		}
		list, err := s.Services.Calls.Messages(r.Context(), door(r), since)
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
		msg, err := s.Services.Calls.PostMessage(r.Context(), door(r), b.Kind, b.Body)
		if err != nil {
			return err
		}
		return writeJSONNoStore(w, http.StatusCreated, messageOut(msg))
	}
}

// apiAnswered is POST /api/meetings/{id}/messages/{mid}/answered: a host
// marks a question answered.
func (s *Server) apiAnswered(w http.ResponseWriter, r *http.Request) error {
	if err := s.Services.Calls.MarkAnswered(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("mid")); err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]bool{"answered": true})
}

// ---- attendance and live state ----

// apiAttendance is GET /api/meetings/{id}/attendance: who was in the call
// and when, for the host and co-hosts.
func (s *Server) apiAttendance(w http.ResponseWriter, r *http.Request) error {
	list, live, err := s.Services.Calls.Attendance(r.Context(), actorOf(r), r.PathValue("id"))
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
	live, err := s.Services.Calls.Live(r.Context(), actorOf(r), r.PathValue("id"))
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
		if err := s.Services.Calls.RecordEvent(r.Context(), ev); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) requireVideo() error {
	if s.Video == nil {
		return errs.E(errs.Unavailable, "video calls are not available on this server")
	}
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
