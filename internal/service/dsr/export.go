package dsr

import (
	"archive/zip"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Exports: a ZIP file streamed into blob storage, so that memory stays
// bounded whatever the size of the person's data.

// exportBlobKind is the blob kind of the files exports are built into.
// No export copies an earlier one: it would repeat data already in this
// one, and each export would grow by the last.
const exportBlobKind = "export"

// progressEvery is how many rows pass between two progress updates.
const progressEvery = 500

func memberParty(id string) audit.Party { return audit.Party{Kind: "member", ID: id} }

// RequestExport records a member's request for a copy of their data, of
// kind rights.ExportAccess or rights.ExportPortability, audited, and
// starts building it after the commit. While an export of the same kind
// is still being built, that one is returned instead of starting a
// second.
func (s *Service) RequestExport(ctx context.Context, accountID, kind string) (rights.Export, error) {
	var x rights.Export
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		var err error
		x, err = s.requestExport(ctx, tx, memberParty(accountID), accountID, kind)
		return err
	})
	return x, err
}

// requestExport is RequestExport inside the use case's transaction tx,
// by actor.
func (s *Service) requestExport(ctx context.Context, tx *service.Tx, actor audit.Party, accountID, kind string) (rights.Export, error) {
	if kind != rights.ExportAccess && kind != rights.ExportPortability {
		return rights.Export{}, &errs.Error{Code: errs.Invalid, Message: "unknown kind of export",
			Fields: map[string]string{"kind": "must be access or portability"}}
	}
	if x, open, err := store.OpenExport(ctx, tx, accountID, kind); err != nil || open {
		return x, err
	}
	now := s.env.Now()
	x, err := store.InsertExport(ctx, tx, rights.Export{PersonID: accountID, Kind: kind, CreatedAt: now})
	if err != nil {
		return rights.Export{}, err
	}
	tx.Enqueue(rights.ExportArgs{ExportID: x.ID}, &jobs.Options{Unique: true})
	return x, tx.Audit(ctx, audit.Entry{
		At: now, Actor: actor, Action: "rights.export_request", Subject: memberParty(accountID),
		Purpose: "legal-compliance", Detail: map[string]string{"export": x.ID, "kind": kind},
	})
}

// ExportOf returns the member's export; another person's, or an unknown
// id, gives errs.NotFound alike.
func (s *Service) ExportOf(ctx context.Context, accountID, id string) (rights.Export, error) {
	return store.ExportOf(ctx, s.env.Store.DB, accountID, id)
}

// ExportsOf lists the member's exports, newest first.
func (s *Service) ExportsOf(ctx context.Context, accountID string) ([]rights.Export, error) {
	return store.ExportsOf(ctx, s.env.Store.DB, accountID)
}

// OpenExport opens the file of the member's export for download; an
// export that is not theirs, not ready or expired is errs.NotFound.
func (s *Service) OpenExport(ctx context.Context, accountID, id string) (io.ReadCloser, rights.Export, int64, error) {
	notFound := errs.E(errs.NotFound, "this download link is not valid, or has expired")
	x, err := store.ExportOf(ctx, s.env.Store.DB, accountID, id)
	if err != nil || !x.Downloadable(s.env.Now()) || s.env.Blobs == nil {
		return nil, rights.Export{}, 0, notFound
	}
	body, info, err := s.env.Blobs.Open(ctx, x.BlobKey)
	if err != nil {
		return nil, rights.Export{}, 0, err
	}
	return body, x, info.Size, nil
}

// BuildExport makes the export's file. It can be called again after a
// failure: a ready or expired export is left alone, any other is built
// afresh.
func (s *Service) BuildExport(ctx context.Context, id string) error {
	db := s.env.Store.DB
	job, err := store.ExportByID(ctx, db, id)
	if errs.CodeOf(err) == errs.NotFound {
		return nil // erased with its person meanwhile
	}
	if err != nil || job.State == rights.ExportReady || job.State == rights.ExportExpired {
		return err
	}
	if s.env.Blobs == nil {
		return fmt.Errorf("export %s: no blob store to build it in", id)
	}
	person, err := store.ResolvePerson(ctx, db, *s.env.Map, rights.Person{AccountID: job.PersonID})
	if err != nil {
		return err
	}
	plan := rights.ExportPlan(*s.env.Map)
	rows := store.NewPersonRows(*s.env.Map, person)
	var total int64
	counts := map[string]int64{}
	for _, t := range plan {
		n, err := rows.Count(ctx, db, t)
		if err != nil {
			return err
		}
		counts[t.Name] = n
		total += n
	}
	if err := store.StartExportBuild(ctx, db, id, total, s.env.Now()); err != nil {
		return err
	}

	pr, pw := io.Pipe()
	type putResult struct {
		info blob.Info
		err  error
	}
	done := make(chan putResult, 1)
	go func() {
		info, err := s.env.Blobs.Put(ctx, blob.PutInput{PersonID: job.PersonID, Kind: exportBlobKind, ContentType: "application/zip", MaxBytes: 1 << 40}, pr)
		pr.CloseWithError(err)
		done <- putResult{info, err}
	}()
	werr := s.writeExport(ctx, pw, job, rows, plan, counts)
	pw.CloseWithError(werr)
	res := <-done
	if werr != nil {
		if res.err == nil {
			_ = s.env.Blobs.Delete(context.WithoutCancel(ctx), res.info.Key)
		}
		return werr
	}
	if res.err != nil {
		return res.err
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		now := s.env.Now()
		if err := store.ExportReady(ctx, tx, id, res.info.Key, res.info.Size, now, now.Add(rights.ExportLinkLife)); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: audit.Party{Kind: "system"}, Action: "rights.export_ready", Subject: memberParty(job.PersonID),
			Purpose: "legal-compliance", Detail: map[string]string{"export": id, "kind": job.Kind, "rows": strconv.FormatInt(total, 10)},
		})
	})
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

