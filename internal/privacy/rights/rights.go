// Package rights owns the data-subject rights that work on a person's
// whole data: access and portability (the export) and erasure. It knows
// no SQL and no HTTP. From the data map it works out the order in which a
// person's rows are read or removed, which columns are cleared instead of
// deleted, and which files go with them; from the map and the
// sub-processor registry it writes the information Art. 15 GDPR asks to
// accompany every copy of a person's data. internal/store carries the
// plans out, so a table added to the data map is exported and erased with
// no change here.
package rights

import (
	"slices"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

// Person is whoever a request or a retention rule is about. A member has
// an account id; a guest has only the addresses they were invited at and
// the places they took in meetings. Store functions fill in the addresses
// and participant ids they can find from the account id, so a caller may
// give only what it knows.
type Person struct {
	AccountID      string   `json:"account_id,omitempty"`
	Emails         []string `json:"emails,omitempty"`
	ParticipantIDs []string `json:"participant_ids,omitempty"`
}

// Normalised returns the person with addresses trimmed and lower-cased (as
// every table stores them) and duplicates removed. Order is kept: the
// first address is the one the person is written to.
func (p Person) Normalised() Person {
	out := Person{AccountID: strings.TrimSpace(p.AccountID)}
	for _, e := range p.Emails {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" && !slices.Contains(out.Emails, e) {
			out.Emails = append(out.Emails, e)
		}
	}
	for _, id := range p.ParticipantIDs {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(out.ParticipantIDs, id) {
			out.ParticipantIDs = append(out.ParticipantIDs, id)
		}
	}
	return out
}

// Empty reports whether nothing identifies the person, which would make
// every "WHERE key IN (...)" match nothing and an erasure pointless.
func (p Person) Empty() bool {
	return p.AccountID == "" && len(p.Emails) == 0 && len(p.ParticipantIDs) == 0
}

// Validate refuses a person nothing identifies.
func (p Person) Validate() error {
	if p.Normalised().Empty() {
		return errs.E(errs.Invalid, "an erasure needs an account id, an e-mail address or a participant id")
	}
	return nil
}

// Reason is why a person's data is being erased; it is kept on the run as
// part of the proof that the erasure happened and why.
type Reason string

const (
	// ReasonRequest: the person asked (Art. 17 GDPR), from their account
	// or by any other way staff recorded.
	ReasonRequest Reason = "request"
	// ReasonInactive: the account was not used for the retention period.
	ReasonInactive Reason = "inactive"
	// ReasonDeactivated: the account stayed deactivated past the grace
	// period for coming back.
	ReasonDeactivated Reason = "deactivated"
	// ReasonGuestExpired: a guest's data outlived its retention period
	// after their last meeting.
	ReasonGuestExpired Reason = "guest-expired"
)

// Valid reports whether r is a known reason.
func (r Reason) Valid() bool {
	return r == ReasonRequest || r == ReasonInactive || r == ReasonDeactivated || r == ReasonGuestExpired
}

// RunState is where an erasure run stands.
type RunState string

const (
	// RunPending: recorded, waiting for a worker.
	RunPending RunState = "pending"
	// RunWorking: a worker has removed some of the data; it must finish.
	RunWorking RunState = "working"
	// RunHeld: a legal hold stops the erasure for now; it is tried again
	// when the hold may have ended.
	RunHeld RunState = "held"
	// RunDone: every step finished; the run keeps no id of the person.
	RunDone RunState = "done"
)

// Run is the state of one erasure as the engine and the staff pages see it.
type Run struct {
	ID string
	// PersonRef is a keyed pseudonym of the person, the same the audit log
	// uses, so that the erasure can be proved without naming anyone.
	PersonRef string
	// Person is who is being erased; empty once the run is done.
	Person    Person
	Reason    Reason
	RequestID string
	State     RunState
	// Step is the table being worked on, "" before the first and after the
	// last, StepSealed once every row and file is gone and only the
	// engine's own traces are left to remove; RowsDone counts the rows
	// removed or cleared so far.
	Step       string
	RowsDone   int64
	FilesDone  int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt *time.Time
}

// StepSealed is the step of a run whose rows and files are all removed
// and whose record no longer names the person, while the database still
// has to drop the old images of what was removed (on SQLite, a
// checkpoint of the write-ahead log). A run reports done only after it.
const StepSealed = "(sealed)"

// EraseArgs is the job that carries out one erasure run.
type EraseArgs struct {
	RunID string `json:"run_id"`
}

// Kind names the job.
func (EraseArgs) Kind() string { return "rights.erase" }

// ResumeArgs is the periodic job that starts the erasures nobody is
// working on: runs whose job was lost with a crashed process, held runs
// whose hold may be over, and account deletion requests not yet started.
type ResumeArgs struct{}

// Kind names the job.
func (ResumeArgs) Kind() string { return "rights.resume" }

// ResumeEvery is how often the periodic job looks.
const ResumeEvery = time.Minute

// ExportArgs is the job that builds one export.
type ExportArgs struct {
	ExportID string `json:"export_id"`
}

// Kind names the job.
func (ExportArgs) Kind() string { return "rights.export" }

// KeptAtErasure are the templates of the messages that tell a person
// about their own request: its receipt (from their account, or any
// request once its address is confirmed) and the steps staff take on it.
// Erasure keeps those still waiting for delivery until they are
// delivered, instead of deleting them with the rest of the person's mail.
var KeptAtErasure = []string{
	"account.erasure-received",
	"rights.request_" + string(ActVerify), "rights.request_" + string(ActStart), "rights.request_" + string(ActExtend),
	"rights.request_" + string(ActComplete), "rights.request_" + string(ActRefuse),
}

// ErasureDoneTemplate names the message of ErasureDoneNotice in the outbox.
const ErasureDoneTemplate = "rights.erasure_done"

// ErasureDoneNotice is the last message a person whose data was erased at
// their request receives. It names nothing but the fact.
func ErasureDoneNotice() (subject, text string) {
	return "Your account and data have been deleted",
		"As you asked, we have deleted your Sessions account and the personal data we held about you.\n\n" +
			"A few records stay because the law requires us to keep them, such as the evidence of your consent choices and of this deletion; " +
			"they no longer name you directly and are deleted when their retention period ends. What you wrote in meetings shared with others stays for them without your name.\n\n" +
			"This is the last message we send to this address.\n"
}

// RequestSweepArgs is the periodic job of the rights requests: it lifts
// the restrictions whose announcement has been sent (the person is told
// before the lift, never after) and deletes requests from the public
// form whose code was never typed.
type RequestSweepArgs struct{}

// Kind names the job.
func (RequestSweepArgs) Kind() string { return "rights.requests_sweep" }

// RequestSweepEvery is how often the sweep runs; a lift waits at most
// this long after its message went out.
const RequestSweepEvery = time.Minute

// DefaultErasureLease is how long a worker holds an erasure run between
// two batches; a run whose worker died is taken up again once it lapses. It is far longer than a
// batch takes, so a live worker never loses its run.
const DefaultErasureLease = 30 * time.Second
