// Package videotest is what call tests share: a real livekit-server
// process for tests that need an external LiveKit (the video package's own
// tests and the end-to-end tests of the binary given SESSIONS_LIVEKIT_URL),
// and the people in a call, one speaking and one listening, that show
// media flows through whichever server is under test.
package videotest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// LiveKit is a running livekit-server and the credentials it accepts.
type LiveKit struct {
	URL       string // ws://127.0.0.1:port
	APIKey    string
	APISecret string
}

// StartLiveKit starts livekit-server on free loopback ports, sending its
// webhooks to webhookURL, and stops it when the test ends. The binary is
// SESSIONS_TEST_LIVEKIT_SERVER when set, otherwise the tool that go.mod
// names, so the process runs the same LiveKit version the product embeds.
//
// The configuration is written here rather than borrowed from package
// video, as an operator would write their own.
func StartLiveKit(t testing.TB, webhookURL string) LiveKit {
	t.Helper()
	bin := os.Getenv("SESSIONS_TEST_LIVEKIT_SERVER")
	if bin == "" {
		bin = serverTool(t)
	}
	lk := LiveKit{APIKey: "APItest", APISecret: "a-test-secret-of-at-least-32-characters"}
	port := FreePort(t, "tcp")
	conf, err := json.Marshal(map[string]any{ // JSON is YAML
		"port":           port,
		"bind_addresses": []string{"127.0.0.1"},
		"rtc": map[string]any{
			"udp_port":                  FreePort(t, "udp"),
			"tcp_port":                  0,
			"node_ip":                   "127.0.0.1",
			"use_external_ip":           false,
			"enable_loopback_candidate": true,
			"ips":                       map[string]any{"includes": []string{"127.0.0.1/32"}},
		},
		"turn":    map[string]any{"enabled": false},
		"keys":    map[string]string{lk.APIKey: lk.APISecret},
		"webhook": map[string]any{"api_key": lk.APIKey, "urls": []string{webhookURL}},
		"logging": map[string]any{"level": "warn"},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	confPath, logPath := filepath.Join(dir, "livekit.yaml"), filepath.Join(dir, "livekit.log")
	if err := os.WriteFile(confPath, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	cmd := exec.Command(bin, "--config", confPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	output := func() string {
		out, _ := os.ReadFile(logPath)
		if len(out) > 4000 {
			out = out[len(out)-4000:]
		}
		return string(out)
	}
	t.Cleanup(func() {
		// One interrupt drains, a second forces: an operator's two Ctrl-Cs.
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		if t.Failed() {
			t.Logf("livekit-server output:\n%s", output())
		}
	})

	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	deadline := time.Now().Add(time.Minute) // generous: a loaded CI machine
	for {
		select {
		case err := <-exited:
			t.Fatalf("livekit-server exited: %v\n%s", err, output())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("livekit-server did not accept connections\n%s", output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	lk.URL = "ws://" + addr
	return lk
}

// serverTool returns the livekit-server binary named by go.mod's tool
// directive. `go tool -n` builds it into the Go build cache and prints its
// path, so only the first run on a machine pays for the build.
func serverTool(t testing.TB) string {
	t.Helper()
	const pkg = "github.com/livekit/livekit-server/cmd/server"
	out, err := exec.Command("go", "tool", "-n", pkg).Output()
	if bin := strings.TrimSpace(string(out)); err == nil && bin != "" {
		if _, err := os.Stat(bin); err == nil {
			return bin
		}
	}
	bin := filepath.Join(t.TempDir(), "livekit-server")
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("building livekit-server: %v\n%s", err, out)
	}
	return bin
}

// FreePort returns a loopback port ("tcp" or "udp") that was free a moment
// ago. Another process can take it before it is used; callers that can,
// retry on "address already in use".
func FreePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
