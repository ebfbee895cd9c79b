package store

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

const exportColumns = `id, person_id, kind, state, rows_done, rows_total, blob_key, size_bytes, created_at, finished_at, expires_at`

// RequestExport records a member's request for a copy of their data, of
// kind rights.ExportAccess or rights.ExportPortability, audited in the
// same transaction. While an export of the same kind is still being
// built, that one is returned instead of starting a second. The caller
// enqueues rights.ExportArgs after the commit.
func RequestExport(ctx context.Context, db *database.DB, secret []byte, accountID, kind string, now time.Time) (rights.Export, bool, error) {
	if kind != rights.ExportAccess && kind != rights.ExportPortability {
		return rights.Export{}, false, &errs.Error{Code: errs.Invalid, Message: "unknown kind of export",
			Fields: map[string]string{"kind": "must be access or portability"}}
	}
	var (
		x       rights.Export
		created bool
	)
	err := db.InTx(ctx, func(tx *database.Tx) error {
		open, err := scanExport(tx.QueryRow(ctx, `SELECT `+exportColumns+` FROM export_jobs WHERE person_id = ? AND kind = ? AND state IN ('queued', 'working')
			ORDER BY created_at DESC LIMIT 1`, accountID, kind))
		if err == nil {
			x = open
			return nil
		}
		if !errors.Is(err, database.ErrNotFound) {
			return err
		}
		now = now.UTC()
		x = rights.Export{ID: newRightsID("exp_"), PersonID: accountID, Kind: kind, State: rights.ExportQueued, CreatedAt: now}
		if _, err := tx.Exec(ctx, `INSERT INTO export_jobs (id, person_id, kind, state, rows_done, rows_total, size_bytes, created_at, updated_at)
			VALUES (?, ?, ?, ?, 0, 0, 0, ?, ?)`, x.ID, accountID, kind, x.State, now, now); err != nil {
			return err
		}
		created = true
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: memberParty(accountID), Action: "rights.export_request", Subject: memberParty(accountID),
			Purpose: "legal-compliance", Detail: map[string]string{"export": x.ID, "kind": kind},
		})
	})
	return x, created, err
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

// Exporter builds exports: a ZIP file streamed into blob storage, so that
// memory stays bounded whatever the size of the person's data.
type Exporter struct {
	DB     *database.DB
	Blobs  *blob.Store
	Map    datamap.Map
	Clock  clock.Clock
	Secret []byte
	// Links make the meeting addresses and iCalendar UIDs of meetings.ics.
	Links meeting.Links
	Log   *slog.Logger
}

// exportBlobKind is the blob kind of the files exports are built into.
// No export copies an earlier one: it would repeat data already in this
// one, and each export would grow by the last.
const exportBlobKind = "export"

// meetingsTable is the table whose rows meetings.ics renders; a table
// with a foreign key to it names the meetings a person took part in.
const meetingsTable = "meetings"

// matcher finds the person's rows. Past idChunk participant ids, the ids
// are selected by a subquery instead of listed, so that no statement
// carries more parameters than the databases allow, whatever the number
// of meetings a person took part in.
func (x *Exporter) matcher(p rights.Person) personMatch {
	m := personMatch{p: p}
	if len(p.ParticipantIDs) > idChunk {
		m.partSQL, m.partArgs = participantSubquery(x.Map, p)
	}
	return m
}

// progressEvery is how many rows pass between two progress updates.
const progressEvery = 500

// exportRow is one row as read: the table's column names and values.
type exportRow struct {
	cols  []string
	vals  []any
	owned bool
}

