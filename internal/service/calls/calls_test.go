package calls_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/calls"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/video"
)

var callNow = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

var callSecret = []byte("calls-service-secret-0123456789abcdefgh")

// fixture is a meeting with a host (a member) and a guest with a
// personal link, written straight into the tables.
type fixture struct {
	db         *database.DB
	calls      *calls.Service
	meetingID  string
	host       service.Actor
	guest      string // participant id
	guestToken string
}

func newFixture(t *testing.T, passcode string, sfu *video.SFU) fixture {
	t.Helper()
	db := dbtest.Open(t)
	ctx := context.Background()
	svc, err := wire.New(wire.Parts{DB: db, Clock: clock.NewFake(callNow), Secret: callSecret, Video: sfu})
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{db: db, calls: svc.Calls, meetingID: meeting.NewID()}
	a := account.Account{
		ID: account.NewID(), Email: "host-" + f.meetingID + "@example.com", PasswordHash: "x", PasswordChangedAt: callNow,
		Name: "Host", Status: account.Active, CreatedAt: callNow, UpdatedAt: callNow, LastActiveAt: callNow,
	}
	if err := store.CreateAccount(ctx, db, a); err != nil {
		t.Fatal(err)
	}
	f.host = service.Member(a.ID)
	var hash any
	if passcode != "" {
		hash = meeting.HashPasscode(callSecret, f.meetingID, passcode)
	}
	if _, err := db.Exec(ctx, `INSERT INTO meetings (id, host_id, title, starts_at, time_zone, duration_minutes, state, passcode_hash, created_at, updated_at)
		VALUES (?, ?, 'Weekly', ?, 'Europe/Berlin', 30, 'scheduled', ?, ?, ?)`, f.meetingID, a.ID, callNow, hash, callNow, callNow); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO meeting_participants (id, meeting_id, account_id, role, created_at) VALUES (?, ?, ?, ?, ?)`,
		meeting.NewParticipantID(), f.meetingID, a.ID, string(meeting.Host), callNow); err != nil {
		t.Fatal(err)
	}
	f.guest = meeting.NewParticipantID()
	exp := callNow.Add(30 * 24 * time.Hour)
	f.guestToken = signed.Make(callSecret, meeting.InvitePurpose, f.guest, exp)
	if _, err := db.Exec(ctx, `INSERT INTO meeting_participants (id, meeting_id, email, role, invite_digest, invite_expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, f.guest, f.meetingID, "guest@example.com", string(meeting.RoleParticipant),
		signed.Digest(f.guestToken), exp, callNow); err != nil {
		t.Fatal(err)
	}
	return f
}

