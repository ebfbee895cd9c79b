package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/privacy/audit"
)

// Organisations, memberships, invitations and DPA acceptances. Every
// change runs in one transaction that first locks the organisation's row,
// then reads the actor's role and applies the rules of package org, then
// writes the change and its audit entry. The lock is what keeps the
// "at least one owner" rule true under concurrent changes on PostgreSQL;
// SQLite's transactions already take turns.
//
// Someone who is not a member gets the same "not found" whether or not the
// organisation exists, so that ids cannot be probed.

const orgColumns = `o.id, o.name, o.colour, o.logo_key, o.created_at, o.updated_at`

const invitationColumns = `i.id, i.organisation_id, i.email, i.role, i.invited_by, i.created_at, i.expires_at, i.accepted_at, i.accepted_by`

// orgNotFound is the answer for an organisation that does not exist and
// for one the requester does not belong to alike.
func orgNotFound() error { return errs.E(errs.NotFound, "there is no such organisation") }

// orgInvitationInvalid is every refusal of an invitation link: forged,
// expired, already used, withdrawn or replaced. Which one is not said.
func orgInvitationInvalid() error {
	return &errs.Error{Code: errs.Invalid, Message: "this invitation link is not valid: it may have expired, been withdrawn or been used already",
		Fields: map[string]string{"token": "is not a valid invitation, or it has expired or been used"}}
}

// orgActor is a member acting on an organisation, as the audit log names
// them.
func orgActor(accountID string) audit.Party { return audit.Party{Kind: "member", ID: accountID} }

func orgSubject(orgID string) audit.Party { return audit.Party{Kind: "organisation", ID: orgID} }

func orgNewID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// orgHash is how the audit log remembers an old value without keeping it.
func orgHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

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

// CreateOrganisation creates an organisation with the account as its
// owner. Only an active account with a verified address may; name and
// colour must have passed org.CheckName and org.CheckColour.
func CreateOrganisation(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, name, colour string) (org.Organisation, error) {
	now = now.UTC()
	o := org.Organisation{ID: orgNewID("org_"), Name: name, Colour: colour, CreatedAt: now, UpdatedAt: now}
	err := db.InTx(ctx, func(tx *database.Tx) error {
		ok, err := AccountVerified(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.Forbidden, "confirm your e-mail address before you create an organisation")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO organisations (id, name, colour, logo_key, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?)`,
			o.ID, o.Name, o.Colour, now, now); err != nil {
			return fmt.Errorf("create organisation: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO memberships (organisation_id, account_id, role, joined_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			o.ID, accountID, string(org.Owner), now, now); err != nil {
			return fmt.Errorf("add the first owner: %w", err)
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: orgActor(accountID), Action: "org.create", Subject: orgSubject(o.ID), Purpose: "service",
			Detail: map[string]string{"role": string(org.Owner)},
		})
	})
	if err != nil {
		return org.Organisation{}, err
	}
	return o, nil
}

// MyOrganisation is an organisation seen by one of its members.
type MyOrganisation struct {
	org.Organisation
	Role org.Role
}

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

// orgLock locks the organisation's row for the rest of the transaction
// and returns it with the actor's role, or NotFound when the actor is not
// a member.
func orgLock(ctx context.Context, tx *database.Tx, orgID, accountID string) (org.Organisation, org.Role, error) {
	res, err := tx.Exec(ctx, `UPDATE organisations SET updated_at = updated_at WHERE id = ?`, orgID)
	if err != nil {
		return org.Organisation{}, "", fmt.Errorf("lock organisation: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return org.Organisation{}, "", err
	} else if n == 0 {
		return org.Organisation{}, "", orgNotFound()
	}
	return OrganisationFor(ctx, tx, orgID, accountID)
}

// orgLockFor locks the organisation like orgLock and refuses unless the
// caller's role allows action, so no change starts before that check.
func orgLockFor(ctx context.Context, tx *database.Tx, orgID, accountID string, action org.Action) (org.Organisation, org.Role, error) {
	o, role, err := orgLock(ctx, tx, orgID, accountID)
	if err != nil {
		return org.Organisation{}, "", err
	}
	if err := org.Require(role, action); err != nil {
		return org.Organisation{}, "", err
	}
	return o, role, nil
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

func orgOwners(ctx context.Context, q database.Querier, orgID string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM memberships WHERE organisation_id = ? AND role = ?`, orgID, string(org.Owner)).Scan(&n)
	return n, err
}

// orgMemberAndOwners reads what the owner rules for changing or removing
// a member need: that member's role and how many owners there are now.
func orgMemberAndOwners(ctx context.Context, q database.Querier, orgID, memberID string) (org.Role, int, error) {
	role, err := orgMemberRole(ctx, q, orgID, memberID)
	if err != nil {
		return "", 0, err
	}
	owners, err := orgOwners(ctx, q, orgID)
	if err != nil {
		return "", 0, err
	}
	return role, owners, nil
}

// OrganisationUpdate is a change of name or brand colour; nil fields stay
// as they are. Values must have passed org.CheckName and org.CheckColour.
type OrganisationUpdate struct {
	Name   *string
	Colour *string
}

// UpdateOrganisation renames or recolours the organisation, for owners
// and admins.
func UpdateOrganisation(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, orgID string, u OrganisationUpdate) (org.Organisation, error) {
	now = now.UTC()
	var after org.Organisation
	err := db.InTx(ctx, func(tx *database.Tx) error {
		before, _, err := orgLockFor(ctx, tx, orgID, accountID, org.Edit)
		if err != nil {
			return err
		}
		after = before
		detail := map[string]string{}
		var changed []string
		if u.Name != nil && *u.Name != before.Name {
			after.Name = *u.Name
			changed = append(changed, "name")
			detail["old_name_sha256"] = orgHash(before.Name)
		}
		if u.Colour != nil && *u.Colour != before.Colour {
			after.Colour = *u.Colour
			changed = append(changed, "colour")
			detail["old_colour_sha256"] = orgHash(before.Colour)
		}
		if len(changed) == 0 {
			return nil
		}
		after.UpdatedAt = now
		if _, err := tx.Exec(ctx, `UPDATE organisations SET name = ?, colour = ?, updated_at = ? WHERE id = ?`,
			after.Name, after.Colour, now, orgID); err != nil {
			return fmt.Errorf("update organisation: %w", err)
		}
		detail["fields"] = strings.Join(changed, ",")
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: orgActor(accountID), Action: "org.update", Subject: orgSubject(orgID), Purpose: "service", Detail: detail,
		})
	})
	if err != nil {
		return org.Organisation{}, err
	}
	return after, nil
}

