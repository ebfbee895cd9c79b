package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/database"
)

// Video calls: the door of a meeting (lock and lobby), the chat and
// questions written in it, and the attendance and live state the video
// server's webhooks report. The meeting and participant rows themselves are
// meetings.go's, read with its queries; this file writes only their
// lobby_state, lobby_at, door_generation and locked.

// webhookMemory is how long handled webhook ids are kept. LiveKit retries a
// failed delivery within minutes; a day is far beyond that.
const webhookMemory = 24 * time.Hour

// MemberAtDoor reads a meeting and the member's place in it. An unknown
// meeting gives errs.NotFound; a member who takes no part in it
// errs.Forbidden, whoever else may see the meeting, since only the people
// invited may join its call.
func MemberAtDoor(ctx context.Context, q database.Querier, meetingID, accountID string) (meeting.Meeting, meeting.Participant, error) {
	m, err := GetMeeting(ctx, q, meetingID)
	if err != nil {
		return meeting.Meeting{}, meeting.Participant{}, err
	}
	p, err := scanParticipant(q.QueryRow(ctx, `SELECT `+participantColumns+participantFrom+`
		WHERE p.meeting_id = ? AND p.account_id = ?`, meetingID, accountID))
	if errors.Is(err, database.ErrNotFound) {
		return meeting.Meeting{}, meeting.Participant{}, errs.E(errs.Forbidden, "you are not taking part in this meeting")
	}
	if err != nil {
		return meeting.Meeting{}, meeting.Participant{}, fmt.Errorf("member at door: %w", err)
	}
	return m, p, nil
}

// SetLobbyState stores where a participant stands at the door ("" for
// nowhere yet).
func SetLobbyState(ctx context.Context, q database.Querier, participantID, state string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE meeting_participants SET lobby_state = ?, lobby_at = ? WHERE id = ?`,
		nullString(state), now.UTC(), participantID)
	if err != nil {
		return fmt.Errorf("set lobby state: %w", err)
	}
	return nil
}

// TurnAway stores that a host turned the participant away or removed
// them, and counts it in their door generation, so that every call token
// minted for them until now is refused.
func TurnAway(ctx context.Context, q database.Querier, participantID string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE meeting_participants SET lobby_state = ?, lobby_at = ?, door_generation = door_generation + 1 WHERE id = ?`,
		meeting.LobbyDenied, now.UTC(), participantID)
	if err != nil {
		return fmt.Errorf("turn away: %w", err)
	}
	return nil
}

// CallEventSeen reports whether the video server's event id was handled
// before (within webhookMemory).
func CallEventSeen(ctx context.Context, q database.Querier, id string) (bool, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM livekit_webhook_events WHERE id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("webhook seen: %w", err)
	}
	return n > 0, nil
}

// GuestArrives stores what a guest gave at the door, their name (and the
// address, when the invitation named none), with their new lobby state
// ("" leaves it).
func GuestArrives(ctx context.Context, q database.Querier, participantID string, d meeting.GuestDetails, state string, now time.Time) error {
	return inTx(ctx, q, func(tx database.Querier) error {
		if _, err := tx.Exec(ctx, `UPDATE meeting_participants SET name = ?, email = COALESCE(email, ?) WHERE id = ?`,
			d.Name, d.Email, participantID); err != nil {
			return fmt.Errorf("guest arrives: %w", err)
		}
		if state == "" {
			return nil
		}
		return SetLobbyState(ctx, tx, participantID, state, now)
	})
}

// WaitingList returns the participants waiting in a meeting's lobby, the
// longest-waiting first.
func WaitingList(ctx context.Context, q database.Querier, meetingID string) ([]meeting.Participant, error) {
	rows, err := q.Query(ctx, `SELECT `+participantColumns+participantFrom+`
		WHERE p.meeting_id = ? AND p.lobby_state = ? ORDER BY p.lobby_at, p.id`, meetingID, meeting.LobbyWaiting)
	if err != nil {
		return nil, fmt.Errorf("waiting list: %w", err)
	}
	return collectRows(rows, scanParticipant)
}

