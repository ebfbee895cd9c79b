package orgs

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Mine lists the organisations the actor belongs to, by name, with the
// role they hold in each.
func (s *Service) Mine(ctx context.Context, actor service.Actor) ([]org.WithRole, error) {
	id, err := member(actor)
	if err != nil {
		return nil, err
	}
	return store.OrganisationsOf(ctx, s.env.Store.DB, id)
}

// Create creates an organisation with the actor as its owner. Only an
// active account with a confirmed address may; that is checked before
// the name and colour are.
func (s *Service) Create(ctx context.Context, actor service.Actor, name, colour string) (org.Organisation, error) {
	accountID, err := member(actor)
	if err != nil {
		return org.Organisation{}, err
	}
	v := errs.Validation{}
	name = org.CheckName(v, "name", name)
	colour = org.CheckColour(v, "colour", colour)
	now := s.env.Now()
	o := org.Organisation{ID: newID("org_"), Name: name, Colour: colour, CreatedAt: now, UpdatedAt: now}
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		ok, err := store.AccountVerified(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.Forbidden, "confirm your e-mail address before you create an organisation")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := store.CreateOrganisation(ctx, tx, o, accountID); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actorParty(accountID), Action: "org.create", Subject: orgParty(o.ID), Purpose: "service",
			Detail: map[string]string{"role": string(org.Owner)},
		})
	})
	if err != nil {
		return org.Organisation{}, err
	}
	s.env.Log.LogAttrs(ctx, slog.LevelInfo, "organisation created", slog.String("organisation", o.ID))
	return o, nil
}

// Detail is one organisation as a member sees it at first: with their
// role and, for the roles that may see it, the DPA acceptance in force.
type Detail struct {
	org.WithRole
	// DPA is the acceptance in force; nil when there is none or the role
	// may not see it (org.ViewDPA).
	DPA *org.DPAAcceptance
}

// Get returns the organisation for one of its members.
func (s *Service) Get(ctx context.Context, actor service.Actor, orgID string) (Detail, error) {
	o, role, err := s.read(ctx, actor, orgID, org.View)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{WithRole: org.WithRole{Organisation: o, Role: role}}
	if org.Can(role, org.ViewDPA) {
		if d.DPA, err = store.CurrentDPA(ctx, s.env.Store.DB, o.ID); err != nil {
			return Detail{}, err
		}
	}
	return d, nil
}

// Page is everything the organisation's page shows to one member; each
// part is filled only for the roles that may see it.
type Page struct {
	org.WithRole
	// Members are filled for org.ViewMembers, with their addresses for
	// org.ManageMembers only.
	Members []org.Membership
	// Invitations are the open ones, for org.ManageMembers.
	Invitations []org.Invitation
	// DPAs are every acceptance, the one in force first, for org.ViewDPA.
	DPAs []org.DPAAcceptance
}

// Page gathers the organisation's page for one of its members.
func (s *Service) Page(ctx context.Context, actor service.Actor, orgID string) (Page, error) {
	o, role, err := s.read(ctx, actor, orgID, org.View)
	if err != nil {
		return Page{}, err
	}
	p := Page{WithRole: org.WithRole{Organisation: o, Role: role}}
	db := s.env.Store.DB
	if org.Can(role, org.ViewMembers) {
		if p.Members, err = store.OrganisationMembers(ctx, db, o.ID); err != nil {
			return Page{}, err
		}
		hideAddresses(p.Members, role)
	}
	if org.Can(role, org.ManageMembers) {
		if p.Invitations, err = store.PendingInvitations(ctx, db, o.ID, s.env.Now()); err != nil {
			return Page{}, err
		}
	}
	if org.Can(role, org.ViewDPA) {
		if p.DPAs, err = store.DPAAcceptances(ctx, db, o.ID); err != nil {
			return Page{}, err
		}
	}
	return p, nil
}

// Update is a change of name or brand colour; nil fields stay as they
// are, and a colour of "" removes it.
type Update struct {
	Name   *string
	Colour *string
}

// Update renames or recolours the organisation, for owners and admins.
// The role is checked before the values are.
func (s *Service) Update(ctx context.Context, actor service.Actor, orgID string, u Update) (org.WithRole, error) {
	accountID, err := member(actor)
	if err != nil {
		return org.WithRole{}, err
	}
	now := s.env.Now()
	var after org.WithRole
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		before, role, err := lockFor(ctx, tx, orgID, accountID, org.Edit)
		if err != nil {
			return err
		}
		v := errs.Validation{}
		after = org.WithRole{Organisation: before, Role: role}
		detail := map[string]string{}
		var changed []string
		if u.Name != nil {
			if name := org.CheckName(v, "name", *u.Name); name != before.Name {
				after.Name = name
				changed = append(changed, "name")
				detail["old_name_sha256"] = hashed(before.Name)
			}
		}
		if u.Colour != nil {
			if colour := org.CheckColour(v, "colour", *u.Colour); colour != before.Colour {
				after.Colour = colour
				changed = append(changed, "colour")
				detail["old_colour_sha256"] = hashed(before.Colour)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil
		}
		after.UpdatedAt = now
		if err := store.UpdateOrganisation(ctx, tx, orgID, after.Name, after.Colour, now); err != nil {
			return err
		}
		detail["fields"] = strings.Join(changed, ",")
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actorParty(accountID), Action: "org.update", Subject: orgParty(orgID), Purpose: "service", Detail: detail,
		})
	})
	if err != nil {
		return org.WithRole{}, err
	}
	return after, nil
}

// Delete deletes the organisation with its memberships, invitations and
// DPA acceptances, for owners only, and then its logo. confirmName, when
// not nil, is the name the person typed to confirm, so that a slip of the
// mouse deletes nothing; it must match the organisation's.
func (s *Service) Delete(ctx context.Context, actor service.Actor, orgID string, confirmName *string) error {
	accountID, err := member(actor)
	if err != nil {
		return err
	}
	now := s.env.Now()
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		o, _, err := lockFor(ctx, tx, orgID, accountID, org.Delete)
		if err != nil {
			return err
		}
		if confirmName != nil && strings.TrimSpace(*confirmName) != o.Name {
			return &errs.Error{Code: errs.Invalid, Message: "the name does not match",
				Fields: map[string]string{"confirm_name": "type the organisation's name exactly as shown to delete it"}}
		}
		members, err := store.OrganisationSize(ctx, tx, orgID)
		if err != nil {
			return err
		}
		if err := store.DeleteOrganisation(ctx, tx, orgID); err != nil {
			return err
		}
		s.deleteLogoAfter(tx, o.LogoKey)
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actorParty(accountID), Action: "org.delete", Subject: orgParty(orgID), Purpose: "service",
			Detail: map[string]string{"members": strconv.Itoa(members)},
		})
	})
	if err != nil {
		return err
	}
	s.env.Log.LogAttrs(ctx, slog.LevelInfo, "organisation deleted", slog.String("organisation", orgID))
	return nil
}

// hideAddresses blanks the members' addresses for a role that does not
// run the membership.
func hideAddresses(members []org.Membership, role org.Role) {
	if org.Can(role, org.ManageMembers) {
		return
	}
	for i := range members {
		members[i].Email = ""
	}
}