func auditCount(t *testing.T, db *database.DB, action string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = ?`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestModerationIsAudited(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "", nil)
	ctx := context.Background()
	if disconnected, err := f.calls.Deny(ctx, f.host, f.meetingID, f.guest); err != nil || disconnected {
		t.Fatalf("deny: %v %v", disconnected, err)
	}
	if got, _ := store.MeetingParticipant(ctx, f.db, f.meetingID, f.guest); got.LobbyState != meeting.LobbyDenied || got.LobbyAt == nil || got.DoorGeneration != 1 {
		t.Fatalf("after deny: %+v", got)
	}
	if n := auditCount(t, f.db, "meeting.deny"); n != 1 {
		t.Fatalf("%d deny entries", n)
	}

	for range 2 {
		if err := f.calls.SetLocked(ctx, f.host, f.meetingID, true); err != nil {
			t.Fatal(err)
		}
	}
	if m, _ := store.GetMeeting(ctx, f.db, f.meetingID); !m.Locked {
		t.Fatal("the meeting is not locked")
	}
	if n := auditCount(t, f.db, "meeting.lock"); n != 1 {
		t.Errorf("locking twice wrote %d entries, want 1", n)
	}
	if err := f.calls.SetLocked(ctx, f.host, f.meetingID, false); err != nil {
		t.Fatal(err)
	}
	if m, _ := store.GetMeeting(ctx, f.db, f.meetingID); m.Locked || auditCount(t, f.db, "meeting.unlock") != 1 {
		t.Fatal("unlocking did not take or was not audited")
	}

	// Only hosts and co-hosts moderate; the refusal writes nothing.
	if err := f.calls.SetLocked(ctx, service.Member("acc_stranger"), f.meetingID, true); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("a stranger locked the meeting: %v", err)
	}
	if m, _ := store.GetMeeting(ctx, f.db, f.meetingID); m.Locked {
		t.Fatal("a stranger's lock took")
	}
}

// A wrong passcode is refused, yet counted and the guest's details kept:
// the refusal commits what the door counted, so that guessing runs into
// the limit.
func TestWrongPasscodesAreCountedUntilTheDoorWaits(t *testing.T) {
	t.Parallel()
	sfu, err := video.Connect(video.ExternalConfig{URL: "ws://127.0.0.1:1", APIKey: "key", APISecret: "secret-secret-secret-secret-secret"},
		clock.NewFake(callNow), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, "open sesame", sfu)
	ctx := context.Background()
	in := calls.JoinInput{Name: "Gina Guest", Email: "guest@example.com", Passcode: "wrong"}
	for i := range meeting.PasscodeThrottle.Limit {
		if _, err := f.calls.Join(ctx, calls.GuestDoor(f.guestToken), in); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("wrong passcode %d: %v", i+1, err)
		}
	}
	if p, _ := store.MeetingParticipant(ctx, f.db, f.meetingID, f.guest); p.Name != "Gina Guest" {
		t.Fatalf("the guest's name was not kept: %+v", p)
	}
	in.Passcode = "open sesame"
	_, err = f.calls.Join(ctx, calls.GuestDoor(f.guestToken), in)
	if errs.WaitOf(err) <= 0 || errs.CodeOf(err) != errs.RateLimited {
		t.Fatalf("the right passcode after the limit: %v", err)
	}

	// The landing form shows a wrong passcode as a refusal of what was
	// typed, and the limit as an error.
	l, err := f.calls.GuestArrive(ctx, f.guestToken, in)
	if errs.CodeOf(err) != errs.RateLimited || l.Meeting.ID != f.meetingID {
		t.Fatalf("landing form at the limit: %+v %v", l, err)
	}
}

// Through the door, a guest polls the lobby and gets a token once a host
// lets them in.
func TestGuestWaitsThenIsAdmittedWithAToken(t *testing.T) {
	t.Parallel()
	sfu, err := video.Connect(video.ExternalConfig{URL: "ws://127.0.0.1:1", APIKey: "key", APISecret: "secret-secret-secret-secret-secret"},
		clock.NewFake(callNow), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, "", sfu)
	ctx := context.Background()
	door := calls.GuestDoor(f.guestToken)
	if _, err := f.calls.Poll(ctx, door); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("a poll before asking: %v", err)
	}
	e, err := f.calls.Join(ctx, door, calls.JoinInput{Name: "Gina Guest", Email: "guest@example.com"})
	if err != nil || e.Standing != meeting.Waiting || e.Token != "" {
		t.Fatalf("join: %+v %v", e, err)
	}
	lobby, err := f.calls.Lobby(ctx, f.host, f.meetingID)
	if err != nil || len(lobby.Waiting) != 1 || lobby.Waiting[0].ID != f.guest {
		t.Fatalf("lobby: %+v %v", lobby, err)
	}
	if err := f.calls.Admit(ctx, f.host, f.meetingID, f.guest); err != nil {
		t.Fatal(err)
	}
	e, err = f.calls.Poll(ctx, door)
	if err != nil || e.Standing != meeting.Admitted || e.Token == "" || e.Identity != f.guest || e.Room != f.meetingID {
		t.Fatalf("poll once admitted: %+v %v", e, err)
	}
	if n := auditCount(t, f.db, "meeting.admit"); n != 1 {
		t.Fatalf("%d admit entries", n)
	}
}
