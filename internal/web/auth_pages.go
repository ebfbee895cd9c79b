package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/service/accounts"
)

// The browser pages of signing up, in and out, e-mailed links and the
// security settings. Every change is a POST form, covered by the
// cross-origin protection; a form that fails validation is shown again
// with what was typed (never a password) and a message per field.

// authForm is what a sign-up, sign-in or password form page shows.
type authForm struct {
	Values  map[string]string
	Errors  map[string]string
	Message string // a message about the whole form
	Notice  string // a success message
	Next    string // where to go after signing in
	Token   string // the link's token, carried through a form
}

// formError turns a flow's error into what the form shows and the status
// to answer with; errors no form can show are returned as they are. A
// refusal for too many attempts says when to try again.
func formError(w http.ResponseWriter, f *authForm, err error) (int, error) {
	e, ok := errs.As(err)
	if !ok {
		return 0, err
	}
	setRetryAfter(w, err)
	switch e.Code {
	case errs.Invalid, errs.Unauthorized, errs.RateLimited, errs.Conflict, errs.Forbidden:
	default:
		return 0, err
	}
	if len(e.Fields) > 0 {
		f.Errors = e.Fields
		if e.Code == errs.Invalid {
			f.Message = "please correct the fields marked below"
		} else {
			f.Message = e.Message
		}
	} else {
		f.Message = e.Message
	}
	return statusOf[e.Code], nil
}

func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, status int, page, title string, f authForm) error {
	return s.pages.render(w, r, status, page, view{Title: title, Section: "account", Data: f})
}

// noticeView is a page that only tells the person something.
type noticeView struct {
	Icon       string
	Eyebrow    string
	Heading    string
	Paragraphs []string
	Actions    []noticeAction
}

type noticeAction struct {
	Label, Href string
	Primary     bool
	// Post makes the action a form that posts to Href, for a step that
	// changes something (sending a new link).
	Post bool
}

func (s *Server) renderNotice(w http.ResponseWriter, r *http.Request, status int, title string, n noticeView) error {
	return s.pages.render(w, r, status, "auth_notice", view{Title: title, Section: "account", Data: n})
}

// The sign-up and sign-in pages carry a destination ("next", a path on
// this site, localPath) from one to the other and to the "check your
// inbox" page after signing up, so that someone who opened an invitation while signed
// out lands on it once they have an account and are signed in.

