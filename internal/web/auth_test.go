package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/web"
)

// Scenario tests of signing up, in and out, e-mailed links, the second
// factor, sessions and API tokens, through the real routes.

// countingHarness is a harness whose password hasher counts its work, so a
// test can prove two paths hash the same number of times.
func countingHarness(t *testing.T) (*harness, *atomic.Int64) {
	t.Helper()
	h := newHarness(t)
	var n atomic.Int64
	hasher := account.NewHasher(account.HashParams{Memory: 1024, Time: 1, Threads: 1}, func() { n.Add(1) })
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: h.Logs}, nil))
	services, err := wire.New(wire.Parts{Config: h.Config, DB: h.DB, Clock: h.Clock, Log: log, Secret: h.Secret, Mail: h.Mail, Passwords: hasher, Blobs: h.Blobs})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Deps{Config: h.Config, Clock: h.Clock, Log: log,
		Secret: h.Secret, Services: services})
	if err != nil {
		t.Fatal(err)
	}
	h.Srv = srv
	return h, &n
}

var (
	linkToken = regexp.MustCompile(`token=([A-Za-z0-9_\-.%]+)`)
	requestID = regexp.MustCompile(`[0-9a-f]{16}`)
)

// tokenFrom returns the token of the first link in a mail.
func tokenFrom(t *testing.T, text string) string {
	t.Helper()
	m := linkToken.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no link with a token in the mail:\n%s", text)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// mailed reports whether the outbox holds a message of template for addr.
func mailed(t *testing.T, h *harness, addr, template string) bool {
	t.Helper()
	for _, r := range outboxTo(t, h, addr) {
		if r.Template == template {
			return true
		}
	}
	return false
}

// outboxTo lists what the outbox holds for addr.
func outboxTo(t *testing.T, h *harness, addr string) []mail.Record {
	t.Helper()
	recs, err := h.Mail.List(context.Background(), mail.Filter{Limit: mail.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	var out []mail.Record
	for _, r := range recs {
		if strings.EqualFold(r.To, addr) {
			out = append(out, r)
		}
	}
	return out
}

func wantStatus(t *testing.T, res *response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%.2000s", res.Request.Method, res.Request.URL, res.StatusCode, want, res.Body)
	}
}

func wantRedirect(t *testing.T, res *response, prefix string) {
	t.Helper()
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, prefix) {
		t.Fatalf("%s %s: redirect to %q, want %q…", res.Request.Method, res.Request.URL, loc, prefix)
	}
}

func wantBody(t *testing.T, res *response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(res.text(), p) {
			t.Fatalf("%s %s: body lacks %q\n%.3000s", res.Request.Method, res.Request.URL, p, res.Body)
		}
	}
}

// signInForm signs c in with a password, answering nothing else.
func signInForm(t *testing.T, c *client, email, password string) *response {
	t.Helper()
	return c.postForm(t, "/signin", url.Values{"email": {email}, "password": {password}, "next": {"/account/security"}})
}

// signedIn reports whether c's cookie opens the security page.
func signedIn(t *testing.T, c *client) bool {
	t.Helper()
	res := c.get(t, "/account/security")
	return res.StatusCode == http.StatusOK
}

func TestSignUpVerifyAndSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()

	res := c.get(t, "/signup")
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, `name="name"`, `name="email"`, `name="password"`, `<span class="req">required</span>`)
	if strings.Contains(res.text(), `class="opt"`) {
		t.Fatal("sign-up asks for something optional; it must ask only for name, e-mail and password")
	}

	res = c.postForm(t, "/signup", url.Values{"name": {"<b>Ada</b>"}, "email": {" Ada@Example.com "}, "password": {"analytical engine 1843"}})
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, "Check your inbox", "ada@example.com")
	if len(res.Cookies()) != 0 {
		t.Fatalf("sign-up set cookies %v; it must not sign anyone in", res.Cookies())
	}
	a, err := store.AccountByEmail(context.Background(), h.DB, "ada@example.com")
	if err != nil || a.Verified() || a.Name != "<b>Ada</b>" {
		t.Fatalf("account after sign-up: %+v, %v", a, err)
	}
	msg := h.nextMail(t)
	if msg.EnvelopeTo[0] != "ada@example.com" || !strings.Contains(msg.Text, "http://sessions.test/verify-email?token=") {
		t.Fatalf("verification mail: to %v\n%s", msg.EnvelopeTo, msg.Text)
	}
	token := tokenFrom(t, msg.Text)

	// Opening the link shows a button; only the POST spends it.
	res = c.get(t, "/verify-email?token="+url.QueryEscape(token))
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, `action="/verify-email"`, `value="`+token+`"`)
	res = c.get(t, "/verify-email?token="+url.QueryEscape(token))
	wantStatus(t, res, http.StatusOK)
	res = c.postForm(t, "/verify-email", url.Values{"token": {token}})
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, "Your address is confirmed")
	if a, _ := store.AccountByID(context.Background(), h.DB, a.ID); !a.Verified() {
		t.Fatal("the address is not verified after the link")
	}
	wantStatus(t, c.postForm(t, "/verify-email", url.Values{"token": {token}}), http.StatusUnprocessableEntity)
	wantStatus(t, c.get(t, "/verify-email?token="+url.QueryEscape(token)), http.StatusUnprocessableEntity)

	res = signInForm(t, c, "ADA@example.com", "analytical engine 1843")
	wantRedirect(t, res, "/account/security")
	ck := res.Cookies()
	if len(ck) != 1 || ck[0].Name != "sessions" || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteLaxMode || ck[0].Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/", ck)
	}
	res = c.get(t, "/account/security")
	wantStatus(t, res, http.StatusOK)
	// The name is shown escaped in the navigation, with a way out.
	wantBody(t, res, "&lt;b&gt;Ada&lt;/b&gt;", `action="/signout"`, "This device")
	if strings.Contains(res.text(), "<b>Ada</b>") {
		t.Fatal("the name was rendered as markup")
	}

	// The signed-in visitor is sent on from the sign-in and sign-up pages.
	wantRedirect(t, c.get(t, "/signin?next=/account"), "/account")
	wantRedirect(t, c.get(t, "/signup"), "/")

	wantRedirect(t, c.postForm(t, "/signout", nil), "/")
	if signedIn(t, c) {
		t.Fatal("still signed in after signing out")
	}
	res = c.get(t, "/")
	wantBody(t, res, `href="/signin"`, `href="/signup"`)
}

