// Package vendors owns the registry of sub-processors: the third parties
// that process personal data on our behalf, what they do, where they are,
// the safeguard that covers a transfer to them, and which categories of
// personal data they may receive. It holds the seed entries and the rules
// for staff edits; internal/store keeps the registry in the database and
// the data map (internal/privacy/datamap) names these entries as the
// recipients of its columns.
package vendors

import (
	"github.com/sessionshq/sessions/internal/country"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
)

// Mechanism is the legal ground for sending personal data to a
// sub-processor's country (GDPR chapter V).
type Mechanism string

const (
	// Adequacy: the European Commission has found the country's protection
	// adequate (Art. 45).
	Adequacy Mechanism = "adequacy-decision"
	// DataPrivacyFramework: the recipient is certified under the EU-US Data
	// Privacy Framework, which rests on its own adequacy decision.
	DataPrivacyFramework Mechanism = "eu-us-dpf"
	// StandardClauses: the Commission's standard contractual clauses are
	// part of the contract (Art. 46(2)(c)).
	StandardClauses Mechanism = "standard-contractual-clauses"
	// WithinEEA: the recipient is in the European Economic Area, so there
	// is no transfer to a third country.
	WithinEEA Mechanism = "none-needed-eea"
)

// Mechanisms lists every mechanism, in the order forms offer them.
func Mechanisms() []Mechanism {
	return []Mechanism{WithinEEA, Adequacy, DataPrivacyFramework, StandardClauses}
}

// Label is the mechanism's name for people.
func (m Mechanism) Label() string {
	switch m {
	case Adequacy:
		return "Adequacy decision"
	case DataPrivacyFramework:
		return "EU-US Data Privacy Framework"
	case StandardClauses:
		return "Standard contractual clauses"
	case WithinEEA:
		return "None needed (EEA)"
	}
	return string(m)
}

// Valid reports whether m is one of the known mechanisms.
func (m Mechanism) Valid() bool { return slices.Contains(Mechanisms(), m) }

// Subprocessor is one entry of the registry.
type Subprocessor struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Activity string `json:"activity"`
	// Purpose is the id of the data-map purpose the sub-processor mainly
	// serves.
	Purpose string `json:"purpose"`
	// Country is where the sub-processor processes the data, as an ISO
	// 3166-1 alpha-2 code.
	Country        string    `json:"country"`
	Mechanism      Mechanism `json:"transfer_mechanism"`
	DataCategories []string  `json:"data_categories"`
	Website        string    `json:"website"`
	Active         bool      `json:"active"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// ThirdCountry reports whether sending data to the sub-processor is a
// transfer out of the European Economic Area.
func (s Subprocessor) ThirdCountry() bool { return !country.InEEA(s.Country) }

// Update is what staff may change on an entry. The name, website and
// purpose are facts of the product and change only with a release.
type Update struct {
	Activity       string
	Country        string
	Mechanism      Mechanism
	DataCategories []string
	Active         bool
}

// Apply returns s with the update's fields.
func (u Update) Apply(s Subprocessor) Subprocessor {
	s.Activity = u.Activity
	s.Country = u.Country
	s.Mechanism = u.Mechanism
	s.DataCategories = slices.Clone(u.DataCategories)
	s.Active = u.Active
	return s
}

// MaxActivityLength bounds the activity text, which the public registry shows.
const MaxActivityLength = 200

// Normalise trims the activity, upper-cases the country and sorts and
// de-duplicates the categories, so that equal edits store equal values.
func (u Update) Normalise() Update {
	u.Activity = strings.TrimSpace(u.Activity)
	u.Country = strings.ToUpper(strings.TrimSpace(u.Country))
	u.Mechanism = Mechanism(strings.TrimSpace(string(u.Mechanism)))
	cats := make([]string, 0, len(u.DataCategories))
	for _, c := range u.DataCategories {
		if c = strings.TrimSpace(c); c != "" {
			cats = append(cats, c)
		}
	}
	slices.Sort(cats)
	u.DataCategories = slices.Compact(cats)
	return u
}

// Validate checks a normalised update. knownCategory says whether a
// personal-data category id exists; the data map provides it. Problems are
// reported per field, under the names the API and the form use.
func (u Update) Validate(knownCategory func(string) bool) error {
	v := errs.Validation{}
	switch {
	case u.Activity == "":
		v.Add("activity", "is required")
	case utf8.RuneCountInString(u.Activity) > MaxActivityLength:
		v.Add("activity", "must be at most "+strconv.Itoa(MaxActivityLength)+" characters")
	case strings.ContainsFunc(u.Activity, unicode.IsControl):
		v.Add("activity", "must be a single line of text")
	}
	countryOK := country.Known(u.Country)
	if !countryOK {
		v.Add("country", "must be an ISO 3166-1 two-letter country code, such as US or RO")
	}
	switch {
	case u.Mechanism == "":
		v.Add("transfer_mechanism", "is required")
	case !u.Mechanism.Valid():
		v.Add("transfer_mechanism", "must be one of "+mechanismList())
	case countryOK:
		if msg := mechanismFits(u.Mechanism, u.Country); msg != "" {
			v.Add("transfer_mechanism", msg)
		}
	}
	for _, c := range u.DataCategories {
		if !knownCategory(c) {
			v.Add("data_categories", "unknown category "+c)
		}
	}
	return v.Err()
}

// mechanismFits explains why a mechanism cannot cover a transfer to the
// country, or returns "" when it can.
func mechanismFits(m Mechanism, code string) string {
	name := country.Name(code)
	switch m {
	case WithinEEA:
		if !country.InEEA(code) {
			return name + " is outside the EEA, so a transfer mechanism is needed"
		}
	case Adequacy:
		if country.InEEA(code) {
			return name + " is in the EEA; choose " + string(WithinEEA)
		}
		if !country.HasAdequacyDecision(code) {
			return "there is no adequacy decision for " + name
		}
	case DataPrivacyFramework:
		if code != "US" {
			return "the Data Privacy Framework covers only recipients in the United States"
		}
	case StandardClauses:
		if country.InEEA(code) {
			return name + " is in the EEA; choose " + string(WithinEEA)
		}
	}
	return ""
}

func mechanismList() string {
	names := make([]string, 0, 4)
	for _, m := range Mechanisms() {
		names = append(names, string(m))
	}
	return strings.Join(names, ", ")
}
