package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	mailpkg "github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/store"
)

var start = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

type fixture struct {
	db     *database.DB
	clock  *clock.Fake
	srv    *mailtest.Server
	svc    *mailpkg.Service
	runner *jobs.Runner // with setup.jobs only; not started
	logs   *bytes.Buffer
}

type setup struct {
	noSMTP      bool
	jobs        bool
	smtp        mailtest.Options
	security    string
	username    string
	password    string
	maxAttempts int
}

func newFixture(t *testing.T, s setup) *fixture {
	t.Helper()
	f := &fixture{db: dbtest.Open(t), clock: clock.NewFake(start), logs: &bytes.Buffer{}}
	f.srv = mailtest.StartWith(t, s.smtp)
	var sender mailpkg.Sender
	if !s.noSMTP {
		security := s.security
		if security == "" {
			security = "none"
		}
		sender = mailpkg.NewSMTP(mailpkg.SMTPConfig{
			Addr: f.srv.Addr, Security: security, Username: s.username, Password: s.password,
			HelloName: "sessions.example", TLS: f.srv.ClientTLS(),
		})
	}
	if s.jobs {
		f.runner = jobs.New(f.db, jobs.Config{Workers: 2})
		t.Cleanup(func() { _ = f.runner.Stop(mailtest.Wait) })
	}
	svc, err := mailpkg.New(mailpkg.Config{
		From:        "Sessions <no-reply@sessions.example>",
		Outbox:      store.NewOutbox(f.db),
		Sender:      sender,
		Jobs:        f.runner,
		Clock:       f.clock,
		Log:         slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MaxAttempts: s.maxAttempts,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

// enqueue writes m in its own committed transaction, as a module would
// alongside its own change.
func (f *fixture) enqueue(t *testing.T, m mailpkg.Message) string {
	t.Helper()
	var id string
	err := f.db.InTx(context.Background(), func(tx *database.Tx) error {
		var err error
		id, err = store.EnqueueMail(context.Background(), tx, f.clock.Now(), m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) get(t *testing.T, id string) mailpkg.Record {
	t.Helper()
	rec, err := f.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func (f *fixture) deliver(t *testing.T, id string, want mailpkg.Outcome) {
	t.Helper()
	got, err := f.svc.Deliver(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("deliver: %s, want %s", got, want)
	}
}

func newsletter() mailpkg.Message {
	return mailpkg.Message{
		PersonID: "person-1",
		Category: mailpkg.Marketing,
		Template: "news.monthly",
		To:       "Ada Lovelace <ada@example.com>",
		Subject:  "Neues im Mai: Grüße",
		Text:     "Hello Ada,\nhere is what is new.",
		HTML:     "<p>Hello Ada,</p><p>here is what is new.</p>",
		Headers: map[string]string{
			"List-Unsubscribe":      "<https://sessions.example/unsubscribe/t0k3n>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
	}
}

func TestDeliveryThroughJobs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{jobs: true})
	ctx := context.Background()
	if err := f.runner.Start(ctx); err != nil {
		t.Fatal(err)
	}

	id := f.enqueue(t, newsletter())
	f.svc.Dispatch(ctx, id)
	got := f.srv.Next(t)

	if got.EnvelopeFrom != "no-reply@sessions.example" || len(got.EnvelopeTo) != 1 || got.EnvelopeTo[0] != "ada@example.com" {
		t.Errorf("envelope = %q -> %q", got.EnvelopeFrom, got.EnvelopeTo)
	}
	if from := got.Header.Get("From"); from != `"Sessions" <no-reply@sessions.example>` && from != "Sessions <no-reply@sessions.example>" {
		t.Errorf("From = %q", from)
	}
	if to := got.Header.Get("To"); to != `"Ada Lovelace" <ada@example.com>` {
		t.Errorf("To = %q", to)
	}
	if got.Subject != "Neues im Mai: Grüße" {
		t.Errorf("Subject = %q", got.Subject)
	}
	if d, err := got.Header.Date(); err != nil || !d.Equal(start) {
		t.Errorf("Date = %v (%v), want %v", d, err, start)
	}
	if mid := got.Header.Get("Message-ID"); mid != "<"+id+"@sessions.example>" {
		t.Errorf("Message-ID = %q", mid)
	}
	if got.Header.Get("List-Unsubscribe") != "<https://sessions.example/unsubscribe/t0k3n>" ||
		got.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("unsubscribe headers = %q / %q", got.Header.Get("List-Unsubscribe"), got.Header.Get("List-Unsubscribe-Post"))
	}
	if got.Text != "Hello Ada,\nhere is what is new." || got.HTML != "<p>Hello Ada,</p><p>here is what is new.</p>" {
		t.Errorf("bodies = %q / %q", got.Text, got.HTML)
	}

	// The job records the delivery after the server has the message.
	waitFor(t, func() bool { return f.get(t, id).Status == mailpkg.Sent })
	rec := f.get(t, id)
	if rec.SentAt == nil || !rec.SentAt.Equal(start) || rec.Attempts != 1 || rec.LastError != "" {
		t.Fatalf("record after sending = %+v", rec)
	}
}

func TestSweepDeliversWhatWasNeverDispatched(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{jobs: true})
	// Enqueued and committed, but the process died before Dispatch: the
	// sweep, which runs when the job runner starts, sends it.
	id := f.enqueue(t, newsletter())
	if err := f.runner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := f.srv.Next(t)
	if got.Header.Get("Message-ID") != "<"+id+"@sessions.example>" {
		t.Fatalf("swept the wrong message: %q", got.Header.Get("Message-ID"))
	}
}

func TestRolledBackTransactionSendsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	ctx := context.Background()
	boom := errors.New("the module's own change failed")
	var id string
	err := f.db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		if id, err = store.EnqueueMail(ctx, tx, f.clock.Now(), newsletter()); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, id); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("rolled-back message is in the outbox: %v", err)
	}
	f.deliver(t, id, mailpkg.Skipped)
	all, err := f.svc.List(ctx, mailpkg.Filter{})
	if err != nil || len(all) != 0 {
		t.Fatalf("outbox = %v (%v)", all, err)
	}
	if n := f.srv.Attempts(); n != 0 {
		t.Fatalf("the server was offered %d messages", n)
	}
}

func TestRefusalIsRetriedWithBackoff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	id := f.enqueue(t, newsletter())
	f.srv.Refuse(451)

	f.deliver(t, id, mailpkg.Retrying)
	rec := f.get(t, id)
	if rec.Status != mailpkg.Pending || rec.Attempts != 1 || !rec.NextAttemptAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("after the first refusal: %+v", rec)
	}
	if rec.LastError != "recipient: SMTP 451 4.0.0" {
		t.Fatalf("last error = %q", rec.LastError)
	}

	// Not due yet: nothing is attempted.
	f.deliver(t, id, mailpkg.Skipped)
	if n := f.srv.Attempts(); n != 1 {
		t.Fatalf("server offered %d times, want 1", n)
	}

	// The second failure waits twice as long.
	f.clock.Advance(time.Minute)
	f.deliver(t, id, mailpkg.Retrying)
	if rec := f.get(t, id); rec.Attempts != 2 || !rec.NextAttemptAt.Equal(start.Add(3*time.Minute)) {
		t.Fatalf("after the second refusal: %+v", rec)
	}

	f.srv.Accept()
	f.clock.Advance(2 * time.Minute)
	f.deliver(t, id, mailpkg.Delivered)
	f.srv.Next(t)
	rec = f.get(t, id)
	if rec.Status != mailpkg.Sent || rec.Attempts != 3 || rec.SentAt == nil || !rec.SentAt.Equal(start.Add(3*time.Minute)) {
		t.Fatalf("after delivery: %+v", rec)
	}
	f.deliver(t, id, mailpkg.Skipped) // never sent twice
	if len(f.srv.Messages()) != 1 {
		t.Fatalf("received %d messages", len(f.srv.Messages()))
	}
}