// TestSecureCookie: over HTTPS the cookie is Secure with the __Host- prefix.
func TestSecureCookie(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, map[string]string{"SESSIONS_BASE_URL": "https://sessions.test"})
	m := h.newMember(t)
	res := signInForm(t, h.anon(), m.Email, m.Password)
	wantRedirect(t, res, "/account/security")
	ck := res.Cookies()
	if len(ck) != 1 || ck[0].Name != "__Host-sessions" || !ck[0].Secure || ck[0].Domain != "" || ck[0].Path != "/" {
		t.Fatalf("cookie over HTTPS: %+v", ck)
	}
}

func TestSignUpRefusesBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		name   string
		in     map[string]string
		fields []string
	}{
		{"common password", map[string]string{"name": "Ada", "email": "ada@example.com", "password": "password1"}, []string{"password"}},
		{"short password", map[string]string{"name": "Ada", "email": "ada@example.com", "password": "Xk3!p"}, []string{"password"}},
		{"overlong password", map[string]string{"name": "Ada", "email": "ada@example.com", "password": strings.Repeat("x", 1025)}, []string{"password"}},
		{"invalid e-mail", map[string]string{"name": "Ada", "email": "ada@", "password": "analytical engine"}, []string{"email"}},
		{"overlong e-mail", map[string]string{"name": "Ada", "email": strings.Repeat("a", 250) + "@example.com", "password": "analytical engine"}, []string{"email"}},
		{"overlong name", map[string]string{"name": strings.Repeat("n", 201), "email": "ada@example.com", "password": "analytical engine"}, []string{"name"}},
		{"everything missing", map[string]string{"name": "", "email": "", "password": ""}, []string{"name", "email", "password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.anon().sendJSON(t, http.MethodPost, "/api/signup", tc.in)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			fields := res.problemFields(t)
			for _, f := range tc.fields {
				if fields[f] == "" {
					t.Errorf("no message for %s: %v", f, fields)
				}
			}
			form := url.Values{}
			for k, v := range tc.in {
				form.Set(k, v)
			}
			page := h.anon().postForm(t, "/signup", form)
			wantStatus(t, page, http.StatusUnprocessableEntity)
			for _, f := range tc.fields {
				wantBody(t, page, `id="`+f+`-error"`, `aria-describedby="`+f+`-hint `+f+`-error"`)
			}
			if tc.in["password"] != "" && strings.Contains(page.text(), tc.in["password"]) {
				t.Fatal("the refused form echoes the password")
			}
		})
	}
	if _, err := store.AccountByEmail(context.Background(), h.DB, "ada@example.com"); err == nil {
		t.Fatal("a refused sign-up created an account")
	}
	if n := len(outboxTo(t, h, "ada@example.com")); n != 0 {
		t.Fatalf("a refused sign-up queued %d mails", n)
	}
}

