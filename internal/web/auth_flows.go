package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/store"
)

// The account flows shared by the pages and the API: sign-up, sign-in with
// its second step, e-mailed links, and the security settings. Each runs
// its changes, the audit entries and the mails they cause in one
// transaction, and dispatches the mails after it commits.
//
// Three rules hold throughout. Nothing tells a stranger whether an address
// has an account: sign-up, sign-in and reset answer alike, and do the same
// password-hashing work, either way. Failed sign-ins are counted per
// address and per IP under keyed digests, so unknown addresses lock out
// just like known ones. Links are signed, expire, and are spent on use.

// errBadCredentials is the one answer to a wrong address or password.
var errBadCredentials = errs.E(errs.Unauthorized, "the e-mail address or password is not right")

// errBadLink is the one answer to a link that is forged, expired or spent.
var errBadLink = errs.E(errs.Invalid, "this link is not valid any more: it may have expired or been used already")

// throttle is one counter a request is held to.
type throttle struct {
	key    string
	policy ratelimit.Policy
}

func (s *Server) accountThrottle(email string) throttle {
	return throttle{ratelimit.Key(s.Secret, "signin-account", email), account.AccountThrottle}
}

func (s *Server) ipThrottle(r *http.Request) throttle {
	return throttle{ratelimit.Key(s.Secret, "signin-ip", clientIP(r)), account.IPThrottle}
}

// refuseIfLocked answers 429 with Retry-After when any of ts is locked.
func (s *Server) refuseIfLocked(ctx context.Context, w http.ResponseWriter, ts ...throttle) error {
	now := s.Clock.Now()
	var longest time.Duration
	for _, t := range ts {
		st, err := store.Throttle(ctx, s.DB, t.key)
		if err != nil {
			return err
		}
		if wait, locked := t.policy.Blocked(st, now); locked && wait > longest {
			longest = wait
		}
	}
	if longest == 0 {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(longest/time.Second)))
	return errs.E(errs.RateLimited, "too many attempts; try again in %s", humanWait(longest))
}

func humanWait(d time.Duration) string {
	if m := int((d + time.Minute - 1) / time.Minute); m > 1 {
		return strconv.Itoa(m) + " minutes"
	}
	return "a minute"
}

