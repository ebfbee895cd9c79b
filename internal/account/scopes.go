package account

import (
	"slices"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

// Scope is a part of the API a personal token may use. A token opens only
// the routes of the scopes it carries, so a script that syncs a calendar
// cannot also erase the account, read its data export or act as staff. A
// browser session is not scoped: the person in front of it may do all
// their account allows.
type Scope string

const (
	// ScopeAccountRead reads the account: who the member is, their
	// profile and picture, and their tokens (never a token's secret).
	ScopeAccountRead Scope = "account:read"
	// ScopeAccountWrite changes the profile and picture, asks a guardian
	// to confirm, and revokes tokens.
	ScopeAccountWrite Scope = "account:write"
	// ScopeMeetings works with the member's meetings: scheduling,
	// participants, agenda, templates, files, and the calls themselves.
	ScopeMeetings Scope = "meetings"
	// ScopeOrgs works with the member's organisations: members,
	// invitations, branding and the processing addendum.
	ScopeOrgs Scope = "orgs"
	// ScopePrivacy exercises the member's rights over their own data:
	// consents, marketing choices and objections, copies of the data,
	// requests, the staff access log, deactivation and erasure.
	ScopePrivacy Scope = "privacy"
	// ScopeStaff opens the staff API (/api/admin/...) with the staff roles
	// the member holds when the token is used. Only a staff member with
	// two-step sign-in on may make such a token.
	ScopeStaff Scope = "staff"
)

// Scopes lists every scope, in the order forms and lists show them.
var Scopes = []Scope{ScopeAccountRead, ScopeAccountWrite, ScopeMeetings, ScopeOrgs, ScopePrivacy, ScopeStaff}

// MemberScopes are the scopes any member may give a token: all but staff.
var MemberScopes = []Scope{ScopeAccountRead, ScopeAccountWrite, ScopeMeetings, ScopeOrgs, ScopePrivacy}

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return slices.Contains(Scopes, s) }

// Description says what the scope opens, for the form that makes a token.
func (s Scope) Description() string {
	switch s {
	case ScopeAccountRead:
		return "read your account, profile and tokens"
	case ScopeAccountWrite:
		return "change your profile and picture, and revoke tokens"
	case ScopeMeetings:
		return "your meetings and their calls"
	case ScopeOrgs:
		return "your organisations"
	case ScopePrivacy:
		return "your consents, data copies and requests, and closing or deleting your account"
	case ScopeStaff:
		return "the staff API, with the staff roles you hold"
	}
	return string(s)
}

// Token lifetimes: a token lives TokenDefaultDays unless its owner
// chooses fewer, and never more than TokenMaxDays, so a token forgotten
// in a script stops working on its own.
const (
	TokenDefaultDays = 90
	TokenMaxDays     = 90
)

// TokenDayChoices are the lifetimes the security page offers.
var TokenDayChoices = []int{7, 30, 60, 90}

// ParseScopes keeps the known scopes of names, in the order of Scopes and
// without repeats; unknown names are dropped, so a scope a later release
// removes opens nothing.
func ParseScopes(names []string) []Scope {
	var out []Scope
	for _, s := range Scopes {
		if slices.Contains(names, string(s)) {
			out = append(out, s)
		}
	}
	return out
}

// FormatScopes is the stored form of scopes: their names, space-separated.
func FormatScopes(scopes []Scope) string {
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	return strings.Join(names, " ")
}

// TokenRequest is what a member asks for when making a token.
type TokenRequest struct {
	Name   string
	Scopes []string
	// Days is the lifetime; 0 asks for TokenDefaultDays.
	Days int
}

// NewToken checks a request and returns the token it describes, made at
// now for accountID. A refused request is errs.Invalid with a message on
// the fields "name", "scopes" and "expires_in_days".
func (in TokenRequest) NewToken(accountID string, now time.Time) (APIToken, error) {
	name, nameErr := CleanTokenName(in.Name)
	v := errs.Validation{}
	if e, ok := errs.As(nameErr); ok {
		for f, msg := range e.Fields {
			v.Add(f, msg)
		}
	}
	for _, s := range in.Scopes {
		if !Scope(s).Valid() {
			v.Add("scopes", "unknown scope; choose from account:read, account:write, meetings, orgs, privacy and staff")
			break
		}
	}
	scopes := ParseScopes(in.Scopes)
	if len(scopes) == 0 && v["scopes"] == "" {
		v.Add("scopes", "choose at least one thing the token may do")
	}
	days := in.Days
	if days == 0 {
		days = TokenDefaultDays
	}
	if days < 1 || days > TokenMaxDays {
		v.Add("expires_in_days", "choose between 1 and 90 days")
	}
	if err := v.Err(); err != nil {
		return APIToken{}, err
	}
	return APIToken{
		ID: NewTokenID(), AccountID: accountID, Name: name, Scopes: scopes,
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour),
	}, nil
}
