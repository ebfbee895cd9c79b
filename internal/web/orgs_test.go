package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// ---- fixture ----

// orgFixture is an organisation with one member of each role, a further
// plain member to act on, someone from outside, an open invitation and a
// logo, all on one harness.
type orgFixture struct {
	h                                             *harness
	ID                                            string
	Owner, Admin, Member, Guest, Target, Stranger *testMember
	InvitationID, Token                           string
}

// newOrgFixture builds the fixture through the organisations service, so
// that it is ready before any request is made; the requests under test
// then go through HTTP.
func newOrgFixture(t *testing.T, h *harness) *orgFixture {
	t.Helper()
	ctx := context.Background()
	f := &orgFixture{h: h, Owner: h.newMember(t), Admin: h.newMember(t), Member: h.newMember(t), Guest: h.newMember(t),
		Target: h.newMember(t), Stranger: h.newMember(t)}
	orgs, owner := h.Srv.Services.Orgs, service.Member(f.Owner.ID)
	o, err := orgs.Create(ctx, owner, "Fixture Ltd", "#3347d1")
	if err != nil {
		t.Fatal(err)
	}
	f.ID = o.ID
	for m, role := range map[*testMember]org.Role{f.Admin: org.Admin, f.Member: org.Member, f.Guest: org.Guest, f.Target: org.Member} {
		sent, err := orgs.Invite(ctx, owner, o.ID, m.Email, string(role))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := orgs.Accept(ctx, service.Member(m.ID), sent.Token); err != nil {
			t.Fatal(err)
		}
	}
	// The open invitation is the stranger's to accept: only the account
	// of the address it went to may.
	sent, err := orgs.Invite(ctx, owner, o.ID, f.Stranger.Email, string(org.Member))
	if err != nil {
		t.Fatal(err)
	}
	f.InvitationID, f.Token = sent.Invitation.ID, sent.Token
	res := h.apiClient(t, f.Owner).do(t, http.MethodPut, "/api/orgs/"+f.ID+"/logo", bytes.NewReader(orgPNG(t, 8)), http.Header{"Content-Type": {"image/png"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("fixture logo: %d %s", res.StatusCode, res.Body)
	}
	return f
}

// orgPNG is a small valid PNG whose pixels depend on seed, so that two
// logos differ.
func orgPNG(t testing.TB, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	img.Set(0, 0, color.RGBA{R: seed, G: 0x47, B: 0xd1, A: 0xff})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// orgMultipart builds a form upload with one file field.
func orgMultipart(t testing.TB, field, filename, contentType string, content []byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	hdr := map[string][]string{
		"Content-Disposition": {fmt.Sprintf(`form-data; name=%q; filename=%q`, field, filename)},
		"Content-Type":        {contentType},
	}
	part, err := w.CreatePart(hdr)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(content)
	w.Close()
	return &b, w.FormDataContentType()
}

func orgCount(t testing.TB, h *harness, query string, args ...any) int {
	t.Helper()
	var n int
	if err := h.DB.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// ---- the route × role matrix ----

// orgRoles are the callers of the matrix, in the order of its columns.
var orgRoles = []string{"owner", "admin", "member", "guest", "stranger", "anonymous"}

func (f *orgFixture) caller(t *testing.T, role string, api bool) *client {
	t.Helper()
	m := map[string]*testMember{"owner": f.Owner, "admin": f.Admin, "member": f.Member, "guest": f.Guest, "stranger": f.Stranger}[role]
	switch {
	case m == nil:
		return f.h.anon()
	case api:
		return f.h.apiClient(t, m)
	}
	return f.h.signIn(t, m)
}

type orgRouteCase struct {
	method, path string // {id}, {target}, {inv} and {token} are filled in from the fixture
	body         func(t *testing.T, f *orgFixture) (contentType string, body []byte)
	want         [6]int // by orgRoles
}

func orgJSONBody(v any) func(*testing.T, *orgFixture) (string, []byte) {
	return func(t *testing.T, f *orgFixture) (string, []byte) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("{token}"), []byte(f.Token))
		return "application/json", b
	}
}

func orgFormBody(v url.Values) func(*testing.T, *orgFixture) (string, []byte) {
	return func(t *testing.T, f *orgFixture) (string, []byte) {
		form := url.Values{}
		for k, vals := range v {
			for _, s := range vals {
				form.Add(k, strings.ReplaceAll(s, "{token}", f.Token))
			}
		}
		return "application/x-www-form-urlencoded", []byte(form.Encode())
	}
}

func orgPNGBody(t *testing.T, f *orgFixture) (string, []byte) { return "image/png", orgPNG(t, 99) }

func orgLogoFormBody(t *testing.T, f *orgFixture) (string, []byte) {
	b, ct := orgMultipart(t, "logo", "logo.png", "image/png", orgPNG(t, 77))
	return ct, b.Bytes()
}

const (
	s200 = http.StatusOK
	s201 = http.StatusCreated
	s204 = http.StatusNoContent
	s303 = http.StatusSeeOther
	s401 = http.StatusUnauthorized
	s403 = http.StatusForbidden
	s404 = http.StatusNotFound
	s409 = http.StatusConflict
)

// orgRouteMatrix lists every organisation route with the status each
// caller gets. Non-members always get 404, never 403, so that an
// organisation's existence is not revealed. Each case runs on a fresh
// fixture, so that changes made by one caller do not affect the next.
var orgRouteMatrix = []orgRouteCase{
	// owner, admin, member, guest, stranger, anonymous
	{"GET", "/api/orgs", nil, [6]int{s200, s200, s200, s200, s200, s401}},
	{"POST", "/api/orgs", orgJSONBody(map[string]string{"name": "Another"}), [6]int{s201, s201, s201, s201, s201, s401}},
	{"GET", "/api/orgs/{id}", nil, [6]int{s200, s200, s200, s200, s404, s401}},
	{"PATCH", "/api/orgs/{id}", orgJSONBody(map[string]string{"name": "Renamed"}), [6]int{s200, s200, s403, s403, s404, s401}},
	{"DELETE", "/api/orgs/{id}", nil, [6]int{s204, s403, s403, s403, s404, s401}},
	{"GET", "/api/orgs/{id}/logo", nil, [6]int{s200, s200, s200, s200, s404, s401}},
	{"PUT", "/api/orgs/{id}/logo", orgPNGBody, [6]int{s200, s200, s403, s403, s404, s401}},
	{"DELETE", "/api/orgs/{id}/logo", nil, [6]int{s200, s200, s403, s403, s404, s401}},
	{"GET", "/api/orgs/{id}/members", nil, [6]int{s200, s200, s200, s403, s404, s401}},
	{"PATCH", "/api/orgs/{id}/members/{target}", orgJSONBody(map[string]string{"role": "guest"}), [6]int{s200, s200, s403, s403, s404, s401}},
	{"DELETE", "/api/orgs/{id}/members/{target}", nil, [6]int{s204, s204, s403, s403, s404, s401}},
	{"POST", "/api/orgs/{id}/leave", nil, [6]int{s409, s204, s204, s204, s404, s401}},
	{"GET", "/api/orgs/{id}/invitations", nil, [6]int{s200, s200, s403, s403, s404, s401}},
	{"POST", "/api/orgs/{id}/invitations", orgJSONBody(map[string]string{"email": "new.person@example.org", "role": "member"}), [6]int{s201, s201, s403, s403, s404, s401}},
	{"DELETE", "/api/orgs/{id}/invitations/{inv}", nil, [6]int{s204, s204, s403, s403, s404, s401}},
	{"POST", "/api/invitations/accept", orgJSONBody(map[string]string{"token": "{token}"}), [6]int{s403, s403, s403, s403, s200, s401}},
	{"GET", "/api/orgs/{id}/dpa", nil, [6]int{s200, s200, s200, s403, s404, s401}},
	{"POST", "/api/orgs/{id}/dpa", orgJSONBody(map[string]string{"version": org.DPAVersion}), [6]int{s201, s403, s403, s403, s404, s401}},

	{"GET", "/orgs", nil, [6]int{s200, s200, s200, s200, s200, s303}},
	{"GET", "/orgs/new", nil, [6]int{s200, s200, s200, s200, s200, s303}},
	{"POST", "/orgs", orgFormBody(url.Values{"name": {"Another"}, "colour": {"#000000"}}), [6]int{s303, s303, s303, s303, s303, s401}},
	{"GET", "/orgs/{id}", nil, [6]int{s200, s200, s200, s200, s404, s303}},
	{"POST", "/orgs/{id}/settings", orgFormBody(url.Values{"name": {"Renamed"}, "colour": {"#111111"}}), [6]int{s303, s303, s403, s403, s404, s401}},
	{"POST", "/orgs/{id}/logo", orgLogoFormBody, [6]int{s303, s303, s403, s403, s404, s401}},
	{"POST", "/orgs/{id}/logo/remove", nil, [6]int{s303, s303, s403, s403, s404, s401}},
	{"GET", "/orgs/{id}/logo", nil, [6]int{s200, s200, s200, s200, s404, s303}},
	{"POST", "/orgs/{id}/invitations", orgFormBody(url.Values{"email": {"new.person@example.org"}, "role": {"guest"}}), [6]int{s303, s303, s403, s403, s404, s401}},
	{"POST", "/orgs/{id}/invitations/{inv}/revoke", nil, [6]int{s303, s303, s403, s403, s404, s401}},
	{"POST", "/orgs/{id}/members/{target}/role", orgFormBody(url.Values{"role": {"guest"}}), [6]int{s303, s303, s403, s403, s404, s401}},
	{"POST", "/orgs/{id}/members/{target}/remove", nil, [6]int{s303, s303, s403, s403, s404, s401}},
	{"POST", "/orgs/{id}/leave", nil, [6]int{s409, s303, s303, s303, s404, s401}},
	{"POST", "/orgs/{id}/dpa", orgFormBody(url.Values{"version": {org.DPAVersion}, "confirm": {"yes"}}), [6]int{s303, s403, s403, s403, s404, s401}},
	{"POST", "/orgs/{id}/delete", orgFormBody(url.Values{"confirm_name": {"Fixture Ltd"}}), [6]int{s303, s403, s403, s403, s404, s401}},
	{"GET", "/invitations/{token}", nil, [6]int{s200, s200, s200, s200, s200, s303}},
	{"POST", "/invitations/accept", orgFormBody(url.Values{"token": {"{token}"}}), [6]int{s403, s403, s403, s403, s303, s401}},
}

func TestOrgRouteMatrix(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	// Every organisation route of the server has a row, so a new route
	// cannot go untested.
	rows := map[string]bool{}
	for _, c := range orgRouteMatrix {
		rows[c.method+" "+c.path] = true
	}
	for _, p := range h.Srv.Patterns() {
		method, path, _ := strings.Cut(p, " ")
		if !strings.HasPrefix(path, "/orgs") && !strings.HasPrefix(path, "/api/orgs") && !strings.Contains(path, "invitations") {
			continue
		}
		path = strings.NewReplacer("{accountID}", "{target}", "{invID}", "{inv}").Replace(path)
		if !rows[method+" "+path] {
			t.Errorf("route %s has no row in orgRouteMatrix", p)
		}
	}

	for _, c := range orgRouteMatrix {
		for i, role := range orgRoles {
			t.Run(c.method+" "+c.path+" as "+role, func(t *testing.T) {
				f := newOrgFixture(t, h)
				path := strings.NewReplacer("{id}", f.ID, "{target}", f.Target.ID, "{inv}", f.InvitationID, "{token}", f.Token).Replace(c.path)
				api := strings.HasPrefix(path, "/api/")
				var body *bytes.Reader
				header := http.Header{}
				if c.body != nil {
					ct, b := c.body(t, f)
					body = bytes.NewReader(b)
					header.Set("Content-Type", ct)
				} else {
					body = bytes.NewReader(nil)
				}
				res := f.caller(t, role, api).do(t, c.method, path, body, header)
				if res.StatusCode != c.want[i] {
					t.Fatalf("status %d, want %d: %.300s", res.StatusCode, c.want[i], res.Body)
				}
				if c.want[i] == s303 && role == "anonymous" {
					if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/signin?next=") {
						t.Errorf("anonymous redirect to %q", loc)
					}
				}
				if api && res.StatusCode >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
					t.Errorf("error without problem+json: %s", res.Header.Get("Content-Type"))
				}
			})
		}
	}
}

