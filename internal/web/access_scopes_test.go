package web_test

// The token-scope columns of the route × role matrix: every API and script
// route a member reaches, called with a personal API token of each scope.
// The one scope listed for the route gets what the route's allowed caller
// gets in the access matrix; every other scope gets 403 before the handler
// reads anything. A route listed under no scope takes no token at all.
// A guarded API route with no entry here fails the test, so no route can
// be added without deciding which scope opens it.

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/staff"
)

// noToken marks a route no personal API token opens.
const noToken account.Scope = ""

// tokenScopeMatrix lists, per scope, the routes that scope opens.
var tokenScopeMatrix = map[account.Scope][]string{
	noToken: {
		// A token is made from a signed-in browser with the password.
		"POST /api/tokens",
	},
	account.ScopeAccountRead: {
		"GET /api/me", "GET /api/tokens", "GET /api/me/profile", "GET /api/me/avatar",
	},
	account.ScopeAccountWrite: {
		"DELETE /api/tokens/{id}", "PUT /api/me/profile", "PUT /api/me/avatar", "DELETE /api/me/avatar", "POST /api/me/guardian",
	},
	account.ScopePrivacy: {
		"GET /api/me/consents", "POST /api/me/consents", "POST /api/me/notice/acknowledge", "GET /api/me/access-log",
		"GET /api/me/marketing", "PUT /api/me/marketing", "POST /api/me/objections",
		"POST /api/me/exports", "GET /api/me/exports/{id}", "GET /api/me/requests", "POST /api/me/requests", "GET /api/me/requests/{id}",
		"POST /api/me/deactivate", "POST /api/me/erasure",
	},
	account.ScopeMeetings: {
		"GET /api/meetings", "POST /api/meetings", "GET /api/meetings/{id}", "PATCH /api/meetings/{id}", "DELETE /api/meetings/{id}",
		"GET /api/meetings/{id}/calendar.ics",
		"GET /api/meetings/{id}/participants", "POST /api/meetings/{id}/participants",
		"PATCH /api/meetings/{id}/participants/{pid}", "DELETE /api/meetings/{id}/participants/{pid}",
		"GET /api/meetings/{id}/agenda", "POST /api/meetings/{id}/agenda", "PATCH /api/meetings/{id}/agenda/{itemID}",
		"DELETE /api/meetings/{id}/agenda/{itemID}", "PUT /api/meetings/{id}/agenda/order",
		"POST /api/meetings/{id}/agenda/from-template/{templateID}", "GET /api/agenda-templates", "POST /api/agenda-templates",
		"GET /api/meetings/{id}/resources", "POST /api/meetings/{id}/resources", "GET /api/meetings/{id}/resources/{rid}",
		"DELETE /api/meetings/{id}/resources/{rid}",
		"POST /api/meetings/{id}/join", "GET /api/meetings/{id}/join", "GET /api/meetings/{id}/lobby",
		"POST /api/meetings/{id}/lobby/{pid}/admit", "POST /api/meetings/{id}/lobby/{pid}/deny",
		"POST /api/meetings/{id}/lock", "POST /api/meetings/{id}/unlock", "POST /api/meetings/{id}/end",
		"POST /api/meetings/{id}/participants/{pid}/remove", "POST /api/meetings/{id}/participants/{pid}/mute",
		"GET /api/meetings/{id}/messages", "POST /api/meetings/{id}/messages", "POST /api/meetings/{id}/messages/{mid}/answered",
		"GET /api/meetings/{id}/attendance", "GET /api/meetings/{id}/live",
	},
	account.ScopeOrgs: {
		"GET /api/orgs", "POST /api/orgs", "GET /api/orgs/{id}", "PATCH /api/orgs/{id}", "DELETE /api/orgs/{id}",
		"GET /api/orgs/{id}/logo", "PUT /api/orgs/{id}/logo", "DELETE /api/orgs/{id}/logo",
		"GET /api/orgs/{id}/members", "PATCH /api/orgs/{id}/members/{accountID}", "DELETE /api/orgs/{id}/members/{accountID}",
		"POST /api/orgs/{id}/leave", "GET /api/orgs/{id}/invitations", "POST /api/orgs/{id}/invitations",
		"DELETE /api/orgs/{id}/invitations/{invID}", "POST /api/invitations/accept",
		"GET /api/orgs/{id}/dpa", "POST /api/orgs/{id}/dpa",
	},
	account.ScopeStaff: {
		"GET /api/admin/subprocessors", "PUT /api/admin/subprocessors/{id}", "GET /api/admin/recipients", "PUT /api/admin/recipients/{id}",
		"GET /api/admin/analytics", "PUT /api/admin/people/{id}/restriction", "GET /api/admin/notice", "POST /api/admin/notice",
		"GET /api/admin/outbox", "GET /api/admin/outbox/{id}", "POST /api/admin/outbox/{id}/view", "POST /api/admin/outbox/{id}/retry",
		"GET /api/admin/audit/verify", "GET /api/admin/people", "POST /api/admin/people/{id}/view",
		"GET /api/admin/staff", "POST /api/admin/staff", "DELETE /api/admin/staff/{id}/roles/{role}",
		"GET /api/admin/requests", "POST /api/admin/requests", "GET /api/admin/requests/{id}", "POST /api/admin/requests/{id}/steps",
		"GET /api/admin/retention/preview", "GET /api/admin/retention/runs", "GET /api/admin/retention/runs/{id}",
		"GET /api/admin/legal-holds", "POST /api/admin/legal-holds", "POST /api/admin/legal-holds/{id}/release",
	},
}

