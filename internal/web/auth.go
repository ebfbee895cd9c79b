package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/service/accounts"
	"github.com/sessionshq/sessions/internal/staff"
)

// principal is who is making the request.
type principal struct {
	AccountID string
	Name      string
	Email     string
	SessionID string // "" when authenticated by an API token
	// Token is true when a personal API token authenticated the request;
	// it may use only the routes of its Scopes (scopes.go).
	Token  bool
	Scopes []account.Scope
	// Staff are the staff roles in force ("support", "privacy_officer",
	// "admin"); Dormant those held but waiting for two-step sign-in.
	Staff   []string
	Dormant []string
	// Verified is true once the member proved they receive mail at Email.
	// Unverified members may sign in but not, for example, create
	// organisations.
	Verified bool
	// TOTP is true when the member signs in with a second factor.
	TOTP bool
}

// ActiveStaff reports whether the member holds a staff role in force,
// which is what the navigation's link to the staff console needs: a
// member with none, or whose roles wait for two-step sign-in, would find
// only a refusal behind it.
func (p *principal) ActiveStaff() bool { return len(staff.ParseRoles(p.Staff)) > 0 }

// principalKey carries the principal from the member guard to the
// handler, so it is looked up once per request.
type principalKey struct{}

// noPrincipal marks in the context that the request was already found to
// be anonymous.
var noPrincipal = &principal{}

// initAuth builds what authentication needs from the deps.
func (s *Server) initAuth() error {
	s.pages.whoami = func(r *http.Request) *principal {
		p, _ := s.currentPrincipal(r)
		return p
	}
	return nil
}

// sessionCookie is the cookie's name. Over HTTPS the __Host- prefix makes
// browsers insist on Secure, Path=/ and no Domain, so no sibling host can
// set or shadow it.
func (s *Server) sessionCookie() string {
	if s.Config.Secure() {
		return "__Host-sessions"
	}
	return "sessions"
}

// currentPrincipal returns the signed-in member: a session cookie on
// browser routes, an "Authorization: Bearer <personal API token>" on /api/
// routes (cookies are not accepted on /api/ routes that change state,
// since no cross-origin protection covers them; GET and HEAD on /api/
// accept the cookie too). A lookup that fails is logged and treated as
// anonymous.
func (s *Server) currentPrincipal(r *http.Request) (*principal, bool) {
	if p, ok := r.Context().Value(principalKey{}).(*principal); ok {
		return p, p != noPrincipal
	}
	p, err := s.authenticate(r)
	if err != nil {
		s.Log.LogAttrs(r.Context(), slog.LevelError, "authentication lookup failed", slog.String("error", err.Error()))
		return nil, false
	}
	return p, p != nil
}

