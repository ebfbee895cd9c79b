package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/privacy/audit"
)

// Meetings, their participants and invitations. Every change runs in one
// transaction that first locks the meeting's row, then reads what the
// actor may do (package meeting decides), then writes the change, its
// audit entry and the e-mails it causes. Someone who may not see a
// meeting gets the same "not found" whether or not it exists.
//
// Agenda, templates and resources are in meetings_content.go.

const meetingColumns = `m.id, m.org_id, m.host_id, m.title, m.description, m.starts_at, m.time_zone, m.duration_minutes,
	m.rrule, m.exdates, m.follows_id, m.state, m.locked, m.passcode_hash, m.lobby, m.ical_sequence,
	m.created_at, m.updated_at, m.cancelled_at`

const participantColumns = `p.id, p.meeting_id, p.account_id, p.email, p.name, COALESCE(a.name, ''), p.role,
	p.invite_expires_at, p.lobby_state, p.lobby_at, p.created_at`

// participantFrom joins the account for the member's name.
const participantFrom = ` FROM meeting_participants p LEFT JOIN accounts a ON a.id = p.account_id`

func meetingNotFound() error { return errs.E(errs.NotFound, "there is no such meeting") }

func meetingSubject(id string) audit.Party { return audit.Party{Kind: "meeting", ID: id} }

func meetingAudit(ctx context.Context, q database.Querier, secret []byte, now time.Time, actorID, action, meetingID string, detail map[string]string) error {
	return AppendAudit(ctx, q, secret, audit.Entry{
		At: now, Actor: memberParty(actorID), Action: action, Subject: meetingSubject(meetingID), Purpose: "service", Detail: detail,
	})
}

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
	)
	if err := s.Scan(&p.ID, &p.MeetingID, &accountID, &email, &name, &p.AccountName, &role, &expires, &lobby, &lobbyAt, &p.CreatedAt); err != nil {
		return meeting.Participant{}, err
	}
	p.AccountID, p.Email, p.Name, p.LobbyState = accountID.String, email.String, name.String, lobby.String
	p.Role, p.CreatedAt, p.InviteExpiresAt, p.LobbyAt = meeting.Role(role), p.CreatedAt.UTC(), nullTime(expires), nullTime(lobbyAt)
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

