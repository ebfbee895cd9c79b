package account

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/country"

	"github.com/sessionshq/sessions/internal/errs"
)

// Profile is everything a member may tell us about themselves beyond what
// sign-up asks for. Every field is optional: the zero value is an empty
// profile, and an empty string means "not given". The name is not here
// because it is required and lives on the account.
type Profile struct {
	AccountID string
	// Username is stored lower-case, so that uniqueness ignores case.
	Username string
	// Phone is in E.164 form: a plus sign and up to fifteen digits.
	Phone   string
	Company string
	Address Address
	// BirthDate is a calendar date at midnight UTC; the zero time means
	// none was given.
	BirthDate time.Time
	Gender    string
	// Country is the ISO 3166-1 alpha-2 code of the country of
	// residence. It decides the controllers and the age of digital
	// consent.
	Country   string
	City      string
	Interests []string
	LinkedIn  string
	Facebook  string
	// AvatarKey is the blob key of the profile picture.
	AvatarKey string
	// GuardianEmail is the address a confirmation link was last sent to
	// for a child account; GuardianConfirmedAt is when a parent or
	// guardian confirmed through it.
	GuardianEmail       string
	GuardianConfirmedAt *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Address is a postal address. Country is an ISO code of its own, since
// people do not always live where their post goes.
type Address struct {
	Street   string `json:"street"`
	City     string `json:"city"`
	Postcode string `json:"postcode"`
	Region   string `json:"region"`
	Country  string `json:"country"`
}

// IsZero reports whether no part of the address was given.
func (a Address) IsZero() bool { return a == Address{} }

// HasBirthDate reports whether a date of birth was given.
func (p Profile) HasBirthDate() bool { return !p.BirthDate.IsZero() }

// Limits on the profile's fields. They are generous for every script and
// tight enough that no field becomes a place to store documents.
const (
	MaxCompany      = 200
	MaxStreet       = 200
	MaxCity         = 100
	MaxPostcode     = 20
	MaxRegion       = 100
	MaxGender       = 64
	MaxInterests    = 10
	MaxInterest     = 50
	MaxProfileURL   = 300
	MinUsername     = 3
	MaxUsername     = 32
	maxPhoneDigits  = 15
	minPhoneDigits  = 7
	earliestBirthYr = 1900
)

// GenderSuggestions are offered by the form; any other text is accepted
// too, because the choice is the member's.
var GenderSuggestions = []string{"Woman", "Man", "Non-binary", "Prefer to self-describe", "Prefer not to say"}

// ProfileEdit is what the member submits: the whole editable profile,
// as typed. Fields left empty are cleared.
type ProfileEdit struct {
	Name      string   `json:"name"`
	Username  string   `json:"username"`
	Phone     string   `json:"phone"`
	Company   string   `json:"company"`
	Address   Address  `json:"address"`
	BirthDate string   `json:"birth_date"` // YYYY-MM-DD
	Gender    string   `json:"gender"`
	Country   string   `json:"country"`
	City      string   `json:"city"`
	Interests []string `json:"interests"`
	LinkedIn  string   `json:"linkedin_url"`
	Facebook  string   `json:"facebook_url"`
}

// Field names used in validation messages, in the API's JSON and as the
// form's input names, so that a message lands beside its input.
const (
	FieldName            = "name"
	FieldUsername        = "username"
	FieldPhone           = "phone"
	FieldCompany         = "company"
	FieldAddressStreet   = "address.street"
	FieldAddressCity     = "address.city"
	FieldAddressPostcode = "address.postcode"
	FieldAddressRegion   = "address.region"
	FieldAddressCountry  = "address.country"
	FieldBirthDate       = "birth_date"
	FieldGender          = "gender"
	FieldCountry         = "country"
	FieldCity            = "city"
	FieldInterests       = "interests"
	FieldLinkedIn        = "linkedin_url"
	FieldFacebook        = "facebook_url"
	FieldAvatar          = "avatar"
	FieldGuardianEmail   = "guardian_email"
)

// Clean normalises every field and checks it, on day now (for the date
// of birth). It returns the name and the profile to store, or an
// errs.Invalid error with a message per bad field. base carries what the
// form does not edit (account id, avatar, guardian) into the result.
func (e ProfileEdit) Clean(base Profile, now time.Time) (string, Profile, error) {
	v := errs.Validation{}
	name := CleanName(e.Name)
	CheckName(v, FieldName, name)

	p := base
	p.Username = cleanUsername(v, e.Username)
	p.Phone = cleanPhone(v, e.Phone)
	p.Company = cleanLine(v, FieldCompany, e.Company, MaxCompany)
	p.Address = Address{
		Street:   cleanLine(v, FieldAddressStreet, e.Address.Street, MaxStreet),
		City:     cleanLine(v, FieldAddressCity, e.Address.City, MaxCity),
		Postcode: cleanPostcode(v, e.Address.Postcode),
		Region:   cleanLine(v, FieldAddressRegion, e.Address.Region, MaxRegion),
		Country:  cleanCountry(v, FieldAddressCountry, e.Address.Country),
	}
	p.BirthDate = cleanBirthDate(v, e.BirthDate, now)
	p.Gender = cleanLine(v, FieldGender, e.Gender, MaxGender)
	p.Country = cleanCountry(v, FieldCountry, e.Country)
	p.City = cleanLine(v, FieldCity, e.City, MaxCity)
	p.Interests = cleanInterests(v, e.Interests)
	p.LinkedIn = cleanProfileURL(v, FieldLinkedIn, e.LinkedIn, "linkedin.com", "LinkedIn")
	p.Facebook = cleanProfileURL(v, FieldFacebook, e.Facebook, "facebook.com", "Facebook")
	if err := v.Err(); err != nil {
		return "", base, err
	}
	return name, p, nil
}

// cleanLine trims a one-line text field and checks its length.
func cleanLine(v errs.Validation, field, s string, limit int) string {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		v.Add(field, "must be valid text")
	case utf8.RuneCountInString(s) > limit:
		v.Add(field, "must be at most "+strconv.Itoa(limit)+" characters")
	case hasControl(s):
		v.Add(field, "must be one line without control characters")
	}
	return s
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9_.-]+$`)

// cleanUsername lower-cases a username, so "Ada" and "ada" are one name.
func cleanUsername(v errs.Validation, s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	switch n := utf8.RuneCountInString(s); {
	case n < MinUsername || n > MaxUsername:
		v.Add(FieldUsername, "must be 3 to 32 characters long")
	case !usernamePattern.MatchString(s):
		v.Add(FieldUsername, "may only use letters a to z, digits, dots, dashes and underscores")
	}
	return s
}

// phoneSeparators are what people type between digit groups.
var phoneSeparators = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "", "\u00a0", "")

var e164 = regexp.MustCompile(`^\+[1-9][0-9]+$`)

// cleanPhone turns "+40 (721) 234-567" into the E.164 "+40721234567".
// A leading 00 is the international prefix many people type instead of +.
func cleanPhone(v errs.Validation, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	n := phoneSeparators.Replace(s)
	if strings.HasPrefix(n, "00") {
		n = "+" + n[2:]
	}
	digits := len(n) - 1
	if !e164.MatchString(n) || digits < minPhoneDigits || digits > maxPhoneDigits {
		v.Add(FieldPhone, "enter the number in international form: a + and the country code, then the number, such as +40 721 234 567")
		return s
	}
	return n
}

var postcodePattern = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} -]*$`)

