package web_test

// The shared harness of the web package's scenario tests: a server built
// as the binary builds it, on a fresh database of the engine under test,
// with a fake clock and a real SMTP server for its mail, and helpers that
// make members, staff and the clients they use.
//
//	h := newHarness(t)
//	ada := h.newMember(t)                    // verified, active
//	res := h.signIn(t, ada).get(t, "/account") // a browser with her session cookie
//	api := h.apiClient(t, ada)               // Bearer with her personal API token
//	po := h.signIn(t, h.newStaff(t, staff.PrivacyOfficer))
//	msg := h.nextMail(t)                     // delivers the outbox, returns the next message

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/logging"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/video"
	"github.com/sessionshq/sessions/internal/web"
)

// harnessStart is when every harness's clock starts.
var harnessStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// harnessSecret is the server secret of every harness.
var harnessSecret = []byte("harness-secret-of-at-least-32-bytes-long")

// harnessPassword is the password of every member the harness makes.
const harnessPassword = "correct horse battery staple 42"

// harnessHasher hashes with tiny argon2id parameters: the scenarios test
// what happens around a password, not the cost of hashing one.
var harnessHasher = account.NewHasher(account.HashParams{Memory: 1024, Time: 1, Threads: 1}, nil)

// harness is a server on a fresh database, with what a test needs to
// drive it.
type harness struct {
	Srv    *web.Server
	DB     *database.DB
	Clock  *clock.Fake
	Config config.Config
	Secret []byte
	// SMTP receives what the mail service delivers; nextMail and
	// deliverMail move the outbox to it.
	SMTP *mailtest.Server
	Mail *mail.Service
	// Blobs is the file store uploads go to, in a temporary folder.
	Blobs *blob.Store
	// Logs holds every line the server logged, for tests that prove no
	// personal data reaches them.
	Logs *bytes.Buffer
	// Video is the server's SFU, nil unless harnessOptions.Video asked
	// for one; URL is the listener that serves the harness's server to
	// an embedded SFU's webhooks and to call clients, "" without one.
	Video *video.SFU
	URL   string
}

// newHarness builds the default harness: base URL http://sessions.test,
// the sub-processor registry seeded as start-up seeds it.
func newHarness(t testing.TB) *harness { return newHarnessOpts(t, harnessOptions{}) }

// newHarnessWith builds a harness with SESSIONS_* settings overridden by
// vars (an empty value unsets one).
func newHarnessWith(t testing.TB, vars map[string]string) *harness {
	t.Helper()
	return newHarnessOpts(t, harnessOptions{Vars: vars})
}

// harnessOptions change how a harness is built.
type harnessOptions struct {
	// Vars override SESSIONS_* settings; an empty value unsets one.
	Vars map[string]string
	// NoSMTP leaves the mail service without a server, as an instance
	// without SESSIONS_SMTP_ADDR runs: messages stay in the outbox.
	NoSMTP bool
	// Video gives the server an SFU (harnessVideo, calls_test.go); the
	// zero value runs none, as most tests need, and joining a call
	// answers 503.
	Video harnessVideo
}

