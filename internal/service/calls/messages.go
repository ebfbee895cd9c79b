package calls

import (
	"context"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// The chat and questions of a call belong to the people in it.

// inCall refuses someone not let in to the call.
func inCall(m meeting.Meeting, p meeting.Participant) error {
	if m.State == meeting.Cancelled {
		return errs.E(errs.Conflict, "this meeting was cancelled")
	}
	if !meeting.InCall(m, p) {
		return errs.E(errs.Forbidden, "join the call to read and write its chat")
	}
	return nil
}

// Messages returns the conversation after the cursor since (a message's
// Seq), a page at a time, in order.
func (s *Service) Messages(ctx context.Context, d Door, since int64) ([]meeting.Message, error) {
	q := s.env.Store.DB
	m, p, err := s.atDoor(ctx, q, d)
	if err != nil {
		return nil, err
	}
	if err := inCall(m, p); err != nil {
		return nil, err
	}
	return store.Messages(ctx, q, m.ID, since, store.MaxMessagesPage)
}

// PostMessage writes a chat message or question (kind "chat", the
// default, or "question") as the person at the door.
func (s *Service) PostMessage(ctx context.Context, d Door, kind, body string) (meeting.Message, error) {
	var msg meeting.Message
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		m, p, err := s.atDoor(ctx, tx, d)
		if err != nil {
			return err
		}
		if err := inCall(m, p); err != nil {
			return err
		}
		k, text, err := meeting.CheckMessage(kind, body)
		if err != nil {
			return err
		}
		msg, err = store.AddMessage(ctx, tx, meeting.Message{
			ID: meeting.NewMessageID(), MeetingID: m.ID, ParticipantID: p.ID, AuthorName: p.DisplayName(),
			Kind: k, Body: text, CreatedAt: s.env.Clock.Now(),
		})
		return err
	})
	return msg, err
}

// MarkAnswered marks a question answered, for the host and co-hosts.
func (s *Service) MarkAnswered(ctx context.Context, a service.Actor, meetingID, messageID string) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		m, _, err := s.moderatorAtDoor(ctx, tx, a, meetingID)
		if err != nil {
			return err
		}
		return store.MarkAnswered(ctx, tx, m.ID, messageID, s.env.Clock.Now())
	})
}