// meetingLock locks the meeting's row for the rest of the transaction and
// returns it with the actor's access, or NotFound.
func meetingLock(ctx context.Context, tx *database.Tx, id, accountID string) (meeting.Meeting, meeting.Access, error) {
	res, err := tx.Exec(ctx, `UPDATE meetings SET updated_at = updated_at WHERE id = ?`, id)
	if err != nil {
		return meeting.Meeting{}, meeting.Access{}, fmt.Errorf("lock meeting: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return meeting.Meeting{}, meeting.Access{}, err
	} else if n == 0 {
		return meeting.Meeting{}, meeting.Access{}, meetingNotFound()
	}
	return MeetingFor(ctx, tx, id, accountID)
}

// meetingLockEdit locks the meeting and refuses unless the actor may edit
// it and it is not cancelled.
func meetingLockEdit(ctx context.Context, tx *database.Tx, id, accountID string) (meeting.Meeting, meeting.Access, error) {
	m, acc, err := meetingLock(ctx, tx, id, accountID)
	if err != nil {
		return m, acc, err
	}
	if err := acc.RequireEdit(); err != nil {
		return m, acc, err
	}
	if m.State == meeting.Cancelled {
		return m, acc, errs.E(errs.Conflict, "this meeting was cancelled and can no longer change")
	}
	return m, acc, nil
}

// MeetingMailed is a change and the e-mails it put in the outbox, to be
// dispatched after the commit.
type MeetingMailed struct {
	Meeting meeting.Meeting
	MailIDs []string
}

// CreateMeeting creates a meeting hosted by the account, with the host's
// participant row. d must have passed meeting.Check. A meeting in an
// organisation needs the host to belong to it (not as a guest); a
// follow-up must follow a meeting the host may see.
func CreateMeeting(ctx context.Context, db *database.DB, secret []byte, now time.Time, hostID, orgID string, d meeting.Details) (meeting.Meeting, error) {
	now = now.UTC()
	m := meeting.Meeting{
		ID: meeting.NewID(), OrgID: orgID, HostID: hostID, Title: d.Title, Description: d.Description,
		Schedule: d.Schedule, FollowsID: d.FollowsID, State: meeting.Scheduled, Lobby: d.Lobby,
		CreatedAt: now, UpdatedAt: now,
	}
	if d.Passcode != nil && *d.Passcode != "" {
		m.PasscodeHash = meeting.HashPasscode(secret, m.ID, *d.Passcode)
	}
	err := db.InTx(ctx, func(tx *database.Tx) error {
		if orgID != "" {
			r, err := orgMemberRole(ctx, tx, orgID, hostID)
			if err != nil || r == org.Guest {
				return &errs.Error{Code: errs.Forbidden, Message: "you may only schedule meetings in an organisation you are a member of",
					Fields: map[string]string{"org_id": "must be an organisation you are a member of"}}
			}
		}
		if err := checkFollows(ctx, tx, m.FollowsID, hostID); err != nil {
			return err
		}
		ex, err := exdatesJSON(m.ExDates)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO meetings (id, org_id, host_id, title, description, starts_at, time_zone, duration_minutes,
			rrule, exdates, follows_id, state, locked, passcode_hash, lobby, ical_sequence, created_at, updated_at, cancelled_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL)`,
			m.ID, nullString(orgID), hostID, m.Title, m.Description, m.StartsAt.UTC(), m.TimeZone, m.DurationMinutes,
			nullString(m.RRule), ex, nullString(m.FollowsID), string(m.State), false, nullString(m.PasscodeHash), m.Lobby, now, now); err != nil {
			return fmt.Errorf("create meeting: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO meeting_participants (id, meeting_id, account_id, email, name, role, invite_digest,
			invite_expires_at, lobby_state, lobby_at, created_at) VALUES (?, ?, ?, NULL, NULL, ?, NULL, NULL, NULL, NULL, ?)`,
			meeting.NewParticipantID(), m.ID, hostID, string(meeting.Host), now); err != nil {
			return fmt.Errorf("add the host: %w", err)
		}
		detail := map[string]string{"recurring": strconv.FormatBool(m.Recurring())}
		if orgID != "" {
			detail["organisation"] = orgID
		}
		return meetingAudit(ctx, tx, secret, now, hostID, "meeting.create", m.ID, detail)
	})
	if err != nil {
		return meeting.Meeting{}, err
	}
	return m, nil
}

// checkFollows refuses a follow-up link to a meeting the account cannot
// see.
func checkFollows(ctx context.Context, q database.Querier, followsID, accountID string) error {
	if followsID == "" {
		return nil
	}
	if _, _, err := MeetingFor(ctx, q, followsID, accountID); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return &errs.Error{Code: errs.Invalid, Message: "the earlier meeting was not found",
				Fields: map[string]string{"follows_id": "must be a meeting you take part in"}}
		}
		return err
	}
	return nil
}

