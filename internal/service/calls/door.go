package calls

import (
	"context"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/video"
)

// JoinInput is what someone gives at the door: the passcode when the
// meeting has one, and a guest's name and address (required the first
// time, and correctable later).
type JoinInput struct {
	Passcode    string
	Name, Email string
}

// Entry is the answer to a request to join or a poll: Waiting while a
// guest waits in the lobby; Admitted with a fresh, short-lived token for
// the video server otherwise.
type Entry struct {
	Standing meeting.Standing
	// Token, URL, Identity and Room are set when admitted: the token,
	// the address of the video server, and the ids the call knows the
	// person and the meeting by.
	Token, URL, Identity, Room string
	Role                       meeting.Role
}

// AgendaItem is one item of the agenda panel in the room.
type AgendaItem struct {
	Title   string
	Minutes int
	// Owner is the name the item's owner goes by, "" when they are known
	// only by an address: everyone in the call reads the panel.
	Owner string
	Notes string
}

// Room is what the meeting room shows someone at the door.
type Room struct {
	Meeting     meeting.Meeting
	Participant meeting.Participant
	Agenda      []AgendaItem
}

// Landing is what a personal link shows in a browser: the room, for
// someone through the door (waiting or admitted) or a host, and the
// landing form otherwise.
type Landing struct {
	Room
	// InRoom is true when the room is shown; Agenda is filled then.
	InRoom bool
	// Refused is why the landing form was refused, when the refusal is
	// about what was typed (Invalid or Forbidden): the form is shown
	// again with it.
	Refused *errs.Error
}

// Join is a request to join the call: by a member (POST
// /api/meetings/{id}/join) or by a personal link (POST /api/join/{token}),
// which for guests also gives their name and address. Admitted, it
// carries the token.
func (s *Service) Join(ctx context.Context, d Door, in JoinInput) (Entry, error) {
	m, p, standing, refused, err := s.arrive(ctx, d, in)
	if err != nil {
		return Entry{}, err
	}
	if refused != nil {
		return Entry{}, refused
	}
	return s.entry(m, p, standing)
}

// Poll is where the person at the door stands, with a fresh token once
// admitted. It changes nothing.
func (s *Service) Poll(ctx context.Context, d Door) (Entry, error) {
	q := s.env.Store.DB
	m, p, err := s.atDoor(ctx, q, d)
	if err != nil {
		return Entry{}, err
	}
	standing, err := s.enter(ctx, q, m, p, false, "")
	if err != nil {
		return Entry{}, err
	}
	return s.entry(m, p, standing)
}

// GuestLanding is GET /j/{token}: the room for someone through the door,
// the landing form for a newcomer whom the door would not turn away
// whatever they typed. The landing's Meeting is set whenever the link is
// good, also with a refusal.
func (s *Service) GuestLanding(ctx context.Context, token string) (Landing, error) {
	q := s.env.Store.DB
	m, p, err := s.atDoor(ctx, q, GuestDoor(token))
	if err != nil {
		return Landing{}, err
	}
	l := Landing{Room: Room{Meeting: m, Participant: p}}
	if p.LobbyState == meeting.LobbyWaiting || p.LobbyState == meeting.LobbyAdmitted || meeting.CanModerate(p.Role) {
		l.InRoom = true
		l.Agenda, err = s.agenda(ctx, q, m.ID)
		return l, err
	}
	if _, _, err := meeting.Join(m, p, meeting.JoinRequest{Asking: true, PasscodeOK: true}); err != nil {
		return l, err
	}
	return l, nil
}

// GuestArrive is the landing form of a personal link: the guest's name,
// address and passcode. Refusals about what was typed come back in
// Landing.Refused; the door's other refusals (a cancelled or locked
// meeting, someone turned away, too many wrong passcodes) as the error.
// The landing's Meeting is set whenever the link is good.
func (s *Service) GuestArrive(ctx context.Context, token string, in JoinInput) (Landing, error) {
	m, p, _, refused, err := s.arrive(ctx, GuestDoor(token), in)
	l := Landing{Room: Room{Meeting: m, Participant: p}}
	if err != nil {
		return l, err
	}
	if e, ok := errs.As(refused); ok && (e.Code == errs.Invalid || e.Code == errs.Forbidden) {
		l.Refused = e
		return l, nil
	}
	return l, refused
}

// Room is the meeting room of a meeting the member takes part in. Who
// may join, and how, is decided when they ask to (Join); the room only
// needs them to be a participant, so that nobody else learns the agenda
// through it.
func (s *Service) Room(ctx context.Context, a service.Actor, meetingID string) (Room, error) {
	q := s.env.Store.DB
	m, p, err := s.atDoor(ctx, q, MemberDoor(a, meetingID))
	if err != nil {
		return Room{}, err
	}
	if m.State == meeting.Cancelled {
		return Room{}, errs.E(errs.Conflict, "this meeting was cancelled")
	}
	agenda, err := s.agenda(ctx, q, m.ID)
	if err != nil {
		return Room{}, err
	}
	return Room{Meeting: m, Participant: p, Agenda: agenda}, nil
}

