package cookies

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/privacy/consent"
)

// Choice is a visitor's decision about the optional categories, as the
// choice cookie carries it.
type Choice struct {
	// VisitorID is the random id the consent ledger files the choice
	// under (subject kind "visitor").
	VisitorID string
	// At is when the choice was made; it is asked again at ReaskAt(At).
	At time.Time
	// NoticeVersion is the cookie notice's version the visitor saw.
	NoticeVersion string
	// Granted are the optional categories switched on, in the order of
	// Optional.
	Granted []Category
	// GPC is true when the browser sent the Global Privacy Control
	// signal with the choice.
	GPC bool
}

// Allows reports whether the choice lets cookies of category c be set.
// Strictly necessary cookies are always allowed.
func (c Choice) Allows(cat Category) bool {
	return cat == StrictlyNecessary || slices.Contains(c.Granted, cat)
}

// Current reports whether the choice still stands at now: made under
// the notice's present version, less than six months ago. A choice that
// is not current is asked again and allows nothing optional meanwhile.
func (c Choice) Current(now time.Time) bool {
	return c.NoticeVersion == NoticeVersion && now.Before(ReaskAt(c.At))
}

// Action is what the visitor did in the cookie tool.
type Action string

const (
	// AcceptAll switches every optional category on (marketing stays off
	// while Global Privacy Control is on: the signal is an opt-out the
	// "accept all" button does not override).
	AcceptAll Action = "accept-all"
	// RejectAll switches every optional category off.
	RejectAll Action = "reject-all"
	// Dismiss is closing the banner without a choice, which counts as a
	// refusal of everything optional.
	Dismiss Action = "close"
	// Save keeps the categories the visitor switched on one by one. An
	// explicit choice of marketing wins over Global Privacy Control.
	Save Action = "save"
	// Withdraw switches everything optional off in one click.
	Withdraw Action = "withdraw"
)

// Actions lists every action.
var Actions = []Action{AcceptAll, RejectAll, Dismiss, Save, Withdraw}

// ParseAction accepts the id of a known action.
func ParseAction(s string) (Action, bool) {
	a := Action(s)
	return a, slices.Contains(Actions, a)
}

// Decide turns an action into the visitor's new choice. selected are the
// categories switched on, which only Save reads; strictly necessary is
// always on and never listed.
func Decide(a Action, selected []Category, gpc bool, visitorID string, now time.Time) Choice {
	c := Choice{VisitorID: visitorID, At: now, NoticeVersion: NoticeVersion, GPC: gpc}
	for _, cat := range Optional {
		on := false
		switch a {
		case AcceptAll:
			on = !(gpc && cat == Marketing)
		case Save:
			on = slices.Contains(selected, cat)
		}
		if on {
			c.Granted = append(c.Granted, cat)
		}
	}
	return c
}

// Transition is the ledger state a category's record takes: given when it
// is on, withdrawn when it is switched off after having been given, and
// refused otherwise.
func Transition(on, wasGiven bool) consent.State {
	switch {
	case on:
		return consent.Given
	case wasGiven:
		return consent.Withdrawn
	}
	return consent.Refused
}

// choicePurpose binds the signed cookie value to this use of the key.
const choicePurpose = "cookies.choice"

// ErrInvalidChoice is any cookie value that is not a choice we made:
// altered, signed with another key, expired or malformed.
var ErrInvalidChoice = errors.New("cookies: invalid choice cookie")

// maxEncoded bounds what Decode reads; a real value is under 250 bytes.
const maxEncoded = 512

// Encode makes the choice cookie's value: the choice, signed with the
// server's secret so that neither the visitor nor anyone else can alter
// it, and good until the choice lapses.
func Encode(secret []byte, c Choice) string {
	var grants strings.Builder
	for _, cat := range c.Granted {
		grants.WriteByte(cat.letter())
	}
	gpc := "0"
	if c.GPC {
		gpc = "1"
	}
	payload := strings.Join([]string{"1", c.NoticeVersion, strconv.FormatInt(c.At.Unix(), 10), grants.String(), gpc, c.VisitorID}, "|")
	return signed.Make(secret, choicePurpose, payload, ReaskAt(c.At))
}

// Decode reads a choice cookie's value made by Encode with the same
// secret. It does not judge whether the choice is Current.
func Decode(secret []byte, value string, now time.Time) (Choice, error) {
	if len(value) > maxEncoded {
		return Choice{}, ErrInvalidChoice
	}
	payload, err := signed.Check(secret, choicePurpose, value, now)
	if err != nil {
		return Choice{}, ErrInvalidChoice
	}
	parts := strings.Split(payload, "|")
	if len(parts) != 6 || parts[0] != "1" || parts[1] == "" || (parts[4] != "0" && parts[4] != "1") || !validVisitorID(parts[5]) {
		return Choice{}, ErrInvalidChoice
	}
	at, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return Choice{}, ErrInvalidChoice
	}
	c := Choice{VisitorID: parts[5], At: time.Unix(at, 0).UTC(), NoticeVersion: parts[1], GPC: parts[4] == "1"}
	for _, cat := range Optional {
		if strings.IndexByte(parts[3], cat.letter()) >= 0 {
			c.Granted = append(c.Granted, cat)
		}
	}
	return c, nil
}

// letter is the category's mark in the cookie value.
func (c Category) letter() byte {
	switch c {
	case Preferences:
		return 'p'
	case Analytics:
		return 'a'
	case Marketing:
		return 'm'
	}
	return '-'
}
