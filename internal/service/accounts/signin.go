package accounts

import (
	"context"
	"errors"
	"strings"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// SignedIn is where a correct password (or code) leads: a session, or the
// second step.
type SignedIn struct {
	AccountID string
	// Challenge is set when a second-factor code is still needed; it goes
	// into a short-lived cookie and Session is nil.
	Challenge string
	Session   *NewSession
}

// SignIn checks an address and password and, without a second factor,
// opens a session. Unknown addresses cost one hash, like known ones, and
// count against the same kind of counter.
func (s *Service) SignIn(ctx context.Context, email, password string, b Browser) (SignedIn, error) {
	email = account.NormaliseEmail(email)
	v := errs.Validation{}
	if email == "" {
		v.Add("email", "enter your e-mail address")
	} else if len(email) > account.MaxEmailLength {
		v.Add("email", "must be at most 254 characters")
	}
	if password == "" {
		v.Add("password", "enter your password")
	} else if len(password) > account.MaxPasswordBytes {
		v.Add("password", "must be at most 1024 bytes")
	}
	if err := v.Err(); err != nil {
		return SignedIn{}, err
	}
	db := s.env.Store.DB
	// The try is counted before the password is hashed: a burst of
	// concurrent tries cannot all pass the limit before any is counted.
	acctT, ipT := s.accountThrottle(email), s.ipThrottle(b.IP)
	try, err := s.env.Attempt(ctx, acctT, ipT)
	if err != nil {
		return SignedIn{}, err
	}
	a, err := store.AccountByEmail(ctx, db, email)
	ok := false
	switch {
	case errors.Is(err, database.ErrNotFound):
		s.env.Passwords.VerifyDummy(password)
	case err != nil:
		return SignedIn{}, err
	default:
		var rehash bool
		ok, rehash, err = s.env.Passwords.Verify(a.PasswordHash, password)
		if err != nil {
			return SignedIn{}, err
		}
		if ok && rehash {
			if h, err := s.env.Passwords.Hash(password); err == nil {
				if err := store.RehashPassword(ctx, db, a.ID, a.PasswordHash, h); err != nil {
					return SignedIn{}, err
				}
			}
		}
	}
	if !ok {
		return SignedIn{}, ErrBadCredentials
	}
	// A right password takes its try back from the IP's counter and
	// clears the address's. Wrong second-factor codes count on a counter
	// of their own, which this does not touch.
	if err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := try.Refund(ctx, tx); err != nil {
			return err
		}
		return store.ClearThrottle(ctx, tx, acctT.Key)
	}); err != nil {
		return SignedIn{}, err
	}
	if a.TOTPEnabled() {
		token := account.NewChallengeToken()
		now := s.env.Clock.Now()
		if err := store.CreateSignInChallenge(ctx, db, account.TokenDigest(token), a.ID, now, now.Add(account.ChallengeTTL)); err != nil {
			return SignedIn{}, err
		}
		return SignedIn{AccountID: a.ID, Challenge: token}, nil
	}
	sess, err := s.openSession(ctx, b, a.ID, "password", nil)
	if err != nil {
		return SignedIn{}, err
	}
	return SignedIn{AccountID: a.ID, Session: &sess}, nil
}

// SignInCode answers the second step with a TOTP code or a recovery code
// and opens the session. A lapsed or unknown challenge is
// ErrChallengeLapsed.
func (s *Service) SignInCode(ctx context.Context, challenge, code string, b Browser) (SignedIn, error) {
	db := s.env.Store.DB
	now := s.env.Clock.Now()
	if challenge == "" {
		return SignedIn{}, ErrChallengeLapsed
	}
	digest := account.TokenDigest(challenge)
	id, err := store.SignInChallenge(ctx, db, digest, now)
	if errors.Is(err, database.ErrNotFound) {
		return SignedIn{}, ErrChallengeLapsed
	}
	if err != nil {
		return SignedIn{}, err
	}
	a, err := store.AccountByID(ctx, db, id)
	if err != nil {
		return SignedIn{}, err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return SignedIn{}, &errs.Error{Code: errs.Invalid, Message: "enter a code", Fields: map[string]string{"code": "enter the 6-digit code from your app, or a recovery code"}}
	}
	codeT, ipT := s.secondStepThrottle(a.ID), s.ipThrottle(b.IP)
	try, err := s.env.Attempt(ctx, codeT, ipT)
	if err != nil {
		return SignedIn{}, err
	}
	method, ok, err := s.checkSecondFactor(ctx, a, code)
	if err != nil {
		return SignedIn{}, err
	}
	if !ok {
		if try.Locks(codeT) {
			if err := s.secondStepLocked(ctx, a); err != nil {
				return SignedIn{}, err
			}
		}
		return SignedIn{}, &errs.Error{Code: errs.Unauthorized, Message: "that code is not right", Fields: map[string]string{"code": "that code is not right, or it was used already"}}
	}
	sess, err := s.openSession(ctx, b, a.ID, method, func(ctx context.Context, tx *service.Tx) error {
		if err := store.DeleteSignInChallenge(ctx, tx, digest); err != nil {
			return err
		}
		if err := try.Refund(ctx, tx); err != nil {
			return err
		}
		return store.ClearThrottle(ctx, tx, codeT.Key)
	})
	if err != nil {
		return SignedIn{}, err
	}
	return SignedIn{AccountID: a.ID, Session: &sess}, nil
}

