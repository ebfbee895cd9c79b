package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/country"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/service/accounts"
)

// The member area: the dashboard at /account, the profile (the
// self-service side of rectification), the profile picture, the
// confirmation of a child account by a parent or guardian, deactivation
// and "delete my account". Pages and the JSON API share the flows below.

// Profile pictures are checked by account.CheckAvatar and stored as blobs
// of this kind.
const (
	avatarMaxBytes = account.MaxAvatarBytes
	avatarKind     = "avatar"
	// avatarFormLimit leaves room around the picture for the multipart
	// envelope and the form's other fields.
	avatarFormLimit = avatarMaxBytes + 64<<10
)

// memberView is everything the member area shows about the signed-in
// member; the dashboard and GET /api/me/profile are built from it.
type memberView struct{ accounts.MemberView }

// loadMember reads the member's account and profile and what follows
// from them.
func (s *Server) loadMember(ctx context.Context, accountID string) (memberView, error) {
	v, err := s.Services.Accounts.Member(ctx, accountID)
	return memberView{v}, err
}

// ---- the JSON shape of the profile ----

// profileJSON is the body of GET and PUT /api/me/profile. Absent optional
// fields are empty strings (or an empty list), never missing, so clients
// see the whole shape.
type profileJSON struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	Email         string          `json:"email"`
	EmailVerified bool            `json:"email_verified"`
	Status        account.Status  `json:"status"`
	Username      string          `json:"username"`
	Phone         string          `json:"phone"`
	Company       string          `json:"company"`
	Address       account.Address `json:"address"`
	BirthDate     string          `json:"birth_date"`
	Gender        string          `json:"gender"`
	Country       string          `json:"country"`
	City          string          `json:"city"`
	Interests     []string        `json:"interests"`
	LinkedIn      string          `json:"linkedin_url"`
	Facebook      string          `json:"facebook_url"`
	// AvatarURL is where the member fetches their picture, "" without one.
	AvatarURL           string                   `json:"avatar_url"`
	GuardianEmail       string                   `json:"guardian_email"`
	GuardianConfirmedAt *time.Time               `json:"guardian_confirmed_at"`
	Controllers         []account.Controller     `json:"controllers"`
	Restrictions        account.Restrictions     `json:"restrictions"`
	Completeness        completenessJSON         `json:"completeness"`
	Requests            []account.AccountRequest `json:"requests"`
	// Changed lists the fields a PUT changed; absent on GET.
	Changed *[]string `json:"changed,omitempty"`
}

type completenessJSON struct {
	Filled int `json:"filled"`
	Total  int `json:"total"`
}

func (v memberView) json() profileJSON {
	p := v.Profile
	out := profileJSON{
		ID: v.Account.ID, Name: v.Account.Name, Email: v.Account.Email, EmailVerified: v.Account.Verified(),
		Status: v.Account.Status, Username: p.Username, Phone: p.Phone, Company: p.Company, Address: p.Address,
		BirthDate: account.FormatDate(p.BirthDate), Gender: p.Gender, Country: p.Country, City: p.City,
		Interests: p.Interests, LinkedIn: p.LinkedIn, Facebook: p.Facebook,
		GuardianEmail: p.GuardianEmail, GuardianConfirmedAt: p.GuardianConfirmedAt,
		Controllers: v.Controllers, Restrictions: v.Restrictions,
		Completeness: completenessJSON{v.Filled, v.Total}, Requests: v.Requests,
	}
	if out.Interests == nil {
		out.Interests = []string{}
	}
	if out.Requests == nil {
		out.Requests = []account.AccountRequest{}
	}
	if p.AvatarKey != "" {
		out.AvatarURL = "/api/me/avatar"
	}
	return out
}

// ---- the dashboard ----

// accountData is what account.html shows.
type accountData struct {
	memberView
	CountryName string
	Percent     int
	Notice      string // a one-line confirmation after an action
	// GuardianValue and GuardianError re-show the guardian form after a
	// refused address.
	GuardianValue string
	GuardianError string
}