// countFailure adds a failure to every counter in ts.
func (s *Server) countFailure(ctx context.Context, ts ...throttle) error {
	now := s.Clock.Now()
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		for _, t := range ts {
			if _, err := store.CountFailure(ctx, tx, t.key, t.policy, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// mailAllowed counts a request that sends mail to email on behalf of a
// stranger. Too many from one IP are refused with 429 (the same for every
// address); too many to one address are quietly not sent, so that nobody
// can flood a mailbox, and the answer still does not change.
func (s *Server) mailAllowed(ctx context.Context, w http.ResponseWriter, r *http.Request, email string) (bool, error) {
	ipT := throttle{ratelimit.Key(s.Secret, "mail-ip", clientIP(r)), account.IPMailThrottle}
	if err := s.refuseIfLocked(ctx, w, ipT); err != nil {
		return false, err
	}
	addrT := throttle{ratelimit.Key(s.Secret, "mail-address", email), account.LinkMailThrottle}
	st, err := store.Throttle(ctx, s.DB, addrT.key)
	if err != nil {
		return false, err
	}
	_, blocked := addrT.policy.Blocked(st, s.Clock.Now())
	if err := s.countFailure(ctx, ipT, addrT); err != nil {
		return false, err
	}
	return !blocked, nil
}

// link returns an absolute link to path with the token as ?token=.
func (s *Server) linkTo(path, token string) string {
	return strings.TrimRight(s.Config.BaseURL, "/") + path + "?token=" + url.QueryEscape(token)
}

// issueLink makes a signed link for purpose and records its digest for
// single use.
func (s *Server) issueLink(ctx context.Context, tx database.Querier, purpose, accountID, newEmail string, ttl time.Duration) (string, error) {
	now := s.Clock.Now()
	exp := now.Add(ttl)
	token := signed.Make(s.Secret, purpose, accountID, exp)
	if err := store.CreateEmailToken(ctx, tx, signed.Digest(token), purpose, accountID, newEmail, now, exp); err != nil {
		return "", err
	}
	return token, nil
}

// checkLink returns the account a link is for if it is genuine, unexpired
// and unspent, without spending it.
func (s *Server) checkLink(ctx context.Context, purpose, token string) (string, error) {
	id, err := signed.Check(s.Secret, purpose, token, s.Clock.Now())
	if err != nil {
		return "", errBadLink
	}
	live, err := store.EmailTokenLive(ctx, s.DB, signed.Digest(token), purpose, id, s.Clock.Now())
	if err != nil {
		return "", err
	}
	if !live {
		return "", errBadLink
	}
	return id, nil
}

// spendLink checks a link and spends it inside tx, returning the account
// and, for a change of address, the new address.
func (s *Server) spendLink(ctx context.Context, tx database.Querier, purpose, token string) (string, string, error) {
	now := s.Clock.Now()
	id, err := signed.Check(s.Secret, purpose, token, now)
	if err != nil {
		return "", "", errBadLink
	}
	newEmail, err := store.UseEmailToken(ctx, tx, signed.Digest(token), purpose, id, now)
	if errors.Is(err, database.ErrNotFound) {
		return "", "", errBadLink
	}
	if err != nil {
		return "", "", err
	}
	return id, newEmail, nil
}

// enqueue writes m to the outbox inside tx and remembers its id for
// dispatch after commit.
func (s *Server) queueMail(ctx context.Context, tx database.Querier, ids *[]string, m mail.Message) error {
	m.Category = mail.Transactional
	id, err := store.EnqueueMail(ctx, tx, s.Clock.Now(), m)
	if err != nil {
		return err
	}
	*ids = append(*ids, id)
	return nil
}

func (s *Server) sendQueued(ctx context.Context, ids []string) {
	if s.Mail != nil && len(ids) > 0 {
		s.Mail.Dispatch(context.WithoutCancel(ctx), ids...)
	}
}

func (s *Server) auditAccount(ctx context.Context, tx database.Querier, actor audit.Party, action string, subjectID, purpose string, detail map[string]string) error {
	return store.AppendAudit(ctx, tx, s.Secret, audit.Entry{
		At: s.Clock.Now(), Actor: actor, Action: action,
		Subject: audit.Party{Kind: "member", ID: subjectID}, Purpose: purpose, Detail: detail,
	})
}

func memberActor(id string) audit.Party { return audit.Party{Kind: "member", ID: id} }

// anonymousParty is the actor of changes made through an e-mailed link or
// before sign-in, where only the link proves who acts.
var anonymousParty = audit.Party{Kind: "anonymous"}

// signUp opens an account, or, when the address already has one, tells its
// owner by mail instead. Both paths hash the password once and give the
// caller the same nil.
func (s *Server) signUp(ctx context.Context, w http.ResponseWriter, r *http.Request, in account.SignUp) error {
	if err := in.Clean(); err != nil {
		return err
	}
	send, err := s.mailAllowed(ctx, w, r, in.Email)
	if err != nil {
		return err
	}
	hash, err := s.Passwords.Hash(in.Password)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	var mails []string
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		existing, err := store.AccountByEmail(ctx, tx, in.Email)
		switch {
		case err == nil:
			if !send {
				return nil
			}
			return s.queueMail(ctx, tx, &mails, mail.Message{
				PersonID: existing.ID, Template: "account.signup-taken", To: existing.Email,
				Subject: "Someone tried to create an account with your address",
				Text: "Someone tried to create a Sessions account with this e-mail address, which already has one.\n\n" +
					"If it was you, sign in: " + s.Config.BaseURL + "/signin\n" +
					"If you forgot your password, reset it: " + s.Config.BaseURL + "/forgot-password\n\n" +
					"If it was not you, you can ignore this message; nothing has changed.\n",
			})
		case !errors.Is(err, database.ErrNotFound):
			return err
		}
		a := account.Account{
			ID: account.NewID(), Email: in.Email, PasswordHash: hash, PasswordChangedAt: now, Name: in.Name,
			Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
		}
		if err := store.CreateAccount(ctx, tx, a); err != nil {
			return err
		}
		if err := s.auditAccount(ctx, tx, memberActor(a.ID), "account.create", a.ID, "account", nil); err != nil {
			return err
		}
		if !send {
			return nil
		}
		return s.sendVerification(ctx, tx, &mails, a)
	})
	if errors.Is(err, database.ErrDuplicate) {
		// Another request took the address a moment ago; the answer is the
		// same as for any taken address.
		return nil
	}
	if err != nil {
		return err
	}
	s.sendQueued(ctx, mails)
	return nil
}

func (s *Server) sendVerification(ctx context.Context, tx database.Querier, mails *[]string, a account.Account) error {
	if err := store.VoidEmailTokens(ctx, tx, a.ID, account.PurposeVerify, s.Clock.Now()); err != nil {
		return err
	}
	token, err := s.issueLink(ctx, tx, account.PurposeVerify, a.ID, "", account.VerifyTTL)
	if err != nil {
		return err
	}
	return s.queueMail(ctx, tx, mails, mail.Message{
		PersonID: a.ID, Template: "account.verify-email", To: a.Email,
		Subject: "Confirm your e-mail address",
		Text: "Please confirm that this is your e-mail address for Sessions by opening this link:\n\n" +
			s.linkTo("/verify-email", token) + "\n\n" +
			"The link works once, for 48 hours. If you did not create an account, ignore this message.\n",
	})
}

// resendVerification sends a fresh link to a signed-in, unverified member.
func (s *Server) resendVerification(ctx context.Context, w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.Verified {
		return nil
	}
	send, err := s.mailAllowed(ctx, w, r, p.Email)
	if err != nil || !send {
		return err
	}
	var mails []string
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		a, err := store.AccountByID(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		return s.sendVerification(ctx, tx, &mails, a)
	})
	if err != nil {
		return err
	}
	s.sendQueued(ctx, mails)
	return nil
}

