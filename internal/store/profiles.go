package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

// This file holds the member's side of their account: the profile, the
// confirmation of a child account by a parent or guardian, deactivation
// and "delete my account". The use cases around these rows (checks, audit
// entries, mail) are in internal/service/accounts.

const profileColumns = `account_id, username, phone, company, address_street, address_city, address_postcode,
	address_region, address_country, birth_date, gender, country, city, interests, linkedin_url, facebook_url,
	avatar_key, guardian_email, guardian_confirmed_at, created_at, updated_at`

// ErrGuardianLink is the one answer to a guardian link that is forged,
// expired, superseded or already used: the page must not say which.
var ErrGuardianLink = errs.E(errs.Invalid, "this confirmation link is not valid: it may have expired, been replaced by a newer one or been used already")

// memberParty is the audit log's name for a member acting on, or being
// the subject of, their own account.
func memberParty(accountID string) audit.Party { return audit.Party{Kind: "member", ID: accountID} }

// GetProfile returns the member's profile. A member who never saved one
// has an empty profile, not an error.
func GetProfile(ctx context.Context, q database.Querier, accountID string) (account.Profile, error) {
	p, err := scanProfile(q.QueryRow(ctx, `SELECT `+profileColumns+` FROM profiles WHERE account_id = ?`, accountID))
	if errors.Is(err, database.ErrNotFound) {
		return account.Profile{AccountID: accountID}, nil
	}
	return p, err
}