// notices are the confirmations the dashboard shows after a redirect,
// by the ?done= key, so that no text travels in the address.
var notices = map[string]string{
	"profile":  "Your profile was saved.",
	"avatar":   "Your picture was saved.",
	"noavatar": "Your picture was removed.",
	"guardian": "We sent the confirmation link. It works for seven days.",
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderAccount(w, r, http.StatusOK, accountData{Notice: notices[r.URL.Query().Get("done")]})
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, d accountData) error {
	p := mustPrincipal(r)
	v, err := s.loadMember(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	d.memberView = v
	if v.Profile.Country != "" {
		d.CountryName = country.Name(v.Profile.Country)
	}
	d.Percent = v.Filled * 100 / v.Total
	return s.pages.render(w, r, status, "account", view{Title: "My account", Section: "account", Data: d})
}

// ---- the profile ----

// profileGet is GET /api/me/profile.
func (s *Server) profileGet(w http.ResponseWriter, r *http.Request) error {
	v, err := s.loadMember(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, v.json())
}

// profilePut is PUT /api/me/profile: the body replaces every editable
// field, so a field left out is cleared. The name is required.
func (s *Server) profilePut(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	var edit account.ProfileEdit
	if err := decodeJSON(r, &edit); err != nil {
		return err
	}
	changed, err := s.saveProfile(r.Context(), p, edit)
	if err != nil {
		return err
	}
	v, err := s.loadMember(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	out := v.json()
	if changed == nil {
		changed = []string{}
	}
	out.Changed = &changed
	return writeJSONNoStore(w, http.StatusOK, out)
}

func (s *Server) saveProfile(ctx context.Context, p *principal, edit account.ProfileEdit) ([]string, error) {
	return s.Services.Accounts.SaveProfile(ctx, p.AccountID, edit)
}

// profilePage is GET /account/profile, the form.
func (s *Server) profilePage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.loadMember(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	return s.renderProfileForm(w, r, http.StatusOK, v, editOf(v), nil)
}

// profileForm is POST /account/profile. A refused form is shown again
// with what was typed and a message beside each bad field.
func (s *Server) profileForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := readForm(r); err != nil {
		return err
	}
	f := r.PostForm
	edit := account.ProfileEdit{
		Name: f.Get(account.FieldName), Username: f.Get(account.FieldUsername), Phone: f.Get(account.FieldPhone),
		Company: f.Get(account.FieldCompany),
		Address: account.Address{
			Street: f.Get(account.FieldAddressStreet), City: f.Get(account.FieldAddressCity),
			Postcode: f.Get(account.FieldAddressPostcode), Region: f.Get(account.FieldAddressRegion),
			Country: f.Get(account.FieldAddressCountry),
		},
		BirthDate: f.Get(account.FieldBirthDate), Gender: f.Get(account.FieldGender), Country: f.Get(account.FieldCountry),
		City: f.Get(account.FieldCity), Interests: account.SplitInterests(f.Get(account.FieldInterests)),
		LinkedIn: f.Get(account.FieldLinkedIn), Facebook: f.Get(account.FieldFacebook),
	}
	_, err := s.saveProfile(r.Context(), p, edit)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid && len(e.Fields) > 0 {
		v, lerr := s.loadMember(r.Context(), p.AccountID)
		if lerr != nil {
			return lerr
		}
		typed := edit
		typed.Interests = []string{f.Get(account.FieldInterests)}
		return s.renderProfileForm(w, r, http.StatusUnprocessableEntity, v, typed, e.Fields)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account?done=profile", http.StatusSeeOther)
	return nil
}

// editOf fills the form from the stored profile, the interests joined
// into the one line the form edits.
func editOf(v memberView) account.ProfileEdit {
	p := v.Profile
	return account.ProfileEdit{
		Name: v.Account.Name, Username: p.Username, Phone: p.Phone, Company: p.Company, Address: p.Address,
		BirthDate: account.FormatDate(p.BirthDate), Gender: p.Gender, Country: p.Country, City: p.City,
		Interests: []string{strings.Join(p.Interests, ", ")}, LinkedIn: p.LinkedIn, Facebook: p.Facebook,
	}
}

// formField is one input of the profile form.
type formField struct {
	Name         string // the form's field name, also the API's
	ID           string
	Label        string
	Type         string // text, tel, date, url, email or select
	Value        string
	Hint         string
	Error        string
	Required     bool
	MaxLength    int
	Autocomplete string
	List         string // id of a datalist of suggestions
	Options      []country.Country
}

// Described is the ids the input's aria-describedby names.
func (f formField) Described() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

type fieldGroup struct {
	Legend string
	Hint   string
	Fields []formField
}

type profileFormData struct {
	Groups  []fieldGroup
	Errors  map[string]string
	Genders []string
	// Avatar says whether a picture is set; AvatarError explains a
	// refused upload.
	Avatar      bool
	AvatarError string
	Version     string // changes with the picture, so browsers refetch it
	// TimeZone is the zone meeting times are shown in, "" while none is
	// known (its own form, timeZoneForm).
	TimeZone string
}

// zoneName is a member's time zone for a form: "" while none is known.
func zoneName(loc *time.Location, known bool) string {
	if !known {
		return ""
	}
	return loc.String()
}

// renderProfileForm shows the form filled with e, which holds text as the
// form shows it: Interests has one entry, the whole line as typed.
func (s *Server) renderProfileForm(w http.ResponseWriter, r *http.Request, status int, v memberView, e account.ProfileEdit, fieldErrs map[string]string) error {
	countries := country.All()
	field := func(name, label, typ, value, hint string, max int, autocomplete string) formField {
		return formField{Name: name, ID: "f-" + strings.ReplaceAll(name, ".", "-"), Label: label, Type: typ, Value: value,
			Hint: hint, Error: fieldErrs[name], MaxLength: max, Autocomplete: autocomplete}
	}
	name := field(account.FieldName, "Name", "text", e.Name, "How you appear to others in meetings.", account.MaxNameLength, "name")
	name.Required = true
	gender := field(account.FieldGender, "Gender", "text", e.Gender, "In your own words; pick a suggestion or type anything.", account.MaxGender, "sex")
	gender.List = "gender-suggestions"
	country := field(account.FieldCountry, "Country of residence", "select", e.Country,
		"Decides which companies are responsible for your data and the age at which you may consent on your own.", 0, "country")
	country.Options = countries
	addrCountry := field(account.FieldAddressCountry, "Country", "select", e.Address.Country, "", 0, "country")
	addrCountry.Options = countries
	interests := ""
	if len(e.Interests) > 0 {
		interests = e.Interests[0]
	}
	loc, known, err := s.Services.Accounts.TimeZone(r.Context(), v.Account.ID)
	if err != nil {
		return err
	}
	d := profileFormData{
		Errors:   fieldErrs,
		Genders:  account.GenderSuggestions,
		Avatar:   v.Profile.AvatarKey != "",
		Version:  strconv.FormatInt(v.Profile.UpdatedAt.Unix(), 36),
		TimeZone: zoneName(loc, known),
		Groups: []fieldGroup{
			{Legend: "About you", Fields: []formField{
				name,
				field(account.FieldUsername, "User name", "text", e.Username, "3 to 32 letters a to z, digits, dots, dashes or underscores; unique.", account.MaxUsername, "username"),
				field(account.FieldBirthDate, "Date of birth", "date", e.BirthDate, "Used to check your age: below the age of digital consent where you live, a parent or guardian must confirm some features.", 0, "bday"),
				gender,
			}},
			{Legend: "Contact and work", Fields: []formField{
				field(account.FieldPhone, "Phone", "tel", e.Phone, "In international form, such as +40 721 234 567.", 32, "tel"),
				field(account.FieldCompany, "Company", "text", e.Company, "", account.MaxCompany, "organization"),
			}},
			{Legend: "Postal address", Hint: "All parts are optional.", Fields: []formField{
				field(account.FieldAddressStreet, "Street and number", "text", e.Address.Street, "", account.MaxStreet, "street-address"),
				field(account.FieldAddressCity, "Town or city", "text", e.Address.City, "", account.MaxCity, "address-level2"),
				field(account.FieldAddressPostcode, "Postcode", "text", e.Address.Postcode, "", account.MaxPostcode, "postal-code"),
				field(account.FieldAddressRegion, "Region or state", "text", e.Address.Region, "", account.MaxRegion, "address-level1"),
				addrCountry,
			}},
			{Legend: "Where you live", Fields: []formField{
				country,
				field(account.FieldCity, "City", "text", e.City, "", account.MaxCity, "off"),
			}},
			{Legend: "Interests and professional profiles", Fields: []formField{
				field(account.FieldInterests, "Interests", "text", interests, "Up to 10, separated by commas, such as design, hiking.", 0, "off"),
				field(account.FieldLinkedIn, "LinkedIn profile", "url", e.LinkedIn, "An https address on linkedin.com.", account.MaxProfileURL, "url"),
				field(account.FieldFacebook, "Facebook profile", "url", e.Facebook, "An https address on facebook.com.", account.MaxProfileURL, "url"),
			}},
		},
	}
	if msg, ok := fieldErrs[account.FieldAvatar]; ok {
		d.AvatarError = msg
	}
	return s.pages.render(w, r, status, "account_profile", view{Title: "Edit your profile", Section: "account", Data: d})
}

// ---- the profile picture ----

// avatarForm is POST /account/avatar, a multipart form with the file in
// "avatar".
func (s *Server) avatarForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	file, _, err := r.FormFile(account.FieldAvatar)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errs.E(errs.TooLarge, "the picture is larger than 2 MB")
	case errors.Is(err, http.ErrMissingFile):
		return s.avatarRefused(w, r, p, "choose a PNG, JPEG or WebP picture to upload")
	case err != nil:
		return errs.E(errs.Malformed, "the form could not be read")
	}
	defer file.Close()
	err = s.putAvatar(r.Context(), p, file)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.avatarRefused(w, r, p, e.Fields[account.FieldAvatar])
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account?done=avatar", http.StatusSeeOther)
	return nil
}

