// Package store is the SQL adapter: it reads and writes the product's
// tables for SQLite and PostgreSQL alike, and does nothing else. It sends
// no mail, calls no service, touches no blob and decides no permission:
// the services in internal/service open one transaction per use case and
// call these functions inside it. Each file holds one domain's queries;
// functions take a database.Querier so that they compose inside the
// caller's transaction.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
)

// Store is the database together with the key that seals the audit log,
// so that no caller hands the server secret through every signature.
type Store struct {
	DB     *database.DB
	secret []byte
}

// New returns the store over db; secret keys the audit log's pseudonyms
// and seals its anchors.
func New(db *database.DB, secret []byte) (*Store, error) {
	if db == nil {
		return nil, errors.New("store: no database")
	}
	if len(secret) == 0 {
		return nil, errors.New("store: no secret")
	}
	return &Store{DB: db, secret: secret}, nil
}

// InTx runs fn in one transaction: committed when fn returns nil, rolled
// back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx *database.Tx) error) error {
	return s.DB.InTx(ctx, fn)
}

// Audit seals e onto the audit log inside q's transaction (see
// AppendAudit for the ordering rules).
func (s *Store) Audit(ctx context.Context, q database.Querier, e audit.Entry) error {
	return AppendAudit(ctx, q, s.secret, e)
}

// inTx runs fn inside a transaction: q itself when it already is one, a
// new one when q is the plain database. Functions that need several
// statements to land together use it, so they work both inside a
// service's transaction and on their own.
func inTx(ctx context.Context, q database.Querier, fn func(tx database.Querier) error) error {
	if db, ok := q.(*database.DB); ok {
		return db.InTx(ctx, func(tx *database.Tx) error { return fn(tx) })
	}
	return fn(q)
}

// byNameThenID orders lists by name in Go rather than in SQL, because the
// two engines collate mixed-case names differently; case is ignored, and
// the id keeps equal names in one fixed order.
func byNameThenID(aName, aID, bName, bID string) int {
	return cmp.Or(cmp.Compare(strings.ToLower(aName), strings.ToLower(bName)), cmp.Compare(aID, bID))
}

// collectRows reads every row of a result with scan and closes it, so
// each list query is its SQL and its scan function and nothing more. No
// rows gives a nil slice.
func collectRows[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanID reads a row that is a single id.
func scanID(row scanner) (string, error) {
	var id string
	err := row.Scan(&id)
	return id, err
}
