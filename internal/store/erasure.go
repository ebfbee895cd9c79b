package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

// blobIndexTable is the table blob.Store keeps in step with the bucket.
// The erasure engine never deletes its rows with SQL: it hands their keys
// to the file phase, which deletes each object and then its row.
const blobIndexTable = "blobs"

// outboxTable is the outgoing mail, of which erasure keeps the messages
// about the person's own request until they are delivered.
const outboxTable = "mail_outbox"

const erasureRunColumns = `id, person_ref, person, reason, request_id, state, step, rows_done, files_done, created_at, updated_at, finished_at`

// StartErasure records that person's data is to be erased for reason and
// returns the run's id. Call it inside the transaction that decides the
// erasure (given the plain *database.DB it opens one of its own): the run
// row is durable the moment that transaction commits, and the periodic
// job rights.ResumeArgs starts every recorded run that no worker holds,
// so a crash right after the commit loses nothing.
//
// Only the retention engine (store/retention.go) still calls it: the
// notices it queues wait for the outbox's sweep, and the run for the
// rights sweep. Once retention moves into service/retain, it calls
// dsr.Service.StartErasure(ctx, tx, person, reason, "") inside its own
// transaction instead (which dispatches the notices and enqueues the
// run after the commit, so RetentionOptions.Erasing can go too), and
// this function goes.
func StartErasure(ctx context.Context, q database.Querier, secret []byte, person rights.Person, reason rights.Reason, now time.Time) (string, error) {
	id, _, err := startErasure(ctx, q, secret, datamap.Default(), person, reason, "", now)
	return id, err
}

// StartErasure records an erasure run in q's transaction, as the function
// StartErasure does, for the request requestID ("" for none). It returns
// the run's id and the outbox ids of the notices to the recipients of the
// person's data, for the caller to dispatch after the commit.
//
// The person needs an account id, an address or a participant id; the
// addresses and meeting places reachable from the account id are added
// here, and kept on the run, so the erasure can finish after the account
// row is gone. A person with an unfinished run gets that run's id back,
// so calling it twice is harmless. A legal hold does not stop the call:
// the run waits, held, until no hold applies. The start is audited in the
// same transaction.
func (s *Store) StartErasure(ctx context.Context, q database.Querier, m datamap.Map, person rights.Person, reason rights.Reason, requestID string, now time.Time) (string, []string, error) {
	return startErasure(ctx, q, s.secret, m, person, reason, requestID, now)
}

func startErasure(ctx context.Context, q database.Querier, secret []byte, m datamap.Map, person rights.Person, reason rights.Reason, requestID string, now time.Time) (string, []string, error) {
	if !reason.Valid() {
		return "", nil, errs.E(errs.Invalid, "unknown erasure reason %q", reason)
	}
	if err := person.Validate(); err != nil {
		return "", nil, err
	}
	var (
		id    string
		mails []string
	)
	err := inTx(ctx, q, func(q database.Querier) error {
		p, err := ResolvePerson(ctx, q, m, person)
		if err != nil {
			return err
		}
		subject := erasureSubject(p)
		ref := audit.Ref(secret, subject.Kind, subject.ID)
		err = q.QueryRow(ctx, `SELECT id FROM erasure_runs WHERE person_ref = ? AND state <> 'done'`, ref).Scan(&id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, database.ErrNotFound) {
			return err
		}
		body, err := json.Marshal(p)
		if err != nil {
			return err
		}
		id = newRightsID("era_")
		now = now.UTC()
		if _, err := q.Exec(ctx, `INSERT INTO erasure_runs (id, person_ref, person, reason, request_id, state, step, rows_done, files_done, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'pending', '', 0, 0, ?, ?)`, id, ref, string(body), string(reason), orNull(requestID), now, now); err != nil {
			return fmt.Errorf("record the erasure: %w", err)
		}
		// The recipients are told now, while the rows that say who they
		// are still exist (Art. 19 GDPR).
		if mails, err = notifyResolved(ctx, q, secret, m, p, rights.ChangeErasure, now); err != nil {
			return fmt.Errorf("notify the recipients: %w", err)
		}
		detail := map[string]string{"run": id, "reason": string(reason)}
		if requestID != "" {
			detail["request"] = requestID
		}
		return AppendAudit(ctx, q, secret, audit.Entry{
			At: now, Actor: audit.Party{Kind: "system"}, Action: "rights.erasure_start", Subject: subject,
			Purpose: "legal-compliance", Detail: detail,
		})
	})
	if err != nil {
		return "", nil, err
	}
	return id, mails, nil
}

