package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

const staffTestReason = "Ticket 4411: the member cannot sign in"

func TestConsoleLandingShowsEachRoleItsTools(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tools := map[string]string{
		"people": `href="/admin/people"`, "subprocessors": `href="/admin/subprocessors"`, "audit": `href="/admin/audit"`,
		"staff": `href="/admin/staff"`, "outbox": `href="/admin/outbox"`, "instance": "http://sessions.test",
	}
	cases := []struct {
		roles []staff.Role
		sees  []string
	}{
		{[]staff.Role{staff.Support}, []string{"people"}},
		{[]staff.Role{staff.PrivacyOfficer}, []string{"people", "subprocessors", "audit"}},
		{[]staff.Role{staff.Admin}, []string{"staff", "outbox", "instance"}},
		{[]staff.Role{staff.Support, staff.Admin}, []string{"people", "staff", "outbox", "instance"}},
	}
	for _, c := range cases {
		m := h.newStaff(t, c.roles...)
		res := h.signIn(t, m).get(t, "/admin")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%v: status %d", c.roles, res.StatusCode)
		}
		page := res.text()
		if !strings.Contains(page, m.ID) || !strings.Contains(page, c.roles[0].Label()) {
			t.Errorf("%v: the page does not say who is signed in with which role", c.roles)
		}
		for name, marker := range tools {
			want := false
			for _, s := range c.sees {
				want = want || s == name
			}
			if got := strings.Contains(page, marker); got != want {
				t.Errorf("%v: shows %s = %v, want %v", c.roles, name, got, want)
			}
		}
	}
	if res := h.signIn(t, h.newMember(t)).get(t, "/admin"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a member without a role: %d, want 403", res.StatusCode)
	}
}