// checkSecondFactor accepts a current TOTP code not used before, or an
// unused recovery code, spending it. method names which one.
func (s *Service) checkSecondFactor(ctx context.Context, a account.Account, code string) (string, bool, error) {
	if !a.TOTPEnabled() {
		return "", false, nil
	}
	db := s.env.Store.DB
	if allDigits(strings.ReplaceAll(code, " ", "")) {
		box, err := s.secrets()
		if err != nil {
			return "", false, err
		}
		secret, err := box.Open(a.ID, a.TOTPSecret)
		if err != nil {
			return "", false, err
		}
		step, ok := account.CheckTOTP(secret, code, s.env.Clock.Now(), a.TOTPLastStep)
		if !ok {
			return "totp", false, nil
		}
		ok, err = store.UseTOTPStep(ctx, db, a.ID, step)
		return "totp", ok, err
	}
	ok, err := store.UseRecoveryCode(ctx, db, a.ID, account.RecoveryCodeDigest(code), s.env.Clock.Now())
	return "recovery-code", ok, err
}

// secondStepLocked tells the owner that wrong codes have just locked the
// second step. Codes are asked for only after the right password, or in a
// signed-in session, so someone else may hold the password; the mail says
// so and holds nothing that would help them.
func (s *Service) secondStepLocked(ctx context.Context, a account.Account) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := s.audit(ctx, tx, anonymousParty, "account.second-step-locked", a.ID, "security", nil); err != nil {
			return err
		}
		return s.mail(ctx, tx, secondStepLockedMail(a, account.SecondStepThrottle, s.env.Config.BaseURL))
	})
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// openSession ends any session the browser already had (so a planted
// cookie cannot be promoted to a signed-in one), reactivates a deactivated
// account, and starts a fresh session, with first (when set) in the same
// transaction.
func (s *Service) openSession(ctx context.Context, b Browser, accountID, method string, first func(context.Context, *service.Tx) error) (NewSession, error) {
	var sess NewSession
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if first != nil {
			if err := first(ctx, tx); err != nil {
				return err
			}
		}
		if b.SessionToken != "" {
			if old, _, err := store.SessionByDigest(ctx, tx, account.TokenDigest(b.SessionToken)); err == nil {
				if _, err := store.DeleteSession(ctx, tx, old.AccountID, old.ID); err != nil {
					return err
				}
			}
		}
		now := s.env.Clock.Now()
		// Signing in within the grace period brings a deactivated account
		// back, audited; past it, or while erasure is pending, sign-in
		// stops here with a message for the member.
		if _, err := s.reactivateIfDeactivated(ctx, tx, accountID); err != nil {
			return err
		}
		if err := store.TouchAccountActive(ctx, tx, accountID, now); err != nil {
			return err
		}
		if b.OnSignIn != nil {
			if err := b.OnSignIn(ctx, tx, accountID); err != nil {
				return err
			}
		}
		var err error
		if sess, err = s.startSession(ctx, tx, b, accountID); err != nil {
			return err
		}
		return s.audit(ctx, tx, memberParty(accountID), "account.sign-in", accountID, "security",
			map[string]string{"method": method, "session": sess.ID})
	})
	return sess, err
}

// SignOut ends the session whose cookie holds token, if any.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	sess, _, err := store.SessionByDigest(ctx, s.env.Store.DB, account.TokenDigest(token))
	if errors.Is(err, database.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		if _, err := store.DeleteSession(ctx, tx, sess.AccountID, sess.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, memberParty(sess.AccountID), "account.sign-out", sess.AccountID, "security",
			map[string]string{"session": sess.ID})
	})
}
