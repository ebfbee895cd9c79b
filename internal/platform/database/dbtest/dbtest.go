// Package dbtest gives each test a fresh, migrated database on the engine
// the suite runs against: SESSIONS_TEST_DATABASE=sqlite (the default) or
// postgres. The test command runs the whole suite once for each.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver for the admin connection

	"github.com/sessionshq/sessions/internal/platform/database"
)

// DefaultPostgresURL is the server the test script starts when none runs.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Engine is the engine this run of the suite targets.
func Engine() database.Dialect {
	if os.Getenv("SESSIONS_TEST_DATABASE") == "postgres" {
		return database.Postgres
	}
	return database.SQLite
}

// Target is where a test's database lives: DatabaseURL on PostgreSQL, the
// SQLite file inside DataDir otherwise. DataDir always exists and is empty.
type Target struct {
	DatabaseURL string
	DataDir     string
}

// Env returns the SESSIONS_* variables that point the binary at t.
func (t Target) Env() []string {
	env := []string{"SESSIONS_DATA_DIR=" + t.DataDir}
	if t.DatabaseURL != "" {
		env = append(env, "SESSIONS_DATABASE_URL="+t.DatabaseURL)
	}
	return env
}

// NewTarget creates an empty database for the test and drops it afterwards.
func NewTarget(tb testing.TB) Target {
	tb.Helper()
	dir := tb.TempDir()
	if Engine() != database.Postgres {
		return Target{DataDir: dir}
	}
	admin := os.Getenv("SESSIONS_TEST_POSTGRES_URL")
	if admin == "" {
		admin = DefaultPostgresURL
	}
	conn, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	defer conn.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "sessions_t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("dbtest: create database (is PostgreSQL running? the test script starts it): %v", err)
	}
	tb.Cleanup(func() {
		c, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = c.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	u.Path = "/" + name
	return Target{DatabaseURL: u.String(), DataDir: dir}
}

// Open returns a migrated database on a fresh target, closed at the end.
func Open(tb testing.TB) *database.DB {
	tb.Helper()
	db, _ := OpenTarget(tb)
	return db
}

// OpenTarget is Open that also returns where the database lives.
func OpenTarget(tb testing.TB) (*database.DB, Target) {
	tb.Helper()
	target := NewTarget(tb)
	ctx := context.Background()
	db, err := database.Open(ctx, target.DatabaseURL, target.DataDir)
	if err != nil {
		tb.Fatalf("dbtest: open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, func() time.Time { return time.Now().UTC() }); err != nil {
		tb.Fatalf("dbtest: migrate: %v", err)
	}
	return db, target
}
