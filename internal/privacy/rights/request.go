package rights

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// Data-subject requests: what a person asks for, how the request moves
// from receipt to an answer, and when the answer is due. The deadline is
// one calendar month from receipt (account.DueOneMonthAfter, the single
// implementation of that arithmetic), which may be extended by up to two
// further months, with reasons, only while the first month runs. Every
// request lives in account_requests next to the "delete my account"
// requests, so one queue and one history hold them all.

// Right is one right a request may carry; a request may carry several.
type Right string

const (
	RightAccess        Right = "access"        // a copy of the data (Art. 15)
	RightPortability   Right = "portability"   // the provided data, machine-readable (Art. 20)
	RightRectification Right = "rectification" // correcting or completing data (Art. 16)
	RightErasure       Right = "erasure"       // deleting the data (Art. 17)
	RightRestriction   Right = "restriction"   // storage only while a question is settled (Art. 18)
	RightObjection     Right = "objection"     // to processing on legitimate interest or to profiling (Art. 21)
)

// AllRights lists the rights in the order forms show them.
var AllRights = []Right{RightAccess, RightPortability, RightRectification, RightErasure, RightRestriction, RightObjection}

// Valid reports whether r is a known right.
func (r Right) Valid() bool { return slices.Contains(AllRights, r) }

// Label names the right for people.
func (r Right) Label() string {
	switch r {
	case RightAccess:
		return "A copy of my data"
	case RightPortability:
		return "My data in a form I can take elsewhere"
	case RightRectification:
		return "Correct or complete my data"
	case RightErasure:
		return "Delete my data"
	case RightRestriction:
		return "Restrict the use of my data"
	case RightObjection:
		return "Object to a use of my data"
	}
	return string(r)
}

// RequestState is where a request stands.
type RequestState string

const (
	// StateVerifying: made on the public form, waiting for the code sent
	// to the address; not yet a request, and no deadline runs.
	StateVerifying RequestState = "verifying"
	// StateReceived: opened; the deadline runs from here.
	StateReceived RequestState = "received"
	// StateInProgress: staff accepted it and are carrying it out.
	StateInProgress RequestState = "in-progress"
	// StateExtended: the deadline was moved, with reasons the person got.
	StateExtended RequestState = "extended"
	// StateCompleted: answered and done.
	StateCompleted RequestState = "completed"
	// StateRefused: refused, with reasons and the right to complain.
	StateRefused RequestState = "refused"
)

// AllStates lists the states in the order the queue counts them.
var AllStates = []RequestState{StateVerifying, StateReceived, StateInProgress, StateExtended, StateCompleted, StateRefused}

// Open reports whether the request still needs an answer.
func (s RequestState) Open() bool {
	return s == StateReceived || s == StateInProgress || s == StateExtended
}

// Label names the state for people.
func (s RequestState) Label() string {
	switch s {
	case StateVerifying:
		return "Waiting for the e-mailed code"
	case StateReceived:
		return "Received"
	case StateInProgress:
		return "In progress"
	case StateExtended:
		return "Extended"
	case StateCompleted:
		return "Completed"
	case StateRefused:
		return "Refused"
	}
	return string(s)
}

// Channel is how a request reached us.
type Channel string

const (
	ChannelAccount Channel = "account"  // a signed-in member, from the privacy centre
	ChannelWebForm Channel = "web-form" // the public form, proved by an e-mailed code
	ChannelEmail   Channel = "email"    // an e-mail staff recorded
	ChannelPost    Channel = "post"     // a letter staff recorded
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	return c == ChannelAccount || c == ChannelWebForm || c == ChannelEmail || c == ChannelPost
}

// KindRights is the account_requests kind of the requests this workflow
// handles. The older kind account.RequestErasure ("delete my account") is
// carried out by the erasure engine without a staff decision.
const KindRights = "rights"

// DueSoonWithin is how close to its due date an open request is
// highlighted in the staff queue.
const DueSoonWithin = 7 * 24 * time.Hour

// MaxExtensionMonths is the longest extension allowed on top of the
// first month.
const MaxExtensionMonths = 2

// Limits on what people and staff type.
const (
	MaxDetails   = 4000
	MaxStatement = 2000
	MaxReason    = 4000
	MinReason    = 10
)

