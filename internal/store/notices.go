package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/notice"
)

// The privacy notice's versions, the acknowledgements of members and the
// announcements of significant versions (tables notice_versions,
// notice_acknowledgements and notice_mailings).

const noticeColumns = `version, published_at, published_by, significant, summary, body, sections, sha256, mailed_at`

// noticeListColumns leave out the text, which lists do not show.
const noticeListColumns = `version, published_at, published_by, significant, summary, '', '', sha256, mailed_at`

// errNoNotice is what CurrentNotice returns before the first publication.
var errNoNotice = errs.Wrap(errs.NotFound, database.ErrNotFound, "no version of the privacy notice has been published yet")

// CurrentNotice returns the latest published version of the privacy
// notice, with its text. Before the first publication, which the server
// makes at its first start (PublishFirstNotice), it returns an errs.NotFound
// error that also matches database.ErrNotFound.
func CurrentNotice(ctx context.Context, q database.Querier) (notice.Version, error) {
	v, err := scanNotice(q.QueryRow(ctx, `SELECT `+noticeColumns+` FROM notice_versions ORDER BY version DESC LIMIT 1`))
	if errors.Is(err, database.ErrNotFound) {
		return notice.Version{}, errNoNotice
	}
	return v, err
}

// NoticeVersion returns published version n with its text.
func NoticeVersion(ctx context.Context, q database.Querier, n int) (notice.Version, error) {
	v, err := scanNotice(q.QueryRow(ctx, `SELECT `+noticeColumns+` FROM notice_versions WHERE version = ?`, n))
	if errors.Is(err, database.ErrNotFound) {
		return notice.Version{}, errs.Wrap(errs.NotFound, err, "there is no version "+strconv.Itoa(n)+" of the privacy notice")
	}
	return v, err
}

// NoticeVersions returns every published version, newest first, without
// their text (Body and Sections are empty).
func NoticeVersions(ctx context.Context, q database.Querier) ([]notice.Version, error) {
	rows, err := q.Query(ctx, `SELECT `+noticeListColumns+` FROM notice_versions ORDER BY version DESC`)
	if err != nil {
		return nil, fmt.Errorf("list notice versions: %w", err)
	}
	return collectRows(rows, scanNotice)
}

func scanNotice(row scanner) (notice.Version, error) {
	var (
		v        notice.Version
		by       sql.NullString
		sections string
		mailed   sql.NullTime
	)
	if err := row.Scan(&v.Number, &v.PublishedAt, &by, &v.Significant, &v.Summary, &v.Body, &sections, &v.Hash, &mailed); err != nil {
		return notice.Version{}, err
	}
	v.NoticeID = notice.ID
	v.PublishedAt = v.PublishedAt.UTC()
	v.PublishedBy = by.String
	v.MailedAt = nullTime(mailed)
	if sections != "" {
		if err := json.Unmarshal([]byte(sections), &v.Sections); err != nil {
			return notice.Version{}, fmt.Errorf("notice version %d: sections: %w", v.Number, err)
		}
	}
	return v, nil
}

// GenerateNotice writes the notice as the data map and the sub-processor
// registry stand now, staff edits of the registry included.
func GenerateNotice(ctx context.Context, q database.Querier) (notice.Document, error) {
	list, err := ListSubprocessors(ctx, q, false)
	if err != nil {
		return notice.Document{}, err
	}
	return notice.Build(datamap.Default(), list), nil
}

// FirstNoticeSummary is the summary of the version the server publishes
// by itself.
const FirstNoticeSummary = "First published version of the privacy notice."

