package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/audit"
)

// operatorActor is who the audit log names for changes made through the
// staff console while it is opened by the operator password.
var operatorActor = audit.Party{Kind: "operator"}

// operator guards the staff console with the operator's password, given as
// HTTP Basic (browsers prompt for it) or as a Bearer token on the API. With
// no password configured the console stays closed.
func (s *Server) operator(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.Config.AdminPassword == "" {
			return errs.E(errs.Forbidden, "the staff console is closed: set SESSIONS_ADMIN_PASSWORD to open it")
		}
		given := ""
		if _, pass, ok := r.BasicAuth(); ok {
			given = pass
		} else if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			given = tok
		}
		// Compare digests so that the comparison takes the same time
		// whatever the lengths.
		want := sha256.Sum256([]byte(s.Config.AdminPassword))
		got := sha256.Sum256([]byte(given))
		if given == "" || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Sessions staff console", charset="UTF-8"`)
			return errs.E(errs.Unauthorized, "the staff console needs the operator password")
		}
		return h(w, r)
	}
}