// TestNoEnumeration proves sign-up, sign-in and reset answer an address
// with an account exactly as one without: same status, same body once the
// typed address is set aside, and one password hash each.
func TestNoEnumeration(t *testing.T) {
	t.Parallel()
	h, hashes := countingHarness(t)
	owner := h.newMember(t)
	const unknown = "nobody@example.com"
	same := func(t *testing.T, what string, a, b *response, addrA, addrB string) {
		t.Helper()
		if a.StatusCode != b.StatusCode {
			t.Fatalf("%s: status %d for an existing address, %d for an unknown one", what, a.StatusCode, b.StatusCode)
		}
		norm := func(r *response, addr string) string {
			return requestID.ReplaceAllString(strings.ReplaceAll(r.text(), addr, "ADDRESS"), "ID")
		}
		if na, nb := norm(a, addrA), norm(b, addrB); na != nb {
			t.Fatalf("%s: bodies differ between an existing and an unknown address:\n%s\n----\n%s", what, na, nb)
		}
	}
	hashed := func(t *testing.T, what string, do func() *response) *response {
		t.Helper()
		hashes.Store(0)
		res := do()
		if n := hashes.Load(); n != 1 {
			t.Fatalf("%s: %d password hashes, want exactly 1", what, n)
		}
		return res
	}

	t.Run("sign-up", func(t *testing.T) {
		form := func(addr string) url.Values {
			return url.Values{"name": {"Someone"}, "email": {addr}, "password": {"a quite unusual passphrase"}}
		}
		taken := hashed(t, "taken address", func() *response { return h.anon().postForm(t, "/signup", form(owner.Email)) })
		fresh := hashed(t, "new address", func() *response { return h.anon().postForm(t, "/signup", form(unknown)) })
		same(t, "sign-up page", taken, fresh, owner.Email, unknown)

		apiTaken := hashed(t, "API, taken", func() *response {
			return h.anon().sendJSON(t, http.MethodPost, "/api/signup", map[string]string{"name": "S", "email": owner.Email, "password": "a quite unusual passphrase"})
		})
		apiFresh := hashed(t, "API, new", func() *response {
			return h.anon().sendJSON(t, http.MethodPost, "/api/signup", map[string]string{"name": "S", "email": "other@example.com", "password": "a quite unusual passphrase"})
		})
		wantStatus(t, apiTaken, http.StatusAccepted)
		same(t, "sign-up API", apiTaken, apiFresh, owner.Email, "other@example.com")

		// The owner is told, and the taken address gets no second account.
		got := outboxTo(t, h, owner.Email)
		if len(got) != 2 || got[0].Template != "account.signup-taken" || !strings.Contains(got[0].Text, "/forgot-password") {
			t.Fatalf("mail to the owner of the taken address: %+v", got)
		}
		if a, _ := store.AccountByEmail(context.Background(), h.DB, owner.Email); a.ID != owner.ID || a.Name != owner.Name {
			t.Fatalf("the taken account changed: %+v", a)
		}
		if got := outboxTo(t, h, unknown); len(got) != 1 || got[0].Template != "account.verify-email" {
			t.Fatalf("mail to the new address: %+v", got)
		}
	})

	t.Run("sign-in", func(t *testing.T) {
		wrong := hashed(t, "wrong password", func() *response { return signInForm(t, h.anon(), owner.Email, "not the password at all") })
		none := hashed(t, "unknown address", func() *response { return signInForm(t, h.anon(), "ghost@example.com", "not the password at all") })
		wantStatus(t, wrong, http.StatusUnauthorized)
		same(t, "sign-in", wrong, none, owner.Email, "ghost@example.com")
		wantBody(t, wrong, "The e-mail address or password is not right")
	})

	t.Run("reset", func(t *testing.T) {
		known := h.anon().postForm(t, "/forgot-password", url.Values{"email": {owner.Email}})
		none := h.anon().postForm(t, "/forgot-password", url.Values{"email": {"ghost@example.com"}})
		wantStatus(t, known, http.StatusOK)
		same(t, "reset", known, none, owner.Email, "ghost@example.com")
		if n := len(outboxTo(t, h, "ghost@example.com")); n != 0 {
			t.Fatalf("%d mails to an address without an account", n)
		}
		if !mailed(t, h, owner.Email, "account.reset-password") {
			t.Fatal("no reset mail to the owner")
		}
	})
}

// rawPost sends a form from a given IP address, which the harness client
// cannot set.
func rawPost(t *testing.T, h *harness, ip, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.RemoteAddr = net.JoinHostPort(ip, "40000")
	rec := httptest.NewRecorder()
	h.Srv.ServeHTTP(rec, r)
	return rec
}

func TestLockoutPerAccountAndExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	for _, addr := range []string{m.Email, "ghost@example.com"} {
		for i := range account.AccountThrottle.Limit {
			// Each attempt from its own IP: this is the per-address limit.
			rec := rawPost(t, h, "198.51.100."+string(rune('1'+i)), "/signin", url.Values{"email": {addr}, "password": {"wrong password"}})
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("%s attempt %d: status %d, want 401", addr, i+1, rec.Code)
			}
		}
		rec := rawPost(t, h, "198.51.100.99", "/signin", url.Values{"email": {addr}, "password": {m.Password}})
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "900" {
			t.Fatalf("%s after %d failures: status %d, Retry-After %q; want 429 and 900", addr, account.AccountThrottle.Limit,
				rec.Code, rec.Header().Get("Retry-After"))
		}
		if !strings.Contains(rec.Body.String(), "Too many attempts") {
			t.Fatalf("the 429 page does not say why:\n%s", rec.Body)
		}
	}
	// The lockout holds for its whole length, then ends.
	h.Clock.Advance(account.AccountThrottle.Lockout - time.Second)
	if rec := rawPost(t, h, "198.51.100.99", "/signin", url.Values{"email": {m.Email}, "password": {m.Password}}); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("a second before the end: status %d, want 429", rec.Code)
	}
	h.Clock.Advance(time.Second)
	if rec := rawPost(t, h, "198.51.100.99", "/signin", url.Values{"email": {m.Email}, "password": {m.Password}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("after the lockout: status %d, want 303", rec.Code)
	}
}

