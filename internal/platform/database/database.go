// Package database owns the connection to SQLite or PostgreSQL, the
// embedded migrations and the translation of driver errors into shared
// sentinel errors. Everything above it writes one dialect of SQL with ?
// placeholders; this package rebinds them for PostgreSQL.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the application's handle on its database.
type DB struct {
	sql     *sql.DB
	dialect Dialect

	// pgPool is the pgx pool under sql on PostgreSQL; the job engine uses it.
	pgPool *pgxpool.Pool
	// jobSQL is a single-connection pool on the SQLite file for the job
	// engine, which issues many small statements in parallel and is
	// documented to need exactly one connection on SQLite.
	jobSQL *sql.DB
	// path is the SQLite file, for tools that read the raw file.
	path string
}

// sqlitePragmas are set on every connection, in one place.
var sqlitePragmas = []string{
	// Wait up to 10 s for a lock instead of failing at once with
	// SQLITE_BUSY when another connection (or the job engine) is writing.
	"busy_timeout(10000)",
	// Write-ahead logging lets readers proceed while one writer commits.
	"journal_mode(WAL)",
	// In WAL mode NORMAL is durable across application crashes and only a
	// power loss can lose the last transactions; FULL would fsync every commit.
	"synchronous(NORMAL)",
	// SQLite ignores REFERENCES clauses unless told otherwise per connection.
	"foreign_keys(1)",
	// Deleted and overwritten content is zeroed rather than left in free
	// space of the file, so that erased personal data is gone from the
	// bytes on disk too, not only from query results.
	"secure_delete(1)",
}

// SQLiteDSN returns the connection string for the SQLite file at path.
func SQLiteDSN(path string) string {
	q := url.Values{}
	for _, p := range sqlitePragmas {
		q.Add("_pragma", p)
	}
	// Take the write lock at BEGIN, so two transactions that read then write
	// queue up on busy_timeout instead of deadlocking on lock upgrade.
	q.Set("_txlock", "immediate")
	// Store times as text SQLite's own date functions understand.
	q.Set("_time_format", "sqlite")
	return "file:" + path + "?" + q.Encode()
}

// Open connects to PostgreSQL when databaseURL is set, and otherwise to the
// SQLite file sessions.db under dataDir, creating the folder.
func Open(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	if databaseURL != "" {
		return openPostgres(ctx, databaseURL)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	path := filepath.Join(dataDir, "sessions.db")
	dsn := SQLiteDSN(path)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// A handful of connections: WAL lets them read concurrently while
	// _txlock=immediate serialises writers.
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open SQLite database: %w", err)
	}
	jobs, err := sql.Open("sqlite", dsn)
	if err != nil {
		db.Close()
		return nil, err
	}
	jobs.SetMaxOpenConns(1)
	return &DB{sql: db, dialect: SQLite, jobSQL: jobs, path: path}, nil
}

func openPostgres(ctx context.Context, databaseURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, errors.New("cannot parse the PostgreSQL URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return &DB{sql: stdlib.OpenDBFromPool(pool), dialect: Postgres, pgPool: pool}, nil
}

// Close releases every connection.
func (db *DB) Close() error {
	err := db.sql.Close()
	if db.jobSQL != nil {
		err = errors.Join(err, db.jobSQL.Close())
	}
	if db.pgPool != nil {
		db.pgPool.Close()
	}
	return err
}

// Dialect reports which engine this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// PGPool is the pgx pool on PostgreSQL, nil on SQLite.
func (db *DB) PGPool() *pgxpool.Pool { return db.pgPool }

// JobSQL is the job engine's own connection on SQLite, nil on PostgreSQL.
func (db *DB) JobSQL() *sql.DB { return db.jobSQL }

// SQLitePath is the database file on SQLite, "" on PostgreSQL.
func (db *DB) SQLitePath() string { return db.path }

// Ping checks the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// Querier runs statements on the database or inside a transaction.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *Row
	Dialect() Dialect
}

// Exec runs a statement outside a transaction.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := db.sql.ExecContext(ctx, rebind(db.dialect, query), args...)
	return res, translate(err)
}

// Query runs a query outside a transaction.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, query), args...)
	return rows, translate(err)
}

// QueryRow runs a query expected to return at most one row.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *Row {
	return &Row{db.sql.QueryRowContext(ctx, rebind(db.dialect, query), args...)}
}

// Tx is a transaction; service methods open one and pass it to helpers.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
}

// Dialect reports which engine this is.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := tx.tx.ExecContext(ctx, rebind(tx.dialect, query), args...)
	return res, translate(err)
}

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := tx.tx.QueryContext(ctx, rebind(tx.dialect, query), args...)
	return rows, translate(err)
}

// QueryRow runs a query in the transaction expected to return at most one row.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *Row {
	return &Row{tx.tx.QueryRowContext(ctx, rebind(tx.dialect, query), args...)}
}

// Row wraps *sql.Row so that Scan returns the shared sentinel errors.
type Row struct{ row *sql.Row }

// Scan copies the row into dest; no row gives ErrNotFound.
func (r *Row) Scan(dest ...any) error { return translate(r.row.Scan(dest...)) }

// InTx runs fn in one transaction, committing when it returns nil and
// rolling back otherwise (and on panic).
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	tx := &Tx{tx: stx, dialect: db.dialect}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return translate(stx.Commit())
}

// rebind turns ? placeholders into $1, $2… for PostgreSQL. Queries in this
// code base never contain a literal question mark.
func rebind(d Dialect, query string) string {
	if d != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Placeholders returns "?, ?, …" with n marks, for IN lists.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
