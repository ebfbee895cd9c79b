package console

import (
	"context"
	"errors"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// Staff lists the staff register: every account that holds a role, by
// name, each with its roles narrowest first.
func (s *Service) Staff(ctx context.Context, actor service.Actor) ([]staff.Member, error) {
	var list []staff.Member
	err := s.staffRead(ctx, actor, staff.ManageStaff, func(tx *service.Tx) error {
		var err error
		list, err = store.ListStaff(ctx, tx)
		return err
	})
	return list, err
}

// ErrOwnRoles refuses a change to the actor's own roles: no one grants
// themselves a role (an administrator making themselves privacy officer
// would join the two halves of the console that are kept apart), and no
// one drops one of their own unseen; a second administrator does both.
var ErrOwnRoles = errs.E(errs.Forbidden, "another administrator must change your own staff roles")

// GrantRole gives role to the account with the e-mail address and returns
// its entry in the register, and whether the role is new to it. Staff
// accounts must have confirmed their address, so that a typo cannot hand
// a role to a stranger's new account. A role granted to an account
// without two-step sign-in is kept but stays dormant until the person
// turns it on; the register shows which roles are in force.
func (s *Service) GrantRole(ctx context.Context, actor service.Actor, email, role string) (staff.Member, bool, error) {
	email = account.NormaliseEmail(email)
	var (
		m       staff.Member
		granted bool
	)
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.ManageStaff); err != nil {
			return err
		}
		v := errs.Validation{}
		account.CheckEmail(v, "email", email)
		if !staff.Role(role).Valid() {
			v.Add("role", "choose support, privacy officer or administrator")
		}
		if err := v.Err(); err != nil {
			return err
		}
		a, err := store.AccountByEmail(ctx, tx, email)
		if errors.Is(err, database.ErrNotFound) {
			return invalid("no account has this address", "email", "no account has this address; the person must sign up first")
		}
		if err != nil {
			return err
		}
		if a.ID == actor.AccountID {
			return ErrOwnRoles
		}
		if !a.Verified() {
			return invalid("the account has not confirmed its address", "email", "this account has not confirmed its address yet")
		}
		now := s.env.Now()
		if granted, err = store.AddStaffRole(ctx, tx, a.ID, staff.Role(role), now); err != nil {
			return err
		}
		if granted {
			if err := tx.Audit(ctx, staff.GrantEntry(actor.Staff(), a.ID, staff.Role(role), now)); err != nil {
				return err
			}
		}
		m, err = registerEntry(ctx, tx, a.ID)
		return err
	})
	return m, granted, err
}

// RevokeRole takes role from the account and returns its entry in the
// register, with the roles it keeps. An account that does not hold the
// role is errs.NotFound; the last administrator keeps the role
// (staff.ErrLastAdmin); the actor's own roles are another
// administrator's to change (ErrOwnRoles).
func (s *Service) RevokeRole(ctx context.Context, actor service.Actor, accountID, role string) (staff.Member, error) {
	var m staff.Member
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.ManageStaff); err != nil {
			return err
		}
		if !staff.Role(role).Valid() {
			return invalid("unknown staff role", "role", "must be support, privacy_officer or admin")
		}
		if accountID == actor.AccountID {
			return ErrOwnRoles
		}
		revoked, err := store.RemoveStaffRole(ctx, tx, accountID, staff.Role(role))
		if err != nil {
			return err
		}
		if !revoked {
			return errs.E(errs.NotFound, "this account does not hold that role")
		}
		if err := tx.Audit(ctx, audit.Entry{
			At: s.env.Now(), Actor: actor.Staff(), Action: "staff.revoke", Subject: audit.Party{Kind: "member", ID: accountID},
			Purpose: "security", Detail: map[string]string{"role": role},
		}); err != nil {
			return err
		}
		m, err = registerEntry(ctx, tx, accountID)
		return err
	})
	return m, err
}

// registerEntry returns the register's entry of one account; an account
// that holds no role any more is returned with none.
func registerEntry(ctx context.Context, q database.Querier, id string) (staff.Member, error) {
	list, err := store.ListStaff(ctx, q)
	if err != nil {
		return staff.Member{}, err
	}
	for _, m := range list {
		if m.AccountID == id {
			return m, nil
		}
	}
	a, err := store.AccountByID(ctx, q, id)
	if err != nil {
		return staff.Member{}, err
	}
	return staff.Member{AccountID: a.ID, Name: a.Name, Email: a.Email, TwoStep: a.TOTPEnabled()}, nil
}