// TestOrgStateChangingAPIRefusesCookies: a signed-in browser cannot drive
// the JSON API's changes with its cookie, which no CSRF check covers.
func TestOrgStateChangingAPIRefusesCookies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newOrgFixture(t, h)
	browser := h.signIn(t, f.Owner)
	if res := browser.sendJSON(t, http.MethodPatch, "/api/orgs/"+f.ID, map[string]string{"name": "Hijacked"}); res.StatusCode != s401 {
		t.Fatalf("PATCH with a cookie: %d", res.StatusCode)
	}
	if res := browser.get(t, "/api/orgs/"+f.ID); res.StatusCode != s200 {
		t.Fatalf("GET with a cookie: %d", res.StatusCode)
	}
}

// ---- invitations ----

var orgLinkPattern = regexp.MustCompile(`http://sessions\.test/invitations/([A-Za-z0-9_.-]+)`)

func TestOrgInvitationByMail(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	owner := h.newMember(t)
	api := h.apiClient(t, owner)
	res := api.sendJSON(t, http.MethodPost, "/api/orgs", map[string]string{"name": "Acme Studio", "colour": "#AA0011"})
	if res.StatusCode != s201 {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	var created struct {
		ID     string  `json:"id"`
		Colour string  `json:"colour"`
		Role   string  `json:"role"`
		DPA    *string `json:"dpa"`
	}
	res.decode(t, &created)
	if created.Colour != "#aa0011" || created.Role != "owner" {
		t.Fatalf("created = %+v", created)
	}

	const invitee = "Invitee.Person@Example.org"
	res = api.sendJSON(t, http.MethodPost, "/api/orgs/"+created.ID+"/invitations", map[string]string{"email": invitee, "role": "admin"})
	if res.StatusCode != s201 {
		t.Fatalf("invite: %d %s", res.StatusCode, res.Body)
	}
	var inv struct {
		ID        string    `json:"id"`
		Email     string    `json:"email"`
		Role      string    `json:"role"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	res.decode(t, &inv)
	if inv.Email != "invitee.person@example.org" || inv.Role != "admin" || !inv.ExpiresAt.Equal(h.Clock.Now().Add(7*24*time.Hour)) {
		t.Fatalf("invitation = %+v", inv)
	}
	if strings.Contains(res.text(), "token") {
		t.Fatalf("the API answer carries the link's token: %s", res.Body)
	}

	msg := h.nextMail(t)
	if got := msg.Header.Get("To"); !strings.Contains(got, "invitee.person@example.org") {
		t.Fatalf("mail to %q", got)
	}
	if !strings.Contains(msg.Subject, "Acme Studio") || !strings.Contains(msg.Text, owner.Name) || !strings.Contains(msg.Text, "an admin") {
		t.Fatalf("mail:\n%s\n%s", msg.Subject, msg.Text)
	}
	m := orgLinkPattern.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("no link in the mail:\n%s", msg.Text)
	}
	token := m[1]

	// The link asks an anonymous visitor to sign in first, and comes back.
	anon := h.anon()
	res = anon.get(t, "/invitations/"+token)
	if res.StatusCode != s303 || res.Header.Get("Location") != "/signin?next="+url.QueryEscape("/invitations/"+token) {
		t.Fatalf("anonymous: %d %q", res.StatusCode, res.Header.Get("Location"))
	}

	// The account of the invited address accepts, whatever the case it
	// was typed in.
	joiner := h.newMember(t)
	readdress(t, h, joiner, "invitee.person@example.org")
	browser := h.signIn(t, joiner)
	res = browser.get(t, "/invitations/"+token)
	if res.StatusCode != s200 || !strings.Contains(res.text(), "Acme Studio") || !strings.Contains(res.text(), joiner.Email) {
		t.Fatalf("invitation page: %d\n%s", res.StatusCode, res.Body)
	}
	res = browser.postForm(t, "/invitations/accept", url.Values{"token": {token}})
	if res.StatusCode != s303 || res.Header.Get("Location") != "/orgs/"+created.ID+"?done=joined" {
		t.Fatalf("accept: %d %q %s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	joined, err := store.OrganisationMember(context.Background(), h.DB, created.ID, joiner.ID)
	if err != nil || joined.Role != org.Admin {
		t.Fatalf("membership = %+v, %v", joined, err)
	}
	if res := browser.get(t, "/orgs/"+created.ID+"?done=joined"); res.StatusCode != s200 || !strings.Contains(res.text(), "you are now a member") {
		t.Fatalf("org page after joining: %d", res.StatusCode)
	}

	// A used link is refused, on the API and on the page.
	other := h.newMember(t)
	otherAPI := h.apiClient(t, other)
	res = otherAPI.sendJSON(t, http.MethodPost, "/api/invitations/accept", map[string]string{"token": token})
	if res.StatusCode != http.StatusUnprocessableEntity || res.problemFields(t)["token"] == "" {
		t.Fatalf("reused link: %d %s", res.StatusCode, res.Body)
	}
	if res := h.signIn(t, other).get(t, "/invitations/"+token); res.StatusCode != s404 {
		t.Fatalf("reused link page: %d", res.StatusCode)
	}

	// A forged link: a fresh invitation's token with its signature altered,
	// and one with its subject swapped.
	res = api.sendJSON(t, http.MethodPost, "/api/orgs/"+created.ID+"/invitations", map[string]string{"email": "second@example.org", "role": "member"})
	if res.StatusCode != s201 {
		t.Fatalf("second invite: %d", res.StatusCode)
	}
	second := orgLinkPattern.FindStringSubmatch(h.nextMail(t).Text)[1]
	forged := second[:len(second)-2] + "AA"
	if forged == second {
		forged = second[:len(second)-2] + "BB"
	}
	for _, bad := range []string{forged, "not-a-token", "", strings.Replace(second, ".", "x.", 1)} {
		res = otherAPI.sendJSON(t, http.MethodPost, "/api/invitations/accept", map[string]string{"token": bad})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("forged token %q: %d %s", bad, res.StatusCode, res.Body)
		}
	}

	// An expired link is refused: move the clock past its 7 days.
	h.Clock.Advance(7*24*time.Hour + time.Second)
	res = otherAPI.sendJSON(t, http.MethodPost, "/api/invitations/accept", map[string]string{"token": second})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("expired link: %d %s", res.StatusCode, res.Body)
	}
	if _, err := store.OrganisationMember(context.Background(), h.DB, created.ID, other.ID); err == nil {
		t.Fatal("a refused link made a member")
	}

	// Neither the addresses nor the tokens reach the logs.
	logs := h.Logs.String()
	for _, secret := range []string{"invitee.person@example.org", "second@example.org", token, second} {
		if strings.Contains(strings.ToLower(logs), strings.ToLower(secret)) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

func TestOrgReinviteReplacesAndRevokeDeletes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newOrgFixture(t, h)
	api := h.apiClient(t, f.Admin)
	for _, role := range []string{"member", "guest"} {
		if res := api.sendJSON(t, http.MethodPost, "/api/orgs/"+f.ID+"/invitations", map[string]string{"email": "Twice@Example.org", "role": role}); res.StatusCode != s201 {
			t.Fatalf("invite as %s: %d %s", role, res.StatusCode, res.Body)
		}
	}
	var list struct {
		Invitations []struct {
			ID, Email, Role string
		} `json:"invitations"`
	}
	api.get(t, "/api/orgs/"+f.ID+"/invitations").decode(t, &list)
	found := 0
	var id string
	for _, i := range list.Invitations {
		if i.Email == "twice@example.org" {
			found++
			id = i.ID
			if i.Role != "guest" {
				t.Errorf("the later invitation did not replace the earlier one: %+v", i)
			}
		}
	}
	if found != 1 {
		t.Fatalf("%d invitations to the same address", found)
	}
	if n := orgCount(t, h, `SELECT COUNT(*) FROM organisation_invitations WHERE email = ?`, "twice@example.org"); n != 1 {
		t.Fatalf("%d rows for the address", n)
	}
	if res := api.do(t, http.MethodDelete, "/api/orgs/"+f.ID+"/invitations/"+id, nil, nil); res.StatusCode != s204 {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if n := orgCount(t, h, `SELECT COUNT(*) FROM organisation_invitations WHERE email = ?`, "twice@example.org"); n != 0 {
		t.Fatalf("a revoked invitation kept the address")
	}
	// Only owners invite owners.
	res := api.sendJSON(t, http.MethodPost, "/api/orgs/"+f.ID+"/invitations", map[string]string{"email": "boss@example.org", "role": "owner"})
	if res.StatusCode != s403 {
		t.Fatalf("admin invited an owner: %d", res.StatusCode)
	}
	// An address that already belongs to a member is refused.
	res = api.sendJSON(t, http.MethodPost, "/api/orgs/"+f.ID+"/invitations", map[string]string{"email": f.Member.Email, "role": "guest"})
	if res.StatusCode != s409 {
		t.Fatalf("invited a member again: %d", res.StatusCode)
	}
}

// ---- roles ----

func TestOrgLastOwnerAndOwnership(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newOrgFixture(t, h)
	owner := h.apiClient(t, f.Owner)
	admin := h.apiClient(t, f.Admin)
	base := "/api/orgs/" + f.ID

	if res := owner.do(t, http.MethodPost, base+"/leave", nil, nil); res.StatusCode != s409 {
		t.Fatalf("last owner left: %d", res.StatusCode)
	}
	if res := owner.sendJSON(t, http.MethodPatch, base+"/members/"+f.Owner.ID, map[string]string{"role": "admin"}); res.StatusCode != s409 {
		t.Fatalf("last owner demoted: %d", res.StatusCode)
	}
	if res := owner.do(t, http.MethodDelete, base+"/members/"+f.Owner.ID, nil, nil); res.StatusCode != s409 {
		t.Fatalf("last owner removed themselves: %d", res.StatusCode)
	}
	page := h.signIn(t, f.Owner).postForm(t, "/orgs/"+f.ID+"/leave", nil)
	if page.StatusCode != s409 || !strings.Contains(page.text(), "at least one owner") {
		t.Fatalf("leave form: %d", page.StatusCode)
	}

	// Admins neither grant nor take away ownership.
	if res := admin.sendJSON(t, http.MethodPatch, base+"/members/"+f.Member.ID, map[string]string{"role": "owner"}); res.StatusCode != s403 {
		t.Fatalf("admin made an owner: %d", res.StatusCode)
	}
	if res := admin.sendJSON(t, http.MethodPatch, base+"/members/"+f.Owner.ID, map[string]string{"role": "member"}); res.StatusCode != s403 {
		t.Fatalf("admin demoted the owner: %d", res.StatusCode)
	}
	if res := admin.do(t, http.MethodDelete, base+"/members/"+f.Owner.ID, nil, nil); res.StatusCode != s403 {
		t.Fatalf("admin removed the owner: %d", res.StatusCode)
	}
	if res := owner.sendJSON(t, http.MethodPatch, base+"/members/nobody", map[string]string{"role": "member"}); res.StatusCode != s404 {
		t.Fatalf("unknown member: %d", res.StatusCode)
	}
	if res := owner.sendJSON(t, http.MethodPatch, base+"/members/"+f.Member.ID, map[string]string{"role": "superuser"}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown role: %d", res.StatusCode)
	}

	// With a second owner, the first may go.
	res := owner.sendJSON(t, http.MethodPatch, base+"/members/"+f.Admin.ID, map[string]string{"role": "owner"})
	if res.StatusCode != s200 {
		t.Fatalf("promote: %d %s", res.StatusCode, res.Body)
	}
	if res := owner.do(t, http.MethodPost, base+"/leave", nil, nil); res.StatusCode != s204 {
		t.Fatalf("owner left with another owner: %d", res.StatusCode)
	}
	if res := owner.get(t, base); res.StatusCode != s404 {
		t.Fatalf("former owner still sees the organisation: %d", res.StatusCode)
	}
	// The role changes were audited with the member as subject.
	entries, err := store.AuditForSubject(context.Background(), h.DB, f.Admin.ID, 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	promoted := false
	for _, e := range entries {
		if e.Action == "org.member.role" && e.ActorID == f.Owner.ID && strings.Contains(e.Detail, `"to":"owner"`) {
			promoted = true
		}
	}
	if !promoted {
		t.Errorf("no audit entry for the promotion: %+v", entries)
	}
}

func TestOrgVisibilityByRole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newOrgFixture(t, h)
	base := "/api/orgs/" + f.ID

	var asGuest map[string]any
	h.apiClient(t, f.Guest).get(t, base).decode(t, &asGuest)
	if _, ok := asGuest["dpa"]; ok {
		t.Errorf("a guest sees the DPA status: %v", asGuest)
	}
	var asMember map[string]any
	h.apiClient(t, f.Member).get(t, base).decode(t, &asMember)
	if v, ok := asMember["dpa"]; !ok || v != nil {
		t.Errorf("a member should see dpa: null, got %v", asMember)
	}

	type members struct {
		Members []struct {
			AccountID string `json:"account_id"`
			Email     string `json:"email"`
			Role      string `json:"role"`
		} `json:"members"`
	}
	var seenByMember, seenByAdmin members
	h.apiClient(t, f.Member).get(t, base+"/members").decode(t, &seenByMember)
	h.apiClient(t, f.Admin).get(t, base+"/members").decode(t, &seenByAdmin)
	if len(seenByMember.Members) != 5 || len(seenByAdmin.Members) != 5 {
		t.Fatalf("members: %d and %d, want 5", len(seenByMember.Members), len(seenByAdmin.Members))
	}
	if seenByAdmin.Members[0].Role != "owner" || seenByAdmin.Members[0].AccountID != f.Owner.ID {
		t.Errorf("owners are not listed first: %+v", seenByAdmin.Members[0])
	}
	for i := range seenByMember.Members {
		if seenByMember.Members[i].Email != "" {
			t.Errorf("a member sees addresses: %+v", seenByMember.Members[i])
		}
		if seenByAdmin.Members[i].Email == "" {
			t.Errorf("an admin does not see addresses: %+v", seenByAdmin.Members[i])
		}
	}

	// The guest's page shows neither members nor invitations.
	page := h.signIn(t, f.Guest).get(t, "/orgs/"+f.ID)
	if page.StatusCode != s200 || strings.Contains(page.text(), f.Member.Name) || strings.Contains(page.text(), f.Stranger.Email) {
		t.Fatalf("guest page shows other people: %d", page.StatusCode)
	}
	// The admin's page shows both.
	page = h.signIn(t, f.Admin).get(t, "/orgs/"+f.ID)
	if !strings.Contains(page.text(), f.Member.Email) || !strings.Contains(page.text(), f.Stranger.Email) {
		t.Fatalf("admin page lacks members or invitations")
	}
	// The list of my organisations.
	var mine struct {
		Organisations []struct{ ID, Role string } `json:"organisations"`
	}
	h.apiClient(t, f.Guest).get(t, "/api/orgs").decode(t, &mine)
	if len(mine.Organisations) != 1 || mine.Organisations[0].ID != f.ID || mine.Organisations[0].Role != "guest" {
		t.Fatalf("my organisations = %+v", mine)
	}
}

// ---- DPA ----

func TestOrgDPAAcceptance(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newOrgFixture(t, h)
	owner := h.apiClient(t, f.Owner)
	base := "/api/orgs/" + f.ID

	res := owner.sendJSON(t, http.MethodPost, base+"/dpa", map[string]string{"version": "dpa-1999-01"})
	if res.StatusCode != http.StatusUnprocessableEntity || res.problemFields(t)["version"] == "" {
		t.Fatalf("unknown version: %d %s", res.StatusCode, res.Body)
	}
	form := h.signIn(t, f.Owner).postForm(t, "/orgs/"+f.ID+"/dpa", url.Values{"version": {org.DPAVersion}})
	if form.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(form.text(), "tick the box") {
		t.Fatalf("form without confirmation: %d", form.StatusCode)
	}
	if n := orgCount(t, h, `SELECT COUNT(*) FROM dpa_acceptances`); n != 0 {
		t.Fatalf("refused acceptances stored %d rows", n)
	}

	h.Clock.Advance(90 * time.Minute)
	at := h.Clock.Now()
	res = owner.sendJSON(t, http.MethodPost, base+"/dpa", map[string]string{"version": org.DPAVersion})
	if res.StatusCode != s201 {
		t.Fatalf("accept: %d %s", res.StatusCode, res.Body)
	}
	type acceptance struct {
		ID         string    `json:"id"`
		Version    string    `json:"version"`
		AcceptedAt time.Time `json:"accepted_at"`
		AcceptedBy *struct {
			AccountID string `json:"account_id"`
			Name      string `json:"name"`
		} `json:"accepted_by"`
	}
	var got acceptance
	res.decode(t, &got)
	if got.Version != org.DPAVersion || !got.AcceptedAt.Equal(at) || got.AcceptedBy == nil ||
		got.AcceptedBy.AccountID != f.Owner.ID || got.AcceptedBy.Name != f.Owner.Name {
		t.Fatalf("acceptance = %+v", got)
	}
	if res := owner.sendJSON(t, http.MethodPost, base+"/dpa", map[string]string{"version": org.DPAVersion}); res.StatusCode != s409 {
		t.Fatalf("second acceptance of the same version: %d", res.StatusCode)
	}

	var detail struct {
		DPA *acceptance `json:"dpa"`
	}
	h.apiClient(t, f.Member).get(t, base).decode(t, &detail)
	if detail.DPA == nil || detail.DPA.ID != got.ID {
		t.Fatalf("organisation's dpa = %+v", detail.DPA)
	}
	var status struct {
		Offered     string       `json:"offered_version"`
		Current     *acceptance  `json:"current"`
		Acceptances []acceptance `json:"acceptances"`
	}
	h.apiClient(t, f.Admin).get(t, base+"/dpa").decode(t, &status)
	if status.Offered != org.DPAVersion || status.Current == nil || len(status.Acceptances) != 1 {
		t.Fatalf("dpa status = %+v", status)
	}
	page := h.signIn(t, f.Member).get(t, "/orgs/"+f.ID)
	for _, want := range []string{org.DPAVersion, f.Owner.Name, at.Format("2 January 2006, 15:04 UTC")} {
		if !strings.Contains(page.text(), want) {
			t.Errorf("the organisation page does not show %q", want)
		}
	}
	entries, err := store.AuditForSubject(context.Background(), h.DB, f.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	audited := 0
	for _, e := range entries {
		if e.Action == "org.dpa.accept" && e.ActorID == f.Owner.ID && strings.Contains(e.Detail, org.DPAVersion) && e.At.Equal(at) {
			audited++
		}
	}
	if audited != 1 {
		t.Errorf("%d audit entries for the acceptance", audited)
	}
}

// ---- bad input ----

func TestOrgBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newOrgFixture(t, h)
	owner := h.apiClient(t, f.Owner)
	browser := h.signIn(t, f.Owner)
	base := "/api/orgs/" + f.ID
	orgs := orgCount(t, h, `SELECT COUNT(*) FROM organisations`)
	unprocessable := http.StatusUnprocessableEntity

	for _, c := range []struct {
		body  map[string]string
		field string
	}{
		{map[string]string{"name": strings.Repeat("x", 101)}, "name"},
		{map[string]string{"name": "   "}, "name"},
		{map[string]string{"name": "Two\nlines"}, "name"},
		{map[string]string{"name": "Fine", "colour": "red"}, "colour"},
		{map[string]string{"name": "Fine", "colour": "#12345"}, "colour"},
	} {
		res := owner.sendJSON(t, http.MethodPost, "/api/orgs", c.body)
		if res.StatusCode != unprocessable || res.problemFields(t)[c.field] == "" {
			t.Errorf("create %v: %d %s", c.body, res.StatusCode, res.Body)
		}
		res = owner.sendJSON(t, http.MethodPatch, base, c.body)
		if res.StatusCode != unprocessable || res.problemFields(t)[c.field] == "" {
			t.Errorf("patch %v: %d %s", c.body, res.StatusCode, res.Body)
		}
	}
	if res := owner.sendJSON(t, http.MethodPost, "/api/orgs", map[string]string{"name": "X", "owner": "me"}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown field: %d", res.StatusCode)
	}
	if n := orgCount(t, h, `SELECT COUNT(*) FROM organisations`); n != orgs {
		t.Errorf("refused creations made %d organisations", n-orgs)
	}
	o, _, err := store.OrganisationFor(context.Background(), h.DB, f.ID, f.Owner.ID)
	if err != nil || o.Name != "Fixture Ltd" || o.Colour != "#3347d1" {
		t.Errorf("refused edits changed the organisation: %+v", o)
	}

	// The browser form shows the typed values with per-field messages.
	res := browser.postForm(t, "/orgs", url.Values{"name": {strings.Repeat("y", 101)}, "colour": {"#00ff00"}})
	if res.StatusCode != unprocessable {
		t.Fatalf("form: %d", res.StatusCode)
	}
	body := res.text()
	if !strings.Contains(body, `class="field-error" id="org-name-error"`) || !strings.Contains(body, `aria-describedby="org-name-hint org-name-error"`) ||
		!strings.Contains(body, strings.Repeat("y", 101)) || !strings.Contains(body, `value="#00ff00"`) {
		t.Fatalf("form page lacks the messages or the typed values:\n%s", body)
	}
	res = browser.postForm(t, "/orgs/"+f.ID+"/settings", url.Values{"name": {"Kept"}, "colour": {"blue"}})
	if res.StatusCode != unprocessable || !strings.Contains(res.text(), `id="settings-colour-error"`) || !strings.Contains(res.text(), `value="Kept"`) {
		t.Fatalf("settings form: %d", res.StatusCode)
	}

	// Invitations to bad addresses or roles send nothing.
	mails := orgCount(t, h, `SELECT COUNT(*) FROM mail_outbox`)
	for _, c := range []struct {
		body  map[string]string
		field string
	}{
		{map[string]string{"email": "not-an-address", "role": "member"}, "email"},
		{map[string]string{"email": "Someone <someone@example.org>", "role": "member"}, "email"},
		{map[string]string{"email": strings.Repeat("a", 250) + "@example.org", "role": "member"}, "email"},
		{map[string]string{"email": "someone@example.org", "role": "superuser"}, "role"},
	} {
		res := owner.sendJSON(t, http.MethodPost, base+"/invitations", c.body)
		if res.StatusCode != unprocessable || res.problemFields(t)[c.field] == "" {
			t.Errorf("invite %v: %d %s", c.body, res.StatusCode, res.Body)
		}
	}
	res = browser.postForm(t, "/orgs/"+f.ID+"/invitations", url.Values{"email": {"nope"}, "role": {"member"}})
	if res.StatusCode != unprocessable || !strings.Contains(res.text(), `id="invite-email-error"`) || !strings.Contains(res.text(), `value="nope"`) {
		t.Errorf("invite form: %d", res.StatusCode)
	}
	if n := orgCount(t, h, `SELECT COUNT(*) FROM mail_outbox`); n != mails {
		t.Errorf("refused invitations queued %d messages", n-mails)
	}

	// A wrong name does not delete the organisation.
	res = browser.postForm(t, "/orgs/"+f.ID+"/delete", url.Values{"confirm_name": {"fixture ltd"}})
	if res.StatusCode != unprocessable || !strings.Contains(res.text(), `id="delete-name-error"`) {
		t.Errorf("delete with a wrong name: %d", res.StatusCode)
	}
	if _, _, err := store.OrganisationFor(context.Background(), h.DB, f.ID, f.Owner.ID); err != nil {
		t.Errorf("the organisation is gone: %v", err)
	}
}

func TestOrgNameIsStoredAsGivenAndEscaped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	owner := h.newMember(t)
	const name = `<script>alert("x")</script> & Co`
	res := h.apiClient(t, owner).sendJSON(t, http.MethodPost, "/api/orgs", map[string]string{"name": name})
	if res.StatusCode != s201 {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	var o struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	res.decode(t, &o)
	if o.Name != name {
		t.Fatalf("stored name %q", o.Name)
	}
	for _, path := range []string{"/orgs", "/orgs/" + o.ID} {
		page := h.signIn(t, owner).get(t, path)
		if page.StatusCode != s200 || strings.Contains(page.text(), "<script>alert") || !strings.Contains(page.text(), "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co") {
			t.Errorf("%s does not escape the name", path)
		}
	}
}

func TestOrgUnverifiedMemberCannotCreate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newUnverifiedMember(t)
	if res := h.apiClient(t, m).sendJSON(t, http.MethodPost, "/api/orgs", map[string]string{"name": "Acme"}); res.StatusCode != s403 {
		t.Fatalf("API: %d", res.StatusCode)
	}
	if res := h.signIn(t, m).postForm(t, "/orgs", url.Values{"name": {"Acme"}}); res.StatusCode != s403 {
		t.Fatalf("form: %d", res.StatusCode)
	}
	if n := orgCount(t, h, `SELECT COUNT(*) FROM organisations`); n != 0 {
		t.Fatalf("%d organisations", n)
	}
}

// ---- logos ----

func TestOrgLogo(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newOrgFixture(t, h)
	owner := h.apiClient(t, f.Owner)
	browser := h.signIn(t, f.Owner)
	base := "/api/orgs/" + f.ID
	logoKey := func() string {
		o, _, err := store.OrganisationFor(context.Background(), h.DB, f.ID, f.Owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		return o.LogoKey
	}
	first := logoKey()
	if first == "" {
		t.Fatal("the fixture has no logo")
	}
	blobs := orgCount(t, h, `SELECT COUNT(*) FROM blobs`)

	// Served as a picture and nothing else, to members only.
	res := h.signIn(t, f.Guest).get(t, "/orgs/"+f.ID+"/logo")
	if res.StatusCode != s200 || res.Header.Get("Content-Type") != "image/png" || !bytes.Equal(res.Body, orgPNG(t, 8)) {
		t.Fatalf("logo: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for name, want := range map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"Content-Security-Policy":      "default-src 'none'; sandbox",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Cache-Control":                "private, no-cache",
	} {
		if got := res.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if again := h.signIn(t, f.Guest).do(t, http.MethodGet, "/orgs/"+f.ID+"/logo", nil, http.Header{"If-None-Match": {res.Header.Get("ETag")}}); again.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %d", again.StatusCode)
	}

	// Refused uploads store nothing and keep the old logo.
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`)
	oversize := append(orgPNG(t, 1), make([]byte, org.MaxLogoBytes)...)
	for _, c := range []struct {
		name   string
		ct     string
		body   []byte
		status int
	}{
		{"svg", "image/svg+xml", svg, http.StatusUnsupportedMediaType},
		{"svg claiming to be png", "image/png", svg, http.StatusUnsupportedMediaType},
		{"html", "image/png", []byte("<!doctype html><script>alert(1)</script>"), http.StatusUnsupportedMediaType},
		{"oversize", "image/png", oversize, http.StatusRequestEntityTooLarge},
		{"far oversize", "image/png", make([]byte, 3<<20), http.StatusRequestEntityTooLarge},
		{"empty", "image/png", nil, http.StatusUnprocessableEntity},
	} {
		res := owner.do(t, http.MethodPut, base+"/logo", bytes.NewReader(c.body), http.Header{"Content-Type": {c.ct}})
		if res.StatusCode != c.status {
			t.Errorf("API %s: %d, want %d: %s", c.name, res.StatusCode, c.status, res.Body)
		}
		if c.body == nil {
			continue
		}
		form, ct := orgMultipart(t, "logo", "logo.png", c.ct, c.body)
		res = browser.do(t, http.MethodPost, "/orgs/"+f.ID+"/logo", form, http.Header{"Content-Type": {ct}})
		if res.StatusCode != c.status {
			t.Errorf("form %s: %d, want %d", c.name, res.StatusCode, c.status)
		}
		if c.status != http.StatusRequestEntityTooLarge || len(c.body) < 2<<20 {
			if !strings.Contains(res.text(), `id="logo-file-error"`) {
				t.Errorf("form %s: no field message", c.name)
			}
		}
	}
	if n := orgCount(t, h, `SELECT COUNT(*) FROM blobs`); n != blobs {
		t.Errorf("refused uploads left %d blobs", n-blobs)
	}
	if logoKey() != first {
		t.Errorf("a refused upload replaced the logo")
	}

	// A new logo replaces the old one, whose blob is deleted.
	form, ct := orgMultipart(t, "logo", "new.png", "application/octet-stream", orgPNG(t, 200))
	res = browser.do(t, http.MethodPost, "/orgs/"+f.ID+"/logo", form, http.Header{"Content-Type": {ct}})
	if res.StatusCode != s303 {
		t.Fatalf("upload form: %d %s", res.StatusCode, res.Body)
	}
	second := logoKey()
	if second == first || second == "" {
		t.Fatalf("logo key %q after replacing %q", second, first)
	}
	if n := orgCount(t, h, `SELECT COUNT(*) FROM blobs WHERE key = ?`, first); n != 0 {
		t.Errorf("the replaced logo is still stored")
	}
	if _, _, err := h.Blobs.Get(context.Background(), first); err == nil {
		t.Errorf("the replaced logo can still be read")
	}
	if res := owner.do(t, http.MethodDelete, base+"/logo", nil, nil); res.StatusCode != s200 {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	if logoKey() != "" || orgCount(t, h, `SELECT COUNT(*) FROM blobs WHERE key = ?`, second) != 0 {
		t.Errorf("the removed logo is still stored")
	}
	if res := owner.get(t, base+"/logo"); res.StatusCode != s404 {
		t.Errorf("logo after removal: %d", res.StatusCode)
	}

	// Deleting the organisation deletes its logo.
	if res := owner.do(t, http.MethodPut, base+"/logo", bytes.NewReader(orgPNG(t, 5)), nil); res.StatusCode != s200 {
		t.Fatalf("upload: %d", res.StatusCode)
	}
	third := logoKey()
	if res := owner.do(t, http.MethodDelete, base, nil, nil); res.StatusCode != s204 {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if n := orgCount(t, h, `SELECT COUNT(*) FROM blobs WHERE key = ?`, third); n != 0 {
		t.Errorf("the deleted organisation's logo is still stored")
	}
}

// TestOrgPagesRender walks the pages of a full organisation as its owner,
// so that every template branch with data in it runs.
func TestOrgPagesRender(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newOrgFixture(t, h)
	owner := h.signIn(t, f.Owner)
	if res := owner.postForm(t, "/orgs/"+f.ID+"/dpa", url.Values{"version": {org.DPAVersion}, "confirm": {"yes"}}); res.StatusCode != s303 {
		t.Fatalf("dpa form: %d", res.StatusCode)
	}
	for path, want := range map[string]string{
		"/orgs?done=created":          "Fixture Ltd",
		"/orgs/new":                   "Create the organisation",
		"/orgs/" + f.ID + "?done=dpa": "The Data Processing Addendum is accepted",
		"/invitations/" + f.Token:     "Join Fixture Ltd",
	} {
		res := owner.get(t, path)
		if res.StatusCode != s200 || !strings.Contains(res.text(), want) {
			t.Errorf("%s: %d, lacks %q", path, res.StatusCode, want)
		}
	}
	page := owner.get(t, "/orgs/"+f.ID).text()
	for _, want := range []string{
		`action="/orgs/` + f.ID + `/members/` + f.Target.ID + `/role"`,
		`action="/orgs/` + f.ID + `/members/` + f.Target.ID + `/remove"`,
		`action="/orgs/` + f.ID + `/invitations/` + f.InvitationID + `/revoke"`,
		`enctype="multipart/form-data"`,
		`<img src="/orgs/` + f.ID + `/logo?v=`,
		`action="/orgs/` + f.ID + `/delete"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the owner's page lacks %s", want)
		}
	}
	// The owner has no remove button for themselves and cannot be demoted
	// while the only owner.
	if strings.Contains(page, `/members/`+f.Owner.ID+`/remove"`) || strings.Contains(page, `/members/`+f.Owner.ID+`/role"`) {
		t.Errorf("the last owner's row offers removal or a role change")
	}
	if res := owner.postForm(t, "/orgs/"+f.ID+"/members/"+f.Target.ID+"/role", url.Values{"role": {"admin"}}); res.StatusCode != s303 ||
		res.Header.Get("Location") != "/orgs/"+f.ID+"?done=role" {
		t.Fatalf("role form: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}
