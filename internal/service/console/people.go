package console

import (
	"context"
	"errors"
	"strings"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// MaxLookup bounds what the lookup accepts: an e-mail address or an id.
const MaxLookup = account.MaxEmailLength

// AccessLogLimit is how many entries a member's own access log shows.
const AccessLogLimit = 500

// LookUp finds the id of the account whose e-mail address or id staff
// typed, and records in the audit log that actor learnt which account
// it is: whether an address or an id was typed, never which. An empty
// query, or one that matches nobody, finds "" and records nothing.
func (s *Service) LookUp(ctx context.Context, actor service.Actor, query string) (string, error) {
	query = strings.TrimSpace(query)
	var id string
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.LookUpPeople); err != nil {
			return err
		}
		if len(query) > MaxLookup {
			return invalid("the lookup is too long", "q", "must be at most 254 characters")
		}
		if query == "" {
			return nil
		}
		var err error
		id, err = store.FindPerson(ctx, tx, query)
		if errors.Is(err, database.ErrNotFound) {
			id = ""
			return nil
		}
		if err != nil {
			return err
		}
		by := "email"
		if id == query {
			by = "id"
		}
		role, _ := staff.ActingRole(actor.Roles, staff.LookUpPeople)
		return tx.Audit(ctx, audit.Entry{
			At: s.env.Now(), Actor: actor.Staff(), Action: "staff.lookup", Subject: audit.Party{Kind: "member", ID: id},
			Purpose: role.Purpose(), Detail: map[string]string{"by": by, "role": string(role)},
		})
	})
	return id, err
}

// ViewPerson shows actor, who gave reason, a person's contact details and
// account status, and writes the row of the person's access log and its
// audit entry in the same transaction: no look goes unrecorded, and no
// record is written for a look that failed. It returns that row too.
func (s *Service) ViewPerson(ctx context.Context, actor service.Actor, personID, reason string) (staff.Person, staff.Access, error) {
	var (
		p staff.Person
		a staff.Access
	)
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.ViewPerson.Permission()); err != nil {
			return err
		}
		var err error
		a, err = staff.NewAccess(actor.AccountID, actor.Roles, personID, staff.ViewPerson, reason, s.env.Now())
		if err != nil {
			return err
		}
		if p, err = store.ReadPerson(ctx, tx, personID, a.At, s.signInLockKey); err != nil {
			return err
		}
		return s.recordAccess(ctx, tx, a, audit.Party{Kind: "member", ID: personID})
	})
	return p, a, err
}

// signInLockKey is the sign-in throttle's key of an e-mail address, by
// which a locked sign-in shows on the person's record.
func (s *Service) signInLockKey(email string) string {
	return ratelimit.Key(s.env.Secret, "signin-account", email)
}

// recordAccess writes the access-log row (when it names a person) and the
// audit entry of a staff look. The reason goes to the access log only:
// the audit log holds no free text.
func (s *Service) recordAccess(ctx context.Context, tx *service.Tx, a staff.Access, subject audit.Party) error {
	detail := map[string]string{"view": string(a.View), "role": string(a.Role)}
	if a.PersonID != "" {
		if err := store.RecordAccess(ctx, tx, a); err != nil {
			return err
		}
		detail["access"] = a.ID
	}
	if subject.Kind == "mail" {
		detail["message"] = subject.ID
	}
	return tx.Audit(ctx, audit.Entry{
		At: a.At, Actor: audit.Party{Kind: "staff", ID: a.StaffID}, Action: "staff.read",
		Subject: subject, Purpose: a.Role.Purpose(), Detail: detail,
	})
}

// AccessLog lists, newest first, every look staff took at the data of the
// signed-in member accountID, at most AccessLogLimit.
func (s *Service) AccessLog(ctx context.Context, accountID string) ([]staff.Access, error) {
	if accountID == "" {
		return nil, errs.E(errs.Unauthorized, "sign in first")
	}
	var list []staff.Access
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		var err error
		list, err = store.AccessLogOf(ctx, tx, accountID, AccessLogLimit)
		return err
	})
	return list, err
}
