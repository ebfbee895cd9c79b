package calls_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/calls"
	"github.com/sessionshq/sessions/internal/video"
	"github.com/sessionshq/sessions/internal/video/videotest"
)

// TestRemovedAndLockedOutPeopleCannotComeBackWithTheirToken: the door is
// also kept on the video server. A LiveKit token stays valid after the
// door closes on its holder, and LiveKit hands connected clients refreshed
// copies of it; a connection made with one after the holder was removed,
// or after the meeting was locked, is ended as soon as LiveKit reports it,
// through a real LiveKit, embedded and external.
func TestRemovedAndLockedOutPeopleCannotComeBackWithTheirToken(t *testing.T) {
	t.Parallel()
	t.Run("embedded", func(t *testing.T) {
		if !video.HasEmbedded {
			t.Skip("this build has no embedded SFU")
		}
		hooks := newWebhookReceiver(t)
		hooks.use(t, startEmbedded(t, hooks.URL(), ""))
		comingBackIsRefused(t, hooks)
	})
	t.Run("external", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds and starts a livekit-server process")
		}
		hooks := newWebhookReceiver(t)
		lk := videotest.StartLiveKit(t, hooks.URL())
		sfu, err := video.Connect(video.ExternalConfig{URL: lk.URL, APIKey: lk.APIKey, APISecret: lk.APISecret},
			clock.System{}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		hooks.use(t, sfu)
		comingBackIsRefused(t, hooks)
	})
}