// UpdateMeeting changes a meeting's details, for its host and co-hosts.
// When what a calendar shows changes (title, description, schedule), the
// iCalendar SEQUENCE goes up and every invited participant is mailed the
// update with a fresh personal link, since the link's lifetime follows
// the schedule. The old links stop working.
func UpdateMeeting(ctx context.Context, db *database.DB, secret []byte, now time.Time, links meeting.Links, accountID, id string, d meeting.Details) (MeetingMailed, error) {
	now = now.UTC()
	var out MeetingMailed
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, _, err := meetingLockEdit(ctx, tx, id, accountID)
		if err != nil {
			return err
		}
		if d.FollowsID == m.ID {
			return &errs.Error{Code: errs.Invalid, Message: "a meeting cannot follow itself", Fields: map[string]string{"follows_id": "must be another meeting"}}
		}
		if d.FollowsID != m.FollowsID {
			if err := checkFollows(ctx, tx, d.FollowsID, accountID); err != nil {
				return err
			}
		}
		before := m
		m.Title, m.Description, m.Schedule, m.FollowsID, m.Lobby = d.Title, d.Description, d.Schedule, d.FollowsID, d.Lobby
		if d.Passcode != nil {
			m.PasscodeHash = ""
			if *d.Passcode != "" {
				m.PasscodeHash = meeting.HashPasscode(secret, m.ID, *d.Passcode)
			}
		}
		visible := before.Title != m.Title || before.Description != m.Description || !sameSchedule(before.Schedule, m.Schedule)
		if visible {
			m.ICalSequence++
		}
		m.UpdatedAt = now
		ex, err := exdatesJSON(m.ExDates)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE meetings SET title = ?, description = ?, starts_at = ?, time_zone = ?, duration_minutes = ?,
			rrule = ?, exdates = ?, follows_id = ?, passcode_hash = ?, lobby = ?, ical_sequence = ?, updated_at = ? WHERE id = ?`,
			m.Title, m.Description, m.StartsAt.UTC(), m.TimeZone, m.DurationMinutes, nullString(m.RRule), ex,
			nullString(m.FollowsID), nullString(m.PasscodeHash), m.Lobby, m.ICalSequence, now, m.ID); err != nil {
			return fmt.Errorf("update meeting: %w", err)
		}
		out.Meeting = m
		if visible {
			if out.MailIDs, err = mailParticipants(ctx, tx, m, func(organiser meeting.CalendarPerson, p meeting.Participant) (string, error) {
				return inviteParticipant(ctx, tx, secret, now, links, m, organiser, p, true)
			}); err != nil {
				return err
			}
		}
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.update", m.ID, map[string]string{
			"sequence": strconv.Itoa(m.ICalSequence), "notified": strconv.Itoa(len(out.MailIDs)),
		})
	})
	return out, err
}

func sameSchedule(a, b meeting.Schedule) bool {
	return a.StartsAt.Equal(b.StartsAt) && a.TimeZone == b.TimeZone && a.DurationMinutes == b.DurationMinutes &&
		a.RRule == b.RRule && slices.EqualFunc(a.ExDates, b.ExDates, time.Time.Equal)
}

// mailParticipants puts a message for every invited participant of m
// (everyone with an address but the host) in the outbox, as mail makes it,
// and returns the messages' ids.
func mailParticipants(ctx context.Context, tx *database.Tx, m meeting.Meeting,
	mail func(organiser meeting.CalendarPerson, p meeting.Participant) (string, error)) ([]string, error) {
	ps, err := MeetingParticipants(ctx, tx, m.ID)
	if err != nil {
		return nil, err
	}
	organiser, err := meetingOrganiser(ctx, tx, m)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, p := range ps {
		if p.Email == "" || p.Role == meeting.Host {
			continue
		}
		id, err := mail(organiser, p)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// invitationTo is what the e-mails about m say to p.
func invitationTo(m meeting.Meeting, organiser meeting.CalendarPerson, p meeting.Participant, links meeting.Links, now time.Time) meeting.Invitation {
	return meeting.Invitation{
		Meeting: m, Organiser: organiser, To: meeting.CalendarPerson{Name: p.DisplayNameOrEmpty(), Email: p.Email},
		PersonID: p.AccountID, Domain: links.Domain, Now: now,
	}
}

// mailCancellation puts the iCalendar CANCEL of m for p in the outbox.
func mailCancellation(ctx context.Context, tx *database.Tx, now time.Time, links meeting.Links, m meeting.Meeting,
	organiser meeting.CalendarPerson, p meeting.Participant) (string, error) {
	return EnqueueMail(ctx, tx, now, meeting.CancellationMail(invitationTo(m, organiser, p, links, now)))
}

// meetingOrganiser is the host as invitations name them.
func meetingOrganiser(ctx context.Context, q database.Querier, m meeting.Meeting) (meeting.CalendarPerson, error) {
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

// inviteParticipant gives p a new personal link, stores its digest and
// expiry, and puts the invitation (or update) with it in the outbox.
func inviteParticipant(ctx context.Context, tx *database.Tx, secret []byte, now time.Time, links meeting.Links, m meeting.Meeting,
	organiser meeting.CalendarPerson, p meeting.Participant, update bool) (string, error) {
	expires := m.InviteExpiry()
	token := signed.Make(secret, meeting.InvitePurpose, p.ID, expires)
	if _, err := tx.Exec(ctx, `UPDATE meeting_participants SET invite_digest = ?, invite_expires_at = ? WHERE id = ?`,
		signed.Digest(token), expires, p.ID); err != nil {
		return "", fmt.Errorf("store invitation link: %w", err)
	}
	in := invitationTo(m, organiser, p, links, now)
	in.Link = links.Personal(token)
	if p.AccountID != "" {
		in.PageURL = links.Page(m.ID)
	}
	return EnqueueMail(ctx, tx, now, meeting.InvitationMail(in, update))
}

// CancelMeeting cancels a meeting, for its host: every invited
// participant is mailed an iCalendar CANCEL, and their links stop working.
func CancelMeeting(ctx context.Context, db *database.DB, secret []byte, now time.Time, links meeting.Links, accountID, id string) (MeetingMailed, error) {
	now = now.UTC()
	var out MeetingMailed
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, acc, err := meetingLock(ctx, tx, id, accountID)
		if err != nil {
			return err
		}
		if err := acc.RequireHost(); err != nil {
			return err
		}
		if m.State == meeting.Cancelled {
			out.Meeting = m
			return nil
		}
		m.State, m.CancelledAt, m.UpdatedAt = meeting.Cancelled, &now, now
		m.ICalSequence++
		if _, err := tx.Exec(ctx, `UPDATE meetings SET state = ?, cancelled_at = ?, ical_sequence = ?, updated_at = ? WHERE id = ?`,
			string(m.State), now, m.ICalSequence, now, m.ID); err != nil {
			return fmt.Errorf("cancel meeting: %w", err)
		}
		out.MailIDs, err = mailParticipants(ctx, tx, m, func(organiser meeting.CalendarPerson, p meeting.Participant) (string, error) {
			return mailCancellation(ctx, tx, now, links, m, organiser, p)
		})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE meeting_participants SET invite_digest = NULL, invite_expires_at = NULL WHERE meeting_id = ?`, m.ID); err != nil {
			return fmt.Errorf("revoke links: %w", err)
		}
		out.Meeting = m
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.cancel", m.ID, map[string]string{"notified": strconv.Itoa(len(out.MailIDs))})
	})
	return out, err
}

