package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/privacy/audit"
)

// Meetings, their participants and invitations: the rows. The use cases
// (internal/service/meetings) lock a meeting's row first with
// MeetingForUpdate, then ask package meeting what the actor may do, then
// write the change with the functions here. Someone who may not see a
// meeting gets the same "not found" whether or not it exists.
//
// Agenda, templates and resources are in meetings_content.go.

const meetingColumns = `m.id, m.org_id, m.host_id, m.title, m.description, m.starts_at, m.time_zone, m.duration_minutes,
	m.rrule, m.exdates, m.follows_id, m.state, m.locked, m.passcode_hash, m.lobby, m.ical_sequence,
	m.created_at, m.updated_at, m.cancelled_at`

const participantColumns = `p.id, p.meeting_id, p.account_id, p.email, p.name, COALESCE(a.name, ''), p.role,
	p.invite_expires_at, p.lobby_state, p.lobby_at, p.door_generation, p.created_at, p.accepted_at`

// participantFrom joins the account for the member's name.
const participantFrom = ` FROM meeting_participants p LEFT JOIN accounts a ON a.id = p.account_id`

func meetingNotFound() error { return errs.E(errs.NotFound, "there is no such meeting") }

func meetingSubject(id string) audit.Party { return audit.Party{Kind: "meeting", ID: id} }

func scanMeeting(s scanner, extra ...any) (meeting.Meeting, error) {
	var (
		m                                      meeting.Meeting
		orgID, hostID, rrule, exdates, follows sql.NullString
		passcode                               sql.NullString
		state                                  string
		cancelled                              sql.NullTime
	)
	dest := append([]any{&m.ID, &orgID, &hostID, &m.Title, &m.Description, &m.StartsAt, &m.TimeZone, &m.DurationMinutes,
		&rrule, &exdates, &follows, &state, &m.Locked, &passcode, &m.Lobby, &m.ICalSequence,
		&m.CreatedAt, &m.UpdatedAt, &cancelled}, extra...)
	if err := s.Scan(dest...); err != nil {
		return meeting.Meeting{}, err
	}
	m.OrgID, m.HostID, m.RRule, m.FollowsID, m.PasscodeHash = orgID.String, hostID.String, rrule.String, follows.String, passcode.String
	m.State = meeting.State(state)
	m.StartsAt, m.CreatedAt, m.UpdatedAt, m.CancelledAt = m.StartsAt.UTC(), m.CreatedAt.UTC(), m.UpdatedAt.UTC(), nullTime(cancelled)
	if exdates.String != "" {
		var list []string
		if err := json.Unmarshal([]byte(exdates.String), &list); err != nil {
			return meeting.Meeting{}, fmt.Errorf("meeting %s: exdates: %w", m.ID, err)
		}
		for _, s := range list {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return meeting.Meeting{}, fmt.Errorf("meeting %s: exdates: %w", m.ID, err)
			}
			m.ExDates = append(m.ExDates, t.UTC())
		}
	}
	return m, nil
}

func scanParticipant(s scanner) (meeting.Participant, error) {
	var (
		p                      meeting.Participant
		accountID, email, name sql.NullString
		lobby                  sql.NullString
		role                   string
		expires, lobbyAt       sql.NullTime
		accepted               sql.NullTime
	)
	if err := s.Scan(&p.ID, &p.MeetingID, &accountID, &email, &name, &p.AccountName, &role, &expires, &lobby, &lobbyAt, &p.DoorGeneration, &p.CreatedAt,
		&accepted); err != nil {
		return meeting.Participant{}, err
	}
	p.AccountID, p.Email, p.Name, p.LobbyState = accountID.String, email.String, name.String, lobby.String
	p.Role, p.CreatedAt, p.InviteExpiresAt, p.LobbyAt = meeting.Role(role), p.CreatedAt.UTC(), nullTime(expires), nullTime(lobbyAt)
	p.AcceptedAt = nullTime(accepted)
	return p, nil
}

