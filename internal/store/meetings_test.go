package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/store"
)

var meetingTestLinks = meeting.Links{BaseURL: "http://sessions.test", Domain: "sessions.test"}

func meetingTestDetails(t *testing.T, rrule string) meeting.Details {
	t.Helper()
	d, err := meeting.Check(meeting.Input{Title: "Weekly planning", Start: "2026-03-02T10:00", TimeZone: "Europe/Berlin",
		DurationMinutes: 45, RRule: rrule, Lobby: true})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestMeetingLifecycle follows a meeting from creation through an
// invitation, an update and a cancellation, checking what each step
// stores and mails, and that personal links follow.
func TestMeetingLifecycle(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	host := orgTestAccount(t, db, "host@example.com", true)
	member := orgTestAccount(t, db, "member@example.com", true)
	stranger := orgTestAccount(t, db, "stranger@example.com", true)

	m, err := store.CreateMeeting(ctx, db, orgTestSecret, orgTestNow, host, "", meetingTestDetails(t, "FREQ=WEEKLY;COUNT=4"))
	if err != nil {
		t.Fatal(err)
	}
	if _, acc, err := store.MeetingFor(ctx, db, m.ID, host); err != nil || acc.Role != meeting.Host {
		t.Fatalf("host access: %+v %v", acc, err)
	}
	if _, _, err := store.MeetingFor(ctx, db, m.ID, stranger); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("a stranger sees the meeting: %v", err)
	}

	guest, err := store.InviteToMeeting(ctx, db, orgTestSecret, orgTestNow, meetingTestLinks, host, m.ID, "guest@example.org", meeting.RoleParticipant)
	if err != nil {
		t.Fatal(err)
	}
	if !guest.Participant.Guest() {
		t.Fatal("an unknown address should be invited as a guest")
	}
	mem, err := store.InviteToMeeting(ctx, db, orgTestSecret, orgTestNow, meetingTestLinks, host, m.ID, "member@example.com", meeting.CoHost)
	if err != nil {
		t.Fatal(err)
	}
	if mem.Participant.AccountID != member {
		t.Fatalf("a member's address should bind to their account, got %q", mem.Participant.AccountID)
	}
	if _, err := store.InviteToMeeting(ctx, db, orgTestSecret, orgTestNow, meetingTestLinks, host, m.ID, "guest@example.org", meeting.RoleParticipant); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("a second invitation to the same address: %v", err)
	}
	// A co-host may edit but not make co-hosts.
	if _, err := store.InviteToMeeting(ctx, db, orgTestSecret, orgTestNow, meetingTestLinks, member, m.ID, "other@example.org", meeting.CoHost); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("a co-host made a co-host: %v", err)
	}

	rec, err := store.NewOutbox(db).Get(ctx, guest.MailID)
	if err != nil {
		t.Fatal(err)
	}
	token := personalToken(t, rec.Text)
	if p, err := store.ParticipantByInvite(ctx, db, orgTestSecret, token, orgTestNow); err != nil || p.ID != guest.Participant.ID {
		t.Fatalf("the mailed link: %+v %v", p, err)
	}
	if len(rec.Attachments) != 1 || !strings.Contains(string(rec.Attachments[0].Data), "METHOD:REQUEST") ||
		!strings.Contains(string(rec.Attachments[0].Data), "SEQUENCE:0") {
		t.Fatalf("the invitation lacks its iCalendar REQUEST: %+v", rec.Attachments)
	}
	for name, tok := range map[string]string{
		"forged":  signed.Make([]byte("another secret of at least 32 bytes!!"), meeting.InvitePurpose, guest.Participant.ID, orgTestNow.Add(time.Hour)),
		"garbage": "not-a-token",
	} {
		if _, err := store.ParticipantByInvite(ctx, db, orgTestSecret, tok, orgTestNow); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("%s link: %v, want NotFound", name, err)
		}
	}
	if _, err := store.ParticipantByInvite(ctx, db, orgTestSecret, token, m.InviteExpiry()); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("expired link: %v, want NotFound", err)
	}

	// An update that moves the meeting raises SEQUENCE, mails both
	// invitees and replaces their links.
	d := meetingTestDetails(t, "FREQ=WEEKLY;COUNT=4")
	d.StartsAt = d.StartsAt.Add(time.Hour)
	up, err := store.UpdateMeeting(ctx, db, orgTestSecret, orgTestNow, meetingTestLinks, member, m.ID, d)
	if err != nil {
		t.Fatal(err)
	}
	if up.Meeting.ICalSequence != 1 || len(up.MailIDs) != 2 {
		t.Fatalf("update: sequence %d, %d mails", up.Meeting.ICalSequence, len(up.MailIDs))
	}
	if _, err := store.ParticipantByInvite(ctx, db, orgTestSecret, token, orgTestNow); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("the replaced link still works: %v", err)
	}
	// An update that changes nothing a calendar shows mails nobody.
	d.Lobby = false
	if up, err = store.UpdateMeeting(ctx, db, orgTestSecret, orgTestNow, meetingTestLinks, host, m.ID, d); err != nil || len(up.MailIDs) != 0 || up.Meeting.ICalSequence != 1 {
		t.Fatalf("quiet update: %+v %v", up, err)
	}

	// Only the host cancels; the cancellation is mailed as METHOD:CANCEL.
	if _, err := store.CancelMeeting(ctx, db, orgTestSecret, orgTestNow, meetingTestLinks, member, m.ID); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("a co-host cancelled: %v", err)
	}
	c, err := store.CancelMeeting(ctx, db, orgTestSecret, orgTestNow, meetingTestLinks, host, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Meeting.State != meeting.Cancelled || len(c.MailIDs) != 2 {
		t.Fatalf("cancel: %+v", c)
	}
	rec, err = store.NewOutbox(db).Get(ctx, c.MailIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if ics := string(rec.Attachments[0].Data); !strings.Contains(ics, "METHOD:CANCEL") || !strings.Contains(ics, "SEQUENCE:2") {
		t.Fatalf("cancellation calendar:\n%s", ics)
	}
	if _, err := store.UpdateMeeting(ctx, db, orgTestSecret, orgTestNow, meetingTestLinks, host, m.ID, d); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("editing a cancelled meeting: %v", err)
	}
	keys, err := store.DeleteMeeting(ctx, db, orgTestSecret, orgTestNow, host, m.ID)
	if err != nil || len(keys) != 0 {
		t.Fatalf("delete: %v %v", keys, err)
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
	ctx := context.Background()
	db := dbtest.Open(t)
	host := orgTestAccount(t, db, "host@example.com", true)
	other := orgTestAccount(t, db, "other@example.com", true)
	m, err := store.CreateMeeting(ctx, db, orgTestSecret, orgTestNow, host, "", meetingTestDetails(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.InviteToMeeting(ctx, db, orgTestSecret, orgTestNow, meetingTestLinks, host, m.ID, "other@example.com", meeting.RoleParticipant); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddAgendaItems(ctx, db, orgTestSecret, orgTestNow, host, m.ID, []meeting.ItemInput{{Title: "Welcome", PlannedMinutes: 5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddResource(ctx, db, orgTestSecret, orgTestNow, host, meeting.Resource{MeetingID: m.ID, Kind: meeting.LinkResource,
		Title: "Board", URL: "https://miro.com/app/board/abc=/", Provider: meeting.Miro}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM accounts WHERE id = ?`, host); err != nil {
		t.Fatal(err)
	}
	got, acc, err := store.MeetingFor(ctx, db, m.ID, other)
	if err != nil || got.HostID != "" || acc.Role != meeting.RoleParticipant {
		t.Fatalf("after the host's erasure: %+v %+v %v", got, acc, err)
	}
	items, err := store.Agenda(ctx, db, m.ID)
	if err != nil || len(items) != 1 || items[0].CreatedBy != "" || items[0].Title != "Welcome" {
		t.Fatalf("agenda: %+v %v", items, err)
	}
	rs, err := store.Resources(ctx, db, m.ID)
	if err != nil || len(rs) != 1 || rs[0].AddedBy != "" {
		t.Fatalf("resources: %+v %v", rs, err)
	}
}

// TestAgendaReorderAndTemplates reorders an agenda, refuses an order that
// loses an item, saves it as a template and applies it to another meeting.
func TestAgendaReorderAndTemplates(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	host := orgTestAccount(t, db, "host@example.com", true)
	m, err := store.CreateMeeting(ctx, db, orgTestSecret, orgTestNow, host, "", meetingTestDetails(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	items, err := store.AddAgendaItems(ctx, db, orgTestSecret, orgTestNow, host, m.ID, []meeting.ItemInput{
		{Title: "One", PlannedMinutes: 5}, {Title: "Two", PlannedMinutes: 10}, {Title: "Three", PlannedMinutes: 15, Notes: "wrap up"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.ReorderAgenda(ctx, db, orgTestSecret, orgTestNow, host, m.ID, []string{items[2].ID, items[0].ID}); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("an order that loses an item: %v", err)
	}
	got, err := store.ReorderAgenda(ctx, db, orgTestSecret, orgTestNow, host, m.ID, []string{items[2].ID, items[0].ID, items[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	if titles(got) != "Three,One,Two" {
		t.Fatalf("order %s", titles(got))
	}
	if err := store.DeleteAgendaItem(ctx, db, orgTestSecret, orgTestNow, host, m.ID, items[0].ID); err != nil {
		t.Fatal(err)
	}
	got, _ = store.Agenda(ctx, db, m.ID)
	if titles(got) != "Three,Two" || got[1].Position != 2 {
		t.Fatalf("after delete: %s %+v", titles(got), got)
	}
	tpl, err := store.SaveAgendaTemplate(ctx, db, orgTestSecret, orgTestNow, host, m.ID, "", "Standard")
	if err != nil {
		t.Fatal(err)
	}
	m2, err := store.CreateMeeting(ctx, db, orgTestSecret, orgTestNow, host, "", meetingTestDetails(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	applied, err := store.ApplyAgendaTemplate(ctx, db, orgTestSecret, orgTestNow, host, m2.ID, tpl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if titles(applied) != "Three,Two" || applied[0].Notes != "wrap up" {
		t.Fatalf("applied %s", titles(applied))
	}
	stranger := orgTestAccount(t, db, "stranger@example.com", true)
	if _, err := store.ApplyAgendaTemplate(ctx, db, orgTestSecret, orgTestNow, stranger, m2.ID, tpl.ID); errs.CodeOf(err) != errs.NotFound {
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

// TestOutboxKeepsAttachments stores a message with a file and reads it
// back whole.
func TestOutboxKeepsAttachments(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	id, err := store.EnqueueMail(ctx, db, orgTestNow, mail.Message{Category: mail.Transactional, Template: "meeting.invitation",
		To: "a@example.com", Subject: "Hi", Text: "Hello",
		Attachments: []mail.Attachment{{Filename: "invite.ics", ContentType: "text/calendar; method=REQUEST", Data: []byte("BEGIN:VCALENDAR\r\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := store.NewOutbox(db).Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Attachments) != 1 || string(rec.Attachments[0].Data) != "BEGIN:VCALENDAR\r\n" || rec.Attachments[0].Filename != "invite.ics" {
		t.Fatalf("attachments: %+v", rec.Attachments)
	}
}
