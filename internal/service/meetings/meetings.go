// Package meetings holds the use cases of meetings: scheduling,
// participants and their invitations, the agenda and its templates, and
// shared files and links.
//
// Each change is one transaction that first locks the meeting's row, then
// asks package meeting what the actor may do, then writes the change, its
// audit entry and the e-mails it causes. Someone who may not see a
// meeting gets the same "not found" whether or not it exists, so that ids
// cannot be probed. Joining the call, the lobby and moderation are the
// calls service's.
package meetings

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Service runs the use cases of meetings: scheduling, participants and
// their invitations, the agenda and its templates, and shared files and
// links.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }

// links makes the addresses mailed to participants and the iCalendar
// UIDs, from the server's public address.
func (s *Service) links() meeting.Links { return meeting.LinksFor(s.env.Config.BaseURL) }

// db is where reads that change nothing run, outside any transaction.
func (s *Service) db() database.Querier { return s.env.Store.DB }

// record seals the audit entry of a change to a meeting made by a member.
func record(ctx context.Context, tx *service.Tx, now time.Time, accountID, action, meetingID string, detail map[string]string) error {
	return tx.Audit(ctx, audit.Entry{
		At: now, Actor: audit.Party{Kind: "member", ID: accountID}, Action: action,
		Subject: audit.Party{Kind: "meeting", ID: meetingID}, Purpose: "service", Detail: detail,
	})
}

// errCancelled refuses a change to a cancelled meeting.
func errCancelled() error {
	return errs.E(errs.Conflict, "this meeting was cancelled and can no longer change")
}

// lockEdit locks the meeting and refuses unless the member may edit it
// and it is not cancelled.
func lockEdit(ctx context.Context, tx *service.Tx, id, accountID string) (meeting.Meeting, meeting.Access, error) {
	m, acc, err := store.MeetingForUpdate(ctx, tx, id, accountID)
	if err != nil {
		return m, acc, err
	}
	if err := acc.RequireEdit(); err != nil {
		return m, acc, err
	}
	if m.State == meeting.Cancelled {
		return m, acc, errCancelled()
	}
	return m, acc, nil
}

// requireMember refuses an organisation the member does not belong to,
// or belongs to only as a guest; what is refused says so in its message
// and on the org_id field.
func requireMember(ctx context.Context, q database.Querier, orgID, accountID, message string) error {
	if r, err := store.MeetingOrgRole(ctx, q, orgID, accountID); err != nil || r == org.Guest {
		return &errs.Error{Code: errs.Forbidden, Message: message,
			Fields: map[string]string{"org_id": "must be an organisation you are a member of"}}
	}
	return nil
}

// Get returns the meeting with what the member may do with it: a
// participant by their role, an owner or admin of its organisation as an
// onlooker. Anyone else gets NotFound.
func (s *Service) Get(ctx context.Context, accountID, id string) (meeting.Meeting, meeting.Access, error) {
	return store.MeetingFor(ctx, s.db(), id, accountID)
}

// ForEdit returns the meeting for a member about to edit it, refusing
// one who may see it but not change it before they send their changes.
// Update checks again in its transaction.
func (s *Service) ForEdit(ctx context.Context, accountID, id string) (meeting.Meeting, meeting.Access, error) {
	m, acc, err := s.Get(ctx, accountID, id)
	if err != nil {
		return m, acc, err
	}
	return m, acc, acc.RequireEdit()
}

// List lists the meetings the member takes part in and those of the
// organisations they own or administer, by first start, newest first.
func (s *Service) List(ctx context.Context, accountID string) ([]meeting.Listed, error) {
	return store.MeetingsOf(ctx, s.db(), accountID)
}

// HostOrganisations lists the organisations the member may schedule
// meetings in: those they belong to other than as a guest, by name.
func (s *Service) HostOrganisations(ctx context.Context, accountID string) ([]org.Organisation, error) {
	mine, err := store.OrganisationsOf(ctx, s.db(), accountID)
	if err != nil {
		return nil, err
	}
	var out []org.Organisation
	for _, o := range mine {
		if o.Role != org.Guest {
			out = append(out, o.Organisation)
		}
	}
	return out, nil
}

