package account

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

// Restrictions says which kinds of optional processing a member's age
// allows. Each flag is true when that processing may go ahead as far as
// age is concerned; the member's own choices (consent, objection) still
// apply on top. The purpose gate reads it, and so do the account page and
// the API.
type Restrictions struct {
	// Child is true when a date of birth was given and the member is
	// below the age of digital consent of their country of residence.
	Child bool `json:"child"`
	// ConsentAge is that age for the member's country (the default when
	// no country was given).
	ConsentAge int `json:"consent_age"`
	// GuardianConfirmed is true once a parent or guardian confirmed.
	GuardianConfirmed bool `json:"guardian_confirmed"`
	Marketing         bool `json:"marketing"`
	Analytics         bool `json:"analytics"`
	Recording         bool `json:"recordings"`
	AI                bool `json:"ai"`
	// Reason explains the flags in one sentence for the member.
	Reason string `json:"reason"`
}

// RestrictionsFor works out the restrictions for a profile on day now.
// A child account has marketing, analytics, recordings and AI processing
// off until a parent or guardian confirms; an adult's, or a confirmed
// child's, are not restricted by age. Without a date of birth nobody is
// treated as a child, since the product does not ask for one.
func RestrictionsFor(p Profile, now time.Time) Restrictions {
	r := Restrictions{ConsentAge: ConsentAge(p.Country)}
	r.Child = p.HasBirthDate() && IsChild(p.BirthDate, p.Country, now)
	r.GuardianConfirmed = p.GuardianConfirmedAt != nil
	allowed := !r.Child || r.GuardianConfirmed
	r.Marketing, r.Analytics, r.Recording, r.AI = allowed, allowed, allowed, allowed
	switch {
	case !r.Child:
		r.Reason = "no restriction applies: the account is not a child account"
	case r.GuardianConfirmed:
		r.Reason = "a parent or guardian confirmed this child account, so these features may be used"
	default:
		r.Reason = "this is a child account: marketing, analytics, recordings and AI processing stay off until a parent or guardian confirms by e-mail"
	}
	return r
}

// GuardianLinkPurpose is the purpose signed into guardian confirmation
// links, so that no other kind of link can stand in for one.
const GuardianLinkPurpose = "guardian-consent"

// GuardianLinkLifetime is how long a guardian confirmation link works.
const GuardianLinkLifetime = 7 * 24 * time.Hour

// GuardianNoticeVersion names the text a guardian is shown. Change it
// whenever GuardianNotice changes, so that every stored confirmation
// still says which text it answered.
const GuardianNoticeVersion = "guardian-notice-1"

// GuardianNotice is the text the guardian's confirmation page shows, one
// paragraph per entry. The confirmation stores its version and digest as
// evidence of what was agreed to.
func GuardianNotice() []string {
	return []string{
		"A young person has opened an account on Sessions, an online meeting platform, and gave your address as that of their parent or guardian. Because of their age, the law asks for your agreement before some features that use their personal data are switched on.",
		"Until you confirm, the account works for meetings, but the following stay switched off: marketing messages, usage analytics, being included in recordings of meetings, and processing by the AI assistant (generated agendas and meeting summaries).",
		"If you confirm, these features become available to the young person. Each still needs their own choice: they are asked before being recorded, before the AI assistant includes them, and before any analytics or marketing, and they can say no or change their mind at any time.",
		"Confirming records your e-mail address, the time, which account you confirmed for and which version of this text you were shown. If you did not expect this message, or do not agree, simply do nothing: the features stay off. You can ask us at any time to withdraw your agreement or to delete the account.",
	}
}

// GuardianNoticeDigest is the SHA-256 (hex) of the notice's text, stored
// with each confirmation.
func GuardianNoticeDigest() string {
	sum := sha256.Sum256([]byte(GuardianNoticeVersion + "\n" + strings.Join(GuardianNotice(), "\n")))
	return hex.EncodeToString(sum[:])
}

// CleanGuardianEmail normalises a guardian's address and checks it. It
// must not be the member's own address (already normalised), since the
// point is that someone else confirms.
func CleanGuardianEmail(email, own string) (string, error) {
	email = NormaliseEmail(email)
	v := errs.Validation{}
	CheckEmail(v, FieldGuardianEmail, email)
	if len(v) == 0 && email == own {
		v.Add(FieldGuardianEmail, "must be the address of a parent or guardian, not your own")
	}
	return email, v.Err()
}

// GuardianRequest is one confirmation link sent to a parent or guardian,
// and, once confirmed, the evidence of the consent.
type GuardianRequest struct {
	ID            string
	AccountID     string
	GuardianEmail string
	Status        string // pending, confirmed or superseded
	RequestedAt   time.Time
	ExpiresAt     time.Time
	ConfirmedAt   *time.Time
	NoticeVersion string
	NoticeSHA256  string
}
