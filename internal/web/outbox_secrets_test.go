package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
)

// TestAdministratorCannotTakeOverAnAccountThroughTheOutbox replays the
// takeover: a member asks for a password reset; staff read the message
// in the outbox through the API and try every link they see. The
// administrator may not read mail at all, and what the privacy officer
// reads holds no link that resets the password; the member's own mail
// still does.
func TestAdministratorCannotTakeOverAnAccountThroughTheOutbox(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	victim := h.newMember(t)
	wantStatus(t, h.anon().postForm(t, "/forgot-password", url.Values{"email": {victim.Email}}), http.StatusOK)
	id := ""
	for _, r := range outboxTo(t, h, victim.Email) {
		if r.Template == "account.reset-password" {
			id = r.ID
		}
	}
	if id == "" {
		t.Fatal("no reset mail in the outbox")
	}
	const stolen = "chosen by someone else 99"
	tryLinks := func(who, shown string) {
		t.Helper()
		for _, m := range linkToken.FindAllStringSubmatch(shown, -1) {
			tok, err := url.QueryUnescape(m[1])
			if err != nil {
				continue
			}
			if res := h.anon().postForm(t, "/reset-password", url.Values{"token": {tok}, "password": {stolen}}); res.StatusCode == http.StatusOK {
				t.Fatalf("%s reset the member's password with a link read in the outbox", who)
			}
		}
	}

	admin := h.apiClient(t, h.newStaff(t, staff.Admin))
	res := admin.sendJSON(t, http.MethodPost, "/api/admin/outbox/"+id+"/view", map[string]string{"reason": outboxTestReason})
	tryLinks("an administrator", res.text())
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("an administrator reading mail: %d, want 403", res.StatusCode)
	}

	po := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))
	res = po.sendJSON(t, http.MethodPost, "/api/admin/outbox/"+id+"/view", map[string]string{"reason": outboxTestReason})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("a privacy officer reading mail: %d %s", res.StatusCode, res.Body)
	}
	tryLinks("a privacy officer", res.text())
	m := outboxTestDecode[outboxTestMessage](t, res)
	if m.Text == nil || !strings.Contains(*m.Text, "To choose a new password, open this link") || !strings.Contains(*m.Text, mail.Withheld) {
		t.Fatalf("the privacy officer sees %+v", m)
	}

	// The member's own message still works, once.
	reset := tokenFrom(t, h.nextMail(t).Text)
	if strings.Contains(res.text(), reset) {
		t.Fatal("the staff view holds the reset token")
	}
	wantStatus(t, h.anon().postForm(t, "/reset-password", url.Values{"token": {reset}, "password": {"a brand new passphrase"}}), http.StatusOK)
	wantStatus(t, signInForm(t, h.anon(), victim.Email, stolen), http.StatusUnauthorized)
	wantRedirect(t, signInForm(t, h.anon(), victim.Email, "a brand new passphrase"), "/account/security")
}

// Markers the table's meeting carries, which no staff view may show.
const (
	secretMeetingTitle       = "Merger talks with Globex"
	secretMeetingDescription = "Agenda: the price we would accept"
)

