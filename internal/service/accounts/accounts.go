// Package accounts holds the use cases of accounts: sign-up, sign-in,
// e-mailed links, security settings, the profile and its picture,
// guardians, deactivation, API tokens, the authentication of requests and
// the creation of the first administrator.
//
// Three rules hold throughout. Nothing tells a stranger whether an address
// has an account: sign-up, sign-in and reset answer alike, and do the same
// password-hashing work, either way. Failed sign-ins are counted per
// address and per IP under keyed digests, so unknown addresses lock out
// just like known ones. Links are signed, expire, and are spent on use.
package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"sync"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
)

// Service runs the use cases of accounts.
type Service struct {
	env *service.Env

	boxOnce sync.Once
	box     *account.SecretBox
	boxErr  error
}

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }

// secrets is the box that seals second-factor secrets at rest, keyed by
// the server secret.
func (s *Service) secrets() (*account.SecretBox, error) {
	s.boxOnce.Do(func() { s.box, s.boxErr = account.NewSecretBox(s.env.Secret) })
	return s.box, s.boxErr
}

// ErrBadCredentials is the one answer to a wrong address or password.
var ErrBadCredentials = errs.E(errs.Unauthorized, "the e-mail address or password is not right")

// ErrBadLink is the one answer to a link that is forged, expired or spent.
var ErrBadLink = errs.E(errs.Invalid, "this link is not valid any more: it may have expired or been used already")

// ErrChallengeLapsed sends the person back to the first step of signing
// in.
var ErrChallengeLapsed = errs.E(errs.Unauthorized, "the sign-in took too long; enter your e-mail address and password again")

// memberParty is the audit log's name for a member acting on, or being
// the subject of, their own account.
func memberParty(id string) audit.Party { return audit.Party{Kind: "member", ID: id} }

// anonymousParty is the actor of changes made through an e-mailed link or
// before sign-in, where only the link proves who acts.
var anonymousParty = audit.Party{Kind: "anonymous"}

// operatorParty is who the audit log names for what the operator does
// from the command line or through the printed setup link.
var operatorParty = audit.Party{Kind: "operator"}

// audit writes the entry of a change to a member's account.
func (s *Service) audit(ctx context.Context, tx *service.Tx, actor audit.Party, action, subjectID, purpose string, detail map[string]string) error {
	return tx.Audit(ctx, audit.Entry{
		At: s.env.Clock.Now(), Actor: actor, Action: action,
		Subject: memberParty(subjectID), Purpose: purpose, Detail: detail,
	})
}

// mail queues a transactional message about the account in tx.
func (s *Service) mail(ctx context.Context, tx *service.Tx, m mail.Message) error {
	m.Category = mail.Transactional
	_, err := tx.Mail(ctx, m)
	return err
}

// base is the site's address without a trailing slash.
func (s *Service) base() string { return strings.TrimRight(s.env.Config.BaseURL, "/") }

// linkTo returns an absolute link to path with the token as ?token=.
func (s *Service) linkTo(path, token string) string {
	return s.base() + path + "?token=" + url.QueryEscape(token)
}

// digestForAudit is how an old value appears in the audit log: its
// SHA-256, never the value.
func digestForAudit(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}
