package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/cookies"
	"github.com/sessionshq/sessions/internal/privacy/gate"
	"github.com/sessionshq/sessions/internal/store"
)

// ---- helpers ----

// choiceOf decodes the choice cookie the client holds.
func choiceOf(t *testing.T, h *harness, c *client) cookies.Choice {
	t.Helper()
	ck, ok := c.cookies[cookies.ChoiceCookie]
	if !ok {
		t.Fatal("the browser holds no choice cookie")
	}
	ch, err := cookies.Decode(h.Secret, ck.Value, h.Clock.Now())
	if err != nil {
		t.Fatalf("choice cookie: %v", err)
	}
	return ch
}

// setCookie finds the Set-Cookie of name in a response.
func setCookie(res *response, name string) *http.Cookie {
	for _, ck := range res.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

var bannerMarker = "data-cookie-banner"

// bannerButton finds the first layer's "Accept all" and "Reject all" buttons
// and returns their class attributes.
var bannerButton = regexp.MustCompile(`<button class="([^"]+)" type="submit" name="action" value="(accept-all|reject-all)"`)

func postChoice(t *testing.T, c *client, action string, extra url.Values) *response {
	t.Helper()
	form := url.Values{"action": {action}}
	for k, v := range extra {
		form[k] = v
	}
	return c.postForm(t, "/cookies/choice", form)
}

// ---- the banner ----

func TestCookieBannerShowsUntilAChoiceAndSetsNothingBefore(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	for _, path := range []string{"/", "/privacy", "/signin", "/privacy/cookies"} {
		res := c.get(t, path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		body := res.text()
		if !strings.Contains(body, bannerMarker) {
			t.Errorf("GET %s shows no cookie banner before a choice", path)
		}
		if len(res.Cookies()) != 0 {
			t.Errorf("GET %s sets cookies before a choice: %v", path, res.Header.Values("Set-Cookie"))
		}
		if strings.Contains(body, "/static/analytics.") && strings.Contains(body, `<script src="/static/analytics.`) {
			t.Errorf("GET %s loads the analytics script before a choice", path)
		}
		if !strings.Contains(body, `href="/cookies/settings"`) {
			t.Errorf("GET %s has no Cookie settings link", path)
		}
		m := bannerButton.FindAllStringSubmatch(body, -1)
		if len(m) != 2 || m[0][1] != m[1][1] || !strings.Contains(m[0][1], "btn-equal") {
			t.Errorf("GET %s: accept and reject are not equally prominent: %q", path, m)
		}
	}
	if n := h.countConsentRecords(t); n != 0 {
		t.Fatalf("browsing wrote %d consent records", n)
	}
	// The settings page is the tool itself: no banner on top of it.
	if strings.Contains(c.get(t, "/cookies/settings").text(), bannerMarker) {
		t.Error("the settings page shows the banner too")
	}
}

func TestRejectAllRecordsRefusalsAndHidesTheBanner(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	res := postChoice(t, c, "reject-all", url.Values{"from": {"banner"}, "next": {"/privacy?x=1"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/privacy?x=1" {
		t.Fatalf("reject all: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	ck := setCookie(res, cookies.ChoiceCookie)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
		t.Fatalf("choice cookie %+v", ck)
	}
	if max := int(cookies.ReaskAt(h.Clock.Now()).Sub(h.Clock.Now()).Seconds()); ck.MaxAge != max {
		t.Errorf("choice cookie lasts %d s, want six months (%d s)", ck.MaxAge, max)
	}
	ch := choiceOf(t, h, c)
	if len(ch.Granted) != 0 {
		t.Fatalf("granted %v", ch.Granted)
	}
	recs, err := store.ConsentHistory(context.Background(), h.DB, consent.Visitor, ch.VisitorID)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(cookies.Optional) {
		t.Fatalf("%d records, want one per optional category", len(recs))
	}
	for i, r := range recs {
		cat := cookies.Optional[i]
		if r.State != consent.Refused || r.Method != consent.Banner || r.NoticeID != cookies.NoticeID ||
			r.NoticeVersion != cookies.NoticeVersion || r.NoticeHash != cookies.NoticeHash() || !r.Covers(cat.Purposes()[0]) {
			t.Errorf("record for %s: %+v", cat, r)
		}
		if r.IP != "192.0.2.0" {
			t.Errorf("record IP %q, want the truncated address", r.IP)
		}
	}
	home := c.get(t, "/").text()
	if strings.Contains(home, bannerMarker) || strings.Contains(home, `<script src="/static/analytics.`) {
		t.Fatal("after rejecting, the banner or the analytics script is still there")
	}
}

func TestClosingTheBannerIsARefusal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	if res := postChoice(t, c, "close", url.Values{"from": {"banner"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d", res.StatusCode)
	}
	cur, err := store.CurrentConsents(context.Background(), h.DB, consent.Visitor, choiceOf(t, h, c).VisitorID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"personalisation", "analytics", "behaviour-tracking"} {
		if cur[p].State != consent.Refused {
			t.Errorf("%s: %q, want refused", p, cur[p].State)
		}
	}
}

func TestAcceptAllOverTheAPIThenWithdrawInOneClick(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	res := c.sendJSON(t, http.MethodPost, "/api/cookies/choice", map[string]any{"action": "accept-all", "from": "banner"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("accept all: %d %s", res.StatusCode, res.Body)
	}
	var out struct {
		Choice struct {
			Categories    map[string]bool `json:"categories"`
			NoticeVersion string          `json:"notice_version"`
			AskAgainAt    time.Time       `json:"ask_again_at"`
		} `json:"choice"`
		Records []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"records"`
	}
	res.decode(t, &out)
	for _, cat := range cookies.Categories {
		if !out.Choice.Categories[string(cat)] {
			t.Errorf("%s is off after accept all", cat)
		}
	}
	if len(out.Records) != 3 || out.Records[0].State != "given" || !out.Choice.AskAgainAt.Equal(h.Clock.Now().AddDate(0, 6, 0)) {
		t.Fatalf("response %s", res.Body)
	}
	home := c.get(t, "/").text()
	if strings.Contains(home, bannerMarker) || !strings.Contains(home, `<script src="/static/analytics.`) {
		t.Fatal("after accepting, the banner shows or the analytics script is missing")
	}
	// Analytics sets its cookie on the first event.
	if r := c.sendJSON(t, http.MethodPost, "/api/analytics/events", map[string]string{"type": "pageview", "path": "/"}); r.StatusCode != http.StatusAccepted {
		t.Fatalf("event: %d %s", r.StatusCode, r.Body)
	}
	if _, ok := c.cookies[cookies.AnalyticsCookie]; !ok {
		t.Fatal("no analytics cookie after an accepted event")
	}

	settings := c.get(t, "/cookies/settings").text()
	if !strings.Contains(settings, `value="withdraw"`) {
		t.Fatal("the settings page offers no withdrawal while consent is given")
	}
	h.Clock.Advance(time.Minute)
	res = postChoice(t, c, "withdraw", url.Values{"from": {"settings"}, "next": {"/cookies/settings?saved=1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d %s", res.StatusCode, res.Body)
	}
	gone := setCookie(res, cookies.AnalyticsCookie)
	if gone == nil || gone.MaxAge >= 0 {
		t.Fatalf("withdrawal does not delete the analytics cookie: %v", res.Header.Values("Set-Cookie"))
	}
	if _, ok := c.cookies[cookies.AnalyticsCookie]; ok {
		t.Fatal("the browser still holds the analytics cookie")
	}
	cur, err := store.CurrentConsents(context.Background(), h.DB, consent.Visitor, choiceOf(t, h, c).VisitorID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"personalisation", "analytics", "behaviour-tracking"} {
		if cur[p].State != consent.Withdrawn || cur[p].Method != consent.Settings {
			t.Errorf("%s: %s by %s, want withdrawn in the settings", p, cur[p].State, cur[p].Method)
		}
	}
	page := c.get(t, "/cookies/settings?saved=1").text()
	if strings.Contains(page, `value="withdraw"`) || !strings.Contains(page, "Your cookie choices are saved") {
		t.Fatal("after withdrawing, the settings page still offers withdrawal or does not confirm")
	}
	if r := c.sendJSON(t, http.MethodPost, "/api/analytics/events", map[string]string{"type": "pageview", "path": "/"}); !strings.Contains(r.text(), `"stored": false`) {
		t.Fatalf("an event after withdrawal: %s", r.Body)
	}
}

func TestSettingsSaveOneByOneWithoutScript(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	page := c.get(t, "/cookies/settings").text()
	for _, want := range []string{`name="category" value="preferences"`, `name="category" value="analytics"`, `name="category" value="marketing"`, `checked disabled`, "Always on"} {
		if !strings.Contains(page, want) {
			t.Errorf("the settings page lacks %q", want)
		}
	}
	res := c.postForm(t, "/cookies/choice", url.Values{"action": {"save"}, "from": {"settings"}, "category": {"analytics"}, "next": {"/cookies/settings?saved=1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.StatusCode, res.Body)
	}
	ch := choiceOf(t, h, c)
	if !ch.Allows(cookies.Analytics) || ch.Allows(cookies.Preferences) || ch.Allows(cookies.Marketing) {
		t.Fatalf("granted %v, want analytics only", ch.Granted)
	}
	cur, _ := store.CurrentConsents(context.Background(), h.DB, consent.Visitor, ch.VisitorID)
	if cur["analytics"].State != consent.Given || cur["personalisation"].State != consent.Refused || cur["analytics"].Method != consent.Settings {
		t.Fatalf("ledger %+v", cur)
	}
	// Switching analytics off again is a withdrawal of it, and the visitor
	// keeps the same ledger id.
	h.Clock.Advance(time.Minute)
	c.postForm(t, "/cookies/choice", url.Values{"action": {"save"}, "from": {"settings"}})
	if again := choiceOf(t, h, c); again.VisitorID != ch.VisitorID || len(again.Granted) != 0 {
		t.Fatalf("second choice %+v", again)
	}
	cur, _ = store.CurrentConsents(context.Background(), h.DB, consent.Visitor, ch.VisitorID)
	if cur["analytics"].State != consent.Withdrawn || cur["personalisation"].State != consent.Refused {
		t.Fatalf("ledger after switching off: analytics %s, personalisation %s", cur["analytics"].State, cur["personalisation"].State)
	}
}

func TestCookieChoiceIsAskedAgainAfterSixMonthsOrANewNotice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	postChoice(t, c, "accept-all", nil)
	if strings.Contains(c.get(t, "/").text(), bannerMarker) {
		t.Fatal("the banner shows right after a choice")
	}
	h.Clock.Advance(24 * time.Hour * 182)
	if strings.Contains(c.get(t, "/").text(), bannerMarker) {
		t.Fatal("the banner is back before six months")
	}
	h.Clock.Advance(24 * time.Hour * 2)
	home := c.get(t, "/").text()
	if !strings.Contains(home, bannerMarker) {
		t.Fatal("the banner does not ask again after six months")
	}
	if strings.Contains(home, `<script src="/static/analytics.`) {
		t.Fatal("a lapsed choice still loads analytics")
	}

	// A choice made under another version of the notice is asked again.
	d := h.anon()
	old := cookies.Decide(cookies.AcceptAll, nil, false, cookies.NewVisitorID(), h.Clock.Now())
	old.NoticeVersion = "0"
	d.cookies[cookies.ChoiceCookie] = &http.Cookie{Name: cookies.ChoiceCookie, Value: cookies.Encode(h.Secret, old)}
	if !strings.Contains(d.get(t, "/").text(), "Please confirm your cookie choices") {
		t.Fatal("a choice under an older notice is not asked again")
	}
	// The renewed choice keeps the visitor's ledger id.
	postChoice(t, d, "reject-all", nil)
	if got := choiceOf(t, h, d); got.VisitorID != old.VisitorID || got.NoticeVersion != cookies.NoticeVersion {
		t.Fatalf("renewed choice %+v", got)
	}
}

func TestForgedChoiceCookieIsIgnored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	other := cookies.Decide(cookies.AcceptAll, nil, false, cookies.NewVisitorID(), h.Clock.Now())
	for _, value := range []string{"accept-all", cookies.Encode([]byte("someone-else's-secret-of-32-bytes-or-more"), other)} {
		c.cookies[cookies.ChoiceCookie] = &http.Cookie{Name: cookies.ChoiceCookie, Value: value}
		if !strings.Contains(c.get(t, "/").text(), bannerMarker) {
			t.Fatalf("a forged choice cookie %q hides the banner", value)
		}
	}
}

func TestGlobalPrivacyControlInTheCookieTool(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	gpc := http.Header{"Sec-Gpc": {"1"}}
	home := c.do(t, http.MethodGet, "/", nil, gpc).text()
	if !regexp.MustCompile(`data-gpc-note>`).MatchString(home) || !strings.Contains(home, "Global Privacy Control signal honoured") {
		t.Fatal("the banner does not say the GPC signal is honoured")
	}
	if plain := c.get(t, "/").text(); !strings.Contains(plain, `data-gpc-note hidden`) {
		t.Fatal("the GPC note shows without the signal")
	}

	// "Accept all" under GPC leaves marketing and tracking off.
	res := c.do(t, http.MethodPost, "/api/cookies/choice", strings.NewReader(`{"action":"accept-all"}`),
		http.Header{"Sec-Gpc": {"1"}, "Content-Type": {"application/json"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.text(), `"marketing": false`) || !strings.Contains(res.text(), `"analytics": true`) {
		t.Fatalf("accept all with GPC: %d %s", res.StatusCode, res.Body)
	}
	ch := choiceOf(t, h, c)
	cur, _ := store.CurrentConsents(context.Background(), h.DB, consent.Visitor, ch.VisitorID)
	if r := cur["behaviour-tracking"]; r.State != consent.Refused || !r.GPC {
		t.Fatalf("tracking record %+v, want a refusal made with the signal", r)
	}
	settings := c.do(t, http.MethodGet, "/cookies/settings", nil, gpc).text()
	if !strings.Contains(settings, "Off because your browser sends the Global Privacy Control signal") ||
		regexp.MustCompile(`value="marketing" checked`).MatchString(settings) {
		t.Fatal("the settings page does not show marketing off because of GPC")
	}

	// An explicit opt-in while sending GPC wins for that purpose only; the
	// gate sees the signal and the explicit choice in the ledger.
	h.Clock.Advance(time.Minute)
	res = c.do(t, http.MethodPost, "/api/cookies/choice", strings.NewReader(`{"action":"save","from":"settings","categories":{"marketing":true}}`),
		http.Header{"Sec-Gpc": {"1"}, "Content-Type": {"application/json"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("explicit opt-in: %d %s", res.StatusCode, res.Body)
	}
	cur, _ = store.CurrentConsents(context.Background(), h.DB, consent.Visitor, ch.VisitorID)
	in := gate.Inputs{Subject: gate.Visitor(ch.VisitorID), Now: h.Clock.Now(), Consents: cur, GPC: true}
	if d := gate.Decide(in, "behaviour-tracking"); !d.Allowed {
		t.Fatalf("explicit opt-in under GPC: %+v", d)
	}
	if d := gate.Decide(in, "analytics"); d.Allowed {
		t.Fatalf("analytics, switched off by the save: %+v", d)
	}

	// The script reports navigator.globalPrivacyControl as "gpc".
	d := h.anon()
	d.postForm(t, "/cookies/choice", url.Values{"action": {"accept-all"}, "gpc": {"1"}})
	if got := choiceOf(t, h, d); got.Allows(cookies.Marketing) || !got.GPC {
		t.Fatalf("accept all with gpc=1 from the script: %+v", got)
	}
}

func TestSignedInChoiceIsCarriedToTheAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	c := h.signIn(t, m)
	if res := postChoice(t, c, "accept-all", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	cur, err := store.CurrentConsents(context.Background(), h.DB, consent.Member, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := cur["analytics"]; r.State != consent.Given || r.LinkedFrom == "" {
		t.Fatalf("member's analytics record %+v, want a given record carried over", r)
	}

	// The banner's script records through the API, which reads the
	// session cookie for this and nothing else.
	other := h.newMember(t)
	c = h.signIn(t, other)
	if res := c.sendJSON(t, http.MethodPost, "/api/cookies/choice", map[string]string{"action": "reject-all"}); res.StatusCode != http.StatusOK {
		t.Fatalf("reject over the API: %d %s", res.StatusCode, res.Body)
	}
	cur, _ = store.CurrentConsents(context.Background(), h.DB, consent.Member, other.ID)
	if r := cur["analytics"]; r.State != consent.Refused || r.LinkedFrom == "" {
		t.Fatalf("member's analytics record after the API %+v, want a refusal carried over", r)
	}
	if res := c.get(t, "/api/me"); res.StatusCode != http.StatusOK {
		t.Fatalf("the session no longer works: %d", res.StatusCode)
	}
}

func TestForgedConsentPayloadsWriteNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct {
		name   string
		body   string
		header http.Header
		status int
		field  string
	}{
		{name: "unknown category", body: `{"action":"save","categories":{"advertising":true}}`, status: 422, field: "categories.advertising"},
		{name: "wrong type", body: `{"action":"save","categories":{"analytics":"yes"}}`, status: 400},
		{name: "action of the wrong type", body: `{"action":1}`, status: 400},
		{name: "unknown field", body: `{"action":"accept-all","purposes":["marketing"]}`, status: 400},
		{name: "unknown action", body: `{"action":"accept-some"}`, status: 422, field: "action"},
		{name: "missing action", body: `{}`, status: 422, field: "action"},
		{name: "strictly necessary off", body: `{"action":"save","categories":{"strictly-necessary":false}}`, status: 422, field: "categories.strictly-necessary"},
		{name: "categories with accept all", body: `{"action":"accept-all","categories":{"marketing":false}}`, status: 422, field: "categories"},
		{name: "unknown method", body: `{"action":"accept-all","from":"guardian"}`, status: 422, field: "from"},
		{name: "not JSON", body: `action=accept-all`, status: 400},
		{name: "two values", body: `{"action":"accept-all"}{"action":"reject-all"}`, status: 400},
		{name: "oversized body", body: `{"action":"accept-all","from":"` + strings.Repeat("b", 5000) + `"}`, status: 413},
		{name: "cross-site", body: `{"action":"accept-all"}`, header: http.Header{"Sec-Fetch-Site": {"cross-site"}}, status: 403},
		{name: "form body", body: `{"action":"accept-all"}`, header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, status: 415},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.anon()
			header := http.Header{"Content-Type": {"application/json"}}
			for k, v := range tc.header {
				header[k] = v
			}
			res := c.do(t, http.MethodPost, "/api/cookies/choice", strings.NewReader(tc.body), header)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, res.Body)
			}
			if tc.field != "" {
				if f := res.problemFields(t); f[tc.field] == "" {
					t.Errorf("no message for %s: %v", tc.field, f)
				}
			}
			if setCookie(res, cookies.ChoiceCookie) != nil {
				t.Error("a refused choice set the choice cookie")
			}
		})
	}
	// The form behaves alike.
	c := h.anon()
	for _, form := range []url.Values{
		{"action": {"save"}, "category": {"advertising"}},
		{"action": {"accept-all"}, "category": {"marketing"}},
		{"action": {"nonsense"}},
	} {
		if res := c.postForm(t, "/cookies/choice", form); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("form %v: %d, want 422", form, res.StatusCode)
		}
	}
	if res := c.do(t, http.MethodPost, "/cookies/choice", strings.NewReader("action=accept-all"),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"cross-site"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site form: %d, want 403", res.StatusCode)
	}
	if n := h.countConsentRecords(t); n != 0 {
		t.Fatalf("bad input wrote %d consent records", n)
	}
	if len(c.cookies) != 0 {
		t.Fatalf("bad input set cookies: %v", c.cookies)
	}
}

func TestCookieNoticeIsGeneratedFromTheRegistry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	page := h.anon().get(t, "/privacy/cookies")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("notice: %d", page.StatusCode)
	}
	text := page.text()
	for _, e := range cookies.Registry() {
		for _, want := range []string{e.Name, e.Purpose, e.Duration, e.Category.Label(), e.Party.Label()} {
			if !strings.Contains(text, htmlEscape(want)) {
				t.Errorf("the notice leaves out %q of %s", want, e.Name)
			}
		}
	}
	if !strings.Contains(text, cookies.NoticeHash()) {
		t.Error("the notice does not show its version's hash")
	}
	var reg struct {
		NoticeID      string `json:"notice_id"`
		NoticeVersion string `json:"notice_version"`
		Entries       []struct {
			Name       string `json:"name"`
			SecureName string `json:"name_over_https"`
			Category   string `json:"category"`
			Party      string `json:"party"`
		} `json:"entries"`
	}
	h.anon().get(t, "/api/cookies").decode(t, &reg)
	if reg.NoticeID != "cookies" || reg.NoticeVersion != cookies.NoticeVersion || len(reg.Entries) != len(cookies.Registry()) {
		t.Fatalf("registry %+v", reg)
	}
	if reg.Entries[0].SecureName != "__Host-"+reg.Entries[0].Name {
		t.Errorf("HTTPS name %q", reg.Entries[0].SecureName)
	}
}

// htmlEscape escapes what html/template escapes in text.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func TestCookiesOverHTTPSArePrefixedAndSecure(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, map[string]string{"SESSIONS_BASE_URL": "https://sessions.test"})
	c := h.anon()
	res := postChoice(t, c, "accept-all", nil)
	ck := setCookie(res, "__Host-"+cookies.ChoiceCookie)
	if ck == nil || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("choice cookie over HTTPS: %v", res.Header.Values("Set-Cookie"))
	}
	if del := setCookie(res, "__Host-"+cookies.AnalyticsCookie); del == nil || del.MaxAge >= 0 {
		t.Fatalf("the analytics id is not dropped at a choice: %v", res.Header.Values("Set-Cookie"))
	}
	if strings.Contains(c.get(t, "/").text(), bannerMarker) {
		t.Fatal("the banner shows after a choice over HTTPS")
	}
}
