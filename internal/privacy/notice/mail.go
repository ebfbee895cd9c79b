package notice

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/platform/mail"
)

// MailTemplate names the announcement in the outbox.
const MailTemplate = "notice.changed"

// MailArgs is the durable job that e-mails members about significant
// versions. It carries nothing: the job finds every significant version
// whose announcement is not finished and mails the members who have not
// had it yet, so a run cut short by a crash is finished by the next one.
type MailArgs struct{}

// Kind names the job.
func (MailArgs) Kind() string { return "notice.mail" }

// MailEvery is how often the announcement job runs. Publishing does not
// wait for it: the first run after a publication sends the mail, and a
// later run finishes what an interrupted one left.
const MailEvery = time.Minute

// MailBatch is how many members one query of the job takes at a time, so
// that a large membership is read in pieces and each piece commits as it
// goes.
const MailBatch = 200

// Recipient is a member an announcement goes to.
type Recipient struct {
	AccountID string
	Name      string
	Email     string
}

// ChangeMail is the e-mail that announces significant version v to a
// member. It is a service message, not marketing: the law and our notice
// promise it, so it carries no unsubscribe link. baseURL is the public
// address of the instance, without a trailing slash.
func ChangeMail(v Version, to Recipient, baseURL string) mail.Message {
	base := strings.TrimSuffix(baseURL, "/")
	greeting := "Hello,"
	if to.Name != "" {
		greeting = "Hello " + to.Name + ","
	}
	text := fmt.Sprintf(`%s

We have made a significant change to our privacy notice. Version %d took effect on %s.

What changed:

%s

Read the new version:
%s

Compare it with earlier versions:
%s

The next time you sign in, you will be asked to confirm that you have seen this change. If you have questions about it, write to us at the address the notice gives under "Contact".

Sessions
`, greeting, v.Number, v.PublishedAt.UTC().Format("2 January 2006"), v.Summary,
		base+PathNotice+"/v/"+strconv.Itoa(v.Number), base+PathHistory)
	return mail.Message{
		PersonID: to.AccountID,
		Category: mail.Transactional,
		Template: MailTemplate,
		To:       to.Email,
		Subject:  fmt.Sprintf("Our privacy notice has changed (version %d)", v.Number),
		Text:     text,
	}
}
