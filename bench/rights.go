package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/store"
)

func init() {
	register(Bench{
		Name: "rights",
		About: "export and erasure of one member with 50,000 rows across tables and 200 MiB of files (quick: 1,000 rows, 1 MiB): " +
			"time and peak memory of each, next to raw SQL that SELECTs or DELETEs the same rows (and reads or removes the same files) in a second copy",
		Run: benchRights,
	})
}

var rightsBenchSecret = []byte("bench-rights-secret-0123456789abcdef")

// rightsSizes are the member's rows per table (two tables), the number of
// files and the size of each.
func rightsSizes(quick bool) (rows, files int, fileSize int64) {
	if quick {
		return 500, 4, 256 << 10
	}
	return 25_000, 200, 1 << 20
}

// rightsCopy is one copy of the member's data.
type rightsCopy struct {
	db      *database.DB
	blobs   *blob.Store
	blobDir string
	id      string
	email   string
	close   func()
}

func benchRights(ctx context.Context, e *Env) error {
	rows, files, fileSize := rightsSizes(e.Quick)
	e.Logf("generating a member with %d rows and %d files of %d KiB, twice", 2*rows, files, fileSize>>10)
	engine, err := fillRights(ctx, e, "engine", rows, files, fileSize)
	if err != nil {
		return err
	}
	defer engine.close()
	raw, err := fillRights(ctx, e, "raw", rows, files, fileSize)
	if err != nil {
		return err
	}
	defer raw.close()
	clk := clock.System{}

	// Export, and the baseline: the same rows SELECTed whole and the same
	// files read.
	services, err := wire.New(wire.Parts{DB: engine.db, Clock: clk, Secret: rightsBenchSecret, Blobs: engine.blobs})
	if err != nil {
		return err
	}
	dsr := services.Rights
	x, err := dsr.RequestExport(ctx, engine.id, rights.ExportAccess)
	if err != nil {
		return err
	}
	resetPeakRSS()
	t0 := time.Now()
	if err := dsr.BuildExport(ctx, x.ID); err != nil {
		return err
	}
	exportTook := time.Since(t0)
	exportPeak := peakRSS()
	if x, err = store.ExportOf(ctx, engine.db, engine.id, x.ID); err != nil {
		return err
	}
	t0 = time.Now()
	n, err := rawRead(ctx, raw)
	if err != nil {
		return err
	}
	readTook := time.Since(t0)
	e.Logf("export: %d rows, %d MiB in %s; raw read %d rows in %s", x.RowsTotal, x.Size>>20, exportTook, n, readTook)
	e.Report("export: rows", float64(x.RowsTotal), "rows")
	e.Report("export: ZIP size", float64(x.Size)/(1<<20), "MiB")
	e.ReportVs("export: time", exportTook.Seconds(), readTook.Seconds(), "s", "raw SELECT + file reads")
	e.Report("export: peak memory (process RSS)", float64(exportPeak)/(1<<20), "MiB")

	// Erasure, and the baseline: the same rows DELETEd and the same files
	// removed. The export's own file goes too.
	runID, err := store.StartErasure(ctx, engine.db, rightsBenchSecret, rights.Person{AccountID: engine.id}, rights.ReasonRequest, clk.Now())
	if err != nil {
		return err
	}
	resetPeakRSS()
	t0 = time.Now()
	if err := dsr.RunErasure(ctx, runID); err != nil {
		return err
	}
	eraseTook := time.Since(t0)
	erasePeak := peakRSS()
	run, err := store.ErasureRun(ctx, engine.db, runID)
	if err != nil {
		return err
	}
	if run.State != rights.RunDone {
		return fmt.Errorf("erasure ended in state %s", run.State)
	}
	t0 = time.Now()
	deleted, err := rawDelete(ctx, raw)
	if err != nil {
		return err
	}
	deleteTook := time.Since(t0)
	e.Logf("erasure: %d rows, %d files in %s; raw delete %d rows in %s", run.RowsDone, run.FilesDone, eraseTook, deleted, deleteTook)
	e.Report("erasure: rows removed or cleared", float64(run.RowsDone), "rows")
	e.Report("erasure: files deleted", float64(run.FilesDone), "files")
	e.ReportVs("erasure: time", eraseTook.Seconds(), deleteTook.Seconds(), "s", "raw DELETE + file removal")
	e.Report("erasure: peak memory (process RSS)", float64(erasePeak)/(1<<20), "MiB")
	if raw.db.Dialect() == database.SQLite {
		// The checkpoint that closes every erasure on SQLite, alone: the
		// raw copy's write-ahead log after the same deletes, copied into
		// the file and truncated. The erasure's time above includes it.
		wal, err := os.Stat(raw.db.SQLitePath() + "-wal")
		if err != nil {
			return err
		}
		t0 = time.Now()
		if err := raw.db.Checkpoint(ctx); err != nil {
			return err
		}
		took := time.Since(t0)
		e.Logf("erasure: checkpoint of a %d KiB write-ahead log in %s", wal.Size()>>10, took)
		e.Report("erasure: write-ahead log truncated by its checkpoint", float64(wal.Size())/(1<<20), "MiB")
		e.Report("erasure: checkpoint time (included above)", took.Seconds(), "s")
	}
	return nil
}

