package store_test

import (
	"context"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/database"
)

// countRows answers a SELECT COUNT(*) query, for tests that check what a
// store function wrote, or that a refused one wrote nothing.
func countRows(t *testing.T, db *database.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