// erasureSubject is the party the audit log names for the person: the
// member, or a guest by their first address. Erasure clears the id later;
// the keyed ref stays.
func erasureSubject(p rights.Person) audit.Party {
	switch {
	case p.AccountID != "":
		return audit.Party{Kind: "member", ID: p.AccountID}
	case len(p.Emails) > 0:
		return audit.Party{Kind: "guest", ID: p.Emails[0]}
	}
	return audit.Party{Kind: "participant", ID: p.ParticipantIDs[0]}
}

// newRightsID returns a random id with a prefix naming its kind.
func newRightsID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// ResolvePerson adds to p the addresses and participant ids the data map
// reaches from what p holds: the account's address from the tables whose
// own id is a person's, then the person's places in meetings from the
// tables that define participant ids.
func ResolvePerson(ctx context.Context, q database.Querier, m datamap.Map, p rights.Person) (rights.Person, error) {
	p = p.Normalised()
	if p.AccountID != "" {
		for _, src := range rights.EmailSources(m) {
			vals, err := collectColumn(ctx, q, src.Table, src.Column, src.By, rights.Person{AccountID: p.AccountID})
			if err != nil {
				return p, err
			}
			p.Emails = append(vals, p.Emails...)
		}
	}
	for _, src := range rights.ParticipantSources(m) {
		vals, err := collectColumn(ctx, q, src.Table, src.Column, src.By, rights.Person{AccountID: p.AccountID, Emails: p.Emails})
		if err != nil {
			return p, err
		}
		p.ParticipantIDs = append(p.ParticipantIDs, vals...)
	}
	return p.Normalised(), nil
}

