package marketing

import (
	"html"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
	outmail "github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/signed"
)

// CampaignStatus is where a campaign is in its life.
type CampaignStatus string

const (
	Draft   CampaignStatus = "draft"   // composed, not sent
	Sending CampaignStatus = "sending" // the job is working through the members
	Sent    CampaignStatus = "sent"    // every member was considered
)

// Campaign is a marketing message composed by staff for every member the
// purpose gate allows.
type Campaign struct {
	ID         string         `json:"id"`
	Subject    string         `json:"subject"`
	Text       string         `json:"text"`
	HTML       string         `json:"html"`
	Status     CampaignStatus `json:"status"`
	CreatedAt  time.Time      `json:"created_at"`
	StartedAt  *time.Time     `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at"`
	// Queued and Skipped count the members a message was queued for and
	// those the gate, their preferences or the suppression list kept out.
	Queued  int `json:"queued"`
	Skipped int `json:"skipped"`
}

// Field names of a campaign.
const (
	FieldSubject = "subject"
	FieldText    = "text"
	FieldHTML    = "html"
)

// Limits of a campaign.
const (
	MaxSubject = 200
	MaxText    = 100_000
	MaxHTML    = 500_000
)

// CampaignDraft is a campaign as staff compose it.
type CampaignDraft struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// Clean trims and checks a draft: a one-line subject, a plain-text body
// (every message has one) and an optional HTML body.
func (d *CampaignDraft) Clean() error {
	d.Subject = strings.TrimSpace(d.Subject)
	d.Text = strings.TrimSpace(d.Text)
	d.HTML = strings.TrimSpace(d.HTML)
	v := errs.Validation{}
	switch {
	case d.Subject == "":
		v.Add(FieldSubject, "must not be empty")
	case strings.IndexFunc(d.Subject, unicode.IsControl) >= 0:
		v.Add(FieldSubject, "must be one line")
	case !utf8.ValidString(d.Subject) || utf8.RuneCountInString(d.Subject) > MaxSubject:
		v.Add(FieldSubject, "must be at most 200 characters")
	}
	if d.Text == "" {
		v.Add(FieldText, "must not be empty: every message has a plain-text body")
	} else {
		checkText(v, FieldText, d.Text, MaxText)
	}
	if d.HTML != "" {
		checkText(v, FieldHTML, d.HTML, MaxHTML)
	}
	return v.Err()
}

// Sending in batches: each batch is one transaction that queues the
// messages and moves the campaign's resume point, so a job stopped at any
// moment resumes where the last batch ended and never queues a message
// twice. A run of the job sends a bounded number of batches, well within
// the job's time limit; the next run, a minute later, goes on.
const (
	BatchSize        = 50
	MaxBatchesPerRun = 40
	SendEvery        = time.Minute
)

// SendArgs is the periodic job that sends the campaigns being sent.
type SendArgs struct{}

func (SendArgs) Kind() string { return "marketing.send" }

// Link purposes and lifetime. Unsubscribe and preference links stay good
// for as long as we keep the record of which member a campaign went to,
// so that an old message still lets its reader opt out; they can only
// ever reduce marketing, so a replayed or forwarded link does no harm.
const (
	UnsubscribePurpose = "marketing-unsubscribe"
	PreferencesPurpose = "marketing-preferences"
	LinkLifetime       = 2 * 365 * 24 * time.Hour
)

// UnsubscribeToken names the person and the campaign of one message.
func UnsubscribeToken(secret []byte, personID, campaignID string, now time.Time) string {
	return signed.Make(secret, UnsubscribePurpose, personID+"/"+campaignID, now.Add(LinkLifetime))
}

// CheckUnsubscribe returns the person and the campaign a token names, or
// signed.ErrInvalid when it was altered, forged or has expired.
func CheckUnsubscribe(secret []byte, token string, now time.Time) (personID, campaignID string, err error) {
	subject, err := signed.Check(secret, UnsubscribePurpose, token, now)
	if err != nil {
		return "", "", err
	}
	personID, campaignID, ok := strings.Cut(subject, "/")
	if !ok || personID == "" || campaignID == "" {
		return "", "", signed.ErrInvalid
	}
	return personID, campaignID, nil
}

// PreferencesToken opens the person's preferences without sign-in.
func PreferencesToken(secret []byte, personID string, now time.Time) string {
	return signed.Make(secret, PreferencesPurpose, personID, now.Add(LinkLifetime))
}

// CheckPreferences returns the person a preferences token names.
func CheckPreferences(secret []byte, token string, now time.Time) (string, error) {
	return signed.Check(secret, PreferencesPurpose, token, now)
}

// Recipient is a member a campaign message goes to.
type Recipient struct {
	AccountID string
	Name      string
	Email     string
}

// Links are the absolute URLs a message carries.
type Links struct {
	Unsubscribe string // the RFC 8058 one-click URL, also shown in the text
	Preferences string // the signed preferences page
}

// Template is the outbox's name for campaign messages.
const Template = "marketing.campaign"

// Compose builds the message of campaign c for one recipient. Every
// message carries List-Unsubscribe with the https one-click URL and
// List-Unsubscribe-Post (RFC 8058), and says in its body why it was
// sent and how to stop it.
func Compose(c Campaign, to Recipient, l Links) outmail.Message {
	footer := "\n\n--\nYou receive this because you have an account on Sessions, which makes you one of our customers, and you have not switched marketing e-mail off.\n" +
		"Choose what we send you: " + l.Preferences + "\n" +
		"Unsubscribe from all marketing at once: " + l.Unsubscribe + "\n" +
		"We never sell personal data.\n"
	m := outmail.Message{
		PersonID: to.AccountID,
		Category: outmail.Marketing,
		Template: Template,
		To:       (&mail.Address{Name: to.Name, Address: to.Email}).String(),
		Subject:  c.Subject,
		Text:     c.Text + footer,
		Headers: map[string]string{
			"List-Unsubscribe":      "<" + l.Unsubscribe + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		// Both signed links act for the recipient without a sign-in.
		Secrets: []string{l.Unsubscribe, l.Preferences},
	}
	if c.HTML != "" {
		htmlFooter := `<hr><p style="font-size:small">You receive this because you have an account on Sessions, which makes you one of our customers, and you have not switched marketing e-mail off. ` +
			`<a href="` + html.EscapeString(l.Preferences) + `">Choose what we send you</a> or ` +
			`<a href="` + html.EscapeString(l.Unsubscribe) + `">unsubscribe from all marketing at once</a>. We never sell personal data.</p>`
		body := c.HTML
		if i := strings.LastIndex(strings.ToLower(body), "</body>"); i >= 0 {
			body = body[:i] + htmlFooter + body[i:]
		} else {
			body += htmlFooter
		}
		m.HTML = body
	}
	return m
}
