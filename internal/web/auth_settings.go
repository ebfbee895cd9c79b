package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/store"
)

// The security settings a signed-in member manages: the second factor and
// its recovery codes, sessions and personal API tokens. Shared by the
// security page and the API.

// maxAPITokens bounds the tokens one account can hold; more is a sign of a
// script creating them in a loop.
const maxAPITokens = 50

// totpSetup returns the second-factor setup waiting for confirmation,
// making a fresh secret when there is none (or fresh is set).
func (s *Server) totpSetup(ctx context.Context, p *principal, fresh bool) (account.TOTPSetup, error) {
	a, err := store.AccountByID(ctx, s.DB, p.AccountID)
	if err != nil {
		return account.TOTPSetup{}, err
	}
	if a.TOTPEnabled() {
		return account.TOTPSetup{}, errs.E(errs.Conflict, "two-step sign-in is already on")
	}
	if !fresh && len(a.TOTPSecret) > 0 {
		secret, err := s.secrets.Open(a.ID, a.TOTPSecret)
		if err == nil {
			return account.TOTPSetupFor(a.Email, secret)
		}
	}
	setup, err := account.NewTOTPSetup(a.Email)
	if err != nil {
		return account.TOTPSetup{}, err
	}
	if err := store.SetTOTPPending(ctx, s.DB, a.ID, s.secrets.Seal(a.ID, setup.Secret), s.Clock.Now()); err != nil {
		return account.TOTPSetup{}, err
	}
	return setup, nil
}

// totpEnable confirms the pending secret with a code from the app, turns
// the second factor on and returns a fresh set of recovery codes, which are
// shown once.
func (s *Server) totpEnable(ctx context.Context, p *principal, code string) ([]string, error) {
	var codes []string
	var mails []string
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		a, err := store.AccountByID(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		if a.TOTPEnabled() {
			return errs.E(errs.Conflict, "two-step sign-in is already on")
		}
		if len(a.TOTPSecret) == 0 {
			return errs.E(errs.Conflict, "start the set-up again: no code is waiting for confirmation")
		}
		secret, err := s.secrets.Open(a.ID, a.TOTPSecret)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		step, ok := account.CheckTOTP(secret, code, now, 0)
		if !ok {
			return &errs.Error{Code: errs.Invalid, Message: "that code is not right",
				Fields: map[string]string{"code": "enter the 6-digit code your app shows now"}}
		}
		if ok, err := store.EnableTOTP(ctx, tx, a.ID, step, now); err != nil || !ok {
			if err == nil {
				err = errs.E(errs.Conflict, "two-step sign-in changed in the meantime; reload the page")
			}
			return err
		}
		codes = account.NewRecoveryCodes()
		if err := store.ReplaceRecoveryCodes(ctx, tx, a.ID, recoveryDigests(codes), now); err != nil {
			return err
		}
		if err := s.auditAccount(ctx, tx, memberActor(a.ID), "account.totp-enable", a.ID, "security", nil); err != nil {
			return err
		}
		return s.queueMail(ctx, tx, &mails, securityNotice(a, "Two-step sign-in was turned on",
			"Two-step sign-in was turned on for your Sessions account. From now on, signing in asks for a code from your app.", s.Config.BaseURL))
	})
	if err != nil {
		return nil, err
	}
	s.sendQueued(ctx, mails)
	return codes, nil
}

func recoveryDigests(codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = account.RecoveryCodeDigest(c)
	}
	return out
}

func securityNotice(a account.Account, subject, what, base string) mail.Message {
	return mail.Message{
		PersonID: a.ID, Template: "account.security-notice", To: a.Email, Subject: subject,
		Text: what + "\n\nIf this was not you, reset your password at once: " + base + "/forgot-password\n",
	}
}

// secondFactorGate checks a code (TOTP or recovery) from a signed-in
// member before a change to the second factor, counting failures like
// failed sign-ins so that a stolen session cannot guess its way through.
func (s *Server) secondFactorGate(ctx context.Context, w http.ResponseWriter, r *http.Request, a account.Account, code string) error {
	if code == "" {
		return &errs.Error{Code: errs.Invalid, Message: "enter a code", Fields: map[string]string{"code": "enter the 6-digit code from your app, or a recovery code"}}
	}
	acctT, ipT := s.accountThrottle(a.Email), s.ipThrottle(r)
	if err := s.refuseIfLocked(ctx, w, acctT, ipT); err != nil {
		return err
	}
	_, ok, err := s.checkSecondFactor(ctx, a, code)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.countFailure(ctx, acctT, ipT); err != nil {
			return err
		}
		return &errs.Error{Code: errs.Invalid, Message: "that code is not right",
			Fields: map[string]string{"code": "that code is not right, or it was used already"}}
	}
	return nil
}