// PublishFirstNotice publishes the notice as version 1, not significant,
// when no version exists yet, and returns the current version and whether
// this call published it. Several instances may start at once: the
// primary key lets one insert win and the others find its row.
func PublishFirstNotice(ctx context.Context, db *database.DB, now time.Time) (notice.Version, bool, error) {
	if v, err := CurrentNotice(ctx, db); err == nil {
		return v, false, nil
	} else if !errors.Is(err, database.ErrNotFound) {
		return notice.Version{}, false, err
	}
	doc, err := GenerateNotice(ctx, db)
	if err != nil {
		return notice.Version{}, false, err
	}
	sections, err := json.Marshal(doc.Sections)
	if err != nil {
		return notice.Version{}, false, err
	}
	body := doc.Markdown()
	res, err := db.Exec(ctx, `INSERT INTO notice_versions (`+noticeColumns+`)
		VALUES (1, ?, NULL, ?, ?, ?, ?, ?, NULL)
		ON CONFLICT (version) DO NOTHING`,
		now.UTC(), false, FirstNoticeSummary, body, string(sections), notice.HashOf(body))
	if err != nil {
		return notice.Version{}, false, fmt.Errorf("publish the first notice: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return notice.Version{}, false, err
	}
	v, err := CurrentNotice(ctx, db)
	return v, n == 1, err
}

// PublishNotice publishes the notice as it is generated now as the next
// version, on behalf of actor, and records it in the audit log in the same
// transaction. It refuses with errs.Invalid when the publication does not
// pass Clean, and with errs.Conflict when the text differs from the one
// the staff member reviewed (ExpectHash), when nothing has changed since
// the latest version, or when another version was published meanwhile.
// Announcing a significant version is the job's work (MailNoticeChanges);
// the banner follows from the row itself.
func PublishNotice(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, p notice.Publication, now time.Time) (notice.Version, error) {
	p, err := p.Clean()
	if err != nil {
		return notice.Version{}, err
	}
	var out notice.Version
	err = db.InTx(ctx, func(tx *database.Tx) error {
		doc, err := GenerateNotice(ctx, tx)
		if err != nil {
			return err
		}
		body := doc.Markdown()
		hash := notice.HashOf(body)
		if p.ExpectHash != "" && p.ExpectHash != hash {
			return errs.E(errs.Conflict, "the notice has changed since you reviewed it; review the new text before publishing")
		}
		next := 1
		last, err := CurrentNotice(ctx, tx)
		switch {
		case err == nil:
			if last.Hash == hash {
				return errs.E(errs.Conflict, "the notice has not changed since version %d; there is nothing to publish", last.Number)
			}
			next = last.Number + 1
		case !errors.Is(err, database.ErrNotFound):
			return err
		}
		sections, err := json.Marshal(doc.Sections)
		if err != nil {
			return err
		}
		out = notice.Version{
			NoticeID: notice.ID, Number: next, PublishedAt: now.UTC(), PublishedBy: actor.ID,
			Significant: p.Significant, Summary: p.Summary, Body: body, Hash: hash, Sections: doc.Sections,
		}
		_, err = tx.Exec(ctx, `INSERT INTO notice_versions (`+noticeColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
			out.Number, out.PublishedAt, noticeNull(out.PublishedBy), out.Significant, out.Summary, out.Body, string(sections), out.Hash)
		if errors.Is(err, database.ErrDuplicate) {
			return errs.Wrap(errs.Conflict, err, "another version was published at the same moment; review the notice again")
		}
		if err != nil {
			return fmt.Errorf("publish notice version %d: %w", out.Number, err)
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At:      out.PublishedAt,
			Actor:   actor,
			Action:  "notice.publish",
			Subject: audit.Party{Kind: "notice", ID: notice.ID},
			Purpose: "legal-compliance",
			Detail: map[string]string{
				"version":     strconv.Itoa(out.Number),
				"significant": strconv.FormatBool(out.Significant),
				"sha256":      out.Hash,
			},
		})
	})
	if err != nil {
		return notice.Version{}, err
	}
	return out, nil
}

