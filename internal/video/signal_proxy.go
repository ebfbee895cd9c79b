package video

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
)

// SignalPaths are the routes LiveKit's client SDKs open on the server URL:
// the signalling WebSocket and the HTTP check they call when it fails.
var SignalPaths = []string{"/rtc", "/rtc/validate", "/rtc/v1", "/rtc/v1/validate"}

// newSignalProxy forwards LiveKit's signalling from our own origin to the
// embedded SFU's loopback port.
//
// Browsers only grant camera and microphone to secure pages, and a secure
// page may not open a plain ws:// socket to another machine; our
// Content-Security-Policy (connect-src 'self') refuses other origins as
// well. Served through our own origin, signalling rides on the product's TLS
// and CSP, and LiveKit's TCP port never has to leave loopback: on a LAN only
// the UDP media port is exposed.
func newSignalProxy(target string, log *slog.Logger) http.Handler {
	u := &url.URL{Scheme: "http", Host: target}
	return &httputil.ReverseProxy{
		// Rewrite, unlike Director, adds no X-Forwarded-For: LiveKit has no
		// use for people's addresses, so it does not get them.
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = u.Host
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// proxyTarget is where the proxy reaches the embedded SFU: its first bind
// address, or loopback when it binds every address.
func proxyTarget(c EmbeddedConfig) string {
	host := c.BindAddresses[0]
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.Is6() {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(c.Port))
}

// SignalHandler serves LiveKit's signalling on our own origin for an
// embedded SFU; mount it on every path in SignalPaths and set
// EmbeddedConfig.PublicURL to the product's base URL. ok is false for an
// external SFU, whose clients connect to it directly.
func (s *SFU) SignalHandler() (h http.Handler, ok bool) {
	return s.signal, s.signal != nil
}