// verifyEmail spends a verification link.
func (s *Server) verifyEmail(ctx context.Context, token string) error {
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		id, _, err := s.spendLink(ctx, tx, account.PurposeVerify, token)
		if err != nil {
			return err
		}
		changed, err := store.MarkEmailVerified(ctx, tx, id, s.Clock.Now())
		if err != nil || !changed {
			return err
		}
		return s.auditAccount(ctx, tx, anonymousParty, "account.verify-email", id, "account", nil)
	})
}

// signInResult is where a correct password leads: a session, or the second
// step.
type signInResult struct {
	accountID string
	challenge string // set when a TOTP code is still needed
}

// signIn checks an address and password. Unknown addresses cost one hash,
// like known ones, and count against the same kind of counter.
func (s *Server) signIn(ctx context.Context, w http.ResponseWriter, r *http.Request, email, password string) (signInResult, error) {
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
		return signInResult{}, err
	}
	acctT, ipT := s.accountThrottle(email), s.ipThrottle(r)
	if err := s.refuseIfLocked(ctx, w, acctT, ipT); err != nil {
		return signInResult{}, err
	}
	a, err := store.AccountByEmail(ctx, s.DB, email)
	ok := false
	switch {
	case errors.Is(err, database.ErrNotFound):
		s.Passwords.VerifyDummy(password)
	case err != nil:
		return signInResult{}, err
	default:
		var rehash bool
		ok, rehash, err = s.Passwords.Verify(a.PasswordHash, password)
		if err != nil {
			return signInResult{}, err
		}
		if ok && rehash {
			if h, err := s.Passwords.Hash(password); err == nil {
				if err := store.RehashPassword(ctx, s.DB, a.ID, a.PasswordHash, h); err != nil {
					return signInResult{}, err
				}
			}
		}
	}
	if !ok {
		if err := s.countFailure(ctx, acctT, ipT); err != nil {
			return signInResult{}, err
		}
		return signInResult{}, errBadCredentials
	}
	if err := store.ClearThrottle(ctx, s.DB, acctT.key); err != nil {
		return signInResult{}, err
	}
	if a.TOTPEnabled() {
		token := account.NewChallengeToken()
		now := s.Clock.Now()
		if err := store.CreateSignInChallenge(ctx, s.DB, account.TokenDigest(token), a.ID, now, now.Add(account.ChallengeTTL)); err != nil {
			return signInResult{}, err
		}
		return signInResult{accountID: a.ID, challenge: token}, nil
	}
	return signInResult{accountID: a.ID}, nil
}

