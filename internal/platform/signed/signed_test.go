package signed

import (
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := Make(secret, "verify-email", "acct_1", now.Add(time.Hour))
	if sub, err := Check(secret, "verify-email", tok, now); err != nil || sub != "acct_1" {
		t.Fatalf("valid token: %q %v", sub, err)
	}
	if tok == Make(secret, "verify-email", "acct_1", now.Add(time.Hour)) {
		t.Fatal("two tokens for the same subject are equal")
	}
	bad := map[string]func() (string, error){
		"expired":       func() (string, error) { return Check(secret, "verify-email", tok, now.Add(time.Hour)) },
		"other purpose": func() (string, error) { return Check(secret, "reset-password", tok, now) },
		"other secret": func() (string, error) {
			return Check([]byte("another secret, just as long....."), "verify-email", tok, now)
		},
		"altered": func() (string, error) {
			return Check(secret, "verify-email", "YWNjdF8y"+tok[strings.IndexByte(tok, '.'):], now)
		},
		"truncated": func() (string, error) { return Check(secret, "verify-email", tok[:len(tok)-2], now) },
		"garbage":   func() (string, error) { return Check(secret, "verify-email", "not a token", now) },
		"empty":     func() (string, error) { return Check(secret, "verify-email", "", now) },
		"oversized": func() (string, error) { return Check(secret, "verify-email", strings.Repeat("a", 5000), now) },
		"signature only": func() (string, error) {
			return Check(secret, "verify-email", tok[strings.LastIndexByte(tok, '.'):], now)
		},
	}
	for name, f := range bad {
		if sub, err := f(); err != ErrInvalid || sub != "" {
			t.Errorf("%s: got %q %v, want ErrInvalid", name, sub, err)
		}
	}
	if Digest(tok) == Digest(tok+"x") || len(Digest(tok)) != 43 {
		t.Fatal("digest")
	}
}

func TestFixedTokens(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := MakeFixed(secret, "staff.setup", "first-admin", now.Add(time.Hour))
	if sub, err := Check(secret, "staff.setup", tok, now); err != nil || sub != "first-admin" {
		t.Fatalf("a fixed token does not check: %q %v", sub, err)
	}
	if MakeFixed(secret, "staff.setup", "first-admin", now.Add(time.Hour)) != tok {
		t.Fatal("the same inputs gave two tokens")
	}
	for name, other := range map[string]string{
		"another expiry":  MakeFixed(secret, "staff.setup", "first-admin", now.Add(2*time.Hour)),
		"another secret":  MakeFixed([]byte("another secret, just as long....."), "staff.setup", "first-admin", now.Add(time.Hour)),
		"another purpose": MakeFixed(secret, "reset-password", "first-admin", now.Add(time.Hour)),
	} {
		if other == tok {
			t.Errorf("%s gave the same token", name)
		}
	}
	if _, err := Check([]byte("another secret, just as long....."), "staff.setup", tok, now); err != ErrInvalid {
		t.Fatal("a fixed token checks under another secret")
	}
}
