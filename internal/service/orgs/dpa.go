package orgs

import (
	"context"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// DPAs lists every acceptance of the Data Processing Addendum by the
// organisation, the one in force first, for the roles that may see them.
func (s *Service) DPAs(ctx context.Context, actor service.Actor, orgID string) ([]org.DPAAcceptance, error) {
	o, _, err := s.read(ctx, actor, orgID, org.ViewDPA)
	if err != nil {
		return nil, err
	}
	return store.DPAAcceptances(ctx, s.env.Store.DB, o.ID)
}

// AcceptDPA records that the actor, an owner, accepted a version of the
// Data Processing Addendum on the organisation's behalf. confirmed says
// that they said so in as many words (a form's tick box; a call to the
// API is that statement itself). Acceptances are only ever added; the
// same version is not accepted twice in a row.
func (s *Service) AcceptDPA(ctx context.Context, actor service.Actor, orgID, version string, confirmed bool) (org.DPAAcceptance, error) {
	accountID, err := member(actor)
	if err != nil {
		return org.DPAAcceptance{}, err
	}
	now := s.env.Now()
	var a org.DPAAcceptance
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		if _, _, err := lockFor(ctx, tx, orgID, accountID, org.AcceptDPA); err != nil {
			return err
		}
		v := errs.Validation{}
		version := org.CheckDPAVersion(v, "version", version)
		if !confirmed {
			v.Add("confirm", "tick the box to confirm that you accept on the organisation's behalf")
		}
		if err := v.Err(); err != nil {
			return err
		}
		current, err := store.CurrentDPA(ctx, tx, orgID)
		if err != nil {
			return err
		}
		if current != nil && current.Version == version {
			return errs.E(errs.Conflict, "the organisation has accepted this version already")
		}
		a = org.DPAAcceptance{ID: newID("dpa_"), OrganisationID: orgID, Version: version, AcceptedBy: accountID, AcceptedAt: now}
		if err := store.CreateDPAAcceptance(ctx, tx, a); err != nil {
			return err
		}
		by, err := store.AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		a.AcceptedByName = by.Name
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actorParty(accountID), Action: "org.dpa.accept", Subject: orgParty(orgID), Purpose: "legal-compliance",
			Detail: map[string]string{"version": version, "acceptance": a.ID},
		})
	})
	if err != nil {
		return org.DPAAcceptance{}, err
	}
	return a, nil
}
