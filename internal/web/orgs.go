package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/store"
)

// Organisations (workspaces): the API under /api/orgs and /api/invitations,
// the pages under /orgs and /invitations, and the logo. routes.go wraps
// every handler here in s.member. The rules of who may do what live in
// internal/org and are applied again inside each store transaction; the
// checks here come first only so that nothing is read or stored for a
// request that will be refused. Someone who is not a member gets 404 for
// an organisation, never 403, so that ids cannot be probed.

// orgLogoBodyLimit bounds the body of a logo upload: the logo itself plus
// room for a form's multipart framing. Anything over the logo's own limit
// is refused with 413 whatever the body's size.
const orgLogoBodyLimit = org.MaxLogoBytes + 64<<10

// orgLogoKind is the blob kind of logos.
const orgLogoKind = "org-logo"

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

// orgFor loads the organisation in the path for the signed-in member and
// checks that their role allows action.
func (s *Server) orgFor(r *http.Request, action org.Action) (*principal, org.Organisation, org.Role, error) {
	p := mustPrincipal(r)
	o, role, err := store.OrganisationFor(r.Context(), s.DB, r.PathValue("id"), p.AccountID)
	if err != nil {
		return p, org.Organisation{}, "", err
	}
	if err := org.Require(role, action); err != nil {
		return p, o, role, err
	}
	return p, o, role, nil
}

// orgCreate validates and creates an organisation owned by p.
func (s *Server) orgCreate(ctx context.Context, p *principal, name, colour string) (org.Organisation, error) {
	if !p.Verified {
		return org.Organisation{}, errs.E(errs.Forbidden, "confirm your e-mail address before you create an organisation")
	}
	v := errs.Validation{}
	name = org.CheckName(v, "name", name)
	colour = org.CheckColour(v, "colour", colour)
	if err := v.Err(); err != nil {
		return org.Organisation{}, err
	}
	o, err := store.CreateOrganisation(ctx, s.DB, s.Secret, s.Clock.Now(), p.AccountID, name, colour)
	if err == nil {
		s.Log.LogAttrs(ctx, slog.LevelInfo, "organisation created", slog.String("organisation", o.ID))
	}
	return o, err
}

// orgInvite validates and sends an invitation, then asks for the e-mail's
// delivery once the invitation has committed.
func (s *Server) orgInvite(ctx context.Context, p *principal, orgID, email, role string) (org.Invitation, error) {
	v := errs.Validation{}
	email = org.CheckEmail(v, "email", email)
	r := org.CheckRole(v, "role", role)
	if err := v.Err(); err != nil {
		return org.Invitation{}, err
	}
	compose := func(o org.Organisation, inviter string, inv org.Invitation, token string) mail.Message {
		return org.InvitationMail(o, inviter, inv, s.Config.BaseURL+"/invitations/"+token)
	}
	sent, err := store.Invite(ctx, s.DB, s.Secret, s.Clock.Now(), p.AccountID, orgID, email, r, compose)
	if err != nil {
		return org.Invitation{}, err
	}
	if s.Mail != nil {
		s.Mail.Dispatch(ctx, sent.MailID)
	}
	return sent.Invitation, nil
}

// orgUploadError maps a failed read of a logo upload, whether the raw API
// body or a form part: past the body limit is 413, anything else 400.
func orgUploadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errs.E(errs.TooLarge, "the logo is larger than 1 MB")
	}
	return errs.E(errs.Malformed, "the upload could not be read")
}

// orgNoLogoError is the refusal of an upload that holds no image, tied to
// the logo field so the form can show it there.
func orgNoLogoError() error {
	return &errs.Error{Code: errs.Invalid, Message: "no image was sent",
		Fields: map[string]string{"logo": "choose a PNG, JPEG or WebP image"}}
}

// orgReadLogo reads an uploaded logo and decides what it is from its
// bytes. Too large gives 413, a type we do not take 415, nothing at all
// 422.
func orgReadLogo(r io.Reader) ([]byte, string, error) {
	b, err := io.ReadAll(io.LimitReader(r, org.MaxLogoBytes+1))
	if err != nil {
		return nil, "", orgUploadError(err)
	}
	if len(b) == 0 {
		return nil, "", orgNoLogoError()
	}
	ct, err := org.SniffLogo(b)
	if err != nil {
		return nil, "", err
	}
	return b, ct, nil
}

