package web

import (
	"context"
	"net/http"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/service/accounts"
)

// The security settings a signed-in member manages: the second factor and
// its recovery codes, sessions and personal API tokens. Shared by the
// security page and the API; the use cases are the accounts service's.

func (s *Server) totpSetup(ctx context.Context, p *principal, fresh bool) (account.TOTPSetup, error) {
	return s.Services.Accounts.TOTPSetup(ctx, p.AccountID, fresh)
}

func (s *Server) totpEnable(ctx context.Context, p *principal, code string) ([]string, error) {
	return s.Services.Accounts.EnableTOTP(ctx, p.AccountID, code)
}

func (s *Server) totpDisable(ctx context.Context, w http.ResponseWriter, r *http.Request, code string) error {
	return s.Services.Accounts.DisableTOTP(ctx, me(r), code)
}

func (s *Server) regenerateRecoveryCodes(ctx context.Context, w http.ResponseWriter, r *http.Request, code string) ([]string, error) {
	codes, err := s.Services.Accounts.ReplaceRecoveryCodes(ctx, me(r), code)
	return codes, err
}

func (s *Server) createAPIToken(ctx context.Context, r *http.Request, in accounts.NewToken) (string, account.APIToken, error) {
	return s.Services.Accounts.CreateAPIToken(ctx, me(r), in)
}

func (s *Server) revokeAPIToken(ctx context.Context, p *principal, id string) error {
	return s.Services.Accounts.RevokeAPIToken(ctx, p.AccountID, id)
}

func (s *Server) endSession(ctx context.Context, p *principal, id string) error {
	return s.Services.Accounts.EndSession(ctx, p.AccountID, id)
}