func (s *Server) avatarRefused(w http.ResponseWriter, r *http.Request, p *principal, msg string) error {
	v, err := s.loadMember(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	return s.renderProfileForm(w, r, http.StatusUnprocessableEntity, v, editOf(v), map[string]string{account.FieldAvatar: msg})
}

// avatarRemoveForm is POST /account/avatar/remove.
func (s *Server) avatarRemoveForm(w http.ResponseWriter, r *http.Request) error {
	if err := s.removeAvatar(r.Context(), mustPrincipal(r)); err != nil {
		return err
	}
	http.Redirect(w, r, "/account?done=noavatar", http.StatusSeeOther)
	return nil
}

// avatarPut is PUT /api/me/avatar with the picture as the raw body.
func (s *Server) avatarPut(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := s.putAvatar(r.Context(), p, r.Body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errs.E(errs.TooLarge, "the picture is larger than 2 MB")
		}
		return err
	}
	return s.profileGet(w, r)
}

// avatarDelete is DELETE /api/me/avatar.
func (s *Server) avatarDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.removeAvatar(r.Context(), mustPrincipal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// putAvatar makes the uploaded picture the member's (the service checks
// it by its content).
func (s *Server) putAvatar(ctx context.Context, p *principal, body io.Reader) error {
	return s.Services.Accounts.SetAvatar(ctx, p.AccountID, body)
}

func (s *Server) removeAvatar(ctx context.Context, p *principal) error {
	return s.Services.Accounts.RemoveAvatar(ctx, p.AccountID)
}

// avatarGet serves the signed-in member's own picture (GET /account/avatar
// and GET /api/me/avatar). The type is one of the three sniffed at upload;
// the response may not be rendered as anything else, run script or be
// kept in shared caches.
func (s *Server) avatarGet(w http.ResponseWriter, r *http.Request) error {
	pic, err := s.Services.Accounts.Avatar(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	data := pic.Data
	h := w.Header()
	h.Set("Content-Type", pic.ContentType)
	h.Set("Content-Disposition", `inline; filename="avatar.`+pic.Ext+`"`)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, err = w.Write(data)
	return err
}

// ---- a parent's or guardian's confirmation ----

// askGuardian sends a parent or guardian the link that confirms a child
// account.
func (s *Server) askGuardian(ctx context.Context, w http.ResponseWriter, p *principal, email string) error {
	return s.Services.Accounts.AskGuardian(ctx, p.AccountID, email)
}

// guardianForm is POST /account/guardian.
func (s *Server) guardianForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	email := r.PostForm.Get(account.FieldGuardianEmail)
	err := s.askGuardian(r.Context(), w, mustPrincipal(r), email)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid && e.Fields[account.FieldGuardianEmail] != "" {
		return s.renderAccount(w, r, http.StatusUnprocessableEntity, accountData{GuardianValue: email, GuardianError: e.Fields[account.FieldGuardianEmail]})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account?done=guardian", http.StatusSeeOther)
	return nil
}

// guardianAPI is POST /api/me/guardian {"guardian_email": "…"}.
func (s *Server) guardianAPI(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		GuardianEmail string `json:"guardian_email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.askGuardian(r.Context(), w, mustPrincipal(r), in.GuardianEmail); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
}

// guardianData is what account_guardian.html shows.
type guardianData struct {
	Token     string
	ChildName string
	Notice    []string
	Version   string
	Confirmed bool
}

// guardianPage is GET /guardian/confirm?token=…: what the guardian would
// agree to, and the button that agrees. Opening it changes nothing, so a
// mail scanner that follows the link confirms nothing.
func (s *Server) guardianPage(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	child, err := s.Services.Accounts.GuardianLink(r.Context(), token)
	if err != nil {
		return err
	}
	return s.pages.render(w, r, http.StatusOK, "account_guardian", view{
		Title: "Confirm a young person's account",
		Data:  guardianData{Token: token, ChildName: child, Notice: account.GuardianNotice(), Version: account.GuardianNoticeVersion},
	})
}

// guardianConfirm is POST /guardian/confirm: it spends the link and stores
// the consent evidence, naming the version and digest of the very text
// the page showed.
func (s *Server) guardianConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	child, err := s.Services.Accounts.ConfirmGuardian(r.Context(), r.PostForm.Get("token"))
	if err != nil {
		return err
	}
	return s.pages.render(w, r, http.StatusOK, "account_guardian", view{
		Title: "Thank you",
		Data:  guardianData{ChildName: child, Confirmed: true},
	})
}

// ---- deactivation and deletion ----

// closeData is what account_close.html shows: the choices before, or
// what happened after (Done is "deactivated" or "deleted").
type closeData struct {
	Grace  int // days
	Errors map[string]string
	Done   string
}

func (s *Server) graceDays() int { return s.Services.Accounts.GraceDays() }

// closePage is GET /account/close: deactivation and deletion, explained.
func (s *Server) closePage(w http.ResponseWriter, r *http.Request) error {
	return s.renderClose(w, r, http.StatusOK, closeData{})
}

func (s *Server) renderClose(w http.ResponseWriter, r *http.Request, status int, d closeData) error {
	d.Grace = s.graceDays()
	title := "Deactivate or delete your account"
	switch d.Done {
	case "deactivated":
		title = "Your account is deactivated"
	case "deleted":
		title = "Your account will be deleted"
	}
	return s.pages.render(w, r, status, "account_close", view{Title: title, Section: "account", Data: d})
}

// confirmed checks the "I understand" box of a closing form.
func confirmed(r *http.Request) bool {
	return r.PostForm.Get("confirm") == "yes"
}

// deactivateForm is POST /account/deactivate.
func (s *Server) deactivateForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	if !confirmed(r) {
		return s.renderClose(w, r, http.StatusUnprocessableEntity, closeData{Errors: map[string]string{"deactivate": "tick the box to confirm"}})
	}
	if _, err := s.Services.Accounts.Deactivate(r.Context(), mustPrincipal(r).AccountID); err != nil {
		return err
	}
	s.clearCookie(w, s.sessionCookie())
	http.Redirect(w, r, "/account/closed?done=deactivated", http.StatusSeeOther)
	return nil
}

// closedPage is GET /account/closed, where a member lands, signed out,
// after deactivating or deleting their account. It shows no personal
// data, so it needs no sign-in.
func (s *Server) closedPage(w http.ResponseWriter, r *http.Request) error {
	done := r.URL.Query().Get("done")
	if done != "deactivated" && done != "deleted" {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return nil
	}
	return s.renderClose(w, r, http.StatusOK, closeData{Done: done})
}

// deactivateAPI is POST /api/me/deactivate.
func (s *Server) deactivateAPI(w http.ResponseWriter, r *http.Request) error {
	until, err := s.Services.Accounts.Deactivate(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"status": account.Deactivated, "reactivate_before": until})
}

func (s *Server) requestErasure(ctx context.Context, p *principal) (account.AccountRequest, error) {
	return s.Services.Accounts.RequestErasure(ctx, p.AccountID)
}

// deleteForm is POST /account/delete, "Delete my account".
func (s *Server) deleteForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	if !confirmed(r) {
		return s.renderClose(w, r, http.StatusUnprocessableEntity, closeData{Errors: map[string]string{"delete": "tick the box to confirm"}})
	}
	if _, err := s.requestErasure(r.Context(), mustPrincipal(r)); err != nil {
		return err
	}
	s.clearCookie(w, s.sessionCookie())
	http.Redirect(w, r, "/account/closed?done=deleted", http.StatusSeeOther)
	return nil
}

// erasureAPI is POST /api/me/erasure.
func (s *Server) erasureAPI(w http.ResponseWriter, r *http.Request) error {
	req, err := s.requestErasure(r.Context(), mustPrincipal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, req)
}
