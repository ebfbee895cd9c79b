package store

import (
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

// PersonCondition is, for the tests of this package, the condition that
// finds a person's rows of a table by its keys: the rows export and
// erasure reach.
func PersonCondition(keys []datamap.PersonKey, p rights.Person) (string, []any) {
	return anyKeyMatch(keys, p)
}

// RowID is the engine's own row address, for the tests of this package.
func RowID(d database.Dialect) string { return rowID(d) }
