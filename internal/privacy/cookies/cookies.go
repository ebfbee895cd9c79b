// Package cookies owns the cookie tool's rules: the registry of every
// cookie and browser storage entry the product sets, with its category,
// purpose, lifetime and party; the categories a visitor chooses between;
// the cookie notice's id and version; and the visitor's choice, how it is
// made from a click on the banner or the settings page, how it travels in
// the one strictly necessary cookie that remembers it, and when it is due
// again.
//
// It knows no HTTP and no SQL: internal/web sets and reads the cookies and
// writes each choice to the consent ledger (internal/privacy/consent)
// through internal/store.
package cookies

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"
)

// Category groups cookies by what they are for. A visitor chooses per
// category; strictly necessary cookies need no choice.
type Category string

const (
	// StrictlyNecessary cookies make the site work as asked: signing in,
	// remembering the cookie choice itself. They are always on.
	StrictlyNecessary Category = "strictly-necessary"
	// Preferences remember settings a visitor picked for later visits.
	Preferences Category = "preferences"
	// Analytics count visits and the use of features, in aggregate.
	Analytics Category = "analytics"
	// Marketing follows behaviour to shape later experience or offers.
	Marketing Category = "marketing"
)

// Categories lists every category in the order the tool shows them.
var Categories = []Category{StrictlyNecessary, Preferences, Analytics, Marketing}

// Optional lists the categories a visitor may switch on or off.
var Optional = []Category{Preferences, Analytics, Marketing}

// ParseCategory accepts the id of a known category.
func ParseCategory(s string) (Category, bool) {
	c := Category(s)
	return c, slices.Contains(Categories, c)
}

// IsOptional reports whether the visitor decides about c.
func (c Category) IsOptional() bool { return slices.Contains(Optional, c) }

// Label is the category's name for people.
func (c Category) Label() string {
	switch c {
	case StrictlyNecessary:
		return "Strictly necessary"
	case Preferences:
		return "Preferences"
	case Analytics:
		return "Analytics"
	case Marketing:
		return "Marketing and tracking"
	}
	return string(c)
}

// Description says in plain words what the category's cookies do.
func (c Category) Description() string {
	switch c {
	case StrictlyNecessary:
		return "Needed for the site to do what you ask, such as keeping you signed in and remembering these choices. They cannot be switched off."
	case Preferences:
		return "Remember settings you pick, so the site looks and behaves the way you left it."
	case Analytics:
		return "Count page views and the use of features with a random id that changes every day, so that we can see in aggregate what works. Your IP address is shortened before anything is stored."
	case Marketing:
		return "Follow how you use the site to shape what you see later, such as the offers we show you. Switching them off keeps them off, today and whenever we add any."
	}
	return ""
}

// Purposes are the data-map purposes a choice about c gives or refuses
// consent to. Strictly necessary cookies rest on other bases and have
// none.
func (c Category) Purposes() []string {
	switch c {
	case Preferences:
		return []string{"personalisation"}
	case Analytics:
		return []string{"analytics"}
	case Marketing:
		return []string{"behaviour-tracking"}
	}
	return nil
}

// Kind is where in the browser an entry lives.
type Kind string

const (
	Cookie         Kind = "cookie"
	LocalStorage   Kind = "local-storage"
	SessionStorage Kind = "session-storage"
)

// Label is the kind's name for people.
func (k Kind) Label() string {
	switch k {
	case LocalStorage:
		return "Local storage"
	case SessionStorage:
		return "Session storage"
	}
	return "Cookie"
}

// Party says who sets an entry: us (first party) or another site.
type Party string

const (
	FirstParty Party = "first"
	ThirdParty Party = "third"
)

// Label is the party's name for people.
func (p Party) Label() string {
	if p == ThirdParty {
		return "Third party"
	}
	return "First party"
}

// Entry is one cookie or storage entry of the registry.
type Entry struct {
	// Name is the cookie's name on plain HTTP. Over HTTPS every cookie of
	// ours carries the __Host- prefix (see NameFor), which makes browsers
	// insist on Secure, Path=/ and no Domain.
	Name     string
	Kind     Kind
	Category Category
	Party    Party
	// Provider is who sets it; always us while there are no third-party
	// entries.
	Provider string
	// Purpose says what the entry is for, in plain words.
	Purpose string
	// Duration says in plain words how long it lasts.
	Duration string
}

// NameFor is the entry's name as set: with the __Host- prefix over HTTPS.
func (e Entry) NameFor(secure bool) string {
	if secure && e.Kind == Cookie {
		return "__Host-" + e.Name
	}
	return e.Name
}

// Names of the cookies the product sets, without the __Host- prefix.
const (
	SessionCookie   = "sessions"
	ChallengeCookie = "sessions-challenge"
	ChoiceCookie    = "sessions-consent"
	AnalyticsCookie = "sessions-analytics"
)

// Registry lists every cookie and storage entry the product sets, in the
// order the cookie notice shows them. A cookie set anywhere in the code
// must be listed here; the notice page, the withdrawal of a category and
// the notice's version all come from this list.
func Registry() []Entry {
	return []Entry{
		{
			Name: SessionCookie, Kind: Cookie, Category: StrictlyNecessary, Party: FirstParty, Provider: "Sessions",
			Purpose:  "Keeps you signed in after you sign in. It holds a random token, never your password.",
			Duration: "Until you sign out, after 14 days without use, or after 60 days at most",
		},
		{
			Name: ChallengeCookie, Kind: Cookie, Category: StrictlyNecessary, Party: FirstParty, Provider: "Sessions",
			Purpose:  "Holds the first step of a sign-in while you enter the code of two-step sign-in.",
			Duration: "5 minutes",
		},
		{
			Name: ChoiceCookie, Kind: Cookie, Category: StrictlyNecessary, Party: FirstParty, Provider: "Sessions",
			Purpose:  "Remembers your cookie choices, when you made them, the version of this notice you saw and a random id that lets us show the record of your choice.",
			Duration: "6 months; then we ask again",
		},
		{
			Name: AnalyticsCookie, Kind: Cookie, Category: Analytics, Party: FirstParty, Provider: "Sessions",
			Purpose:  "A random id that lets our own analytics count a visit once rather than at every page. It is replaced every day and whenever you change your choice.",
			Duration: "Until the end of the day (UTC), 24 hours at most",
		},
	}
}

// InCategory lists the registry's entries of category c.
func InCategory(c Category) []Entry {
	var out []Entry
	for _, e := range Registry() {
		if e.Category == c {
			out = append(out, e)
		}
	}
	return out
}

// Lookup finds a registry entry by its name, with or without the __Host-
// prefix.
func Lookup(name string) (Entry, bool) {
	for _, e := range Registry() {
		if e.Name == name || (e.Kind == Cookie && "__Host-"+e.Name == name) {
			return e, true
		}
	}
	return Entry{}, false
}

// NewVisitorID returns a random pseudonymous id for the consent ledger.
// It names nobody; it only ties a browser's choices together.
func NewVisitorID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "vis_" + hex.EncodeToString(b[:])
}

// validVisitorID accepts ids NewVisitorID makes.
func validVisitorID(s string) bool {
	if len(s) != 4+32 || s[:4] != "vis_" {
		return false
	}
	_, err := hex.DecodeString(s[4:])
	return err == nil
}

// ReaskAt is when a choice made at chosen lapses and the banner asks
// again: six months later.
func ReaskAt(chosen time.Time) time.Time { return chosen.AddDate(0, 6, 0) }