// SetOrganisationLogo points the organisation at a new logo blob, or at
// none when key is "", and returns the key it replaced so that the caller
// deletes that blob once this has committed.
func SetOrganisationLogo(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, orgID, key string) (org.Organisation, string, error) {
	now = now.UTC()
	var (
		after org.Organisation
		old   string
	)
	err := db.InTx(ctx, func(tx *database.Tx) error {
		before, _, err := orgLockFor(ctx, tx, orgID, accountID, org.Edit)
		if err != nil {
			return err
		}
		old, after = before.LogoKey, before
		if old == key {
			return nil
		}
		var keyArg any
		if key != "" {
			keyArg = key
		}
		if _, err := tx.Exec(ctx, `UPDATE organisations SET logo_key = ?, updated_at = ? WHERE id = ?`, keyArg, now, orgID); err != nil {
			return fmt.Errorf("set logo: %w", err)
		}
		after.LogoKey, after.UpdatedAt = key, now
		action, detail := "org.logo.set", map[string]string{"logo": key}
		if key == "" {
			action, detail = "org.logo.remove", map[string]string{}
		}
		if old != "" {
			detail["replaced"] = old
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: orgActor(accountID), Action: action, Subject: orgSubject(orgID), Purpose: "service", Detail: detail,
		})
	})
	if err != nil {
		return org.Organisation{}, "", err
	}
	if old == key {
		old = ""
	}
	return after, old, nil
}

