package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the admin connection

	"github.com/sessionshq/sessions/internal/platform/database"
)

// openDB returns a fresh, migrated database for one benchmark: a file in
// e.Dir on SQLite, a new database on the PostgreSQL server otherwise. The
// returned function closes it and drops the PostgreSQL database.
func openDB(ctx context.Context, e *Env) (*database.DB, func(), error) {
	dbURL := ""
	drop := func() {}
	if e.Engine == "postgres" {
		admin, err := sql.Open("pgx", e.PostgresURL)
		if err != nil {
			return nil, nil, err
		}
		defer admin.Close()
		var b [6]byte
		_, _ = rand.Read(b[:])
		name := "sessions_bench_" + hex.EncodeToString(b[:])
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return nil, nil, fmt.Errorf("create database (is PostgreSQL running? scripts/ensure-deps.sh starts it): %w", err)
		}
		drop = func() {
			c, err := sql.Open("pgx", e.PostgresURL)
			if err != nil {
				return
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, _ = c.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
		u, err := url.Parse(e.PostgresURL)
		if err != nil {
			drop()
			return nil, nil, err
		}
		u.Path = "/" + name
		dbURL = u.String()
	}
	db, err := database.Open(ctx, dbURL, e.Dir)
	if err != nil {
		drop()
		return nil, nil, err
	}
	if _, err := db.Migrate(ctx, func() time.Time { return time.Now().UTC() }); err != nil {
		db.Close()
		drop()
		return nil, nil, err
	}
	return db, func() { db.Close(); drop() }, nil
}
