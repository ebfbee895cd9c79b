package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service/accounts"
	"github.com/sessionshq/sessions/internal/store"
)

// Helpers that the accounts handlers no longer use, kept only for the
// handlers of other features that still call them while those move into
// their services (calls: the passcode throttle; consent and requests: the
// mail dispatch; marketing and requests: the audit parties; the staff
// console: the sign-in lock key). Delete each once its last caller has
// moved; nothing new should call them.

// throttle is one counter a request is held to.
type throttle struct {
	key    string
	policy ratelimit.Policy
}

// accountThrottle is the counter of failed sign-ins against an address.
func (s *Server) accountThrottle(email string) throttle {
	return throttle{accounts.SignInThrottleKey(s.Secret, email), account.AccountThrottle}
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

// sendQueued asks for delivery of outbox messages once their change has
// committed.
func (s *Server) sendQueued(ctx context.Context, ids []string) {
	if s.Mail != nil && len(ids) > 0 {
		s.Mail.Dispatch(context.WithoutCancel(ctx), ids...)
	}
}

func memberActor(id string) audit.Party { return audit.Party{Kind: "member", ID: id} }

// anonymousParty is the actor of changes made through an e-mailed link or
// before sign-in, where only the link proves who acts.
var anonymousParty = audit.Party{Kind: "anonymous"}
