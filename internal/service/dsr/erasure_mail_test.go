package dsr_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/privacy/rights/markerscan"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/store"
)

var erasureNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// erasureWorld is a member, the product's services over a real database,
// and a real SMTP server that refuses mail until the test lets it accept.
type erasureWorld struct {
	db     *database.DB
	clk    *clock.Fake
	smtp   *mailtest.Server
	mailer *mail.Service
	svc    *wire.Services
	m      *markerscan.Markers
	id     string
	email  string
}

func newErasureWorld(t *testing.T) *erasureWorld {
	t.Helper()
	w := &erasureWorld{db: dbtest.Open(t), clk: clock.NewFake(erasureNow), smtp: mailtest.Start(t), m: markerscan.New()}
	w.smtp.Refuse(451)
	var err error
	if w.mailer, err = mail.New(mail.Config{From: "Sessions <no-reply@sessions.test>", Outbox: store.NewOutbox(w.db),
		Sender: mail.NewSMTP(mail.SMTPConfig{Addr: w.smtp.Addr, Security: "none"}), Clock: w.clk}); err != nil {
		t.Fatal(err)
	}
	if w.svc, err = wire.New(wire.Parts{DB: w.db, Clock: w.clk, Secret: []byte("erasure-mail-test-secret-of-32-bytes-or-more"), Mail: w.mailer,
		Passwords: account.NewHasher(account.HashParams{Memory: 1024, Time: 1, Threads: 1}, nil)}); err != nil {
		t.Fatal(err)
	}
	w.id, w.email = account.NewID(), w.m.Email("accounts", "email")
	w.account(t, w.id, w.email, w.m.Mk("accounts", "name"))
	return w
}

// account creates an active account.
func (w *erasureWorld) account(t *testing.T, id, email, name string) {
	t.Helper()
	if err := store.CreateAccount(context.Background(), w.db, account.Account{ID: id, Email: email, PasswordHash: "x",
		PasswordChangedAt: erasureNow, Name: name, Status: account.Active,
		CreatedAt: erasureNow, UpdatedAt: erasureNow, LastActiveAt: erasureNow}); err != nil {
		t.Fatal(err)
	}
}