// exdatesJSON is how exceptions are stored: NULL for none.
func exdatesJSON(ts []time.Time) (any, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	list := make([]string, 0, len(ts))
	for _, t := range ts {
		list = append(list, t.UTC().Format(time.RFC3339))
	}
	b, err := json.Marshal(list)
	return string(b), err
}

// GetMeeting returns a meeting without asking who wants it, for code
// that has checked access another way (a personal link, a webhook).
func GetMeeting(ctx context.Context, q database.Querier, id string) (meeting.Meeting, error) {
	m, err := scanMeeting(q.QueryRow(ctx, `SELECT `+meetingColumns+` FROM meetings m WHERE m.id = ?`, id))
	if errors.Is(err, database.ErrNotFound) {
		return meeting.Meeting{}, meetingNotFound()
	}
	return m, err
}

// MeetingFor returns the meeting with what the member may do with it: a
// participant by their role, an owner or admin of its organisation as
// an onlooker. Anyone else gets NotFound.
func MeetingFor(ctx context.Context, q database.Querier, id, accountID string) (meeting.Meeting, meeting.Access, error) {
	m, err := GetMeeting(ctx, q, id)
	if err != nil {
		return meeting.Meeting{}, meeting.Access{}, err
	}
	acc, err := meetingAccess(ctx, q, m, accountID)
	if err != nil {
		return meeting.Meeting{}, meeting.Access{}, err
	}
	return m, acc, nil
}

func meetingAccess(ctx context.Context, q database.Querier, m meeting.Meeting, accountID string) (meeting.Access, error) {
	var acc meeting.Access
	var role string
	err := q.QueryRow(ctx, `SELECT id, role FROM meeting_participants WHERE meeting_id = ? AND account_id = ?`, m.ID, accountID).
		Scan(&acc.ParticipantID, &role)
	switch {
	case err == nil:
		acc.Role = meeting.Role(role)
	case !errors.Is(err, database.ErrNotFound):
		return meeting.Access{}, err
	}
	if m.OrgID != "" {
		r, err := orgMemberRole(ctx, q, m.OrgID, accountID)
		if err == nil && (r == org.Owner || r == org.Admin) {
			acc.OrgAdmin = true
		}
	}
	if acc.Role == "" && !acc.OrgAdmin {
		return meeting.Access{}, meetingNotFound()
	}
	return acc, nil
}

