package calls

import (
	"context"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/video"
)

// What the video server reports: who was in a call and when, and whether
// the call runs.

// Attendance is who was in the call and when, one entry per connection,
// with the call's live state, for the host and co-hosts.
func (s *Service) Attendance(ctx context.Context, a service.Actor, meetingID string) ([]meeting.Attendance, meeting.Live, error) {
	q := s.env.Store.DB
	m, _, err := s.moderatorAtDoor(ctx, q, a, meetingID)
	if err != nil {
		return nil, meeting.Live{}, err
	}
	list, err := store.Attendance(ctx, q, m.ID)
	if err != nil {
		return nil, meeting.Live{}, err
	}
	live, err := store.LiveState(ctx, q, m.ID)
	return list, live, err
}

// Live says whether the call runs, for everyone taking part.
func (s *Service) Live(ctx context.Context, a service.Actor, meetingID string) (meeting.Live, error) {
	q := s.env.Store.DB
	m, _, err := s.atDoor(ctx, q, MemberDoor(a, meetingID))
	if err != nil {
		return meeting.Live{}, err
	}
	return store.LiveState(ctx, q, m.ID)
}

// RecordEvent applies one webhook the video server signed (the caller
// verified the signature): attendance for people joining and leaving,
// the live state and the door's reset for calls starting and finishing.
// An event seen before, and rooms and identities that are not ours, change
// nothing.
//
// A person joining is also held to the door: a LiveKit token stays valid
// after the door closed on its holder, and LiveKit hands every connected
// client refreshed copies of it, so the door alone cannot keep anyone out.
// A connection the door would not let in now (meeting.MayStayInCall) is
// ended at once, and the ending is audited. The video server is asked
// after the commit, as everywhere in this package; when it cannot be
// reached the error makes LiveKit deliver the event again, and the
// repeated delivery asks again without a second audit entry.
func (s *Service) RecordEvent(ctx context.Context, ev video.Event) error {
	var refused bool
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		now := s.env.Clock.Now()
		seen := false
		if ev.ID != "" && ev.Kind == video.ParticipantJoined {
			var err error
			if seen, err = store.CallEventSeen(ctx, tx, ev.ID); err != nil {
				return err
			}
		}
		if _, err := store.RecordCallEvent(ctx, tx, meeting.CallEvent{
			ID: ev.ID, Kind: meeting.CallEventKind(ev.Kind), MeetingID: ev.Room,
			ParticipantID: ev.Participant, ConnectionID: ev.Connection, At: ev.At,
		}, now); err != nil {
			return err
		}
		if ev.Kind != video.ParticipantJoined {
			return nil
		}
		subject, reason, err := s.refusal(ctx, tx, ev, now)
		if err != nil || reason == "" {
			return err
		}
		refused = true
		if seen {
			return nil
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: audit.Party{Kind: "system"}, Action: "meeting.connection_refused", Subject: subject, Purpose: callPurpose,
			Detail: map[string]string{"meeting": ev.Room, "participant": ev.Participant, "connection": ev.Connection, "reason": reason},
		})
	})
	if err != nil || !refused || s.env.Video == nil {
		return err
	}
	err = s.env.Video.RemoveConnection(ctx, ev.Room, ev.Participant, ev.Connection)
	if errs.CodeOf(err) == errs.NotFound {
		// Gone already: it left, or an earlier delivery ended it.
		return nil
	}
	return err
}

// refusal decides whether the connection ev reports joining may stay
// (meeting.MayStayInCall), and gives the reason it may not, with whom to
// name in the audit log. Rooms that are not meetings of ours are left
// alone: a LiveKit cluster may serve other applications too.
func (s *Service) refusal(ctx context.Context, q database.Querier, ev video.Event, now time.Time) (audit.Party, string, error) {
	m, err := store.GetMeeting(ctx, q, ev.Room)
	if errs.CodeOf(err) == errs.NotFound {
		return audit.Party{}, "", nil
	}
	if err != nil {
		return audit.Party{}, "", err
	}
	p, err := store.MeetingParticipant(ctx, q, m.ID, ev.Participant)
	if errs.CodeOf(err) == errs.NotFound {
		// Someone holding a token for our meeting whom the meeting no
		// longer lists: taken off the list, or erased.
		return audit.Party{Kind: "meeting", ID: m.ID}, meeting.RefusedStranger, nil
	}
	if err != nil {
		return audit.Party{}, "", err
	}
	if reason := meeting.MayStayInCall(m, p, ev.Door, now); reason != "" {
		return partyOf(p), reason, nil
	}
	return audit.Party{}, "", nil
}

// MayConnect is the door kept at the video server's own door: the
// embedded SFU asks it (video.Gate) before it lets a signalling
// connection open. LiveKit reports a connection (RecordEvent) only once
// its media flows, while the signalling alone already shows the call's
// roster and earns refreshed tokens; a token the door would not honour
// now (meeting.MayStayInCall) is refused before LiveKit sees it.
//
// A client resuming a connection it holds is not held to the lock, which
// keeps newcomers out and not the people already talking; LiveKit resumes
// only a connection it still has, so claiming to resume lets nobody new in.
// The embedded SFU serves our meetings alone, so a room that is not one
// is refused.
//
// It changes nothing and audits nothing: the removal or lock that made
// the token void is audited already, and SDKs retry a refused handshake
// with back-off, which would fill the audit log with repeats.
func (s *Service) MayConnect(ctx context.Context, c video.Connecting) error {
	q := s.env.Store.DB
	refused := errs.E(errs.Forbidden, "this token does not open the call")
	m, err := store.GetMeeting(ctx, q, c.Room)
	if errs.CodeOf(err) == errs.NotFound {
		return refused
	}
	if err != nil {
		return err
	}
	p, err := store.MeetingParticipant(ctx, q, m.ID, c.Identity)
	if errs.CodeOf(err) == errs.NotFound {
		return refused
	}
	if err != nil {
		return err
	}
	if c.Resuming {
		m.Locked = false
	}
	if meeting.MayStayInCall(m, p, c.Door, s.env.Clock.Now()) != "" {
		return refused
	}
	return nil
}
