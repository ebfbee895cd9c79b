package account

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sessionshq/sessions/internal/errs"
)

// cheap keeps the tests fast; the parameters are what is under test, not
// their cost.
var cheap = HashParams{Memory: 1024, Time: 1, Threads: 1}

func TestCommonPasswordList(t *testing.T) {
	if n := len(commonPasswords); n != 10000 {
		t.Fatalf("the bundled list holds %d passwords, want 10000", n)
	}
	for _, pw := range []string{"password", "PASSWORD", "Password1", "12345678", "qwertyuiop", "iloveyou"} {
		if !IsCommonPassword(pw) {
			t.Errorf("%q should be on the list", pw)
		}
	}
	for _, pw := range []string{"correct horse battery staple 42", "# The 10,000 most common passwords"} {
		if IsCommonPassword(pw) {
			t.Errorf("%q should not be on the list", pw)
		}
	}
	if !strings.HasPrefix(commonPasswordsFile, "# ") || !strings.Contains(strings.SplitN(commonPasswordsFile, "\n", 2)[0], "MIT") {
		t.Error("the list's first line must name its source and licence")
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		want string // "" when accepted
	}{
		{"", "choose a password"},
		{"short1!", "at least 8"},
		{"ééééééé", "at least 8"}, // 7 runes, 14 bytes: runes count
		{"password", "most common"},
		{"Password1", "most common"},
		{strings.Repeat("a", 1025), "at most 1024 bytes"},
		{strings.Repeat("a", 1024), ""},
		{"correct horse battery staple", ""},
		{"\xff\xfe invalid utf8", "valid text"},
	} {
		v := errs.Validation{}
		CheckPassword(v, "password", tc.pw)
		got := v["password"]
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("CheckPassword(%.20q) = %q, want %q", tc.pw, got, tc.want)
		}
	}
}

func TestHasherRoundTrip(t *testing.T) {
	var calls atomic.Int64
	h := NewHasher(cheap, func() { calls.Add(1) })
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("encoding %q is not a PHC argon2id string with its parameters", enc)
	}
	if again, _ := h.Hash("correct horse battery staple"); again == enc {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	ok, rehash, err := h.Verify(enc, "correct horse battery staple")
	if err != nil || !ok || rehash {
		t.Fatalf("Verify(right) = %v, %v, %v", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(enc, "correct horse battery stapl"); ok {
		t.Fatal("a wrong password verified")
	}
	calls.Store(0)
	h.VerifyDummy("anything")
	if calls.Load() != 1 {
		t.Fatalf("VerifyDummy hashed %d times, want 1", calls.Load())
	}
}

func TestHasherRaisedParametersAskForRehash(t *testing.T) {
	old := NewHasher(cheap, nil)
	enc, _ := old.Hash("correct horse battery staple")
	stronger := NewHasher(HashParams{Memory: 2048, Time: 2, Threads: 1}, nil)
	ok, rehash, err := stronger.Verify(enc, "correct horse battery staple")
	if err != nil || !ok || !rehash {
		t.Fatalf("old hash under new parameters: ok=%v rehash=%v err=%v; want it to verify and ask for a rehash", ok, rehash, err)
	}
	if _, rehash, _ := stronger.Verify(enc, "wrong password here"); rehash {
		t.Fatal("a wrong password must not ask for a rehash")
	}
}

func TestHasherRefusesTamperedEncodings(t *testing.T) {
	h := NewHasher(cheap, nil)
	for _, enc := range []string{
		"",
		"$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=16$m=1024,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=1024,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5a2V5",
	} {
		if _, _, err := h.Verify(enc, "x"); err == nil {
			t.Errorf("Verify(%q) accepted a malformed hash", enc)
		}
	}
}

func TestSignUpClean(t *testing.T) {
	in := SignUp{Name: "  <script>alert(1)</script>  ", Email: "  Ada@Example.COM ", Password: "correct horse battery"}
	if err := in.Clean(); err != nil {
		t.Fatalf("Clean: %v", err)
	}
	if in.Email != "ada@example.com" || in.Name != "<script>alert(1)</script>" {
		t.Fatalf("cleaned to %+v: the address must be lower-cased and the name kept as given", in)
	}
	bad := SignUp{Name: strings.Repeat("n", 201), Email: "not-an-address", Password: "password"}
	err := bad.Clean()
	e, ok := errs.As(err)
	if !ok || e.Code != errs.Invalid {
		t.Fatalf("Clean(bad) = %v, want an invalid error", err)
	}
	for _, f := range []string{"name", "email", "password"} {
		if e.Fields[f] == "" {
			t.Errorf("no message for %s: %v", f, e.Fields)
		}
	}
}

func TestCleanEmail(t *testing.T) {
	for in, want := range map[string]string{
		"ada@example.com":             "ada@example.com",
		"  Ada.Lovelace@Example.COM ": "ada.lovelace@example.com",
		"a+tag@sub.example.co.uk":     "a+tag@sub.example.co.uk",
	} {
		v := errs.Validation{}
		if got := CleanEmail(v, "email", in); got != want || len(v) != 0 {
			t.Errorf("CleanEmail(%q) = %q, %v", in, got, v)
		}
	}
	v := errs.Validation{}
	if CleanEmail(v, "email", "   "); v["email"] == "" {
		t.Errorf("a blank address was accepted")
	}
}

func TestCheckEmail(t *testing.T) {
	for addr, ok := range map[string]bool{
		"ada@example.com":            true,
		"ada+tag@sub.example.org":    true,
		"":                           false,
		"ada":                        false,
		"ada@localhost":              false,
		"Ada <ada@example.com>":      false,
		"ada@example.com\nbcc:x@y.z": false,
		"ada @example.com":           false,
		strings.Repeat("a", 250) + "@example.com": false,
		// The cases the invitation forms were held to before the two
		// address rules became this one.
		"ada@":                                  false,
		"@example.com":                          false,
		"ada@example.com, bob@example.com":      false,
		"ada@example.com\r\nBcc: x@example.com": false,
		"ada@example.com\u00a0":                 false,
		"ada@.example.com":                      false,
	} {
		v := errs.Validation{}
		CheckEmail(v, "email", addr)
		if got := v["email"] == ""; got != ok {
			t.Errorf("CheckEmail(%q) accepted=%v, want %v (%s)", addr, got, ok, v["email"])
		}
	}
}

// TestCleanEmailInvitationAddresses holds the addresses people invite
// (to organisations and meetings) to the same rule as every other one.
func TestCleanEmailInvitationAddresses(t *testing.T) {
	good := map[string]string{
		"ada@example.com":             "ada@example.com",
		"  Ada.Lovelace@Example.COM ": "ada.lovelace@example.com",
		"a+tag@sub.example.co.uk":     "a+tag@sub.example.co.uk",
	}
	for in, want := range good {
		v := errs.Validation{}
		if got := CleanEmail(v, "email", in); got != want || len(v) != 0 {
			t.Errorf("CleanEmail(%q) = %q, %v", in, got, v)
		}
	}
	for _, in := range []string{
		"", "ada", "ada@", "@example.com", "ada@localhost", "Ada <ada@example.com>",
		"ada@example.com, bob@example.com", "ada @example.com", "ada@example.com\r\nBcc: x@example.com",
		strings.Repeat("a", 250) + "@example.com",
	} {
		v := errs.Validation{}
		CleanEmail(v, "email", in)
		if v["email"] == "" {
			t.Errorf("CleanEmail(%q) accepted", in)
		}
	}
}
