package meetings_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/service/meetings"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/store"
)

var (
	testSecret = []byte("meetings-test-secret-0123456789abcdefghij")
	testNow    = time.Date(2026, 2, 10, 9, 30, 0, 0, time.UTC)
)

// newService is the meetings service on a fresh database, at testNow,
// with http://sessions.test as the public address and no mail delivery:
// what it mails stays in the outbox for the test to read.
func newService(t *testing.T) (*meetings.Service, *database.DB) {
	t.Helper()
	db := dbtest.Open(t)
	s, err := wire.New(wire.Parts{Config: config.Config{BaseURL: "http://sessions.test"}, DB: db,
		Clock: clock.NewFake(testNow), Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	return s.Meetings, db
}

// newAccount adds a verified member and returns their id.
func newAccount(t *testing.T, db *database.DB, email string) string {
	t.Helper()
	at := testNow
	a := account.Account{ID: account.NewID(), Email: email, EmailVerifiedAt: &at, PasswordHash: "not-a-real-hash",
		PasswordChangedAt: testNow, Name: "Name of " + email, Status: account.Active, CreatedAt: testNow, UpdatedAt: testNow,
		LastActiveAt: testNow}
	if err := store.CreateAccount(context.Background(), db, a); err != nil {
		t.Fatalf("create account: %v", err)
	}
	return a.ID
}

func testInput(rrule string) meeting.Input {
	return meeting.Input{Title: "Weekly planning", Start: "2026-03-02T10:00", TimeZone: "Europe/Berlin",
		DurationMinutes: 45, RRule: rrule, Lobby: true}
}

// outbox lists the queued messages made from template.
func outbox(t *testing.T, db *database.DB, template string) []mail.Record {
	t.Helper()
	recs, err := store.NewOutbox(db).List(context.Background(), mail.Filter{Limit: mail.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	var out []mail.Record
	for _, r := range recs {
		if r.Template == template {
			out = append(out, r)
		}
	}
	return out
}

// mailTo is the one message made from template to the address.
func mailTo(t *testing.T, db *database.DB, template, to string) mail.Record {
	t.Helper()
	var found []mail.Record
	for _, r := range outbox(t, db, template) {
		if r.To == to {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s messages to %s, want 1", len(found), template, to)
	}
	return found[0]
}

// TestMeetingLifecycle follows a meeting from creation through an
// invitation, an update and a cancellation, checking what each step
// stores and mails, and that personal links follow.
func TestMeetingLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db := newService(t)
	host := newAccount(t, db, "host@example.com")
	member := newAccount(t, db, "member@example.com")
	stranger := newAccount(t, db, "stranger@example.com")

	m, err := svc.Create(ctx, host, "", testInput("FREQ=WEEKLY;COUNT=4"))
	if err != nil {
		t.Fatal(err)
	}
	if _, acc, err := svc.Get(ctx, host, m.ID); err != nil || acc.Role != meeting.Host {
		t.Fatalf("host access: %+v %v", acc, err)
	}
	if _, _, err := svc.Get(ctx, stranger, m.ID); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("a stranger sees the meeting: %v", err)
	}

	guest, err := svc.Invite(ctx, host, m.ID, "guest@example.org", string(meeting.RoleParticipant))
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := store.MeetingParticipant(ctx, db, m.ID, guest.ID); err != nil || !stored.Guest() {
		t.Fatalf("an unknown address should be invited as a guest: %+v %v", stored, err)
	}
	mem, err := svc.Invite(ctx, host, m.ID, "member@example.com", string(meeting.CoHost))
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := store.MeetingParticipant(ctx, db, m.ID, mem.ID); err != nil || stored.AccountID != member {
		t.Fatalf("a member's address should bind to their account, got %+v %v", stored, err)
	}
	if _, err := svc.Invite(ctx, host, m.ID, "guest@example.org", string(meeting.RoleParticipant)); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("a second invitation to the same address: %v", err)
	}
	// A co-host may edit but not make co-hosts.
	if _, err := svc.Invite(ctx, member, m.ID, "other@example.org", string(meeting.CoHost)); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("a co-host made a co-host: %v", err)
	}

	rec := mailTo(t, db, "meeting.invitation", "guest@example.org")
	token := personalToken(t, rec.Text)
	if p, err := store.ParticipantByInvite(ctx, db, testSecret, token, testNow); err != nil || p.ID != guest.ID {
		t.Fatalf("the mailed link: %+v %v", p, err)
	}
	if len(rec.Attachments) != 1 || !strings.Contains(string(rec.Attachments[0].Data), "METHOD:REQUEST") ||
		!strings.Contains(string(rec.Attachments[0].Data), "SEQUENCE:0") {
		t.Fatalf("the invitation lacks its iCalendar REQUEST: %+v", rec.Attachments)
	}
	for name, tok := range map[string]string{
		"forged":  signed.Make([]byte("another secret of at least 32 bytes!!"), meeting.InvitePurpose, guest.ID, testNow.Add(time.Hour)),
		"garbage": "not-a-token",
	} {
		if _, err := store.ParticipantByInvite(ctx, db, testSecret, tok, testNow); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("%s link: %v, want NotFound", name, err)
		}
	}
	if _, err := store.ParticipantByInvite(ctx, db, testSecret, token, m.InviteExpiry()); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("expired link: %v, want NotFound", err)
	}

	// An update that moves the meeting raises SEQUENCE, mails both
	// invitees and replaces their links.
	in := testInput("FREQ=WEEKLY;COUNT=4")
	in.Start = "2026-03-02T11:00"
	up, err := svc.Update(ctx, member, m.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(outbox(t, db, "meeting.update")); up.ICalSequence != 1 || n != 2 {
		t.Fatalf("update: sequence %d, %d mails", up.ICalSequence, n)
	}
	if _, err := store.ParticipantByInvite(ctx, db, testSecret, token, testNow); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("the replaced link still works: %v", err)
	}
	// An update that changes nothing a calendar shows mails nobody.
	in.Lobby = false
	if up, err = svc.Update(ctx, host, m.ID, in); err != nil || len(outbox(t, db, "meeting.update")) != 2 || up.ICalSequence != 1 {
		t.Fatalf("quiet update: %+v %v", up, err)
	}

	// Only the host cancels; the cancellation is mailed as METHOD:CANCEL.
	if _, err := svc.Cancel(ctx, member, m.ID); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("a co-host cancelled: %v", err)
	}
	c, err := svc.Cancel(ctx, host, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	cancels := outbox(t, db, "meeting.cancel")
	if c.State != meeting.Cancelled || len(cancels) != 2 {
		t.Fatalf("cancel: %+v, %d mails", c, len(cancels))
	}
	if ics := string(cancels[0].Attachments[0].Data); !strings.Contains(ics, "METHOD:CANCEL") || !strings.Contains(ics, "SEQUENCE:2") {
		t.Fatalf("cancellation calendar:\n%s", ics)
	}
	if _, err := svc.Update(ctx, host, m.ID, in); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("editing a cancelled meeting: %v", err)
	}
	if err := svc.Delete(ctx, host, m.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM meeting_participants WHERE meeting_id = ?`, m.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("participants left after deletion: %d %v", n, err)
	}
}

// personalToken finds the token of the personal link in a mail body.
func personalToken(t *testing.T, text string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, "http://sessions.test/j/")
	if !ok {
		t.Fatalf("no personal link in:\n%s", text)
	}
	return strings.Fields(rest)[0]
}

// TestMeetingHostErasedKeepsMeeting deletes the host's account: the
// meeting stays for the others with no host, its agenda and resources
// without their author.
func TestMeetingHostErasedKeepsMeeting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db := newService(t)
	host := newAccount(t, db, "host@example.com")
	other := newAccount(t, db, "other@example.com")
	m, err := svc.Create(ctx, host, "", testInput(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Invite(ctx, host, m.ID, "other@example.com", string(meeting.RoleParticipant)); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddAgendaItems(ctx, host, m.ID, []meeting.ItemInput{{Title: "Welcome", PlannedMinutes: 5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddLink(ctx, host, m.ID, "Board", "https://miro.com/app/board/abc=/"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM accounts WHERE id = ?`, host); err != nil {
		t.Fatal(err)
	}
	got, acc, err := svc.Get(ctx, other, m.ID)
	if err != nil || got.HostID != "" || acc.Role != meeting.RoleParticipant {
		t.Fatalf("after the host's erasure: %+v %+v %v", got, acc, err)
	}
	items, err := svc.Agenda(ctx, other, m.ID)
	if err != nil || len(items) != 1 || items[0].CreatedBy != "" || items[0].Title != "Welcome" {
		t.Fatalf("agenda: %+v %v", items, err)
	}
	rs, err := svc.Resources(ctx, other, m.ID)
	if err != nil || len(rs) != 1 || rs[0].AddedBy != "" {
		t.Fatalf("resources: %+v %v", rs, err)
	}
}

