package dsr

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// membershipsTable is the data map's table of who belongs to which
// organisation. Its step of an erasure plan first settles, one
// organisation at a time, those the person owns (handOverOrganisations).
const membershipsTable = "memberships"

// handOverOrganisations ends the person's ownerships before the
// memberships step removes the rest of their memberships. Each
// organisation they own is settled in one transaction with the erasure
// of their membership of it: when they were its last owner, it passes to
// the successor package org names, who is told by e-mail, or, with
// nobody to take it, it is marked ownerless, which withdraws its open
// invitations and starts org.OwnerlessRule, after which retention deletes
// it. Either is audited with the organisation as subject. An organisation
// with another owner only loses the person's membership. A run that
// stops midway settles the rest when it is taken up again: each
// transaction leaves the person one ownership fewer.
func (s *Service) handOverOrganisations(ctx context.Context, runID, accountID string) error {
	if accountID == "" {
		return nil
	}
	owned, err := store.OrganisationsOwnedBy(ctx, s.env.Store.DB, accountID)
	if err != nil {
		return err
	}
	for _, orgID := range owned {
		if err := s.handOver(ctx, runID, orgID, accountID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) handOver(ctx context.Context, runID, orgID, accountID string) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := store.LockOrganisation(ctx, tx, orgID); err != nil {
			return err
		}
		o, err := store.OrganisationByID(ctx, tx, orgID)
		if err != nil {
			return err
		}
		members, err := store.OrganisationMembers(ctx, tx, orgID)
		if err != nil {
			return err
		}
		now := s.env.Now()
		if err := store.EraseMembership(ctx, tx.Tx, runID, orgID, accountID, now); err != nil {
			return err
		}
		for _, m := range members {
			if m.Role == org.Owner && m.AccountID != accountID {
				return nil // another owner answers for it
			}
		}
		entry := audit.Entry{At: now, Actor: audit.Party{Kind: "system"}, Subject: audit.Party{Kind: "organisation", ID: orgID},
			Purpose: "service", Detail: map[string]string{"erasure_run": runID}}
		heir, ok := org.Successor(members, accountID)
		if !ok {
			withdrawn, err := store.MarkOwnerless(ctx, tx, orgID, now)
			if err != nil {
				return err
			}
			entry.Action = "org.ownerless"
			entry.Detail["rule"] = org.OwnerlessRule
			entry.Detail["invitations_withdrawn"] = strconv.FormatInt(withdrawn, 10)
			s.log().Info("organisation left without an owner", slog.String("organisation", orgID), slog.String("run", runID))
			return tx.Audit(ctx, entry)
		}
		if err := store.SetMemberRole(ctx, tx, orgID, heir.AccountID, org.Owner, now); err != nil {
			return err
		}
		mailID, err := tx.Mail(ctx, org.SuccessionMail(o, heir, s.env.Config.BaseURL+"/orgs/"+orgID))
		if err != nil {
			return err
		}
		entry.Action = "org.owner.succession"
		entry.Detail["owner"] = heir.AccountID
		entry.Detail["from_role"] = string(heir.Role)
		entry.Detail["mail"] = mailID
		return tx.Audit(ctx, entry)
	})
}

// settleBeforeStep does what must happen, in its own transactions, before
// the step of the plan removes the person's rows of a table.
func (s *Service) settleBeforeStep(ctx context.Context, runID string, step rights.Step, person rights.Person) error {
	if step.Table == membershipsTable {
		return s.handOverOrganisations(ctx, runID, person.AccountID)
	}
	return nil
}