// staffViewTable sends one message of every kind that carries a secret
// or a meeting's content (staffViewKinds), through the same requests and
// service calls people and jobs use.
func staffViewTable(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()

	// account.verify-email
	fresh := h.newUnverifiedMember(t)
	wantStatus(t, h.signIn(t, fresh).postForm(t, "/verify-email/resend", nil), http.StatusOK)

	// account.reset-password, then account.password-changed
	ada := h.newMember(t)
	wantStatus(t, h.anon().postForm(t, "/forgot-password", url.Values{"email": {ada.Email}}), http.StatusOK)

	// account.change-email
	bob := h.newMember(t)
	res := h.signIn(t, bob).postForm(t, "/account/security/email", url.Values{"email": {"new." + bob.Email}, "password": {bob.Password}})
	if res.StatusCode >= 400 {
		t.Fatalf("change of address: %d %s", res.StatusCode, res.Body)
	}

	// account.guardian-confirm
	kid := h.newMember(t)
	makeChild(t, h, kid)
	if res := h.signIn(t, kid).postForm(t, "/account/guardian", url.Values{"guardian_email": {"guardian." + kid.Email}}); res.StatusCode >= 400 {
		t.Fatalf("guardian: %d %s", res.StatusCode, res.Body)
	}

	// org.invitation
	owner := h.newMember(t)
	o, err := h.Srv.Services.Orgs.Create(ctx, service.Member(owner.ID), "Initech", "#3347d1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Srv.Services.Orgs.Invite(ctx, service.Member(owner.ID), o.ID, "invitee@example.org", string(org.Member)); err != nil {
		t.Fatal(err)
	}

	// meeting.invitation, meeting.update and meeting.cancel, to a guest
	// and to a member
	host := h.apiClient(t, h.newMember(t))
	meetingID := createMeeting(t, host, map[string]any{"title": secretMeetingTitle, "description": secretMeetingDescription})
	for _, to := range []string{"guest@example.org", h.newMember(t).Email} {
		if res := host.sendJSON(t, http.MethodPost, "/api/meetings/"+meetingID+"/participants", map[string]string{"email": to}); res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
			t.Fatalf("invite: %d %s", res.StatusCode, res.Body)
		}
	}
	if res := host.sendJSON(t, http.MethodPatch, "/api/meetings/"+meetingID, map[string]any{"title": secretMeetingTitle + " II"}); res.StatusCode != http.StatusOK {
		t.Fatalf("update: %d %s", res.StatusCode, res.Body)
	}
	if res := host.do(t, http.MethodDelete, "/api/meetings/"+meetingID, nil, nil); res.StatusCode >= 300 {
		t.Fatalf("cancel: %d %s", res.StatusCode, res.Body)
	}

	// rights.request_code
	if res := h.anon().postForm(t, "/privacy/request", url.Values{"email": {"asker@example.org"}, "rights": {"access"}, "details": {"Please."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("public request form: %d %s", res.StatusCode, res.Body)
	}

	// marketing.campaign, with its unsubscribe and preferences links
	sendCampaign(t, h, h.signIn(t, h.newStaff(t, staff.Admin)), "Spring news")

}

// staffViewKinds are the kinds staffViewTable sends.
var staffViewKinds = []string{
	"account.verify-email", "account.reset-password", "account.change-email", "account.guardian-confirm",
	"org.invitation", "meeting.invitation", "meeting.update", "meeting.cancel",
	"rights.request_code", "marketing.campaign",
}

var (
	anyLink = regexp.MustCompile(`[a-z]+://[^\s<>"']+`)
	anyCode = regexp.MustCompile(`\b\d{6}\b`)
)

// publicPages are the links a message may show staff whole: pages anyone
// can open, which act for nobody.
var publicPages = []string{"/signin", "/forgot-password", "/privacy", "/account", "/account/security", "/privacy/notice", "/privacy/notice/history"}

// secretsOf lists what in a message acts for its recipient: every link
// that is not a public page (whole, and apart its query values or, for a
// link without a query, its last path segment) and every six-digit code, in the text, the headers and
// the attachments.
func secretsOf(rec mail.Record) []string {
	all := rec.Subject + "\n" + rec.Text + "\n" + rec.HTML
	for _, v := range rec.Headers {
		all += "\n" + v
	}
	for _, a := range rec.Attachments {
		all += "\n" + strings.ReplaceAll(string(a.Data), "\r\n ", "")
	}
	var out []string
	for _, link := range anyLink.FindAllString(all, -1) {
		link = strings.TrimRight(link, ".,;:)>")
		u, err := url.Parse(link)
		if err != nil {
			out = append(out, link)
			continue
		}
		if u.RawQuery == "" && slices.Contains(publicPages, u.Path) {
			continue
		}
		out = append(out, link)
		for _, vs := range u.Query() {
			out = append(out, vs...)
		}
		if seg := u.Path[strings.LastIndexByte(u.Path, '/')+1:]; u.RawQuery == "" && len(seg) >= 8 {
			out = append(out, seg)
		}
	}
	return append(out, anyCode.FindAllString(rec.Text, -1)...)
}

// TestStaffMailViewWithholdsSecretsOfEveryKind sends every kind of
// message that carries a link acting for its recipient, a code or a
// meeting's content, and has a privacy officer read each through the
// API: no link, token, code, meeting title or description of the real
// message is in what staff see.
func TestStaffMailViewWithholdsSecretsOfEveryKind(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, map[string]string{"SESSIONS_BASE_URL": "https://sessions.test"})
	staffViewTable(t, h)
	po := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))

	recs, err := h.Mail.List(context.Background(), mail.Filter{Limit: mail.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		seen[rec.Template] = true
		res := po.sendJSON(t, http.MethodPost, "/api/admin/outbox/"+rec.ID+"/view", map[string]string{"reason": outboxTestReason})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: view %d %s", rec.Template, res.StatusCode, res.Body)
		}
		shown := res.text()
		secrets := secretsOf(rec)
		if len(secrets) == 0 && slices.Contains(staffViewKinds, rec.Template) && rec.Template != "meeting.cancel" {
			t.Errorf("%s: found no secret in the real message to look for", rec.Template)
		}
		for _, s := range secrets {
			if strings.Contains(shown, s) {
				t.Errorf("%s: staff see %q", rec.Template, s)
			}
		}
		for _, s := range []string{secretMeetingTitle, secretMeetingDescription} {
			if strings.Contains(shown, s) {
				t.Errorf("%s: staff see the meeting's content %q", rec.Template, s)
			}
		}
		if m := outboxTestDecode[outboxTestMessage](t, res); m.Text == nil || *m.Text == mail.Withheld || *m.Text == "" {
			t.Errorf("%s: staff see no text at all", rec.Template)
		}
	}
	for _, tmpl := range staffViewKinds {
		if !seen[tmpl] {
			t.Errorf("the table sent no %s", tmpl)
		}
	}
}

