package retention

import (
	"fmt"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/platform/mail"
)

// WarningTemplate names the inactivity warning in the outbox.
const WarningTemplate = "retention.inactivity-warning"

// Warned is a member about to be warned that their unused account will be
// erased.
type Warned struct {
	AccountID string
	Email     string
	Name      string
	// EraseAfter is the earliest moment the account may go.
	EraseAfter time.Time
}

// WarningMail is the message that tells a member their account will be
// erased for want of use, and that signing in keeps it.
func WarningMail(w Warned, baseURL string) mail.Message {
	base := strings.TrimSuffix(baseURL, "/")
	greeting := "Hello,"
	if w.Name != "" {
		greeting = "Hello " + w.Name + ","
	}
	text := fmt.Sprintf(`%s

Your Sessions account has not been used for a long time. Unless you sign in, we will erase it and the personal data that goes with it on or after %s.

To keep your account, sign in once before then:
%s

Nothing else is needed. If you no longer want the account, you need not do anything; what you wrote for others in shared meetings stays, without your name.

Sessions
`, greeting, w.EraseAfter.UTC().Format("2 January 2006"), base+"/signin")
	return mail.Message{
		PersonID: w.AccountID,
		Category: mail.Transactional,
		Template: WarningTemplate,
		To:       w.Email,
		Subject:  "Your Sessions account will be erased unless you sign in",
		Text:     text,
	}
}
