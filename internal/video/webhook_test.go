package video

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
)

func bodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func testSFU(t *testing.T) *SFU {
	t.Helper()
	sfu, err := Connect(ExternalConfig{URL: "wss://video.example", APIKey: "APIkey", APISecret: "secret-secret-secret-secret-secret"},
		clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return sfu
}

func webhookRequest(body string, sign func(*http.Request, []byte)) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/video/webhook", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/webhook+json")
	sign(r, []byte(body))
	return r
}

func TestReceiveWebhookEvents(t *testing.T) {
	sfu := testSFU(t)
	signed := func(r *http.Request, b []byte) { signWebhook(r, b, "APIkey", "secret-secret-secret-secret-secret") }
	participant := `"participant":{"sid":"PA_1","identity":"par-7","name":"Erika Mustermann"}`
	tests := []struct {
		name   string
		body   string
		want   Event
		wantOK bool
	}{
		{"room started", `{"event":"room_started","id":"EV_1","createdAt":"1772355600","room":{"name":"ses-1"}}`,
			Event{ID: "EV_1", Kind: RoomStarted, Room: "ses-1", At: time.Unix(1772355600, 0).UTC()}, true},
		{"joined", `{"event":"participant_joined","id":"EV_2","createdAt":"1772355601","room":{"name":"ses-1"},` + participant + `}`,
			Event{ID: "EV_2", Kind: ParticipantJoined, Room: "ses-1", Participant: "par-7", Connection: "PA_1", At: time.Unix(1772355601, 0).UTC()}, true},
		{"joined with a door generation", `{"event":"participant_joined","id":"EV_2d","createdAt":"1772355601","room":{"name":"ses-1"},` +
			`"participant":{"sid":"PA_2","identity":"par-7","attributes":{"door":"4"}}}`,
			Event{ID: "EV_2d", Kind: ParticipantJoined, Room: "ses-1", Participant: "par-7", Connection: "PA_2", Door: 4, At: time.Unix(1772355601, 0).UTC()}, true},
		{"joined with a door that is no number", `{"event":"participant_joined","id":"EV_2e","createdAt":"1772355601","room":{"name":"ses-1"},` +
			`"participant":{"sid":"PA_3","identity":"par-7","attributes":{"door":"x"}}}`,
			Event{ID: "EV_2e", Kind: ParticipantJoined, Room: "ses-1", Participant: "par-7", Connection: "PA_3", Door: -1, At: time.Unix(1772355601, 0).UTC()}, true},
		{"left", `{"event":"participant_left","id":"EV_3","createdAt":"1772355602","room":{"name":"ses-1"},` + participant + `}`,
			Event{ID: "EV_3", Kind: ParticipantLeft, Room: "ses-1", Participant: "par-7", Connection: "PA_1", At: time.Unix(1772355602, 0).UTC()}, true},
		{"aborted counts as left", `{"event":"participant_connection_aborted","id":"EV_4","createdAt":"1772355603","room":{"name":"ses-1"},` + participant + `}`,
			Event{ID: "EV_4", Kind: ParticipantLeft, Room: "ses-1", Participant: "par-7", Connection: "PA_1", At: time.Unix(1772355603, 0).UTC()}, true},
		{"finished", `{"event":"room_finished","id":"EV_5","createdAt":"1772355604","room":{"name":"ses-1"}}`,
			Event{ID: "EV_5", Kind: RoomFinished, Room: "ses-1", At: time.Unix(1772355604, 0).UTC()}, true},
		{"no timestamp takes the clock", `{"event":"room_finished","id":"EV_6","room":{"name":"ses-1"}}`,
			Event{ID: "EV_6", Kind: RoomFinished, Room: "ses-1", At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}, true},
		{"track events are verified but not used", `{"event":"track_published","id":"EV_7","room":{"name":"ses-1"},` + participant + `}`,
			Event{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := sfu.ReceiveWebhook(webhookRequest(tt.body, signed))
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// The expired case below only proves something if a hand-signed token that
// has not expired passes.
func TestReceiveWebhookAcceptsHandSignedToken(t *testing.T) {
	sfu := testSFU(t)
	body := `{"event":"room_started","id":"EV_1","room":{"name":"ses-1"}}`
	_, ok, err := sfu.ReceiveWebhook(webhookRequest(body, func(r *http.Request, b []byte) {
		r.Header.Set("Authorization", handSignedToken("APIkey", "secret-secret-secret-secret-secret", bodyHash(b), time.Now().Add(5*time.Minute)))
	}))
	if err != nil || !ok {
		t.Fatalf("got ok=%v err=%v", ok, err)
	}
}

func TestReceiveWebhookRefusesForgeries(t *testing.T) {
	sfu := testSFU(t)
	body := `{"event":"participant_joined","id":"EV_1","room":{"name":"ses-1"},"participant":{"sid":"PA_1","identity":"par-7"}}`
	tests := []struct {
		name string
		sign func(*http.Request, []byte)
	}{
		{"unsigned", func(*http.Request, []byte) {}},
		{"garbage header", func(r *http.Request, _ []byte) { r.Header.Set("Authorization", "Bearer nonsense") }},
		{"wrong secret", func(r *http.Request, b []byte) { signWebhook(r, b, "APIkey", "not-the-secret-not-the-secret-not") }},
		{"unknown key", func(r *http.Request, b []byte) { signWebhook(r, b, "APIother", "secret-secret-secret-secret-secret") }},
		{"body changed after signing", func(r *http.Request, b []byte) {
			signWebhook(r, bytes.Replace(b, []byte("par-7"), []byte("par-8"), 1), "APIkey", "secret-secret-secret-secret-secret")
		}},
		{"expired", func(r *http.Request, b []byte) {
			// A captured delivery cannot be replayed once its token expires
			// (LiveKit allows a minute of clock skew).
			r.Header.Set("Authorization", handSignedToken("APIkey", "secret-secret-secret-secret-secret", bodyHash(b), time.Now().Add(-10*time.Minute)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ok, err := sfu.ReceiveWebhook(webhookRequest(body, tt.sign))
			if errs.CodeOf(err) != errs.Unauthorized || ok {
				t.Fatalf("got ok=%v err=%v; want unauthorized", ok, err)
			}
			if e, _ := errs.As(err); strings.Contains(e.Message, "checksum") || strings.Contains(e.Message, "secret") {
				t.Errorf("message reveals which check failed: %q", e.Message)
			}
		})
	}
}

// handSignedToken signs a webhook token expiring at exp, built by hand
// because auth.AccessToken cannot make an expired one: it treats a
// non-positive lifetime as "use the default".
func handSignedToken(key, secret, sha string, exp time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{
		"iss": key, "nbf": exp.Add(-10 * time.Minute).Unix(), "exp": exp.Unix(), "sha256": sha,
	})
	unsigned := header + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(mac.Sum(nil))
}
