package store_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/retention"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/retain"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

var (
	retentionT0     = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	retentionSecret = []byte("retention-test-secret-0123456789abcdef")
	officer         = audit.Party{Kind: "staff", ID: "acc_officer"}
)

// retentionWorld is a database, a fake clock and a blob store, with the
// options a run needs.
type retentionWorld struct {
	db    *database.DB
	clk   *clock.Fake
	blobs *blob.Store
	svc   *retain.Service
}

func newRetentionWorld(t *testing.T) *retentionWorld {
	t.Helper()
	db := dbtest.Open(t)
	clk := clock.NewFake(retentionT0)
	blobs, err := blob.New(context.Background(), blob.Config{Dir: t.TempDir(), Index: store.NewBlobIndex(db), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	return &retentionWorld{db: db, clk: clk, blobs: blobs, svc: retentionService(t, db, clk, blobs, retentionSecret)}
}

// retentionService is the retention engine as the server builds it, on
// db and clk with the given audit secret.
func retentionService(t *testing.T, db *database.DB, clk clock.Clock, blobs *blob.Store, secret []byte) *retain.Service {
	t.Helper()
	services, err := wire.New(wire.Parts{
		Config: config.Config{BaseURL: "https://meet.example.com"}, DB: db, Clock: clk, Secret: secret, Blobs: blobs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return services.Retention
}

// officer acts for the privacy officer who places and releases holds.
var officerActor = service.Actor{AccountID: officer.ID, Roles: []staff.Role{staff.PrivacyOfficer}}

func (w *retentionWorld) run(t *testing.T, dry bool) retention.Run {
	t.Helper()
	run, err := w.svc.Run(context.Background(), retain.Options{Trigger: retention.ByCommand, DryRun: dry, Record: true, Batch: 2})
	if err != nil {
		t.Fatalf("run retention (dry %v): %v", dry, err)
	}
	if run.State != retention.Done {
		t.Fatalf("run state %q", run.State)
	}
	return run
}

func result(run retention.Run, rule, table string, action retention.Action) retention.Result {
	for _, r := range run.Results {
		if r.Rule == rule && r.Table == table && r.Action == action {
			return r
		}
	}
	return retention.Result{}
}

func (w *retentionWorld) account(t *testing.T, email string, lastActive time.Time) string {
	t.Helper()
	id := account.NewID()
	if err := store.CreateAccount(context.Background(), w.db, account.Account{
		ID: id, Email: email, PasswordHash: "x", PasswordChangedAt: lastActive, Name: "Member " + email,
		Status: account.Active, CreatedAt: lastActive, UpdatedAt: lastActive, LastActiveAt: lastActive,
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func (w *retentionWorld) hold(t *testing.T, personID string, ends *time.Time) retention.Hold {
	t.Helper()
	in := retention.HoldRequest{PersonID: personID, Reason: "Claim 2026-17 before the county court", EndsAt: ends}
	if err := in.Clean(w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	h, err := w.svc.PlaceHold(context.Background(), officerActor, in)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRetentionSweepsRowsPastEachRule ages rows past every anchored rule
// of the data map that the test can fill, next to rows still within
// theirs, and sees exactly the old ones go, files included, except what a
// legal hold keeps. A second run finds nothing; a dry run before the
// real one counts the same rows and changes nothing.
func TestRetentionSweepsRowsPastEachRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRetentionWorld(t)
	now := w.clk.Now()
	old := func(d datamap.Period) time.Time { return now.AddDate(-d.Years, -d.Months, -d.Days-1) }
	young := func(d datamap.Period) time.Time { return now.AddDate(-d.Years, -d.Months, -d.Days+1) }
	rule := func(id string) datamap.Period {
		r, ok := datamap.Default().Rule(id)
		if !ok {
			t.Fatalf("no rule %s", id)
		}
		return r.Period
	}
	// Audit entries older than their five years, and a young one. They
	// come first, as they would in a real log, whose head is what goes.
	for _, at := range []time.Time{old(rule("audit-5y")), now} {
		if err := store.AppendAudit(ctx, w.db, retentionSecret, audit.Entry{At: at, Actor: audit.Party{Kind: "system"}, Action: "test.entry",
			Subject: audit.Party{Kind: "member", ID: "acc_audited"}, Purpose: "security"}); err != nil {
			t.Fatal(err)
		}
	}
	member := w.account(t, "member@example.com", now)
	heldMember := w.account(t, "held@example.com", now)
	w.hold(t, heldMember, nil)

	// Two rows per table: one past its rule (id "old…"), one within it.
	type seeded struct{ table, rule, oldID, youngID string }
	var all []seeded
	seed := func(table, ruleID, idCol string, row func(id string, at time.Time) map[string]any) {
		p := rule(ruleID)
		o, y := "old-"+table, "young-"+table
		cols := row(o, old(p))
		cols[idCol] = o
		insert(t, w.db, table, cols)
		cols = row(y, young(p))
		cols[idCol] = y
		insert(t, w.db, table, cols)
		all = append(all, seeded{table, ruleID, o, y})
	}
	seed("analytics_events", "analytics-25m", "visitor_id", func(_ string, at time.Time) map[string]any {
		return map[string]any{"occurred_at": at, "day": at.Format("2006-01-02"), "kind": "pageview", "path": "/", "name": "", "ip_prefix": "203.0.113.0"}
	})
	seed("account_sessions", "auth-expired-1d", "id", func(id string, at time.Time) map[string]any {
		return map[string]any{"account_id": member, "token_hash": "th-" + id, "client": "Firefox on Linux", "created_at": now.AddDate(0, 0, -1), "last_seen_at": now, "expires_at": at}
	})
	seed("email_tokens", "auth-expired-1d", "digest", func(id string, at time.Time) map[string]any {
		return map[string]any{"purpose": "verify", "account_id": member, "created_at": at.Add(-time.Hour), "expires_at": at}
	})
	seed("signin_challenges", "auth-expired-1d", "token_hash", func(_ string, at time.Time) map[string]any {
		return map[string]any{"account_id": member, "created_at": at.Add(-5 * time.Minute), "expires_at": at}
	})
	// An event exactly 25 months old when the real run comes, a minute
	// from now, is on the boundary, and stays.
	insert(t, w.db, "analytics_events", map[string]any{"visitor_id": "boundary", "occurred_at": now.AddDate(0, -25, 0).Add(time.Minute), "day": "2024-02-02",
		"kind": "pageview", "path": "/", "name": "", "ip_prefix": "203.0.113.0"})
	seed("auth_throttle", "throttle-1d", "key", func(_ string, at time.Time) map[string]any {
		return map[string]any{"failures": 3, "window_start": at}
	})
	seed("mail_outbox", "mail-90d", "id", func(_ string, at time.Time) map[string]any {
		return map[string]any{"created_at": at, "person_id": member, "category": "transactional", "template": "t", "to_address": "member@example.com",
			"subject": "s", "body_text": "b", "body_html": "", "headers": "{}", "status": "sent", "attempts": 1, "next_attempt_at": at, "last_error": ""}
	})
	// An idle session goes on its own rule even though it has not expired.
	insert(t, w.db, "account_sessions", map[string]any{"id": "idle-session", "account_id": member, "token_hash": "th-idle", "client": "x",
		"created_at": now.AddDate(0, 0, -20), "last_seen_at": old(rule("session-idle-15d")), "expires_at": now.AddDate(0, 1, 0)})
	// The held member's expired session stays.
	insert(t, w.db, "account_sessions", map[string]any{"id": "held-session", "account_id": heldMember, "token_hash": "th-held", "client": "x",
		"created_at": now.AddDate(0, 0, -20), "last_seen_at": now, "expires_at": old(rule("auth-expired-1d"))})
	// An export past its seven days, with its file.
	info, err := w.blobs.Put(ctx, blob.PutInput{Kind: "export", PersonID: member, ContentType: "application/zip"}, strings.NewReader("zip bytes"))
	if err != nil {
		t.Fatal(err)
	}
	insert(t, w.db, "export_jobs", map[string]any{"id": "old-export", "person_id": member, "kind": "access", "state": "ready", "blob_key": info.Key,
		"size_bytes": 9, "created_at": old(rule("export-7d")), "updated_at": old(rule("export-7d")), "finished_at": old(rule("export-7d")),
		"expires_at": old(rule("export-7d")).AddDate(0, 0, 7)})

	countAll := func() map[string]int {
		out := map[string]int{}
		for _, tb := range []string{"analytics_events", "account_sessions", "email_tokens", "signin_challenges", "auth_throttle", "mail_outbox", "export_jobs", "audit_log"} {
			out[tb] = countRows(t, w.db, `SELECT COUNT(*) FROM `+tb)
		}
		return out
	}
	before := countAll()

	dry := w.run(t, true)
	if got := countAll(); !equalCounts(got, before) {
		t.Fatalf("a dry run changed rows: %v, before %v", got, before)
	}
	if r := result(dry, "analytics-25m", "analytics_events", retention.Delete); r.Rows != 1 || len(r.Examples) != 1 {
		t.Errorf("dry run on analytics = %+v, want 1 row with its id", r)
	}
	if r := result(dry, "auth-expired-1d", "account_sessions", retention.Delete); r.Rows != 1 || r.Held != 1 || len(r.Examples) != 1 || r.Examples[0] != "old-account_sessions" {
		t.Errorf("dry run on sessions = %+v, want the old session, and the held one counted apart", r)
	}

	w.clk.Advance(time.Minute)
	real := w.run(t, false)
	for _, s := range all {
		if n := countRows(t, w.db, `SELECT COUNT(*) FROM `+s.table+` WHERE `+idColumnOf(s.table)+` = ?`, s.oldID); n != 0 {
			t.Errorf("%s: the row past %s survived", s.table, s.rule)
		}
		if n := countRows(t, w.db, `SELECT COUNT(*) FROM `+s.table+` WHERE `+idColumnOf(s.table)+` = ?`, s.youngID); n != 1 {
			t.Errorf("%s: the row within %s went", s.table, s.rule)
		}
		if r := result(real, s.rule, s.table, retention.Delete); r.Rows < 1 {
			t.Errorf("%s under %s: the report counts %d rows", s.table, s.rule, r.Rows)
		}
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM analytics_events WHERE visitor_id = 'boundary'`); n != 1 {
		t.Error("an event exactly at the 25-month boundary went")
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM account_sessions WHERE id = 'idle-session'`); n != 0 {
		t.Error("a session idle past its rule survived")
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM account_sessions WHERE id = 'held-session'`); n != 1 {
		t.Error("a held member's session went")
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM export_jobs`); n != 0 {
		t.Error("an export past seven days survived")
	}
	if _, _, err := w.blobs.Get(ctx, info.Key); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("the export's file is still there: %v", err)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM audit_log WHERE action = 'test.entry'`); n != 1 {
		t.Errorf("%d test audit entries left, want the young one", n)
	}
	if real.Total(retention.Delete) < int64(len(all)) {
		t.Errorf("the run reports %d deletions", real.Total(retention.Delete))
	}

	// The report keeps the run and its counts, and the real run is audited.
	got, err := store.GetRetentionRun(ctx, w.db, real.ID)
	if err != nil || got.DryRun || got.State != retention.Done || got.FinishedAt == nil || len(got.Results) != len(real.Results) {
		t.Fatalf("stored run = %+v, %v", got, err)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM audit_log WHERE action = 'retention.run' AND subject_id = ?`, real.ID); n != 1 {
		t.Errorf("%d audit entries of the run, want 1", n)
	}
	runs, err := store.ListRetentionRuns(ctx, w.db, 10)
	if err != nil || len(runs) != 2 || !runs[1].DryRun {
		t.Fatalf("runs = %+v, %v", runs, err)
	}

	// Idempotent: nothing is left to do.
	again := w.run(t, false)
	if again.Total(retention.Delete) != 0 {
		t.Errorf("a second run deleted %d rows", again.Total(retention.Delete))
	}
}

func idColumnOf(table string) string {
	switch table {
	case "analytics_events":
		return "visitor_id"
	case "email_tokens":
		return "digest"
	case "signin_challenges":
		return "token_hash"
	case "auth_throttle":
		return `"key"`
	}
	return "id"
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRetentionWarnsInactiveMemberAndSignInCancels: a member whose
// account nearly reached five years without use is mailed once, 30 days
// before; the account goes only after that notice and only if still
// unused. Another member warned the same day signs in, which voids the
// warning and the erasure.
func TestRetentionWarnsInactiveMemberAndSignInCancels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRetentionWorld(t)
	start := w.clk.Now()
	// Last used five years less 20 days ago: inside the warning window.
	lastUse := start.AddDate(-5, 0, 20)
	idle := w.account(t, "idle@example.com", lastUse)
	returning := w.account(t, "returning@example.com", lastUse)
	fresh := w.account(t, "fresh@example.com", start.AddDate(-4, 0, 0))

	run := w.run(t, false)
	if r := result(run, retention.InactiveRule, "accounts", retention.Warn); r.Rows != 2 {
		t.Fatalf("warned %d, want 2", r.Rows)
	}
	mails := func(id string) int {
		return countRows(t, w.db, `SELECT COUNT(*) FROM mail_outbox WHERE person_id = ? AND template = ?`, id, retention.WarningTemplate)
	}
	if mails(idle) != 1 || mails(returning) != 1 || mails(fresh) != 0 {
		t.Fatalf("warnings: idle %d, returning %d, fresh %d", mails(idle), mails(returning), mails(fresh))
	}
	var body string
	if err := w.db.QueryRow(ctx, `SELECT body_text FROM mail_outbox WHERE person_id = ?`, idle).Scan(&body); err != nil {
		t.Fatal(err)
	}
	// The notice runs 30 days from the warning, past the account's own end.
	want := start.AddDate(0, 0, 30).Format("2 January 2006")
	if !strings.Contains(body, want) || !strings.Contains(body, "https://meet.example.com/signin") {
		t.Errorf("the warning does not give the date %s and the sign-in link:\n%s", want, body)
	}

	// Warned once: later runs do not mail again.
	w.clk.Advance(24 * time.Hour)
	w.run(t, false)
	if mails(idle) != 1 {
		t.Fatalf("the warning was sent %d times", mails(idle))
	}

	// The returning member signs in.
	if err := store.TouchAccountActive(ctx, w.db, returning, w.clk.Now()); err != nil {
		t.Fatal(err)
	}

	// 25 days later the five years are over, but not the notice period.
	w.clk.Advance(25 * 24 * time.Hour)
	run = w.run(t, false)
	if r := result(run, retention.InactiveRule, "accounts", retention.Erase); r.Rows != 0 {
		t.Fatalf("erased %d before the notice period ended", r.Rows)
	}
	// Past the notice period: the idle account is handed to erasure, the
	// returning one is not, and gets no new warning.
	w.clk.Advance(5 * 24 * time.Hour)
	run = w.run(t, false)
	if r := result(run, retention.InactiveRule, "accounts", retention.Erase); r.Rows != 1 {
		t.Fatalf("erased %d, want the idle account", r.Rows)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM erasure_runs WHERE reason = 'inactive' AND person_ref = ?`, audit.Ref(retentionSecret, "member", idle)); n != 1 {
		t.Fatalf("%d erasure runs for the idle member", n)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM erasure_runs WHERE person_ref = ?`, audit.Ref(retentionSecret, "member", returning)); n != 0 {
		t.Fatal("the member who signed in is being erased")
	}
	if mails(returning) != 1 {
		t.Fatalf("the member who signed in got %d warnings", mails(returning))
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM inactivity_warnings WHERE account_id = ?`, returning); n != 0 {
		t.Fatal("the void warning was kept")
	}
	// The erasure is started once, however often retention runs.
	w.clk.Advance(time.Hour)
	run = w.run(t, false)
	if r := result(run, retention.InactiveRule, "accounts", retention.Erase); r.Rows != 0 {
		t.Fatalf("a second run started %d more erasures", r.Rows)
	}
}

// TestRetentionHoldKeepsDeactivatedAccountUntilReleased: an account left
// deactivated past the grace period goes to erasure, unless a legal hold
// covers it; releasing the hold lets the next run erase it.
func TestRetentionHoldKeepsDeactivatedAccountUntilReleased(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRetentionWorld(t)
	id := w.account(t, "gone@example.com", w.clk.Now())
	if _, err := w.db.Exec(ctx, `UPDATE accounts SET status = 'deactivated', deactivated_at = ? WHERE id = ?`, w.clk.Now(), id); err != nil {
		t.Fatal(err)
	}
	h := w.hold(t, id, nil)
	if held, err := store.PersonHeld(ctx, w.db, id, w.clk.Now()); err != nil || !held {
		t.Fatalf("PersonHeld = %v, %v", held, err)
	}
	w.clk.Advance(31 * 24 * time.Hour)
	run := w.run(t, false)
	if r := result(run, retention.DeactivatedRule, "accounts", retention.Erase); r.Rows != 0 || r.Held != 1 {
		t.Fatalf("held account: %+v", r)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM erasure_runs`); n != 0 {
		t.Fatal("a held person was handed to erasure")
	}

	if _, err := w.svc.ReleaseHold(ctx, officerActor, h.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ReleaseHold(ctx, officerActor, h.ID); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("second release: %v", err)
	}
	for _, action := range []string{"retention.hold_place", "retention.hold_release"} {
		if n := countRows(t, w.db, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND subject_id = ?`, action, id); n != 1 {
			t.Errorf("%d audit entries %s", n, action)
		}
	}
	w.clk.Advance(time.Minute)
	run = w.run(t, false)
	if r := result(run, retention.DeactivatedRule, "accounts", retention.Erase); r.Rows != 1 {
		t.Fatalf("after the release: %+v", r)
	}
	e, _ := rightsService(t, w.db, retentionSecret, w.blobs, w.clk)
	e.SetErasureBatch(2)
	var runID string
	if err := w.db.QueryRow(ctx, `SELECT id FROM erasure_runs`).Scan(&runID); err != nil {
		t.Fatal(err)
	}
	if err := e.RunErasure(ctx, runID); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM accounts WHERE id = ?`, id); n != 0 {
		t.Fatal("the account survived its erasure")
	}
	// The record of the ended hold ages out 30 days later.
	w.clk.Advance(31 * 24 * time.Hour)
	w.run(t, false)
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM legal_holds`); n != 0 {
		t.Fatal("the ended hold's record survived its own rule")
	}
}

// TestRetentionHoldWithEndLapses: a hold with an end date stops holding
// at that date on its own.
func TestRetentionHoldWithEndLapses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRetentionWorld(t)
	ends := w.clk.Now().AddDate(0, 0, 10)
	h := w.hold(t, "acc_someone", &ends)
	for _, tc := range []struct {
		at   time.Time
		held bool
	}{{w.clk.Now(), true}, {ends.Add(-time.Second), true}, {ends, false}} {
		held, err := store.PersonHeld(ctx, w.db, "acc_someone", tc.at)
		if err != nil || held != tc.held {
			t.Errorf("held at %s = %v (%v), want %v", tc.at, held, err, tc.held)
		}
	}
	list, err := store.ListHolds(ctx, w.db, 10)
	if err != nil || len(list) != 1 || list[0].ID != h.ID || !list[0].InForce(w.clk.Now()) {
		t.Fatalf("holds = %+v, %v", list, err)
	}
}

// TestRetentionErasesGuestsAfterTheirLastMeeting: a guest whose every
// invitation lapsed more than the rule's period ago is handed to erasure
// by their places; a guest with a younger place elsewhere, and members,
// are not.
func TestRetentionErasesGuestsAfterTheirLastMeeting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRetentionWorld(t)
	now := w.clk.Now()
	host := w.account(t, "host@example.com", now)
	insert(t, w.db, "meetings", map[string]any{"id": "mtg_1", "host_id": host, "title": "Review", "starts_at": now.AddDate(-2, 0, 0),
		"time_zone": "UTC", "duration_minutes": 30, "state": "scheduled", "created_at": now, "updated_at": now})
	insert(t, w.db, "meetings", map[string]any{"id": "mtg_2", "host_id": host, "title": "Follow-up", "starts_at": now,
		"time_zone": "UTC", "duration_minutes": 30, "state": "scheduled", "created_at": now, "updated_at": now})
	place := func(id, meeting, email string, accountID any, expires time.Time) {
		insert(t, w.db, "meeting_participants", map[string]any{"id": id, "meeting_id": meeting, "account_id": accountID, "email": email,
			"name": "Guest " + id, "role": "participant", "invite_expires_at": expires, "created_at": now.AddDate(-2, 0, 0)})
	}
	lapsed := now.AddDate(-1, 0, -1)
	place("par_gone", "mtg_1", "gone@example.com", nil, lapsed)
	place("par_back1", "mtg_1", "back@example.com", nil, lapsed)
	place("par_back2", "mtg_2", "back@example.com", nil, now.AddDate(0, 1, 0))
	place("par_member", "mtg_1", "host@example.com", host, lapsed)

	dry := w.run(t, true)
	if r := result(dry, retention.GuestRule, "meeting_participants", retention.Erase); r.Rows != 1 || len(r.Examples) != 1 || r.Examples[0] != "par_gone" {
		t.Fatalf("dry run on guests = %+v", r)
	}
	run := w.run(t, false)
	if r := result(run, retention.GuestRule, "meeting_participants", retention.Erase); r.Rows != 1 {
		t.Fatalf("guest erasures = %+v", r)
	}
	var person string
	if err := w.db.QueryRow(ctx, `SELECT person FROM erasure_runs WHERE reason = 'guest-expired'`).Scan(&person); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(person, "par_gone") || strings.Contains(person, "par_back") || strings.Contains(person, "par_member") {
		t.Fatalf("the erasure is of %s", person)
	}
}

// TestRetentionInactiveMemberLeavesNoMarker: a member with a marker in
// every column the rights tests fill stops using the account; after the
// warning and the notice period retention hands them to the erasure
// engine, and a scan of the raw database and the file folder finds no
// marker outside the columns the data map keeps under a legal obligation.
func TestRetentionInactiveMemberLeavesNoMarker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRightsWorld(t)
	// The member was last seen five years ago, less ten days.
	if _, err := w.db.Exec(ctx, `UPDATE accounts SET last_active_at = ? WHERE id = ?`, w.clk.Now().AddDate(-5, 0, 10), w.id); err != nil {
		t.Fatal(err)
	}
	svc := retentionService(t, w.db, w.clk, w.blobs, rightsSecret)
	run := func() retention.Run {
		t.Helper()
		r, err := svc.Run(ctx, retain.Options{Trigger: retention.BySchedule, Record: true})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// The erasure runs retention started, which the erasure jobs carry out.
	startedRuns := func() []string {
		return queryIDs(t, w.db, `SELECT id FROM erasure_runs WHERE reason = 'inactive' ORDER BY id`)
	}
	if r := result(run(), retention.InactiveRule, "accounts", retention.Warn); r.Rows != 1 {
		t.Fatalf("warned %d", r.Rows)
	}
	w.clk.Advance(31 * 24 * time.Hour)
	run()
	started := startedRuns()
	if len(started) != 1 {
		t.Fatalf("erasures started: %v", started)
	}
	if err := w.rights(t).RunErasure(ctx, started[0]); err != nil {
		t.Fatal(err)
	}
	raw := w.scanRaw(t)
	for v, where := range w.m.where {
		if bytes.Contains(raw, []byte(v)) && !keptColumn(where) {
			t.Errorf("marker of %s survived the inactive member's erasure", where)
		}
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM accounts WHERE id = ?`, w.other); n != 1 {
		t.Error("the other member was erased too")
	}
}

// TestRetentionPrunesAuditHead: audit entries past five years go from the
// head of the chain, oldest first, and the log still verifies from the
// sealed anchor retention keeps. An entry a legal hold keeps stops the
// pruning there until the hold ends. Removing the first entry left by
// hand, or writing an anchor without the server's key, is still
// tampering, and verification names where.
func TestRetentionPrunesAuditHead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRetentionWorld(t)
	now := w.clk.Now()
	const heldPerson = "acc_held"
	for i := range 5 {
		subject := "acc_gone"
		if i == 2 {
			subject = heldPerson
		}
		if err := store.AppendAudit(ctx, w.db, retentionSecret, audit.Entry{
			At: now.AddDate(-5, 0, -2).Add(time.Duration(i) * time.Minute), Actor: audit.Party{Kind: "system"}, Action: "test.entry",
			Subject: audit.Party{Kind: "member", ID: subject}, Purpose: "security",
		}); err != nil {
			t.Fatal(err)
		}
	}
	hold := w.hold(t, heldPerson, nil)
	verify := func(secret []byte) audit.Result {
		t.Helper()
		res, err := store.VerifyAudit(ctx, w.db, secret, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	prunes := func() int {
		return countRows(t, w.db, `SELECT COUNT(*) FROM audit_log WHERE action = 'audit.pruned'`)
	}

	// A dry run counts the two entries before the held one, and removes
	// nothing.
	dry := w.run(t, true)
	if r := result(dry, "audit-5y", "audit_log", retention.Delete); r.Rows != 2 || r.Held != 1 || len(r.Examples) != 2 || r.Examples[0] != "1" {
		t.Fatalf("dry run on the audit log = %+v, want entries 1 and 2, one held", r)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM audit_log WHERE seq <= 5`); n != 5 {
		t.Fatalf("a dry run removed audit entries: %d of 5 left", n)
	}

	w.clk.Advance(time.Minute)
	run := w.run(t, false)
	if r := result(run, "audit-5y", "audit_log", retention.Delete); r.Rows != 2 || r.Held != 1 {
		t.Fatalf("audit log = %+v, want 2 removed and 1 held", r)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM audit_log WHERE seq <= 2`); n != 0 {
		t.Fatalf("%d of the entries before the held one are left", n)
	}
	if res := verify(retentionSecret); !res.Intact || res.Pruned == nil || res.Pruned.Seq != 2 {
		t.Fatalf("after the first prune: %+v", res)
	}

	// Once the hold ends, the rest of the expired head goes, in batches
	// of two, each recorded in the log.
	if _, err := w.svc.ReleaseHold(ctx, officerActor, hold.ID); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(time.Minute)
	run = w.run(t, false)
	if r := result(run, "audit-5y", "audit_log", retention.Delete); r.Rows != 3 || r.Held != 0 {
		t.Fatalf("audit log after the hold = %+v, want 3 removed", r)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM audit_log WHERE action = 'test.entry'`); n != 0 {
		t.Fatalf("%d expired entries left", n)
	}
	if n := prunes(); n != 3 {
		t.Fatalf("%d audit.pruned entries, want one per batch: 3", n)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM audit_anchors`); n != 1 {
		t.Errorf("%d anchors kept, want only the newest", n)
	}
	var detail string
	if err := w.db.QueryRow(ctx, `SELECT detail FROM audit_log WHERE action = 'audit.pruned' ORDER BY seq DESC LIMIT 1`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if d, err := audit.DecodeDetail(detail); err != nil || d["entries"] != "1" || d["through_seq"] != "5" || d["rule"] != "audit-5y" || len(d["through_hash"]) != 64 {
		t.Errorf("the last prune records %v (%v)", d, err)
	}
	res := verify(retentionSecret)
	left := countRows(t, w.db, `SELECT COUNT(*) FROM audit_log`)
	if !res.Intact || res.Pruned == nil || res.Pruned.Seq != 5 || res.Entries != int64(left) {
		t.Fatalf("after pruning to 5: %+v, %d entries in the log", res, left)
	}
	head, err := store.AuditHead(ctx, w.db)
	if err != nil || res.Head != head {
		t.Fatalf("head %v (%v), verified %v", head, err, res.Head)
	}
	// Nothing is left to prune.
	w.clk.Advance(time.Minute)
	if r := result(w.run(t, false), "audit-5y", "audit_log", retention.Delete); r.Rows != 0 || prunes() != 3 {
		t.Fatalf("a run with nothing expired pruned %+v", r)
	}

	brokenAt := func(res audit.Result, seq int64, reason audit.Reason, says string) {
		t.Helper()
		b := res.FirstBroken
		if res.Intact || b == nil || b.Seq != seq || b.Reason != reason || !strings.Contains(b.Message, says) {
			t.Fatalf("verification = %+v %+v, want broken at %d (%s) saying %q", res, b, seq, reason, says)
		}
	}
	// Only the server's key vouches for the anchor.
	brokenAt(verify(nil), 6, audit.ReasonPruneRecord, "secret key")
	var runID string
	if err := w.db.QueryRow(ctx, `SELECT run_id FROM audit_anchors`).Scan(&runID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Exec(ctx, `UPDATE audit_anchors SET run_id = 'ret_other'`); err != nil {
		t.Fatal(err)
	}
	brokenAt(verify(retentionSecret), 6, audit.ReasonPruneRecord, "forged or altered")
	if _, err := w.db.Exec(ctx, `UPDATE audit_anchors SET run_id = ?`, runID); err != nil {
		t.Fatal(err)
	}
	// Edits are found after the anchor as before.
	var purpose string
	if err := w.db.QueryRow(ctx, `SELECT purpose FROM audit_log WHERE seq = 7`).Scan(&purpose); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Exec(ctx, `UPDATE audit_log SET purpose = 'marketing' WHERE seq = 7`); err != nil {
		t.Fatal(err)
	}
	brokenAt(verify(retentionSecret), 7, audit.ReasonEdited, "entry 7")
	if _, err := w.db.Exec(ctx, `UPDATE audit_log SET purpose = ? WHERE seq = 7`, purpose); err != nil {
		t.Fatal(err)
	}
	if res := verify(retentionSecret); !res.Intact {
		t.Fatalf("restored: %+v", res.FirstBroken)
	}

	// The first entry left, removed by hand: the log no longer meets the
	// anchor, and the message names the entry that is gone.
	var prev string
	if err := w.db.QueryRow(ctx, `SELECT prev_hash FROM audit_log WHERE seq = 7`).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Exec(ctx, `DELETE FROM audit_log WHERE seq = 6`); err != nil {
		t.Fatal(err)
	}
	brokenAt(verify(retentionSecret), 7, audit.ReasonMissing, "entry 6 is missing")

	// An anchor written to cover it, with the right hash but without the
	// server's key, is refused.
	forged, err := audit.SealAnchor([]byte("not-the-server-secret-0123456789ab"), audit.Checkpoint{Seq: 6, Hash: prev}, w.clk.Now(), runID)
	if err != nil {
		t.Fatal(err)
	}
	insert(t, w.db, "audit_anchors", map[string]any{"seq": forged.Seq, "hash": forged.Hash, "pruned_at": forged.PrunedAt, "run_id": forged.RunID, "mac": forged.MAC})
	brokenAt(verify(retentionSecret), 7, audit.ReasonPruneRecord, "forged or altered")
	// Emptied from the anchor on, the log has lost its end.
	if _, err := w.db.Exec(ctx, `DELETE FROM audit_anchors WHERE seq = 6`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Exec(ctx, `DELETE FROM audit_log`); err != nil {
		t.Fatal(err)
	}
	brokenAt(verify(retentionSecret), 6, audit.ReasonTruncated, "removed from the end")
}