func TestPersonLookupNeedsAReasonAndIsLogged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	person := h.newMember(t)
	if _, err := h.DB.Exec(ctx, `INSERT INTO profiles (account_id, phone, created_at, updated_at) VALUES (?, ?, ?, ?)`,
		person.ID, "+40712345678", h.Clock.Now(), h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	agent := h.newStaff(t, staff.Support)
	support := h.signIn(t, agent)

	// The lookup shows the id and nothing else about the person.
	res := support.get(t, "/admin/people?q="+url.QueryEscape(strings.ToUpper(person.Email)))
	if res.StatusCode != http.StatusOK || !strings.Contains(res.text(), person.ID) {
		t.Fatalf("lookup: %d", res.StatusCode)
	}
	if strings.Contains(res.text(), person.Name) || strings.Contains(res.text(), "40712345678") {
		t.Fatal("the lookup shows the person's details before a reason")
	}
	if res := support.get(t, "/admin/people?q=nobody%40example.com"); res.StatusCode != http.StatusOK || !strings.Contains(res.text(), "No account matches") {
		t.Fatalf("an unknown address: %d", res.StatusCode)
	}
	if res := support.get(t, "/admin/people/"+person.ID); res.StatusCode != http.StatusOK || strings.Contains(res.text(), person.Name) ||
		!strings.Contains(res.text(), `name="reason"`) {
		t.Fatalf("the reason form: %d", res.StatusCode)
	}

	// Without a proper reason nothing is shown and nothing is logged.
	for _, reason := range []string{"", "because", strings.Repeat("x", staff.MaxReason+1)} {
		res := support.postForm(t, "/admin/people/"+person.ID, url.Values{"reason": {reason}})
		if res.StatusCode != http.StatusUnprocessableEntity || strings.Contains(res.text(), person.Email) ||
			!strings.Contains(res.text(), `aria-invalid="true"`) {
			t.Errorf("reason %q: %d", reason, res.StatusCode)
		}
	}
	if log, _ := store.AccessLogOf(ctx, h.DB, person.ID, 10); len(log) != 0 {
		t.Fatalf("a refused look was logged: %+v", log)
	}

	res = support.postForm(t, "/admin/people/"+person.ID, url.Values{"reason": {staffTestReason}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("look with a reason: %d %s", res.StatusCode, res.Body)
	}
	// html/template writes the plus sign as &#43;.
	for _, want := range []string{person.Name, person.Email, "40712345678", "Confirmed", "Active", "Not locked", "access log"} {
		if !strings.Contains(res.text(), want) {
			t.Errorf("the person page lacks %q", want)
		}
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Error("the person page may be cached")
	}

	// The API: a lookup, then a look with a reason, each logged.
	api := h.apiClient(t, agent)
	lookup := api.get(t, "/api/admin/people?q="+url.QueryEscape(person.Email))
	var found struct {
		People []struct {
			ID string `json:"id"`
		} `json:"people"`
	}
	lookup.decode(t, &found)
	if lookup.StatusCode != http.StatusOK || len(found.People) != 1 || found.People[0].ID != person.ID || strings.Contains(lookup.text(), person.Name) {
		t.Fatalf("API lookup: %d %s", lookup.StatusCode, lookup.Body)
	}
	if res := api.sendJSON(t, "POST", "/api/admin/people/"+person.ID+"/view", map[string]string{"reason": "why"}); res.StatusCode != http.StatusUnprocessableEntity || res.problemFields(t)["reason"] == "" {
		t.Fatalf("API look with a short reason: %d %s", res.StatusCode, res.Body)
	}
	if res := support.sendJSON(t, "POST", "/api/admin/people/"+person.ID+"/view", map[string]string{"reason": staffTestReason}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API look with a cookie: %d, want 401", res.StatusCode)
	}
	if res := api.sendJSON(t, "POST", "/api/admin/people/acc_missing/view", map[string]string{"reason": staffTestReason}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("API look at an unknown id: %d", res.StatusCode)
	}
	h.Clock.Advance(time.Minute)
	view := api.sendJSON(t, "POST", "/api/admin/people/"+person.ID+"/view", map[string]string{"reason": "Second look for ticket 4411"})
	var got struct {
		ID            string  `json:"id"`
		Name          string  `json:"name"`
		Email         string  `json:"email"`
		Phone         *string `json:"phone"`
		EmailVerified bool    `json:"email_verified"`
		Status        string  `json:"status"`
		Locked        bool    `json:"locked"`
		Access        struct {
			ID        string `json:"id"`
			StaffRole string `json:"staff_role"`
		} `json:"access"`
	}
	view.decode(t, &got)
	if view.StatusCode != http.StatusOK || got.ID != person.ID || got.Email != person.Email || got.Phone == nil || *got.Phone != "+40712345678" ||
		!got.EmailVerified || got.Status != "active" || got.Locked || got.Access.StaffRole != "support" || got.Access.ID == "" {
		t.Fatalf("API look: %d %s", view.StatusCode, view.Body)
	}

	// The person sees both looks, newest first, with role, staff id, time
	// and reason, and never the staff member's name.
	mine := h.signIn(t, person)
	page := mine.get(t, "/account/access-log")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("access log page: %d", page.StatusCode)
	}
	for _, want := range []string{"Who looked at my data", "Support", agent.ID, staffTestReason, "Second look for ticket 4411", "Your contact details and account status"} {
		if !strings.Contains(page.text(), want) {
			t.Errorf("the access log page lacks %q", want)
		}
	}
	if strings.Contains(page.text(), agent.Name) || strings.Contains(page.text(), agent.Email) {
		t.Error("the access log names the staff member")
	}
	var log struct {
		Entries []struct {
			ID        string    `json:"id"`
			At        time.Time `json:"at"`
			StaffID   string    `json:"staff_id"`
			StaffRole string    `json:"staff_role"`
			Viewed    string    `json:"viewed"`
			Reason    string    `json:"reason"`
		} `json:"entries"`
	}
	res = h.apiClient(t, person).get(t, "/api/me/access-log")
	res.decode(t, &log)
	if res.StatusCode != http.StatusOK || len(log.Entries) != 2 || log.Entries[0].ID != got.Access.ID ||
		log.Entries[1].Reason != staffTestReason || log.Entries[1].StaffID != agent.ID || log.Entries[1].StaffRole != "support" ||
		log.Entries[1].Viewed != "person.record" || !log.Entries[0].At.After(log.Entries[1].At) {
		t.Fatalf("API access log: %d %s", res.StatusCode, res.Body)
	}
	if strings.Contains(res.text(), agent.Name) {
		t.Error("the API access log names the staff member")
	}

	// Only the person sees their log.
	other := h.newMember(t)
	res = h.apiClient(t, other).get(t, "/api/me/access-log")
	res.decode(t, &log)
	if len(log.Entries) != 0 || strings.Contains(res.text(), staffTestReason) {
		t.Fatalf("another member sees the log: %s", res.Body)
	}
	if res := h.anon().get(t, "/api/me/access-log"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous access log: %d", res.StatusCode)
	}

	// The audit log records every lookup and look, without the reason.
	recs, err := store.AuditForSubject(ctx, h.DB, person.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, r := range recs {
		if r.ActorID == agent.ID {
			actions[r.Action]++
		}
		if strings.Contains(r.Detail, "4411") {
			t.Fatalf("the reason reached the audit log: %s", r.Detail)
		}
	}
	if actions["staff.lookup"] != 2 || actions["staff.read"] != 2 {
		t.Fatalf("audit actions by the agent: %v", actions)
	}

	// Nothing personal reached the server's log.
	logs := h.Logs.String()
	for _, secret := range []string{staffTestReason, person.Email, person.Name, "+40712345678"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the server log holds %q", secret)
		}
	}
}

func TestAdministratorsCannotLookPeopleUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	person := h.newMember(t)
	admin := h.newStaff(t, staff.Admin)
	c := h.signIn(t, admin)
	for _, path := range []string{"/admin/people", "/admin/people/" + person.ID} {
		if res := c.get(t, path); res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s as admin: %d, want 403", path, res.StatusCode)
		}
	}
	if res := c.postForm(t, "/admin/people/"+person.ID, url.Values{"reason": {staffTestReason}}); res.StatusCode != http.StatusForbidden || strings.Contains(res.text(), person.Email) {
		t.Errorf("POST as admin: %d, want 403", res.StatusCode)
	}
	if log, _ := store.AccessLogOf(context.Background(), h.DB, person.ID, 10); len(log) != 0 {
		t.Fatal("a refused look was logged")
	}
}

func TestSupportCannotOpenTheAuditLogOrTheOutbox(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.signIn(t, h.newStaff(t, staff.Support))
	api := h.apiClient(t, h.newStaff(t, staff.Support))
	for _, path := range []string{"/admin/audit", "/admin/outbox", "/admin/subprocessors", "/admin/staff"} {
		if res := c.get(t, path); res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s as support: %d, want 403", path, res.StatusCode)
		}
	}
	for _, path := range []string{"/api/admin/audit/verify", "/api/admin/outbox", "/api/admin/staff"} {
		if res := api.get(t, path); res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s as support: %d, want 403", path, res.StatusCode)
		}
	}
}

