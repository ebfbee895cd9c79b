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
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

// Data-subject requests in account_requests: intake (by a member, by the
// public form once its e-mailed code is typed, or recorded by staff), the
// steps staff take, and what each step sets going: exports, the erasure
// engine, the restriction flag and supplementary statements. Every step
// is audited, with the request as its subject, and the person is e-mailed
// through the outbox, both in the step's transaction.

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

func requestParty(id string) audit.Party { return audit.Party{Kind: "request", ID: id} }

func rightsDetail(r rights.Request) string {
	parts := make([]string, 0, len(r.Rights))
	for _, x := range r.Rights {
		parts = append(parts, string(x))
	}
	return strings.Join(parts, ",")
}

func insertRequest(ctx context.Context, q database.Querier, r rights.Request, codeDigest string, codeExpires time.Time) error {
	rs, err := json.Marshal(r.Rights)
	if err != nil {
		return err
	}
	var expires any
	if !codeExpires.IsZero() {
		expires = codeExpires.UTC()
	}
	_, err = q.Exec(ctx, `INSERT INTO account_requests (id, account_id, kind, state, received_at, due_at, rights, channel, email, details,
		field, statement, updated_at, code_digest, code_expires_at, code_attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
		r.ID, orNull(r.AccountID), r.Kind, string(r.State), r.ReceivedAt, r.DueAt, string(rs), string(r.Channel), orNull(r.Email),
		orNull(r.Details), r.Field, orNull(r.Statement), r.UpdatedAt, orNull(codeDigest), expires)
	return err
}

// requestAddress is where the person behind r is written to: the address
// they gave, or their account's.
func requestAddress(ctx context.Context, q database.Querier, r rights.Request) (string, error) {
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

// mailRequestStep queues the message telling the person about the step;
// without any address (a letter staff recorded with none) nothing is
// queued. It returns the outbox id, or "".
func mailRequestStep(ctx context.Context, q database.Querier, r rights.Request, a rights.RequestAction, now time.Time) (string, error) {
	to, err := requestAddress(ctx, q, r)
	if err != nil || to == "" {
		return "", err
	}
	subject, text := r.Notice(a)
	return EnqueueMail(ctx, q, now, mail.Message{
		PersonID: r.AccountID, Category: mail.Transactional, Template: "rights.request_" + string(a),
		To: to, Subject: subject, Text: text,
	})
}

// accountByEmail returns the id of the account with the address, or "".
func accountByEmail(ctx context.Context, q database.Querier, email string) (string, error) {
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

// FileRequest opens a request at once: a signed-in member's (accountID
// set, channel rights.ChannelAccount) or one staff recorded from an
// e-mail or a letter (actor is the staff member; the request is linked to
// the account that has the address, if any). in must be cleaned
// (rights.Intake.Clean). The due date runs from in.ReceivedAt, or now.
// The receipt is audited and acknowledged to the person in the same
// transaction; it returns the request and the outbox id to dispatch.
func FileRequest(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, accountID string, in rights.Intake, now time.Time) (rights.Request, string, error) {
	if in.Channel == rights.ChannelWebForm {
		return rights.Request{}, "", errors.New("store: requests from the public form are opened by VerifyRequest")
	}
	if in.Channel == rights.ChannelAccount && accountID == "" {
		return rights.Request{}, "", errors.New("store: a member's request needs their account id")
	}
	now = now.UTC()
	received := now
	if !in.ReceivedAt.IsZero() {
		received = in.ReceivedAt.UTC()
	}
	r := rights.Request{
		ID: rights.NewRequestID(), AccountID: accountID, Email: in.Email, Kind: rights.KindRights, Rights: in.Rights,
		Channel: in.Channel, State: rights.StateReceived, Details: in.Details, Field: in.Field, Statement: in.Statement,
		ReceivedAt: received, DueAt: rights.DueAfterExtension(received, 0), UpdatedAt: now,
	}
	var mailID string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		if r.AccountID == "" {
			id, err := accountByEmail(ctx, tx, r.Email)
			if err != nil {
				return err
			}
			r.AccountID = id
		}
		if err := insertRequest(ctx, tx, r, "", time.Time{}); err != nil {
			return fmt.Errorf("record the request: %w", err)
		}
		var err error
		if mailID, err = mailRequestStep(ctx, tx, r, rights.ActVerify, now); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "request.receive", Subject: requestParty(r.ID), Purpose: "legal-compliance",
			Detail: map[string]string{"rights": rightsDetail(r), "channel": string(r.Channel), "due_at": r.DueAt.Format(time.RFC3339)},
		})
	})
	if err != nil {
		return rights.Request{}, "", err
	}
	return r, mailID, nil
}

// OpenVerification records a request from the public form in state
// verifying, with the digest of a fresh code that is e-mailed to the
// address given. It answers the same way whoever the address belongs to;
// past rights.VerifyingPerAddress unverified requests within
// rights.VerifyingWindow it records and sends nothing, and still returns
// a fresh id, so that the form can neither flood a mailbox nor tell
// anything apart. It returns the id the code is typed against and the
// outbox id to dispatch ("" when nothing was sent).
func OpenVerification(ctx context.Context, db *database.DB, secret []byte, in rights.Intake, now time.Time) (string, string, error) {
	if in.Channel != rights.ChannelWebForm {
		return "", "", errors.New("store: only the public form's requests are verified by code")
	}
	now = now.UTC()
	r := rights.Request{
		ID: rights.NewRequestID(), Email: in.Email, Kind: rights.KindRights, Rights: in.Rights, Channel: in.Channel,
		State: rights.StateVerifying, Details: in.Details, Field: in.Field, Statement: in.Statement,
		ReceivedAt: now, DueAt: rights.DueAfterExtension(now, 0), UpdatedAt: now,
	}
	var mailID string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		var pending int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM account_requests WHERE email = ? AND state = ? AND received_at > ?`,
			r.Email, string(rights.StateVerifying), now.Add(-rights.VerifyingWindow)).Scan(&pending); err != nil {
			return err
		}
		if pending >= rights.VerifyingPerAddress {
			return nil
		}
		code := rights.NewCode()
		if err := insertRequest(ctx, tx, r, rights.CodeDigest(secret, r.ID, code), now.Add(rights.CodeLife)); err != nil {
			return fmt.Errorf("record the request: %w", err)
		}
		subject, text := rights.CodeNotice(code)
		var err error
		mailID, err = EnqueueMail(ctx, tx, now, mail.Message{
			Category: mail.Transactional, Template: "rights.request_code", To: r.Email, Subject: subject, Text: text,
		})
		return err
	})
	if err != nil {
		return "", "", err
	}
	return r.ID, mailID, nil
}