// Page is what a meeting's page shows a member.
type Page struct {
	Meeting meeting.Meeting
	Access  meeting.Access
	// Participants are as the list shows them (meeting.Participant.Listed).
	Participants []meeting.Participant
	Agenda       []meeting.AgendaItem
	Resources    []meeting.Resource
	// Templates are the agenda templates the member may apply, read only
	// when they may edit the meeting.
	Templates []meeting.Template
}

// Page reads the meeting and everything its page shows the member.
func (s *Service) Page(ctx context.Context, accountID, id string) (Page, error) {
	m, acc, err := s.Get(ctx, accountID, id)
	if err != nil {
		return Page{}, err
	}
	p := Page{Meeting: m, Access: acc}
	if p.Participants, err = store.MeetingParticipants(ctx, s.db(), m.ID); err != nil {
		return Page{}, err
	}
	p.Participants = listed(p.Participants)
	if p.Agenda, err = store.Agenda(ctx, s.db(), m.ID); err != nil {
		return Page{}, err
	}
	if p.Resources, err = store.Resources(ctx, s.db(), m.ID); err != nil {
		return Page{}, err
	}
	if acc.CanEdit() && m.State == meeting.Scheduled {
		if p.Templates, err = store.AgendaTemplates(ctx, s.db(), accountID); err != nil {
			return Page{}, err
		}
	}
	return p, nil
}

// Calendar is the meeting as an iCalendar file (PUBLISH, or CANCEL once
// cancelled), for a member who may see it.
func (s *Service) Calendar(ctx context.Context, accountID, id string) ([]byte, error) {
	m, _, err := s.Get(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	links := s.links()
	method := meeting.Publish
	if m.State == meeting.Cancelled {
		method = meeting.Cancel
	}
	return meeting.Calendar(meeting.CalendarInput{Meeting: m, Method: method, URL: links.Page(m.ID),
		Domain: links.Domain, Now: s.env.Clock.Now()}), nil
}

// Create validates in and creates a meeting hosted by the member, with
// the host's participant row. A meeting in an organisation (orgID not
// "") needs the host to belong to it, not as a guest; a follow-up must
// follow a meeting the host may see.
func (s *Service) Create(ctx context.Context, accountID, orgID string, in meeting.Input) (meeting.Meeting, error) {
	return s.CreateAndInvite(ctx, accountID, orgID, in, nil)
}

// MaxInvitedAtCreation bounds the addresses one new meeting invites at
// once; more can be invited from its page.
const MaxInvitedAtCreation = 50

// CreateAndInvite is Create that also invites people by address, as
// participants, in the same transaction, exactly as Invite does one by
// one (the inviter's daily limits included): if one invitation is
// refused, nothing is created, and the refusal names the address on the
// "invite" field.
func (s *Service) CreateAndInvite(ctx context.Context, accountID, orgID string, in meeting.Input, invitees []string) (meeting.Meeting, error) {
	d, err := meeting.Check(in)
	if err != nil {
		return meeting.Meeting{}, err
	}
	invitees, err = cleanInvitees(invitees)
	if err != nil {
		return meeting.Meeting{}, err
	}
	orgID = strings.TrimSpace(orgID)
	now := s.env.Now()
	m := meeting.Meeting{
		ID: meeting.NewID(), OrgID: orgID, HostID: accountID, Title: d.Title, Description: d.Description,
		Schedule: d.Schedule, FollowsID: d.FollowsID, State: meeting.Scheduled, Lobby: d.Lobby,
		CreatedAt: now, UpdatedAt: now,
	}
	if d.Passcode != nil && *d.Passcode != "" {
		m.PasscodeHash = meeting.HashPasscode(s.env.Secret, m.ID, *d.Passcode)
	}
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		if orgID != "" {
			if err := requireMember(ctx, tx, orgID, accountID, "you may only schedule meetings in an organisation you are a member of"); err != nil {
				return err
			}
		}
		if err := checkFollows(ctx, tx, m.FollowsID, accountID); err != nil {
			return err
		}
		if err := store.InsertMeeting(ctx, tx, m, meeting.NewParticipantID()); err != nil {
			return err
		}
		for _, email := range invitees {
			if _, err := s.inviteIn(ctx, tx, now, m, meeting.Access{Role: meeting.Host}, accountID, email, string(meeting.RoleParticipant)); err != nil {
				return onInvite(err, email)
			}
		}
		detail := map[string]string{"recurring": strconv.FormatBool(m.Recurring()), "invited": strconv.Itoa(len(invitees))}
		if orgID != "" {
			detail["organisation"] = orgID
		}
		return record(ctx, tx, now, accountID, "meeting.create", m.ID, detail)
	})
	if err != nil {
		return meeting.Meeting{}, err
	}
	s.env.Log.LogAttrs(ctx, slog.LevelInfo, "meeting created", slog.String("meeting", m.ID))
	return m, nil
}

