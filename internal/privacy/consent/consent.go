// Package consent owns the consent ledger's record: what a person (a
// member, or a visitor known only by a pseudonymous id) agreed to or
// refused, under which notice, how and when. Records follow the shape of
// ISO/IEC TS 27560 consent records with W3C DPV terms, and they are only
// ever appended: a change of mind is a new record, never an edit, so the
// ledger is its own history and the proof that consent law asks for.
//
// The package knows no SQL and no HTTP; internal/store keeps the records
// and internal/web writes them from the cookie banner, the consents page,
// the API and the Global Privacy Control signal.
package consent

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// Subject kinds: whose choice a record holds.
const (
	// Member records carry the account id.
	Member = "member"
	// Visitor records carry the random id of the consent cookie, which
	// names no one until the visitor signs in and the records are linked.
	Visitor = "visitor"
)

// Method is how the choice reached us (DPV's consent "mechanism").
type Method string

const (
	Banner   Method = "banner"   // the cookie banner's first layer
	Settings Method = "settings" // a settings page: cookie settings or the consents page
	GPC      Method = "gpc"      // the browser's Global Privacy Control signal
	API      Method = "api"      // the JSON API, with a personal token
	Guardian Method = "guardian" // a parent or guardian, for a child account
)

// Methods lists every method, in the order the schema gives them.
var Methods = []Method{Banner, Settings, GPC, API, Guardian}

// State is where a consent stands after the record (DPV consent status).
type State string

const (
	Given     State = "given"
	Refused   State = "refused"
	Withdrawn State = "withdrawn"
	Expired   State = "expired"
)

// States lists every state.
var States = []State{Given, Refused, Withdrawn, Expired}

// MaxUserAgent bounds the stored user agent, which is only a browser and
// system family and far shorter; records made before the ledger reduced
// it kept the whole string up to this length.
const MaxUserAgent = 256

// maxSubjectID and maxNotice bound ids that come from cookies and other
// modules; real ones are far shorter.
const (
	maxSubjectID = 100
	maxNotice    = 100
	maxPurposes  = 16
)

// Lifetime is how long a given consent lasts before it counts as expired
// and the person is asked again: six months, the interval after which
// the cookie tool asks anew.
func Lifetime(given time.Time) time.Time { return given.AddDate(0, 6, 0) }

// Record is one entry of the ledger.
type Record struct {
	// ID is the record's random id ("cns_…"), its receipt number.
	ID string
	// SubjectKind is Member or Visitor; SubjectID the account id or the
	// visitor id.
	SubjectKind string
	SubjectID   string
	// NoticeID, NoticeVersion and NoticeHash name the text the person was
	// shown: "cookies" for the cookie notice, "privacy" for the privacy
	// notice, with its version and the SHA-256 (hex) of its text.
	NoticeID      string
	NoticeVersion string
	NoticeHash    string
	// Purposes are data-map purpose ids the choice is about.
	Purposes []string
	// Basis is the lawful basis the processing would rest on, consent for
	// every purpose a record can be about today.
	Basis  datamap.Basis
	Method Method
	At     time.Time
	State  State
	// IP is the requester's address truncated by TruncateIP, "" when the
	// record was not made by a request (a job, a link carried over).
	IP string
	// UserAgent is the browser and system family the request's User-Agent
	// names, such as "Firefox on Linux"; never the full string.
	UserAgent string
	// GPC is true when the request carried the Global Privacy Control
	// signal, so an explicit opt-in made while sending it can be told
	// apart from an older one the signal overrides.
	GPC bool
	// LinkedFrom is the id of the visitor record this member record
	// carries over at sign-in; "" for a choice made as it stands.
	LinkedFrom string
}

// NewID returns a fresh random record id.
func NewID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "cns_" + hex.EncodeToString(b[:])
}

// features are opt-ins finer than the data map's purposes: parts of
// providing the service (the data map's purpose "service", as the notice
// describes them) that each need the person's own consent, so the ledger
// and the purpose gate name them apart.
var features = []datamap.Purpose{
	{
		ID: "recording", Name: "Being recorded in sessions",
		Description: "Recording a participant's voice and video in a session, only when they opted in to that recording.",
		Bases:       []datamap.Basis{datamap.Consent},
	},
	{
		ID: "ai-processing", Name: "AI assistant",
		Description: "Generating agendas and meeting summaries with the AI assistant from what someone contributes to a session.",
		Bases:       []datamap.Basis{datamap.Consent},
	},
}

// Purpose looks a purpose id up among the data map's purposes and the
// feature opt-ins above.
func Purpose(id string) (datamap.Purpose, bool) {
	p, ok := purposeIndex()[id]
	return p, ok
}

var purposeIndex = sync.OnceValue(func() map[string]datamap.Purpose {
	out := map[string]datamap.Purpose{}
	for _, p := range append(datamap.Default().Purposes, features...) {
		out[p.ID] = p
	}
	return out
})

