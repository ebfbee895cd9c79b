// Package markerscan is the test helper of the erasure proofs: it hands
// out unique marker strings, remembers which column each was written to,
// and reads back every byte a database and a blob folder hold, so a test
// can show that no marker outlived an erasure except in columns the data
// map keeps under a legal obligation. Tests of internal/store and of the
// real binary share it.
package markerscan

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// Markers hands out unique strings and remembers where each went.
type Markers struct {
	// Where maps a marker to the "table.column" it was written to.
	Where map[string]string
}

// New returns an empty set.
func New() *Markers { return &Markers{Where: map[string]string{}} }

// Mk returns a fresh marker written to table.column.
func (m *Markers) Mk(table, column string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	v := "mkr" + hex.EncodeToString(b[:])
	m.Where[v] = table + "." + column
	return v
}

// Email is a marker that is also an address.
func (m *Markers) Email(table, column string) string {
	v := m.Mk(table, column) + "@example.com"
	m.Where[v] = table + "." + column
	return v
}

// Keep records a value that is not a marker of its own (such as an id)
// under the column it is written to.
func (m *Markers) Keep(v, table, column string) { m.Where[v] = table + "." + column }

// Except returns the markers without vs (and the markers an address of
// Email is made of), for a scan at a moment when those may still be
// where a test expects them.
func (m *Markers) Except(vs ...string) *Markers {
	out := New()
	for v, where := range m.Where {
		if !slices.ContainsFunc(vs, func(x string) bool { return strings.Contains(x, v) }) {
			out.Where[v] = where
		}
	}
	return out
}

// Leaks returns, sorted, the "table.column" of every marker found in raw
// that the data map does not keep under a legal obligation, each with the
// bytes around it.
func (m *Markers) Leaks(raw []byte) []string {
	var out []string
	for v, where := range m.Where {
		if i := bytes.Index(raw, []byte(v)); i >= 0 && !Kept(where) {
			out = append(out, where+" near "+around(raw, i, len(v)))
		}
	}
	slices.Sort(out)
	return out
}

// around quotes the printable bytes about a found marker, so a failing
// test tells where the value survived.
func around(raw []byte, i, n int) string {
	from, to := max(i-60, 0), min(i+n+60, len(raw))
	b := bytes.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '.'
		}
		return r
	}, raw[from:to])
	return strconv.Quote(string(b))
}

// Missing returns, sorted, the "table.column" of every marker not in b.
func (m *Markers) Missing(b []byte) []string {
	var out []string
	for v, where := range m.Where {
		if !bytes.Contains(b, []byte(v)) {
			out = append(out, where)
		}
	}
	slices.Sort(out)
	return out
}

// Kept reports whether the data map keeps "table.column" under a legal
// obligation at erasure.
func Kept(where string) bool {
	table, column, _ := strings.Cut(where, ".")
	t, ok := datamap.Default().Table(table)
	if !ok {
		return false
	}
	c, ok := t.Column(column)
	return ok && c.Erasure != nil && c.Erasure.Action == datamap.KeepLegalObligation
}

// ScanRaw returns every byte the database and the blob folder hold: on
// SQLite the main file and the write-ahead log after a checkpoint, on
// PostgreSQL every row of every table as text. blobDir may be "".
func ScanRaw(t testing.TB, db *database.DB, blobDir string) []byte {
	t.Helper()
	if db.Dialect() == database.SQLite {
		if _, err := db.Exec(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
	}
	return ScanLive(t, db, blobDir)
}

// ScanLive is ScanRaw without the checkpoint: on SQLite the bytes of the
// database file, its write-ahead log and the log's index as they are on
// disk at that moment, old page images included, as a copy of the data
// folder taken from the running server would hold them.
func ScanLive(t testing.TB, db *database.DB, blobDir string) []byte {
	t.Helper()
	ctx := context.Background()
	var all bytes.Buffer
	switch db.Dialect() {
	case database.SQLite:
		all.Write(SQLiteFiles(t, db.SQLitePath()))
	default:
		// Bytes columns are written as text with their printable bytes as
		// they are, not in hex, so that a marker stored as bytes shows.
		err := db.InTx(ctx, func(tx *database.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL bytea_output = 'escape'`); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
			if err != nil {
				return err
			}
			var tables []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					return err
				}
				tables = append(tables, n)
			}
			rows.Close()
			for _, tn := range tables {
				rows, err := tx.Query(ctx, `SELECT t::text FROM "`+tn+`" t`)
				if err != nil {
					return err
				}
				for rows.Next() {
					var s string
					if err := rows.Scan(&s); err != nil {
						return err
					}
					all.WriteString(s + "\n")
				}
				rows.Close()
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if blobDir == "" {
		return all.Bytes()
	}
	err := filepath.WalkDir(blobDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		all.WriteString(p + "\n")
		b, err := os.ReadFile(p)
		all.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all.Bytes()
}

// SQLiteFiles returns the bytes of the SQLite file at path, of its
// write-ahead log and of the log's index, read as they are, one after the
// other. A file that does not exist adds nothing.
func SQLiteFiles(t testing.TB, path string) []byte {
	t.Helper()
	var all bytes.Buffer
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all.Write(b)
	}
	return all.Bytes()
}