func (s *Server) signUpPage(w http.ResponseWriter, r *http.Request) error {
	next := localPath(r.URL.Query().Get("next"), afterSignIn)
	if _, ok := s.currentPrincipal(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return s.renderForm(w, r, http.StatusOK, "auth_signup", "Create account", authForm{Next: next})
}

func (s *Server) signUpForm(w http.ResponseWriter, r *http.Request) error {
	in := account.SignUp{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Password: r.PostFormValue("password")}
	next := localPath(r.PostFormValue("next"), afterSignIn)
	if err := s.signUp(r.Context(), w, r, in); err != nil {
		f := authForm{Values: map[string]string{"name": in.Name, "email": in.Email}, Next: next}
		status, err := formError(w, &f, err)
		if err != nil {
			return err
		}
		return s.renderForm(w, r, status, "auth_signup", "Create account", f)
	}
	return s.renderNotice(w, r, http.StatusOK, "Check your inbox", checkInbox(account.NormaliseEmail(in.Email), next))
}

// checkInbox is the answer to every accepted sign-up, whether or not the
// address already had an account. Signing in from it leads to next.
func checkInbox(email, next string) noticeView {
	n := noticeView{
		Icon: "mail", Eyebrow: "Create account", Heading: "Check your inbox",
		Paragraphs: []string{
			"We sent a message to " + email + ". Open the link in it to confirm your address, then sign in.",
			"Nothing arrived within a few minutes? Look in your spam folder, or sign in and ask for a new link.",
		},
		Actions: []noticeAction{{Label: "Sign in", Href: signInHref(next), Primary: true}},
	}
	if isInvitationPath(next) {
		n.Paragraphs = append(n.Paragraphs, "Once you sign in, you are taken back to your invitation to accept it.")
	}
	return n
}

// signInHref is the sign-in page that leads on to next.
func signInHref(next string) string {
	if next == afterSignIn {
		return "/signin"
	}
	return "/signin?next=" + url.QueryEscape(next)
}

// isInvitationPath reports whether next is an organisation invitation,
// which the sign-in and sign-up pages name so the person knows why they
// are asked to sign in.
func isInvitationPath(next string) bool { return strings.HasPrefix(next, "/invitations/") }

// Invitation reports whether the form leads on to an invitation.
func (f authForm) Invitation() bool { return isInvitationPath(f.Next) }

// NextQuery is "?next=…" for a link to the other form of the pair
// (sign-in and sign-up), "" when next is the default.
func (f authForm) NextQuery() string {
	if f.Next == "" || f.Next == afterSignIn {
		return ""
	}
	return "?next=" + url.QueryEscape(f.Next)
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) error {
	next := localPath(r.URL.Query().Get("next"), afterSignIn)
	if _, ok := s.currentPrincipal(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return s.renderForm(w, r, http.StatusOK, "auth_signin", "Sign in", authForm{Next: next})
}

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) error {
	email, next := r.PostFormValue("email"), localPath(r.PostFormValue("next"), afterSignIn)
	res, err := s.signIn(r.Context(), w, r, email, r.PostFormValue("password"))
	if errs.CodeOf(err) == errs.Forbidden {
		// The password was right, but the account cannot come back (its
		// deactivation is too old, or its erasure is pending): that is
		// the error page, not the form again.
		return err
	}
	if err != nil {
		f := authForm{Values: map[string]string{"email": email}, Next: next}
		status, err := formError(w, &f, err)
		if err != nil {
			return err
		}
		return s.renderForm(w, r, status, "auth_signin", "Sign in", f)
	}
	if res.Challenge != "" {
		s.setCookie(w, s.challengeCookie(), res.Challenge, s.Clock.Now().Add(account.ChallengeTTL))
		http.Redirect(w, r, "/signin/code?next="+url.QueryEscape(next), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) signInCodePage(w http.ResponseWriter, r *http.Request) error {
	next := localPath(r.URL.Query().Get("next"), afterSignIn)
	if c, err := r.Cookie(s.challengeCookie()); err != nil || c.Value == "" {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
		return nil
	}
	return s.renderForm(w, r, http.StatusOK, "auth_signin_code", "Sign-in code", authForm{Next: next})
}

func (s *Server) signInCodeForm(w http.ResponseWriter, r *http.Request) error {
	next := localPath(r.PostFormValue("next"), afterSignIn)
	challenge := ""
	if c, err := r.Cookie(s.challengeCookie()); err == nil {
		challenge = c.Value
	}
	err := s.signInCode(r.Context(), w, r, challenge, r.PostFormValue("code"))
	if err == errChallengeLapsed {
		s.clearCookie(w, s.challengeCookie())
		return s.renderForm(w, r, http.StatusUnauthorized, "auth_signin", "Sign in", authForm{Message: err.Error(), Next: next})
	}
	if err != nil {
		f := authForm{Next: next}
		status, err := formError(w, &f, err)
		if err != nil {
			return err
		}
		return s.renderForm(w, r, status, "auth_signin_code", "Sign-in code", f)
	}
	s.clearCookie(w, s.challengeCookie())
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) signOutForm(w http.ResponseWriter, r *http.Request) error {
	if err := s.signOut(r.Context(), w, r); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// linkView is the page an e-mailed link opens: a button that spends it.
// Opening the link does not act by itself, so a mail scanner that fetches
// links spends nothing.
type linkView struct {
	Eyebrow, Heading, Text, Action, Button, Token string
}

// renderLinkPage shows the page of the link in the request, once the link
// is known to be live: a dead one gets the error page, not a button that
// could only fail.
func (s *Server) renderLinkPage(w http.ResponseWriter, r *http.Request, purpose, title string, v linkView) error {
	v.Token = r.URL.Query().Get("token")
	if _, err := s.checkLink(r.Context(), purpose, v.Token); err != nil {
		if isDeadLink(err) {
			return s.deadLink(w, r, linkKindOf(purpose), err)
		}
		return err
	}
	return s.pages.render(w, r, http.StatusOK, "auth_link", view{Title: title, Section: "account", Data: v})
}

func (s *Server) verifyEmailPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderLinkPage(w, r, account.PurposeVerify, "Confirm your address", linkView{
		Eyebrow: "E-mail address", Heading: "Confirm your e-mail address",
		Text:   "Press the button to confirm that this address is yours.",
		Action: "/verify-email", Button: "Confirm my address",
	})
}

func (s *Server) verifyEmailForm(w http.ResponseWriter, r *http.Request) error {
	if err := s.verifyEmail(r.Context(), r.PostFormValue("token")); err != nil {
		if isDeadLink(err) {
			return s.deadLink(w, r, linkVerify, err)
		}
		return err
	}
	next := noticeAction{Label: "Sign in", Href: "/signin", Primary: true}
	if _, ok := s.currentPrincipal(r); ok {
		next = noticeAction{Label: "Go to my account", Href: "/account", Primary: true}
	}
	return s.renderNotice(w, r, http.StatusOK, "Address confirmed", noticeView{
		Icon: "check-circle", Eyebrow: "E-mail address", Heading: "Your address is confirmed",
		Paragraphs: []string{"Thank you. Every part of Sessions is now open to you."},
		Actions:    []noticeAction{next},
	})
}

func (s *Server) resendVerificationForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := s.resendVerification(r.Context(), w, r, p); err != nil {
		return err
	}
	return s.renderNotice(w, r, http.StatusOK, "Check your inbox", noticeView{
		Icon: "mail", Eyebrow: "E-mail address", Heading: "Check your inbox",
		Paragraphs: []string{"We sent a new link to " + p.Email + ". Links sent before no longer work."},
		Actions:    []noticeAction{{Label: "Go to my account", Href: "/account", Primary: true}},
	})
}

func (s *Server) forgotPasswordPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderForm(w, r, http.StatusOK, "auth_forgot", "Forgot your password?", authForm{})
}

func (s *Server) forgotPasswordForm(w http.ResponseWriter, r *http.Request) error {
	email := r.PostFormValue("email")
	if err := s.forgotPassword(r.Context(), w, r, email); err != nil {
		f := authForm{Values: map[string]string{"email": email}}
		status, err := formError(w, &f, err)
		if err != nil {
			return err
		}
		return s.renderForm(w, r, status, "auth_forgot", "Forgot your password?", f)
	}
	return s.renderNotice(w, r, http.StatusOK, "Check your inbox", noticeView{
		Icon: "mail", Eyebrow: "Password", Heading: "Check your inbox",
		Paragraphs: []string{
			"If an account uses " + account.NormaliseEmail(email) + ", we sent it a link to choose a new password. The link works for one hour.",
		},
		Actions: []noticeAction{{Label: "Back to sign-in", Href: "/signin", Primary: true}},
	})
}

func (s *Server) resetPasswordPage(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	if _, err := s.checkLink(r.Context(), account.PurposeReset, token); err != nil {
		if isDeadLink(err) {
			return s.deadLink(w, r, linkReset, err)
		}
		return err
	}
	return s.renderForm(w, r, http.StatusOK, "auth_reset", "Choose a new password", authForm{Token: token})
}

func (s *Server) resetPasswordForm(w http.ResponseWriter, r *http.Request) error {
	token := r.PostFormValue("token")
	err := s.resetPassword(r.Context(), token, r.PostFormValue("password"))
	if err == errBadLink {
		return s.deadLink(w, r, linkReset, err)
	}
	if err != nil {
		f := authForm{Token: token}
		status, err := formError(w, &f, err)
		if err != nil {
			return err
		}
		return s.renderForm(w, r, status, "auth_reset", "Choose a new password", f)
	}
	// Every session ended, including this browser's.
	s.clearCookie(w, s.sessionCookie())
	return s.renderForm(w, r, http.StatusOK, "auth_signin", "Sign in", authForm{
		Notice: "your password is changed, every device was signed out and your API tokens were revoked; sign in with the new password", Next: "/account",
	})
}

func (s *Server) confirmEmailPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderLinkPage(w, r, account.PurposeChangeEmail, "Confirm your new address", linkView{
		Eyebrow: "E-mail address", Heading: "Confirm your new e-mail address",
		Text:   "Press the button to sign in with this address from now on. Your old address stops working for this account.",
		Action: "/confirm-email", Button: "Use this address",
	})
}

