// Package meeting owns meetings ("sessions"): their schedule and
// recurrence (RFC 5545 RRULE with exceptions, in the host's time zone),
// the people taking part and their roles, the agenda and its templates,
// the resources shared with a meeting, the personal invitation links and
// the iCalendar invitations mailed to participants. It knows nothing of
// HTTP or SQL: internal/service/meetings applies these rules inside its
// transactions, internal/store keeps the rows, and internal/web speaks
// HTTP.
package meeting

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
)

// State is where a meeting stands.
type State string

const (
	Scheduled State = "scheduled"
	Cancelled State = "cancelled"
)

// Role is what a person may do in a meeting. The values are those of
// video.Role, so a participant's role becomes their call grant as is.
type Role string

const (
	// Host runs the meeting: edits it, cancels it, decides roles and
	// moderates the call. Every meeting has exactly one host row, made
	// with the meeting.
	Host Role = "host"
	// CoHost helps the host: edits the meeting, its agenda and its
	// participants, and moderates the call, but cannot cancel the
	// meeting or change roles.
	CoHost Role = "co-host"
	// RoleParticipant takes part and may share resources. (It cannot be
	// called Participant, the name of a participant's row.)
	RoleParticipant Role = "participant"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == Host || r == CoHost || r == RoleParticipant }

// Label is the role's name for people.
func (r Role) Label() string {
	switch r {
	case Host:
		return "Host"
	case CoHost:
		return "Co-host"
	case RoleParticipant:
		return "Participant"
	}
	return string(r)
}

// CanEdit reports whether the role may change the meeting, its agenda,
// its resources and its participants.
func CanEdit(r Role) bool { return r == Host || r == CoHost }

// CanModerate reports whether the role may admit, mute and remove others
// in the call.
func CanModerate(r Role) bool { return r == Host || r == CoHost }

// Meeting is one meeting or a series of them.
type Meeting struct {
	ID    string
	OrgID string // "" for a meeting that belongs to no organisation
	// HostID is the host's account id, "" once that account is erased.
	HostID      string
	Title       string
	Description string
	Schedule
	FollowsID string // the earlier meeting this one follows up, or ""
	State     State
	Locked    bool
	// PasscodeHash is HashPasscode of the passcode, "" for none.
	PasscodeHash string
	// Lobby makes guests wait until a host admits them.
	Lobby        bool
	ICalSequence int
	CreatedAt    time.Time
	UpdatedAt    time.Time
	CancelledAt  *time.Time
}

// HasPasscode reports whether joining needs a passcode.
func (m Meeting) HasPasscode() bool { return m.PasscodeHash != "" }

// Participant is a person's place in a meeting: a member (AccountID set)
// or a guest invited by address.
type Participant struct {
	ID        string
	MeetingID string
	AccountID string // "" for guests
	Email     string // the address invited; "" for a host added without one
	Name      string // a guest's own name, given when they join
	// AccountName is the member's name, read with the row for display.
	AccountName     string
	Role            Role
	InviteExpiresAt *time.Time
	LobbyState      string
	LobbyAt         *time.Time
	// DoorGeneration counts the times a host turned the person away or
	// removed them. Call tokens carry the count they were minted at;
	// one minted before the latest is refused (MayStayInCall).
	DoorGeneration int64
	CreatedAt      time.Time
	// AcceptedAt is when the person first came through the meeting's
	// door; nil while they are only invited. The host is accepted from
	// the start.
	AcceptedAt *time.Time
}

// Accepted reports whether the person has come through the meeting's
// door at least once, or is its host.
func (p Participant) Accepted() bool { return p.AcceptedAt != nil || p.Role == Host }

// Listed is the participant as the meeting's participant list shows them
// to others. Until they accept, an invitee is only the address they were
// invited at: whether that address belongs to an account, and that
// account's id and name, stay hidden, so that inviting an address cannot
// be used to find out who has an account. What they give or reveal by
// coming in (a guest's name, a member's account) is shown from then on.
func (p Participant) Listed() Participant {
	if p.Accepted() {
		return p
	}
	p.AccountID, p.AccountName, p.Name = "", "", ""
	return p
}

// Guest reports whether the participant has no account.
func (p Participant) Guest() bool { return p.AccountID == "" }

