package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
)

// noErrorCode fails when a page shows the bare error code of the generic
// error page instead of saying what happened.
func noErrorCode(t *testing.T, res *response) {
	t.Helper()
	if strings.Contains(res.text(), `class="error-code"`) {
		t.Fatalf("%s %s: the generic error page, not a page that says what to do\n%.2000s", res.Request.Method, res.Request.URL, res.Body)
	}
}

// TestDeadLinksOfferTheNextStep: a link that expired or was used says so
// and offers the step that gets the person further, instead of "Error
// 422 · Please check what you entered".
func TestDeadLinksOfferTheNextStep(t *testing.T) {
	h := newHarness(t)
	anon := h.anon()

	// A confirmation link, signed out: sign in (and ask for a new link).
	res := anon.get(t, "/verify-email?token=spent")
	wantStatus(t, res, http.StatusUnprocessableEntity)
	noErrorCode(t, res)
	wantBody(t, res, "This confirmation link no longer works", `href="/signin?next=%2Faccount"`)
	// Pressing the button of a page that was open while the link died.
	res = anon.postForm(t, "/verify-email", url.Values{"token": {"spent"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantBody(t, res, "This confirmation link no longer works")
	// Signed in, not yet confirmed: a button that sends a new link.
	res = h.signIn(t, h.newUnverifiedMember(t)).get(t, "/verify-email?token=spent")
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantBody(t, res, `<form method="post" action="/verify-email/resend">`, "Send a new link")
	// Signed in and confirmed: nothing to do.
	res = h.signIn(t, h.newMember(t)).get(t, "/verify-email?token=spent")
	wantBody(t, res, "Your address is already confirmed")

	// A password link: ask for a new one, or sign in.
	for _, res := range []*response{
		anon.get(t, "/reset-password?token=spent"),
		anon.postForm(t, "/reset-password", url.Values{"token": {"spent"}, "password": {"a brand new passphrase 9"}}),
	} {
		wantStatus(t, res, http.StatusUnprocessableEntity)
		noErrorCode(t, res)
		wantBody(t, res, "This password link no longer works", `href="/forgot-password"`, "Send a new link")
	}

	// A link to change the address: ask again from the security page.
	res = anon.get(t, "/confirm-email?token=spent")
	wantStatus(t, res, http.StatusUnprocessableEntity)
	noErrorCode(t, res)
	wantBody(t, res, "This link to change your address no longer works", `href="/account/security"`)

	// The first administrator's setup link: how the operator gets one.
	res = anon.get(t, "/setup?token=spent")
	noErrorCode(t, res)
	wantBody(t, res, "This setup link no longer works", "sessions admin create")

	// An organisation invitation: ask for a new one.
	res = h.signIn(t, h.newMember(t)).get(t, "/invitations/inv_spent")
	wantStatus(t, res, http.StatusNotFound)
	noErrorCode(t, res)
	wantBody(t, res, "This invitation no longer works", "Ask the person who invited you", `href="/orgs"`)
}

// TestForbiddenSaysWhichRoleOpensThePage: the first administrator, whose
// role does not include people, requests or retention, is told which
// role does and how roles are had; a member who is not staff and staff
// whose roles wait for two-step sign-in are told what applies to them.
func TestForbiddenSaysWhichRoleOpensThePage(t *testing.T) {
	h := newHarness(t)
	admin := h.signIn(t, h.newStaff(t, staff.Admin))
	for _, path := range []string{"/admin/people", "/admin/requests", "/admin/retention"} {
		res := admin.get(t, path)
		wantStatus(t, res, http.StatusForbidden)
		wantBody(t, res, "Privacy officer", "How to get access", `href="/admin/staff"`, "sessions admin create", `href="/admin"`)
	}

	member := h.signIn(t, h.newMember(t)).get(t, "/admin/people")
	wantStatus(t, member, http.StatusForbidden)
	wantBody(t, member, "part of the staff console", `href="/account/security"`)

	dormant := h.newMember(t)
	h.grantDormant(t, dormant, staff.PrivacyOfficer)
	res := h.signIn(t, dormant).get(t, "/admin/retention")
	wantStatus(t, res, http.StatusForbidden)
	wantBody(t, res, "wait for two-step sign-in", `href="/account/security"`)

	// A refusal that is not about staff roles gets no such help.
	owner := h.newMember(t)
	o, err := h.Srv.Services.Orgs.Create(context.Background(), service.Member(owner.ID), "Closed Ltd", "")
	if err != nil {
		t.Fatal(err)
	}
	other := h.signIn(t, h.newMember(t)).postForm(t, "/orgs/"+o.ID+"/settings", url.Values{"name": {"Mine now"}})
	if strings.Contains(other.text(), "How to get access") {
		t.Errorf("an organisation refusal (%d) offers staff-role help", other.StatusCode)
	}
}

// TestInvitationKeepsItsContextThroughSignInAndSignUp: an invitation
// opened while signed out leads to sign-in, which names the invitation,
// links to sign-up without losing it, and both lead back to it: sign-up
// through "check your inbox" and sign-in once the address is confirmed.
func TestInvitationKeepsItsContextThroughSignInAndSignUp(t *testing.T) {
	h := newHarness(t)
	owner := h.newMember(t)
	o, err := h.Srv.Services.Orgs.Create(context.Background(), service.Member(owner.ID), "Welcome Ltd", "")
	if err != nil {
		t.Fatal(err)
	}
	const invitee = "new.person@example.org"
	if res := h.apiClient(t, owner).sendJSON(t, http.MethodPost, "/api/orgs/"+o.ID+"/invitations", map[string]string{"email": invitee, "role": "member"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("invite: %d %s", res.StatusCode, res.Body)
	}
	token := orgLinkPattern.FindStringSubmatch(h.nextMail(t).Text)[1]
	invitation := "/invitations/" + token
	next := url.QueryEscape(invitation)

	browser := h.anon()
	wantRedirect(t, browser.get(t, invitation), "/signin?next="+next)
	signIn := browser.get(t, "/signin?next="+next)
	wantStatus(t, signIn, http.StatusOK)
	wantBody(t, signIn, "You have an invitation", `name="next" value="`+invitation+`"`, `href="/signup?next=`+next+`"`)

	signUp := browser.get(t, "/signup?next="+next)
	wantBody(t, signUp, "You have an invitation", `name="next" value="`+invitation+`"`, `href="/signin?next=`+next+`"`)
	// A refused sign-up keeps it too.
	refused := browser.postForm(t, "/signup", url.Values{"name": {"New Person"}, "email": {invitee}, "password": {"x"}, "next": {invitation}})
	wantBody(t, refused, `name="next" value="`+invitation+`"`)
	done := browser.postForm(t, "/signup", url.Values{"name": {"New Person"}, "email": {invitee}, "password": {"a long enough passphrase 7"}, "next": {invitation}})
	wantStatus(t, done, http.StatusOK)
	wantBody(t, done, "Check your inbox", `href="/signin?next=`+next+`"`, "taken back to your invitation")

	verify := regexp.MustCompile(`/verify-email\?token=(\S+)`).FindStringSubmatch(h.nextMail(t).Text)
	if verify == nil {
		t.Fatal("no confirmation link in the sign-up mail")
	}
	tok, _ := url.QueryUnescape(verify[1])
	wantStatus(t, browser.postForm(t, "/verify-email", url.Values{"token": {tok}}), http.StatusOK)

	signedIn := browser.postForm(t, "/signin", url.Values{"email": {invitee}, "password": {"a long enough passphrase 7"}, "next": {invitation}})
	wantStatus(t, signedIn, http.StatusSeeOther)
	if loc := signedIn.Header.Get("Location"); loc != invitation {
		t.Fatalf("signing in led to %q, want the invitation %q", loc, invitation)
	}
	page := browser.get(t, invitation)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, "Welcome Ltd", `action="/invitations/accept"`)

	// Another site's address is never a destination.
	wantBody(t, h.anon().get(t, "/signup?next=//evil.example/"), `name="next" value="/"`)
}

// TestNavigationPutsMeetingsFirstAndStaffLinksOnlyForStaff: the top menu
// starts with Meetings, and only staff whose roles are in force see the
// staff console.
func TestNavigationPutsMeetingsFirstAndStaffLinksOnlyForStaff(t *testing.T) {
	h := newHarness(t)
	nav := func(c *client) string {
		body := c.get(t, "/privacy").text()
		start := strings.Index(body, `<nav class="site-nav"`)
		end := strings.Index(body[start:], "</nav>")
		if start < 0 || end < 0 {
			t.Fatal("no main navigation")
		}
		return body[start : start+end]
	}
	dormant := h.newMember(t)
	h.grantDormant(t, dormant, staff.Support)
	for _, tc := range []struct {
		who   string
		c     *client
		staff bool
	}{
		{"visitor", h.anon(), false},
		{"member", h.signIn(t, h.newMember(t)), false},
		{"staff waiting for two-step sign-in", h.signIn(t, dormant), false},
		{"support", h.signIn(t, h.newStaff(t, staff.Support)), true},
		{"administrator", h.signIn(t, h.newStaff(t, staff.Admin)), true},
	} {
		n := nav(tc.c)
		links := regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(n, -1)
		if len(links) == 0 || links[0][1] != "/meetings" {
			t.Errorf("%s: the first menu entry is %v, want /meetings", tc.who, links)
		}
		if got := strings.Contains(n, `href="/admin"`); got != tc.staff {
			t.Errorf("%s: staff console in the menu = %v, want %v", tc.who, got, tc.staff)
		}
	}
}

// TestDashboard: a signed-in member lands on their meetings; today's,
// the next ones in their own time zone, and past ones with their agenda
// notes; the browser's zone is asked for until one is known, and a bad
// one is refused naming the field; "Start a meeting now" makes a meeting
// that starts at once and shows its link to share.
func TestDashboard(t *testing.T) {
	h := newHarness(t) // the clock reads Monday 2 March 2026, 09:00 UTC
	ada := h.newMember(t)
	api := h.apiClient(t, ada)
	browser := h.signIn(t, ada)

	wantRedirect(t, h.anon().postForm(t, "/signin", url.Values{"email": {ada.Email}, "password": {ada.Password}}), "/")
	if loc := h.anon().postForm(t, "/signin", url.Values{"email": {ada.Email}, "password": {ada.Password}}).Header.Get("Location"); loc != "/" {
		t.Errorf("sign-in leads to %q, want the dashboard at /", loc)
	}

	createMeeting(t, api, map[string]any{"title": "Weekly sync", "start": "2026-03-05T15:00", "time_zone": "Europe/Berlin"})
	createMeeting(t, api, map[string]any{"title": "Stand-up today", "start": "2026-03-02T12:00", "time_zone": "UTC", "duration_minutes": 15})
	past := createMeeting(t, api, map[string]any{"title": "Kick-off", "start": "2026-02-20T10:00", "time_zone": "UTC"})
	if res := api.sendJSON(t, http.MethodPost, "/api/meetings/"+past+"/agenda", map[string]any{"title": "Budget", "notes": "Approved at 40k."}); res.StatusCode != http.StatusCreated {
		t.Fatalf("agenda: %d %s", res.StatusCode, res.Body)
	}

	// No zone known yet: times in UTC, and the page asks the browser.
	home := browser.get(t, "/")
	wantStatus(t, home, http.StatusOK)
	wantBody(t, home, "My meetings", "data-tz-detect", "Thu 5 Mar", "14:00–15:00", "Start a meeting now", `href="/meetings/new"`)
	if strings.Contains(home.text(), "Meetings that keep their privacy promises") {
		t.Error("a member gets the visitors' front page")
	}
	section := func(body, id string) string {
		_, after, ok := strings.Cut(body, `id="`+id+`"`)
		if !ok {
			t.Fatalf("no section %s", id)
		}
		before, _, _ := strings.Cut(after, "</section>")
		return before
	}
	if s := section(home.text(), "today-title"); !strings.Contains(s, "Stand-up today") || strings.Contains(s, "Weekly sync") {
		t.Errorf("today:\n%s", s)
	}
	if s := section(home.text(), "upcoming-title"); !strings.Contains(s, "Weekly sync") {
		t.Errorf("coming up:\n%s", s)
	}
	if s := section(home.text(), "past-title"); !strings.Contains(s, "Kick-off") || !strings.Contains(s, "Approved at 40k.") {
		t.Errorf("past:\n%s", s)
	}

	// The browser reports New York: the meeting at 15:00 in Berlin is at
	// 09:00 there, and the page stops asking.
	wantRedirect(t, browser.postForm(t, "/account/timezone", url.Values{"time_zone": {"America/New_York"}, "next": {"/"}}), "/")
	home = browser.get(t, "/")
	wantBody(t, home, "America/New_York", "09:00–10:00")
	if strings.Contains(home.text(), "data-tz-detect") {
		t.Error("the page still asks the browser for its zone")
	}
	// The profile shows it, and can change it.
	wantBody(t, browser.get(t, "/account/profile"), `action="/account/timezone"`, `value="America/New_York"`)

	bad := browser.postForm(t, "/account/timezone", url.Values{"time_zone": {"Mars/Olympus_Mons"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantBody(t, bad, "time_zone")

	// Start a meeting now.
	res := browser.postForm(t, "/meetings/instant", nil)
	wantRedirect(t, res, "/?started=")
	id := strings.TrimSuffix(strings.TrimPrefix(res.Header.Get("Location"), "/?started="), "#started")
	ready := browser.get(t, "/?started="+id)
	wantBody(t, ready, "is ready", `value="http://sessions.test/meetings/`+id+`"`, `href="/meetings/`+id+`/room"`, "Join now")
	var m struct {
		Start    string `json:"start"`
		TimeZone string `json:"time_zone"`
	}
	api.get(t, "/api/meetings/"+id).decode(t, &m)
	if m.TimeZone != "America/New_York" || !strings.HasPrefix(m.Start, "2026-03-02T") {
		t.Errorf("instant meeting: %+v, want today in America/New_York", m)
	}
	if s := section(ready.text(), "today-title"); !strings.Contains(s, "Instant meeting") || !strings.Contains(s, "On now") {
		t.Errorf("the instant meeting is not on now today:\n%s", s)
	}
	// Someone else's meeting id shows no link.
	if other := h.signIn(t, h.newMember(t)).get(t, "/?started="+id); strings.Contains(other.text(), "is ready") || strings.Contains(other.text(), "/meetings/"+id) {
		t.Error("another member's dashboard shows the meeting")
	}
}
