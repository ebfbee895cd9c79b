package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
)

// binary builds the real sessions binary once per test run, as a new user
// would with go build.
func binary(t *testing.T) string {
	t.Helper()
	return defaultBuild.path(t)
}

// binaryWithoutSFU builds the binary with -tags nosfu, without LiveKit's
// server inside, as an operator of an external LiveKit cluster may.
func binaryWithoutSFU(t *testing.T) string {
	t.Helper()
	return noSFUBuild.path(t)
}

var (
	defaultBuild = &build{}
	noSFUBuild   = &build{tags: "nosfu"}
)

// build is one way of building the binary, done once per test run.
type build struct {
	tags string
	once sync.Once
	bin  string
	err  error
	out  []byte
}

func (b *build) path(t *testing.T) string {
	t.Helper()
	b.once.Do(func() {
		// The test command runs this test binary once per database engine
		// (scripts/each-engine); the folder is named after the test
		// binary, so the second run finds the binary the first one built.
		sum := sha256.Sum256([]byte(os.Args[0] + "\x00" + b.tags))
		dir := filepath.Join(os.TempDir(), "sessions-bin-"+hex.EncodeToString(sum[:8]))
		b.bin = filepath.Join(dir, "sessions")
		if _, err := os.Stat(b.bin); err == nil {
			return
		}
		if b.err = os.MkdirAll(dir, 0o755); b.err != nil {
			return
		}
		partial := b.bin + ".partial"
		args := []string{"build", "-o", partial}
		if b.tags != "" {
			args = append(args, "-tags", b.tags)
		}
		b.out, b.err = exec.Command("go", append(args, ".")...).CombinedOutput()
		if b.err == nil {
			b.err = os.Rename(partial, b.bin)
		}
	})
	if b.err != nil {
		t.Fatalf("go build %s: %v\n%s", b.tags, b.err, b.out)
	}
	return b.bin
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is the real binary running on a free loopback port.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
	done   chan error
}

func startBinary(t *testing.T, extraEnv ...string) *server {
	t.Helper()
	return startBinaryFrom(t, binary(t), extraEnv...)
}

// startBinaryFrom is startBinary for a binary of another build.
func startBinaryFrom(t *testing.T, bin string, extraEnv ...string) *server {
	t.Helper()
	target := dbtest.NewTarget(t)
	cmd := exec.Command(bin)
	// Free ports for the embedded SFU too, so that binaries started by
	// tests running at the same time never collide. No load balancer
	// waits on these servers, so they stop without draining unless a
	// test asks for it.
	cmd.Env = append(os.Environ(), "SESSIONS_ADDR=127.0.0.1:0", "SESSIONS_LOG_FORMAT=json",
		"SESSIONS_VIDEO_PORT=0", "SESSIONS_VIDEO_UDP_PORT=0", "SESSIONS_DRAIN_TIMEOUT=0s")
	cmd.Env = append(cmd.Env, target.Env()...)
	cmd.Env = append(cmd.Env, extraEnv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	// The first line on stdout says where the server listens.
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		s.done <- cmd.Wait()
	}()
	select {
	case line, ok := <-lines:
		m := regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
		if !ok || m == nil {
			t.Fatalf("unexpected first line %q; stderr:\n%s", line, s.stderr.String())
		}
		s.url = "http://" + m[1]
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not start; stderr:\n%s", s.stderr.String())
	}
	return s
}

func (s *server) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// stop sends SIGTERM and requires a clean exit within five seconds.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, s.stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the server did not stop within 5 s of SIGTERM")
	}
}

