package accounts

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// issueLink makes a signed link for purpose and records its digest for
// single use.
func (s *Service) issueLink(ctx context.Context, tx *service.Tx, purpose, accountID, newEmail string, ttl time.Duration) (string, error) {
	now := s.env.Clock.Now()
	exp := now.Add(ttl)
	token := signed.Make(s.env.Secret, purpose, accountID, exp)
	if err := store.CreateEmailToken(ctx, tx, signed.Digest(token), purpose, accountID, newEmail, now, exp); err != nil {
		return "", err
	}
	return token, nil
}

// CheckLink returns the account an e-mailed link is for if it is genuine,
// unexpired and unspent, without spending it.
func (s *Service) CheckLink(ctx context.Context, purpose, token string) (string, error) {
	id, err := signed.Check(s.env.Secret, purpose, token, s.env.Clock.Now())
	if err != nil {
		return "", ErrBadLink
	}
	live, err := store.EmailTokenLive(ctx, s.env.Store.DB, signed.Digest(token), purpose, id, s.env.Clock.Now())
	if err != nil {
		return "", err
	}
	if !live {
		return "", ErrBadLink
	}
	return id, nil
}

// spendLink checks a link and spends it inside tx, returning the account
// and, for a change of address, the new address.
func (s *Service) spendLink(ctx context.Context, tx *service.Tx, purpose, token string) (string, string, error) {
	now := s.env.Clock.Now()
	id, err := signed.Check(s.env.Secret, purpose, token, now)
	if err != nil {
		return "", "", ErrBadLink
	}
	newEmail, err := store.UseEmailToken(ctx, tx, signed.Digest(token), purpose, id, now)
	if errors.Is(err, database.ErrNotFound) {
		return "", "", ErrBadLink
	}
	if err != nil {
		return "", "", err
	}
	return id, newEmail, nil
}

func (s *Service) sendVerification(ctx context.Context, tx *service.Tx, a account.Account) error {
	if err := store.VoidEmailTokens(ctx, tx, a.ID, account.PurposeVerify, s.env.Clock.Now()); err != nil {
		return err
	}
	token, err := s.issueLink(ctx, tx, account.PurposeVerify, a.ID, "", account.VerifyTTL)
	if err != nil {
		return err
	}
	return s.mail(ctx, tx, verifyMail(a, s.linkTo("/verify-email", token)))
}

// ResendVerification sends a fresh link to a signed-in, unverified member.
func (s *Service) ResendVerification(ctx context.Context, accountID, ip string) error {
	a, err := store.AccountByID(ctx, s.env.Store.DB, accountID)
	if err != nil || a.Verified() {
		return err
	}
	send, err := s.mailAllowed(ctx, ip, a.Email)
	if err != nil || !send {
		return err
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		a, err := store.AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		return s.sendVerification(ctx, tx, a)
	})
}

// VerifyEmail spends a verification link.
func (s *Service) VerifyEmail(ctx context.Context, token string) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		id, _, err := s.spendLink(ctx, tx, account.PurposeVerify, token)
		if err != nil {
			return err
		}
		changed, err := store.MarkEmailVerified(ctx, tx, id, s.env.Clock.Now())
		if err != nil || !changed {
			return err
		}
		return s.audit(ctx, tx, anonymousParty, "account.verify-email", id, "account", nil)
	})
}

// ForgotPassword mails a reset link when the address has an account, and
// does nothing visible otherwise.
func (s *Service) ForgotPassword(ctx context.Context, email, ip string) error {
	email = account.NormaliseEmail(email)
	v := errs.Validation{}
	account.CheckEmail(v, "email", email)
	if err := v.Err(); err != nil {
		return err
	}
	send, err := s.mailAllowed(ctx, ip, email)
	if err != nil || !send {
		return err
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		a, err := store.AccountByEmail(ctx, tx, email)
		if errors.Is(err, database.ErrNotFound) || (err == nil && a.Status == account.ErasurePending) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := store.VoidEmailTokens(ctx, tx, a.ID, account.PurposeReset, s.env.Clock.Now()); err != nil {
			return err
		}
		token, err := s.issueLink(ctx, tx, account.PurposeReset, a.ID, "", account.ResetTTL)
		if err != nil {
			return err
		}
		return s.mail(ctx, tx, resetMail(a, s.linkTo("/reset-password", token)))
	})
}

// ResetPassword spends a reset link, sets the new password and ends every
// session. The new password is checked before the link is spent, so a
// refused password leaves the link usable.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	if _, err := s.CheckLink(ctx, account.PurposeReset, token); err != nil {
		return err
	}
	v := errs.Validation{}
	account.CheckPassword(v, "password", password)
	if err := v.Err(); err != nil {
		return err
	}
	hash, err := s.env.Passwords.Hash(password)
	if err != nil {
		return err
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		id, _, err := s.spendLink(ctx, tx, account.PurposeReset, token)
		if err != nil {
			return err
		}
		now := s.env.Clock.Now()
		a, err := store.AccountByID(ctx, tx, id)
		if err != nil {
			return err
		}
		// The link reached the mailbox, which proves the address as well as
		// a verification link would.
		if _, err := store.MarkEmailVerified(ctx, tx, id, now); err != nil {
			return err
		}
		if err := store.ClearThrottle(ctx, tx, s.accountThrottle(a.Email).Key); err != nil {
			return err
		}
		return s.replacePassword(ctx, tx, a, hash, now, anonymousParty, "account.password-reset", "")
	})
}