func TestLockoutPerIP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	const ip = "203.0.113.7"
	for i := range account.IPThrottle.Limit {
		// A different address each time, so no per-address limit is reached.
		addr := "guess" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "@example.com"
		if rec := rawPost(t, h, ip, "/signin", url.Values{"email": {addr}, "password": {"guess"}}); rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d", i+1, rec.Code)
		}
	}
	rec := rawPost(t, h, ip, "/signin", url.Values{"email": {m.Email}, "password": {m.Password}})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("after %d failures from one IP: status %d, want 429 with Retry-After", account.IPThrottle.Limit, rec.Code)
	}
	if rec := rawPost(t, h, "203.0.113.8", "/signin", url.Values{"email": {m.Email}, "password": {m.Password}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("another IP is locked too: status %d", rec.Code)
	}
	// Neither the IP nor the addresses are stored.
	var n int
	if err := h.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM auth_throttle WHERE key LIKE ? OR key LIKE ?`, "%203.0.113%", "%example.com%").Scan(&n); err != nil || n != 0 {
		t.Fatalf("throttle keys hold raw values: %d, %v", n, err)
	}
}

// TestLockoutPerIPv6Slash64: failed sign-ins from many addresses of one
// /64, which one client can choose freely, lock that /64 as one address
// would be locked; the neighbouring /64 is not locked.
func TestLockoutPerIPv6Slash64(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	for i := range account.IPThrottle.Limit {
		ip := fmt.Sprintf("2001:db8:5:6:%x::%x", i, i+1)
		addr := fmt.Sprintf("guess%d@example.com", i)
		if rec := rawPost(t, h, ip, "/signin", url.Values{"email": {addr}, "password": {"guess"}}); rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d", i+1, rec.Code)
		}
	}
	if rec := rawPost(t, h, "2001:db8:5:6:ffff::1", "/signin", url.Values{"email": {m.Email}, "password": {m.Password}}); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("after %d failures from one /64: status %d, want 429", account.IPThrottle.Limit, rec.Code)
	}
	if rec := rawPost(t, h, "2001:db8:5:7::1", "/signin", url.Values{"email": {m.Email}, "password": {m.Password}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("the neighbouring /64 is locked too: status %d", rec.Code)
	}
}

func TestLinksForgedExpiredReused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newUnverifiedMember(t)
	browser := h.signIn(t, m)
	res := browser.get(t, "/account/security")
	wantBody(t, res, "Please confirm your e-mail address", `action="/verify-email/resend"`)
	wantStatus(t, browser.postForm(t, "/verify-email/resend", nil), http.StatusOK)
	verify := tokenFrom(t, h.nextMail(t).Text)

	forged := verify[:len(verify)-2] + "AA"
	for name, tok := range map[string]string{"forged": forged, "empty": "", "other purpose": strings.Replace(verify, ".", ".x", 1)} {
		if res := browser.postForm(t, "/verify-email", url.Values{"token": {tok}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s link: status %d, want 422", name, res.StatusCode)
		}
	}
	// A newer link voids the older one.
	wantStatus(t, browser.postForm(t, "/verify-email/resend", nil), http.StatusOK)
	newer := tokenFrom(t, h.nextMail(t).Text)
	wantStatus(t, browser.postForm(t, "/verify-email", url.Values{"token": {verify}}), http.StatusUnprocessableEntity)

	// Expired: move the clock past the link's life.
	h.Clock.Advance(account.VerifyTTL)
	wantStatus(t, browser.postForm(t, "/verify-email", url.Values{"token": {newer}}), http.StatusUnprocessableEntity)
	if a, _ := store.AccountByID(context.Background(), h.DB, m.ID); a.Verified() {
		t.Fatal("a refused link verified the address")
	}

	// Reset: a working link once, then refused.
	wantStatus(t, h.anon().postForm(t, "/forgot-password", url.Values{"email": {m.Email}}), http.StatusOK)
	reset := tokenFrom(t, h.nextMail(t).Text)
	wantStatus(t, h.anon().get(t, "/reset-password?token="+url.QueryEscape(reset+"x")), http.StatusUnprocessableEntity)
	res = h.anon().get(t, "/reset-password?token="+url.QueryEscape(reset))
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, `name="password"`)
	// A refused password leaves the link usable.
	res = h.anon().postForm(t, "/reset-password", url.Values{"token": {reset}, "password": {"qwerty123"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantBody(t, res, `id="password-error"`)
	res = h.anon().postForm(t, "/reset-password", url.Values{"token": {reset}, "password": {"a brand new passphrase"}})
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, "every device was signed out")
	wantStatus(t, h.anon().postForm(t, "/reset-password", url.Values{"token": {reset}, "password": {"another new passphrase"}}), http.StatusUnprocessableEntity)

	// The reset ended the browser's session, proved the address, and
	// changed which password works.
	if signedIn(t, browser) {
		t.Fatal("a session survived the password reset")
	}
	if a, _ := store.AccountByID(context.Background(), h.DB, m.ID); !a.Verified() {
		t.Fatal("a used reset link did not prove the address")
	}
	wantStatus(t, signInForm(t, h.anon(), m.Email, m.Password), http.StatusUnauthorized)
	wantRedirect(t, signInForm(t, h.anon(), m.Email, "a brand new passphrase"), "/account/security")
	if msg := h.nextMail(t); msg.Subject != "Your Sessions password was changed" {
		t.Fatalf("no notice of the change; the next mail is %q", msg.Subject)
	}

	// An expired reset link.
	wantStatus(t, h.anon().postForm(t, "/forgot-password", url.Values{"email": {m.Email}}), http.StatusOK)
	late := tokenFrom(t, h.nextMail(t).Text)
	h.Clock.Advance(account.ResetTTL)
	wantStatus(t, h.anon().get(t, "/reset-password?token="+url.QueryEscape(late)), http.StatusUnprocessableEntity)
	wantStatus(t, h.anon().postForm(t, "/reset-password", url.Values{"token": {late}, "password": {"yet another passphrase"}}), http.StatusUnprocessableEntity)
}

func TestSessionsSignOutEverywhereAndIdle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	laptop, phone, tablet := h.anon(), h.anon(), h.anon()
	for _, c := range []*client{laptop, phone, tablet} {
		wantRedirect(t, signInForm(t, c, m.Email, m.Password), "/account/security")
	}
	res := laptop.get(t, "/account/security")
	if n := strings.Count(res.text(), "/end\""); n != 2 {
		t.Fatalf("the list shows %d other sessions, want 2", n)
	}
	// End one session by its id.
	sessions, _ := store.ListSessions(context.Background(), h.DB, m.ID, h.Clock.Now())
	var phoneID string
	for _, s := range sessions {
		if strings.Contains(res.text(), s.ID+"/end") {
			phoneID = s.ID
			break
		}
	}
	wantRedirect(t, laptop.postForm(t, "/account/security/sessions/"+phoneID+"/end", nil), "/account/security?done=session-ended")
	wantStatus(t, laptop.postForm(t, "/account/security/sessions/"+phoneID+"/end", nil), http.StatusNotFound)
	if signedIn(t, phone) && signedIn(t, tablet) {
		t.Fatal("ending a session by id ended nothing")
	}

	wantRedirect(t, laptop.postForm(t, "/account/security/sessions/end-others", nil), "/account/security?done=sessions-ended")
	if signedIn(t, phone) || signedIn(t, tablet) {
		t.Fatal("sign out everywhere left another session open")
	}
	if !signedIn(t, laptop) {
		t.Fatal("sign out everywhere else ended the current session")
	}

	// Idle past the limit: the session no longer opens anything.
	h.Clock.Advance(account.SessionIdle)
	if signedIn(t, laptop) {
		t.Fatal("an idle session still works")
	}
}

func TestSessionTouchesLastActive(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	c := h.signIn(t, m)
	h.Clock.Advance(2 * time.Hour)
	wantStatus(t, c.get(t, "/account/security"), http.StatusOK)
	a, _ := store.AccountByID(context.Background(), h.DB, m.ID)
	if !a.LastActiveAt.Equal(h.Clock.Now()) {
		t.Fatalf("last_active_at = %v, want %v", a.LastActiveAt, h.Clock.Now())
	}
	h.Clock.Advance(10 * time.Minute)
	wantStatus(t, c.get(t, "/account/security"), http.StatusOK)
	if b, _ := store.AccountByID(context.Background(), h.DB, m.ID); !b.LastActiveAt.Equal(a.LastActiveAt) {
		t.Fatal("last_active_at moved within the hour")
	}
}

var newTokenPattern = regexp.MustCompile(`<code id="new-token">(sst_[A-Za-z0-9_-]+)</code>`)

// tokenForm is the security page's form that makes a token with scopes,
// for a member whose password is harnessPassword.
func tokenForm(name string, scopes ...account.Scope) url.Values {
	v := url.Values{"name": {name}, "expires_in_days": {"90"}, "password": {harnessPassword}}
	for _, s := range scopes {
		v.Add("scopes", string(s))
	}
	return v
}

// makeToken makes a token on the security page and returns its secret.
func makeToken(t *testing.T, browser *client, form url.Values) string {
	t.Helper()
	res := browser.postForm(t, "/account/security/tokens", form)
	wantStatus(t, res, http.StatusOK)
	found := newTokenPattern.FindStringSubmatch(res.text())
	if found == nil {
		t.Fatalf("the new token is not shown:\n%s", res.Body)
	}
	return found[1]
}

func TestAPITokensAndMe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	browser := h.signIn(t, m)

	res := browser.postForm(t, "/account/security/tokens", url.Values{"name": {""}, "password": {m.Password}, "scopes": {"meetings"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantBody(t, res, `id="token-name-error"`)
	secret := makeToken(t, browser, tokenForm("calendar sync", account.ScopeAccountRead, account.ScopeAccountWrite, account.ScopeMeetings))
	if strings.Contains(browser.get(t, "/account/security").text(), secret) {
		t.Fatal("the token is shown a second time")
	}

	api := h.anon()
	api.bearer = secret
	res = api.get(t, "/api/me")
	wantStatus(t, res, http.StatusOK)
	var me struct {
		ID, Name, Email string
		EmailVerified   bool     `json:"email_verified"`
		StaffRoles      []string `json:"staff_roles"`
		Controllers     []struct{ ID string }
	}
	res.decode(t, &me)
	if me.ID != m.ID || me.Email != m.Email || me.Name != m.Name || !me.EmailVerified || me.StaffRoles == nil ||
		len(me.Controllers) != 1 || me.Controllers[0].ID != "sessions-inc" {
		t.Fatalf("GET /api/me = %+v", me)
	}

	// The cookie reads on the API; tokens are made with it (and the
	// password), never with another token.
	wantStatus(t, browser.get(t, "/api/me"), http.StatusOK)
	h.Clock.Advance(time.Minute) // so the list's newest-first order is defined
	deploy := map[string]any{"name": "deploy", "scopes": []string{"account:read", "account:write"}, "password": m.Password}
	wantStatus(t, api.sendJSON(t, http.MethodPost, "/api/tokens", deploy), http.StatusForbidden)
	res = browser.sendJSON(t, http.MethodPost, "/api/tokens", deploy)
	wantStatus(t, res, http.StatusCreated)
	var made struct {
		ID, Name, Token string
		Scopes          []string
	}
	res.decode(t, &made)
	if made.Name != "deploy" || !strings.HasPrefix(made.Token, "sst_") || strings.Join(made.Scopes, " ") != "account:read account:write" {
		t.Fatalf("POST /api/tokens = %+v", made)
	}
	long := map[string]any{"name": strings.Repeat("n", 101), "scopes": []string{"meetings"}, "password": m.Password}
	wantStatus(t, browser.sendJSON(t, http.MethodPost, "/api/tokens", long), http.StatusUnprocessableEntity)

	res = api.get(t, "/api/tokens")
	wantStatus(t, res, http.StatusOK)
	var list struct {
		Tokens []struct{ ID, Name string } `json:"tokens"`
	}
	res.decode(t, &list)
	if len(list.Tokens) != 2 || list.Tokens[0].ID != made.ID || strings.Contains(res.text(), made.Token) {
		t.Fatalf("GET /api/tokens = %s", res.Body)
	}

	// Another member cannot revoke it; its owner can, and it stops working.
	other := h.apiClient(t, h.newMember(t))
	wantStatus(t, other.sendJSON(t, http.MethodDelete, "/api/tokens/"+made.ID, nil), http.StatusNotFound)
	second := h.anon()
	second.bearer = made.Token
	wantStatus(t, second.get(t, "/api/me"), http.StatusOK)
	wantStatus(t, api.sendJSON(t, http.MethodDelete, "/api/tokens/"+made.ID, nil), http.StatusNoContent)
	res = second.get(t, "/api/me")
	wantStatus(t, res, http.StatusUnauthorized)
	if res.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 on the API without WWW-Authenticate")
	}

	// Revoking on the page works the same.
	tokens, _ := store.ListAPITokens(context.Background(), h.DB, m.ID)
	wantRedirect(t, browser.postForm(t, "/account/security/tokens/"+tokens[0].ID+"/revoke", nil), "/account/security?done=token-revoked")
	wantStatus(t, api.get(t, "/api/me"), http.StatusUnauthorized)

	// Anonymous callers get 401 everywhere a member is needed.
	for _, path := range []string{"/api/me", "/api/tokens"} {
		wantStatus(t, h.anon().get(t, path), http.StatusUnauthorized)
	}
	wantStatus(t, h.anon().sendJSON(t, http.MethodDelete, "/api/tokens/x", nil), http.StatusUnauthorized)
	wantRedirect(t, h.anon().get(t, "/account/security"), "/signin?next=%2Faccount%2Fsecurity")
	wantStatus(t, h.anon().postForm(t, "/account/security/tokens", url.Values{"name": {"x"}}), http.StatusUnauthorized)
}

var secretPattern = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`)
var codesPattern = regexp.MustCompile(`(?s)<pre class="code" aria-label="Recovery codes">(.*?)</pre>`)