// Build makes the export's file. It can be called again after a failure:
// a ready or expired export is left alone, any other is built afresh.
func (x *Exporter) Build(ctx context.Context, id string) error {
	job, err := scanExport(x.DB.QueryRow(ctx, `SELECT `+exportColumns+` FROM export_jobs WHERE id = ?`, id))
	if errors.Is(err, database.ErrNotFound) {
		return nil // erased with its person meanwhile
	}
	if err != nil || job.State == rights.ExportReady || job.State == rights.ExportExpired {
		return err
	}
	person, err := ResolvePerson(ctx, x.DB, x.Map, rights.Person{AccountID: job.PersonID})
	if err != nil {
		return err
	}
	plan := rights.ExportPlan(x.Map)
	match := x.matcher(person)
	var total int64
	counts := map[string]int64{}
	for _, t := range plan {
		n, err := x.count(ctx, t, match)
		if err != nil {
			return err
		}
		counts[t.Name] = n
		total += n
	}
	if _, err := x.DB.Exec(ctx, `UPDATE export_jobs SET state = 'working', rows_done = 0, rows_total = ?, updated_at = ? WHERE id = ?`,
		total, x.Clock.Now().UTC(), id); err != nil {
		return err
	}

	pr, pw := io.Pipe()
	type putResult struct {
		info blob.Info
		err  error
	}
	done := make(chan putResult, 1)
	go func() {
		info, err := x.Blobs.Put(ctx, blob.PutInput{PersonID: job.PersonID, Kind: exportBlobKind, ContentType: "application/zip", MaxBytes: 1 << 40}, pr)
		pr.CloseWithError(err)
		done <- putResult{info, err}
	}()
	werr := x.write(ctx, pw, job, match, plan, counts)
	pw.CloseWithError(werr)
	res := <-done
	if werr != nil {
		if res.err == nil {
			_ = x.Blobs.Delete(context.WithoutCancel(ctx), res.info.Key)
		}
		return werr
	}
	if res.err != nil {
		return res.err
	}
	now := x.Clock.Now().UTC()
	expires := now.Add(rights.ExportLinkLife)
	return x.DB.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE export_jobs SET state = 'ready', rows_done = rows_total, blob_key = ?, size_bytes = ?, finished_at = ?, expires_at = ?, updated_at = ?
			WHERE id = ?`, res.info.Key, res.info.Size, now, expires, now, id); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, x.Secret, audit.Entry{
			At: now, Actor: audit.Party{Kind: "system"}, Action: "rights.export_ready", Subject: memberParty(job.PersonID),
			Purpose: "legal-compliance", Detail: map[string]string{"export": id, "kind": job.Kind, "rows": strconv.FormatInt(total, 10)},
		})
	})
}

// count is how many rows of t the export will hold.
func (x *Exporter) count(ctx context.Context, t datamap.Table, m personMatch) (int64, error) {
	cond, args := m.anyKey(t.PersonKeys)
	if cond == "" {
		return 0, nil
	}
	var n int64
	err := x.DB.QueryRow(ctx, `SELECT COUNT(*) FROM `+quoteIdent(t.Name)+` WHERE `+cond, args...).Scan(&n)
	return n, err
}

// eachRow reads the person's rows of t: first their own, whole; then the
// rows of other people that name them, with only the columns that are not
// personal or that hold one of the person's own identifiers.
func (x *Exporter) eachRow(ctx context.Context, t datamap.Table, m personMatch, fn func(exportRow) error) error {
	p := m.p
	own, ownArgs := m.owned(t.PersonKeys)
	if own != "" {
		if err := x.query(ctx, t, p, `SELECT * FROM `+quoteIdent(t.Name)+` WHERE `+own, ownArgs, true, fn); err != nil {
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
	return x.query(ctx, t, p, `SELECT * FROM `+quoteIdent(t.Name)+` WHERE `+where, args, false, fn)
}

func (x *Exporter) query(ctx context.Context, t datamap.Table, p rights.Person, query string, args []any, owned bool, fn func(exportRow) error) error {
	rows, err := x.DB.Query(ctx, query, args...)
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
		if err := fn(exportRow{cols: cols, vals: vals, owned: owned}); err != nil {
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

func csvValue(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// write streams the ZIP file to w.
func (x *Exporter) write(ctx context.Context, w io.Writer, job rights.Export, p personMatch, plan []datamap.Table, counts map[string]int64) error {
	zw := zip.NewWriter(w)
	now := x.Clock.Now().UTC()
	full := job.Kind == rights.ExportAccess
	var (
		done     int64
		index    = rights.Index{GeneratedAt: now, Kind: job.Kind}
		withRows []string
		fileKeys []string
		meetings = map[string]bool{}
	)
	progress := func(n int64) error {
		done += n
		if done%progressEvery != 0 {
			return nil
		}
		_, err := x.DB.Exec(ctx, `UPDATE export_jobs SET rows_done = ?, updated_at = ? WHERE id = ?`, done, x.Clock.Now().UTC(), job.ID)
		return err
	}
	addKey := func(k string) {
		if k != "" && !slices.Contains(fileKeys, k) {
			fileKeys = append(fileKeys, k)
		}
	}
	for _, t := range plan {
		if counts[t.Name] == 0 {
			continue
		}
		withRows = append(withRows, t.Name)
		if !full {
			continue
		}
		name := "tables/" + t.Name + ".csv"
		f, err := zw.Create(name)
		if err != nil {
			return err
		}
		cw := csv.NewWriter(f)
		header := false
		var n int64
		err = x.eachRow(ctx, t, p, func(r exportRow) error {
			if !header {
				header = true
				if err := cw.Write(r.cols); err != nil {
					return err
				}
			}
			rec := make([]string, len(r.vals))
			for i, v := range r.vals {
				rec[i] = csvValue(v)
				if id, ok := v.(string); ok && id != "" && meetingColumn(t, r.cols[i]) {
					meetings[id] = true
				}
				if col, ok := t.Column(r.cols[i]); ok && col.BlobKey && r.owned {
					if s, ok := v.(string); ok {
						addKey(s)
					}
				}
			}
			n++
			if err := cw.Write(rec); err != nil {
				return err
			}
			return progress(1)
		})
		if err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		index.Tables = append(index.Tables, rights.IndexTable{Name: t.Name, Description: t.Description, Rows: n, CSV: name})
	}
	if full {
		f, err := zw.Create("data.json")
		if err != nil {
			return err
		}
		if err := x.writeJSON(ctx, f, job.Kind, p, plan, counts, false); err != nil {
			return err
		}
		if len(meetings) > 0 {
			if index.Calendar, err = x.writeCalendar(ctx, zw, meetings); err != nil {
				return err
			}
		}
	}
	f, err := zw.Create("portable.json")
	if err != nil {
		return err
	}
	if err := x.writeJSON(ctx, f, job.Kind, p, plan, counts, true); err != nil {
		return err
	}
	if err := writeEntry(zw, "portable.schema.json", rights.PortableSchema); err != nil {
		return err
	}
	if full {
		// The person's own files from the blob index, besides the ones
		// their rows point at; copyFile leaves earlier exports out.
		if p.p.AccountID != "" {
			infos, err := BlobsOfPerson(ctx, x.DB, p.p.AccountID)
			if err != nil {
				return err
			}
			for _, info := range infos {
				addKey(info.Key)
			}
		}
		for _, key := range fileKeys {
			f, err := x.copyFile(ctx, zw, key)
			if err != nil {
				return err
			}
			if f.Path != "" {
				index.Files = append(index.Files, f)
			}
		}
		subs, err := ListSubprocessors(ctx, x.DB, true)
		if err != nil {
			return err
		}
		info := rights.BuildArt15(x.Map, subs, withRows, now)
		body, err := json.MarshalIndent(info, "", "  ")
		if err != nil {
			return err
		}
		if err := writeEntry(zw, "art15.json", body); err != nil {
			return err
		}
		page, err := info.HTML()
		if err != nil {
			return err
		}
		if err := writeEntry(zw, "art15.html", page); err != nil {
			return err
		}
	}
	page, err := index.HTML()
	if err != nil {
		return err
	}
	if err := writeEntry(zw, "index.html", page); err != nil {
		return err
	}
	return zw.Close()
}

func writeEntry(zw *zip.Writer, name string, body []byte) error {
	f, err := zw.Create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	return err
}

// copyFile streams one stored file into the archive under files/. A key
// the index does not know (a file deleted meanwhile) is skipped, and so is
// an earlier export, which export_jobs.blob_key points at.
func (x *Exporter) copyFile(ctx context.Context, zw *zip.Writer, key string) (rights.IndexFile, error) {
	r, info, err := x.Blobs.Open(ctx, key)
	if errs.CodeOf(err) == errs.NotFound {
		return rights.IndexFile{}, nil
	}
	if err != nil {
		return rights.IndexFile{}, err
	}
	defer r.Close()
	if info.Kind == exportBlobKind {
		return rights.IndexFile{}, nil
	}
	path := "files/" + key
	f, err := zw.CreateHeader(&zip.FileHeader{Name: path, Method: zip.Store, Modified: info.CreatedAt})
	if err != nil {
		return rights.IndexFile{}, err
	}
	if _, err := io.Copy(f, r); err != nil {
		return rights.IndexFile{}, err
	}
	return rights.IndexFile{Path: path, ContentType: info.ContentType, Size: info.Size}, nil
}

// meetingColumn reports whether column of t holds a meeting's id: the id
// of the meetings table, or a foreign key to it.
func meetingColumn(t datamap.Table, column string) bool {
	if t.Name == meetingsTable {
		return column == "id"
	}
	return slices.ContainsFunc(t.Parents, func(fk datamap.ForeignKey) bool { return fk.Table == meetingsTable && fk.Column == column })
}

// writeCalendar writes meetings.ics: each meeting the person hosted or
// took part in as an iCalendar object (RFC 5545 allows a file to hold
// several one after the other). A meeting deleted meanwhile is left out.
// It reports whether the file was written.
func (x *Exporter) writeCalendar(ctx context.Context, zw *zip.Writer, ids map[string]bool) (bool, error) {
	sorted := slices.Sorted(maps.Keys(ids))
	var f io.Writer
	for _, id := range sorted {
		m, err := GetMeeting(ctx, x.DB, id)
		if errs.CodeOf(err) == errs.NotFound {
			continue
		}
		if err != nil {
			return false, err
		}
		method := meeting.Publish
		if m.State == meeting.Cancelled {
			method = meeting.Cancel
		}
		if f == nil {
			if f, err = zw.Create("meetings.ics"); err != nil {
				return false, err
			}
		}
		url := ""
		if x.Links.BaseURL != "" {
			url = x.Links.Page(m.ID)
		}
		if _, err := f.Write(meeting.Calendar(meeting.CalendarInput{Meeting: m, Method: method, URL: url,
			Domain: x.Links.Domain, Now: x.Clock.Now()})); err != nil {
			return false, err
		}
	}
	return f != nil, nil
}

// WritePortable streams the person's portability package, portable.json
// (see rights.PortableSchema), to w: what a direct transfer sends.
func (x *Exporter) WritePortable(ctx context.Context, w io.Writer, accountID string) error {
	person, err := ResolvePerson(ctx, x.DB, x.Map, rights.Person{AccountID: accountID})
	if err != nil {
		return err
	}
	plan := rights.ExportPlan(x.Map)
	match := x.matcher(person)
	counts := map[string]int64{}
	for _, t := range plan {
		if counts[t.Name], err = x.count(ctx, t, match); err != nil {
			return err
		}
	}
	return x.writeJSON(ctx, w, rights.ExportPortability, match, plan, counts, true)
}

// writeJSON streams data.json (every column of every row) or, when
// portable, portable.json (only the columns the person provided, of their
// own rows), one row at a time.
func (x *Exporter) writeJSON(ctx context.Context, f io.Writer, kind string, p personMatch,
	plan []datamap.Table, counts map[string]int64, portable bool) error {
	enc := json.NewEncoder(f)
	write := func(s string) error {
		_, err := io.WriteString(f, s)
		return err
	}
	format := "sessions-export/1"
	if portable {
		format = rights.PortableFormat
	}
	head, _ := json.Marshal(map[string]any{"format": format, "generated_at": x.Clock.Now().UTC().Format(time.RFC3339), "kind": kind})
	// The head object is reopened to append the tables to it.
	if err := write(string(head[:len(head)-1]) + `,"tables":{`); err != nil {
		return err
	}
	first := true
	for _, t := range plan {
		if counts[t.Name] == 0 {
			continue
		}
		keep := func(string) bool { return true }
		if portable {
			provided := rights.ProvidedColumns(t)
			if len(provided) == 0 {
				continue
			}
			keep = func(c string) bool { return slices.Contains(provided, c) }
		}
		columns := map[string]string{}
		for _, c := range t.Columns {
			if keep(c.Name) {
				columns[c.Name] = c.Note
			}
		}
		tn, _ := json.Marshal(t.Name)
		meta, _ := json.Marshal(map[string]any{"description": t.Description, "columns": columns})
		sep := ","
		if first {
			sep = ""
		}
		first = false
		if err := write(sep + string(tn) + ":" + string(meta[:len(meta)-1]) + `,"rows":[`); err != nil {
			return err
		}
		firstRow := true
		err := x.eachRow(ctx, t, p, func(r exportRow) error {
			if portable && !r.owned {
				return nil
			}
			obj := make(map[string]any, len(r.cols))
			for i, c := range r.cols {
				if keep(c) {
					obj[c] = r.vals[i]
				}
			}
			if !firstRow {
				if err := write(","); err != nil {
					return err
				}
			}
			firstRow = false
			return enc.Encode(obj)
		})
		if err != nil {
			return err
		}
		if err := write("]}"); err != nil {
			return err
		}
	}
	return write("}}\n")
}

// ExpireExports deletes the files of exports whose link has expired and
// marks them expired. It returns how many it expired.
func (x *Exporter) ExpireExports(ctx context.Context) (int, error) {
	rows, err := x.DB.Query(ctx, `SELECT id, blob_key FROM export_jobs WHERE state = 'ready' AND expires_at < ? ORDER BY expires_at LIMIT 500`, x.Clock.Now().UTC())
	if err != nil {
		return 0, err
	}
	type item struct {
		id  string
		key sql.NullString
	}
	items, err := collectRows(rows, func(s scanner) (item, error) {
		var it item
		return it, s.Scan(&it.id, &it.key)
	})
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		if it.key.Valid {
			if err := x.Blobs.Delete(ctx, it.key.String); err != nil && errs.CodeOf(err) != errs.NotFound {
				return 0, err
			}
		}
		if _, err := x.DB.Exec(ctx, `UPDATE export_jobs SET state = 'expired', blob_key = NULL, updated_at = ? WHERE id = ?`, x.Clock.Now().UTC(), it.id); err != nil {
			return 0, err
		}
	}
	return len(items), nil
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