// SetLocked locks or unlocks a meeting. It reports whether anything
// changed: false when the meeting already is as asked.
func SetLocked(ctx context.Context, q database.Querier, meetingID string, locked bool, now time.Time) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE meetings SET locked = ?, updated_at = ? WHERE id = ? AND locked <> ?`, locked, now.UTC(), meetingID, locked)
	if err != nil {
		return false, fmt.Errorf("set locked: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// AddMessage stores a chat message or question as the next of its
// meeting's conversation and returns it with its seq.
//
// Seq is the meeting's highest plus one, taken while holding the meeting's
// row (PostgreSQL) or the database's single writer (SQLite), so messages
// become visible in seq order and a page polling "after seq N" never
// skips one that was still being written.
func AddMessage(ctx context.Context, q database.Querier, msg meeting.Message) (meeting.Message, error) {
	err := inTx(ctx, q, func(tx database.Querier) error {
		if tx.Dialect() == database.Postgres {
			if _, err := tx.Exec(ctx, `SELECT id FROM meetings WHERE id = ? FOR UPDATE`, msg.MeetingID); err != nil {
				return fmt.Errorf("lock meeting: %w", err)
			}
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM meeting_messages WHERE meeting_id = ?`, msg.MeetingID).Scan(&msg.Seq); err != nil {
			return fmt.Errorf("next message seq: %w", err)
		}
		var account sql.NullString
		if err := tx.QueryRow(ctx, `SELECT account_id FROM meeting_participants WHERE id = ?`, msg.ParticipantID).Scan(&account); err != nil {
			return fmt.Errorf("message author: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO meeting_messages (id, meeting_id, seq, participant_id, account_id, author_name, kind, body, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			msg.ID, msg.MeetingID, msg.Seq, msg.ParticipantID, account, msg.AuthorName, string(msg.Kind), msg.Body, msg.CreatedAt.UTC())
		if err != nil {
			return fmt.Errorf("add message: %w", err)
		}
		return nil
	})
	msg.CreatedAt = msg.CreatedAt.UTC()
	return msg, err
}

// MaxMessagesPage bounds one read of a conversation.
const MaxMessagesPage = 200

// Messages returns up to limit of a meeting's messages after seq since, in
// order.
func Messages(ctx context.Context, q database.Querier, meetingID string, since int64, limit int) ([]meeting.Message, error) {
	if limit <= 0 || limit > MaxMessagesPage {
		limit = MaxMessagesPage
	}
	rows, err := q.Query(ctx, `SELECT id, meeting_id, seq, participant_id, author_name, kind, body, answered_at, created_at
		FROM meeting_messages WHERE meeting_id = ? AND seq > ? ORDER BY seq LIMIT ?`, meetingID, since, limit)
	if err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	return collectRows(rows, func(row scanner) (meeting.Message, error) {
		var (
			m        meeting.Message
			author   sql.NullString
			kind     string
			answered sql.NullTime
		)
		if err := row.Scan(&m.ID, &m.MeetingID, &m.Seq, &author, &m.AuthorName, &kind, &m.Body, &answered, &m.CreatedAt); err != nil {
			return meeting.Message{}, err
		}
		m.ParticipantID, m.Kind, m.AnsweredAt, m.CreatedAt = author.String, meeting.MessageKind(kind), nullTime(answered), m.CreatedAt.UTC()
		return m, nil
	})
}