// DisplayName is how the participant is named to others: the member's
// name, the guest's own name, or the address they were invited at.
func (p Participant) DisplayName() string {
	switch {
	case p.AccountName != "":
		return p.AccountName
	case p.Name != "":
		return p.Name
	case p.Email != "":
		return p.Email
	}
	return "Former participant"
}

// DisplayNameOrEmpty is the member's or the guest's name, "" when the
// person has given none, for places where an address must not stand in.
func (p Participant) DisplayNameOrEmpty() string {
	if p.AccountName != "" {
		return p.AccountName
	}
	return p.Name
}

// Access is what one member may do with one meeting.
type Access struct {
	// Role is the member's role in the meeting, "" when they take no part.
	Role Role
	// ParticipantID is their participant row, "" when they take no part.
	ParticipantID string
	// OrgAdmin is true for an owner or admin of the meeting's
	// organisation, who sees the organisation's meetings.
	OrgAdmin bool
}

// CanEdit reports whether the member may change the meeting.
func (a Access) CanEdit() bool { return CanEdit(a.Role) }

// IsHost reports whether the member hosts the meeting.
func (a Access) IsHost() bool { return a.Role == Host }

// IsParticipant reports whether the member takes part.
func (a Access) IsParticipant() bool { return a.Role != "" }

// RequireEdit refuses a member who may see the meeting but not change it.
func (a Access) RequireEdit() error {
	if !a.CanEdit() {
		return errs.E(errs.Forbidden, "only the host and co-hosts may change this meeting")
	}
	return nil
}

// RequireHost refuses anyone but the host.
func (a Access) RequireHost() error {
	if !a.IsHost() {
		return errs.E(errs.Forbidden, "only the host may do this")
	}
	return nil
}

// RequireParticipant refuses someone who only sees the meeting, such as
// an organisation admin who takes no part.
func (a Access) RequireParticipant() error {
	if !a.IsParticipant() {
		return errs.E(errs.Forbidden, "only people taking part in this meeting may do this")
	}
	return nil
}

// Listed is a meeting in a member's list, with what they may do with it.
type Listed struct {
	Meeting
	Access Access
}

// NewID returns a new meeting id, also the name of its video room.
func NewID() string { return randomID("mtg_") }

// NewParticipantID returns a new participant id, also the identity in the
// video room; it is opaque and never contains an address.
func NewParticipantID() string { return randomID("par_") }

// NewAgendaItemID returns a new agenda item id.
func NewAgendaItemID() string { return randomID("agi_") }

// NewTemplateID returns a new agenda template id.
func NewTemplateID() string { return randomID("agt_") }

// NewResourceID returns a new resource id.
func NewResourceID() string { return randomID("res_") }

func randomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Limits on what a meeting holds.
const (
	MaxTitleRunes       = 200
	MaxDescriptionRunes = 10000
	MinDurationMinutes  = 1
	MaxDurationMinutes  = 1440
	MinPasscodeRunes    = 4
	MaxPasscodeRunes    = 64
)

// InvitePurpose is the purpose of personal invitation tokens
// (signed.Make), so they cannot pass for any other signed token.
const InvitePurpose = "meeting-invite"

// InviteGrace is how long a personal link keeps working after the
// meeting's last occurrence ends.
const InviteGrace = 30 * 24 * time.Hour

// Details are the fields of a meeting a host writes, checked.
type Details struct {
	Title       string
	Description string
	Schedule
	FollowsID string
	// Passcode: nil keeps the current one, "" removes it, anything else
	// sets it.
	Passcode *string
	Lobby    bool
}

// Input is a meeting as a form or a JSON body gives it, before checking.
type Input struct {
	Title       string
	Description string
	// Start is the first occurrence: a local date and time in TimeZone
	// ("2026-03-10T09:00"), or an RFC 3339 instant.
	Start           string
	TimeZone        string
	DurationMinutes int
	// RRule is an RFC 5545 RRULE value, with or without "RRULE:"; ""
	// for a single meeting.
	RRule string
	// ExDates are occurrences removed from a series, in the same forms as
	// Start.
	ExDates []string
	// Repeat, when set, is the recurrence picker's choice: it gives the
	// rule instead of RRule.
	Repeat *Repeat
	// SkipDates are dates (2006-01-02, in TimeZone) of occurrences to
	// remove, added to ExDates at the series' time of day.
	SkipDates []string
	FollowsID string
	Passcode  *string
	Lobby     bool
}