func collectColumn(ctx context.Context, q database.Querier, table, column string, by []datamap.PersonKey, p rights.Person) ([]string, error) {
	cond, args := anyKeyMatch(by, p)
	if cond == "" {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT `+quoteIdent(column)+` FROM `+quoteIdent(table)+` WHERE `+cond+` AND `+quoteIdent(column)+` IS NOT NULL`, args...)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// quoteIdent quotes a table or column name from the data map; the names
// are constants of the code, quoted so that words such as "key" stay names.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// keyMatch is the SQL condition that a key column holds one of the
// person's identifiers; "" when the person has none of that kind.
func keyMatch(k datamap.PersonKey, p rights.Person) (string, []any) { return personMatch{p: p}.key(k) }

// anyKeyMatch is the condition that any of keys matches; "" for none.
func anyKeyMatch(keys []datamap.PersonKey, p rights.Person) (string, []any) {
	return personMatch{p: p}.anyKey(keys)
}

// ownedMatch is the condition that a row is the person's own: its owner
// key (keys[0]) is theirs, or it is empty and another key, other than one
// that only names them, is theirs.
func ownedMatch(keys []datamap.PersonKey, p rights.Person) (string, []any) {
	return personMatch{p: p}.owned(keys)
}

// personMatch builds the conditions that find a person's rows. The
// participant ids are listed as parameters, unless partSQL stands for
// them: a subquery over the tables that define participant ids, which
// lets a person with thousands of places in meetings be matched with a
// handful of parameters (see participantSubquery).
type personMatch struct {
	p        rights.Person
	partSQL  string
	partArgs []any
}

func (m personMatch) key(k datamap.PersonKey) (string, []any) {
	p := m.p
	col := quoteIdent(k.Column)
	var vals []string
	switch k.Holds {
	case datamap.KeyPersonID, datamap.KeyNamedPersonID:
		if p.AccountID == "" {
			return "", nil
		}
		return col + ` = ?`, []any{p.AccountID}
	case datamap.KeyEmail:
		vals = p.Emails
	case datamap.KeyParticipantID:
		if m.partSQL != "" {
			return col + ` IN (` + m.partSQL + `)`, slices.Clone(m.partArgs)
		}
		vals = p.ParticipantIDs
	}
	if len(vals) == 0 {
		return "", nil
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return col + ` IN (` + database.Placeholders(len(vals)) + `)`, args
}

func (m personMatch) anyKey(keys []datamap.PersonKey) (string, []any) {
	var (
		parts []string
		args  []any
	)
	for _, k := range keys {
		if c, a := m.key(k); c != "" {
			parts = append(parts, c)
			args = append(args, a...)
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

func (m personMatch) owned(keys []datamap.PersonKey) (string, []any) {
	owner, ownerArgs := m.key(keys[0])
	// A row without an owner is not the person's for naming them: a
	// guest's invitation names its host, yet its link is the guest's.
	others, otherArgs := m.anyKey(slices.DeleteFunc(slices.Clone(keys[1:]), func(k datamap.PersonKey) bool {
		return k.Holds == datamap.KeyNamedPersonID
	}))
	switch {
	case owner == "" && others == "":
		return "", nil
	case others == "":
		return owner, ownerArgs
	}
	orphan := "(" + quoteIdent(keys[0].Column) + " IS NULL AND " + others + ")"
	if owner == "" {
		return orphan, otherArgs
	}
	return "(" + owner + " OR " + orphan + ")", append(ownerArgs, otherArgs...)
}

// participantSubquery is the SQL that selects the participant ids
// ResolvePerson collects for a person found by account id and addresses:
// the same tables and columns, as one UNION. "" when the map has no table
// defining participant ids, or the person has no account id or address.
func participantSubquery(m datamap.Map, p rights.Person) (string, []any) {
	var (
		parts []string
		args  []any
	)
	for _, src := range rights.ParticipantSources(m) {
		cond, a := anyKeyMatch(src.By, rights.Person{AccountID: p.AccountID, Emails: p.Emails})
		if cond == "" {
			continue
		}
		parts = append(parts, `SELECT `+quoteIdent(src.Column)+` FROM `+quoteIdent(src.Table)+` WHERE `+cond)
		args = append(args, a...)
	}
	return strings.Join(parts, " UNION "), args
}

// idChunk bounds the participant ids one statement lists as parameters,
// well under SQLite's and PostgreSQL's limits.
const idChunk = 400

// chunkPerson splits a person with many participant ids into persons with
// at most idChunk each, so that no statement carries thousands of
// parameters. Every chunk keeps the account id and the addresses.
func chunkPerson(p rights.Person) []rights.Person {
	if len(p.ParticipantIDs) <= idChunk {
		return []rights.Person{p}
	}
	var out []rights.Person
	for ids := range slices.Chunk(p.ParticipantIDs, idChunk) {
		out = append(out, rights.Person{AccountID: p.AccountID, Emails: p.Emails, ParticipantIDs: ids})
	}
	return out
}

// secureDelete makes SQLite overwrite what the transaction deletes with
// zeros, on this connection, so that erased values do not linger in free
// space of the database file. PostgreSQL never shows dead rows; its
// VACUUM reclaims them.
func secureDelete(ctx context.Context, tx *database.Tx) error {
	if tx.Dialect() != database.SQLite {
		return nil
	}
	_, err := tx.Exec(ctx, `PRAGMA secure_delete = ON`)
	return err
}

// rowID is the engine's own row address, which lets a batch of any table
// be deleted or updated whatever its primary key.
func rowID(d database.Dialect) string {
	if d == database.Postgres {
		return "ctid"
	}
	return "rowid"
}

// ErasureSteps carries out the steps of erasure plans in SQL, one table at
// a time and a batch of rows per transaction, recording the progress on
// the run with every batch so that a run interrupted anywhere continues
// where it stopped. It never deletes a stored file: the file keys the
// rows it removes hold are queued on the run (QueuedErasureFiles) for the
// caller to delete from the blob store.
type ErasureSteps struct {
	DB    *database.DB
	Clock clock.Clock
	// Batch bounds the rows one transaction removes; zero means 500.
	Batch int
	// Lease is how long a worker holds a run between two batches; zero
	// means rights.DefaultErasureLease.
	Lease time.Duration

	nullable sync.Map // "table.column" → bool
}

func (e *ErasureSteps) lease() time.Duration {
	if e.Lease > 0 {
		return e.Lease
	}
	return rights.DefaultErasureLease
}

func (e *ErasureSteps) batch() int {
	if e.Batch > 0 {
		return e.Batch
	}
	return 500
}

// ErasureRun returns one run.
func ErasureRun(ctx context.Context, q database.Querier, id string) (rights.Run, error) {
	r, err := scanErasureRun(q.QueryRow(ctx, `SELECT `+erasureRunColumns+` FROM erasure_runs WHERE id = ?`, id))
	if errors.Is(err, database.ErrNotFound) {
		return rights.Run{}, errs.E(errs.NotFound, "there is no such erasure")
	}
	return r, err
}

// ErasureRuns lists runs, newest first, at most limit.
func ErasureRuns(ctx context.Context, q database.Querier, limit int) ([]rights.Run, error) {
	rows, err := q.Query(ctx, `SELECT `+erasureRunColumns+` FROM erasure_runs ORDER BY created_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (rights.Run, error) { return scanErasureRun(s) })
}