// MeetingForUpdate locks the meeting's row for the rest of the
// transaction q and returns it with what the member may do with it, or
// NotFound as MeetingFor does. Whoever changes a meeting locks it first,
// so that concurrent changes to it, its agenda and its participants run
// one after the other.
func MeetingForUpdate(ctx context.Context, q database.Querier, id, accountID string) (meeting.Meeting, meeting.Access, error) {
	res, err := q.Exec(ctx, `UPDATE meetings SET updated_at = updated_at WHERE id = ?`, id)
	if err != nil {
		return meeting.Meeting{}, meeting.Access{}, fmt.Errorf("lock meeting: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return meeting.Meeting{}, meeting.Access{}, err
	} else if n == 0 {
		return meeting.Meeting{}, meeting.Access{}, meetingNotFound()
	}
	return MeetingFor(ctx, q, id, accountID)
}

// MeetingOrgRole is the member's role in the organisation a meeting is
// scheduled in or a template is shared with; NotFound when they do not
// belong to it.
func MeetingOrgRole(ctx context.Context, q database.Querier, orgID, accountID string) (org.Role, error) {
	return orgMemberRole(ctx, q, orgID, accountID)
}

// InsertMeeting writes a new meeting with its host's participant row
// (hostRowID), which every meeting has from the start.
func InsertMeeting(ctx context.Context, q database.Querier, m meeting.Meeting, hostRowID string) error {
	ex, err := exdatesJSON(m.ExDates)
	if err != nil {
		return err
	}
	return inTx(ctx, q, func(tx database.Querier) error {
		if _, err := tx.Exec(ctx, `INSERT INTO meetings (id, org_id, host_id, title, description, starts_at, time_zone, duration_minutes,
			rrule, exdates, follows_id, state, locked, passcode_hash, lobby, ical_sequence, created_at, updated_at, cancelled_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
			m.ID, nullString(m.OrgID), m.HostID, m.Title, m.Description, m.StartsAt.UTC(), m.TimeZone, m.DurationMinutes,
			nullString(m.RRule), ex, nullString(m.FollowsID), string(m.State), m.Locked, nullString(m.PasscodeHash), m.Lobby,
			m.ICalSequence, m.CreatedAt.UTC(), m.UpdatedAt.UTC()); err != nil {
			return fmt.Errorf("create meeting: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO meeting_participants (id, meeting_id, account_id, email, name, role, invite_digest,
			invite_expires_at, lobby_state, lobby_at, created_at, accepted_at) VALUES (?, ?, ?, NULL, NULL, ?, NULL, NULL, NULL, NULL, ?, ?)`,
			hostRowID, m.ID, m.HostID, string(meeting.Host), m.CreatedAt.UTC(), m.CreatedAt.UTC()); err != nil {
			return fmt.Errorf("add the host: %w", err)
		}
		return nil
	})
}

// SaveMeetingDetails writes what an edit may change: title, description,
// schedule, follow-up link, passcode, lobby, iCalendar sequence and
// update time.
func SaveMeetingDetails(ctx context.Context, q database.Querier, m meeting.Meeting) error {
	ex, err := exdatesJSON(m.ExDates)
	if err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `UPDATE meetings SET title = ?, description = ?, starts_at = ?, time_zone = ?, duration_minutes = ?,
		rrule = ?, exdates = ?, follows_id = ?, passcode_hash = ?, lobby = ?, ical_sequence = ?, updated_at = ? WHERE id = ?`,
		m.Title, m.Description, m.StartsAt.UTC(), m.TimeZone, m.DurationMinutes, nullString(m.RRule), ex,
		nullString(m.FollowsID), nullString(m.PasscodeHash), m.Lobby, m.ICalSequence, m.UpdatedAt.UTC(), m.ID); err != nil {
		return fmt.Errorf("update meeting: %w", err)
	}
	return nil
}

