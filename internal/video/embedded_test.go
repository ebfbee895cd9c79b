//go:build !nosfu

package video

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livekit/livekit-server/pkg/config"
	lklogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/video/videotest"
)

// The configuration we hand LiveKit must pass its own strict parser and
// keep media on the addresses we chose.
func TestEmbeddedConfig(t *testing.T) {
	tests := []struct {
		name      string
		in        EmbeddedConfig
		bind      []string
		nodeIP    string
		mediaNets []string
		loopback  bool
		udpPort   int
		icePorts  [2]uint32
		publicURL string
	}{
		{
			name: "defaults serve this machine only",
			bind: []string{"127.0.0.1"}, nodeIP: "127.0.0.1", mediaNets: []string{"127.0.0.1/32"},
			loopback: true, udpPort: 7882, publicURL: "ws://127.0.0.1:7880",
		},
		{
			name: "LAN",
			in:   EmbeddedConfig{BindAddresses: []string{"192.168.1.10"}, NodeIP: "192.168.1.10", Port: 8443, UDPPort: 9000},
			bind: []string{"192.168.1.10"}, nodeIP: "192.168.1.10", mediaNets: []string{"192.168.1.10/32"},
			udpPort: 9000, publicURL: "ws://192.168.1.10:8443",
		},
		{
			name: "LAN media, signalling through our origin",
			in:   EmbeddedConfig{NodeIP: "192.168.1.10", PublicURL: "https://meet.example.org"},
			bind: []string{"127.0.0.1"}, nodeIP: "192.168.1.10", mediaNets: []string{"192.168.1.10/32"},
			udpPort: 7882, publicURL: "wss://meet.example.org",
		},
		{
			name: "every interface",
			in:   EmbeddedConfig{BindAddresses: []string{"0.0.0.0"}, NodeIP: "192.168.1.10"},
			bind: []string{"0.0.0.0"}, nodeIP: "192.168.1.10", mediaNets: []string{"192.168.1.10/32"},
			udpPort: 7882, publicURL: "ws://192.168.1.10:7880",
		},
		{
			name: "port range",
			in:   EmbeddedConfig{UDPPortRangeStart: 50000, UDPPortRangeEnd: 50100},
			bind: []string{"127.0.0.1"}, nodeIP: "127.0.0.1", mediaNets: []string{"127.0.0.1/32"},
			loopback: true, icePorts: [2]uint32{50000, 50100}, publicURL: "ws://127.0.0.1:7880",
		},
		{
			name: "IPv6 node",
			in:   EmbeddedConfig{BindAddresses: []string{"::1"}, NodeIP: "::1"},
			bind: []string{"::1"}, nodeIP: "::1", mediaNets: []string{"::1/128"},
			loopback: true, udpPort: 7882, publicURL: "ws://[::1]:7880",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, conf := parseLiveKitConfig(t, tt.in)
			rtc := conf.RTC
			if !slices.Equal(conf.BindAddresses, tt.bind) || rtc.NodeIP.PrimaryIP() != tt.nodeIP || rtc.UseExternalIP {
				t.Errorf("bind %v node %v external %v", conf.BindAddresses, rtc.NodeIP, rtc.UseExternalIP)
			}
			if !slices.Equal(rtc.IPs.Includes, tt.mediaNets) || rtc.EnableLoopbackCandidate != tt.loopback {
				t.Errorf("media on %v, loopback candidates %v", rtc.IPs.Includes, rtc.EnableLoopbackCandidate)
			}
			if rtc.UDPPort.Start != tt.udpPort || [2]uint32{rtc.ICEPortRangeStart, rtc.ICEPortRangeEnd} != tt.icePorts {
				t.Errorf("udp %v, range %d-%d", rtc.UDPPort, rtc.ICEPortRangeStart, rtc.ICEPortRangeEnd)
			}
			// ICE/TCP and TURN bind every interface; they stay off unless asked.
			if rtc.TCPPort != 0 || conf.TURN.Enabled {
				t.Errorf("tcp %d turn %v", rtc.TCPPort, conf.TURN.Enabled)
			}
			if len(rtc.STUNServers) != 0 {
				t.Errorf("STUN servers would be asked for our address: %v", rtc.STUNServers)
			}
			if cfg.PublicURL != tt.publicURL {
				t.Errorf("public URL %s", cfg.PublicURL)
			}
			if len(conf.Keys[cfg.APIKey]) < 32 {
				t.Errorf("generated secret too short")
			}
		})
	}
}

