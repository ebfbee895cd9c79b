package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/service/calls"
)

// roomData is what the meeting room page shows and the addresses its
// script (static/meeting.js, built from web/src) calls. Members reach the
// room at /meetings/{id}/room; guests through their personal link, whose
// handler fills the guest variants of the addresses. Addresses of actions
// on another person hold ":pid" for the participant id.
type roomData struct {
	MeetingID string
	Title     string
	// AskName and AskEmail put the guest's name and address on the
	// pre-join form, filled with Name and Email; the script sends them
	// with the join request as "name" and "email".
	AskName, AskEmail bool
	Name, Email       string
	// AskPasscode adds a passcode field, sent as "passcode".
	AskPasscode bool
	// Locked is the lock's state when the page was made; hosts toggle it.
	Locked bool
	// CanModerate puts the host's tools on the page (lock, lobby, the
	// knock banner, end for everyone); without it they are not rendered
	// at all, whatever the script does.
	CanModerate bool
	Agenda      []roomAgendaItem
	// BackURL is where "Back" leads, "" for none.
	BackURL string
	URLs    roomURLs
}

type roomAgendaItem struct {
	Title   string
	Minutes int
	Owner   string
	Notes   string
}

// roomURLs are the endpoints the room's script calls: Join (POST, answers
// admitted with a token, or waiting) and Poll (GET, the same answers while
// waiting in the lobby); Messages (GET, ?since=cursor) and Send (POST) for
// chat and questions; and, used only when the join answer's role may
// moderate, Lobby (GET), Admit, Deny, Lock, Unlock, Remove, Mute, End and
// Answered (POST; ":mid" is the question's id).
// Leave, when set, is told when the person hangs up.
type roomURLs struct {
	Join, Poll, Messages, Send                     string
	Lobby, Admit, Deny, Lock, Unlock, Remove, Mute string
	End, Answered                                  string
	Leave                                          string
}

// roomPage is GET /meetings/{id}/room: the call of a meeting the member
// takes part in. Who may join, and how (lock, passcode, lobby), is decided
// by the join API the page calls; the page only needs the member to be a
// participant, so that nobody else learns the agenda through it.
func (s *Server) roomPage(w http.ResponseWriter, r *http.Request) error {
	room, err := s.Services.Calls.Room(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	m, p := room.Meeting, room.Participant
	api := "/api/meetings/" + url.PathEscape(m.ID)
	d := roomData{
		MeetingID:   m.ID,
		Title:       m.Title,
		AskPasscode: m.HasPasscode() && !meeting.CanModerate(p.Role),
		Locked:      m.Locked,
		Agenda:      roomAgenda(room.Agenda),
		BackURL:     "/meetings/" + url.PathEscape(m.ID),
		URLs: roomURLs{
			Join: api + "/join", Poll: api + "/join",
			Messages: api + "/messages", Send: api + "/messages",
		},
	}
	if meeting.CanModerate(p.Role) {
		d.CanModerate = true
		d.URLs.Lobby = api + "/lobby"
		d.URLs.Admit = api + "/lobby/:pid/admit"
		d.URLs.Deny = api + "/lobby/:pid/deny"
		d.URLs.Lock = api + "/lock"
		d.URLs.Unlock = api + "/unlock"
		d.URLs.Remove = api + "/participants/:pid/remove"
		d.URLs.Mute = api + "/participants/:pid/mute"
		d.URLs.End = api + "/end"
		d.URLs.Answered = api + "/messages/:mid/answered"
	}
	return s.renderRoom(w, r, d)
}

// roomAgenda is the agenda panel of the room.
func roomAgenda(items []calls.AgendaItem) []roomAgendaItem {
	if len(items) == 0 {
		return nil
	}
	out := make([]roomAgendaItem, 0, len(items))
	for _, it := range items {
		out = append(out, roomAgendaItem{Title: it.Title, Minutes: it.Minutes, Owner: it.Owner, Notes: it.Notes})
	}
	return out
}

// renderRoom writes the meeting room page. Its script connects to the SFU,
// so the page's Content-Security-Policy also allows the SFU's address,
// for this response only; every other page keeps connect-src 'self'.
func (s *Server) renderRoom(w http.ResponseWriter, r *http.Request, d roomData) error {
	if s.Video != nil {
		w.Header().Set("Content-Security-Policy", roomContentSecurityPolicy(s.Video.URL()))
	}
	return s.pages.render(w, r, http.StatusOK, "meeting_room", view{Title: d.Title, Section: "home", Data: d})
}

// roomContentSecurityPolicy is the site's policy with the SFU's origin
// added to connect-src: its WebSocket for signalling and, under the same
// host, the HTTP address livekit-client checks when signalling fails.
// The embedded SFU is reached through our own origin, which 'self'
// already covers; naming it again is harmless and spares browsers that
// do not match ws: against 'self'. An address that is not ws(s) or
// http(s) adds nothing.
func roomContentSecurityPolicy(sfuURL string) string {
	u, err := url.Parse(sfuURL)
	if err != nil || u.Host == "" || strings.ContainsAny(u.Host, " ;,'") {
		return contentSecurityPolicy
	}
	var sources []string
	switch u.Scheme {
	case "ws", "http":
		sources = []string{"ws://" + u.Host, "http://" + u.Host}
	case "wss", "https":
		sources = []string{"wss://" + u.Host, "https://" + u.Host}
	default:
		return contentSecurityPolicy
	}
	return strings.Replace(contentSecurityPolicy, "connect-src 'self'", "connect-src 'self' "+strings.Join(sources, " "), 1)
}
