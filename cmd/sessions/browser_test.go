package main

import (
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/platform/proctest"
	"github.com/sessionshq/sessions/internal/store"
)

// requireChromium returns the browser's path, or skips the test where
// none is installed so that the rest of the suite still runs.
func requireChromium(t *testing.T) string { return proctest.RequireChromium(t) }

// newBrowser starts headless Chromium with a profile of its own, and
// any extra flags, and returns a context for driving it that ends after
// timeout, so a stuck page fails the test instead of hanging it. The
// browser closes when the test ends.
func newBrowser(t *testing.T, chromium string, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	ctx, cancel := context.WithTimeout(browserCtx, timeout)
	t.Cleanup(cancel)
	return ctx
}

// browserSteps drives one browser through named steps. A step that fails
// stops the test with the page's address and text and the server's log,
// which is what tells a broken page from a slow one.
type browserSteps struct {
	t   *testing.T
	ctx context.Context
	s   *server
}

func (b browserSteps) fail(step string, err error) {
	b.t.Helper()
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
	b.t.Fatalf("%s: %v\nat %s\n%.1500s\nserver log:\n%.3000s", step, err, loc, body, b.s.stderr.String())
}

func (b browserSteps) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

// browserMember creates an active member with a confirmed address who
// signs in with password. The hash is cheap to make: these tests are
// about the pages, not the hashing.
func browserMember(t *testing.T, db *database.DB, name, email, password string) account.Account {
	t.Helper()
	hash, err := account.NewHasher(account.HashParams{Memory: 1024, Time: 1, Threads: 1}, nil).Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	a := account.Account{
		ID: account.NewID(), Email: email, EmailVerifiedAt: &now, PasswordHash: hash, PasswordChangedAt: now,
		Name: name, Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if err := store.CreateAccount(context.Background(), db, a); err != nil {
		t.Fatal(err)
	}
	return a
}

// freeAddr returns a loopback address with a free port, so the server's
// base URL (and the links in its mail) can name it before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var verifyLink = regexp.MustCompile(`https?://\S+/verify-email\?token=\S+`)

// TestBrowserSignUpToTwoStepSignIn walks a new member through the real
// binary in headless Chromium: sign up, confirm the address from the mail
// the test's SMTP server received, sign in, edit the profile, turn on
// two-step sign-in, sign out, sign in with password and code, sign out.
func TestBrowserSignUpToTwoStepSignIn(t *testing.T) {
	t.Parallel()
	chromium := requireChromium(t)
	smtp := mailtest.Start(t)
	addr := freeAddr(t)
	s := startBinary(t,
		"SESSIONS_ADDR="+addr,
		"SESSIONS_BASE_URL=http://"+addr,
		"SESSIONS_SMTP_ADDR="+smtp.Addr,
		"SESSIONS_SMTP_TLS=none",
	)

	ctx := newBrowser(t, chromium, 3*time.Minute)

	const (
		name     = "Ada Browser"
		email    = "ada.browser@example.com"
		password = "difference engine 1822"
	)
	steps := browserSteps{t: t, ctx: ctx, s: s}
	fail, do := steps.fail, steps.do
	read := func(step string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			fail(step, err)
		}
		return v
	}
	heading := func(text string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "` + text + `")]`))
	}
	submit := func(action string) chromedp.Action[chromedp.Void] {
		return chromedp.Click(chromedp.CSS(`form[action="` + action + `"] button[type="submit"]`))
	}
	signIn := chromedp.Steps(
		chromedp.Navigate(s.url+"/signin"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		submit("/signin"),
	)
	signOut := chromedp.Steps(
		submit("/signout"),
		chromedp.WaitVisible(chromedp.CSS(`.site-account a[href="/signin"]`)),
	)

	// 1. Sign up, from the call to action on the start page.
	do("sign up",
		chromedp.Navigate(s.url+"/"),
		chromedp.Click(chromedp.CSS(`a.btn-primary[href="/signup"]`)),
		heading("Create your Sessions account"),
		chromedp.SendKeys(chromedp.ID("name"), name),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		submit("/signup"),
		heading("Check your inbox"),
	)

	// 2. Confirm the address from the mail the SMTP server received.
	msg := smtp.Next(t)
	if len(msg.EnvelopeTo) != 1 || msg.EnvelopeTo[0] != email {
		t.Fatalf("the first mail went to %v, want %s", msg.EnvelopeTo, email)
	}
	link := verifyLink.FindString(msg.Text)
	if !strings.HasPrefix(link, s.url+"/verify-email?token=") {
		t.Fatalf("no verification link for %s in the mail:\n%s", s.url, msg.Text)
	}
	do("confirm the address",
		chromedp.Navigate(link),
		heading("Confirm your e-mail address"),
		submit("/verify-email"),
		heading("Your address is confirmed"),
	)

	// 3. Sign in; the header names the member.
	do("sign in", signIn, chromedp.WaitVisible(chromedp.CSS(".site-account-name")))
	if shown := read("read the name", chromedp.Text(chromedp.CSS(".site-account-name"))); shown != name {
		t.Fatalf("the header shows %q, want %q", shown, name)
	}

	// 4. Edit the profile.
	do("edit the profile",
		chromedp.Navigate(s.url+"/account/profile"),
		chromedp.WaitVisible(chromedp.ID("f-company")),
		chromedp.Clear(chromedp.ID("f-company")),
		chromedp.SendKeys(chromedp.ID("f-company"), "Analytical Engines Ltd"),
		submit("/account/profile"),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), "Your profile was saved.")]`)),
		chromedp.Navigate(s.url+"/account/profile"),
		chromedp.WaitVisible(chromedp.ID("f-company")),
	)
	if company := read("read the profile", chromedp.Value(chromedp.ID("f-company"))); company != "Analytical Engines Ltd" {
		t.Fatalf("the profile kept company %q", company)
	}

	// 5. Turn on two-step sign-in: the code comes from the secret the page
	// shows, computed here as an authenticator app would.
	do("start two-step set-up",
		chromedp.Navigate(s.url+"/account/security"),
		submit("/account/security/totp/setup"),
		chromedp.WaitVisible(chromedp.ID("totp-secret")),
	)
	secret := read("read the secret", chromedp.Text(chromedp.ID("totp-secret")))
	code, err := account.TOTPCode(secret, time.Now())
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	do("confirm two-step set-up",
		chromedp.SendKeys(chromedp.ID("totp-code"), code),
		submit("/account/security/totp/enable"),
		chromedp.WaitVisible(chromedp.CSS(`pre[aria-label="Recovery codes"]`)),
	)
	codes := read("read the recovery codes", chromedp.Text(chromedp.CSS(`pre[aria-label="Recovery codes"]`)))
	if n := len(strings.Fields(codes)); n != account.RecoveryCodeCount {
		t.Fatalf("%d recovery codes shown", n)
	}

	// 6. Sign out, then in with password and code. The code is the next
	// time step's (accepted one step ahead): the current one may be the
	// very code that confirmed the set-up, which never works twice.
	do("sign out", signOut)
	do("sign in, first step", signIn, heading("Enter your sign-in code"))
	next, err := account.TOTPCode(secret, time.Now().Add(account.TOTPPeriod*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	do("sign in, second step",
		chromedp.SendKeys(chromedp.ID("code"), next),
		submit("/signin/code"),
		chromedp.WaitVisible(chromedp.CSS(".site-account-name")),
	)
	// Signing in lands on the member's meetings.
	do("land on my meetings", heading("My meetings"))
	if loc := read("where the sign-in led", chromedp.Location()); loc != s.url+"/" {
		t.Fatalf("after two-step sign-in the browser is at %s, want the start page", loc)
	}

	// 7. Sign out.
	do("sign out again", signOut)
	do("signed out", chromedp.Navigate(s.url+"/account/security"), heading("Sign in to Sessions"))

	s.stop(t)
	raw := s.stderr.String()
	logs := strings.ToLower(raw)
	for _, marker := range []string{email, "ada browser", password, strings.ToLower(secret), "analytical engines"} {
		if strings.Contains(logs, marker) {
			t.Errorf("the server log contains %q", marker)
		}
	}
	if !strings.Contains(raw, strconv.Quote("POST /signin/code")) {
		t.Errorf("the server log does not show the sign-in steps")
	}
}