func (s *Server) confirmEmailForm(w http.ResponseWriter, r *http.Request) error {
	if err := s.confirmEmailChange(r.Context(), r.PostFormValue("token")); err != nil {
		if isDeadLink(err) {
			return s.deadLink(w, r, linkChangeEmail, err)
		}
		return err
	}
	return s.renderNotice(w, r, http.StatusOK, "Address changed", noticeView{
		Icon: "check-circle", Eyebrow: "E-mail address", Heading: "Your address is changed",
		Paragraphs: []string{"Sign in with the new address from now on."},
		Actions:    []noticeAction{{Label: "Go to my account", Href: "/account", Primary: true}},
	})
}

// securityView is the security page.
type securityView struct {
	Email        string
	Verified     bool
	TOTP         bool
	RecoveryLeft int
	Setup        *account.TOTPSetup // while setting up the second factor
	// SetupQR is the QR code as a data: URL; typed so that the template
	// keeps it (the CSP allows data: images).
	SetupQR  template.URL
	NewCodes []string // recovery codes just made, shown once
	NewToken string   // an API token just made, shown once
	Sessions []sessionRow
	Tokens   []tokenRow
	Notice   string
	Message  string
	Form     string // which form Errors belong to
	Errors   map[string]string
	Values   map[string]string
	// The token form's choices: what a token may do and for how long,
	// with what the member picked when the form comes back refused.
	Scopes    []scopeChoice
	DayChoice []int
	Days      int
}

