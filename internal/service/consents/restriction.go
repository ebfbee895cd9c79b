package consents

import (
	"context"
	"errors"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// SetRestriction is staff who handle rights requests setting or lifting
// the restriction of processing for a member (Art. 18 GDPR), audited. A
// restriction that comes into force is notified to each recipient of the
// member's data (Art. 19) in the same transaction, and the notices are
// sent after the commit. Members ask for it through a rights request.
func (s *Service) SetRestriction(ctx context.Context, actor service.Actor, personID string, restricted bool) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.HandleRightsRequests); err != nil {
			return err
		}
		if _, err := store.AccountByID(ctx, tx, personID); errors.Is(err, database.ErrNotFound) {
			return errs.E(errs.NotFound, "there is no such person")
		} else if err != nil {
			return err
		}
		changed, err := s.Restrict(ctx, tx, actor.Staff(), personID, restricted)
		if err != nil || !changed || !restricted {
			// A lift tells no recipient: Art. 19 asks for notice of a
			// restriction carried out, and Art. 18(3) wants only the
			// person told before a lift.
			return err
		}
		// The notices name the person by the audit log's pseudonym, which
		// the server secret keys.
		ids, err := s.env.Store.NotifyRecipients(ctx, tx, *s.env.Map, rights.Person{AccountID: personID}, rights.ChangeRestriction, s.env.Clock.Now())
		if err != nil {
			return err
		}
		tx.Deliver(ids...)
		return nil
	})
}

// Restrict sets or lifts the person's restriction in the caller's
// transaction, with the audit entry of actor's change, and reports
// whether anything changed: setting a restriction in force, or lifting
// one that is not, changes nothing and writes no entry. The rights
// workflow's steps, which restrict and lift as part of a request, are
// meant to call it too.
func (s *Service) Restrict(ctx context.Context, tx *service.Tx, actor audit.Party, personID string, restricted bool) (bool, error) {
	now := s.env.Clock.Now()
	changed, err := store.ChangeRestriction(ctx, tx, personID, restricted, now)
	if err != nil || !changed {
		return false, err
	}
	return true, tx.Audit(ctx, restrictionEntry(actor, personID, restricted, now))
}

// restrictionEntry is the audit entry of a restriction set or lifted.
func restrictionEntry(actor audit.Party, personID string, restricted bool, now time.Time) audit.Entry {
	action := "restriction.lift"
	if restricted {
		action = "restriction.set"
	}
	return audit.Entry{At: now, Actor: actor, Action: action,
		Subject: audit.Party{Kind: "member", ID: personID}, Purpose: "legal-compliance"}
}
