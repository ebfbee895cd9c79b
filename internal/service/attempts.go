package service

import (
	"context"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/store"
)

// Throttle is one counter of attempts a use case holds a request to: a
// password, a second-factor code, a passcode or a confirmation code
// guessed too often, or mail asked for too often.
type Throttle struct {
	// Key is a ratelimit.Key, so the counter names no person.
	Key    string
	Policy ratelimit.Policy
}

// Attempt is one attempt counted against some throttles before the check
// it guards. A failed check needs nothing more: the attempt is counted
// already. A successful one calls Refund (or clears the throttle), in its
// own transaction.
type Attempt struct {
	taken []takenAttempt
}

type takenAttempt struct {
	t     Throttle
	state ratelimit.State
}

// Attempt counts one attempt against each of ts in a transaction of its
// own, committed before the check it guards runs, so that the count
// stands whatever the check does and however many attempts run at once.
// When any of ts is spent it refuses with errs.TooSoon and counts
// nothing.
func (e *Env) Attempt(ctx context.Context, ts ...Throttle) (Attempt, error) {
	var a Attempt
	err := e.InTx(ctx, func(tx *Tx) error {
		var err error
		a, err = TakeAttempt(ctx, tx, e.Now(), ts...)
		return err
	})
	return a, err
}

// TakeAttempt is Env.Attempt inside the caller's transaction, for a check
// that runs in it (the door's passcode): on PostgreSQL the counter's row
// stays locked until that transaction ends, so concurrent attempts queue
// on it. A refusal takes back what it counted on the throttles before the
// spent one.
func TakeAttempt(ctx context.Context, q database.Querier, now time.Time, ts ...Throttle) (Attempt, error) {
	var a Attempt
	for _, t := range ts {
		st, ok, err := store.TakeAttempt(ctx, q, t.Key, t.Policy, now)
		if err != nil {
			return Attempt{}, err
		}
		if !ok {
			if err := a.Refund(ctx, q); err != nil {
				return Attempt{}, err
			}
			wait, _ := t.Policy.Blocked(st, now)
			return Attempt{}, errs.TooSoon(max(wait, time.Second))
		}
		a.taken = append(a.taken, takenAttempt{t: t, state: st})
	}
	return a, nil
}

// Refund takes the attempt back from every throttle it was counted on,
// after the check succeeded: successes do not count towards a lockout.
func (a Attempt) Refund(ctx context.Context, q database.Querier) error {
	for _, k := range a.taken {
		if err := store.RefundAttempt(ctx, q, k.t.Key, k.t.Policy, k.state.WindowStart); err != nil {
			return err
		}
	}
	return nil
}

// Locks reports whether this attempt was the last one t allows: if the
// check fails, t is locked from now on.
func (a Attempt) Locks(t Throttle) bool {
	for _, k := range a.taken {
		if k.t.Key == t.Key {
			return !k.state.LockedUntil.IsZero()
		}
	}
	return false
}