// scopeChoice is one scope on the token form.
type scopeChoice struct {
	account.Scope
	Checked bool
	// Staff marks the staff scope, offered only to staff with two-step
	// sign-in on.
	Staff bool
}

// ErrorsFor returns the field errors of one form on the page.
func (v securityView) ErrorsFor(form string) map[string]string {
	if v.Form != form {
		return nil
	}
	return v.Errors
}

type sessionRow struct {
	ID, Client, Created, LastSeen string
	Current                       bool
}

type tokenRow struct {
	ID, Name, Created, LastUsed, Expires string
	Scopes                               []account.Scope
	Expired                              bool
}

// displayTime shows a time to the member. Pages carry no time zone of the
// person yet, so times are in UTC and say so.
func displayTime(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }

// securityNotices are the fixed messages a redirect back to the page may
// name; the page never repeats text from the address.
var securityNotices = map[string]string{
	"password":       "your password is changed; your other devices were signed out and your API tokens revoked",
	"email":          "we sent a confirmation link to the new address; the change takes effect once you open it",
	"totp-off":       "two-step sign-in is off",
	"session-ended":  "that device is signed out",
	"sessions-ended": "every other device is signed out and your API tokens are revoked",
	"sessions-kept":  "every other device is signed out; your API tokens still work",
	"token-revoked":  "the token is revoked",
}

// securityPage loads what the page shows into v and renders it.
func (s *Server) securityPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSecurity(w, r, http.StatusOK, securityView{Notice: securityNotices[r.URL.Query().Get("done")]})
}

func (s *Server) renderSecurity(w http.ResponseWriter, r *http.Request, status int, v securityView) error {
	p := mustPrincipal(r)
	sec, err := s.Services.Accounts.Security(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	a := sec.Account
	v.Email, v.Verified, v.TOTP = a.Email, a.Verified(), a.TOTPEnabled()
	if v.TOTP {
		v.RecoveryLeft = sec.RecoveryLeft
		v.Setup = nil
	}
	if v.Setup != nil {
		v.SetupQR = template.URL(v.Setup.QR)
	}
	for _, se := range sec.Sessions {
		v.Sessions = append(v.Sessions, sessionRow{ID: se.ID, Client: se.Client, Created: displayTime(se.CreatedAt),
			LastSeen: displayTime(se.LastSeenAt), Current: se.ID == p.SessionID})
	}
	now := s.Clock.Now()
	for _, t := range sec.Tokens {
		row := tokenRow{ID: t.ID, Name: t.Name, Scopes: t.Scopes, Created: displayTime(t.CreatedAt), LastUsed: "never",
			Expires: displayTime(t.ExpiresAt), Expired: !t.Live(now)}
		if t.LastUsedAt != nil {
			row.LastUsed = displayTime(*t.LastUsedAt)
		}
		v.Tokens = append(v.Tokens, row)
	}
	// The staff scope is offered to those who could use it: staff with
	// two-step sign-in on.
	staffScope := len(p.Staff) > 0
	picked := map[string]bool{}
	for _, sc := range strings.Fields(v.Values["scopes"]) {
		picked[sc] = true
	}
	for _, sc := range account.Scopes {
		if sc == account.ScopeStaff && !staffScope {
			continue
		}
		v.Scopes = append(v.Scopes, scopeChoice{Scope: sc, Checked: picked[string(sc)], Staff: sc == account.ScopeStaff})
	}
	v.DayChoice = account.TokenDayChoices
	if v.Days == 0 {
		v.Days = account.TokenDefaultDays
	}
	return s.pages.render(w, r, status, "auth_security", view{Title: "Sign-in and security", Section: "account", Data: v})
}

// securityFormError shows a failed form on the security page.
func (s *Server) securityFormError(w http.ResponseWriter, r *http.Request, form string, err error, v securityView) error {
	f := authForm{}
	status, err := formError(w, &f, err)
	if err != nil {
		return err
	}
	v.Form, v.Errors, v.Message = form, f.Errors, f.Message
	return s.renderSecurity(w, r, status, v)
}

func (s *Server) securityDone(w http.ResponseWriter, r *http.Request, notice string) error {
	http.Redirect(w, r, "/account/security?done="+notice, http.StatusSeeOther)
	return nil
}

func (s *Server) securityPasswordForm(w http.ResponseWriter, r *http.Request) error {
	if err := s.changePassword(r.Context(), w, r, r.PostFormValue("current_password"), r.PostFormValue("new_password")); err != nil {
		return s.securityFormError(w, r, "password", err, securityView{})
	}
	return s.securityDone(w, r, "password")
}

func (s *Server) securityEmailForm(w http.ResponseWriter, r *http.Request) error {
	email := r.PostFormValue("email")
	if err := s.requestEmailChange(r.Context(), w, r, email, r.PostFormValue("password")); err != nil {
		return s.securityFormError(w, r, "email", err, securityView{Values: map[string]string{"email": email}})
	}
	return s.securityDone(w, r, "email")
}

func (s *Server) securityTOTPSetupForm(w http.ResponseWriter, r *http.Request) error {
	setup, err := s.totpSetup(r.Context(), mustPrincipal(r), true)
	if err != nil {
		return s.securityFormError(w, r, "totp-enable", err, securityView{})
	}
	return s.renderSecurity(w, r, http.StatusOK, securityView{Setup: &setup})
}

func (s *Server) securityTOTPEnableForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	codes, err := s.totpEnable(r.Context(), p, r.PostFormValue("code"))
	if err != nil {
		v := securityView{}
		// Show the same QR code again, so the person can retry.
		if setup, serr := s.totpSetup(r.Context(), p, false); serr == nil {
			v.Setup = &setup
		}
		return s.securityFormError(w, r, "totp-enable", err, v)
	}
	return s.renderSecurity(w, r, http.StatusOK, securityView{NewCodes: codes, Notice: "two-step sign-in is on"})
}