// Request is one data-subject request.
type Request struct {
	ID string `json:"id"`
	// AccountID is the member it is about; "" for someone without an
	// account, and once the account is deleted.
	AccountID string `json:"-"`
	// Email is where a person without an account is written to, and the
	// address given on the public form or to staff.
	Email   string       `json:"email,omitempty"`
	Kind    string       `json:"kind"`
	Rights  []Right      `json:"rights"`
	Channel Channel      `json:"channel"`
	State   RequestState `json:"state"`
	// Details is what the person wrote about the request.
	Details string `json:"details,omitempty"`
	// Field is the data a rectification is about, as "table.column"
	// (RectifiableFields), or "" for data described in Details.
	Field string `json:"field,omitempty"`
	// Statement is the supplementary statement the person asks us to keep
	// with that data.
	Statement string `json:"statement,omitempty"`
	// ExtensionReason is why the deadline was extended, as the person got it.
	ExtensionReason string `json:"extension_reason,omitempty"`
	// Decision is staff's reasons for a refusal, or their note on
	// completion (what was done).
	Decision   string    `json:"decision,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	DueAt      time.Time `json:"due_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// LiftMail is the outbox message telling the person their restriction
	// will be lifted; the lift waits until it is sent.
	LiftMail string `json:"-"`
}

// Rights of a request kept from before this workflow: its kind is the
// single right.
func rightsOfKind(kind string) []Right {
	if kind == account.RequestErasure {
		return []Right{RightErasure}
	}
	return nil
}

// Normalise fills Rights from the kind for requests that predate the
// list, so every request can be read the same way.
func (r Request) Normalise() Request {
	if len(r.Rights) == 0 {
		r.Rights = rightsOfKind(r.Kind)
	}
	if r.Channel == "" {
		r.Channel = ChannelAccount
	}
	return r
}

// Has reports whether the request carries right.
func (r Request) Has(right Right) bool { return slices.Contains(r.Rights, right) }

// WantsCopy reports whether the request asks for an export.
func (r Request) WantsCopy() bool { return r.Has(RightAccess) || r.Has(RightPortability) }

// ByEngine reports whether the erasure engine carries the request out on
// its own ("delete my account"), so that staff do not decide it.
func (r Request) ByEngine() bool { return r.Kind == account.RequestErasure }

// FirstDue is the deadline before any extension.
func (r Request) FirstDue() time.Time { return account.DueOneMonthAfter(r.ReceivedAt) }

// Overdue reports whether an open request is past its due date at now.
func (r Request) Overdue(now time.Time) bool { return r.State.Open() && now.After(r.DueAt) }

// DueSoon reports whether an open request, not yet overdue, falls due
// within DueSoonWithin of now.
func (r Request) DueSoon(now time.Time) bool {
	return r.State.Open() && !r.Overdue(now) && !r.DueAt.After(now.Add(DueSoonWithin))
}

// DueAfterExtension is the deadline after extending a request received
// at receivedAt by months more months (1 or 2): counted from receipt in
// calendar months, so 31 January extended by two falls due on 30 April.
func DueAfterExtension(receivedAt time.Time, months int) time.Time {
	return account.AddMonthsClamped(receivedAt, 1+months)
}

// RequestAction is a step that moves a request on.
type RequestAction string

const (
	ActVerify   RequestAction = "verify"
	ActStart    RequestAction = "start"
	ActExtend   RequestAction = "extend"
	ActComplete RequestAction = "complete"
	ActRefuse   RequestAction = "refuse"
)

// StaffActions are the steps staff take, in the order the request page
// offers them.
var StaffActions = []RequestAction{ActStart, ActExtend, ActComplete, ActRefuse}

// RequestStep is an action with what it needs: reasons for an extension or a
// refusal (and a note for a completion), and the months of an extension.
type RequestStep struct {
	Action RequestAction `json:"action"`
	Reason string        `json:"reason"`
	Months int           `json:"months,omitempty"`
}

// from lists the states each action may leave.
var from = map[RequestAction][]RequestState{
	ActVerify:   {StateVerifying},
	ActStart:    {StateReceived},
	ActExtend:   {StateReceived, StateInProgress},
	ActComplete: {StateInProgress, StateExtended},
	ActRefuse:   {StateReceived, StateInProgress, StateExtended},
}

