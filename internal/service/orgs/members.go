package orgs

import (
	"context"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Members lists the organisation's members, owners first, then by name,
// for the roles that may see them; their addresses only for the roles
// that run the membership.
func (s *Service) Members(ctx context.Context, actor service.Actor, orgID string) ([]org.Membership, error) {
	o, role, err := s.read(ctx, actor, orgID, org.ViewMembers)
	if err != nil {
		return nil, err
	}
	list, err := store.OrganisationMembers(ctx, s.env.Store.DB, o.ID)
	if err != nil {
		return nil, err
	}
	hideAddresses(list, role)
	return list, nil
}

// memberAndOwners reads what the owner rules for changing or removing a
// member need: that member's role and how many owners there are now.
func memberAndOwners(ctx context.Context, tx *service.Tx, orgID, memberID string) (org.Role, int, error) {
	m, err := store.OrganisationMember(ctx, tx, orgID, memberID)
	if err != nil {
		return "", 0, err
	}
	owners, err := store.OrganisationOwners(ctx, tx, orgID)
	if err != nil {
		return "", 0, err
	}
	return m.Role, owners, nil
}

// ChangeRole gives a member a new role under the rules of
// org.CheckRoleChange. The actor's right to run the membership is checked
// before the role asked for is.
func (s *Service) ChangeRole(ctx context.Context, actor service.Actor, orgID, memberID, role string) (org.Membership, error) {
	accountID, err := member(actor)
	if err != nil {
		return org.Membership{}, err
	}
	now := s.env.Now()
	var m org.Membership
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		_, actorRole, err := lockFor(ctx, tx, orgID, accountID, org.ManageMembers)
		if err != nil {
			return err
		}
		v := errs.Validation{}
		to := org.CheckRole(v, "role", role)
		if err := v.Err(); err != nil {
			return err
		}
		from, owners, err := memberAndOwners(ctx, tx, orgID, memberID)
		if err != nil {
			return err
		}
		if err := org.CheckRoleChange(actorRole, from, to, owners); err != nil {
			return err
		}
		if from != to {
			if err := store.SetMemberRole(ctx, tx, orgID, memberID, to, now); err != nil {
				return err
			}
			if err := tx.Audit(ctx, audit.Entry{
				At: now, Actor: actorParty(accountID), Action: "org.member.role", Subject: audit.Party{Kind: "member", ID: memberID},
				Purpose: "service", Detail: map[string]string{"organisation": orgID, "from": string(from), "to": string(to)},
			}); err != nil {
				return err
			}
		}
		m, err = store.OrganisationMember(ctx, tx, orgID, memberID)
		return err
	})
	if err != nil {
		return org.Membership{}, err
	}
	return m, nil
}

// RemoveMember takes a member out of the organisation under the rules of
// org.CheckRemoval; removing oneself is leaving, under org.CheckLeave.
func (s *Service) RemoveMember(ctx context.Context, actor service.Actor, orgID, memberID string) error {
	accountID, err := member(actor)
	if err != nil {
		return err
	}
	if memberID == accountID {
		return s.Leave(ctx, actor, orgID)
	}
	now := s.env.Now()
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		_, actorRole, err := lockFor(ctx, tx, orgID, accountID, org.ManageMembers)
		if err != nil {
			return err
		}
		target, owners, err := memberAndOwners(ctx, tx, orgID, memberID)
		if err != nil {
			return err
		}
		if err := org.CheckRemoval(actorRole, target, owners); err != nil {
			return err
		}
		if err := store.DeleteMember(ctx, tx, orgID, memberID); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actorParty(accountID), Action: "org.member.remove", Subject: audit.Party{Kind: "member", ID: memberID},
			Purpose: "service", Detail: map[string]string{"organisation": orgID, "role": string(target)},
		})
	})
}

// Leave ends the actor's own membership; the last owner cannot leave.
func (s *Service) Leave(ctx context.Context, actor service.Actor, orgID string) error {
	accountID, err := member(actor)
	if err != nil {
		return err
	}
	now := s.env.Now()
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		_, role, err := lock(ctx, tx, orgID, accountID)
		if err != nil {
			return err
		}
		owners, err := store.OrganisationOwners(ctx, tx, orgID)
		if err != nil {
			return err
		}
		if err := org.CheckLeave(role, owners); err != nil {
			return err
		}
		if err := store.DeleteMember(ctx, tx, orgID, accountID); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actorParty(accountID), Action: "org.member.leave", Subject: audit.Party{Kind: "member", ID: accountID},
			Purpose: "service", Detail: map[string]string{"organisation": orgID, "role": string(role)},
		})
	})
}
