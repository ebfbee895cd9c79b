package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/service/orgs"
)

// Organisations (workspaces): the API under /api/orgs and /api/invitations,
// the pages under /orgs and /invitations, and the logo. routes.go wraps
// every handler here in s.member. Who may do what is decided by the
// organisations service (internal/service/orgs) inside each use case's
// transaction; the handlers decode, call it and render. The role checks
// left here only choose what a page offers. Someone who is not a member
// gets 404 for an organisation, never 403, so that ids cannot be probed.

// orgLogoBodyLimit bounds the body of a logo upload: the logo itself plus
// room for a form's multipart framing. Anything over the logo's own limit
// is refused with 413 whatever the body's size.
const orgLogoBodyLimit = org.MaxLogoBytes + 64<<10

// ---- JSON shapes ----

type orgJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Colour    string    `json:"colour"`
	LogoURL   *string   `json:"logo_url"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// orgDetailJSON is one organisation for a role that may see its DPA
// status; guests get orgJSON alone.
type orgDetailJSON struct {
	orgJSON
	// DPA is the acceptance in force, null when there is none.
	DPA *orgDPAJSON `json:"dpa"`
}

type orgPersonJSON struct {
	AccountID string `json:"account_id"`
	Name      string `json:"name"`
}

type orgDPAJSON struct {
	ID         string         `json:"id"`
	Version    string         `json:"version"`
	AcceptedAt time.Time      `json:"accepted_at"`
	AcceptedBy *orgPersonJSON `json:"accepted_by"`
}

type orgMemberJSON struct {
	AccountID string `json:"account_id"`
	Name      string `json:"name"`
	// Email is shown to those who run the membership only.
	Email    string    `json:"email,omitempty"`
	Role     string    `json:"role"`
	JoinedAt time.Time `json:"joined_at"`
}

type orgInvitationJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func newOrgJSON(o org.Organisation, role org.Role) orgJSON {
	j := orgJSON{ID: o.ID, Name: o.Name, Colour: o.Colour, Role: string(role), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	if o.LogoKey != "" {
		u := "/api/orgs/" + url.PathEscape(o.ID) + "/logo"
		j.LogoURL = &u
	}
	return j
}

func newOrgDPAJSON(d *org.DPAAcceptance) *orgDPAJSON {
	if d == nil {
		return nil
	}
	j := &orgDPAJSON{ID: d.ID, Version: d.Version, AcceptedAt: d.AcceptedAt}
	if d.AcceptedBy != "" {
		j.AcceptedBy = &orgPersonJSON{AccountID: d.AcceptedBy, Name: d.AcceptedByName}
	}
	return j
}

func newOrgMemberJSON(m org.Membership, withEmail bool) orgMemberJSON {
	j := orgMemberJSON{AccountID: m.AccountID, Name: m.Name, Role: string(m.Role), JoinedAt: m.JoinedAt}
	if withEmail {
		j.Email = m.Email
	}
	return j
}

func newOrgInvitationJSON(i org.Invitation) orgInvitationJSON {
	return orgInvitationJSON{ID: i.ID, Email: i.Email, Role: string(i.Role), CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt}
}

// ---- shared steps ----

// orgsOf is the organisations service.
func (s *Server) orgsOf() *orgs.Service { return s.Services.Orgs }

// orgUploadError maps a failed read of a logo upload, whether the raw API
// body or a form part: past the body limit is 413, anything else 400.
func orgUploadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errs.E(errs.TooLarge, "the logo is larger than 1 MB")
	}
	return errs.E(errs.Malformed, "the upload could not be read")
}

// orgUpload reads a logo upload for the service, which decides what may
// be read and when; a failed read becomes the HTTP refusal it stands for.
type orgUpload struct{ r io.Reader }

func (u orgUpload) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = orgUploadError(err)
	}
	return n, err
}

// orgServeLogo writes the organisation's logo with headers that keep it a
// picture: its sniffed type, no sniffing by the browser, a policy that
// runs nothing even if the file is opened on its own, and no embedding by
// other sites.
func (s *Server) orgServeLogo(w http.ResponseWriter, r *http.Request) error {
	logo, err := s.orgsOf().Logo(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	etag := `"` + logo.SHA256 + `"`
	h := w.Header()
	h.Set("Content-Type", logo.ContentType)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Disposition", "inline")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(logo.Bytes)
	return err
}

// ---- API ----

// apiOrgsList answers GET /api/orgs: the organisations the member belongs to.
func (s *Server) apiOrgsList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.orgsOf().Mine(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	out := struct {
		Organisations []orgJSON `json:"organisations"`
	}{Organisations: make([]orgJSON, 0, len(list))}
	for _, m := range list {
		out.Organisations = append(out.Organisations, newOrgJSON(m.Organisation, m.Role))
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// apiOrgsCreate answers POST /api/orgs.
func (s *Server) apiOrgsCreate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name   string `json:"name"`
		Colour string `json:"colour"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	o, err := s.orgsOf().Create(r.Context(), actorOf(r), in.Name, in.Colour)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/orgs/"+url.PathEscape(o.ID))
	return writeJSONNoStore(w, http.StatusCreated, orgDetailJSON{orgJSON: newOrgJSON(o, org.Owner)})
}

