package meeting

import (
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

// MessageKind is what a stored message is.
type MessageKind string

const (
	Chat     MessageKind = "chat"
	Question MessageKind = "question"
)

// MaxMessageRunes bounds one chat message or question.
const MaxMessageRunes = 2000

// Message is a chat message or a question written in a meeting.
type Message struct {
	ID        string
	MeetingID string
	// Seq numbers the meeting's messages in the order they were stored;
	// pages poll for those after the last one they saw.
	Seq           int64
	ParticipantID string // "" once the author's data is erased
	AuthorName    string
	Kind          MessageKind
	Body          string
	AnsweredAt    *time.Time
	CreatedAt     time.Time
}

// NewMessageID returns a new message id.
func NewMessageID() string { return randomID("msg_") }

// CheckMessage validates a message about to be written.
func CheckMessage(kind, body string) (MessageKind, string, error) {
	v := errs.Validation{}
	k := MessageKind(kind)
	if k == "" {
		k = Chat
	}
	if k != Chat && k != Question {
		v.Add("kind", "must be chat or question")
	}
	body = CheckText(v, "body", body, MaxMessageRunes, true)
	if err := v.Err(); err != nil {
		return "", "", err
	}
	return k, body, nil
}

// Attendance is one connection of a participant to the meeting's call. A
// time is nil until its webhook arrives; webhooks come in any order.
type Attendance struct {
	ParticipantID string
	Name          string
	Role          Role
	JoinedAt      *time.Time
	LeftAt        *time.Time
}

// NewAttendanceID returns a new attendance record id.
func NewAttendanceID() string { return randomID("att_") }

// Live says whether the meeting's call is running.
type Live struct {
	Running   bool
	StartedAt *time.Time // of the latest call
	EndedAt   *time.Time // of the latest call, nil while it runs
}

// CallEventKind names what happened in a meeting's call.
type CallEventKind string

const (
	CallStarted       CallEventKind = "room_started"
	CallFinished      CallEventKind = "room_finished"
	ParticipantJoined CallEventKind = "participant_joined"
	ParticipantLeft   CallEventKind = "participant_left"
)

// CallEvent is one verified webhook of the video server, reduced to ids.
type CallEvent struct {
	ID   string // the video server's event id; a repeat is ignored
	Kind CallEventKind
	// MeetingID is the room's name. Rooms that are not our meetings (an
	// external LiveKit may serve other applications too) are ignored.
	MeetingID     string
	ParticipantID string // the identity in the call; "" for room events
	ConnectionID  string // one connection of the participant
	At            time.Time
}
