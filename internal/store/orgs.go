package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/database"
)

// Organisations, memberships, invitations and DPA acceptances: their rows
// and nothing else. The organisations service (internal/service/orgs) runs
// each change in one transaction that first locks the organisation's row
// (LockOrganisation), then reads the actor's role and applies the rules
// of package org, then calls the writes here.
//
// Someone who is not a member gets the same "not found" whether or not the
// organisation exists, so that ids cannot be probed.

const orgColumns = `o.id, o.name, o.colour, o.logo_key, o.created_at, o.updated_at`

const invitationColumns = `i.id, i.organisation_id, i.email, i.role, i.invited_by, i.created_at, i.expires_at, i.accepted_at, i.accepted_by`

// orgNotFound is the answer for an organisation that does not exist and
// for one the requester does not belong to alike.
func orgNotFound() error { return errs.E(errs.NotFound, "there is no such organisation") }

func scanOrganisation(s interface{ Scan(...any) error }) (org.Organisation, error) {
	var (
		o    org.Organisation
		logo sql.NullString
	)
	if err := s.Scan(&o.ID, &o.Name, &o.Colour, &logo, &o.CreatedAt, &o.UpdatedAt); err != nil {
		return org.Organisation{}, err
	}
	o.LogoKey = logo.String
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return o, nil
}

