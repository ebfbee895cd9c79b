package account

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestTOTPSetupAndCodes(t *testing.T) {
	setup, err := NewTOTPSetup("ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(setup.URI, "otpauth://totp/Sessions:ada@example.com?") || !strings.Contains(setup.URI, "secret="+setup.Secret) {
		t.Fatalf("URI %q does not carry the issuer, the label and the secret", setup.URI)
	}
	if !strings.HasPrefix(setup.QR, "data:image/png;base64,") {
		t.Fatalf("QR is not a PNG data URL: %.40s", setup.QR)
	}
	again, err := TOTPSetupFor("ada@example.com", setup.Secret)
	if err != nil || again.Secret != setup.Secret || again.URI != setup.URI {
		t.Fatalf("TOTPSetupFor rebuilt %+v, %v", again, err)
	}

	now := time.Date(2026, 3, 2, 9, 0, 10, 0, time.UTC)
	step := now.Unix() / 30
	code, _ := TOTPCode(setup.Secret, now)
	got, ok := CheckTOTP(setup.Secret, code, now, 0)
	if !ok || got != step {
		t.Fatalf("CheckTOTP(current) = %d, %v; want step %d", got, ok, step)
	}
	if _, ok := CheckTOTP(setup.Secret, code, now, step); ok {
		t.Fatal("a code at the last used step was accepted again")
	}
	prev, _ := TOTPCode(setup.Secret, now.Add(-30*time.Second))
	if got, ok := CheckTOTP(setup.Secret, prev, now, 0); !ok || got != step-1 {
		t.Fatalf("the previous step's code was refused (%d, %v); one step of skew is allowed", got, ok)
	}
	old, _ := TOTPCode(setup.Secret, now.Add(-61*time.Second))
	if _, ok := CheckTOTP(setup.Secret, old, now, 0); ok && old != code && old != prev {
		t.Fatal("a code two steps old was accepted")
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := CheckTOTP(setup.Secret, bad, now, 0); ok {
			t.Errorf("CheckTOTP(%q) accepted", bad)
		}
	}
}

func TestSecretBox(t *testing.T) {
	box, err := NewSecretBox([]byte("server-secret-of-at-least-32-bytes!!"))
	if err != nil {
		t.Fatal(err)
	}
	sealed := box.Seal("acc_1", "JBSWY3DPEHPK3PXP")
	if bytes.Contains(sealed, []byte("JBSWY3DPEHPK3PXP")) {
		t.Fatal("the sealed secret holds the secret in clear")
	}
	if got, err := box.Open("acc_1", sealed); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := box.Open("acc_2", sealed); err == nil {
		t.Fatal("a secret sealed for one account opened for another")
	}
	other, _ := NewSecretBox([]byte("another-server-secret-of-32-bytes!!!"))
	if _, err := other.Open("acc_1", sealed); err == nil {
		t.Fatal("a secret opened under another server secret")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := box.Open("acc_1", sealed); err == nil {
		t.Fatal("a tampered secret opened")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes := NewRecoveryCodes()
	if len(codes) != RecoveryCodeCount {
		t.Fatalf("%d codes, want %d", len(codes), RecoveryCodeCount)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 11 || c[5] != '-' || strings.ContainsAny(c, "01lio") {
			t.Errorf("code %q is not five-dash-five from the unambiguous alphabet", c)
		}
		if seen[c] {
			t.Errorf("code %q repeats", c)
		}
		seen[c] = true
	}
	c := codes[0]
	if RecoveryCodeDigest(c) != RecoveryCodeDigest(" "+strings.ToUpper(strings.ReplaceAll(c, "-", ""))+" ") {
		t.Error("a code typed in capitals without its dash must match")
	}
	if RecoveryCodeDigest(codes[0]) == RecoveryCodeDigest(codes[1]) {
		t.Error("two codes share a digest")
	}
}

func TestDescribeClient(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0":                                                "Firefox on Linux",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":    "Safari on macOS",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0": "Edge on Windows",
		"curl/8.5.0": "curl",
		"":           "Browser",
	} {
		if got := DescribeClient(ua); got != want {
			t.Errorf("DescribeClient(%q) = %q, want %q", ua, got, want)
		}
	}
}
