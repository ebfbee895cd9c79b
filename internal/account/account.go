package account

import (
	"crypto/rand"
	"encoding/hex"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
)

// Status is where an account stands in its life.
type Status string

const (
	Active         Status = "active"
	Deactivated    Status = "deactivated"
	ErasurePending Status = "erasure_pending"
)

// Account is a member as stored. The password hash and the sealed TOTP
// secret never leave the store and the auth code; they are here so that
// one type carries an account through a sign-in.
type Account struct {
	ID                string
	Email             string // normalised: trimmed and lower-case
	EmailVerifiedAt   *time.Time
	PasswordHash      string
	PasswordChangedAt time.Time
	Name              string
	Status            Status
	CreatedAt         time.Time
	UpdatedAt         time.Time
	LastActiveAt      time.Time
	DeactivatedAt     *time.Time
	// TOTPSecret is the sealed (encrypted) second-factor secret; nil when
	// none is set up. TOTPEnabledAt is set once a code confirmed it.
	TOTPSecret    []byte
	TOTPEnabledAt *time.Time
	TOTPLastStep  int64
}

// Verified reports whether the member proved they receive mail at Email.
func (a Account) Verified() bool { return a.EmailVerifiedAt != nil }

// TOTPEnabled reports whether sign-in asks for a second factor.
func (a Account) TOTPEnabled() bool { return a.TOTPEnabledAt != nil && len(a.TOTPSecret) > 0 }

// Field limits. An address longer than 254 characters cannot be delivered
// (RFC 5321 path limit); names get generous room for every script.
const (
	MaxEmailLength = 254
	MaxNameLength  = 200
	MaxTokenName   = 100
)

// NewID returns a fresh random account id.
func NewID() string { return randomID("acc_") }

// NewSessionID returns a fresh random session id (not the cookie's token).
func NewSessionID() string { return randomID("ses_") }

// NewTokenID returns a fresh random API token id (not the token).
func NewTokenID() string { return randomID("tok_") }

func randomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// NormaliseEmail trims an address and lower-cases it. Treating the local
// part case-insensitively is what people expect, and it is what makes the
// UNIQUE constraint on accounts.email mean one account per mailbox.
func NormaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CheckEmail adds a message for field to v when email (already normalised)
// is not a plain deliverable address. It is the one rule for every address
// a person types: their own, a guardian's, an invitee's, a requester's.
func CheckEmail(v errs.Validation, field, email string) {
	switch {
	case email == "":
		v.Add(field, "enter an e-mail address")
	case len(email) > MaxEmailLength:
		v.Add(field, "must be at most 254 characters")
	case !plainAddress(email):
		v.Add(field, "enter an address such as name@example.com")
	}
}

// CleanEmail normalises email, checks it with CheckEmail and returns the
// normalised form, the one addresses are stored and compared in.
func CleanEmail(v errs.Validation, field, email string) string {
	email = NormaliseEmail(email)
	CheckEmail(v, field, email)
	return email
}

// plainAddress accepts a bare addr-spec with a dotted domain: no display
// name, no comments, no whitespace or control characters.
func plainAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 {
		return false
	}
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// CleanName trims a display name. The name is stored as given otherwise:
// markup in it is text, and pages escape it.
func CleanName(s string) string { return strings.TrimSpace(s) }

// CheckName adds a message for field to v when name (already cleaned) is
// empty, too long or holds control characters.
func CheckName(v errs.Validation, field, name string) {
	switch {
	case name == "":
		v.Add(field, "enter your name")
	case !utf8.ValidString(name):
		v.Add(field, "must be valid text")
	case utf8.RuneCountInString(name) > MaxNameLength:
		v.Add(field, "must be at most 200 characters")
	case hasControl(name):
		v.Add(field, "must not contain control characters")
	}
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// SignUp is what the sign-up form asks for: nothing else is required to
// open an account.
type SignUp struct {
	Name     string
	Email    string
	Password string
}

// Clean normalises the fields and checks them all, returning an
// errs.Invalid error with a message per bad field.
func (s *SignUp) Clean() error {
	s.Name = CleanName(s.Name)
	s.Email = NormaliseEmail(s.Email)
	v := errs.Validation{}
	CheckName(v, "name", s.Name)
	CheckEmail(v, "email", s.Email)
	CheckPassword(v, "password", s.Password)
	return v.Err()
}
