package video

import (
	"net/http"
	"time"

	"github.com/livekit/protocol/webhook"

	"github.com/sessionshq/sessions/internal/errs"
)

// EventKind names what happened in a call.
type EventKind string

const (
	RoomStarted       EventKind = "room_started"
	RoomFinished      EventKind = "room_finished"
	ParticipantJoined EventKind = "participant_joined"
	ParticipantLeft   EventKind = "participant_left"
)

// Event is a webhook reduced to what attendance and the session's live state
// need. It carries ids only: the display name LiveKit also sends is dropped
// here so it cannot spread further.
type Event struct {
	// ID is LiveKit's event id. LiveKit retries deliveries, so the same event
	// can arrive twice; record it and ignore repeats.
	ID   string
	Kind EventKind
	Room string // the session's id, as given in the token
	// Participant is the identity from the token; empty for room events.
	Participant string
	// Connection is LiveKit's id for this one connection of the participant.
	// One person can hold two connections at once for a moment (a reload, a
	// second tab), and webhooks are not ordered: pair joined and left by
	// Connection, not by Participant, or a late "left" closes the new visit.
	Connection string
	// Door is the door generation the connection's token was minted at
	// (Grant.Door), for ParticipantJoined.
	Door int64
	At   time.Time
}

// maxWebhookBytes is far above any event LiveKit sends; it only stops a
// stranger from making us hash an endless body before the signature fails.
const maxWebhookBytes = 1 << 20

// ReceiveWebhook verifies that r was signed by this SFU's key and body hash,
// and returns the event. ok is false for verified events attendance does not
// use (tracks, egress). An unsigned or wrongly signed request gives an
// errs.Unauthorized error, which the HTTP layer turns into 401.
func (s *SFU) ReceiveWebhook(r *http.Request) (ev Event, ok bool, err error) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxWebhookBytes)
	e, err := webhook.ReceiveWebhookEvent(r, s.keys)
	if err != nil {
		// The cause says which check failed; it goes to the log via Err,
		// never to the caller.
		return Event{}, false, errs.Wrap(errs.Unauthorized, err, "the webhook is not signed by the video server")
	}

	ev = Event{
		ID:          e.GetId(),
		Room:        e.GetRoom().GetName(),
		Participant: e.GetParticipant().GetIdentity(),
		Connection:  e.GetParticipant().GetSid(),
		Door:        doorOf(e.GetParticipant().GetAttributes()),
		At:          s.clock.Now(),
	}
	if e.GetCreatedAt() > 0 {
		// LiveKit's own timestamp says when it happened; deliveries can be
		// retried minutes later.
		ev.At = time.Unix(e.GetCreatedAt(), 0).UTC()
	}
	switch e.GetEvent() {
	case webhook.EventRoomStarted:
		ev.Kind = RoomStarted
	case webhook.EventRoomFinished:
		ev.Kind = RoomFinished
	case webhook.EventParticipantJoined:
		ev.Kind = ParticipantJoined
	case webhook.EventParticipantLeft, webhook.EventParticipantConnectionAborted:
		// An aborted connection never got media through; to attendance it is
		// a departure all the same, so an open visit is closed.
		ev.Kind = ParticipantLeft
	default:
		return Event{}, false, nil
	}
	if (ev.Kind == ParticipantJoined || ev.Kind == ParticipantLeft) && ev.Participant == "" {
		return Event{}, false, errs.E(errs.Invalid, "the webhook names no participant")
	}
	return ev, true, nil
}