// openSession ends any session the browser already had (so a planted
// cookie cannot be promoted to a signed-in one), reactivates a deactivated
// account, and starts a fresh session.
func (s *Server) openSession(ctx context.Context, w http.ResponseWriter, r *http.Request, accountID, method string) error {
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		if c, err := r.Cookie(s.sessionCookie()); err == nil && c.Value != "" {
			if old, _, err := store.SessionByDigest(ctx, tx, account.TokenDigest(c.Value)); err == nil {
				if _, err := store.DeleteSession(ctx, tx, old.AccountID, old.ID); err != nil {
					return err
				}
			}
		}
		now := s.Clock.Now()
		// Signing in within the grace period brings a deactivated account
		// back, audited; past it, or while erasure is pending, sign-in
		// stops here with a message for the member.
		if _, err := store.ReactivateIfDeactivated(ctx, tx, s.Secret, accountID, now, s.Config.ReactivationGrace); err != nil {
			return err
		}
		if err := store.TouchAccountActive(ctx, tx, accountID, now); err != nil {
			return err
		}
		if err := s.carryConsents(ctx, tx, r, accountID); err != nil {
			return err
		}
		sess, err := s.startSession(ctx, tx, w, r, accountID)
		if err != nil {
			return err
		}
		return s.auditAccount(ctx, tx, memberActor(accountID), "account.sign-in", accountID, "security",
			map[string]string{"method": method, "session": sess.ID})
	})
}

// challengeCookie holds the token of a pending second step.
func (s *Server) challengeCookie() string {
	if s.Config.Secure() {
		return "__Host-sessions-challenge"
	}
	return "sessions-challenge"
}

// errChallengeLapsed sends the person back to the first step.
var errChallengeLapsed = errs.E(errs.Unauthorized, "the sign-in took too long; enter your e-mail address and password again")

// signInCode answers the second step with a TOTP code or a recovery code.
func (s *Server) signInCode(ctx context.Context, w http.ResponseWriter, r *http.Request, challenge, code string) (string, error) {
	now := s.Clock.Now()
	if challenge == "" {
		return "", errChallengeLapsed
	}
	digest := account.TokenDigest(challenge)
	id, err := store.SignInChallenge(ctx, s.DB, digest, now)
	if errors.Is(err, database.ErrNotFound) {
		return "", errChallengeLapsed
	}
	if err != nil {
		return "", err
	}
	a, err := store.AccountByID(ctx, s.DB, id)
	if err != nil {
		return "", err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return "", &errs.Error{Code: errs.Invalid, Message: "enter a code", Fields: map[string]string{"code": "enter the 6-digit code from your app, or a recovery code"}}
	}
	acctT, ipT := s.accountThrottle(a.Email), s.ipThrottle(r)
	if err := s.refuseIfLocked(ctx, w, acctT, ipT); err != nil {
		return "", err
	}
	method, ok, err := s.checkSecondFactor(ctx, a, code)
	if err != nil {
		return "", err
	}
	if !ok {
		if err := s.countFailure(ctx, acctT, ipT); err != nil {
			return "", err
		}
		return "", &errs.Error{Code: errs.Unauthorized, Message: "that code is not right", Fields: map[string]string{"code": "that code is not right, or it was used already"}}
	}
	if err := store.DeleteSignInChallenge(ctx, s.DB, digest); err != nil {
		return "", err
	}
	if err := store.ClearThrottle(ctx, s.DB, acctT.key); err != nil {
		return "", err
	}
	return method, s.openSession(ctx, w, r, a.ID, method)
}