func (s *Server) securityTOTPDisableForm(w http.ResponseWriter, r *http.Request) error {
	if err := s.totpDisable(r.Context(), w, r, r.PostFormValue("code")); err != nil {
		return s.securityFormError(w, r, "totp-disable", err, securityView{})
	}
	return s.securityDone(w, r, "totp-off")
}

func (s *Server) securityRecoveryCodesForm(w http.ResponseWriter, r *http.Request) error {
	codes, err := s.regenerateRecoveryCodes(r.Context(), w, r, r.PostFormValue("code"))
	if err != nil {
		return s.securityFormError(w, r, "recovery-codes", err, securityView{})
	}
	return s.renderSecurity(w, r, http.StatusOK, securityView{NewCodes: codes, Notice: "your old recovery codes no longer work"})
}

func (s *Server) securityEndSessionForm(w http.ResponseWriter, r *http.Request) error {
	if err := s.endSession(r.Context(), mustPrincipal(r), r.PathValue("id")); err != nil {
		return err
	}
	return s.securityDone(w, r, "session-ended")
}

// securityEndOthersForm signs out every other device and, unless the
// member ticked "keep my API tokens", revokes their tokens too.
func (s *Server) securityEndOthersForm(w http.ResponseWriter, r *http.Request) error {
	keep := r.PostFormValue("keep_tokens") != ""
	if _, _, err := s.Services.Accounts.EndOtherSessions(r.Context(), me(r), keep); err != nil {
		return err
	}
	if keep {
		return s.securityDone(w, r, "sessions-kept")
	}
	return s.securityDone(w, r, "sessions-ended")
}

// securityTokenForm makes a token from the form: its name, scopes and
// lifetime, with the password (and a code when two-step sign-in is on).
func (s *Server) securityTokenForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	name, scopes := r.PostForm.Get("name"), r.PostForm["scopes"]
	days, err := strconv.Atoi(r.PostForm.Get("expires_in_days"))
	if err != nil {
		days = -1
	}
	secret, _, err := s.createAPIToken(r.Context(), r, accounts.NewToken{
		TokenRequest: account.TokenRequest{Name: name, Scopes: scopes, Days: days},
		Password:     r.PostForm.Get("password"), Code: r.PostForm.Get("code"),
	})
	if err != nil {
		return s.securityFormError(w, r, "token", err, securityView{Days: days,
			Values: map[string]string{"name": name, "scopes": strings.Join(scopes, " ")}})
	}
	return s.renderSecurity(w, r, http.StatusOK, securityView{NewToken: secret, Notice: "the token is made"})
}

func (s *Server) securityRevokeTokenForm(w http.ResponseWriter, r *http.Request) error {
	if err := s.revokeAPIToken(r.Context(), mustPrincipal(r), r.PathValue("id")); err != nil {
		return err
	}
	return s.securityDone(w, r, "token-revoked")
}