// orgStoreLogo stores the logo's bytes and points the organisation at
// them; the logo it replaces is deleted after the change commits, and the
// new blob is deleted again if the change fails.
func (s *Server) orgStoreLogo(ctx context.Context, p *principal, orgID string, b []byte, ct string) (org.Organisation, error) {
	if s.Blobs == nil {
		return org.Organisation{}, errs.E(errs.Unavailable, "file storage is not available")
	}
	info, err := s.Blobs.Put(ctx, blob.PutInput{Kind: orgLogoKind, ContentType: ct, MaxBytes: org.MaxLogoBytes}, bytes.NewReader(b))
	if err != nil {
		return org.Organisation{}, err
	}
	o, old, err := store.SetOrganisationLogo(ctx, s.DB, s.Secret, s.Clock.Now(), p.AccountID, orgID, info.Key)
	if err != nil {
		s.orgDeleteBlob(ctx, info.Key)
		return org.Organisation{}, err
	}
	s.orgDeleteBlob(ctx, old)
	return o, nil
}

// orgRemoveLogo takes the logo away and deletes its blob.
func (s *Server) orgRemoveLogo(ctx context.Context, p *principal, orgID string) (org.Organisation, error) {
	o, old, err := store.SetOrganisationLogo(ctx, s.DB, s.Secret, s.Clock.Now(), p.AccountID, orgID, "")
	if err != nil {
		return org.Organisation{}, err
	}
	s.orgDeleteBlob(ctx, old)
	return o, nil
}

// orgDelete deletes the organisation and then its logo.
func (s *Server) orgDelete(ctx context.Context, p *principal, orgID string) error {
	logo, err := store.DeleteOrganisation(ctx, s.DB, s.Secret, s.Clock.Now(), p.AccountID, orgID)
	if err != nil {
		return err
	}
	s.orgDeleteBlob(ctx, logo)
	s.Log.LogAttrs(ctx, slog.LevelInfo, "organisation deleted", slog.String("organisation", orgID))
	return nil
}

// orgDeleteBlob deletes a logo that nothing points to any more. A failure
// leaves an orphan in storage, which is logged by key (a random name) and
// does not fail the request whose change has already committed.
func (s *Server) orgDeleteBlob(ctx context.Context, key string) {
	if key == "" || s.Blobs == nil {
		return
	}
	if err := s.Blobs.Delete(context.WithoutCancel(ctx), key); err != nil && errs.CodeOf(err) != errs.NotFound {
		s.Log.LogAttrs(ctx, slog.LevelError, "could not delete a replaced logo", slog.String("key", key), slog.String("error", err.Error()))
	}
}

// orgServeLogo writes the organisation's logo with headers that keep it a
// picture: its sniffed type, no sniffing by the browser, a policy that
// runs nothing even if the file is opened on its own, and no embedding by
// other sites.
func (s *Server) orgServeLogo(w http.ResponseWriter, r *http.Request) error {
	_, o, _, err := s.orgFor(r, org.View)
	if err != nil {
		return err
	}
	if o.LogoKey == "" || s.Blobs == nil {
		return errs.E(errs.NotFound, "this organisation has no logo")
	}
	b, info, err := s.Blobs.Get(r.Context(), o.LogoKey)
	if err != nil {
		return err
	}
	etag := `"` + info.SHA256 + `"`
	h := w.Header()
	h.Set("Content-Type", info.ContentType)
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
	_, err = w.Write(b)
	return err
}

// ---- API ----