// TestRemovedPersonsTokenCannotOpenTheEmbeddedSFUsSignalling: LiveKit
// reports a connection only once its media flows, but the signalling
// WebSocket alone already shows who is in the call and earns refreshed
// tokens. Through the embedded SFU's public URL (the product's own
// origin), a token the door no longer honours does not get the socket at
// all, while the door's current tokens do.
func TestRemovedPersonsTokenCannotOpenTheEmbeddedSFUsSignalling(t *testing.T) {
	t.Parallel()
	if !video.HasEmbedded {
		t.Skip("this build has no embedded SFU")
	}
	ctx := context.Background()
	hooks := newWebhookReceiver(t)
	hooks.use(t, startEmbedded(t, hooks.URL(), hooks.srv.URL))
	f, sfu := hooks.f, hooks.sfu
	if !strings.HasPrefix(sfu.URL(), "ws://"+strings.TrimPrefix(hooks.srv.URL, "http://")) {
		t.Fatalf("the SFU is not reached through the product's origin: %s", sfu.URL())
	}

	host, err := f.calls.Join(ctx, calls.MemberDoor(f.host, f.meetingID), calls.JoinInput{})
	if err != nil {
		t.Fatal(err)
	}
	hostRoom, err := videotest.Connect(sfu.URL(), host.Token, &lksdk.RoomCallback{})
	if err != nil {
		t.Fatalf("the host connects through the product's origin: %v", err)
	}
	t.Cleanup(hostRoom.Disconnect)

	door := calls.GuestDoor(f.guestToken)
	if _, err := f.calls.Join(ctx, door, calls.JoinInput{Name: "Gina Guest", Email: "guest@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := f.calls.Admit(ctx, f.host, f.meetingID, f.guest); err != nil {
		t.Fatal(err)
	}
	first := admittedToken(t, f, door)
	if code := signalHandshake(t, hooks.srv.URL, first); code != http.StatusSwitchingProtocols {
		t.Fatalf("the admitted guest's signalling handshake: %d, want it to open", code)
	}
	hooks.stays(t, hostRoom, first).room.Disconnect()

	if _, err := f.calls.Remove(ctx, f.host, f.meetingID, f.guest); err != nil {
		t.Fatal(err)
	}
	// The token from before the removal, and one such as LiveKit hands a
	// connected client (same grants, later expiry), no longer open it.
	refreshed, err := sfu.Token(video.Grant{Room: f.meetingID, Identity: f.guest, Name: "Gina Guest", Role: video.Participant})
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{"the door's token": first, "a refreshed token": refreshed} {
		if code := signalHandshake(t, hooks.srv.URL, token); code != http.StatusForbidden {
			t.Errorf("the removed guest opens signalling with %s: %d, want 403", name, code)
		}
	}
	// Nor does a token nobody signed with the SFU's secret.
	if code := signalHandshake(t, hooks.srv.URL, first+"x"); code != http.StatusUnauthorized {
		t.Errorf("a forged token: %d, want 401", code)
	}

	// Let in again, the guest's fresh token opens it; the old one stays void.
	if err := f.calls.Admit(ctx, f.host, f.meetingID, f.guest); err != nil {
		t.Fatal(err)
	}
	if code := signalHandshake(t, hooks.srv.URL, admittedToken(t, f, door)); code != http.StatusSwitchingProtocols {
		t.Errorf("the re-admitted guest's signalling handshake: %d, want it to open", code)
	}
	if code := signalHandshake(t, hooks.srv.URL, first); code != http.StatusForbidden {
		t.Errorf("the token from before the removal after re-admission: %d, want 403", code)
	}

	// The lock keeps newcomers out here as at the door, but someone
	// already talking whose signalling dropped may resume it.
	beforeLock := admittedToken(t, f, door)
	if err := f.calls.SetLocked(ctx, f.host, f.meetingID, true); err != nil {
		t.Fatal(err)
	}
	if code := signalHandshake(t, hooks.srv.URL, beforeLock); code != http.StatusForbidden {
		t.Errorf("a token from before the lock opens signalling: %d, want 403", code)
	}
	if code := signalHandshake(t, hooks.srv.URL, beforeLock, "reconnect=1"); code != http.StatusSwitchingProtocols {
		t.Errorf("resuming signalling in a locked meeting: %d, want it to open", code)
	}
}

// TestStaleTokenSignallingOnExternalLiveKitIsSwept: an external LiveKit
// is reached directly, so no gate stands before its signalling, and it
// reports a connection only once its media flows. A removed person's old
// token holding only the signalling connection is ended by the door's
// sweep, while the people already talking stay, even once the meeting is
// locked.
func TestStaleTokenSignallingOnExternalLiveKitIsSwept(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and starts a livekit-server process")
	}
	ctx := context.Background()
	hooks := newWebhookReceiver(t)
	lk := videotest.StartLiveKit(t, hooks.URL())
	sfu, err := video.Connect(video.ExternalConfig{URL: lk.URL, APIKey: lk.APIKey, APISecret: lk.APISecret},
		clock.System{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hooks.use(t, sfu)
	f := hooks.f

	host, err := f.calls.Join(ctx, calls.MemberDoor(f.host, f.meetingID), calls.JoinInput{})
	if err != nil {
		t.Fatal(err)
	}
	hostRoom, err := videotest.Connect(host.URL, host.Token, &lksdk.RoomCallback{})
	if err != nil {
		t.Fatalf("the host connects: %v", err)
	}
	t.Cleanup(hostRoom.Disconnect)

	door := calls.GuestDoor(f.guestToken)
	if _, err := f.calls.Join(ctx, door, calls.JoinInput{Name: "Gina Guest", Email: "guest@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := f.calls.Admit(ctx, f.host, f.meetingID, f.guest); err != nil {
		t.Fatal(err)
	}
	first := admittedToken(t, f, door)
	if _, err := f.calls.Remove(ctx, f.host, f.meetingID, f.guest); err != nil {
		t.Fatal(err)
	}

	base := "http://" + strings.TrimPrefix(strings.TrimPrefix(lk.URL, "ws://"), "http://")
	resp := openSignalling(t, base, first)
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("LiveKit refused the signalling itself (%d); the sweep has nothing to do", resp.StatusCode)
	}
	signalling := func() bool {
		conns, err := sfu.Connections(ctx, f.meetingID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range conns {
			if c.Identity == f.guest {
				return true
			}
		}
		return false
	}
	videotest.WaitUntil(t, "LiveKit holds the removed guest's signalling", signalling)

	refusals := auditCount(t, f.db, "meeting.connection_refused")
	if n, err := f.calls.SweepConnections(ctx); err != nil || n != 1 {
		t.Fatalf("the sweep ended %d connections (%v), want the removed guest's", n, err)
	}
	if signalling() {
		t.Error("the removed guest's signalling outlived the sweep")
	}
	if auditCount(t, f.db, "meeting.connection_refused") != refusals+1 {
		t.Error("the ended connection is not in the audit log")
	}

	// Let in again, the guest talks with the door's fresh token. Locking
	// keeps newcomers out; the guest, talking already, stays.
	if err := f.calls.Admit(ctx, f.host, f.meetingID, f.guest); err != nil {
		t.Fatal(err)
	}
	guest := hooks.stays(t, hostRoom, admittedToken(t, f, door))
	if err := f.calls.SetLocked(ctx, f.host, f.meetingID, true); err != nil {
		t.Fatal(err)
	}
	if n, err := f.calls.SweepConnections(ctx); err != nil || n != 0 {
		t.Fatalf("the sweep after the lock ended %d connections (%v), want none", n, err)
	}
	if closed(guest.Disconnected()) || hostRoom.GetParticipantByIdentity(f.guest) == nil {
		t.Error("the lock ended the call of someone already talking")
	}
}

// signalHandshake opens LiveKit's signalling WebSocket (/rtc) on base
// with token and any further query parameters, as a browser does, and
// gives the handshake's status: 101 when the socket opened, which it then
// closes.
func signalHandshake(t *testing.T, base, token string, params ...string) int {
	t.Helper()
	resp := openSignalling(t, base, token, params...)
	resp.Body.Close()
	return resp.StatusCode
}

// openSignalling opens LiveKit's signalling WebSocket and leaves it open
// (on 101, the response's body is the socket) and silent: no media
// follows.
func openSignalling(t *testing.T, base, token string, params ...string) *http.Response {
	t.Helper()
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	req, err := http.NewRequest(http.MethodGet, base+"/rtc?"+strings.Join(append(params, "access_token="+url.QueryEscape(token)), "&"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(key))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("signalling handshake: %v", err)
	}
	return resp
}

func comingBackIsRefused(t *testing.T, hooks *webhookReceiver) {
	ctx := context.Background()
	f, sfu := hooks.f, hooks.sfu

	host, err := f.calls.Join(ctx, calls.MemberDoor(f.host, f.meetingID), calls.JoinInput{})
	if err != nil || host.Token == "" {
		t.Fatalf("the host joins: %+v %v", host, err)
	}
	hostRoom, err := videotest.Connect(host.URL, host.Token, &lksdk.RoomCallback{})
	if err != nil {
		t.Fatalf("the host connects: %v", err)
	}
	t.Cleanup(hostRoom.Disconnect)

	// The guest comes through the lobby and is let in.
	door := calls.GuestDoor(f.guestToken)
	if e, err := f.calls.Join(ctx, door, calls.JoinInput{Name: "Gina Guest", Email: "guest@example.com"}); err != nil || e.Standing != meeting.Waiting {
		t.Fatalf("the guest asks: %+v %v", e, err)
	}
	if err := f.calls.Admit(ctx, f.host, f.meetingID, f.guest); err != nil {
		t.Fatal(err)
	}
	first := admittedToken(t, f, door)
	guest := hooks.stays(t, hostRoom, first)

	// The host removes the guest: the door answers 403 from now on.
	if disconnected, err := f.calls.Remove(ctx, f.host, f.meetingID, f.guest); err != nil || !disconnected {
		t.Fatalf("remove: %v %v", disconnected, err)
	}
	videotest.WaitUntil(t, "the removed guest is disconnected", func() bool { return closed(guest.Disconnected()) })
	if _, err := f.calls.Join(ctx, door, calls.JoinInput{}); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("the door after removal: %v", err)
	}

	// Coming back with the token the door gave before: ended.
	hooks.refused(t, hostRoom, f.guest, first)
	// With a token such as LiveKit hands a connected client: the same
	// grants and attributes, a later expiry. Ended too.
	refreshed, err := sfu.Token(video.Grant{Room: f.meetingID, Identity: f.guest, Name: "Gina Guest", Role: video.Participant})
	if err != nil {
		t.Fatal(err)
	}
	hooks.refused(t, hostRoom, f.guest, refreshed)

	// Let in again, the guest comes in with the door's fresh token; the
	// tokens from before the removal stay void.
	if err := f.calls.Admit(ctx, f.host, f.meetingID, f.guest); err != nil {
		t.Fatal(err)
	}
	hooks.stays(t, hostRoom, admittedToken(t, f, door)).room.Disconnect()
	hooks.refused(t, hostRoom, f.guest, first)
	hooks.refused(t, hostRoom, f.guest, refreshed)

	// A token the door handed out before the host locked the meeting lets
	// nobody in after it.
	beforeLock := admittedToken(t, f, door)
	if err := f.calls.SetLocked(ctx, f.host, f.meetingID, true); err != nil {
		t.Fatal(err)
	}
	hooks.refused(t, hostRoom, f.guest, beforeLock)

	if n := auditCount(t, f.db, "meeting.connection_refused"); n != 5 {
		t.Errorf("%d refused connections in the audit log, want one for each of the 5", n)
	}
}

// admittedToken is the call token the door hands the admitted guest.
func admittedToken(t *testing.T, f fixture, door calls.Door) string {
	t.Helper()
	e, err := f.calls.Poll(context.Background(), door)
	if err != nil || e.Standing != meeting.Admitted || e.Token == "" {
		t.Fatalf("the admitted guest polls: %+v %v", e, err)
	}
	return e.Token
}

// webhookReceiver is the product's webhook route in small: it verifies
// each delivery with the SFU and hands it to the calls service, and
// remembers the connections whose "joined" the service has handled.
type webhookReceiver struct {
	srv     *httptest.Server
	sfu     *video.SFU
	f       fixture
	ready   atomic.Bool
	mu      sync.Mutex
	handled map[string]bool // connection ids whose participant_joined was handled
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	h := &webhookReceiver{handled: map[string]bool{}}
	mux := http.NewServeMux()
	// An embedded SFU started with PublicURL set to this server takes its
	// signalling here, as the product serves it on its own origin.
	for _, p := range video.SignalPaths {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			if !h.ready.Load() {
				http.Error(w, "not ready", http.StatusServiceUnavailable)
				return
			}
			signal, ok := h.sfu.SignalHandler()
			if !ok {
				http.NotFound(w, r)
				return
			}
			signal.ServeHTTP(w, r)
		})
	}
	h.srv = httptest.NewServer(mux)
	mux.HandleFunc("/api/livekit/webhook", func(w http.ResponseWriter, r *http.Request) {
		if !h.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable) // LiveKit retries
			return
		}
		ev, ok, err := h.sfu.ReceiveWebhook(r)
		if err != nil {
			http.Error(w, "refused", http.StatusUnauthorized)
			return
		}
		if ok {
			if err := h.f.calls.RecordEvent(r.Context(), ev); err != nil {
				t.Logf("webhook: %v", err)
				http.Error(w, "failed", http.StatusInternalServerError)
				return
			}
			if ev.Kind == video.ParticipantJoined {
				h.mu.Lock()
				h.handled[ev.Connection] = true
				h.mu.Unlock()
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
	t.Cleanup(h.srv.Close)
	return h
}

func (h *webhookReceiver) URL() string { return h.srv.URL + "/api/livekit/webhook" }

// use makes the meeting and starts taking deliveries.
func (h *webhookReceiver) use(t *testing.T, sfu *video.SFU) {
	h.sfu = sfu
	h.f = newFixture(t, "", sfu)
	h.ready.Store(true)
	// Deliveries that come while the test winds down (people leaving as
	// the SFU stops) find the database closed; LiveKit may retry them.
	t.Cleanup(func() { h.ready.Store(false) })
}

func (h *webhookReceiver) wasHandled(connection string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.handled[connection]
}

// inCall is someone connected with a token, and what they notice.
type inCall struct {
	room *lksdk.Room
	*videotest.Listener
}

// stays connects with token and checks that the service, once it has
// handled LiveKit's report of the connection, did not refuse it.
func (h *webhookReceiver) stays(t *testing.T, other *lksdk.Room, token string) inCall {
	t.Helper()
	refusals := auditCount(t, h.f.db, "meeting.connection_refused")
	l := videotest.NewListener()
	room, err := videotest.Connect(h.sfu.URL(), token, l.Callback())
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(room.Disconnect)
	sid, identity := room.LocalParticipant.SID(), room.LocalParticipant.Identity()
	videotest.WaitUntil(t, "the service handles the join", func() bool { return h.wasHandled(sid) })
	videotest.WaitUntil(t, "the others see the newcomer", func() bool { return other.GetParticipantByIdentity(identity) != nil })
	if auditCount(t, h.f.db, "meeting.connection_refused") != refusals || closed(l.Disconnected()) {
		t.Fatal("a connection the door let in was ended")
	}
	return inCall{room: room, Listener: l}
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// refused connects as identity with token and checks that LiveKit ends
// the connection and that the others in the call stop seeing it.
func (h *webhookReceiver) refused(t *testing.T, other *lksdk.Room, identity, token string) {
	t.Helper()
	l := videotest.NewListener()
	room, err := videotest.Connect(h.sfu.URL(), token, l.Callback())
	if err == nil {
		// Ended before the join finished is refused too.
		t.Cleanup(room.Disconnect)
		videotest.WaitUntil(t, "the connection is ended", func() bool { return closed(l.Disconnected()) })
	}
	videotest.WaitUntil(t, "the others stop seeing the refused person", func() bool {
		return other.GetParticipantByIdentity(identity) == nil
	})
}

// startEmbedded starts the embedded SFU on ports the kernel just handed
// out, retrying with fresh ones when another process took one first.
func startEmbedded(t *testing.T, webhookURL, publicURL string) *video.SFU {
	t.Helper()
	var lastErr error
	for range 3 {
		cfg := video.EmbeddedConfig{
			Port: videotest.FreePort(t, "tcp"), UDPPort: videotest.FreePort(t, "udp"), WebhookURL: webhookURL,
			PublicURL: publicURL,
		}
		ctx, cancel := context.WithTimeout(context.Background(), videotest.Patience)
		sfu, err := video.StartEmbedded(ctx, cfg, clock.System{}, slog.New(slog.DiscardHandler))
		cancel()
		if err == nil {
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), videotest.Patience)
				defer cancel()
				_ = sfu.Close(ctx)
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

// TestEndCallDisconnectsEveryone: a host ending the call disconnects
// everybody in it, the host too, on a real LiveKit, and the door is reset:
// the guest who was in the call waits in the lobby again.
func TestEndCallDisconnectsEveryone(t *testing.T) {
	if !video.HasEmbedded {
		t.Skip("this build has no embedded SFU")
	}
	ctx := context.Background()
	hooks := newWebhookReceiver(t)
	hooks.use(t, startEmbedded(t, hooks.URL(), ""))
	f := hooks.f

	host, err := f.calls.Join(ctx, calls.MemberDoor(f.host, f.meetingID), calls.JoinInput{})
	if err != nil {
		t.Fatal(err)
	}
	hostL := videotest.NewListener()
	hostRoom, err := videotest.Connect(host.URL, host.Token, hostL.Callback())
	if err != nil {
		t.Fatalf("the host connects: %v", err)
	}
	t.Cleanup(hostRoom.Disconnect)
	door := calls.GuestDoor(f.guestToken)
	if _, err := f.calls.Join(ctx, door, calls.JoinInput{Name: "Gina Guest", Email: "guest@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := f.calls.Admit(ctx, f.host, f.meetingID, f.guest); err != nil {
		t.Fatal(err)
	}
	guest := hooks.stays(t, hostRoom, admittedToken(t, f, door))

	// Only the host and co-hosts end it.
	if _, err := f.calls.EndCall(ctx, service.Member("acc_nobody"), f.meetingID); errs.CodeOf(err) == "" {
		t.Fatal("a stranger ended the call")
	}
	disconnected, err := f.calls.EndCall(ctx, f.host, f.meetingID)
	if err != nil || !disconnected {
		t.Fatalf("end: %v %v", disconnected, err)
	}
	videotest.WaitUntil(t, "the guest is disconnected", func() bool { return closed(guest.Disconnected()) })
	videotest.WaitUntil(t, "the host is disconnected", func() bool { return closed(hostL.Disconnected()) })
	if e, err := f.calls.Join(ctx, door, calls.JoinInput{}); err != nil || e.Standing != meeting.Waiting {
		t.Errorf("the guest coming back: %+v %v, want to wait in the lobby", e, err)
	}
	if n := auditCount(t, f.db, "meeting.end_call"); n != 1 {
		t.Errorf("%d end entries in the audit log", n)
	}
}
