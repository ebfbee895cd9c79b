package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/mail"
)

const outboxColumns = `id, created_at, person_id, about_id, category, template, to_address, subject, body_text, body_html,
	headers, status, attempts, next_attempt_at, last_error, sent_at, attachments, staff_subject, staff_text`

// EnqueueMail writes m to the outbox and returns its id. Call it with the
// transaction that makes the change the message is about, so that the
// message exists exactly when the change commits; after the commit, call
// mail.Service.Dispatch with the id (or leave it to the sweep, which runs
// every minute).
func EnqueueMail(ctx context.Context, q database.Querier, now time.Time, m mail.Message) (string, error) {
	if err := m.Validate(); err != nil {
		return "", err
	}
	headers := m.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	hj, err := json.Marshal(headers)
	if err != nil {
		return "", err
	}
	attachments := "[]"
	if len(m.Attachments) > 0 {
		aj, err := json.Marshal(m.Attachments)
		if err != nil {
			return "", err
		}
		attachments = string(aj)
	}
	id, err := newOutboxID()
	if err != nil {
		return "", err
	}
	now = now.UTC()
	// The staff copy is made now, while the composer's list of secrets is
	// at hand; the list itself is not stored.
	staffCopy := m.StaffCopy()
	_, err = q.Exec(ctx, `INSERT INTO mail_outbox (id, created_at, person_id, about_id, category, template, to_address, subject,
		body_text, body_html, headers, status, attempts, next_attempt_at, last_error, attachments, staff_subject, staff_text)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', ?, ?, ?)`,
		id, now, outboxNull(m.PersonID), outboxNull(m.AboutID), string(m.Category), m.Template, m.To, m.Subject,
		m.Text, m.HTML, string(hj), now, attachments, staffCopy.Subject, staffCopy.Text)
	if err != nil {
		return "", fmt.Errorf("enqueue mail: %w", err)
	}
	return id, nil
}

// MailOfPerson returns every outbox message linked to personID, newest
// first, for the person's data export.
func MailOfPerson(ctx context.Context, q database.Querier, personID string) ([]mail.Record, error) {
	return ListOutbox(ctx, q, mail.Filter{PersonID: personID, Limit: -1})
}

// Outbox implements mail.Outbox on the database.
type Outbox struct{ db *database.DB }

// NewOutbox returns the outbox on db.
func NewOutbox(db *database.DB) *Outbox { return &Outbox{db: db} }

var _ mail.Outbox = (*Outbox)(nil)

