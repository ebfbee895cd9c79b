package web_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/picture/picturetest"
	"github.com/sessionshq/sessions/internal/store"
)

// ---- helpers ----

// memberProfile is the part of GET /api/me/profile these tests read.
type memberProfile struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Email         string            `json:"email"`
	EmailVerified bool              `json:"email_verified"`
	Status        string            `json:"status"`
	Username      string            `json:"username"`
	Phone         string            `json:"phone"`
	Address       map[string]string `json:"address"`
	BirthDate     string            `json:"birth_date"`
	Country       string            `json:"country"`
	Interests     []string          `json:"interests"`
	LinkedIn      string            `json:"linkedin_url"`
	AvatarURL     string            `json:"avatar_url"`
	Controllers   []struct {
		Name string `json:"name"`
		Role string `json:"role"`
	} `json:"controllers"`
	Restrictions struct {
		Child             bool   `json:"child"`
		GuardianConfirmed bool   `json:"guardian_confirmed"`
		Marketing         bool   `json:"marketing"`
		Analytics         bool   `json:"analytics"`
		Recordings        bool   `json:"recordings"`
		AI                bool   `json:"ai"`
		Reason            string `json:"reason"`
	} `json:"restrictions"`
	Completeness struct {
		Filled int `json:"filled"`
		Total  int `json:"total"`
	} `json:"completeness"`
	Changed []string `json:"changed"`
}

func getProfile(t *testing.T, api *client) memberProfile {
	t.Helper()
	res := api.get(t, "/api/me/profile")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/me/profile: %d %s", res.StatusCode, res.Body)
	}
	var p memberProfile
	res.decode(t, &p)
	return p
}

func putProfile(t *testing.T, api *client, body map[string]any) *response {
	t.Helper()
	return api.sendJSON(t, http.MethodPut, "/api/me/profile", body)
}

func (h *harness) auditCount(t *testing.T) int {
	t.Helper()
	return h.count(t, `SELECT COUNT(*) FROM audit_log`)
}

// profileState is what "nothing changed" compares: the stored name, the
// stored profile and the length of the audit log.
type profileState struct {
	name    string
	profile account.Profile
	audit   int
}

func (h *harness) profileState(t *testing.T, m *testMember) profileState {
	t.Helper()
	a, err := store.AccountByID(context.Background(), h.DB, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := store.GetProfile(context.Background(), h.DB, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return profileState{name: a.Name, profile: p, audit: h.auditCount(t)}
}

func (s profileState) same(o profileState) bool {
	return s.name == o.name && s.audit == o.audit && s.profile.Phone == o.profile.Phone &&
		s.profile.Company == o.profile.Company && s.profile.Country == o.profile.Country &&
		s.profile.LinkedIn == o.profile.LinkedIn && s.profile.Facebook == o.profile.Facebook &&
		s.profile.Username == o.profile.Username && s.profile.BirthDate.Equal(o.profile.BirthDate) &&
		s.profile.UpdatedAt.Equal(o.profile.UpdatedAt)
}

// savedProfile is a valid profile body for PUT /api/me/profile.
func savedProfile(name string) map[string]any {
	return map[string]any{
		"name": name, "username": "ada_l", "phone": "+44 20 7946 0958", "company": "Engines Ltd",
		"address":    map[string]string{"street": "1 Main St", "city": "London", "postcode": "N1 9GU", "region": "", "country": "GB"},
		"birth_date": "1990-12-10", "gender": "Woman", "country": "GB", "city": "London",
		"interests": []string{"maths", "poetry"}, "linkedin_url": "https://www.linkedin.com/in/ada", "facebook_url": "",
	}
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// uploadAvatar posts data as the avatar form's file, named name.
func uploadAvatar(t *testing.T, c *client, name string, data []byte) *response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("avatar", name)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	w.Close()
	return c.do(t, http.MethodPost, "/account/avatar", &body, http.Header{"Content-Type": {w.FormDataContentType()}})
}

// webpBytes is a lossless WebP of one colour of the given size.
func webpBytes(w, h int) []byte { return picturetest.WebP(w, h, "") }

// checkPage fails the test when a page has code the Content Security
// Policy would block (inline script, style or event handlers), an
// element id used twice, or a label or ARIA reference to a missing id.
func checkPage(t *testing.T, name string, body []byte) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	ids := map[string]int{}
	var refs []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		src := ""
		for _, a := range n.Attr {
			switch {
			case a.Key == "id":
				ids[a.Val]++
			case a.Key == "for" || a.Key == "aria-describedby" || a.Key == "aria-labelledby" || a.Key == "list":
				refs = append(refs, strings.Fields(a.Val)...)
			case a.Key == "style" || strings.HasPrefix(a.Key, "on"):
				t.Errorf("%s: <%s %s> is inline code the CSP blocks", name, n.Data, a.Key)
			case a.Key == "src":
				src = a.Val
			}
		}
		if (n.Data == "script" && src == "") || n.Data == "style" {
			t.Errorf("%s: inline <%s>", name, n.Data)
		}
	}
	for id, count := range ids {
		if count > 1 {
			t.Errorf("%s: id %q used %d times", name, id, count)
		}
	}
	for _, ref := range refs {
		if ids[ref] == 0 {
			t.Errorf("%s: reference to missing id %q", name, ref)
		}
	}
}