// TestAgendaReorderAndTemplates reorders an agenda, refuses an order that
// loses an item, saves it as a template and applies it to another meeting.
func TestAgendaReorderAndTemplates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db := newService(t)
	host := newAccount(t, db, "host@example.com")
	m, err := svc.Create(ctx, host, "", testInput(""))
	if err != nil {
		t.Fatal(err)
	}
	items, err := svc.AddAgendaItems(ctx, host, m.ID, []meeting.ItemInput{
		{Title: "One", PlannedMinutes: 5}, {Title: "Two", PlannedMinutes: 10}, {Title: "Three", PlannedMinutes: 15, Notes: "wrap up"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ReorderAgenda(ctx, host, m.ID, []string{items[2].ID, items[0].ID}); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("an order that loses an item: %v", err)
	}
	got, err := svc.ReorderAgenda(ctx, host, m.ID, []string{items[2].ID, items[0].ID, items[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	if titles(got) != "Three,One,Two" {
		t.Fatalf("order %s", titles(got))
	}
	if err := svc.DeleteAgendaItem(ctx, host, m.ID, items[0].ID); err != nil {
		t.Fatal(err)
	}
	got, _ = svc.Agenda(ctx, host, m.ID)
	if titles(got) != "Three,Two" || got[1].Position != 2 {
		t.Fatalf("after delete: %s %+v", titles(got), got)
	}
	tpl, err := svc.SaveTemplate(ctx, host, m.ID, "", "Standard")
	if err != nil {
		t.Fatal(err)
	}
	m2, err := svc.Create(ctx, host, "", testInput(""))
	if err != nil {
		t.Fatal(err)
	}
	applied, err := svc.ApplyTemplate(ctx, host, m2.ID, tpl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if titles(applied) != "Three,Two" || applied[0].Notes != "wrap up" {
		t.Fatalf("applied %s", titles(applied))
	}
	stranger := newAccount(t, db, "stranger@example.com")
	if _, err := svc.ApplyTemplate(ctx, stranger, m2.ID, tpl.ID); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("someone else's template: %v", err)
	}
}

func titles(items []meeting.AgendaItem) string {
	var out []string
	for _, it := range items {
		out = append(out, it.Title)
	}
	return strings.Join(out, ",")
}
