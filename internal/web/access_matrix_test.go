package web_test

// The route × role matrix: one row per registered route, with what each
// kind of caller gets. A route registered without a row fails the test, so
// no route can be added without saying who may use it.
//
// Columns: anonymous, a verified member without a staff role, support,
// privacy officer, administrator. Each cell runs with a fresh account for
// its caller, so that what one cell changes (signing out, closing the
// account) does not touch the next. Allowed means a 2xx or 3xx answer
// that is not a redirect to the sign-in page; a denial is a 303 to
// /signin for anonymous browser GETs, 401 for other anonymous requests and
// 403 for a signed-in caller without the role.
//
// Organisation routes are covered by orgRouteMatrix (orgs_test.go), which
// runs every organisation role; TestAccessMatrixOrgRoutesGiveStaffNothing
// below adds that staff roles open nothing there.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// matrixCallers are the columns.
var matrixCallers = []struct {
	name  string
	roles []staff.Role // nil for a member without a role
	anon  bool
}{
	{name: "anonymous", anon: true},
	{name: "member"},
	{name: "support", roles: []staff.Role{staff.Support}},
	{name: "privacy_officer", roles: []staff.Role{staff.PrivacyOfficer}},
	{name: "admin", roles: []staff.Role{staff.Admin}},
}

// Expected outcomes: allowed, or redirected to sign in; anything else is
// the exact status.
const (
	mxAllow  = 1
	mxSignIn = 2
)

// matrixEnv is what a cell's request builder may use: the harness, the
// caller's own account (it exists for the anonymous column too, signed
// out), a client signed in as that account for preparing things, and
// the cell's client.
type matrixEnv struct {
	h    *harness
	self *testMember
	own  *client
	c    *client
}

type matrixReq struct {
	path        string
	body        []byte
	contentType string
}

type matrixRow struct {
	pattern string
	want    [5]int
	// unverified makes the caller's account one whose address is not
	// confirmed yet.
	unverified bool
	// dormant grants the caller's staff roles without turning two-step
	// sign-in on, for rows that set it up themselves.
	dormant bool
	req     func(t *testing.T, e *matrixEnv) matrixReq
	note    string
}

func mxPublic() [5]int { return [5]int{mxAllow, mxAllow, mxAllow, mxAllow, mxAllow} }

// mxAnon is what an anonymous caller gets from a guarded route.
func mxAnon(pattern string) int {
	method, path, _ := strings.Cut(pattern, " ")
	if method == http.MethodGet && !strings.HasPrefix(path, "/api/") {
		return mxSignIn
	}
	return http.StatusUnauthorized
}

func mxMember(pattern string) [5]int {
	return [5]int{mxAnon(pattern), mxAllow, mxAllow, mxAllow, mxAllow}
}

func mxStaff(pattern string, p staff.Permission) [5]int {
	w := [5]int{mxAnon(pattern), http.StatusForbidden}
	for i, c := range matrixCallers[2:] {
		w[i+2] = http.StatusForbidden
		if staff.Grants(c.roles[0], p) {
			w[i+2] = mxAllow
		}
	}
	return w
}

func mxForm(path string, v url.Values) matrixReq {
	return matrixReq{path: path, body: []byte(v.Encode()), contentType: "application/x-www-form-urlencoded"}
}

func mxJSON(t *testing.T, path string, v any) matrixReq {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return matrixReq{path: path, body: b, contentType: "application/json"}
}

func mxPath(path string) func(*testing.T, *matrixEnv) matrixReq {
	return func(*testing.T, *matrixEnv) matrixReq { return matrixReq{path: path} }
}

// ---- things a request needs ----

