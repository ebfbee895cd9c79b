package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/video"
)

// webhookPath is where LiveKit delivers its webhooks; routes.go serves it.
const webhookPath = "/api/livekit/webhook"

// startVideo connects to the external LiveKit named in the settings, or
// starts the embedded SFU. The embedded SFU sends its webhooks straight to
// our own listener at self rather than to the base URL, which may be a
// proxy this machine cannot reach or one that would count the SFU's
// deliveries against its own limits.
func startVideo(ctx context.Context, cfg config.Config, clk clock.Clock, log *slog.Logger, self net.Addr) (*video.SFU, error) {
	if cfg.LiveKitURL != "" {
		sfu, err := video.Connect(video.ExternalConfig{URL: cfg.LiveKitURL, APIKey: cfg.LiveKitAPIKey, APISecret: cfg.LiveKitAPISecret}, clk, log)
		if err != nil {
			return nil, &exitError{code: 1, msg: fmt.Sprintf("external LiveKit: %v", err)}
		}
		log.Info("video calls use an external LiveKit server")
		return sfu, nil
	}
	if !video.HasEmbedded {
		return nil, &exitError{code: 2, msg: "this binary was built without the embedded video server (-tags nosfu): set SESSIONS_LIVEKIT_URL, SESSIONS_LIVEKIT_API_KEY and SESSIONS_LIVEKIT_API_SECRET"}
	}

	ec := video.EmbeddedConfig{
		NodeIP:    cfg.VideoNodeIP.String(),
		Port:      cfg.VideoPort,
		UDPPort:   cfg.VideoUDPPort,
		TCPPort:   cfg.VideoTCPPort,
		TURN:      video.TURNConfig{UDPPort: cfg.VideoTURNUDPPort},
		APIKey:    cfg.LiveKitAPIKey,
		APISecret: cfg.LiveKitAPISecret,
		// Browsers and SDKs signal through our own origin (routes.go mounts
		// the SFU's signalling proxy), so the SFU's TCP port can stay on
		// loopback and calls ride on the product's TLS.
		PublicURL:  cfg.BaseURL,
		WebhookURL: "http://" + loopbackFor(self) + webhookPath,
	}
	if cfg.VideoTURNTLS() {
		ec.TURN.TLSPort, ec.TURN.Domain = cfg.VideoTURNTLSPort, cfg.VideoTURNDomain
		ec.TURN.CertFile, ec.TURN.KeyFile, ec.TURN.ExternalTLS = cfg.VideoTURNCertFile, cfg.VideoTURNKeyFile, cfg.VideoTURNExternalTLS
	}
	for _, a := range cfg.VideoBind {
		ec.BindAddresses = append(ec.BindAddresses, a.String())
	}
	var err error
	if ec.Port == 0 {
		if ec.Port, err = freePort("tcp", cfg.VideoBind[0]); err != nil {
			return nil, err
		}
	}
	if ec.UDPPort == 0 {
		if ec.UDPPort, err = freePort("udp", cfg.VideoNodeIP); err != nil {
			return nil, err
		}
	}
	sfu, err := video.StartEmbedded(ctx, ec, clk, log)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &exitError{code: 1, msg: fmt.Sprintf(
				"cannot start the embedded video server: one of its ports is in use (signalling TCP %d, media UDP %d, ICE/TCP %d, TURN UDP %d, TURN/TLS %d; 0 is off); set SESSIONS_VIDEO_PORT, SESSIONS_VIDEO_UDP_PORT, SESSIONS_VIDEO_TCP_PORT, SESSIONS_VIDEO_TURN_UDP_PORT or SESSIONS_VIDEO_TURN_TLS_PORT, or SESSIONS_LIVEKIT_URL for an external LiveKit",
				ec.Port, ec.UDPPort, ec.TCPPort, ec.TURN.UDPPort, ec.TURN.TLSPort)}
		}
		return nil, &exitError{code: 1, msg: fmt.Sprintf("cannot start the embedded video server: %v", err)}
	}
	return sfu, nil
}

// loopbackFor is the address this process reaches its own listener at:
// the listener's, or loopback when it listens on every address.
func loopbackFor(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip, _ := netip.AddrFromSlice(ta.IP)
	ip = ip.Unmap()
	switch {
	case ip.IsUnspecified() && ip.Is6():
		ip = netip.IPv6Loopback()
	case ip.IsUnspecified() || !ip.IsValid():
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}

// freePort asks the kernel for a port on addr that is free right now. Used
// only when the operator (or a test) sets a port to 0.
func freePort(network string, addr netip.Addr) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", net.JoinHostPort(addr.String(), "0"))
		if err != nil {
			return 0, fmt.Errorf("finding a free UDP port: %w", err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free TCP port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