// Choosable reports whether purpose is one a person can give or refuse
// consent to: a purpose that may rest on consent. Purposes that rest
// only on a contract, a legal obligation or a legitimate interest are
// not for consent (objections handle the last).
func Choosable(purpose string) bool {
	p, ok := Purpose(purpose)
	return ok && slices.Contains(p.Bases, datamap.Consent)
}

// ChoosablePurposes lists the purposes Choosable accepts: the data map's
// in its order, then the feature opt-ins.
func ChoosablePurposes() []datamap.Purpose {
	var out []datamap.Purpose
	for _, p := range append(datamap.Default().Purposes, features...) {
		if slices.Contains(p.Bases, datamap.Consent) {
			out = append(out, p)
		}
	}
	return out
}

// Validate checks a record before it is appended. Every failure is the
// requester's (a forged payload, an oversized header) or a module's
// mistake, and is reported per field so that nothing is written.
func (r Record) Validate() error {
	v := errs.Validation{}
	if !strings.HasPrefix(r.ID, "cns_") || len(r.ID) > 64 || !printable(r.ID) {
		v.Add("id", "must be a record id")
	}
	switch r.SubjectKind {
	case Member, Visitor:
	default:
		v.Add("subject_kind", "must be member or visitor")
	}
	if r.SubjectID == "" || len(r.SubjectID) > maxSubjectID || !printable(r.SubjectID) {
		v.Add("subject_id", "must be an account or visitor id")
	}
	if r.NoticeID == "" || len(r.NoticeID) > maxNotice || !printable(r.NoticeID) {
		v.Add("notice_id", "must name the notice shown")
	}
	if r.NoticeVersion == "" || len(r.NoticeVersion) > maxNotice || !printable(r.NoticeVersion) {
		v.Add("notice_version", "must name the notice's version")
	}
	if !isSHA256(r.NoticeHash) {
		v.Add("notice_hash", "must be the SHA-256 of the notice's text, in hexadecimal")
	}
	switch {
	case len(r.Purposes) == 0:
		v.Add("purposes", "name at least one purpose")
	case len(r.Purposes) > maxPurposes:
		v.Add("purposes", "too many purposes")
	default:
		seen := map[string]bool{}
		for _, p := range r.Purposes {
			if !Choosable(p) {
				v.Add("purposes", "unknown purpose, or one that does not rest on consent")
				break
			}
			if seen[p] {
				v.Add("purposes", "a purpose is named twice")
				break
			}
			seen[p] = true
		}
	}
	if r.Basis != datamap.Consent {
		v.Add("legal_basis", "must be consent")
	}
	if !slices.Contains(Methods, r.Method) {
		v.Add("method", "must be banner, settings, gpc, api or guardian")
	}
	if r.At.IsZero() {
		v.Add("time", "is missing")
	}
	if !slices.Contains(States, r.State) {
		v.Add("state", "must be given, refused, withdrawn or expired")
	}
	if r.IP != "" && TruncateIP(r.IP) != r.IP {
		v.Add("ip", "must be truncated")
	}
	if err := CheckUserAgent(r.UserAgent); err != nil {
		v.Add("user_agent", err.(*errs.Error).Fields["user_agent"])
	}
	if r.Method == GPC && (!r.GPC || r.State != Refused) {
		v.Add("method", "a Global Privacy Control record is a refusal made with the signal")
	}
	if r.LinkedFrom != "" && (r.SubjectKind != Member || !strings.HasPrefix(r.LinkedFrom, "cns_") || len(r.LinkedFrom) > 64) {
		v.Add("linked_from", "must be the id of a visitor record carried over to a member")
	}
	return v.Err()
}

// CheckUserAgent refuses a stored user agent that is too long or that is
// not printable text, with a field error on "user_agent".
func CheckUserAgent(ua string) error {
	v := errs.Validation{}
	switch {
	case len(ua) > MaxUserAgent:
		v.Add("user_agent", "must be at most 256 bytes")
	case !printable(ua):
		v.Add("user_agent", "must be printable text")
	}
	return v.Err()
}

// TruncateIP keeps the network part of an address: the first 24 bits of
// an IPv4 address and the first 48 of an IPv6 one, enough to show roughly
// where a choice came from, too little to point at one device. An
// IPv4-mapped IPv6 address is treated as IPv4. Anything unparseable gives
// "".
func TruncateIP(ip string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.Addr().String()
}

// StateAt returns the state the record stands for at now: a given consent
// older than its Lifetime has expired.
func (r Record) StateAt(now time.Time) State {
	if r.State == Given && !now.Before(Lifetime(r.At)) {
		return Expired
	}
	return r.State
}

// Covers reports whether the record is about purpose.
func (r Record) Covers(purpose string) bool { return slices.Contains(r.Purposes, purpose) }

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
