package mail_test

import (
	"strings"
	"testing"

	mailpkg "github.com/sessionshq/sessions/internal/platform/mail"
)

// TestStaffCopyWithholdsWhatTheComposerNamed: a secret the composer named
// is withheld wherever it stands, even where no pattern would catch it,
// and so is quoted content, in the subject too.
func TestStaffCopyWithholdsWhatTheComposerNamed(t *testing.T) {
	t.Parallel()
	m := mailpkg.Message{
		Category: mailpkg.Transactional, Template: "meeting.invitation", To: "ada@example.com",
		Subject: "Invitation: Board pay review",
		Text: "Board pay review\nWhen: Monday\n\nWe decide on the bonus of Grace.\n\n" +
			"Join with your personal link:\nhttps://sessions.example/j/abc\n\nOr type the word swordfish.\n",
		Secrets: []string{"https://sessions.example/j/abc", "swordfish"},
		Private: []string{"Board pay review", "We decide on the bonus of Grace."},
	}
	c := m.StaffCopy()
	for _, hidden := range []string{"Board pay", "bonus", "/j/abc", "swordfish"} {
		if strings.Contains(c.Subject+c.Text, hidden) {
			t.Errorf("the staff copy shows %q:\n%s\n%s", hidden, c.Subject, c.Text)
		}
	}
	if c.Subject != "Invitation: "+mailpkg.Withheld || !strings.Contains(c.Text, "Join with your personal link:") {
		t.Errorf("the staff copy lost what staff may read:\n%s\n%s", c.Subject, c.Text)
	}
}

// TestMaskSecretsCatchesWhatNobodyNamed is the second pass: links with
// tokens in their query or path, tokens pasted as words and codes are
// withheld although the composer named none of them, while a link to an
// ordinary page stays readable.
func TestMaskSecretsCatchesWhatNobodyNamed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, in, secret, keep string
	}{
		{"reset link", "open https://s.example/reset-password?token=eyJhIjoxfQ.c2lnbmF0dXJl now", "eyJhIjoxfQ", "https://s.example/reset-password?" + mailpkg.Withheld + " now"},
		{"short query", "see https://s.example/verify-email?t=ab.", "t=ab", "https://s.example/verify-email?" + mailpkg.Withheld + "."},
		{"guest link", "https://s.example/j/Qm9hcmQgcGF5IHJldmlldw", "Qm9hcmQ", "https://s.example/j/" + mailpkg.Withheld},
		{"unsubscribe path", "<https://s.example/unsubscribe/c2VjcmV0LXRva2VuLTE>", "c2VjcmV0", "<https://s.example/unsubscribe/" + mailpkg.Withheld + ">"},
		{"calendar feed", "webcal://s.example/cal/feed.ics?key=k3y", "k3y", "webcal://s.example/cal/"},
		{"fragment", "https://s.example/setup#tok", "tok", "https://s.example/setup#" + mailpkg.Withheld},
		{"credentials", "https://user:pa55@s.example/", "pa55", mailpkg.Withheld},
		{"code", "Your code is 042917. It works", "042917", "Your code is " + mailpkg.Withheld + ". It works"},
		{"pasted token", "Token: 7f3a9c2e5b1d4f6a8c0e2b4d", "7f3a9c2e", "Token: " + mailpkg.Withheld},
		{"page link", "Sign in: https://s.example/signin and https://s.example/forgot-password.", "", "Sign in: https://s.example/signin and https://s.example/forgot-password."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := mailpkg.MaskSecrets(tt.in)
			if tt.secret != "" && strings.Contains(got, tt.secret) {
				t.Errorf("MaskSecrets(%q) = %q keeps the secret", tt.in, got)
			}
			if !strings.Contains(got, tt.keep) {
				t.Errorf("MaskSecrets(%q) = %q, want it to read %q", tt.in, got, tt.keep)
			}
		})
	}
}

// TestForStaffShowsNeitherTheMessageNorItsCopies: what staff get of a
// record is the staff copy, never the HTML body, a header's value or an
// attachment's content; a record without a staff copy shows nothing.
func TestForStaffShowsNeitherTheMessageNorItsCopies(t *testing.T) {
	t.Parallel()
	m := newsletter()
	m.Attachments = []mailpkg.Attachment{{Filename: "invite.ics", ContentType: "text/calendar", Data: []byte("URL:https://s.example/j/t0k3n")}}
	m.Secrets = []string{"https://sessions.example/unsubscribe/t0k3n"}
	rec := record(m)
	rec.Staff = m.StaffCopy()
	got := rec.ForStaff()
	if got.Text != rec.Staff.Text || got.Subject != rec.Staff.Subject || got.HTML != "" {
		t.Errorf("staff see %q / %q / %q", got.Subject, got.Text, got.HTML)
	}
	if got.Headers["List-Unsubscribe"] != mailpkg.Withheld || len(got.Attachments) != 1 || got.Attachments[0].Data != nil ||
		got.Attachments[0].Filename != "invite.ics" {
		t.Errorf("headers %v, attachments %+v", got.Headers, got.Attachments)
	}
	if rec.Headers["List-Unsubscribe"] == mailpkg.Withheld || rec.Attachments[0].Data == nil {
		t.Error("ForStaff changed the record it was given")
	}
	old := record(newsletter()) // queued before staff copies existed
	if got := old.ForStaff(); got.Text != mailpkg.Withheld || got.Subject != mailpkg.Withheld {
		t.Errorf("a record without a staff copy shows %q / %q", got.Subject, got.Text)
	}
}