// DeleteMeeting deletes a cancelled meeting for good, for its host, with
// its participants, agenda and resources. It returns the blob keys of
// the meeting's files, which the caller deletes after the commit.
func DeleteMeeting(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, id string) ([]string, error) {
	now = now.UTC()
	var keys []string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, acc, err := meetingLock(ctx, tx, id, accountID)
		if err != nil {
			return err
		}
		if err := acc.RequireHost(); err != nil {
			return err
		}
		if m.State != meeting.Cancelled {
			return errs.E(errs.Conflict, "cancel the meeting before deleting it, so that its participants are told")
		}
		rows, err := tx.Query(ctx, `SELECT blob_key FROM meeting_resources WHERE meeting_id = ? AND blob_key IS NOT NULL`, m.ID)
		if err != nil {
			return err
		}
		if keys, err = collectRows(rows, scanID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM meetings WHERE id = ?`, m.ID); err != nil {
			return fmt.Errorf("delete meeting: %w", err)
		}
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.delete", m.ID, map[string]string{"files": strconv.Itoa(len(keys))})
	})
	return keys, err
}

// ListedMeeting is a meeting in a member's list.
type ListedMeeting struct {
	meeting.Meeting
	Access meeting.Access
}

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

// ParticipantInvited is a new participant with the e-mail sent to them.
type ParticipantInvited struct {
	Participant meeting.Participant
	MailID      string
}

// InviteToMeeting adds a participant by address, as a member when the
// address is a member's, as a guest otherwise, and mails the invitation
// with a personal link. email must be normalised (org.CheckEmail); role
// is participant or co-host, and only the host may make co-hosts.
func InviteToMeeting(ctx context.Context, db *database.DB, secret []byte, now time.Time, links meeting.Links, accountID, meetingID, email string, role meeting.Role) (ParticipantInvited, error) {
	now = now.UTC()
	var out ParticipantInvited
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, acc, err := meetingLockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		if err := checkGrant(acc, role); err != nil {
			return err
		}
		var memberID, memberName string
		err = tx.QueryRow(ctx, `SELECT id, name FROM accounts WHERE email = ?`, email).Scan(&memberID, &memberName)
		if err != nil && !errors.Is(err, database.ErrNotFound) {
			return err
		}
		var dup int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM meeting_participants WHERE meeting_id = ? AND (email = ? OR (account_id IS NOT NULL AND account_id = ?))`,
			m.ID, email, memberID).Scan(&dup); err != nil {
			return err
		}
		if dup > 0 {
			return &errs.Error{Code: errs.Conflict, Message: "this person is already taking part",
				Fields: map[string]string{"email": "is already on the participant list"}}
		}
		p := meeting.Participant{ID: meeting.NewParticipantID(), MeetingID: m.ID, AccountID: memberID, AccountName: memberName,
			Email: email, Role: role, CreatedAt: now}
		if _, err := tx.Exec(ctx, `INSERT INTO meeting_participants (id, meeting_id, account_id, email, name, role, invite_digest,
			invite_expires_at, lobby_state, lobby_at, created_at) VALUES (?, ?, ?, ?, NULL, ?, NULL, NULL, NULL, NULL, ?)`,
			p.ID, m.ID, nullString(memberID), email, string(role), now); err != nil {
			return fmt.Errorf("add participant: %w", err)
		}
		organiser, err := meetingOrganiser(ctx, tx, m)
		if err != nil {
			return err
		}
		if out.MailID, err = inviteParticipant(ctx, tx, secret, now, links, m, organiser, p, false); err != nil {
			return err
		}
		if out.Participant, err = MeetingParticipant(ctx, tx, m.ID, p.ID); err != nil {
			return err
		}
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.participant.invite", m.ID, map[string]string{
			"participant": p.ID, "role": string(role), "guest": strconv.FormatBool(memberID == ""),
		})
	})
	return out, err
}