// errWrongCode is the one answer to every code that does not open a
// request: wrong, expired, tried too often, or for no such request.
func errWrongCode() error {
	return &errs.Error{Code: errs.Invalid, Message: "this code does not work",
		Fields: map[string]string{"code": "is wrong or has expired; start again from the form for a new one"}}
}

// VerifyRequest opens the public form's request id when code is its code,
// typed within rights.CodeLife and among the first rights.CodeAttempts
// tries; every wrong try is counted, in its own committed transaction.
// The request is then received, due one month from now, linked to the
// account that has the address, audited and acknowledged by e-mail. Any
// failure gives the same errs.Invalid. It returns the request and the
// outbox id to dispatch.
func VerifyRequest(ctx context.Context, db *database.DB, secret []byte, id, code string, now time.Time) (rights.Request, string, error) {
	now = now.UTC()
	var (
		r      rights.Request
		mailID string
		wrong  bool
	)
	err := db.InTx(ctx, func(tx *database.Tx) error {
		var (
			digest   sql.NullString
			expires  sql.NullTime
			attempts int
		)
		row := tx.QueryRow(ctx, `SELECT `+rqColumns+`, code_digest, code_expires_at, code_attempts FROM account_requests WHERE id = ? AND state = ?`,
			id, string(rights.StateVerifying))
		var err error
		r, err = scanRequest(scanFunc(func(dest ...any) error {
			return row.Scan(append(dest, &digest, &expires, &attempts)...)
		}))
		if errors.Is(err, database.ErrNotFound) {
			wrong = true
			return nil
		}
		if err != nil {
			return err
		}
		if attempts >= rights.CodeAttempts || !digest.Valid || !expires.Valid || !now.Before(expires.Time) {
			wrong = true
			return nil
		}
		if !rights.CodeMatches(secret, r.ID, code, digest.String) {
			wrong = true
			_, err := tx.Exec(ctx, `UPDATE account_requests SET code_attempts = code_attempts + 1 WHERE id = ?`, r.ID)
			return err
		}
		if r, err = r.Apply(rights.RequestStep{Action: rights.ActVerify}, now); err != nil {
			return err
		}
		if r.AccountID, err = accountByEmail(ctx, tx, r.Email); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE account_requests SET state = ?, account_id = ?, received_at = ?, due_at = ?, updated_at = ?,
			code_digest = NULL, code_expires_at = NULL WHERE id = ? AND state = ?`,
			string(r.State), orNull(r.AccountID), r.ReceivedAt, r.DueAt, now, r.ID, string(rights.StateVerifying)); err != nil {
			return err
		}
		if mailID, err = mailRequestStep(ctx, tx, r, rights.ActVerify, now); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: audit.Party{Kind: "anonymous"}, Action: "request.receive", Subject: requestParty(r.ID), Purpose: "legal-compliance",
			Detail: map[string]string{"rights": rightsDetail(r), "channel": string(r.Channel), "due_at": r.DueAt.Format(time.RFC3339)},
		})
	})
	if err != nil {
		return rights.Request{}, "", err
	}
	if wrong {
		return rights.Request{}, "", errWrongCode()
	}
	return r, mailID, nil
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
		if e, err := requestAddress(ctx, q, rights.Request{AccountID: r.AccountID}); err != nil {
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

// Advanced is what a step set going, for the caller to start after the
// commit.
type Advanced struct {
	Request rights.Request
	// MailID is the message telling the person; "" when they have no address.
	MailID string
	// Exports are the exports started for access and portability.
	Exports []string
	// ErasureRun is the erasure started, "" when none.
	ErasureRun string
	// NoticeMails are the Art. 19 notices queued for the recipients of
	// the person's data, to dispatch.
	NoticeMails []string
}

// AdvanceRequest takes a staff step on a request (rights.Request.Apply
// says which are allowed) and sets going what the request asks for:
//
//   - start: an export per copy asked for (store.RequestExport, which
//     returns one already being built), the restriction flag, and the
//     erasure, unless the request also asks for a copy, which the
//     erasure would destroy: then the erasure starts on completion;
//   - complete: the supplementary statement, kept with the data it
//     completes, and a deferred erasure.
//
// A restriction that comes into force and a completed rectification are
// notified to each recipient of the person's data (Art. 19 GDPR) in the
// same transaction; an erasure notifies them when it starts.
//
// Exports and restriction need the person's account; for a person
// without one, staff send what is asked by other means. The step is
// audited and the person e-mailed in the same transaction; the erasure
// engine completes a request whose erasure it finishes.
func AdvanceRequest(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, id string, step rights.RequestStep, now time.Time) (Advanced, error) {
	now = now.UTC()
	cur, err := GetRequest(ctx, db, id)
	if err != nil {
		return Advanced{}, err
	}
	next, err := cur.Apply(step, now)
	if err != nil {
		return Advanced{}, err
	}
	var out Advanced
	if step.Action == rights.ActStart && cur.AccountID != "" {
		// Outside the step's transaction: RequestExport opens its own, and
		// gives the same export back if the step has to be taken again.
		for _, kind := range []rights.Right{rights.RightAccess, rights.RightPortability} {
			if !cur.Has(kind) {
				continue
			}
			x, _, err := RequestExport(ctx, db, secret, cur.AccountID, string(kind), now)
			if err != nil {
				return Advanced{}, err
			}
			out.Exports = append(out.Exports, x.ID)
		}
	}
	err = db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE account_requests SET state = ?, due_at = ?, extension_reason = ?, decision = ?, updated_at = ?
			WHERE id = ? AND state = ?`,
			string(next.State), next.DueAt, orNull(next.ExtensionReason), orNull(next.Decision), now, id, string(cur.State))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err == nil {
				err = errs.E(errs.Conflict, "the request changed meanwhile; reload it")
			}
			return err
		}
		erase := (step.Action == rights.ActStart && cur.Has(rights.RightErasure) && !cur.WantsCopy()) ||
			(step.Action == rights.ActComplete && cur.Has(rights.RightErasure) && cur.WantsCopy())
		if step.Action == rights.ActStart && cur.Has(rights.RightRestriction) && cur.AccountID != "" {
			ids, err := restrictAndNotify(ctx, tx, secret, actor, cur.AccountID, true, now)
			if err != nil {
				return err
			}
			out.NoticeMails = append(out.NoticeMails, ids...)
		}
		if step.Action == rights.ActComplete && cur.Has(rights.RightRectification) {
			p := rights.Person{AccountID: cur.AccountID}
			if cur.Email != "" {
				p.Emails = []string{cur.Email}
			}
			if p.AccountID != "" || len(p.Emails) > 0 {
				ids, err := NotifyRecipients(ctx, tx, secret, p, rights.ChangeRectification, now)
				if err != nil {
					return fmt.Errorf("notify the recipients: %w", err)
				}
				out.NoticeMails = append(out.NoticeMails, ids...)
			}
		}
		if step.Action == rights.ActComplete && cur.Statement != "" && cur.Field != "" && cur.AccountID != "" {
			table, column, _ := strings.Cut(cur.Field, ".")
			if _, err := tx.Exec(ctx, `INSERT INTO supplementary_statements (id, person_id, table_name, column_name, statement, request_id, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, newRightsID("sst_"), cur.AccountID, table, column, cur.Statement, cur.ID, now); err != nil {
				return err
			}
		}
		// The message goes out before the erasure can clear the address.
		if out.MailID, err = mailRequestStep(ctx, tx, next, step.Action, now); err != nil {
			return err
		}
		detail := map[string]string{"from": string(cur.State), "to": string(next.State), "due_at": next.DueAt.Format(time.RFC3339)}
		if len(out.Exports) > 0 {
			detail["exports"] = strings.Join(out.Exports, ",")
		}
		if erase {
			p := rights.Person{AccountID: cur.AccountID}
			if cur.Email != "" {
				p.Emails = []string{cur.Email}
			}
			if out.ErasureRun, err = startErasure(ctx, tx, secret, p, rights.ReasonRequest, cur.ID, now); err != nil {
				return err
			}
			detail["erasure_run"] = out.ErasureRun
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "request." + string(step.Action), Subject: requestParty(id), Purpose: "legal-compliance", Detail: detail,
		})
	})
	if err != nil {
		return Advanced{}, err
	}
	out.Request = next
	return out, nil
}

// NoticeRestrictionLift tells the person behind a request for restriction
// that the restriction is about to be lifted. The lift itself waits for
// the message to be sent (LiftNoticedRestrictions), so nobody loses the
// restriction without having been told first. It returns the outbox id to
// dispatch.
func NoticeRestrictionLift(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, id string, now time.Time) (string, error) {
	now = now.UTC()
	var mailID string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		r, err := GetRequest(ctx, tx, id)
		if err != nil {
			return err
		}
		if !r.Has(rights.RightRestriction) || r.AccountID == "" {
			return errs.E(errs.Conflict, "this request restricted no account")
		}
		if r.LiftMail != "" {
			return errs.E(errs.Conflict, "the person has already been told; the restriction is lifted once the message is sent")
		}
		on, err := Restricted(ctx, tx, r.AccountID)
		if err != nil {
			return err
		}
		if !on {
			return errs.E(errs.Conflict, "the restriction is not in force")
		}
		to, err := requestAddress(ctx, tx, r)
		if err != nil {
			return err
		}
		if to == "" {
			return errs.E(errs.Conflict, "the person has no address to be told at")
		}
		subject, text := r.LiftNotice()
		if mailID, err = EnqueueMail(ctx, tx, now, mail.Message{
			PersonID: r.AccountID, Category: mail.Transactional, Template: "rights.restriction_lift", To: to, Subject: subject, Text: text,
		}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE account_requests SET lift_mail = ?, updated_at = ? WHERE id = ?`, mailID, now, id); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "request.restriction_lift_notice", Subject: requestParty(id), Purpose: "legal-compliance",
			Detail: map[string]string{"message": mailID},
		})
	})
	return mailID, err
}

