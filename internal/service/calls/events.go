package calls

import (
	"context"

	"github.com/sessionshq/sessions/internal/meeting"
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
func (s *Service) RecordEvent(ctx context.Context, ev video.Event) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		_, err := store.RecordCallEvent(ctx, tx, meeting.CallEvent{
			ID: ev.ID, Kind: meeting.CallEventKind(ev.Kind), MeetingID: ev.Room,
			ParticipantID: ev.Participant, ConnectionID: ev.Connection, At: ev.At,
		}, s.env.Clock.Now())
		return err
	})
}
