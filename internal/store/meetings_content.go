package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/database"
)

// A meeting's agenda, agenda templates and resources. Like the meeting
// itself, each change runs after the service locked the meeting's row
// (MeetingForUpdate), so positions and counts stay right under concurrent
// edits.

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

// AgendaItem returns one item of the meeting's agenda.
func AgendaItem(ctx context.Context, q database.Querier, meetingID, itemID string) (meeting.AgendaItem, error) {
	it, err := scanAgendaItem(q.QueryRow(ctx, `SELECT `+agendaColumns+` FROM agenda_items WHERE meeting_id = ? AND id = ?`, meetingID, itemID))
	if errors.Is(err, database.ErrNotFound) {
		return meeting.AgendaItem{}, errs.E(errs.NotFound, "there is no such agenda item")
	}
	return it, err
}

// AgendaSize counts the meeting's agenda items and returns the last
// position taken, 0 for an empty agenda.
func AgendaSize(ctx context.Context, q database.Querier, meetingID string) (n, last int, err error) {
	err = q.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(position), 0) FROM agenda_items WHERE meeting_id = ?`, meetingID).Scan(&n, &last)
	return n, last, err
}

// InsertAgendaItem writes a new item at its position.
func InsertAgendaItem(ctx context.Context, q database.Querier, it meeting.AgendaItem) error {
	if _, err := q.Exec(ctx, `INSERT INTO agenda_items (`+agendaColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		it.ID, it.MeetingID, it.Position, it.Title, it.PlannedMinutes, it.Notes, nullString(it.OwnerParticipantID),
		nullString(it.CreatedBy), it.CreatedAt.UTC(), it.UpdatedAt.UTC()); err != nil {
		return fmt.Errorf("add agenda item: %w", err)
	}
	return nil
}

// SaveAgendaItem rewrites an item's title, time, notes and owner.
func SaveAgendaItem(ctx context.Context, q database.Querier, it meeting.AgendaItem) error {
	if _, err := q.Exec(ctx, `UPDATE agenda_items SET title = ?, planned_minutes = ?, notes = ?, owner_participant_id = ?, updated_at = ?
		WHERE id = ?`, it.Title, it.PlannedMinutes, it.Notes, nullString(it.OwnerParticipantID), it.UpdatedAt.UTC(), it.ID); err != nil {
		return fmt.Errorf("update agenda item: %w", err)
	}
	return nil
}

// DeleteAgendaItemRow deletes an item and closes the gap it leaves in the
// positions.
func DeleteAgendaItemRow(ctx context.Context, q database.Querier, it meeting.AgendaItem) error {
	return inTx(ctx, q, func(tx database.Querier) error {
		if _, err := tx.Exec(ctx, `DELETE FROM agenda_items WHERE id = ?`, it.ID); err != nil {
			return fmt.Errorf("delete agenda item: %w", err)
		}
		_, err := tx.Exec(ctx, `UPDATE agenda_items SET position = position - 1 WHERE meeting_id = ? AND position > ?`, it.MeetingID, it.Position)
		return err
	})
}

// SetAgendaOrder numbers the meeting's items in the order of ids.
func SetAgendaOrder(ctx context.Context, q database.Querier, meetingID string, ids []string, now time.Time) error {
	return inTx(ctx, q, func(tx database.Querier) error {
		for i, id := range ids {
			if _, err := tx.Exec(ctx, `UPDATE agenda_items SET position = ?, updated_at = ? WHERE id = ? AND meeting_id = ?`,
				i+1, now.UTC(), id, meetingID); err != nil {
				return fmt.Errorf("reorder agenda: %w", err)
			}
		}
		return nil
	})
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

// TemplatesOwned counts the templates the member keeps.
func TemplatesOwned(ctx context.Context, q database.Querier, accountID string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM agenda_templates WHERE account_id = ?`, accountID).Scan(&n)
	return n, err
}

// InsertTemplate writes a new agenda template.
func InsertTemplate(ctx context.Context, q database.Querier, t meeting.Template) error {
	b, err := json.Marshal(t.Items)
	if err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `INSERT INTO agenda_templates (id, account_id, org_id, name, items, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.AccountID, nullString(t.OrgID), t.Name, string(b), t.CreatedAt.UTC()); err != nil {
		return fmt.Errorf("save template: %w", err)
	}
	return nil
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

// ResourceCount counts the resources shared with a meeting.
func ResourceCount(ctx context.Context, q database.Querier, meetingID string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM meeting_resources WHERE meeting_id = ?`, meetingID).Scan(&n)
	return n, err
}

// InsertResource writes a new resource: a file already in blob storage
// under r.BlobKey, or a link.
func InsertResource(ctx context.Context, q database.Querier, r meeting.Resource) error {
	var size any
	if r.Kind == meeting.FileResource {
		size = r.SizeBytes
	}
	if _, err := q.Exec(ctx, `INSERT INTO meeting_resources (`+resourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.MeetingID, nullString(r.AddedBy), string(r.Kind), r.Title, nullString(r.URL), nullString(r.Provider), nullString(r.BlobKey),
		nullString(r.ContentType), size, r.CreatedAt.UTC()); err != nil {
		return fmt.Errorf("add resource: %w", err)
	}
	return nil
}

// DeleteResourceRow deletes a resource's row; its file, if any, is the
// caller's to delete once the change commits.
func DeleteResourceRow(ctx context.Context, q database.Querier, resourceID string) error {
	if _, err := q.Exec(ctx, `DELETE FROM meeting_resources WHERE id = ?`, resourceID); err != nil {
		return fmt.Errorf("delete resource: %w", err)
	}
	return nil
}