func newHarnessOpts(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	vars := o.Vars
	db := dbtest.Open(t)
	env := map[string]string{
		"SESSIONS_BASE_URL": "http://sessions.test",
		"SESSIONS_DATA_DIR": t.TempDir(),
	}
	maps.Copy(env, vars)
	cfg, _, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("harness config: %v", err)
	}
	clk := clock.NewFake(harnessStart)
	if _, err := store.SeedSubprocessors(context.Background(), db, vendors.Seed(), clk.Now()); err != nil {
		t.Fatalf("harness seed: %v", err)
	}
	smtp := mailtest.Start(t)
	logs := &bytes.Buffer{}
	log := logging.New(&lockedWriter{w: logs}, "json", "debug")
	var sender mail.Sender
	if !o.NoSMTP {
		sender = mail.NewSMTP(mail.SMTPConfig{Addr: smtp.Addr, Security: "none", HelloName: "sessions.test"})
	}
	svc, err := mail.New(mail.Config{From: cfg.MailFrom, Outbox: store.NewOutbox(db), Sender: sender, Clock: clk, Log: log})
	if err != nil {
		t.Fatalf("harness mail: %v", err)
	}
	blobs, err := blob.New(context.Background(), blob.Config{Dir: t.TempDir(), Index: store.NewBlobIndex(db), Clock: clk, Log: log})
	if err != nil {
		t.Fatalf("harness blobs: %v", err)
	}
	t.Cleanup(func() { blobs.Close() })
	var srv *web.Server
	sfu, front := o.Video.start(t, clk, log, func() http.Handler { return srv })
	services, err := wire.New(wire.Parts{
		Config: cfg, DB: db, Clock: clk, Log: log, Secret: harnessSecret, Mail: svc, Passwords: harnessHasher, Blobs: blobs, Video: sfu,
	})
	if err != nil {
		t.Fatalf("harness services: %v", err)
	}
	srv, err = web.New(web.Deps{
		Config: cfg, Clock: clk, Log: log, Secret: harnessSecret, Video: sfu, Services: services,
	})
	if err != nil {
		t.Fatalf("harness web.New: %v", err)
	}
	return &harness{Srv: srv, DB: db, Clock: clk, Config: cfg, Secret: harnessSecret, SMTP: smtp, Mail: svc, Blobs: blobs, Logs: logs,
		Video: sfu, URL: front}
}

// lockedWriter lets the server's goroutines and the test share the log
// buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// ---- members and staff ----

// testMember is an account the harness made.
type testMember struct {
	ID       string
	Name     string
	Email    string
	Password string
	// TOTPSecret is the second-factor secret once the harness turned
	// two-step sign-in on, "" before.
	TOTPSecret string
}

var harnessSeq atomic.Int64

// newMember makes a verified, active member with a unique name and
// address and harnessPassword.
func (h *harness) newMember(t testing.TB) *testMember {
	t.Helper()
	return h.makeMember(t, true)
}

// newUnverifiedMember makes an active member who has not confirmed their
// address yet.
func (h *harness) newUnverifiedMember(t testing.TB) *testMember {
	t.Helper()
	return h.makeMember(t, false)
}