// ICE/TCP and TURN are rendered as asked when media leaves the machine,
// the TURN server bound and relaying to the node IP only, and left off on
// loopback, where they would only open ports.
func TestEmbeddedConfigTCPAndTURN(t *testing.T) {
	firewall := EmbeddedConfig{TCPPort: 7881, TURN: TURNConfig{UDPPort: 3478, TLSPort: 5349, Domain: "turn.example.org", ExternalTLS: true}}
	lan := firewall
	lan.NodeIP = "192.168.1.10"
	_, conf := parseLiveKitConfig(t, lan)
	turn := conf.TURN
	if conf.RTC.TCPPort != 7881 || !turn.Enabled || turn.UDPPort != 3478 || turn.TLSPort != 5349 ||
		turn.Domain != "turn.example.org" || !turn.ExternalTLS {
		t.Errorf("tcp %d, turn %+v", conf.RTC.TCPPort, turn)
	}
	if !slices.Equal(turn.BindAddresses, []string{"192.168.1.10"}) || !slices.Equal(turn.AllowRestrictedPeerCIDRs, []string{"192.168.1.10/32"}) {
		t.Errorf("TURN binds %v and relays to %v", turn.BindAddresses, turn.AllowRestrictedPeerCIDRs)
	}
	// The relay reaches the SFU and nothing else.
	for addr, want := range map[string]bool{"192.168.1.10": true, "192.168.1.11": false, "8.8.8.8": false, "10.0.0.1": false, "::1": false, "2001:db8::1": false} {
		denied := slices.ContainsFunc(turn.DenyPeerCIDRs, func(c string) bool {
			return netip.MustParsePrefix(c).Contains(netip.MustParseAddr(addr))
		})
		if denied == want {
			t.Errorf("relaying to %s: allowed %v, want %v", addr, !denied, want)
		}
	}

	_, conf = parseLiveKitConfig(t, firewall) // node IP 127.0.0.1
	if conf.RTC.TCPPort != 0 || conf.TURN.Enabled {
		t.Errorf("on loopback: tcp %d, turn %v", conf.RTC.TCPPort, conf.TURN.Enabled)
	}
}

// parseLiveKitConfig renders in as LiveKit's configuration and has
// LiveKit's own strict parser read it back.
func parseLiveKitConfig(t *testing.T, in EmbeddedConfig) (EmbeddedConfig, *config.Config) {
	t.Helper()
	cfg, err := in.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	body, err := cfg.livekitConfig()
	if err != nil {
		t.Fatal(err)
	}
	conf, err := config.NewConfig(string(body), true, nil, nil)
	if err != nil {
		t.Fatalf("LiveKit refuses %s: %v", body, err)
	}
	if err := conf.ValidateKeys(); err != nil {
		t.Fatal(err)
	}
	return cfg, conf
}

func TestEmbeddedConfigGeneratesFreshKeys(t *testing.T) {
	a, _ := EmbeddedConfig{}.withDefaults()
	b, _ := EmbeddedConfig{}.withDefaults()
	if a.APIKey == b.APIKey || a.APISecret == b.APISecret {
		t.Error("two starts share a key")
	}
	given, _ := EmbeddedConfig{APIKey: "APIk", APISecret: "s3cret-s3cret-s3cret-s3cret-s3cret"}.withDefaults()
	if given.APIKey != "APIk" {
		t.Error("configured key replaced")
	}
}

