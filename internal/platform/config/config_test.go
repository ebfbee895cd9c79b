package config

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/tlstest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, rest, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "localhost:8080" || c.BaseURL != "http://localhost:8080" || filepath.Base(c.DataDir) != "data" || c.DatabaseURL != "" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.JobWorkers != 4 || c.MaxBodyBytes != 1<<20 || c.ShutdownTimeout != 4*time.Second || c.SMTPTLS != "starttls" ||
		c.ReactivationGrace != 30*24*time.Hour {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if len(rest) != 0 {
		t.Fatalf("rest = %v", rest)
	}
	if c.Secure() {
		t.Fatal("http base URL reported as secure")
	}
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	c, _, err := Load([]string{"-addr", "127.0.0.1:9000"}, env(map[string]string{
		"SESSIONS_ADDR":     "127.0.0.1:7000",
		"SESSIONS_BASE_URL": "https://meet.example.com/",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" {
		t.Fatalf("addr = %q", c.Addr)
	}
	if c.BaseURL != "https://meet.example.com" || !c.Secure() {
		t.Fatalf("base url = %q", c.BaseURL)
	}
}

func TestSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "db")
	if err := os.WriteFile(path, []byte("postgres://u:p@db.internal/sessions\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _, err := Load(nil, env(map[string]string{"SESSIONS_DATABASE_URL_FILE": path}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "postgres://u:p@db.internal/sessions" {
		t.Fatalf("database url = %q", c.DatabaseURL)
	}
	_, _, err = Load(nil, env(map[string]string{"SESSIONS_DATABASE_URL_FILE": filepath.Join(dir, "missing")}), io.Discard)
	assertSetting(t, err, "SESSIONS_DATABASE_URL_FILE")
}

func TestBadValuesNameTheSetting(t *testing.T) {
	cases := []struct {
		env     map[string]string
		args    []string
		setting string
	}{
		{env: map[string]string{"SESSIONS_ADDR": "nonsense"}, setting: "SESSIONS_ADDR"},
		{env: map[string]string{"SESSIONS_ADDR": "localhost:99999"}, setting: "SESSIONS_ADDR"},
		{env: map[string]string{"SESSIONS_BASE_URL": "ftp://x"}, setting: "SESSIONS_BASE_URL"},
		{env: map[string]string{"SESSIONS_DATABASE_URL": "mysql://x"}, setting: "SESSIONS_DATABASE_URL"},
		{env: map[string]string{"SESSIONS_BLOB_URL": "bucket"}, setting: "SESSIONS_BLOB_URL"},
		{env: map[string]string{"SESSIONS_SMTP_ADDR": "mail.example.com"}, setting: "SESSIONS_SMTP_ADDR"},
		{env: map[string]string{"SESSIONS_SMTP_TLS": "maybe"}, setting: "SESSIONS_SMTP_TLS"},
		{env: map[string]string{"SESSIONS_MAIL_FROM": "not an address"}, setting: "SESSIONS_MAIL_FROM"},
		{env: map[string]string{"SESSIONS_SECRET_KEY": "short"}, setting: "SESSIONS_SECRET_KEY"},
		{env: map[string]string{"SESSIONS_LOG_LEVEL": "loud"}, setting: "SESSIONS_LOG_LEVEL"},
		{env: map[string]string{"SESSIONS_LOG_FORMAT": "xml"}, setting: "SESSIONS_LOG_FORMAT"},
		{env: map[string]string{"SESSIONS_JOB_WORKERS": "0"}, setting: "SESSIONS_JOB_WORKERS"},
		{env: map[string]string{"SESSIONS_TRUSTED_PROXIES": "10.0.0.0/8, lb.internal"}, setting: "SESSIONS_TRUSTED_PROXIES"},
		{env: map[string]string{"SESSIONS_MAX_BODY_BYTES": "ten"}, setting: "SESSIONS_MAX_BODY_BYTES"},
		{env: map[string]string{"SESSIONS_SHUTDOWN_TIMEOUT": "-1s"}, setting: "SESSIONS_SHUTDOWN_TIMEOUT"},
		{env: map[string]string{"SESSIONS_REACTIVATION_GRACE_DAYS": "0"}, setting: "SESSIONS_REACTIVATION_GRACE_DAYS"},
		{env: map[string]string{"SESSIONS_INACTIVITY_WARNING_DAYS": "0"}, setting: "SESSIONS_INACTIVITY_WARNING_DAYS"},
		{args: []string{"-job-workers", "many"}, setting: "-job-workers"},
		{args: []string{"-no-such-flag"}, setting: "flags"},
	}
	for _, tc := range cases {
		_, _, err := Load(tc.args, env(tc.env), io.Discard)
		assertSetting(t, err, tc.setting)
	}
}

func assertSetting(t *testing.T, err error, setting string) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want a config error naming %s, got %v", setting, err)
	}
	if ce.Setting != setting || ce.Reason == "" {
		t.Fatalf("error names %q (%q), want %s", ce.Setting, ce.Reason, setting)
	}
	if !strings.Contains(err.Error(), setting) {
		t.Fatalf("message %q does not name %s", err.Error(), setting)
	}
}