func noticeNull(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// NoticeToAcknowledge returns the latest significant version that member
// accountID has yet to acknowledge, and false when there is none. Only
// versions published after the account was opened count: a member who
// signed up later was shown the notice as it already was. Acknowledging a
// version covers every version before it.
func NoticeToAcknowledge(ctx context.Context, q database.Querier, accountID string) (notice.Version, bool, error) {
	v, err := scanNotice(q.QueryRow(ctx, `SELECT `+noticeListColumns+`
		FROM notice_versions v JOIN accounts a ON a.id = ?
		WHERE v.significant = ? AND v.published_at >= a.created_at
		  AND NOT EXISTS (SELECT 1 FROM notice_acknowledgements k WHERE k.account_id = a.id AND k.version >= v.version)
		ORDER BY v.version DESC LIMIT 1`, accountID, true))
	if errors.Is(err, database.ErrNotFound) {
		return notice.Version{}, false, nil
	}
	if err != nil {
		return notice.Version{}, false, err
	}
	return v, true, nil
}

// Acknowledgement is a member's confirmation that they saw a version.
type Acknowledgement struct {
	AccountID      string
	Version        int
	AcknowledgedAt time.Time
}

// AcknowledgeNotice records that member accountID has seen version n, or
// the current version when n is 0, together with its audit entry. It is
// idempotent: a second call returns the first acknowledgement. An unknown
// version is an errs.Invalid error on the field "version".
func AcknowledgeNotice(ctx context.Context, db *database.DB, secret []byte, accountID string, n int, now time.Time) (Acknowledgement, error) {
	var ack Acknowledgement
	err := db.InTx(ctx, func(tx *database.Tx) error {
		var v notice.Version
		var err error
		if n == 0 {
			v, err = CurrentNotice(ctx, tx)
		} else {
			v, err = NoticeVersion(ctx, tx, n)
		}
		if errors.Is(err, database.ErrNotFound) {
			return &errs.Error{Code: errs.Invalid, Message: "there is no such version of the notice", Fields: map[string]string{"version": "must be a published version"}}
		}
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `INSERT INTO notice_acknowledgements (account_id, version, acknowledged_at) VALUES (?, ?, ?)
			ON CONFLICT (account_id, version) DO NOTHING`, accountID, v.Number, now.UTC())
		if err != nil {
			return fmt.Errorf("acknowledge notice: %w", err)
		}
		if inserted, err := res.RowsAffected(); err != nil {
			return err
		} else if inserted == 1 {
			err = AppendAudit(ctx, tx, secret, audit.Entry{
				At:      now.UTC(),
				Actor:   audit.Party{Kind: "member", ID: accountID},
				Action:  "notice.acknowledge",
				Subject: audit.Party{Kind: "member", ID: accountID},
				Purpose: "legal-compliance",
				Detail:  map[string]string{"version": strconv.Itoa(v.Number)},
			})
			if err != nil {
				return err
			}
		}
		ack.AccountID, ack.Version = accountID, v.Number
		return tx.QueryRow(ctx, `SELECT acknowledged_at FROM notice_acknowledgements WHERE account_id = ? AND version = ?`,
			accountID, v.Number).Scan(&ack.AcknowledgedAt)
	})
	if err != nil {
		return Acknowledgement{}, err
	}
	ack.AcknowledgedAt = ack.AcknowledgedAt.UTC()
	return ack, nil
}