// tokenScopeOf flattens tokenScopeMatrix: the scope of each route.
func tokenScopeOf(t *testing.T) map[string]account.Scope {
	t.Helper()
	out := map[string]account.Scope{}
	for scope, patterns := range tokenScopeMatrix {
		for _, p := range patterns {
			if _, dup := out[p]; dup {
				t.Errorf("route %s is listed under two scopes", p)
			}
			out[p] = scope
		}
	}
	return out
}

// tokenRoute is a guarded route as the access matrices describe it.
type tokenRoute struct {
	pattern string
	// access is its row in accessMatrix, org its case in orgRouteMatrix.
	access *matrixRow
	org    *orgRouteCase
}

// guardedAPIRoutes are the API and script routes a signed-in member
// reaches and an anonymous caller does not: those a token may open.
func guardedAPIRoutes() []tokenRoute {
	var out []tokenRoute
	for _, r := range accessMatrix() {
		_, path, _ := strings.Cut(r.pattern, " ")
		if strings.HasPrefix(path, "/api/") && r.want[0] == http.StatusUnauthorized && r.want[1] != http.StatusUnauthorized {
			out = append(out, tokenRoute{pattern: r.pattern, access: &r})
		}
	}
	for _, c := range orgRouteMatrix {
		if strings.HasPrefix(c.path, "/api/") {
			path := strings.NewReplacer("{target}", "{accountID}", "{inv}", "{invID}").Replace(c.path)
			out = append(out, tokenRoute{pattern: c.method + " " + path, org: &c})
		}
	}
	return out
}

func TestTokenScopeMatrixCoversEveryGuardedAPIRoute(t *testing.T) {
	t.Parallel()
	scopes := tokenScopeOf(t)
	guarded := map[string]bool{}
	for _, r := range guardedAPIRoutes() {
		guarded[r.pattern] = true
		if _, ok := scopes[r.pattern]; !ok {
			t.Errorf("route %s takes a signed-in member but has no token scope: add it to tokenScopeMatrix", r.pattern)
		}
	}
	for p := range scopes {
		if !guarded[p] {
			t.Errorf("tokenScopeMatrix lists %s, which is not a guarded API route", p)
		}
	}
}

func TestAccessMatrixTokenScopes(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	h.newStaff(t, staff.Admin)
	scopes := tokenScopeOf(t)
	for _, route := range guardedAPIRoutes() {
		want, listed := scopes[route.pattern]
		if !listed {
			continue // TestTokenScopeMatrixCoversEveryGuardedAPIRoute says so
		}
		t.Run(route.pattern, func(t *testing.T) {
			method, _, _ := strings.Cut(route.pattern, " ")
			var (
				self    *testMember
				req     matrixReq
				allowed int
			)
			switch {
			case route.access != nil:
				row := route.access
				// The caller is the first column the access matrix lets
				// through: a member, or the narrowest staff role that
				// holds the permission (with two-step sign-in on).
				col := 1
				for i := 1; i < len(matrixCallers); i++ {
					if row.want[i] == mxAllow {
						col = i
						break
					}
				}
				e := &matrixEnv{h: h, self: h.newMember(t)}
				h.grant(t, e.self, matrixCallers[col].roles...)
				e.own = h.signIn(t, e.self)
				e.own.bearer = h.apiToken(t, e.self)
				e.c = h.anon()
				self, allowed = e.self, row.want[col]
				req = matrixReq{path: strings.TrimPrefix(route.pattern, method+" ")}
				if route.pattern == "POST /api/tokens" {
					req = mxJSON(t, "/api/tokens", e.tokenRequest(t))
				} else if row.req != nil {
					req = row.req(t, e)
				}
			default:
				c := route.org
				f := newOrgFixture(t, h)
				self, allowed = f.Owner, c.want[0]
				req.path = strings.NewReplacer("{id}", f.ID, "{target}", f.Target.ID, "{inv}", f.InvitationID, "{token}", f.Token).Replace(c.path)
				if c.body != nil {
					req.contentType, req.body = c.body(t, f)
				}
			}
			// Every scope but the route's first, so that the allowed
			// call, which may use up what the request needs, comes last.
			order := slices.DeleteFunc(slices.Clone(account.Scopes), func(s account.Scope) bool { return s == want })
			if want != noToken {
				order = append(order, want)
			}
			for _, scope := range order {
				c := h.anon()
				c.bearer = h.scopedToken(t, self, scope)
				var body io.Reader
				header := http.Header{}
				if req.body != nil {
					body = bytes.NewReader(req.body)
					header.Set("Content-Type", req.contentType)
				}
				res := c.do(t, method, req.path, body, header)
				expect := http.StatusForbidden
				if scope == want {
					expect = allowed
				}
				if msg := mxCheck(res, expect); msg != "" {
					t.Errorf("%s %s with a %q token: %s\n%.400s", method, req.path, scope, msg, res.Body)
				}
			}
		})
	}
}
