package meetings

import (
	"context"
	"strconv"
	"strings"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Agenda lists the meeting's agenda in order, for a member who may see
// the meeting.
func (s *Service) Agenda(ctx context.Context, accountID, meetingID string) ([]meeting.AgendaItem, error) {
	m, _, err := s.Get(ctx, accountID, meetingID)
	if err != nil {
		return nil, err
	}
	return store.Agenda(ctx, s.db(), m.ID)
}

// checkOwner refuses an item owner who is not a participant of the
// meeting.
func checkOwner(ctx context.Context, q database.Querier, meetingID, participantID string) error {
	if participantID == "" {
		return nil
	}
	if _, err := store.MeetingParticipant(ctx, q, meetingID, participantID); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return &errs.Error{Code: errs.Invalid, Message: "the owner must take part in the meeting",
				Fields: map[string]string{"owner_participant_id": "must be a participant of this meeting"}}
		}
		return err
	}
	return nil
}

// AddAgendaItems checks items and appends them to the agenda, for hosts
// and co-hosts.
func (s *Service) AddAgendaItems(ctx context.Context, accountID, meetingID string, items []meeting.ItemInput) ([]meeting.AgendaItem, error) {
	in := make([]meeting.ItemInput, 0, len(items))
	for _, it := range items {
		checked, err := meeting.CheckItem(it)
		if err != nil {
			return nil, err
		}
		in = append(in, checked)
	}
	var out []meeting.AgendaItem
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		m, _, err := lockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		out, err = s.appendItems(ctx, tx, m, accountID, in)
		return err
	})
	return out, err
}

// appendItems adds checked items at the end of m's agenda and records it.
func (s *Service) appendItems(ctx context.Context, tx *service.Tx, m meeting.Meeting, accountID string, in []meeting.ItemInput) ([]meeting.AgendaItem, error) {
	now := s.env.Now()
	n, last, err := store.AgendaSize(ctx, tx, m.ID)
	if err != nil {
		return nil, err
	}
	if n+len(in) > meeting.MaxAgendaItems {
		return nil, errs.E(errs.Conflict, "an agenda holds at most %d items", meeting.MaxAgendaItems)
	}
	var out []meeting.AgendaItem
	for i, item := range in {
		if err := checkOwner(ctx, tx, m.ID, item.OwnerParticipantID); err != nil {
			return nil, err
		}
		it := meeting.AgendaItem{ID: meeting.NewAgendaItemID(), MeetingID: m.ID, Position: last + i + 1, Title: item.Title,
			PlannedMinutes: item.PlannedMinutes, Notes: item.Notes, OwnerParticipantID: item.OwnerParticipantID,
			CreatedBy: accountID, CreatedAt: now, UpdatedAt: now}
		if err := store.InsertAgendaItem(ctx, tx, it); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, record(ctx, tx, now, accountID, "meeting.agenda.add", m.ID, map[string]string{"items": strconv.Itoa(len(in))})
}

// UpdateAgendaItem checks in and rewrites one item with it, for hosts and
// co-hosts.
func (s *Service) UpdateAgendaItem(ctx context.Context, accountID, meetingID, itemID string, in meeting.ItemInput) (meeting.AgendaItem, error) {
	in, err := meeting.CheckItem(in)
	if err != nil {
		return meeting.AgendaItem{}, err
	}
	now := s.env.Now()
	var out meeting.AgendaItem
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		m, _, err := lockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		it, err := store.AgendaItem(ctx, tx, m.ID, itemID)
		if err != nil {
			return err
		}
		if err := checkOwner(ctx, tx, m.ID, in.OwnerParticipantID); err != nil {
			return err
		}
		it.Title, it.PlannedMinutes, it.Notes, it.OwnerParticipantID, it.UpdatedAt = in.Title, in.PlannedMinutes, in.Notes, in.OwnerParticipantID, now
		if err := store.SaveAgendaItem(ctx, tx, it); err != nil {
			return err
		}
		out = it
		return record(ctx, tx, now, accountID, "meeting.agenda.update", m.ID, map[string]string{"item": it.ID})
	})
	return out, err
}

// DeleteAgendaItem removes one item and closes the gap it leaves, for
// hosts and co-hosts.
func (s *Service) DeleteAgendaItem(ctx context.Context, accountID, meetingID, itemID string) error {
	now := s.env.Now()
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		m, _, err := lockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		it, err := store.AgendaItem(ctx, tx, m.ID, itemID)
		if err != nil {
			return err
		}
		if err := store.DeleteAgendaItemRow(ctx, tx, it); err != nil {
			return err
		}
		return record(ctx, tx, now, accountID, "meeting.agenda.delete", m.ID, map[string]string{"item": it.ID})
	})
}

// ReorderAgenda puts the agenda in the order of ids, which must name each
// item exactly once, for hosts and co-hosts.
func (s *Service) ReorderAgenda(ctx context.Context, accountID, meetingID string, ids []string) ([]meeting.AgendaItem, error) {
	var out []meeting.AgendaItem
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		m, _, err := lockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		current, err := store.Agenda(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		out, err = s.reorder(ctx, tx, m, accountID, current, ids)
		return err
	})
	return out, err
}