// DeleteOrganisation deletes the organisation with its memberships,
// invitations and DPA acceptances, for owners only. It returns the logo's
// blob key, if any, for the caller to delete once this has committed. The
// audit log keeps the record of every acceptance.
func DeleteOrganisation(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, orgID string) (string, error) {
	now = now.UTC()
	var logo string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		o, _, err := orgLockFor(ctx, tx, orgID, accountID, org.Delete)
		if err != nil {
			return err
		}
		logo = o.LogoKey
		var members int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM memberships WHERE organisation_id = ?`, orgID).Scan(&members); err != nil {
			return err
		}
		// Children first, so that nothing depends on the database's
		// cascading.
		for _, q := range []string{
			`DELETE FROM dpa_acceptances WHERE organisation_id = ?`,
			`DELETE FROM organisation_invitations WHERE organisation_id = ?`,
			`DELETE FROM memberships WHERE organisation_id = ?`,
			`DELETE FROM organisations WHERE id = ?`,
		} {
			if _, err := tx.Exec(ctx, q, orgID); err != nil {
				return fmt.Errorf("delete organisation: %w", err)
			}
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: orgActor(accountID), Action: "org.delete", Subject: orgSubject(orgID), Purpose: "service",
			Detail: map[string]string{"members": strconv.Itoa(members)},
		})
	})
	if err != nil {
		return "", err
	}
	return logo, nil
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

// ChangeMemberRole gives a member a new role under the rules of
// org.CheckRoleChange.
func ChangeMemberRole(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, orgID, memberID string, to org.Role) (org.Membership, error) {
	now = now.UTC()
	err := db.InTx(ctx, func(tx *database.Tx) error {
		_, actor, err := orgLockFor(ctx, tx, orgID, accountID, org.ManageMembers)
		if err != nil {
			return err
		}
		from, owners, err := orgMemberAndOwners(ctx, tx, orgID, memberID)
		if err != nil {
			return err
		}
		if err := org.CheckRoleChange(actor, from, to, owners); err != nil {
			return err
		}
		if from == to {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE memberships SET role = ?, updated_at = ? WHERE organisation_id = ? AND account_id = ?`,
			string(to), now, orgID, memberID); err != nil {
			return fmt.Errorf("change role: %w", err)
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: orgActor(accountID), Action: "org.member.role", Subject: audit.Party{Kind: "member", ID: memberID},
			Purpose: "service", Detail: map[string]string{"organisation": orgID, "from": string(from), "to": string(to)},
		})
	})
	if err != nil {
		return org.Membership{}, err
	}
	return OrganisationMember(ctx, db, orgID, memberID)
}

// RemoveMember takes a member out of the organisation under the rules of
// org.CheckRemoval; removing oneself is leaving, under org.CheckLeave.
func RemoveMember(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, orgID, memberID string) error {
	if memberID == accountID {
		return LeaveOrganisation(ctx, db, secret, now, accountID, orgID)
	}
	now = now.UTC()
	return db.InTx(ctx, func(tx *database.Tx) error {
		_, actor, err := orgLockFor(ctx, tx, orgID, accountID, org.ManageMembers)
		if err != nil {
			return err
		}
		target, owners, err := orgMemberAndOwners(ctx, tx, orgID, memberID)
		if err != nil {
			return err
		}
		if err := org.CheckRemoval(actor, target, owners); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM memberships WHERE organisation_id = ? AND account_id = ?`, orgID, memberID); err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: orgActor(accountID), Action: "org.member.remove", Subject: audit.Party{Kind: "member", ID: memberID},
			Purpose: "service", Detail: map[string]string{"organisation": orgID, "role": string(target)},
		})
	})
}

// LeaveOrganisation ends the account's own membership; the last owner
// cannot leave.
func LeaveOrganisation(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, orgID string) error {
	now = now.UTC()
	return db.InTx(ctx, func(tx *database.Tx) error {
		_, role, err := orgLock(ctx, tx, orgID, accountID)
		if err != nil {
			return err
		}
		owners, err := orgOwners(ctx, tx, orgID)
		if err != nil {
			return err
		}
		if err := org.CheckLeave(role, owners); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM memberships WHERE organisation_id = ? AND account_id = ?`, orgID, accountID); err != nil {
			return fmt.Errorf("leave organisation: %w", err)
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: orgActor(accountID), Action: "org.member.leave", Subject: audit.Party{Kind: "member", ID: accountID},
			Purpose: "service", Detail: map[string]string{"organisation": orgID, "role": string(role)},
		})
	})
}

// InvitationSent is what Invite made: the invitation, the link's token
// (which is mailed and never stored) and the outbox message to dispatch
// after the commit.
type InvitationSent struct {
	Invitation org.Invitation
	Token      string
	MailID     string
}

