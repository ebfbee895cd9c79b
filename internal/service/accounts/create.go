package accounts

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// Via says how an account comes to be, which decides who vouches for its
// address, who the audit log names, and what else happens with it.
type Via string

const (
	// ViaSignUp: a stranger signs up. The address is unconfirmed until the
	// mailed link is opened; an address that has an account gets a mail
	// telling its owner instead, and the caller sees no difference.
	ViaSignUp Via = "sign-up"
	// ViaSetupLink: the first administrator, through the link printed at
	// start. The link is spent, the account (new, or an existing one
	// whose password is given) becomes an administrator and is signed in.
	ViaSetupLink Via = "setup-link"
	// ViaOperator: the operator, on the command line, vouches for the
	// address. A new account gets a random password and a one-time link
	// to choose one; the account becomes an administrator.
	ViaOperator Via = "command"
)

// OperatorLinkTTL is how long the password link printed for an account
// the operator made works: the operator has to pass it on, which may take
// longer than the hour an e-mailed reset link gets.
const OperatorLinkTTL = 24 * time.Hour

// NewAccount is the input of CreateAccount.
type NewAccount struct {
	Via   Via
	Name  string
	Email string
	// Password is the chosen password; ViaOperator ignores it.
	Password string
	// SetupToken is the printed link's token (ViaSetupLink).
	SetupToken string
	// Browser is who asks (ViaSignUp counts mail per IP; ViaSetupLink
	// signs the browser in).
	Browser Browser
}

// Created is what CreateAccount did. A sign-up's caller must not show it:
// it would tell whether the address had an account.
type Created struct {
	AccountID string
	// New is true when an account was made, false when one with the
	// address already existed.
	New bool
	// Granted is true when the administrator role was given just now.
	Granted bool
	// PasswordLink is the one-time link to choose a password (ViaOperator,
	// new accounts only).
	PasswordLink string
	// Session is the session opened (ViaSetupLink).
	Session *NewSession
	// TwoStep is whether the account has two-step sign-in on; staff
	// roles are in force only then (ViaOperator, ViaSetupLink).
	TwoStep bool
}

// ErrDeadSetupLink is the one answer to a setup link that is forged,
// expired, spent, superseded, or opened after an administrator exists.
var ErrDeadSetupLink = errs.E(errs.NotFound, "this setup link is not valid any more; an administrator can grant roles on the staff console, and the operator can run sessions admin create")

// CreateAccount is the one way an account is made; in.Via picks the
// variant.
func (s *Service) CreateAccount(ctx context.Context, in NewAccount) (Created, error) {
	switch in.Via {
	case ViaSignUp:
		return Created{}, s.signUp(ctx, in)
	case ViaSetupLink:
		return s.setupAdmin(ctx, in)
	case ViaOperator:
		return s.operatorAdmin(ctx, in)
	}
	return Created{}, errs.E(errs.Invalid, "unknown way to create an account")
}

// insertAccount writes a new active account and its audit entry in tx.
// The address counts as confirmed when someone other than the member
// vouches for it (verified).
func (s *Service) insertAccount(ctx context.Context, tx *service.Tx, email, name, hash string, verified bool, via Via) (account.Account, error) {
	now := s.env.Clock.Now()
	a := account.Account{
		ID: account.NewID(), Email: email, PasswordHash: hash, PasswordChangedAt: now,
		Name: name, Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if verified {
		a.EmailVerifiedAt = &now
	}
	if err := store.CreateAccount(ctx, tx, a); err != nil {
		return account.Account{}, err
	}
	actor, detail := operatorParty, map[string]string{"via": string(via)}
	if via == ViaSignUp {
		actor, detail = memberParty(a.ID), nil
	}
	return a, s.audit(ctx, tx, actor, "account.create", a.ID, "account", detail)
}

// signUp opens an account, or, when the address already has one, tells its
// owner by mail instead. Both paths hash the password once and give the
// caller the same nil.
func (s *Service) signUp(ctx context.Context, in NewAccount) error {
	su := account.SignUp{Name: in.Name, Email: in.Email, Password: in.Password}
	if err := su.Clean(); err != nil {
		return err
	}
	send, err := s.mailAllowed(ctx, in.Browser.IP, su.Email)
	if err != nil {
		return err
	}
	hash, err := s.env.Passwords.Hash(su.Password)
	if err != nil {
		return err
	}
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		existing, err := store.AccountByEmail(ctx, tx, su.Email)
		switch {
		case err == nil:
			if !send {
				return nil
			}
			return s.mail(ctx, tx, signUpTakenMail(existing, s.base()))
		case !errors.Is(err, database.ErrNotFound):
			return err
		}
		a, err := s.insertAccount(ctx, tx, su.Email, su.Name, hash, false, ViaSignUp)
		if err != nil || !send {
			return err
		}
		return s.sendVerification(ctx, tx, a)
	})
	if errors.Is(err, database.ErrDuplicate) {
		// Another request took the address a moment ago; the answer is the
		// same as for any taken address.
		return nil
	}
	return err
}

