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
	"github.com/sessionshq/sessions/internal/platform/database"
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
// makes at its first start (notices.Service.PublishFirst), it returns an errs.NotFound
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

// InsertFirstNotice stores v as version 1 when no version exists yet and
// reports whether it did. Several instances may start at once: the
// primary key lets one insert win and the others find its row.
func InsertFirstNotice(ctx context.Context, q database.Querier, v notice.Version) (bool, error) {
	sections, err := json.Marshal(v.Sections)
	if err != nil {
		return false, err
	}
	res, err := q.Exec(ctx, `INSERT INTO notice_versions (`+noticeColumns+`)
		VALUES (1, ?, NULL, ?, ?, ?, ?, ?, NULL)
		ON CONFLICT (version) DO NOTHING`,
		v.PublishedAt.UTC(), v.Significant, v.Summary, v.Body, string(sections), v.Hash)
	if err != nil {
		return false, fmt.Errorf("publish the first notice: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InsertNoticeVersion stores a new version. A version of that number
// published meanwhile is an errs.Conflict error.
func InsertNoticeVersion(ctx context.Context, q database.Querier, v notice.Version) error {
	sections, err := json.Marshal(v.Sections)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO notice_versions (`+noticeColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
		v.Number, v.PublishedAt.UTC(), noticeNull(v.PublishedBy), v.Significant, v.Summary, v.Body, string(sections), v.Hash)
	if errors.Is(err, database.ErrDuplicate) {
		return errs.Wrap(errs.Conflict, err, "another version was published at the same moment; review the notice again")
	}
	if err != nil {
		return fmt.Errorf("publish notice version %d: %w", v.Number, err)
	}
	return nil
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

// InsertAcknowledgement records that member accountID has seen version
// n, and reports whether they had not acknowledged it before.
func InsertAcknowledgement(ctx context.Context, q database.Querier, accountID string, n int, now time.Time) (bool, error) {
	res, err := q.Exec(ctx, `INSERT INTO notice_acknowledgements (account_id, version, acknowledged_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id, version) DO NOTHING`, accountID, n, now.UTC())
	if err != nil {
		return false, fmt.Errorf("acknowledge notice: %w", err)
	}
	inserted, err := res.RowsAffected()
	return inserted == 1, err
}

// AcknowledgedAt returns when member accountID acknowledged version n.
func AcknowledgedAt(ctx context.Context, q database.Querier, accountID string, n int) (time.Time, error) {
	var at time.Time
	err := q.QueryRow(ctx, `SELECT acknowledged_at FROM notice_acknowledgements WHERE account_id = ? AND version = ?`,
		accountID, n).Scan(&at)
	return at.UTC(), err
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

// UnmailedNotices are the significant versions whose announcement is not
// finished, oldest first, with the fields the e-mail needs (not the
// text).
func UnmailedNotices(ctx context.Context, q database.Querier) ([]notice.Version, error) {
	rows, err := q.Query(ctx, `SELECT `+noticeListColumns+` FROM notice_versions
		WHERE significant = ? AND mailed_at IS NULL ORDER BY version`, true)
	if err != nil {
		return nil, fmt.Errorf("list unmailed notice versions: %w", err)
	}
	return collectRows(rows, scanNotice)
}

// NoticeRecipients returns up to limit members, in id order after the
// id after, who should have the announcement of v and have not had it:
// active, and members already when v was published.
func NoticeRecipients(ctx context.Context, q database.Querier, v notice.Version, after string, limit int) ([]notice.Recipient, error) {
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

// MarkNoticeMailed records that member accountID had the announcement of
// version n, under outboxID ("" when their address could not take
// mail), and reports whether it was not recorded yet: the primary key
// lets only one of several concurrent or repeated runs through.
func MarkNoticeMailed(ctx context.Context, q database.Querier, n int, accountID, outboxID string, now time.Time) (bool, error) {
	res, err := q.Exec(ctx, `INSERT INTO notice_mailings (version, account_id, outbox_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (version, account_id) DO NOTHING`, n, accountID, outboxID, now.UTC())
	if err != nil {
		return false, fmt.Errorf("mark notice mail: %w", err)
	}
	inserted, err := res.RowsAffected()
	return inserted == 1, err
}

// FinishNoticeMailing marks version n's announcement done.
func FinishNoticeMailing(ctx context.Context, q database.Querier, n int, now time.Time) error {
	if _, err := q.Exec(ctx, `UPDATE notice_versions SET mailed_at = ? WHERE version = ? AND mailed_at IS NULL`,
		now.UTC(), n); err != nil {
		return fmt.Errorf("mark notice version %d mailed: %w", n, err)
	}
	return nil
}
