package ratelimit

import (
	"strings"
	"testing"
	"time"
)

func TestLockoutAndExpiry(t *testing.T) {
	p := Policy{Limit: 3, Window: 10 * time.Minute, Lockout: 15 * time.Minute}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var s State
	var ok bool
	for i := range 2 {
		at := t0.Add(time.Duration(i) * time.Minute)
		if s, ok = p.Take(s, at); !ok {
			t.Fatalf("attempt %d refused, limit 3", i+1)
		}
		if _, locked := p.Blocked(s, at); locked {
			t.Fatalf("locked after %d attempts, limit 3", i+1)
		}
	}
	// The third attempt goes ahead, and locks the key unless it succeeds.
	if s, ok = p.Take(s, t0.Add(2*time.Minute)); !ok {
		t.Fatal("the third attempt was refused, limit 3")
	}
	wait, locked := p.Blocked(s, t0.Add(2*time.Minute))
	if !locked || wait != 15*time.Minute {
		t.Fatalf("after the third attempt: locked=%v wait=%v, want locked for 15m", locked, wait)
	}
	if wait, _ := p.Blocked(s, t0.Add(2*time.Minute+500*time.Millisecond)); wait != 15*time.Minute {
		t.Fatalf("wait %v is not rounded up to whole seconds", wait)
	}
	locked3 := s
	if s, ok = p.Take(s, t0.Add(16*time.Minute)); ok || s.LockedUntil != locked3.LockedUntil {
		t.Fatalf("an attempt while locked: allowed=%v state %+v; want refused, the lockout unchanged", ok, s)
	}
	if _, locked := p.Blocked(s, t0.Add(17*time.Minute)); locked {
		t.Fatal("still locked when the lockout ended")
	}
	// After the lockout the count starts over.
	if s, ok = p.Take(s, t0.Add(17*time.Minute)); !ok || s.Failures != 1 {
		t.Fatalf("after the lockout: allowed=%v failures=%d, want allowed and 1", ok, s.Failures)
	}
}

func TestWindowForgetsOldAttempts(t *testing.T) {
	p := Policy{Limit: 3, Window: 10 * time.Minute, Lockout: time.Hour}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s, _ := p.Take(State{}, t0)
	s, _ = p.Take(s, t0.Add(time.Minute))
	s, _ = p.Take(s, t0.Add(11*time.Minute)) // the window of the first two ended
	if _, locked := p.Blocked(s, t0.Add(11*time.Minute)); locked || s.Failures != 1 {
		t.Fatalf("attempts outside the window still counted: %+v", s)
	}
}

// A success takes its attempt back, also the one that reached the limit
// and locked the key, and also after refusals were counted meanwhile.
func TestRefundTakesBackASuccess(t *testing.T) {
	p := Policy{Limit: 3, Window: 10 * time.Minute, Lockout: time.Hour}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s, _ := p.Take(State{}, t0)
	s, _ = p.Take(s, t0)
	s, _ = p.Take(s, t0) // reaches the limit: locked while it is checked
	s, ok := p.Take(s, t0)
	if ok || s.Failures != 4 {
		t.Fatalf("the fourth attempt: allowed=%v failures=%d, want refused and the mark 4", ok, s.Failures)
	}
	s = p.Refund(s) // the third one succeeded
	if _, locked := p.Blocked(s, t0); locked || s.Failures != 2 {
		t.Fatalf("after a refund: %+v, want 2 failures and no lock", s)
	}
	if s, ok = p.Take(s, t0); !ok || s.LockedUntil.IsZero() {
		t.Fatalf("the attempt after the refund: allowed=%v %+v, want allowed and locking", ok, s)
	}
	if s := p.Refund(State{}); s.Failures != 0 {
		t.Fatalf("a refund below zero: %+v", s)
	}
}

func TestKeyHidesTheValue(t *testing.T) {
	secret := []byte("secret")
	k := Key(secret, "signin-account", "ada@example.com")
	if strings.Contains(k, "ada") || !strings.HasPrefix(k, "signin-account:") {
		t.Fatalf("key %q", k)
	}
	if k == Key(secret, "signin-ip", "ada@example.com") || k == Key([]byte("other"), "signin-account", "ada@example.com") {
		t.Fatal("keys of different kinds or secrets collide")
	}
	if k != Key(secret, "signin-account", "ada@example.com") {
		t.Fatal("the key is not stable")
	}
}