// CheckSetupLink reports whether token may create the first
// administrator now.
func (s *Service) CheckSetupLink(ctx context.Context, token string) error {
	return s.checkSetupToken(ctx, s.env.Store.DB, token)
}

func (s *Service) checkSetupToken(ctx context.Context, q database.Querier, token string) error {
	now := s.env.Clock.Now()
	subject, err := signed.Check(s.env.Secret, staff.SetupPurpose, token, now)
	if err != nil || subject != staff.SetupSubject {
		return ErrDeadSetupLink
	}
	ok, err := store.SetupTokenUsable(ctx, q, signed.Digest(token), now)
	if err != nil {
		return err
	}
	if !ok {
		return ErrDeadSetupLink
	}
	return nil
}

// setupAdmin creates the account (or, for an address that has one, checks
// its password), makes it the administrator, spends the link and signs the
// person in, all at once. A refused form is errs.Invalid with a message
// per field.
func (s *Service) setupAdmin(ctx context.Context, in NewAccount) (Created, error) {
	if err := s.CheckSetupLink(ctx, in.SetupToken); err != nil {
		return Created{}, err
	}
	su := account.SignUp{Name: in.Name, Email: in.Email, Password: in.Password}
	existing, err := store.AccountByEmail(ctx, s.env.Store.DB, account.NormaliseEmail(in.Email))
	switch {
	case err == nil:
		// The first administrator may have signed up already: the
		// account's own password proves it is theirs.
		ok, _, verr := s.env.Passwords.Verify(existing.PasswordHash, in.Password)
		if verr != nil || !ok || existing.Status != account.Active {
			return Created{}, &errs.Error{Code: errs.Invalid, Message: "some fields are not valid",
				Fields: map[string]string{"password": "an account has this address; enter its password to make it the administrator"}}
		}
	case errors.Is(err, database.ErrNotFound):
		if err := su.Clean(); err != nil {
			return Created{}, err
		}
	default:
		return Created{}, err
	}
	var hash string
	if existing.ID == "" {
		if hash, err = s.env.Passwords.Hash(su.Password); err != nil {
			return Created{}, err
		}
	}
	out := Created{AccountID: existing.ID, TwoStep: existing.TOTPEnabled()}
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		now := s.env.Clock.Now()
		if err := store.SpendSetupToken(ctx, tx, signed.Digest(in.SetupToken), now); err != nil {
			return err
		}
		if out.AccountID == "" {
			a, err := s.insertAccount(ctx, tx, su.Email, su.Name, hash, true, ViaSetupLink)
			if err != nil {
				return err
			}
			out.AccountID, out.New = a.ID, true
		}
		var err error
		if out.Granted, err = s.grantAdmin(ctx, tx, out.AccountID, now); err != nil {
			return err
		}
		sess, err := s.startSession(ctx, tx, in.Browser, out.AccountID)
		out.Session = &sess
		return err
	})
	if err != nil {
		return Created{}, err
	}
	return out, nil
}

