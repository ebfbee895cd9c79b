package account

import (
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

// Invitations (to a meeting or an organisation) are the one way a member
// makes the product mail someone else, with text of their choosing in the
// message. These rules keep that from becoming a way to send mail in bulk.
const (
	// DefaultInvitationsPerDay is how many invitations one account may
	// send in a day (UTC) unless the operator sets another number: far
	// more than anyone schedules by hand, far too few to be worth abusing.
	DefaultInvitationsPerDay = 100
	// DefaultInvitationsPerAddressPerDay is how many invitations one
	// address may receive in a day from people who share none of its
	// organisations, whoever sends them.
	DefaultInvitationsPerAddressPerDay = 10
)

// InvitationDay is the day (UTC) an invitation sent at now counts
// towards, and how long remains until the next day's count begins.
func InvitationDay(now time.Time) (day time.Time, left time.Duration) {
	now = now.UTC()
	day = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return day, day.AddDate(0, 0, 1).Sub(now)
}

// CheckInviter refuses an account that has not confirmed its own address:
// mail to others goes out only on behalf of someone who can be reached.
func CheckInviter(a Account) error {
	if !a.Verified() {
		return errs.E(errs.Forbidden, "confirm your e-mail address before you invite anyone: follow the link we sent you, or ask for a new one in your account settings")
	}
	return nil
}

// TooManyInvitations refuses an invitation beyond the inviter's daily
// limit, until the next day begins.
func TooManyInvitations(limit int, left time.Duration) error {
	return &errs.Error{Code: errs.RateLimited, Err: &errs.Wait{For: left},
		Message: "you have sent " + strconv.Itoa(limit) + " invitations today, as many as one day allows; try again tomorrow (UTC)"}
}

// TooManyInvitationsTo refuses an invitation to an address that has had
// as many invitations from strangers as one day allows.
func TooManyInvitationsTo(left time.Duration) error {
	return &errs.Error{Code: errs.RateLimited, Err: &errs.Wait{For: left},
		Message: "this address has had as many invitations today as one day allows; try again tomorrow (UTC)",
		Fields:  map[string]string{"email": "has had as many invitations today as one day allows"}}
}