// to is the state each action leads to.
var to = map[RequestAction]RequestState{
	ActVerify: StateReceived, ActStart: StateInProgress, ActExtend: StateExtended,
	ActComplete: StateCompleted, ActRefuse: StateRefused,
}

// Allowed reports whether the action may be taken on the request now,
// without checking its reasons; the request page offers only these.
func (r Request) Allowed(a RequestAction, now time.Time) bool {
	if r.ByEngine() && a != ActVerify {
		return false
	}
	if !slices.Contains(from[a], r.State) {
		return false
	}
	return a != ActExtend || now.Before(r.FirstDue())
}

// Apply returns the request after the step taken at now, or an error
// saying why it may not be taken: errs.Invalid for missing or bad
// reasons, errs.Conflict for a step the request's state does not allow.
func (r Request) Apply(s RequestStep, now time.Time) (Request, error) {
	next, ok := to[s.Action]
	if !ok {
		return r, errs.E(errs.Invalid, "unknown action %q", s.Action)
	}
	if r.ByEngine() && s.Action != ActVerify {
		return r, errs.E(errs.Conflict, "the deletion of an account is carried out by the erasure engine, not decided here")
	}
	if !slices.Contains(from[s.Action], r.State) {
		return r, errs.E(errs.Conflict, "a request that is %s cannot be %s", strings.ToLower(r.State.Label()), pastTense(s.Action))
	}
	reason := strings.TrimSpace(s.Reason)
	v := errs.Validation{}
	switch s.Action {
	case ActExtend, ActRefuse:
		switch n := utf8.RuneCountInString(reason); {
		case n < MinReason:
			v.Add("reason", "give the reasons the person will read")
		case n > MaxReason:
			v.Add("reason", fmt.Sprintf("must be at most %d characters", MaxReason))
		}
	case ActComplete:
		if utf8.RuneCountInString(reason) > MaxReason {
			v.Add("reason", fmt.Sprintf("must be at most %d characters", MaxReason))
		}
	}
	if s.Action == ActExtend && (s.Months < 1 || s.Months > MaxExtensionMonths) {
		v.Add("months", "choose one or two more months")
	}
	if err := v.Err(); err != nil {
		return r, err
	}
	if s.Action == ActExtend && !now.Before(r.FirstDue()) {
		return r, errs.E(errs.Conflict, "an extension can only be decided within the first month, which ended on %s", r.FirstDue().Format("2 January 2006"))
	}
	now = now.UTC()
	switch s.Action {
	case ActVerify:
		r.ReceivedAt = now
		r.DueAt = account.DueOneMonthAfter(now)
	case ActExtend:
		r.ExtensionReason = reason
		r.DueAt = DueAfterExtension(r.ReceivedAt, s.Months)
	case ActComplete, ActRefuse:
		r.Decision = reason
	}
	r.State = next
	r.UpdatedAt = now
	return r, nil
}

func pastTense(a RequestAction) string {
	switch a {
	case ActVerify:
		return "verified"
	case ActStart:
		return "started"
	case ActExtend:
		return "extended"
	case ActComplete:
		return "completed"
	case ActRefuse:
		return "refused"
	}
	return string(a)
}

// Intake is a new request as a person or staff typed it.
type Intake struct {
	Rights    []Right `json:"rights"`
	Details   string  `json:"details"`
	Field     string  `json:"field"`
	Statement string  `json:"statement"`
	// Email is required on the public form and for staff-recorded
	// requests; a member's request is written to their account address.
	Email   string  `json:"email"`
	Channel Channel `json:"channel"`
	// ReceivedAt is when a letter or e-mail staff record arrived; zero
	// means now.
	ReceivedAt time.Time `json:"received_at"`
}

// Intake field names, as forms and problem details use them.
const (
	FieldRights     = "rights"
	FieldDetails    = "details"
	FieldField      = "field"
	FieldStatement  = "statement"
	FieldEmail      = "email"
	FieldChannel    = "channel"
	FieldReceivedAt = "received_at"
)

