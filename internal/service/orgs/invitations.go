package orgs

import (
	"context"
	"strings"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// invitationInvalid is every refusal of an invitation link: forged,
// expired, already used, withdrawn or replaced. Which one is not said.
func invitationInvalid() error {
	return &errs.Error{Code: errs.Invalid, Message: "this invitation link is not valid: it may have expired, been withdrawn or been used already",
		Fields: map[string]string{"token": "is not a valid invitation, or it has expired or been used"}}
}

// Invitations lists the organisation's open invitations, newest first,
// for the roles that run the membership.
func (s *Service) Invitations(ctx context.Context, actor service.Actor, orgID string) ([]org.Invitation, error) {
	o, _, err := s.read(ctx, actor, orgID, org.ManageMembers)
	if err != nil {
		return nil, err
	}
	return store.PendingInvitations(ctx, s.env.Store.DB, o.ID, s.env.Now())
}

// Invited is what Invite made: the invitation and its link's token.
type Invited struct {
	Invitation org.Invitation
	// Token is the secret of the link, which is mailed and never stored.
	// It is returned for callers that hand the link on themselves, such
	// as tests; the web's answers never carry it.
	Token string
}

// Invite invites an address to the organisation in a role, replacing any
// invitation to the same address that is still open, and queues the
// e-mail with the link in the same transaction. The actor's right to run
// the membership is checked before the address and role are, and the
// right to invite in that role after; then the inviter's confirmed
// address and the daily limits (service.Tx.CountInvitation).
func (s *Service) Invite(ctx context.Context, actor service.Actor, orgID, email, role string) (Invited, error) {
	accountID, err := member(actor)
	if err != nil {
		return Invited{}, err
	}
	now := s.env.Now()
	var sent Invited
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		o, actorRole, err := lockFor(ctx, tx, orgID, accountID, org.ManageMembers)
		if err != nil {
			return err
		}
		v := errs.Validation{}
		addr := account.CleanEmail(v, "email", email)
		as := org.CheckRole(v, "role", role)
		if err := v.Err(); err != nil {
			return err
		}
		if err := org.CheckInvite(actorRole, as); err != nil {
			return err
		}
		already, err := store.MemberWithEmail(ctx, tx, orgID, addr)
		if err != nil {
			return err
		}
		if already {
			return &errs.Error{Code: errs.Conflict, Message: "someone with this address is already a member",
				Fields: map[string]string{"email": "belongs to a member already"}}
		}
		if err := tx.CountInvitation(ctx, accountID, addr); err != nil {
			return err
		}
		replaced, err := store.DeleteOpenInvitationsTo(ctx, tx, orgID, addr)
		if err != nil {
			return err
		}
		inviter, err := store.AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		inv := org.Invitation{
			ID: newID("inv_"), OrganisationID: orgID, Email: addr, Role: as, InvitedBy: accountID,
			CreatedAt: now, ExpiresAt: now.Add(org.InvitationTTL),
		}
		token := signed.Make(s.env.Secret, org.InvitationPurpose, inv.ID, inv.ExpiresAt)
		if err := store.CreateInvitation(ctx, tx, inv, signed.Digest(token)); err != nil {
			return err
		}
		link := s.env.Config.BaseURL + "/invitations/" + token
		if _, err := tx.Mail(ctx, org.InvitationMail(o, inviter.Name, inv, link)); err != nil {
			return err
		}
		detail := map[string]string{"organisation": orgID, "role": string(as)}
		if len(replaced) > 0 {
			detail["replaced"] = strings.Join(replaced, ",")
		}
		if err := tx.Audit(ctx, audit.Entry{
			At: now, Actor: actorParty(accountID), Action: "org.invitation.create", Subject: audit.Party{Kind: "invitation", ID: inv.ID},
			Purpose: "service", Detail: detail,
		}); err != nil {
			return err
		}
		sent = Invited{Invitation: inv, Token: token}
		return nil
	})
	if err != nil {
		return Invited{}, err
	}
	return sent, nil
}

