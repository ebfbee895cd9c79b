package video

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/twitchtv/twirp"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/video/videotest"
)

// patience bounds each wait of these tests (see videotest.Patience).
const patience = videotest.Patience

// People in the call, with names that must never reach a log line.
var (
	hostGrant  = Grant{Room: "ses-0001", Identity: "par-host-1", Name: "Hanna Hostmann", Role: Host}
	guestGrant = Grant{Room: "ses-0001", Identity: "par-guest-2", Name: "Gustav Gastfreund", Role: Participant}
)

func TestCall(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		logs := &syncBuffer{}
		log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		hooks := newHookRecorder(t)
		sfu := startEmbeddedOnFreePorts(t, EmbeddedConfig{
			WebhookURL: hooks.URL(),
			// As in the product: browsers reach signalling on our origin.
			PublicURL: hooks.srv.URL,
			// Pass everything LiveKit logs, so the check below sees the most
			// it could ever write.
			LogLevel: slog.LevelDebug,
		}, log)
		hooks.use(sfu)
		if !strings.HasPrefix(sfu.URL(), toWebSocketURL(hooks.srv.URL)) {
			t.Fatalf("clients would connect to %s", sfu.URL())
		}

		runCall(t, sfu, hooks)

		assertNoPersonalData(t, logs.String())
		if path := os.Getenv("SESSIONS_TEST_LIVEKIT_LOG"); path != "" {
			_ = os.WriteFile(path, []byte(logs.String()), 0o600) // for reading what LiveKit writes
		}
	})

	t.Run("embedded, media on the LAN", func(t *testing.T) {
		lan := lanAddress(t)
		hooks := newHookRecorder(t)
		sfu := startEmbeddedOnFreePorts(t, EmbeddedConfig{NodeIP: lan, WebhookURL: hooks.URL()}, slog.New(slog.DiscardHandler))
		hooks.use(sfu)
		runCall(t, sfu, hooks)
	})

	t.Run("external", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds and starts a livekit-server process")
		}
		hooks := newHookRecorder(t)
		sfu := startExternalServer(t, hooks.URL())
		hooks.use(sfu)
		if _, ok := sfu.SignalHandler(); ok {
			t.Error("an external SFU offers a signalling proxy")
		}

		runCall(t, sfu, hooks)
	})
}

// runCall is the scenario both kinds of server must pass: two people join
// with tokens from this package, one speaks and the other hears it, the
// webhooks record who came and went, and the host removes the guest.
func runCall(t *testing.T, sfu *SFU, hooks *hookRecorder) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*patience)
	defer cancel()

	// The guest joins first and listens; the host speaks.
	listener := videotest.NewListener()
	guest := join(t, sfu, guestGrant, listener.Callback())
	host := join(t, sfu, hostGrant, &lksdk.RoomCallback{})
	speaking, stopSpeaking := context.WithCancel(ctx)
	defer stopSpeaking()
	videotest.Speak(speaking, t, host)

	// Two seconds of audio proves media flows end to end, not just
	// signalling.
	videotest.WaitUntil(t, "the guest receives the host's audio", func() bool { return listener.Packets() > 100 })
	t.Logf("the guest received %d RTP packets", listener.Packets())

	hooks.waitFor(t, RoomStarted, "")
	hooks.waitFor(t, ParticipantJoined, hostGrant.Identity)
	hooks.waitFor(t, ParticipantJoined, guestGrant.Identity)

	if err := sfu.MuteMicrophone(ctx, hostGrant.Room, hostGrant.Identity); err != nil {
		t.Fatalf("mute: %v", err)
	}
	select {
	case <-listener.Muted():
	case <-time.After(patience):
		t.Fatal("the guest never saw the host's microphone muted")
	}

	if err := sfu.RemoveParticipant(ctx, guestGrant.Room, guestGrant.Identity); err != nil {
		t.Fatalf("remove: %v", err)
	}
	select {
	case <-listener.Disconnected():
	case <-time.After(patience):
		t.Fatal("the removed guest was not disconnected")
	}
	hooks.waitFor(t, ParticipantLeft, guestGrant.Identity)
	guest.Disconnect() // idempotent; releases the SDK's goroutines

	// Someone who is not in the call cannot be removed, and the caller can
	// tell that apart from a failure.
	if err := sfu.RemoveParticipant(ctx, guestGrant.Room, guestGrant.Identity); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("removing an absent participant: got %v, want not found", err)
	}

	stopSpeaking()
	host.Disconnect()
	hooks.waitFor(t, ParticipantLeft, hostGrant.Identity)
	if err := sfu.CloseRoom(ctx, hostGrant.Room); err != nil && errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("close room: %v", err)
	}
	hooks.waitFor(t, RoomFinished, "")

	// A webhook the server did not sign changes nothing.
	for name, sign := range map[string]func(*http.Request, []byte){
		"unsigned": func(*http.Request, []byte) {},
		"wrong secret": func(r *http.Request, body []byte) {
			signWebhook(r, body, sfu.APIKey(), "a-different-secret-that-is-long-enough")
		},
	} {
		before := hooks.count()
		if status := hooks.post(t, sign); status != http.StatusUnauthorized {
			t.Errorf("%s webhook: status %d, want 401", name, status)
		}
		if hooks.count() != before {
			t.Errorf("%s webhook was recorded", name)
		}
	}
}

