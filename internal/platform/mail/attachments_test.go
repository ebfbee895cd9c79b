package mail_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/mail"
)

// TestComposeAttachments sends a message with a calendar file: the body
// comes first, as it would alone, and the file follows base64-encoded
// with its name and type.
func TestComposeAttachments(t *testing.T) {
	t.Parallel()
	ics := []byte("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n" + strings.Repeat("X", 200) + "\r\nEND:VCALENDAR\r\n")
	for _, html := range []string{"", "<p>Hello</p>"} {
		rec := mail.Record{ID: "mail_1", CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Message: mail.Message{
			Category: mail.Transactional, Template: "meeting.invitation", To: "guest@example.org", Subject: "Invitation",
			Text: "Hello", HTML: html,
			Attachments: []mail.Attachment{{Filename: "invite.ics", ContentType: "text/calendar; charset=utf-8; method=REQUEST", Data: ics}},
		}}
		raw, err := mail.Compose(&netmail.Address{Address: "sessions@example.com"}, rec)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := netmail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if mt != "multipart/mixed" {
			t.Fatalf("message type %q", mt)
		}
		mr := multipart.NewReader(msg.Body, params["boundary"])
		first, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		wantBody := "text/plain"
		if html != "" {
			wantBody = "multipart/alternative"
		}
		if ct, _, _ := mime.ParseMediaType(first.Header.Get("Content-Type")); ct != wantBody {
			t.Fatalf("first part %q, want %q", ct, wantBody)
		}
		file, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		if file.FileName() != "invite.ics" || !strings.Contains(file.Header.Get("Content-Type"), "method=REQUEST") {
			t.Fatalf("file part %v", file.Header)
		}
		got, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, file))
		if err != nil || !bytes.Equal(got, ics) {
			t.Fatalf("file content %q %v", got, err)
		}
	}
}

func TestAttachmentsAreValidated(t *testing.T) {
	t.Parallel()
	base := mail.Message{Category: mail.Transactional, Template: "meeting.invitation", To: "a@example.org", Subject: "S", Text: "T"}
	for name, a := range map[string]mail.Attachment{
		"path in the name": {Filename: "../invite.ics", ContentType: "text/calendar", Data: []byte("x")},
		"bad type":         {Filename: "invite.ics", ContentType: "text/calendar\r\nBcc: x@example.org", Data: []byte("x")},
		"too large":        {Filename: "big.bin", ContentType: "application/octet-stream", Data: make([]byte, 1<<20+1)},
	} {
		m := base
		m.Attachments = []mail.Attachment{a}
		if e, ok := errs.As(m.Validate()); !ok || e.Fields["attachments"] == "" {
			t.Errorf("%s: %v, want an error on attachments", name, m.Validate())
		}
	}
}