// apiOrgsList answers GET /api/orgs: the organisations the member belongs to.
func (s *Server) apiOrgsList(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	list, err := store.OrganisationsOf(r.Context(), s.DB, p.AccountID)
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
	p := mustPrincipal(r)
	var in struct {
		Name   string `json:"name"`
		Colour string `json:"colour"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	o, err := s.orgCreate(r.Context(), p, in.Name, in.Colour)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/orgs/"+url.PathEscape(o.ID))
	return writeJSONNoStore(w, http.StatusCreated, orgDetailJSON{orgJSON: newOrgJSON(o, org.Owner)})
}

// apiOrgGet answers GET /api/orgs/{id}.
func (s *Server) apiOrgGet(w http.ResponseWriter, r *http.Request) error {
	_, o, role, err := s.orgFor(r, org.View)
	if err != nil {
		return err
	}
	if !org.Can(role, org.ViewDPA) {
		return writeJSONNoStore(w, http.StatusOK, newOrgJSON(o, role))
	}
	d, err := store.CurrentDPA(r.Context(), s.DB, o.ID)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, orgDetailJSON{orgJSON: newOrgJSON(o, role), DPA: newOrgDPAJSON(d)})
}

// apiOrgPatch answers PATCH /api/orgs/{id}: rename or recolour; fields
// left out stay as they are, and "colour": "" removes the colour.
func (s *Server) apiOrgPatch(w http.ResponseWriter, r *http.Request) error {
	p, o, role, err := s.orgFor(r, org.Edit)
	if err != nil {
		return err
	}
	var in struct {
		Name   *string `json:"name"`
		Colour *string `json:"colour"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v := errs.Validation{}
	var u store.OrganisationUpdate
	if in.Name != nil {
		n := org.CheckName(v, "name", *in.Name)
		u.Name = &n
	}
	if in.Colour != nil {
		c := org.CheckColour(v, "colour", *in.Colour)
		u.Colour = &c
	}
	if err := v.Err(); err != nil {
		return err
	}
	o, err = store.UpdateOrganisation(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID, u)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newOrgJSON(o, role))
}

// apiOrgDelete answers DELETE /api/orgs/{id}.
func (s *Server) apiOrgDelete(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.Delete)
	if err != nil {
		return err
	}
	if err := s.orgDelete(r.Context(), p, o.ID); err != nil {
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
	p, o, role, err := s.orgFor(r, org.Edit)
	if err != nil {
		return err
	}
	b, ct, err := orgReadLogo(r.Body)
	if err != nil {
		return err
	}
	o, err = s.orgStoreLogo(r.Context(), p, o.ID, b, ct)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newOrgJSON(o, role))
}

// apiOrgLogoDelete answers DELETE /api/orgs/{id}/logo.
func (s *Server) apiOrgLogoDelete(w http.ResponseWriter, r *http.Request) error {
	p, o, role, err := s.orgFor(r, org.Edit)
	if err != nil {
		return err
	}
	o, err = s.orgRemoveLogo(r.Context(), p, o.ID)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newOrgJSON(o, role))
}

