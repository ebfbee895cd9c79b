package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/database"
)

// A meeting's agenda, agenda templates and resources. Like the meeting
// itself, each change locks the meeting's row first, so positions and
// counts stay right under concurrent edits.

const agendaColumns = `id, meeting_id, position, title, planned_minutes, notes, owner_participant_id, created_by, created_at, updated_at`

func scanAgendaItem(s scanner) (meeting.AgendaItem, error) {
	var (
		it        meeting.AgendaItem
		owner, by sql.NullString
	)
	if err := s.Scan(&it.ID, &it.MeetingID, &it.Position, &it.Title, &it.PlannedMinutes, &it.Notes, &owner, &by, &it.CreatedAt, &it.UpdatedAt); err != nil {
		return meeting.AgendaItem{}, err
	}
	it.OwnerParticipantID, it.CreatedBy = owner.String, by.String
	it.CreatedAt, it.UpdatedAt = it.CreatedAt.UTC(), it.UpdatedAt.UTC()
	return it, nil
}

// Agenda lists a meeting's agenda in order.
func Agenda(ctx context.Context, q database.Querier, meetingID string) ([]meeting.AgendaItem, error) {
	rows, err := q.Query(ctx, `SELECT `+agendaColumns+` FROM agenda_items WHERE meeting_id = ? ORDER BY position, id`, meetingID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanAgendaItem)
}

func agendaItem(ctx context.Context, q database.Querier, meetingID, itemID string) (meeting.AgendaItem, error) {
	it, err := scanAgendaItem(q.QueryRow(ctx, `SELECT `+agendaColumns+` FROM agenda_items WHERE meeting_id = ? AND id = ?`, meetingID, itemID))
	if errors.Is(err, database.ErrNotFound) {
		return meeting.AgendaItem{}, errs.E(errs.NotFound, "there is no such agenda item")
	}
	return it, err
}

// checkOwner refuses an item owner who is not a participant of the
// meeting.
func checkOwner(ctx context.Context, q database.Querier, meetingID, participantID string) error {
	if participantID == "" {
		return nil
	}
	if _, err := MeetingParticipant(ctx, q, meetingID, participantID); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return &errs.Error{Code: errs.Invalid, Message: "the owner must take part in the meeting",
				Fields: map[string]string{"owner_participant_id": "must be a participant of this meeting"}}
		}
		return err
	}
	return nil
}

// AddAgendaItems appends items to the agenda, for hosts and co-hosts. in
// must have passed meeting.CheckItem.
func AddAgendaItems(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, meetingID string, in []meeting.ItemInput) ([]meeting.AgendaItem, error) {
	now = now.UTC()
	var out []meeting.AgendaItem
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, _, err := meetingLockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		var n, last int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(position), 0) FROM agenda_items WHERE meeting_id = ?`, m.ID).Scan(&n, &last); err != nil {
			return err
		}
		if n+len(in) > meeting.MaxAgendaItems {
			return errs.E(errs.Conflict, "an agenda holds at most %d items", meeting.MaxAgendaItems)
		}
		for i, item := range in {
			if err := checkOwner(ctx, tx, m.ID, item.OwnerParticipantID); err != nil {
				return err
			}
			it := meeting.AgendaItem{ID: meeting.NewAgendaItemID(), MeetingID: m.ID, Position: last + i + 1, Title: item.Title,
				PlannedMinutes: item.PlannedMinutes, Notes: item.Notes, OwnerParticipantID: item.OwnerParticipantID,
				CreatedBy: accountID, CreatedAt: now, UpdatedAt: now}
			if _, err := tx.Exec(ctx, `INSERT INTO agenda_items (`+agendaColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				it.ID, it.MeetingID, it.Position, it.Title, it.PlannedMinutes, it.Notes, nullString(it.OwnerParticipantID), accountID, now, now); err != nil {
				return fmt.Errorf("add agenda item: %w", err)
			}
			out = append(out, it)
		}
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.agenda.add", m.ID, map[string]string{"items": strconv.Itoa(len(in))})
	})
	return out, err
}

// UpdateAgendaItem rewrites one item, for hosts and co-hosts.
func UpdateAgendaItem(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, meetingID, itemID string, in meeting.ItemInput) (meeting.AgendaItem, error) {
	now = now.UTC()
	var out meeting.AgendaItem
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, _, err := meetingLockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		it, err := agendaItem(ctx, tx, m.ID, itemID)
		if err != nil {
			return err
		}
		if err := checkOwner(ctx, tx, m.ID, in.OwnerParticipantID); err != nil {
			return err
		}
		it.Title, it.PlannedMinutes, it.Notes, it.OwnerParticipantID, it.UpdatedAt = in.Title, in.PlannedMinutes, in.Notes, in.OwnerParticipantID, now
		if _, err := tx.Exec(ctx, `UPDATE agenda_items SET title = ?, planned_minutes = ?, notes = ?, owner_participant_id = ?, updated_at = ?
			WHERE id = ?`, it.Title, it.PlannedMinutes, it.Notes, nullString(it.OwnerParticipantID), now, it.ID); err != nil {
			return fmt.Errorf("update agenda item: %w", err)
		}
		out = it
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.agenda.update", m.ID, map[string]string{"item": it.ID})
	})
	return out, err
}

// DeleteAgendaItem removes one item and closes the gap it leaves.
func DeleteAgendaItem(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, meetingID, itemID string) error {
	now = now.UTC()
	return db.InTx(ctx, func(tx *database.Tx) error {
		m, _, err := meetingLockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		it, err := agendaItem(ctx, tx, m.ID, itemID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM agenda_items WHERE id = ?`, it.ID); err != nil {
			return fmt.Errorf("delete agenda item: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE agenda_items SET position = position - 1 WHERE meeting_id = ? AND position > ?`, m.ID, it.Position); err != nil {
			return err
		}
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.agenda.delete", m.ID, map[string]string{"item": it.ID})
	})
}

