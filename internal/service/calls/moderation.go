package calls

import (
	"context"
	"log/slog"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// What hosts and co-hosts do in a call: the lobby, the lock, letting
// people in, turning them away, removing and muting them. Each is
// audited, with the acting member and the participant acted on.

// Lobby is who waits at a meeting's door, the longest-waiting first.
type Lobby struct {
	Locked  bool
	Waiting []meeting.Participant
}

// Lobby reads the lobby, for the host and co-hosts.
func (s *Service) Lobby(ctx context.Context, a service.Actor, meetingID string) (Lobby, error) {
	q := s.env.Store.DB
	m, _, err := s.moderatorAtDoor(ctx, q, a, meetingID)
	if err != nil {
		return Lobby{}, err
	}
	list, err := store.WaitingList(ctx, q, m.ID)
	if err != nil {
		return Lobby{}, err
	}
	return Lobby{Locked: m.Locked, Waiting: list}, nil
}

// moderationTarget reads the participant participantID a host or co-host
// acts on, and refuses what nobody may do to them.
func (s *Service) moderationTarget(ctx context.Context, q database.Querier, a service.Actor, meetingID, participantID string) (meeting.Meeting, meeting.Participant, error) {
	m, self, err := s.moderatorAtDoor(ctx, q, a, meetingID)
	if err != nil {
		return m, meeting.Participant{}, err
	}
	target, err := store.MeetingParticipant(ctx, q, m.ID, participantID)
	if err != nil {
		return m, target, err
	}
	return m, target, meeting.CanBeModerated(self, target)
}

// moderate records what the actor did to target (action
// "meeting.<what>") and stores the target's new lobby state ("" leaves
// it), in tx.
func (s *Service) moderate(ctx context.Context, tx *service.Tx, a service.Actor, action string, target meeting.Participant, state string) error {
	now := s.env.Clock.Now()
	if state != "" {
		if err := store.SetLobbyState(ctx, tx, target.ID, state, now); err != nil {
			return err
		}
	}
	return tx.Audit(ctx, audit.Entry{
		At: now, Actor: memberParty(a), Action: action, Subject: partyOf(target), Purpose: callPurpose,
		Detail: map[string]string{"meeting": target.MeetingID, "participant": target.ID},
	})
}

// Admit lets someone in, also someone turned away or removed before.
func (s *Service) Admit(ctx context.Context, a service.Actor, meetingID, participantID string) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		_, target, err := s.moderationTarget(ctx, tx, a, meetingID, participantID)
		if err != nil {
			return err
		}
		return s.moderate(ctx, tx, a, "meeting.admit", target, meeting.LobbyAdmitted)
	})
}

// Deny turns someone away from the lobby: they get no token until a host
// admits them. It reports whether they were connected to the call, and
// so were disconnected; a video server that cannot be reached is only
// logged, since someone in the lobby is normally not connected at all.
func (s *Service) Deny(ctx context.Context, a service.Actor, meetingID, participantID string) (disconnected bool, err error) {
	return s.keepOut(ctx, a, meetingID, participantID, "meeting.deny", false)
}

// Remove disconnects someone from the call and keeps them out. A video
// server that cannot be reached is an error here: the host must know the
// person may still be connected.
func (s *Service) Remove(ctx context.Context, a service.Actor, meetingID, participantID string) (disconnected bool, err error) {
	return s.keepOut(ctx, a, meetingID, participantID, "meeting.remove", true)
}

