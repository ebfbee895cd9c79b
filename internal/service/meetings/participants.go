package meetings

import (
	"context"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Participants lists the meeting's participants, the host first, as the
// list shows them (meeting.Participant.Listed: an invitee who has not
// come in yet is only an address), with what the member may do with the
// meeting (which decides whether they see addresses).
func (s *Service) Participants(ctx context.Context, accountID, meetingID string) ([]meeting.Participant, meeting.Access, error) {
	m, acc, err := s.Get(ctx, accountID, meetingID)
	if err != nil {
		return nil, acc, err
	}
	ps, err := store.MeetingParticipants(ctx, s.db(), m.ID)
	return listed(ps), acc, err
}

// listed is ps as the participant list shows them to others.
func listed(ps []meeting.Participant) []meeting.Participant {
	for i := range ps {
		ps[i] = ps[i].Listed()
	}
	return ps
}

// Invite adds a participant by address, as a member when the address is
// a member's confirmed address and as a guest otherwise, and mails them
// the invitation with a personal link. role is participant (the default,
// "") or co-host; hosts and co-hosts may invite, and only the host may
// make co-hosts. The inviter must have confirmed their own address, and
// the invitation counts towards the daily limits
// (service.Tx.CountInvitation).
//
// The participant returned is the one the list shows, the same for every
// address until the invitee comes in: the answer does not tell whether
// the address belongs to an account.
func (s *Service) Invite(ctx context.Context, accountID, meetingID, email, role string) (meeting.Participant, error) {
	v := errs.Validation{}
	email = account.CleanEmail(v, "email", email)
	if role == "" {
		role = string(meeting.RoleParticipant)
	}
	if err := v.Err(); err != nil {
		return meeting.Participant{}, err
	}
	now := s.env.Now()
	var out meeting.Participant
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		m, acc, err := lockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		out, err = s.inviteIn(ctx, tx, now, m, acc, accountID, email, role)
		return err
	})
	return out, err
}

// inviteIn is Invite inside the caller's transaction, on the meeting m
// it has locked, for a member with access acc; email is clean.
func (s *Service) inviteIn(ctx context.Context, tx *service.Tx, now time.Time, m meeting.Meeting, acc meeting.Access,
	accountID, email, role string) (meeting.Participant, error) {
	if err := checkGrant(acc, meeting.Role(role)); err != nil {
		return meeting.Participant{}, err
	}
	memberID, memberName, err := store.InviteeAccount(ctx, tx, email)
	if err != nil {
		return meeting.Participant{}, err
	}
	if err := tx.CountInvitation(ctx, accountID, email); err != nil {
		return meeting.Participant{}, err
	}
	if dup, err := store.TakesPart(ctx, tx, m.ID, email, memberID); err != nil {
		return meeting.Participant{}, err
	} else if dup {
		return meeting.Participant{}, &errs.Error{Code: errs.Conflict, Message: "this person is already taking part",
			Fields: map[string]string{"email": "is already on the participant list"}}
	}
	p := meeting.Participant{ID: meeting.NewParticipantID(), MeetingID: m.ID, AccountID: memberID, AccountName: memberName,
		Email: email, Role: meeting.Role(role), CreatedAt: now}
	if err := store.InsertParticipant(ctx, tx, p); err != nil {
		return meeting.Participant{}, err
	}
	organiser, err := store.MeetingOrganiser(ctx, tx, m)
	if err != nil {
		return meeting.Participant{}, err
	}
	if err := s.invite(ctx, tx, now, s.links(), m, organiser, p, false); err != nil {
		return meeting.Participant{}, err
	}
	out, err := store.MeetingParticipant(ctx, tx, m.ID, p.ID)
	if err != nil {
		return meeting.Participant{}, err
	}
	// Whether the address is a member's stays out of the entry too:
	// the audit log reaches the inviter through their own export.
	return out.Listed(), record(ctx, tx, now, accountID, "meeting.participant.invite", m.ID, map[string]string{
		"participant": p.ID, "role": role,
	})
}

// checkGrant says whether the member may give a participant role.
func checkGrant(acc meeting.Access, role meeting.Role) error {
	switch {
	case role != meeting.RoleParticipant && role != meeting.CoHost:
		return &errs.Error{Code: errs.Invalid, Message: "the role is not valid", Fields: map[string]string{"role": "must be participant or co-host"}}
	case role == meeting.CoHost && !acc.IsHost():
		return errs.E(errs.Forbidden, "only the host may make someone a co-host")
	}
	return nil
}