// ReorderAgenda puts the agenda in the order of ids, which must name each
// item exactly once.
func ReorderAgenda(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, meetingID string, ids []string) ([]meeting.AgendaItem, error) {
	now = now.UTC()
	var out []meeting.AgendaItem
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, _, err := meetingLockEdit(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		current, err := Agenda(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		if err := meeting.CheckOrder(current, ids); err != nil {
			return err
		}
		for i, id := range ids {
			if _, err := tx.Exec(ctx, `UPDATE agenda_items SET position = ?, updated_at = ? WHERE id = ? AND meeting_id = ?`, i+1, now, id, m.ID); err != nil {
				return fmt.Errorf("reorder agenda: %w", err)
			}
		}
		if out, err = Agenda(ctx, tx, m.ID); err != nil {
			return err
		}
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.agenda.reorder", m.ID, nil)
	})
	return out, err
}

// ---- templates ----

func scanTemplate(s scanner) (meeting.Template, error) {
	var (
		t     meeting.Template
		orgID sql.NullString
		items string
	)
	if err := s.Scan(&t.ID, &t.AccountID, &orgID, &t.Name, &items, &t.CreatedAt); err != nil {
		return meeting.Template{}, err
	}
	t.OrgID = orgID.String
	t.CreatedAt = t.CreatedAt.UTC()
	if err := json.Unmarshal([]byte(items), &t.Items); err != nil {
		return meeting.Template{}, fmt.Errorf("template %s: items: %w", t.ID, err)
	}
	return t, nil
}

const templateColumns = `t.id, t.account_id, t.org_id, t.name, t.items, t.created_at`

