package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

// Data-subject requests in account_requests, the codes that verify the
// public form's, and the supplementary statements kept with a member's
// data. The workflow (intake, staff steps and what they set going) is
// the rights service's (internal/service/dsr).

const rqColumns = `id, account_id, kind, state, received_at, due_at, rights, channel, email, details, field, statement,
	extension_reason, decision, updated_at, lift_mail`

func scanRequest(s scanner) (rights.Request, error) {
	var (
		r                                                       rights.Request
		acc, email, details, statement, ext, decision, liftMail sql.NullString
		rs, channel, state                                      string
		updated                                                 sql.NullTime
	)
	if err := s.Scan(&r.ID, &acc, &r.Kind, &state, &r.ReceivedAt, &r.DueAt, &rs, &channel, &email, &details, &r.Field, &statement,
		&ext, &decision, &updated, &liftMail); err != nil {
		return rights.Request{}, err
	}
	if err := json.Unmarshal([]byte(rs), &r.Rights); err != nil {
		return rights.Request{}, fmt.Errorf("request %s: stored rights are malformed", r.ID)
	}
	r.AccountID, r.Email, r.Details, r.Statement = acc.String, email.String, details.String, statement.String
	r.ExtensionReason, r.Decision, r.LiftMail = ext.String, decision.String, liftMail.String
	r.State, r.Channel = rights.RequestState(state), rights.Channel(channel)
	r.ReceivedAt, r.DueAt = r.ReceivedAt.UTC(), r.DueAt.UTC()
	r.UpdatedAt = r.ReceivedAt
	if updated.Valid {
		r.UpdatedAt = updated.Time.UTC()
	}
	return r.Normalise(), nil
}

// InsertRequest records r; codeDigest and codeExpires are the public
// form's code, "" and zero for a request opened at once.
func InsertRequest(ctx context.Context, q database.Querier, r rights.Request, codeDigest string, codeExpires time.Time) error {
	rs, err := json.Marshal(r.Rights)
	if err != nil {
		return err
	}
	var expires any
	if !codeExpires.IsZero() {
		expires = codeExpires.UTC()
	}
	_, err = q.Exec(ctx, `INSERT INTO account_requests (id, account_id, kind, state, received_at, due_at, rights, channel, email, details,
		field, statement, updated_at, code_digest, code_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, orNull(r.AccountID), r.Kind, string(r.State), r.ReceivedAt, r.DueAt, string(rs), string(r.Channel), orNull(r.Email),
		orNull(r.Details), r.Field, orNull(r.Statement), r.UpdatedAt, orNull(codeDigest), expires)
	return err
}

// RequestAddress is where the person behind r is written to: the address
// they gave, or their account's; "" for neither.
func RequestAddress(ctx context.Context, q database.Querier, r rights.Request) (string, error) {
	if r.Email != "" {
		return r.Email, nil
	}
	if r.AccountID == "" {
		return "", nil
	}
	var email string
	err := q.QueryRow(ctx, `SELECT email FROM accounts WHERE id = ?`, r.AccountID).Scan(&email)
	if errors.Is(err, database.ErrNotFound) {
		return "", nil
	}
	return email, err
}

// AccountIDByEmail returns the id of the account with the address, or "".
func AccountIDByEmail(ctx context.Context, q database.Querier, email string) (string, error) {
	if email == "" {
		return "", nil
	}
	var id string
	err := q.QueryRow(ctx, `SELECT id FROM accounts WHERE email = ?`, email).Scan(&id)
	if errors.Is(err, database.ErrNotFound) {
		return "", nil
	}
	return id, err
}

// VerifyingSince counts the public form's requests from email still
// waiting for their code that arrived after since.
func VerifyingSince(ctx context.Context, q database.Querier, email string, since time.Time) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM account_requests WHERE email = ? AND state = ? AND received_at > ?`,
		email, string(rights.StateVerifying), since.UTC()).Scan(&n)
	return n, err
}

// VerifyingCode is a request of the public form waiting for its code,
// with the code's digest and expiry. Its tries are counted in
// auth_throttle (TakeAttempt).
type VerifyingCode struct {
	Request rights.Request
	Digest  string
	Expires *time.Time
}

// VerifyingRequest returns the request id when it waits for its code;
// database.ErrNotFound otherwise.
func VerifyingRequest(ctx context.Context, q database.Querier, id string) (VerifyingCode, error) {
	var (
		v       VerifyingCode
		digest  sql.NullString
		expires sql.NullTime
	)
	row := q.QueryRow(ctx, `SELECT `+rqColumns+`, code_digest, code_expires_at FROM account_requests WHERE id = ? AND state = ?`,
		id, string(rights.StateVerifying))
	r, err := scanRequest(scanFunc(func(dest ...any) error {
		return row.Scan(append(dest, &digest, &expires)...)
	}))
	if err != nil {
		return VerifyingCode{}, err
	}
	v.Request, v.Digest, v.Expires = r, digest.String, nullTime(expires)
	return v, nil
}

