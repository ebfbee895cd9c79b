package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/privacy/audit"
)

// This file holds the member's side of their account: the profile, the
// confirmation of a child account by a parent or guardian, deactivation,
// reactivation and "delete my account".

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

// UpdateProfile checks the member's edit against the stored profile and,
// when it is valid and changes something, writes the name to the account
// and the rest to the profile, with an audit entry naming the changed
// fields and keeping only a keyed digest of each old value, all in one
// transaction. It returns the changed fields; a refused edit changes
// nothing and returns an errs.Invalid error with a message per field.
func UpdateProfile(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, accountID string,
	edit account.ProfileEdit, now time.Time) ([]string, error) {
	var changed []string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		var oldName string
		if err := tx.QueryRow(ctx, `SELECT name FROM accounts WHERE id = ?`, accountID).Scan(&oldName); err != nil {
			return err
		}
		old, err := GetProfile(ctx, tx, accountID)
		if err != nil {
			return err
		}
		name, p, err := edit.Clean(old, now)
		if err != nil {
			return err
		}
		changes := account.Changes(oldName, old, name, p)
		if len(changes) == 0 {
			return nil
		}
		if name != oldName {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET name = ?, updated_at = ? WHERE id = ?`, name, now.UTC(), accountID); err != nil {
				return err
			}
		}
		if err := saveProfile(ctx, tx, p, now); err != nil {
			if errors.Is(err, database.ErrDuplicate) {
				return &errs.Error{Code: errs.Invalid, Message: "some fields are not valid",
					Fields: map[string]string{account.FieldUsername: "is taken; choose another"}}
			}
			return err
		}
		for _, c := range changes {
			changed = append(changed, c.Field)
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "profile.update", Subject: memberParty(accountID),
			Purpose: "account", Detail: account.AuditDetail(secret, changes),
		})
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

// SetAvatar makes key, an object already in the blob store, the member's
// profile picture (or removes the picture when key is empty), audited in
// one transaction. It returns the key of the picture replaced, which the
// caller deletes from the blob store once this has committed.
func SetAvatar(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, accountID, key string, now time.Time) (string, error) {
	var old string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		p, err := GetProfile(ctx, tx, accountID)
		if err != nil {
			return err
		}
		old = p.AvatarKey
		if old == key {
			return nil
		}
		p.AvatarKey = key
		if err := saveProfile(ctx, tx, p, now); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "profile.update", Subject: memberParty(accountID), Purpose: "account",
			Detail: account.AuditDetail(secret, []account.Change{{Field: account.FieldAvatar, Old: old}}),
		})
	})
	if err != nil {
		return "", err
	}
	return old, nil
}

// GuardianRequest is one confirmation link sent to a parent or guardian.
type GuardianRequest struct {
	ID            string
	AccountID     string
	GuardianEmail string
	Status        string // pending, confirmed or superseded
	RequestedAt   time.Time
	ExpiresAt     time.Time
	ConfirmedAt   *time.Time
	NoticeVersion string
	NoticeSHA256  string
}

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

// RequestGuardianConsent records a confirmation link for a child account
// sent to guardianEmail, supersedes the links still pending, remembers
// the address on the profile and queues msg (which carries the link), in
// one transaction. It refuses with errs.Conflict when the account is not
// a child account at now, or a guardian has already confirmed. It returns
// the outbox id to dispatch after the commit.
func RequestGuardianConsent(ctx context.Context, db *database.DB, secret []byte, id, accountID, guardianEmail, tokenDigest string,
	expires, now time.Time, msg mail.Message) (string, error) {
	var mailID string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		p, err := GetProfile(ctx, tx, accountID)
		if err != nil {
			return err
		}
		r := account.RestrictionsFor(p, now)
		switch {
		case !r.Child:
			return errs.E(errs.Conflict, "this is not a child account, so no confirmation by a parent or guardian is needed")
		case r.GuardianConfirmed:
			return errs.E(errs.Conflict, "a parent or guardian has already confirmed this account")
		}
		if _, err := tx.Exec(ctx, `UPDATE guardian_consents SET status = 'superseded' WHERE account_id = ? AND status = 'pending'`, accountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO guardian_consents (id, account_id, guardian_email, token_digest, status, requested_at, expires_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?)`, id, accountID, guardianEmail, tokenDigest, now.UTC(), expires.UTC()); err != nil {
			return err
		}
		p.GuardianEmail = guardianEmail
		if err := saveProfile(ctx, tx, p, now); err != nil {
			return err
		}
		msg.PersonID = accountID
		if mailID, err = EnqueueMail(ctx, tx, now, msg); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: memberParty(accountID), Action: "guardian.request", Subject: memberParty(accountID),
			Purpose: "legal-compliance", Detail: map[string]string{"request": id},
		})
	})
	return mailID, err
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
// records it, in one transaction. A link that is unknown, expired,
// superseded or already used gives ErrGuardianLink and changes nothing.
func ConfirmGuardianConsent(ctx context.Context, db *database.DB, secret []byte, digest, noticeVersion, noticeSHA256 string, now time.Time) (GuardianRequest, error) {
	var g GuardianRequest
	err := db.InTx(ctx, func(tx *database.Tx) error {
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
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: audit.Party{Kind: "guardian", ID: g.ID}, Action: "guardian.confirm",
			Subject: memberParty(g.AccountID), Purpose: "legal-compliance",
			Detail: map[string]string{"request": g.ID, "notice_version": noticeVersion, "notice_sha256": noticeSHA256, "token_digest": digest},
		})
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
// every browser session ends, in the same transaction as the change of
// status and its audit entry, and msg (when it has a recipient) is queued
// to tell the member how to come back. It returns the outbox id, if any.
// An account that is not active gives errs.Conflict.
func DeactivateAccount(ctx context.Context, db *database.DB, secret []byte, accountID string, now time.Time, msg mail.Message) (string, error) {
	var mailID string
	err := db.InTx(ctx, func(tx *database.Tx) error {
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
		ended, err := DeleteSessions(ctx, tx, accountID, "")
		if err != nil {
			return err
		}
		if msg.To != "" {
			msg.PersonID = accountID
			if mailID, err = EnqueueMail(ctx, tx, now, msg); err != nil {
				return err
			}
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: memberParty(accountID), Action: "account.deactivate", Subject: memberParty(accountID),
			Purpose: "account", Detail: map[string]string{"sessions_ended": strconv.FormatInt(ended, 10)},
		})
	})
	return mailID, err
}

