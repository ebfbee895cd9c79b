package meetings_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/service/meetings"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/store"
)

// limitedService is the meetings service with the daily invitation limits
// given, and the clock it reads.
func limitedService(t *testing.T, perDay, perAddress int) (*meetings.Service, *database.DB, *clock.Fake) {
	t.Helper()
	db := dbtest.Open(t)
	clk := clock.NewFake(testNow)
	s, err := wire.New(wire.Parts{Config: config.Config{BaseURL: "http://sessions.test",
		InvitationsPerDay: perDay, InvitationsPerAddressPerDay: perAddress}, DB: db, Clock: clk, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	return s.Meetings, db, clk
}

// unconfirmedAccount adds a member who never confirmed their address.
func unconfirmedAccount(t *testing.T, db *database.DB, email string) string {
	t.Helper()
	a := account.Account{ID: account.NewID(), Email: email, PasswordHash: "not-a-real-hash", PasswordChangedAt: testNow,
		Name: "Name of " + email, Status: account.Active, CreatedAt: testNow, UpdatedAt: testNow, LastActiveAt: testNow}
	if err := store.CreateAccount(context.Background(), db, a); err != nil {
		t.Fatalf("create account: %v", err)
	}
	return a.ID
}

func countRows(t *testing.T, db *database.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// fieldOf is what err says about the field, "" when nothing.
func fieldOf(err error, field string) string {
	if e, ok := errs.As(err); ok {
		return e.Fields[field]
	}
	return ""
}

// anonymous is what is left of a listed invitee once what differs between
// any two invitations anyway (id, address, time) is taken out.
func anonymous(p meeting.Participant) meeting.Participant {
	p.ID, p.Email, p.CreatedAt, p.InviteExpiresAt = "", "", time.Time{}, nil
	return p
}

// TestInviteDoesNotRevealWhetherAnAddressHasAnAccount invites a member, an
// address nobody holds and an address held by an account that never
// confirmed it: the answer and the participant list show the three alike
// until the member comes in, and only then name them.
func TestInviteDoesNotRevealWhetherAnAddressHasAnAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db := newService(t)
	host := newAccount(t, db, "host@example.com")
	member := newAccount(t, db, "member@example.com")
	unconfirmedAccount(t, db, "unconfirmed@example.com")
	m, err := svc.Create(ctx, host, "", testInput(""))
	if err != nil {
		t.Fatal(err)
	}

	var invited []meeting.Participant
	for _, addr := range []string{"member@example.com", "nobody@example.org", "unconfirmed@example.com"} {
		p, err := svc.Invite(ctx, host, m.ID, addr, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.AccountID != "" || p.AccountName != "" || p.DisplayNameOrEmpty() != "" || p.Accepted() {
			t.Fatalf("inviting %s answered %+v: it tells whether the address has an account", addr, p)
		}
		invited = append(invited, p)
	}
	for _, p := range invited[1:] {
		if anonymous(p) != anonymous(invited[0]) {
			t.Fatalf("invitees differ:\n%+v\n%+v", anonymous(invited[0]), anonymous(p))
		}
	}
	list, _, err := svc.Participants(ctx, host, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	page, err := svc.Page(ctx, host, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range [][]meeting.Participant{list, page.Participants} {
		if len(ps) != 4 {
			t.Fatalf("%d participants, want the host and three invitees", len(ps))
		}
		for _, p := range ps[1:] {
			if anonymous(p) != anonymous(invited[0]) || strings.Contains(p.DisplayName(), "Name of") {
				t.Fatalf("the list shows an invitee as %+v", p)
			}
		}
	}
	entries, err := store.AuditForSubject(ctx, db, m.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(string(e.Detail), "guest") {
			t.Fatalf("the audit entry %s says whether the invitee is a guest: %s", e.Action, e.Detail)
		}
	}
	// The invitation binds to the member's confirmed account, which is how
	// it shows in their list; never to an unconfirmed holder of the address.
	if n := countRows(t, db, `SELECT COUNT(*) FROM meeting_participants WHERE meeting_id = ? AND account_id = ?`, m.ID, member); n != 1 {
		t.Fatal("the member's invitation is not on their account")
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM meeting_participants WHERE email = ? AND account_id IS NOT NULL`, "unconfirmed@example.com"); n != 0 {
		t.Fatal("an invitation went to an account that never confirmed the address")
	}

	// Once the member comes in (the door records it), they are named.
	if err := store.AcceptParticipant(ctx, db, invited[0].ID, testNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	list, _, err = svc.Participants(ctx, host, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		if p.ID == invited[0].ID && (p.AccountID != member || p.DisplayName() != "Name of member@example.com" || !p.Accepted()) {
			t.Fatalf("after coming in, the member is listed as %+v", p)
		}
		if p.ID == invited[1].ID && p.Accepted() {
			t.Fatal("another invitee counts as come in")
		}
	}
}

// TestInviteNeedsTheInvitersConfirmedAddress: an account that never
// proved its own address cannot make the product mail anyone else.
func TestInviteNeedsTheInvitersConfirmedAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db := newService(t)
	host := unconfirmedAccount(t, db, "host@example.com")
	m, err := svc.Create(ctx, host, "", testInput(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Invite(ctx, host, m.ID, "victim@example.org", ""); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("an unconfirmed account invited someone: %v", err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ?`, "victim@example.org"); n != 0 {
		t.Fatalf("%d messages queued for a refused invitation", n)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM meeting_participants WHERE meeting_id = ?`, m.ID); n != 1 {
		t.Fatalf("%d participants after a refused invitation, want the host alone", n)
	}
}

// TestInvitationsAreLimitedPerInviterAndPerAddress: an inviter reaches
// their daily limit, and an address its daily limit of invitations from
// strangers, while someone who shares an organisation with the address
// may still invite it; a refusal stores and mails nothing, and the next
// day counts afresh.
func TestInvitationsAreLimitedPerInviterAndPerAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db, clk := limitedService(t, 3, 2)
	host := newAccount(t, db, "host@example.com")
	m, err := svc.Create(ctx, host, "", testInput(""))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := svc.Invite(ctx, host, m.ID, fmt.Sprintf("p%d@example.org", i), ""); err != nil {
			t.Fatalf("invitation %d: %v", i+1, err)
		}
	}
	_, err = svc.Invite(ctx, host, m.ID, "p3@example.org", "")
	if errs.CodeOf(err) != errs.RateLimited || errs.WaitOf(err) <= 0 {
		t.Fatalf("a fourth invitation with a limit of three: %v", err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ?`, "p3@example.org"); n != 0 {
		t.Fatal("a refused invitation was mailed")
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM meeting_participants WHERE email = ?`, "p3@example.org"); n != 0 {
		t.Fatal("a refused invitation was stored")
	}

	// One address, invited by strangers: two pass, the third is refused,
	// naming the address field.
	target := newAccount(t, db, "target@example.net")
	var strangers []string
	for i := range 3 {
		s := newAccount(t, db, fmt.Sprintf("stranger%d@example.com", i))
		strangers = append(strangers, s)
		sm, err := svc.Create(ctx, s, "", testInput(""))
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.Invite(ctx, s, sm.ID, "target@example.net", "")
		switch {
		case i < 2 && err != nil:
			t.Fatalf("stranger %d: %v", i+1, err)
		case i == 2 && (errs.CodeOf(err) != errs.RateLimited || fieldOf(err, "email") == ""):
			t.Fatalf("a third stranger's invitation to one address with a limit of two: %v", err)
		}
	}
	// A colleague of the address's owner is no stranger.
	colleague := newAccount(t, db, "colleague@example.com")
	o := org.Organisation{ID: "org_invitelimits", Name: "Acme", CreatedAt: testNow, UpdatedAt: testNow}
	if err := store.CreateOrganisation(ctx, db, o, colleague); err != nil {
		t.Fatal(err)
	}
	if err := store.AddMember(ctx, db, o.ID, target, org.Member, testNow); err != nil {
		t.Fatal(err)
	}
	cm, err := svc.Create(ctx, colleague, "", testInput(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Invite(ctx, colleague, cm.ID, "target@example.net", ""); err != nil {
		t.Fatalf("a colleague's invitation counted as a stranger's: %v", err)
	}

	clk.Set(testNow.Add(24 * time.Hour))
	if _, err := svc.Invite(ctx, host, m.ID, "p3@example.org", ""); err != nil {
		t.Fatalf("the next day: %v", err)
	}
	sm, err := svc.Create(ctx, strangers[2], "", testInput(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Invite(ctx, strangers[2], sm.ID, "target@example.net", ""); err != nil {
		t.Fatalf("the next day, to the address: %v", err)
	}
}

// TestInvitationLimitHoldsUnderConcurrency sends many invitations at once
// from one account, to meetings of its own so that no meeting's lock
// queues them: exactly the limit pass, because each is counted and read
// in one statement.
func TestInvitationLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const limit, tries = 4, 12
	svc, db, _ := limitedService(t, limit, tries)
	host := newAccount(t, db, "host@example.com")
	var ids []string
	for range tries {
		m, err := svc.Create(ctx, host, "", testInput(""))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		passed, denied int
	)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Invite(ctx, host, id, fmt.Sprintf("burst%d@example.org", i), "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				passed++
			case errs.CodeOf(err) == errs.RateLimited:
				denied++
			default:
				t.Errorf("invitation %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if passed != limit || denied != tries-limit {
		t.Fatalf("%d invitations passed and %d were refused, want %d and %d", passed, denied, limit, tries-limit)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM mail_outbox WHERE template = 'meeting.invitation'`); n != limit {
		t.Fatalf("%d invitations mailed, want %d", n, limit)
	}
}
