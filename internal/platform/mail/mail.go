// Package mail owns outgoing e-mail. Every message is first written to the
// outbox in the same transaction as the change that caused it (see
// store.EnqueueMail), so a message exists exactly when that change does.
// After the commit a background job delivers it over SMTP, retrying with
// backoff; without an SMTP server messages stay in the outbox, where the
// operator reads them from the command line or the staff console.
//
// The package knows nothing of SQL: the outbox is the Outbox interface,
// which the store package implements.
package mail

import (
	"context"
	"fmt"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
)

// Category says on what footing a message is sent: transactional mail is
// part of a service the person uses, marketing mail needs their consent
// and must offer a one-click unsubscribe.
type Category string

const (
	Transactional Category = "transactional"
	Marketing     Category = "marketing"
)

// Status is where a message is in its delivery.
type Status string

const (
	Pending Status = "pending" // waiting for its next attempt, or for an SMTP server
	Sent    Status = "sent"    // accepted by the SMTP server
	Failed  Status = "failed"  // given up; an operator may retry it
	Held    Status = "held"    // kept back on purpose and not delivered
)

// Statuses lists every status, for filters.
var Statuses = []Status{Pending, Sent, Failed, Held}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Message is what a module asks to send.
type Message struct {
	// PersonID links the message to the person it is about, so that their
	// export and erasure find it; empty when there is no such person yet
	// (an invitation to an address, for example).
	PersonID string
	// AboutID is the account id of someone other than the recipient whom
	// the message names, because their action caused it: the host of a
	// meeting invitation, the member who invited someone to an
	// organisation. Their export lists the message (without its text,
	// which is the recipient's) and their erasure deletes it, delivered
	// or not, so that their name and address do not stay behind in mail
	// to others.
	AboutID  string
	Category Category
	// Template names the kind of message ("account.verify"); it tells the
	// operator what a message is without reading it.
	Template string
	To       string // one address, optionally with a display name
	Subject  string
	Text     string // the plain-text body; always present
	HTML     string // an optional HTML alternative
	// Headers are extra header fields such as List-Unsubscribe. The fields
	// that give the message its structure (From, To, Subject, Date,
	// Message-ID, MIME and Content-* fields, and the like) cannot be set.
	Headers map[string]string
	// Attachments are files sent with the message, such as the iCalendar
	// invitation of a meeting; they are stored with it in the outbox.
	Attachments []Attachment
	// Secrets are the values in the subject or the text that act for the
	// recipient: a link with a token, a confirmation code. Private is
	// what the message quotes of what people wrote, such as a meeting's
	// title and description. Neither is stored apart from the message:
	// they only keep their values out of the staff copy (see StaffCopy).
	Secrets []string
	Private []string
}

// Attachment is one file sent with a message.
type Attachment struct {
	// Filename is what the recipient's program calls the file.
	Filename string `json:"filename"`
	// ContentType is the file's media type with its parameters, such as
	// "text/calendar; charset=utf-8; method=REQUEST".
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// Record is a message in the outbox with its delivery state.
type Record struct {
	ID        string
	CreatedAt time.Time
	Message
	Status        Status
	Attempts      int
	NextAttemptAt time.Time
	// LastError describes the last failed attempt without personal data:
	// the stage and the SMTP status code, never the server's free text.
	LastError string
	SentAt    *time.Time
	// Staff is the staff copy made when the message was queued; empty for
	// a message queued before staff copies existed.
	Staff StaffCopy
}

// Filter selects outbox records for listing, newest first.
type Filter struct {
	Status   Status // empty for all
	PersonID string // empty for all
	Limit    int    // at most MaxListLimit; zero means DefaultListLimit
}

const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Outbox is the storage of messages. store.Outbox implements it.
type Outbox interface {
	// Claim takes message id for one delivery attempt if it is pending
	// and due at now: in one transaction it counts the attempt and moves
	// the next attempt to leaseUntil, so no other worker takes it while
	// this one sends. ok is false when the message is not claimable.
	Claim(ctx context.Context, id string, now, leaseUntil time.Time) (rec Record, ok bool, err error)
	// MarkSent records a delivery. attempt is the Attempts value the claim
	// returned; a record changed since (its lease expired and another
	// worker claimed it) is left alone and ErrLeaseLost returned.
	MarkSent(ctx context.Context, id string, attempt int, at time.Time) error
	// Reschedule records a failed attempt to be retried at retryAt.
	Reschedule(ctx context.Context, id string, attempt int, retryAt time.Time, lastError string) error
	// Fail records a failed attempt after which no more are made.
	Fail(ctx context.Context, id string, attempt int, lastError string) error
	// Due lists pending messages whose next attempt is due at now.
	Due(ctx context.Context, now time.Time, limit int) ([]Due, error)
	List(ctx context.Context, f Filter) ([]Record, error)
	// Get returns one message, or an errs.NotFound error.
	Get(ctx context.Context, id string) (Record, error)
	// Requeue makes a failed message pending again with a fresh count of
	// attempts, due at now. It returns errs.NotFound or errs.Conflict when
	// the message does not exist or has not failed.
	Requeue(ctx context.Context, id string, now time.Time) (Record, error)
}

// Due is a message waiting for its next attempt: its id and how many
// attempts it has had, counting claims whose worker never reported back.
type Due struct {
	ID       string
	Attempts int
}

// ErrLeaseLost means a delivery outcome was not recorded because the
// message was claimed again in the meantime.
var ErrLeaseLost = errs.E(errs.Conflict, "the message was claimed by another delivery attempt")

// Limits on what a message may hold; they keep every header line within
// RFC 5322's 998 characters once encoded.
const (
	maxSubjectRunes = 250
	maxHeaderValue  = 900
	maxTemplate     = 100
	maxBodyBytes    = 2 << 20
	// maxAttachments and maxAttachmentBytes keep a message small enough
	// for any receiving server: what we attach is generated by us, such
	// as a calendar invitation, never a person's upload.
	maxAttachments     = 5
	maxAttachmentBytes = 1 << 20
)

var attachmentName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// reservedHeaders are set by the composer and may not be supplied.
var reservedHeaders = map[string]bool{
	"from": true, "sender": true, "to": true, "cc": true, "bcc": true, "subject": true,
	"date": true, "message-id": true, "mime-version": true, "content-type": true,
	"content-transfer-encoding": true, "content-disposition": true, "content-id": true,
	"return-path": true, "received": true, "in-reply-to": true, "references": true,
}

var (
	headerName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)
	templateName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
)

