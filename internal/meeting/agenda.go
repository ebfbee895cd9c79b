package meeting

import (
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

// AgendaItem is one point of a meeting's agenda.
type AgendaItem struct {
	ID        string
	MeetingID string
	// Position orders the agenda, from 1.
	Position       int
	Title          string
	PlannedMinutes int
	Notes          string
	// OwnerParticipantID is the participant who leads the item, "" for
	// nobody.
	OwnerParticipantID string
	// CreatedBy is the author's account id, "" once it is erased.
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TemplateItem is an agenda item saved in a template: what it says,
// without who leads it, since a template serves other meetings.
type TemplateItem struct {
	Title          string `json:"title"`
	PlannedMinutes int    `json:"planned_minutes"`
	Notes          string `json:"notes"`
}

// Template is an agenda saved for reuse by a member, shared with an
// organisation when OrgID is set.
type Template struct {
	ID        string
	AccountID string
	OrgID     string
	Name      string
	Items     []TemplateItem
	CreatedAt time.Time
}

// Limits on agendas.
const (
	MaxAgendaItems        = 100
	MaxItemTitleRunes     = 200
	MaxItemNotesRunes     = 5000
	MaxPlannedMinutes     = 1440
	MaxTemplateNameRunes  = 100
	MaxTemplatesPerMember = 200
)

// ItemInput is an agenda item as a form or JSON body gives it.
type ItemInput struct {
	Title              string
	PlannedMinutes     int
	Notes              string
	OwnerParticipantID string
}

// CheckItem validates an agenda item; fields: title, planned_minutes,
// notes.
func CheckItem(in ItemInput) (ItemInput, error) {
	v := errs.Validation{}
	out := ItemInput{OwnerParticipantID: in.OwnerParticipantID, PlannedMinutes: in.PlannedMinutes}
	out.Title = CheckText(v, "title", in.Title, MaxItemTitleRunes, true)
	out.Notes = CheckText(v, "notes", in.Notes, MaxItemNotesRunes, false)
	if in.PlannedMinutes < 0 || in.PlannedMinutes > MaxPlannedMinutes {
		v.Add("planned_minutes", "must be from 0 to 1440 minutes")
	}
	return out, v.Err()
}

// CheckTemplateName validates the name of a template.
func CheckTemplateName(name string) (string, error) {
	v := errs.Validation{}
	name = CheckText(v, "name", name, MaxTemplateNameRunes, true)
	return name, v.Err()
}

// CheckOrder checks that order names each of the current item ids exactly
// once, so a reorder can neither lose nor invent an item.
func CheckOrder(current []AgendaItem, order []string) error {
	bad := &errs.Error{Code: errs.Invalid, Message: "the new order must list every agenda item once",
		Fields: map[string]string{"order": "must list every item of the agenda exactly once"}}
	if len(order) != len(current) {
		return bad
	}
	ids := map[string]bool{}
	for _, it := range current {
		ids[it.ID] = true
	}
	seen := map[string]bool{}
	for _, id := range order {
		if !ids[id] || seen[id] {
			return bad
		}
		seen[id] = true
	}
	return nil
}

// TemplateItems turns an agenda into the items of a template.
func TemplateItems(items []AgendaItem) []TemplateItem {
	out := make([]TemplateItem, 0, len(items))
	for _, it := range items {
		out = append(out, TemplateItem{Title: it.Title, PlannedMinutes: it.PlannedMinutes, Notes: it.Notes})
	}
	return out
}

// TotalMinutes adds up the planned minutes of an agenda.
func TotalMinutes(items []AgendaItem) int {
	n := 0
	for _, it := range items {
		n += it.PlannedMinutes
	}
	return n
}