// Invite invites an address to the organisation in a role, replacing any
// invitation to the same address that is still open, and puts the e-mail
// with the link in the outbox in the same transaction. email and role
// must have passed org.CheckEmail and org.CheckRole. compose builds the
// message from the organisation, the inviter's name, the invitation and
// its token.
func Invite(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, orgID, email string, role org.Role,
	compose func(o org.Organisation, inviter string, inv org.Invitation, token string) mail.Message) (InvitationSent, error) {
	now = now.UTC()
	var sent InvitationSent
	err := db.InTx(ctx, func(tx *database.Tx) error {
		o, actor, err := orgLock(ctx, tx, orgID, accountID)
		if err != nil {
			return err
		}
		if err := org.CheckInvite(actor, role); err != nil {
			return err
		}
		var already int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM memberships m JOIN accounts a ON a.id = m.account_id
			WHERE m.organisation_id = ? AND a.email = ?`, orgID, email).Scan(&already); err != nil {
			return err
		}
		if already > 0 {
			return &errs.Error{Code: errs.Conflict, Message: "someone with this address is already a member",
				Fields: map[string]string{"email": "belongs to a member already"}}
		}
		var replaced []string
		rows, err := tx.Query(ctx, `SELECT id FROM organisation_invitations WHERE organisation_id = ? AND email = ? AND accepted_at IS NULL`, orgID, email)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			replaced = append(replaced, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM organisation_invitations WHERE organisation_id = ? AND email = ? AND accepted_at IS NULL`, orgID, email); err != nil {
			return fmt.Errorf("replace invitation: %w", err)
		}
		var inviter string
		if err := tx.QueryRow(ctx, `SELECT name FROM accounts WHERE id = ?`, accountID).Scan(&inviter); err != nil {
			return err
		}
		inv := org.Invitation{
			ID: orgNewID("inv_"), OrganisationID: orgID, Email: email, Role: role, InvitedBy: accountID,
			CreatedAt: now, ExpiresAt: now.Add(org.InvitationTTL),
		}
		token := signed.Make(secret, org.InvitationPurpose, inv.ID, inv.ExpiresAt)
		if _, err := tx.Exec(ctx, `INSERT INTO organisation_invitations (id, organisation_id, email, role, invited_by, token_digest,
			created_at, expires_at, accepted_at, accepted_by, closes_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)`,
			inv.ID, orgID, email, string(role), accountID, signed.Digest(token), now, inv.ExpiresAt, inv.ExpiresAt); err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		m := compose(o, inviter, inv, token)
		mailID, err := EnqueueMail(ctx, tx, now, m)
		if err != nil {
			return err
		}
		detail := map[string]string{"organisation": orgID, "role": string(role)}
		if len(replaced) > 0 {
			detail["replaced"] = strings.Join(replaced, ",")
		}
		if err := AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: orgActor(accountID), Action: "org.invitation.create", Subject: audit.Party{Kind: "invitation", ID: inv.ID},
			Purpose: "service", Detail: detail,
		}); err != nil {
			return err
		}
		sent = InvitationSent{Invitation: inv, Token: token, MailID: mailID}
		return nil
	})
	if err != nil {
		return InvitationSent{}, err
	}
	return sent, nil
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