var guardianLinkPattern = regexp.MustCompile(`http://sessions\.test(/guardian/confirm\?token=[A-Za-z0-9%._-]+)`)

// ---- tests ----

func TestAccountNeedsSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	anon := h.anon()
	for _, path := range []string{"/account", "/account/profile", "/account/close", "/account/avatar"} {
		res := anon.get(t, path)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin?next="+url.QueryEscape(path) {
			t.Errorf("GET %s anonymously: %d to %q", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/api/me/profile"}, {http.MethodPut, "/api/me/profile"}, {http.MethodPost, "/api/me/erasure"},
		{http.MethodPost, "/api/me/deactivate"}, {http.MethodPost, "/api/me/guardian"}, {http.MethodGet, "/api/me/avatar"},
	} {
		if res := anon.sendJSON(t, tc.method, tc.path, map[string]string{}); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s anonymously: %d", tc.method, tc.path, res.StatusCode)
		}
	}
	// A state-changing API call does not accept the browser's cookie.
	ada := h.newMember(t)
	if res := putProfile(t, h.signIn(t, ada), savedProfile("Ada")); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("PUT with a cookie instead of a token: %d", res.StatusCode)
	}
}

func TestAccountDashboard(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	browser := h.signIn(t, ada)

	res := browser.get(t, "/account")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /account: %d %s", res.StatusCode, res.Body)
	}
	checkPage(t, "dashboard", res.Body)
	page := res.text()
	for _, want := range []string{
		"Hello, " + ada.Name, "1 of 11 parts filled in", "You have not told us where you live", "Sessions Technologies Inc",
		`href="/account/profile"`, `href="/account/security"`, `href="/privacy"`, `href="/orgs"`, `href="/account/close"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}
	if strings.Contains(page, "Romania SRL") {
		t.Error("the Romanian affiliate is named without a European residence")
	}
	if strings.Contains(page, "Please confirm your e-mail address") {
		t.Error("a verified member sees the verification banner")
	}

	// Unverified members are asked to confirm their address.
	newbie := h.newUnverifiedMember(t)
	if page := h.signIn(t, newbie).get(t, "/account").text(); !strings.Contains(page, "Please confirm your e-mail address") {
		t.Error("an unverified member sees no verification banner")
	}

	// With a European residence both controllers are named.
	api := h.apiClient(t, ada)
	body := savedProfile(ada.Name)
	body["country"] = "DE"
	if res := putProfile(t, api, body); res.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", res.StatusCode, res.Body)
	}
	page = browser.get(t, "/account").text()
	for _, want := range []string{"Sessions Technologies Romania SRL", "Joint controller", "Germany"} {
		if !strings.Contains(page, want) {
			t.Errorf("after choosing Germany the dashboard lacks %q", want)
		}
	}
	if strings.Contains(page, "You have not told us where you live") {
		t.Error("the dashboard still asks for the country")
	}
}

func TestControllersByResidence(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	api := h.apiClient(t, ada)
	if p := getProfile(t, api); len(p.Controllers) != 1 || p.Controllers[0].Name != "Sessions Technologies Inc" {
		t.Errorf("no country: controllers %+v", p.Controllers)
	}
	for country, want := range map[string][]string{
		"DE": {"Sessions Technologies Inc", "Sessions Technologies Romania SRL"},
		"GB": {"Sessions Technologies Inc", "Sessions Technologies Romania SRL"},
		"CH": {"Sessions Technologies Inc", "Sessions Technologies Romania SRL"},
		"US": {"Sessions Technologies Inc"},
	} {
		body := savedProfile(ada.Name)
		body["country"] = country
		res := putProfile(t, api, body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", country, res.StatusCode, res.Body)
		}
		p := getProfile(t, api)
		var got []string
		for _, c := range p.Controllers {
			got = append(got, c.Name)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("resident of %s: controllers %v, want %v", country, got, want)
		}
		if len(p.Controllers) == 2 && p.Controllers[1].Role != "joint controller" {
			t.Errorf("resident of %s: the affiliate's role is %q", country, p.Controllers[1].Role)
		}
	}
}

func TestProfileAPIRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	api := h.apiClient(t, ada)
	before := h.auditCount(t)

	res := putProfile(t, api, savedProfile("Ada Lovelace"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", res.StatusCode, res.Body)
	}
	var put memberProfile
	res.decode(t, &put)
	if len(put.Changed) != 14 {
		t.Errorf("changed = %v", put.Changed)
	}
	if got := h.auditCount(t); got != before+1 {
		t.Errorf("audit entries: %d, want %d", got, before+1)
	}
	p := getProfile(t, api)
	if p.Name != "Ada Lovelace" || p.Username != "ada_l" || p.Phone != "+442079460958" || p.BirthDate != "1990-12-10" ||
		p.Address["postcode"] != "N1 9GU" || strings.Join(p.Interests, ",") != "maths,poetry" || p.Country != "GB" ||
		p.Completeness.Filled != 10 || p.Completeness.Total != 11 || p.Restrictions.Child || !p.Restrictions.Marketing {
		t.Errorf("profile = %+v", p)
	}
	// The same body again changes nothing and is not audited.
	res = putProfile(t, api, savedProfile("Ada Lovelace"))
	res.decode(t, &put)
	if res.StatusCode != http.StatusOK || len(put.Changed) != 0 || h.auditCount(t) != before+1 {
		t.Errorf("repeat PUT: %d, changed %v", res.StatusCode, put.Changed)
	}
	// Unknown fields are refused.
	body := savedProfile("Ada")
	body["shoe_size"] = 40
	if res := putProfile(t, api, body); res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown field: %d", res.StatusCode)
	}
}

func TestProfileFormSaves(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	browser := h.signIn(t, ada)

	page := browser.get(t, "/account/profile")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /account/profile: %d", page.StatusCode)
	}
	checkPage(t, "profile form", page.Body)
	text := page.text()
	if !strings.Contains(text, `<span class="req">required</span>`) || strings.Count(text, `<span class="opt">optional</span>`) < 15 {
		t.Error("the form does not mark its fields required and optional")
	}
	form := url.Values{
		"name": {"Ada Lovelace"}, "phone": {"+40 721-234-567"}, "country": {"RO"}, "birth_date": {"1985-05-05"},
		"interests": {"maths, engines"}, "facebook_url": {"https://www.facebook.com/ada"}, "address.city": {"Cluj"},
	}
	res := browser.postForm(t, "/account/profile", form)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account?done=profile" {
		t.Fatalf("POST: %d %q %s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	st := h.profileState(t, ada)
	if st.name != "Ada Lovelace" || st.profile.Phone != "+40721234567" || st.profile.Address.City != "Cluj" ||
		strings.Join(st.profile.Interests, "|") != "maths|engines" || st.profile.Country != "RO" {
		t.Errorf("stored %+v", st)
	}
	if !strings.Contains(browser.get(t, "/account?done=profile").text(), "Your profile was saved.") {
		t.Error("no confirmation after saving")
	}
}

// badInputs are refused on the API and on the form alike.
var badInputs = []struct {
	name  string
	field string
	value any
}{
	{"overlong name", "name", strings.Repeat("n", 201)},
	{"empty name", "name", "   "},
	{"overlong company", "company", strings.Repeat("c", 201)},
	{"overlong street", "address.street", strings.Repeat("s", 201)},
	{"phone in local form", "phone", "0721 234 567"},
	{"phone with letters", "phone", "+40 call me"},
	{"LinkedIn over http", "linkedin_url", "http://www.linkedin.com/in/ada"},
	{"LinkedIn as javascript", "linkedin_url", "javascript:alert(1)"},
	{"LinkedIn on another host", "linkedin_url", "https://evil.example/in/ada"},
	{"Facebook on LinkedIn", "facebook_url", "https://www.linkedin.com/in/ada"},
	{"overlong Facebook", "facebook_url", "https://facebook.com/" + strings.Repeat("a", 300)},
	{"birth date in the future", "birth_date", "2026-03-03"},
	{"unknown country", "country", "XX"},
	{"unknown address country", "address.country", "Atlantis"},
	{"username too short", "username", "ab"},
	{"username with markup", "username", "<b>ada</b>"},
	{"too many interests", "interests", []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11"}},
}

// withValue sets a field of the API body, "address.x" inside the address.
func withValue(body map[string]any, field string, v any) map[string]any {
	if sub, ok := strings.CutPrefix(field, "address."); ok {
		addr := map[string]string{}
		for k, v := range body["address"].(map[string]string) {
			addr[k] = v
		}
		addr[sub] = v.(string)
		body["address"] = addr
		return body
	}
	body[field] = v
	return body
}

func TestProfileBadInputAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	api := h.apiClient(t, ada)
	if res := putProfile(t, api, savedProfile("Ada")); res.StatusCode != http.StatusOK {
		t.Fatalf("setup: %d %s", res.StatusCode, res.Body)
	}
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			before := h.profileState(t, ada)
			h.Clock.Advance(time.Minute)
			res := putProfile(t, api, withValue(savedProfile("Ada Changed"), tc.field, tc.value))
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", res.StatusCode, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			fields := res.problemFields(t)
			if fields[tc.field] == "" || len(fields) != 1 {
				t.Errorf("errors = %v, want one for %s", fields, tc.field)
			}
			if after := h.profileState(t, ada); !before.same(after) {
				t.Errorf("the refused body changed something:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

func TestProfileBadInputForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	browser := h.signIn(t, ada)
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			before := h.profileState(t, ada)
			value := tc.value
			if list, ok := value.([]string); ok {
				value = strings.Join(list, ", ")
			}
			form := url.Values{"name": {"Ada Changed"}, "city": {"Cluj"}, tc.field: {value.(string)}}
			res := browser.postForm(t, "/account/profile", form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", res.StatusCode)
			}
			checkPage(t, "refused profile form", res.Body)
			page := res.text()
			id := "f-" + strings.ReplaceAll(tc.field, ".", "-")
			if !strings.Contains(page, `class="field-error" id="`+id+`-error"`) {
				t.Errorf("no message beside %s", tc.field)
			}
			if !regexp.MustCompile(`id="` + id + `"[^>]*aria-describedby="[^"]*` + id + `-error"`).MatchString(page) {
				t.Errorf("the %s input does not point at its message", tc.field)
			}
			if !strings.Contains(page, `value="Cluj"`) {
				t.Error("what was typed is not shown again")
			}
			if after := h.profileState(t, ada); !before.same(after) {
				t.Errorf("the refused form changed something")
			}
		})
	}
}

