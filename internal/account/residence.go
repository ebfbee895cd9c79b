package account

import (
	"time"

	"github.com/sessionshq/sessions/internal/country"
)

// Controller is an organisation legally responsible for personal data.
type Controller struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Country string `json:"country"`
	Role    string `json:"role"` // "controller" or "joint controller"
	Contact string `json:"contact"`
}

// The two companies behind the product. The Romanian affiliate shares
// responsibility for people who live in the EEA, the UK or Switzerland.
var (
	Inc = Controller{ID: "sessions-inc", Name: "Sessions Technologies Inc", Country: "US",
		Role: "controller", Contact: "contact@sessions.us"}
	Romania = Controller{ID: "sessions-romania", Name: "Sessions Technologies Romania SRL", Country: "RO",
		Role: "joint controller", Contact: "contact@sessions.us"}
)

// InEuropeanScope reports whether a resident of country is covered by the
// EU GDPR, the UK GDPR or the Swiss data protection act, which is when the
// Romanian affiliate is a joint controller.
func InEuropeanScope(code string) bool {
	return country.InEEA(code) || code == "GB" || code == "CH"
}

// ControllersFor returns who controls the data of a resident of country.
// With no known country the Inc alone is named, and the account page asks
// for the country.
func ControllersFor(code string) []Controller {
	if InEuropeanScope(code) {
		return []Controller{Inc, Romania}
	}
	return []Controller{Inc}
}

// DefaultConsentAge applies where a country sets no age of digital consent.
const DefaultConsentAge = 16

// consentAge holds the age below which a child's consent to information
// society services needs a parent's, as each country set it under GDPR
// Art. 8 (and the UK under its own GDPR).
var consentAge = map[string]int{
	"AT": 14, "BE": 13, "BG": 14, "HR": 16, "CY": 14, "CZ": 15, "DK": 13, "EE": 13, "FI": 13, "FR": 15,
	"DE": 16, "GR": 15, "HU": 16, "IE": 16, "IT": 14, "LV": 13, "LT": 14, "LU": 16, "MT": 13, "NL": 16,
	"PL": 16, "PT": 13, "RO": 16, "SK": 16, "SI": 15, "ES": 14, "SE": 13, "IS": 13, "LI": 16, "NO": 13,
	"GB": 13,
}

// ConsentAge is the age of digital consent in country.
func ConsentAge(country string) int {
	if a, ok := consentAge[country]; ok {
		return a
	}
	return DefaultConsentAge
}

// AgeOn returns the age in whole years of someone born on dob, on day now.
func AgeOn(dob, now time.Time) int {
	y, m, d := now.Date()
	by, bm, bd := dob.Date()
	age := y - by
	if m < bm || (m == bm && d < bd) {
		age--
	}
	return age
}

// IsChild reports whether someone born on dob who lives in country is
// below that country's age of digital consent on day now.
func IsChild(dob time.Time, country string, now time.Time) bool {
	return AgeOn(dob, now) < ConsentAge(country)
}
