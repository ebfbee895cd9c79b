package web

import (
	"context"
	"net/http"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/accounts"
)

// The account flows shared by the pages and the API: sign-up, sign-in with
// its second step, e-mailed links, and the security settings. The use
// cases are the accounts service's (internal/service/accounts); what is
// left here is HTTP: which cookie a flow reads or sets, and the
// Retry-After of a refusal for too many attempts.

// errBadLink is the one answer to a link that is forged, expired or spent.
var errBadLink = accounts.ErrBadLink

// errChallengeLapsed sends the person back to the first step.
var errChallengeLapsed = accounts.ErrChallengeLapsed

// signUp opens an account, or, when the address already has one, tells its
// owner by mail instead; the answer is the same either way.
func (s *Server) signUp(ctx context.Context, w http.ResponseWriter, r *http.Request, in account.SignUp) error {
	_, err := s.Services.Accounts.CreateAccount(ctx, accounts.NewAccount{
		Via: accounts.ViaSignUp, Name: in.Name, Email: in.Email, Password: in.Password, Browser: s.accountBrowser(r),
	})
	return err
}

// signInBrowser is the browser of a sign-in, which carries the consent
// choices it made as a visitor over to the account.
func (s *Server) signInBrowser(r *http.Request) accounts.Browser {
	b := s.accountBrowser(r)
	b.OnSignIn = func(ctx context.Context, tx *service.Tx, accountID string) error {
		return s.Services.Consents.CarryOver(ctx, tx, accountID, s.browser(r))
	}
	return b
}

// signIn checks an address and password; without a second factor it
// signs the browser in.
func (s *Server) signIn(ctx context.Context, w http.ResponseWriter, r *http.Request, email, password string) (accounts.SignedIn, error) {
	res, err := s.Services.Accounts.SignIn(ctx, email, password, s.signInBrowser(r))
	if err != nil {
		return res, err
	}
	s.startSession(w, res.Session)
	return res, nil
}

// signInCode answers the second step and signs the browser in.
func (s *Server) signInCode(ctx context.Context, w http.ResponseWriter, r *http.Request, challenge, code string) error {
	res, err := s.Services.Accounts.SignInCode(ctx, challenge, code, s.signInBrowser(r))
	if err != nil {
		return err
	}
	s.startSession(w, res.Session)
	return nil
}

// challengeCookie holds the token of a pending second step.
func (s *Server) challengeCookie() string {
	if s.Config.Secure() {
		return "__Host-sessions-challenge"
	}
	return "sessions-challenge"
}

// signOut ends the browser's session, if any, and forgets the cookie.
func (s *Server) signOut(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	s.clearCookie(w, s.sessionCookie())
	c, err := r.Cookie(s.sessionCookie())
	if err != nil || c.Value == "" {
		return nil
	}
	return s.Services.Accounts.SignOut(ctx, c.Value)
}

// checkLink returns the account a link is for if it is live, without
// spending it.
func (s *Server) checkLink(ctx context.Context, purpose, token string) (string, error) {
	return s.Services.Accounts.CheckLink(ctx, purpose, token)
}

func (s *Server) verifyEmail(ctx context.Context, token string) error {
	return s.Services.Accounts.VerifyEmail(ctx, token)
}

func (s *Server) resendVerification(ctx context.Context, w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.Services.Accounts.ResendVerification(ctx, p.AccountID, clientIP(r))
}

func (s *Server) forgotPassword(ctx context.Context, w http.ResponseWriter, r *http.Request, email string) error {
	return s.Services.Accounts.ForgotPassword(ctx, email, clientIP(r))
}

func (s *Server) resetPassword(ctx context.Context, token, password string) error {
	return s.Services.Accounts.ResetPassword(ctx, token, password)
}

func (s *Server) changePassword(ctx context.Context, w http.ResponseWriter, r *http.Request, current, next string) error {
	return s.Services.Accounts.ChangePassword(ctx, me(r), current, next)
}

func (s *Server) requestEmailChange(ctx context.Context, w http.ResponseWriter, r *http.Request, newEmail, password string) error {
	return s.Services.Accounts.RequestEmailChange(ctx, me(r), newEmail, password)
}

func (s *Server) confirmEmailChange(ctx context.Context, token string) error {
	return s.Services.Accounts.ConfirmEmailChange(ctx, token)
}