// Validate checks a message before it is stored. The errors name the
// field and are safe to show to the module's developer; they never quote
// the values.
func (m Message) Validate() error {
	v := errs.Validation{}
	switch m.Category {
	case Transactional, Marketing:
	default:
		v.Add("category", "must be transactional or marketing")
	}
	if len(m.Template) > maxTemplate || !templateName.MatchString(m.Template) {
		v.Add("template", "must be a lower-case name such as account.verify")
	}
	if _, err := ParseRecipient(m.To); err != nil {
		v.Add("to", "must be one e-mail address")
	}
	switch {
	case strings.TrimSpace(m.Subject) == "":
		v.Add("subject", "must not be empty")
	case strings.IndexFunc(m.Subject, unicode.IsControl) >= 0:
		v.Add("subject", "must be one line without control characters")
	case utf8.RuneCountInString(m.Subject) > maxSubjectRunes || !utf8.ValidString(m.Subject):
		v.Add("subject", fmt.Sprintf("must be valid text of at most %d characters", maxSubjectRunes))
	}
	if strings.TrimSpace(m.Text) == "" {
		v.Add("text", "must not be empty: every message has a plain-text body")
	}
	if len(m.Text) > maxBodyBytes || len(m.HTML) > maxBodyBytes || !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
		v.Add("text", "the bodies must be valid UTF-8 of at most 2 MiB each")
	}
	hasUnsubscribe := false
	for name, value := range m.Headers {
		key := strings.ToLower(name)
		switch {
		case !headerName.MatchString(name):
			v.Add("headers", "a header name is not valid")
		case reservedHeaders[key]:
			v.Add("headers", "the header "+name+" is set by the mail service and cannot be given")
		case strings.ContainsAny(value, "\r\n\x00") || len(value) > maxHeaderValue || !utf8.ValidString(value):
			v.Add("headers", "the header "+name+" must be one line of at most 900 bytes")
		}
		if key == "list-unsubscribe" && strings.TrimSpace(value) != "" {
			hasUnsubscribe = true
		}
	}
	if len(m.Attachments) > maxAttachments {
		v.Add("attachments", fmt.Sprintf("at most %d files may be attached", maxAttachments))
	}
	total := 0
	for _, a := range m.Attachments {
		total += len(a.Data)
		if !attachmentName.MatchString(a.Filename) {
			v.Add("attachments", "a file name must be letters, digits, dots, dashes or underscores")
		}
		if _, _, err := mime.ParseMediaType(a.ContentType); err != nil || strings.ContainsAny(a.ContentType, "\r\n") {
			v.Add("attachments", "a file's content type is not a valid media type")
		}
	}
	if total > maxAttachmentBytes {
		v.Add("attachments", "the attached files must be at most 1 MiB together")
	}
	if m.Category == Marketing && !hasUnsubscribe {
		// Marketing without a way out is never sent (RFC 8058 asks for
		// List-Unsubscribe and List-Unsubscribe-Post).
		v.Add("headers", "marketing mail must carry a List-Unsubscribe header")
	}
	return v.Err()
}

// ParseRecipient parses one address, with or without a display name.
func ParseRecipient(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("not a single line")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(a.Address, "@") {
		return nil, fmt.Errorf("not an address")
	}
	return a, nil
}