// totpDisable turns the second factor off after a code proves the member
// still has it.
func (s *Server) totpDisable(ctx context.Context, w http.ResponseWriter, r *http.Request, p *principal, code string) error {
	a, err := store.AccountByID(ctx, s.DB, p.AccountID)
	if err != nil {
		return err
	}
	if !a.TOTPEnabled() {
		return errs.E(errs.Conflict, "two-step sign-in is already off")
	}
	if err := s.secondFactorGate(ctx, w, r, a, code); err != nil {
		return err
	}
	var mails []string
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		if err := store.DisableTOTP(ctx, tx, a.ID, s.Clock.Now()); err != nil {
			return err
		}
		if err := s.auditAccount(ctx, tx, memberActor(a.ID), "account.totp-disable", a.ID, "security", nil); err != nil {
			return err
		}
		return s.queueMail(ctx, tx, &mails, securityNotice(a, "Two-step sign-in was turned off",
			"Two-step sign-in was turned off for your Sessions account. Signing in now needs only your password.", s.Config.BaseURL))
	})
	if err != nil {
		return err
	}
	s.sendQueued(ctx, mails)
	return nil
}

// regenerateRecoveryCodes replaces the recovery codes after a code proves
// the member still has the second factor.
func (s *Server) regenerateRecoveryCodes(ctx context.Context, w http.ResponseWriter, r *http.Request, p *principal, code string) ([]string, error) {
	a, err := store.AccountByID(ctx, s.DB, p.AccountID)
	if err != nil {
		return nil, err
	}
	if !a.TOTPEnabled() {
		return nil, errs.E(errs.Conflict, "recovery codes belong to two-step sign-in, which is off")
	}
	if err := s.secondFactorGate(ctx, w, r, a, code); err != nil {
		return nil, err
	}
	codes := account.NewRecoveryCodes()
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		if err := store.ReplaceRecoveryCodes(ctx, tx, a.ID, recoveryDigests(codes), s.Clock.Now()); err != nil {
			return err
		}
		return s.auditAccount(ctx, tx, memberActor(a.ID), "account.recovery-codes-replace", a.ID, "security", nil)
	})
	return codes, err
}

// createAPIToken makes a personal token; the secret is returned once and
// only its digest is kept.
func (s *Server) createAPIToken(ctx context.Context, p *principal, name string) (string, account.APIToken, error) {
	name, err := account.CleanTokenName(name)
	if err != nil {
		return "", account.APIToken{}, err
	}
	secret := account.NewAPIToken()
	t := account.APIToken{ID: account.NewTokenID(), AccountID: p.AccountID, Name: name, CreatedAt: s.Clock.Now()}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		existing, err := store.ListAPITokens(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		if len(existing) >= maxAPITokens {
			return errs.E(errs.Conflict, "an account can hold at most %d tokens; revoke one first", maxAPITokens)
		}
		if err := store.CreateAPIToken(ctx, tx, t, account.TokenDigest(secret)); err != nil {
			return err
		}
		return s.auditAccount(ctx, tx, memberActor(p.AccountID), "account.api-token-create", p.AccountID, "security",
			map[string]string{"token": t.ID})
	})
	if err != nil {
		return "", account.APIToken{}, err
	}
	return secret, t, nil
}

// revokeAPIToken deletes one of the member's tokens.
func (s *Server) revokeAPIToken(ctx context.Context, p *principal, id string) error {
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		ok, err := store.DeleteAPIToken(ctx, tx, p.AccountID, id)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.NotFound, "you have no such token")
		}
		return s.auditAccount(ctx, tx, memberActor(p.AccountID), "account.api-token-revoke", p.AccountID, "security",
			map[string]string{"token": id})
	})
}

// endSession signs one of the member's sessions out.
func (s *Server) endSession(ctx context.Context, p *principal, id string) error {
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		ok, err := store.DeleteSession(ctx, tx, p.AccountID, id)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.NotFound, "you have no such session")
		}
		return s.auditAccount(ctx, tx, memberActor(p.AccountID), "account.sign-out", p.AccountID, "security",
			map[string]string{"session": id})
	})
}

// endOtherSessions signs the member out everywhere but the current
// session and returns how many ended.
func (s *Server) endOtherSessions(ctx context.Context, p *principal) (int64, error) {
	var n int64
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		var err error
		n, err = store.DeleteSessions(ctx, tx, p.AccountID, p.SessionID)
		if err != nil {
			return err
		}
		return s.auditAccount(ctx, tx, memberActor(p.AccountID), "account.sign-out-everywhere", p.AccountID, "security",
			map[string]string{"sessions_ended": strconv.FormatInt(n, 10)})
	})
	return n, err
}
