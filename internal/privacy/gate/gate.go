// Package gate is the purpose gate: the one check every module makes
// before it uses a person's data for a purpose. Decide weighs, for one
// person and one purpose of the data map, the purpose's lawful basis, the
// person's current consents, their objections, a restriction of
// processing, the limits of a child account and the Global Privacy
// Control signal, and answers yes or no with the reason.
//
// Decide is pure: the caller gathers the Inputs (internal/web does it for
// a request or a job) and the same Inputs always give the same Decision,
// which is what lets a table test cover the combinations.
package gate

import (
	"slices"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// Subject is whom the decision is about: Kind "member" with an account
// id, or "visitor" with the pseudonymous id of the consent cookie.
type Subject struct{ Kind, ID string }

// Member and Visitor build subjects.
func Member(accountID string) Subject  { return Subject{Kind: consent.Member, ID: accountID} }
func Visitor(visitorID string) Subject { return Subject{Kind: consent.Visitor, ID: visitorID} }

// Decision is the gate's answer. Reason is one of the Reason constants,
// stable enough to compare and plain enough to show.
type Decision struct {
	Allowed bool
	Reason  string
}

// Reasons. Denials first, then the grounds on which a purpose is allowed.
const (
	ReasonUnknownPurpose = "unknown purpose"
	ReasonRestricted     = "processing is restricted at the person's request"
	ReasonChild          = "child account without a parent's or guardian's confirmation"
	ReasonObjectMarket   = "the person objected to marketing"
	ReasonObjectProfile  = "the person objected to profiling"
	ReasonGPC            = "Global Privacy Control signal honoured"
	ReasonNoConsent      = "no consent recorded"
	ReasonRefused        = "consent refused"
	ReasonWithdrawn      = "consent withdrawn"
	ReasonExpired        = "consent expired"
	// ReasonUnavailable is given by loaders, never by Decide, when the
	// inputs could not be read: the gate then fails closed.
	ReasonUnavailable = "the person's choices could not be read"

	ReasonConsent            = "consent given"
	ReasonContract           = "necessary for the contract"
	ReasonLegalObligation    = "required by law"
	ReasonLegitimateInterest = "legitimate interest, no objection"
)

// Inputs are everything Decide weighs. The zero value is an anonymous
// subject with no consents, no objection, no restriction, no known age
// and no GPC signal.
type Inputs struct {
	Subject Subject
	// Now is when the decision is made; consents expire against it.
	Now time.Time
	// Consents is the latest ledger record per purpose
	// (store.CurrentConsents).
	Consents map[string]consent.Record
	// ObjectsToMarketing and ObjectsToProfiling are the person's
	// objections (store.Objections); members only.
	ObjectsToMarketing bool
	ObjectsToProfiling bool
	// Restricted is set while the person has restricted processing of
	// their data (Art. 18): only storage and what the service and the law
	// cannot do without.
	Restricted bool
	// Age is account.RestrictionsFor for a member; nil when no age is
	// known, as for visitors.
	Age *account.Restrictions
	// GPC is true when the request carries the Global Privacy Control
	// signal (Sec-GPC: 1, or navigator.globalPrivacyControl reported by
	// the banner).
	GPC bool
	// Notices maps a notice id to its version in force. A consent given
	// under another version of a notice listed here counts as expired: the
	// person agreed to a text that has changed since, and is asked again.
	// Notices not listed are not checked.
	Notices map[string]string
}

// StateOf is where a record stands for these inputs: a given consent
// older than consent.Lifetime, or given under a notice version no longer
// in force, has expired.
func (in Inputs) StateOf(r consent.Record) consent.State {
	st := r.StateAt(in.Now)
	if st == consent.Given {
		if v, ok := in.Notices[r.NoticeID]; ok && v != r.NoticeVersion {
			return consent.Expired
		}
	}
	return st
}

// GPCPurposes are the purposes the Global Privacy Control signal opts
// out of: following someone's behaviour to shape what they are later
// shown, the product's only form of tracking for marketing. It never
// covers the service, security or first-party analytics, which share
// nothing with anyone.
var GPCPurposes = []string{"behaviour-tracking"}

// storageOnly are the purposes that continue while processing is
// restricted: keeping the account and the service the person asked for
// running, security, and what the law or legal claims require. Every
// other purpose, a purpose added later included, stops.
var storageOnly = []string{
	"account", "service", "security", "identity-fraud", "legal-claims", "legal-compliance", "service-communications",
}

// profiling are the purposes that evaluate someone from their behaviour,
// which an objection to profiling stops.
var profiling = []string{"behaviour-tracking", "personalisation"}

// ageFlag says which flag of account.Restrictions governs a purpose; a
// purpose not listed is not limited by age.
func ageFlag(r *account.Restrictions, purpose string) (allowed, limited bool) {
	switch purpose {
	case "marketing":
		return r.Marketing, true
	case "analytics", "behaviour-tracking":
		return r.Analytics, true
	case "recording":
		return r.Recording, true
	case "ai-processing":
		return r.AI, true
	}
	return true, false
}

// Decide answers whether purpose may use the subject's data.
//
// The checks run from the strongest to the weakest: a purpose the data
// map does not know is refused; a restriction, a child account's limits
// and an objection each refuse whatever consent says; the GPC signal
// refuses tracking unless the person opted in to that purpose while
// sending it; then the basis decides. A purpose that may rest on consent
// needs a current "given" record (consent is asked for wherever a
// purpose can rest on it, so legitimate interest never stands in for a
// refused consent); one that rests on a contract or the law is allowed;
// one that rests only on legitimate interest is allowed unless objected
// to.
func Decide(in Inputs, purpose string) Decision {
	p, ok := consent.Purpose(purpose)
	if !ok {
		return deny(ReasonUnknownPurpose)
	}
	if in.Restricted && !slices.Contains(storageOnly, purpose) {
		return deny(ReasonRestricted)
	}
	if in.Age != nil {
		if allowed, limited := ageFlag(in.Age, purpose); limited && !allowed {
			return deny(ReasonChild)
		}
	}
	if in.ObjectsToMarketing && purpose == "marketing" {
		return deny(ReasonObjectMarket)
	}
	if in.ObjectsToProfiling && slices.Contains(profiling, purpose) {
		return deny(ReasonObjectProfile)
	}
	rec, recorded := in.Consents[purpose]
	if recorded && !rec.Covers(purpose) {
		// A record filed under the wrong purpose is no evidence of consent.
		recorded = false
	}
	if in.GPC && slices.Contains(GPCPurposes, purpose) {
		if !recorded || !rec.GPC || rec.Method == consent.GPC || in.StateOf(rec) != consent.Given {
			return deny(ReasonGPC)
		}
	}
	switch {
	case slices.Contains(p.Bases, datamap.Consent):
		if !recorded {
			return deny(ReasonNoConsent)
		}
		switch in.StateOf(rec) {
		case consent.Given:
			return allow(ReasonConsent)
		case consent.Refused:
			if rec.Method == consent.GPC {
				return deny(ReasonGPC)
			}
			return deny(ReasonRefused)
		case consent.Withdrawn:
			return deny(ReasonWithdrawn)
		default:
			return deny(ReasonExpired)
		}
	case slices.Contains(p.Bases, datamap.Contract):
		return allow(ReasonContract)
	case slices.Contains(p.Bases, datamap.LegalObligation):
		return allow(ReasonLegalObligation)
	default:
		return allow(ReasonLegitimateInterest)
	}
}

func allow(reason string) Decision { return Decision{Allowed: true, Reason: reason} }
func deny(reason string) Decision  { return Decision{Reason: reason} }
