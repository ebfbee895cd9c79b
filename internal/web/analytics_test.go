package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/analytics"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/cookies"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// analyticsRows counts the stored analytics events.
func analyticsRows(t *testing.T, h *harness) int {
	t.Helper()
	return h.count(t, `SELECT COUNT(*) FROM analytics_events`)
}

// sendEvent posts one event and returns whether the server kept it.
func sendEvent(t *testing.T, c *client, body map[string]string) (*response, bool) {
	t.Helper()
	res := c.sendJSON(t, http.MethodPost, "/api/analytics/events", body)
	if res.StatusCode != http.StatusAccepted {
		return res, false
	}
	var out struct {
		Stored bool `json:"stored"`
	}
	res.decode(t, &out)
	return res, out.Stored
}

var pageview = map[string]string{"type": "pageview", "path": "/"}

func TestAnalyticsOnlyWithConsent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	// No choice yet: nothing is kept and no cookie is set.
	c := h.anon()
	res, stored := sendEvent(t, c, pageview)
	if res.StatusCode != http.StatusAccepted || stored || len(res.Cookies()) != 0 {
		t.Fatalf("before a choice: %d stored=%v cookies=%v", res.StatusCode, stored, res.Header.Values("Set-Cookie"))
	}
	// Rejected, closed, or everything but analytics: still nothing.
	for _, form := range []url.Values{
		{"action": {"reject-all"}},
		{"action": {"close"}},
		{"action": {"save"}, "category": {"preferences", "marketing"}},
	} {
		c := h.anon()
		c.postForm(t, "/cookies/choice", form)
		if _, stored := sendEvent(t, c, pageview); stored {
			t.Errorf("after %v an event was kept", form)
		}
	}
	if n := analyticsRows(t, h); n != 0 {
		t.Fatalf("%d events stored without consent", n)
	}

	// Accepted: kept, with the route instead of the address, the network
	// instead of the IP, and a daily id in an analytics cookie.
	c = h.anon()
	c.ip = "203.0.113.77"
	c.postForm(t, "/cookies/choice", url.Values{"action": {"accept-all"}})
	res, stored = sendEvent(t, c, map[string]string{"type": "pageview", "path": "/orgs/o_123/logo?token=secret"})
	if !stored {
		t.Fatalf("with consent the event was dropped: %s", res.Body)
	}
	ck := setCookie(res, cookies.AnalyticsCookie)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || !analytics.VisitorIDFresh(ck.Value, h.Clock.Now()) {
		t.Fatalf("analytics cookie %+v", ck)
	}
	if want := int(analytics.VisitorIDExpires(h.Clock.Now()).Sub(h.Clock.Now()).Seconds()); ck.MaxAge != want {
		t.Errorf("analytics cookie lasts %d s, want until midnight (%d s)", ck.MaxAge, want)
	}
	var path, ip, visitor string
	if err := h.DB.QueryRow(context.Background(), `SELECT path, ip_prefix, visitor_id FROM analytics_events`).Scan(&path, &ip, &visitor); err != nil {
		t.Fatal(err)
	}
	if path != "/orgs/{id}/logo" || ip != "203.0.113.0" || visitor != ck.Value {
		t.Fatalf("stored path %q, ip %q, visitor %q", path, ip, visitor)
	}

	// The same day keeps the id; the next day draws a new one.
	if res, _ := sendEvent(t, c, pageview); setCookie(res, cookies.AnalyticsCookie) != nil {
		t.Error("the id changed within the day")
	}
	h.Clock.Advance(24 * time.Hour)
	res, _ = sendEvent(t, c, map[string]string{"type": "feature", "path": "/", "name": "cookie-settings"})
	if next := setCookie(res, cookies.AnalyticsCookie); next == nil || next.Value == ck.Value {
		t.Fatal("the id was not replaced the next day")
	}
	if n := analyticsRows(t, h); n != 3 {
		t.Fatalf("%d events stored, want 3", n)
	}
}

