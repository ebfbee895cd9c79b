package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/app"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

const adminTestSecret = "admin-test-secret-key-of-32-bytes-or-more"

// adminTestEnv is the settings of a fresh database with a known secret.
func adminTestEnv(t *testing.T) map[string]string {
	t.Helper()
	vars := map[string]string{"SESSIONS_SECRET_KEY": adminTestSecret, "SESSIONS_BASE_URL": "https://meet.example.com", "SESSIONS_LOG_FORMAT": "json"}
	for _, kv := range dbtest.NewTarget(t).Env() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	return vars
}

func adminTestRun(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return vars[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// adminTestApp opens the database the commands used.
func adminTestApp(t *testing.T, vars map[string]string) *app.App {
	t.Helper()
	cfg, _, err := config.Load(nil, func(k string) string { return vars[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, clock.System{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

var adminTestLink = regexp.MustCompile(`https://meet\.example\.com/reset-password\?token=(\S+)`)

func TestAdminCreate(t *testing.T) {
	ctx := context.Background()
	vars := adminTestEnv(t)

	code, out, errOut := adminTestRun(t, vars, "admin", "create", "--email", " Ada@Example.com ", "--name", "Ada Lovelace")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m := adminTestLink.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no password link printed:\n%s", out)
	}
	a := adminTestApp(t, vars)
	acc, err := store.AccountByEmail(ctx, a.DB, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if acc.Name != "Ada Lovelace" || !acc.Verified() || acc.Status != account.Active {
		t.Fatalf("account = %+v", acc)
	}
	if roles, _ := store.StaffRoles(ctx, a.DB, acc.ID); len(roles) != 1 || roles[0] != "admin" {
		t.Fatalf("roles = %v", roles)
	}
	if strings.Contains(out, acc.PasswordHash) || strings.Contains(strings.ToLower(out), "password:") {
		t.Fatal("a password or its hash was printed")
	}
	// The link is a live, single-use password link for this account.
	token, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if id, err := signed.Check([]byte(adminTestSecret), account.PurposeReset, token, now); err != nil || id != acc.ID {
		t.Fatalf("the link's token does not check: %q, %v", id, err)
	}
	if live, err := store.EmailTokenLive(ctx, a.DB, signed.Digest(token), account.PurposeReset, acc.ID, now); err != nil || !live {
		t.Fatalf("the link is not live: %v, %v", live, err)
	}
	if _, err := signed.Check([]byte(adminTestSecret), account.PurposeReset, token, now.Add(passwordLinkTTL+time.Minute)); err == nil {
		t.Fatal("the link outlives its 24 hours")
	}

	// Again: nothing changes and nothing new is printed.
	code, out, _ = adminTestRun(t, vars, "admin", "create", "--email", "ada@example.com")
	if code != 0 || !strings.Contains(out, "already") || adminTestLink.MatchString(out) {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}

	// An account that exists is promoted, with no link.
	now = time.Now().UTC()
	bob := account.Account{ID: account.NewID(), Email: "bob@example.com", PasswordHash: "x", PasswordChangedAt: now, Name: "Bob",
		Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now}
	if err := store.CreateAccount(ctx, a.DB, bob); err != nil {
		t.Fatal(err)
	}
	code, out, _ = adminTestRun(t, vars, "admin", "create", "--email", "bob@example.com")
	if code != 0 || !strings.Contains(out, "is now an administrator") || adminTestLink.MatchString(out) {
		t.Fatalf("promotion: exit %d\n%s", code, out)
	}
	if roles, _ := store.StaffRoles(ctx, a.DB, bob.ID); len(roles) != 1 || roles[0] != "admin" {
		t.Fatalf("bob's roles = %v", roles)
	}

	// Every grant is in the audit log under the operator.
	recs, err := store.RecentAudit(ctx, a.DB, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	grants := 0
	for _, r := range recs {
		if r.Action == "staff.grant" && r.ActorKind == "operator" {
			grants++
		}
	}
	if grants != 2 {
		t.Fatalf("%d audited grants, want 2", grants)
	}
}

func TestAdminCreateRefusesBadInput(t *testing.T) {
	vars := adminTestEnv(t)
	for _, args := range [][]string{
		{"admin", "create"},
		{"admin", "create", "--email", "not-an-address", "--name", "X"},
		{"admin", "create", "--email", "new@example.com"},
		{"admin", "create", "--email", "new@example.com", "--name", "X", "extra"},
		{"admin", "create", "--email", "new@example.com", "--password", "secret123"},
	} {
		code, out, errOut := adminTestRun(t, vars, args...)
		if code != 2 || out != "" || errOut == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 with a message", args, code, out, errOut)
		}
	}
	a := adminTestApp(t, vars)
	if ok, err := store.AdminExists(context.Background(), a.DB); err != nil || ok {
		t.Fatalf("a refused command made an administrator (%v)", err)
	}
}

var adminTestSetupLink = regexp.MustCompile(`/setup\?token=(\S+)`)

func TestAnnounceSetup(t *testing.T) {
	ctx := context.Background()
	vars := adminTestEnv(t)
	a := adminTestApp(t, vars)
	digest := func(out string) string {
		t.Helper()
		m := adminTestSetupLink.FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "https://meet.example.com/setup?token=") {
			t.Fatalf("no setup link printed:\n%s", out)
		}
		token, err := url.QueryUnescape(m[1])
		if err != nil {
			t.Fatal(err)
		}
		if subject, err := signed.Check(a.Secret, staff.SetupPurpose, token, a.Clock.Now()); err != nil || subject != staff.SetupSubject {
			t.Fatalf("the printed token does not check: %v", err)
		}
		return signed.Digest(token)
	}
	var first, second bytes.Buffer
	if err := announceSetup(ctx, a, &first); err != nil {
		t.Fatal(err)
	}
	if err := announceSetup(ctx, a, &second); err != nil {
		t.Fatal(err)
	}
	d1, d2 := digest(first.String()), digest(second.String())
	now := a.Clock.Now()
	if ok, _ := store.SetupTokenUsable(ctx, a.DB, d1, now); ok {
		t.Error("the first link still works after a second was printed")
	}
	if ok, _ := store.SetupTokenUsable(ctx, a.DB, d2, now); !ok {
		t.Fatal("the latest link does not work")
	}

	if code, _, errOut := adminTestRun(t, vars, "admin", "create", "--email", "root@example.com", "--name", "Root"); code != 0 {
		t.Fatalf("admin create: %s", errOut)
	}
	var third bytes.Buffer
	if err := announceSetup(ctx, a, &third); err != nil {
		t.Fatal(err)
	}
	if third.Len() != 0 {
		t.Fatalf("a link was printed although an administrator exists:\n%s", third.String())
	}
	if ok, _ := store.SetupTokenUsable(ctx, a.DB, d2, now); ok {
		t.Fatal("the link still works once an administrator exists")
	}
}

// syncBuffer is written by the server's goroutine and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServePrintsTheSetupLink starts the server as the binary does: with
// no administrator it prints the link on stdout, never in the log, and
// the link opens the setup form.
func TestServePrintsTheSetupLink(t *testing.T) {
	vars := adminTestEnv(t)
	vars["SESSIONS_ADDR"] = "127.0.0.1:0"
	delete(vars, "SESSIONS_BASE_URL")
	outR, outW := io.Pipe()
	var stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, outW, &stderr)
		outW.Close()
	}()
	defer func() {
		cancel()
		<-done
	}()
	// Lines of stdout as they come; the reader keeps draining so that the
	// server never blocks on a write.
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	listening := regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)
	var addr, token string
	timeout := time.After(60 * time.Second)
	for token == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the server stopped without printing a setup link; stderr:\n%s", stderr.String())
			}
			if m := listening.FindStringSubmatch(line); m != nil {
				addr = m[1]
			}
			if m := adminTestSetupLink.FindStringSubmatch(line); m != nil {
				token = m[1]
			}
		case <-timeout:
			t.Fatalf("no setup link printed; stderr:\n%s", stderr.String())
		}
	}
	if addr == "" {
		t.Fatal("the setup link came before the address")
	}
	if strings.Contains(stderr.String(), token) || strings.Contains(stderr.String(), "setup?token") {
		t.Fatal("the setup link reached the log")
	}
	resp, err := http.Get("http://" + addr + "/setup?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Create the first administrator") {
		t.Fatalf("the printed link: %d", resp.StatusCode)
	}
}