func scanErasureRun(s interface{ Scan(...any) error }) (rights.Run, error) {
	var (
		r               rights.Run
		person, request sql.NullString
		reason, state   string
		finished        sql.NullTime
	)
	if err := s.Scan(&r.ID, &r.PersonRef, &person, &reason, &request, &state, &r.Step, &r.RowsDone, &r.FilesDone,
		&r.CreatedAt, &r.UpdatedAt, &finished); err != nil {
		return rights.Run{}, err
	}
	if person.Valid && person.String != "" {
		if err := json.Unmarshal([]byte(person.String), &r.Person); err != nil {
			return rights.Run{}, fmt.Errorf("erasure run %s: %w", r.ID, err)
		}
	}
	r.Reason, r.State, r.RequestID = rights.Reason(reason), rights.RunState(state), request.String
	r.CreatedAt, r.UpdatedAt, r.FinishedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC(), nullTime(finished)
	return r, nil
}

// ClaimErasureRun takes the run's lease until until for one worker; false
// when another worker holds it or the run is done.
func ClaimErasureRun(ctx context.Context, q database.Querier, id string, now, until time.Time) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE erasure_runs SET lease_until = ? WHERE id = ? AND state <> 'done' AND (lease_until IS NULL OR lease_until < ?)`,
		until.UTC(), id, now.UTC())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseErasureRun gives the run's lease up, so that another worker may
// take the run at once.
func ReleaseErasureRun(ctx context.Context, q database.Querier, id string) error {
	_, err := q.Exec(ctx, `UPDATE erasure_runs SET lease_until = NULL WHERE id = ?`, id)
	return err
}

// SetErasureRunState moves a run that has not finished to state.
func SetErasureRunState(ctx context.Context, q database.Querier, id string, state rights.RunState, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE erasure_runs SET state = ?, updated_at = ? WHERE id = ?`, string(state), now.UTC(), id)
	return err
}

// SetStep records that the run works on the table step, renewing
// its lease.
func (e *ErasureSteps) SetStep(ctx context.Context, runID, step string) error {
	now := e.Clock.Now().UTC()
	_, err := e.DB.Exec(ctx, `UPDATE erasure_runs SET step = ?, updated_at = ?, lease_until = ? WHERE id = ?`, step, now, now.Add(e.lease()), runID)
	return err
}

// Step removes or clears the person's rows of the table s of an erasure
// plan, in batches, and queues the file keys those rows held on the run.
func (e *ErasureSteps) Step(ctx context.Context, runID string, s rights.Step, person rights.Person) error {
	for _, p := range chunkPerson(person) {
		if err := e.runStep(ctx, runID, s, p); err != nil {
			return fmt.Errorf("erase %s: %w", s.Table, err)
		}
	}
	return nil
}

