package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// This file holds the consent ledger and the restriction flag. The ledger
// is append-only: this file has an INSERT into consent_records and no
// other statement that writes to it. A change of mind, a withdrawal or
// the carrying over of a visitor's choices at sign-in is a new row. Only
// the generic erasure and retention of the data map remove rows, when the
// evidence's retention period is over.

const consentColumns = `id, subject_kind, subject_id, notice_id, notice_version, notice_hash, purposes, legal_basis,
	method, at, state, ip, user_agent, gpc, linked_from`

// AppendConsent validates r and appends it to the ledger. A record that
// fails validation is refused with an errs.Invalid error naming the
// fields, and nothing is written.
func AppendConsent(ctx context.Context, q database.Querier, r consent.Record) error {
	r.At = r.At.UTC().Truncate(time.Microsecond)
	if err := r.Validate(); err != nil {
		return err
	}
	purposes, err := json.Marshal(r.Purposes)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO consent_records (`+consentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.SubjectKind, r.SubjectID, r.NoticeID, r.NoticeVersion, r.NoticeHash, string(purposes), string(r.Basis),
		string(r.Method), r.At, string(r.State), orNull(r.IP), orNull(r.UserAgent), r.GPC, orNull(r.LinkedFrom))
	if err != nil {
		return fmt.Errorf("append a consent record: %w", err)
	}
	return nil
}

// ConsentHistory returns every record of a subject in the order the
// choices were made: by time, then by the order they were written, so a
// visitor's choice carried over at sign-in takes its place at the moment
// it was made, not at the sign-in.
func ConsentHistory(ctx context.Context, q database.Querier, subjectKind, subjectID string) ([]consent.Record, error) {
	rows, err := q.Query(ctx, `SELECT `+consentColumns+` FROM consent_records
		WHERE subject_kind = ? AND subject_id = ? ORDER BY at, seq`, subjectKind, subjectID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanConsent)
}

// CurrentConsents returns the latest record per purpose for a subject. A
// record about several purposes stands for each of them until a later
// record names that purpose.
func CurrentConsents(ctx context.Context, q database.Querier, subjectKind, subjectID string) (map[string]consent.Record, error) {
	hist, err := ConsentHistory(ctx, q, subjectKind, subjectID)
	if err != nil {
		return nil, err
	}
	out := map[string]consent.Record{}
	for _, r := range hist {
		for _, p := range r.Purposes {
			out[p] = r
		}
	}
	return out, nil
}

// HasGPCRecord reports whether the subject's refusal by Global Privacy
// Control under this notice version is already in the ledger, so that
// the signal is recorded once per notice version, not on every request.
func HasGPCRecord(ctx context.Context, q database.Querier, subjectKind, subjectID, noticeID, noticeVersion string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM consent_records WHERE subject_kind = ? AND subject_id = ?
		AND method = 'gpc' AND notice_id = ? AND notice_version = ?`, subjectKind, subjectID, noticeID, noticeVersion).Scan(&n)
	return n > 0, err
}

// LinkVisitorConsents carries a visitor's choices over to the account the
// visitor signed in to: each visitor record not yet carried over to this
// account gets a member record with the same content, its own id, the
// time the choice was made and linked_from pointing back. The visitor's
// records stay as they were. Call it in the sign-in transaction.
func LinkVisitorConsents(ctx context.Context, q database.Querier, visitorID, accountID string, now time.Time) error {
	if visitorID == "" || accountID == "" {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT `+consentColumns+` FROM consent_records v
		WHERE v.subject_kind = 'visitor' AND v.subject_id = ?
		AND NOT EXISTS (SELECT 1 FROM consent_records m WHERE m.subject_kind = 'member' AND m.subject_id = ? AND m.linked_from = v.id)
		ORDER BY v.at, v.seq`, visitorID, accountID)
	if err != nil {
		return err
	}
	var pending []consent.Record
	for rows.Next() {
		r, err := scanConsent(rows)
		if err != nil {
			rows.Close()
			return err
		}
		pending = append(pending, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range pending {
		// A record made in the future of now would be a clock fault; the
		// copy never claims a time later than the link.
		if r.At.After(now) {
			r.At = now
		}
		r.LinkedFrom, r.ID = r.ID, consent.NewID()
		r.SubjectKind, r.SubjectID = consent.Member, accountID
		if err := AppendConsent(ctx, q, r); err != nil {
			return err
		}
	}
	return nil
}

func scanConsent(row interface{ Scan(...any) error }) (consent.Record, error) {
	var (
		r                      consent.Record
		purposes, basis        string
		method, state          string
		ip, userAgent, linkedF sql.NullString
	)
	err := row.Scan(&r.ID, &r.SubjectKind, &r.SubjectID, &r.NoticeID, &r.NoticeVersion, &r.NoticeHash, &purposes, &basis,
		&method, &r.At, &state, &ip, &userAgent, &r.GPC, &linkedF)
	if err != nil {
		return consent.Record{}, err
	}
	if err := json.Unmarshal([]byte(purposes), &r.Purposes); err != nil {
		return consent.Record{}, fmt.Errorf("consent record %s: stored purposes are malformed", r.ID)
	}
	r.Basis, r.Method, r.State = datamap.Basis(basis), consent.Method(method), consent.State(state)
	r.At = r.At.UTC()
	r.IP, r.UserAgent, r.LinkedFrom = ip.String, userAgent.String, linkedF.String
	return r, nil
}

// Restricted reports whether the person has restricted the processing of
// their data.
func Restricted(ctx context.Context, q database.Querier, personID string) (bool, error) {
	var at time.Time
	err := q.QueryRow(ctx, `SELECT restricted_at FROM person_restrictions WHERE person_id = ?`, personID).Scan(&at)
	if errors.Is(err, database.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ChangeRestriction sets or lifts the restriction of processing for a
// person and reports whether that changed anything: setting a
// restriction that is in force, or lifting one that is not, changes
// nothing. The caller audits a change in the same transaction.
func ChangeRestriction(ctx context.Context, q database.Querier, personID string, restricted bool, now time.Time) (bool, error) {
	if personID == "" {
		return false, errors.New("store: restriction needs a person id")
	}
	var (
		res sql.Result
		err error
	)
	if restricted {
		res, err = q.Exec(ctx, `INSERT INTO person_restrictions (person_id, restricted_at) VALUES (?, ?) ON CONFLICT (person_id) DO NOTHING`,
			personID, now.UTC())
	} else {
		res, err = q.Exec(ctx, `DELETE FROM person_restrictions WHERE person_id = ?`, personID)
	}
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// SetRestricted is ChangeRestriction with its audit entry, in q's
// transaction or in one of its own when q is the plain database. It
// serves the rights workflow's steps, which still hand the audit key
// down; the consents service (Restrict) changes the flag through
// ChangeRestriction and audits through its own transaction, and this
// goes once the workflow calls that instead.
func SetRestricted(ctx context.Context, q database.Querier, secret []byte, actor audit.Party, personID string, restricted bool, now time.Time) error {
	return inTx(ctx, q, func(tx database.Querier) error {
		changed, err := ChangeRestriction(ctx, tx, personID, restricted, now)
		if err != nil || !changed {
			return err
		}
		action := "restriction.lift"
		if restricted {
			action = "restriction.set"
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: action, Subject: memberParty(personID), Purpose: "legal-compliance",
		})
	})
}