// replacePassword is what every new password brings, inside the caller's
// transaction: open reset links stop working, every session but keep ends
// (keep is "" to end them all), every personal API token is revoked (a
// token made by whoever knew the old password must not outlive it), the
// audit entry counts them, and the member is told by e-mail in case it
// was not them.
func (s *Service) replacePassword(ctx context.Context, tx *service.Tx, a account.Account, hash string, now time.Time,
	actor audit.Party, action, keep string) error {
	if err := store.SetPassword(ctx, tx, a.ID, hash, now); err != nil {
		return err
	}
	if err := store.VoidEmailTokens(ctx, tx, a.ID, account.PurposeReset, now); err != nil {
		return err
	}
	ended, err := store.DeleteSessions(ctx, tx, a.ID, keep)
	if err != nil {
		return err
	}
	revoked, err := store.DeleteAPITokens(ctx, tx, a.ID)
	if err != nil {
		return err
	}
	if err := s.audit(ctx, tx, actor, action, a.ID, "security", map[string]string{
		"sessions_ended": strconv.FormatInt(ended, 10), "tokens_revoked": strconv.FormatInt(revoked, 10),
	}); err != nil {
		return err
	}
	return s.mail(ctx, tx, passwordChangedMail(a, s.env.Config.BaseURL))
}

// Me is a signed-in member acting on their own account from one session
// (or, with an API token, none).
type Me struct {
	AccountID string
	SessionID string
	// IP is the client's address, for the failure counters.
	IP string
}

// ChangePassword sets a new password for a signed-in member who knows the
// current one, and ends their other sessions.
func (s *Service) ChangePassword(ctx context.Context, me Me, current, next string) error {
	v := errs.Validation{}
	if current == "" {
		v.Add("current_password", "enter your current password")
	}
	account.CheckPassword(v, "new_password", next)
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.confirmPassword(ctx, me, current, "current_password"); err != nil {
		return err
	}
	hash, err := s.env.Passwords.Hash(next)
	if err != nil {
		return err
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		a, err := store.AccountByID(ctx, tx, me.AccountID)
		if err != nil {
			return err
		}
		return s.replacePassword(ctx, tx, a, hash, s.env.Clock.Now(), memberParty(a.ID), "account.password-change", me.SessionID)
	})
}

// confirmPassword re-checks a signed-in member's password before a
// sensitive change. Failures count like failed sign-ins.
func (s *Service) confirmPassword(ctx context.Context, me Me, password, field string) error {
	a, err := store.AccountByID(ctx, s.env.Store.DB, me.AccountID)
	if err != nil {
		return err
	}
	try, err := s.env.Attempt(ctx, s.accountThrottle(a.Email), s.ipThrottle(me.IP))
	if err != nil {
		return err
	}
	ok, _, err := s.env.Passwords.Verify(a.PasswordHash, password)
	if err != nil {
		return err
	}
	if !ok {
		return &errs.Error{Code: errs.Invalid, Message: "the password is not right", Fields: map[string]string{field: "this is not your current password"}}
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error { return try.Refund(ctx, tx) })
}

// RequestEmailChange sends a confirmation link to the new address. When
// the new address already has an account its owner is told instead, and
// the member sees the same answer.
func (s *Service) RequestEmailChange(ctx context.Context, me Me, newEmail, password string) error {
	a, err := store.AccountByID(ctx, s.env.Store.DB, me.AccountID)
	if err != nil {
		return err
	}
	newEmail = account.NormaliseEmail(newEmail)
	v := errs.Validation{}
	account.CheckEmail(v, "email", newEmail)
	if newEmail == a.Email {
		v.Add("email", "this is already your address")
	}
	if password == "" {
		v.Add("password", "enter your current password")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.confirmPassword(ctx, me, password, "password"); err != nil {
		return err
	}
	send, err := s.mailAllowed(ctx, me.IP, newEmail)
	if err != nil || !send {
		return err
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		other, err := store.AccountByEmail(ctx, tx, newEmail)
		if err == nil {
			return s.mail(ctx, tx, emailTakenMail(other, s.env.Config.BaseURL))
		}
		if !errors.Is(err, database.ErrNotFound) {
			return err
		}
		if err := store.VoidEmailTokens(ctx, tx, me.AccountID, account.PurposeChangeEmail, s.env.Clock.Now()); err != nil {
			return err
		}
		token, err := s.issueLink(ctx, tx, account.PurposeChangeEmail, me.AccountID, newEmail, account.ChangeEmailTTL)
		if err != nil {
			return err
		}
		return s.mail(ctx, tx, changeEmailMail(me.AccountID, newEmail, s.linkTo("/confirm-email", token)))
	})
}

// ConfirmEmailChange spends a change-of-address link, moves the account
// and tells the old address.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		id, newEmail, err := s.spendLink(ctx, tx, account.PurposeChangeEmail, token)
		if err != nil {
			return err
		}
		a, err := store.AccountByID(ctx, tx, id)
		if err != nil {
			return err
		}
		err = store.SetAccountEmail(ctx, tx, id, newEmail, s.env.Clock.Now())
		if errors.Is(err, database.ErrDuplicate) {
			return errs.E(errs.Conflict, "that address now belongs to another account")
		}
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, anonymousParty, "account.email-change", id, "account",
			map[string]string{"field": "email", "old_sha256": digestForAudit(a.Email)}); err != nil {
			return err
		}
		return s.mail(ctx, tx, emailChangedMail(a, s.env.Config.BaseURL))
	})
}
