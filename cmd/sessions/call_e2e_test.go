package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/video/videotest"
)

// TestBinaryCallWithEmbeddedSFU runs the real binary as `go run` would,
// with the SFU embedded in it.
func TestBinaryCallWithEmbeddedSFU(t *testing.T) {
	t.Parallel()
	oneCallAtATime(t)
	runBinaryCall(t, binary(t), nil)
}

// TestBinaryCallWithExternalLiveKit runs the same call through a
// separately started livekit-server v1.13.5, given to the binary with
// SESSIONS_LIVEKIT_URL, which sends its webhooks to the binary. The binary
// is built with -tags nosfu, without the embedded SFU: that build must
// serve calls through an external LiveKit alone.
func TestBinaryCallWithExternalLiveKit(t *testing.T) {
	t.Parallel()
	oneCallAtATime(t)
	if testing.Short() {
		t.Skip("builds and starts a livekit-server process")
	}
	runBinaryCall(t, binaryWithoutSFU(t), func(webhookURL string) []string {
		lk := videotest.StartLiveKit(t, webhookURL)
		return []string{"SESSIONS_LIVEKIT_URL=" + lk.URL, "SESSIONS_LIVEKIT_API_KEY=" + lk.APIKey, "SESSIONS_LIVEKIT_API_SECRET=" + lk.APISecret}
	})
}

// TestBinaryWithoutSFUNeedsExternalLiveKit: the build without the
// embedded SFU refuses to serve without an external LiveKit, naming the
// setting, instead of running without calls.
func TestBinaryWithoutSFUNeedsExternalLiveKit(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	target := dbtest.NewTarget(t)
	cmd := exec.Command(binaryWithoutSFU(t))
	cmd.Env = append(os.Environ(), append(target.Env(), "SESSIONS_ADDR=127.0.0.1:0", "SESSIONS_LIVEKIT_URL=")...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2\n%s", err, out)
	}
	if !strings.Contains(string(out), "SESSIONS_LIVEKIT_URL") {
		t.Fatalf("the refusal does not name the setting:\n%s", out)
	}
}

// callPerson is a member with a personal API token and their place in
// the meeting.
type callPerson struct {
	account.Account
	token string
	pid   string
}

