// Package staff owns the staff roles and what each of them may see and
// do: support, privacy officer and administrator, each granted only what
// its work needs. It also owns the rules of the staff access log, in which
// every look by staff at a person's data is written down with the reason
// the staff member gave, and the one-time link that creates the first
// administrator. It knows no HTTP and no SQL: internal/store keeps the
// roles and the log, internal/web enforces the permissions on routes.
package staff

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/audit"
)

// Role is a staff role held by an account. An account may hold several.
type Role string

const (
	// Support helps people with their accounts: it finds a person and sees
	// their contact details and the state of their account.
	Support Role = "support"
	// PrivacyOfficer keeps the registers (sub-processors, the audit log)
	// and handles requests from people exercising their rights.
	PrivacyOfficer Role = "privacy_officer"
	// Admin runs the instance: staff and their roles, settings and the
	// mail outbox.
	Admin Role = "admin"
)

// Roles lists every role, from the narrowest to the widest. ActingRole
// picks the first that grants a permission, so an access is recorded
// under the least powerful role that allowed it.
var Roles = []Role{Support, PrivacyOfficer, Admin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Label is the role's name for people.
func (r Role) Label() string {
	switch r {
	case Support:
		return "Support"
	case PrivacyOfficer:
		return "Privacy officer"
	case Admin:
		return "Administrator"
	}
	return string(r)
}

// Purpose is the data map purpose that work in this role serves; audit
// entries of staff actions name it.
func (r Role) Purpose() string {
	switch r {
	case Support:
		return "account"
	case PrivacyOfficer:
		return "legal-compliance"
	}
	return "security"
}

// ParseRoles keeps the known roles of names, in the order of Roles and
// without repeats; unknown names are dropped, so a role a later release
// removes grants nothing.
func ParseRoles(names []string) []Role {
	var out []Role
	for _, r := range Roles {
		if slices.Contains(names, string(r)) {
			out = append(out, r)
		}
	}
	return out
}

// Permission is one thing staff may see or do.
type Permission string

const (
	// OpenConsole lets a staff member into the console's landing page.
	OpenConsole Permission = "console.open"
	// LookUpPeople finds a person's account id by e-mail address or id.
	LookUpPeople Permission = "people.lookup"
	// ViewContact shows a person's name, e-mail address and phone number,
	// after a reason.
	ViewContact Permission = "people.contact"
	// ViewAccountStatus shows whether an account is verified, active or
	// locked, when it was created and when it was last used, after a
	// reason.
	ViewAccountStatus Permission = "people.status"
	// ViewMeetingContent would show agendas, notes, chat, recordings and
	// summaries. No role has it: staff never read what people say in
	// their sessions.
	ViewMeetingContent Permission = "meetings.content"
	// ReadAuditLog shows the audit log and verifies its chain.
	ReadAuditLog Permission = "audit.read"
	// EditSubprocessors changes the sub-processor registry.
	EditSubprocessors Permission = "subprocessors.edit"
	// HandleRightsRequests works the queue of requests from people
	// exercising their rights.
	HandleRightsRequests Permission = "rights.handle"
	// ManageStaff grants and revokes staff roles.
	ManageStaff Permission = "staff.manage"
	// ManageSettings sees and changes how the instance is set up.
	ManageSettings Permission = "settings.manage"
	// OperateOutbox lists outgoing mail (without bodies or full
	// addresses) and retries failed deliveries.
	OperateOutbox Permission = "outbox.operate"
	// ReadMail shows one outgoing message, after a reason: its address
	// and its staff copy, in which links' tokens, codes and quoted meeting
	// content are withheld. It belongs to the privacy officer, who
	// answers complaints about what was sent, and not to the
	// administrator, who operates the outbox: whoever operates the mail
	// should not also read it.
	ReadMail Permission = "outbox.read"
	// SendMarketing composes marketing campaigns and sends them to the
	// members the purpose gate allows.
	SendMarketing Permission = "marketing.send"
	// ViewAnalytics shows the aggregate analytics dashboards, in which
	// every count under five is hidden; no one's visit can be seen.
	ViewAnalytics Permission = "analytics.view"
	// PublishNotice publishes a new version of the privacy notice, and
	// decides whether its change is significant enough to announce.
	PublishNotice Permission = "notice.publish"
	// ReviewRetention shows what retention would remove now, per rule,
	// with a few row ids, and the report of past runs.
	ReviewRetention Permission = "retention.review"
	// ManageLegalHolds places and releases legal holds, which keep a
	// person's data out of retention and erasure while a claim needs it.
	ManageLegalHolds Permission = "holds.manage"
)

// Permissions lists every permission, so that tests can walk the table.
var Permissions = []Permission{
	OpenConsole, LookUpPeople, ViewContact, ViewAccountStatus, ViewMeetingContent,
	ReadAuditLog, EditSubprocessors, HandleRightsRequests,
	ManageStaff, ManageSettings, OperateOutbox, ReadMail,
	SendMarketing, ViewAnalytics, PublishNotice,
	ReviewRetention, ManageLegalHolds,
}

// grants is the whole policy. Support needs a person's contact details and
// account state to help them, and nothing else. The privacy officer also
// finds people, because rights requests are about a person, and keeps the
// registers, and reads a message the outbox holds when a complaint needs
// it. The administrator runs the instance, the outbox's delivery
// included, but has no business with any one person's data. Nobody reads
// meeting content.
var grants = map[Role][]Permission{
	Support:        {OpenConsole, LookUpPeople, ViewContact, ViewAccountStatus},
	PrivacyOfficer: {OpenConsole, LookUpPeople, ViewContact, ViewAccountStatus, ReadAuditLog, EditSubprocessors, HandleRightsRequests, ReadMail, ViewAnalytics, PublishNotice, ReviewRetention, ManageLegalHolds},
	Admin:          {OpenConsole, ManageStaff, ManageSettings, OperateOutbox, SendMarketing, ViewAnalytics, PublishNotice},
}

// Grants reports whether role r has permission p.
func Grants(r Role, p Permission) bool { return slices.Contains(grants[r], p) }

// Can reports whether any of roles has permission p.
func Can(roles []Role, p Permission) bool {
	_, ok := ActingRole(roles, p)
	return ok
}

// ActingRole returns the narrowest of roles that has permission p: the
// role an access is recorded under.
func ActingRole(roles []Role, p Permission) (Role, bool) {
	for _, r := range Roles {
		if slices.Contains(roles, r) && Grants(r, p) {
			return r, true
		}
	}
	return "", false
}

// RolesWith lists the roles that have permission p, narrowest first.
func RolesWith(p Permission) []Role {
	var out []Role
	for _, r := range Roles {
		if Grants(r, p) {
			out = append(out, r)
		}
	}
	return out
}

// View is what a staff member looked at, as the access log records it.
type View string

const (
	// ViewPerson is a person's contact details and account status.
	ViewPerson View = "person.record"
	// ViewMailMessage is one e-mail sent to the person, in full.
	ViewMailMessage View = "mail.message"
)

// Label says what was seen, for the person's own page.
func (v View) Label() string {
	switch v {
	case ViewPerson:
		return "Your contact details and account status"
	case ViewMailMessage:
		return "An e-mail we sent you"
	}
	return string(v)
}

// Permission is what a staff member needs to see v.
func (v View) Permission() Permission {
	if v == ViewMailMessage {
		return ReadMail
	}
	return ViewContact
}

// Limits of the reason a staff member gives before looking at someone's
// data: long enough to say something, short enough to stay a reason.
const (
	MinReason = 10
	MaxReason = 500
)

// CleanReason trims a reason and checks it, returning an errs.Invalid
// error on the field "reason" when it is too short, too long or not plain
// text. Line breaks are allowed; other control characters are not.
func CleanReason(s string) (string, error) {
	s = strings.TrimSpace(s)
	msg := ""
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		msg = "must be valid text"
	case n == 0:
		msg = "say why you need to see this person's data"
	case n < MinReason:
		msg = "must be at least 10 characters: say why you need to see this data"
	case n > MaxReason:
		msg = "must be at most 500 characters"
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		msg = "must not contain control characters"
	}
	if msg != "" {
		return "", &errs.Error{Code: errs.Invalid, Message: "a reason is needed", Fields: map[string]string{"reason": msg}}
	}
	return s, nil
}

