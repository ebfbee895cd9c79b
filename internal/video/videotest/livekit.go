// Package videotest is what call tests share: a real livekit-server
// process for tests that need an external LiveKit (the video package's own
// tests and the end-to-end tests of the binary given SESSIONS_LIVEKIT_URL),
// or several nodes of one cluster through Redis, and the people in a call, one speaking and one listening, that show
// media flows through whichever server is under test.
package videotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/sessionshq/sessions/internal/platform/proctest"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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
	return startNodes(t, webhookURL, 1, nil)[0]
}

// StartLiveKitCluster starts n livekit-server nodes that share their
// rooms through Redis, as LiveKit is run behind several instances of the
// product: a client may connect to any node, and LiveKit relays its
// signalling to the one node that hosts the room. Every node takes the
// same key and sends its webhooks to webhookURL.
//
// Redis is SESSIONS_TEST_REDIS_ADDR, or 127.0.0.1:6379 where
// scripts/ensure-deps.sh starts it. The cluster keeps its state in a
// Redis database of its own, emptied before and after, so that clusters
// of tests running at the same time, or left behind by a killed run,
// never see each other's nodes or rooms.
func StartLiveKitCluster(t testing.TB, webhookURL string, n int) []LiveKit {
	t.Helper()
	addr, db := redisDatabase(t)
	return startNodes(t, webhookURL, n, map[string]any{"address": addr, "db": db})
}

// startNodes starts n nodes with one key, sharing redis when it is set.
func startNodes(t testing.TB, webhookURL string, n int, redis map[string]any) []LiveKit {
	t.Helper()
	bin := os.Getenv("SESSIONS_TEST_LIVEKIT_SERVER")
	if bin == "" {
		bin = serverTool(t)
	}
	nodes := make([]LiveKit, n)
	for i := range nodes {
		lk := LiveKit{APIKey: "APItest", APISecret: "a-test-secret-of-at-least-32-characters"}
		port := FreePort(t, "tcp")
		conf := map[string]any{
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
		}
		if redis != nil {
			conf["redis"] = redis
		}
		startNode(t, bin, fmt.Sprintf("livekit-%d", i+1), port, conf)
		lk.URL = "ws://" + net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
		nodes[i] = lk
	}
	return nodes
}

// startNode runs one livekit-server with conf until the test ends, and
// returns once it accepts connections on port.
func startNode(t testing.TB, bin, name string, port int, conf map[string]any) {
	t.Helper()
	raw, err := json.Marshal(conf) // JSON is YAML
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	confPath := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(confPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	proc := proctest.Start(t, name, exec.Command(bin, "--config", confPath))
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	proc.WaitReady(t, 50*time.Millisecond, func() error {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	})
}

// redisDatabase claims a Redis database for one cluster until the test
// ends: a key in database 0 marks it taken (and lapses on its own should
// the test be killed), and the database is emptied before and after use.
func redisDatabase(t testing.TB) (addr string, db int) {
	t.Helper()
	addr = os.Getenv("SESSIONS_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	claims := redis.NewClient(&redis.Options{Addr: addr})
	defer claims.Close()
	if err := claims.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis is not reachable at %s (scripts/ensure-deps.sh starts it; SESSIONS_TEST_REDIS_ADDR names another): %v", addr, err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	owner := hex.EncodeToString(b[:])
	// Database 0 holds the claims; Redis has 16 databases unless
	// configured otherwise.
	for db = 1; db < 16; db++ {
		key := fmt.Sprintf("sessions-videotest:db:%d", db)
		ok, err := claims.SetNX(ctx, key, owner, 30*time.Minute).Result()
		if err != nil {
			t.Fatalf("claiming a Redis database: %v", err)
		}
		if !ok {
			continue
		}
		flush := func() {
			c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Errorf("emptying Redis database %d: %v", db, err)
			}
		}
		flush()
		t.Cleanup(func() {
			flush()
			c := redis.NewClient(&redis.Options{Addr: addr})
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if v, err := c.Get(ctx, key).Result(); err == nil && v == owner {
				_ = c.Del(ctx, key).Err()
			}
		})
		return addr, db
	}
	t.Fatalf("every Redis database at %s is claimed by another LiveKit cluster", addr)
	return "", 0
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