func TestEmbeddedConfigRefusesBadValues(t *testing.T) {
	for name, c := range map[string]EmbeddedConfig{
		"host name to bind":             {BindAddresses: []string{"localhost"}},
		"node IP not an IP":             {NodeIP: "lan"},
		"range without end":             {UDPPortRangeStart: 50000},
		"range end before start":        {UDPPortRangeStart: 50000, UDPPortRangeEnd: 40000},
		"TURN/TLS without domain":       {NodeIP: "192.168.1.10", TURN: TURNConfig{TLSPort: 5349, ExternalTLS: true}},
		"TURN/TLS with an IPv6 literal": {NodeIP: "192.168.1.10", TURN: TURNConfig{TLSPort: 5349, Domain: "::1", ExternalTLS: true}},
		"TURN/TLS without certificate":  {NodeIP: "192.168.1.10", TURN: TURNConfig{TLSPort: 5349, Domain: "turn.example.org"}},
		"TURN/TLS certificate missing":  {NodeIP: "192.168.1.10", TURN: TURNConfig{TLSPort: 5349, Domain: "turn.example.org", CertFile: "/nonexistent.pem", KeyFile: "/nonexistent.key"}},
		"relay range without end":       {NodeIP: "192.168.1.10", TURN: TURNConfig{UDPPort: 3478, RelayPortRangeStart: 20000}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.withDefaults(); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// By default nothing the SFU opens is reachable from another machine.
func TestEmbeddedBindsLoopbackOnly(t *testing.T) {
	if _, err := os.Stat("/proc/net/udp"); err != nil {
		t.Skip("reads the socket table from /proc/net")
	}
	// Only sockets that appear with the SFU count: clients of earlier tests
	// in this process may still be closing theirs.
	before := listeningSockets(t)
	// ICE/TCP and TURN asked for, as the binary's defaults do: on loopback
	// they stay closed.
	startEmbeddedOnFreePorts(t, EmbeddedConfig{TCPPort: 7881, TURN: TURNConfig{UDPPort: 3478}}, slog.New(slog.DiscardHandler))
	opened := 0
	for inode, addr := range listeningSockets(t) {
		if _, old := before[inode]; old {
			continue
		}
		opened++
		if !strings.HasPrefix(addr, "0100007F:") {
			t.Errorf("socket bound to %s (hex, as in /proc/net), not 127.0.0.1", addr)
		}
	}
	// Signalling (TCP) and media (UDP), or the check proved nothing.
	if opened < 2 {
		t.Fatalf("found %d new sockets, want at least 2", opened)
	}
}

// listeningSockets maps the inodes of this process's listening TCP and
// bound UDP sockets to their local address.
func listeningSockets(t *testing.T) map[string]string {
	t.Helper()
	own := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, "socket:[") {
			own[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	sockets := map[string]string{}
	for _, table := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := os.ReadFile("/proc/net/" + table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			// f[1] local address, f[3] state (0A: TCP listen, 07: UDP unconnected), f[9] inode
			if len(f) < 10 || !own[f[9]] || (f[3] != "0A" && f[3] != "07") {
				continue
			}
			sockets[f[9]] = f[1]
		}
	}
	return sockets
}

// Shutting down ends calls at once rather than waiting for people to hang
// up, and frees the ports for the next start.
func TestEmbeddedCloseEndsCalls(t *testing.T) {
	lksdk.SetLogger(lklogger.GetDiscardLogger())
	log := slog.New(slog.DiscardHandler)
	cfg := EmbeddedConfig{Port: videotest.FreePort(t, "tcp"), UDPPort: videotest.FreePort(t, "udp")}
	for round := range 2 {
		sfu, err := StartEmbedded(context.Background(), cfg, clock.System{}, log)
		if err != nil {
			t.Fatalf("start %d: %v", round, err)
		}
		gone := make(chan struct{})
		join(t, sfu, guestGrant, &lksdk.RoomCallback{OnDisconnected: func() { close(gone) }})
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		if err := sfu.Close(ctx); err != nil {
			t.Fatalf("close %d: %v", round, err)
		}
		cancel()
		select {
		case <-gone:
		case <-time.After(patience):
			t.Fatal("the participant was not disconnected")
		}
	}
}

// The LiveKit configurations in deploy/ pass LiveKit's own strict parser
// and offer the ways through firewalls the README says to open.
func TestDeployLiveKitConfigs(t *testing.T) {
	files, err := filepath.Glob("../../deploy/livekit/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no LiveKit configurations in deploy/: %v", err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		conf, err := config.NewConfig(string(body), true, nil, nil)
		if err != nil {
			t.Fatalf("%s: LiveKit refuses it: %v", f, err)
		}
		turn := conf.TURN
		if conf.RTC.TCPPort != 7881 || conf.RTC.UDPPort.Start != 7882 || !turn.Enabled || turn.UDPPort != 3478 ||
			turn.TLSPort != 443 || turn.Domain == "" || turn.CertFile == "" || turn.KeyFile == "" {
			t.Errorf("%s: ICE/TCP %d, UDP %v, TURN %+v", f, conf.RTC.TCPPort, conf.RTC.UDPPort, turn)
		}
	}
}