// AccountVerified reports whether the account exists, is active and has a
// verified e-mail address: the condition for creating an organisation.
func AccountVerified(ctx context.Context, q database.Querier, accountID string) (bool, error) {
	var (
		verified sql.NullTime
		status   string
	)
	err := q.QueryRow(ctx, `SELECT email_verified_at, status FROM accounts WHERE id = ?`, accountID).Scan(&verified, &status)
	if errors.Is(err, database.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return verified.Valid && status == "active", nil
}

// CreateOrganisation inserts the organisation with ownerID as its first
// owner. Name and colour must have passed org.CheckName and
// org.CheckColour.
func CreateOrganisation(ctx context.Context, q database.Querier, o org.Organisation, ownerID string) error {
	return inTx(ctx, q, func(tx database.Querier) error {
		if _, err := tx.Exec(ctx, `INSERT INTO organisations (id, name, colour, logo_key, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?)`,
			o.ID, o.Name, o.Colour, o.CreatedAt.UTC(), o.UpdatedAt.UTC()); err != nil {
			return fmt.Errorf("create organisation: %w", err)
		}
		return AddMember(ctx, tx, o.ID, ownerID, org.Owner, o.CreatedAt)
	})
}

// AddMember makes the account a member in role.
func AddMember(ctx context.Context, q database.Querier, orgID, accountID string, role org.Role, now time.Time) error {
	if _, err := q.Exec(ctx, `INSERT INTO memberships (organisation_id, account_id, role, joined_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		orgID, accountID, string(role), now.UTC(), now.UTC()); err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	return nil
}

// MyOrganisation is an organisation seen by one of its members; the type
// lives in package org.
type MyOrganisation = org.WithRole

// OrganisationsOf lists the organisations the account belongs to, by name.
func OrganisationsOf(ctx context.Context, q database.Querier, accountID string) ([]MyOrganisation, error) {
	rows, err := q.Query(ctx, `SELECT `+orgColumns+`, m.role FROM organisations o
		JOIN memberships m ON m.organisation_id = o.id WHERE m.account_id = ?`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []MyOrganisation{}
	for rows.Next() {
		var (
			m    MyOrganisation
			role string
			logo sql.NullString
		)
		if err := rows.Scan(&m.ID, &m.Name, &m.Colour, &logo, &m.CreatedAt, &m.UpdatedAt, &role); err != nil {
			return nil, err
		}
		m.LogoKey, m.Role = logo.String, org.Role(role)
		m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b MyOrganisation) int { return byNameThenID(a.Name, a.ID, b.Name, b.ID) })
	return out, nil
}

// OrganisationFor returns the organisation and the account's role in it,
// or a NotFound error when the account is not a member (or there is no
// such organisation; the two are not told apart).
func OrganisationFor(ctx context.Context, q database.Querier, orgID, accountID string) (org.Organisation, org.Role, error) {
	row := q.QueryRow(ctx, `SELECT `+orgColumns+`, m.role FROM organisations o
		JOIN memberships m ON m.organisation_id = o.id WHERE o.id = ? AND m.account_id = ?`, orgID, accountID)
	var (
		o    org.Organisation
		role string
		logo sql.NullString
	)
	err := row.Scan(&o.ID, &o.Name, &o.Colour, &logo, &o.CreatedAt, &o.UpdatedAt, &role)
	if errors.Is(err, database.ErrNotFound) {
		return org.Organisation{}, "", orgNotFound()
	}
	if err != nil {
		return org.Organisation{}, "", err
	}
	o.LogoKey = logo.String
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return o, org.Role(role), nil
}

// OrganisationByID returns the organisation, or NotFound. It asks for no
// membership: callers have authorised the reader already.
func OrganisationByID(ctx context.Context, q database.Querier, orgID string) (org.Organisation, error) {
	o, err := scanOrganisation(q.QueryRow(ctx, `SELECT `+orgColumns+` FROM organisations o WHERE o.id = ?`, orgID))
	if errors.Is(err, database.ErrNotFound) {
		return org.Organisation{}, orgNotFound()
	}
	return o, err
}

// LockOrganisation locks the organisation's row for the rest of q's
// transaction, or gives NotFound. Every change to an organisation takes
// this lock before it reads the roles it decides on: it is what keeps the
// "at least one owner" rule true under concurrent changes on PostgreSQL;
// SQLite's transactions already take turns.
func LockOrganisation(ctx context.Context, q database.Querier, orgID string) error {
	res, err := q.Exec(ctx, `UPDATE organisations SET updated_at = updated_at WHERE id = ?`, orgID)
	if err != nil {
		return fmt.Errorf("lock organisation: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return orgNotFound()
	}
	return nil
}

// orgMemberRole returns a member's role, or NotFound.
func orgMemberRole(ctx context.Context, q database.Querier, orgID, accountID string) (org.Role, error) {
	var role string
	err := q.QueryRow(ctx, `SELECT role FROM memberships WHERE organisation_id = ? AND account_id = ?`, orgID, accountID).Scan(&role)
	if errors.Is(err, database.ErrNotFound) {
		return "", errs.E(errs.NotFound, "there is no such member in this organisation")
	}
	return org.Role(role), err
}

// OrganisationOwners counts the organisation's owners.
func OrganisationOwners(ctx context.Context, q database.Querier, orgID string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM memberships WHERE organisation_id = ? AND role = ?`, orgID, string(org.Owner)).Scan(&n)
	return n, err
}

// OrganisationSize counts the organisation's members.
func OrganisationSize(ctx context.Context, q database.Querier, orgID string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM memberships WHERE organisation_id = ?`, orgID).Scan(&n)
	return n, err
}

// UpdateOrganisation sets the organisation's name and brand colour.
func UpdateOrganisation(ctx context.Context, q database.Querier, orgID, name, colour string, now time.Time) error {
	if _, err := q.Exec(ctx, `UPDATE organisations SET name = ?, colour = ?, updated_at = ? WHERE id = ?`,
		name, colour, now.UTC(), orgID); err != nil {
		return fmt.Errorf("update organisation: %w", err)
	}
	return nil
}

// SetOrganisationLogo points the organisation at a logo blob, or at none
// when key is "".
func SetOrganisationLogo(ctx context.Context, q database.Querier, orgID, key string, now time.Time) error {
	var keyArg any
	if key != "" {
		keyArg = key
	}
	if _, err := q.Exec(ctx, `UPDATE organisations SET logo_key = ?, updated_at = ? WHERE id = ?`, keyArg, now.UTC(), orgID); err != nil {
		return fmt.Errorf("set logo: %w", err)
	}
	return nil
}

// DeleteOrganisation deletes the organisation with its memberships,
// invitations and DPA acceptances. The audit log keeps the record of
// every acceptance.
func DeleteOrganisation(ctx context.Context, q database.Querier, orgID string) error {
	return inTx(ctx, q, func(tx database.Querier) error {
		// Children first, so that nothing depends on the database's
		// cascading.
		for _, stmt := range []string{
			`DELETE FROM dpa_acceptances WHERE organisation_id = ?`,
			`DELETE FROM organisation_invitations WHERE organisation_id = ?`,
			`DELETE FROM memberships WHERE organisation_id = ?`,
			`DELETE FROM organisations WHERE id = ?`,
		} {
			if _, err := tx.Exec(ctx, stmt, orgID); err != nil {
				return fmt.Errorf("delete organisation: %w", err)
			}
		}
		return nil
	})
}

// OrganisationMembers lists the organisation's members with their names
// and addresses, owners first, then by name.
func OrganisationMembers(ctx context.Context, q database.Querier, orgID string) ([]org.Membership, error) {
	rows, err := q.Query(ctx, `SELECT m.organisation_id, m.account_id, m.role, a.name, a.email, m.joined_at
		FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.organisation_id = ?`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []org.Membership{}
	for rows.Next() {
		var (
			m    org.Membership
			role string
		)
		if err := rows.Scan(&m.OrganisationID, &m.AccountID, &role, &m.Name, &m.Email, &m.JoinedAt); err != nil {
			return nil, err
		}
		m.Role, m.JoinedAt = org.Role(role), m.JoinedAt.UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rank := func(r org.Role) int {
		for i, x := range org.Roles {
			if x == r {
				return i
			}
		}
		return len(org.Roles)
	}
	slices.SortFunc(out, func(a, b org.Membership) int {
		return cmp.Or(cmp.Compare(rank(a.Role), rank(b.Role)), byNameThenID(a.Name, a.AccountID, b.Name, b.AccountID))
	})
	return out, nil
}

// OrganisationMember returns one member, or NotFound.
func OrganisationMember(ctx context.Context, q database.Querier, orgID, accountID string) (org.Membership, error) {
	var (
		m    org.Membership
		role string
	)
	err := q.QueryRow(ctx, `SELECT m.organisation_id, m.account_id, m.role, a.name, a.email, m.joined_at
		FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.organisation_id = ? AND m.account_id = ?`,
		orgID, accountID).Scan(&m.OrganisationID, &m.AccountID, &role, &m.Name, &m.Email, &m.JoinedAt)
	if errors.Is(err, database.ErrNotFound) {
		return org.Membership{}, errs.E(errs.NotFound, "there is no such member in this organisation")
	}
	m.Role, m.JoinedAt = org.Role(role), m.JoinedAt.UTC()
	return m, err
}

// SetMemberRole gives a member a new role.
func SetMemberRole(ctx context.Context, q database.Querier, orgID, memberID string, role org.Role, now time.Time) error {
	if _, err := q.Exec(ctx, `UPDATE memberships SET role = ?, updated_at = ? WHERE organisation_id = ? AND account_id = ?`,
		string(role), now.UTC(), orgID, memberID); err != nil {
		return fmt.Errorf("change role: %w", err)
	}
	return nil
}

// DeleteMember ends a membership.
func DeleteMember(ctx context.Context, q database.Querier, orgID, memberID string) error {
	if _, err := q.Exec(ctx, `DELETE FROM memberships WHERE organisation_id = ? AND account_id = ?`, orgID, memberID); err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	return nil
}

// MemberWithEmail reports whether an account with the (normalised)
// address belongs to the organisation.
func MemberWithEmail(ctx context.Context, q database.Querier, orgID, email string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM memberships m JOIN accounts a ON a.id = m.account_id
		WHERE m.organisation_id = ? AND a.email = ?`, orgID, email).Scan(&n)
	return n > 0, err
}