func TestSplitArgsLeavesCommandFlagsAlone(t *testing.T) {
	settings, rest := SplitArgs([]string{"--json", "-addr", "127.0.0.1:1", "--data-dir=/tmp/x", "--status", "pending", "ID", "--", "-addr"})
	if strings.Join(settings, " ") != "-addr 127.0.0.1:1 --data-dir=/tmp/x" {
		t.Fatalf("settings = %q", settings)
	}
	if strings.Join(rest, " ") != "--json --status pending ID -addr" {
		t.Fatalf("rest = %q", rest)
	}
}

func TestTrustedProxies(t *testing.T) {
	c, _, err := Load(nil, env(map[string]string{"SESSIONS_TRUSTED_PROXIES": "10.1.2.3, 192.168.0.0/16 ,::1"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.1.2.3/32 192.168.0.0/16 ::1/128" {
		t.Fatalf("trusted proxies = %v", got)
	}
}

func TestVideoSettings(t *testing.T) {
	c, _, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.LiveKitURL != "" || len(c.VideoBind) != 1 || c.VideoBind[0].String() != "127.0.0.1" ||
		c.VideoNodeIP.String() != "127.0.0.1" || c.VideoPort != 7880 || c.VideoUDPPort != 7882 {
		t.Fatalf("video defaults: %+v", c)
	}

	c, _, err = Load(nil, env(map[string]string{
		"SESSIONS_VIDEO_BIND": "127.0.0.1, ::1", "SESSIONS_VIDEO_NODE_IP": "192.168.1.20",
		"SESSIONS_VIDEO_PORT": "0", "SESSIONS_VIDEO_UDP_PORT": "50000",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.VideoBind) != 2 || c.VideoBind[1].String() != "::1" || c.VideoNodeIP.String() != "192.168.1.20" ||
		c.VideoPort != 0 || c.VideoUDPPort != 50000 {
		t.Fatalf("video settings: %+v", c)
	}

	secretFile := filepath.Join(t.TempDir(), "lk")
	if err := os.WriteFile(secretFile, []byte("short-external-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _, err = Load(nil, env(map[string]string{
		"SESSIONS_LIVEKIT_URL": "wss://livekit.example.com", "SESSIONS_LIVEKIT_API_KEY": "APIkey",
		"SESSIONS_LIVEKIT_API_SECRET_FILE": secretFile,
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.LiveKitAPISecret != "short-external-secret" {
		t.Fatalf("secret = %q", c.LiveKitAPISecret)
	}

	for _, tc := range []struct {
		env     map[string]string
		setting string
	}{
		{map[string]string{"SESSIONS_LIVEKIT_URL": "livekit.example.com", "SESSIONS_LIVEKIT_API_KEY": "k", "SESSIONS_LIVEKIT_API_SECRET": "s"}, "SESSIONS_LIVEKIT_URL"},
		{map[string]string{"SESSIONS_LIVEKIT_URL": "wss://livekit.example.com", "SESSIONS_LIVEKIT_API_SECRET": "s"}, "SESSIONS_LIVEKIT_API_KEY"},
		{map[string]string{"SESSIONS_LIVEKIT_URL": "wss://livekit.example.com", "SESSIONS_LIVEKIT_API_KEY": "k"}, "SESSIONS_LIVEKIT_API_SECRET"},
		{map[string]string{"SESSIONS_LIVEKIT_API_KEY": "k"}, "SESSIONS_LIVEKIT_API_SECRET"},
		{map[string]string{"SESSIONS_LIVEKIT_API_KEY": "k", "SESSIONS_LIVEKIT_API_SECRET": "too-short"}, "SESSIONS_LIVEKIT_API_SECRET"},
		{map[string]string{"SESSIONS_VIDEO_BIND": "localhost"}, "SESSIONS_VIDEO_BIND"},
		{map[string]string{"SESSIONS_VIDEO_BIND": " , "}, "SESSIONS_VIDEO_BIND"},
		{map[string]string{"SESSIONS_VIDEO_NODE_IP": "0.0.0.0"}, "SESSIONS_VIDEO_NODE_IP"},
		{map[string]string{"SESSIONS_VIDEO_PORT": "70000"}, "SESSIONS_VIDEO_PORT"},
		{map[string]string{"SESSIONS_VIDEO_UDP_PORT": "-1"}, "SESSIONS_VIDEO_UDP_PORT"},
	} {
		_, _, err := Load(nil, env(tc.env), io.Discard)
		assertSetting(t, err, tc.setting)
	}
}

// The ways through firewalls are on by default (the SFU still leaves them
// off while media stays on loopback), TURN/TLS only with a certificate or
// a TLS proxy in front, and a half-done setup names what is missing.
func TestVideoFirewallSettings(t *testing.T) {
	c, _, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.VideoTCPPort != 7881 || c.VideoTURNUDPPort != 3478 || c.VideoTURNTLSPort != 5349 || c.VideoTURNTLS() {
		t.Fatalf("defaults: tcp %d, turn udp %d, tls %d (on %v)", c.VideoTCPPort, c.VideoTURNUDPPort, c.VideoTURNTLSPort, c.VideoTURNTLS())
	}

	dir := t.TempDir()
	cert, key := tlstest.WriteSelfSigned(t, dir, "turn.example.com")
	c, _, err = Load(nil, env(map[string]string{
		"SESSIONS_VIDEO_TCP_PORT": "0", "SESSIONS_VIDEO_TURN_UDP_PORT": "0", "SESSIONS_VIDEO_TURN_TLS_PORT": "443",
		"SESSIONS_VIDEO_TURN_DOMAIN": "turn.example.com", "SESSIONS_VIDEO_TURN_CERT_FILE": cert, "SESSIONS_VIDEO_TURN_KEY_FILE": key,
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.VideoTCPPort != 0 || c.VideoTURNUDPPort != 0 || c.VideoTURNTLSPort != 443 || !c.VideoTURNTLS() || c.VideoTURNDomain != "turn.example.com" {
		t.Fatalf("settings: %+v", c)
	}
	c, _, err = Load(nil, env(map[string]string{"SESSIONS_VIDEO_TURN_EXTERNAL_TLS": "true", "SESSIONS_VIDEO_TURN_DOMAIN": "turn.example.com"}), io.Discard)
	if err != nil || !c.VideoTURNTLS() || !c.VideoTURNExternalTLS {
		t.Fatalf("external TLS: %v, %+v", err, c)
	}

	for _, tc := range []struct {
		env     map[string]string
		setting string
	}{
		{map[string]string{"SESSIONS_VIDEO_TCP_PORT": "70000"}, "SESSIONS_VIDEO_TCP_PORT"},
		{map[string]string{"SESSIONS_VIDEO_TCP_PORT": "7880"}, "SESSIONS_VIDEO_TCP_PORT"},
		{map[string]string{"SESSIONS_VIDEO_TURN_UDP_PORT": "7882"}, "SESSIONS_VIDEO_TURN_UDP_PORT"},
		{map[string]string{"SESSIONS_VIDEO_TURN_EXTERNAL_TLS": "maybe"}, "SESSIONS_VIDEO_TURN_EXTERNAL_TLS"},
		{map[string]string{"SESSIONS_VIDEO_TURN_EXTERNAL_TLS": "true"}, "SESSIONS_VIDEO_TURN_DOMAIN"},
		{map[string]string{"SESSIONS_VIDEO_TURN_EXTERNAL_TLS": "true", "SESSIONS_VIDEO_TURN_DOMAIN": "turn"}, "SESSIONS_VIDEO_TURN_DOMAIN"},
		{map[string]string{"SESSIONS_VIDEO_TURN_EXTERNAL_TLS": "true", "SESSIONS_VIDEO_TURN_DOMAIN": "turn.example.com", "SESSIONS_VIDEO_TURN_TLS_PORT": "0"}, "SESSIONS_VIDEO_TURN_TLS_PORT"},
		{map[string]string{"SESSIONS_VIDEO_TURN_EXTERNAL_TLS": "true", "SESSIONS_VIDEO_TURN_DOMAIN": "turn.example.com", "SESSIONS_VIDEO_TURN_TLS_PORT": "7881"}, "SESSIONS_VIDEO_TURN_TLS_PORT"},
		{map[string]string{"SESSIONS_VIDEO_TURN_CERT_FILE": cert, "SESSIONS_VIDEO_TURN_DOMAIN": "turn.example.com"}, "SESSIONS_VIDEO_TURN_KEY_FILE"},
		{map[string]string{"SESSIONS_VIDEO_TURN_CERT_FILE": key, "SESSIONS_VIDEO_TURN_KEY_FILE": key, "SESSIONS_VIDEO_TURN_DOMAIN": "turn.example.com"}, "SESSIONS_VIDEO_TURN_CERT_FILE"},
		{map[string]string{"SESSIONS_VIDEO_TURN_CERT_FILE": cert, "SESSIONS_VIDEO_TURN_KEY_FILE": key, "SESSIONS_VIDEO_TURN_DOMAIN": "turn.example.com", "SESSIONS_VIDEO_TURN_EXTERNAL_TLS": "true"}, "SESSIONS_VIDEO_TURN_EXTERNAL_TLS"},
		{map[string]string{"SESSIONS_LIVEKIT_URL": "wss://livekit.example.com", "SESSIONS_LIVEKIT_API_KEY": "k", "SESSIONS_LIVEKIT_API_SECRET": "s",
			"SESSIONS_VIDEO_TURN_EXTERNAL_TLS": "true", "SESSIONS_VIDEO_TURN_DOMAIN": "turn.example.com"}, "SESSIONS_VIDEO_TURN_CERT_FILE"},
	} {
		_, _, err := Load(nil, env(tc.env), io.Discard)
		assertSetting(t, err, tc.setting)
	}
}

func TestRetentionPeriods(t *testing.T) {
	c, _, err := Load(nil, env(map[string]string{"SESSIONS_RETENTION": " analytics-25m=P13M , audit-5y=P6Y1M2D"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// The text is kept for the retention package, which parses it
	// (retention.ParseOverrides).
	if c.Retention != "analytics-25m=P13M , audit-5y=P6Y1M2D" {
		t.Errorf("retention %q", c.Retention)
	}
	if c.InactivityWarning != 30*24*time.Hour {
		t.Errorf("warning %s, want 30 days", c.InactivityWarning)
	}
}
