package accounts

import (
	"context"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// The security settings a signed-in member manages: the second factor and
// its recovery codes, sessions and personal API tokens.

// MaxAPITokens bounds the tokens one account can hold; more is a sign of a
// script creating them in a loop.
const MaxAPITokens = 50

// Security is what the security page shows.
type Security struct {
	Account      account.Account
	RecoveryLeft int // with the second factor on
	Sessions     []account.Session
	Tokens       []account.APIToken
}

// Security reads the member's security settings.
func (s *Service) Security(ctx context.Context, accountID string) (Security, error) {
	db := s.env.Store.DB
	a, err := store.AccountByID(ctx, db, accountID)
	if err != nil {
		return Security{}, err
	}
	out := Security{Account: a}
	if a.TOTPEnabled() {
		if out.RecoveryLeft, err = store.RecoveryCodesLeft(ctx, db, a.ID); err != nil {
			return Security{}, err
		}
	}
	if out.Sessions, err = store.ListSessions(ctx, db, a.ID, s.env.Clock.Now()); err != nil {
		return Security{}, err
	}
	if out.Tokens, err = store.ListAPITokens(ctx, db, a.ID); err != nil {
		return Security{}, err
	}
	return out, nil
}

// APITokens lists the member's personal API tokens, without secrets.
func (s *Service) APITokens(ctx context.Context, accountID string) ([]account.APIToken, error) {
	return store.ListAPITokens(ctx, s.env.Store.DB, accountID)
}

// TOTPSetup returns the second-factor setup waiting for confirmation,
// making a fresh secret when there is none (or fresh is set).
func (s *Service) TOTPSetup(ctx context.Context, accountID string, fresh bool) (account.TOTPSetup, error) {
	box, err := s.secrets()
	if err != nil {
		return account.TOTPSetup{}, err
	}
	var setup account.TOTPSetup
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		a, err := store.AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if a.TOTPEnabled() {
			return errs.E(errs.Conflict, "two-step sign-in is already on")
		}
		if !fresh && len(a.TOTPSecret) > 0 {
			if secret, err := box.Open(a.ID, a.TOTPSecret); err == nil {
				setup, err = account.TOTPSetupFor(a.Email, secret)
				return err
			}
		}
		if setup, err = account.NewTOTPSetup(a.Email); err != nil {
			return err
		}
		return store.SetTOTPPending(ctx, tx, a.ID, box.Seal(a.ID, setup.Secret), s.env.Clock.Now())
	})
	return setup, err
}

// EnableTOTP confirms the pending secret with a code from the app, turns
// the second factor on and returns a fresh set of recovery codes, which are
// shown once.
func (s *Service) EnableTOTP(ctx context.Context, accountID, code string) ([]string, error) {
	box, err := s.secrets()
	if err != nil {
		return nil, err
	}
	var codes []string
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		a, err := store.AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if a.TOTPEnabled() {
			return errs.E(errs.Conflict, "two-step sign-in is already on")
		}
		if len(a.TOTPSecret) == 0 {
			return errs.E(errs.Conflict, "start the set-up again: no code is waiting for confirmation")
		}
		secret, err := box.Open(a.ID, a.TOTPSecret)
		if err != nil {
			return err
		}
		now := s.env.Clock.Now()
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
		if err := s.audit(ctx, tx, memberParty(a.ID), "account.totp-enable", a.ID, "security", nil); err != nil {
			return err
		}
		return s.mail(ctx, tx, securityNotice(a, "Two-step sign-in was turned on",
			"Two-step sign-in was turned on for your Sessions account. From now on, signing in asks for a code from your app.", s.env.Config.BaseURL))
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

func recoveryDigests(codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = account.RecoveryCodeDigest(c)
	}
	return out
}

