package mail_test

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sessionshq/sessions/internal/errs"
	mailpkg "github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
)

func validMessage() mailpkg.Message {
	return mailpkg.Message{
		PersonID: "p1",
		Category: mailpkg.Transactional,
		Template: "account.verify",
		To:       "Ada Lovelace <ada@example.com>",
		Subject:  "Confirm your address",
		Text:     "Hello Ada,\nplease confirm.",
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(m *mailpkg.Message)
		field  string // "" means valid
	}{
		{"valid", func(m *mailpkg.Message) {}, ""},
		{"unknown category", func(m *mailpkg.Message) { m.Category = "spam" }, "category"},
		{"template with spaces", func(m *mailpkg.Message) { m.Template = "Account Verify" }, "template"},
		{"two recipients", func(m *mailpkg.Message) { m.To = "a@example.com, b@example.com" }, "to"},
		{"not an address", func(m *mailpkg.Message) { m.To = "ada" }, "to"},
		{"header injection in the recipient", func(m *mailpkg.Message) { m.To = "a@example.com\r\nBcc: b@example.com" }, "to"},
		{"header injection in the subject", func(m *mailpkg.Message) { m.Subject = "Hi\r\nBcc: b@example.com" }, "subject"},
		{"control character in the subject", func(m *mailpkg.Message) { m.Subject = "Hi\x1b[2J" }, "subject"},
		{"empty subject", func(m *mailpkg.Message) { m.Subject = " " }, "subject"},
		{"no text body", func(m *mailpkg.Message) { m.Text = ""; m.HTML = "<p>hi</p>" }, "text"},
		{"reserved header", func(m *mailpkg.Message) { m.Headers = map[string]string{"Bcc": "b@example.com"} }, "headers"},
		{"header value injection", func(m *mailpkg.Message) { m.Headers = map[string]string{"X-Tag": "a\r\nBcc: b@example.com"} }, "headers"},
		{"bad header name", func(m *mailpkg.Message) { m.Headers = map[string]string{"X Tag": "a"} }, "headers"},
		{"marketing without unsubscribe", func(m *mailpkg.Message) { m.Category = mailpkg.Marketing }, "headers"},
		{"marketing with unsubscribe", func(m *mailpkg.Message) {
			m.Category = mailpkg.Marketing
			m.Headers = map[string]string{"List-Unsubscribe": "<https://example.com/u/x>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMessage()
			tt.change(&m)
			err := m.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("valid message refused: %v", err)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid {
				t.Fatalf("got %v, want an invalid error", err)
			}
			if _, ok := e.Fields[tt.field]; !ok {
				t.Fatalf("fields %v do not name %q", e.Fields, tt.field)
			}
		})
	}
}

func record(m mailpkg.Message) mailpkg.Record {
	return mailpkg.Record{
		ID:        "mail_0123456789abcdef01234567",
		CreatedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		Message:   m,
		Status:    mailpkg.Pending,
	}
}

func TestComposeTextOnly(t *testing.T) {
	t.Parallel()
	from, _ := mail.ParseAddress("Sessions <no-reply@sessions.example>")
	m := validMessage()
	m.Subject = "Grüße aus Köln — bitte bestätigen"
	m.Text = "Zeile eins\nZeile zwei mit Umlauten: äöü\n" + strings.Repeat("lang ", 60)
	raw, err := mailpkg.Compose(from, record(m))
	if err != nil {
		t.Fatal(err)
	}
	got := mailtest.Parse(raw)
	if got.ParseError != nil {
		t.Fatalf("%v\n%s", got.ParseError, raw)
	}
	if got.Subject != m.Subject {
		t.Errorf("subject = %q, want %q", got.Subject, m.Subject)
	}
	if strings.Contains(string(raw), "Grüße") {
		t.Error("the subject went out unencoded")
	}
	if got.ContentType != "text/plain" {
		t.Errorf("content type = %q", got.ContentType)
	}
	if got.Text != m.Text {
		t.Errorf("text = %q, want %q", got.Text, m.Text)
	}
	if got.Header.Get("Message-ID") != "<mail_0123456789abcdef01234567@sessions.example>" {
		t.Errorf("Message-ID = %q", got.Header.Get("Message-ID"))
	}
	if d, err := got.Header.Date(); err != nil || !d.Equal(record(m).CreatedAt) {
		t.Errorf("Date = %v (%v)", d, err)
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line %d is %d characters long", i, len(line))
		}
	}
}

func TestComposeAlternativeWithHeaders(t *testing.T) {
	t.Parallel()
	from, _ := mail.ParseAddress("Sessions <no-reply@sessions.example>")
	m := validMessage()
	m.HTML = "<p>Hello <b>Ada</b></p>"
	m.Headers = map[string]string{"list-unsubscribe": "<https://sessions.example/u/abc>", "X-Sessions-Template": "account.verify"}
	raw, err := mailpkg.Compose(from, record(m))
	if err != nil {
		t.Fatal(err)
	}
	got := mailtest.Parse(raw)
	if got.ParseError != nil {
		t.Fatalf("%v\n%s", got.ParseError, raw)
	}
	if got.ContentType != "multipart/alternative" {
		t.Fatalf("content type = %q", got.ContentType)
	}
	if got.Text != m.Text || got.HTML != m.HTML {
		t.Fatalf("bodies = %q / %q", got.Text, got.HTML)
	}
	if v := got.Header.Get("List-Unsubscribe"); v != "<https://sessions.example/u/abc>" {
		t.Errorf("List-Unsubscribe = %q", v)
	}
	if got.Header.Get("MIME-Version") != "1.0" {
		t.Error("MIME-Version missing")
	}
}

func TestSendErrorHidesServerText(t *testing.T) {
	t.Parallel()
	e := &mailpkg.SendError{Stage: mailpkg.StageRecipient, Err: &smtp.SMTPError{
		Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<ada@example.com>: no such user"}}
	if strings.Contains(e.Error(), "ada@") {
		t.Fatalf("error text leaks the address: %q", e.Error())
	}
	if e.Error() != "recipient: SMTP 550 5.1.1" {
		t.Fatalf("error text = %q", e.Error())
	}
	if !e.Permanent() {
		t.Fatal("a 550 to RCPT is permanent")
	}
	temp := &mailpkg.SendError{Stage: mailpkg.StageRecipient, Err: &smtp.SMTPError{Code: 451}}
	if temp.Permanent() {
		t.Fatal("a 451 is temporary")
	}
	timeout := &mailpkg.SendError{Stage: mailpkg.StageConnect, Err: context.DeadlineExceeded}
	if timeout.Error() != "connect: timed out" || timeout.Permanent() {
		t.Fatalf("timeout = %q", timeout.Error())
	}
	if !errors.Is(timeout, context.DeadlineExceeded) {
		t.Fatal("the cause is lost")
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute}
	for i, w := range want {
		if got := mailpkg.DefaultBackoff(i + 1); got != w {
			t.Errorf("attempt %d: %s, want %s", i+1, got, w)
		}
	}
	if got := mailpkg.DefaultBackoff(40); got != 6*time.Hour {
		t.Errorf("cap: %s", got)
	}
}
