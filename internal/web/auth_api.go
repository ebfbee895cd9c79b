package web

import (
	"net/http"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/service/accounts"
)

// The JSON API of accounts. Sign-up is open; everything else needs a
// personal API token with the route's scope (GET /api/me and GET
// /api/tokens also take the browser's session cookie). There is no API
// sign-in with a password, and no token makes another: a token is made
// from a signed-in browser, on the security page or by its script
// through POST /api/tokens, with the password in the same request.

type signUpJSON struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// signUpAcceptedJSON is the answer to every accepted sign-up, whether or
// not the address already had an account.
type signUpAcceptedJSON struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func (s *Server) apiSignUp(w http.ResponseWriter, r *http.Request) error {
	var in signUpJSON
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.signUp(r.Context(), w, r, account.SignUp(in)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, signUpAcceptedJSON{
		Status:  "check_email",
		Message: "if the address can be used, a message is on its way to it; open its link to confirm the address, then sign in",
	})
}

// meJSON is the signed-in member.
type meJSON struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	TwoFactor     bool      `json:"two_factor"`
	Status        string    `json:"status"`
	CreatedAt     time.Time `json:"created_at"`
	StaffRoles    []string  `json:"staff_roles"`
	// Country is the country of residence from the profile, "" when not
	// given; Controllers are who control the member's data because of it.
	Country     string               `json:"country"`
	Controllers []account.Controller `json:"controllers"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	v, err := s.Services.Accounts.Member(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	a, prof := v.Account, v.Profile
	roles := p.Staff
	if roles == nil {
		roles = []string{}
	}
	return writeJSONNoStore(w, http.StatusOK, meJSON{
		ID: a.ID, Name: a.Name, Email: a.Email, EmailVerified: a.Verified(), TwoFactor: a.TOTPEnabled(),
		Status: string(a.Status), CreatedAt: a.CreatedAt, StaffRoles: roles,
		Country: prof.Country, Controllers: account.ControllersFor(prof.Country),
	})
}

// tokenJSON is a personal API token without its secret.
type tokenJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	Expired    bool       `json:"expired"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// newTokenJSON carries the secret, once.
type newTokenJSON struct {
	tokenJSON
	Token string `json:"token"`
}

func toTokenJSON(t account.APIToken, now time.Time) tokenJSON {
	scopes := make([]string, 0, len(t.Scopes))
	for _, sc := range t.Scopes {
		scopes = append(scopes, string(sc))
	}
	return tokenJSON{ID: t.ID, Name: t.Name, Scopes: scopes, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
		Expired: !t.Live(now), LastUsedAt: t.LastUsedAt}
}

func (s *Server) apiListTokens(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	tokens, err := s.Services.Accounts.APITokens(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	out := make([]tokenJSON, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, toTokenJSON(t, now))
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"tokens": out})
}

// apiCreateToken answers POST /api/tokens, which our pages' scripts call
// with the session cookie: the token wanted and, in the same request, the
// password (and a code when two-step sign-in is on).
func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name          string   `json:"name"`
		Scopes        []string `json:"scopes"`
		ExpiresInDays int      `json:"expires_in_days"`
		Password      string   `json:"password"`
		Code          string   `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	secret, t, err := s.createAPIToken(r.Context(), r, accounts.NewToken{
		TokenRequest: account.TokenRequest{Name: in.Name, Scopes: in.Scopes, Days: in.ExpiresInDays},
		Password:     in.Password, Code: in.Code,
	})
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusCreated, newTokenJSON{tokenJSON: toTokenJSON(t, s.Clock.Now()), Token: secret})
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.revokeAPIToken(r.Context(), mustPrincipal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