// InputOf returns the input that gives m again, for an edit that changes
// only some fields.
func InputOf(m Meeting) Input {
	in := Input{
		Title: m.Title, Description: m.Description,
		Start: m.StartsAt.UTC().Format(time.RFC3339), TimeZone: m.TimeZone,
		DurationMinutes: m.DurationMinutes, RRule: m.RRule, FollowsID: m.FollowsID, Lobby: m.Lobby,
	}
	for _, t := range m.ExDates {
		in.ExDates = append(in.ExDates, t.UTC().Format(time.RFC3339))
	}
	return in
}

// Check validates in and returns the details it gives, or an Invalid
// error naming each field that is wrong: title, description, start,
// time_zone, duration_minutes, rrule, exdates, passcode.
func Check(in Input) (Details, error) {
	v := errs.Validation{}
	d := Details{Lobby: in.Lobby, FollowsID: strings.TrimSpace(in.FollowsID)}
	d.Title = CheckText(v, "title", in.Title, MaxTitleRunes, true)
	d.Description = CheckText(v, "description", in.Description, MaxDescriptionRunes, false)
	if loc, ok := LoadZone(in.TimeZone); ok {
		if start, ok := ParseTime(in.Start, loc); ok {
			start = start.In(loc)
			if in.Repeat != nil {
				rule, err := in.Repeat.Rule(start)
				if e, ok := errs.As(err); ok && e.Fields != nil {
					for f, msg := range e.Fields {
						v.Add(f, msg)
					}
				}
				in.RRule = rule
			}
			for _, day := range in.SkipDates {
				if strings.TrimSpace(day) == "" {
					continue
				}
				at := OccurrenceOn(day, start)
				if at == "" {
					v.Add("exdates", "each must be a date such as 2026-03-17")
					break
				}
				in.ExDates = append(in.ExDates, at)
			}
		}
	}
	sched, err := ParseSchedule(in.Start, in.TimeZone, in.DurationMinutes, in.RRule, in.ExDates)
	if e, ok := errs.As(err); ok && e.Fields != nil {
		for f, msg := range e.Fields {
			v.Add(f, msg)
		}
	} else if err != nil {
		return Details{}, err
	}
	d.Schedule = sched
	if in.Passcode != nil {
		pc := strings.TrimSpace(*in.Passcode)
		if n := utf8.RuneCountInString(pc); pc != "" && (n < MinPasscodeRunes || n > MaxPasscodeRunes) {
			v.Add("passcode", "must be 4 to 64 characters, or empty for none")
		}
		d.Passcode = &pc
	}
	if err := v.Err(); err != nil {
		return Details{}, err
	}
	return d, nil
}

// CheckText trims s and checks it is valid text of at most max
// characters without control characters (line breaks are allowed in
// longer texts), and present when required.
func CheckText(v errs.Validation, field, s string, max int, required bool) string {
	s = strings.TrimSpace(s)
	multiline := max > MaxTitleRunes
	switch {
	case s == "" && required:
		v.Add(field, "must not be empty")
	case !utf8.ValidString(s):
		v.Add(field, "must be valid text")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	case strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t'))
	}) >= 0:
		v.Add(field, "must not contain control characters")
	}
	return s
}

// HashPasscode is how a passcode is stored: HMAC-SHA-256 under the
// server's secret, bound to the meeting. A passcode is short, so a plain
// hash could be reversed by trying them all; without the secret, a copy
// of the database does not allow that. Hashing is cheap, which keeps
// joining fast; the join route's rate limits stop online guessing.
func HashPasscode(secret []byte, meetingID, passcode string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("meeting-passcode\x00" + meetingID + "\x00" + passcode))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// CheckPasscode checks a passcode given to join m: nil when m has none or
// it matches, errs.Forbidden otherwise.
func CheckPasscode(secret []byte, m Meeting, given string) error {
	if m.PasscodeHash == "" {
		return nil
	}
	want := HashPasscode(secret, m.ID, strings.TrimSpace(given))
	if !hmac.Equal([]byte(want), []byte(m.PasscodeHash)) {
		return errs.E(errs.Forbidden, "the passcode is not right")
	}
	return nil
}
