// Package ratelimit owns the arithmetic of limits: attempt counters with a
// temporary lockout (Policy: how a counter moves on each attempt and on a
// success, and when it lets the next attempt through), and request limits
// per window of the clock (Window, Limiter). Storage is the caller's:
// store keeps both kinds of counter in the database so that every server
// instance sees the same ones, and moves them in one statement. So is the
// clock.
package ratelimit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Policy allows Limit attempts within Window that did not succeed; the
// attempt that reaches Limit locks the key for Lockout.
type Policy struct {
	Limit   int
	Window  time.Duration
	Lockout time.Duration
}

// State is one key's counter.
type State struct {
	// Failures counts the attempts of the window that were not refunded:
	// the failed ones and those still being checked.
	Failures    int
	WindowStart time.Time
	LockedUntil time.Time // zero when not locked
}

// Blocked reports whether s refuses an attempt at now, and for how long
// it will (rounded up to whole seconds, for Retry-After).
func (p Policy) Blocked(s State, now time.Time) (time.Duration, bool) {
	if s.LockedUntil.IsZero() || !now.Before(s.LockedUntil) {
		return 0, false
	}
	wait := s.LockedUntil.Sub(now)
	if r := wait % time.Second; r != 0 {
		wait += time.Second - r
	}
	return wait, true
}

// Take counts one attempt at now, before what it guards is checked, and
// reports whether the attempt may go ahead. Counting first is what makes
// the limit hold under concurrency: a burst of attempts cannot all pass a
// check that runs before any of them is counted. The Limit-th attempt
// within Window is the last one allowed, and it locks the key for Lockout
// at once, so that its failure needs no second write; a success takes it
// back (Refund). While the key is locked an attempt is refused and leaves
// Failures at Limit+1, the mark of a refusal. A window that has passed,
// or a lockout that has ended, starts the count over.
func (p Policy) Take(s State, now time.Time) (State, bool) {
	if now.Before(s.LockedUntil) {
		s.Failures = p.Limit + 1
		return s, false
	}
	if !s.LockedUntil.IsZero() || s.WindowStart.IsZero() || !now.Before(s.WindowStart.Add(p.Window)) {
		s = State{WindowStart: now}
	}
	s.Failures++
	if s.Failures >= p.Limit {
		s.LockedUntil = now.Add(p.Lockout)
	}
	return s, true
}

// Refund takes back one attempt that Take allowed and that succeeded, so
// that successes do not count: the count drops by one and any lock ends,
// since an allowed attempt was taken below the limit and the lock was
// set by it or by a later attempt the count still holds. Refusals
// counted meanwhile (Failures above Limit) are not attempts to take back.
func (p Policy) Refund(s State) State {
	s.Failures = max(min(s.Failures, p.Limit)-1, 0)
	s.LockedUntil = time.Time{}
	return s
}

// Key is the name a counter is stored under: a keyed digest of kind and
// value, so that the table holds neither addresses nor IPs, and a value
// that belongs to nobody gets a key just like one that does.
func Key(secret []byte, kind, value string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ratelimit\x00" + kind + "\x00" + value))
	return kind + ":" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
