package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
)

// Personal API tokens carry scopes (internal/account/scopes.go). Each
// route that takes a token needs exactly one scope, decided here from the
// route's pattern; member() refuses a token without it before the handler
// reads anything. A route not named here takes no token at all, so a new
// route stays closed to tokens until someone decides its scope (the
// scope matrix in access_scopes_test.go fails until they do).

// tokenScopeFor is the scope a personal API token must carry on the route
// with pattern, "" when no token may use it.
func tokenScopeFor(pattern string) account.Scope {
	method, path, _ := strings.Cut(pattern, " ")
	under := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if path == p || strings.HasPrefix(path, p+"/") {
				return true
			}
		}
		return false
	}
	read := method == http.MethodGet || method == http.MethodHead
	switch {
	case under("/api/admin"):
		// The staff API, whatever else the token may do.
		return account.ScopeStaff
	case under("/api/tokens"):
		if method == http.MethodPost {
			// A token is made from a signed-in browser with the
			// password, never with another token.
			return ""
		}
		if read {
			return account.ScopeAccountRead
		}
		return account.ScopeAccountWrite
	case under("/api/meetings", "/api/agenda-templates"):
		return account.ScopeMeetings
	case under("/api/orgs", "/api/invitations"):
		return account.ScopeOrgs
	case under("/api/me/consents", "/api/me/marketing", "/api/me/objections", "/api/me/notice", "/api/me/access-log",
		"/api/me/exports", "/api/me/requests", "/api/me/deactivate", "/api/me/erasure"):
		return account.ScopePrivacy
	case under("/api/me"):
		if read {
			return account.ScopeAccountRead
		}
		return account.ScopeAccountWrite
	}
	return ""
}

// tokenMayUse refuses a request authenticated by a personal API token on
// a route its scopes do not open, saying which scope it lacks (RFC 6750,
// section 3.1).
func tokenMayUse(w http.ResponseWriter, r *http.Request, p *principal) error {
	var need account.Scope
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		need = info.scope
	}
	if need == "" {
		return errs.E(errs.Forbidden, "personal API tokens cannot be used here; sign in with a browser")
	}
	if !slices.Contains(p.Scopes, need) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Sessions API", error="insufficient_scope", scope="`+string(need)+`"`)
		return errs.E(errs.Forbidden, "this token does not carry the %s scope", need)
	}
	return nil
}
