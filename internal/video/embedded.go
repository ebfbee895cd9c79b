package video

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/livekit/protocol/livekit"
)

// EmbeddedConfig configures the SFU this process runs when no external
// LiveKit is given. The zero value serves calls on this machine only.
type EmbeddedConfig struct {
	// BindAddresses are where the signalling and server API port listens.
	// Default 127.0.0.1.
	BindAddresses []string
	// Port is the signalling and server API port (TCP). Default 7880.
	Port int
	// NodeIP is the address media flows to: it is advertised in every ICE
	// candidate and is the only address the UDP media sockets bind. Default
	// 127.0.0.1; set it to the machine's LAN address to serve a LAN.
	NodeIP string
	// UDPPort is the one UDP port all media is multiplexed on, the easiest
	// shape for a firewall. Default 7882.
	UDPPort int
	// UDPPortRangeStart and End, when both are set, replace UDPPort with one
	// ephemeral port per connection from the range.
	UDPPortRangeStart, UDPPortRangeEnd int
	// TCPPort turns on ICE over TCP, for networks that block UDP; 0 leaves
	// it off. LiveKit binds it on every interface, so it stays off while
	// media is served on loopback only, where nothing blocks UDP anyway.
	TCPPort int
	// TURN configures LiveKit's built-in TURN server, which relays media
	// for clients that reach neither media port. It stays off while media
	// is served on loopback only.
	TURN TURNConfig
	// APIKey and APISecret sign tokens and webhooks. When empty, a fresh pair
	// is generated at every start: tokens live minutes and the SFU lives in
	// this process, so nothing else needs to know them.
	APIKey, APISecret string
	// WebhookURL receives LiveKit's webhooks, normally our own
	// /api/video/webhook.
	WebhookURL string
	// PublicURL is what browsers connect to. Default ws:// on the first
	// bind address, which only suits pages served from loopback; set it to
	// the product's base URL and mount SFU.SignalHandler to serve signalling
	// through our own origin.
	PublicURL string
	// TokenTTL bounds how long minted tokens can be used to join.
	TokenTTL time.Duration
	// LogLevel is the least severe LiveKit record passed to our logger.
	// Default warn: at info LiveKit writes several lines per join.
	LogLevel slog.Leveler
	// DepartureTimeout is how long a room outlives its last participant
	// before room_finished. Default LiveKit's 20 seconds.
	DepartureTimeout time.Duration
}

// TURNConfig is LiveKit's built-in TURN server. Browsers are told about
// it with every join: TURN/UDP at the node IP, TURN/TLS at
// turns:Domain:443, whatever TLSPort is, so port 443 of Domain must reach
// TLSPort (directly, or through a proxy or load balancer).
type TURNConfig struct {
	// UDPPort is TURN over UDP on the node IP; 0 leaves it off.
	UDPPort int
	// TLSPort is TURN over TLS (TCP); 0 leaves it off. It needs Domain and
	// either CertFile and KeyFile, or ExternalTLS.
	TLSPort int
	// Domain is the name browsers connect to for TURN/TLS, on port 443,
	// and the name the certificate is for.
	Domain string
	// CertFile and KeyFile are the PEM certificate chain and key TURN/TLS
	// serves.
	CertFile, KeyFile string
	// ExternalTLS says a proxy in front terminates TLS and forwards plain
	// TCP to TLSPort, which then speaks TURN without TLS.
	ExternalTLS bool
	// RelayPortRangeStart and End bound the UDP ports the relay opens on
	// the node IP towards the SFU's media port. They carry traffic between
	// the two on this machine only, and need no firewall opening. Default
	// LiveKit's 30000-40000.
	RelayPortRangeStart, RelayPortRangeEnd int
}

func (t TURNConfig) enabled() bool { return t.UDPPort != 0 || t.TLSPort != 0 }

// turnDomain is the rule LiveKit holds a TURN domain to: at least two
// labels of letters, digits and hyphens.
var turnDomain = regexp.MustCompile(`^(?i)[a-z0-9-]+(\.[a-z0-9-]+)+\.?$`)