// apiOrgMembers answers GET /api/orgs/{id}/members.
func (s *Server) apiOrgMembers(w http.ResponseWriter, r *http.Request) error {
	_, o, role, err := s.orgFor(r, org.ViewMembers)
	if err != nil {
		return err
	}
	list, err := store.OrganisationMembers(r.Context(), s.DB, o.ID)
	if err != nil {
		return err
	}
	out := struct {
		Members []orgMemberJSON `json:"members"`
	}{Members: make([]orgMemberJSON, 0, len(list))}
	for _, m := range list {
		out.Members = append(out.Members, newOrgMemberJSON(m, org.Can(role, org.ManageMembers)))
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// apiOrgMemberPatch answers PATCH /api/orgs/{id}/members/{accountID}.
func (s *Server) apiOrgMemberPatch(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.ManageMembers)
	if err != nil {
		return err
	}
	var in struct {
		Role string `json:"role"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v := errs.Validation{}
	role := org.CheckRole(v, "role", in.Role)
	if err := v.Err(); err != nil {
		return err
	}
	m, err := store.ChangeMemberRole(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID, r.PathValue("accountID"), role)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newOrgMemberJSON(m, true))
}

// apiOrgMemberDelete answers DELETE /api/orgs/{id}/members/{accountID};
// members may remove themselves, which is leaving.
func (s *Server) apiOrgMemberDelete(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	target := r.PathValue("accountID")
	action := org.ManageMembers
	if target == p.AccountID {
		action = org.Leave
	}
	_, o, _, err := s.orgFor(r, action)
	if err != nil {
		return err
	}
	if err := store.RemoveMember(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID, target); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiOrgLeave answers POST /api/orgs/{id}/leave.
func (s *Server) apiOrgLeave(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.Leave)
	if err != nil {
		return err
	}
	if err := store.LeaveOrganisation(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiOrgInvitations answers GET /api/orgs/{id}/invitations: the open ones.
func (s *Server) apiOrgInvitations(w http.ResponseWriter, r *http.Request) error {
	_, o, _, err := s.orgFor(r, org.ManageMembers)
	if err != nil {
		return err
	}
	list, err := store.PendingInvitations(r.Context(), s.DB, o.ID, s.Clock.Now())
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
	p, o, _, err := s.orgFor(r, org.ManageMembers)
	if err != nil {
		return err
	}
	var in struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	inv, err := s.orgInvite(r.Context(), p, o.ID, in.Email, in.Role)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusCreated, newOrgInvitationJSON(inv))
}

// apiOrgInvitationDelete answers DELETE /api/orgs/{id}/invitations/{invID}.
func (s *Server) apiOrgInvitationDelete(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.ManageMembers)
	if err != nil {
		return err
	}
	if err := store.RevokeInvitation(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID, r.PathValue("invID")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiInvitationAccept answers POST /api/invitations/accept with {"token"}.
func (s *Server) apiInvitationAccept(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	var in struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	o, m, err := store.AcceptInvitation(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, strings.TrimSpace(in.Token))
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
	_, o, _, err := s.orgFor(r, org.ViewDPA)
	if err != nil {
		return err
	}
	list, err := store.DPAAcceptances(r.Context(), s.DB, o.ID)
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

// apiOrgDPAAccept answers POST /api/orgs/{id}/dpa with {"version"}.
func (s *Server) apiOrgDPAAccept(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.AcceptDPA)
	if err != nil {
		return err
	}
	var in struct {
		Version string `json:"version"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v := errs.Validation{}
	version := org.CheckDPAVersion(v, "version", strings.TrimSpace(in.Version))
	if err := v.Err(); err != nil {
		return err
	}
	d, err := store.AcceptDPA(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID, version)
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
	list, err := store.OrganisationsOf(r.Context(), s.DB, p.AccountID)
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
	o, err := s.orgCreate(r.Context(), p, r.PostForm.Get("name"), r.PostForm.Get("colour"))
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

// orgPageData gathers what the organisation page shows to a member in
// role; each part only for the roles that may see it.
func (s *Server) orgPageData(ctx context.Context, p *principal, o org.Organisation, role org.Role) (*orgPageView, error) {
	now := s.Clock.Now()
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
	if v.Can["members"] {
		members, err := store.OrganisationMembers(ctx, s.DB, o.ID)
		if err != nil {
			return nil, err
		}
		owners := 0
		for _, m := range members {
			if m.Role == org.Owner {
				owners++
			}
		}
		for _, m := range members {
			row := orgMemberRow{
				AccountID: m.AccountID, Name: m.Name, Role: string(m.Role), RoleLabel: m.Role.Label(),
				Joined: m.JoinedAt.Format("2 January 2006"), Self: m.AccountID == p.AccountID,
			}
			if v.Can["manage"] {
				row.Email = m.Email
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
	}
	if v.Can["manage"] {
		invs, err := store.PendingInvitations(ctx, s.DB, o.ID, now)
		if err != nil {
			return nil, err
		}
		for _, i := range invs {
			v.Invitations = append(v.Invitations, orgInvitationRow{
				ID: i.ID, Email: i.Email, RoleLabel: i.Role.Label(), Expires: i.ExpiresAt.Format("2 January 2006, 15:04 UTC"),
			})
		}
	}
	if v.Can["viewdpa"] {
		list, err := store.DPAAcceptances(ctx, s.DB, o.ID)
		if err != nil {
			return nil, err
		}
		for _, d := range list {
			by := d.AcceptedByName
			if d.AcceptedBy == "" {
				by = "a former owner"
			}
			v.DPAHistory = append(v.DPAHistory, orgDPAView{
				Version: d.Version, AcceptedAt: d.AcceptedAt.Format("2 January 2006, 15:04 UTC"), AcceptedBy: by,
			})
		}
		if len(v.DPAHistory) > 0 {
			v.DPA = &v.DPAHistory[0]
		}
	}
	return v, nil
}

func (s *Server) renderOrgPage(w http.ResponseWriter, r *http.Request, status int, v *orgPageView) error {
	return s.pages.render(w, r, status, "orgs_show", view{Title: v.Org.Name, Section: "account", Data: v})
}

// orgPage answers GET /orgs/{id}.
func (s *Server) orgPage(w http.ResponseWriter, r *http.Request) error {
	p, o, role, err := s.orgFor(r, org.View)
	if err != nil {
		return err
	}
	v, err := s.orgPageData(r.Context(), p, o, role)
	if err != nil {
		return err
	}
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
	if code != errs.Invalid && code != errs.Conflict && code != errs.TooLarge && code != errs.Unsupported {
		return err
	}
	o, role, lerr := store.OrganisationFor(r.Context(), s.DB, id, p.AccountID)
	if lerr != nil {
		// The change went through far enough to end the membership, or
		// the organisation is gone: nothing to show again.
		return err
	}
	v, lerr := s.orgPageData(r.Context(), p, o, role)
	if lerr != nil {
		return lerr
	}
	f := orgFormFrom(r, err, fields...)
	if form != nil {
		form(v, f)
	}
	if e, ok := errs.As(err); ok && (form == nil || len(e.Fields) == 0) {
		v.Problem = sentence(e.Message)
	}
	status := statusOf[code]
	return s.renderOrgPage(w, r, status, v)
}

// orgSettingsForm answers POST /orgs/{id}/settings: name and colour.
func (s *Server) orgSettingsForm(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.Edit)
	if err != nil {
		return err
	}
	if err := readForm(r); err != nil {
		return err
	}
	v := errs.Validation{}
	name := org.CheckName(v, "name", r.PostForm.Get("name"))
	colour := org.CheckColour(v, "colour", r.PostForm.Get("colour"))
	err = v.Err()
	if err == nil {
		_, err = store.UpdateOrganisation(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID,
			store.OrganisationUpdate{Name: &name, Colour: &colour})
	}
	return s.orgFormResult(w, r, err, "saved", func(v *orgPageView, f *orgForm) { v.Settings = f }, "name", "colour")
}

// orgLogoForm answers POST /orgs/{id}/logo, a multipart form with the
// file in "logo".
func (s *Server) orgLogoForm(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.Edit)
	if err != nil {
		return err
	}
	b, ct, err := orgReadLogoPart(r)
	if err == nil {
		_, err = s.orgStoreLogo(r.Context(), p, o.ID, b, ct)
	}
	if e, ok := errs.As(err); ok && len(e.Fields) == 0 && (e.Code == errs.TooLarge || e.Code == errs.Unsupported || e.Code == errs.Invalid) {
		err = &errs.Error{Code: e.Code, Message: e.Message, Fields: map[string]string{"logo": e.Message}}
	}
	return s.orgFormResult(w, r, err, "logo", func(v *orgPageView, f *orgForm) { v.Logo = f })
}

// orgReadLogoPart finds the "logo" file in a multipart form and reads it,
// streaming, without spilling anything to disk.
func orgReadLogoPart(r *http.Request) ([]byte, string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, "", errs.E(errs.Unsupported, "the logo must be sent as a file upload form")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", errs.E(errs.Malformed, "the upload could not be read")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", orgNoLogoError()
		}
		if err != nil {
			return nil, "", orgUploadError(err)
		}
		if part.FormName() != "logo" {
			part.Close()
			continue
		}
		defer part.Close()
		return orgReadLogo(part)
	}
}

// orgLogoRemoveForm answers POST /orgs/{id}/logo/remove.
func (s *Server) orgLogoRemoveForm(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.Edit)
	if err != nil {
		return err
	}
	_, err = s.orgRemoveLogo(r.Context(), p, o.ID)
	return s.orgFormResult(w, r, err, "logo-removed", nil)
}

