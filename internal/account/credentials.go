package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
)

// Session lifetimes. A session ends after SessionIdle without use or at
// SessionAbsolute after sign-in, whichever comes first.
const (
	SessionIdle     = 14 * 24 * time.Hour
	SessionAbsolute = 60 * 24 * time.Hour
	// SessionTouchEvery bounds how often use of a session is written back.
	SessionTouchEvery = 5 * time.Minute
	// ActiveTouchEvery bounds how often accounts.last_active_at, which
	// retention reads, is moved forward.
	ActiveTouchEvery = time.Hour
	// ChallengeTTL is how long the second step of a sign-in stays open.
	ChallengeTTL = 5 * time.Minute
)

// Link lifetimes and the purposes that bind each signed link to its use.
const (
	PurposeVerify      = "account.verify-email"
	PurposeReset       = "account.reset-password"
	PurposeChangeEmail = "account.change-email"

	VerifyTTL      = 48 * time.Hour
	ResetTTL       = time.Hour
	ChangeEmailTTL = 24 * time.Hour
)

// Sign-in throttling. Per account: five failed passwords within fifteen
// minutes lock the address for fifteen minutes. SecondStep counts wrong
// second-factor codes per account on a counter of its own, which only a
// right code clears: a right password must not give a guesser of codes a
// fresh start. Per IP: enough room for a shared office or school network,
// not for guessing across many addresses. LinkMail bounds the mails one
// address can be sent by strangers asking for sign-up or reset links.
var (
	AccountThrottle    = ratelimit.Policy{Limit: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	SecondStepThrottle = ratelimit.Policy{Limit: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	IPThrottle         = ratelimit.Policy{Limit: 50, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	LinkMailThrottle   = ratelimit.Policy{Limit: 3, Window: time.Hour, Lockout: time.Hour}
	IPMailThrottle     = ratelimit.Policy{Limit: 20, Window: time.Hour, Lockout: time.Hour}
)

// Session is a signed-in browser.
type Session struct {
	ID         string
	AccountID  string
	Client     string // coarse, such as "Firefox on Linux"
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
}

// Live reports whether s may still be used at now.
func (s Session) Live(now time.Time) bool {
	return now.Before(s.ExpiresAt) && now.Before(s.LastSeenAt.Add(SessionIdle))
}

// APIToken is a personal token for the JSON API. It opens only the routes
// of its scopes, and only until ExpiresAt.
type APIToken struct {
	ID         string
	AccountID  string
	Name       string
	Scopes     []Scope
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt *time.Time
}

// Live reports whether t may still be used at now. A token without an
// expiry is not live: every token is given one when it is made.
func (t APIToken) Live(now time.Time) bool { return !t.ExpiresAt.IsZero() && now.Before(t.ExpiresAt) }

// Has reports whether t carries scope s.
func (t APIToken) Has(s Scope) bool { return slices.Contains(t.Scopes, s) }

// CleanTokenName trims a token's name and checks it.
func CleanTokenName(name string) (string, error) {
	name = strings.TrimSpace(name)
	v := errs.Validation{}
	switch {
	case name == "":
		v.Add("name", "give the token a name, such as the tool that will use it")
	case len([]rune(name)) > MaxTokenName:
		v.Add("name", "must be at most 100 characters")
	case hasControl(name):
		v.Add("name", "must not contain control characters")
	}
	return name, v.Err()
}

// Token prefixes tell a person (and secret scanners) what a leaked string
// is.
const (
	sessionTokenPrefix = "ss_"
	apiTokenPrefix     = "sst_"
	challengePrefix    = "ssc_"
)

// NewSessionToken returns the secret a session cookie carries.
func NewSessionToken() string { return sessionTokenPrefix + randomToken() }

// NewAPIToken returns a personal API token's secret.
func NewAPIToken() string { return apiTokenPrefix + randomToken() }

// NewChallengeToken returns the secret of a pending two-step sign-in.
func NewChallengeToken() string { return challengePrefix + randomToken() }

// LooksLikeAPIToken tells a personal API token from other bearer strings.
func LooksLikeAPIToken(s string) bool { return strings.HasPrefix(s, apiTokenPrefix) }

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// TokenDigest is what is stored for a session, API token, challenge or
// recovery code: 256 random bits need no slow hash, and a copy of the
// database opens nothing.
func TokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// DescribeClient reduces a User-Agent to browser and system family, which
// is all the list of sessions needs to help someone recognise a device.
func DescribeClient(ua string) string {
	browser := "Browser"
	for _, b := range []struct{ needle, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chromium/", "Chromium"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.needle) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, s := range []struct{ needle, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, s.needle) {
			system = s.name
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}