// operatorAdmin makes the account with the address an administrator,
// creating it when there is none. A new account's password is random and
// never shown: the returned link, a password reset link, is how the
// person sets their own. in.Email must already be normalised and checked.
func (s *Service) operatorAdmin(ctx context.Context, in NewAccount) (Created, error) {
	var out Created
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		now := s.env.Clock.Now()
		existing, err := store.AccountByEmail(ctx, tx, in.Email)
		switch {
		case err == nil:
			out.AccountID, out.TwoStep = existing.ID, existing.TOTPEnabled()
		case errors.Is(err, database.ErrNotFound):
			name := account.CleanName(in.Name)
			v := errs.Validation{}
			account.CheckName(v, "name", name)
			if err := v.Err(); err != nil {
				return err
			}
			var raw [32]byte
			if _, err := rand.Read(raw[:]); err != nil {
				return err
			}
			hash, err := s.env.Passwords.Hash(base64.RawURLEncoding.EncodeToString(raw[:]))
			if err != nil {
				return err
			}
			a, err := s.insertAccount(ctx, tx, in.Email, name, hash, true, ViaOperator)
			if err != nil {
				return err
			}
			token, err := s.issueLink(ctx, tx, account.PurposeReset, a.ID, "", OperatorLinkTTL)
			if err != nil {
				return err
			}
			out.AccountID, out.New, out.PasswordLink = a.ID, true, s.linkTo("/reset-password", token)
		default:
			return err
		}
		out.Granted, err = s.grantAdmin(ctx, tx, out.AccountID, now)
		return err
	})
	if err != nil {
		return Created{}, err
	}
	return out, nil
}

// grantAdmin gives the account the administrator role on the operator's
// word, reporting whether it is new.
func (s *Service) grantAdmin(ctx context.Context, tx *service.Tx, accountID string, now time.Time) (bool, error) {
	granted, err := store.AddStaffRole(ctx, tx, accountID, staff.Admin, now)
	if err != nil || !granted {
		return granted, err
	}
	return true, tx.Audit(ctx, staff.GrantEntry(operatorParty, accountID, staff.Admin, now))
}

// SetupLink is the link that creates the first administrator.
type SetupLink struct {
	URL       string
	ExpiresAt time.Time
}

// AnnounceSetup returns, while no administrator exists, the database's one
// open link that creates the first one, issuing it when none is open; the
// zero SetupLink once an administrator exists. Every instance that shares
// the secret key gets the same link, and none voids another's: the
// database keeps the link's expiry and digest, and the token is derived
// from the key and the expiry (signed.MakeFixed).
func (s *Service) AnnounceSetup(ctx context.Context) (SetupLink, error) {
	var link SetupLink
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		exists, err := store.AdminExists(ctx, tx)
		if err != nil || exists {
			return err
		}
		now := s.env.Clock.Now()
		tokenFor := func(expires time.Time) string {
			return signed.MakeFixed(s.env.Secret, staff.SetupPurpose, staff.SetupSubject, expires)
		}
		fresh := now.Add(staff.SetupTTL).Truncate(time.Second)
		// A few rounds at most: an open link that this key does not make
		// was issued under another secret key and is dead here, so it
		// gives way to one that works; and a fresh link that was issued
		// and spent in this same second already is taken a second later.
		for range 3 {
			open, err := store.OpenSetupToken(ctx, tx, store.SetupToken{Digest: signed.Digest(tokenFor(fresh)), ExpiresAt: fresh}, now)
			if errors.Is(err, database.ErrNotFound) {
				fresh = fresh.Add(time.Second)
				continue
			}
			if err != nil {
				return err
			}
			token := tokenFor(open.ExpiresAt)
			if signed.Digest(token) == open.Digest {
				link = SetupLink{URL: s.linkTo("/setup", token), ExpiresAt: open.ExpiresAt}
				return nil
			}
			if err := store.VoidSetupToken(ctx, tx, open.Digest); err != nil {
				return err
			}
		}
		return errs.E(errs.Internal, "no setup link could be issued")
	})
	return link, err
}