// writeExport streams the ZIP file to w.
func (s *Service) writeExport(ctx context.Context, w io.Writer, job rights.Export, p store.PersonRows, plan []datamap.Table, counts map[string]int64) error {
	db := s.env.Store.DB
	zw := zip.NewWriter(w)
	now := s.env.Now()
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
		return store.ExportProgress(ctx, db, job.ID, done, s.env.Now())
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
		err = p.Each(ctx, db, t, func(r store.ExportRow) error {
			if !header {
				header = true
				if err := cw.Write(r.Cols); err != nil {
					return err
				}
			}
			rec := make([]string, len(r.Vals))
			for i, v := range r.Vals {
				rec[i] = csvValue(v)
				if id, ok := v.(string); ok && id != "" && store.MeetingColumn(t, r.Cols[i]) {
					meetings[id] = true
				}
				if col, ok := t.Column(r.Cols[i]); ok && col.BlobKey && r.Owned {
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
		if err := s.writeJSON(ctx, f, job.Kind, p, plan, counts, jsonOptions{}); err != nil {
			return err
		}
		if len(meetings) > 0 {
			if index.Calendar, err = s.writeCalendar(ctx, zw, meetings); err != nil {
				return err
			}
		}
	}
	f, err := zw.Create("portable.json")
	if err != nil {
		return err
	}
	// The files the person uploaded go with portable.json: an access copy
	// has them already, a portability copy has only these.
	if err := s.writeJSON(ctx, f, job.Kind, p, plan, counts, jsonOptions{portable: true, file: addKey}); err != nil {
		return err
	}
	if err := writeEntry(zw, "portable.schema.json", rights.PortableSchema); err != nil {
		return err
	}
	if full {
		// The person's own files from the blob index, besides the ones
		// their rows point at.
		if id := p.Person().AccountID; id != "" {
			infos, err := store.BlobsOfPerson(ctx, db, id)
			if err != nil {
				return err
			}
			for _, info := range infos {
				addKey(info.Key)
			}
		}
	}
	// copyFile leaves earlier exports out.
	for _, key := range fileKeys {
		f, err := s.copyFile(ctx, zw, key)
		if err != nil {
			return err
		}
		if f.Path != "" {
			index.Files = append(index.Files, f)
		}
	}
	if full {
		subs, err := store.ListSubprocessors(ctx, db, true)
		if err != nil {
			return err
		}
		info := rights.BuildArt15(*s.env.Map, subs, withRows, now)
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
func (s *Service) copyFile(ctx context.Context, zw *zip.Writer, key string) (rights.IndexFile, error) {
	r, info, err := s.env.Blobs.Open(ctx, key)
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

// writeCalendar writes meetings.ics: each meeting the person hosted or
// took part in as an iCalendar object (RFC 5545 allows a file to hold
// several one after the other). A meeting deleted meanwhile is left out.
// It reports whether the file was written.
func (s *Service) writeCalendar(ctx context.Context, zw *zip.Writer, ids map[string]bool) (bool, error) {
	links := meeting.LinksFor(s.env.Config.BaseURL)
	sorted := slices.Sorted(maps.Keys(ids))
	var f io.Writer
	for _, id := range sorted {
		m, err := store.GetMeeting(ctx, s.env.Store.DB, id)
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
		if links.BaseURL != "" {
			url = links.Page(m.ID)
		}
		if _, err := f.Write(meeting.Calendar(meeting.CalendarInput{Meeting: m, Method: method, URL: url,
			Domain: links.Domain, Now: s.env.Clock.Now()})); err != nil {
			return false, err
		}
	}
	return f != nil, nil
}

// writePortable streams the person's portability package, portable.json
// (see rights.PortableSchema), to w: what a direct transfer sends.
func (s *Service) writePortable(ctx context.Context, w io.Writer, accountID string) error {
	db := s.env.Store.DB
	person, err := store.ResolvePerson(ctx, db, *s.env.Map, rights.Person{AccountID: accountID})
	if err != nil {
		return err
	}
	plan := rights.ExportPlan(*s.env.Map)
	rows := store.NewPersonRows(*s.env.Map, person)
	counts := map[string]int64{}
	for _, t := range plan {
		if counts[t.Name], err = rows.Count(ctx, db, t); err != nil {
			return err
		}
	}
	// A transfer is one JSON document: the files its rows name go in it,
	// base64-encoded, after the tables.
	var keys []string
	return s.writeJSON(ctx, w, rights.ExportPortability, rows, plan, counts, jsonOptions{
		portable: true,
		file: func(k string) {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		},
		after: func(w io.Writer) error { return s.writeInlineFiles(ctx, w, keys) },
	})
}

// writeInlineFiles writes the "files" member of a transfer's package:
// each file by its storage key, with its media type and its content in
// base64. A file deleted meanwhile, or an export, is left out.
func (s *Service) writeInlineFiles(ctx context.Context, w io.Writer, keys []string) error {
	if _, err := io.WriteString(w, `,"files":{`); err != nil {
		return err
	}
	if s.env.Blobs == nil {
		keys = nil // no store, so no file either
	}
	first := true
	for _, key := range keys {
		r, info, err := s.env.Blobs.Open(ctx, key)
		if errs.CodeOf(err) == errs.NotFound {
			continue
		}
		if err != nil {
			return err
		}
		if info.Kind == exportBlobKind {
			r.Close()
			continue
		}
		k, _ := json.Marshal(key)
		meta, _ := json.Marshal(map[string]any{"content_type": info.ContentType, "size_bytes": info.Size})
		sep := ","
		if first {
			sep = ""
		}
		first = false
		if _, err := io.WriteString(w, sep+string(k)+":"+string(meta[:len(meta)-1])+`,"base64":"`); err != nil {
			r.Close()
			return err
		}
		enc := base64.NewEncoder(base64.StdEncoding, w)
		_, err = io.Copy(enc, r)
		r.Close()
		if err == nil {
			err = enc.Close()
		}
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, `"}`); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "}")
	return err
}

// jsonOptions say which of the two JSON files writeJSON writes.
type jsonOptions struct {
	// portable writes portable.json instead of data.json.
	portable bool
	// file, when set, is given the storage key of every file the rows
	// written name.
	file func(key string)
	// after, when set, writes further members of the top object, each
	// beginning with a comma, after the tables.
	after func(w io.Writer) error
}

// writeJSON streams data.json (every column of every row) or, when
// portable, portable.json (only the columns the person provided, of their
// own rows), one row at a time.
func (s *Service) writeJSON(ctx context.Context, f io.Writer, kind string, p store.PersonRows,
	plan []datamap.Table, counts map[string]int64, o jsonOptions) error {
	portable, file := o.portable, o.file
	enc := json.NewEncoder(f)
	write := func(s string) error {
		_, err := io.WriteString(f, s)
		return err
	}
	format := "sessions-export/1"
	if portable {
		format = rights.PortableFormat
	}
	head, _ := json.Marshal(map[string]any{"format": format, "generated_at": s.env.Now().Format(time.RFC3339), "kind": kind})
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
		for _, c := range t.Shows {
			if keep(c.As) {
				columns[c.As] = c.Note
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
		err := p.Each(ctx, s.env.Store.DB, t, func(r store.ExportRow) error {
			if portable && !r.Owned {
				return nil
			}
			obj := make(map[string]any, len(r.Cols))
			for i, c := range r.Cols {
				if !keep(c) {
					continue
				}
				obj[c] = r.Vals[i]
				if col, ok := t.Column(c); ok && col.BlobKey && r.Owned && file != nil {
					if key, ok := r.Vals[i].(string); ok && key != "" {
						file(key)
					}
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
	if err := write("}"); err != nil {
		return err
	}
	if o.after != nil {
		if err := o.after(f); err != nil {
			return err
		}
	}
	return write("}\n")
}

// ExpireExports deletes the files of exports whose link has expired and
// marks them expired. It returns how many it expired.
func (s *Service) ExpireExports(ctx context.Context) (int, error) {
	db := s.env.Store.DB
	items, err := store.ExpiredExports(ctx, db, s.env.Now())
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		if it.BlobKey != "" {
			if s.env.Blobs == nil {
				return 0, fmt.Errorf("export %s: no blob store to delete its file from", it.ID)
			}
			if err := s.env.Blobs.Delete(ctx, it.BlobKey); err != nil && errs.CodeOf(err) != errs.NotFound {
				return 0, err
			}
		}
		if err := store.ExportExpired(ctx, db, it.ID, s.env.Now()); err != nil {
			return 0, err
		}
	}
	return len(items), nil
}
