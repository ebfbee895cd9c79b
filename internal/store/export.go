package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

const exportColumns = `id, person_id, kind, state, rows_done, rows_total, blob_key, size_bytes, created_at, finished_at, expires_at`

// OpenExport returns the member's export of kind that is still being
// built, if any: a second request gets that one back.
func OpenExport(ctx context.Context, q database.Querier, accountID, kind string) (rights.Export, bool, error) {
	x, err := scanExport(q.QueryRow(ctx, `SELECT `+exportColumns+` FROM export_jobs WHERE person_id = ? AND kind = ? AND state IN ('queued', 'working')
		ORDER BY created_at DESC LIMIT 1`, accountID, kind))
	if errors.Is(err, database.ErrNotFound) {
		return rights.Export{}, false, nil
	}
	return x, err == nil, err
}

// InsertExport records a new export of x.Kind for x.PersonID, queued; it
// sets the id.
func InsertExport(ctx context.Context, q database.Querier, x rights.Export) (rights.Export, error) {
	x.ID, x.State, x.CreatedAt = newRightsID("exp_"), rights.ExportQueued, x.CreatedAt.UTC()
	_, err := q.Exec(ctx, `INSERT INTO export_jobs (id, person_id, kind, state, rows_done, rows_total, size_bytes, created_at, updated_at)
		VALUES (?, ?, ?, ?, 0, 0, 0, ?, ?)`, x.ID, x.PersonID, x.Kind, x.State, x.CreatedAt, x.CreatedAt)
	return x, err
}

// ExportByID returns any export, for the job that builds it.
func ExportByID(ctx context.Context, q database.Querier, id string) (rights.Export, error) {
	x, err := scanExport(q.QueryRow(ctx, `SELECT `+exportColumns+` FROM export_jobs WHERE id = ?`, id))
	if errors.Is(err, database.ErrNotFound) {
		return rights.Export{}, errs.E(errs.NotFound, "there is no such export")
	}
	return x, err
}

// ExportOf returns the member's export; another person's, or an unknown
// id, gives errs.NotFound alike.
func ExportOf(ctx context.Context, q database.Querier, accountID, id string) (rights.Export, error) {
	x, err := scanExport(q.QueryRow(ctx, `SELECT `+exportColumns+` FROM export_jobs WHERE id = ? AND person_id = ?`, id, accountID))
	if errors.Is(err, database.ErrNotFound) {
		return rights.Export{}, errs.E(errs.NotFound, "there is no such export")
	}
	return x, err
}

// ExportsOf lists the member's exports, newest first.
func ExportsOf(ctx context.Context, q database.Querier, accountID string) ([]rights.Export, error) {
	rows, err := q.Query(ctx, `SELECT `+exportColumns+` FROM export_jobs WHERE person_id = ? ORDER BY created_at DESC, id LIMIT 20`, accountID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (rights.Export, error) { return scanExport(s) })
}

func scanExport(s interface{ Scan(...any) error }) (rights.Export, error) {
	var (
		x             rights.Export
		key           sql.NullString
		finished, exp sql.NullTime
	)
	if err := s.Scan(&x.ID, &x.PersonID, &x.Kind, &x.State, &x.RowsDone, &x.RowsTotal, &key, &x.Size, &x.CreatedAt, &finished, &exp); err != nil {
		return rights.Export{}, err
	}
	x.BlobKey, x.CreatedAt, x.FinishedAt, x.ExpiresAt = key.String, x.CreatedAt.UTC(), nullTime(finished), nullTime(exp)
	return x, nil
}

// meetingsTable is the table whose rows meetings.ics renders; a table
// with a foreign key to it names the meetings a person took part in.
const meetingsTable = "meetings"

// MeetingColumn reports whether column of t holds a meeting's id: the id
// of the meetings table, or a foreign key to it.
func MeetingColumn(t datamap.Table, column string) bool {
	if t.Name == meetingsTable {
		return column == "id"
	}
	return slices.ContainsFunc(t.Parents, func(fk datamap.ForeignKey) bool { return fk.Table == meetingsTable && fk.Column == column })
}

// PersonRows reads a person's rows of the data map's tables. Past
// idChunk participant ids, the ids are selected by a subquery instead of
// listed, so that no statement carries more parameters than the
// databases allow, whatever the number of meetings a person took part in.
type PersonRows struct{ m personMatch }

// NewPersonRows reads the rows of p, whom ResolvePerson has completed.
func NewPersonRows(m datamap.Map, p rights.Person) PersonRows {
	pm := personMatch{p: p}
	if len(p.ParticipantIDs) > idChunk {
		pm.partSQL, pm.partArgs = participantSubquery(m, p)
	}
	return PersonRows{m: pm}
}

// Person is whose rows they are.
func (r PersonRows) Person() rights.Person { return r.m.p }

// ExportRow is one row as read: the table's column names and values, as
// JSON and CSV write them plainly, and whether the row is the person's
// own or another's that names them.
type ExportRow struct {
	Cols  []string
	Vals  []any
	Owned bool
}

