package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/service/accounts"
)

// Dead ends: an e-mailed link that expired or was used, and a page the
// member may not open. The error page alone says only that something is
// wrong; these pages say what happened and offer the step that gets the
// person further.

// linkKind names the e-mailed links a dead-link page knows.
type linkKind string

const (
	linkVerify      linkKind = "verify"
	linkReset       linkKind = "reset"
	linkChangeEmail linkKind = "change-email"
	linkSetup       linkKind = "setup"
	linkInvitation  linkKind = "invitation"
)

// linkKindOf maps an account link's purpose to its kind.
func linkKindOf(purpose string) linkKind {
	switch purpose {
	case account.PurposeReset:
		return linkReset
	case account.PurposeChangeEmail:
		return linkChangeEmail
	}
	return linkVerify
}

// isDeadLink reports whether err says a link is forged, expired or spent.
func isDeadLink(err error) bool {
	return errors.Is(err, accounts.ErrBadLink) || errors.Is(err, accounts.ErrDeadSetupLink)
}

// deadLink answers a dead link of kind with a page that says so and what
// to do next, with the error's own status (the link was not valid input).
func (s *Server) deadLink(w http.ResponseWriter, r *http.Request, kind linkKind, err error) error {
	status := statusOf[errs.CodeOf(err)]
	if status == 0 {
		status = http.StatusUnprocessableEntity
	}
	p, signedIn := s.currentPrincipal(r)
	n := noticeView{Icon: "mail", Eyebrow: "E-mailed link"}
	signIn := func(next string) noticeAction {
		return noticeAction{Label: "Sign in", Href: "/signin?next=" + url.QueryEscape(next)}
	}
	switch kind {
	case linkVerify:
		n.Heading = "This confirmation link no longer works"
		n.Paragraphs = []string{"Confirmation links work once, and only the newest one sent to you works: this one has been used, replaced by a newer one, or has expired."}
		switch {
		case signedIn && p.Verified:
			n.Icon, n.Heading = "check-circle", "Your address is already confirmed"
			n.Paragraphs = []string{"This link has been used. Nothing more is needed: every part of Sessions is open to you."}
			n.Actions = []noticeAction{{Label: "Go to my meetings", Href: "/", Primary: true}}
		case signedIn:
			n.Paragraphs = append(n.Paragraphs, "Ask for a new link and open the newest message we send to "+p.Email+".")
			n.Actions = []noticeAction{{Label: "Send a new link", Href: "/verify-email/resend", Post: true, Primary: true}}
		default:
			n.Paragraphs = append(n.Paragraphs, "If your address is already confirmed, just sign in. If not, sign in and press “Send a new link” at the top of the page.")
			a := signIn("/account")
			a.Primary = true
			n.Actions = []noticeAction{a}
		}
	case linkReset:
		n.Heading = "This password link no longer works"
		n.Paragraphs = []string{"A link to choose a new password works once, for one hour: this one has expired or has been used. Ask for a new one; it is sent to the same address."}
		n.Actions = []noticeAction{{Label: "Send a new link", Href: "/forgot-password", Primary: true}, signIn("/")}
	case linkChangeEmail:
		n.Heading = "This link to change your address no longer works"
		n.Paragraphs = []string{"It has expired or has been used. Your account still uses its current address. To change it, ask again from your security settings; we send a new link to the new address."}
		n.Actions = []noticeAction{{Label: "Open security settings", Href: "/account/security", Primary: true}}
	case linkSetup:
		n.Eyebrow, n.Icon = "First administrator", "lock"
		n.Heading = "This setup link no longer works"
		n.Paragraphs = []string{
			"The link that creates the first administrator works once. It has been used, or a newer one replaced it.",
			"Whoever runs the server gets a fresh link at the next start while no administrator exists, or makes one directly with: sessions admin create --email you@example.com",
		}
		n.Actions = []noticeAction{signIn("/admin")}
		n.Actions[0].Primary = true
	case linkInvitation:
		n.Eyebrow, n.Icon = "Invitation", "users"
		n.Heading = "This invitation no longer works"
		n.Paragraphs = []string{"It has been accepted, withdrawn, or has expired. Ask the person who invited you to send a new invitation; it comes by e-mail."}
		n.Actions = []noticeAction{{Label: "My organisations", Href: "/orgs", Primary: true}, {Label: "My meetings", Href: "/"}}
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	return s.renderNotice(w, r, status, n.Heading, n)
}

// staffRefusal marks a refusal by a staff permission guard (s.can), so
// that the error page can say how such a role is had; it wraps the
// service's error, which names the role.
type staffRefusal struct{ error }

func (e staffRefusal) Unwrap() error { return e.error }

// forbiddenView is the help on the page of a staff refusal; a member
// who is neither is told the page belongs to the staff console.
type forbiddenView struct {
	Dormant bool // holds roles that wait for two-step sign-in
	Staff   bool // holds a role in force, but not one that opens this page
}

// forbiddenHelp is the help for a staff refusal of r's member, nil for
// any other error.
func (s *Server) forbiddenHelp(r *http.Request, err error) *forbiddenView {
	var refusal staffRefusal
	if !errors.As(err, &refusal) || errs.CodeOf(err) != errs.Forbidden {
		return nil
	}
	// The error reaches the one place errors are written with the request
	// as it came in, before the guard put the member into it.
	p, ok := s.currentPrincipal(r)
	if !ok {
		return nil
	}
	return &forbiddenView{
		Dormant: len(p.Dormant) > 0 && len(p.Staff) == 0,
		Staff:   p.ActiveStaff(),
	}
}
