package store_test

import (
	"context"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/store"
)

// The use cases of meetings are tested in internal/service/meetings.

// TestOutboxKeepsAttachments stores a message with a file and reads it
// back whole.
func TestOutboxKeepsAttachments(t *testing.T) {
	t.Parallel()
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