// apiOrgGet answers GET /api/orgs/{id}.
func (s *Server) apiOrgGet(w http.ResponseWriter, r *http.Request) error {
	d, err := s.orgsOf().Get(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	if !org.Can(d.Role, org.ViewDPA) {
		return writeJSONNoStore(w, http.StatusOK, newOrgJSON(d.Organisation, d.Role))
	}
	return writeJSONNoStore(w, http.StatusOK, orgDetailJSON{orgJSON: newOrgJSON(d.Organisation, d.Role), DPA: newOrgDPAJSON(d.DPA)})
}

// apiOrgPatch answers PATCH /api/orgs/{id}: rename or recolour; fields
// left out stay as they are, and "colour": "" removes the colour.
func (s *Server) apiOrgPatch(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name   *string `json:"name"`
		Colour *string `json:"colour"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	o, err := s.orgsOf().Update(r.Context(), actorOf(r), r.PathValue("id"), orgs.Update{Name: in.Name, Colour: in.Colour})
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newOrgJSON(o.Organisation, o.Role))
}

// apiOrgDelete answers DELETE /api/orgs/{id}.
func (s *Server) apiOrgDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.orgsOf().Delete(r.Context(), actorOf(r), r.PathValue("id"), nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiOrgLogoGet answers GET /api/orgs/{id}/logo.
func (s *Server) apiOrgLogoGet(w http.ResponseWriter, r *http.Request) error {
	return s.orgServeLogo(w, r)
}

// apiOrgLogoPut answers PUT /api/orgs/{id}/logo: the body is the image
// itself. Its type is read from its bytes, whatever Content-Type says.
func (s *Server) apiOrgLogoPut(w http.ResponseWriter, r *http.Request) error {
	o, err := s.orgsOf().SetLogo(r.Context(), actorOf(r), r.PathValue("id"), orgUpload{r.Body})
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newOrgJSON(o.Organisation, o.Role))
}

// apiOrgLogoDelete answers DELETE /api/orgs/{id}/logo.
func (s *Server) apiOrgLogoDelete(w http.ResponseWriter, r *http.Request) error {
	o, err := s.orgsOf().RemoveLogo(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newOrgJSON(o.Organisation, o.Role))
}

// apiOrgMembers answers GET /api/orgs/{id}/members. The service leaves
// out the addresses for those who may not see them.
func (s *Server) apiOrgMembers(w http.ResponseWriter, r *http.Request) error {
	list, err := s.orgsOf().Members(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := struct {
		Members []orgMemberJSON `json:"members"`
	}{Members: make([]orgMemberJSON, 0, len(list))}
	for _, m := range list {
		out.Members = append(out.Members, newOrgMemberJSON(m, true))
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// apiOrgMemberPatch answers PATCH /api/orgs/{id}/members/{accountID}.
func (s *Server) apiOrgMemberPatch(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Role string `json:"role"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, err := s.orgsOf().ChangeRole(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("accountID"), in.Role)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newOrgMemberJSON(m, true))
}