// orgInviteForm answers POST /orgs/{id}/invitations.
func (s *Server) orgInviteForm(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.ManageMembers)
	if err != nil {
		return err
	}
	if err := readForm(r); err != nil {
		return err
	}
	_, err = s.orgInvite(r.Context(), p, o.ID, r.PostForm.Get("email"), r.PostForm.Get("role"))
	return s.orgFormResult(w, r, err, "invited", func(v *orgPageView, f *orgForm) { v.Invite = f }, "email", "role")
}

// orgRevokeForm answers POST /orgs/{id}/invitations/{invID}/revoke.
func (s *Server) orgRevokeForm(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.ManageMembers)
	if err != nil {
		return err
	}
	err = store.RevokeInvitation(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID, r.PathValue("invID"))
	return s.orgFormResult(w, r, err, "revoked", nil)
}

// orgRoleForm answers POST /orgs/{id}/members/{accountID}/role.
func (s *Server) orgRoleForm(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.ManageMembers)
	if err != nil {
		return err
	}
	if err := readForm(r); err != nil {
		return err
	}
	v := errs.Validation{}
	role := org.CheckRole(v, "role", r.PostForm.Get("role"))
	err = v.Err()
	if err == nil {
		_, err = store.ChangeMemberRole(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID, r.PathValue("accountID"), role)
	}
	return s.orgFormResult(w, r, err, "role", nil)
}