// checkSecondFactor accepts a current TOTP code not used before, or an
// unused recovery code, spending it. method names which one.
func (s *Server) checkSecondFactor(ctx context.Context, a account.Account, code string) (string, bool, error) {
	if !a.TOTPEnabled() {
		return "", false, nil
	}
	if allDigits(strings.ReplaceAll(code, " ", "")) {
		secret, err := s.secrets.Open(a.ID, a.TOTPSecret)
		if err != nil {
			return "", false, err
		}
		step, ok := account.CheckTOTP(secret, code, s.Clock.Now(), a.TOTPLastStep)
		if !ok {
			return "totp", false, nil
		}
		ok, err = store.UseTOTPStep(ctx, s.DB, a.ID, step)
		return "totp", ok, err
	}
	ok, err := store.UseRecoveryCode(ctx, s.DB, a.ID, account.RecoveryCodeDigest(code), s.Clock.Now())
	return "recovery-code", ok, err
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

// signOut ends the browser's session, if any, and forgets the cookie.
func (s *Server) signOut(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	s.clearCookie(w, s.sessionCookie())
	c, err := r.Cookie(s.sessionCookie())
	if err != nil || c.Value == "" {
		return nil
	}
	sess, _, err := store.SessionByDigest(ctx, s.DB, account.TokenDigest(c.Value))
	if errors.Is(err, database.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		if _, err := store.DeleteSession(ctx, tx, sess.AccountID, sess.ID); err != nil {
			return err
		}
		return s.auditAccount(ctx, tx, memberActor(sess.AccountID), "account.sign-out", sess.AccountID, "security",
			map[string]string{"session": sess.ID})
	})
}

// forgotPassword mails a reset link when the address has an account, and
// does nothing visible otherwise.
func (s *Server) forgotPassword(ctx context.Context, w http.ResponseWriter, r *http.Request, email string) error {
	email = account.NormaliseEmail(email)
	v := errs.Validation{}
	account.CheckEmail(v, "email", email)
	if err := v.Err(); err != nil {
		return err
	}
	send, err := s.mailAllowed(ctx, w, r, email)
	if err != nil || !send {
		return err
	}
	var mails []string
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		a, err := store.AccountByEmail(ctx, tx, email)
		if errors.Is(err, database.ErrNotFound) || (err == nil && a.Status == account.ErasurePending) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := store.VoidEmailTokens(ctx, tx, a.ID, account.PurposeReset, s.Clock.Now()); err != nil {
			return err
		}
		token, err := s.issueLink(ctx, tx, account.PurposeReset, a.ID, "", account.ResetTTL)
		if err != nil {
			return err
		}
		return s.queueMail(ctx, tx, &mails, mail.Message{
			PersonID: a.ID, Template: "account.reset-password", To: a.Email,
			Subject: "Reset your Sessions password",
			Text: "Someone asked to reset the password of the Sessions account with this address.\n\n" +
				"To choose a new password, open this link:\n\n" + s.linkTo("/reset-password", token) + "\n\n" +
				"The link works once, for one hour. Choosing a new password signs you out everywhere.\n" +
				"If you did not ask for this, ignore this message; your password stays as it is.\n",
		})
	})
	if err != nil {
		return err
	}
	s.sendQueued(ctx, mails)
	return nil
}