// checkGrant says whether the actor may give a participant role.
func checkGrant(acc meeting.Access, role meeting.Role) error {
	switch {
	case role != meeting.RoleParticipant && role != meeting.CoHost:
		return &errs.Error{Code: errs.Invalid, Message: "the role is not valid", Fields: map[string]string{"role": "must be participant or co-host"}}
	case role == meeting.CoHost && !acc.IsHost():
		return errs.E(errs.Forbidden, "only the host may make someone a co-host")
	}
	return nil
}

// ChangeParticipantRole makes a participant a co-host or a plain
// participant again, for the host.
func ChangeParticipantRole(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, meetingID, participantID string, role meeting.Role) (meeting.Participant, error) {
	now = now.UTC()
	var out meeting.Participant
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, acc, err := meetingLockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		if err := acc.RequireHost(); err != nil {
			return err
		}
		if err := checkGrant(acc, role); err != nil {
			return err
		}
		p, err := MeetingParticipant(ctx, tx, m.ID, participantID)
		if err != nil {
			return err
		}
		if p.Role == meeting.Host {
			return errs.E(errs.Conflict, "the host's role cannot change")
		}
		if _, err := tx.Exec(ctx, `UPDATE meeting_participants SET role = ? WHERE id = ?`, string(role), p.ID); err != nil {
			return fmt.Errorf("change role: %w", err)
		}
		p.Role = role
		out = p
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.participant.role", m.ID, map[string]string{
			"participant": p.ID, "role": string(role),
		})
	})
	return out, err
}

// RemoveParticipant takes a participant off the meeting, deleting their
// row (address, name and link with it), and mails them an iCalendar
// CANCEL. Hosts and co-hosts may remove participants; only the host may
// remove a co-host; nobody removes the host.
func RemoveParticipant(ctx context.Context, db *database.DB, secret []byte, now time.Time, links meeting.Links, accountID, meetingID, participantID string) (string, error) {
	now = now.UTC()
	var mailID string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, acc, err := meetingLockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		p, err := MeetingParticipant(ctx, tx, m.ID, participantID)
		if err != nil {
			return err
		}
		switch {
		case p.Role == meeting.Host:
			return errs.E(errs.Conflict, "the host cannot be removed")
		case p.Role == meeting.CoHost && !acc.IsHost():
			return errs.E(errs.Forbidden, "only the host may remove a co-host")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM meeting_participants WHERE id = ?`, p.ID); err != nil {
			return fmt.Errorf("remove participant: %w", err)
		}
		if p.Email != "" {
			organiser, err := meetingOrganiser(ctx, tx, m)
			if err != nil {
				return err
			}
			// The CANCEL must outrank the invitation the person holds.
			if _, err := tx.Exec(ctx, `UPDATE meetings SET ical_sequence = ical_sequence + 1 WHERE id = ?`, m.ID); err != nil {
				return err
			}
			cancelled := m
			cancelled.ICalSequence++
			if mailID, err = mailCancellation(ctx, tx, now, links, cancelled, organiser, p); err != nil {
				return err
			}
		}
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.participant.remove", m.ID, map[string]string{"participant": p.ID})
	})
	return mailID, err
}
