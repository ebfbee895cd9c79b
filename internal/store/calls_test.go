package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/store"
)

var callNow = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

// callFixture is a meeting with a host (a member) and a guest, written
// straight into the tables so these tests depend only on the schema.
type callFixture struct {
	db                  *database.DB
	meetingID           string
	hostAccount         string
	host, guest, member string // participant ids
	memberAccount       string
}

func newCallFixture(t *testing.T) callFixture {
	t.Helper()
	db := dbtest.Open(t)
	ctx := context.Background()
	f := callFixture{db: db, meetingID: meeting.NewID()}
	f.hostAccount = mktAccount(t, db, "host-"+f.meetingID+"@example.com", true)
	f.memberAccount = mktAccount(t, db, "member-"+f.meetingID+"@example.com", true)
	if _, err := db.Exec(ctx, `INSERT INTO meetings (id, host_id, title, starts_at, time_zone, duration_minutes, state, created_at, updated_at)
		VALUES (?, ?, 'Weekly', ?, 'Europe/Berlin', 30, 'scheduled', ?, ?)`, f.meetingID, f.hostAccount, callNow, callNow, callNow); err != nil {
		t.Fatal(err)
	}
	add := func(accountID any, email any, role meeting.Role) string {
		id := meeting.NewParticipantID()
		if _, err := db.Exec(ctx, `INSERT INTO meeting_participants (id, meeting_id, account_id, email, role, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			id, f.meetingID, accountID, email, string(role), callNow); err != nil {
			t.Fatal(err)
		}
		return id
	}
	f.host = add(f.hostAccount, nil, meeting.Host)
	f.member = add(f.memberAccount, nil, meeting.RoleParticipant)
	f.guest = add(nil, "guest@example.com", meeting.RoleParticipant)
	return f
}

func TestDoorReadsMeetingAndParticipants(t *testing.T) {
	t.Parallel()
	f := newCallFixture(t)
	ctx := context.Background()
	m, p, err := store.MemberAtDoor(ctx, f.db, f.meetingID, f.memberAccount)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != f.meetingID || m.State != meeting.Scheduled || !m.Lobby || m.Locked || m.HasPasscode() {
		t.Fatalf("meeting %+v", m)
	}
	if p.ID != f.member || p.Role != meeting.RoleParticipant || p.AccountName == "" || p.Guest() {
		t.Fatalf("participant %+v", p)
	}
	stranger := mktAccount(t, f.db, "stranger@example.com", true)
	if _, _, err := store.MemberAtDoor(ctx, f.db, f.meetingID, stranger); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("a stranger at the door: %v, want forbidden", err)
	}
	if _, _, err := store.MemberAtDoor(ctx, f.db, "mtg_missing", f.memberAccount); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("an unknown meeting: %v, want not found", err)
	}
	if _, err := store.MeetingParticipant(ctx, f.db, f.meetingID, "par_other"); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("an unknown participant: %v, want not found", err)
	}

	d := meeting.GuestDetails{Name: "Gina Guest", Email: "guest@example.com"}
	if err := store.GuestArrives(ctx, f.db, f.guest, d, meeting.LobbyWaiting, callNow); err != nil {
		t.Fatal(err)
	}
	waiting, err := store.WaitingList(ctx, f.db, f.meetingID)
	if err != nil || len(waiting) != 1 || waiting[0].ID != f.guest || waiting[0].Name != "Gina Guest" || !waiting[0].Guest() {
		t.Fatalf("waiting list %+v, %v", waiting, err)
	}
}

// The audit entries of moderation are the service's; see
// internal/service/calls.
func TestDoorStateIsStored(t *testing.T) {
	t.Parallel()
	f := newCallFixture(t)
	ctx := context.Background()
	if err := store.SetLobbyState(ctx, f.db, f.guest, meeting.LobbyDenied, callNow); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.MeetingParticipant(ctx, f.db, f.meetingID, f.guest); got.LobbyState != meeting.LobbyDenied || got.LobbyAt == nil {
		t.Fatalf("after deny: %+v", got)
	}

	for i, want := range []bool{true, false} {
		changed, err := store.SetLocked(ctx, f.db, f.meetingID, true, callNow)
		if err != nil {
			t.Fatal(err)
		}
		if changed != want {
			t.Errorf("locking the %d. time reported changed=%v", i+1, changed)
		}
	}
	if m, _ := store.GetMeeting(ctx, f.db, f.meetingID); !m.Locked {
		t.Fatal("the meeting is not locked")
	}
	if changed, err := store.SetLocked(ctx, f.db, f.meetingID, false, callNow); err != nil || !changed {
		t.Fatalf("unlock: %v %v", changed, err)
	}
	if m, _ := store.GetMeeting(ctx, f.db, f.meetingID); m.Locked {
		t.Fatal("unlocking did not take")
	}
}

func TestMessagesPollInOrder(t *testing.T) {
	t.Parallel()
	f := newCallFixture(t)
	ctx := context.Background()
	// Writers race; every message must get its own seq, with no gaps.
	var wg sync.WaitGroup
	errc := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kind := meeting.Chat
			if i == 3 {
				kind = meeting.Question
			}
			_, err := store.AddMessage(ctx, f.db, meeting.Message{
				ID: meeting.NewMessageID(), MeetingID: f.meetingID, ParticipantID: f.member,
				AuthorName: "Member", Kind: kind, Body: "hello", CreatedAt: callNow,
			})
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	all, err := store.Messages(ctx, f.db, f.meetingID, 0, 0)
	if err != nil || len(all) != 10 {
		t.Fatalf("%d messages, %v", len(all), err)
	}
	for i, m := range all {
		if m.Seq != int64(i+1) || m.ParticipantID != f.member {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
	if n := countRows(t, f.db, `SELECT COUNT(*) FROM meeting_messages WHERE account_id = ?`, f.memberAccount); n != 10 {
		t.Errorf("%d messages carry the author's account id, want 10 (erasure finds them by it)", n)
	}
	later, err := store.Messages(ctx, f.db, f.meetingID, 7, 2)
	if err != nil || len(later) != 2 || later[0].Seq != 8 || later[1].Seq != 9 {
		t.Fatalf("after 7, two: %+v, %v", later, err)
	}

	var question, chat string
	for _, m := range all {
		if m.Kind == meeting.Question {
			question = m.ID
		} else {
			chat = m.ID
		}
	}
	if err := store.MarkAnswered(ctx, f.db, f.meetingID, question, callNow); err != nil {
		t.Fatal(err)
	}
	if err := store.MarkAnswered(ctx, f.db, f.meetingID, chat, callNow); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("answering a chat message: %v, want not found", err)
	}
	all, _ = store.Messages(ctx, f.db, f.meetingID, 0, 0)
	for _, m := range all {
		if (m.ID == question) != (m.AnsweredAt != nil) {
			t.Errorf("message %s answered at %v", m.ID, m.AnsweredAt)
		}
	}
}

func TestCallEventsDriveAttendanceAndLiveState(t *testing.T) {
	t.Parallel()
	f := newCallFixture(t)
	ctx := context.Background()
	at := func(sec int) time.Time { return callNow.Add(time.Duration(sec) * time.Second) }
	record := func(ev meeting.CallEvent) bool {
		t.Helper()
		ev.MeetingID = f.meetingID
		ok, err := store.RecordCallEvent(ctx, f.db, ev, at(100))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if err := store.SetLobbyState(ctx, f.db, f.guest, meeting.LobbyAdmitted, at(1)); err != nil {
		t.Fatal(err)
	}

	if !record(meeting.CallEvent{ID: "EV_1", Kind: meeting.CallStarted, At: at(1)}) {
		t.Fatal("room started was not recorded")
	}
	if live, _ := store.LiveState(ctx, f.db, f.meetingID); !live.Running || !live.StartedAt.Equal(at(1)) {
		t.Fatalf("live %+v", live)
	}
	record(meeting.CallEvent{ID: "EV_2", Kind: meeting.ParticipantJoined, ParticipantID: f.host, ConnectionID: "PA_h1", At: at(2)})
	// The guest's "left" overtakes their "joined".
	record(meeting.CallEvent{ID: "EV_4", Kind: meeting.ParticipantLeft, ParticipantID: f.guest, ConnectionID: "PA_g1", At: at(9)})
	record(meeting.CallEvent{ID: "EV_3", Kind: meeting.ParticipantJoined, ParticipantID: f.guest, ConnectionID: "PA_g1", At: at(3)})
	// A retried delivery, an identity that is not a participant, and a room
	// that is not a meeting change nothing.
	if record(meeting.CallEvent{ID: "EV_3", Kind: meeting.ParticipantJoined, ParticipantID: f.guest, ConnectionID: "PA_g2", At: at(5)}) {
		t.Error("a repeated event was recorded")
	}
	if record(meeting.CallEvent{ID: "EV_5", Kind: meeting.ParticipantJoined, ParticipantID: "par_intruder", ConnectionID: "PA_x", At: at(5)}) {
		t.Error("an unknown identity was recorded")
	}
	if ok, err := store.RecordCallEvent(ctx, f.db, meeting.CallEvent{ID: "EV_6", Kind: meeting.CallStarted, MeetingID: "other-app-room", At: at(5)}, at(100)); ok || err != nil {
		t.Errorf("another application's room: %v, %v", ok, err)
	}

	list, err := store.Attendance(ctx, f.db, f.meetingID)
	if err != nil || len(list) != 2 {
		t.Fatalf("attendance %+v, %v", list, err)
	}
	if list[0].ParticipantID != f.host || !list[0].JoinedAt.Equal(at(2)) || list[0].LeftAt != nil || list[0].Role != meeting.Host {
		t.Errorf("host's visit %+v", list[0])
	}
	if list[1].ParticipantID != f.guest || !list[1].JoinedAt.Equal(at(3)) || !list[1].LeftAt.Equal(at(9)) || list[1].Name != "guest@example.com" {
		t.Errorf("guest's visit %+v", list[1])
	}

	// The call ends: the host's open visit closes, the door resets.
	record(meeting.CallEvent{ID: "EV_7", Kind: meeting.CallFinished, At: at(20)})
	list, _ = store.Attendance(ctx, f.db, f.meetingID)
	if list[0].LeftAt == nil || !list[0].LeftAt.Equal(at(20)) {
		t.Errorf("the host's visit was left open: %+v", list[0])
	}
	if live, _ := store.LiveState(ctx, f.db, f.meetingID); live.Running || !live.EndedAt.Equal(at(20)) {
		t.Errorf("live after finish %+v", live)
	}
	if p, _ := store.MeetingParticipant(ctx, f.db, f.meetingID, f.guest); p.LobbyState != "" {
		t.Errorf("the guest is still %q after the call ended", p.LobbyState)
	}

	// A newer call started; the late "finished" of an older one leaves it
	// running.
	record(meeting.CallEvent{ID: "EV_8", Kind: meeting.CallStarted, At: at(30)})
	record(meeting.CallEvent{ID: "EV_9", Kind: meeting.CallFinished, At: at(25)})
	if live, _ := store.LiveState(ctx, f.db, f.meetingID); !live.Running || !live.StartedAt.Equal(at(30)) {
		t.Errorf("a late finish ended the newer call: %+v", live)
	}

	// Webhook ids are forgotten after a day.
	if _, err := store.RecordCallEvent(ctx, f.db, meeting.CallEvent{ID: "EV_10", Kind: meeting.CallStarted, MeetingID: f.meetingID, At: at(40)}, at(100).Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, f.db, `SELECT COUNT(*) FROM livekit_webhook_events`); n != 1 {
		t.Errorf("%d webhook ids kept, want only the newest", n)
	}
}

// TestCallRowsFollowTheirParticipant checks the foreign keys the data map
// relies on: a participant's attendance goes with their place in the
// meeting, their messages stay for the others.
func TestCallRowsFollowTheirParticipant(t *testing.T) {
	t.Parallel()
	f := newCallFixture(t)
	ctx := context.Background()
	if _, err := store.AddMessage(ctx, f.db, meeting.Message{
		ID: meeting.NewMessageID(), MeetingID: f.meetingID, ParticipantID: f.guest, AuthorName: "Gina", Kind: meeting.Chat, Body: "hi", CreatedAt: callNow,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.RecordCallEvent(ctx, f.db, meeting.CallEvent{ID: "EV_1", Kind: meeting.ParticipantJoined, MeetingID: f.meetingID,
		ParticipantID: f.guest, ConnectionID: "PA_1", At: callNow}, callNow); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(ctx, `DELETE FROM meeting_participants WHERE id = ?`, f.guest); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, f.db, `SELECT COUNT(*) FROM meeting_attendance`); n != 0 {
		t.Errorf("%d attendance rows outlived their participant", n)
	}
	msgs, _ := store.Messages(ctx, f.db, f.meetingID, 0, 0)
	if len(msgs) != 1 || msgs[0].ParticipantID != "" {
		t.Errorf("messages after the author left: %+v", msgs)
	}
}
