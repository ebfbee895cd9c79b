package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/marketing"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// ---- helpers the access matrix uses too ----

// mktPrefsToken is the preferences link token a message to m would carry.
func mktPrefsToken(h *harness, m *testMember) string {
	return marketing.PreferencesToken(h.Secret, m.ID, h.Clock.Now())
}

// mktUnsubToken is the unsubscribe token a message of campaign to m
// would carry.
func mktUnsubToken(h *harness, m *testMember, campaign string) string {
	return marketing.UnsubscribeToken(h.Secret, m.ID, campaign, h.Clock.Now())
}

// mktCampaign stores a draft campaign and returns its id.
func mktCampaign(t *testing.T, h *harness, subject string) string {
	t.Helper()
	c, err := h.Srv.Services.Campaigns.CreateCampaign(context.Background(), service.Actor{AccountID: "acc_test", Roles: []staff.Role{staff.Admin}},
		marketing.CampaignDraft{Subject: subject, Text: "Our news, in plain text."})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// mktPendingObjection records an objection to legitimate-interest
// processing by m and returns its id.
func mktPendingObjection(t *testing.T, h *harness, m *testMember) string {
	t.Helper()
	res, err := h.Srv.Services.Campaigns.Object(context.Background(), service.Member(m.ID),
		marketing.ObjectionRequest{Kind: marketing.ObjectLegitimateInterest, Purpose: "statistics"}, marketing.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	return res.Objection.ID
}

// providerPost sends a POST as a mail provider does: no cookie, no
// Sec-Fetch-Site, no Origin unless header says so.
func providerPost(h *harness, path, contentType, body string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	for k, v := range header {
		r.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.Srv.ServeHTTP(rec, r)
	return rec
}

// sendCampaign composes and sends a campaign as an administrator would,
// runs the sending job and delivers the outbox to the SMTP server.
func sendCampaign(t *testing.T, h *harness, admin *client, subject string) string {
	t.Helper()
	res := admin.postForm(t, "/admin/campaigns", url.Values{"subject": {subject}, "text": {"Spring is here, and so are new features."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("compose: %d %s", res.StatusCode, res.Body)
	}
	page := res.Header.Get("Location")
	id := strings.TrimPrefix(page, "/admin/campaigns/")
	if res := admin.postForm(t, page+"/send", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d %s", res.StatusCode, res.Body)
	}
	if _, err := h.Srv.Services.Campaigns.SendCampaigns(context.Background()); err != nil {
		t.Fatalf("sending job: %v", err)
	}
	h.deliverMail(t)
	return id
}

// received returns the messages the SMTP server got for address with
// the subject.
func received(h *harness, address, subject string) []*mailtest.Message {
	var out []*mailtest.Message
	for _, m := range h.SMTP.Messages() {
		if strings.Contains(m.Header.Get("To"), address) && m.Subject == subject {
			out = append(out, m)
		}
	}
	return out
}

func mktAuditCount(t *testing.T, h *harness, action string) int {
	t.Helper()
	return h.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = ?`, action)
}

// ---- the end-to-end scenario of the issue ----

var listUnsubscribeURL = regexp.MustCompile(`^<(https://[^>]+)>$`)

func TestMarketingEmailOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, map[string]string{"SESSIONS_BASE_URL": "https://sessions.test"})
	ctx := context.Background()
	admin := h.newStaff(t, staff.Admin)
	adminC := h.signIn(t, admin)
	ada := h.newMember(t)
	bob := h.newMember(t)
	kid := h.newMember(t)
	makeChild(t, h, kid)
	stranger := h.newUnverifiedMember(t)
	objector := h.newMember(t)
	if res := h.apiClient(t, objector).sendJSON(t, http.MethodPost, "/api/me/objections", map[string]string{"kind": "marketing"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("objection: %d %s", res.StatusCode, res.Body)
	}

	first := sendCampaign(t, h, adminC, "Spring news")
	msgs := received(h, ada.Email, "Spring news")
	if len(msgs) != 1 {
		t.Fatalf("ada received %d messages, want 1", len(msgs))
	}
	msg := msgs[0]
	if got := received(h, bob.Email, "Spring news"); len(got) != 1 {
		t.Fatalf("bob received %d messages, want 1", len(got))
	}
	for name, m := range map[string]*testMember{"child": kid, "member without a relationship": stranger, "objector": objector} {
		if got := received(h, m.Email, "Spring news"); len(got) != 0 {
			t.Errorf("the %s received the campaign", name)
		}
	}

	// The headers RFC 8058 asks for, with an https URL.
	if got := msg.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe-Post = %q", got)
	}
	m := listUnsubscribeURL.FindStringSubmatch(msg.Header.Get("List-Unsubscribe"))
	if m == nil {
		t.Fatalf("List-Unsubscribe = %q, want <https://...>", msg.Header.Get("List-Unsubscribe"))
	}
	u, err := url.Parse(m[1])
	if err != nil || u.Host != "sessions.test" || !strings.HasPrefix(u.Path, "/unsubscribe/") {
		t.Fatalf("unsubscribe URL %q", m[1])
	}
	// The body links the preferences page, which opens without sign-in.
	prefs := regexp.MustCompile(`https://sessions\.test(/marketing/preferences/\S+)`).FindStringSubmatch(msg.Text)
	if prefs == nil {
		t.Fatalf("no preferences link in the text: %s", msg.Text)
	}
	if res := h.anon().get(t, prefs[1]); res.StatusCode != http.StatusOK || !strings.Contains(res.text(), "Marketing preferences") {
		t.Fatalf("preferences link: %d", res.StatusCode)
	}

	// A link scanner's GET unsubscribes no one.
	if res := h.anon().get(t, u.Path); res.StatusCode != http.StatusOK || !strings.Contains(res.text(), "Unsubscribe from all marketing?") {
		t.Fatalf("GET: %d %s", res.StatusCode, res.Body)
	}
	if ok, _ := store.Suppressed(ctx, h.DB, marketing.SuppressionDigest(h.Secret, ada.Email)); ok {
		t.Fatal("a GET unsubscribed")
	}

	// The mail provider's POST: no cookie, no Origin, no Sec-Fetch-Site.
	rec := providerPost(h, u.Path, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("one-click POST: %d %s", rec.Code, rec.Body)
	}
	if ok, err := store.Suppressed(ctx, h.DB, marketing.SuppressionDigest(h.Secret, ada.Email)); err != nil || !ok {
		t.Fatalf("the address is not suppressed: %v %v", ok, err)
	}
	if mkt, _, err := store.Objections(ctx, h.DB, ada.ID); err != nil || !mkt {
		t.Fatalf("no objection recorded: %v %v", mkt, err)
	}
	objections, err := store.ObjectionsOf(ctx, h.DB, ada.ID)
	if err != nil || len(objections) != 1 || objections[0].Method != marketing.ByUnsubscribe || objections[0].CampaignID != first {
		t.Fatalf("objection: %+v %v", objections, err)
	}

	// A replay is harmless: 200, and nothing new is written.
	entries := mktAuditCount(t, h, "marketing.object")
	if rec := providerPost(h, u.Path, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil); rec.Code != http.StatusOK {
		t.Fatalf("replay: %d", rec.Code)
	}
	if n := mktAuditCount(t, h, "marketing.object"); n != entries {
		t.Fatalf("a replay wrote %d audit entries", n-entries)
	}

	// An altered token is refused and writes nothing.
	bobMsg := received(h, bob.Email, "Spring news")[0]
	bobURL, _ := url.Parse(listUnsubscribeURL.FindStringSubmatch(bobMsg.Header.Get("List-Unsubscribe"))[1])
	altered := bobURL.Path[:len(bobURL.Path)-3] + "AAA"
	if altered == bobURL.Path {
		altered = bobURL.Path[:len(bobURL.Path)-3] + "BBB"
	}
	if rec := providerPost(h, altered, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil); rec.Code != http.StatusBadRequest {
		t.Fatalf("altered token: %d", rec.Code)
	}
	if ok, _ := store.Suppressed(ctx, h.DB, marketing.SuppressionDigest(h.Secret, bob.Email)); ok {
		t.Fatal("an altered token suppressed the address")
	}
	if n := mktAuditCount(t, h, "marketing.object"); n != entries {
		t.Fatal("an altered token wrote to the audit log")
	}

	// The next campaign skips the address and still reaches the others.
	sendCampaign(t, h, adminC, "Summer news")
	if got := received(h, ada.Email, "Summer news"); len(got) != 0 {
		t.Fatalf("the unsubscribed address received %d more messages", len(got))
	}
	if got := received(h, bob.Email, "Summer news"); len(got) != 1 {
		t.Fatalf("bob received %d messages of the second campaign", len(got))
	}
	for _, m := range []*testMember{kid, stranger, objector} {
		if got := received(h, m.Email, "Summer news"); len(got) != 0 {
			t.Errorf("%s received the second campaign", m.Email)
		}
	}
}

// makeChild gives m a date of birth that makes the account a child's.
func makeChild(t *testing.T, h *harness, m *testMember) {
	t.Helper()
	dob := h.Clock.Now().AddDate(-10, 0, 0).Format("2006-01-02")
	if res := h.apiClient(t, m).sendJSON(t, http.MethodPut, "/api/me/profile", map[string]any{"name": m.Name, "birth_date": dob, "country": "DE"}); res.StatusCode != http.StatusOK {
		t.Fatalf("make a child: %d %s", res.StatusCode, res.Body)
	}
}

func TestOneClickUnsubscribeAndCrossOriginProtection(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	ada := h.newMember(t)
	path := "/unsubscribe/" + mktUnsubToken(h, ada, "cmp_x")
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name   string
		ct     string
		body   string
		header http.Header
		want   int
	}{
		// http.CrossOriginProtection lets a POST through when it carries
		// neither Sec-Fetch-Site nor Origin (not a browser): that is how
		// mail providers post, so they pass.
		{"no body", form, "", nil, http.StatusBadRequest},
		{"wrong value", form, "List-Unsubscribe=Yes", nil, http.StatusBadRequest},
		// A browser on another site is refused before the handler runs.
		{"cross-site browser", form, "List-Unsubscribe=One-Click", http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		{"old browser elsewhere", form, "List-Unsubscribe=One-Click", http.Header{"Origin": {"https://mail.example.net"}}, http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if rec := providerPost(h, path, c.ct, c.body, c.header); rec.Code != c.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
			if ok, _ := store.Suppressed(ctx, h.DB, marketing.SuppressionDigest(h.Secret, ada.Email)); ok {
				t.Fatal("the refused request unsubscribed")
			}
		})
	}
	// Multipart is allowed by RFC 8058 too.
	body := "--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n"
	if rec := providerPost(h, path, "multipart/form-data; boundary=b", body, nil); rec.Code != http.StatusOK {
		t.Fatalf("multipart: %d %s", rec.Code, rec.Body)
	}
	if ok, _ := store.Suppressed(ctx, h.DB, marketing.SuppressionDigest(h.Secret, ada.Email)); !ok {
		t.Fatal("the multipart one-click did not unsubscribe")
	}
	// The confirmation page's button, from the same origin, with a
	// session cookie that the handler ignores, says it is done.
	res := h.signIn(t, ada).postForm(t, path, url.Values{"List-Unsubscribe": {"One-Click"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.text(), "You are unsubscribed") {
		t.Fatalf("button: %d", res.StatusCode)
	}
	// Forged tokens: another purpose's, and garbage.
	for _, tok := range []string{mktPrefsToken(h, ada), "not-a-token", strings.Repeat("a", 2000)} {
		if res := h.anon().get(t, "/unsubscribe/"+tok); res.StatusCode != http.StatusBadRequest {
			t.Errorf("GET with a forged token: %d", res.StatusCode)
		}
	}
}

func TestMarketingPreferencesAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	api := h.apiClient(t, ada)

	var got struct {
		Basis      string          `json:"basis"`
		Customer   bool            `json:"customer"`
		Child      bool            `json:"child"`
		MayOptIn   bool            `json:"may_opt_in"`
		Channels   map[string]bool `json:"channels"`
		Objected   bool            `json:"objected_to_marketing"`
		Profiling  bool            `json:"objected_to_profiling"`
		Objections []struct {
			Kind, Status string
		} `json:"objections"`
	}
	res := api.get(t, "/api/me/marketing")
	res.decode(t, &got)
	if res.StatusCode != http.StatusOK || got.Basis != "legitimate-interest" || !got.Customer || got.Child || !got.MayOptIn {
		t.Fatalf("defaults: %d %+v", res.StatusCode, got)
	}
	for _, c := range []string{"email", "sms", "phone", "social"} {
		if !got.Channels[c] {
			t.Errorf("%s is off by default for a customer", c)
		}
	}

	res = api.sendJSON(t, http.MethodPut, "/api/me/marketing", map[string]any{"channels": map[string]bool{"sms": false, "phone": false}})
	res.decode(t, &got)
	if res.StatusCode != http.StatusOK || got.Channels["sms"] || got.Channels["phone"] || !got.Channels["email"] {
		t.Fatalf("after switching sms and phone off: %d %+v", res.StatusCode, got.Channels)
	}
	if n := mktAuditCount(t, h, "marketing.preferences"); n != 1 {
		t.Fatalf("%d audit entries, want 1", n)
	}

	before := mktAuditCount(t, h, "marketing.preferences")
	for _, c := range []struct {
		body any
		want int
	}{
		{map[string]any{"channels": map[string]bool{"fax": true}}, http.StatusUnprocessableEntity},
		{map[string]any{}, http.StatusUnprocessableEntity},
		{map[string]any{"channels": map[string]bool{"sms": true}, "extra": 1}, http.StatusBadRequest},
		{map[string]any{"channels": map[string]string{"sms": "yes"}}, http.StatusBadRequest},
	} {
		if res := api.sendJSON(t, http.MethodPut, "/api/me/marketing", c.body); res.StatusCode != c.want {
			t.Errorf("%v: %d, want %d: %s", c.body, res.StatusCode, c.want, res.Body)
		}
	}
	if n := mktAuditCount(t, h, "marketing.preferences"); n != before {
		t.Fatal("a refused change was written")
	}

	// The objection to profiling is separate from marketing.
	if res := api.sendJSON(t, http.MethodPost, "/api/me/objections", map[string]string{"kind": "profiling"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("profiling: %d %s", res.StatusCode, res.Body)
	}
	if res := api.sendJSON(t, http.MethodPost, "/api/me/objections", map[string]string{"kind": "profiling"}); res.StatusCode != http.StatusOK {
		t.Fatalf("profiling again: %d", res.StatusCode)
	}
	api.get(t, "/api/me/marketing").decode(t, &got)
	if !got.Profiling || got.Objected || !got.Channels["email"] {
		t.Fatalf("after objecting to profiling: %+v", got)
	}
	// The objection to marketing is final.
	if res := api.sendJSON(t, http.MethodPost, "/api/me/objections", map[string]string{"kind": "marketing"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("marketing: %d", res.StatusCode)
	}
	res = api.sendJSON(t, http.MethodPut, "/api/me/marketing", map[string]any{"channels": map[string]bool{"email": true}})
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("switching back on after the objection: %d", res.StatusCode)
	}
	api.get(t, "/api/me/marketing").decode(t, &got)
	if !got.Objected || got.MayOptIn || got.Channels["email"] || got.Channels["social"] || len(got.Objections) != 2 {
		t.Fatalf("after objecting: %+v", got)
	}
	if res := api.sendJSON(t, http.MethodPost, "/api/me/objections", map[string]string{"kind": "sale"}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown kind: %d", res.StatusCode)
	}
}

func TestChildAccountMarketingStaysOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	kid := h.newMember(t)
	makeChild(t, h, kid)
	api := h.apiClient(t, kid)
	var got struct {
		Child    bool            `json:"child"`
		MayOptIn bool            `json:"may_opt_in"`
		Channels map[string]bool `json:"channels"`
	}
	api.get(t, "/api/me/marketing").decode(t, &got)
	if !got.Child || got.MayOptIn || got.Channels["email"] {
		t.Fatalf("child: %+v", got)
	}
	res := api.sendJSON(t, http.MethodPut, "/api/me/marketing", map[string]any{"channels": map[string]bool{"email": true}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.problemFields(t)["channels.email"] == "" {
		t.Fatalf("a child switched marketing on: %d %s", res.StatusCode, res.Body)
	}
	page := h.signIn(t, kid).get(t, "/account/marketing")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.text(), "child account") {
		t.Fatalf("page: %d", page.StatusCode)
	}
}

func TestMarketingPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	ada := h.newMember(t)
	browser := h.signIn(t, ada)

	res := browser.get(t, "/account/marketing")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.text(), "customer") || !strings.Contains(res.text(), "We never sell personal data") {
		t.Fatalf("page: %d", res.StatusCode)
	}
	// Unticking e-mail and SMS switches them off; the rest stay on.
	res = browser.postForm(t, "/account/marketing", url.Values{"phone": {"on"}, "social": {"on"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("form: %d %s", res.StatusCode, res.Body)
	}
	p, err := h.Srv.Services.Campaigns.Preferences(ctx, ada.ID)
	if err != nil || p.On(marketing.Email) || p.On(marketing.SMS) || !p.On(marketing.Phone) {
		t.Fatalf("after the form: %v %v", p.Channels(), err)
	}

	// The link from a message works without sign-in, but only switches off.
	link := "/marketing/preferences/" + mktPrefsToken(h, ada)
	anon := h.anon()
	if res := anon.get(t, link); res.StatusCode != http.StatusOK || strings.Contains(res.text(), ada.Email) {
		t.Fatalf("link page: %d (it must not show the address)", res.StatusCode)
	}
	if res := anon.postForm(t, link, url.Values{"email": {"on"}, "phone": {"on"}, "social": {"on"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("switching on from a link: %d", res.StatusCode)
	}
	if res := anon.postForm(t, link, url.Values{"social": {"on"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("switching phone off from a link: %d", res.StatusCode)
	}
	p, _ = h.Srv.Services.Campaigns.Preferences(ctx, ada.ID)
	if p.On(marketing.Phone) || !p.On(marketing.Social) {
		t.Fatalf("after the link form: %v", p.Channels())
	}
	// A tampered link writes nothing.
	if res := anon.postForm(t, link+"x", url.Values{}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("tampered link: %d", res.StatusCode)
	}
	p2, _ := h.Srv.Services.Campaigns.Preferences(ctx, ada.ID)
	if !p2.On(marketing.Social) {
		t.Fatal("a tampered link switched social off")
	}
	// Objecting to profiling from the link; other objections need sign-in.
	if res := anon.postForm(t, link+"/objections", url.Values{"kind": {"legitimate-interest"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("legitimate-interest objection from a link: %d", res.StatusCode)
	}
	if res := anon.postForm(t, link+"/objections", url.Values{"kind": {"profiling"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("profiling from a link: %d", res.StatusCode)
	}
	if _, prof, _ := store.Objections(ctx, h.DB, ada.ID); !prof {
		t.Fatal("no objection to profiling")
	}

	// An objection to other legitimate-interest processing goes to the
	// staff queue, which a privacy officer decides.
	res = browser.postForm(t, "/account/marketing/objections", url.Values{"kind": {"legitimate-interest"}, "purpose": {"statistics"}, "statement": {"I would rather not be in your statistics."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("objection form: %d %s", res.StatusCode, res.Body)
	}
	if res := browser.get(t, "/account/marketing"); !strings.Contains(res.text(), "Waiting for a decision") {
		t.Fatal("the member does not see the pending objection")
	}
	po := h.signIn(t, h.newStaff(t, staff.PrivacyOfficer))
	queue := po.get(t, "/admin/objections")
	if queue.StatusCode != http.StatusOK || !strings.Contains(queue.text(), "I would rather not be in your statistics.") || strings.Contains(queue.text(), ada.ID) {
		t.Fatalf("queue: %d (it shows the grounds, not whose they are)", queue.StatusCode)
	}
	pending, _ := store.PendingObjections(ctx, h.DB)
	if len(pending) != 1 {
		t.Fatalf("%d pending", len(pending))
	}
	id := pending[0].ID
	if res := po.postForm(t, "/admin/objections/"+id, url.Values{"status": {"overridden"}, "grounds": {"short"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("override without grounds: %d", res.StatusCode)
	}
	if res := po.postForm(t, "/admin/objections/"+id, url.Values{"status": {"upheld"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("uphold: %d %s", res.StatusCode, res.Body)
	}
	if res := po.postForm(t, "/admin/objections/"+id, url.Values{"status": {"upheld"}}); res.StatusCode != http.StatusConflict {
		t.Fatalf("decide twice: %d", res.StatusCode)
	}
	if res := browser.get(t, "/account/marketing"); strings.Contains(res.text(), "Waiting for a decision") {
		t.Fatal("the member does not see the decision")
	}
	if list, _ := store.ObjectionsOf(ctx, h.DB, ada.ID); len(list) != 2 || list[1].Status != marketing.Upheld {
		t.Fatalf("objections: %+v", list)
	}
}

func TestCampaignConsole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.signIn(t, h.newStaff(t, staff.Admin))
	res := admin.postForm(t, "/admin/campaigns", url.Values{"subject": {""}, "text": {"x"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("empty subject: %d", res.StatusCode)
	}
	if cs, _ := store.ListCampaigns(context.Background(), h.DB); len(cs) != 0 {
		t.Fatal("a refused draft was stored")
	}
	id := mktCampaign(t, h, "Autumn news")
	if res := admin.get(t, "/admin/campaigns/"+id); res.StatusCode != http.StatusOK || !strings.Contains(res.text(), "Send the campaign") {
		t.Fatalf("campaign page: %d", res.StatusCode)
	}
	if res := admin.postForm(t, "/admin/campaigns/"+id+"/send", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", res.StatusCode)
	}
	if res := admin.postForm(t, "/admin/campaigns/"+id+"/send", nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("send twice: %d", res.StatusCode)
	}
	if res := admin.get(t, "/admin/campaigns/cmp_missing"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown campaign: %d", res.StatusCode)
	}
	// Sending a campaign is for administrators only.
	po := h.signIn(t, h.newStaff(t, staff.PrivacyOfficer))
	if res := po.get(t, "/admin/campaigns"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("privacy officer: %d", res.StatusCode)
	}
}

// TestNoRouteSellsData backs the promise that no code path sells
// personal data: no route is for selling, sharing or exporting data to
// advertisers.
func TestNoRouteSellsData(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	bad := regexp.MustCompile(`(?i)sell|sale|broker|advertis|audience`)
	for _, p := range h.Srv.Patterns() {
		if bad.MatchString(p) {
			t.Errorf("route %s suggests selling personal data", p)
		}
	}
}

func TestMarketingLogsNoPersonalData(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	admin := h.signIn(t, h.newStaff(t, staff.Admin))
	sendCampaign(t, h, admin, "Logged news")
	path := "/unsubscribe/" + mktUnsubToken(h, ada, "cmp_x")
	providerPost(h, path, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil)
	logs := h.Logs.String()
	for _, s := range []string{ada.Email, ada.Name, strings.TrimPrefix(path, "/unsubscribe/")} {
		if strings.Contains(logs, s) {
			t.Errorf("the logs contain %q", s)
		}
	}
	if !strings.Contains(logs, "campaign batch") || !strings.Contains(logs, "objection recorded") {
		t.Error("the marketing events were not logged at all")
	}
}