// apiOrgMemberDelete answers DELETE /api/orgs/{id}/members/{accountID};
// members may remove themselves, which is leaving.
func (s *Server) apiOrgMemberDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.orgsOf().RemoveMember(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("accountID")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiOrgLeave answers POST /api/orgs/{id}/leave.
func (s *Server) apiOrgLeave(w http.ResponseWriter, r *http.Request) error {
	if err := s.orgsOf().Leave(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiOrgInvitations answers GET /api/orgs/{id}/invitations: the open ones.
func (s *Server) apiOrgInvitations(w http.ResponseWriter, r *http.Request) error {
	list, err := s.orgsOf().Invitations(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := struct {
		Invitations []orgInvitationJSON `json:"invitations"`
	}{Invitations: make([]orgInvitationJSON, 0, len(list))}
	for _, i := range list {
		out.Invitations = append(out.Invitations, newOrgInvitationJSON(i))
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// apiOrgInvite answers POST /api/orgs/{id}/invitations. The link goes to
// the address by e-mail only; the answer never carries it.
func (s *Server) apiOrgInvite(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sent, err := s.orgsOf().Invite(r.Context(), actorOf(r), r.PathValue("id"), in.Email, in.Role)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusCreated, newOrgInvitationJSON(sent.Invitation))
}

// apiOrgInvitationDelete answers DELETE /api/orgs/{id}/invitations/{invID}.
func (s *Server) apiOrgInvitationDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.orgsOf().Revoke(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("invID")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiInvitationAccept answers POST /api/invitations/accept with {"token"}.
func (s *Server) apiInvitationAccept(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	o, m, err := s.orgsOf().Accept(r.Context(), actorOf(r), in.Token)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, struct {
		Organisation orgJSON       `json:"organisation"`
		Membership   orgMemberJSON `json:"membership"`
	}{newOrgJSON(o, m.Role), newOrgMemberJSON(m, true)})
}

// apiOrgDPA answers GET /api/orgs/{id}/dpa: the version on offer and
// every acceptance, the one in force first.
func (s *Server) apiOrgDPA(w http.ResponseWriter, r *http.Request) error {
	list, err := s.orgsOf().DPAs(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := struct {
		OfferedVersion string        `json:"offered_version"`
		Current        *orgDPAJSON   `json:"current"`
		Acceptances    []*orgDPAJSON `json:"acceptances"`
	}{OfferedVersion: org.DPAVersion, Acceptances: make([]*orgDPAJSON, 0, len(list))}
	for i := range list {
		out.Acceptances = append(out.Acceptances, newOrgDPAJSON(&list[i]))
	}
	if len(list) > 0 {
		out.Current = out.Acceptances[0]
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// apiOrgDPAAccept answers POST /api/orgs/{id}/dpa with {"version"}; the
// call itself is the owner's statement that they accept.
func (s *Server) apiOrgDPAAccept(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Version string `json:"version"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, err := s.orgsOf().AcceptDPA(r.Context(), actorOf(r), r.PathValue("id"), strings.TrimSpace(in.Version), true)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusCreated, newOrgDPAJSON(&d))
}

// ---- pages ----

// orgDone are the messages shown after a form succeeded, by the key the
// redirect carries; the key is all that travels in the address.
var orgDone = map[string]string{
	"created":      "The organisation is ready. You are its owner.",
	"saved":        "The name and colour are saved.",
	"logo":         "The new logo is saved.",
	"logo-removed": "The logo is removed.",
	"invited":      "The invitation is on its way. The link works for 7 days.",
	"revoked":      "The invitation is withdrawn; its link no longer works.",
	"role":         "The role is changed.",
	"removed":      "The member is removed from the organisation.",
	"dpa":          "The Data Processing Addendum is accepted for the organisation.",
	"joined":       "Welcome: you are now a member of this organisation.",
	"left":         "You left the organisation.",
	"deleted":      "The organisation is deleted.",
}

func orgRedirect(w http.ResponseWriter, r *http.Request, orgID, done string) {
	target := "/orgs"
	if orgID != "" {
		target += "/" + url.PathEscape(orgID)
	}
	http.Redirect(w, r, target+"?done="+url.QueryEscape(done), http.StatusSeeOther)
}

type orgListRow struct {
	ID, Name, Colour, RoleLabel string
}

type orgListView struct {
	Done     string
	Rows     []orgListRow
	Verified bool
}

// orgsPage answers GET /orgs: the member's organisations.
func (s *Server) orgsPage(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	list, err := s.orgsOf().Mine(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	v := orgListView{Done: orgDone[r.URL.Query().Get("done")], Verified: p.Verified}
	for _, m := range list {
		v.Rows = append(v.Rows, orgListRow{ID: m.ID, Name: m.Name, Colour: m.Colour, RoleLabel: m.Role.Label()})
	}
	return s.pages.render(w, r, http.StatusOK, "orgs_list", view{Title: "Organisations", Section: "account", Data: v})
}

// orgForm is one form's typed values and messages.
type orgForm struct {
	Values map[string]string
	Errors map[string]string
}

func orgFormFrom(r *http.Request, err error, fields ...string) *orgForm {
	f := &orgForm{Values: map[string]string{}, Errors: map[string]string{}}
	for _, name := range fields {
		f.Values[name] = r.PostForm.Get(name)
	}
	if e, ok := errs.As(err); ok {
		for k, msg := range e.Fields {
			f.Errors[k] = msg
		}
		if len(f.Errors) == 0 && e.Message != "" {
			f.Errors["form"] = e.Message
		}
	}
	return f
}

type orgNewView struct {
	Verified bool
	Form     *orgForm
}

// orgsNewPage answers GET /orgs/new.
func (s *Server) orgsNewPage(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	v := orgNewView{Verified: p.Verified, Form: &orgForm{Values: map[string]string{"colour": "#3347d1"}, Errors: map[string]string{}}}
	return s.pages.render(w, r, http.StatusOK, "orgs_new", view{Title: "New organisation", Section: "account", Data: v})
}

// orgsCreateForm answers POST /orgs.
func (s *Server) orgsCreateForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := readForm(r); err != nil {
		return err
	}
	o, err := s.orgsOf().Create(r.Context(), actorOf(r), r.PostForm.Get("name"), r.PostForm.Get("colour"))
	if errs.CodeOf(err) == errs.Invalid {
		v := orgNewView{Verified: p.Verified, Form: orgFormFrom(r, err, "name", "colour")}
		return s.pages.render(w, r, http.StatusUnprocessableEntity, "orgs_new", view{Title: "New organisation", Section: "account", Data: v})
	}
	if err != nil {
		return err
	}
	orgRedirect(w, r, o.ID, "created")
	return nil
}

type orgMemberRow struct {
	AccountID, Name, Email, Role, RoleLabel, Joined string
	Self                                            bool
	// Roles are the roles the viewer may give this member; empty when
	// the viewer may not change this member's role at all.
	Roles     []orgRoleOption
	CanRemove bool
}

type orgRoleOption struct {
	Value, Label string
	Selected     bool
}

type orgInvitationRow struct {
	ID, Email, RoleLabel, Expires string
}

type orgDPAView struct {
	Version, AcceptedAt, AcceptedBy string
}

type orgPageView struct {
	Org       org.Organisation
	RoleLabel string
	LogoURL   string
	Done      string
	// Problem is a refusal to show above the page, such as the last owner
	// trying to leave.
	Problem string
	Can     map[string]bool

	Members     []orgMemberRow
	Invitations []orgInvitationRow
	InviteRoles []orgRoleOption

	DPAVersion string
	DPA        *orgDPAView
	DPAHistory []orgDPAView

	Settings *orgForm
	Invite   *orgForm
	Logo     *orgForm
	Delete   *orgForm
}

// orgPageViewOf builds the organisation's page from what the service let
// the member see; the role decides only which forms and buttons it offers.
func orgPageViewOf(p *principal, d orgs.Page) *orgPageView {
	o, role := d.Organisation, d.Role
	v := &orgPageView{
		Org: o, RoleLabel: role.Label(), DPAVersion: org.DPAVersion,
		Can: map[string]bool{
			"members": org.Can(role, org.ViewMembers),
			"manage":  org.Can(role, org.ManageMembers),
			"owners":  org.Can(role, org.ManageOwners),
			"edit":    org.Can(role, org.Edit),
			"viewdpa": org.Can(role, org.ViewDPA),
			"dpa":     org.Can(role, org.AcceptDPA),
			"delete":  org.Can(role, org.Delete),
		},
		Settings: &orgForm{Values: map[string]string{"name": o.Name, "colour": o.Colour}, Errors: map[string]string{}},
		Invite:   &orgForm{Values: map[string]string{"role": string(org.Member)}, Errors: map[string]string{}},
		Logo:     &orgForm{Values: map[string]string{}, Errors: map[string]string{}},
		Delete:   &orgForm{Values: map[string]string{}, Errors: map[string]string{}},
	}
	if v.Settings.Values["colour"] == "" {
		v.Settings.Values["colour"] = "#3347d1"
	}
	if o.LogoKey != "" {
		// The key in the address changes with the logo, so a browser never
		// shows a replaced one from its cache.
		v.LogoURL = "/orgs/" + url.PathEscape(o.ID) + "/logo?v=" + url.QueryEscape(o.LogoKey[strings.LastIndexByte(o.LogoKey, '/')+1:])
	}
	for _, r := range org.Roles {
		if org.CheckInvite(role, r) == nil {
			v.InviteRoles = append(v.InviteRoles, orgRoleOption{Value: string(r), Label: r.Label()})
		}
	}
	owners := 0
	for _, m := range d.Members {
		if m.Role == org.Owner {
			owners++
		}
	}
	for _, m := range d.Members {
		row := orgMemberRow{
			AccountID: m.AccountID, Name: m.Name, Email: m.Email, Role: string(m.Role), RoleLabel: m.Role.Label(),
			Joined: m.JoinedAt.Format("2 January 2006"), Self: m.AccountID == p.AccountID,
		}
		if v.Can["manage"] {
			for _, to := range org.Roles {
				if org.CheckRoleChange(role, m.Role, to, owners) == nil {
					row.Roles = append(row.Roles, orgRoleOption{Value: string(to), Label: to.Label(), Selected: to == m.Role})
				}
			}
			if len(row.Roles) < 2 {
				row.Roles = nil
			}
			row.CanRemove = !row.Self && org.CheckRemoval(role, m.Role, owners) == nil
		}
		v.Members = append(v.Members, row)
	}
	for _, i := range d.Invitations {
		v.Invitations = append(v.Invitations, orgInvitationRow{
			ID: i.ID, Email: i.Email, RoleLabel: i.Role.Label(), Expires: i.ExpiresAt.Format("2 January 2006, 15:04 UTC"),
		})
	}
	for _, a := range d.DPAs {
		by := a.AcceptedByName
		if a.AcceptedBy == "" {
			by = "a former owner"
		}
		v.DPAHistory = append(v.DPAHistory, orgDPAView{
			Version: a.Version, AcceptedAt: a.AcceptedAt.Format("2 January 2006, 15:04 UTC"), AcceptedBy: by,
		})
	}
	if len(v.DPAHistory) > 0 {
		v.DPA = &v.DPAHistory[0]
	}
	return v
}

func (s *Server) renderOrgPage(w http.ResponseWriter, r *http.Request, status int, v *orgPageView) error {
	return s.pages.render(w, r, status, "orgs_show", view{Title: v.Org.Name, Section: "account", Data: v})
}

// orgPage answers GET /orgs/{id}.
func (s *Server) orgPage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.orgsOf().Page(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := orgPageViewOf(mustPrincipal(r), d)
	v.Done = orgDone[r.URL.Query().Get("done")]
	return s.renderOrgPage(w, r, http.StatusOK, v)
}

// orgFormResult finishes an organisation form: success goes back to the
// page with a message; a validation failure or a conflict (such as the
// last owner leaving) shows the page again with what was typed and why it
// was refused; anything else is an error page. form picks which of the
// page's forms gets the messages.
func (s *Server) orgFormResult(w http.ResponseWriter, r *http.Request, err error, done string, form func(*orgPageView, *orgForm), fields ...string) error {
	p := mustPrincipal(r)
	id := r.PathValue("id")
	if err == nil {
		orgRedirect(w, r, id, done)
		return nil
	}
	code := errs.CodeOf(err)
	if code != errs.Invalid && code != errs.Conflict && code != errs.TooLarge && code != errs.Unsupported && code != errs.RateLimited {
		return err
	}
	d, lerr := s.orgsOf().Page(r.Context(), actorOf(r), id)
	if errs.CodeOf(lerr) == errs.NotFound {
		// The change went through far enough to end the membership, or
		// the organisation is gone: nothing to show again.
		return err
	}
	if lerr != nil {
		return lerr
	}
	v := orgPageViewOf(p, d)
	f := orgFormFrom(r, err, fields...)
	if form != nil {
		form(v, f)
	}
	if e, ok := errs.As(err); ok && (form == nil || len(e.Fields) == 0) {
		v.Problem = sentence(e.Message)
	}
	status := statusOf[code]
	setRetryAfter(w, err)
	return s.renderOrgPage(w, r, status, v)
}

// orgSettingsForm answers POST /orgs/{id}/settings: name and colour.
func (s *Server) orgSettingsForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	name, colour := r.PostForm.Get("name"), r.PostForm.Get("colour")
	_, err := s.orgsOf().Update(r.Context(), actorOf(r), r.PathValue("id"), orgs.Update{Name: &name, Colour: &colour})
	return s.orgFormResult(w, r, err, "saved", func(v *orgPageView, f *orgForm) { v.Settings = f }, "name", "colour")
}

// orgLogoForm answers POST /orgs/{id}/logo, a multipart form with the
// file in "logo".
func (s *Server) orgLogoForm(w http.ResponseWriter, r *http.Request) error {
	_, err := s.orgsOf().SetLogo(r.Context(), actorOf(r), r.PathValue("id"), &orgLogoPart{r: r})
	if e, ok := errs.As(err); ok && len(e.Fields) == 0 && (e.Code == errs.TooLarge || e.Code == errs.Unsupported || e.Code == errs.Invalid) {
		err = &errs.Error{Code: e.Code, Message: e.Message, Fields: map[string]string{"logo": e.Message}}
	}
	return s.orgFormResult(w, r, err, "logo", func(v *orgPageView, f *orgForm) { v.Logo = f })
}

// orgLogoPart reads the "logo" file of a multipart form, streaming,
// without spilling anything to disk. It looks for the part only when the
// service first reads, so that nothing of the upload is read for a
// request the service refuses. A form without the part reads as empty.
type orgLogoPart struct {
	r    *http.Request
	part io.ReadCloser
	err  error
}

func (l *orgLogoPart) Read(p []byte) (int, error) {
	if l.part == nil && l.err == nil {
		l.part, l.err = orgFindLogoPart(l.r)
	}
	if l.err != nil {
		return 0, l.err
	}
	return orgUpload{l.part}.Read(p)
}

// orgFindLogoPart finds the "logo" file in a multipart form; io.EOF when
// there is none.
func orgFindLogoPart(r *http.Request) (io.ReadCloser, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, errs.E(errs.Unsupported, "the logo must be sent as a file upload form")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errs.E(errs.Malformed, "the upload could not be read")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if err != nil {
			return nil, orgUploadError(err)
		}
		if part.FormName() == "logo" {
			return part, nil
		}
		part.Close()
	}
}

// orgLogoRemoveForm answers POST /orgs/{id}/logo/remove.
func (s *Server) orgLogoRemoveForm(w http.ResponseWriter, r *http.Request) error {
	_, err := s.orgsOf().RemoveLogo(r.Context(), actorOf(r), r.PathValue("id"))
	return s.orgFormResult(w, r, err, "logo-removed", nil)
}

// orgInviteForm answers POST /orgs/{id}/invitations.
func (s *Server) orgInviteForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	_, err := s.orgsOf().Invite(r.Context(), actorOf(r), r.PathValue("id"), r.PostForm.Get("email"), r.PostForm.Get("role"))
	return s.orgFormResult(w, r, err, "invited", func(v *orgPageView, f *orgForm) { v.Invite = f }, "email", "role")
}

// orgRevokeForm answers POST /orgs/{id}/invitations/{invID}/revoke.
func (s *Server) orgRevokeForm(w http.ResponseWriter, r *http.Request) error {
	err := s.orgsOf().Revoke(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("invID"))
	return s.orgFormResult(w, r, err, "revoked", nil)
}

// orgRoleForm answers POST /orgs/{id}/members/{accountID}/role.
func (s *Server) orgRoleForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	_, err := s.orgsOf().ChangeRole(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("accountID"), r.PostForm.Get("role"))
	return s.orgFormResult(w, r, err, "role", nil)
}

// orgRemoveForm answers POST /orgs/{id}/members/{accountID}/remove.
func (s *Server) orgRemoveForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	target := r.PathValue("accountID")
	err := s.orgsOf().RemoveMember(r.Context(), actorOf(r), r.PathValue("id"), target)
	if err == nil && target == p.AccountID {
		orgRedirect(w, r, "", "left")
		return nil
	}
	return s.orgFormResult(w, r, err, "removed", nil)
}

// orgLeaveForm answers POST /orgs/{id}/leave.
func (s *Server) orgLeaveForm(w http.ResponseWriter, r *http.Request) error {
	err := s.orgsOf().Leave(r.Context(), actorOf(r), r.PathValue("id"))
	if err == nil {
		orgRedirect(w, r, "", "left")
		return nil
	}
	return s.orgFormResult(w, r, err, "", nil)
}

// orgDPAForm answers POST /orgs/{id}/dpa.
func (s *Server) orgDPAForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	_, err := s.orgsOf().AcceptDPA(r.Context(), actorOf(r), r.PathValue("id"), r.PostForm.Get("version"), r.PostForm.Get("confirm") != "")
	return s.orgFormResult(w, r, err, "dpa", func(v *orgPageView, f *orgForm) {
		if len(f.Errors) > 0 {
			v.Problem = "The addendum was not accepted: " + strings.Join(orgMessages(f.Errors), "; ") + "."
		}
	})
}

// orgDeleteForm answers POST /orgs/{id}/delete; the name must be typed
// again, so that a slip of the mouse deletes nothing.
func (s *Server) orgDeleteForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	confirm := r.PostForm.Get("confirm_name")
	err := s.orgsOf().Delete(r.Context(), actorOf(r), r.PathValue("id"), &confirm)
	if errs.CodeOf(err) == errs.Invalid {
		return s.orgFormResult(w, r, err, "", func(v *orgPageView, f *orgForm) { v.Delete = f }, "confirm_name")
	}
	if err != nil {
		return err
	}
	orgRedirect(w, r, "", "deleted")
	return nil
}

func orgMessages(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range []string{"version", "confirm", "form"} {
		if msg, ok := m[k]; ok {
			out = append(out, msg)
		}
	}
	return out
}

// orgLogoPage answers GET /orgs/{id}/logo.
func (s *Server) orgLogoPage(w http.ResponseWriter, r *http.Request) error {
	return s.orgServeLogo(w, r)
}

type orgInvitationView struct {
	Token     string
	OrgName   string
	RoleLabel string
	Email     string
	Expires   string
	Member    string // the signed-in member's address, who will join
	// OtherAddress is true when the invitation went to an address that
	// is not the signed-in account's: only that address's account may
	// accept it.
	OtherAddress bool
}

// invitationPage answers GET /invitations/{token}: what the invitation is
// for, and a button to accept it with the signed-in account. A link that
// does not work is "not found", whatever the reason.
func (s *Server) invitationPage(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	token := r.PathValue("token")
	inv, o, err := s.orgsOf().Invitation(r.Context(), actorOf(r), token)
	if errs.CodeOf(err) == errs.Invalid {
		return s.deadLink(w, r, linkInvitation, errs.E(errs.NotFound, "the invitation is not valid any more"))
	}
	if err != nil {
		return err
	}
	// The page carries the token in a form; it must not reach anyone else
	// through a referrer or a cache.
	w.Header().Set("Referrer-Policy", "no-referrer")
	v := orgInvitationView{
		Token: token, OrgName: o.Name, RoleLabel: inv.Role.Label(), Email: inv.Email,
		Expires: inv.ExpiresAt.Format("2 January 2006, 15:04 UTC"), Member: p.Email,
		OtherAddress: !strings.EqualFold(inv.Email, p.Email),
	}
	return s.pages.render(w, r, http.StatusOK, "orgs_invitation", view{Title: "Invitation", Section: "account", Data: v})
}

// invitationAcceptForm answers POST /invitations/accept.
func (s *Server) invitationAcceptForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	o, _, err := s.orgsOf().Accept(r.Context(), actorOf(r), r.PostForm.Get("token"))
	if err != nil {
		return err
	}
	orgRedirect(w, r, o.ID, "joined")
	return nil
}