// Claim counts an attempt and pushes the next one to leaseUntil in one
// conditional UPDATE. Only one of several concurrent claimers can match
// "pending and due": PostgreSQL re-checks the condition after waiting for
// the row lock, and SQLite runs one writer at a time.
func (o *Outbox) Claim(ctx context.Context, id string, now, leaseUntil time.Time) (mail.Record, bool, error) {
	var (
		rec mail.Record
		ok  bool
	)
	err := o.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = ?
			WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?`, leaseUntil.UTC(), id, now.UTC())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n != 1 {
			return nil // not pending, not due, or claimed by another worker
		}
		rec, err = GetOutbox(ctx, tx, id)
		ok = err == nil
		return err
	})
	if err != nil {
		return mail.Record{}, false, fmt.Errorf("claim mail: %w", err)
	}
	return rec, ok, nil
}

// MarkSent records the delivery of the attempt the claim returned.
func (o *Outbox) MarkSent(ctx context.Context, id string, attempt int, at time.Time) error {
	return o.settle(ctx, `UPDATE mail_outbox SET status = 'sent', sent_at = ?, last_error = ''
		WHERE id = ? AND status = 'pending' AND attempts = ?`, at.UTC(), id, attempt)
}

// Reschedule records a failed attempt and when to try again.
func (o *Outbox) Reschedule(ctx context.Context, id string, attempt int, retryAt time.Time, lastError string) error {
	return o.settle(ctx, `UPDATE mail_outbox SET next_attempt_at = ?, last_error = ?
		WHERE id = ? AND status = 'pending' AND attempts = ?`, retryAt.UTC(), lastError, id, attempt)
}

// Fail records the last failed attempt.
func (o *Outbox) Fail(ctx context.Context, id string, attempt int, lastError string) error {
	return o.settle(ctx, `UPDATE mail_outbox SET status = 'failed', last_error = ?
		WHERE id = ? AND status = 'pending' AND attempts = ?`, lastError, id, attempt)
}

// settle runs an outcome update fenced by the attempt count, so a worker
// whose lease ran out cannot overwrite the outcome of the one after it.
func (o *Outbox) settle(ctx context.Context, query string, args ...any) error {
	res, err := o.db.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("record mail outcome: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return mail.ErrLeaseLost
	}
	return nil
}

// Due lists pending messages due at now, the longest waiting first.
func (o *Outbox) Due(ctx context.Context, now time.Time, limit int) ([]mail.Due, error) {
	rows, err := o.db.Query(ctx, `SELECT id, attempts FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id LIMIT ?`, now.UTC(), limit)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (mail.Due, error) {
		var d mail.Due
		err := s.Scan(&d.ID, &d.Attempts)
		return d, err
	})
}

// List returns messages matching f, newest first.
func (o *Outbox) List(ctx context.Context, f mail.Filter) ([]mail.Record, error) {
	return ListOutbox(ctx, o.db, f)
}

// Get returns one message.
func (o *Outbox) Get(ctx context.Context, id string) (mail.Record, error) {
	return GetOutbox(ctx, o.db, id)
}

// Requeue makes a failed message pending again.
func (o *Outbox) Requeue(ctx context.Context, id string, now time.Time) (mail.Record, error) {
	return RequeueOutbox(ctx, o.db, id, now)
}

// RequeueOutbox makes a failed message pending again, with a fresh count
// of attempts, and returns it; any other status is errs.Conflict.
func RequeueOutbox(ctx context.Context, q database.Querier, id string, now time.Time) (mail.Record, error) {
	var rec mail.Record
	err := inTx(ctx, q, func(tx database.Querier) error {
		cur, err := GetOutbox(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Status != mail.Failed {
			return errs.E(errs.Conflict, "only a failed message can be retried; this one is %s", cur.Status)
		}
		if _, err := tx.Exec(ctx, `UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, last_error = ''
			WHERE id = ? AND status = 'failed'`, now.UTC(), id); err != nil {
			return err
		}
		rec, err = GetOutbox(ctx, tx, id)
		return err
	})
	return rec, err
}

// GetOutbox returns one message of the outbox; an unknown id is
// errs.NotFound.
func GetOutbox(ctx context.Context, q database.Querier, id string) (mail.Record, error) {
	rec, err := scanOutbox(q.QueryRow(ctx, `SELECT `+outboxColumns+` FROM mail_outbox WHERE id = ?`, id))
	if errors.Is(err, database.ErrNotFound) {
		return mail.Record{}, errs.E(errs.NotFound, "no such message in the outbox")
	}
	return rec, err
}

// ListOutbox lists the messages matching f, newest first; a zero limit
// means mail.DefaultListLimit, a negative one no limit.
func ListOutbox(ctx context.Context, q database.Querier, f mail.Filter) ([]mail.Record, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.PersonID != "" {
		where = append(where, "person_id = ?")
		args = append(args, f.PersonID)
	}
	query := `SELECT ` + outboxColumns + ` FROM mail_outbox`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at DESC, id DESC"
	if f.Limit >= 0 {
		limit := f.Limit
		if limit == 0 {
			limit = mail.DefaultListLimit
		}
		query += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanOutbox)
}

func scanOutbox(s interface{ Scan(...any) error }) (mail.Record, error) {
	var (
		r        mail.Record
		person   sql.NullString
		about    sql.NullString
		category string
		status   string
		headers  string
		sentAt   sql.NullTime
		files    string
	)
	err := s.Scan(&r.ID, &r.CreatedAt, &person, &about, &category, &r.Template, &r.To, &r.Subject, &r.Text, &r.HTML,
		&headers, &status, &r.Attempts, &r.NextAttemptAt, &r.LastError, &sentAt, &files, &r.Staff.Subject, &r.Staff.Text)
	if err != nil {
		return mail.Record{}, err
	}
	r.PersonID, r.AboutID = person.String, about.String
	r.Category = mail.Category(category)
	r.Status = mail.Status(status)
	r.CreatedAt = r.CreatedAt.UTC()
	r.NextAttemptAt = r.NextAttemptAt.UTC()
	if sentAt.Valid {
		t := sentAt.Time.UTC()
		r.SentAt = &t
	}
	if headers != "" && headers != "{}" {
		if err := json.Unmarshal([]byte(headers), &r.Headers); err != nil {
			return mail.Record{}, fmt.Errorf("mail %s: headers: %w", r.ID, err)
		}
	}
	if files != "" && files != "[]" {
		if err := json.Unmarshal([]byte(files), &r.Attachments); err != nil {
			return mail.Record{}, fmt.Errorf("mail %s: attachments: %w", r.ID, err)
		}
	}
	return r, nil
}

func outboxNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// newOutboxID returns a random id; it also becomes the local part of the
// Message-ID, so it must be unguessable and carry nothing about the person.
func newOutboxID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "mail_" + hex.EncodeToString(b[:]), nil
}