func cleanPostcode(v errs.Validation, s string) string {
	s = cleanLine(v, FieldAddressPostcode, s, MaxPostcode)
	if s != "" && !postcodePattern.MatchString(s) {
		v.Add(FieldAddressPostcode, "may only use letters, digits, spaces and dashes")
	}
	return s
}

func cleanCountry(v errs.Validation, field, s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	c, ok := country.Normalise(s)
	if !ok {
		v.Add(field, "choose a country from the list (a two-letter ISO code such as DE)")
		return strings.TrimSpace(s)
	}
	return c
}

// cleanBirthDate reads YYYY-MM-DD. A date in the future, or before 1900,
// is a typing mistake, not a birth date.
func cleanBirthDate(v errs.Validation, s string, now time.Time) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		v.Add(FieldBirthDate, "enter a date as YYYY-MM-DD, such as 1990-04-23")
		return time.Time{}
	}
	today := DateOf(now)
	switch {
	case d.After(today):
		v.Add(FieldBirthDate, "must not be in the future")
	case d.Year() < earliestBirthYr:
		v.Add(FieldBirthDate, "must be in 1900 or later")
	}
	return d
}

// DateOf is the calendar day of t in UTC, at midnight.
func DateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// cleanInterests trims each interest, drops empty ones and repeats
// (ignoring case), and bounds how many and how long.
func cleanInterests(v errs.Validation, in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		key := strings.ToLower(s)
		if seen[key] {
			continue
		}
		seen[key] = true
		switch {
		case !utf8.ValidString(s) || hasControl(s):
			v.Add(FieldInterests, "each interest must be one line of text")
		case utf8.RuneCountInString(s) > MaxInterest:
			v.Add(FieldInterests, "each interest must be at most "+strconv.Itoa(MaxInterest)+" characters")
		}
		out = append(out, s)
	}
	if len(out) > MaxInterests {
		v.Add(FieldInterests, "list at most "+strconv.Itoa(MaxInterests)+" interests")
	}
	return out
}