// member wraps a handler that needs a signed-in member: 401 problem+json on
// /api/, a 303 redirect to /signin?next=<path> on browser GETs, a 401 page
// otherwise. A personal API token must also carry the route's scope
// (scopes.go), or the answer is 403.
func (s *Server) member(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, ok := r.Context().Value(principalKey{}).(*principal)
		if !ok || p == noPrincipal {
			var err error
			if p, err = s.authenticate(r); err != nil {
				return err
			}
			if p == nil {
				if !isAPI(r) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
					http.Redirect(w, r, "/signin?next="+url.QueryEscape(localPath(r.URL.RequestURI(), afterSignIn)), http.StatusSeeOther)
					return nil
				}
				if isAPI(r) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="Sessions API"`)
				}
				return errs.E(errs.Unauthorized, "sign in first")
			}
			r = withPrincipal(r, p)
		}
		if p.Token {
			if err := tokenMayUse(w, r, p); err != nil {
				return err
			}
		}
		return h(w, r)
	}
}

func withPrincipal(r *http.Request, p *principal) *http.Request {
	if p == nil {
		p = noPrincipal
	}
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
}

// mustPrincipal is for handlers behind s.member.
func mustPrincipal(r *http.Request) *principal {
	p, _ := r.Context().Value(principalKey{}).(*principal)
	if p == nil || p == noPrincipal {
		panic("web: handler needs s.member")
	}
	return p
}

// authenticate finds the member behind r, nil when there is none.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	if s.Services == nil {
		return nil, nil
	}
	// The route's class says which credentials count (handler.go): a
	// bearer token on API and script routes; the session cookie on pages
	// and script routes, whose writes must come from our own origin; and
	// on API routes only for reads, since nothing there checks where a
	// write comes from.
	if class := classOf(r); class != pageRoute {
		if h := r.Header.Get("Authorization"); h != "" {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || !account.LooksLikeAPIToken(tok) {
				// Some other scheme; not a member.
				return nil, nil
			}
			return s.byAPIToken(r.Context(), strings.TrimSpace(tok))
		}
		if class == apiRoute && r.Method != http.MethodGet && r.Method != http.MethodHead {
			return nil, nil
		}
	}
	c, err := r.Cookie(s.sessionCookie())
	if err != nil || c.Value == "" {
		return nil, nil
	}
	return s.bySession(r.Context(), c.Value)
}

// bySession and byAPIToken ask the accounts service who holds a
// credential.
func (s *Server) bySession(ctx context.Context, token string) (*principal, error) {
	return principalFrom(s.Services.Accounts.BySession(ctx, token))
}

func (s *Server) byAPIToken(ctx context.Context, token string) (*principal, error) {
	return principalFrom(s.Services.Accounts.ByAPIToken(ctx, token))
}

func principalFrom(p *accounts.Principal, err error) (*principal, error) {
	if err != nil || p == nil {
		return nil, err
	}
	return &principal{
		AccountID: p.AccountID, Name: p.Name, Email: p.Email, SessionID: p.SessionID,
		Token: p.Token, Scopes: p.Scopes, Staff: p.Staff, Dormant: p.Dormant,
		Verified: p.Verified, TOTP: p.TOTP,
	}, nil
}

// accountBrowser describes the request's browser to a use case that signs
// in.
func (s *Server) accountBrowser(r *http.Request) accounts.Browser {
	b := accounts.Browser{IP: clientIP(r), UserAgent: r.UserAgent()}
	if c, err := r.Cookie(s.sessionCookie()); err == nil {
		b.SessionToken = c.Value
	}
	return b
}

// me is the signed-in member behind a request through s.member, as the
// accounts service names them.
func me(r *http.Request) accounts.Me {
	p := mustPrincipal(r)
	return accounts.Me{AccountID: p.AccountID, SessionID: p.SessionID, IP: clientIP(r)}
}

// startSession sets the cookie of a session a use case opened.
func (s *Server) startSession(w http.ResponseWriter, sess *accounts.NewSession) {
	if sess != nil {
		s.setCookie(w, s.sessionCookie(), sess.Token, sess.ExpiresAt)
	}
}

// setCookie writes an HttpOnly, SameSite=Lax cookie on path /, Secure over
// HTTPS. A zero expiry makes it last for the browser session only.
func (s *Server) setCookie(w http.ResponseWriter, name, value string, expires time.Time) {
	c := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.Config.Secure(), SameSite: http.SameSiteLaxMode,
	}
	if !expires.IsZero() {
		c.MaxAge = max(1, int(expires.Sub(s.Clock.Now()).Seconds()))
	}
	http.SetCookie(w, c)
}

// clearCookie tells the browser to forget a cookie.
func (s *Server) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", HttpOnly: true, Secure: s.Config.Secure(), SameSite: http.SameSiteLaxMode, MaxAge: -1,
	})
}

// clientIP is the address of the person's device as resolved once per
// request by logRequests: the peer, or behind a trusted proxy the address
// that proxy saw. It is used for rate limits and truncated before storage.
func clientIP(r *http.Request) string {
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok && info.clientIP != "" {
		return info.clientIP
	}
	return peerIP(r)
}

// peerIP is the connection's address without its port.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// resolveClientIP believes X-Forwarded-For only when the connection comes
// from a trusted proxy, and then walks it from the right, skipping the
// trusted hops, so a client cannot choose its own address by sending the
// header itself.
func resolveClientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := peerIP(r)
	if len(trusted) == 0 {
		return peer
	}
	isTrusted := func(s string) bool {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if _, err := netip.ParseAddr(hop); err != nil {
			// A malformed hop was not written by our proxy: stop here.
			return peer
		}
		if !isTrusted(hop) {
			return hop
		}
	}
	return peer
}