func TestStaffManagement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	adminMember := h.newStaff(t, staff.Admin)
	admin := h.signIn(t, adminMember)
	api := h.apiClient(t, adminMember)
	colleague := h.newMember(t)
	unverified := h.newUnverifiedMember(t)

	res := admin.get(t, "/admin/staff")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.text(), adminMember.ID) || strings.Contains(res.text(), colleague.ID) {
		t.Fatalf("staff page: %d", res.StatusCode)
	}

	// Refused grants change nothing and say why, field by field.
	for _, form := range []url.Values{
		{"email": {"nobody@example.com"}, "role": {"support"}},
		{"email": {unverified.Email}, "role": {"support"}},
		{"email": {colleague.Email}, "role": {"owner"}},
		{"email": {"not an address"}, "role": {"support"}},
	} {
		res := admin.postForm(t, "/admin/staff", form)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "field-error") {
			t.Errorf("grant %v: %d", form, res.StatusCode)
		}
	}
	for _, m := range []*testMember{colleague, unverified} {
		if roles, _ := store.StaffRoles(ctx, h.DB, m.ID); len(roles) != 0 {
			t.Fatalf("a refused grant gave %v", roles)
		}
	}

	res = admin.postForm(t, "/admin/staff", url.Values{"email": {strings.ToUpper(colleague.Email)}, "role": {"support"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/staff?done=granted" {
		t.Fatalf("grant: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if page := admin.get(t, "/admin/staff?done=granted").text(); !strings.Contains(page, colleague.ID) || !strings.Contains(page, "The role was granted") {
		t.Fatal("the register does not show the new staff member")
	}
	// The colleague's role waits for two-step sign-in; once it is on,
	// their console opens.
	if res := h.signIn(t, colleague).get(t, "/admin/people"); res.StatusCode != http.StatusForbidden || !strings.Contains(res.text(), "two-step sign-in") {
		t.Fatalf("the new support member without two-step sign-in: %d", res.StatusCode)
	}
	h.turnOnTOTP(t, colleague)
	if res := h.signIn(t, colleague).get(t, "/admin/people"); res.StatusCode != http.StatusOK {
		t.Fatalf("the new support member: %d", res.StatusCode)
	}

	// The API: grant, list, revoke.
	res = api.sendJSON(t, "POST", "/api/admin/staff", map[string]string{"email": colleague.Email, "role": "privacy_officer"})
	var member struct {
		AccountID string   `json:"account_id"`
		Roles     []string `json:"roles"`
	}
	res.decode(t, &member)
	if res.StatusCode != http.StatusCreated || member.AccountID != colleague.ID || strings.Join(member.Roles, ",") != "support,privacy_officer" {
		t.Fatalf("API grant: %d %s", res.StatusCode, res.Body)
	}
	if res := api.sendJSON(t, "POST", "/api/admin/staff", map[string]string{"email": colleague.Email, "role": "privacy_officer"}); res.StatusCode != http.StatusOK {
		t.Fatalf("API grant of a held role: %d", res.StatusCode)
	}
	if res := api.sendJSON(t, "POST", "/api/admin/staff", map[string]string{"email": unverified.Email, "role": "support"}); res.StatusCode != http.StatusUnprocessableEntity || res.problemFields(t)["email"] == "" {
		t.Fatalf("API grant to an unverified account: %d %s", res.StatusCode, res.Body)
	}
	var list struct {
		Staff []struct {
			AccountID string `json:"account_id"`
		} `json:"staff"`
	}
	res = api.get(t, "/api/admin/staff")
	res.decode(t, &list)
	if len(list.Staff) != 2 {
		t.Fatalf("API list: %s", res.Body)
	}
	res = api.do(t, "DELETE", "/api/admin/staff/"+colleague.ID+"/roles/support", nil, nil)
	res.decode(t, &member)
	if res.StatusCode != http.StatusOK || strings.Join(member.Roles, ",") != "privacy_officer" {
		t.Fatalf("API revoke: %d %s", res.StatusCode, res.Body)
	}
	if res := api.do(t, "DELETE", "/api/admin/staff/"+colleague.ID+"/roles/support", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("revoking a role not held: %d", res.StatusCode)
	}
	// The only administrator cannot step down: their own roles are
	// another administrator's to change, and there is none.
	if res := api.do(t, "DELETE", "/api/admin/staff/"+adminMember.ID+"/roles/admin", nil, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("revoking the last administrator: %d", res.StatusCode)
	}
	res = admin.postForm(t, "/admin/staff/"+colleague.ID+"/revoke", url.Values{"role": {"privacy_officer"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke form: %d", res.StatusCode)
	}
	if roles, _ := store.StaffRoles(ctx, h.DB, colleague.ID); len(roles) != 0 {
		t.Fatalf("after revoking everything: %v", roles)
	}
	if res := h.signIn(t, colleague).get(t, "/admin"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("the former staff member still opens the console: %d", res.StatusCode)
	}

	// Every change is audited under the administrator's staff id.
	recs, err := store.AuditForSubject(ctx, h.DB, colleague.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, r := range recs {
		if r.ActorKind == "staff" && r.ActorID == adminMember.ID {
			changes = append(changes, r.Action)
		}
	}
	if strings.Join(changes, ",") != "staff.revoke,staff.revoke,staff.grant,staff.grant" {
		t.Fatalf("audited changes, newest first: %v", changes)
	}

	// Others cannot manage staff.
	po := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))
	if res := po.sendJSON(t, "POST", "/api/admin/staff", map[string]string{"email": colleague.Email, "role": "admin"}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a privacy officer granting: %d", res.StatusCode)
	}
}

// staffSetupToken opens the database's setup link as `sessions serve`
// does, whether or not an administrator exists, and returns its token.
func staffSetupToken(t *testing.T, h *harness) string {
	t.Helper()
	now := h.Clock.Now()
	exp := now.Add(staff.SetupTTL).Truncate(time.Second)
	fresh := signed.MakeFixed(h.Secret, staff.SetupPurpose, staff.SetupSubject, exp)
	open, err := store.OpenSetupToken(context.Background(), h.DB, store.SetupToken{Digest: signed.Digest(fresh), ExpiresAt: exp}, now)
	if err != nil {
		t.Fatal(err)
	}
	return signed.MakeFixed(h.Secret, staff.SetupPurpose, staff.SetupSubject, open.ExpiresAt)
}

func TestSetupLinkCreatesTheFirstAdministratorOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	token := staffSetupToken(t, h)
	browser := h.anon()

	if res := browser.get(t, "/setup?token="+url.QueryEscape(token)); res.StatusCode != http.StatusOK || !strings.Contains(res.text(), `name="token"`) {
		t.Fatalf("setup page: %d", res.StatusCode)
	}
	for _, bad := range []string{"", "forged.token", signed.Make(h.Secret, "account.verify-email", staff.SetupSubject, h.Clock.Now().Add(time.Hour))} {
		if res := browser.get(t, "/setup?token="+url.QueryEscape(bad)); res.StatusCode != http.StatusNotFound {
			t.Errorf("setup with token %q: %d, want 404", bad, res.StatusCode)
		}
	}

	// Bad input creates nothing and keeps the link alive.
	res := browser.postForm(t, "/setup", url.Values{"token": {token}, "name": {""}, "email": {"not-an-address"}, "password": {"short"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad input: %d", res.StatusCode)
	}
	for _, field := range []string{"setup-name-error", "setup-email-error", "setup-password-error"} {
		if !strings.Contains(res.text(), field) {
			t.Errorf("no message %s", field)
		}
	}
	if ok, _ := store.AdminExists(ctx, h.DB); ok {
		t.Fatal("bad input created an administrator")
	}

	res = browser.postForm(t, "/setup", url.Values{"token": {token}, "name": {"Grace Hopper"}, "email": {"Grace@Example.com"}, "password": {"a long and unusual passphrase"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin" {
		t.Fatalf("setup: %d %q %s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	// The person is signed in as the administrator, whose role waits for
	// two-step sign-in: the console says so and where to turn it on, and
	// opens once it is on.
	res = browser.get(t, "/admin")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.text(), "Turn on two-step sign-in first") || !strings.Contains(res.text(), `href="/account/security"`) {
		t.Fatalf("the new administrator's console before two-step sign-in: %d\n%s", res.StatusCode, res.Body)
	}
	if res := browser.get(t, "/admin/staff"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("the staff register before two-step sign-in: %d", res.StatusCode)
	}
	enableTOTP(t, h, browser)
	if res := browser.get(t, "/admin"); res.StatusCode != http.StatusOK || !strings.Contains(res.text(), "Grace Hopper") || !strings.Contains(res.text(), `href="/admin/staff"`) {
		t.Fatalf("the new administrator's console: %d", res.StatusCode)
	}
	if ok, _ := store.AdminExists(ctx, h.DB); !ok {
		t.Fatal("no administrator after setup")
	}

	// Single use, and dead once an administrator exists, even freshly printed.
	if res := h.anon().get(t, "/setup?token="+url.QueryEscape(token)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("the used link: %d, want 404", res.StatusCode)
	}
	if res := h.anon().postForm(t, "/setup", url.Values{"token": {token}, "name": {"Mallory"}, "email": {"mallory@example.com"}, "password": {"another long passphrase"}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("reusing the link: %d, want 404", res.StatusCode)
	}
	h.Clock.Advance(time.Minute) // a later start
	fresh := staffSetupToken(t, h)
	if res := h.anon().get(t, "/setup?token="+url.QueryEscape(fresh)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a fresh link with an administrator: %d, want 404", res.StatusCode)
	}
	list, _ := store.ListStaff(ctx, h.DB)
	if len(list) != 1 || list[0].Email != "grace@example.com" {
		t.Fatalf("staff after setup: %+v", list)
	}
	if strings.Contains(h.Logs.String(), token) || strings.Contains(h.Logs.String(), "grace@example.com") {
		t.Error("the setup token or address reached the log")
	}
}

func TestSetupLinkPromotesAnExistingAccountWithItsPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	m := h.newMember(t)
	token := staffSetupToken(t, h)
	res := h.anon().postForm(t, "/setup", url.Values{"token": {token}, "name": {"X"}, "email": {m.Email}, "password": {"not the password at all"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "setup-password-error") {
		t.Fatalf("wrong password: %d", res.StatusCode)
	}
	if roles, _ := store.StaffRoles(ctx, h.DB, m.ID); len(roles) != 0 {
		t.Fatal("a wrong password promoted the account")
	}
	res = h.anon().postForm(t, "/setup", url.Values{"token": {token}, "email": {m.Email}, "password": {m.Password}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password: %d %s", res.StatusCode, res.Body)
	}
	if roles, _ := store.StaffRoles(ctx, h.DB, m.ID); len(roles) != 1 || roles[0] != "admin" {
		t.Fatalf("roles after setup: %v", roles)
	}
}

func TestSetupLinkExpires(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	token := staffSetupToken(t, h)
	h.Clock.Advance(staff.SetupTTL)
	if res := h.anon().get(t, "/setup?token="+url.QueryEscape(token)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("an expired link: %d, want 404", res.StatusCode)
	}
}

// TestStaffPagesRender opens every staff page in each of its states, with
// refused forms too, and checks the markup: nothing the CSP would block,
// no duplicate ids, no references to missing ids, and one h1.
func TestStaffPagesRender(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	person := h.newMember(t)
	everyRole := h.signIn(t, h.newStaff(t, staff.Roles...))
	msg, err := store.EnqueueMail(context.Background(), h.DB, h.Clock.Now(), mail.Message{PersonID: person.ID, Category: mail.Transactional,
		Template: "matrix.render", To: person.Email, Subject: "Hi", Text: "Hello", HTML: "<p>Hello</p>", Headers: map[string]string{"X-Test": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]*response{
		"landing":           everyRole.get(t, "/admin"),
		"people":            everyRole.get(t, "/admin/people"),
		"people found":      everyRole.get(t, "/admin/people?q="+url.QueryEscape(person.Email)),
		"people not found":  everyRole.get(t, "/admin/people?q=nobody%40example.com"),
		"people too long":   everyRole.get(t, "/admin/people?q="+strings.Repeat("x", 300)),
		"reason":            everyRole.get(t, "/admin/people/"+person.ID),
		"reason refused":    everyRole.postForm(t, "/admin/people/"+person.ID, url.Values{"reason": {"no"}}),
		"person":            everyRole.postForm(t, "/admin/people/"+person.ID, url.Values{"reason": {staffTestReason}}),
		"staff":             everyRole.get(t, "/admin/staff?done=granted"),
		"staff refused":     everyRole.postForm(t, "/admin/staff", url.Values{"email": {"x"}, "role": {"x"}}),
		"message":           everyRole.get(t, "/admin/outbox/"+msg),
		"message, operator": h.signIn(t, h.newStaff(t, staff.Admin)).get(t, "/admin/outbox/"+msg),
		"message refused":   everyRole.postForm(t, "/admin/outbox/"+msg, url.Values{"reason": {"no"}}),
		"message in full":   everyRole.postForm(t, "/admin/outbox/"+msg, url.Values{"reason": {staffTestReason}}),
		"outbox":            everyRole.get(t, "/admin/outbox"),
		"access log":        h.signIn(t, person).get(t, "/account/access-log"),
		"empty access log":  h.signIn(t, h.newMember(t)).get(t, "/account/access-log"),
	}
	setup := newHarness(t)
	token := staffSetupToken(t, setup)
	pages["setup"] = setup.anon().get(t, "/setup?token="+url.QueryEscape(token))
	pages["setup refused"] = setup.anon().postForm(t, "/setup", url.Values{"token": {token}})
	for name, res := range pages {
		if res.StatusCode >= 500 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s", name, res.StatusCode, res.Header.Get("Content-Type"))
			continue
		}
		checkPage(t, name, res.Body)
		if n := strings.Count(res.text(), "<h1"); n != 1 {
			t.Errorf("%s: %d h1 elements", name, n)
		}
	}
	if pages["people too long"].StatusCode != http.StatusUnprocessableEntity || pages["setup refused"].StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("refused forms: %d, %d", pages["people too long"].StatusCode, pages["setup refused"].StatusCode)
	}
}
