package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors shared by both engines. Callers test with errors.Is.
var (
	ErrNotFound   = errors.New("database: not found")
	ErrDuplicate  = errors.New("database: duplicate key")
	ErrForeignKey = errors.New("database: foreign key violation")
	ErrConstraint = errors.New("database: constraint violation")
)

type driverError struct {
	sentinel error
	cause    error
}

func (e *driverError) Error() string   { return fmt.Sprintf("%v: %v", e.sentinel, e.cause) }
func (e *driverError) Is(t error) bool { return t == e.sentinel }
func (e *driverError) Unwrap() error   { return e.cause }

// translate maps driver-specific errors to the sentinels, keeping the cause.
func translate(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &driverError{ErrNotFound, err}
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505":
			return &driverError{ErrDuplicate, err}
		case "23503":
			return &driverError{ErrForeignKey, err}
		case "23502", "23514", "23P01":
			return &driverError{ErrConstraint, err}
		}
		return err
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		switch lite.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &driverError{ErrDuplicate, err}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return &driverError{ErrForeignKey, err}
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT:
			return &driverError{ErrConstraint, err}
		}
	}
	return err
}
