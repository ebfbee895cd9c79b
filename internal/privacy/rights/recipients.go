package rights

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// Change is what happened to a person's data that its recipients are
// told of (Art. 19 GDPR).
type Change string

const (
	ChangeRectification Change = "rectification"
	ChangeErasure       Change = "erasure"
	ChangeRestriction   Change = "restriction"
)

// Valid reports whether c is a known change.
func (c Change) Valid() bool {
	return c == ChangeRectification || c == ChangeErasure || c == ChangeRestriction
}

// Recipient is one recipient of a person's data as the privacy centre
// lists it: a sub-processor the data map declares for a table the person
// has rows in, or a service their data was delivered to.
type Recipient struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Categories are the kinds of the person's data it receives.
	Categories []string `json:"categories"`
	// Deliveries are the recorded deliveries to it, newest first.
	Deliveries []Delivery `json:"deliveries,omitempty"`
}

// Delivery is one recorded delivery of a person's data.
type Delivery struct {
	What       string    `json:"what"`
	Categories []string  `json:"categories"`
	At         time.Time `json:"at"`
}

// TransferRecipient starts the id of a recipient that is a service a
// member had their data sent to: "transfer:" and the service's host.
const TransferRecipient = "transfer"

// NoticeRecipient is the recipient id a notice of a change keeps: a
// sub-processor's id as it is, and only TransferRecipient for a service a
// member chose, since its host is the member's own choice and the notice
// outlives their erasure as proof.
func NoticeRecipient(id string) string {
	if strings.HasPrefix(id, TransferRecipient+":") {
		return TransferRecipient
	}
	return id
}

// DeclaredRecipients are the recipients the data map declares for the
// personal columns of tables, each with the categories of those columns,
// sorted by id.
func DeclaredRecipients(m datamap.Map, tables []string) []Recipient {
	byID := map[string]*Recipient{}
	for _, t := range m.Tables {
		if !slices.Contains(tables, t.Name) {
			continue
		}
		for _, c := range t.PersonalColumns() {
			for _, id := range c.Recipients {
				r := byID[id]
				if r == nil {
					r = &Recipient{ID: id, Name: id}
					byID[id] = r
				}
				for _, cat := range c.Categories {
					if !slices.Contains(r.Categories, cat) {
						r.Categories = append(r.Categories, cat)
					}
				}
			}
		}
	}
	out := make([]Recipient, 0, len(byID))
	for _, r := range byID {
		slices.Sort(r.Categories)
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Recipient) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// TransferArgs is the job that sends one confirmed direct transfer.
type TransferArgs struct {
	TransferID string `json:"transfer_id"`
}

// Kind names the job.
func (TransferArgs) Kind() string { return "rights.transfer" }

// Transfer states.
const (
	TransferConfirming = "confirming"
	TransferQueued     = "queued"
	TransferSent       = "sent"
	TransferFailed     = "failed"
)

// TransferAttempts is how many times a transfer is tried before it is
// given up.
const TransferAttempts = 5

// Transfer is a member's request to send their portability package
// straight to another service.
type Transfer struct {
	ID          string     `json:"id"`
	PersonID    string     `json:"-"`
	URL         string     `json:"url"`
	State       string     `json:"state"`
	StatusCode  int        `json:"status_code,omitempty"`
	Size        int64      `json:"size_bytes"`
	Error       string     `json:"error,omitempty"`
	Attempts    int        `json:"attempts"`
	CreatedAt   time.Time  `json:"created_at"`
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
}

// MaxTransferBytes bounds the package a transfer sends.
const MaxTransferBytes = 256 << 20

// RecipientNotice is the e-mail to a recipient's privacy contact telling
// it of a change to a person's data. It names the person by what the
// recipient knows them by, the account id and addresses of p.
func RecipientNotice(r Recipient, p Person, change Change) (subject, text string) {
	what := map[Change]string{
		ChangeRectification: "has corrected personal data of",
		ChangeErasure:       "has erased the personal data of",
		ChangeRestriction:   "has restricted the processing of personal data of",
	}[change]
	var b strings.Builder
	fmt.Fprintf(&b, "A person whose data you receive from us as %s exercised a data protection right: Sessions %s the person below.\n\n", r.Name, what)
	if p.AccountID != "" {
		fmt.Fprintf(&b, "Account id: %s\n", p.AccountID)
	}
	for _, e := range p.Emails {
		fmt.Fprintf(&b, "E-mail address: %s\n", e)
	}
	fmt.Fprintf(&b, "Kinds of data concerned: %s\n\n", strings.Join(r.Categories, ", "))
	b.WriteString("Please apply the same change to the copies you hold, as Art. 19 GDPR requires us to ask of you.\n")
	return "Data protection notice: " + string(change), b.String()
}

// RecipientWebhook is the body of the webhook notice id telling a
// recipient of a change to a person's data. The id lets the recipient
// recognise a notice sent again after an answer that did not reach us.
func RecipientWebhook(id string, r Recipient, p Person, change Change, at time.Time) ([]byte, error) {
	return json.Marshal(map[string]any{
		"id": id, "type": "sessions.data-subject-change", "change": change, "at": at.UTC().Format(time.RFC3339),
		"person": map[string]any{"account_id": p.AccountID, "emails": p.Emails}, "categories": r.Categories,
	})
}