func TestMaxAttemptsGivesUpAndStaffCanRetry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{maxAttempts: 3})
	ctx := context.Background()
	id := f.enqueue(t, newsletter())
	f.srv.Refuse(421)
	for attempt := 1; attempt <= 3; attempt++ {
		want := mailpkg.Retrying
		if attempt == 3 {
			want = mailpkg.GaveUp
		}
		f.deliver(t, id, want)
		f.clock.Advance(mailpkg.DefaultBackoff(attempt))
	}
	rec := f.get(t, id)
	if rec.Status != mailpkg.Failed || rec.Attempts != 3 {
		t.Fatalf("after the last attempt: %+v", rec)
	}
	f.clock.Advance(24 * time.Hour)
	f.deliver(t, id, mailpkg.Skipped)

	failed, err := f.svc.List(ctx, mailpkg.Filter{Status: mailpkg.Failed})
	if err != nil || len(failed) != 1 || failed[0].ID != id {
		t.Fatalf("failed list = %v (%v)", failed, err)
	}

	rec, err = f.svc.Retry(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != mailpkg.Pending || rec.Attempts != 0 || rec.LastError != "" {
		t.Fatalf("after retry: %+v", rec)
	}
	if _, err := f.svc.Retry(ctx, id); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("retrying a pending message: %v, want conflict", err)
	}
	if _, err := f.svc.Retry(ctx, "mail_nope"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("retrying a missing message: %v, want not found", err)
	}
	f.srv.Accept()
	f.deliver(t, id, mailpkg.Delivered)
}

func TestPermanentRefusalFailsAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	id := f.enqueue(t, newsletter())
	f.srv.Refuse(550)
	f.deliver(t, id, mailpkg.GaveUp)
	if rec := f.get(t, id); rec.Status != mailpkg.Failed || rec.LastError != "recipient: SMTP 550 5.0.0" {
		t.Fatalf("record = %+v", rec)
	}
}

func TestConcurrentWorkersSendOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{})
	id := f.enqueue(t, newsletter())
	const workers = 4
	outcomes := make(chan mailpkg.Outcome, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := f.svc.Deliver(context.Background(), id)
			if err != nil {
				t.Error(err)
			}
			outcomes <- o
		}()
	}
	wg.Wait()
	close(outcomes)
	sent := 0
	for o := range outcomes {
		if o == mailpkg.Delivered {
			sent++
		}
	}
	if sent != 1 || len(f.srv.Messages()) != 1 {
		t.Fatalf("%d workers reported sending, server received %d", sent, len(f.srv.Messages()))
	}
}

func TestWithoutSMTPMessagesStayPending(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{noSMTP: true})
	id := f.enqueue(t, newsletter())
	f.deliver(t, id, mailpkg.Skipped)
	if f.svc.Enabled() {
		t.Fatal("enabled without a sender")
	}
	rec := f.get(t, id)
	if rec.Status != mailpkg.Pending || rec.Attempts != 0 {
		t.Fatalf("record = %+v", rec)
	}
	if rec.Text != "Hello Ada,\nhere is what is new." || rec.PersonID != "person-1" || rec.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
		t.Fatalf("stored message = %+v", rec)
	}
}

func TestSTARTTLSWithAuthentication(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{
		smtp:     mailtest.Options{STARTTLS: true, Username: "sessions", Password: "s3cret-pass"},
		security: "starttls", username: "sessions", password: "s3cret-pass",
	})
	id := f.enqueue(t, newsletter())
	f.deliver(t, id, mailpkg.Delivered)
	f.srv.Next(t)
}

func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{smtp: mailtest.Options{ImplicitTLS: true}, security: "tls"})
	id := f.enqueue(t, newsletter())
	f.deliver(t, id, mailpkg.Delivered)
	f.srv.Next(t)
}

func TestWrongPasswordIsRetriedAndNotLogged(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{
		smtp:     mailtest.Options{STARTTLS: true, Username: "sessions", Password: "right-password"},
		security: "starttls", username: "sessions", password: "wrong-password",
	})
	id := f.enqueue(t, newsletter())
	f.deliver(t, id, mailpkg.Retrying)
	if rec := f.get(t, id); rec.LastError != "auth: SMTP 535 5.7.8" {
		t.Fatalf("last error = %q", rec.LastError)
	}
	logs := f.logs.String()
	for _, secret := range []string{"ada@example.com", "Ada", "wrong-password", "Grüße", "t0k3n"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, id) {
		t.Errorf("logs do not name the message id:\n%s", logs)
	}
}