// SaveMeetingCancelled writes m's cancellation (state, time, sequence)
// and revokes every participant's personal link with it.
func SaveMeetingCancelled(ctx context.Context, q database.Querier, m meeting.Meeting) error {
	return inTx(ctx, q, func(tx database.Querier) error {
		if _, err := tx.Exec(ctx, `UPDATE meetings SET state = ?, cancelled_at = ?, ical_sequence = ?, updated_at = ? WHERE id = ?`,
			string(m.State), timeArg(m.CancelledAt), m.ICalSequence, m.UpdatedAt.UTC(), m.ID); err != nil {
			return fmt.Errorf("cancel meeting: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE meeting_participants SET invite_digest = NULL, invite_expires_at = NULL WHERE meeting_id = ?`, m.ID); err != nil {
			return fmt.Errorf("revoke links: %w", err)
		}
		return nil
	})
}

// RaiseICalSequence counts one more change calendars must apply, for a
// message that must outrank those sent before it.
func RaiseICalSequence(ctx context.Context, q database.Querier, meetingID string) error {
	_, err := q.Exec(ctx, `UPDATE meetings SET ical_sequence = ical_sequence + 1 WHERE id = ?`, meetingID)
	return err
}

// MeetingFileKeys lists the blob keys of the files shared with a meeting.
func MeetingFileKeys(ctx context.Context, q database.Querier, meetingID string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT blob_key FROM meeting_resources WHERE meeting_id = ? AND blob_key IS NOT NULL`, meetingID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// DeleteMeetingRow deletes a meeting; its participants, agenda and
// resources go with it.
func DeleteMeetingRow(ctx context.Context, q database.Querier, meetingID string) error {
	if _, err := q.Exec(ctx, `DELETE FROM meetings WHERE id = ?`, meetingID); err != nil {
		return fmt.Errorf("delete meeting: %w", err)
	}
	return nil
}

// MeetingOrganiser is the meeting's host as invitations name them; empty
// once the host's account is erased.
func MeetingOrganiser(ctx context.Context, q database.Querier, m meeting.Meeting) (meeting.CalendarPerson, error) {
	if m.HostID == "" {
		return meeting.CalendarPerson{}, nil
	}
	var o meeting.CalendarPerson
	err := q.QueryRow(ctx, `SELECT name, email FROM accounts WHERE id = ?`, m.HostID).Scan(&o.Name, &o.Email)
	if errors.Is(err, database.ErrNotFound) {
		return meeting.CalendarPerson{}, nil
	}
	return o, err
}

// SetInviteLink stores the digest and expiry of a participant's personal
// link; the link it replaces stops working.
func SetInviteLink(ctx context.Context, q database.Querier, participantID, digest string, expires time.Time) error {
	if _, err := q.Exec(ctx, `UPDATE meeting_participants SET invite_digest = ?, invite_expires_at = ? WHERE id = ?`,
		digest, expires.UTC(), participantID); err != nil {
		return fmt.Errorf("store invitation link: %w", err)
	}
	return nil
}

// ListedMeeting is a meeting in a member's list.
type ListedMeeting = meeting.Listed

// MeetingsOf lists the meetings the member takes part in and those of the
// organisations they own or administer, by first start, newest first.
func MeetingsOf(ctx context.Context, q database.Querier, accountID string) ([]ListedMeeting, error) {
	rows, err := q.Query(ctx, `SELECT `+meetingColumns+`, COALESCE(p.id, ''), COALESCE(p.role, ''),
		CASE WHEN ms.role IN ('owner', 'admin') THEN 1 ELSE 0 END
		FROM meetings m
		LEFT JOIN meeting_participants p ON p.meeting_id = m.id AND p.account_id = ?
		LEFT JOIN memberships ms ON ms.organisation_id = m.org_id AND ms.account_id = ?
		WHERE p.id IS NOT NULL OR ms.role IN ('owner', 'admin')
		ORDER BY m.starts_at DESC, m.id`, accountID, accountID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (ListedMeeting, error) {
		var (
			l        ListedMeeting
			pid      string
			role     string
			orgAdmin int
		)
		m, err := scanMeeting(s, &pid, &role, &orgAdmin)
		if err != nil {
			return ListedMeeting{}, err
		}
		l.Meeting = m
		l.Access = meeting.Access{Role: meeting.Role(role), ParticipantID: pid, OrgAdmin: orgAdmin == 1}
		return l, nil
	})
}

// MeetingParticipants lists a meeting's participants: the host first, then
// by when they were added.
func MeetingParticipants(ctx context.Context, q database.Querier, meetingID string) ([]meeting.Participant, error) {
	rows, err := q.Query(ctx, `SELECT `+participantColumns+participantFrom+` WHERE p.meeting_id = ?
		ORDER BY CASE p.role WHEN 'host' THEN 0 WHEN 'co-host' THEN 1 ELSE 2 END, p.created_at, p.id`, meetingID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanParticipant)
}

// MeetingParticipant returns one participant of the meeting.
func MeetingParticipant(ctx context.Context, q database.Querier, meetingID, participantID string) (meeting.Participant, error) {
	p, err := scanParticipant(q.QueryRow(ctx, `SELECT `+participantColumns+participantFrom+` WHERE p.meeting_id = ? AND p.id = ?`,
		meetingID, participantID))
	if errors.Is(err, database.ErrNotFound) {
		return meeting.Participant{}, errs.E(errs.NotFound, "there is no such participant in this meeting")
	}
	return p, err
}

// ParticipantByInvite returns the participant a personal link's token
// names. A forged, expired, replaced or revoked link, and one for a
// participant who was removed, all give the same NotFound.
func ParticipantByInvite(ctx context.Context, q database.Querier, secret []byte, token string, now time.Time) (meeting.Participant, error) {
	invalid := errs.E(errs.NotFound, "this link is not valid: it may have expired or been replaced by a newer one")
	id, err := signed.Check(secret, meeting.InvitePurpose, token, now)
	if err != nil {
		return meeting.Participant{}, invalid
	}
	p, err := scanParticipant(q.QueryRow(ctx, `SELECT `+participantColumns+participantFrom+` WHERE p.id = ? AND p.invite_digest = ?`,
		id, signed.Digest(token)))
	if errors.Is(err, database.ErrNotFound) || (err == nil && (p.InviteExpiresAt == nil || !now.Before(*p.InviteExpiresAt))) {
		return meeting.Participant{}, invalid
	}
	return p, err
}

// InviteeAccount returns the id and name of the account holding the
// normalised address, or "" when nobody has it (the invitee is a guest).
// Only an account that proved it receives mail at the address counts:
// an invitation must not land in the list of whoever typed someone
// else's address at sign-up.
func InviteeAccount(ctx context.Context, q database.Querier, email string) (id, name string, err error) {
	err = q.QueryRow(ctx, `SELECT id, name FROM accounts WHERE email = ? AND email_verified_at IS NOT NULL`, email).Scan(&id, &name)
	if errors.Is(err, database.ErrNotFound) {
		return "", "", nil
	}
	return id, name, err
}

// TakesPart reports whether the address, or the account (when not ""),
// is already on the meeting's participant list.
func TakesPart(ctx context.Context, q database.Querier, meetingID, email, accountID string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM meeting_participants WHERE meeting_id = ? AND (email = ? OR (account_id IS NOT NULL AND account_id = ?))`,
		meetingID, email, accountID).Scan(&n)
	return n > 0, err
}