// mailKindsWithoutSecrets are the kinds of message that carry no link
// acting for the recipient, no code and no meeting content; the second
// pass of the staff copy still runs over them.
var mailKindsWithoutSecrets = []string{
	"account.signup-taken", "account.password-changed", "account.email-change-taken", "account.email-changed",
	"account.security-notice", "account.second-step-locked", "account.deactivated", "account.erasure-received",
	"rights.request_", "rights.restriction_lift", "rights.erasure_done", "rights.recipient_notice",
	"retention.inactivity-warning", "notice.changed", "org.succession",
}

// TestEveryMailKindIsInTheStaffViewTable reads every template name in the
// product's source and fails on one that is neither in the table of
// TestStaffMailViewWithholdsSecretsOfEveryKind nor known to carry no
// secret, so a new kind of mail is looked at before it ships.
func TestEveryMailKindIsInTheStaffViewTable(t *testing.T) {
	t.Parallel()
	templateLit := regexp.MustCompile(`(?:Template:\s*|Template\s*=\s*|template\s*=\s*|template\s*:=\s*)"([a-z0-9._-]+)"`)
	var found []string
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range templateLit.FindAllStringSubmatch(string(src), -1) {
			found = append(found, m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 20 {
		t.Fatalf("found only %d template names; the scan is broken: %v", len(found), found)
	}
	sort.Strings(found)
	for _, name := range slices.Compact(found) {
		if !slices.Contains(staffViewKinds, name) && !slices.Contains(mailKindsWithoutSecrets, name) {
			t.Errorf("the mail kind %q is in neither the staff view table nor the list of kinds without secrets", name)
		}
	}
}