// Count is how many rows of t are the person's or name them.
func (r PersonRows) Count(ctx context.Context, q database.Querier, t datamap.Table) (int64, error) {
	cond, args := r.m.anyKey(t.PersonKeys)
	if cond == "" {
		return 0, nil
	}
	var n int64
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM `+quoteIdent(t.Name)+` WHERE `+cond, args...).Scan(&n)
	return n, err
}

// Each reads the person's rows of t: first their own, whole, with the
// parent columns t.Shows after the table's own; then the rows of other
// people that name them, with only the columns that are not personal or
// that hold one of the person's own identifiers.
func (r PersonRows) Each(ctx context.Context, q database.Querier, t datamap.Table, fn func(ExportRow) error) error {
	m := r.m
	own, ownArgs := m.owned(t.PersonKeys)
	if own != "" {
		if err := eachPersonRow(ctx, q, t, m.p, `SELECT *`+shownColumns(t)+` FROM `+quoteIdent(t.Name)+` WHERE `+own, ownArgs, true, fn); err != nil {
			return err
		}
	}
	if len(t.PersonKeys) < 2 {
		return nil
	}
	anyKey, anyArgs := m.anyKey(t.PersonKeys)
	if anyKey == "" {
		return nil
	}
	where := anyKey
	args := anyArgs
	if own != "" {
		where += ` AND NOT COALESCE(` + own + `, FALSE)`
		args = append(slices.Clone(anyArgs), ownArgs...)
	}
	return eachPersonRow(ctx, q, t, m.p, `SELECT * FROM `+quoteIdent(t.Name)+` WHERE `+where, args, false, fn)
}

// shownColumns selects the parent columns t.Shows, each by a subquery on
// its foreign key, so that the row's own columns keep their names.
func shownColumns(t datamap.Table) string {
	var b strings.Builder
	for _, s := range t.Shows {
		i := slices.IndexFunc(t.Parents, func(fk datamap.ForeignKey) bool { return fk.Column == s.Via })
		if i < 0 {
			continue // the data map's validation refuses it
		}
		fk := t.Parents[i]
		fmt.Fprintf(&b, `, (SELECT p.%s FROM %s p WHERE p.%s = %s.%s) AS %s`, quoteIdent(s.Column), quoteIdent(fk.Table),
			quoteIdent(fk.RefColumn), quoteIdent(t.Name), quoteIdent(fk.Column), quoteIdent(s.As))
	}
	return b.String()
}

func eachPersonRow(ctx context.Context, q database.Querier, t datamap.Table, p rights.Person, query string, args []any, owned bool, fn func(ExportRow) error) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	ids := map[string]bool{p.AccountID: p.AccountID != ""}
	for _, v := range append(slices.Clone(p.Emails), p.ParticipantIDs...) {
		ids[v] = true
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, c := range cols {
			vals[i] = exportValue(vals[i])
			if owned {
				continue
			}
			col, ok := t.Column(c)
			if !ok || !col.Personal {
				continue
			}
			if s, isStr := vals[i].(string); !isStr || !ids[s] {
				vals[i] = nil
			}
		}
		if err := fn(ExportRow{Cols: cols, Vals: vals, Owned: owned}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// exportValue turns a driver value into one JSON and CSV write plainly.
func exportValue(v any) any {
	switch t := v.(type) {
	case []byte:
		return string(t)
	case time.Time:
		return t.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// StartExportBuild marks the export being built, with the rows it will
// hold and none done.
func StartExportBuild(ctx context.Context, q database.Querier, id string, total int64, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE export_jobs SET state = 'working', rows_done = 0, rows_total = ?, updated_at = ? WHERE id = ?`, total, now.UTC(), id)
	return err
}

// ExportProgress records how many rows the export has written.
func ExportProgress(ctx context.Context, q database.Querier, id string, done int64, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE export_jobs SET rows_done = ?, updated_at = ? WHERE id = ?`, done, now.UTC(), id)
	return err
}

// ExportReady records the export's file and when its link expires.
func ExportReady(ctx context.Context, q database.Querier, id, blobKey string, size int64, now, expires time.Time) error {
	_, err := q.Exec(ctx, `UPDATE export_jobs SET state = 'ready', rows_done = rows_total, blob_key = ?, size_bytes = ?, finished_at = ?, expires_at = ?, updated_at = ?
		WHERE id = ?`, blobKey, size, now.UTC(), expires.UTC(), now.UTC(), id)
	return err
}

// ExpiredExport is a ready export whose link has expired, with its file
// ("" when it has none).
type ExpiredExport struct{ ID, BlobKey string }

// ExpiredExports lists, at most 500, the ready exports whose link has
// expired by now.
func ExpiredExports(ctx context.Context, q database.Querier, now time.Time) ([]ExpiredExport, error) {
	rows, err := q.Query(ctx, `SELECT id, blob_key FROM export_jobs WHERE state = 'ready' AND expires_at < ? ORDER BY expires_at LIMIT 500`, now.UTC())
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (ExpiredExport, error) {
		var (
			x   ExpiredExport
			key sql.NullString
		)
		err := s.Scan(&x.ID, &key)
		x.BlobKey = key.String
		return x, err
	})
}

// ExportExpired marks the export expired once its file is gone.
func ExportExpired(ctx context.Context, q database.Querier, id string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE export_jobs SET state = 'expired', blob_key = NULL, updated_at = ? WHERE id = ?`, now.UTC(), id)
	return err
}

// QueuedExports lists the exports waiting to be built, or being built
// with no progress for a while (their process died), for the periodic
// sweep to start.
func QueuedExports(ctx context.Context, q database.Querier, now time.Time) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT id FROM export_jobs WHERE state = 'queued' OR (state = 'working' AND updated_at < ?) ORDER BY created_at LIMIT 100`,
		now.UTC().Add(-10*time.Minute))
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}