func TestAnalyticsNeedsTheLedgerNotJustTheCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	// A genuine choice cookie for which the ledger holds nothing (as if
	// its records were erased) does not let events in: the server asks
	// the purpose gate, not the cookie.
	ch := cookies.Decide(cookies.AcceptAll, nil, false, cookies.NewVisitorID(), h.Clock.Now())
	c.cookies[cookies.ChoiceCookie] = &http.Cookie{Name: cookies.ChoiceCookie, Value: cookies.Encode(h.Secret, ch)}
	if _, stored := sendEvent(t, c, pageview); stored {
		t.Fatal("an event was kept without consent in the ledger")
	}
	if n := analyticsRows(t, h); n != 0 {
		t.Fatalf("%d events stored", n)
	}
}

func TestAnalyticsRespectsTheSignedInMember(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// A child: the browser's choice does not outweigh the account's limits.
	m := h.newMember(t)
	api := h.apiClient(t, m)
	dob := h.Clock.Now().AddDate(-10, 0, 0).Format("2006-01-02")
	if res := api.sendJSON(t, http.MethodPut, "/api/me/profile", map[string]any{"name": m.Name, "birth_date": dob, "country": "DE"}); res.StatusCode != http.StatusOK {
		t.Fatalf("profile: %d %s", res.StatusCode, res.Body)
	}
	c := h.signIn(t, m)
	c.postForm(t, "/cookies/choice", url.Values{"action": {"accept-all"}})
	if _, stored := sendEvent(t, c, pageview); stored {
		t.Fatal("a child account's event was kept")
	}

	// An adult who accepted in this browser is counted.
	adult := h.newMember(t)
	a := h.signIn(t, adult)
	a.postForm(t, "/cookies/choice", url.Values{"action": {"accept-all"}})
	if _, stored := sendEvent(t, a, pageview); !stored {
		t.Fatal("an adult member's accepted event was dropped")
	}
	// A withdrawal recorded on the account wins over the browser's choice.
	h.Clock.Advance(time.Minute)
	rec := consent.Record{
		ID: consent.NewID(), SubjectKind: consent.Member, SubjectID: adult.ID, NoticeID: cookies.NoticeID,
		NoticeVersion: cookies.NoticeVersion, NoticeHash: cookies.NoticeHash(), Purposes: []string{"analytics"},
		Basis: "consent", Method: consent.Settings, At: h.Clock.Now(), State: consent.Withdrawn,
	}
	if err := store.AppendConsent(context.Background(), h.DB, rec); err != nil {
		t.Fatal(err)
	}
	if _, stored := sendEvent(t, a, pageview); stored {
		t.Fatal("an event was kept after the member withdrew on their account")
	}
}

func TestAnalyticsBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	c.postForm(t, "/cookies/choice", url.Values{"action": {"accept-all"}})
	cases := []struct {
		name   string
		body   string
		header http.Header
		status int
		field  string
	}{
		{name: "unknown type", body: `{"type":"click","path":"/"}`, status: 422, field: "type"},
		{name: "missing path", body: `{"type":"pageview"}`, status: 422, field: "path"},
		{name: "absolute URL", body: `{"type":"pageview","path":"https://evil.example/"}`, status: 422, field: "path"},
		{name: "bad feature name", body: `{"type":"feature","path":"/","name":"<b>"}`, status: 422, field: "name"},
		{name: "wrong type", body: `{"type":"pageview","path":7}`, status: 400},
		{name: "unknown field", body: `{"type":"pageview","path":"/","screen":"1920x1080"}`, status: 400},
		{name: "not JSON", body: `type=pageview`, status: 400},
		{name: "oversized body", body: `{"type":"pageview","path":"/` + strings.Repeat("a", analytics.MaxBody) + `"}`, status: 413},
		{name: "cross-site", body: `{"type":"pageview","path":"/"}`, header: http.Header{"Sec-Fetch-Site": {"cross-site"}}, status: 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := http.Header{"Content-Type": {"application/json"}}
			for k, v := range tc.header {
				header[k] = v
			}
			res := c.do(t, http.MethodPost, "/api/analytics/events", strings.NewReader(tc.body), header)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, res.Body)
			}
			if tc.field != "" {
				if f := res.problemFields(t); f[tc.field] == "" {
					t.Errorf("no message for %s: %v", tc.field, f)
				}
			}
		})
	}
	if n := analyticsRows(t, h); n != 0 {
		t.Fatalf("bad input stored %d events", n)
	}
}