func TestNameWithMarkupIsStoredAndEscaped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	name := `<script>alert("x")</script><b>Ada</b>`
	if res := putProfile(t, h.apiClient(t, ada), savedProfile(name)); res.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", res.StatusCode, res.Body)
	}
	if st := h.profileState(t, ada); st.name != name {
		t.Fatalf("stored name %q, want it as given", st.name)
	}
	page := h.signIn(t, ada).get(t, "/account").text()
	if strings.Contains(page, `<script>alert`) || strings.Contains(page, "<b>Ada</b>") {
		t.Error("the name reached the page as markup")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Ada&lt;/b&gt;") {
		t.Error("the escaped name is not on the page")
	}
}

func TestChildAccountAndGuardianConfirmation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	kim := h.newMember(t)
	api := h.apiClient(t, kim)
	browser := h.signIn(t, kim)
	res := putProfile(t, api, map[string]any{"name": "Kim", "birth_date": "2013-05-01", "country": "DE"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", res.StatusCode, res.Body)
	}
	p := getProfile(t, api)
	r := p.Restrictions
	if !r.Child || r.GuardianConfirmed || r.Marketing || r.Analytics || r.Recordings || r.AI {
		t.Fatalf("a 12-year-old in Germany: %+v", r)
	}
	dash := browser.get(t, "/account")
	checkPage(t, "child's dashboard", dash.Body)
	if page := dash.text(); !strings.Contains(page, "Off until a parent or guardian confirms") ||
		!strings.Contains(page, `action="/account/guardian"`) {
		t.Error("the dashboard does not show the restrictions and the guardian form")
	}

	// Bad addresses are refused and send nothing.
	for _, bad := range []string{"not-an-address", kim.Email, strings.Repeat("p", 250) + "@example.com"} {
		res := api.sendJSON(t, http.MethodPost, "/api/me/guardian", map[string]string{"guardian_email": bad})
		if res.StatusCode != http.StatusUnprocessableEntity || res.problemFields(t)["guardian_email"] == "" {
			t.Errorf("guardian %q: %d %s", bad, res.StatusCode, res.Body)
		}
	}
	res = browser.postForm(t, "/account/guardian", url.Values{"guardian_email": {"nope"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.text(), `id="f-guardian-email-error"`) ||
		!strings.Contains(res.text(), `value="nope"`) {
		t.Errorf("the form's refusal: %d", res.StatusCode)
	}
	checkPage(t, "refused guardian form", res.Body)
	if n := h.deliverMail(t); n != 0 {
		t.Fatalf("%d mails sent for refused addresses", n)
	}

	// A link that expires is refused.
	res = browser.postForm(t, "/account/guardian", url.Values{"guardian_email": {"Parent@Example.com"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("guardian form: %d %s", res.StatusCode, res.Body)
	}
	msg := h.nextMail(t)
	if msg.EnvelopeTo[0] != "parent@example.com" || !strings.Contains(msg.Text, "Kim") {
		t.Fatalf("mail to %v: %s", msg.EnvelopeTo, msg.Text)
	}
	m := guardianLinkPattern.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("no link in %s", msg.Text)
	}
	expired := m[1]
	h.Clock.Advance(account.GuardianLinkLifetime + time.Minute)
	anon := h.anon()
	if res := anon.get(t, expired); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("expired link: %d", res.StatusCode)
	}

	// A fresh link: the page explains, a forged token is refused, the
	// confirmation works once.
	if res := api.sendJSON(t, http.MethodPost, "/api/me/guardian", map[string]string{"guardian_email": "parent@example.com"}); res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/me/guardian: %d %s", res.StatusCode, res.Body)
	}
	msg = h.nextMail(t)
	m = guardianLinkPattern.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("no link in %s", msg.Text)
	}
	u, _ := url.Parse(m[1])
	token := u.Query().Get("token")

	page := anon.get(t, m[1])
	if page.StatusCode != http.StatusOK || !strings.Contains(page.text(), "AI assistant") || !strings.Contains(page.text(), account.GuardianNoticeVersion) {
		t.Fatalf("guardian page: %d", page.StatusCode)
	}
	checkPage(t, "guardian page", page.Body)
	if p := getProfile(t, api); p.Restrictions.GuardianConfirmed {
		t.Fatal("opening the page confirmed")
	}
	forged := token[:len(token)-2] + "xx"
	for name, tok := range map[string]string{"forged": forged, "expired": mustQuery(t, expired), "empty": ""} {
		if res := anon.postForm(t, "/guardian/confirm", url.Values{"token": {tok}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s token: %d", name, res.StatusCode)
		}
	}
	if p := getProfile(t, api); p.Restrictions.GuardianConfirmed || p.Restrictions.Marketing {
		t.Fatal("a bad link confirmed")
	}

	res = anon.postForm(t, "/guardian/confirm", url.Values{"token": {token}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.text(), "You confirmed") {
		t.Fatalf("confirm: %d %s", res.StatusCode, res.Body)
	}
	r = getProfile(t, api).Restrictions
	if !r.Child || !r.GuardianConfirmed || !r.Marketing || !r.Analytics || !r.Recordings || !r.AI {
		t.Errorf("after confirmation: %+v", r)
	}
	if res := anon.postForm(t, "/guardian/confirm", url.Values{"token": {token}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("reused link: %d", res.StatusCode)
	}

	// The evidence names the guardian, the time, the text and the link.
	reqs, err := store.GuardianRequests(context.Background(), h.DB, kim.ID)
	if err != nil {
		t.Fatal(err)
	}
	ev := reqs[0]
	if ev.Status != "confirmed" || ev.GuardianEmail != "parent@example.com" || ev.ConfirmedAt == nil ||
		!ev.ConfirmedAt.Equal(h.Clock.Now()) || ev.NoticeSHA256 != account.GuardianNoticeDigest() || ev.NoticeVersion != account.GuardianNoticeVersion {
		t.Errorf("evidence = %+v", ev)
	}

	// None of it reached the logs.
	logs := h.Logs.String()
	for _, secret := range []string{"parent@example.com", "Kim", token, kim.Email} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold %q", secret)
		}
	}
}

func mustQuery(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func TestAdultNeedsNoGuardian(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	api := h.apiClient(t, ada)
	putProfile(t, api, savedProfile("Ada"))
	r := getProfile(t, api).Restrictions
	if r.Child || !r.Marketing || !r.Analytics || !r.Recordings || !r.AI {
		t.Errorf("an adult: %+v", r)
	}
	res := api.sendJSON(t, http.MethodPost, "/api/me/guardian", map[string]string{"guardian_email": "parent@example.com"})
	if res.StatusCode != http.StatusConflict {
		t.Errorf("guardian link for an adult: %d", res.StatusCode)
	}
}

func TestAvatar(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	browser := h.signIn(t, ada)
	blobsOf := func() int {
		t.Helper()
		list, err := store.BlobsOfPerson(context.Background(), h.DB, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}

	img := pngBytes(t)
	res := uploadAvatar(t, browser, "me.png", img)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.StatusCode, res.Body)
	}
	got := browser.get(t, "/account/avatar")
	if got.StatusCode != http.StatusOK || !bytes.Equal(got.Body, img) {
		t.Fatalf("GET /account/avatar: %d", got.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type": "image/png", "Content-Disposition": `inline; filename="avatar.png"`, "X-Content-Type-Options": "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
	} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if n := blobsOf(); n != 1 {
		t.Fatalf("%d blobs linked to the member, want 1", n)
	}
	if p := getProfile(t, h.apiClient(t, ada)); p.AvatarURL != "/api/me/avatar" {
		t.Errorf("avatar_url = %q", p.AvatarURL)
	}

	// A replacement deletes the old picture; a JPEG named .png is a JPEG.
	if res := uploadAvatar(t, browser, "me.png", jpegBytes(t)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("replace: %d", res.StatusCode)
	}
	if n := blobsOf(); n != 1 {
		t.Errorf("%d blobs after replacing, want 1", n)
	}
	if ct := browser.get(t, "/account/avatar").Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("Content-Type %q after a JPEG upload", ct)
	}

	// Whatever is not a PNG, JPEG or WebP picture, or is too large, is refused.
	for name, data := range map[string][]byte{
		"html named .png": []byte("<html><script>alert(1)</script></html>"),
		"gif":             []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
		"svg":             []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
		"too large":       append(pngBytes(t), make([]byte, 2<<20)...),
		"empty":           {},
	} {
		res := uploadAvatar(t, browser, "x.png", data)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.text(), `id="f-avatar-error"`) {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
		checkPage(t, "refused picture", res.Body)
	}
	if n := blobsOf(); n != 1 {
		t.Errorf("refused uploads left %d blobs", n)
	}

	// The API takes the raw picture, and a WebP one.
	api := h.apiClient(t, ada)
	webp := webpBytes(16, 16)
	res = api.do(t, http.MethodPut, "/api/me/avatar", bytes.NewReader(webp), http.Header{"Content-Type": {"image/webp"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PUT /api/me/avatar: %d %s", res.StatusCode, res.Body)
	}
	if got := api.get(t, "/api/me/avatar"); got.Header.Get("Content-Type") != "image/webp" || !bytes.Equal(got.Body, webp) {
		t.Errorf("GET /api/me/avatar: %q", got.Header.Get("Content-Type"))
	}
	big := append(pngBytes(t), make([]byte, 2<<20)...)
	if res := api.do(t, http.MethodPut, "/api/me/avatar", bytes.NewReader(big), nil); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize PUT: %d", res.StatusCode)
	}

	// Only the owner gets the picture: another member has none.
	bob := h.newMember(t)
	if res := h.signIn(t, bob).get(t, "/account/avatar"); res.StatusCode != http.StatusNotFound {
		t.Errorf("another member's GET /account/avatar: %d", res.StatusCode)
	}

	if res := api.do(t, http.MethodDelete, "/api/me/avatar", nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", res.StatusCode)
	}
	if n := blobsOf(); n != 0 {
		t.Errorf("%d blobs after removal", n)
	}
	if res := api.get(t, "/api/me/avatar"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET after removal: %d", res.StatusCode)
	}
}

func TestDeactivation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	browser := h.signIn(t, ada)
	other := h.signIn(t, ada) // a second device
	api := h.apiClient(t, ada)

	checkPage(t, "close page", browser.get(t, "/account/close").Body)
	res := browser.postForm(t, "/account/deactivate", url.Values{})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.text(), `id="f-deactivate-error"`) {
		t.Fatalf("unconfirmed: %d", res.StatusCode)
	}
	checkPage(t, "refused close form", res.Body)
	if a, _ := store.AccountByID(context.Background(), h.DB, ada.ID); a.Status != account.Active {
		t.Fatal("an unconfirmed form deactivated the account")
	}

	res = browser.postForm(t, "/account/deactivate", url.Values{"confirm": {"yes"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/closed?done=deactivated" {
		t.Fatalf("deactivate: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	a, _ := store.AccountByID(context.Background(), h.DB, ada.ID)
	if a.Status != account.Deactivated || a.DeactivatedAt == nil {
		t.Errorf("account = %+v", a)
	}
	for name, c := range map[string]*client{"this browser": browser, "another device": other} {
		if res := c.get(t, "/account"); res.StatusCode != http.StatusSeeOther {
			t.Errorf("%s is still signed in: %d", name, res.StatusCode)
		}
	}
	if res := api.get(t, "/api/me/profile"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API token still works: %d", res.StatusCode)
	}
	if page := browser.get(t, "/account/closed?done=deactivated"); page.StatusCode != http.StatusOK || !strings.Contains(page.text(), "within 30 days") {
		t.Errorf("closed page: %d", page.StatusCode)
	}
	msg := h.nextMail(t)
	if msg.EnvelopeTo[0] != ada.Email || !strings.Contains(msg.Text, "30 days") {
		t.Errorf("deactivation mail to %v: %s", msg.EnvelopeTo, msg.Text)
	}
}

func TestDeleteMyAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// 31 January: the answer is due on the last day of February.
	h.Clock.Set(time.Date(2026, 1, 31, 15, 0, 0, 0, time.UTC))
	ada := h.newMember(t)
	browser := h.signIn(t, ada)
	api := h.apiClient(t, ada)

	if res := browser.postForm(t, "/account/delete", url.Values{}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unconfirmed: %d", res.StatusCode)
	}
	res := browser.postForm(t, "/account/delete", url.Values{"confirm": {"yes"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/closed?done=deleted" {
		t.Fatalf("delete: %d %q %s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	reqs, err := store.AccountRequests(context.Background(), h.DB, ada.ID)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("requests = %v, %v", reqs, err)
	}
	want := time.Date(2026, 2, 28, 15, 0, 0, 0, time.UTC)
	if r := reqs[0]; r.Kind != "erasure" || r.State != "received" || !r.DueAt.Equal(want) || !r.ReceivedAt.Equal(h.Clock.Now()) {
		t.Errorf("request = %+v", r)
	}
	a, _ := store.AccountByID(context.Background(), h.DB, ada.ID)
	if a.Status != account.ErasurePending {
		t.Errorf("status = %s", a.Status)
	}
	if res := browser.get(t, "/account"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("still signed in: %d", res.StatusCode)
	}
	if res := api.sendJSON(t, http.MethodPost, "/api/me/erasure", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API token still works: %d", res.StatusCode)
	}
	msg := h.nextMail(t)
	if msg.EnvelopeTo[0] != ada.Email || !strings.Contains(msg.Text, "28 February 2026") || !strings.Contains(msg.Text, reqs[0].ID) {
		t.Errorf("confirmation mail to %v: %s", msg.EnvelopeTo, msg.Text)
	}
}

func TestAccountLifecycleAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	res := h.apiClient(t, ada).sendJSON(t, http.MethodPost, "/api/me/deactivate", nil)
	var out struct {
		Status           string    `json:"status"`
		ReactivateBefore time.Time `json:"reactivate_before"`
	}
	res.decode(t, &out)
	if res.StatusCode != http.StatusOK || out.Status != "deactivated" || !out.ReactivateBefore.Equal(h.Clock.Now().Add(30*24*time.Hour)) {
		t.Errorf("deactivate: %d %+v", res.StatusCode, out)
	}

	bob := h.newMember(t)
	res = h.apiClient(t, bob).sendJSON(t, http.MethodPost, "/api/me/erasure", nil)
	var req struct {
		ID    string    `json:"id"`
		Kind  string    `json:"kind"`
		State string    `json:"state"`
		DueAt time.Time `json:"due_at"`
	}
	res.decode(t, &req)
	if res.StatusCode != http.StatusAccepted || req.Kind != "erasure" || req.State != "received" ||
		!req.DueAt.Equal(account.DueOneMonthAfter(h.Clock.Now())) {
		t.Errorf("erasure: %d %+v", res.StatusCode, req)
	}
}

func TestSignInReactivatesWithinTheGracePeriod(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, map[string]string{"SESSIONS_REACTIVATION_GRACE_DAYS": "10"})
	signIn := func(m *testMember) *response {
		return h.anon().postForm(t, "/signin", url.Values{"email": {m.Email}, "password": {m.Password}, "next": {"/account"}})
	}
	status := func(m *testMember) account.Status {
		a, err := store.AccountByID(context.Background(), h.DB, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		return a.Status
	}

	ada := h.newMember(t)
	if res := h.apiClient(t, ada).sendJSON(t, http.MethodPost, "/api/me/deactivate", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	h.Clock.Advance(9 * 24 * time.Hour)
	if res := signIn(ada); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
		t.Fatalf("sign-in on day 9: %d %q %s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	if st := status(ada); st != account.Active {
		t.Errorf("after signing in on day 9 the account is %s", st)
	}

	bob := h.newMember(t)
	if res := h.apiClient(t, bob).sendJSON(t, http.MethodPost, "/api/me/deactivate", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	h.Clock.Advance(10 * 24 * time.Hour)
	res := signIn(bob)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.text(), "deactivated too long ago") {
		t.Errorf("sign-in on day 10: %d", res.StatusCode)
	}
	if st := status(bob); st != account.Deactivated {
		t.Errorf("after the grace period the account is %s", st)
	}
	for _, c := range res.Cookies() {
		if c.Name == "sessions" && c.Value != "" {
			t.Error("a session cookie was set for an account past its grace period")
		}
	}
}

// TestProfileFormTooLarge: a form over the body limit is refused as too
// large, like every other form, and changes nothing.
func TestProfileFormTooLarge(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	browser := h.signIn(t, ada)
	huge := url.Values{"name": {"Ada"}, "interests": {strings.Repeat("x", 2<<20)}}
	res := browser.postForm(t, "/account/profile", huge)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized form: %d, want 413", res.StatusCode)
	}
	if got := browser.get(t, "/account/profile").text(); strings.Contains(got, "xxxxxxxxxx") {
		t.Fatal("the oversized form changed the profile")
	}
}