// Revoke withdraws an invitation that has not been accepted and deletes
// it, address and all, at once.
func (s *Service) Revoke(ctx context.Context, actor service.Actor, orgID, invitationID string) error {
	accountID, err := member(actor)
	if err != nil {
		return err
	}
	now := s.env.Now()
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		if _, _, err := lockFor(ctx, tx, orgID, accountID, org.ManageMembers); err != nil {
			return err
		}
		ok, err := store.DeleteOpenInvitation(ctx, tx, orgID, invitationID)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.NotFound, "there is no such open invitation")
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actorParty(accountID), Action: "org.invitation.revoke", Subject: audit.Party{Kind: "invitation", ID: invitationID},
			Purpose: "service", Detail: map[string]string{"organisation": orgID},
		})
	})
}

// Invitation returns the open invitation a link's token names, with its
// organisation, so that the person can see what they are asked to join
// before accepting. Every kind of bad link gives the same Invalid error.
func (s *Service) Invitation(ctx context.Context, actor service.Actor, token string) (org.Invitation, org.Organisation, error) {
	if _, err := member(actor); err != nil {
		return org.Invitation{}, org.Organisation{}, err
	}
	now := s.env.Now()
	id, err := signed.Check(s.env.Secret, org.InvitationPurpose, token, now)
	if err != nil {
		return org.Invitation{}, org.Organisation{}, invitationInvalid()
	}
	db := s.env.Store.DB
	inv, err := store.InvitationByDigest(ctx, db, id, signed.Digest(token))
	if notFound(err) || (err == nil && !inv.Pending(now)) {
		return org.Invitation{}, org.Organisation{}, invitationInvalid()
	}
	if err != nil {
		return org.Invitation{}, org.Organisation{}, err
	}
	o, err := store.OrganisationByID(ctx, db, inv.OrganisationID)
	if notFound(err) {
		return org.Invitation{}, org.Organisation{}, invitationInvalid()
	}
	return inv, o, err
}

// Accept makes the actor a member in the invited role. Only the account
// whose confirmed address is the one the invitation was sent to may
// accept it (compared as account.CleanEmail normalises addresses), and
// only once: a link forwarded to, or read by, someone else does not make
// them a member. When the actor is a member already, or is not the
// invitee, nothing changes and the link stays usable.
func (s *Service) Accept(ctx context.Context, actor service.Actor, token string) (org.Organisation, org.Membership, error) {
	accountID, err := member(actor)
	if err != nil {
		return org.Organisation{}, org.Membership{}, err
	}
	now := s.env.Now()
	token = strings.TrimSpace(token)
	id, err := signed.Check(s.env.Secret, org.InvitationPurpose, token, now)
	if err != nil {
		return org.Organisation{}, org.Membership{}, invitationInvalid()
	}
	digest := signed.Digest(token)
	var (
		o org.Organisation
		m org.Membership
	)
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		inv, err := store.InvitationByDigest(ctx, tx, id, digest)
		if notFound(err) {
			return invitationInvalid()
		}
		if err != nil {
			return err
		}
		if err := store.LockOrganisation(ctx, tx, inv.OrganisationID); notFound(err) {
			return invitationInvalid()
		} else if err != nil {
			return err
		}
		if !inv.Pending(now) {
			return invitationInvalid()
		}
		invitee, err := store.AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if err := org.CheckInvitee(inv, invitee); err != nil {
			return err
		}
		ok, err := store.MarkInvitationAccepted(ctx, tx, inv.ID, digest, accountID, now)
		if err != nil {
			return err
		}
		if !ok {
			return invitationInvalid()
		}
		// The conflict rolls the acceptance back, so the link stays
		// usable for someone who is not a member yet.
		if _, err := store.OrganisationMember(ctx, tx, inv.OrganisationID, accountID); err == nil {
			return errs.E(errs.Conflict, "you are a member of this organisation already")
		} else if !notFound(err) {
			return err
		}
		if err := store.AddMember(ctx, tx, inv.OrganisationID, accountID, inv.Role, now); err != nil {
			return err
		}
		if o, _, err = store.OrganisationFor(ctx, tx, inv.OrganisationID, accountID); err != nil {
			return err
		}
		if m, err = store.OrganisationMember(ctx, tx, inv.OrganisationID, accountID); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actorParty(accountID), Action: "org.invitation.accept", Subject: audit.Party{Kind: "invitation", ID: inv.ID},
			Purpose: "service", Detail: map[string]string{"organisation": inv.OrganisationID, "role": string(inv.Role)},
		})
	})
	if err != nil {
		return org.Organisation{}, org.Membership{}, err
	}
	return o, m, nil
}
