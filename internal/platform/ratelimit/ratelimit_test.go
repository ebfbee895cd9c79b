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
	for i := range 2 {
		s = p.Fail(s, t0.Add(time.Duration(i)*time.Minute))
		if _, locked := p.Blocked(s, t0.Add(time.Duration(i)*time.Minute)); locked {
			t.Fatalf("locked after %d failures, limit 3", i+1)
		}
	}
	s = p.Fail(s, t0.Add(2*time.Minute))
	wait, locked := p.Blocked(s, t0.Add(2*time.Minute))
	if !locked || wait != 15*time.Minute {
		t.Fatalf("after the third failure: locked=%v wait=%v, want locked for 15m", locked, wait)
	}
	if wait, _ := p.Blocked(s, t0.Add(2*time.Minute+500*time.Millisecond)); wait != 15*time.Minute {
		t.Fatalf("wait %v is not rounded up to whole seconds", wait)
	}
	if _, locked := p.Blocked(s, t0.Add(17*time.Minute)); locked {
		t.Fatal("still locked when the lockout ended")
	}
	// After the lockout the count starts over.
	s = p.Fail(s, t0.Add(17*time.Minute))
	if s.Failures != 1 {
		t.Fatalf("failures after the lockout = %d, want 1", s.Failures)
	}
}

func TestWindowForgetsOldFailures(t *testing.T) {
	p := Policy{Limit: 3, Window: 10 * time.Minute, Lockout: time.Hour}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := p.Fail(State{}, t0)
	s = p.Fail(s, t0.Add(time.Minute))
	s = p.Fail(s, t0.Add(11*time.Minute)) // the window of the first two ended
	if _, locked := p.Blocked(s, t0.Add(11*time.Minute)); locked || s.Failures != 1 {
		t.Fatalf("failures outside the window still counted: %+v", s)
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