// Access is one row of the staff access log: who looked (a staff account
// and the role that allowed it), when, at whose data, at what and why.
type Access struct {
	ID       string
	At       time.Time
	StaffID  string
	Role     Role
	PersonID string
	View     View
	Reason   string
}

// NewAccessID returns a fresh random access-log id.
func NewAccessID() string { return randomID("sal_") }

func randomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// NewAccess builds the access-log row for staffID, holding roles, looking
// at view of personID. It fails with Forbidden when none of the roles may
// see it and with Invalid when the reason does not pass CleanReason.
func NewAccess(staffID string, roles []Role, personID string, view View, reason string, now time.Time) (Access, error) {
	role, ok := ActingRole(roles, view.Permission())
	if !ok {
		return Access{}, errs.E(errs.Forbidden, "your staff role does not allow this")
	}
	clean, err := CleanReason(reason)
	if err != nil {
		return Access{}, err
	}
	return Access{ID: NewAccessID(), At: now, StaffID: staffID, Role: role, PersonID: personID, View: view, Reason: clean}, nil
}

// Member is an account that holds staff roles, as the staff register
// shows it.
type Member struct {
	AccountID string
	Name      string
	Email     string
	Roles     []Role
	Since     time.Time // when the oldest of the roles was granted
	// TwoStep is whether the account signs in with a second factor. Its
	// roles are in force only then: without it they stay dormant.
	TwoStep bool
}

// Person is what a staff member with ViewContact and ViewAccountStatus
// sees of a person: contact details and the state of the account, never
// anything the person made or said in the product.
type Person struct {
	ID            string
	Name          string
	Email         string
	Phone         string // empty when the person gave none
	EmailVerified bool
	Status        string // active, deactivated or erasure_pending
	Locked        bool   // sign-in is temporarily locked after failures
	LockedUntil   *time.Time
	CreatedAt     time.Time
	LastActiveAt  time.Time
	DeactivatedAt *time.Time
}

// Setup link: at first start, when no administrator exists, the server
// prints a link that lets whoever opens it create the first administrator.
const (
	// SetupPurpose binds a setup token to this use.
	SetupPurpose = "staff.setup"
	// SetupSubject is the token's subject: there is only one first admin.
	SetupSubject = "first-admin"
	// SetupTTL is how long a printed setup link works.
	SetupTTL = 24 * time.Hour
)

// ErrLastAdmin is returned when a change would leave the instance
// without an administrator.
var ErrLastAdmin = errs.E(errs.Conflict, "the last administrator cannot lose the role; grant it to someone else first")

// GrantEntry is the audit entry of role granted to an account by actor.
func GrantEntry(actor audit.Party, accountID string, role Role, now time.Time) audit.Entry {
	return audit.Entry{
		At: now, Actor: actor, Action: "staff.grant", Subject: audit.Party{Kind: "member", ID: accountID},
		Purpose: "security", Detail: map[string]string{"role": string(role)},
	}
}