// keepOut turns the target away and ends their connection to the call.
// The door closes first, and commits, so that the person cannot come
// straight back with a fresh token; only then is the video server asked.
func (s *Service) keepOut(ctx context.Context, a service.Actor, meetingID, participantID, action string, mustDisconnect bool) (bool, error) {
	var m meeting.Meeting
	var target meeting.Participant
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		var err error
		if m, target, err = s.moderationTarget(ctx, tx, a, meetingID, participantID); err != nil {
			return err
		}
		// Turning away also voids every call token handed out so far,
		// the refreshed copies LiveKit gave a connected client included:
		// the video server's webhooks refuse them (RecordEvent).
		if err := store.TurnAway(ctx, tx, target.ID, s.env.Clock.Now()); err != nil {
			return err
		}
		return s.moderate(ctx, tx, a, action, target, "")
	})
	if err != nil || s.env.Video == nil {
		return false, err
	}
	err = s.env.Video.RemoveParticipant(ctx, m.ID, target.ID)
	switch {
	case err == nil:
		return true, nil
	case errs.CodeOf(err) == errs.NotFound:
	case mustDisconnect:
		return false, errs.Wrap(errs.Unavailable, err, "they are kept out, but the video server could not be reached to disconnect them; try again")
	default:
		s.env.Log.LogAttrs(ctx, slog.LevelWarn, "could not disconnect a participant turned away", slog.String("error", err.Error()))
	}
	return false, nil
}

// Mute mutes someone's microphone; they may unmute themselves. The video
// server is asked first, outside the transaction, and the mute is
// recorded only once it is done; the permission is checked before asking
// it and again in the transaction that records it.
func (s *Service) Mute(ctx context.Context, a service.Actor, meetingID, participantID string) error {
	if err := s.requireVideo(); err != nil {
		return err
	}
	m, target, err := s.moderationTarget(ctx, s.env.Store.DB, a, meetingID, participantID)
	if err != nil {
		return err
	}
	if err := s.env.Video.MuteMicrophone(ctx, m.ID, target.ID); err != nil {
		return err
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		_, target, err := s.moderationTarget(ctx, tx, a, meetingID, participantID)
		if err != nil {
			return err
		}
		return s.moderate(ctx, tx, a, "meeting.mute", target, "")
	})
}

// SetLocked locks or unlocks a meeting's door: locked, nobody but the
// host and co-hosts comes in. Nothing changes, and nothing is audited,
// when the meeting already is as asked.
func (s *Service) SetLocked(ctx context.Context, a service.Actor, meetingID string, locked bool) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		m, _, err := s.moderatorAtDoor(ctx, tx, a, meetingID)
		if err != nil {
			return err
		}
		if m.State == meeting.Cancelled {
			return errs.E(errs.Conflict, "this meeting was cancelled")
		}
		now := s.env.Clock.Now()
		changed, err := store.SetLocked(ctx, tx, m.ID, locked, now)
		if err != nil || !changed {
			return err
		}
		action := "meeting.unlock"
		if locked {
			action = "meeting.lock"
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: memberParty(a), Action: action, Subject: audit.Party{Kind: "meeting", ID: m.ID}, Purpose: callPurpose,
		})
	})
}

// EndCall ends the call for everyone in it, for the host and co-hosts:
// the door is reset as when a call finishes (guests wait again, visits
// still open are closed, the call is no longer live) and commits first,
// so nobody comes straight back with the token they hold; only then is
// the video server asked to close the room, which disconnects everybody.
// It reports whether the call was running on the video server.
func (s *Service) EndCall(ctx context.Context, a service.Actor, meetingID string) (disconnected bool, err error) {
	if err := s.requireVideo(); err != nil {
		return false, err
	}
	var m meeting.Meeting
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		var err error
		if m, _, err = s.moderatorAtDoor(ctx, tx, a, meetingID); err != nil {
			return err
		}
		now := s.env.Clock.Now()
		if _, err := store.RecordCallEvent(ctx, tx, meeting.CallEvent{Kind: meeting.CallFinished, MeetingID: m.ID, At: now}, now); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: memberParty(a), Action: "meeting.end_call", Subject: audit.Party{Kind: "meeting", ID: m.ID}, Purpose: callPurpose,
		})
	})
	if err != nil {
		return false, err
	}
	err = s.env.Video.CloseRoom(ctx, m.ID)
	switch {
	case err == nil:
		return true, nil
	case errs.CodeOf(err) == errs.NotFound:
		// Nobody was connected: the call is over all the same.
		return false, nil
	}
	return false, errs.Wrap(errs.Unavailable, err, "the call is closed to newcomers, but the video server could not be reached to disconnect everyone; try again")
}
