package datamap_test

import (
	"context"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// TestCatalogueCoversLiveSchema migrates a fresh database on the engine
// under test and compares every table and column with the catalogue, both
// ways.
func TestCatalogueCoversLiveSchema(t *testing.T) {
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
