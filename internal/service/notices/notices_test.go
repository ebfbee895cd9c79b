package notices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/notice"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

var (
	noticeT0     = time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	noticeSecret = []byte("notice-test-secret-0123456789abcdef")
	noticeStaff  = audit.Party{Kind: "staff", ID: "acc_staff"}
	// noticePublisher may publish the notice.
	noticePublisher = service.Actor{AccountID: noticeStaff.ID, Roles: []staff.Role{staff.PrivacyOfficer}}
)

const noticeBase = "https://sessions.test"

// noticeDB is a fresh database with the registry seeded, as at start-up,
// and the service on it, its clock at noticeT0.
func noticeDB(t *testing.T) (*database.DB, *Service, *clock.Fake) {
	t.Helper()
	db := dbtest.Open(t)
	if _, err := store.SeedSubprocessors(context.Background(), db, vendors.Seed(), noticeT0); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(noticeT0)
	return db, newService(t, db, clk), clk
}

// newService builds the service on db, mail left in the outbox.
func newService(t *testing.T, db *database.DB, clk clock.Clock) *Service {
	t.Helper()
	st, err := store.New(db, noticeSecret)
	if err != nil {
		t.Fatal(err)
	}
	m := datamap.Default()
	return New(&service.Env{Config: config.Config{BaseURL: noticeBase}, Store: st, Clock: clk,
		Log: slog.New(slog.DiscardHandler), Secret: noticeSecret, Map: &m})
}