// outbox queues a message to the caller, failed when asked, and returns
// its id.
func (e *matrixEnv) outbox(t *testing.T, failed bool) string {
	t.Helper()
	id, err := store.EnqueueMail(context.Background(), e.h.DB, e.h.Clock.Now(), mail.Message{
		PersonID: e.self.ID, Category: mail.Transactional, Template: "matrix.test", To: e.self.Email,
		Subject: "Matrix", Text: "Hello",
	})
	if err != nil {
		t.Fatal(err)
	}
	if failed {
		if _, err := e.h.DB.Exec(context.Background(), `UPDATE mail_outbox SET status = 'failed' WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// link makes an e-mailed link's token for the caller, as the server
// would have mailed it.
func (e *matrixEnv) link(t *testing.T, purpose, newEmail string) string {
	t.Helper()
	now := e.h.Clock.Now()
	exp := now.Add(time.Hour)
	token := signed.Make(e.h.Secret, purpose, e.self.ID, exp)
	if err := store.CreateEmailToken(context.Background(), e.h.DB, signed.Digest(token), purpose, e.self.ID, newEmail, now, exp); err != nil {
		t.Fatal(err)
	}
	return token
}

// session opens another session of the caller and returns its id.
func (e *matrixEnv) session(t *testing.T) string {
	t.Helper()
	now := e.h.Clock.Now()
	s := account.Session{ID: account.NewSessionID(), AccountID: e.self.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := store.CreateSession(context.Background(), e.h.DB, s, account.TokenDigest(account.NewSessionToken())); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// token makes another API token of the caller and returns its id.
func (e *matrixEnv) token(t *testing.T) string {
	t.Helper()
	now := e.h.Clock.Now()
	tok := account.APIToken{ID: account.NewTokenID(), AccountID: e.self.ID, Name: "matrix", Scopes: account.MemberScopes,
		CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	if err := store.CreateAPIToken(context.Background(), e.h.DB, tok, account.TokenDigest(account.NewAPIToken())); err != nil {
		t.Fatal(err)
	}
	return tok.ID
}

// totp turns the second factor on for the caller (staff have it on
// already) and returns its secret, with the clock moved to a later time
// step than the one enabling it used.
func (e *matrixEnv) totp(t *testing.T) (secret string) {
	t.Helper()
	secret = e.self.TOTPSecret
	if secret == "" {
		secret, _ = enableTOTP(t, e.h, e.own)
	}
	e.h.Clock.Advance(31 * time.Second)
	return secret
}

// tokenRequest is what making a token asks for: the token and, in the
// same request, the password, and a code when two-step sign-in is on.
func (e *matrixEnv) tokenRequest(t *testing.T) map[string]any {
	t.Helper()
	in := map[string]any{"name": "matrix", "scopes": []string{"meetings"}, "expires_in_days": 30, "password": e.self.Password}
	if e.self.TOTPSecret != "" {
		in["code"] = e.code(t, e.totp(t))
	}
	return in
}

func (e *matrixEnv) code(t *testing.T, secret string) string {
	t.Helper()
	code, err := account.TOTPCode(secret, e.h.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// child makes the caller a ten-year-old living in Germany.
func (e *matrixEnv) child(t *testing.T) {
	t.Helper()
	dob := e.h.Clock.Now().AddDate(-10, 0, 0).Format("2006-01-02")
	res := e.own.sendJSON(t, http.MethodPut, "/api/me/profile", map[string]any{"name": e.self.Name, "birth_date": dob, "country": "DE"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("matrix: make a child account: %d %s", res.StatusCode, res.Body)
	}
}

// guardianToken asks for the caller's guardian's consent and returns the
// token of the link mailed to the guardian.
func (e *matrixEnv) guardianToken(t *testing.T) string {
	t.Helper()
	e.child(t)
	if res := e.own.sendJSON(t, http.MethodPost, "/api/me/guardian", map[string]string{"guardian_email": "guardian." + e.self.Email}); res.StatusCode != http.StatusAccepted {
		t.Fatalf("matrix: ask the guardian: %d %s", res.StatusCode, res.Body)
	}
	recs, err := store.MailOfPerson(context.Background(), e.h.DB, e.self.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if strings.HasPrefix(r.To, "guardian.") {
			return tokenFrom(t, r.Text)
		}
	}
	t.Fatal("matrix: no mail to the guardian")
	return ""
}

// avatar gives the caller a profile picture.
func (e *matrixEnv) avatar(t *testing.T) {
	t.Helper()
	res := e.own.do(t, http.MethodPut, "/api/me/avatar", bytes.NewReader(pngBytes(t)), http.Header{"Content-Type": {"image/png"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("matrix: avatar: %d %s", res.StatusCode, res.Body)
	}
}

var mxAssetURL = regexp.MustCompile(`/static/app\.[0-9a-f]+\.css`)

// ---- the table ----

func accessMatrix() []matrixRow {
	const s404 = http.StatusNotFound
	livekitForm := url.Values{"activity": {"Video calls"}, "country": {"US"}, "transfer_mechanism": {"eu-us-dpf"},
		"data_categories": {"identity.name"}, "active": {"on"}}
	livekitJSON := map[string]any{"activity": "Video calls", "country": "US", "transfer_mechanism": "eu-us-dpf",
		"data_categories": []string{"identity.name"}, "active": true}
	reason := "matrix check of the staff console"
	rows := []matrixRow{
		// Probes, assets and the public pages.
		{pattern: "GET /healthz", want: mxPublic()},
		{pattern: "GET /readyz", want: mxPublic()},
		{pattern: "GET /static/{file}", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			u := mxAssetURL.FindString(e.h.anon().get(t, "/").text())
			if u == "" {
				t.Fatal("matrix: no stylesheet link on the home page")
			}
			return matrixReq{path: u}
		}},
		{pattern: "GET /{$}", want: mxPublic(), req: mxPath("/")},
		{pattern: "POST /meetings/instant", want: mxMember("POST /meetings/instant")},
		{pattern: "POST /account/timezone", want: mxMember("POST /account/timezone"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/timezone", url.Values{"time_zone": {"Europe/Bucharest"}})
		}},
		{pattern: "GET /privacy", want: mxPublic()},
		{pattern: "GET /privacy/subprocessors", want: mxPublic()},
		{pattern: "GET /privacy/record", want: mxPublic()},
		{pattern: "GET /privacy/record/inventory", want: mxPublic()},
		{pattern: "GET /api/subprocessors", want: mxPublic()},
		{pattern: "GET /api/datamap", want: mxPublic()},
		{pattern: "GET /api/openapi.json", want: mxPublic()},

		// The cookie tool and first-party analytics: choices and events
		// belong to the browser, so anyone may send them; the dashboards
		// need ViewAnalytics.
		{pattern: "GET /privacy/cookies", want: mxPublic()},
		{pattern: "GET /cookies/settings", want: mxPublic()},
		{pattern: "POST /cookies/choice", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/cookies/choice", url.Values{"action": {"reject-all"}})
		}},
		{pattern: "GET /api/cookies", want: mxPublic()},
		{pattern: "POST /api/cookies/choice", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/cookies/choice", map[string]string{"action": "accept-all"})
		}},
		{pattern: "POST /api/analytics/events", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/analytics/events", map[string]string{"type": "pageview", "path": "/"})
		}},
		{pattern: "GET /admin/analytics", want: mxStaff("GET /admin/analytics", staff.ViewAnalytics)},
		{pattern: "GET /api/admin/analytics", want: mxStaff("GET /api/admin/analytics", staff.ViewAnalytics)},

		// The staff console.
		{pattern: "GET /admin", want: mxStaff("GET /admin", staff.OpenConsole)},
		{pattern: "GET /admin/subprocessors", want: mxStaff("GET /admin/subprocessors", staff.EditSubprocessors)},
		{pattern: "POST /admin/subprocessors/{id}", want: mxStaff("POST /admin/subprocessors/{id}", staff.EditSubprocessors),
			req: func(t *testing.T, e *matrixEnv) matrixReq { return mxForm("/admin/subprocessors/livekit", livekitForm) }},
		{pattern: "GET /api/admin/subprocessors", want: mxStaff("GET /api/admin/subprocessors", staff.EditSubprocessors)},
		{pattern: "PUT /api/admin/subprocessors/{id}", want: mxStaff("PUT /api/admin/subprocessors/{id}", staff.EditSubprocessors),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxJSON(t, "/api/admin/subprocessors/livekit", livekitJSON)
			}},
		{pattern: "GET /admin/recipients", want: mxStaff("GET /admin/recipients", staff.EditSubprocessors)},
		{pattern: "POST /admin/recipients/{id}", want: mxStaff("POST /admin/recipients/{id}", staff.EditSubprocessors),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxForm("/admin/recipients/livekit", url.Values{"privacy_email": {"privacy@livekit.example"}, "webhook_url": {""}})
			}},
		{pattern: "GET /api/admin/recipients", want: mxStaff("GET /api/admin/recipients", staff.EditSubprocessors)},
		{pattern: "PUT /api/admin/recipients/{id}", want: mxStaff("PUT /api/admin/recipients/{id}", staff.EditSubprocessors),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxJSON(t, "/api/admin/recipients/livekit", map[string]string{"privacy_email": "privacy@livekit.example", "webhook_url": ""})
			}},
		{pattern: "GET /admin/outbox", want: mxStaff("GET /admin/outbox", staff.OperateOutbox)},
		// The message page shows delivery to the administrator and asks the
		// privacy officer, who reads mail, for a reason.
		{pattern: "GET /admin/outbox/{id}", want: [5]int{mxSignIn, http.StatusForbidden, http.StatusForbidden, mxAllow, mxAllow},
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return matrixReq{path: "/admin/outbox/" + e.outbox(t, false)}
			}},
		// Only the privacy officer reads mail; the administrator who
		// operates the outbox does not.
		{pattern: "POST /admin/outbox/{id}", want: [5]int{http.StatusUnauthorized, http.StatusForbidden, http.StatusForbidden, mxAllow, http.StatusForbidden},
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxForm("/admin/outbox/"+e.outbox(t, false), url.Values{"reason": {reason}})
			}},
		{pattern: "POST /admin/outbox/{id}/retry", want: mxStaff("POST /admin/outbox/{id}/retry", staff.OperateOutbox),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return matrixReq{path: "/admin/outbox/" + e.outbox(t, true) + "/retry"}
			}},
		{pattern: "GET /api/admin/outbox", want: mxStaff("GET /api/admin/outbox", staff.OperateOutbox)},
		{pattern: "GET /api/admin/outbox/{id}", want: mxStaff("GET /api/admin/outbox/{id}", staff.OperateOutbox),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return matrixReq{path: "/api/admin/outbox/" + e.outbox(t, false)}
			}},
		{pattern: "POST /api/admin/outbox/{id}/view", want: [5]int{http.StatusUnauthorized, http.StatusForbidden, http.StatusForbidden, mxAllow, http.StatusForbidden},
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxJSON(t, "/api/admin/outbox/"+e.outbox(t, false)+"/view", map[string]string{"reason": reason})
			}},
		{pattern: "POST /api/admin/outbox/{id}/retry", want: mxStaff("POST /api/admin/outbox/{id}/retry", staff.OperateOutbox),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return matrixReq{path: "/api/admin/outbox/" + e.outbox(t, true) + "/retry"}
			}},
		{pattern: "GET /admin/audit", want: mxStaff("GET /admin/audit", staff.ReadAuditLog)},
		{pattern: "GET /api/admin/audit/verify", want: mxStaff("GET /api/admin/audit/verify", staff.ReadAuditLog)},
		{pattern: "GET /admin/people", want: mxStaff("GET /admin/people", staff.LookUpPeople),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return matrixReq{path: "/admin/people?q=" + url.QueryEscape(e.h.newMember(t).Email)}
			}},
		{pattern: "GET /admin/people/{id}", want: mxStaff("GET /admin/people/{id}", staff.ViewContact),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return matrixReq{path: "/admin/people/" + e.h.newMember(t).ID}
			}},
		{pattern: "POST /admin/people/{id}", want: mxStaff("POST /admin/people/{id}", staff.ViewContact),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxForm("/admin/people/"+e.h.newMember(t).ID, url.Values{"reason": {reason}})
			}},
		{pattern: "GET /api/admin/people", want: mxStaff("GET /api/admin/people", staff.LookUpPeople),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return matrixReq{path: "/api/admin/people?q=" + url.QueryEscape(e.h.newMember(t).Email)}
			}},
		{pattern: "POST /api/admin/people/{id}/view", want: mxStaff("POST /api/admin/people/{id}/view", staff.ViewContact),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxJSON(t, "/api/admin/people/"+e.h.newMember(t).ID+"/view", map[string]string{"reason": reason})
			}},
		{pattern: "GET /admin/staff", want: mxStaff("GET /admin/staff", staff.ManageStaff)},
		{pattern: "POST /admin/staff", want: mxStaff("POST /admin/staff", staff.ManageStaff),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxForm("/admin/staff", url.Values{"email": {e.h.newMember(t).Email}, "role": {"support"}})
			}},
		{pattern: "POST /admin/staff/{id}/revoke", want: mxStaff("POST /admin/staff/{id}/revoke", staff.ManageStaff),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxForm("/admin/staff/"+e.h.newStaff(t, staff.Support).ID+"/revoke", url.Values{"role": {"support"}})
			}},
		{pattern: "GET /api/admin/staff", want: mxStaff("GET /api/admin/staff", staff.ManageStaff)},
		{pattern: "POST /api/admin/staff", want: mxStaff("POST /api/admin/staff", staff.ManageStaff),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxJSON(t, "/api/admin/staff", map[string]string{"email": e.h.newMember(t).Email, "role": "support"})
			}},
		{pattern: "DELETE /api/admin/staff/{id}/roles/{role}", want: mxStaff("DELETE /api/admin/staff/{id}/roles/{role}", staff.ManageStaff),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return matrixReq{path: "/api/admin/staff/" + e.h.newStaff(t, staff.Support).ID + "/roles/support"}
			}},
		{pattern: "GET /setup", want: [5]int{s404, s404, s404, s404, s404},
			note: "an administrator exists, so every setup link is dead; staff_test.go covers the link while none exists",
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return matrixReq{path: "/setup?token=" + url.QueryEscape(staffSetupToken(t, e.h))}
			}},
		{pattern: "POST /setup", want: [5]int{s404, s404, s404, s404, s404},
			note: "as GET /setup",
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxForm("/setup", url.Values{"token": {staffSetupToken(t, e.h)}, "name": {"X"}, "email": {"setup@example.com"}, "password": {"a long passphrase"}})
			}},
		{pattern: "GET /account/access-log", want: mxMember("GET /account/access-log")},
		{pattern: "GET /api/me/access-log", want: mxMember("GET /api/me/access-log")},

		// Accounts: sign-up, sign-in and e-mailed links are open to
		// anyone; the security settings need a signed-in member.
		{pattern: "GET /signup", want: mxPublic()},
		{pattern: "POST /signup", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/signup", url.Values{"name": {"New Person"}, "email": {"new." + e.self.Email}, "password": {"a long passphrase 42"}})
		}},
		{pattern: "GET /signin", want: mxPublic()},
		{pattern: "POST /signin", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/signin", url.Values{"email": {e.self.Email}, "password": {e.self.Password}})
		}},
		{pattern: "GET /signin/code", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			e.totp(t)
			if res := e.c.postForm(t, "/signin", url.Values{"email": {e.self.Email}, "password": {e.self.Password}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("matrix: first step: %d", res.StatusCode)
			}
			return matrixReq{path: "/signin/code"}
		}},
		{pattern: "POST /signin/code", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			secret := e.totp(t)
			if res := e.c.postForm(t, "/signin", url.Values{"email": {e.self.Email}, "password": {e.self.Password}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("matrix: first step: %d", res.StatusCode)
			}
			return mxForm("/signin/code", url.Values{"code": {e.code(t, secret)}})
		}},
		{pattern: "POST /signout", want: mxPublic()},
		{pattern: "GET /verify-email", want: mxPublic(), unverified: true, req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/verify-email?token=" + url.QueryEscape(e.link(t, account.PurposeVerify, ""))}
		}},
		{pattern: "POST /verify-email", want: mxPublic(), unverified: true, req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/verify-email", url.Values{"token": {e.link(t, account.PurposeVerify, "")}})
		}},
		{pattern: "POST /verify-email/resend", want: mxMember("POST /verify-email/resend"), unverified: true},
		{pattern: "GET /forgot-password", want: mxPublic()},
		{pattern: "POST /forgot-password", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/forgot-password", url.Values{"email": {e.self.Email}})
		}},
		{pattern: "GET /reset-password", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/reset-password?token=" + url.QueryEscape(e.link(t, account.PurposeReset, ""))}
		}},
		{pattern: "POST /reset-password", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/reset-password", url.Values{"token": {e.link(t, account.PurposeReset, "")}, "password": {"a brand new passphrase 7"}})
		}},
		{pattern: "GET /confirm-email", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/confirm-email?token=" + url.QueryEscape(e.link(t, account.PurposeChangeEmail, "moved."+e.self.Email))}
		}},
		{pattern: "POST /confirm-email", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/confirm-email", url.Values{"token": {e.link(t, account.PurposeChangeEmail, "moved."+e.self.Email)}})
		}},
		{pattern: "GET /account/security", want: mxMember("GET /account/security")},
		{pattern: "POST /account/security/password", want: mxMember("POST /account/security/password"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/security/password", url.Values{"current_password": {e.self.Password}, "new_password": {"a brand new passphrase 7"}})
		}},
		{pattern: "POST /account/security/email", want: mxMember("POST /account/security/email"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/security/email", url.Values{"email": {"moved." + e.self.Email}, "password": {e.self.Password}})
		}},
		{pattern: "POST /account/security/totp/setup", want: mxMember("POST /account/security/totp/setup"), dormant: true},
		{pattern: "POST /account/security/totp/enable", want: mxMember("POST /account/security/totp/enable"), dormant: true, req: func(t *testing.T, e *matrixEnv) matrixReq {
			res := e.own.postForm(t, "/account/security/totp/setup", nil)
			m := secretPattern.FindStringSubmatch(res.text())
			if m == nil {
				t.Fatalf("matrix: no TOTP secret shown: %d", res.StatusCode)
			}
			return mxForm("/account/security/totp/enable", url.Values{"code": {e.code(t, m[1])}})
		}},
		{pattern: "POST /account/security/totp/disable", want: mxMember("POST /account/security/totp/disable"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/security/totp/disable", url.Values{"code": {e.code(t, e.totp(t))}})
		}},
		{pattern: "POST /account/security/recovery-codes", want: mxMember("POST /account/security/recovery-codes"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/security/recovery-codes", url.Values{"code": {e.code(t, e.totp(t))}})
		}},
		{pattern: "POST /account/security/sessions/{id}/end", want: mxMember("POST /account/security/sessions/{id}/end"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/account/security/sessions/" + e.session(t) + "/end"}
		}},
		{pattern: "POST /account/security/sessions/end-others", want: mxMember("POST /account/security/sessions/end-others")},
		{pattern: "POST /account/security/tokens", want: mxMember("POST /account/security/tokens"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			in := e.tokenRequest(t)
			form := url.Values{"name": {"matrix"}, "scopes": {"meetings"}, "expires_in_days": {"30"}, "password": {e.self.Password}}
			if code, ok := in["code"].(string); ok {
				form.Set("code", code)
			}
			return mxForm("/account/security/tokens", form)
		}},
		{pattern: "POST /account/security/tokens/{id}/revoke", want: mxMember("POST /account/security/tokens/{id}/revoke"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/account/security/tokens/" + e.token(t) + "/revoke"}
		}},
		{pattern: "POST /api/signup", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/signup", map[string]string{"name": "New Person", "email": "new." + e.self.Email, "password": "a long passphrase 42"})
		}},
		{pattern: "GET /api/me", want: mxMember("GET /api/me")},
		{pattern: "GET /api/tokens", want: mxMember("GET /api/tokens")},
		{pattern: "POST /api/tokens", want: mxMember("POST /api/tokens"), note: "with the session cookie; no token makes a token (access_scopes_test.go)",
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				e.c.bearer = ""
				return mxJSON(t, "/api/tokens", e.tokenRequest(t))
			}},
		{pattern: "DELETE /api/tokens/{id}", want: mxMember("DELETE /api/tokens/{id}"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/api/tokens/" + e.token(t)}
		}},

		// Consent ledger, Global Privacy Control and the restriction flag.
		{pattern: "GET /.well-known/gpc.json", want: mxPublic()},
		{pattern: "GET /privacy/consent-receipt.schema.json", want: mxPublic()},
		{pattern: "GET /account/consents", want: mxMember("GET /account/consents")},
		{pattern: "POST /account/consents/{purpose}/withdraw", want: mxMember("POST /account/consents/{purpose}/withdraw"),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				if res := e.own.sendJSON(t, http.MethodPost, "/api/me/consents", map[string]any{"purposes": []string{"analytics"}, "state": "given"}); res.StatusCode != http.StatusCreated {
					t.Fatalf("matrix: give consent: %d %s", res.StatusCode, res.Body)
				}
				return matrixReq{path: "/account/consents/analytics/withdraw"}
			}},
		{pattern: "GET /account/consents/receipts.json", want: mxMember("GET /account/consents/receipts.json")},
		{pattern: "GET /api/me/consents", want: mxMember("GET /api/me/consents")},
		{pattern: "POST /api/me/consents", want: mxMember("POST /api/me/consents"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/me/consents", map[string]any{"purposes": []string{"personalisation"}, "state": "given"})
		}},
		{pattern: "PUT /api/admin/people/{id}/restriction", want: mxStaff("PUT /api/admin/people/{id}/restriction", staff.HandleRightsRequests),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxJSON(t, "/api/admin/people/"+e.h.newMember(t).ID+"/restriction", map[string]bool{"restricted": true})
			}},

		// The privacy notice: its versions and history are public, a
		// member acknowledges a significant change, and publishing needs
		// PublishNotice. Each publishing cell changes the registry first,
		// so that there is something new to publish.
		{pattern: "GET /privacy/notice", want: mxPublic()},
		{pattern: "GET /privacy/notice/history", want: mxPublic()},
		{pattern: "GET /privacy/notice/v/{n}", want: mxPublic(), req: mxPath("/privacy/notice/v/1")},
		{pattern: "GET /api/notice", want: mxPublic()},
		{pattern: "GET /api/notice/versions", want: mxPublic()},
		{pattern: "POST /privacy/notice/acknowledge", want: mxMember("POST /privacy/notice/acknowledge")},
		{pattern: "POST /api/me/notice/acknowledge", want: mxMember("POST /api/me/notice/acknowledge")},
		{pattern: "GET /admin/notice", want: mxStaff("GET /admin/notice", staff.PublishNotice)},
		{pattern: "POST /admin/notice", want: mxStaff("POST /admin/notice", staff.PublishNotice),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				noticeChange(t, e.h, "matrix "+e.self.ID)
				return mxForm("/admin/notice", url.Values{"summary": {"Matrix check of publishing."}})
			}},
		{pattern: "GET /api/admin/notice", want: mxStaff("GET /api/admin/notice", staff.PublishNotice)},
		{pattern: "POST /api/admin/notice", want: mxStaff("POST /api/admin/notice", staff.PublishNotice),
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				noticeChange(t, e.h, "matrix "+e.self.ID)
				return mxJSON(t, "/api/admin/notice", map[string]any{"significant": false, "summary": "Matrix check of publishing."})
			}},

		// Data-subject rights: a member's own exports; another member's
		// export id and a download without a valid link are not found.
		{pattern: "GET /account/privacy", want: mxMember("GET /account/privacy")},
		{pattern: "POST /account/exports", want: mxMember("POST /account/exports"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/exports", url.Values{"kind": {"portability"}})
		}},
		{pattern: "GET /account/exports/{id}/download", want: mxMember("GET /account/exports/{id}/download"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: matrixExportLink(t, e)}
		}},
		{pattern: "POST /api/me/exports", want: mxMember("POST /api/me/exports"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/me/exports", map[string]string{"kind": "portability"})
		}},
		{pattern: "GET /api/me/exports/{id}", want: mxMember("GET /api/me/exports/{id}"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/api/me/exports/" + matrixExport(t, e, false)}
		}},
		{pattern: "POST /account/transfers", want: mxMember("POST /account/transfers"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/transfers", url.Values{"url": {"https://93.184.215.14/import"}})
		}},
		{pattern: "GET /account/transfers/{id}", want: mxMember("GET /account/transfers/{id}"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/account/transfers/" + matrixTransfer(t, e)}
		}},
		{pattern: "POST /account/transfers/{id}/confirm", want: mxMember("POST /account/transfers/{id}/confirm"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/transfers/"+matrixTransfer(t, e)+"/confirm", url.Values{})
		}},

		// Data-subject requests: a member's own (another's id is not
		// found), the public form with its e-mailed code (a wrong code is
		// refused alike for everyone), and the staff queue for those who
		// handle rights requests.
		{pattern: "GET /account/requests", want: mxMember("GET /account/requests")},
		{pattern: "POST /account/requests", want: mxMember("POST /account/requests"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/requests", url.Values{"rights": {"access"}})
		}},
		{pattern: "GET /account/requests/{id}", want: mxMember("GET /account/requests/{id}"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/account/requests/" + rqFiled(t, e.h, e.self, "access").ID}
		}},
		{pattern: "GET /api/me/requests", want: mxMember("GET /api/me/requests")},
		{pattern: "POST /api/me/requests", want: mxMember("POST /api/me/requests"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/me/requests", map[string]any{"rights": []string{"objection"}, "details": "Matrix."})
		}},
		{pattern: "GET /api/me/requests/{id}", want: mxMember("GET /api/me/requests/{id}"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/api/me/requests/" + rqFiled(t, e.h, e.self, "access").ID}
		}},
		{pattern: "GET /privacy/request", want: mxPublic()},
		{pattern: "POST /privacy/request", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/privacy/request", url.Values{"rights": {"access"}, "email": {e.self.Email}})
		}},
		{pattern: "GET /privacy/request/{id}/verify", want: mxPublic(), req: mxPath("/privacy/request/req_unknown/verify")},
		{pattern: "POST /privacy/request/{id}/verify", want: [5]int{422, 422, 422, 422, 422}, note: "a wrong code, for anyone", req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/privacy/request/req_unknown/verify", url.Values{"code": {"000000"}})
		}},
		{pattern: "GET /admin/requests", want: mxStaff("GET /admin/requests", staff.HandleRightsRequests)},
		{pattern: "POST /admin/requests", want: mxStaff("POST /admin/requests", staff.HandleRightsRequests), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/admin/requests", url.Values{"channel": {"post"}, "email": {"letter@example.org"}, "rights": {"access"}})
		}},
		{pattern: "GET /admin/requests/{id}", want: mxStaff("GET /admin/requests/{id}", staff.HandleRightsRequests), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/admin/requests/" + rqFiled(t, e.h, e.h.newMember(t), "access").ID}
		}},
		{pattern: "POST /admin/requests/{id}/{action}", want: mxStaff("POST /admin/requests/{id}/{action}", staff.HandleRightsRequests), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/admin/requests/"+rqFiled(t, e.h, e.h.newMember(t), "objection").ID+"/start", nil)
		}},
		{pattern: "GET /api/admin/requests", want: mxStaff("GET /api/admin/requests", staff.HandleRightsRequests)},
		{pattern: "POST /api/admin/requests", want: mxStaff("POST /api/admin/requests", staff.HandleRightsRequests), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/admin/requests", map[string]any{"channel": "email", "email": "mail@example.org", "rights": []string{"erasure"}})
		}},
		{pattern: "GET /api/admin/requests/{id}", want: mxStaff("GET /api/admin/requests/{id}", staff.HandleRightsRequests), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/api/admin/requests/" + rqFiled(t, e.h, e.h.newMember(t), "access").ID}
		}},
		{pattern: "POST /api/admin/requests/{id}/steps", want: mxStaff("POST /api/admin/requests/{id}/steps", staff.HandleRightsRequests), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/admin/requests/"+rqFiled(t, e.h, e.h.newMember(t), "objection").ID+"/steps", map[string]string{"action": "start"})
		}},

		// Marketing: the member's preferences and objections, the signed
		// link and the one-click unsubscribe of a message (open to whoever
		// holds the token), campaigns for administrators and the queue of
		// objections for those who handle rights requests.
		{pattern: "GET /account/marketing", want: mxMember("GET /account/marketing")},
		{pattern: "POST /account/marketing", want: mxMember("POST /account/marketing"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/marketing", url.Values{"email": {"on"}, "phone": {"on"}, "social": {"on"}})
		}},
		{pattern: "POST /account/marketing/objections", want: mxMember("POST /account/marketing/objections"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/marketing/objections", url.Values{"kind": {"profiling"}})
		}},
		{pattern: "GET /api/me/marketing", want: mxMember("GET /api/me/marketing")},
		{pattern: "PUT /api/me/marketing", want: mxMember("PUT /api/me/marketing"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/me/marketing", map[string]any{"channels": map[string]bool{"sms": false}})
		}},
		{pattern: "POST /api/me/objections", want: mxMember("POST /api/me/objections"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/me/objections", map[string]string{"kind": "profiling"})
		}},
		{pattern: "GET /marketing/preferences/{token}", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/marketing/preferences/" + mktPrefsToken(e.h, e.self)}
		}},
		{pattern: "POST /marketing/preferences/{token}", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/marketing/preferences/"+mktPrefsToken(e.h, e.self), url.Values{"email": {"on"}})
		}},
		{pattern: "POST /marketing/preferences/{token}/objections", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/marketing/preferences/"+mktPrefsToken(e.h, e.self)+"/objections", url.Values{"kind": {"profiling"}})
		}},
		{pattern: "GET /unsubscribe/{token}", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/unsubscribe/" + mktUnsubToken(e.h, e.self, "cmp_matrix")}
		}},
		{pattern: "POST /unsubscribe/{token}", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/unsubscribe/"+mktUnsubToken(e.h, e.self, "cmp_matrix"), url.Values{"List-Unsubscribe": {"One-Click"}})
		}},
		{pattern: "GET /admin/campaigns", want: mxStaff("GET /admin/campaigns", staff.SendMarketing)},
		{pattern: "POST /admin/campaigns", want: mxStaff("POST /admin/campaigns", staff.SendMarketing), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/admin/campaigns", url.Values{"subject": {"Matrix news"}, "text": {"Hello"}})
		}},
		{pattern: "GET /admin/campaigns/{id}", want: mxStaff("GET /admin/campaigns/{id}", staff.SendMarketing), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/admin/campaigns/" + mktCampaign(t, e.h, "Matrix news")}
		}},
		{pattern: "POST /admin/campaigns/{id}/send", want: mxStaff("POST /admin/campaigns/{id}/send", staff.SendMarketing), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/admin/campaigns/" + mktCampaign(t, e.h, "Matrix news") + "/send"}
		}},
		{pattern: "GET /admin/objections", want: mxStaff("GET /admin/objections", staff.HandleRightsRequests)},
		{pattern: "POST /admin/objections/{id}", want: mxStaff("POST /admin/objections/{id}", staff.HandleRightsRequests), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/admin/objections/"+mktPendingObjection(t, e.h, e.h.newMember(t)), url.Values{"status": {"upheld"}})
		}},
		{pattern: "GET /admin/retention", want: mxStaff("GET /admin/retention", staff.ReviewRetention)},
		{pattern: "GET /admin/retention/runs/{id}", want: mxStaff("GET /admin/retention/runs/{id}", staff.ReviewRetention), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/admin/retention/runs/" + retRun(t, e.h)}
		}},
		{pattern: "POST /admin/retention/holds", want: mxStaff("POST /admin/retention/holds", staff.ManageLegalHolds), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/admin/retention/holds", url.Values{"person_id": {e.h.newMember(t).ID}, "reason": {"Matrix claim"}})
		}},
		{pattern: "POST /admin/retention/holds/{id}/release", want: mxStaff("POST /admin/retention/holds/{id}/release", staff.ManageLegalHolds), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/admin/retention/holds/" + retHold(t, e.h) + "/release"}
		}},
		{pattern: "GET /api/admin/retention/preview", want: mxStaff("GET /api/admin/retention/preview", staff.ReviewRetention)},
		{pattern: "GET /api/admin/retention/runs", want: mxStaff("GET /api/admin/retention/runs", staff.ReviewRetention)},
		{pattern: "GET /api/admin/retention/runs/{id}", want: mxStaff("GET /api/admin/retention/runs/{id}", staff.ReviewRetention), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/api/admin/retention/runs/" + retRun(t, e.h)}
		}},
		{pattern: "GET /api/admin/legal-holds", want: mxStaff("GET /api/admin/legal-holds", staff.ManageLegalHolds)},
		{pattern: "POST /api/admin/legal-holds", want: mxStaff("POST /api/admin/legal-holds", staff.ManageLegalHolds), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/admin/legal-holds", map[string]string{"person_id": e.h.newMember(t).ID, "reason": "Matrix claim"})
		}},
		{pattern: "POST /api/admin/legal-holds/{id}/release", want: mxStaff("POST /api/admin/legal-holds/{id}/release", staff.ManageLegalHolds), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/api/admin/legal-holds/" + retHold(t, e.h) + "/release"}
		}},

		// The meeting room: the caller's own meeting (room_test.go tests
		// that people who take no part get 403).
		{pattern: "GET /meetings/{id}/room", want: mxMember("GET /meetings/{id}/room"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/meetings/" + roomMeeting(t, e.h, e.self) + "/room"}
		}},

		// Video calls: the caller hosts the meeting (calls_test.go tests
		// everyone else); guests' routes are open to whoever holds the
		// personal link. The matrix server's SFU has nobody in any call,
		// so muting finds no one; webhooks open only to the video
		// server's signature; signalling is served only for an embedded
		// SFU.
		{pattern: "POST /api/meetings/{id}/join", want: mxMember("POST /api/meetings/{id}/join"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, _, _ := mxCall(t, e, "")
			return matrixReq{path: cm.path("/join")}
		}},
		{pattern: "GET /api/meetings/{id}/join", want: mxMember("GET /api/meetings/{id}/join"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, _, _ := mxCall(t, e, "")
			return matrixReq{path: cm.path("/join")}
		}},
		{pattern: "GET /api/meetings/{id}/lobby", want: mxMember("GET /api/meetings/{id}/lobby"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, _, _ := mxCall(t, e, "waiting")
			return matrixReq{path: cm.path("/lobby")}
		}},
		{pattern: "POST /api/meetings/{id}/lobby/{pid}/admit", want: mxMember("POST /api/meetings/{id}/lobby/{pid}/admit"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, pid, _ := mxCall(t, e, "waiting")
			return matrixReq{path: cm.path("/lobby/" + pid + "/admit")}
		}},
		{pattern: "POST /api/meetings/{id}/lobby/{pid}/deny", want: mxMember("POST /api/meetings/{id}/lobby/{pid}/deny"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, pid, _ := mxCall(t, e, "waiting")
			return matrixReq{path: cm.path("/lobby/" + pid + "/deny")}
		}},
		{pattern: "POST /api/meetings/{id}/lock", want: mxMember("POST /api/meetings/{id}/lock"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, _, _ := mxCall(t, e, "")
			return matrixReq{path: cm.path("/lock")}
		}},
		{pattern: "POST /api/meetings/{id}/unlock", want: mxMember("POST /api/meetings/{id}/unlock"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, _, _ := mxCall(t, e, "")
			return matrixReq{path: cm.path("/unlock")}
		}},
		{pattern: "POST /api/meetings/{id}/end", want: mxMember("POST /api/meetings/{id}/end"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, _, _ := mxCall(t, e, "")
			return matrixReq{path: cm.path("/end")}
		}},
		{pattern: "POST /api/meetings/{id}/participants/{pid}/remove", want: mxMember("POST /api/meetings/{id}/participants/{pid}/remove"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, pid, _ := mxCall(t, e, "admitted")
			return matrixReq{path: cm.path("/participants/" + pid + "/remove")}
		}},
		{pattern: "POST /api/meetings/{id}/participants/{pid}/mute", want: [5]int{http.StatusUnauthorized, http.StatusNotFound, http.StatusNotFound, http.StatusNotFound, http.StatusNotFound},
			note: "nobody is in the matrix server's calls", req: func(t *testing.T, e *matrixEnv) matrixReq {
				cm, pid, _ := mxCall(t, e, "admitted")
				return matrixReq{path: cm.path("/participants/" + pid + "/mute")}
			}},
		{pattern: "GET /api/meetings/{id}/messages", want: mxMember("GET /api/meetings/{id}/messages"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, _, _ := mxCall(t, e, "")
			return matrixReq{path: cm.path("/messages")}
		}},
		{pattern: "POST /api/meetings/{id}/messages", want: mxMember("POST /api/meetings/{id}/messages"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, _, _ := mxCall(t, e, "")
			return mxJSON(t, cm.path("/messages"), map[string]string{"body": "Hello"})
		}},
		{pattern: "POST /api/meetings/{id}/messages/{mid}/answered", want: mxMember("POST /api/meetings/{id}/messages/{mid}/answered"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, _, _ := mxCall(t, e, "")
			return matrixReq{path: cm.path("/messages/" + mxQuestion(t, e, cm) + "/answered")}
		}},
		{pattern: "GET /api/meetings/{id}/attendance", want: mxMember("GET /api/meetings/{id}/attendance"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, _, _ := mxCall(t, e, "")
			return matrixReq{path: cm.path("/attendance")}
		}},
		{pattern: "GET /api/meetings/{id}/live", want: mxMember("GET /api/meetings/{id}/live"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			cm, _, _ := mxCall(t, e, "")
			return matrixReq{path: cm.path("/live")}
		}},
		{pattern: "GET /j/{token}", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			_, _, token := mxCall(t, e, "")
			return matrixReq{path: "/j/" + token}
		}},
		{pattern: "POST /j/{token}", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			_, _, token := mxCall(t, e, "")
			return mxForm("/j/"+token, url.Values{"name": {"Matrix Guest"}, "email": {"guest." + e.self.Email}})
		}},
		{pattern: "POST /api/join/{token}", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			_, _, token := mxCall(t, e, "")
			return mxJSON(t, "/api/join/"+token, map[string]string{"name": "Matrix Guest", "email": "guest." + e.self.Email})
		}},
		{pattern: "GET /api/join/{token}", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			_, _, token := mxCall(t, e, "waiting")
			return matrixReq{path: "/api/join/" + token}
		}},
		{pattern: "GET /api/join/{token}/messages", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			_, _, token := mxCall(t, e, "admitted")
			return matrixReq{path: "/api/join/" + token + "/messages"}
		}},
		{pattern: "POST /api/join/{token}/messages", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			_, _, token := mxCall(t, e, "admitted")
			return mxJSON(t, "/api/join/"+token+"/messages", map[string]string{"body": "Hello"})
		}},
		{pattern: "POST /api/livekit/webhook", want: [5]int{401, 401, 401, 401, 401}, note: "only the video server's signature opens it",
			req: func(t *testing.T, e *matrixEnv) matrixReq {
				return mxJSON(t, "/api/livekit/webhook", map[string]string{"event": "room_started", "id": "EV_matrix"})
			}},
		{pattern: "GET /rtc", want: [5]int{404, 404, 404, 404, 404}, note: "served only for an embedded SFU"},
		{pattern: "GET /rtc/validate", want: [5]int{404, 404, 404, 404, 404}, note: "served only for an embedded SFU"},
		{pattern: "GET /rtc/v1", want: [5]int{404, 404, 404, 404, 404}, note: "served only for an embedded SFU"},
		{pattern: "GET /rtc/v1/validate", want: [5]int{404, 404, 404, 404, 404}, note: "served only for an embedded SFU"},

		// The member area.
		{pattern: "GET /account", want: mxMember("GET /account")},
		{pattern: "GET /account/profile", want: mxMember("GET /account/profile")},
		{pattern: "POST /account/profile", want: mxMember("POST /account/profile"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/profile", url.Values{"name": {e.self.Name}, "city": {"Cluj"}})
		}},
		{pattern: "POST /account/avatar", want: mxMember("POST /account/avatar"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			body, ct := orgMultipart(t, "avatar", "me.png", "image/png", pngBytes(t))
			return matrixReq{path: "/account/avatar", body: body.Bytes(), contentType: ct}
		}},
		{pattern: "POST /account/avatar/remove", want: mxMember("POST /account/avatar/remove")},
		{pattern: "GET /account/avatar", want: mxMember("GET /account/avatar"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			e.avatar(t)
			return matrixReq{path: "/account/avatar"}
		}},
		{pattern: "POST /account/guardian", want: mxMember("POST /account/guardian"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			e.child(t)
			return mxForm("/account/guardian", url.Values{"guardian_email": {"guardian." + e.self.Email}})
		}},
		{pattern: "GET /account/close", want: mxMember("GET /account/close")},
		{pattern: "POST /account/deactivate", want: mxMember("POST /account/deactivate"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/deactivate", url.Values{"confirm": {"yes"}})
		}},
		{pattern: "POST /account/delete", want: mxMember("POST /account/delete"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/account/delete", url.Values{"confirm": {"yes"}})
		}},
		{pattern: "GET /account/closed", want: mxPublic(), req: mxPath("/account/closed?done=deactivated")},
		{pattern: "GET /guardian/confirm", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/guardian/confirm?token=" + url.QueryEscape(e.guardianToken(t))}
		}},
		{pattern: "POST /guardian/confirm", want: mxPublic(), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxForm("/guardian/confirm", url.Values{"token": {e.guardianToken(t)}})
		}},
		{pattern: "GET /api/me/profile", want: mxMember("GET /api/me/profile")},
		{pattern: "PUT /api/me/profile", want: mxMember("PUT /api/me/profile"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/me/profile", map[string]any{"name": e.self.Name, "city": "Cluj"})
		}},
		{pattern: "GET /api/me/avatar", want: mxMember("GET /api/me/avatar"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			e.avatar(t)
			return matrixReq{path: "/api/me/avatar"}
		}},
		{pattern: "PUT /api/me/avatar", want: mxMember("PUT /api/me/avatar"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return matrixReq{path: "/api/me/avatar", body: pngBytes(t), contentType: "image/png"}
		}},
		{pattern: "DELETE /api/me/avatar", want: mxMember("DELETE /api/me/avatar"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			e.avatar(t)
			return matrixReq{path: "/api/me/avatar"}
		}},
		{pattern: "POST /api/me/guardian", want: mxMember("POST /api/me/guardian"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			e.child(t)
			return mxJSON(t, "/api/me/guardian", map[string]string{"guardian_email": "guardian." + e.self.Email})
		}},
		{pattern: "POST /api/me/deactivate", want: mxMember("POST /api/me/deactivate")},
		{pattern: "POST /api/me/erasure", want: mxMember("POST /api/me/erasure")},
	}
	// Meetings (meetings_test.go): the caller hosts the meeting.
	rows = append(rows, meetingMatrix()...)
	return rows
}

// orgPatterns are the routes orgRouteMatrix covers, in the server's own
// spelling.
func orgPatterns() map[string]bool {
	out := map[string]bool{}
	for _, c := range orgRouteMatrix {
		path := strings.NewReplacer("{target}", "{accountID}", "{inv}", "{invID}").Replace(c.path)
		out[c.method+" "+path] = true
	}
	return out
}

func TestAccessMatrixCoversEveryRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rows := map[string]bool{}
	for _, r := range accessMatrix() {
		if rows[r.pattern] {
			t.Errorf("route %s has two rows", r.pattern)
		}
		rows[r.pattern] = true
	}
	orgs := orgPatterns()
	registered := map[string]bool{}
	for _, p := range h.Srv.Patterns() {
		registered[p] = true
		if !rows[p] && !orgs[p] {
			t.Errorf("route %s has no row in the access matrix: add one to accessMatrix saying who may use it", p)
		}
	}
	for p := range rows {
		if !registered[p] {
			t.Errorf("the access matrix has a row for %s, which is not registered", p)
		}
	}
}

func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	// With an SFU that starts nothing, so call routes answer as they do
	// on a running instance.
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	// An administrator exists, as on every running instance; setup links
	// are dead.
	h.newStaff(t, staff.Admin)
	cell := 0
	for _, row := range accessMatrix() {
		method, pattern, _ := strings.Cut(row.pattern, " ")
		for i, caller := range matrixCallers {
			t.Run(row.pattern+" as "+caller.name, func(t *testing.T) {
				e := &matrixEnv{h: h}
				if row.unverified {
					e.self = h.newUnverifiedMember(t)
				} else {
					e.self = h.newMember(t)
				}
				if row.dormant {
					h.grantDormant(t, e.self, caller.roles...)
				} else {
					h.grant(t, e.self, caller.roles...)
				}
				e.own = h.signIn(t, e.self)
				e.own.bearer = h.apiToken(t, e.self)
				e.c = h.anon()
				if !caller.anon {
					e.c = h.signIn(t, e.self)
					e.c.bearer = h.apiToken(t, e.self)
				}
				// Each cell comes from its own address, so per-IP limits
				// on sign-in and mail do not carry from one to the next.
				cell++
				e.c.ip = fmt.Sprintf("10.%d.%d.%d", cell>>16&255, cell>>8&255, cell&255)
				req := matrixReq{path: pattern}
				if row.req != nil {
					req = row.req(t, e)
				}
				if strings.Contains(req.path, "{") {
					t.Fatalf("matrix: the row must fill in %s", req.path)
				}
				var body io.Reader
				header := http.Header{}
				if req.body != nil {
					body = bytes.NewReader(req.body)
					header.Set("Content-Type", req.contentType)
				}
				res := e.c.do(t, method, req.path, body, header)
				if msg := mxCheck(res, row.want[i]); msg != "" {
					t.Errorf("%s %s as %s: %s%s\n%.400s", method, req.path, caller.name, msg, mxNote(row.note), res.Body)
				}
			})
		}
	}
}

func mxNote(note string) string {
	if note == "" {
		return ""
	}
	return " (" + note + ")"
}

// mxCheck compares a response with an expected outcome and says what is
// wrong, or nothing.
func mxCheck(res *response, want int) string {
	got, loc := res.StatusCode, res.Header.Get("Location")
	toSignIn := got == http.StatusSeeOther && strings.HasPrefix(loc, "/signin?next=")
	switch want {
	case mxAllow:
		if got < 200 || got >= 400 || toSignIn {
			return fmt.Sprintf("status %d (to %q), want it allowed", got, loc)
		}
	case mxSignIn:
		if !toSignIn {
			return fmt.Sprintf("status %d (to %q), want a redirect to sign in", got, loc)
		}
	default:
		if got != want {
			return fmt.Sprintf("status %d, want %d", got, want)
		}
	}
	return ""
}

// TestAccessMatrixOrgRoutesGiveStaffNothing runs every organisation route
// as staff of each role who do not belong to the organisation: they get
// exactly what any outsider gets.
func TestAccessMatrixOrgRoutesGiveStaffNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	stranger := -1
	for i, r := range orgRoles {
		if r == "stranger" {
			stranger = i
		}
	}
	if stranger < 0 {
		t.Fatal("orgRoles has no stranger column")
	}
	for _, c := range orgRouteMatrix {
		for _, role := range staff.Roles {
			t.Run(c.method+" "+c.path+" as "+string(role), func(t *testing.T) {
				f := newOrgFixture(t, h)
				m := h.newStaff(t, role)
				// The stranger column's invitation is addressed to the
				// stranger, whom only it binds; the staff member gets one
				// of their own, as that stranger did.
				sent, err := h.Srv.Services.Orgs.Invite(context.Background(), service.Member(f.Owner.ID), f.ID, m.Email, string(org.Member))
				if err != nil {
					t.Fatal(err)
				}
				f.Token = sent.Token
				path := strings.NewReplacer("{id}", f.ID, "{target}", f.Target.ID, "{inv}", f.InvitationID, "{token}", f.Token).Replace(c.path)
				cl := h.signIn(t, m)
				cl.bearer = h.apiToken(t, m)
				var body io.Reader = bytes.NewReader(nil)
				header := http.Header{}
				if c.body != nil {
					ct, b := c.body(t, f)
					body = bytes.NewReader(b)
					header.Set("Content-Type", ct)
				}
				if res := cl.do(t, c.method, path, body, header); res.StatusCode != c.want[stranger] {
					t.Errorf("status %d, want %d as for any outsider", res.StatusCode, c.want[stranger])
				}
			})
		}
	}
}