// arrive is someone at the door asking to come in, in one transaction.
// For a personal link, the refusals that do not depend on what was typed
// come first, before anything typed is stored; then a guest's name and
// address are stored, and the passcode is checked.
//
// A refusal after that (a wrong passcode, too many of them, details that
// do not pass) commits what the door counted and stored: the wrong
// passcode must count, and the guest's details stay, as they always have.
// It comes back as refused; err is for failures, which change nothing.
func (s *Service) arrive(ctx context.Context, d Door, in JoinInput) (m meeting.Meeting, p meeting.Participant, standing meeting.Standing, refused, err error) {
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		var err error
		if m, p, err = s.atDoor(ctx, tx, d); err != nil {
			return err
		}
		if d.guest() {
			if err := s.mayArrive(m, p); err != nil {
				return err
			}
			err = s.guestArrives(ctx, tx, &p, in.Name, in.Email)
		}
		if err == nil {
			standing, err = s.enter(ctx, tx, m, p, true, in.Passcode)
		}
		if err == nil {
			// Coming through the door is accepting the invitation: from
			// now on the participant list may show who this is.
			err = store.AcceptParticipant(ctx, tx, p.ID, s.env.Clock.Now())
		}
		refused, err = refusal(err)
		return err
	})
	return m, p, standing, refused, err
}

// mayArrive makes the door's refusals that do not depend on what a guest
// types (a cancelled or locked meeting, someone turned away, no video on
// this server).
func (s *Service) mayArrive(m meeting.Meeting, p meeting.Participant) error {
	if _, _, err := meeting.Join(m, p, meeting.JoinRequest{Asking: true, PasscodeOK: true}); err != nil {
		return err
	}
	return s.requireVideo()
}

// guestArrives checks and stores the name and address a guest gives,
// which are required the first time and may be corrected later.
func (s *Service) guestArrives(ctx context.Context, tx database.Querier, p *meeting.Participant, name, email string) error {
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
	if err := store.GuestArrives(ctx, tx, p.ID, d, "", s.env.Clock.Now()); err != nil {
		return err
	}
	p.Name = d.Name
	if p.Email == "" {
		p.Email = d.Email
	}
	return nil
}

// enter applies the join rules to p: asking checks the passcode (when
// one is due) within its limits, and moves a newcomer through the door.
// Only asking writes, so a poll may run outside a transaction.
func (s *Service) enter(ctx context.Context, q database.Querier, m meeting.Meeting, p meeting.Participant, asking bool, passcode string) (meeting.Standing, error) {
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
		if err := s.checkPasscode(ctx, q, m, p, passcode); err != nil {
			return "", err
		}
		req.PasscodeOK = true
	}
	standing, next, err := meeting.Join(m, p, req)
	if err != nil {
		return "", err
	}
	if next != "" {
		if err := store.SetLobbyState(ctx, q, p.ID, next, s.env.Clock.Now()); err != nil {
			return "", err
		}
	}
	return standing, nil
}

// checkPasscode checks the passcode p gave, counting tries per person and
// meeting (meeting.PasscodeThrottle) before the check, in the door's
// transaction, so that concurrent tries queue on the counter instead of
// all passing it; a right passcode clears it. A passcode left out is not
// counted: the form asks for it first.
func (s *Service) checkPasscode(ctx context.Context, q database.Querier, m meeting.Meeting, p meeting.Participant, passcode string) error {
	t := service.Throttle{Key: ratelimit.Key(s.env.Secret, "meeting-passcode", m.ID+"/"+p.ID), Policy: meeting.PasscodeThrottle}
	now := s.env.Clock.Now()
	if passcode == "" {
		st, err := store.Throttle(ctx, q, t.Key)
		if err != nil {
			return err
		}
		if wait, locked := t.Policy.Blocked(st, now); locked {
			return errs.TooSoon(wait)
		}
		return meeting.CheckPasscode(s.env.Secret, m, passcode)
	}
	if _, err := service.TakeAttempt(ctx, q, now, t); err != nil {
		return err
	}
	if err := meeting.CheckPasscode(s.env.Secret, m, passcode); err != nil {
		return err
	}
	return store.ClearThrottle(ctx, q, t.Key)
}

// entry is the answer for standing, with a token when admitted.
func (s *Service) entry(m meeting.Meeting, p meeting.Participant, standing meeting.Standing) (Entry, error) {
	if standing == meeting.Waiting {
		return Entry{Standing: meeting.Waiting}, nil
	}
	if err := s.requireVideo(); err != nil {
		return Entry{}, err
	}
	token, err := s.env.Video.Token(video.Grant{
		Room: m.ID, Identity: p.ID, Name: p.DisplayName(), Role: video.Role(p.Role), Door: p.DoorGeneration,
	})
	if err != nil {
		return Entry{}, err
	}
	return Entry{
		Standing: meeting.Admitted, Token: token, URL: s.env.Video.URL(), Identity: p.ID, Room: m.ID, Role: p.Role,
	}, nil
}

// agenda reads a meeting's agenda for the room's panel. An item's owner
// is named by the name they go by; one known only by the address they
// were invited at is not named, since everyone in the call, guests
// included, reads the panel.
func (s *Service) agenda(ctx context.Context, q database.Querier, meetingID string) ([]AgendaItem, error) {
	items, err := store.Agenda(ctx, q, meetingID)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	people, err := store.MeetingParticipants(ctx, q, meetingID)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, p := range people {
		p = p.Listed()
		switch {
		case p.AccountName != "":
			names[p.ID] = p.AccountName
		case p.Name != "":
			names[p.ID] = p.Name
		}
	}
	out := make([]AgendaItem, 0, len(items))
	for _, it := range items {
		out = append(out, AgendaItem{Title: it.Title, Minutes: it.PlannedMinutes, Notes: it.Notes, Owner: names[it.OwnerParticipantID]})
	}
	return out, nil
}
