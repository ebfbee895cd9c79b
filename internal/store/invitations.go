package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sessionshq/sessions/internal/platform/database"
)

// CountInvitation adds one invitation to the counter of key on day and
// returns the count with it. Adding and reading are one statement, so
// concurrent invitations, from this instance or another, each see their
// own count and none is lost; inside the caller's transaction, a refusal
// that rolls back takes its count back with it.
func CountInvitation(ctx context.Context, q database.Querier, key string, day time.Time) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `INSERT INTO invitation_counts (key, day, sent) VALUES (?, ?, 1)
		ON CONFLICT (key, day) DO UPDATE SET sent = invitation_counts.sent + 1
		RETURNING sent`, key, day.UTC()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count invitation: %w", err)
	}
	return n, nil
}

// SharesOrganisation reports whether the account and the account that
// holds the normalised address, once that account confirmed it, are both
// members of one organisation, in any role.
func SharesOrganisation(ctx context.Context, q database.Querier, accountID, email string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM memberships mine
		JOIN memberships theirs ON theirs.organisation_id = mine.organisation_id
		JOIN accounts a ON a.id = theirs.account_id
		WHERE mine.account_id = ? AND a.email = ? AND a.email_verified_at IS NOT NULL`, accountID, email).Scan(&n)
	return n > 0, err
}
