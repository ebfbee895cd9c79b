package web_test

// Personal API tokens die: with a new password, with "sign out
// everywhere" unless the member keeps them, and on their own after at
// most 90 days. They carry scopes, cannot make more tokens, are made only
// with the password (and the second factor), and open the staff API only
// with the staff scope, for staff with two-step sign-in who still hold
// the role.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// bearer is a client that sends token.
func bearer(h *harness, token string) *client {
	c := h.anon()
	c.bearer = token
	return c
}

func TestAPITokensAreRevokedByAPasswordReset(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	api := bearer(h, makeToken(t, h.signIn(t, m), tokenForm("sync", account.ScopeAccountRead)))
	wantStatus(t, api.get(t, "/api/me"), http.StatusOK)
	// Making the token told the owner by mail; that notice comes first.
	if notice := h.nextMail(t); !strings.Contains(notice.Text, `named "sync"`) {
		t.Fatalf("the first mail is not the new-token notice:\n%s", notice.Text)
	}

	wantStatus(t, h.anon().postForm(t, "/forgot-password", url.Values{"email": {m.Email}}), http.StatusOK)
	reset := tokenFrom(t, h.nextMail(t).Text)
	res := h.anon().postForm(t, "/reset-password", url.Values{"token": {reset}, "password": {"a brand new passphrase"}})
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, "API tokens were revoked")

	wantStatus(t, api.get(t, "/api/me"), http.StatusUnauthorized)
	if tokens, _ := store.ListAPITokens(context.Background(), h.DB, m.ID); len(tokens) != 0 {
		t.Fatalf("%d tokens left after a password reset", len(tokens))
	}
}

func TestAPITokensAreRevokedByAPasswordChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	browser := h.signIn(t, m)
	api := bearer(h, makeToken(t, browser, tokenForm("sync", account.ScopeAccountRead)))
	wantStatus(t, api.get(t, "/api/me"), http.StatusOK)

	wantRedirect(t, browser.postForm(t, "/account/security/password",
		url.Values{"current_password": {m.Password}, "new_password": {"a brand new passphrase 7"}}), "/account/security?done=password")
	wantStatus(t, api.get(t, "/api/me"), http.StatusUnauthorized)
	// The browser that changed it stays signed in.
	if !signedIn(t, browser) {
		t.Fatal("changing the password signed out the browser that did it")
	}
}

func TestSignOutEverywhereRevokesAPITokensUnlessKept(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	browser := h.signIn(t, m)
	page := browser.get(t, "/account/security")
	wantBody(t, page, `name="keep_tokens"`, "Keep my API tokens working")

	kept := bearer(h, makeToken(t, browser, tokenForm("kept", account.ScopeAccountRead)))
	wantRedirect(t, browser.postForm(t, "/account/security/sessions/end-others", url.Values{"keep_tokens": {"on"}}),
		"/account/security?done=sessions-kept")
	wantStatus(t, kept.get(t, "/api/me"), http.StatusOK)

	wantRedirect(t, browser.postForm(t, "/account/security/sessions/end-others", nil), "/account/security?done=sessions-ended")
	wantStatus(t, kept.get(t, "/api/me"), http.StatusUnauthorized)
	if !signedIn(t, browser) {
		t.Fatal("sign out everywhere else ended the current session")
	}
}

func TestAPITokensExpire(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	browser := h.signIn(t, m)
	week := tokenForm("a week", account.ScopeAccountRead)
	week.Set("expires_in_days", "7")
	short := bearer(h, makeToken(t, browser, week))
	long := bearer(h, makeToken(t, browser, tokenForm("default", account.ScopeAccountRead)))
	for _, days := range []string{"-3", "91", "many"} {
		form := tokenForm("too long", account.ScopeAccountRead)
		form.Set("expires_in_days", days)
		res := browser.postForm(t, "/account/security/tokens", form)
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantBody(t, res, `id="token-days-error"`)
	}
	res := browser.sendJSON(t, http.MethodPost, "/api/tokens",
		map[string]any{"name": "forever", "scopes": []string{"meetings"}, "expires_in_days": 3650, "password": m.Password})
	wantStatus(t, res, http.StatusUnprocessableEntity)

	h.Clock.Advance(7*24*time.Hour + time.Minute)
	wantStatus(t, short.get(t, "/api/me"), http.StatusUnauthorized)
	wantStatus(t, long.get(t, "/api/me"), http.StatusOK)
	h.Clock.Advance(83 * 24 * time.Hour)
	wantStatus(t, long.get(t, "/api/me"), http.StatusUnauthorized)
}

func TestAPITokenCannotMakeTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	api := h.apiClient(t, m) // every scope
	res := api.sendJSON(t, http.MethodPost, "/api/tokens",
		map[string]any{"name": "child", "scopes": []string{"meetings"}, "password": m.Password})
	wantStatus(t, res, http.StatusForbidden)
	if tokens, _ := store.ListAPITokens(context.Background(), h.DB, m.ID); len(tokens) != 1 {
		t.Fatalf("a token made a token: %d tokens", len(tokens))
	}
}

func TestMakingATokenNeedsThePasswordAndTheSecondFactor(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	browser := h.signIn(t, m)

	form := tokenForm("sync", account.ScopeMeetings)
	form.Del("password")
	res := browser.postForm(t, "/account/security/tokens", form)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantBody(t, res, `id="token-password-error"`)
	form.Set("password", "not my password")
	res = browser.postForm(t, "/account/security/tokens", form)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantBody(t, res, `id="token-password-error"`)
	res = browser.sendJSON(t, http.MethodPost, "/api/tokens", map[string]any{"name": "sync", "scopes": []string{"meetings"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if res.problemFields(t)["password"] == "" {
		t.Fatalf("no message on the password: %s", res.Body)
	}

	// With two-step sign-in on, the password alone is not enough.
	h.turnOnTOTP(t, m)
	h.Clock.Advance(time.Minute)
	form = tokenForm("sync", account.ScopeMeetings)
	res = browser.postForm(t, "/account/security/tokens", form)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantBody(t, res, `id="token-code-error"`)
	form.Set("code", "000000")
	wantStatus(t, browser.postForm(t, "/account/security/tokens", form), http.StatusUnprocessableEntity)
	if tokens, _ := store.ListAPITokens(context.Background(), h.DB, m.ID); len(tokens) != 0 {
		t.Fatalf("a refused request made %d tokens", len(tokens))
	}
	form.Set("code", h.totpCode(t, m))
	makeToken(t, browser, form)
	if !mailed(t, h, m.Email, "account.security-notice") {
		t.Fatal("the member was not told a token was made")
	}
}

func TestAPITokensStayOutOfTheStaffAPIWithoutTheStaffScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	admin := h.newStaff(t, staff.Admin) // two-step sign-in on
	other := h.newStaff(t, staff.Admin)

	memberOnly := bearer(h, h.scopedToken(t, admin, account.MemberScopes...))
	res := memberOnly.get(t, "/api/admin/staff")
	wantStatus(t, res, http.StatusForbidden)
	if got := res.Header.Get("WWW-Authenticate"); !strings.Contains(got, `error="insufficient_scope"`) || !strings.Contains(got, `scope="staff"`) {
		t.Fatalf("WWW-Authenticate = %q", got)
	}
	wantStatus(t, memberOnly.sendJSON(t, http.MethodPost, "/api/admin/staff", map[string]string{"email": h.newMember(t).Email, "role": "support"}),
		http.StatusForbidden)

	// The staff scope is made on the page by staff with the second factor.
	browser := h.signIn(t, admin)
	form := tokenForm("console script", account.ScopeStaff)
	form.Set("code", h.totpCode(t, admin))
	staffToken := bearer(h, makeToken(t, browser, form))
	wantStatus(t, staffToken.get(t, "/api/admin/staff"), http.StatusOK)
	// Its scope opens the staff API only.
	wantStatus(t, staffToken.get(t, "/api/me"), http.StatusForbidden)

	// A member without a role, or staff without two-step sign-in, cannot
	// make one.
	plain := h.newMember(t)
	res = h.signIn(t, plain).postForm(t, "/account/security/tokens", tokenForm("sneaky", account.ScopeStaff))
	wantStatus(t, res, http.StatusForbidden)
	dormant := h.newMember(t)
	h.grantDormant(t, dormant, staff.Admin)
	res = h.signIn(t, dormant).postForm(t, "/account/security/tokens", tokenForm("sneaky", account.ScopeStaff))
	wantStatus(t, res, http.StatusForbidden)
	for _, m := range []*testMember{plain, dormant} {
		if tokens, _ := store.ListAPITokens(ctx, h.DB, m.ID); len(tokens) != 0 {
			t.Fatalf("a staff token was made for someone who may not have one")
		}
	}

	// The token works only while its owner holds the role.
	wantStatus(t, h.apiClient(t, other).do(t, http.MethodDelete, "/api/admin/staff/"+admin.ID+"/roles/admin", nil, nil), http.StatusOK)
	wantStatus(t, staffToken.get(t, "/api/admin/staff"), http.StatusForbidden)
}

func TestAPITokenStaffScopeLapsesWithTwoStepSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.newStaff(t, staff.Admin)
	h.newStaff(t, staff.Admin)
	api := h.apiClient(t, admin)
	wantStatus(t, api.get(t, "/api/admin/staff"), http.StatusOK)
	if err := store.DisableTOTP(context.Background(), h.DB, admin.ID, h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	res := api.get(t, "/api/admin/staff")
	wantStatus(t, res, http.StatusForbidden)
	wantBody(t, res, "two-step sign-in")
}

func TestAPITokenScopesChooseTheRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	meetings := bearer(h, h.scopedToken(t, m, account.ScopeMeetings))
	wantStatus(t, meetings.get(t, "/api/meetings"), http.StatusOK)
	for _, path := range []string{"/api/me", "/api/me/requests", "/api/orgs", "/api/tokens"} {
		res := meetings.get(t, path)
		wantStatus(t, res, http.StatusForbidden)
		if !strings.Contains(res.Header.Get("WWW-Authenticate"), "insufficient_scope") {
			t.Errorf("GET %s: WWW-Authenticate = %q", path, res.Header.Get("WWW-Authenticate"))
		}
	}
	wantStatus(t, meetings.sendJSON(t, http.MethodPost, "/api/me/erasure", nil), http.StatusForbidden)
	if a, _ := store.AccountByID(context.Background(), h.DB, m.ID); a.Status != account.Active {
		t.Fatal("a meetings token erased the account")
	}
}

func TestTokenListShowsScopesExpiryAndLastUse(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	browser := h.signIn(t, m)
	form := tokenForm("calendar sync", account.ScopeAccountRead, account.ScopeMeetings)
	form.Set("expires_in_days", "30")
	api := bearer(h, makeToken(t, browser, form))

	page := browser.get(t, "/account/security")
	wantBody(t, page, "calendar sync", "<code>account:read</code>", "<code>meetings</code>", "1 Apr 2026, 09:00 UTC", "never")
	h.Clock.Advance(2 * time.Hour)
	wantStatus(t, api.get(t, "/api/me"), http.StatusOK)
	wantBody(t, browser.get(t, "/account/security"), "2 Mar 2026, 11:00 UTC")

	res := api.get(t, "/api/tokens")
	wantStatus(t, res, http.StatusOK)
	var list struct {
		Tokens []struct {
			Name       string     `json:"name"`
			Scopes     []string   `json:"scopes"`
			ExpiresAt  time.Time  `json:"expires_at"`
			Expired    bool       `json:"expired"`
			LastUsedAt *time.Time `json:"last_used_at"`
		} `json:"tokens"`
	}
	res.decode(t, &list)
	if len(list.Tokens) != 1 {
		t.Fatalf("GET /api/tokens = %s", res.Body)
	}
	got := list.Tokens[0]
	if got.Name != "calendar sync" || strings.Join(got.Scopes, " ") != "account:read meetings" || got.Expired ||
		!got.ExpiresAt.Equal(harnessStart.AddDate(0, 0, 30)) || got.LastUsedAt == nil {
		t.Fatalf("GET /api/tokens = %s", res.Body)
	}
}
