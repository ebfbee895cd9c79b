package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
)

const accountColumns = `a.id, a.email, a.email_verified_at, a.password_hash, a.password_changed_at, a.name, a.status,
	a.created_at, a.updated_at, a.last_active_at, a.deactivated_at, a.totp_secret, a.totp_enabled_at, a.totp_last_step`

type scanner = interface{ Scan(dest ...any) error }

func scanAccount(row scanner, extra ...any) (account.Account, error) {
	var (
		a                     account.Account
		verified, deactivated sql.NullTime
		totpEnabled           sql.NullTime
		status                string
		secret                []byte
	)
	dest := append([]any{&a.ID, &a.Email, &verified, &a.PasswordHash, &a.PasswordChangedAt, &a.Name, &status,
		&a.CreatedAt, &a.UpdatedAt, &a.LastActiveAt, &deactivated, &secret, &totpEnabled, &a.TOTPLastStep}, extra...)
	if err := row.Scan(dest...); err != nil {
		return account.Account{}, err
	}
	a.Status = account.Status(status)
	a.EmailVerifiedAt = nullTime(verified)
	a.DeactivatedAt = nullTime(deactivated)
	a.TOTPEnabledAt = nullTime(totpEnabled)
	if len(secret) > 0 {
		a.TOTPSecret = secret
	}
	a.PasswordChangedAt = a.PasswordChangedAt.UTC()
	a.CreatedAt, a.UpdatedAt, a.LastActiveAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC(), a.LastActiveAt.UTC()
	return a, nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// CreateAccount inserts a. A taken address gives database.ErrDuplicate.
func CreateAccount(ctx context.Context, q database.Querier, a account.Account) error {
	_, err := q.Exec(ctx, `INSERT INTO accounts (id, email, email_verified_at, password_hash, password_changed_at, name, status,
		created_at, updated_at, last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Email, timeArg(a.EmailVerifiedAt), a.PasswordHash, a.PasswordChangedAt.UTC(), a.Name, string(a.Status),
		a.CreatedAt.UTC(), a.UpdatedAt.UTC(), a.LastActiveAt.UTC())
	return err
}

// AccountByID returns the account, or database.ErrNotFound.
func AccountByID(ctx context.Context, q database.Querier, id string) (account.Account, error) {
	return scanAccount(q.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id = ?`, id))
}