// runBinaryCall: two members get tokens through the binary's API and join
// with LiveKit's Go SDK; the host publishes audio and the other receives
// its RTP packets; the attendance appears from the webhooks; the host
// removes the other, who is disconnected and cannot come back, neither
// through the door nor with the LiveKit token she already holds.
func runBinaryCall(t *testing.T, bin string, external func(webhookURL string) []string) {
	ctx := context.Background()
	db, target := dbtest.OpenTarget(t)
	meetingID := meeting.NewID()
	host := callMember(t, db, "Hanna Host", "hanna.host@example.org")
	ada := callMember(t, db, "Ada Attendee", "ada.attendee@example.org")
	now := time.Now().UTC()
	if _, err := db.Exec(ctx, `INSERT INTO meetings (id, host_id, title, starts_at, time_zone, duration_minutes, state, created_at, updated_at)
		VALUES (?, ?, 'E2E call', ?, 'UTC', 30, 'scheduled', ?, ?)`, meetingID, host.ID, now, now, now); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		who  *callPerson
		role meeting.Role
	}{{host, meeting.Host}, {ada, meeting.RoleParticipant}} {
		p.who.pid = meeting.NewParticipantID()
		if _, err := db.Exec(ctx, `INSERT INTO meeting_participants (id, meeting_id, account_id, email, role, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			p.who.pid, meetingID, p.who.ID, p.who.Email, string(p.role), now); err != nil {
			t.Fatal(err)
		}
	}

	addr := freeAddr(t)
	env := append(target.Env(), "SESSIONS_ADDR="+addr, "SESSIONS_BASE_URL=http://"+addr,
		"SESSIONS_VIDEO_PORT=0", "SESSIONS_VIDEO_UDP_PORT=0", "SESSIONS_LOG_LEVEL=debug")
	if external != nil {
		env = append(env, external("http://"+addr+"/api/livekit/webhook")...)
	}
	s := startBinaryFrom(t, bin, env...)

	// Ada joins first and listens to the host.
	adaAnswer := joinThroughAPI(t, s, meetingID, ada)
	if external == nil && !strings.HasPrefix(adaAnswer.URL, "ws://"+addr) {
		t.Fatalf("clients are sent to %s, not through the product's origin", adaAnswer.URL)
	}
	adaEars := videotest.NewListener()
	adaRoom, err := videotest.Connect(adaAnswer.URL, adaAnswer.Token, adaEars.Callback())
	if err != nil {
		t.Fatalf("Ada connects: %v\n%s", err, s.stderr.String())
	}
	defer adaRoom.Disconnect()

	hostAnswer := joinThroughAPI(t, s, meetingID, host)
	hostRoom, err := videotest.Connect(hostAnswer.URL, hostAnswer.Token, &lksdk.RoomCallback{})
	if err != nil {
		t.Fatalf("the host connects: %v", err)
	}
	defer hostRoom.Disconnect()
	speaking, stop := context.WithCancel(ctx)
	defer stop()
	videotest.Speak(speaking, t, hostRoom)

	// Two seconds of audio: media flows, not just signalling.
	videotest.WaitUntil(t, "Ada receives the host's audio", func() bool { return adaEars.Packets() > 100 })
	t.Logf("Ada received %d RTP packets", adaEars.Packets())

	// The webhooks record both visits and the running call.
	videotest.WaitUntil(t, "attendance of both", func() bool {
		a := callAttendanceOf(t, s, meetingID, host)
		return a.Live.Running && a.joined(host.pid) && a.joined(ada.pid)
	})

	// The host removes Ada: she is disconnected and kept out.
	res := callAPI(t, s, http.MethodPost, "/api/meetings/"+meetingID+"/participants/"+ada.pid+"/remove", host, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.body, `"disconnected": true`) {
		t.Fatalf("remove: %d %s", res.StatusCode, res.body)
	}
	select {
	case <-adaEars.Disconnected():
	case <-time.After(videotest.Patience):
		t.Fatal("Ada was not disconnected")
	}
	if res := callAPI(t, s, http.MethodPost, "/api/meetings/"+meetingID+"/join", ada, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("Ada joins again after removal: %d", res.StatusCode)
	}
	videotest.WaitUntil(t, "Ada's visit to end", func() bool { return callAttendanceOf(t, s, meetingID, host).left(ada.pid) })

	// The token the door gave her before is still one LiveKit accepts,
	// but the product ends the connection as soon as LiveKit reports it:
	// she never stays in the call.
	back := videotest.NewListener()
	if again, err := videotest.Connect(adaAnswer.URL, adaAnswer.Token, back.Callback()); err == nil {
		defer again.Disconnect()
		select {
		case <-back.Disconnected():
		case <-time.After(videotest.Patience):
			t.Fatal("Ada came back into the call with the token from before her removal")
		}
	}
	videotest.WaitUntil(t, "the host no longer sees Ada", func() bool { return hostRoom.GetParticipantByIdentity(ada.pid) == nil })

	stop()
	hostRoom.Disconnect()
	s.stop(t)

	logs := s.stderr.String()
	for _, personal := range []string{"Hanna", "Ada Attendee", "example.org"} {
		if strings.Contains(logs, personal) {
			t.Errorf("the log names %q", personal)
		}
	}
}

func callMember(t *testing.T, db *database.DB, name, email string) *callPerson {
	t.Helper()
	now := time.Now().UTC()
	a := account.Account{
		ID: account.NewID(), Email: email, EmailVerifiedAt: &now, PasswordHash: "x", PasswordChangedAt: now,
		Name: name, Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if err := store.CreateAccount(context.Background(), db, a); err != nil {
		t.Fatal(err)
	}
	secret := account.NewAPIToken()
	tok := account.APIToken{ID: account.NewTokenID(), AccountID: a.ID, Name: "e2e", Scopes: []account.Scope{account.ScopeMeetings},
		CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	if err := store.CreateAPIToken(context.Background(), db, tok, account.TokenDigest(secret)); err != nil {
		t.Fatal(err)
	}
	return &callPerson{Account: a, token: secret}
}

type callAPIResult struct {
	StatusCode int
	body       string
}

func callAPI(t *testing.T, s *server, method, path string, who *callPerson, body any) callAPIResult {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+who.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return callAPIResult{StatusCode: resp.StatusCode, body: string(b)}
}

type callJoinAnswer struct {
	State, Token, URL, Identity, Room, Role string
}

func joinThroughAPI(t *testing.T, s *server, meetingID string, who *callPerson) callJoinAnswer {
	t.Helper()
	res := callAPI(t, s, http.MethodPost, "/api/meetings/"+meetingID+"/join", who, map[string]string{})
	var a callJoinAnswer
	if err := json.Unmarshal([]byte(res.body), &a); err != nil || res.StatusCode != http.StatusOK || a.Token == "" || a.Identity != who.pid || a.Room != meetingID {
		t.Fatalf("%s joins: %d %s", who.Name, res.StatusCode, res.body)
	}
	return a
}

type callAttendance struct {
	Live struct {
		Running bool `json:"running"`
	} `json:"live"`
	Attendance []struct {
		ParticipantID string     `json:"participant_id"`
		JoinedAt      *time.Time `json:"joined_at"`
		LeftAt        *time.Time `json:"left_at"`
	} `json:"attendance"`
}

func (a callAttendance) joined(pid string) bool {
	for _, v := range a.Attendance {
		if v.ParticipantID == pid && v.JoinedAt != nil {
			return true
		}
	}
	return false
}

func (a callAttendance) left(pid string) bool {
	for _, v := range a.Attendance {
		if v.ParticipantID == pid && v.JoinedAt != nil && v.LeftAt != nil && !v.LeftAt.Before(*v.JoinedAt) {
			return true
		}
	}
	return false
}

func callAttendanceOf(t *testing.T, s *server, meetingID string, host *callPerson) callAttendance {
	t.Helper()
	res := callAPI(t, s, http.MethodGet, "/api/meetings/"+meetingID+"/attendance", host, nil)
	var a callAttendance
	if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(res.body), &a) != nil {
		t.Fatalf("attendance: %d %s", res.StatusCode, res.body)
	}
	return a
}