func TestStarttlsRequiredWhenConfigured(t *testing.T) {
	t.Parallel()
	// A server without STARTTLS: the password must not go out in clear.
	f := newFixture(t, setup{security: "starttls", username: "u", password: "p"})
	id := f.enqueue(t, newsletter())
	f.deliver(t, id, mailpkg.Retrying)
	if rec := f.get(t, id); !strings.HasPrefix(rec.LastError, "tls:") {
		t.Fatalf("last error = %q", rec.LastError)
	}
	if f.srv.Attempts() != 0 {
		t.Fatal("the message was offered without TLS")
	}
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{noSMTP: true})
	ctx := context.Background()
	first := f.enqueue(t, newsletter())
	f.clock.Advance(time.Second)
	second := f.enqueue(t, newsletter())
	all, err := f.svc.List(ctx, mailpkg.Filter{})
	if err != nil || len(all) != 2 || all[0].ID != second || all[1].ID != first {
		t.Fatalf("list = %v (%v), want newest first", all, err)
	}
	one, err := f.svc.List(ctx, mailpkg.Filter{Limit: 1})
	if err != nil || len(one) != 1 {
		t.Fatalf("limit: %v (%v)", one, err)
	}
	sent, err := f.svc.List(ctx, mailpkg.Filter{Status: mailpkg.Sent})
	if err != nil || len(sent) != 0 {
		t.Fatalf("sent: %v (%v)", sent, err)
	}
	if _, err := f.svc.List(ctx, mailpkg.Filter{Status: "bogus"}); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("bad status: %v", err)
	}
	mine, err := store.MailOfPerson(ctx, f.db, "person-1")
	if err != nil || len(mine) != 2 {
		t.Fatalf("by person: %v (%v)", mine, err)
	}
}

func TestEnqueueRefusesInvalidMessage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{noSMTP: true})
	m := newsletter()
	m.Headers = nil // marketing without an unsubscribe header
	_, err := store.EnqueueMail(context.Background(), f.db, f.clock.Now(), m)
	if errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("got %v, want invalid", err)
	}
}

// waitFor polls until cond holds, for outcomes a background job records.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(mailtest.Wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killedAfterSending hands the message to the SMTP server and then stops
// the worker dead, as a SIGKILL between the server's answer and the
// record of the delivery would: nothing after the send runs.
type killedAfterSending struct{ mailpkg.Sender }

var errKilled = errors.New("the process was killed")

func (k killedAfterSending) Send(ctx context.Context, from, to string, msg []byte) error {
	if err := k.Sender.Send(ctx, from, to, msg); err != nil {
		return err
	}
	panic(errKilled)
}

// TestMessageOfADeadWorkerIsSentByAnotherAfterItsLease: an instance
// claims a message, hands it to the SMTP server and is killed before it
// records the delivery, leaving its River job running. Once the claim's
// lease (a minute and a half by default) has run out, the sweep of
// another instance gets the message sent, without waiting for River to
// rescue the dead job; the repeat carries the same Message-ID, by which
// the receiving server can drop it.
func TestMessageOfADeadWorkerIsSentByAnotherAfterItsLease(t *testing.T) {
	t.Parallel()
	f := newFixture(t, setup{jobs: true})
	ctx := context.Background()
	id := f.enqueue(t, newsletter())

	// The dead instance's delivery job, still marked running.
	jobID, err := f.runner.Enqueue(ctx, mailpkg.DeliverArgs{ID: id}, &jobs.Options{Unique: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1 WHERE id = ?`, jobID); err != nil {
		t.Fatal(err)
	}
	dead, err := mailpkg.New(mailpkg.Config{
		From:   "Sessions <no-reply@sessions.example>",
		Outbox: store.NewOutbox(f.db), Clock: f.clock,
		Sender: killedAfterSending{mailpkg.NewSMTP(mailpkg.SMTPConfig{Addr: f.srv.Addr, Security: "none", HelloName: "sessions.example"})},
	})
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != errKilled {
				t.Fatalf("the worker was not killed after sending: %v", r)
			}
		}()
		_, _ = dead.Deliver(ctx, id)
	}()
	first := f.srv.Next(t)
	if rec := f.get(t, id); rec.Status != mailpkg.Pending || rec.Attempts != 1 {
		t.Fatalf("after the kill: %+v", rec)
	}

	// While the lease holds, nobody sends it again.
	if err := f.runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep within the lease: %d (%v)", n, err)
	}

	f.clock.Advance(2 * time.Minute)
	if n, err := f.svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep after the lease: %d (%v)", n, err)
	}
	again := f.srv.Next(t)
	if mid := again.Header.Get("Message-ID"); mid == "" || mid != first.Header.Get("Message-ID") || mid != "<"+id+"@sessions.example>" {
		t.Fatalf("Message-ID of the repeat %q, of the first %q", mid, first.Header.Get("Message-ID"))
	}
	if again.Text != first.Text || again.Subject != first.Subject {
		t.Fatal("the repeat differs from the first delivery")
	}
	waitFor(t, func() bool { return f.get(t, id).Status == mailpkg.Sent })
	if rec := f.get(t, id); rec.Attempts != 2 {
		t.Fatalf("after the repeat: %+v", rec)
	}
}
