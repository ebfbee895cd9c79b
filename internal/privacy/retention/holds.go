package retention

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
)

// Hold is a legal hold: while it is in force, retention and erasure leave
// the person's data alone.
type Hold struct {
	ID         string     `json:"id"`
	PersonID   string     `json:"person_id"`
	Reason     string     `json:"reason"`
	StartsAt   time.Time  `json:"starts_at"`
	EndsAt     *time.Time `json:"ends_at"`
	ReleasedAt *time.Time `json:"released_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// InForce reports whether the hold keeps the person's data at now.
func (h Hold) InForce(now time.Time) bool {
	return h.ReleasedAt == nil && !now.Before(h.StartsAt) && (h.EndsAt == nil || now.Before(*h.EndsAt))
}

// Form fields of a new hold.
const (
	FieldPerson = "person_id"
	FieldReason = "reason"
	FieldEnds   = "ends_at"
)

// MaxReason bounds the privacy officer's note.
const MaxReason = 1000

// HoldRequest is what the privacy officer gives to place a hold. EndsAt is
// optional; without it the hold lasts until released.
type HoldRequest struct {
	PersonID string     `json:"person_id"`
	Reason   string     `json:"reason"`
	EndsAt   *time.Time `json:"ends_at"`
}

// Clean trims the request and checks it at now, returning the field
// errors as one errs.Invalid.
func (r *HoldRequest) Clean(now time.Time) error {
	r.PersonID = strings.TrimSpace(r.PersonID)
	r.Reason = strings.TrimSpace(r.Reason)
	fields := map[string]string{}
	switch {
	case r.PersonID == "":
		fields[FieldPerson] = "is required: the account id of a member or the participant id of a guest"
	case len(r.PersonID) > 100 || strings.ContainsFunc(r.PersonID, func(c rune) bool { return unicode.IsSpace(c) || c == '@' }):
		fields[FieldPerson] = "must be an account id or a participant id, not an address"
	}
	switch {
	case r.Reason == "":
		fields[FieldReason] = "is required: say which claim the data is held for"
	case utf8.RuneCountInString(r.Reason) > MaxReason:
		fields[FieldReason] = "must be at most 1000 characters"
	case !utf8.ValidString(r.Reason):
		fields[FieldReason] = "must be text"
	}
	if r.EndsAt != nil {
		e := r.EndsAt.UTC()
		r.EndsAt = &e
		if !e.After(now) {
			fields[FieldEnds] = "must be in the future"
		}
	}
	if len(fields) > 0 {
		return &errs.Error{Code: errs.Invalid, Message: "some fields are not valid", Fields: fields}
	}
	return nil
}

// NewHoldID returns a random id for a hold.
func NewHoldID() string { return "hold_" + randomHex() }

// NewRunID returns a random id for a run.
func NewRunID() string { return "ret_" + randomHex() }

func randomHex() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
