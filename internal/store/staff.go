package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/staff"
)

// StaffRoles returns the staff roles accountID holds, narrowest first; none
// for a member who is not staff.
func StaffRoles(ctx context.Context, q database.Querier, accountID string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT role FROM staff_roles WHERE account_id = ?`, accountID)
	if err != nil {
		return nil, fmt.Errorf("staff roles: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		names = append(names, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range staff.ParseRoles(names) {
		out = append(out, string(r))
	}
	return out, nil
}

// AdminExists reports whether any account holds the administrator role.
func AdminExists(ctx context.Context, q database.Querier) (bool, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM staff_roles WHERE role = ?`, string(staff.Admin)).Scan(&n); err != nil {
		return false, fmt.Errorf("count administrators: %w", err)
	}
	return n > 0, nil
}

// AddStaffRole gives role to the account. The account must exist and be
// active. It reports false, and changes nothing, when the account already
// holds the role; the caller writes the audit entry of a grant.
func AddStaffRole(ctx context.Context, q database.Querier, accountID string, role staff.Role, now time.Time) (bool, error) {
	if !role.Valid() {
		return false, &errs.Error{Code: errs.Invalid, Message: "unknown staff role", Fields: map[string]string{"role": "must be support, privacy_officer or admin"}}
	}
	var status string
	err := q.QueryRow(ctx, `SELECT status FROM accounts WHERE id = ?`, accountID).Scan(&status)
	if errors.Is(err, database.ErrNotFound) {
		return false, errs.E(errs.NotFound, "no account has this id")
	}
	if err != nil {
		return false, err
	}
	if status != "active" {
		return false, errs.E(errs.Conflict, "the account is not active, so it cannot hold a staff role")
	}
	res, err := q.Exec(ctx, `INSERT INTO staff_roles (account_id, role, granted_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id, role) DO NOTHING`, accountID, string(role), now.UTC())
	if err != nil {
		return false, fmt.Errorf("grant staff role: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// GrantStaffRole is AddStaffRole with its audit entry, in one transaction
// (the caller's, or one of its own when q is the *database.DB), for tests
// that seed staff. The product grants through the services (the console's
// GrantRole, the accounts service's first administrator).
func GrantStaffRole(ctx context.Context, q database.Querier, secret []byte, actor audit.Party, accountID string, role staff.Role, now time.Time) (bool, error) {
	var granted bool
	err := inTx(ctx, q, func(tx database.Querier) error {
		var err error
		if granted, err = AddStaffRole(ctx, tx, accountID, role, now); err != nil || !granted {
			return err
		}
		return AppendAudit(ctx, tx, secret, staff.GrantEntry(actor, accountID, role, now))
	})
	return granted, err
}

// RemoveStaffRole takes role from the account. It reports false when the
// account did not hold the role, and refuses with staff.ErrLastAdmin to
// remove the last administrator; the caller writes the audit entry.
func RemoveStaffRole(ctx context.Context, q database.Querier, accountID string, role staff.Role) (bool, error) {
	var revoked bool
	err := inTx(ctx, q, func(tx database.Querier) error {
		if role == staff.Admin {
			// Two administrators revoking each other at once must not both
			// see the other still there: on PostgreSQL the admin rows are
			// locked; SQLite's writers are serialised already.
			lock := ""
			if tx.Dialect() == database.Postgres {
				lock = " FOR UPDATE"
			}
			rows, err := tx.Query(ctx, `SELECT account_id FROM staff_roles WHERE role = ?`+lock, string(staff.Admin))
			if err != nil {
				return err
			}
			admins, err := collectRows(rows, scanID)
			if err != nil {
				return err
			}
			if len(admins) == 1 && admins[0] == accountID {
				return staff.ErrLastAdmin
			}
		}
		res, err := tx.Exec(ctx, `DELETE FROM staff_roles WHERE account_id = ? AND role = ?`, accountID, string(role))
		if err != nil {
			return fmt.Errorf("revoke staff role: %w", err)
		}
		n, err := res.RowsAffected()
		revoked = n > 0
		return err
	})
	return revoked, err
}

// ListStaff returns every account that holds a staff role, ordered by
// name, each with its roles narrowest first.
func ListStaff(ctx context.Context, q database.Querier) ([]staff.Member, error) {
	rows, err := q.Query(ctx, `SELECT a.id, a.name, a.email, a.totp_enabled_at, r.role, r.granted_at
		FROM staff_roles r JOIN accounts a ON a.id = r.account_id
		ORDER BY a.id, r.role`)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	defer rows.Close()
	var out []staff.Member
	names := map[string][]string{}
	for rows.Next() {
		var m staff.Member
		var role string
		var at time.Time
		var twoStep sql.NullTime
		if err := rows.Scan(&m.AccountID, &m.Name, &m.Email, &twoStep, &role, &at); err != nil {
			return nil, err
		}
		m.TwoStep = twoStep.Valid
		if n := len(out); n == 0 || out[n-1].AccountID != m.AccountID {
			m.Since = at.UTC()
			out = append(out, m)
		}
		last := &out[len(out)-1]
		if at.Before(last.Since) {
			last.Since = at.UTC()
		}
		names[m.AccountID] = append(names[m.AccountID], role)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Roles = staff.ParseRoles(names[out[i].AccountID])
	}
	// Sorted here, not in SQL: the engines collate mixed-case names
	// differently.
	slices.SortStableFunc(out, func(a, b staff.Member) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

// FindPerson returns the id of the account whose id or (normalised)
// e-mail address is query; no match is database.ErrNotFound.
func FindPerson(ctx context.Context, q database.Querier, query string) (string, error) {
	query = strings.TrimSpace(query)
	var id string
	err := q.QueryRow(ctx, `SELECT id FROM accounts WHERE id = ? OR email = ?`, query, strings.ToLower(query)).Scan(&id)
	return id, err
}

// ReadPerson reads what staff may see of a person; an unknown id is
// errs.NotFound. lockKey is the sign-in throttle's key for an e-mail
// address, to tell whether sign-in is locked at now; nil leaves Locked
// false.
func ReadPerson(ctx context.Context, q database.Querier, id string, now time.Time, lockKey func(string) string) (staff.Person, error) {
	var p staff.Person
	var verified, deactivated *time.Time
	var phone *string
	err := q.QueryRow(ctx, `SELECT a.id, a.name, a.email, a.email_verified_at, a.status, a.created_at, a.last_active_at, a.deactivated_at, pr.phone
		FROM accounts a LEFT JOIN profiles pr ON pr.account_id = a.id
		WHERE a.id = ?`, id).
		Scan(&p.ID, &p.Name, &p.Email, &verified, &p.Status, &p.CreatedAt, &p.LastActiveAt, &deactivated, &phone)
	if errors.Is(err, database.ErrNotFound) {
		return p, errs.E(errs.NotFound, "no account has this id")
	}
	if err != nil {
		return p, fmt.Errorf("read person: %w", err)
	}
	p.EmailVerified = verified != nil
	p.CreatedAt, p.LastActiveAt = p.CreatedAt.UTC(), p.LastActiveAt.UTC()
	if deactivated != nil {
		t := deactivated.UTC()
		p.DeactivatedAt = &t
	}
	if phone != nil {
		p.Phone = *phone
	}
	if lockKey != nil {
		var until *time.Time
		err := q.QueryRow(ctx, `SELECT locked_until FROM auth_throttle WHERE key = ?`, lockKey(p.Email)).Scan(&until)
		if err != nil && !errors.Is(err, database.ErrNotFound) {
			return p, fmt.Errorf("read sign-in lock: %w", err)
		}
		if until != nil && now.Before(*until) {
			t := until.UTC()
			p.Locked, p.LockedUntil = true, &t
		}
	}
	return p, nil
}

// RecordAccess writes the access-log row a, the record a person reads of
// a staff member's look at their data. Write it in the transaction that
// reads what was looked at, so that no look goes unrecorded and no record
// is written for a look that failed.
func RecordAccess(ctx context.Context, q database.Querier, a staff.Access) error {
	_, err := q.Exec(ctx, `INSERT INTO staff_access_log (id, at, staff_id, staff_role, person_id, viewed, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, a.ID, a.At.UTC(), a.StaffID, string(a.Role), a.PersonID, string(a.View), a.Reason)
	if err != nil {
		return fmt.Errorf("write the staff access log: %w", err)
	}
	return nil
}

// AccessLogOf lists the access-log rows about personID, newest first, at
// most limit (1 to 500).
func AccessLogOf(ctx context.Context, q database.Querier, personID string, limit int) ([]staff.Access, error) {
	rows, err := q.Query(ctx, `SELECT id, at, staff_id, staff_role, person_id, viewed, reason
		FROM staff_access_log WHERE person_id = ? ORDER BY at DESC, id DESC LIMIT ?`, personID, min(max(limit, 1), 500))
	if err != nil {
		return nil, fmt.Errorf("read the staff access log: %w", err)
	}
	defer rows.Close()
	out := []staff.Access{}
	for rows.Next() {
		var a staff.Access
		var role, view string
		if err := rows.Scan(&a.ID, &a.At, &a.StaffID, &role, &a.PersonID, &view, &a.Reason); err != nil {
			return nil, err
		}
		a.At, a.Role, a.View = a.At.UTC(), staff.Role(role), staff.View(view)
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetupToken is the stored half of a first-administrator setup link: the
// token's digest and when it stops working. The token itself is never
// stored.
type SetupToken struct {
	Digest    string
	ExpiresAt time.Time
}

// OpenSetupToken returns the database's one open setup link (unused,
// unexpired), first storing fresh as that link when none is open. An
// expired link that was never used gives way. Processes that call it at
// the same time all get the same link: the unique index on unused links
// turns every insert but the first into nothing. It fails with
// database.ErrNotFound when fresh has the digest of a spent link, so that
// no link is open.
func OpenSetupToken(ctx context.Context, q database.Querier, fresh SetupToken, now time.Time) (SetupToken, error) {
	var open SetupToken
	err := inTx(ctx, q, func(tx database.Querier) error {
		if _, err := tx.Exec(ctx, `DELETE FROM staff_setup_tokens WHERE used_at IS NULL AND expires_at <= ?`, now.UTC()); err != nil {
			return fmt.Errorf("drop an expired setup link: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO staff_setup_tokens (digest, created_at, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			fresh.Digest, now.UTC(), fresh.ExpiresAt.UTC()); err != nil {
			return fmt.Errorf("store a setup link: %w", err)
		}
		err := tx.QueryRow(ctx, `SELECT digest, expires_at FROM staff_setup_tokens WHERE used_at IS NULL`).Scan(&open.Digest, &open.ExpiresAt)
		if err != nil {
			return fmt.Errorf("read the open setup link: %w", err)
		}
		return nil
	})
	return open, err
}

// VoidSetupToken removes the open setup link with digest, so that the next
// OpenSetupToken stores a new one.
func VoidSetupToken(ctx context.Context, q database.Querier, digest string) error {
	if _, err := q.Exec(ctx, `DELETE FROM staff_setup_tokens WHERE digest = ? AND used_at IS NULL`, digest); err != nil {
		return fmt.Errorf("void a setup link: %w", err)
	}
	return nil
}

// SetupTokenUsable reports whether the setup link with digest may still
// create the first administrator: stored, unused, unexpired, and no
// administrator exists.
func SetupTokenUsable(ctx context.Context, q database.Querier, digest string, now time.Time) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM staff_setup_tokens WHERE digest = ? AND used_at IS NULL AND expires_at > ?`,
		digest, now.UTC()).Scan(&n)
	if err != nil || n == 0 {
		return false, err
	}
	exists, err := AdminExists(ctx, q)
	return !exists, err
}

// SpendSetupToken marks the setup link used inside the transaction that
// creates the first administrator. It fails with a safe error when the
// link is unknown, used, expired, or an administrator exists already; in
// the last case every open link is voided too.
func SpendSetupToken(ctx context.Context, q database.Querier, digest string, now time.Time) error {
	dead := errs.E(errs.Forbidden, "this setup link is not valid any more")
	exists, err := AdminExists(ctx, q)
	if err != nil {
		return err
	}
	if exists {
		return dead
	}
	res, err := q.Exec(ctx, `UPDATE staff_setup_tokens SET used_at = ? WHERE digest = ? AND used_at IS NULL AND expires_at > ?`,
		now.UTC(), digest, now.UTC())
	if err != nil {
		return fmt.Errorf("spend setup link: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return dead
	}
	return nil
}