// OpenVerifiedRequest records that the public form's request r, verified,
// is now received: its state, account, dates, and no code any more. A
// request no longer waiting for its code (opened by a concurrent try)
// gives database.ErrNotFound.
func OpenVerifiedRequest(ctx context.Context, q database.Querier, r rights.Request, now time.Time) error {
	return execOne(ctx, q, `UPDATE account_requests SET state = ?, account_id = ?, received_at = ?, due_at = ?, updated_at = ?,
		code_digest = NULL, code_expires_at = NULL WHERE id = ? AND state = ?`,
		string(r.State), orNull(r.AccountID), r.ReceivedAt, r.DueAt, now.UTC(), r.ID, string(rights.StateVerifying))
}

// scanFunc adapts a function to the scanner interface.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// RequestOf returns the member's own request; another person's, or an
// unknown id, gives errs.NotFound alike.
func RequestOf(ctx context.Context, q database.Querier, accountID, id string) (rights.Request, error) {
	r, err := scanRequest(q.QueryRow(ctx, `SELECT `+rqColumns+` FROM account_requests WHERE id = ? AND account_id = ? AND state <> ?`,
		id, accountID, string(rights.StateVerifying)))
	if errors.Is(err, database.ErrNotFound) {
		return rights.Request{}, errs.E(errs.NotFound, "there is no such request")
	}
	return r, err
}

// RequestsOf lists the member's requests, newest first.
func RequestsOf(ctx context.Context, q database.Querier, accountID string) ([]rights.Request, error) {
	rows, err := q.Query(ctx, `SELECT `+rqColumns+` FROM account_requests WHERE account_id = ? AND state <> ?
		ORDER BY received_at DESC, id LIMIT 100`, accountID, string(rights.StateVerifying))
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanRequest)
}

// GetRequest returns any request, for staff.
func GetRequest(ctx context.Context, q database.Querier, id string) (rights.Request, error) {
	r, err := scanRequest(q.QueryRow(ctx, `SELECT `+rqColumns+` FROM account_requests WHERE id = ?`, id))
	if errors.Is(err, database.ErrNotFound) {
		return rights.Request{}, errs.E(errs.NotFound, "there is no such request")
	}
	return r, err
}

// RequestQueue lists the requests in state (the open ones when state is
// ""), soonest due first, at most 500, with the number of requests in
// each state.
func RequestQueue(ctx context.Context, q database.Querier, state rights.RequestState) ([]rights.Request, map[rights.RequestState]int, error) {
	where, args := `state IN (?, ?, ?)`, []any{string(rights.StateReceived), string(rights.StateInProgress), string(rights.StateExtended)}
	if state != "" {
		where, args = `state = ?`, []any{string(state)}
	}
	rows, err := q.Query(ctx, `SELECT `+rqColumns+` FROM account_requests WHERE `+where+` ORDER BY due_at, received_at, id LIMIT 500`, args...)
	if err != nil {
		return nil, nil, err
	}
	list, err := collectRows(rows, scanRequest)
	if err != nil {
		return nil, nil, err
	}
	rows, err = q.Query(ctx, `SELECT state, COUNT(*) FROM account_requests GROUP BY state`)
	if err != nil {
		return nil, nil, err
	}
	type count struct {
		state string
		n     int
	}
	counts, err := collectRows(rows, func(s scanner) (count, error) {
		var c count
		return c, s.Scan(&c.state, &c.n)
	})
	if err != nil {
		return nil, nil, err
	}
	out := map[rights.RequestState]int{}
	for _, st := range rights.AllStates {
		out[st] = 0
	}
	for _, c := range counts {
		out[rights.RequestState(c.state)] = c.n
	}
	return list, out, nil
}

