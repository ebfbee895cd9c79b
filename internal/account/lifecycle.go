package account

import "time"

// DefaultReactivationGrace is how long a deactivated account can be
// brought back by signing in, unless the operator configures otherwise.
const DefaultReactivationGrace = 30 * 24 * time.Hour

// CanReactivate reports whether an account deactivated at deactivatedAt
// may be reactivated by signing in at now.
func CanReactivate(deactivatedAt, now time.Time, grace time.Duration) bool {
	if grace <= 0 {
		grace = DefaultReactivationGrace
	}
	return now.Before(deactivatedAt.Add(grace))
}

// RequestErasure is the kind of request "delete my account"; the other
// kinds and every state of a request are internal/privacy/rights'.
const RequestErasure = "erasure"

// AccountRequest is a request the member made about their own data, such
// as "delete my account", with the deadline by which it must be answered.
type AccountRequest struct {
	ID         string    `json:"id"`
	AccountID  string    `json:"-"`
	Kind       string    `json:"kind"`
	State      string    `json:"state"`
	ReceivedAt time.Time `json:"received_at"`
	DueAt      time.Time `json:"due_at"`
}

// NewRequestID returns a fresh random request id.
func NewRequestID() string { return randomID("req_") }

// NewGuardianLinkID returns a fresh random id for a guardian link.
func NewGuardianLinkID() string { return randomID("gdn_") }

// DueOneMonthAfter is the deadline for answering a request received at
// t: the same day of the next calendar month, or that month's last day
// when it is shorter (31 January falls due on 28 or 29 February). Adding
// a month with time.AddDate would instead roll over into March.
func DueOneMonthAfter(t time.Time) time.Time {
	return AddMonthsClamped(t, 1)
}

// AddMonthsClamped adds n calendar months to t, keeping the time of day
// and clamping the day to the last day of the target month.
func AddMonthsClamped(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := daysIn(first.Year(), first.Month())
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