// ChangeRole makes a participant a co-host or a plain participant again,
// for the host.
func (s *Service) ChangeRole(ctx context.Context, accountID, meetingID, participantID string, role meeting.Role) (meeting.Participant, error) {
	now := s.env.Now()
	var out meeting.Participant
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		m, acc, err := lockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		if err := acc.RequireHost(); err != nil {
			return err
		}
		if err := checkGrant(acc, role); err != nil {
			return err
		}
		p, err := store.MeetingParticipant(ctx, tx, m.ID, participantID)
		if err != nil {
			return err
		}
		if p.Role == meeting.Host {
			return errs.E(errs.Conflict, "the host's role cannot change")
		}
		if err := store.SetParticipantRole(ctx, tx, p.ID, role); err != nil {
			return err
		}
		p.Role = role
		out = p.Listed()
		return record(ctx, tx, now, accountID, "meeting.participant.role", m.ID, map[string]string{
			"participant": p.ID, "role": string(role),
		})
	})
	return out, err
}

// RemoveParticipant takes a participant off the meeting, deleting their
// row (address, name and link with it), and mails them an iCalendar
// CANCEL. Hosts and co-hosts may remove participants; only the host may
// remove a co-host; nobody removes the host.
func (s *Service) RemoveParticipant(ctx context.Context, accountID, meetingID, participantID string) error {
	now := s.env.Now()
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		m, acc, err := lockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		p, err := store.MeetingParticipant(ctx, tx, m.ID, participantID)
		if err != nil {
			return err
		}
		switch {
		case p.Role == meeting.Host:
			return errs.E(errs.Conflict, "the host cannot be removed")
		case p.Role == meeting.CoHost && !acc.IsHost():
			return errs.E(errs.Forbidden, "only the host may remove a co-host")
		}
		if err := store.DeleteParticipant(ctx, tx, p.ID); err != nil {
			return err
		}
		if p.Email != "" {
			organiser, err := store.MeetingOrganiser(ctx, tx, m)
			if err != nil {
				return err
			}
			// The CANCEL must outrank the invitation the person holds.
			if err := store.RaiseICalSequence(ctx, tx, m.ID); err != nil {
				return err
			}
			cancelled := m
			cancelled.ICalSequence++
			if _, err := tx.Mail(ctx, meeting.CancellationMail(invitationTo(cancelled, organiser, p, s.links(), now))); err != nil {
				return err
			}
		}
		return record(ctx, tx, now, accountID, "meeting.participant.remove", m.ID, map[string]string{"participant": p.ID})
	})
}

// mailParticipants runs mail for every invited participant of m
// (everyone with an address but the host) and returns how many there
// were.
func mailParticipants(ctx context.Context, tx *service.Tx, m meeting.Meeting,
	mail func(organiser meeting.CalendarPerson, p meeting.Participant) error) (int, error) {
	ps, err := store.MeetingParticipants(ctx, tx, m.ID)
	if err != nil {
		return 0, err
	}
	organiser, err := store.MeetingOrganiser(ctx, tx, m)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		if p.Email == "" || p.Role == meeting.Host {
			continue
		}
		if err := mail(organiser, p); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// invitationTo is what the e-mails about m say to p.
func invitationTo(m meeting.Meeting, organiser meeting.CalendarPerson, p meeting.Participant, links meeting.Links, now time.Time) meeting.Invitation {
	return meeting.Invitation{
		Meeting: m, Organiser: organiser, To: meeting.CalendarPerson{Name: p.DisplayNameOrEmpty(), Email: p.Email},
		PersonID: p.AccountID, Domain: links.Domain, Now: now,
	}
}

// invite gives p a new personal link, stores its digest and expiry (the
// link it replaces stops working), and mails the invitation, or the
// update when update is true, with it.
func (s *Service) invite(ctx context.Context, tx *service.Tx, now time.Time, links meeting.Links, m meeting.Meeting,
	organiser meeting.CalendarPerson, p meeting.Participant, update bool) error {
	expires := m.InviteExpiry()
	token := signed.Make(s.env.Secret, meeting.InvitePurpose, p.ID, expires)
	if err := store.SetInviteLink(ctx, tx, p.ID, signed.Digest(token), expires); err != nil {
		return err
	}
	in := invitationTo(m, organiser, p, links, now)
	in.Link = links.Personal(token)
	if p.AccountID != "" {
		in.PageURL = links.Page(m.ID)
	}
	_, err := tx.Mail(ctx, meeting.InvitationMail(in, update))
	return err
}