// PreviousRequests lists the other requests of the same person (by
// account, or by address, the account's included), newest first, so that
// staff can see repeats when deciding whether one is excessive.
func PreviousRequests(ctx context.Context, q database.Querier, r rights.Request) ([]rights.Request, error) {
	emails := []any{}
	if r.Email != "" {
		emails = append(emails, r.Email)
	}
	if r.AccountID != "" {
		if e, err := RequestAddress(ctx, q, rights.Request{AccountID: r.AccountID}); err != nil {
			return nil, err
		} else if e != "" {
			emails = append(emails, e)
		}
	}
	if r.AccountID == "" && len(emails) == 0 {
		return nil, nil
	}
	cond, args := []string{}, []any{r.ID, string(rights.StateVerifying)}
	if r.AccountID != "" {
		cond = append(cond, `account_id = ?`)
		args = append(args, r.AccountID)
	}
	if len(emails) > 0 {
		cond = append(cond, `email IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(emails)), ", ")+`)`)
		args = append(args, emails...)
	}
	rows, err := q.Query(ctx, `SELECT `+rqColumns+` FROM account_requests WHERE id <> ? AND state <> ? AND (`+strings.Join(cond, " OR ")+`)
		ORDER BY received_at DESC, id LIMIT 50`, args...)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanRequest)
}

// RequestHistory is the audit trail of a request, oldest first.
func RequestHistory(ctx context.Context, q database.Querier, id string) ([]audit.Record, error) {
	list, err := AuditForSubject(ctx, q, id, 0, 500)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list, nil
}

// UpdateRequestStep records the step that took the request from cur to
// next; a request no longer in cur's state is errs.Conflict.
func UpdateRequestStep(ctx context.Context, q database.Querier, cur, next rights.Request, now time.Time) error {
	res, err := q.Exec(ctx, `UPDATE account_requests SET state = ?, due_at = ?, extension_reason = ?, decision = ?, updated_at = ?
		WHERE id = ? AND state = ?`,
		string(next.State), next.DueAt, orNull(next.ExtensionReason), orNull(next.Decision), now.UTC(), cur.ID, string(cur.State))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		if err == nil {
			err = errs.E(errs.Conflict, "the request changed meanwhile; reload it")
		}
		return err
	}
	return nil
}

// InsertStatement keeps the supplementary statement of request r with
// the data it completes (r.Field, "table.column").
func InsertStatement(ctx context.Context, q database.Querier, r rights.Request, now time.Time) error {
	table, column, _ := strings.Cut(r.Field, ".")
	_, err := q.Exec(ctx, `INSERT INTO supplementary_statements (id, person_id, table_name, column_name, statement, request_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, newRightsID("sst_"), r.AccountID, table, column, r.Statement, r.ID, now.UTC())
	return err
}

// SetLiftMail records the message announcing that the request's
// restriction is about to be lifted; the lift waits for it to be sent.
func SetLiftMail(ctx context.Context, q database.Querier, id, mailID string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE account_requests SET lift_mail = ?, updated_at = ? WHERE id = ?`, mailID, now.UTC(), id)
	return err
}

// NoticedLift is a restriction whose announcement has been sent.
type NoticedLift struct{ RequestID, AccountID, MailID string }

// NoticedLifts lists, at most 100, the restrictions whose announcement
// has been sent. A message that could not be delivered is not among
// them, so its restriction stays in force.
func NoticedLifts(ctx context.Context, q database.Querier) ([]NoticedLift, error) {
	rows, err := q.Query(ctx, `SELECT r.id, r.account_id, r.lift_mail FROM account_requests r JOIN mail_outbox m ON m.id = r.lift_mail
		WHERE m.status = 'sent' AND r.account_id IS NOT NULL ORDER BY r.id LIMIT 100`)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (NoticedLift, error) {
		var l NoticedLift
		return l, s.Scan(&l.RequestID, &l.AccountID, &l.MailID)
	})
}

// LiftNoticed lifts the restriction of l in q's transaction, audited as
// the system's act; false when another worker lifted it first.
func (s *Store) LiftNoticed(ctx context.Context, q database.Querier, l NoticedLift, now time.Time) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE account_requests SET lift_mail = NULL, updated_at = ? WHERE id = ? AND lift_mail = ?`, now.UTC(), l.RequestID, l.MailID)
	if err != nil {
		return false, err
	}
	if k, err := res.RowsAffected(); err != nil || k != 1 {
		return false, err
	}
	return true, SetRestricted(ctx, q, s.secret, audit.Party{Kind: "system"}, l.AccountID, false, now)
}

// unverifiedKeep is how long a request from the public form whose code
// was never typed is kept after the code expired.
const unverifiedKeep = 24 * time.Hour

// PurgeUnverifiedRequests deletes the public form's requests whose code
// expired more than a day ago without being typed: they never became
// requests, and they hold an address nobody proved.
func PurgeUnverifiedRequests(ctx context.Context, db *database.DB, now time.Time) (int64, error) {
	res, err := db.Exec(ctx, `DELETE FROM account_requests WHERE state = ? AND code_expires_at < ?`,
		string(rights.StateVerifying), now.UTC().Add(-unverifiedKeep))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Statement is a supplementary statement kept with a member's data.
type Statement struct {
	ID        string    `json:"id"`
	Table     string    `json:"table"`
	Column    string    `json:"column"`
	Statement string    `json:"statement"`
	RequestID string    `json:"request_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// StatementsOf lists the member's supplementary statements, newest first.
func StatementsOf(ctx context.Context, q database.Querier, personID string) ([]Statement, error) {
	rows, err := q.Query(ctx, `SELECT id, table_name, column_name, statement, request_id, created_at FROM supplementary_statements
		WHERE person_id = ? ORDER BY created_at DESC, id`, personID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (Statement, error) {
		var (
			st  Statement
			req sql.NullString
		)
		err := s.Scan(&st.ID, &st.Table, &st.Column, &st.Statement, &req, &st.CreatedAt)
		st.RequestID, st.CreatedAt = req.String, st.CreatedAt.UTC()
		return st, err
	})
}
