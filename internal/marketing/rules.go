package marketing

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// Field names, shared by the forms and the API.
const (
	FieldChannels  = "channels"
	FieldKind      = "kind"
	FieldPurpose   = "purpose"
	FieldStatement = "statement"
	FieldStatus    = "status"
	FieldGrounds   = "grounds"
)

// Change is a new state for a channel.
type Change struct {
	Channel Channel
	On      bool
}

// Edit checks the channel states a person asks for against what they may
// choose and returns the changes to store, in the order of Channels.
// allowOn is false where the request does not prove who the person is
// beyond holding a link from a message: such a request may switch
// marketing off, never on, so that a forwarded message cannot be used to
// subscribe someone.
func (p Preferences) Edit(want map[string]bool, allowOn bool) ([]Change, error) {
	v := errs.Validation{}
	for name := range want {
		if !Channel(name).Valid() {
			v.Add(FieldChannels+"."+name, "is not a channel; use email, sms, phone or social")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out []Change
	for _, c := range Channels {
		on, asked := want[string(c)]
		if !asked {
			continue
		}
		if on && !p.On(c) {
			switch {
			case p.Objected:
				return nil, errs.E(errs.Conflict, "you objected to direct marketing, which is final: it cannot be switched back on")
			case c == Email && p.Suppressed:
				return nil, errs.E(errs.Conflict, "this address is on our suppression list after an objection, so marketing by e-mail stays off")
			case !allowOn:
				v.Add(FieldChannels+"."+string(c), "sign in to switch marketing on; a link from a message can only switch it off")
				continue
			case !p.Relationship.MayOptIn():
				v.Add(FieldChannels+"."+string(c), "cannot be switched on for this account")
				continue
			}
		}
		if chosen, ok := p.Chosen[c]; ok && chosen == on {
			continue
		}
		out = append(out, Change{Channel: c, On: on})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ObjectionRequest is an objection as a person makes it.
type ObjectionRequest struct {
	Kind      ObjectionKind `json:"kind"`
	Purpose   string        `json:"purpose"`
	Statement string        `json:"statement"`
}

// Clean checks the request. An objection to legitimate-interest
// processing may name one purpose that rests on legitimate interest, or
// none for all of them; naming marketing makes it the absolute objection
// to marketing, which needs nobody to weigh it.
func (o *ObjectionRequest) Clean() error {
	o.Purpose = strings.TrimSpace(o.Purpose)
	o.Statement = strings.TrimSpace(o.Statement)
	v := errs.Validation{}
	if !o.Kind.Valid() {
		v.Add(FieldKind, "must be marketing, profiling or legitimate-interest")
		return v.Err()
	}
	if o.Kind == ObjectLegitimateInterest && o.Purpose == Purpose {
		o.Kind, o.Purpose = ObjectMarketing, ""
	}
	if o.Kind.Absolute() {
		if o.Purpose != "" {
			v.Add(FieldPurpose, "only an objection to legitimate-interest processing names a purpose")
		}
	} else if o.Purpose != "" && !LegitimateInterestPurpose(o.Purpose) {
		v.Add(FieldPurpose, "must be a purpose that rests on our legitimate interest, or empty for all of them")
	}
	checkText(v, FieldStatement, o.Statement, MaxStatement)
	return v.Err()
}

// LegitimateInterestPurpose reports whether the data map has purpose id
// and it may rest on legitimate interest.
func LegitimateInterestPurpose(id string) bool {
	p, ok := datamap.Default().Purpose(id)
	return ok && slices.Contains(p.Bases, datamap.LegitimateInterest)
}

// Decision is what staff decide about an objection to
// legitimate-interest processing.
type Decision struct {
	Status  ObjectionStatus `json:"status"`
	Grounds string          `json:"grounds"`
}

// MinGrounds is the shortest statement of grounds staff may record: an
// objection is only overridden for reasons that can be written down.
const MinGrounds = 20

// Clean checks a decision: upheld (the processing stops) or overridden,
// which needs the compelling grounds written down.
func (d *Decision) Clean() error {
	d.Grounds = strings.TrimSpace(d.Grounds)
	v := errs.Validation{}
	switch d.Status {
	case Upheld:
	case Overridden:
		if utf8.RuneCountInString(d.Grounds) < MinGrounds {
			v.Add(FieldGrounds, "an objection is only overridden for compelling grounds: write them down")
		}
	default:
		v.Add(FieldStatus, "must be upheld or overridden")
	}
	checkText(v, FieldGrounds, d.Grounds, MaxGrounds)
	return v.Err()
}

// checkText refuses text that is too long or carries control characters
// other than line breaks and tabs.
func checkText(v errs.Validation, field, s string, max int) {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		v.Add(field, "must be text of at most "+strconv.Itoa(max)+" characters")
		return
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
		v.Add(field, "must not contain control characters")
	}
}