// secondFactorGate checks a code (TOTP or recovery) from a signed-in
// member before a change to the second factor, counting wrong codes on
// the counter of the second step of signing in, so that a stolen session
// cannot guess its way through.
func (s *Service) secondFactorGate(ctx context.Context, me Me, a account.Account, code string) error {
	if code == "" {
		return &errs.Error{Code: errs.Invalid, Message: "enter a code", Fields: map[string]string{"code": "enter the 6-digit code from your app, or a recovery code"}}
	}
	codeT, ipT := s.secondStepThrottle(a.ID), s.ipThrottle(me.IP)
	try, err := s.env.Attempt(ctx, codeT, ipT)
	if err != nil {
		return err
	}
	_, ok, err := s.checkSecondFactor(ctx, a, code)
	if err != nil {
		return err
	}
	if !ok {
		if try.Locks(codeT) {
			if err := s.secondStepLocked(ctx, a); err != nil {
				return err
			}
		}
		return &errs.Error{Code: errs.Invalid, Message: "that code is not right",
			Fields: map[string]string{"code": "that code is not right, or it was used already"}}
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := try.Refund(ctx, tx); err != nil {
			return err
		}
		return store.ClearThrottle(ctx, tx, codeT.Key)
	})
}

// DisableTOTP turns the second factor off after a code proves the member
// still has it.
func (s *Service) DisableTOTP(ctx context.Context, me Me, code string) error {
	a, err := store.AccountByID(ctx, s.env.Store.DB, me.AccountID)
	if err != nil {
		return err
	}
	if !a.TOTPEnabled() {
		return errs.E(errs.Conflict, "two-step sign-in is already off")
	}
	if err := s.secondFactorGate(ctx, me, a, code); err != nil {
		return err
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := store.DisableTOTP(ctx, tx, a.ID, s.env.Clock.Now()); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, memberParty(a.ID), "account.totp-disable", a.ID, "security", nil); err != nil {
			return err
		}
		return s.mail(ctx, tx, securityNotice(a, "Two-step sign-in was turned off",
			"Two-step sign-in was turned off for your Sessions account. Signing in now needs only your password.", s.env.Config.BaseURL))
	})
}

// ReplaceRecoveryCodes replaces the recovery codes after a code proves the
// member still has the second factor.
func (s *Service) ReplaceRecoveryCodes(ctx context.Context, me Me, code string) ([]string, error) {
	a, err := store.AccountByID(ctx, s.env.Store.DB, me.AccountID)
	if err != nil {
		return nil, err
	}
	if !a.TOTPEnabled() {
		return nil, errs.E(errs.Conflict, "recovery codes belong to two-step sign-in, which is off")
	}
	if err := s.secondFactorGate(ctx, me, a, code); err != nil {
		return nil, err
	}
	codes := account.NewRecoveryCodes()
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := store.ReplaceRecoveryCodes(ctx, tx, a.ID, recoveryDigests(codes), s.env.Clock.Now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, memberParty(a.ID), "account.recovery-codes-replace", a.ID, "security", nil)
	})
	return codes, err
}

// ErrTokenNeedsSession refuses a token asked for with another token: a
// token that leaks must not be able to mint fresh ones that outlive it.
var ErrTokenNeedsSession = errs.E(errs.Forbidden, "personal API tokens are made from a signed-in browser, not with another token")

// NewToken is what a member sends to make a personal API token: the token
// they want, and the proof that it is them (the current password, and a
// code from the app or a recovery code when two-step sign-in is on).
type NewToken struct {
	account.TokenRequest
	Password string
	Code     string
}