// MarkAnswered marks a question of the meeting answered. An unknown
// message, or one that is not a question, gives errs.NotFound; one
// answered already stays as it was.
func MarkAnswered(ctx context.Context, q database.Querier, meetingID, messageID string, now time.Time) error {
	res, err := q.Exec(ctx, `UPDATE meeting_messages SET answered_at = COALESCE(answered_at, ?) WHERE meeting_id = ? AND id = ? AND kind = ?`,
		now.UTC(), meetingID, messageID, string(meeting.Question))
	if err != nil {
		return fmt.Errorf("mark answered: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "this meeting has no such question")
	}
	return nil
}

// RecordCallEvent applies one verified webhook of the video server:
// attendance for participants joining and leaving, the live state for
// calls starting and finishing. It reports false, changing nothing, for an
// event seen before and for rooms and identities that are not our
// meetings and participants.
//
// When a call finishes, visits still open are closed at that time (a lost
// "left" must not keep someone present for ever), and the door is reset:
// guests wait again and passcodes are asked again at the next call. Each
// change is bounded by the event's time, since deliveries are retried and
// arrive out of order: a late "finished" does not undo what a newer call
// did.
func RecordCallEvent(ctx context.Context, q database.Querier, ev meeting.CallEvent, now time.Time) (bool, error) {
	recorded := false
	err := inTx(ctx, q, func(tx database.Querier) error {
		if ev.ID != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM livekit_webhook_events WHERE received_at < ?`, now.Add(-webhookMemory).UTC()); err != nil {
				return fmt.Errorf("forget old webhooks: %w", err)
			}
			// DO NOTHING rather than catching the duplicate: on PostgreSQL a
			// failed statement would abort the whole transaction.
			res, err := tx.Exec(ctx, `INSERT INTO livekit_webhook_events (id, received_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, ev.ID, now.UTC())
			if err != nil {
				return fmt.Errorf("remember webhook: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM meetings WHERE id = ?`, ev.MeetingID).Scan(&n); err != nil {
			return fmt.Errorf("webhook meeting: %w", err)
		}
		if n == 0 {
			return nil
		}
		at := ev.At.UTC()
		switch ev.Kind {
		case meeting.ParticipantJoined, meeting.ParticipantLeft:
			if ev.ConnectionID == "" {
				return nil
			}
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM meeting_participants WHERE id = ? AND meeting_id = ?`,
				ev.ParticipantID, ev.MeetingID).Scan(&n); err != nil {
				return fmt.Errorf("webhook participant: %w", err)
			}
			if n == 0 {
				return nil
			}
			column := "joined_at"
			if ev.Kind == meeting.ParticipantLeft {
				column = "left_at"
			}
			// column is one of two constants, never input.
			_, err := tx.Exec(ctx, `INSERT INTO meeting_attendance (id, meeting_id, participant_id, connection_id, `+column+`)
				VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (meeting_id, connection_id) DO UPDATE SET `+column+` = COALESCE(meeting_attendance.`+column+`, excluded.`+column+`)`,
				meeting.NewAttendanceID(), ev.MeetingID, ev.ParticipantID, ev.ConnectionID, at)
			if err != nil {
				return fmt.Errorf("record attendance: %w", err)
			}
		case meeting.CallStarted:
			_, err := tx.Exec(ctx, `INSERT INTO meeting_live (meeting_id, started_at) VALUES (?, ?)
				ON CONFLICT (meeting_id) DO UPDATE SET started_at = excluded.started_at, ended_at = NULL
				WHERE meeting_live.started_at <= excluded.started_at`, ev.MeetingID, at)
			if err != nil {
				return fmt.Errorf("call started: %w", err)
			}
		case meeting.CallFinished:
			if _, err := tx.Exec(ctx, `UPDATE meeting_live SET ended_at = ? WHERE meeting_id = ? AND started_at <= ? AND ended_at IS NULL`,
				at, ev.MeetingID, at); err != nil {
				return fmt.Errorf("call finished: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE meeting_attendance SET left_at = ? WHERE meeting_id = ? AND left_at IS NULL AND joined_at <= ?`,
				at, ev.MeetingID, at); err != nil {
				return fmt.Errorf("close visits: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE meeting_participants SET lobby_state = NULL, lobby_at = ?
				WHERE meeting_id = ? AND lobby_state IN (?, ?) AND (lobby_at IS NULL OR lobby_at <= ?)`,
				at, ev.MeetingID, meeting.LobbyWaiting, meeting.LobbyAdmitted, at); err != nil {
				return fmt.Errorf("reset the door: %w", err)
			}
		default:
			return nil
		}
		recorded = true
		return nil
	})
	return recorded, err
}

// Attendance returns a meeting's attendance, one entry per connection, in
// the order people joined (visits whose "joined" has not arrived last).
func Attendance(ctx context.Context, q database.Querier, meetingID string) ([]meeting.Attendance, error) {
	rows, err := q.Query(ctx, `SELECT p.id, p.name, p.email, p.role, a.name, t.joined_at, t.left_at
		FROM meeting_attendance t
		JOIN meeting_participants p ON p.id = t.participant_id
		LEFT JOIN accounts a ON a.id = p.account_id
		WHERE t.meeting_id = ?
		ORDER BY CASE WHEN t.joined_at IS NULL THEN 1 ELSE 0 END, t.joined_at, t.id`, meetingID)
	if err != nil {
		return nil, fmt.Errorf("attendance: %w", err)
	}
	return collectRows(rows, func(row scanner) (meeting.Attendance, error) {
		var (
			a                        meeting.Attendance
			name, email, accountName sql.NullString
			role                     string
			joined, left             sql.NullTime
		)
		if err := row.Scan(&a.ParticipantID, &name, &email, &role, &accountName, &joined, &left); err != nil {
			return meeting.Attendance{}, err
		}
		p := meeting.Participant{Name: name.String, Email: email.String, AccountName: accountName.String}
		a.Name, a.Role, a.JoinedAt, a.LeftAt = p.DisplayName(), meeting.Role(role), nullTime(joined), nullTime(left)
		return a, nil
	})
}

// LiveState says whether a meeting's call is running.
func LiveState(ctx context.Context, q database.Querier, meetingID string) (meeting.Live, error) {
	var started, ended sql.NullTime
	err := q.QueryRow(ctx, `SELECT started_at, ended_at FROM meeting_live WHERE meeting_id = ?`, meetingID).Scan(&started, &ended)
	if errors.Is(err, database.ErrNotFound) {
		return meeting.Live{}, nil
	}
	if err != nil {
		return meeting.Live{}, fmt.Errorf("live state: %w", err)
	}
	return meeting.Live{Running: !ended.Valid, StartedAt: nullTime(started), EndedAt: nullTime(ended)}, nil
}
