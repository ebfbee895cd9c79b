// Package calls holds the use cases of video calls: the door, the lobby,
// moderation, chat and questions, and the video server's events.
//
// The rules of the door are meeting.Join's; this package reads who is at
// the door, applies the rules, stores what they change, and mints the
// LiveKit token of someone let in. Asking the video server to disconnect
// or mute someone is done here too, around the transaction that records
// it, never inside it: a transaction must not wait on another server.
//
// Use cases that only read (polling the door, the chat, the lobby, the
// attendance) run on the database without a transaction. They are polled
// every few seconds by everyone in a call, and on SQLite every
// transaction takes the write lock.
package calls

import (
	"context"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Service runs the use cases of video calls: the door, the lobby,
// moderation, chat and questions, and the video server's events.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }

// callPurpose is the data map purpose of everything a call stores.
const callPurpose = "service"

// Door names who stands at a meeting's door: a signed-in member by the
// meeting and their account, or anyone by the personal link they were
// sent. The service reads both inside the use case, so that what it
// checks is what it changes.
type Door struct {
	meetingID, accountID string
	token                string
}

// MemberDoor is the signed-in member at the door of meeting meetingID.
func MemberDoor(a service.Actor, meetingID string) Door {
	return Door{meetingID: meetingID, accountID: a.AccountID}
}

// GuestDoor is whoever holds the personal link token.
func GuestDoor(token string) Door { return Door{token: token} }

// guest reports whether the door is a personal link.
func (d Door) guest() bool { return d.token != "" }

// atDoor reads the meeting and the participant at the door. Members who
// take no part get errs.Forbidden; forged, expired, revoked and unknown
// links are all the same errs.NotFound.
func (s *Service) atDoor(ctx context.Context, q database.Querier, d Door) (meeting.Meeting, meeting.Participant, error) {
	if !d.guest() {
		if d.accountID == "" {
			return meeting.Meeting{}, meeting.Participant{}, errs.E(errs.Unauthorized, "sign in first")
		}
		return store.MemberAtDoor(ctx, q, d.meetingID, d.accountID)
	}
	p, err := store.ParticipantByInvite(ctx, q, s.env.Secret, d.token, s.env.Clock.Now())
	if err != nil {
		return meeting.Meeting{}, meeting.Participant{}, err
	}
	m, err := store.GetMeeting(ctx, q, p.MeetingID)
	return m, p, err
}

// moderatorAtDoor is the member's place in the meeting, for what only
// hosts and co-hosts do.
func (s *Service) moderatorAtDoor(ctx context.Context, q database.Querier, a service.Actor, meetingID string) (meeting.Meeting, meeting.Participant, error) {
	m, p, err := s.atDoor(ctx, q, MemberDoor(a, meetingID))
	if err != nil {
		return m, p, err
	}
	if !meeting.CanModerate(p.Role) {
		return m, p, errs.E(errs.Forbidden, "only the host and co-hosts may do this")
	}
	return m, p, nil
}

// requireVideo refuses what needs a video server on a server that runs
// none.
func (s *Service) requireVideo() error {
	if s.env.Video == nil {
		return errs.E(errs.Unavailable, "video calls are not available on this server")
	}
	return nil
}

// memberParty is how the acting member appears in the audit log.
func memberParty(a service.Actor) audit.Party { return audit.Party{Kind: "member", ID: a.AccountID} }

// partyOf is how a participant appears in the audit log: as the member,
// whose access log then shows it, or as the guest's participant id.
func partyOf(p meeting.Participant) audit.Party {
	if p.AccountID != "" {
		return audit.Party{Kind: "member", ID: p.AccountID}
	}
	return audit.Party{Kind: "guest", ID: p.ID}
}

// refusal splits err into a refusal the person is shown (an *errs.Error
// that is not internal) and anything else, which fails the use case.
func refusal(err error) (refused, failed error) {
	if err == nil {
		return nil, nil
	}
	if e, ok := errs.As(err); ok && e.Code != errs.Internal {
		return err, nil
	}
	return nil, err
}