// Clean trims and checks the intake for the channel it came by, against
// the fields of m that can be named for a rectification. The rights are
// de-duplicated and put in AllRights order. A received time after now is
// refused.
func (in *Intake) Clean(m datamap.Map, now time.Time) error {
	v := errs.Validation{}
	var rs []Right
	for _, r := range in.Rights {
		r = Right(strings.TrimSpace(string(r)))
		if !r.Valid() {
			v.Add(FieldRights, "choose among the rights listed")
			continue
		}
		if !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b Right) int { return slices.Index(AllRights, a) - slices.Index(AllRights, b) })
	in.Rights = rs
	if len(rs) == 0 {
		v.Add(FieldRights, "choose at least one right")
	}
	in.Details = strings.TrimSpace(in.Details)
	in.Statement = strings.TrimSpace(in.Statement)
	in.Field = strings.TrimSpace(in.Field)
	if utf8.RuneCountInString(in.Details) > MaxDetails {
		v.Add(FieldDetails, fmt.Sprintf("must be at most %d characters", MaxDetails))
	}
	if utf8.RuneCountInString(in.Statement) > MaxStatement {
		v.Add(FieldStatement, fmt.Sprintf("must be at most %d characters", MaxStatement))
	}
	if slices.Contains(rs, RightRectification) {
		if in.Details == "" {
			v.Add(FieldDetails, "say what is wrong or missing and what it should be")
		}
		if in.Field != "" && !slices.ContainsFunc(RectifiableFields(m), func(f Field) bool { return f.ID() == in.Field }) {
			v.Add(FieldField, "choose one of the listed kinds of data, or leave it empty and describe it")
		}
	} else {
		in.Field, in.Statement = "", ""
	}
	if in.Statement != "" && in.Field == "" {
		v.Add(FieldField, "say which data the statement completes")
	}
	if !in.Channel.Valid() {
		v.Add(FieldChannel, "must be account, web-form, email or post")
	}
	if in.Channel != ChannelAccount {
		in.Email = account.NormaliseEmail(in.Email)
		account.CheckEmail(v, FieldEmail, in.Email)
	} else {
		in.Email = ""
	}
	switch {
	case in.Channel != ChannelEmail && in.Channel != ChannelPost:
		in.ReceivedAt = time.Time{}
	case in.ReceivedAt.After(now):
		v.Add(FieldReceivedAt, "cannot be in the future")
	case !in.ReceivedAt.IsZero() && in.ReceivedAt.Before(now.AddDate(0, -3, 0)):
		v.Add(FieldReceivedAt, "is more than three months ago; check the date")
	}
	return v.Err()
}

// Field is a column a person may ask to have corrected or completed.
type Field struct {
	Table  string
	Column string
	Note   string
}

// ID is the field as "table.column".
func (f Field) ID() string { return f.Table + "." + f.Column }

// RectifiableFields lists, from the data map, the personal columns a
// person gave us in tables found by a person's id: what they may ask to
// correct or complete and attach a statement to. Derived and observed
// values (ids, digests, logs) are left out, since correcting them means
// correcting what they come from, and so are credentials, which the
// person changes themselves.
func RectifiableFields(m datamap.Map) []Field {
	var out []Field
	for _, t := range m.Tables {
		if !slices.ContainsFunc(t.PersonKeys, func(k datamap.PersonKey) bool { return k.Holds == datamap.KeyPersonID }) {
			continue
		}
		for _, c := range t.PersonalColumns() {
			if c.Source != datamap.Provided || c.BlobKey || slices.Contains(c.Categories, "account.credentials") {
				continue
			}
			out = append(out, Field{Table: t.Name, Column: c.Name, Note: c.Note})
		}
	}
	return out
}

// Verification of the public form: a six-digit code, e-mailed, valid for
// CodeLife and for CodeAttempts tries. Only its keyed digest is stored.
const (
	CodeLife     = 10 * time.Minute
	CodeAttempts = 3
	// VerifyingPerAddress is how many unverified requests one address may
	// have within VerifyingWindow; beyond it no code is sent, and the
	// answer looks the same, so the form cannot flood a mailbox.
	VerifyingPerAddress = 3
	VerifyingWindow     = time.Hour
)

