package accounts

import (
	"context"
	"errors"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Principal is the member behind a request.
type Principal struct {
	AccountID string
	Name      string
	Email     string
	SessionID string // "" when authenticated by an API token
	// Token is true when a personal API token authenticated the request;
	// Scopes are then the parts of the API it may use.
	Token  bool
	Scopes []account.Scope
	// Staff are the staff roles in force: those held, while two-step
	// sign-in is on and, through a token, only with the staff scope.
	Staff []string
	// Dormant are the roles held that are not in force because two-step
	// sign-in is off; the console tells the member to turn it on.
	Dormant  []string
	Verified bool // the member proved they receive mail at Email
	TOTP     bool // the member signs in with a second factor
}

// Browser is what a use case that starts a session needs to know of the
// browser asking for it.
type Browser struct {
	// IP is the client's address, for the failure counters.
	IP string
	// UserAgent names the session on the security page.
	UserAgent string
	// SessionToken is the session cookie the browser already holds, ""
	// for none; signing in ends that session, so a planted cookie cannot
	// be promoted to a signed-in one.
	SessionToken string
	// OnSignIn, when set, runs inside the transaction that opens the
	// session (the consent choices made as a visitor are carried over
	// there).
	OnSignIn func(ctx context.Context, tx *service.Tx, accountID string) error
}

// NewSession is a session just opened; Token goes into the cookie and is
// never stored.
type NewSession struct {
	ID        string
	Token     string
	ExpiresAt time.Time
}

// BySession finds the member whose session cookie holds token, nil when
// the session is unknown, expired or its account is not active. It keeps
// the session's and the account's last-seen times current.
func (s *Service) BySession(ctx context.Context, token string) (*Principal, error) {
	db := s.env.Store.DB
	now := s.env.Clock.Now()
	sess, a, err := store.SessionByDigest(ctx, db, account.TokenDigest(token))
	if errors.Is(err, database.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !sess.Live(now) || a.Status != account.Active {
		return nil, nil
	}
	if now.Sub(sess.LastSeenAt) >= account.SessionTouchEvery {
		if err := store.TouchSession(ctx, db, sess.ID, now); err != nil {
			return nil, err
		}
	}
	if err := s.touchActive(ctx, a, now); err != nil {
		return nil, err
	}
	return s.principalOf(ctx, a, sess.ID)
}

// ByAPIToken finds the member holding a personal API token, nil when the
// token is unknown, expired or its account is not active.
func (s *Service) ByAPIToken(ctx context.Context, token string) (*Principal, error) {
	db := s.env.Store.DB
	now := s.env.Clock.Now()
	t, a, err := store.APITokenByDigest(ctx, db, account.TokenDigest(token))
	if errors.Is(err, database.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !t.Live(now) || a.Status != account.Active {
		return nil, nil
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= account.SessionTouchEvery {
		if err := store.TouchAPIToken(ctx, db, t.ID, now); err != nil {
			return nil, err
		}
	}
	if err := s.touchActive(ctx, a, now); err != nil {
		return nil, err
	}
	p, err := s.principalOf(ctx, a, "")
	if err != nil {
		return nil, err
	}
	p.Token, p.Scopes = true, t.Scopes
	if !t.Has(account.ScopeStaff) {
		// A token without the staff scope acts as a member only, whatever
		// roles its owner holds.
		p.Staff, p.Dormant = nil, nil
	}
	return p, nil
}

// touchActive keeps accounts.last_active_at current to the hour: retention
// counts inactivity from it.
func (s *Service) touchActive(ctx context.Context, a account.Account, now time.Time) error {
	if now.Sub(a.LastActiveAt) < account.ActiveTouchEvery {
		return nil
	}
	return store.TouchAccountActive(ctx, s.env.Store.DB, a.ID, now)
}

func (s *Service) principalOf(ctx context.Context, a account.Account, sessionID string) (*Principal, error) {
	roles, err := store.StaffRoles(ctx, s.env.Store.DB, a.ID)
	if err != nil {
		return nil, err
	}
	p := &Principal{
		AccountID: a.ID, Name: a.Name, Email: a.Email, SessionID: sessionID,
		Verified: a.Verified(), TOTP: a.TOTPEnabled(),
	}
	// Staff roles open other people's data and the instance's settings: a
	// stolen password alone must not be enough, so they work only with
	// the second factor on.
	if p.TOTP {
		p.Staff = roles
	} else {
		p.Dormant = roles
	}
	return p, nil
}

// startSession opens a session for accountID inside tx, the transaction
// that proves who the person is.
func (s *Service) startSession(ctx context.Context, tx *service.Tx, b Browser, accountID string) (NewSession, error) {
	now := s.env.Clock.Now()
	token := account.NewSessionToken()
	sess := account.Session{
		ID: account.NewSessionID(), AccountID: accountID, Client: account.DescribeClient(b.UserAgent),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(account.SessionAbsolute),
	}
	if err := store.CreateSession(ctx, tx, sess, account.TokenDigest(token)); err != nil {
		return NewSession{}, err
	}
	return NewSession{ID: sess.ID, Token: token, ExpiresAt: sess.ExpiresAt}, nil
}