// AccountByEmail returns the account holding the normalised address, or
// database.ErrNotFound.
func AccountByEmail(ctx context.Context, q database.Querier, email string) (account.Account, error) {
	return scanAccount(q.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.email = ?`, email))
}

// MarkEmailVerified records that the member proved they receive mail at
// their address. It reports false when it was already verified.
func MarkEmailVerified(ctx context.Context, q database.Querier, id string, at time.Time) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE accounts SET email_verified_at = ?, updated_at = ? WHERE id = ? AND email_verified_at IS NULL`,
		at.UTC(), at.UTC(), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetPassword replaces the password hash.
func SetPassword(ctx context.Context, q database.Querier, id, hash string, at time.Time) error {
	return execOne(ctx, q, `UPDATE accounts SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?`,
		hash, at.UTC(), at.UTC(), id)
}

// RehashPassword replaces a hash made with older parameters; unlike
// SetPassword it is not a change of password.
func RehashPassword(ctx context.Context, q database.Querier, id, oldHash, newHash string) error {
	_, err := q.Exec(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?`, newHash, id, oldHash)
	return err
}

// SetAccountEmail moves the account to a new, confirmed address. A taken
// address gives database.ErrDuplicate.
func SetAccountEmail(ctx context.Context, q database.Querier, id, email string, at time.Time) error {
	return execOne(ctx, q, `UPDATE accounts SET email = ?, email_verified_at = ?, updated_at = ? WHERE id = ?`,
		email, at.UTC(), at.UTC(), id)
}

// ReactivateAccount makes a deactivated account active again. It reports
// false when the account was not deactivated.
func ReactivateAccount(ctx context.Context, q database.Querier, id string, at time.Time) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE accounts SET status = 'active', deactivated_at = NULL, updated_at = ? WHERE id = ? AND status = 'deactivated'`,
		at.UTC(), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// TouchAccountActive moves last_active_at to now when it is older than
// account.ActiveTouchEvery, so that use of an account costs at most one
// write an hour.
func TouchAccountActive(ctx context.Context, q database.Querier, id string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE accounts SET last_active_at = ? WHERE id = ? AND last_active_at < ?`,
		now.UTC(), id, now.Add(-account.ActiveTouchEvery).UTC())
	return err
}

// SetTOTPPending stores a sealed secret that is not yet confirmed; it does
// not turn the second factor on.
func SetTOTPPending(ctx context.Context, q database.Querier, id string, sealed []byte, at time.Time) error {
	return execOne(ctx, q, `UPDATE accounts SET totp_secret = ?, totp_enabled_at = NULL, totp_last_step = 0, updated_at = ?
		WHERE id = ? AND totp_enabled_at IS NULL`, sealed, at.UTC(), id)
}

// EnableTOTP turns the second factor on with the pending secret, recording
// step as used. It reports false when there was no pending secret.
func EnableTOTP(ctx context.Context, q database.Querier, id string, step int64, at time.Time) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE accounts SET totp_enabled_at = ?, totp_last_step = ?, updated_at = ?
		WHERE id = ? AND totp_secret IS NOT NULL AND totp_enabled_at IS NULL`, at.UTC(), step, at.UTC(), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DisableTOTP forgets the secret and the recovery codes.
func DisableTOTP(ctx context.Context, q database.Querier, id string, at time.Time) error {
	if err := execOne(ctx, q, `UPDATE accounts SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = 0, updated_at = ? WHERE id = ?`,
		at.UTC(), id); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `DELETE FROM recovery_codes WHERE account_id = ?`, id)
	return err
}

// UseTOTPStep records step as the last accepted one. It reports false when
// that step or a later one was already used, which is how a replayed code
// is refused even by two servers at once.
func UseTOTPStep(ctx context.Context, q database.Querier, id string, step int64) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE accounts SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, id, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReplaceRecoveryCodes stores the digests of a fresh set of recovery codes
// in place of any earlier set.
func ReplaceRecoveryCodes(ctx context.Context, q database.Querier, accountID string, digests []string, at time.Time) error {
	if _, err := q.Exec(ctx, `DELETE FROM recovery_codes WHERE account_id = ?`, accountID); err != nil {
		return err
	}
	for _, d := range digests {
		if _, err := q.Exec(ctx, `INSERT INTO recovery_codes (account_id, code_hash, created_at) VALUES (?, ?, ?)`,
			accountID, d, at.UTC()); err != nil {
			return err
		}
	}
	return nil
}

// UseRecoveryCode spends the code with digest. It reports false when there
// is no such unused code.
func UseRecoveryCode(ctx context.Context, q database.Querier, accountID, digest string, at time.Time) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE recovery_codes SET used_at = ? WHERE account_id = ? AND code_hash = ? AND used_at IS NULL`,
		at.UTC(), accountID, digest)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RecoveryCodesLeft counts the unused recovery codes.
func RecoveryCodesLeft(ctx context.Context, q database.Querier, accountID string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE account_id = ? AND used_at IS NULL`, accountID).Scan(&n)
	return n, err
}

const sessionColumns = `s.id, s.account_id, s.client, s.created_at, s.last_seen_at, s.expires_at`

func scanSession(row scanner) (account.Session, error) {
	var s account.Session
	if err := row.Scan(&s.ID, &s.AccountID, &s.Client, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt); err != nil {
		return account.Session{}, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return s, nil
}

// CreateSession stores s under the digest of its cookie's token.
func CreateSession(ctx context.Context, q database.Querier, s account.Session, tokenDigest string) error {
	_, err := q.Exec(ctx, `INSERT INTO account_sessions (id, account_id, token_hash, client, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, s.ID, s.AccountID, tokenDigest, s.Client, s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC())
	return err
}

// SessionByDigest returns the session whose token has digest, and its
// account, or database.ErrNotFound. Whether it is still live is the
// caller's question (account.Session.Live).
func SessionByDigest(ctx context.Context, q database.Querier, digest string) (account.Session, account.Account, error) {
	row := q.QueryRow(ctx, `SELECT `+accountColumns+`, `+sessionColumns+`
		FROM account_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?`, digest)
	var s account.Session
	a, err := scanAccount(row, &s.ID, &s.AccountID, &s.Client, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt)
	if err != nil {
		return account.Session{}, account.Account{}, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return s, a, nil
}

// TouchSession records use of a session at now, at most once every
// account.SessionTouchEvery.
func TouchSession(ctx context.Context, q database.Querier, id string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE account_sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`,
		now.UTC(), id, now.Add(-account.SessionTouchEvery).UTC())
	return err
}

// ListSessions returns the account's sessions still live at now, newest
// first.
func ListSessions(ctx context.Context, q database.Querier, accountID string, now time.Time) ([]account.Session, error) {
	rows, err := q.Query(ctx, `SELECT `+sessionColumns+` FROM account_sessions s
		WHERE s.account_id = ? AND s.expires_at > ? AND s.last_seen_at > ? ORDER BY s.created_at DESC, s.id`,
		accountID, now.UTC(), now.Add(-account.SessionIdle).UTC())
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanSession)
}

// DeleteSession ends one of the account's sessions. It reports false when
// the account has no such session.
func DeleteSession(ctx context.Context, q database.Querier, accountID, id string) (bool, error) {
	res, err := q.Exec(ctx, `DELETE FROM account_sessions WHERE account_id = ? AND id = ?`, accountID, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteSessions ends every session of the account except keepID (which
// may be empty) and returns how many ended.
func DeleteSessions(ctx context.Context, q database.Querier, accountID, keepID string) (int64, error) {
	res, err := q.Exec(ctx, `DELETE FROM account_sessions WHERE account_id = ? AND id <> ?`, accountID, keepID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

const apiTokenColumns = `t.id, t.account_id, t.name, t.scopes, t.created_at, t.expires_at, t.last_used_at`

func scanAPIToken(row scanner) (account.APIToken, error) {
	var t account.APIToken
	var scopes string
	var expires, used sql.NullTime
	if err := row.Scan(&t.ID, &t.AccountID, &t.Name, &scopes, &t.CreatedAt, &expires, &used); err != nil {
		return account.APIToken{}, err
	}
	t.Scopes = account.ParseScopes(strings.Fields(scopes))
	t.CreatedAt = t.CreatedAt.UTC()
	if expires.Valid {
		t.ExpiresAt = expires.Time.UTC()
	}
	t.LastUsedAt = nullTime(used)
	return t, nil
}

// CreateAPIToken stores t under the digest of its secret.
func CreateAPIToken(ctx context.Context, q database.Querier, t account.APIToken, digest string) error {
	_, err := q.Exec(ctx, `INSERT INTO api_tokens (id, account_id, name, scopes, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.AccountID, t.Name, account.FormatScopes(t.Scopes), digest, t.CreatedAt.UTC(), t.ExpiresAt.UTC())
	return err
}

// APITokenByDigest returns the token whose secret has digest, and its
// account, or database.ErrNotFound.
func APITokenByDigest(ctx context.Context, q database.Querier, digest string) (account.APIToken, account.Account, error) {
	t, err := scanAPIToken(q.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens t WHERE t.token_hash = ?`, digest))
	if err != nil {
		return account.APIToken{}, account.Account{}, err
	}
	a, err := AccountByID(ctx, q, t.AccountID)
	return t, a, err
}

// TouchAPIToken records use of a token, at most once every
// account.SessionTouchEvery.
func TouchAPIToken(ctx context.Context, q database.Querier, id string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
		now.UTC(), id, now.Add(-account.SessionTouchEvery).UTC())
	return err
}

// ListAPITokens returns the account's tokens, newest first.
func ListAPITokens(ctx context.Context, q database.Querier, accountID string) ([]account.APIToken, error) {
	rows, err := q.Query(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens t WHERE t.account_id = ? ORDER BY t.created_at DESC, t.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.APIToken{}
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteAPIToken revokes one of the account's tokens. It reports false
// when the account has no such token.
func DeleteAPIToken(ctx context.Context, q database.Querier, accountID, id string) (bool, error) {
	res, err := q.Exec(ctx, `DELETE FROM api_tokens WHERE account_id = ? AND id = ?`, accountID, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteAPITokens revokes every token of the account and returns how
// many there were.
func DeleteAPITokens(ctx context.Context, q database.Querier, accountID string) (int64, error) {
	res, err := q.Exec(ctx, `DELETE FROM api_tokens WHERE account_id = ?`, accountID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CreateEmailToken records an e-mailed link by the digest of its token,
// for single use. newEmail is the address a change-of-address link
// confirms, "" otherwise.
func CreateEmailToken(ctx context.Context, q database.Querier, digest, purpose, accountID, newEmail string, at, expires time.Time) error {
	var ne any
	if newEmail != "" {
		ne = newEmail
	}
	_, err := q.Exec(ctx, `INSERT INTO email_tokens (digest, purpose, account_id, new_email, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, digest, purpose, accountID, ne, at.UTC(), expires.UTC())
	return err
}

// UseEmailToken spends the link with digest for purpose and returns whose
// it was and the address it confirms. A link that was never issued, is
// spent, voided or expired gives database.ErrNotFound; so does one issued
// for another account than subject.
func UseEmailToken(ctx context.Context, q database.Querier, digest, purpose, subject string, now time.Time) (string, error) {
	var newEmail sql.NullString
	err := q.QueryRow(ctx, `UPDATE email_tokens SET used_at = ?
		WHERE digest = ? AND purpose = ? AND account_id = ? AND used_at IS NULL AND expires_at > ?
		RETURNING new_email`, now.UTC(), digest, purpose, subject, now.UTC()).Scan(&newEmail)
	if err != nil {
		return "", err
	}
	return newEmail.String, nil
}

// EmailTokenLive reports whether the link with digest for purpose was
// issued to subject and is neither spent nor expired at now, without
// spending it.
func EmailTokenLive(ctx context.Context, q database.Querier, digest, purpose, subject string, now time.Time) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM email_tokens
		WHERE digest = ? AND purpose = ? AND account_id = ? AND used_at IS NULL AND expires_at > ?`,
		digest, purpose, subject, now.UTC()).Scan(&n)
	return n == 1, err
}

// VoidEmailTokens spends every unused link of the account for purpose, so
// that a newer link, or the change it was for, makes older ones useless.
func VoidEmailTokens(ctx context.Context, q database.Querier, accountID, purpose string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE email_tokens SET used_at = ? WHERE account_id = ? AND purpose = ? AND used_at IS NULL`,
		now.UTC(), accountID, purpose)
	return err
}

// CreateSignInChallenge opens the second step of a sign-in.
func CreateSignInChallenge(ctx context.Context, q database.Querier, digest, accountID string, at, expires time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO signin_challenges (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		digest, accountID, at.UTC(), expires.UTC())
	return err
}

// SignInChallenge returns the account whose open challenge has digest, or
// database.ErrNotFound when there is none or it lapsed.
func SignInChallenge(ctx context.Context, q database.Querier, digest string, now time.Time) (string, error) {
	var id string
	err := q.QueryRow(ctx, `SELECT account_id FROM signin_challenges WHERE token_hash = ? AND expires_at > ?`, digest, now.UTC()).Scan(&id)
	return id, err
}

// DeleteSignInChallenge closes a challenge once it is answered.
func DeleteSignInChallenge(ctx context.Context, q database.Querier, digest string) error {
	_, err := q.Exec(ctx, `DELETE FROM signin_challenges WHERE token_hash = ?`, digest)
	return err
}

// Throttle returns the counter under key; a key never seen is a zero
// State.
func Throttle(ctx context.Context, q database.Querier, key string) (ratelimit.State, error) {
	var s ratelimit.State
	var locked sql.NullTime
	err := q.QueryRow(ctx, `SELECT failures, window_start, locked_until FROM auth_throttle WHERE key = ?`, key).
		Scan(&s.Failures, &s.WindowStart, &locked)
	if errors.Is(err, database.ErrNotFound) {
		return ratelimit.State{}, nil
	}
	if err != nil {
		return s, err
	}
	s.WindowStart = s.WindowStart.UTC()
	if locked.Valid {
		s.LockedUntil = locked.Time.UTC()
	}
	return s, nil
}

// TakeAttempt counts one attempt under key by p.Take, before the caller
// checks what the attempt guards, and returns the new state and whether
// the attempt may go ahead. The increment and the read are one statement
// (an upsert that returns the row), so concurrent attempts on one key,
// from any number of server instances, each see the count their own
// attempt made: exactly p.Limit of them go ahead in a window, and a
// concurrent ClearThrottle cannot leave the statement without a row.
func TakeAttempt(ctx context.Context, q database.Querier, key string, p ratelimit.Policy, now time.Time) (ratelimit.State, bool, error) {
	now = now.UTC()
	windowEnded := now.Add(-p.Window)
	lockUntil := now.Add(p.Lockout)
	var lockAtFirst any
	if p.Limit <= 1 {
		lockAtFirst = lockUntil
	}
	// The CASEs are p.Take: a locked key keeps its lockout and gets the
	// refusal mark Limit+1; an ended lockout or window starts over with the
	// inserted values; otherwise the count goes up, and the attempt that
	// reaches Limit locks the key.
	var s ratelimit.State
	var locked sql.NullTime
	err := q.QueryRow(ctx, `INSERT INTO auth_throttle (key, failures, window_start, locked_until) VALUES (?, 1, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
		failures = CASE
			WHEN auth_throttle.locked_until > excluded.window_start THEN ?
			WHEN auth_throttle.locked_until IS NOT NULL OR auth_throttle.window_start <= ? THEN 1
			ELSE auth_throttle.failures + 1 END,
		window_start = CASE
			WHEN auth_throttle.locked_until > excluded.window_start THEN auth_throttle.window_start
			WHEN auth_throttle.locked_until IS NOT NULL OR auth_throttle.window_start <= ? THEN excluded.window_start
			ELSE auth_throttle.window_start END,
		locked_until = CASE
			WHEN auth_throttle.locked_until > excluded.window_start THEN auth_throttle.locked_until
			WHEN auth_throttle.locked_until IS NOT NULL OR auth_throttle.window_start <= ? THEN excluded.locked_until
			WHEN auth_throttle.failures + 1 >= ? THEN ?
			ELSE NULL END
		RETURNING failures, window_start, locked_until`,
		key, now, lockAtFirst, p.Limit+1, windowEnded, windowEnded, windowEnded, p.Limit, lockUntil).
		Scan(&s.Failures, &s.WindowStart, &locked)
	if err != nil {
		return ratelimit.State{}, false, err
	}
	s.WindowStart = s.WindowStart.UTC()
	if locked.Valid {
		s.LockedUntil = locked.Time.UTC()
	}
	return s, s.Failures <= p.Limit, nil
}

// RefundAttempt takes back an attempt TakeAttempt allowed, once it
// succeeded (p.Refund). windowStart is the state's WindowStart that
// TakeAttempt returned: when the counter has started over since, the
// attempt is no longer counted and nothing is taken back.
func RefundAttempt(ctx context.Context, q database.Querier, key string, p ratelimit.Policy, windowStart time.Time) error {
	_, err := q.Exec(ctx, `UPDATE auth_throttle SET
		failures = CASE WHEN failures > ? THEN ? WHEN failures > 0 THEN failures - 1 ELSE 0 END,
		locked_until = NULL
		WHERE key = ? AND window_start = ?`, p.Limit, p.Limit-1, key, windowStart.UTC())
	return err
}

// ClearThrottle forgets the counter under key, after a success.
func ClearThrottle(ctx context.Context, q database.Querier, key string) error {
	_, err := q.Exec(ctx, `DELETE FROM auth_throttle WHERE key = ?`, key)
	return err
}

// execOne runs a statement that must change exactly one row; none gives
// database.ErrNotFound.
func execOne(ctx context.Context, q database.Querier, query string, args ...any) error {
	res, err := q.Exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%w: expected one row, changed %d", database.ErrNotFound, n)
	}
	return nil
}
