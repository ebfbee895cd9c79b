package datamap_test

import (
	"context"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// TestCatalogueCoversLiveSchema migrates a fresh database on the engine
// under test and compares every table and column with the catalogue, both
// ways.
func TestCatalogueCoversLiveSchema(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	schema, err := db.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(schema) == 0 {
		t.Fatal("the live schema is empty")
	}
	for _, problem := range datamap.Default().Compare(schema, string(db.Dialect())) {
		t.Error(problem)
	}
}

// TestEveryPersonKeyIsIndexed checks that each person key of the catalogue
// leads an index on the engine under test. Export, erasure and the notices
// to recipients look a person up by every key; without an index each
// lookup reads the whole table, which a table of millions of rows turns
// into minutes per person.
func TestEveryPersonKeyIsIndexed(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	query := `SELECT COUNT(*) FROM pragma_index_list(?) il JOIN pragma_index_info(il.name) ii WHERE ii.seqno = 0 AND ii.name = ?`
	if db.Dialect() == database.Postgres {
		query = `SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
			WHERE n.nspname = current_schema() AND c.relname = ? AND a.attname = ?`
	}
	for _, tb := range datamap.Default().Tables {
		for _, k := range tb.PersonKeys {
			var n int
			if err := db.QueryRow(ctx, query, tb.Name, k.Column).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Errorf("%s.%s is a person key but leads no index", tb.Name, k.Column)
			}
		}
	}
}
