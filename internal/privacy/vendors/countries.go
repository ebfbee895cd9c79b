package vendors

import "github.com/sessionshq/sessions/internal/country"

// The registry speaks of countries through the country package; these
// names keep the registry's callers short.
var (
	CountryName         = country.Name
	CountryCodes        = country.Codes
	IsCountry           = country.Known
	InEEA               = country.InEEA
	HasAdequacyDecision = country.HasAdequacyDecision
)
