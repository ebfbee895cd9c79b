// Package ratelimit owns the arithmetic of failure counters with a
// temporary lockout: how a counter moves on each failure and when it lets
// the next attempt through. Storage is the caller's (store keeps the
// counters in the database so that every server instance sees the same
// ones), and so is the clock.
package ratelimit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Policy allows Limit failures within Window; the failure that reaches
// Limit locks the key for Lockout.
type Policy struct {
	Limit   int
	Window  time.Duration
	Lockout time.Duration
}

// State is one key's counter.
type State struct {
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

// Fail returns s after one more failure at now. A window that has passed
// starts over; reaching the limit locks the key and starts a fresh count
// for when the lockout ends.
func (p Policy) Fail(s State, now time.Time) State {
	if s.WindowStart.IsZero() || !now.Before(s.WindowStart.Add(p.Window)) {
		s.Failures, s.WindowStart = 0, now
	}
	s.Failures++
	if s.Failures >= p.Limit {
		s = State{WindowStart: now, LockedUntil: now.Add(p.Lockout)}
	}
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