// deliver makes one delivery attempt of every message due, as the
// outbox's workers do.
func (w *erasureWorld) deliver(t *testing.T) {
	t.Helper()
	due, err := store.NewOutbox(w.db).Due(context.Background(), w.clk.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range due {
		if _, err := w.mailer.Deliver(context.Background(), d.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// erase has the member ask for the deletion of their account and carries
// the erasure out to the end.
func (w *erasureWorld) erase(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.svc.Accounts.RequestErasure(ctx, w.id); err != nil {
		t.Fatal(err)
	}
	w.deliver(t) // the mail server is down: the receipt waits for another try
	started, err := w.svc.Rights.StartRequestedErasures(ctx)
	if err != nil || len(started) != 1 {
		t.Fatalf("start the erasure: %v %v", started, err)
	}
	if err := w.svc.Rights.RunErasure(ctx, started[0]); err != nil {
		t.Fatal(err)
	}
	if run, err := store.ErasureRun(ctx, w.db, started[0]); err != nil || run.State != rights.RunDone {
		t.Fatalf("run = %+v, %v", run, err)
	}
	w.deliver(t)
}

// sweep runs the periodic sweep of erasure once.
func (w *erasureWorld) sweep(t *testing.T) {
	t.Helper()
	if _, err := w.svc.Rights.ResumeErasures(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (w *erasureWorld) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := w.db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestErasureKeepsTheMessagesAboutTheRequestUntilDelivered erases a
// member while the mail server refuses every message: the receipt of
// their request and the message saying it was carried out both wait in
// the outbox, holding nothing of the member but their address. Once the
// server accepts again both arrive, and the next sweep leaves no trace of
// the member, in the rows or in the database's files.
func TestErasureKeepsTheMessagesAboutTheRequestUntilDelivered(t *testing.T) {
	t.Parallel()
	w := newErasureWorld(t)
	w.erase(t)
	if got := w.smtp.Messages(); len(got) != 0 {
		t.Fatalf("a refusing server accepted %d messages", len(got))
	}
	if n := w.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ? AND template IN ('account.erasure-received', 'rights.erasure_done')`, w.email); n != 2 {
		t.Fatalf("%d of the two messages to the member wait in the outbox", n)
	}
	if n := w.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ?`, w.email); n != 2 {
		t.Errorf("%d messages to the member stayed, want only the two about the request", n)
	}
	for _, leak := range w.m.Except(w.email).Leaks(markerscan.ScanLive(t, w.db, "")) {
		t.Errorf("marker of %s outlived the erasure", leak)
	}
	// A sweep before delivery leaves them waiting.
	w.sweep(t)
	if n := w.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ?`, w.email); n != 2 {
		t.Fatalf("the sweep removed undelivered messages: %d left", n)
	}

	w.smtp.Accept()
	w.clk.Advance(time.Hour)
	w.deliver(t)
	subjects := map[string]bool{}
	for _, msg := range w.smtp.Messages() {
		if !strings.Contains(msg.Header.Get("To"), w.email) {
			t.Errorf("a message went to %q", msg.Header.Get("To"))
		}
		subjects[msg.Subject] = true
	}
	for _, want := range []string{"We received your request to delete your Sessions account", "Your account and data have been deleted"} {
		if !subjects[want] {
			t.Errorf("the member never received %q; got %v", want, subjects)
		}
	}
	w.sweep(t)
	if n := w.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ?`, w.email) + w.count(t, `SELECT COUNT(*) FROM erasure_run_mail`); n != 0 {
		t.Errorf("%d messages to the member or their records stayed after delivery", n)
	}
	for _, leak := range w.m.Leaks(markerscan.ScanLive(t, w.db, "")) {
		t.Errorf("marker of %s outlived the delivered messages", leak)
	}
}

// TestErasureMessagesGoWhenTheMailServerNeverComesBack erases a member
// while the mail server stays down: the messages about their request
// wait 7 days after the erasure and then go, undelivered.
func TestErasureMessagesGoWhenTheMailServerNeverComesBack(t *testing.T) {
	t.Parallel()
	w := newErasureWorld(t)
	w.erase(t)
	w.clk.Advance(store.ErasureMailKept - time.Minute)
	w.sweep(t)
	if n := w.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ?`, w.email); n != 2 {
		t.Fatalf("%d of the two messages still wait just before their time is up", n)
	}
	w.clk.Advance(2 * time.Minute)
	w.sweep(t)
	for _, leak := range w.m.Leaks(markerscan.ScanLive(t, w.db, "")) {
		t.Errorf("marker of %s outlived the time the messages are kept", leak)
	}
}

// TestErasureCheckpointsWhileOthersWrite erases a member while another
// connection keeps writing: the writes all go through, and the erasure
// still reports done with nothing of the member in the database's files
// but the address on the messages that wait for delivery.
func TestErasureCheckpointsWhileOthersWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newErasureWorld(t)
	other := account.NewID()
	w.account(t, other, "writer@example.com", "Writer")
	stop := make(chan struct{})
	wrote := make(chan int)
	failed := make(chan error, 1)
	go func() {
		n := 0
		defer func() { wrote <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := w.db.Exec(ctx, `INSERT INTO agenda_templates (id, account_id, name, items, created_at) VALUES (?, ?, 'Standing', '[]', ?)`,
				"agt_writer_"+strconv.Itoa(n), other, erasureNow); err != nil {
				failed <- err
				return
			}
			n++
		}
	}()
	w.erase(t)
	close(stop)
	n := <-wrote
	select {
	case err := <-failed:
		t.Fatalf("a write during the erasure failed: %v", err)
	default:
	}
	if got := w.count(t, `SELECT COUNT(*) FROM agenda_templates WHERE account_id = ?`, other); got != n {
		t.Errorf("%d of the %d writes during the erasure are there", got, n)
	}
	for _, leak := range w.m.Except(w.email).Leaks(markerscan.ScanLive(t, w.db, "")) {
		t.Errorf("marker of %s outlived the erasure", leak)
	}
}