// checkFollows refuses a follow-up link to a meeting the member cannot
// see.
func checkFollows(ctx context.Context, q database.Querier, followsID, accountID string) error {
	if followsID == "" {
		return nil
	}
	if _, _, err := store.MeetingFor(ctx, q, followsID, accountID); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return &errs.Error{Code: errs.Invalid, Message: "the earlier meeting was not found",
				Fields: map[string]string{"follows_id": "must be a meeting you take part in"}}
		}
		return err
	}
	return nil
}

// Update validates in and makes it the meeting's details, for its host
// and co-hosts. When what a calendar shows changes (title, description,
// schedule), the iCalendar SEQUENCE goes up and every invited participant
// is mailed the update with a fresh personal link, since the link's
// lifetime follows the schedule; the old links stop working.
func (s *Service) Update(ctx context.Context, accountID, id string, in meeting.Input) (meeting.Meeting, error) {
	d, err := meeting.Check(in)
	if err != nil {
		return meeting.Meeting{}, err
	}
	now := s.env.Now()
	var out meeting.Meeting
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		m, _, err := lockEdit(ctx, tx, id, accountID)
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
				m.PasscodeHash = meeting.HashPasscode(s.env.Secret, m.ID, *d.Passcode)
			}
		}
		visible := before.Title != m.Title || before.Description != m.Description || !sameSchedule(before.Schedule, m.Schedule)
		if visible {
			m.ICalSequence++
		}
		m.UpdatedAt = now
		if err := store.SaveMeetingDetails(ctx, tx, m); err != nil {
			return err
		}
		out = m
		notified := 0
		if visible {
			links := s.links()
			if notified, err = mailParticipants(ctx, tx, m, func(organiser meeting.CalendarPerson, p meeting.Participant) error {
				return s.invite(ctx, tx, now, links, m, organiser, p, true)
			}); err != nil {
				return err
			}
		}
		return record(ctx, tx, now, accountID, "meeting.update", m.ID, map[string]string{
			"sequence": strconv.Itoa(m.ICalSequence), "notified": strconv.Itoa(notified),
		})
	})
	return out, err
}

func sameSchedule(a, b meeting.Schedule) bool {
	return a.StartsAt.Equal(b.StartsAt) && a.TimeZone == b.TimeZone && a.DurationMinutes == b.DurationMinutes &&
		a.RRule == b.RRule && slices.EqualFunc(a.ExDates, b.ExDates, time.Time.Equal)
}