// orgRemoveForm answers POST /orgs/{id}/members/{accountID}/remove.
func (s *Server) orgRemoveForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	target := r.PathValue("accountID")
	action := org.ManageMembers
	if target == p.AccountID {
		action = org.Leave
	}
	_, o, _, err := s.orgFor(r, action)
	if err != nil {
		return err
	}
	err = store.RemoveMember(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID, target)
	if err == nil && target == p.AccountID {
		orgRedirect(w, r, "", "left")
		return nil
	}
	return s.orgFormResult(w, r, err, "removed", nil)
}

// orgLeaveForm answers POST /orgs/{id}/leave.
func (s *Server) orgLeaveForm(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.Leave)
	if err != nil {
		return err
	}
	err = store.LeaveOrganisation(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID)
	if err == nil {
		orgRedirect(w, r, "", "left")
		return nil
	}
	return s.orgFormResult(w, r, err, "", nil)
}

// orgDPAForm answers POST /orgs/{id}/dpa.
func (s *Server) orgDPAForm(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.AcceptDPA)
	if err != nil {
		return err
	}
	if err := readForm(r); err != nil {
		return err
	}
	v := errs.Validation{}
	version := org.CheckDPAVersion(v, "version", r.PostForm.Get("version"))
	if r.PostForm.Get("confirm") == "" {
		v.Add("confirm", "tick the box to confirm that you accept on the organisation's behalf")
	}
	err = v.Err()
	if err == nil {
		_, err = store.AcceptDPA(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, o.ID, version)
	}
	return s.orgFormResult(w, r, err, "dpa", func(v *orgPageView, f *orgForm) {
		if len(f.Errors) > 0 {
			v.Problem = "The addendum was not accepted: " + strings.Join(orgMessages(f.Errors), "; ") + "."
		}
	})
}

// orgDeleteForm answers POST /orgs/{id}/delete; the name must be typed
// again, so that a slip of the mouse deletes nothing.
func (s *Server) orgDeleteForm(w http.ResponseWriter, r *http.Request) error {
	p, o, _, err := s.orgFor(r, org.Delete)
	if err != nil {
		return err
	}
	if err := readForm(r); err != nil {
		return err
	}
	if strings.TrimSpace(r.PostForm.Get("confirm_name")) != o.Name {
		err = &errs.Error{Code: errs.Invalid, Message: "the name does not match",
			Fields: map[string]string{"confirm_name": "type the organisation's name exactly as shown to delete it"}}
		return s.orgFormResult(w, r, err, "", func(v *orgPageView, f *orgForm) { v.Delete = f }, "confirm_name")
	}
	if err := s.orgDelete(r.Context(), p, o.ID); err != nil {
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
}

// invitationPage answers GET /invitations/{token}: what the invitation is
// for, and a button to accept it with the signed-in account. A link that
// does not work is "not found", whatever the reason.
func (s *Server) invitationPage(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	token := r.PathValue("token")
	inv, o, err := store.InvitationByToken(r.Context(), s.DB, s.Secret, token, s.Clock.Now())
	if errs.CodeOf(err) == errs.Invalid {
		e, _ := errs.As(err)
		return errs.E(errs.NotFound, "%s", e.Message)
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
	}
	return s.pages.render(w, r, http.StatusOK, "orgs_invitation", view{Title: "Invitation", Section: "account", Data: v})
}

// invitationAcceptForm answers POST /invitations/accept.
func (s *Server) invitationAcceptForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := readForm(r); err != nil {
		return err
	}
	o, _, err := store.AcceptInvitation(r.Context(), s.DB, s.Secret, s.Clock.Now(), p.AccountID, strings.TrimSpace(r.PostForm.Get("token")))
	if err != nil {
		return err
	}
	orgRedirect(w, r, o.ID, "joined")
	return nil
}