// resetPassword spends a reset link, sets the new password and ends every
// session. The new password is checked before the link is spent, so a
// refused password leaves the link usable.
func (s *Server) resetPassword(ctx context.Context, token, password string) error {
	if _, err := s.checkLink(ctx, account.PurposeReset, token); err != nil {
		return err
	}
	v := errs.Validation{}
	account.CheckPassword(v, "password", password)
	if err := v.Err(); err != nil {
		return err
	}
	hash, err := s.Passwords.Hash(password)
	if err != nil {
		return err
	}
	var mails []string
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		id, _, err := s.spendLink(ctx, tx, account.PurposeReset, token)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		a, err := store.AccountByID(ctx, tx, id)
		if err != nil {
			return err
		}
		// The link reached the mailbox, which proves the address as well as
		// a verification link would.
		if _, err := store.MarkEmailVerified(ctx, tx, id, now); err != nil {
			return err
		}
		if err := store.ClearThrottle(ctx, tx, s.accountThrottle(a.Email).key); err != nil {
			return err
		}
		return s.replacePassword(ctx, tx, &mails, a, hash, now, anonymousParty, "account.password-reset", "")
	})
	if err != nil {
		return err
	}
	s.sendQueued(ctx, mails)
	return nil
}

// replacePassword is what every new password brings, inside the caller's
// transaction: open reset links stop working, every session but keep ends
// (keep is "" to end them all), the audit entry counts them, and the
// member is told by e-mail in case it was not them.
func (s *Server) replacePassword(ctx context.Context, tx *database.Tx, mails *[]string, a account.Account, hash string, now time.Time,
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
	if err := s.auditAccount(ctx, tx, actor, action, a.ID, "security",
		map[string]string{"sessions_ended": strconv.FormatInt(ended, 10)}); err != nil {
		return err
	}
	return s.queueMail(ctx, tx, mails, passwordChangedMail(a, s.Config.BaseURL))
}

func passwordChangedMail(a account.Account, base string) mail.Message {
	return mail.Message{
		PersonID: a.ID, Template: "account.password-changed", To: a.Email,
		Subject: "Your Sessions password was changed",
		Text: "The password of your Sessions account was just changed, and other devices were signed out.\n\n" +
			"If this was not you, reset your password at once: " + base + "/forgot-password\n",
	}
}

// changePassword sets a new password for a signed-in member who knows the
// current one, and ends their other sessions.
func (s *Server) changePassword(ctx context.Context, w http.ResponseWriter, r *http.Request, p *principal, current, next string) error {
	v := errs.Validation{}
	if current == "" {
		v.Add("current_password", "enter your current password")
	}
	account.CheckPassword(v, "new_password", next)
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.confirmPassword(ctx, w, r, p, current, "current_password"); err != nil {
		return err
	}
	hash, err := s.Passwords.Hash(next)
	if err != nil {
		return err
	}
	var mails []string
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		a, err := store.AccountByID(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		return s.replacePassword(ctx, tx, &mails, a, hash, s.Clock.Now(), memberActor(a.ID), "account.password-change", p.SessionID)
	})
	if err != nil {
		return err
	}
	s.sendQueued(ctx, mails)
	return nil
}

// confirmPassword re-checks a signed-in member's password before a
// sensitive change. Failures count like failed sign-ins.
func (s *Server) confirmPassword(ctx context.Context, w http.ResponseWriter, r *http.Request, p *principal, password, field string) error {
	acctT, ipT := s.accountThrottle(p.Email), s.ipThrottle(r)
	if err := s.refuseIfLocked(ctx, w, acctT, ipT); err != nil {
		return err
	}
	a, err := store.AccountByID(ctx, s.DB, p.AccountID)
	if err != nil {
		return err
	}
	ok, _, err := s.Passwords.Verify(a.PasswordHash, password)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.countFailure(ctx, acctT, ipT); err != nil {
			return err
		}
		return &errs.Error{Code: errs.Invalid, Message: "the password is not right", Fields: map[string]string{field: "this is not your current password"}}
	}
	return nil
}

