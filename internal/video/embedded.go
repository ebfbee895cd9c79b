package video

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
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
	// TCPPort turns on ICE over TCP for networks that block UDP. LiveKit
	// binds it on every interface, so it is off unless asked for.
	TCPPort int
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
		// TURN would open more ports on every interface; ICE over UDP (and
		// TCP when asked) covers loopback and LAN.
		"turn": map[string]any{"enabled": false},
	}
	if c.WebhookURL != "" {
		conf["webhook"] = map[string]any{"api_key": c.APIKey, "urls": []string{c.WebhookURL}}
	}
	return json.Marshal(conf)
}
