package account

import "github.com/sessionshq/sessions/internal/country"

// Country is a code with its name, for forms.
type Country = country.Country

// The profile speaks of countries through the country package.
var (
	NormaliseCountry = country.Normalise
	CountryName      = country.Name
	Countries        = country.All
)