// cleanProfileURL accepts only an https link to a profile on the named
// site or one of its subdomains (www., ro., m.…): a link elsewhere, or
// one that could run script, is refused.
func cleanProfileURL(v errs.Validation, field, s, site, siteName string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	bad := func() string {
		v.Add(field, "enter the https address of your "+siteName+" profile, such as https://www."+site+"/…")
		return s
	}
	if len(s) > MaxProfileURL {
		v.Add(field, "must be at most "+strconv.Itoa(MaxProfileURL)+" characters")
		return s
	}
	if hasControl(s) || strings.ContainsAny(s, " \\") {
		return bad()
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Opaque != "" || u.User != nil || u.Port() != "" {
		return bad()
	}
	host := strings.ToLower(u.Hostname())
	if host != site && !strings.HasSuffix(host, "."+site) {
		return bad()
	}
	if strings.Trim(u.Path, "/") == "" {
		v.Add(field, "must link to a profile, not to the site's front page")
		return s
	}
	u.Host = host
	return u.String()
}

// Change is one profile field that an edit changed, with its old value,
// which is kept only long enough to hash it for the audit log.
type Change struct {
	Field string
	Old   string
}

// Changes lists, in a fixed order, the fields whose values differ
// between the old and the new name and profile.
func Changes(oldName string, old Profile, newName string, p Profile) []Change {
	var out []Change
	add := func(field, before, after string) {
		if before != after {
			out = append(out, Change{Field: field, Old: before})
		}
	}
	add(FieldName, oldName, newName)
	for _, f := range profileFields {
		add(f.name, f.get(old), f.get(p))
	}
	return out
}

// profileFields reads each stored field as text, for Changes and
// Completeness.
var profileFields = []struct {
	name string
	get  func(Profile) string
}{
	{FieldUsername, func(p Profile) string { return p.Username }},
	{FieldPhone, func(p Profile) string { return p.Phone }},
	{FieldCompany, func(p Profile) string { return p.Company }},
	{FieldAddressStreet, func(p Profile) string { return p.Address.Street }},
	{FieldAddressCity, func(p Profile) string { return p.Address.City }},
	{FieldAddressPostcode, func(p Profile) string { return p.Address.Postcode }},
	{FieldAddressRegion, func(p Profile) string { return p.Address.Region }},
	{FieldAddressCountry, func(p Profile) string { return p.Address.Country }},
	{FieldBirthDate, func(p Profile) string { return FormatDate(p.BirthDate) }},
	{FieldGender, func(p Profile) string { return p.Gender }},
	{FieldCountry, func(p Profile) string { return p.Country }},
	{FieldCity, func(p Profile) string { return p.City }},
	{FieldInterests, func(p Profile) string { return strings.Join(p.Interests, "\n") }},
	{FieldLinkedIn, func(p Profile) string { return p.LinkedIn }},
	{FieldFacebook, func(p Profile) string { return p.Facebook }},
	{FieldAvatar, func(p Profile) string { return p.AvatarKey }},
}

// FormatDate writes a date as YYYY-MM-DD, and the zero time as "".
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// OldValueDigest is what the audit log keeps of a replaced value: an
// HMAC-SHA-256 under the server's secret, bound to the field's name. A
// plain SHA-256 of a country code or a birth date could be reversed by
// trying every value; the keyed digest still lets the operator check a
// claimed old value, and reveals nothing without the secret.
func OldValueDigest(secret []byte, field, old string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("profile-old-value\x00" + field + "\x00" + old))
	return hex.EncodeToString(m.Sum(nil))
}

// AuditDetail is the audit entry's detail for a list of changes: the
// names of the fields, and for each the digest of its old value.
func AuditDetail(secret []byte, changes []Change) map[string]string {
	d := map[string]string{}
	names := make([]string, 0, len(changes))
	for _, c := range changes {
		names = append(names, c.Field)
		d["old."+c.Field] = OldValueDigest(secret, c.Field, c.Old)
	}
	d["fields"] = strings.Join(names, ",")
	return d
}

// Completeness counts the parts of the profile that are filled in, out of
// all of them, for the account page. The name always counts.
func Completeness(p Profile) (filled, total int) {
	parts := []bool{
		true, // the name
		p.Username != "",
		p.Phone != "",
		p.Company != "",
		!p.Address.IsZero(),
		p.HasBirthDate(),
		p.Gender != "",
		p.Country != "",
		len(p.Interests) > 0,
		p.LinkedIn != "" || p.Facebook != "",
		p.AvatarKey != "",
	}
	for _, ok := range parts {
		if ok {
			filled++
		}
	}
	return filled, len(parts)
}

// SplitInterests reads the form's one-line list, separated by commas or
// new lines, into the list the API takes.
func SplitInterests(s string) []string {
	return slices.DeleteFunc(strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }),
		func(s string) bool { return strings.TrimSpace(s) == "" })
}