// requestEmailChange sends a confirmation link to the new address. When
// the new address already has an account its owner is told instead, and
// the member sees the same answer.
func (s *Server) requestEmailChange(ctx context.Context, w http.ResponseWriter, r *http.Request, p *principal, newEmail, password string) error {
	newEmail = account.NormaliseEmail(newEmail)
	v := errs.Validation{}
	account.CheckEmail(v, "email", newEmail)
	if newEmail == p.Email {
		v.Add("email", "this is already your address")
	}
	if password == "" {
		v.Add("password", "enter your current password")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.confirmPassword(ctx, w, r, p, password, "password"); err != nil {
		return err
	}
	send, err := s.mailAllowed(ctx, w, r, newEmail)
	if err != nil || !send {
		return err
	}
	var mails []string
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		other, err := store.AccountByEmail(ctx, tx, newEmail)
		if err == nil {
			return s.queueMail(ctx, tx, &mails, mail.Message{
				PersonID: other.ID, Template: "account.email-change-taken", To: other.Email,
				Subject: "Someone tried to move an account to your address",
				Text: "Someone asked to change the address of a Sessions account to this one, which already has an account.\n" +
					"Nothing has changed. If it was you, sign in with this address instead: " + s.Config.BaseURL + "/signin\n",
			})
		}
		if !errors.Is(err, database.ErrNotFound) {
			return err
		}
		if err := store.VoidEmailTokens(ctx, tx, p.AccountID, account.PurposeChangeEmail, s.Clock.Now()); err != nil {
			return err
		}
		token, err := s.issueLink(ctx, tx, account.PurposeChangeEmail, p.AccountID, newEmail, account.ChangeEmailTTL)
		if err != nil {
			return err
		}
		return s.queueMail(ctx, tx, &mails, mail.Message{
			PersonID: p.AccountID, Template: "account.change-email", To: newEmail,
			Subject: "Confirm your new e-mail address",
			Text: "Please confirm that Sessions should use this address for your account by opening this link:\n\n" +
				s.linkTo("/confirm-email", token) + "\n\nThe link works once, for 24 hours. If you did not ask for this, ignore this message.\n",
		})
	})
	if err != nil {
		return err
	}
	s.sendQueued(ctx, mails)
	return nil
}

// confirmEmailChange spends a change-of-address link, moves the account
// and tells the old address.
func (s *Server) confirmEmailChange(ctx context.Context, token string) error {
	var mails []string
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		id, newEmail, err := s.spendLink(ctx, tx, account.PurposeChangeEmail, token)
		if err != nil {
			return err
		}
		a, err := store.AccountByID(ctx, tx, id)
		if err != nil {
			return err
		}
		err = store.SetAccountEmail(ctx, tx, id, newEmail, s.Clock.Now())
		if errors.Is(err, database.ErrDuplicate) {
			return errs.E(errs.Conflict, "that address now belongs to another account")
		}
		if err != nil {
			return err
		}
		if err := s.auditAccount(ctx, tx, anonymousParty, "account.email-change", id, "account",
			map[string]string{"field": "email", "old_sha256": digestForAudit(a.Email)}); err != nil {
			return err
		}
		return s.queueMail(ctx, tx, &mails, mail.Message{
			PersonID: id, Template: "account.email-changed", To: a.Email,
			Subject: "Your Sessions address was changed",
			Text: "The e-mail address of your Sessions account was changed, and this address is no longer used for it.\n\n" +
				"If this was not you, reset your password at once: " + s.Config.BaseURL + "/forgot-password\n",
		})
	})
	if err != nil {
		return err
	}
	s.sendQueued(ctx, mails)
	return nil
}

// digestForAudit is how an old value appears in the audit log: its
// SHA-256, never the value.
func digestForAudit(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}