// SaveAgendaTemplate saves a meeting's agenda as a template of the
// member's, shared with an organisation they belong to when orgID is
// set. Anyone taking part in the meeting may.
func SaveAgendaTemplate(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, meetingID, orgID, name string) (meeting.Template, error) {
	now = now.UTC()
	var out meeting.Template
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, acc, err := MeetingFor(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		if err := acc.RequireParticipant(); err != nil {
			return err
		}
		if orgID != "" {
			if r, err := orgMemberRole(ctx, tx, orgID, accountID); err != nil || r == org.Guest {
				return &errs.Error{Code: errs.Forbidden, Message: "you may only share templates with an organisation you are a member of",
					Fields: map[string]string{"org_id": "must be an organisation you are a member of"}}
			}
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM agenda_templates WHERE account_id = ?`, accountID).Scan(&n); err != nil {
			return err
		}
		if n >= meeting.MaxTemplatesPerMember {
			return errs.E(errs.Conflict, "you have %d templates, the most one member may keep; delete one first", n)
		}
		items, err := Agenda(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return errs.E(errs.Conflict, "the agenda is empty; add items before saving it as a template")
		}
		out = meeting.Template{ID: meeting.NewTemplateID(), AccountID: accountID, OrgID: orgID, Name: name,
			Items: meeting.TemplateItems(items), CreatedAt: now}
		b, err := json.Marshal(out.Items)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO agenda_templates (id, account_id, org_id, name, items, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			out.ID, accountID, nullString(orgID), name, string(b), now); err != nil {
			return fmt.Errorf("save template: %w", err)
		}
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.template.create", m.ID, map[string]string{"template": out.ID})
	})
	return out, err
}

// AgendaTemplates lists the templates a member may use: their own and
// those shared with organisations they belong to (not as a guest).
func AgendaTemplates(ctx context.Context, q database.Querier, accountID string) ([]meeting.Template, error) {
	rows, err := q.Query(ctx, `SELECT `+templateColumns+` FROM agenda_templates t
		WHERE t.account_id = ? OR t.org_id IN (SELECT organisation_id FROM memberships WHERE account_id = ? AND role <> 'guest')
		ORDER BY t.created_at DESC, t.id`, accountID, accountID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanTemplate)
}

// ApplyAgendaTemplate appends a template's items to a meeting's agenda,
// for hosts and co-hosts who may use the template.
func ApplyAgendaTemplate(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, meetingID, templateID string) ([]meeting.AgendaItem, error) {
	ts, err := AgendaTemplates(ctx, db, accountID)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.ID != templateID {
			continue
		}
		in := make([]meeting.ItemInput, 0, len(t.Items))
		for _, it := range t.Items {
			in = append(in, meeting.ItemInput{Title: it.Title, PlannedMinutes: it.PlannedMinutes, Notes: it.Notes})
		}
		return AddAgendaItems(ctx, db, secret, now, accountID, meetingID, in)
	}
	return nil, errs.E(errs.NotFound, "there is no such template")
}

// ---- resources ----

const resourceColumns = `id, meeting_id, added_by, kind, title, url, provider, blob_key, content_type, size_bytes, created_at`

func scanResource(s scanner) (meeting.Resource, error) {
	var (
		r                           meeting.Resource
		kind                        string
		by, link, provider, key, ct sql.NullString
		size                        sql.NullInt64
	)
	if err := s.Scan(&r.ID, &r.MeetingID, &by, &kind, &r.Title, &link, &provider, &key, &ct, &size, &r.CreatedAt); err != nil {
		return meeting.Resource{}, err
	}
	r.Kind = meeting.ResourceKind(kind)
	r.AddedBy, r.URL, r.Provider, r.BlobKey, r.ContentType, r.SizeBytes = by.String, link.String, provider.String, key.String, ct.String, size.Int64
	r.CreatedAt = r.CreatedAt.UTC()
	return r, nil
}

// Resources lists a meeting's resources, oldest first.
func Resources(ctx context.Context, q database.Querier, meetingID string) ([]meeting.Resource, error) {
	rows, err := q.Query(ctx, `SELECT `+resourceColumns+` FROM meeting_resources WHERE meeting_id = ? ORDER BY created_at, id`, meetingID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanResource)
}

// Resource returns one resource of a meeting.
func Resource(ctx context.Context, q database.Querier, meetingID, resourceID string) (meeting.Resource, error) {
	r, err := scanResource(q.QueryRow(ctx, `SELECT `+resourceColumns+` FROM meeting_resources WHERE meeting_id = ? AND id = ?`, meetingID, resourceID))
	if errors.Is(err, database.ErrNotFound) {
		return meeting.Resource{}, errs.E(errs.NotFound, "there is no such resource")
	}
	return r, err
}

// AddResource shares a file (already in blob storage under r.BlobKey) or
// a link with a meeting. Anyone taking part may, while the meeting is
// not cancelled.
func AddResource(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID string, r meeting.Resource) (meeting.Resource, error) {
	now = now.UTC()
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, acc, err := meetingLock(ctx, tx, r.MeetingID, accountID)
		if err != nil {
			return err
		}
		if err := acc.RequireParticipant(); err != nil {
			return err
		}
		if m.State == meeting.Cancelled {
			return errs.E(errs.Conflict, "this meeting was cancelled and can no longer change")
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM meeting_resources WHERE meeting_id = ?`, m.ID).Scan(&n); err != nil {
			return err
		}
		if n >= meeting.MaxResourcesPerMeeting {
			return errs.E(errs.Conflict, "a meeting holds at most %d resources", meeting.MaxResourcesPerMeeting)
		}
		r.ID, r.AddedBy, r.CreatedAt = meeting.NewResourceID(), accountID, now
		var size any
		if r.Kind == meeting.FileResource {
			size = r.SizeBytes
		}
		if _, err := tx.Exec(ctx, `INSERT INTO meeting_resources (`+resourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.MeetingID, accountID, string(r.Kind), r.Title, nullString(r.URL), nullString(r.Provider), nullString(r.BlobKey),
			nullString(r.ContentType), size, now); err != nil {
			return fmt.Errorf("add resource: %w", err)
		}
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.resource.add", m.ID, map[string]string{
			"resource": r.ID, "kind": string(r.Kind),
		})
	})
	if err != nil {
		return meeting.Resource{}, err
	}
	return r, nil
}

// DeleteResource removes a resource, for whoever shared it and for hosts
// and co-hosts. It returns the file's blob key, "" for a link, which the
// caller deletes after the commit.
func DeleteResource(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, meetingID, resourceID string) (string, error) {
	now = now.UTC()
	var key string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		m, acc, err := meetingLock(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		r, err := Resource(ctx, tx, m.ID, resourceID)
		if err != nil {
			return err
		}
		if !acc.CanEdit() && (r.AddedBy != accountID || !acc.IsParticipant()) {
			return errs.E(errs.Forbidden, "only whoever shared a resource, the host and co-hosts may remove it")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM meeting_resources WHERE id = ?`, r.ID); err != nil {
			return fmt.Errorf("delete resource: %w", err)
		}
		key = r.BlobKey
		return meetingAudit(ctx, tx, secret, now, accountID, "meeting.resource.delete", m.ID, map[string]string{"resource": r.ID})
	})
	return key, err
}
