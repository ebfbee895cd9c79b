// Package store is the SQL adapter: it implements the domain services'
// storage on the database package, for SQLite and PostgreSQL alike. Each
// file holds one domain's queries. Service methods open one transaction;
// helpers take a database.Querier so that they compose inside it.
package store

import (
	"cmp"
	"database/sql"
	"strings"
)

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