func join(t *testing.T, sfu *SFU, g Grant, cb *lksdk.RoomCallback) *lksdk.Room {
	t.Helper()
	token, err := sfu.Token(g)
	if err != nil {
		t.Fatal(err)
	}
	room, err := videotest.Connect(sfu.URL(), token, cb)
	if err != nil {
		t.Fatalf("%s joins: %v", g.Role, err)
	}
	t.Cleanup(room.Disconnect)
	return room
}

// lanAddress returns a non-loopback IPv4 address of this machine.
func lanAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("this machine has no LAN address")
	return ""
}

// hookRecorder stands in for our server: its webhook endpoint verifies each
// delivery with the SFU under test and keeps the events, answering 401 as
// the product will, and it serves an embedded SFU's signalling as the
// product's routes will.
type hookRecorder struct {
	srv     *httptest.Server
	sfu     atomic.Pointer[SFU]
	mu      sync.Mutex
	events  []Event
	changed chan struct{}
}

func newHookRecorder(t *testing.T) *hookRecorder {
	h := &hookRecorder{changed: make(chan struct{})}
	mux := http.NewServeMux()
	for _, p := range SignalPaths {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			if sfu := h.sfu.Load(); sfu != nil {
				if signal, ok := sfu.SignalHandler(); ok {
					signal.ServeHTTP(w, r)
					return
				}
			}
			http.NotFound(w, r)
		})
	}
	h.srv = httptest.NewServer(mux)
	mux.HandleFunc("POST /api/video/webhook", func(w http.ResponseWriter, r *http.Request) {
		sfu := h.sfu.Load()
		if sfu == nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable) // LiveKit retries
			return
		}
		ev, ok, err := sfu.ReceiveWebhook(r)
		switch {
		case errs.CodeOf(err) == errs.Unauthorized:
			w.WriteHeader(http.StatusUnauthorized)
			return
		case err != nil:
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if ok {
			h.mu.Lock()
			h.events = append(h.events, ev)
			close(h.changed)
			h.changed = make(chan struct{})
			h.mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
	})
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookRecorder) URL() string  { return h.srv.URL + "/api/video/webhook" }
func (h *hookRecorder) use(sfu *SFU) { h.sfu.Store(sfu) }

func (h *hookRecorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

func (h *hookRecorder) waitFor(t *testing.T, kind EventKind, participant string) Event {
	t.Helper()
	deadline := time.After(patience)
	for {
		h.mu.Lock()
		changed := h.changed
		for _, ev := range h.events {
			if ev.Kind == kind && ev.Participant == participant {
				h.mu.Unlock()
				if ev.Room != hostGrant.Room || ev.ID == "" || ev.At.IsZero() {
					t.Errorf("%s event is incomplete: %+v", kind, ev)
				}
				return ev
			}
		}
		h.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %s webhook for %q; got %+v", kind, participant, h.snapshot())
		}
	}
}

func (h *hookRecorder) snapshot() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Event(nil), h.events...)
}

// post delivers a forged participant_joined event and returns the status.
func (h *hookRecorder) post(t *testing.T, sign func(*http.Request, []byte)) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"event": "participant_joined", "id": "EV_forged",
		"room":        map[string]any{"name": hostGrant.Room},
		"participant": map[string]any{"identity": "par-intruder", "sid": "PA_forged"},
	})
	req, _ := http.NewRequest(http.MethodPost, h.URL(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/webhook+json")
	sign(req, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// signWebhook signs body the way LiveKit does: a JWT carrying the body's
// SHA-256, in the Authorization header.
func signWebhook(r *http.Request, body []byte, key, secret string) {
	token, err := auth.NewAccessToken(key, secret).SetValidFor(time.Minute).SetSha256(bodyHash(body)).ToJWT()
	if err != nil {
		panic(err)
	}
	r.Header.Set("Authorization", token)
}

// startEmbeddedOnFreePorts starts the embedded SFU on ports the kernel just
// handed out. Another process can grab one in between, so a start that
// fails on a taken port is retried with fresh ones.
func startEmbeddedOnFreePorts(t *testing.T, cfg EmbeddedConfig, log *slog.Logger) *SFU {
	t.Helper()
	var lastErr error
	for range 3 {
		cfg.Port, cfg.UDPPort = videotest.FreePort(t, "tcp"), videotest.FreePort(t, "udp")
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		sfu, err := StartEmbedded(ctx, cfg, clock.System{}, log)
		cancel()
		if err == nil {
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), patience)
				defer cancel()
				if err := sfu.Close(ctx); err != nil {
					t.Errorf("stop: %v", err)
				}
			})
			return sfu
		}
		lastErr = err
		if !errors.Is(err, syscall.EADDRINUSE) && !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("embedded SFU did not start: %v", lastErr)
	return nil
}

