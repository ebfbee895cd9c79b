// Package marketing owns direct marketing: a member's choices per channel
// and their defaults, objections (to marketing, to profiling, and to
// legitimate-interest processing in general), the suppression list that
// outlives accounts, campaigns, and the signed tokens of the unsubscribe
// and preference links every message carries. It knows nothing of HTTP or
// SQL.
//
// Marketing rests on legitimate interest, so a member who is a customer
// gets it unless they say no, and saying no is absolute: an objection
// switches every channel off at once, for good, and puts the address on
// the suppression list that every sender checks. There is no sale of
// personal data anywhere in the product, and so no code for it.
package marketing

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/sessionshq/sessions/internal/account"
)

// Purpose is the data map purpose every marketing message is sent for,
// and the one the purpose gate is asked about.
const Purpose = "marketing"

// Channel is a way of reaching a person with marketing.
type Channel string

const (
	Email  Channel = "email"
	SMS    Channel = "sms"
	Phone  Channel = "phone"
	Social Channel = "social"
)

// Channels lists every channel in the order pages show them.
var Channels = []Channel{Email, SMS, Phone, Social}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	for _, v := range Channels {
		if c == v {
			return true
		}
	}
	return false
}

// Label is the channel's name for people.
func (c Channel) Label() string {
	switch c {
	case Email:
		return "E-mail"
	case SMS:
		return "Text messages (SMS)"
	case Phone:
		return "Phone calls"
	case Social:
		return "Social media"
	}
	return string(c)
}

// Relationship is what decides the defaults: whether the person is a
// customer we may approach, and whether they are a child.
type Relationship struct {
	// Customer is true for an active member with a verified address: every
	// such member uses the free service, and so is an existing customer.
	Customer bool
	// Child is true for a child account (account.RestrictionsFor).
	Child bool
	// ChildAllowed is true when a parent or guardian confirmed the child
	// account, which lets the child choose marketing for themselves.
	ChildAllowed bool
}

// RelationshipOf works out the relationship of a member from their
// account and their profile's restrictions.
func RelationshipOf(a account.Account, r account.Restrictions) Relationship {
	return Relationship{
		Customer:     a.Status == account.Active && a.Verified(),
		Child:        r.Child,
		ChildAllowed: r.Child && r.Marketing,
	}
}

// Default is whether a channel is on when the person has not chosen: on
// for customers, off for children and for anyone without a relationship.
func (rel Relationship) Default() bool { return rel.Customer && !rel.Child }

// MayOptIn reports whether the person may switch a channel on themselves.
// A child whose guardian has not confirmed may not; neither may anyone
// without a relationship, since there is nothing to market to them about.
func (rel Relationship) MayOptIn() bool {
	if !rel.Customer {
		return false
	}
	return !rel.Child || rel.ChildAllowed
}

// Explain says in one sentence why the defaults are what they are.
func (rel Relationship) Explain() string {
	switch {
	case rel.Child && !rel.ChildAllowed:
		return "This is a child account, so marketing is off and cannot be switched on until a parent or guardian confirms the account."
	case rel.Child:
		return "This is a child account, so marketing is off unless you switch a channel on yourself."
	case !rel.Customer:
		return "Marketing is off: we only send it to members with a confirmed e-mail address, who use our service."
	default:
		return "As a member you use our service, so we count you as a customer: we may tell you about our own products on the channels below, which are on unless you switch them off. You can object at any time, and an objection is final."
	}
}

// Preferences is a person's marketing state as pages and the API show it.
type Preferences struct {
	Relationship Relationship
	// Chosen holds the channels the person set explicitly.
	Chosen map[Channel]bool
	// Objected is true once the person objected to direct marketing.
	Objected bool
	// ProfilingObjected is true once the person objected to profiling.
	ProfilingObjected bool
	// Suppressed is true when the address is on the suppression list.
	Suppressed bool
}

// On reports whether channel c is on: off for good after an objection or
// when the address is suppressed, else the person's choice, else the
// default.
func (p Preferences) On(c Channel) bool {
	if p.Objected || (c == Email && p.Suppressed) {
		return false
	}
	if on, ok := p.Chosen[c]; ok {
		return on && p.Relationship.MayOptIn()
	}
	return p.Relationship.Default()
}

// Channels returns every channel's state.
func (p Preferences) Channels() map[Channel]bool {
	out := make(map[Channel]bool, len(Channels))
	for _, c := range Channels {
		out[c] = p.On(c)
	}
	return out
}

// ObjectionKind is what a person objects to.
type ObjectionKind string

const (
	// ObjectMarketing is an objection to direct marketing: absolute,
	// immediate and permanent.
	ObjectMarketing ObjectionKind = "marketing"
	// ObjectProfiling is an objection to profiling, separate from
	// marketing and just as absolute.
	ObjectProfiling ObjectionKind = "profiling"
	// ObjectLegitimateInterest is an objection to processing that rests on
	// legitimate interest, which staff weigh against compelling grounds.
	ObjectLegitimateInterest ObjectionKind = "legitimate-interest"
)

// Valid reports whether k is a known kind.
func (k ObjectionKind) Valid() bool {
	return k == ObjectMarketing || k == ObjectProfiling || k == ObjectLegitimateInterest
}

// Absolute reports whether an objection of this kind takes effect at once
// without anyone weighing it.
func (k ObjectionKind) Absolute() bool { return k == ObjectMarketing || k == ObjectProfiling }

// Method is how an objection reached us.
type Method string

const (
	BySettings    Method = "settings"    // the signed-in preferences page
	ByAPI         Method = "api"         // the member's API
	ByUnsubscribe Method = "unsubscribe" // a message's one-click or confirmed unsubscribe
	ByLink        Method = "link"        // the signed preferences link from a message
)

// ObjectionStatus is where an objection stands.
type ObjectionStatus string

const (
	Upheld     ObjectionStatus = "upheld"     // in force: the processing stops
	Pending    ObjectionStatus = "pending"    // waiting for staff to weigh it
	Overridden ObjectionStatus = "overridden" // staff recorded compelling grounds
)

// Objection is one recorded objection.
type Objection struct {
	ID         string
	PersonID   string
	Kind       ObjectionKind
	Method     Method
	CampaignID string
	Purpose    string // for legitimate-interest objections; "" means all
	Statement  string // the person's reasons, if they gave any
	Status     ObjectionStatus
	CreatedAt  time.Time
	DecidedAt  *time.Time
	DecidedBy  string
	Grounds    string
}

// Limits on free text.
const (
	MaxStatement = 4000
	MaxGrounds   = 4000
)

// NewObjectionID returns a fresh random objection id.
func NewObjectionID() string { return randomID("obj_") }

// NewCampaignID returns a fresh random campaign id.
func NewCampaignID() string { return randomID("cmp_") }

func randomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// SuppressionDigest is the key an address is suppressed under: an
// HMAC-SHA-256 under the server secret of the normalised address. A plain
// hash of an address can be reversed by hashing a list of addresses; the
// keyed one cannot without the secret, and it still lets every sender
// check an address it is about to write to.
func SuppressionDigest(secret []byte, email string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("marketing-suppression\x00" + account.NormaliseEmail(email)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SuppressionReason is why an address is on the list.
type SuppressionReason string

const (
	SuppressedByObjection   SuppressionReason = "objection"
	SuppressedByUnsubscribe SuppressionReason = "unsubscribe"
)