// countRows counts what query finds.
func countRows(t *testing.T, db *database.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// noticeMember inserts an account opened at created with the given status.
func noticeMember(t *testing.T, db *database.DB, email string, status account.Status, created time.Time) string {
	t.Helper()
	a := account.Account{
		ID: account.NewID(), Email: email, EmailVerifiedAt: &created, PasswordHash: "x", PasswordChangedAt: created,
		Name: "Name of " + email, Status: status, CreatedAt: created, UpdatedAt: created, LastActiveAt: created,
	}
	if err := store.CreateAccount(context.Background(), db, a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// changeRegistry edits a sub-processor, which changes the generated text.
func changeRegistry(t *testing.T, db *database.DB, activity string, at time.Time) {
	t.Helper()
	_, _, err := store.UpdateSubprocessor(context.Background(), db, vendors.Colossyan, vendors.Update{
		Activity: activity, Country: "GB", Mechanism: vendors.Adequacy, DataCategories: []string{"biometric.audio-video"}, Active: true,
	}, at)
	if err != nil {
		t.Fatal(err)
	}
}

// publish publishes as staff at the time at.
func publish(t *testing.T, svc *Service, clk *clock.Fake, significant bool, summary string, at time.Time) notice.Version {
	t.Helper()
	clk.Set(at)
	v, err := svc.Publish(context.Background(), noticePublisher, notice.Publication{Significant: significant, Summary: summary})
	if err != nil {
		t.Fatalf("PublishNotice: %v", err)
	}
	return v
}

// TestFirstNoticeOnceAcrossInstances starts several "instances" (separate
// connection pools on one database) that all publish the first version at
// once: exactly one wins and every one sees its version.
func TestFirstNoticeOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first, target := dbtest.OpenTarget(t)
	if _, err := store.SeedSubprocessors(ctx, first, vendors.Seed(), noticeT0); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CurrentNotice(ctx, first); !errors.Is(err, database.ErrNotFound) || errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("CurrentNotice before any publication = %v, want not found", err)
	}
	dbs := []*database.DB{first}
	for range 3 {
		db, err := database.Open(ctx, target.DatabaseURL, target.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	var wg sync.WaitGroup
	var won atomic.Int32
	hashes := make([]string, len(dbs))
	clk := clock.NewFake(noticeT0)
	for i, db := range dbs {
		svc := newService(t, db, clk)
		wg.Go(func() {
			v, published, err := svc.PublishFirst(ctx)
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
				return
			}
			if published {
				won.Add(1)
			}
			hashes[i] = v.Hash
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d instances published the first version, want exactly 1", won.Load())
	}
	if n := countRows(t, first, `SELECT COUNT(*) FROM notice_versions`); n != 1 {
		t.Fatalf("%d versions, want 1", n)
	}
	v, err := store.CurrentNotice(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if v.Number != 1 || v.Significant || v.PublishedBy != "" || v.NoticeID != notice.ID || v.Label() != "1" {
		t.Errorf("first version = %+v", v)
	}
	svc := newService(t, first, clk)
	doc, err := svc.generate(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if v.Body != doc.Markdown() || v.Hash != notice.HashOf(v.Body) || !slicesEqualSections(v.Sections, doc.Sections) {
		t.Error("the first version is not the generated notice with its hash")
	}
	for i, h := range hashes {
		if h != v.Hash {
			t.Errorf("instance %d saw hash %s", i, h)
		}
	}
	// Starting again publishes nothing.
	clk.Set(noticeT0.Add(time.Hour))
	if _, published, err := svc.PublishFirst(ctx); err != nil || published {
		t.Fatalf("second start: published=%v err=%v", published, err)
	}
	// The automatic publication is not a staff action; nothing is audited.
	if n := countRows(t, first, `SELECT COUNT(*) FROM audit_log WHERE action = 'notice.publish'`); n != 0 {
		t.Errorf("%d audit entries for the automatic publication", n)
	}
}

func slicesEqualSections(a, b []notice.Section) bool {
	return notice.Document{Sections: a}.Markdown() == notice.Document{Sections: b}.Markdown()
}

func TestPublishNoticeVersionsAndHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, svc, clk := noticeDB(t)
	v1, _, err := svc.PublishFirst(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Nothing changed: nothing to publish.
	clk.Set(noticeT0.Add(time.Hour))
	_, err = svc.Publish(ctx, noticePublisher, notice.Publication{Summary: "Nothing really changed."})
	if errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("publishing an unchanged notice = %v, want a conflict", err)
	}

	changeRegistry(t, db, "Editing of video tutorials", noticeT0.Add(2*time.Hour))
	doc, err := svc.generate(ctx, db)
	if err != nil {
		t.Fatal(err)
	}

	// Bad input and a stale review write nothing.
	bad := []notice.Publication{
		{Significant: true},
		{Significant: true, Summary: strings.Repeat("y", notice.MaxSummary+1)},
		{Significant: true, Summary: "Colossyan's activity changed.", ExpectHash: v1.Hash},
	}
	clk.Set(noticeT0.Add(3 * time.Hour))
	for _, p := range bad {
		if _, err := svc.Publish(ctx, noticePublisher, p); err == nil {
			t.Fatalf("PublishNotice(%+v) succeeded", p)
		}
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM notice_versions`); n != 1 {
		t.Fatalf("refused publications left %d versions", n)
	}

	// Only staff who may publish the notice do.
	if _, err := svc.Publish(ctx, service.Member("acc_member"), notice.Publication{Significant: true, Summary: "Colossyan's activity changed."}); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("a member published: %v", err)
	}
	v2, err := svc.Publish(ctx, noticePublisher,
		notice.Publication{Significant: true, Summary: "  Colossyan's activity changed.  ", ExpectHash: doc.Hash()})
	if err != nil {
		t.Fatal(err)
	}
	if v2.Number != 2 || !v2.Significant || v2.Summary != "Colossyan's activity changed." || v2.PublishedBy != noticeStaff.ID ||
		v2.Hash != doc.Hash() || !v2.PublishedAt.Equal(noticeT0.Add(3*time.Hour)) {
		t.Errorf("version 2 = %+v", v2)
	}

	// The history keeps each version's own text.
	list, err := store.NoticeVersions(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Number != 2 || list[1].Number != 1 || list[0].Body != "" || list[0].Hash != v2.Hash {
		t.Fatalf("history = %+v", list)
	}
	old, err := store.NoticeVersion(ctx, db, 1)
	if err != nil {
		t.Fatal(err)
	}
	if old.Body != v1.Body || strings.Contains(old.Body, "Editing of video tutorials") {
		t.Error("version 1 changed after version 2 was published")
	}
	cur, err := store.CurrentNotice(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Number != 2 || !strings.Contains(cur.Body, "Editing of video tutorials") || len(cur.Sections) == 0 {
		t.Errorf("current = version %d", cur.Number)
	}
	if _, err := store.NoticeVersion(ctx, db, 9); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("version 9 = %v, want not found", err)
	}

	// The publication is audited, with no personal data in the detail.
	recs, err := store.RecentAudit(ctx, db, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].Action != "notice.publish" || recs[0].ActorID != noticeStaff.ID ||
		!strings.Contains(recs[0].Detail, `"version":"2"`) || !strings.Contains(recs[0].Detail, `"significant":"true"`) ||
		strings.Contains(recs[0].Detail, "Colossyan") {
		t.Errorf("audit entry = %+v", recs[0])
	}
}

func TestNoticeAcknowledgement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, svc, clk := noticeDB(t)
	if _, _, err := svc.PublishFirst(ctx); err != nil {
		t.Fatal(err)
	}
	ada := noticeMember(t, db, "ada@example.com", account.Active, noticeT0.Add(time.Hour))

	pending := func(id string) int {
		t.Helper()
		v, ok, err := svc.ToAcknowledge(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return 0
		}
		return v.Number
	}
	if n := pending(ada); n != 0 {
		t.Fatalf("banner for version %d before any significant change", n)
	}

	changeRegistry(t, db, "Editing of video tutorials", noticeT0.Add(2*time.Hour))
	publish(t, svc, clk, false, "Colossyan's activity changed.", noticeT0.Add(3*time.Hour))
	if n := pending(ada); n != 0 {
		t.Fatalf("a version that is not significant asks for acknowledgement (%d)", n)
	}

	changeRegistry(t, db, "Editing of training videos", noticeT0.Add(4*time.Hour))
	publish(t, svc, clk, true, "Colossyan edits training videos now.", noticeT0.Add(5*time.Hour))
	newcomer := noticeMember(t, db, "new@example.com", account.Active, noticeT0.Add(6*time.Hour))
	if n := pending(ada); n != 3 {
		t.Fatalf("pending = %d, want 3", n)
	}
	if n := pending(newcomer); n != 0 {
		t.Errorf("a member who joined after the change is asked to acknowledge version %d", n)
	}

	clk.Set(noticeT0.Add(7 * time.Hour))
	if _, err := svc.Acknowledge(ctx, service.Member(ada), 7); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("acknowledging version 7 = %v, want invalid", err)
	}
	ack, err := svc.Acknowledge(ctx, service.Member(ada), 0)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Version != 3 || !ack.AcknowledgedAt.Equal(noticeT0.Add(7*time.Hour)) {
		t.Errorf("acknowledgement = %+v", ack)
	}
	clk.Set(noticeT0.Add(8 * time.Hour))
	again, err := svc.Acknowledge(ctx, service.Member(ada), 3)
	if err != nil || !again.AcknowledgedAt.Equal(ack.AcknowledgedAt) {
		t.Errorf("second acknowledgement = %+v, %v; want the first one", again, err)
	}
	if n := pending(ada); n != 0 {
		t.Errorf("still pending %d after the acknowledgement", n)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'notice.acknowledge' AND subject_id = ?`, ada); n != 1 {
		t.Errorf("%d audit entries for the acknowledgement, want 1", n)
	}
	acks, err := store.NoticeAcknowledgements(ctx, db, ada)
	if err != nil || len(acks) != 1 || acks[0].Version != 3 {
		t.Errorf("acknowledgements = %+v, %v", acks, err)
	}

	// A later significant version asks again; acknowledging it covers
	// every earlier one.
	changeRegistry(t, db, "Editing of product videos", noticeT0.Add(9*time.Hour))
	publish(t, svc, clk, true, "Colossyan edits product videos now.", noticeT0.Add(10*time.Hour))
	if n := pending(ada); n != 4 {
		t.Fatalf("pending = %d, want 4", n)
	}
	clk.Set(noticeT0.Add(11 * time.Hour))
	if _, err := svc.Acknowledge(ctx, service.Member(ada), 4); err != nil {
		t.Fatal(err)
	}
	if n := pending(ada); n != 0 {
		t.Errorf("still pending %d", n)
	}
}

// mailWorker is the job RegisterJobs registers, with a hook after each
// queued message for tests.
func mailWorker(svc *Service, batch int, queued func(context.Context, string), done chan<- error) func(context.Context, jobs.Job[notice.MailArgs]) error {
	return func(ctx context.Context, _ jobs.Job[notice.MailArgs]) error {
		_, err := svc.mailChanges(ctx, batch, queued)
		if done != nil {
			done <- err
		}
		return err
	}
}

func noticeRunner(db *database.DB) *jobs.Runner {
	return jobs.New(db, jobs.Config{Workers: 2, RetryDelay: func(int) time.Duration { return 10 * time.Millisecond }, Log: slog.New(slog.DiscardHandler)})
}

// wait bounds how long the job tests wait for a worker; it stops a hung
// test and measures nothing.
const wait = 60 * time.Second

// TestSignificantNoticeMailSurvivesRestart publishes a significant
// version, lets a job runner queue part of the first batch and stops it
// as a crash would, then starts a new runner: every active member who was
// a member at publication gets exactly one e-mail, through a real SMTP
// server, and nobody else gets any.
func TestSignificantNoticeMailSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, svc, clk := noticeDB(t)
	if _, _, err := svc.PublishFirst(ctx); err != nil {
		t.Fatal(err)
	}
	var active []string
	for i := range 12 {
		noticeMember(t, db, fmt.Sprintf("member%02d@example.com", i), account.Active, noticeT0)
		active = append(active, fmt.Sprintf("member%02d@example.com", i))
	}
	noticeMember(t, db, "gone@example.com", account.Deactivated, noticeT0)
	noticeMember(t, db, "leaving@example.com", account.ErasurePending, noticeT0)
	changeRegistry(t, db, "Editing of video tutorials", noticeT0.Add(time.Hour))
	clk.Set(noticeT0.Add(2 * time.Hour))
	v := publish(t, svc, clk, true, "Colossyan's activity changed.", clk.Now())
	clk.Set(noticeT0.Add(3 * time.Hour))
	noticeMember(t, db, "late@example.com", account.Active, clk.Now())

	// The first process queues three of a batch of five, then hangs until
	// it is stopped.
	first := noticeRunner(db)
	var dispatched atomic.Int32
	stuck := make(chan struct{})
	jobs.Register(first, mailWorker(svc, 5, func(ctx context.Context, _ string) {
		if dispatched.Add(1) == 3 {
			close(stuck)
			<-ctx.Done()
		}
	}, nil))
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Enqueue(ctx, notice.MailArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stuck:
	case <-time.After(wait):
		t.Fatal("the first runner never queued three messages")
	}
	if err := first.Stop(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM notice_mailings WHERE version = ?`, v.Number); n != 3 {
		t.Fatalf("after the crash %d members are marked, want 3", n)
	}

	// A new process finishes the work.
	second := noticeRunner(db)
	done := make(chan error, 8)
	jobs.Register(second, mailWorker(svc, 5, nil, done))
	if err := second.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer second.Stop(wait)
	if _, err := second.Enqueue(ctx, notice.MailArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the mail job failed: %v", err)
			}
		case <-time.After(wait):
			t.Fatal("the second runner did not finish the announcement")
		}
		if cur, err := store.NoticeVersion(ctx, db, v.Number); err == nil && cur.MailedAt != nil {
			break
		}
	}

	// Deliver the outbox to a real SMTP server.
	smtp := mailtest.Start(t)
	mailer, err := mail.New(mail.Config{From: "Sessions <no-reply@sessions.test>", Outbox: store.NewOutbox(db), Clock: clk,
		Sender: mail.NewSMTP(mail.SMTPConfig{Addr: smtp.Addr, Security: "none"})})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := mailer.List(ctx, mail.Filter{Status: mail.Pending, Limit: mail.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range pending {
		if out, err := mailer.Deliver(ctx, rec.ID); err != nil || out != mail.Delivered {
			t.Fatalf("deliver %s: %s %v", rec.ID, out, err)
		}
	}
	var got []string
	for _, m := range smtp.Messages() {
		got = append(got, m.EnvelopeTo...)
		if !strings.Contains(m.Text, "Colossyan's activity changed.") || !strings.Contains(m.Text, noticeBase+"/privacy/notice/v/2") {
			t.Errorf("announcement text:\n%s", m.Text)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, active) {
		t.Fatalf("recipients = %v\nwant each active member once: %v", got, active)
	}

	// Running again queues nothing.
	if n, err := svc.mailChanges(ctx, 5, nil); err != nil || n != 0 {
		t.Fatalf("a later run queued %d (%v), want 0", n, err)
	}
}

// TestNoticeMailConcurrentRunsSendOnce runs the job twice at the same
// time, as two instances could: the primary key lets each member's mail
// through once.
func TestNoticeMailConcurrentRunsSendOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, svc, clk := noticeDB(t)
	if _, _, err := svc.PublishFirst(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		noticeMember(t, db, fmt.Sprintf("m%d@example.com", i), account.Active, noticeT0)
	}
	changeRegistry(t, db, "Editing of video tutorials", noticeT0.Add(time.Hour))
	clk.Set(noticeT0.Add(2 * time.Hour))
	publish(t, svc, clk, true, "Colossyan's activity changed.", clk.Now())

	var wg sync.WaitGroup
	var total atomic.Int32
	for range 3 {
		wg.Go(func() {
			n, err := svc.mailChanges(ctx, 2, nil)
			if err != nil {
				t.Error(err)
			}
			total.Add(int32(n))
		})
	}
	wg.Wait()
	if total.Load() != 9 {
		t.Errorf("the runs queued %d messages together, want 9", total.Load())
	}
	if n := countRows(t, db, `SELECT COUNT(DISTINCT person_id) FROM mail_outbox WHERE template = ?`, notice.MailTemplate); n != 9 {
		t.Errorf("%d members have the announcement, want 9", n)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM mail_outbox WHERE template = ?`, notice.MailTemplate); n != 9 {
		t.Errorf("%d announcements in the outbox, want 9", n)
	}
}

func TestNonSignificantNoticeSendsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, svc, clk := noticeDB(t)
	if _, _, err := svc.PublishFirst(ctx); err != nil {
		t.Fatal(err)
	}
	ada := noticeMember(t, db, "ada@example.com", account.Active, noticeT0)
	changeRegistry(t, db, "Editing of video tutorials", noticeT0.Add(time.Hour))
	clk.Set(noticeT0.Add(2 * time.Hour))
	v := publish(t, svc, clk, false, "Colossyan's activity changed.", clk.Now())
	if n, err := svc.MailChanges(ctx); err != nil || n != 0 {
		t.Fatalf("queued %d (%v), want nothing", n, err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM mail_outbox`); n != 0 {
		t.Errorf("%d messages in the outbox", n)
	}
	if _, ok, err := svc.ToAcknowledge(ctx, ada); err != nil || ok {
		t.Errorf("version %d asks for acknowledgement (%v)", v.Number, err)
	}
}
