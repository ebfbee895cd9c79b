package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/store"
)

// The use cases of marketing are tested in internal/service/campaigns;
// these helpers stay here for the store tests that seed members with
// them.

var mktNow = time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)

// mktAccount inserts an active account, verified when asked.
func mktAccount(t *testing.T, db *database.DB, email string, verified bool) string {
	t.Helper()
	now := mktNow
	a := account.Account{
		ID: account.NewID(), Email: email, PasswordHash: "x", PasswordChangedAt: now,
		Name: "Name of " + email, Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if verified {
		a.EmailVerifiedAt = &now
	}
	if err := store.CreateAccount(context.Background(), db, a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func mktAuditCount(t *testing.T, db *database.DB, action string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = ?`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