// CreateAPIToken makes a personal token for the member signed in from
// me.SessionID; the secret is returned once and only its digest is kept.
// The member proves again who they are in the same request, so that a
// browser left signed in is not enough to take a lasting credential away.
// The staff scope is for staff with two-step sign-in on.
func (s *Service) CreateAPIToken(ctx context.Context, me Me, in NewToken) (string, account.APIToken, error) {
	if me.SessionID == "" {
		return "", account.APIToken{}, ErrTokenNeedsSession
	}
	t, err := in.TokenRequest.NewToken(me.AccountID, s.env.Clock.Now())
	if err != nil {
		return "", account.APIToken{}, err
	}
	a, err := store.AccountByID(ctx, s.env.Store.DB, me.AccountID)
	if err != nil {
		return "", account.APIToken{}, err
	}
	if in.Password == "" {
		return "", account.APIToken{}, &errs.Error{Code: errs.Invalid, Message: "enter your password",
			Fields: map[string]string{"password": "enter your current password to make a token"}}
	}
	if err := s.confirmPassword(ctx, me, in.Password, "password"); err != nil {
		return "", account.APIToken{}, err
	}
	if a.TOTPEnabled() {
		if err := s.secondFactorGate(ctx, me, a, in.Code); err != nil {
			return "", account.APIToken{}, err
		}
	}
	secret := account.NewAPIToken()
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		if t.Has(account.ScopeStaff) {
			roles, err := store.StaffRoles(ctx, tx, a.ID)
			if err != nil {
				return err
			}
			if len(roles) == 0 || !a.TOTPEnabled() {
				return &errs.Error{Code: errs.Forbidden, Message: "only staff with two-step sign-in on may give a token the staff scope",
					Fields: map[string]string{"scopes": "the staff scope needs a staff role and two-step sign-in"}}
			}
		}
		existing, err := store.ListAPITokens(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if len(existing) >= MaxAPITokens {
			return errs.E(errs.Conflict, "an account can hold at most %d tokens; revoke one first", MaxAPITokens)
		}
		if err := store.CreateAPIToken(ctx, tx, t, account.TokenDigest(secret)); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, memberParty(a.ID), "account.api-token-create", a.ID, "security", map[string]string{
			"token": t.ID, "scopes": account.FormatScopes(t.Scopes), "expires_at": t.ExpiresAt.UTC().Format(time.RFC3339),
		}); err != nil {
			return err
		}
		return s.mail(ctx, tx, securityNotice(a, "A personal API token was made",
			"A personal API token named \""+t.Name+"\" was made for your Sessions account. It can use: "+account.FormatScopes(t.Scopes)+
				". You can revoke it on your security page: "+s.base()+"/account/security", s.env.Config.BaseURL))
	})
	if err != nil {
		return "", account.APIToken{}, err
	}
	return secret, t, nil
}

// RevokeAPIToken deletes one of the member's tokens.
func (s *Service) RevokeAPIToken(ctx context.Context, accountID, id string) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		ok, err := store.DeleteAPIToken(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.NotFound, "you have no such token")
		}
		return s.audit(ctx, tx, memberParty(accountID), "account.api-token-revoke", accountID, "security",
			map[string]string{"token": id})
	})
}

// EndSession signs one of the member's sessions out.
func (s *Service) EndSession(ctx context.Context, accountID, id string) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		ok, err := store.DeleteSession(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.NotFound, "you have no such session")
		}
		return s.audit(ctx, tx, memberParty(accountID), "account.sign-out", accountID, "security",
			map[string]string{"session": id})
	})
}

// EndOtherSessions signs the member out everywhere but the session they
// act from and, unless keepTokens, revokes their personal API tokens too:
// someone who fears a device is in the wrong hands fears for what was
// made from it. It returns how many sessions ended and tokens went.
func (s *Service) EndOtherSessions(ctx context.Context, me Me, keepTokens bool) (sessions, tokens int64, err error) {
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		var err error
		if sessions, err = store.DeleteSessions(ctx, tx, me.AccountID, me.SessionID); err != nil {
			return err
		}
		if !keepTokens {
			if tokens, err = store.DeleteAPITokens(ctx, tx, me.AccountID); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, memberParty(me.AccountID), "account.sign-out-everywhere", me.AccountID, "security", map[string]string{
			"sessions_ended": strconv.FormatInt(sessions, 10), "tokens_revoked": strconv.FormatInt(tokens, 10),
		})
	})
	return sessions, tokens, err
}
