package org

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
)

// Organisation is a workspace: a customer that runs sessions for its own
// clients, with a name and a brand.
type Organisation struct {
	ID   string
	Name string
	// Colour is the brand colour as #rrggbb in lower case, "" for none.
	Colour string
	// LogoKey is the blob holding the logo, "" for none.
	LogoKey   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Membership is an account's place in an organisation. Name and Email
// are the account's, read with the membership for display.
type Membership struct {
	OrganisationID string
	AccountID      string
	Role           Role
	Name           string
	Email          string
	JoinedAt       time.Time
}

// WithRole is an organisation as one of its members sees it: with the
// role they hold in it.
type WithRole struct {
	Organisation
	Role Role
}

// Invitation asks whoever holds Email to join an organisation in Role. It
// binds to the account that accepts it, whatever that account's address.
type Invitation struct {
	ID             string
	OrganisationID string
	Email          string
	Role           Role
	InvitedBy      string // account id; "" once that account is gone
	CreatedAt      time.Time
	ExpiresAt      time.Time
	AcceptedAt     *time.Time
	AcceptedBy     string
}

// Pending reports whether the invitation can still be accepted at now.
func (i Invitation) Pending(now time.Time) bool {
	return i.AcceptedAt == nil && now.Before(i.ExpiresAt)
}

// DPAAcceptance records that an owner accepted a version of the Data
// Processing Addendum for the organisation. Acceptances are never changed
// or removed while the organisation exists; a later version is a new one.
type DPAAcceptance struct {
	ID             string
	OrganisationID string
	Version        string
	// AcceptedBy is the owner's account id, "" once that account is
	// erased; AcceptedByName is read with it for display.
	AcceptedBy     string
	AcceptedByName string
	AcceptedAt     time.Time
}

// DPAVersion is the version of the Data Processing Addendum offered now.
// The text that goes with each version is published separately; an
// acceptance names the version so that it stays clear what was agreed.
const DPAVersion = "dpa-2024-02"

// DPAVersions are the versions an organisation may accept, oldest first.
var DPAVersions = []string{DPAVersion}

// KnownDPAVersion reports whether v is a version that may be accepted.
func KnownDPAVersion(v string) bool { return slices.Contains(DPAVersions, v) }

const (
	// InvitationTTL is how long an invitation link stays valid.
	InvitationTTL = 7 * 24 * time.Hour
	// InvitationPurpose binds invitation tokens to invitations, so that a
	// link signed for anything else is refused.
	InvitationPurpose = "org-invitation"
	// MaxNameLength bounds an organisation's name, in characters.
	MaxNameLength = 100
	// MaxEmailLength is the longest address SMTP can carry (RFC 5321).
	MaxEmailLength = 254
)

var colourPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// CheckName records in v what is wrong with name, and returns it trimmed.
// Any text is allowed, markup included: it is stored as given and escaped
// wherever it is shown.
func CheckName(v errs.Validation, field, name string) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		v.Add(field, "is required")
	case !utf8.ValidString(name):
		v.Add(field, "must be text")
	case utf8.RuneCountInString(name) > MaxNameLength:
		v.Add(field, "must be at most 100 characters")
	case strings.ContainsFunc(name, unicode.IsControl):
		v.Add(field, "must be on one line, without control characters")
	}
	return name
}

// CheckColour records in v what is wrong with a brand colour and returns
// it in lower case. "" means no colour.
func CheckColour(v errs.Validation, field, colour string) string {
	colour = strings.TrimSpace(colour)
	if colour != "" && !colourPattern.MatchString(colour) {
		v.Add(field, "must be a colour written as # and six hexadecimal digits, such as #3347d1")
	}
	return strings.ToLower(colour)
}

// CheckRole records in v what is wrong with a role and returns it.
func CheckRole(v errs.Validation, field, role string) Role {
	r := Role(strings.TrimSpace(role))
	if !r.Valid() {
		v.Add(field, "must be owner, admin, member or guest")
	}
	return r
}

// CheckDPAVersion records in v whether version may be accepted.
func CheckDPAVersion(v errs.Validation, field, version string) string {
	if !KnownDPAVersion(version) {
		v.Add(field, "must be the version of the addendum on offer, "+DPAVersion)
	}
	return version
}