// ReactivateIfDeactivated is what sign-in calls once the member has proved
// who they are. A deactivated account becomes active again, audited, when
// it was deactivated less than grace ago, and it reports true; an active
// account is left alone and it reports false. A deactivated account past
// its grace period, or one waiting for erasure, gives errs.Forbidden with
// a message for the member, and sign-in must stop there. Given the plain
// *database.DB it opens a transaction of its own.
func ReactivateIfDeactivated(ctx context.Context, q database.Querier, secret []byte, accountID string, now time.Time, grace time.Duration) (bool, error) {
	if db, ok := q.(*database.DB); ok {
		var done bool
		err := db.InTx(ctx, func(tx *database.Tx) error {
			var err error
			done, err = ReactivateIfDeactivated(ctx, tx, secret, accountID, now, grace)
			return err
		})
		return done, err
	}
	var (
		status string
		off    sql.NullTime
	)
	if err := q.QueryRow(ctx, `SELECT status, deactivated_at FROM accounts WHERE id = ?`, accountID).Scan(&status, &off); err != nil {
		return false, err
	}
	switch account.Status(status) {
	case account.Active:
		return false, nil
	case account.ErasurePending:
		return false, errs.E(errs.Forbidden, "this account is being deleted at your request; write to us if you want to stop that")
	case account.Deactivated:
	default:
		return false, fmt.Errorf("account %s has unknown status %q", accountID, status)
	}
	if !off.Valid || !account.CanReactivate(off.Time.UTC(), now, grace) {
		return false, errs.E(errs.Forbidden, "this account was deactivated too long ago to come back by signing in; write to us if you want it back")
	}
	ok, err := ReactivateAccount(ctx, q, accountID, now)
	if err != nil || !ok {
		return false, err
	}
	return true, AppendAudit(ctx, q, secret, audit.Entry{
		At: now, Actor: memberParty(accountID), Action: "account.reactivate", Subject: memberParty(accountID), Purpose: "account",
	})
}

const requestColumns = `id, account_id, kind, state, received_at, due_at`

// RequestAccountErasure records the member's request to delete their
// account, due one calendar month after it was received, and deactivates
// the account until the request is carried out: the status becomes
// erasure_pending and every session ends. The message msg builds for the
// request, which confirms it to the member, is queued in the same
// transaction. A second request
// while one is open gives errs.Conflict. It returns the request and the
// outbox id to dispatch after the commit.
func RequestAccountErasure(ctx context.Context, db *database.DB, secret []byte, accountID string, now time.Time,
	msg func(account.AccountRequest) mail.Message) (account.AccountRequest, string, error) {
	req := account.AccountRequest{
		ID: account.NewRequestID(), AccountID: accountID, Kind: account.RequestErasure, State: account.RequestReceived,
		ReceivedAt: now.UTC(), DueAt: account.DueOneMonthAfter(now.UTC()),
	}
	var mailID string
	err := db.InTx(ctx, func(tx *database.Tx) error {
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
		if _, err := DeleteSessions(ctx, tx, accountID, ""); err != nil {
			return err
		}
		if msg != nil {
			m := msg(req)
			m.PersonID = accountID
			if mailID, err = EnqueueMail(ctx, tx, now, m); err != nil {
				return err
			}
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: memberParty(accountID), Action: "account.erasure_request", Subject: memberParty(accountID),
			Purpose: "legal-compliance", Detail: map[string]string{"request": req.ID, "due_at": req.DueAt.Format(time.RFC3339)},
		})
	})
	if err != nil {
		return account.AccountRequest{}, "", err
	}
	return req, mailID, nil
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
