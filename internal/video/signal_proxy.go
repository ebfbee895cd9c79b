package video

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/proto"

	"github.com/sessionshq/sessions/internal/errs"
)

// SignalPaths are the routes LiveKit's client SDKs open on the server URL:
// the signalling WebSocket and the HTTP check they call when it fails.
var SignalPaths = []string{"/rtc", "/rtc/validate", "/rtc/v1", "/rtc/v1/validate"}

// Connecting is a signalling connection asking to open on the embedded
// SFU, as the token it carries names it; the token's signature has been
// checked.
type Connecting struct {
	Room, Identity string
	// Door is the door generation the token was minted at (Grant.Door).
	Door int64
	// Resuming is true when the client says it picks up a connection it
	// already has in the call after a network blip. LiveKit resumes only
	// a participant it still holds, and otherwise makes the client join
	// afresh, through this gate again.
	Resuming bool
}

// Gate decides whether a signalling connection may open: an error with
// the code errs.Forbidden refuses it, any other error is a failure to
// decide, answered as the server being unavailable. The product's own rules for who may be in a call live with
// the caller, which sets the gate (SFU.GuardSignalling).
type Gate func(ctx context.Context, c Connecting) error

// GuardSignalling makes the embedded SFU's signalling ask gate before it
// lets a connection through. LiveKit only reports a participant (the
// participant_joined webhook) once its media flows; a signalling
// connection alone already shows its holder who is in the call and earns
// it refreshed tokens, so a token the door no longer honours must be
// stopped here, before LiveKit sees it. Without a gate every token LiveKit
// accepts gets through.
func (s *SFU) GuardSignalling(gate Gate) {
	if s.signal != nil {
		s.gate.Store(&gate)
	}
}

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

// guarded puts the gate in front of the proxy: the connection's token is
// verified as LiveKit would (same key and secret) and the gate asked,
// before the WebSocket upgrade, so a refused client gets a plain 401 or
// 403 and never a socket. The validate paths answer the same, which is
// what LiveKit's SDKs show when the socket fails.
func (s *SFU) guarded(proxy http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gate := s.gate.Load()
		if gate == nil {
			proxy.ServeHTTP(w, r)
			return
		}
		c, err := s.connecting(r)
		if err != nil {
			http.Error(w, "invalid access token", http.StatusUnauthorized)
			return
		}
		if err := (*gate)(r.Context(), c); err != nil {
			if errs.CodeOf(err) == errs.Forbidden {
				http.Error(w, "this token no longer opens the call", http.StatusForbidden)
				return
			}
			// The door could not be asked (its database failed): the
			// client retries, as it does when the server is away.
			s.log.Error("video: asking the call door", slog.String("error", err.Error()))
			http.Error(w, "the call cannot be reached now", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	})
}

// connecting reads who a signalling request says it is from its access
// token, found where LiveKit looks for it (the Authorization header, else
// the access_token parameter), and checks the token as LiveKit does.
func (s *SFU) connecting(r *http.Request) (Connecting, error) {
	raw := r.URL.Query().Get("access_token")
	if h := r.Header.Get("Authorization"); h != "" {
		var ok bool
		if raw, ok = strings.CutPrefix(h, "Bearer "); !ok {
			return Connecting{}, errors.New("video: authorization is not a bearer token")
		}
	}
	if raw == "" {
		return Connecting{}, errors.New("video: no access token")
	}
	v, err := auth.ParseAPIToken(raw)
	if err != nil {
		return Connecting{}, err
	}
	if v.APIKey() != s.apiKey {
		return Connecting{}, errors.New("video: token signed with another key")
	}
	_, grants, err := v.Verify(s.apiSecret)
	if err != nil {
		return Connecting{}, err
	}
	if grants.Video == nil || grants.Video.Room == "" || grants.Identity == "" {
		return Connecting{}, errors.New("video: token names no room or identity")
	}
	return Connecting{
		Room: grants.Video.Room, Identity: grants.Identity, Door: doorOf(grants.Attributes), Resuming: resuming(r),
	}, nil
}

// resuming reads whether the client says it resumes a connection: the
// reconnect parameter of /rtc, or the join request /rtc/v1 carries. A
// join request that cannot be read is no resumption; LiveKit refuses it
// anyway.
func resuming(r *http.Request) bool {
	q := r.URL.Query()
	wrapped := q.Get("join_request")
	if wrapped == "" {
		// LiveKit reads the parameter the same way.
		v := q.Get("reconnect")
		return v == "1" || v == "true"
	}
	data, err := base64.URLEncoding.DecodeString(wrapped)
	if err != nil {
		return false
	}
	var w livekit.WrappedJoinRequest
	if proto.Unmarshal(data, &w) != nil {
		return false
	}
	body := w.JoinRequest
	if w.Compression == livekit.WrappedJoinRequest_GZIP {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return false
		}
		// A join request is a few kilobytes; LiveKit bounds it the same.
		if body, err = io.ReadAll(io.LimitReader(zr, http.DefaultMaxHeaderBytes)); err != nil {
			return false
		}
	}
	var join livekit.JoinRequest
	if proto.Unmarshal(body, &join) != nil {
		return false
	}
	return join.Reconnect
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