// seedEvents stores n page views of path by distinct visitors at at.
func seedEvents(t *testing.T, h *harness, at time.Time, kind analytics.Kind, path, name string, visitors, each int) {
	t.Helper()
	for v := 0; v < visitors; v++ {
		id := analytics.NewVisitorID(at)
		for i := 0; i < each; i++ {
			ev := analytics.NewEvent(analytics.Checked{Kind: kind, Path: path, Name: name}, path, id, "198.51.100.1", at)
			if err := store.AppendAnalyticsEvent(context.Background(), h.DB, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestAnalyticsDashboardSuppressesSmallCounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := h.Clock.Now()
	yesterday := now.AddDate(0, 0, -1)
	seedEvents(t, h, yesterday, analytics.PageView, "/", "", 6, 2)           // 6 visitors, 12 views
	seedEvents(t, h, now, analytics.PageView, "/privacy", "", 3, 1)          // 3 visitors, 3 views
	seedEvents(t, h, now, analytics.Feature, "/", "cookie-settings", 1, 7)   // 7 uses by a 4th visitor
	seedEvents(t, h, yesterday, analytics.Feature, "/", "orgs.create", 1, 2) // 2 uses by a 7th visitor
	po := h.signIn(t, h.newStaff(t, staff.PrivacyOfficer))
	page := po.get(t, "/admin/analytics?days=7")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d %s", page.StatusCode, page.Body)
	}
	body := page.text()
	for _, want := range []string{
		`data-total="visits">11<`, `data-total="page-views">15<`, `data-total="feature-uses">9<`,
		"<code>/</code>", "<code>/privacy</code>", "<code>cookie-settings</code>", "<code>orgs.create</code>",
		`<svg class="chart-svg"`, "&lt;5",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}
	// The /privacy row shows "<5", never the 3 behind it.
	i := strings.Index(body, "<code>/privacy</code>")
	if i < 0 || !strings.Contains(body[i:i+200], "&lt;5") {
		t.Errorf("the /privacy views are not suppressed: %.200s", body[max(i, 0):])
	}
	if strings.Contains(body, "style=") || inlineScript.MatchString(body) {
		t.Error("the dashboard has inline style or script")
	}

	var rep struct {
		Visits struct{ Value *int } `json:"visits"`
		Days   []struct {
			Day    string `json:"day"`
			Visits struct {
				Value      *int   `json:"value"`
				Suppressed bool   `json:"suppressed"`
				Display    string `json:"display"`
			} `json:"visits"`
		} `json:"days"`
		TopPages []struct {
			Path  string `json:"path"`
			Views struct {
				Value *int `json:"value"`
			} `json:"views"`
		} `json:"top_pages"`
	}
	api := h.apiClient(t, h.newStaff(t, staff.Admin))
	api.get(t, "/api/admin/analytics?days=7").decode(t, &rep)
	if rep.Visits.Value == nil || *rep.Visits.Value != 11 || len(rep.Days) != 7 {
		t.Fatalf("report %+v", rep)
	}
	last := rep.Days[6]
	if last.Visits.Value != nil || !last.Visits.Suppressed || last.Visits.Display != "<5" {
		t.Errorf("today's 4 visits are shown: %+v", last.Visits)
	}
	// Yesterday: six visitors viewed pages and one more used a feature.
	if y := rep.Days[5].Visits; y.Value == nil || *y.Value != 7 {
		t.Errorf("yesterday's visits %+v, want 7", y)
	}
	for _, p := range rep.TopPages {
		if p.Path == "/privacy" && p.Views.Value != nil {
			t.Errorf("/privacy views shown as %d", *p.Views.Value)
		}
	}

	if res := h.signIn(t, h.newStaff(t, staff.Support)).get(t, "/admin/analytics"); res.StatusCode != http.StatusForbidden {
		t.Errorf("support sees the dashboard: %d", res.StatusCode)
	}
}