func scanProfile(row interface{ Scan(...any) error }) (account.Profile, error) {
	var (
		p                                                        account.Profile
		username, phone, company, street, city, postcode, region sql.NullString
		addrCountry, birth, gender, country, livesIn, interests  sql.NullString
		linkedin, facebook, avatar, guardian                     sql.NullString
		confirmed                                                sql.NullTime
	)
	err := row.Scan(&p.AccountID, &username, &phone, &company, &street, &city, &postcode, &region, &addrCountry,
		&birth, &gender, &country, &livesIn, &interests, &linkedin, &facebook, &avatar, &guardian, &confirmed,
		&p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return account.Profile{}, err
	}
	p.Username, p.Phone, p.Company = username.String, phone.String, company.String
	p.Address = account.Address{Street: street.String, City: city.String, Postcode: postcode.String,
		Region: region.String, Country: addrCountry.String}
	if birth.Valid && birth.String != "" {
		d, err := time.Parse(time.DateOnly, birth.String)
		if err != nil {
			return account.Profile{}, fmt.Errorf("profile of %s: stored birth date is malformed", p.AccountID)
		}
		p.BirthDate = d
	}
	p.Gender, p.Country, p.City = gender.String, country.String, livesIn.String
	if interests.Valid && interests.String != "" {
		if err := json.Unmarshal([]byte(interests.String), &p.Interests); err != nil {
			return account.Profile{}, fmt.Errorf("profile of %s: stored interests are malformed", p.AccountID)
		}
	}
	p.LinkedIn, p.Facebook, p.AvatarKey, p.GuardianEmail = linkedin.String, facebook.String, avatar.String, guardian.String
	if confirmed.Valid {
		t := confirmed.Time.UTC()
		p.GuardianConfirmedAt = &t
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

// orNull stores "" as NULL: every profile field is optional, and an
// absent value is NULL on both engines.
func orNull(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// saveProfile writes the whole profile row, creating it on first save.
func saveProfile(ctx context.Context, q database.Querier, p account.Profile, now time.Time) error {
	var interests sql.NullString
	if len(p.Interests) > 0 {
		b, err := json.Marshal(p.Interests)
		if err != nil {
			return err
		}
		interests = sql.NullString{String: string(b), Valid: true}
	}
	var confirmed any
	if p.GuardianConfirmedAt != nil {
		confirmed = p.GuardianConfirmedAt.UTC()
	}
	args := []any{orNull(p.Username), orNull(p.Phone), orNull(p.Company), orNull(p.Address.Street),
		orNull(p.Address.City), orNull(p.Address.Postcode), orNull(p.Address.Region), orNull(p.Address.Country),
		orNull(account.FormatDate(p.BirthDate)), orNull(p.Gender), orNull(p.Country), orNull(p.City), interests,
		orNull(p.LinkedIn), orNull(p.Facebook), orNull(p.AvatarKey), orNull(p.GuardianEmail), confirmed}
	res, err := q.Exec(ctx, `UPDATE profiles SET username = ?, phone = ?, company = ?, address_street = ?, address_city = ?,
		address_postcode = ?, address_region = ?, address_country = ?, birth_date = ?, gender = ?, country = ?, city = ?,
		interests = ?, linkedin_url = ?, facebook_url = ?, avatar_key = ?, guardian_email = ?, guardian_confirmed_at = ?,
		updated_at = ? WHERE account_id = ?`, append(args, now.UTC(), p.AccountID)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO profiles (`+profileColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append(append([]any{p.AccountID}, args...), now.UTC(), now.UTC())...)
	return err
}

// SaveProfile writes the whole profile row, creating it on first save.
// A user name another member holds gives database.ErrDuplicate.
func SaveProfile(ctx context.Context, q database.Querier, p account.Profile, now time.Time) error {
	return saveProfile(ctx, q, p, now)
}

// MemberTimeZone is the time zone the member sees times in, "" when none
// was reported or chosen.
func MemberTimeZone(ctx context.Context, q database.Querier, accountID string) (string, error) {
	var tz string
	err := q.QueryRow(ctx, `SELECT time_zone FROM profiles WHERE account_id = ?`, accountID).Scan(&tz)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return tz, err
}

// SetMemberTimeZone keeps the member's time zone, creating the profile
// row when the member has saved none yet; nothing else in it changes.
func SetMemberTimeZone(ctx context.Context, q database.Querier, accountID, tz string, now time.Time) error {
	res, err := q.Exec(ctx, `UPDATE profiles SET time_zone = ?, updated_at = ? WHERE account_id = ?`, tz, now.UTC(), accountID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO profiles (account_id, time_zone, created_at, updated_at) VALUES (?, ?, ?, ?)`,
		accountID, tz, now.UTC(), now.UTC())
	return err
}

// SetAccountName renames the account.
func SetAccountName(ctx context.Context, q database.Querier, id, name string, now time.Time) error {
	return execOne(ctx, q, `UPDATE accounts SET name = ?, updated_at = ? WHERE id = ?`, name, now.UTC(), id)
}

// GuardianRequest is one confirmation link sent to a parent or guardian.
type GuardianRequest = account.GuardianRequest

const guardianColumns = `id, account_id, guardian_email, status, requested_at, expires_at, confirmed_at, notice_version, notice_sha256`

func scanGuardianRequest(row interface{ Scan(...any) error }) (GuardianRequest, error) {
	var (
		g               GuardianRequest
		confirmed       sql.NullTime
		version, digest sql.NullString
	)
	if err := row.Scan(&g.ID, &g.AccountID, &g.GuardianEmail, &g.Status, &g.RequestedAt, &g.ExpiresAt,
		&confirmed, &version, &digest); err != nil {
		return GuardianRequest{}, err
	}
	g.RequestedAt, g.ExpiresAt = g.RequestedAt.UTC(), g.ExpiresAt.UTC()
	if confirmed.Valid {
		t := confirmed.Time.UTC()
		g.ConfirmedAt = &t
	}
	g.NoticeVersion, g.NoticeSHA256 = version.String, digest.String
	return g, nil
}

// AddGuardianRequest records a pending confirmation link for a child
// account sent to guardianEmail, superseding the links still pending.
func AddGuardianRequest(ctx context.Context, q database.Querier, id, accountID, guardianEmail, tokenDigest string, expires, now time.Time) error {
	return inTx(ctx, q, func(tx database.Querier) error {
		if _, err := tx.Exec(ctx, `UPDATE guardian_consents SET status = 'superseded' WHERE account_id = ? AND status = 'pending'`, accountID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO guardian_consents (id, account_id, guardian_email, token_digest, status, requested_at, expires_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?)`, id, accountID, guardianEmail, tokenDigest, now.UTC(), expires.UTC())
		return err
	})
}

// GuardianRequestByDigest returns the link whose token has digest, if it
// can still be confirmed at now; anything else is ErrGuardianLink.
func GuardianRequestByDigest(ctx context.Context, q database.Querier, digest string, now time.Time) (GuardianRequest, error) {
	g, err := scanGuardianRequest(q.QueryRow(ctx, `SELECT `+guardianColumns+` FROM guardian_consents WHERE token_digest = ?`, digest))
	if errors.Is(err, database.ErrNotFound) || (err == nil && (g.Status != "pending" || !now.Before(g.ExpiresAt))) {
		return GuardianRequest{}, ErrGuardianLink
	}
	return g, err
}

// ConfirmGuardianConsent spends the link whose token has digest and
// records the consent evidence: when, and which text (version and
// SHA-256) the guardian was shown; the row already says who and for
// which account. The profile is marked confirmed and the audit log
// (the caller's entry) records it, in one transaction. A link that is
// unknown, expired, superseded or already used gives ErrGuardianLink and
// changes nothing.
func ConfirmGuardianConsent(ctx context.Context, q database.Querier, digest, noticeVersion, noticeSHA256 string, now time.Time) (GuardianRequest, error) {
	var g GuardianRequest
	err := inTx(ctx, q, func(tx database.Querier) error {
		var err error
		if g, err = GuardianRequestByDigest(ctx, tx, digest, now); err != nil {
			return err
		}
		// The status condition makes the link single-use even when two
		// confirmations race: only one UPDATE can match.
		res, err := tx.Exec(ctx, `UPDATE guardian_consents SET status = 'confirmed', confirmed_at = ?, notice_version = ?, notice_sha256 = ?
			WHERE id = ? AND status = 'pending' AND expires_at > ?`, now.UTC(), noticeVersion, noticeSHA256, g.ID, now.UTC())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err == nil {
				err = ErrGuardianLink
			}
			return err
		}
		p, err := GetProfile(ctx, tx, g.AccountID)
		if err != nil {
			return err
		}
		at := now.UTC()
		p.GuardianConfirmedAt = &at
		if err := saveProfile(ctx, tx, p, now); err != nil {
			return err
		}
		g.Status, g.ConfirmedAt, g.NoticeVersion, g.NoticeSHA256 = "confirmed", &at, noticeVersion, noticeSHA256
		return nil
	})
	if err != nil {
		return GuardianRequest{}, err
	}
	return g, nil
}

// GuardianRequests lists the account's guardian links, newest first, for
// the member's page and their data export.
func GuardianRequests(ctx context.Context, q database.Querier, accountID string) ([]GuardianRequest, error) {
	rows, err := q.Query(ctx, `SELECT `+guardianColumns+` FROM guardian_consents WHERE account_id = ? ORDER BY requested_at DESC, id`, accountID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanGuardianRequest)
}

// DeactivateAccount hides an active account and signs it out everywhere:
// every browser session ends in the same transaction as the change of
// status. It returns how many sessions ended. An account that is not
// active gives errs.Conflict.
func DeactivateAccount(ctx context.Context, q database.Querier, accountID string, now time.Time) (int64, error) {
	var ended int64
	err := inTx(ctx, q, func(tx database.Querier) error {
		res, err := tx.Exec(ctx, `UPDATE accounts SET status = 'deactivated', deactivated_at = ?, updated_at = ? WHERE id = ? AND status = 'active'`,
			now.UTC(), now.UTC(), accountID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err == nil {
				err = errs.E(errs.Conflict, "the account is not active")
			}
			return err
		}
		ended, err = DeleteSessions(ctx, tx, accountID, "")
		return err
	})
	return ended, err
}

const requestColumns = `id, account_id, kind, state, received_at, due_at`

// OpenAccountErasure records the member's request to delete their
// account, due one calendar month after it was received, and deactivates
// the account until the request is carried out: the status becomes
// erasure_pending and every session ends. A second request while one is
// open gives errs.Conflict.
func OpenAccountErasure(ctx context.Context, q database.Querier, accountID string, now time.Time) (account.AccountRequest, error) {
	req := account.AccountRequest{
		ID: account.NewRequestID(), AccountID: accountID, Kind: account.RequestErasure, State: string(rights.StateReceived),
		ReceivedAt: now.UTC(), DueAt: account.DueOneMonthAfter(now.UTC()),
	}
	err := inTx(ctx, q, func(tx database.Querier) error {
		res, err := tx.Exec(ctx, `UPDATE accounts SET status = 'erasure_pending', deactivated_at = COALESCE(deactivated_at, ?), updated_at = ?
			WHERE id = ? AND status IN ('active', 'deactivated')`, now.UTC(), now.UTC(), accountID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err == nil {
				err = errs.E(errs.Conflict, "the deletion of this account has already been requested")
			}
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO account_requests (`+requestColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			req.ID, req.AccountID, req.Kind, req.State, req.ReceivedAt, req.DueAt); err != nil {
			return err
		}
		_, err = DeleteSessions(ctx, tx, accountID, "")
		return err
	})
	if err != nil {
		return account.AccountRequest{}, err
	}
	return req, nil
}

// AccountRequests lists the member's requests, newest first.
func AccountRequests(ctx context.Context, q database.Querier, accountID string) ([]account.AccountRequest, error) {
	rows, err := q.Query(ctx, `SELECT `+requestColumns+` FROM account_requests WHERE account_id = ? ORDER BY received_at DESC, id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []account.AccountRequest
	for rows.Next() {
		var (
			r  account.AccountRequest
			id sql.NullString
		)
		if err := rows.Scan(&r.ID, &id, &r.Kind, &r.State, &r.ReceivedAt, &r.DueAt); err != nil {
			return nil, err
		}
		r.AccountID = id.String
		r.ReceivedAt, r.DueAt = r.ReceivedAt.UTC(), r.DueAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