func (t TURNConfig) validate() error {
	if t.TLSPort == 0 {
		return nil
	}
	if !turnDomain.MatchString(t.Domain) {
		return fmt.Errorf("video: TURN/TLS needs a domain name such as turn.example.com, not %q", t.Domain)
	}
	if t.ExternalTLS {
		return nil
	}
	if t.CertFile == "" || t.KeyFile == "" {
		return errors.New("video: TURN/TLS needs a certificate and its key, or a TLS-terminating proxy in front (external TLS)")
	}
	if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
		return fmt.Errorf("video: TURN/TLS certificate: %w", err)
	}
	return nil
}

// endAllCalls closes every room, which sends each participant a "room
// deleted" leave, and waits for the server to let them go, within the
// first half of the caller's deadline (the shutdown timeout). A room that is still there on
// the next look — a participant was mid-join, or the first delete was lost
// under load — is closed again, so no client is left to reconnect to a
// server that is about to stop.
func (s *SFU) endAllCalls(ctx context.Context) {
	// Keep at least half of the caller's time for stopping the server.
	wait := 10 * time.Second
	if deadline, ok := ctx.Deadline(); ok {
		if half := time.Until(deadline) / 2; half < wait {
			wait = half
		}
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		rooms, err := s.rooms.ListRooms(ctx, &livekit.ListRoomsRequest{})
		if err != nil {
			s.log.Warn("could not end calls before stopping the video server", slog.Any("error", err))
			return
		}
		if len(rooms.GetRooms()) == 0 {
			return
		}
		for _, r := range rooms.GetRooms() {
			_ = s.CloseRoom(ctx, r.GetName())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (c EmbeddedConfig) withDefaults() (EmbeddedConfig, error) {
	if len(c.BindAddresses) == 0 {
		c.BindAddresses = []string{"127.0.0.1"}
	}
	for _, a := range c.BindAddresses {
		if _, err := netip.ParseAddr(a); err != nil {
			return c, fmt.Errorf("video: bind address %q is not an IP address", a)
		}
	}
	if c.Port == 0 {
		c.Port = 7880
	}
	if c.NodeIP == "" {
		c.NodeIP = "127.0.0.1"
	}
	if _, err := netip.ParseAddr(c.NodeIP); err != nil {
		return c, fmt.Errorf("video: node IP %q is not an IP address", c.NodeIP)
	}
	if (c.UDPPortRangeStart == 0) != (c.UDPPortRangeEnd == 0) || c.UDPPortRangeEnd < c.UDPPortRangeStart {
		return c, errors.New("video: UDP port range needs a start and a larger end")
	}
	if c.UDPPort == 0 && c.UDPPortRangeStart == 0 {
		c.UDPPort = 7882
	}
	if node, _ := netip.ParseAddr(c.NodeIP); node.IsLoopback() {
		// Nobody else can reach media on loopback, and nothing blocks UDP
		// there: ICE/TCP, which opens a port on every interface, and TURN
		// would only add exposure.
		c.TCPPort, c.TURN = 0, TURNConfig{}
	}
	if err := c.TURN.validate(); err != nil {
		return c, err
	}
	if (c.TURN.RelayPortRangeStart == 0) != (c.TURN.RelayPortRangeEnd == 0) || c.TURN.RelayPortRangeEnd < c.TURN.RelayPortRangeStart {
		return c, errors.New("video: TURN relay port range needs a start and a larger end")
	}
	if c.APIKey == "" || c.APISecret == "" {
		c.APIKey = "API" + rand.Text()[:12]
		// LiveKit wants at least 32 characters; rand.Text gives 26 with 130 bits.
		c.APISecret = rand.Text() + rand.Text()
	}
	if c.PublicURL == "" {
		host := c.BindAddresses[0]
		if ip, _ := netip.ParseAddr(host); ip.IsUnspecified() {
			host = c.NodeIP
		}
		c.PublicURL = "ws://" + net.JoinHostPort(host, strconv.Itoa(c.Port))
	}
	c.PublicURL = toWebSocketURL(c.PublicURL)
	if c.LogLevel == nil {
		c.LogLevel = slog.LevelWarn
	}
	return c, nil
}

// loopbackOnly reports whether media and signalling are served to this
// machine alone.
func (c EmbeddedConfig) loopbackOnly() bool {
	for _, a := range append([]string{c.NodeIP}, c.BindAddresses...) {
		if ip, _ := netip.ParseAddr(a); !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// livekitConfig renders LiveKit's YAML configuration. It is written as JSON,
// which is YAML too, so that no value can break out of its field.
func (c EmbeddedConfig) livekitConfig() ([]byte, error) {
	nodeIP, _ := netip.ParseAddr(c.NodeIP)
	rtc := map[string]any{
		"node_ip": c.NodeIP,
		// The node IP is given, so LiveKit must not ask a STUN server for a
		// public one: no traffic leaves the machine unasked.
		"use_external_ip": false,
		// Media sockets bind the node IP only, not every interface.
		"ips": map[string]any{"includes": []string{netip.PrefixFrom(nodeIP, nodeIP.BitLen()).String()}},
		// pion skips loopback addresses unless told; on loopback they are the
		// only ones.
		"enable_loopback_candidate": nodeIP.IsLoopback(),
	}
	if c.UDPPortRangeStart != 0 {
		rtc["port_range_start"] = c.UDPPortRangeStart
		rtc["port_range_end"] = c.UDPPortRangeEnd
	} else {
		rtc["udp_port"] = strconv.Itoa(c.UDPPort)
	}
	// Written even when 0: LiveKit's own default is 7881, opened on every
	// interface.
	rtc["tcp_port"] = c.TCPPort
	room := map[string]any{"auto_create": true}
	if c.DepartureTimeout > 0 {
		room["departure_timeout"] = max(1, int(c.DepartureTimeout/time.Second))
	}
	conf := map[string]any{
		"port":           c.Port,
		"bind_addresses": c.BindAddresses,
		"rtc":            rtc,
		"keys":           map[string]string{c.APIKey: c.APISecret},
		"room":           room,
		"turn":           c.turnConfig(nodeIP),
	}
	if c.WebhookURL != "" {
		conf["webhook"] = map[string]any{"api_key": c.APIKey, "urls": []string{c.WebhookURL}}
	}
	return json.Marshal(conf)
}

// turnConfig renders LiveKit's turn section.
func (c EmbeddedConfig) turnConfig(nodeIP netip.Addr) map[string]any {
	t := c.TURN
	if !t.enabled() {
		return map[string]any{"enabled": false}
	}
	node := netip.PrefixFrom(nodeIP, nodeIP.BitLen()).String()
	turn := map[string]any{
		"enabled": true,
		// The listeners and relay sockets bind the node IP, not every
		// interface.
		"bind_addresses": []string{c.NodeIP},
		// The relay exists for our SFU alone: anyone holding a call token
		// gets TURN credentials, and must not reach other machines through
		// us. LiveKit refuses private peers unless allowed, and any peer on
		// the deny list.
		"allow_restricted_peer_cidrs": []string{node},
		"deny_peer_cidrs":             everythingBut(nodeIP),
	}
	if t.UDPPort != 0 {
		turn["udp_port"] = t.UDPPort
	}
	if t.TLSPort != 0 {
		turn["tls_port"] = t.TLSPort
		turn["domain"] = t.Domain
		if t.ExternalTLS {
			turn["external_tls"] = true
		} else {
			turn["cert_file"] = t.CertFile
			turn["key_file"] = t.KeyFile
		}
	}
	if t.RelayPortRangeStart != 0 {
		turn["relay_range_start"] = t.RelayPortRangeStart
		turn["relay_range_end"] = t.RelayPortRangeEnd
	}
	return turn
}

// everythingBut returns the prefixes that cover every address but ip, of
// both families: for each bit, the addresses that agree with ip before it
// and differ at it.
func everythingBut(ip netip.Addr) []string {
	other := "::/0"
	if ip.Is6() {
		other = "0.0.0.0/0"
	}
	out := []string{other}
	b := ip.AsSlice()
	for i := range ip.BitLen() {
		flipped := slices.Clone(b)
		flipped[i/8] ^= 0x80 >> (i % 8)
		a, _ := netip.AddrFromSlice(flipped)
		out = append(out, netip.PrefixFrom(a, i+1).Masked().String())
	}
	return out
}
