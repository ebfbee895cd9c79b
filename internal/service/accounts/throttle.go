package accounts

import (
	"context"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/service"
)

// SignInThrottleKey is the key of the failed sign-ins counted against an
// address; the staff console reads it to show whether an account is
// locked.
func SignInThrottleKey(secret []byte, email string) string {
	return ratelimit.Key(secret, "signin-account", email)
}

func (s *Service) accountThrottle(email string) service.Throttle {
	return service.Throttle{Key: SignInThrottleKey(s.env.Secret, email), Policy: account.AccountThrottle}
}

func (s *Service) ipThrottle(ip string) service.Throttle {
	return service.Throttle{Key: ratelimit.Key(s.env.Secret, "signin-ip", ratelimit.ClientKey(ip)), Policy: account.IPThrottle}
}

// secondStepThrottle counts the wrong second-factor codes typed for an
// account, at sign-in and before changes to the second factor alike.
func (s *Service) secondStepThrottle(accountID string) service.Throttle {
	return service.Throttle{Key: ratelimit.Key(s.env.Secret, "signin-code", accountID), Policy: account.SecondStepThrottle}
}

// mailAllowed counts a request that sends mail to email on behalf of a
// stranger. Too many from one IP are refused with 429 (the same for every
// address); too many to one address are quietly not sent, so that nobody
// can flood a mailbox, and the answer still does not change.
func (s *Service) mailAllowed(ctx context.Context, ip, email string) (bool, error) {
	ipT := service.Throttle{Key: ratelimit.Key(s.env.Secret, "mail-ip", ratelimit.ClientKey(ip)), Policy: account.IPMailThrottle}
	if _, err := s.env.Attempt(ctx, ipT); err != nil {
		return false, err
	}
	addrT := service.Throttle{Key: ratelimit.Key(s.env.Secret, "mail-address", email), Policy: account.LinkMailThrottle}
	_, err := s.env.Attempt(ctx, addrT)
	if errs.CodeOf(err) == errs.RateLimited {
		return false, nil
	}
	return err == nil, err
}