// NoticeAcknowledgements returns member accountID's acknowledgements,
// oldest first, for their data export.
func NoticeAcknowledgements(ctx context.Context, q database.Querier, accountID string) ([]Acknowledgement, error) {
	rows, err := q.Query(ctx, `SELECT account_id, version, acknowledged_at FROM notice_acknowledgements
		WHERE account_id = ? ORDER BY version`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Acknowledgement
	for rows.Next() {
		var a Acknowledgement
		if err := rows.Scan(&a.AccountID, &a.Version, &a.AcknowledgedAt); err != nil {
			return nil, err
		}
		a.AcknowledgedAt = a.AcknowledgedAt.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// errAlreadyMailed rolls back an announcement that another run queued
// first.
var errAlreadyMailed = errors.New("store: announcement already queued")

// MailNoticeChanges queues the announcement of every significant version
// whose announcement is unfinished to every active member who opened
// their account before the version was published and has not had it yet,
// batch members at a time. Each member's e-mail is put in the outbox in
// the same transaction as the row in notice_mailings that marks it sent,
// whose primary key lets only one of several concurrent or repeated runs
// queue it; dispatch is then called with the outbox id, after the commit.
// When no member is left, the version is marked mailed. It returns how
// many messages it queued; a cancelled ctx stops it between two members,
// and the next run carries on from there.
func MailNoticeChanges(ctx context.Context, db *database.DB, baseURL string, clk clock.Clock, batch int, dispatch func(ctx context.Context, ids ...string)) (int, error) {
	if batch < 1 {
		batch = notice.MailBatch
	}
	versions, err := unmailedNotices(ctx, db)
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, v := range versions {
		after := ""
		for {
			recipients, err := noticeRecipients(ctx, db, v, after, batch)
			if err != nil {
				return queued, err
			}
			for _, to := range recipients {
				if err := ctx.Err(); err != nil {
					return queued, err
				}
				id, err := queueNoticeMail(ctx, db, v, to, baseURL, clk.Now())
				if err != nil {
					return queued, err
				}
				if id != "" {
					queued++
					if dispatch != nil {
						dispatch(ctx, id)
					}
				}
				after = to.AccountID
			}
			if len(recipients) < batch {
				break
			}
		}
		if _, err := db.Exec(ctx, `UPDATE notice_versions SET mailed_at = ? WHERE version = ? AND mailed_at IS NULL`,
			clk.Now().UTC(), v.Number); err != nil {
			return queued, fmt.Errorf("mark notice version %d mailed: %w", v.Number, err)
		}
	}
	return queued, nil
}

// unmailedNotices are the significant versions whose announcement is not
// finished, oldest first, with the fields the e-mail needs.
func unmailedNotices(ctx context.Context, q database.Querier) ([]notice.Version, error) {
	rows, err := q.Query(ctx, `SELECT `+noticeListColumns+` FROM notice_versions
		WHERE significant = ? AND mailed_at IS NULL ORDER BY version`, true)
	if err != nil {
		return nil, fmt.Errorf("list unmailed notice versions: %w", err)
	}
	return collectRows(rows, scanNotice)
}

// noticeRecipients returns up to limit members, in id order after the id
// after, who should have the announcement of v and have not had it.
func noticeRecipients(ctx context.Context, q database.Querier, v notice.Version, after string, limit int) ([]notice.Recipient, error) {
	rows, err := q.Query(ctx, `SELECT a.id, a.name, a.email FROM accounts a
		WHERE a.status = 'active' AND a.created_at <= ? AND a.id > ?
		  AND NOT EXISTS (SELECT 1 FROM notice_mailings m WHERE m.version = ? AND m.account_id = a.id)
		ORDER BY a.id LIMIT ?`, v.PublishedAt, after, v.Number, limit)
	if err != nil {
		return nil, fmt.Errorf("list notice recipients: %w", err)
	}
	defer rows.Close()
	var out []notice.Recipient
	for rows.Next() {
		var r notice.Recipient
		if err := rows.Scan(&r.AccountID, &r.Name, &r.Email); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// queueNoticeMail puts one announcement in the outbox and marks it, in
// one transaction, and returns the outbox id; "" when another run queued
// it first or the stored address cannot take mail (marked all the same,
// so no run tries again).
func queueNoticeMail(ctx context.Context, db *database.DB, v notice.Version, to notice.Recipient, baseURL string, now time.Time) (string, error) {
	var id string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		id, err = EnqueueMail(ctx, tx, now, notice.ChangeMail(v, to, baseURL))
		if errs.CodeOf(err) == errs.Invalid {
			id = ""
		} else if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `INSERT INTO notice_mailings (version, account_id, outbox_id, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (version, account_id) DO NOTHING`, v.Number, to.AccountID, id, now.UTC())
		if err != nil {
			return fmt.Errorf("mark notice mail: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errAlreadyMailed
		}
		return nil
	})
	if errors.Is(err, errAlreadyMailed) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return id, nil
}
