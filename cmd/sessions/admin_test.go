package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
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
	"github.com/sessionshq/sessions/internal/service/accounts"
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
	return adminTestAppAt(t, vars, clock.System{})
}

// adminTestAppAt is adminTestApp with a clock of the test's.
func adminTestAppAt(t *testing.T, vars map[string]string, clk clock.Clock) *app.App {
	t.Helper()
	cfg, _, err := config.Load(nil, func(k string) string { return vars[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, clk, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

var adminTestLink = regexp.MustCompile(`https://meet\.example\.com/reset-password\?token=(\S+)`)

func TestAdminCreate(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// readSetupLink reads the setup link file of a data folder, which only the
// server's user may read, and returns the token of its link.
func readSetupLink(t *testing.T, a *app.App, dataDir string) string {
	t.Helper()
	path := filepath.Join(dataDir, setupLinkFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no setup link file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("the setup link file has mode %v, want 0600", fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := adminTestSetupLink.FindStringSubmatch(string(b))
	if m == nil || !strings.HasPrefix(string(b), a.Config.BaseURL+"/setup?token=") {
		t.Fatalf("no setup link in the file:\n%s", b)
	}
	token, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if subject, err := signed.Check(a.Secret, staff.SetupPurpose, token, a.Clock.Now()); err != nil || subject != staff.SetupSubject {
		t.Fatalf("the token in the file does not check: %v", err)
	}
	return token
}

// TestAnnounceSetup: while no administrator exists, every start names the
// file that holds the link, never the link itself (the output is not a
// terminal), and hands out the same link without voiding it; once an
// administrator exists the file is gone and nothing is printed.
func TestAnnounceSetup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vars := adminTestEnv(t)
	clk := clock.NewFake(time.Now())
	a := adminTestAppAt(t, vars, clk)
	path := filepath.Join(a.Config.DataDir, setupLinkFile)
	var first, second bytes.Buffer
	if err := announceSetup(ctx, a, &first); err != nil {
		t.Fatal(err)
	}
	token := readSetupLink(t, a, a.Config.DataDir)
	clk.Advance(time.Hour) // the next start comes later
	if err := announceSetup(ctx, a, &second); err != nil {
		t.Fatal(err)
	}
	if again := readSetupLink(t, a, a.Config.DataDir); again != token {
		t.Fatal("a second start wrote another link")
	}
	for _, out := range []string{first.String(), second.String()} {
		if !strings.Contains(out, path) || strings.Contains(out, "setup?token") || strings.Contains(out, token) {
			t.Fatalf("the output names no file or shows the link:\n%s", out)
		}
	}
	if ok, _ := store.SetupTokenUsable(ctx, a.DB, signed.Digest(token), a.Clock.Now()); !ok {
		t.Fatal("the link does not work after a second start")
	}

	if code, _, errOut := adminTestRun(t, vars, "admin", "create", "--email", "root@example.com", "--name", "Root"); code != 0 {
		t.Fatalf("admin create: %s", errOut)
	}
	var third bytes.Buffer
	if err := announceSetup(ctx, a, &third); err != nil {
		t.Fatal(err)
	}
	if third.Len() != 0 {
		t.Fatalf("something was printed although an administrator exists:\n%s", third.String())
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the setup link file is still there once an administrator exists (%v)", err)
	}
	if ok, _ := store.SetupTokenUsable(ctx, a.DB, signed.Digest(token), a.Clock.Now()); ok {
		t.Fatal("the link still works once an administrator exists")
	}
}

// TestSetupLinkIsOnePerDatabase: two instances on one database, whose
// clocks are a minute apart, get the same link when they start at the same
// moment, write it when they start one after the other, and that link,
// read from one instance's file, creates the administrator through the
// other instance.
// On PostgreSQL each instance has a data folder of its own, as it would on
// its own machine.
func TestSetupLinkIsOnePerDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vars := adminTestEnv(t)
	vars2 := maps.Clone(vars)
	if vars["SESSIONS_DATABASE_URL"] != "" {
		vars2["SESSIONS_DATA_DIR"] = t.TempDir()
	}
	clk1, clk2 := clock.NewFake(time.Now()), clock.NewFake(time.Now().Add(time.Minute))
	a1, a2 := adminTestAppAt(t, vars, clk1), adminTestAppAt(t, vars2, clk2)
	// Started together: both get one link.
	var wg sync.WaitGroup
	var l1, l2 accounts.SetupLink
	var err1, err2 error
	wg.Go(func() { l1, err1 = a1.Services.Accounts.AnnounceSetup(ctx) })
	wg.Go(func() { l2, err2 = a2.Services.Accounts.AnnounceSetup(ctx) })
	wg.Wait()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if l1.URL == "" || l1.URL != l2.URL {
		t.Fatal("two instances started together got two links")
	}
	// Started one after the other, each writes that link to its file.
	if err := announceSetup(ctx, a2, io.Discard); err != nil {
		t.Fatal(err)
	}
	t2 := readSetupLink(t, a2, a2.Config.DataDir)
	clk1.Advance(time.Hour)
	if err := announceSetup(ctx, a1, io.Discard); err != nil {
		t.Fatal(err)
	}
	if t1 := readSetupLink(t, a1, a1.Config.DataDir); t1 != t2 || !strings.HasSuffix(l1.URL, url.QueryEscape(t2)) {
		t.Fatal("an instance started later wrote another link")
	}
	for _, a := range []*app.App{a1, a2} {
		if err := a.Services.Accounts.CheckSetupLink(ctx, t2); err != nil {
			t.Fatalf("the link is refused: %v", err)
		}
	}
	res, err := a1.Services.Accounts.CreateAccount(ctx, accounts.NewAccount{Via: accounts.ViaSetupLink, SetupToken: t2,
		Name: "Grace Hopper", Email: "grace@example.com", Password: "a long and unusual passphrase"})
	if err != nil || !res.Granted {
		t.Fatalf("the link written by the second instance, used on the first: %+v %v", res, err)
	}
}

// TestServeWritesTheSetupLinkToAPrivateFile starts the server as the
// binary does, with its output going to a pipe as under a service manager:
// with no administrator it prints where the link is, never the link, in
// its output or its log; the file is readable by its owner only and the
// link in it opens the setup form.
func TestServeWritesTheSetupLinkToAPrivateFile(t *testing.T) {
	t.Parallel()
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
	path := filepath.Join(vars["SESSIONS_DATA_DIR"], setupLinkFile)
	var addr string
	var out strings.Builder
	timeout := time.After(60 * time.Second)
	for !strings.Contains(out.String(), "sessions admin create") {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the server stopped before announcing the setup link; stderr:\n%s", stderr.String())
			}
			out.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				addr = m[1]
			}
		case <-timeout:
			t.Fatalf("no setup announcement; stdout:\n%s\nstderr:\n%s", out.String(), stderr.String())
		}
	}
	if addr == "" || !strings.Contains(out.String(), path) {
		t.Fatalf("the output names no address or no file %s:\n%s", path, out.String())
	}
	if strings.Contains(out.String(), "setup?token") || strings.Contains(stderr.String(), "setup?token") {
		t.Fatalf("the setup link reached the output or the log:\n%s", out.String())
	}
	a := adminTestApp(t, vars)
	token := readSetupLink(t, a, vars["SESSIONS_DATA_DIR"])
	if strings.Contains(stderr.String(), token) {
		t.Fatal("the setup token reached the log")
	}
	resp, err := http.Get("http://" + addr + "/setup?token=" + url.QueryEscape(token))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Create the first administrator") {
		t.Fatalf("the link in the file: %d", resp.StatusCode)
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