func (h *harness) makeMember(t testing.TB, verified bool) *testMember {
	t.Helper()
	n := harnessSeq.Add(1)
	m := &testMember{
		ID:       account.NewID(),
		Name:     fmt.Sprintf("Member %d", n),
		Email:    fmt.Sprintf("member%d@example.com", n),
		Password: harnessPassword,
	}
	hash, err := harnessHasher.Hash(m.Password)
	if err != nil {
		t.Fatal(err)
	}
	now := h.Clock.Now()
	a := account.Account{
		ID: m.ID, Email: m.Email, PasswordHash: hash, PasswordChangedAt: now, Name: m.Name,
		Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if verified {
		a.EmailVerifiedAt = &now
	}
	if err := store.CreateAccount(context.Background(), h.DB, a); err != nil {
		t.Fatalf("harness: create account: %v", err)
	}
	return m
}

// newStaff makes a verified member who holds roles.
func (h *harness) newStaff(t testing.TB, roles ...staff.Role) *testMember {
	t.Helper()
	m := h.newMember(t)
	h.grant(t, m, roles...)
	return m
}

// newStaffUnaudited makes a staff member whose roles are written straight
// into the table, without audit entries, for tests that count the audit
// log's entries. Like grant, it turns two-step sign-in on.
func (h *harness) newStaffUnaudited(t testing.TB, roles ...staff.Role) *testMember {
	t.Helper()
	m := h.newMember(t)
	h.turnOnTOTP(t, m)
	for _, r := range roles {
		if _, err := h.DB.Exec(context.Background(), `INSERT INTO staff_roles (account_id, role, granted_at) VALUES (?, ?, ?)`,
			m.ID, string(r), h.Clock.Now()); err != nil {
			t.Fatalf("harness: insert role %s: %v", r, err)
		}
	}
	return m
}

// grant gives m the staff roles, as the command line would, and turns
// two-step sign-in on, without which the roles would grant nothing
// (grantDormant leaves it off).
func (h *harness) grant(t testing.TB, m *testMember, roles ...staff.Role) {
	t.Helper()
	if len(roles) > 0 {
		h.turnOnTOTP(t, m)
	}
	h.grantDormant(t, m, roles...)
}

// turnOnTOTP turns two-step sign-in on for m, as confirming a code from an
// app would, and keeps the secret in m.TOTPSecret. It does nothing when
// it is on already.
func (h *harness) turnOnTOTP(t testing.TB, m *testMember) {
	t.Helper()
	if m.TOTPSecret != "" {
		return
	}
	setup, err := account.NewTOTPSetup(m.Email)
	if err != nil {
		t.Fatal(err)
	}
	box, err := account.NewSecretBox(h.Secret)
	if err != nil {
		t.Fatal(err)
	}
	ctx, now := context.Background(), h.Clock.Now()
	if err := store.SetTOTPPending(ctx, h.DB, m.ID, box.Seal(m.ID, setup.Secret), now); err != nil {
		t.Fatalf("harness: TOTP secret: %v", err)
	}
	if ok, err := store.EnableTOTP(ctx, h.DB, m.ID, 0, now); err != nil || !ok {
		t.Fatalf("harness: turn TOTP on: %v, %v", ok, err)
	}
	m.TOTPSecret = setup.Secret
}

// totpCode is a code from m's app at the harness's time.
func (h *harness) totpCode(t testing.TB, m *testMember) string {
	t.Helper()
	code, err := account.TOTPCode(m.TOTPSecret, h.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// grantDormant gives m the staff roles without touching two-step
// sign-in: without it the roles wait and grant nothing.
func (h *harness) grantDormant(t testing.TB, m *testMember, roles ...staff.Role) {
	t.Helper()
	for _, r := range roles {
		if _, err := store.GrantStaffRole(context.Background(), h.DB, h.Secret, audit.Party{Kind: "operator"}, m.ID, r, h.Clock.Now()); err != nil {
			t.Fatalf("harness: grant %s: %v", r, err)
		}
	}
}

// ---- clients ----

// client sends requests to the harness's server as one browser or API
// caller: it keeps the cookies the server sets and, when it has one,
// sends a Bearer token on /api/ routes.
type client struct {
	h       *harness
	cookies map[string]*http.Cookie
	bearer  string
	// ip is the address requests come from; empty keeps httptest's
	// 192.0.2.1. Per-IP limits count by it.
	ip string
}

// anon is a client with no credentials.
func (h *harness) anon() *client { return &client{h: h, cookies: map[string]*http.Cookie{}} }

// signIn returns a browser signed in as m: a session is opened for m
// directly in the store and its cookie set, as a completed sign-in would.
func (h *harness) signIn(t testing.TB, m *testMember) *client {
	t.Helper()
	now := h.Clock.Now()
	token := account.NewSessionToken()
	sess := account.Session{
		ID: account.NewSessionID(), AccountID: m.ID, Client: "Harness", CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(account.SessionAbsolute),
	}
	if err := store.CreateSession(context.Background(), h.DB, sess, account.TokenDigest(token)); err != nil {
		t.Fatalf("harness: create session: %v", err)
	}
	c := h.anon()
	name := "sessions"
	if h.Config.Secure() {
		name = "__Host-sessions"
	}
	c.cookies[name] = &http.Cookie{Name: name, Value: token}
	return c
}

// apiToken creates a personal API token for m that carries every scope
// and lives the longest a token may, and returns its secret.
func (h *harness) apiToken(t testing.TB, m *testMember) string {
	t.Helper()
	return h.scopedToken(t, m, account.Scopes...)
}

// scopedToken creates a personal API token for m that carries only scopes
// and returns its secret.
func (h *harness) scopedToken(t testing.TB, m *testMember, scopes ...account.Scope) string {
	t.Helper()
	secret := account.NewAPIToken()
	now := h.Clock.Now()
	tok := account.APIToken{ID: account.NewTokenID(), AccountID: m.ID, Name: "harness", Scopes: scopes,
		CreatedAt: now, ExpiresAt: now.Add(account.TokenMaxDays * 24 * time.Hour)}
	if err := store.CreateAPIToken(context.Background(), h.DB, tok, account.TokenDigest(secret)); err != nil {
		t.Fatalf("harness: create API token: %v", err)
	}
	return secret
}

// apiClient returns a client that sends m's personal API token.
func (h *harness) apiClient(t testing.TB, m *testMember) *client {
	t.Helper()
	c := h.anon()
	c.bearer = h.apiToken(t, m)
	return c
}

// response is a finished response with its body read.
type response struct {
	*http.Response
	Body []byte
}

// text is the body as a string.
func (r *response) text() string { return string(r.Body) }

// decode reads the JSON body into v, failing the test when it is not JSON.
func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%s %s: body is not JSON (%v): %s", r.Request.Method, r.Request.URL, err, r.Body)
	}
}

// problemFields returns the field messages of a problem+json body.
func (r *response) problemFields(t testing.TB) map[string]string {
	t.Helper()
	var p struct {
		Errors map[string]string `json:"errors"`
	}
	r.decode(t, &p)
	return p.Errors
}

// do sends a request. A browser request that changes state carries
// Sec-Fetch-Site: same-origin, as a real browser's form post does.
func (c *client) do(t testing.TB, method, path string, body io.Reader, header http.Header) *response {
	t.Helper()
	r := httptest.NewRequest(method, path, body)
	if c.ip != "" {
		r.RemoteAddr = net.JoinHostPort(c.ip, "40000")
	}
	for k, v := range header {
		r.Header[k] = v
	}
	isAPI := strings.HasPrefix(path, "/api/")
	if c.bearer != "" && isAPI && r.Header.Get("Authorization") == "" {
		r.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if !isAPI && method != http.MethodGet && method != http.MethodHead && r.Header.Get("Sec-Fetch-Site") == "" {
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for _, ck := range c.cookies {
		r.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	rec := httptest.NewRecorder()
	c.h.Srv.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	b, _ := io.ReadAll(res.Body)
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
			continue
		}
		c.cookies[ck.Name] = ck
	}
	return &response{Response: res, Body: b}
}

// get sends a GET.
func (c *client) get(t testing.TB, path string) *response {
	t.Helper()
	return c.do(t, http.MethodGet, path, nil, nil)
}

// postForm sends a browser form.
func (c *client) postForm(t testing.TB, path string, form url.Values) *response {
	t.Helper()
	return c.do(t, http.MethodPost, path, strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

// sendJSON sends v as a JSON body with method; a nil v sends no body.
func (c *client) sendJSON(t testing.TB, method, path string, v any) *response {
	t.Helper()
	var body io.Reader
	header := http.Header{}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
		header.Set("Content-Type", "application/json")
	}
	return c.do(t, method, path, body, header)
}

// ---- the database ----

// count answers a SELECT COUNT(*) query, for tests that check what the
// server stored.
func (h *harness) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := h.DB.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ---- mail ----

// deliverMail hands every pending message of the outbox to the SMTP
// server, as the delivery job would, and returns how many went.
func (h *harness) deliverMail(t testing.TB) int {
	t.Helper()
	recs, err := h.Mail.List(context.Background(), mail.Filter{Status: mail.Pending, Limit: mail.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rec := range recs {
		out, err := h.Mail.Deliver(context.Background(), rec.ID)
		if err != nil {
			t.Fatalf("harness: deliver %s: %v", rec.ID, err)
		}
		if out == mail.Delivered {
			n++
		}
	}
	return n
}

// nextMail delivers the outbox and returns the next message the SMTP
// server received.
func (h *harness) nextMail(t testing.TB) *mailtest.Message {
	t.Helper()
	h.deliverMail(t)
	return h.SMTP.Next(t)
}
