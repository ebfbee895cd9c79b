package meeting

import (
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
)

// PasscodeThrottle bounds wrong passcodes per person and meeting: a few
// typing mistakes pass, trying the passcodes one by one does not. It is
// counted per person rather than per address, so that one guesser cannot
// lock everybody else out.
var PasscodeThrottle = ratelimit.Policy{Limit: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

// Where a participant stands at the meeting's door (meeting_participants.
// lobby_state). No state means they have not come through it yet, or the
// last call ended and the door was reset.
const (
	// LobbyWaiting: a guest passed the passcode and the lock and waits for
	// a host to let them in.
	LobbyWaiting = "waiting"
	// LobbyAdmitted: let in, by a host or, for members, by passing the
	// passcode and the lock.
	LobbyAdmitted = "admitted"
	// LobbyDenied: a host turned the person away or removed them from the
	// call. Only a host admitting them again undoes it.
	LobbyDenied = "denied"
)

// Standing is the answer to a request to join.
type Standing string

const (
	// Admitted: the person may have a call token.
	Admitted Standing = "admitted"
	// Waiting: the person waits in the lobby for a host.
	Waiting Standing = "waiting"
)

// JoinRequest is a request to join a meeting's call.
type JoinRequest struct {
	// Asking is true when the person asks to come in (POST), false when
	// they only look where they stand (a page polling). Only asking moves
	// a newcomer into the lobby.
	Asking bool
	// PasscodeOK is true when a passcode that matches came with the
	// request; CheckPasscode decides, and callers limit guesses.
	PasscodeOK bool
}

// Join applies the meeting's entry rules to one participant:
//
//   - a cancelled meeting has no call (Conflict);
//   - hosts and co-hosts always come in, whatever the lock, passcode and
//     lobby say, because they run the meeting;
//   - anyone a host turned away or removed stays out (Forbidden);
//   - a locked meeting lets no one else in, not even someone who was in
//     before, as a lock is meant to (Forbidden);
//   - a newcomer must ask, with the passcode when there is one
//     (Forbidden when it is missing or wrong); once through, they need not
//     give it again until the call ends;
//   - guests wait in the lobby, when it is on, until a host admits them;
//     members on the participant list do not: they were invited by name
//     and proved who they are by signing in, which is what the lobby checks
//     for people who come with only a link.
//
// Next is the lobby state to store: "" when nothing changes.
func Join(m Meeting, p Participant, req JoinRequest) (s Standing, next string, err error) {
	if m.State == Cancelled {
		return "", "", errs.E(errs.Conflict, "this meeting was cancelled")
	}
	if CanModerate(p.Role) {
		return Admitted, "", nil
	}
	if p.LobbyState == LobbyDenied {
		return "", "", errs.E(errs.Forbidden, "a host has not let you in to this meeting")
	}
	if m.Locked {
		return "", "", errs.E(errs.Forbidden, "this meeting is locked; a host must unlock it before anyone else can join")
	}
	through := p.LobbyState == LobbyWaiting || p.LobbyState == LobbyAdmitted
	if !through {
		if !req.Asking {
			return "", "", errs.E(errs.Conflict, "ask to join first")
		}
		if m.HasPasscode() && !req.PasscodeOK {
			return "", "", errs.E(errs.Forbidden, "the passcode is not right")
		}
	}
	if p.Guest() && m.Lobby && p.LobbyState != LobbyAdmitted {
		if p.LobbyState == LobbyWaiting {
			return Waiting, "", nil
		}
		return Waiting, LobbyWaiting, nil
	}
	if p.LobbyState == LobbyAdmitted {
		return Admitted, "", nil
	}
	if !req.Asking {
		// Looking does not write: a guest who waited before the host
		// turned the lobby off is admitted when they next ask, and may
		// have a token now.
		return Admitted, "", nil
	}
	return Admitted, LobbyAdmitted, nil
}

// InCall reports whether the participant may take part in the call's
// chat: whoever Join would admit without asking, lock or not, since the
// lock keeps newcomers out, not the people already talking.
func InCall(m Meeting, p Participant) bool {
	unlocked := m
	unlocked.Locked = false
	s, _, err := Join(unlocked, p, JoinRequest{})
	return err == nil && s == Admitted
}

// Why a connection to a call is ended: the reasons MayStayInCall gives,
// written to the audit log.
const (
	RefusedCancelled   = "cancelled"    // the meeting was cancelled
	RefusedStranger    = "not_invited"  // the identity takes no part in the meeting
	RefusedNoLink      = "link_expired" // a guest's personal link expired or was revoked
	RefusedOldToken    = "old_token"    // minted before a host last turned the person away
	RefusedTurnedAway  = "turned_away"  // a host turned the person away or removed them
	RefusedLocked      = "locked"       // the meeting is locked
	RefusedNotAdmitted = "not_admitted" // the person is not through the door (lobby, reset door)
)

// MayStayInCall decides whether a connection that just opened in the
// meeting's call may stay: p holds it, with a token minted at door
// generation door. It is the door's own rule (Join), applied to someone
// who did not ask: whoever the door would not admit now is refused, and so
// is a token minted before a host last turned p away, even once they are
// let in again, since the door hands them a fresh one.
//
// A connection opening in a locked meeting is refused, whoever held it
// before the lock: like the door, the lock lets nobody but the host and
// co-hosts come (back) in. The people already talking are never asked,
// since only a new connection is checked.
//
// It returns "" when the connection may stay, otherwise one of the
// Refused* reasons.
func MayStayInCall(m Meeting, p Participant, door int64, now time.Time) string {
	switch {
	case m.State == Cancelled:
		return RefusedCancelled
	case CanModerate(p.Role):
		return ""
	case p.Guest() && (p.InviteExpiresAt == nil || !now.Before(*p.InviteExpiresAt)):
		// A guest comes only through their link, and the door no longer
		// opens to it.
		return RefusedNoLink
	case door < p.DoorGeneration:
		return RefusedOldToken
	case p.LobbyState == LobbyDenied:
		return RefusedTurnedAway
	case m.Locked:
		return RefusedLocked
	case !InCall(m, p):
		return RefusedNotAdmitted
	}
	return ""
}

// CanBeModerated reports whether a host or co-host may act on target:
// admit, turn away, mute or remove them. Nobody acts on the host, and
// nobody on themselves.
func CanBeModerated(actor, target Participant) error {
	switch {
	case !CanModerate(actor.Role):
		return errs.E(errs.Forbidden, "only the host and co-hosts may do this")
	case actor.ID == target.ID:
		return errs.E(errs.Invalid, "you cannot do this to yourself")
	case target.Role == Host:
		return errs.E(errs.Forbidden, "nobody may do this to the host")
	}
	return nil
}

// GuestDetails are what a guest gives at the door.
type GuestDetails struct {
	Name  string
	Email string
}

// CheckGuest validates a guest's name and e-mail address. A link sent to
// an address must be used with that address (case does not matter): the
// address is how the host knows who the guest is, and a forwarded link
// should not bring in someone else in the invitee's place.
func CheckGuest(p Participant, name, email string) (GuestDetails, error) {
	v := errs.Validation{}
	d := GuestDetails{Name: account.CleanName(name), Email: account.NormaliseEmail(email)}
	account.CheckName(v, "name", d.Name)
	account.CheckEmail(v, "email", d.Email)
	if err := v.Err(); err != nil {
		return GuestDetails{}, err
	}
	if p.Email != "" && account.NormaliseEmail(p.Email) != d.Email {
		return GuestDetails{}, errs.E(errs.Forbidden, "this link was sent to another e-mail address")
	}
	return d, nil
}

// DoorSweepArgs is the periodic job that holds connections to the door
// before LiveKit reports them: a connection whose signalling is up but
// whose media is not shows its holder who is in the call, and LiveKit
// only reports it (and so only has it checked) once its media flows, or
// drops it after a minute.
type DoorSweepArgs struct{}

func (DoorSweepArgs) Kind() string { return "calls.door_sweep" }

// DoorSweepEvery is how often that job runs: well under LiveKit's
// minute, and a few cheap server API calls per running call.
const DoorSweepEvery = 20 * time.Second
