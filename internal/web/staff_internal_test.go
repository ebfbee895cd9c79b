package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// shellStaffCookie makes an account that holds every staff role on s's
// database and returns the cookie of a session for it, for the package's
// own tests that open the console.
func shellStaffCookie(t *testing.T, s *Server) *http.Cookie {
	t.Helper()
	ctx := context.Background()
	now := s.Clock.Now()
	a := account.Account{
		ID: account.NewID(), Email: "all-roles@example.com", EmailVerifiedAt: &now, PasswordHash: "unused",
		PasswordChangedAt: now, Name: "All Roles", Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if err := store.CreateAccount(ctx, s.Services.Env.Store.DB, a); err != nil {
		t.Fatal(err)
	}
	// Staff roles are in force only with two-step sign-in on.
	setup, err := account.NewTOTPSetup(a.Email)
	if err != nil {
		t.Fatal(err)
	}
	box, err := account.NewSecretBox(s.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetTOTPPending(ctx, s.Services.Env.Store.DB, a.ID, box.Seal(a.ID, setup.Secret), now); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.EnableTOTP(ctx, s.Services.Env.Store.DB, a.ID, 0, now); err != nil || !ok {
		t.Fatalf("turn TOTP on: %v, %v", ok, err)
	}
	for _, r := range staff.Roles {
		if _, err := store.GrantStaffRole(ctx, s.Services.Env.Store.DB, s.Secret, audit.Party{Kind: "operator"}, a.ID, r, now); err != nil {
			t.Fatal(err)
		}
	}
	token := account.NewSessionToken()
	sess := account.Session{ID: account.NewSessionID(), AccountID: a.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(account.SessionAbsolute)}
	if err := store.CreateSession(ctx, s.Services.Env.Store.DB, sess, account.TokenDigest(token)); err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: s.sessionCookie(), Value: token}
}

// TestStaffGuard drives the guard directly: anonymous callers get what
// s.member gives them, members without a listed role 403, holders of a
// listed role through; a permission no role holds lets nobody through.
func TestStaffGuard(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)
	s := env.srv
	ok := func(w http.ResponseWriter, r *http.Request) error { w.WriteHeader(http.StatusNoContent); return nil }
	s.page("GET /test/support", s.can(staff.LookUpPeople)(ok))
	s.api("GET /api/test/support", s.can(staff.LookUpPeople)(ok))
	s.page("GET /test/meetings", s.can(staff.ViewMeetingContent)(ok))

	ctx := context.Background()
	now := s.Clock.Now()
	plain := account.Account{
		ID: account.NewID(), Email: "plain@example.com", EmailVerifiedAt: &now, PasswordHash: "unused",
		PasswordChangedAt: now, Name: "Plain", Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if err := store.CreateAccount(ctx, s.Services.Env.Store.DB, plain); err != nil {
		t.Fatal(err)
	}
	token := account.NewSessionToken()
	if err := store.CreateSession(ctx, s.Services.Env.Store.DB, account.Session{ID: account.NewSessionID(), AccountID: plain.ID, CreatedAt: now,
		LastSeenAt: now, ExpiresAt: now.Add(account.SessionAbsolute)}, account.TokenDigest(token)); err != nil {
		t.Fatal(err)
	}
	member := &http.Cookie{Name: s.sessionCookie(), Value: token}

	get := func(path string, c *http.Cookie) int {
		r, _ := http.NewRequest(http.MethodGet, "http://sessions.test"+path, nil)
		if c != nil {
			r.AddCookie(c)
		}
		return shellServe(s, r).StatusCode
	}
	cases := []struct {
		path   string
		cookie *http.Cookie
		want   int
	}{
		{"/test/support", nil, http.StatusSeeOther},
		{"/api/test/support", nil, http.StatusUnauthorized},
		{"/test/support", member, http.StatusForbidden},
		{"/api/test/support", member, http.StatusForbidden},
		{"/test/support", env.staff, http.StatusNoContent},
		{"/api/test/support", env.staff, http.StatusNoContent},
		{"/test/meetings", env.staff, http.StatusForbidden},
	}
	for _, c := range cases {
		if got := get(c.path, c.cookie); got != c.want {
			t.Errorf("GET %s (cookie %v): %d, want %d", c.path, c.cookie != nil, got, c.want)
		}
	}
}