// RevokeInvitation withdraws an invitation that has not been accepted and
// deletes it, address and all, at once.
func RevokeInvitation(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, orgID, invitationID string) error {
	now = now.UTC()
	return db.InTx(ctx, func(tx *database.Tx) error {
		_, _, err := orgLockFor(ctx, tx, orgID, accountID, org.ManageMembers)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM organisation_invitations WHERE id = ? AND organisation_id = ? AND accepted_at IS NULL`, invitationID, orgID)
		if err != nil {
			return fmt.Errorf("revoke invitation: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errs.E(errs.NotFound, "there is no such open invitation")
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: orgActor(accountID), Action: "org.invitation.revoke", Subject: audit.Party{Kind: "invitation", ID: invitationID},
			Purpose: "service", Detail: map[string]string{"organisation": orgID},
		})
	})
}

// InvitationByToken returns the open invitation a link's token names, with
// its organisation, so that the person can see what they are asked to
// join before accepting. Every kind of bad link gives the same error.
func InvitationByToken(ctx context.Context, q database.Querier, secret []byte, token string, now time.Time) (org.Invitation, org.Organisation, error) {
	id, err := signed.Check(secret, org.InvitationPurpose, token, now)
	if err != nil {
		return org.Invitation{}, org.Organisation{}, orgInvitationInvalid()
	}
	inv, err := scanInvitation(q.QueryRow(ctx, `SELECT `+invitationColumns+` FROM organisation_invitations i
		WHERE i.id = ? AND i.token_digest = ?`, id, signed.Digest(token)))
	if errors.Is(err, database.ErrNotFound) || (err == nil && !inv.Pending(now)) {
		return org.Invitation{}, org.Organisation{}, orgInvitationInvalid()
	}
	if err != nil {
		return org.Invitation{}, org.Organisation{}, err
	}
	o, err := scanOrganisation(q.QueryRow(ctx, `SELECT `+orgColumns+` FROM organisations o WHERE o.id = ?`, inv.OrganisationID))
	if errors.Is(err, database.ErrNotFound) {
		return org.Invitation{}, org.Organisation{}, orgInvitationInvalid()
	}
	return inv, o, err
}

// AcceptInvitation makes the account a member in the invited role. The
// invitation binds to whichever account accepts it, and only once: the
// update that marks it accepted succeeds for one request alone. When the
// account is a member already, nothing changes and the link stays usable.
func AcceptInvitation(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, token string) (org.Organisation, org.Membership, error) {
	now = now.UTC()
	id, err := signed.Check(secret, org.InvitationPurpose, token, now)
	if err != nil {
		return org.Organisation{}, org.Membership{}, orgInvitationInvalid()
	}
	var (
		o   org.Organisation
		inv org.Invitation
	)
	err = db.InTx(ctx, func(tx *database.Tx) error {
		inv, err = scanInvitation(tx.QueryRow(ctx, `SELECT `+invitationColumns+` FROM organisation_invitations i
			WHERE i.id = ? AND i.token_digest = ?`, id, signed.Digest(token)))
		if errors.Is(err, database.ErrNotFound) {
			return orgInvitationInvalid()
		}
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE organisations SET updated_at = updated_at WHERE id = ?`, inv.OrganisationID)
		if err != nil {
			return fmt.Errorf("lock organisation: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return orgInvitationInvalid()
		}
		res, err = tx.Exec(ctx, `UPDATE organisation_invitations SET accepted_at = ?, accepted_by = ?, closes_at = ?
			WHERE id = ? AND token_digest = ? AND accepted_at IS NULL AND expires_at > ?`,
			now, accountID, now, inv.ID, signed.Digest(token), now)
		if err != nil {
			return fmt.Errorf("accept invitation: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return orgInvitationInvalid()
		}
		if _, err := orgMemberRole(ctx, tx, inv.OrganisationID, accountID); err == nil {
			return errs.E(errs.Conflict, "you are a member of this organisation already")
		} else if errs.CodeOf(err) != errs.NotFound {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO memberships (organisation_id, account_id, role, joined_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			inv.OrganisationID, accountID, string(inv.Role), now, now); err != nil {
			return fmt.Errorf("add member: %w", err)
		}
		o, _, err = OrganisationFor(ctx, tx, inv.OrganisationID, accountID)
		if err != nil {
			return err
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: orgActor(accountID), Action: "org.invitation.accept", Subject: audit.Party{Kind: "invitation", ID: inv.ID},
			Purpose: "service", Detail: map[string]string{"organisation": inv.OrganisationID, "role": string(inv.Role)},
		})
	})
	if err != nil {
		return org.Organisation{}, org.Membership{}, err
	}
	m, err := OrganisationMember(ctx, db, inv.OrganisationID, accountID)
	return o, m, err
}

// AcceptDPA records that the account, an owner, accepted a version of the
// Data Processing Addendum for the organisation. Acceptances are only ever
// added; the same version is not accepted twice in a row.
func AcceptDPA(ctx context.Context, db *database.DB, secret []byte, now time.Time, accountID, orgID, version string) (org.DPAAcceptance, error) {
	now = now.UTC()
	a := org.DPAAcceptance{ID: orgNewID("dpa_"), OrganisationID: orgID, Version: version, AcceptedBy: accountID, AcceptedAt: now}
	err := db.InTx(ctx, func(tx *database.Tx) error {
		_, _, err := orgLockFor(ctx, tx, orgID, accountID, org.AcceptDPA)
		if err != nil {
			return err
		}
		current, err := CurrentDPA(ctx, tx, orgID)
		if err != nil {
			return err
		}
		if current != nil && current.Version == version {
			return errs.E(errs.Conflict, "the organisation has accepted this version already")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO dpa_acceptances (id, organisation_id, version, accepted_by, accepted_at) VALUES (?, ?, ?, ?, ?)`,
			a.ID, orgID, version, accountID, now); err != nil {
			return fmt.Errorf("record DPA acceptance: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT name FROM accounts WHERE id = ?`, accountID).Scan(&a.AcceptedByName); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: orgActor(accountID), Action: "org.dpa.accept", Subject: orgSubject(orgID), Purpose: "legal-compliance",
			Detail: map[string]string{"version": version, "acceptance": a.ID},
		})
	})
	if err != nil {
		return org.DPAAcceptance{}, err
	}
	return a, nil
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