// runStep removes or clears the person's rows of one table.
func (e *ErasureSteps) runStep(ctx context.Context, runID string, s rights.Step, p rights.Person) (err error) {
	if s.Table == blobIndexTable {
		return e.queueIndexedFiles(ctx, runID, s, p)
	}
	if s.Action == datamap.Delete {
		own, args := ownedMatch(s.Keys, p)
		if own != "" && s.Table == outboxTable {
			if own, args, err = e.keepRightsMail(ctx, runID, own, args); err != nil {
				return err
			}
		}
		if own != "" {
			if err := e.batched(ctx, runID, s, own, args, deleteRows(s.Table)); err != nil {
				return err
			}
		}
		// Rows found only through another key are someone else's: only
		// that key is cleared, where the column may be empty. A row that
		// names the person as the one who caused it quotes them beyond
		// the key, and goes whole.
		for _, k := range s.Keys[1:] {
			cond, args := keyMatch(k, p)
			if cond == "" {
				continue
			}
			if k.Holds == datamap.KeyNamedPersonID {
				if err := e.batched(ctx, runID, s, cond, args, deleteRows(s.Table)); err != nil {
					return err
				}
				continue
			}
			nullable, err := e.columnNullable(ctx, s.Table, k.Column)
			if err != nil {
				return err
			}
			if !nullable {
				continue
			}
			if err := e.clear(ctx, runID, s, cond, args, []rights.Clear{{Column: k.Column}}); err != nil {
				return err
			}
		}
		return nil
	}
	// Anonymise: the person's own rows lose every column erasure clears
	// except the id keys, which may name someone else (the subject of an
	// audit entry the person made, the participant leading an item they
	// wrote). An address on a row that is the person's is one they gave,
	// such as the address a member's request is answered at, which need
	// not be the account's. Then each key column that erasure clears is
	// cleared wherever it names the person.
	var plain []rights.Clear
	for _, c := range s.Clear {
		i := slices.IndexFunc(s.Keys, func(k datamap.PersonKey) bool { return k.Column == c.Column })
		if i < 0 || s.Keys[i].Holds == datamap.KeyEmail {
			plain = append(plain, c)
		}
	}
	if len(plain) > 0 {
		if own, args := ownedMatch(s.Keys, p); own != "" {
			if err := e.clear(ctx, runID, s, own, args, plain); err != nil {
				return err
			}
		}
	}
	for _, k := range s.Keys {
		i := slices.IndexFunc(s.Clear, func(c rights.Clear) bool { return c.Column == k.Column })
		if i < 0 {
			continue
		}
		if cond, args := keyMatch(k, p); cond != "" {
			if err := e.clear(ctx, runID, s, cond, args, []rights.Clear{s.Clear[i]}); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteRows is the change of a batch that deletes the rows selected.
func deleteRows(table string) func(ctx context.Context, tx *database.Tx, sel string, selArgs []any) (int64, error) {
	return func(ctx context.Context, tx *database.Tx, sel string, selArgs []any) (int64, error) {
		res, err := tx.Exec(ctx, `DELETE FROM `+quoteIdent(table)+` WHERE `+rowID(tx.Dialect())+` IN (`+sel+`)`, selArgs...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
}

// keepRightsMail records on the run the person's messages still waiting
// for delivery that tell them about their own request
// (rights.KeptAtErasure), and narrows own, the condition matching the
// person's outbox rows, to the others. The kept ones go once delivered
// (PurgeErasureNotices), so the person learns that their request arrived
// even when the mail server is slow or down at the time of the erasure.
func (e *ErasureSteps) keepRightsMail(ctx context.Context, runID, own string, args []any) (string, []any, error) {
	templates := make([]any, len(rights.KeptAtErasure))
	for i, t := range rights.KeptAtErasure {
		templates[i] = t
	}
	_, err := e.DB.Exec(ctx, `INSERT INTO erasure_run_mail (run_id, mail_id, created_at) SELECT ?, id, ? FROM mail_outbox
		WHERE `+own+` AND status = 'pending' AND template IN (`+database.Placeholders(len(templates))+`) ON CONFLICT DO NOTHING`,
		append(append([]any{runID, e.Clock.Now().UTC()}, args...), templates...)...)
	if err != nil {
		return "", nil, fmt.Errorf("keep the messages about the request: %w", err)
	}
	return own + ` AND id NOT IN (SELECT mail_id FROM erasure_run_mail WHERE run_id = ?)`, append(slices.Clone(args), runID), nil
}

// clear sets cols on the rows matching cond, in batches; only rows whose
// values still differ are touched, so the loop ends however the columns
// relate to cond.
func (e *ErasureSteps) clear(ctx context.Context, runID string, s rights.Step, cond string, args []any, cols []rights.Clear) error {
	var (
		sets, differs []string
		setArgs       []any
		diffArgs      []any
	)
	for _, c := range cols {
		q := quoteIdent(c.Column)
		if c.Replacement == nil {
			sets = append(sets, q+" = NULL")
			differs = append(differs, q+" IS NOT NULL")
			continue
		}
		sets = append(sets, q+" = ?")
		setArgs = append(setArgs, *c.Replacement)
		differs = append(differs, "("+q+" IS NULL OR "+q+" <> ?)")
		diffArgs = append(diffArgs, *c.Replacement)
	}
	where := cond + " AND (" + strings.Join(differs, " OR ") + ")"
	whereArgs := append(slices.Clone(args), diffArgs...)
	// A cleared file key loses its file.
	var files []string
	for _, c := range cols {
		if slices.Contains(s.Files, c.Column) {
			files = append(files, c.Column)
		}
	}
	fs := s
	fs.Files = files
	return e.batched(ctx, runID, fs, where, whereArgs, func(ctx context.Context, tx *database.Tx, sel string, selArgs []any) (int64, error) {
		res, err := tx.Exec(ctx, `UPDATE `+quoteIdent(s.Table)+` SET `+strings.Join(sets, ", ")+` WHERE `+rowID(tx.Dialect())+` IN (`+sel+`)`,
			append(slices.Clone(setArgs), selArgs...)...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// batched applies change to the rows matching where, a batch per
// transaction, until none is left. Before each batch changes, the file
// keys its rows hold in s.Files are queued for deletion in the same
// transaction; the run's counter moves in it too.
func (e *ErasureSteps) batched(ctx context.Context, runID string, s rights.Step, where string, args []any,
	change func(ctx context.Context, tx *database.Tx, sel string, selArgs []any) (int64, error)) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var n int64
		err := e.DB.InTx(ctx, func(tx *database.Tx) error {
			if err := secureDelete(ctx, tx); err != nil {
				return err
			}
			sel := `SELECT ` + rowID(tx.Dialect()) + ` FROM ` + quoteIdent(s.Table) + ` WHERE ` + where + ` LIMIT ` + strconv.Itoa(e.batch())
			now := e.Clock.Now().UTC()
			for _, col := range s.Files {
				if _, err := tx.Exec(ctx, `INSERT INTO erasure_run_files (run_id, key, created_at) SELECT ?, `+quoteIdent(col)+`, ? FROM `+
					quoteIdent(s.Table)+` WHERE `+rowID(tx.Dialect())+` IN (`+sel+`) AND `+quoteIdent(col)+` IS NOT NULL ON CONFLICT DO NOTHING`,
					append([]any{runID, now}, args...)...); err != nil {
					return err
				}
			}
			var err error
			if n, err = change(ctx, tx, sel, args); err != nil || n == 0 {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE erasure_runs SET rows_done = rows_done + ?, updated_at = ?, lease_until = ? WHERE id = ?`,
				n, now, now.Add(e.lease()), runID)
			return err
		})
		if err != nil || n == 0 {
			return err
		}
	}
}

// queueIndexedFiles hands the person's entries of the blob index to the
// file phase, which deletes each object before its row.
func (e *ErasureSteps) queueIndexedFiles(ctx context.Context, runID string, s rights.Step, p rights.Person) error {
	cond, args := anyKeyMatch(s.Keys, p)
	if cond == "" {
		return nil
	}
	_, err := e.DB.Exec(ctx, `INSERT INTO erasure_run_files (run_id, key, created_at) SELECT ?, key, ? FROM blobs WHERE `+cond+` ON CONFLICT DO NOTHING`,
		append([]any{runID, e.Clock.Now().UTC()}, args...)...)
	return err
}

// QueuedErasureFiles lists at most limit of the file keys the run has
// queued for deletion, in key order.
func QueuedErasureFiles(ctx context.Context, q database.Querier, runID string, limit int) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT key FROM erasure_run_files WHERE run_id = ? ORDER BY key LIMIT ?`, runID, limit)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// ForgetErasedFile is the last of a file the run deleted from the blob
// store: its index row and its queue entry go, and the run counts it, in
// one transaction. A key the index no longer knows was deleted already.
func (e *ErasureSteps) ForgetErasedFile(ctx context.Context, runID, key string) error {
	return e.DB.InTx(ctx, func(tx *database.Tx) error {
		if err := secureDelete(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM blobs WHERE key = ?`, key); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM erasure_run_files WHERE run_id = ? AND key = ?`, runID, key); err != nil {
			return err
		}
		now := e.Clock.Now().UTC()
		_, err := tx.Exec(ctx, `UPDATE erasure_runs SET files_done = files_done + 1, updated_at = ?, lease_until = ? WHERE id = ?`,
			now, now.Add(e.lease()), runID)
		return err
	})
}

// EraseMembership is the erasure of one membership of the run's person,
// taken out of the memberships step so that it happens in the caller's
// transaction tx together with what the organisation becomes (a new
// owner, or its deletion scheduled). The run counts the row.
func EraseMembership(ctx context.Context, tx *database.Tx, runID, orgID, accountID string, now time.Time) error {
	if err := secureDelete(ctx, tx); err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `DELETE FROM memberships WHERE organisation_id = ? AND account_id = ?`, orgID, accountID)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE erasure_runs SET rows_done = rows_done + ?, updated_at = ? WHERE id = ?`, n, now.UTC(), runID)
	return err
}

// columnNullable reports whether the column may be NULL, from the live
// schema, cached for the steps' life.
func (e *ErasureSteps) columnNullable(ctx context.Context, table, column string) (bool, error) {
	key := table + "." + column
	if v, ok := e.nullable.Load(key); ok {
		return v.(bool), nil
	}
	var nullable bool
	switch e.DB.Dialect() {
	case database.Postgres:
		var s string
		if err := e.DB.QueryRow(ctx, `SELECT is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?`,
			table, column).Scan(&s); err != nil {
			return false, err
		}
		nullable = s == "YES"
	default:
		var notNull, pk int
		if err := e.DB.QueryRow(ctx, `SELECT "notnull", pk FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&notNull, &pk); err != nil {
			return false, err
		}
		nullable = notNull == 0 && pk == 0
	}
	e.nullable.Store(key, nullable)
	return nullable, nil
}

// ErrRunDone is CompleteErasureRun's answer for a run already done.
var ErrRunDone = errors.New("the erasure run is done already")

// SealErasureRun is the last change of a run before it can report done:
// once every file is deleted, the person's identifiers leave the run, and
// noticeMail (the outbox id of the message saying the erasure is done, ""
// for none) is recorded on it, held back, until CompleteErasureRun.
// It refuses while files are still queued.
func SealErasureRun(ctx context.Context, tx *database.Tx, runID, noticeMail string, now time.Time) error {
	var left int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM erasure_run_files WHERE run_id = ?`, runID).Scan(&left); err != nil {
		return err
	}
	if left > 0 {
		return fmt.Errorf("erasure run %s still has %d files to delete", runID, left)
	}
	if err := secureDelete(ctx, tx); err != nil {
		return err
	}
	if noticeMail != "" {
		if _, err := tx.Exec(ctx, `UPDATE mail_outbox SET status = 'held' WHERE id = ? AND status = 'pending'`, noticeMail); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `UPDATE erasure_runs SET person = NULL, step = ?, updated_at = ?, notice_mail = ? WHERE id = ?`,
		rights.StepSealed, now.UTC(), orNull(noticeMail), runID)
	return err
}

// CompleteErasureRun closes a sealed run in tx: the request it carried
// out is completed, the run is done, and the message saying so is let go
// to the outbox's workers. It returns the rows and files the run removed
// and the message's outbox id ("" for none), for the caller to deliver
// after the commit; ErrRunDone when another worker closed it first.
func CompleteErasureRun(ctx context.Context, tx *database.Tx, runID string, now time.Time) (rows, files int64, noticeMail string, err error) {
	var (
		notice, request sql.NullString
		state           string
	)
	if err := tx.QueryRow(ctx, `SELECT rows_done, files_done, notice_mail, request_id, state FROM erasure_runs WHERE id = ?`, runID).
		Scan(&rows, &files, &notice, &request, &state); err != nil {
		return 0, 0, "", err
	}
	if state == string(rights.RunDone) {
		return 0, 0, "", ErrRunDone
	}
	now = now.UTC()
	if request.Valid && request.String != "" {
		if _, err := tx.Exec(ctx, `UPDATE account_requests SET state = ? WHERE id = ?`, string(rights.StateCompleted), request.String); err != nil {
			return 0, 0, "", err
		}
	}
	if notice.Valid {
		if _, err := tx.Exec(ctx, `UPDATE mail_outbox SET status = 'pending', next_attempt_at = ? WHERE id = ? AND status = 'held'`, now, notice.String); err != nil {
			return 0, 0, "", err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE erasure_runs SET state = 'done', step = '', finished_at = ?, updated_at = ? WHERE id = ?`,
		now, now, runID); err != nil {
		return 0, 0, "", err
	}
	return rows, files, notice.String, nil
}

// IdleErasureRuns lists, oldest first and at most 100, the unfinished
// runs no worker holds: never started, cut short by a process that died,
// or held while a legal hold may have ended.
func IdleErasureRuns(ctx context.Context, q database.Querier, now time.Time) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT id FROM erasure_runs WHERE state <> 'done' AND (lease_until IS NULL OR lease_until < ?) ORDER BY created_at LIMIT 100`, now.UTC())
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// RequestedErasure is an account deletion request waiting for its run.
type RequestedErasure struct{ RequestID, AccountID string }

// RequestedErasures lists, oldest first and at most 100, the account
// deletion requests still in state received.
func RequestedErasures(ctx context.Context, q database.Querier) ([]RequestedErasure, error) {
	rows, err := q.Query(ctx, `SELECT id, account_id FROM account_requests WHERE kind = ? AND state = ? AND account_id IS NOT NULL ORDER BY received_at LIMIT 100`,
		account.RequestErasure, string(rights.StateReceived))
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (RequestedErasure, error) {
		var r RequestedErasure
		return r, s.Scan(&r.RequestID, &r.AccountID)
	})
}

// TakeRequestedErasure moves an account deletion request from received to
// in progress; false when another worker took it first.
func TakeRequestedErasure(ctx context.Context, q database.Querier, requestID string) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE account_requests SET state = ? WHERE id = ? AND state = ?`,
		string(rights.StateInProgress), requestID, string(rights.StateReceived))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PurgeErasureNotices deletes from the outbox the messages to people
// whose data was erased, since each repeats the address erased: the one
// saying the erasure is done and those about their request the erasure
// kept (erasure_run_mail). Each goes once delivered or given up, and at
// the latest ErasureMailKept after the erasure finished or kept it, when
// it would still be waiting (no mail server, or one down for days). So
// too go the messages that told recipients of a change to someone's
// data. It returns how many messages to erased people it deleted.
func PurgeErasureNotices(ctx context.Context, db *database.DB, now time.Time) (int64, error) {
	var n int64
	err := db.InTx(ctx, func(tx *database.Tx) error {
		n = 0
		if err := purgeRecipientNoticeMail(ctx, tx, now); err != nil {
			return err
		}
		cutoff := now.UTC().Add(-ErasureMailKept)
		for _, q := range []string{
			`DELETE FROM mail_outbox WHERE id IN (SELECT notice_mail FROM erasure_runs WHERE notice_mail IS NOT NULL AND state = 'done'
				AND (mail_outbox.status IN ('sent', 'failed') OR finished_at < ?))`,
			`DELETE FROM mail_outbox WHERE id IN (SELECT mail_id FROM erasure_run_mail
				WHERE mail_outbox.status IN ('sent', 'failed') OR erasure_run_mail.created_at < ?)`,
		} {
			res, err := tx.Exec(ctx, q, cutoff)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += k
		}
		if _, err := tx.Exec(ctx, `DELETE FROM erasure_run_mail WHERE NOT EXISTS (SELECT 1 FROM mail_outbox WHERE mail_outbox.id = erasure_run_mail.mail_id)`); err != nil {
			return err
		}
		return purgeSentMail(ctx, tx, "erasure_runs", "notice_mail")
	})
	return n, err
}

// ErasureMailKept bounds how long the messages to an erased person stay
// in the outbox when they cannot be delivered.
const ErasureMailKept = 7 * 24 * time.Hour

// purgeSentMail deletes from the outbox the messages that table.column
// points at once they are delivered or given up, and clears the pointers
// to messages no longer there. table and column are names from the code,
// never input.
func purgeSentMail(ctx context.Context, tx *database.Tx, table, column string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM mail_outbox WHERE status IN ('sent', 'failed')
		AND id IN (SELECT `+column+` FROM `+table+` WHERE `+column+` IS NOT NULL)`); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE `+table+` SET `+column+` = NULL WHERE `+column+` IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM mail_outbox WHERE mail_outbox.id = `+table+`.`+column+`)`)
	return err
}