func TestBinaryStartsServesAndStops(t *testing.T) {
	t.Parallel()
	s := startBinary(t)
	resp, body := s.get(t, "/healthz")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"ok"`) {
		t.Fatalf("/healthz: %d %s", resp.StatusCode, body)
	}
	resp, body = s.get(t, "/readyz")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %d %s", resp.StatusCode, body)
	}
	resp, body = s.get(t, "/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "Sessions") {
		t.Fatalf("/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatal("/ has no Content-Security-Policy")
	}
	s.stop(t)
}

func TestBinaryRejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary(t))
	cmd.Env = append(os.Environ(), "SESSIONS_ADDR=not-an-address", "SESSIONS_DATA_DIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit: %v, want status 2", err)
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "SESSIONS_ADDR") {
		t.Fatalf("want one line naming SESSIONS_ADDR, got %q", msg)
	}
}

func TestRunRejectsBadConfigurationAndUnknownCommands(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		if k == "SESSIONS_LOG_LEVEL" {
			return "chatty"
		}
		return ""
	}
	if code := run(context.Background(), []string{"migrate"}, getenv, &stdout, &stderr); code != 2 {
		t.Fatalf("bad log level: exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "SESSIONS_LOG_LEVEL") {
		t.Fatalf("stderr %q does not name the setting", stderr.String())
	}
	// Retention overrides are checked against the data map at start.
	for _, bad := range []string{
		"no-such-rule=P1Y", "analytics-25m=P2W", "analytics-25m=P0D", "with-account=P1Y",
		"account-deactivated=P60D", "analytics-25m=P1Y,analytics-25m=P2Y",
	} {
		stderr.Reset()
		getenv := func(k string) string {
			if k == "SESSIONS_RETENTION" {
				return bad
			}
			return ""
		}
		if code := run(context.Background(), []string{"migrate"}, getenv, &stdout, &stderr); code != 2 {
			t.Fatalf("SESSIONS_RETENTION=%s: exit %d, want 2", bad, code)
		}
		if !strings.Contains(stderr.String(), "SESSIONS_RETENTION") {
			t.Fatalf("SESSIONS_RETENTION=%s: stderr %q does not name the setting", bad, stderr.String())
		}
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, &stdout, &stderr); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
}

// TestLogsCarryNoPersonalData drives requests that carry an e-mail
// address, a name and an IP address in every place a request can carry
// them, and then reads everything the process wrote.
func TestLogsCarryNoPersonalData(t *testing.T) {
	t.Parallel()
	s := startBinary(t, "SESSIONS_LOG_LEVEL=debug")
	const (
		email = "zelda.logmarker@example.org"
		name  = "Zelda Logmarker"
		ip    = "203.0.113.219"
	)
	body := `{"name":"` + name + `","email":"` + email + `","password":"correct horse battery"}`
	requests := []*http.Request{}
	for _, path := range []string{"/api/signup", "/signup", "/api/admin/subprocessors/livekit"} {
		for _, method := range []string{http.MethodPost, http.MethodPut} {
			req, _ := http.NewRequest(method, s.url+path+"?email="+email, strings.NewReader(body))
			requests = append(requests, req)
		}
	}
	broken, _ := http.NewRequest(http.MethodPost, s.url+"/api/signup/"+email, strings.NewReader(`{"name":"`+name))
	requests = append(requests, broken)
	home, _ := http.NewRequest(http.MethodGet, s.url+"/?name="+name, nil)
	requests = append(requests, home)
	for _, req := range requests {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", ip)
		req.Header.Set("X-Real-Ip", ip)
		req.Header.Set("User-Agent", "Mozilla/5.0 ("+name+")")
		req.Header.Set("Referer", "https://example.org/?email="+email)
		req.SetBasicAuth(email, "wrong password for "+name)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	s.stop(t)
	logs := s.stderr.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("no request log lines were written:\n%s", logs)
	}
	for _, marker := range []string{email, "logmarker", name, "Zelda", ip, "203.0.113"} {
		if strings.Contains(strings.ToLower(logs), strings.ToLower(marker)) {
			t.Errorf("the log contains %q:\n%s", marker, logs)
		}
	}
}

// callSlot lets one test with real media (a LiveKit server, WebRTC
// participants or a browser in a call) run at a time. The package's other
// tests run beside it: on two cores, two calls at once starve each
// other's media of CPU, and their connection timeouts fail instead of the
// product.
var callSlot = make(chan struct{}, 1)

// oneCallAtATime waits for the call slot and holds it until the test ends.
func oneCallAtATime(t *testing.T) {
	t.Helper()
	callSlot <- struct{}{}
	t.Cleanup(func() { <-callSlot })
}
