package accounts

import (
	"context"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// throttle is one counter a request is held to.
type throttle struct {
	key    string
	policy ratelimit.Policy
}

// SignInThrottleKey is the key of the failed sign-ins counted against an
// address; the staff console reads it to show whether an account is
// locked.
func SignInThrottleKey(secret []byte, email string) string {
	return ratelimit.Key(secret, "signin-account", email)
}

func (s *Service) accountThrottle(email string) throttle {
	return throttle{SignInThrottleKey(s.env.Secret, email), account.AccountThrottle}
}

func (s *Service) ipThrottle(ip string) throttle {
	return throttle{ratelimit.Key(s.env.Secret, "signin-ip", ratelimit.ClientKey(ip)), account.IPThrottle}
}

// refuseIfLocked refuses with errs.TooSoon when any
// of ts is locked.
func (s *Service) refuseIfLocked(ctx context.Context, ts ...throttle) error {
	now := s.env.Clock.Now()
	var longest time.Duration
	for _, t := range ts {
		st, err := store.Throttle(ctx, s.env.Store.DB, t.key)
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
	return errs.TooSoon(longest)
}

// countFailure adds a failure to every counter in ts, in a transaction of
// its own: the count must stand when the use case it guards fails.
func (s *Service) countFailure(ctx context.Context, ts ...throttle) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		return countIn(ctx, tx, s.env.Clock.Now(), ts...)
	})
}

func countIn(ctx context.Context, tx *service.Tx, now time.Time, ts ...throttle) error {
	for _, t := range ts {
		if _, err := store.CountFailure(ctx, tx, t.key, t.policy, now); err != nil {
			return err
		}
	}
	return nil
}

// mailAllowed counts a request that sends mail to email on behalf of a
// stranger. Too many from one IP are refused with 429 (the same for every
// address); too many to one address are quietly not sent, so that nobody
// can flood a mailbox, and the answer still does not change.
func (s *Service) mailAllowed(ctx context.Context, ip, email string) (bool, error) {
	ipT := throttle{ratelimit.Key(s.env.Secret, "mail-ip", ratelimit.ClientKey(ip)), account.IPMailThrottle}
	if err := s.refuseIfLocked(ctx, ipT); err != nil {
		return false, err
	}
	addrT := throttle{ratelimit.Key(s.env.Secret, "mail-address", email), account.LinkMailThrottle}
	st, err := store.Throttle(ctx, s.env.Store.DB, addrT.key)
	if err != nil {
		return false, err
	}
	_, blocked := addrT.policy.Blocked(st, s.env.Clock.Now())
	if err := s.countFailure(ctx, ipT, addrT); err != nil {
		return false, err
	}
	return !blocked, nil
}