// DeleteOpenInvitationsTo deletes the organisation's invitations to the
// address that have not been accepted, and returns their ids.
func DeleteOpenInvitationsTo(ctx context.Context, q database.Querier, orgID, email string) ([]string, error) {
	var ids []string
	err := inTx(ctx, q, func(tx database.Querier) error {
		rows, err := tx.Query(ctx, `SELECT id FROM organisation_invitations WHERE organisation_id = ? AND email = ? AND accepted_at IS NULL`, orgID, email)
		if err != nil {
			return err
		}
		if ids, err = collectRows(rows, scanID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM organisation_invitations WHERE organisation_id = ? AND email = ? AND accepted_at IS NULL`, orgID, email); err != nil {
			return fmt.Errorf("replace invitation: %w", err)
		}
		return nil
	})
	return ids, err
}

// CreateInvitation inserts an open invitation. The link's token is not
// stored, only its digest; the row closes for retention when it expires.
func CreateInvitation(ctx context.Context, q database.Querier, inv org.Invitation, tokenDigest string) error {
	if _, err := q.Exec(ctx, `INSERT INTO organisation_invitations (id, organisation_id, email, role, invited_by, token_digest,
		created_at, expires_at, accepted_at, accepted_by, closes_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)`,
		inv.ID, inv.OrganisationID, inv.Email, string(inv.Role), inv.InvitedBy, tokenDigest,
		inv.CreatedAt.UTC(), inv.ExpiresAt.UTC(), inv.ExpiresAt.UTC()); err != nil {
		return fmt.Errorf("create invitation: %w", err)
	}
	return nil
}

// PendingInvitations lists the organisation's invitations that can still
// be accepted at now, newest first.
func PendingInvitations(ctx context.Context, q database.Querier, orgID string, now time.Time) ([]org.Invitation, error) {
	rows, err := q.Query(ctx, `SELECT `+invitationColumns+` FROM organisation_invitations i
		WHERE i.organisation_id = ? AND i.accepted_at IS NULL AND i.expires_at > ? ORDER BY i.created_at DESC, i.id`, orgID, now.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []org.Invitation{}
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

func scanInvitation(s interface{ Scan(...any) error }) (org.Invitation, error) {
	var (
		inv                   org.Invitation
		role                  string
		invitedBy, acceptedBy sql.NullString
		acceptedAt            sql.NullTime
	)
	if err := s.Scan(&inv.ID, &inv.OrganisationID, &inv.Email, &role, &invitedBy, &inv.CreatedAt, &inv.ExpiresAt, &acceptedAt, &acceptedBy); err != nil {
		return org.Invitation{}, err
	}
	inv.Role, inv.InvitedBy, inv.AcceptedBy = org.Role(role), invitedBy.String, acceptedBy.String
	inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
	if acceptedAt.Valid {
		t := acceptedAt.Time.UTC()
		inv.AcceptedAt = &t
	}
	return inv, nil
}

// DeleteOpenInvitation deletes an invitation of the organisation that has
// not been accepted, address and all; false when there is none.
func DeleteOpenInvitation(ctx context.Context, q database.Querier, orgID, invitationID string) (bool, error) {
	res, err := q.Exec(ctx, `DELETE FROM organisation_invitations WHERE id = ? AND organisation_id = ? AND accepted_at IS NULL`, invitationID, orgID)
	if err != nil {
		return false, fmt.Errorf("revoke invitation: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// InvitationByDigest returns the invitation with the id whose token has
// the digest, accepted or not, or database.ErrNotFound.
func InvitationByDigest(ctx context.Context, q database.Querier, id, tokenDigest string) (org.Invitation, error) {
	return scanInvitation(q.QueryRow(ctx, `SELECT `+invitationColumns+` FROM organisation_invitations i
		WHERE i.id = ? AND i.token_digest = ?`, id, tokenDigest))
}

// MarkInvitationAccepted binds the invitation to the account that accepts
// it, if it is still open at now; false when it is not. The update
// succeeds for one request alone, which makes the link work once.
func MarkInvitationAccepted(ctx context.Context, q database.Querier, id, tokenDigest, accountID string, now time.Time) (bool, error) {
	now = now.UTC()
	res, err := q.Exec(ctx, `UPDATE organisation_invitations SET accepted_at = ?, accepted_by = ?, closes_at = ?
		WHERE id = ? AND token_digest = ? AND accepted_at IS NULL AND expires_at > ?`,
		now, accountID, now, id, tokenDigest, now)
	if err != nil {
		return false, fmt.Errorf("accept invitation: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// CreateDPAAcceptance records an acceptance of the Data Processing
// Addendum. Acceptances are only ever added.
func CreateDPAAcceptance(ctx context.Context, q database.Querier, a org.DPAAcceptance) error {
	if _, err := q.Exec(ctx, `INSERT INTO dpa_acceptances (id, organisation_id, version, accepted_by, accepted_at) VALUES (?, ?, ?, ?, ?)`,
		a.ID, a.OrganisationID, a.Version, a.AcceptedBy, a.AcceptedAt.UTC()); err != nil {
		return fmt.Errorf("record DPA acceptance: %w", err)
	}
	return nil
}

// DPAAcceptances lists every acceptance of the organisation, the one in
// force first.
func DPAAcceptances(ctx context.Context, q database.Querier, orgID string) ([]org.DPAAcceptance, error) {
	rows, err := q.Query(ctx, `SELECT d.id, d.organisation_id, d.version, d.accepted_by, a.name, d.accepted_at
		FROM dpa_acceptances d LEFT JOIN accounts a ON a.id = d.accepted_by
		WHERE d.organisation_id = ? ORDER BY d.accepted_at DESC, d.id DESC`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []org.DPAAcceptance{}
	for rows.Next() {
		var (
			d          org.DPAAcceptance
			by, byName sql.NullString
		)
		if err := rows.Scan(&d.ID, &d.OrganisationID, &d.Version, &by, &byName, &d.AcceptedAt); err != nil {
			return nil, err
		}
		d.AcceptedBy, d.AcceptedByName, d.AcceptedAt = by.String, byName.String, d.AcceptedAt.UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// CurrentDPA returns the organisation's acceptance in force, nil when it
// has accepted none.
func CurrentDPA(ctx context.Context, q database.Querier, orgID string) (*org.DPAAcceptance, error) {
	list, err := DPAAcceptances(ctx, q, orgID)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return &list[0], nil
}

// OrganisationsOwnedBy lists, by id, the organisations in which the
// account is an owner.
func OrganisationsOwnedBy(ctx context.Context, q database.Querier, accountID string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT organisation_id FROM memberships WHERE account_id = ? AND role = ? ORDER BY organisation_id`,
		accountID, string(org.Owner))
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// MarkOwnerless records that the organisation lost its last owner at now
// with nobody to take it over, which starts its retention rule, and
// withdraws its invitations still open: nobody is left to answer for
// whoever would accept them. It returns how many it withdrew.
func MarkOwnerless(ctx context.Context, q database.Querier, orgID string, now time.Time) (int64, error) {
	var n int64
	err := inTx(ctx, q, func(tx database.Querier) error {
		if _, err := tx.Exec(ctx, `UPDATE organisations SET ownerless_since = ? WHERE id = ? AND ownerless_since IS NULL`, now.UTC(), orgID); err != nil {
			return fmt.Errorf("mark organisation ownerless: %w", err)
		}
		res, err := tx.Exec(ctx, `DELETE FROM organisation_invitations WHERE organisation_id = ? AND accepted_at IS NULL`, orgID)
		if err != nil {
			return fmt.Errorf("withdraw invitations: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
