package database

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// Migrations are written once, in PostgreSQL's dialect, and adapted to
// SQLite by the small set of type rewrites below. They are forward-only and
// a released file is never edited: add a new one instead.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// sqliteRewrites adapt PostgreSQL column types to SQLite's.
var sqliteRewrites = strings.NewReplacer(
	"BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT",
	"TIMESTAMPTZ", "TIMESTAMP", // modernc reads TIMESTAMP columns back as time.Time
	"BYTEA", "BLOB",
	"JSONB", "TEXT",
)

// sqliteInterval matches PostgreSQL's "now plus some days", which SQLite
// spells with a date function. The rewrite writes the text form the
// driver stores times in (_time_format=sqlite), so the value compares and
// reads back like any time the product wrote.
var sqliteInterval = regexp.MustCompile(`CURRENT_TIMESTAMP \+ INTERVAL '(\d+) days'`)

// toSQLite adapts a migration written for PostgreSQL to SQLite.
func toSQLite(pg string) string {
	return sqliteInterval.ReplaceAllString(sqliteRewrites.Replace(pg), `strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '+$1 days')`)
}

// Migration is one embedded schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(rest, ".sql") {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", other, name, v)
		}
		seen[v] = name
		body, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(rest, ".sql"), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Migrate applies every pending migration, each in its own transaction, and
// then the job engine's own schema. It is safe to run from several server
// instances at once: PostgreSQL takes an advisory lock, SQLite's immediate
// transactions serialise the writers.
func (db *DB) Migrate(ctx context.Context, now func() time.Time) (applied []string, err error) {
	migs, err := Migrations()
	if err != nil {
		return nil, err
	}
	if db.dialect == Postgres {
		conn, err := db.sql.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		// An arbitrary constant shared by every instance of the product.
		const lockID = 7_413_305_511
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
			return nil, fmt.Errorf("lock migrations: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockID)
	}
	if _, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at `+db.typeName("TIMESTAMPTZ")+` NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range migs {
		err := db.InTx(ctx, func(tx *Tx) error {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			body := m.SQL
			if db.dialect == SQLite {
				body = toSQLite(body)
			}
			if _, err := tx.Exec(ctx, body); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.Version, m.Name, now()); err != nil {
				return err
			}
			applied = append(applied, fmt.Sprintf("%04d_%s", m.Version, m.Name))
			return nil
		})
		if err != nil {
			return applied, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	if err := db.migrateJobs(ctx); err != nil {
		return applied, fmt.Errorf("job engine schema: %w", err)
	}
	return applied, nil
}

func (db *DB) typeName(pg string) string {
	if db.dialect == SQLite {
		return sqliteRewrites.Replace(pg)
	}
	return pg
}

func (db *DB) migrateJobs(ctx context.Context) error {
	if db.dialect == Postgres {
		m, err := rivermigrate.New(riverpgxv5.New(db.pgPool), nil)
		if err != nil {
			return err
		}
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	m, err := rivermigrate.New(riversqlite.New(db.jobSQL), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}