// reorder writes the order ids of the current agenda and records it.
func (s *Service) reorder(ctx context.Context, tx *service.Tx, m meeting.Meeting, accountID string, current []meeting.AgendaItem, ids []string) ([]meeting.AgendaItem, error) {
	if err := meeting.CheckOrder(current, ids); err != nil {
		return nil, err
	}
	now := s.env.Now()
	if err := store.SetAgendaOrder(ctx, tx, m.ID, ids, now); err != nil {
		return nil, err
	}
	out, err := store.Agenda(ctx, tx, m.ID)
	if err != nil {
		return nil, err
	}
	return out, record(ctx, tx, now, accountID, "meeting.agenda.reorder", m.ID, nil)
}

// MoveAgendaItem moves one item a place "up" or "down" (direction), the
// phone-friendly way to reorder; an item already at that end, or another
// direction, leaves the order as it is. It returns the agenda.
func (s *Service) MoveAgendaItem(ctx context.Context, accountID, meetingID, itemID, direction string) ([]meeting.AgendaItem, error) {
	var out []meeting.AgendaItem
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		m, acc, err := store.MeetingForUpdate(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		items, err := store.Agenda(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		ids := make([]string, len(items))
		at := -1
		for i, it := range items {
			ids[i] = it.ID
			if it.ID == itemID {
				at = i
			}
		}
		// A missing item is reported before the member's rights, as
		// naming an item of a meeting one may see reveals nothing.
		if at < 0 {
			return errs.E(errs.NotFound, "there is no such agenda item")
		}
		if err := acc.RequireEdit(); err != nil {
			return err
		}
		if m.State == meeting.Cancelled {
			return errCancelled()
		}
		switch {
		case direction == "up" && at > 0:
			ids[at], ids[at-1] = ids[at-1], ids[at]
		case direction == "down" && at < len(ids)-1:
			ids[at], ids[at+1] = ids[at+1], ids[at]
		}
		out, err = s.reorder(ctx, tx, m, accountID, items, ids)
		return err
	})
	return out, err
}

// Templates lists the agenda templates the member may use: their own and
// those shared with organisations they belong to (not as a guest).
func (s *Service) Templates(ctx context.Context, accountID string) ([]meeting.Template, error) {
	return store.AgendaTemplates(ctx, s.db(), accountID)
}

// SaveTemplate saves a meeting's agenda as a template of the member's
// under name, shared with an organisation they belong to when orgID is
// set. Anyone taking part in the meeting may.
func (s *Service) SaveTemplate(ctx context.Context, accountID, meetingID, orgID, name string) (meeting.Template, error) {
	name, err := meeting.CheckTemplateName(name)
	if err != nil {
		return meeting.Template{}, err
	}
	orgID = strings.TrimSpace(orgID)
	now := s.env.Now()
	var out meeting.Template
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		m, acc, err := store.MeetingFor(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		if err := acc.RequireParticipant(); err != nil {
			return err
		}
		if orgID != "" {
			if err := requireMember(ctx, tx, orgID, accountID, "you may only share templates with an organisation you are a member of"); err != nil {
				return err
			}
		}
		n, err := store.TemplatesOwned(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if n >= meeting.MaxTemplatesPerMember {
			return errs.E(errs.Conflict, "you have %d templates, the most one member may keep; delete one first", n)
		}
		items, err := store.Agenda(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return errs.E(errs.Conflict, "the agenda is empty; add items before saving it as a template")
		}
		out = meeting.Template{ID: meeting.NewTemplateID(), AccountID: accountID, OrgID: orgID, Name: name,
			Items: meeting.TemplateItems(items), CreatedAt: now}
		if err := store.InsertTemplate(ctx, tx, out); err != nil {
			return err
		}
		return record(ctx, tx, now, accountID, "meeting.template.create", m.ID, map[string]string{"template": out.ID})
	})
	return out, err
}

// ApplyTemplate appends a template's items to a meeting's agenda, for
// hosts and co-hosts who may use the template, and returns the whole
// agenda.
func (s *Service) ApplyTemplate(ctx context.Context, accountID, meetingID, templateID string) ([]meeting.AgendaItem, error) {
	var out []meeting.AgendaItem
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		ts, err := store.AgendaTemplates(ctx, tx, accountID)
		if err != nil {
			return err
		}
		i := -1
		for j, t := range ts {
			if t.ID == templateID {
				i = j
			}
		}
		if i < 0 {
			return errs.E(errs.NotFound, "there is no such template")
		}
		in := make([]meeting.ItemInput, 0, len(ts[i].Items))
		for _, it := range ts[i].Items {
			in = append(in, meeting.ItemInput{Title: it.Title, PlannedMinutes: it.PlannedMinutes, Notes: it.Notes})
		}
		m, _, err := lockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		if _, err := s.appendItems(ctx, tx, m, accountID, in); err != nil {
			return err
		}
		out, err = store.Agenda(ctx, tx, m.ID)
		return err
	})
	return out, err
}