// Cancel cancels a meeting, for its host: every invited participant is
// mailed an iCalendar CANCEL, and their links stop working. Cancelling a
// cancelled meeting changes nothing.
func (s *Service) Cancel(ctx context.Context, accountID, id string) (meeting.Meeting, error) {
	now := s.env.Now()
	var out meeting.Meeting
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		m, acc, err := store.MeetingForUpdate(ctx, tx, id, accountID)
		if err != nil {
			return err
		}
		if err := acc.RequireHost(); err != nil {
			return err
		}
		out = m
		if m.State == meeting.Cancelled {
			return nil
		}
		m.State, m.CancelledAt, m.UpdatedAt = meeting.Cancelled, &now, now
		m.ICalSequence++
		if err := store.SaveMeetingCancelled(ctx, tx, m); err != nil {
			return err
		}
		out = m
		links := s.links()
		notified, err := mailParticipants(ctx, tx, m, func(organiser meeting.CalendarPerson, p meeting.Participant) error {
			_, err := tx.Mail(ctx, meeting.CancellationMail(invitationTo(m, organiser, p, links, now)))
			return err
		})
		if err != nil {
			return err
		}
		return record(ctx, tx, now, accountID, "meeting.cancel", m.ID, map[string]string{"notified": strconv.Itoa(notified)})
	})
	return out, err
}

// Delete deletes a cancelled meeting for good, for its host, with its
// participants, agenda and resources; the files shared with it are
// deleted once that has committed.
func (s *Service) Delete(ctx context.Context, accountID, id string) error {
	now := s.env.Now()
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		m, acc, err := store.MeetingForUpdate(ctx, tx, id, accountID)
		if err != nil {
			return err
		}
		if err := acc.RequireHost(); err != nil {
			return err
		}
		if m.State != meeting.Cancelled {
			return errs.E(errs.Conflict, "cancel the meeting before deleting it, so that its participants are told")
		}
		keys, err := store.MeetingFileKeys(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		if err := store.DeleteMeetingRow(ctx, tx, m.ID); err != nil {
			return err
		}
		for _, k := range keys {
			s.deleteFileLater(tx, k)
		}
		return record(ctx, tx, now, accountID, "meeting.delete", m.ID, map[string]string{"files": strconv.Itoa(len(keys))})
	})
}

// cleanInvitees checks and normalises the addresses a new meeting
// invites, dropping repeats.
func cleanInvitees(raw []string) ([]string, error) {
	var out []string
	for _, e := range raw {
		if strings.TrimSpace(e) == "" {
			continue
		}
		v := errs.Validation{}
		email := account.CleanEmail(v, "email", e)
		if err := v.Err(); err != nil {
			return nil, onInvite(err, e)
		}
		if !slices.Contains(out, email) {
			out = append(out, email)
		}
	}
	if len(out) > MaxInvitedAtCreation {
		return nil, &errs.Error{Code: errs.Invalid, Message: "too many people to invite at once",
			Fields: map[string]string{"invite": "may list at most 50 people; invite more from the meeting's page"}}
	}
	return out, nil
}

// onInvite moves a refusal of one invitation onto the "invite" field,
// naming the address, so the form says which one to correct.
func onInvite(err error, email string) error {
	e, ok := errs.As(err)
	if !ok || (e.Code != errs.Invalid && e.Code != errs.Conflict) {
		return err
	}
	msg := e.Message
	for _, m := range e.Fields {
		msg = m
	}
	return &errs.Error{Code: errs.Invalid, Message: e.Message,
		Fields: map[string]string{"invite": strings.TrimSpace(email) + ": " + msg}}
}

// Colleague is someone the member can invite by name: a member of one of
// their organisations.
type Colleague struct {
	Name, Email string
}

// MaxColleagues bounds the people offered by name on the scheduling form.
const MaxColleagues = 200

// Colleagues lists the members of the organisations the member belongs
// to other than as a guest, themselves left out, by name: the people the
// scheduling form offers to invite by name. Each organisation's member
// list shows them the same people already.
func (s *Service) Colleagues(ctx context.Context, accountID string) ([]Colleague, error) {
	orgs, err := s.HostOrganisations(ctx, accountID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Colleague
	for _, o := range orgs {
		ms, err := store.OrganisationMembers(ctx, s.db(), o.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.AccountID == accountID || m.Email == "" || seen[m.Email] {
				continue
			}
			seen[m.Email] = true
			out = append(out, Colleague{Name: m.Name, Email: m.Email})
		}
	}
	slices.SortFunc(out, func(a, b Colleague) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	if len(out) > MaxColleagues {
		out = out[:MaxColleagues]
	}
	return out, nil
}