// enableTOTP turns the second factor on for the browser's member and
// returns the secret and the recovery codes.
func enableTOTP(t *testing.T, h *harness, browser *client) (string, []string) {
	t.Helper()
	res := browser.postForm(t, "/account/security/totp/setup", nil)
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, `src="data:image/png;base64,`)
	m := secretPattern.FindStringSubmatch(res.text())
	if m == nil {
		t.Fatalf("no secret shown:\n%s", res.Body)
	}
	secret := m[1]
	res = browser.postForm(t, "/account/security/totp/enable", url.Values{"code": {"000000"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantBody(t, res, `id="totp-code-error"`, secret)
	code, _ := account.TOTPCode(secret, h.Clock.Now())
	res = browser.postForm(t, "/account/security/totp/enable", url.Values{"code": {code}})
	wantStatus(t, res, http.StatusOK)
	c := codesPattern.FindStringSubmatch(res.text())
	if c == nil {
		t.Fatalf("no recovery codes shown:\n%s", res.Body)
	}
	codes := strings.Fields(c[1])
	if len(codes) != account.RecoveryCodeCount {
		t.Fatalf("%d recovery codes", len(codes))
	}
	return secret, codes
}

func TestTOTPSignInAndRecoveryCodes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	browser := h.signIn(t, m)
	secret, codes := enableTOTP(t, h, browser)

	var sealed []byte
	if err := h.DB.QueryRow(context.Background(), `SELECT totp_secret FROM accounts WHERE id = ?`, m.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("the TOTP secret is stored in clear")
	}
	if !mailed(t, h, m.Email, "account.security-notice") {
		t.Fatal("no notice of the change")
	}

	// The password alone opens only the code step, not a session.
	c := h.anon()
	res := signInForm(t, c, m.Email, m.Password)
	wantRedirect(t, res, "/signin/code?next=%2Faccount%2Fsecurity")
	if signedIn(t, c) {
		t.Fatal("the password alone signed in")
	}
	wantStatus(t, c.get(t, "/signin/code"), http.StatusOK)
	res = c.postForm(t, "/signin/code", url.Values{"code": {"123456"}, "next": {"/account/security"}})
	wantStatus(t, res, http.StatusUnauthorized)
	wantBody(t, res, `id="code-error"`)
	h.Clock.Advance(30 * time.Second) // the code used to enable is spent
	code, _ := account.TOTPCode(secret, h.Clock.Now())
	wantRedirect(t, c.postForm(t, "/signin/code", url.Values{"code": {code}, "next": {"/account/security"}}), "/account/security")
	if !signedIn(t, c) {
		t.Fatal("a right code did not sign in")
	}

	// The same code does not work twice.
	again := h.anon()
	wantRedirect(t, signInForm(t, again, m.Email, m.Password), "/signin/code")
	wantStatus(t, again.postForm(t, "/signin/code", url.Values{"code": {code}}), http.StatusUnauthorized)

	// A recovery code works once.
	wantRedirect(t, again.postForm(t, "/signin/code", url.Values{"code": {strings.ToUpper(codes[0])}}), "/")
	third := h.anon()
	wantRedirect(t, signInForm(t, third, m.Email, m.Password), "/signin/code")
	wantStatus(t, third.postForm(t, "/signin/code", url.Values{"code": {codes[0]}}), http.StatusUnauthorized)

	// The second step lapses.
	h.Clock.Advance(account.ChallengeTTL)
	res = third.postForm(t, "/signin/code", url.Values{"code": {codes[1]}})
	wantStatus(t, res, http.StatusUnauthorized)
	wantBody(t, res, "took too long")
	wantRedirect(t, third.get(t, "/signin/code"), "/signin")

	// New recovery codes replace the old ones; a code is needed.
	h.Clock.Advance(time.Minute)
	wantStatus(t, browser.postForm(t, "/account/security/recovery-codes", url.Values{"code": {"000000"}}), http.StatusUnprocessableEntity)
	code, _ = account.TOTPCode(secret, h.Clock.Now())
	res = browser.postForm(t, "/account/security/recovery-codes", url.Values{"code": {code}})
	wantStatus(t, res, http.StatusOK)
	fresh := strings.Fields(codesPattern.FindStringSubmatch(res.text())[1])
	if n, _ := store.RecoveryCodesLeft(context.Background(), h.DB, m.ID); n != account.RecoveryCodeCount || fresh[0] == codes[1] {
		t.Fatalf("after replacing: %d codes left", n)
	}

	// Turning it off needs a code, then sign-in is password-only again.
	wantStatus(t, browser.postForm(t, "/account/security/totp/disable", url.Values{"code": {""}}), http.StatusUnprocessableEntity)
	wantRedirect(t, browser.postForm(t, "/account/security/totp/disable", url.Values{"code": {fresh[0]}}), "/account/security?done=totp-off")
	wantRedirect(t, signInForm(t, h.anon(), m.Email, m.Password), "/account/security")
}

func TestSecondFactorGuessingLocksOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	enableTOTP(t, h, h.signIn(t, m))
	c := h.anon()
	wantRedirect(t, signInForm(t, c, m.Email, m.Password), "/signin/code")
	for range account.SecondStepThrottle.Limit {
		wantStatus(t, c.postForm(t, "/signin/code", url.Values{"code": {"000000"}}), http.StatusUnauthorized)
	}
	res := c.postForm(t, "/signin/code", url.Values{"code": {"000000"}})
	wantStatus(t, res, http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

// TestSecondFactorLockSurvivesTheRightPassword replays the reported
// cycles: the right password, then one wrong code fewer than the limit,
// three times over. The right password used to clear the counter the codes
// were counted on, so twelve wrong codes never locked. The second step
// counts on its own counter, which only a right code clears, and its
// owner is told by mail when it locks.
func TestSecondFactorLockSurvivesTheRightPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	secret, _ := enableTOTP(t, h, h.signIn(t, m))
	limit := account.SecondStepThrottle.Limit
	wrong, refused := 0, 0
	for range 3 {
		c := h.anon()
		wantRedirect(t, signInForm(t, c, m.Email, m.Password), "/signin/code")
		for range limit - 1 {
			switch res := c.postForm(t, "/signin/code", url.Values{"code": {"000000"}}); res.StatusCode {
			case http.StatusUnauthorized:
				wrong++
			case http.StatusTooManyRequests:
				refused++
			default:
				t.Fatalf("a wrong code: status %d", res.StatusCode)
			}
		}
	}
	if wrong != limit || refused != 3*(limit-1)-limit {
		t.Fatalf("%d wrong codes in 3 cycles: %d checked, %d refused; want %d checked, the rest refused",
			3*(limit-1), wrong, refused, limit)
	}
	var told []mail.Record
	for _, r := range outboxTo(t, h, m.Email) {
		if r.Template == "account.second-step-locked" {
			told = append(told, r)
		}
	}
	if len(told) != 1 || !strings.Contains(told[0].Text, "/forgot-password") ||
		strings.Contains(told[0].Text, secret) || strings.Contains(told[0].Text, "000000") {
		t.Fatalf("the owner was told %d times that the second step locked, want once, pointing to a reset and with no code: %+v", len(told), told)
	}
	// Even the right code waits out the lockout, then signs in.
	h.Clock.Advance(30 * time.Second) // the code that turned it on is spent
	code, _ := account.TOTPCode(secret, h.Clock.Now())
	c := h.anon()
	wantRedirect(t, signInForm(t, c, m.Email, m.Password), "/signin/code")
	wantStatus(t, c.postForm(t, "/signin/code", url.Values{"code": {code}}), http.StatusTooManyRequests)
	h.Clock.Advance(account.SecondStepThrottle.Lockout)
	code, _ = account.TOTPCode(secret, h.Clock.Now())
	c = h.anon()
	wantRedirect(t, signInForm(t, c, m.Email, m.Password), "/signin/code")
	wantRedirect(t, c.postForm(t, "/signin/code", url.Values{"code": {code}}), "/")
}

// TestSignInNextStaysOnTheSite replays the reported open redirect: a
// "next" holding a tab, which Chromium drops from a Location, sent the
// browser to another host after signing in. The sign-in page, the form,
// the code step and a signed-in visit all keep to this site.
func TestSignInNextStaysOnTheSite(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	const evil = "/%09/evil.example"
	wantBody(t, h.anon().get(t, "/signin?next="+evil), `name="next" value="/"`)
	for name, res := range map[string]*response{
		"signed in, GET /signin": h.signIn(t, m).get(t, "/signin?next="+evil),
		"POST /signin": h.anon().postForm(t, "/signin",
			url.Values{"email": {m.Email}, "password": {m.Password}, "next": {"/\t/evil.example"}}),
		"GET /signin/code": h.anon().get(t, "/signin/code?next="+evil),
	} {
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || (loc != "/" && loc != "/signin?next=%2F") {
			t.Errorf("%s: status %d, Location %q; want a redirect on this site", name, res.StatusCode, loc)
		}
	}
}

func TestChangePasswordAndEmail(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.newMember(t)
	here, elsewhere := h.signIn(t, m), h.signIn(t, m)

	res := here.postForm(t, "/account/security/password", url.Values{"current_password": {"wrong one"}, "new_password": {"a fresh passphrase"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantBody(t, res, `id="pw-current-error"`)
	res = here.postForm(t, "/account/security/password", url.Values{"current_password": {m.Password}, "new_password": {"123456789"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantBody(t, res, `id="pw-new-error"`)
	wantRedirect(t, here.postForm(t, "/account/security/password", url.Values{"current_password": {m.Password}, "new_password": {"a fresh passphrase"}}),
		"/account/security?done=password")
	if signedIn(t, elsewhere) || !signedIn(t, here) {
		t.Fatal("changing the password must end the other sessions and keep this one")
	}

	taken := h.newMember(t)
	res = here.postForm(t, "/account/security/email", url.Values{"email": {"not an address"}, "password": {"a fresh passphrase"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantBody(t, res, `id="em-email-error"`)
	// A taken address answers like a free one; its owner is told.
	wantRedirect(t, here.postForm(t, "/account/security/email", url.Values{"email": {taken.Email}, "password": {"a fresh passphrase"}}), "/account/security?done=email")
	if got := outboxTo(t, h, taken.Email); len(got) != 1 || got[0].Template != "account.email-change-taken" {
		t.Fatalf("mail to the owner of the taken address: %+v", got)
	}
	wantRedirect(t, here.postForm(t, "/account/security/email", url.Values{"email": {"New.Address@Example.com"}, "password": {"a fresh passphrase"}}), "/account/security?done=email")
	var link string
	for _, r := range outboxTo(t, h, "new.address@example.com") {
		link = tokenFrom(t, r.Text)
	}
	wantStatus(t, h.anon().get(t, "/confirm-email?token="+url.QueryEscape(link)), http.StatusOK)
	wantStatus(t, h.anon().postForm(t, "/confirm-email", url.Values{"token": {link}}), http.StatusOK)
	wantStatus(t, h.anon().postForm(t, "/confirm-email", url.Values{"token": {link}}), http.StatusUnprocessableEntity)
	a, _ := store.AccountByID(context.Background(), h.DB, m.ID)
	if a.Email != "new.address@example.com" || !a.Verified() {
		t.Fatalf("after confirming: %+v", a)
	}
	if !mailed(t, h, m.Email, "account.email-changed") {
		t.Fatal("the old address was not told")
	}
	wantRedirect(t, signInForm(t, h.anon(), "new.address@example.com", "a fresh passphrase"), "/account/security")

	// The audit log holds the old address only as a digest.
	var detail string
	if err := h.DB.QueryRow(context.Background(), `SELECT detail FROM audit_log WHERE action = 'account.email-change'`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(detail, m.Email) || !strings.Contains(detail, "old_sha256") {
		t.Fatalf("audit detail %s", detail)
	}
}

// TestAuthLogsCarryNoPersonalData walks the flows and then reads the log.
func TestAuthLogsCarryNoPersonalData(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	c.postForm(t, "/signup", url.Values{"name": {"Grace Hopper"}, "email": {"grace@example.com"}, "password": {"cobol compiler 1959"}})
	token := tokenFrom(t, h.nextMail(t).Text)
	c.postForm(t, "/verify-email", url.Values{"token": {token}})
	signInForm(t, c, "grace@example.com", "wrong password")
	signInForm(t, c, "grace@example.com", "cobol compiler 1959")
	c.get(t, "/account/security")
	c.postForm(t, "/signout", nil)
	logs := h.Logs.String()
	for _, secret := range []string{"grace@example.com", "Grace Hopper", "cobol compiler", token, "192.0.2.1"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	if !strings.Contains(logs, `"route":"POST /signin"`) {
		t.Fatalf("the log does not name the routes it served:\n%.2000s", logs)
	}
}

// TestAuthPagesRender covers the pages that only show a form.
func TestAuthPagesRender(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for path, want := range map[string]string{
		"/signup":          `action="/signup"`,
		"/signin?next=/x":  `name="next" value="/x"`,
		"/forgot-password": `action="/forgot-password"`,
	} {
		res := h.anon().get(t, path)
		wantStatus(t, res, http.StatusOK)
		wantBody(t, res, want)
	}
	// An off-site "next" is not followed.
	res := h.anon().get(t, "/signin?next=//evil.example/x")
	wantBody(t, res, `name="next" value="/"`)
	wantRedirect(t, h.anon().get(t, "/signin/code"), "/signin")
	wantStatus(t, h.anon().get(t, "/confirm-email?token=nope"), http.StatusUnprocessableEntity)
	// Signing out without a session is harmless.
	wantRedirect(t, h.anon().postForm(t, "/signout", nil), "/")
	// Browser forms refuse cross-site posts.
	res = h.anon().do(t, http.MethodPost, "/signin", strings.NewReader("email=a%40b.cd&password=x"),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"cross-site"}})
	wantStatus(t, res, http.StatusForbidden)
	_ = io.Discard
}