// CodeThrottle counts the tries of one request's code. Its window and its
// lockout both last CodeLife, so the first try's window and the lockout
// after the last allowed try both outlast the code itself: a code gets
// CodeAttempts tries in all.
var CodeThrottle = ratelimit.Policy{Limit: CodeAttempts, Window: CodeLife, Lockout: CodeLife}

// NewCode returns a fresh six-digit code.
func NewCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// CodeDigest is the stored form of a request's code: keyed by the
// server's secret and bound to the request, so a digest is no use for
// another request or without the secret.
func CodeDigest(secret []byte, requestID, code string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("rights.request.code\x00" + requestID + "\x00" + strings.TrimSpace(code)))
	return hex.EncodeToString(mac.Sum(nil))
}

// CodeMatches compares a typed code with the stored digest in constant time.
func CodeMatches(secret []byte, requestID, code, digest string) bool {
	return hmac.Equal([]byte(CodeDigest(secret, requestID, code)), []byte(digest))
}

// NewRequestID returns a fresh random request id, from the same family
// as "delete my account" requests.
func NewRequestID() string { return account.NewRequestID() }

// Notice is the e-mail the person gets when the request reaches a step:
// its subject and text. Every message repeats the due date, and a refusal
// says the person may complain to a supervisory authority.
func (r Request) Notice(a RequestAction) (subject, text string) {
	due := r.DueAt.Format("2 January 2006")
	var b strings.Builder
	list := make([]string, 0, len(r.Rights))
	for _, x := range r.Rights {
		list = append(list, strings.ToLower(x.Label()))
	}
	asked := strings.Join(list, "; ")
	switch a {
	case ActVerify:
		subject = "We received your request about your data"
		fmt.Fprintf(&b, "We received your request (reference %s): %s.\n\nWe will answer by %s. If we need longer, we will tell you why before then.\n", r.ID, asked, due)
	case ActStart:
		subject = "We are working on your request"
		fmt.Fprintf(&b, "We have started on your request (reference %s): %s.\n\n", r.ID, asked)
		if r.WantsCopy() && r.AccountID != "" {
			b.WriteString("Your copy is being prepared; you can follow it and download it from the privacy centre when you are signed in.\n\n")
		}
		fmt.Fprintf(&b, "We will answer by %s.\n", due)
	case ActExtend:
		subject = "We need more time for your request"
		fmt.Fprintf(&b, "We need more time to answer your request (reference %s). The new date is %s.\n\nWhy:\n%s\n\n", r.ID, due, r.ExtensionReason)
		b.WriteString(complaintNote)
	case ActComplete:
		subject = "Your request is done"
		fmt.Fprintf(&b, "We have completed your request (reference %s): %s.\n", r.ID, asked)
		if r.Decision != "" {
			fmt.Fprintf(&b, "\nWhat we did:\n%s\n", r.Decision)
		}
	case ActRefuse:
		subject = "We cannot do what you asked"
		fmt.Fprintf(&b, "We have decided not to carry out your request (reference %s): %s.\n\nWhy:\n%s\n\n", r.ID, asked, r.Decision)
		b.WriteString(complaintNote)
	}
	return subject, b.String()
}

// complaintNote tells the person where else they can turn.
const complaintNote = "If you disagree, you can complain to a data protection supervisory authority, " +
	"in particular the one of the country where you live, work or where you think the problem arose, " +
	"and you can also go to court.\n"

// CodeNotice is the e-mail that carries the code of the public form.
func CodeNotice(code string) (subject, text string) {
	return "Your code to confirm your request",
		"Someone, hopefully you, asked us about the personal data we hold for this address.\n\n" +
			"Your code is " + code + ". It works for 10 minutes and for 3 tries.\n\n" +
			"If you did not ask, ignore this message: nothing happens without the code.\n"
}

// LiftNotice is the e-mail that tells the person, before it happens, that
// the restriction of their data is to be lifted.
func (r Request) LiftNotice() (subject, text string) {
	return "The restriction of your data is to be lifted",
		"You asked us to restrict the use of your data (reference " + r.ID + "). The question that called for it is settled, " +
			"so we are lifting the restriction now that we have told you: your data will again be used as described in our privacy notice.\n\n" +
			complaintNote
}