// LiftNoticedRestrictions lifts every restriction whose announcement has
// been sent, each in one transaction with its audit entry, and returns
// how many it lifted. A message that could not be delivered keeps the
// restriction in force.
func LiftNoticedRestrictions(ctx context.Context, db *database.DB, secret []byte, now time.Time) (int, error) {
	rows, err := db.Query(ctx, `SELECT r.id, r.account_id, r.lift_mail FROM account_requests r JOIN mail_outbox m ON m.id = r.lift_mail
		WHERE m.status = 'sent' AND r.account_id IS NOT NULL ORDER BY r.id LIMIT 100`)
	if err != nil {
		return 0, err
	}
	type lift struct{ id, account, mail string }
	lifts, err := collectRows(rows, func(s scanner) (lift, error) {
		var l lift
		return l, s.Scan(&l.id, &l.account, &l.mail)
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range lifts {
		err := db.InTx(ctx, func(tx *database.Tx) error {
			res, err := tx.Exec(ctx, `UPDATE account_requests SET lift_mail = NULL, updated_at = ? WHERE id = ? AND lift_mail = ?`, now.UTC(), l.id, l.mail)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil || k != 1 {
				return err
			}
			if err := SetRestricted(ctx, tx, secret, audit.Party{Kind: "system"}, l.account, false, now); err != nil {
				return err
			}
			n++
			return AppendAudit(ctx, tx, secret, audit.Entry{
				At: now, Actor: audit.Party{Kind: "system"}, Action: "request.restriction_lifted", Subject: requestParty(l.id), Purpose: "legal-compliance",
			})
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
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