// startExternalServer starts livekit-server as its own process and points
// an SFU at it the way SESSIONS_LIVEKIT_URL will.
func startExternalServer(t *testing.T, webhookURL string) *SFU {
	t.Helper()
	lk := videotest.StartLiveKit(t, webhookURL)
	sfu, err := Connect(ExternalConfig{URL: lk.URL, APIKey: lk.APIKey, APISecret: lk.APISecret},
		clock.System{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return sfu
}

// assertNoPersonalData fails when a log line carries a display name or an
// IP address. Identities and room names are opaque ids and may appear.
func assertNoPersonalData(t *testing.T, logs string) {
	t.Helper()
	if !strings.Contains(logs, "livekit") {
		t.Fatal("no LiveKit log lines were captured; the check below would prove nothing")
	}
	for _, name := range []string{hostGrant.Name, guestGrant.Name, "Hanna", "Gustav"} {
		if strings.Contains(logs, name) {
			t.Errorf("a log line names a participant (%q)", name)
		}
	}
	if m := regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`).FindString(logs); m != "" {
		t.Errorf("a log line carries an IP address (%s)", m)
	}
	if strings.Contains(logs, "fd00::") || strings.Contains(logs, "fe80::") {
		t.Error("a log line carries an IPv6 address")
	}
}

// syncBuffer is a bytes.Buffer that LiveKit's goroutines can write to
// concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCoHostTokenCannotRemoveTheHost: a call token opens nothing of
// LiveKit's server API. With roomAdmin in co-hosts' tokens, a co-host
// could call RoomService/RemoveParticipant on the host directly, past the
// product's rule that nobody acts on the host; LiveKit must answer
// permission denied, and the host stays in the call.
func TestCoHostTokenCannotRemoveTheHost(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		hooks := newHookRecorder(t)
		sfu := startEmbeddedOnFreePorts(t, EmbeddedConfig{WebhookURL: hooks.URL()}, slog.New(slog.DiscardHandler))
		hooks.use(sfu)
		coHostCannotRemoveHost(t, sfu)
	})
	t.Run("external", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds and starts a livekit-server process")
		}
		hooks := newHookRecorder(t)
		sfu := startExternalServer(t, hooks.URL())
		hooks.use(sfu)
		coHostCannotRemoveHost(t, sfu)
	})
}

func coHostCannotRemoveHost(t *testing.T, sfu *SFU) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*patience)
	defer cancel()
	coHostGrant := Grant{Room: hostGrant.Room, Identity: "par-cohost-3", Name: "Cora Cohost", Role: CoHost}
	join(t, sfu, hostGrant, &lksdk.RoomCallback{})
	join(t, sfu, coHostGrant, &lksdk.RoomCallback{})
	coHostToken, err := sfu.Token(coHostGrant)
	if err != nil {
		t.Fatal(err)
	}
	// The co-host speaks LiveKit's server API with their own token, as a
	// browser's script could.
	api := livekit.NewRoomServiceProtobufClient(strings.Replace(sfu.apiURL, "ws://", "http://", 1), &http.Client{Timeout: patience})
	withToken, err := twirp.WithHTTPRequestHeaders(ctx, http.Header{"Authorization": {"Bearer " + coHostToken}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.RemoveParticipant(withToken, &livekit.RoomParticipantIdentity{Room: hostGrant.Room, Identity: hostGrant.Identity})
	var te twirp.Error
	if !errors.As(err, &te) || (te.Code() != twirp.PermissionDenied && te.Code() != twirp.Unauthenticated) {
		t.Errorf("a co-host's token removing the host: %v, want permission denied", err)
	}
	_, err = api.MutePublishedTrack(withToken, &livekit.MuteRoomTrackRequest{Room: hostGrant.Room, Identity: hostGrant.Identity, TrackSid: "TR_any", Muted: true})
	if !errors.As(err, &te) || (te.Code() != twirp.PermissionDenied && te.Code() != twirp.Unauthenticated) {
		t.Errorf("a co-host's token muting the host: %v, want permission denied", err)
	}
	if _, err := sfu.rooms.GetParticipant(ctx, &livekit.RoomParticipantIdentity{Room: hostGrant.Room, Identity: hostGrant.Identity}); err != nil {
		t.Errorf("the host is no longer in the call: %v", err)
	}
}