// InsertParticipant adds an invited participant (not the host, whom
// InsertMeeting adds), without a link yet.
func InsertParticipant(ctx context.Context, q database.Querier, p meeting.Participant) error {
	if _, err := q.Exec(ctx, `INSERT INTO meeting_participants (id, meeting_id, account_id, email, name, role, invite_digest,
		invite_expires_at, lobby_state, lobby_at, created_at) VALUES (?, ?, ?, ?, NULL, ?, NULL, NULL, NULL, NULL, ?)`,
		p.ID, p.MeetingID, nullString(p.AccountID), nullString(p.Email), string(p.Role), p.CreatedAt.UTC()); err != nil {
		return fmt.Errorf("add participant: %w", err)
	}
	return nil
}

// AcceptParticipant records that the participant came through the
// meeting's door, once: the first time stays.
func AcceptParticipant(ctx context.Context, q database.Querier, participantID string, now time.Time) error {
	if _, err := q.Exec(ctx, `UPDATE meeting_participants SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL`,
		now.UTC(), participantID); err != nil {
		return fmt.Errorf("accept invitation: %w", err)
	}
	return nil
}

// SetParticipantRole changes a participant's role.
func SetParticipantRole(ctx context.Context, q database.Querier, participantID string, role meeting.Role) error {
	if _, err := q.Exec(ctx, `UPDATE meeting_participants SET role = ? WHERE id = ?`, string(role), participantID); err != nil {
		return fmt.Errorf("change role: %w", err)
	}
	return nil
}

// DeleteParticipant deletes a participant's row: their address, name and
// link go with it.
func DeleteParticipant(ctx context.Context, q database.Querier, participantID string) error {
	if _, err := q.Exec(ctx, `DELETE FROM meeting_participants WHERE id = ?`, participantID); err != nil {
		return fmt.Errorf("remove participant: %w", err)
	}
	return nil
}