// fillRights makes a database and a blob folder under e.Dir/name holding
// one member: an account and profile, rows agenda templates, rows places
// in one meeting (found by address, as a guest's are), and files files
// of fileSize random bytes.
func fillRights(ctx context.Context, e *Env, name string, rows, files int, fileSize int64) (*rightsCopy, error) {
	sub := *e
	sub.Dir = filepath.Join(e.Dir, name)
	if err := os.MkdirAll(sub.Dir, 0o700); err != nil {
		return nil, err
	}
	db, closeDB, err := openDB(ctx, &sub)
	if err != nil {
		return nil, err
	}
	c := &rightsCopy{db: db, blobDir: filepath.Join(sub.Dir, "blobs"), id: account.NewID(), email: name + ".member@example.com"}
	c.blobs, err = blob.New(ctx, blob.Config{Dir: c.blobDir, Index: store.NewBlobIndex(db), Clock: clock.System{}})
	if err != nil {
		closeDB()
		return nil, err
	}
	c.close = func() { c.blobs.Close(); closeDB() }
	fail := func(err error) (*rightsCopy, error) { c.close(); return nil, err }
	now := time.Now().UTC()
	if err := store.CreateAccount(ctx, db, account.Account{ID: c.id, Email: c.email, PasswordHash: "x", PasswordChangedAt: now,
		Name: "Bench Member", Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now}); err != nil {
		return fail(err)
	}
	host := account.NewID()
	if err := store.CreateAccount(ctx, db, account.Account{ID: host, Email: name + ".host@example.com", PasswordHash: "x", PasswordChangedAt: now,
		Name: "Bench Host", Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now}); err != nil {
		return fail(err)
	}
	series := `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT i FROM n`
	if db.Dialect() == database.Postgres {
		series = `SELECT i FROM generate_series(1, ?::int) AS i`
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO profiles (account_id, phone, city, created_at, updated_at) VALUES (?, '+44 20 7946 0000', 'London', ?, ?)`, []any{c.id, now, now}},
		{`INSERT INTO meetings (id, host_id, title, starts_at, time_zone, duration_minutes, state, created_at, updated_at)
			VALUES ('mtg_bench', ?, 'Weekly', ?, 'UTC', 30, 'scheduled', ?, ?)`, []any{host, now, now, now}},
		{`INSERT INTO meeting_participants (id, meeting_id, email, name, role, created_at)
			SELECT 'par_' || CAST(i AS TEXT), 'mtg_bench', ?, 'Bench Member', 'participant', ? FROM (` + series + `) AS s`, []any{c.email, now, rows}},
		{`INSERT INTO agenda_templates (id, account_id, name, items, created_at)
			SELECT 'agt_' || CAST(i AS TEXT), ?, 'Template ' || CAST(i AS TEXT), '[{"title":"Welcome"},{"title":"Review"}]', ? FROM (` + series + `) AS s`, []any{c.id, now, rows}},
	} {
		if _, err := db.Exec(ctx, q.sql, q.args...); err != nil {
			return fail(err)
		}
	}
	rng := rand.NewChaCha8([32]byte{1})
	for range files {
		if _, err := c.blobs.Put(ctx, blob.PutInput{PersonID: c.id, Kind: "upload", ContentType: "application/octet-stream", MaxBytes: fileSize},
			io.LimitReader(rng, fileSize)); err != nil {
			return fail(err)
		}
	}
	return c, nil
}

// rawRead SELECTs the member's rows whole and reads their files, the
// least an export must do; it returns the rows read.
func rawRead(ctx context.Context, c *rightsCopy) (int64, error) {
	var n int64
	for _, q := range []struct {
		sql string
		arg string
	}{
		{`SELECT * FROM accounts WHERE id = ?`, c.id},
		{`SELECT * FROM profiles WHERE account_id = ?`, c.id},
		{`SELECT * FROM agenda_templates WHERE account_id = ?`, c.id},
		{`SELECT * FROM meeting_participants WHERE email = ?`, c.email},
		{`SELECT * FROM blobs WHERE person_id = ?`, c.id},
	} {
		rows, err := c.db.Query(ctx, q.sql, q.arg)
		if err != nil {
			return n, err
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return n, err
			}
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, err
		}
	}
	infos, err := store.BlobsOfPerson(ctx, c.db, c.id)
	if err != nil {
		return n, err
	}
	for _, info := range infos {
		r, _, err := c.blobs.Open(ctx, info.Key)
		if err != nil {
			return n, err
		}
		_, err = io.Copy(io.Discard, r)
		r.Close()
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// rawDelete DELETEs the member's rows and removes their files, children
// first; it returns the rows deleted.
func rawDelete(ctx context.Context, c *rightsCopy) (int64, error) {
	var n int64
	err := c.db.InTx(ctx, func(tx *database.Tx) error {
		for _, q := range []struct {
			sql string
			arg string
		}{
			{`DELETE FROM meeting_participants WHERE email = ?`, c.email},
			{`DELETE FROM agenda_templates WHERE account_id = ?`, c.id},
			{`DELETE FROM profiles WHERE account_id = ?`, c.id},
			{`DELETE FROM blobs WHERE person_id = ?`, c.id},
			{`DELETE FROM accounts WHERE id = ?`, c.id},
		} {
			res, err := tx.Exec(ctx, q.sql, q.arg)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	// The files, straight from the folder: what any erasure must remove.
	err = filepath.WalkDir(c.blobDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Remove(p)
	})
	return n, err
}
