package web

import (
	"context"
	"net/http"

	"github.com/sessionshq/sessions/internal/platform/database"
)

// carryConsents runs in the sign-in transaction, which web still opens
// (auth_flows.go): see consents.Service.CarryOver. Once signing in is a
// service use case, that use case calls CarryOver in its own
// transaction and this adapter goes.
func (s *Server) carryConsents(ctx context.Context, tx database.Querier, r *http.Request, accountID string) error {
	return s.Services.Consents.CarryOver(ctx, tx, accountID, s.browser(r))
}
