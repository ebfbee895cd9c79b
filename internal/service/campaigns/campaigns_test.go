package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/marketing"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/consents"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

var mktSecret = []byte("marketing-store-secret-0123456789abcdef")

var mktNow = time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)

// mktStaff may send marketing and decide objections.
var mktStaff = service.Actor{AccountID: "acc_staff", Roles: []staff.Role{staff.Admin, staff.PrivacyOfficer}}

// mktService builds the service on a fresh database, its clock at
// mktNow, mail left in the outbox.
func mktService(t *testing.T) (*Service, *database.DB, *clock.Fake) {
	t.Helper()
	db := dbtest.Open(t)
	st, err := store.New(db, mktSecret)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(mktNow)
	m := datamap.Default()
	env := &service.Env{Store: st, Clock: clk, Log: slog.New(slog.DiscardHandler), Secret: mktSecret, Map: &m}
	return New(env, consents.New(env)), db, clk
}

// mktSuppressed reports whether the address is on the suppression list.
func mktSuppressed(t *testing.T, db *database.DB, email string) bool {
	t.Helper()
	ok, err := store.Suppressed(context.Background(), db, marketing.SuppressionDigest(mktSecret, email))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// mktAccount inserts an active account, verified when asked.
func mktAccount(t *testing.T, db *database.DB, email string, verified bool) string {
	t.Helper()
	now := mktNow
	a := account.Account{
		ID: account.NewID(), Email: email, PasswordHash: "x", PasswordChangedAt: now,
		Name: "Name of " + email, Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if verified {
		a.EmailVerifiedAt = &now
	}
	if err := store.CreateAccount(context.Background(), db, a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// mktChild makes the account a ten-year-old's in Germany.
func mktChild(t *testing.T, db *database.DB, id string) {
	t.Helper()
	dob := mktNow.AddDate(-10, 0, 0).Format(time.DateOnly)
	if _, err := db.Exec(context.Background(), `INSERT INTO profiles (account_id, birth_date, country, created_at, updated_at) VALUES (?, ?, 'DE', ?, ?)`,
		id, dob, mktNow, mktNow); err != nil {
		t.Fatal(err)
	}
}

func mktAuditCount(t *testing.T, db *database.DB, action string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = ?`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mktPrefs(t *testing.T, svc *Service, id string) marketing.Preferences {
	t.Helper()
	p, err := svc.Preferences(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMarketingDefaultsFollowTheRelationship(t *testing.T) {
	t.Parallel()
	svc, db, _ := mktService(t)
	customer := mktAccount(t, db, "customer@example.com", true)
	unverified := mktAccount(t, db, "unverified@example.com", false)
	child := mktAccount(t, db, "child@example.com", true)
	mktChild(t, db, child)
	for _, c := range []struct {
		id   string
		want bool
	}{{customer, true}, {unverified, false}, {child, false}} {
		p := mktPrefs(t, svc, c.id)
		for _, ch := range marketing.Channels {
			if p.On(ch) != c.want {
				t.Errorf("%s: %s is %v, want %v", c.id, ch, p.On(ch), c.want)
			}
		}
	}
	if _, err := svc.Preferences(context.Background(), "acc_missing"); !errors.Is(err, database.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}

func TestSetMarketingChannelsIsAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db, _ := mktService(t)
	id := mktAccount(t, db, "ada@example.com", true)
	actor := service.Member(id)
	changes := map[string]bool{string(marketing.SMS): false, string(marketing.Email): true}
	if err := svc.SetChannels(ctx, actor, changes, marketing.BySettings); err != nil {
		t.Fatal(err)
	}
	p := mktPrefs(t, svc, id)
	if p.On(marketing.SMS) || !p.On(marketing.Email) || !p.On(marketing.Phone) {
		t.Fatalf("channels after the change: %v", p.Channels())
	}
	recs, err := store.AuditForSubject(ctx, db, id, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Action != "marketing.preferences" || !strings.Contains(recs[0].Detail, `"channel.sms":"off"`) {
		t.Fatalf("audit: %+v", recs)
	}
	// Nothing to change writes nothing.
	if err := svc.SetChannels(ctx, actor, map[string]bool{string(marketing.SMS): false}, marketing.BySettings); err != nil {
		t.Fatal(err)
	}
	if n := mktAuditCount(t, db, "marketing.preferences"); n != 1 {
		t.Fatalf("%d audit entries, want 1", n)
	}
}

func TestObjectionToMarketingIsAbsoluteAndOutlivesTheAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db, clk := mktService(t)
	id := mktAccount(t, db, "Ada@Example.com", true)
	other := mktAccount(t, db, "bob@example.com", true)
	req := marketing.ObjectionRequest{Kind: marketing.ObjectMarketing}

	res, err := svc.object(ctx, anonymous, id, req, marketing.ByUnsubscribe, "cmp_1")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Objection.Status != marketing.Upheld || res.Objection.CampaignID != "cmp_1" {
		t.Fatalf("result: %+v", res)
	}
	mkt, prof, err := store.Objections(ctx, db, id)
	if err != nil || !mkt || prof {
		t.Fatalf("objections: %v %v %v", mkt, prof, err)
	}
	p := mktPrefs(t, svc, id)
	for _, c := range marketing.Channels {
		if p.On(c) || p.Chosen[c] {
			t.Errorf("%s stays on after the objection", c)
		}
	}
	if !mktSuppressed(t, db, " ada@example.COM") {
		t.Fatal("the address is not suppressed")
	}
	if mktSuppressed(t, db, "bob@example.com") {
		t.Fatal("another address is suppressed")
	}
	if mkt, _, _ := store.Objections(ctx, db, other); mkt {
		t.Fatal("another member's objection shows")
	}

	// A replay changes nothing and writes no audit entry.
	before := mktAuditCount(t, db, "marketing.object")
	clk.Advance(time.Hour)
	res, err = svc.object(ctx, anonymous, id, req, marketing.ByUnsubscribe, "cmp_1")
	if err != nil || res.Changed {
		t.Fatalf("replay: %+v %v", res, err)
	}
	if n := mktAuditCount(t, db, "marketing.object"); n != before || before != 1 {
		t.Fatalf("audit entries %d then %d, want 1 and 1", before, n)
	}
	var rows int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM objections WHERE person_id = ?`, id).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("%d objection rows (%v), want 1", rows, err)
	}
	// Switching a channel back on is refused for good.
	if _, err := p.Edit(map[string]bool{"email": true}, true); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("switching back on: %v", err)
	}

	// Erasing the account keeps the suppression, without the account id.
	if _, err := db.Exec(ctx, `DELETE FROM accounts WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if !mktSuppressed(t, db, "ada@example.com") {
		t.Fatal("suppression lost with the account")
	}
	var left int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM marketing_suppressions WHERE account_id IS NULL`).Scan(&left); err != nil || left != 1 {
		t.Fatalf("%d anonymous suppressions (%v), want 1", left, err)
	}
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM objections WHERE person_id = ?`, id).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d objection rows after erasure, want 0", rows)
	}
}

func TestObjectionToProfilingIsSeparate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db, _ := mktService(t)
	id := mktAccount(t, db, "ada@example.com", true)
	if _, err := svc.Object(ctx, service.Member(id),
		marketing.ObjectionRequest{Kind: marketing.ObjectProfiling}, marketing.BySettings); err != nil {
		t.Fatal(err)
	}
	mkt, prof, err := store.Objections(ctx, db, id)
	if err != nil || mkt || !prof {
		t.Fatalf("objections: marketing %v profiling %v %v", mkt, prof, err)
	}
	if p := mktPrefs(t, svc, id); !p.On(marketing.Email) || p.Suppressed {
		t.Fatal("an objection to profiling switched marketing off")
	}
}

func TestLegitimateInterestObjectionWaitsForStaff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db, clk := mktService(t)
	id := mktAccount(t, db, "ada@example.com", true)
	me := service.Member(id)
	req := marketing.ObjectionRequest{Kind: marketing.ObjectLegitimateInterest, Purpose: "statistics", Statement: "I do not want to be counted"}
	first, err := svc.Object(ctx, me, req, marketing.ByAPI)
	if err != nil || first.Objection.Status != marketing.Pending || !first.Changed {
		t.Fatalf("first: %+v %v", first, err)
	}
	clk.Advance(time.Minute)
	again, err := svc.Object(ctx, me, req, marketing.ByAPI)
	if err != nil || again.Changed || again.Objection.ID != first.Objection.ID {
		t.Fatalf("asking again made another: %+v %v", again, err)
	}
	if mkt, prof, _ := store.Objections(ctx, db, id); mkt || prof {
		t.Fatal("a pending objection counts as an absolute one")
	}
	pending, err := store.PendingObjections(ctx, db)
	if err != nil || len(pending) != 1 || pending[0].Statement != req.Statement {
		t.Fatalf("pending: %+v %v", pending, err)
	}
	staffer := mktStaff
	d := marketing.Decision{Status: marketing.Overridden, Grounds: "The statistics are aggregated and needed to size the service."}
	clk.Advance(time.Hour)
	got, err := svc.DecideObjection(ctx, staffer, first.Objection.ID, d)
	if err != nil || got.Status != marketing.Overridden || got.DecidedAt == nil || got.Grounds != d.Grounds {
		t.Fatalf("decide: %+v %v", got, err)
	}
	if _, err := svc.DecideObjection(ctx, staffer, first.Objection.ID, marketing.Decision{Status: marketing.Upheld}); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("second decision: %v", err)
	}
	if _, err := svc.DecideObjection(ctx, staffer, "obj_missing", marketing.Decision{Status: marketing.Upheld}); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("unknown objection: %v", err)
	}
	if pending, _ := store.PendingObjections(ctx, db); len(pending) != 0 {
		t.Fatalf("still pending: %+v", pending)
	}
	if n := mktAuditCount(t, db, "objection.decide"); n != 1 {
		t.Fatalf("%d decision entries, want 1", n)
	}
	list, err := store.ObjectionsOf(ctx, db, id)
	if err != nil || len(list) != 1 {
		t.Fatalf("objections of the member: %+v %v", list, err)
	}
}

// gateFunc stands in for the purpose gate.
type gateFunc func(ctx context.Context, accountID string) (bool, error)

func (g gateFunc) ask(ctx context.Context, accountID string) (bool, error) {
	return g(ctx, accountID)
}

// mktBatch runs one batch with the gate given.
func mktBatch(svc *Service, id string, allow gateFunc) (batchResult, error) {
	svc.allow, svc.links = allow.ask, mktLinks
	return svc.sendBatch(context.Background(), id)
}

// mktLinks makes recognisable links for a recipient.
func mktLinks(_ string, r marketing.Recipient) marketing.Links {
	return marketing.Links{Unsubscribe: "https://sessions.test/unsubscribe/" + r.AccountID, Preferences: "https://sessions.test/p/" + r.AccountID}
}

// mktRun sends batches until the campaign is done and returns how many
// batches it took.
func mktRun(t *testing.T, svc *Service, id string, allow gateFunc) int {
	t.Helper()
	svc.allow, svc.links = allow.ask, mktLinks
	for n := 1; n < 100; n++ {
		res, err := svc.sendBatch(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if res.Done {
			return n
		}
	}
	t.Fatal("the campaign never finished")
	return 0
}

func TestCampaignReachesOnlyThoseAllowedOnceEach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db, _ := mktService(t)
	staffer := mktStaff

	// More customers than one batch holds, so the run is resumed.
	var customers []string
	for i := range marketing.BatchSize + 7 {
		customers = append(customers, mktAccount(t, db, fmt.Sprintf("c%03d@example.com", i), true))
	}
	unverified := mktAccount(t, db, "unverified@example.com", false)
	child := mktAccount(t, db, "child@example.com", true)
	mktChild(t, db, child)
	objected := mktAccount(t, db, "objected@example.com", true)
	if _, err := svc.Object(ctx, service.Member(objected), marketing.ObjectionRequest{Kind: marketing.ObjectMarketing}, marketing.BySettings); err != nil {
		t.Fatal(err)
	}
	emailOff := mktAccount(t, db, "emailoff@example.com", true)
	if err := svc.SetChannels(ctx, service.Member(emailOff), map[string]bool{string(marketing.Email): false}, marketing.BySettings); err != nil {
		t.Fatal(err)
	}
	// An address suppressed under an earlier account that was erased.
	reused := mktAccount(t, db, "reused@example.com", true)
	if _, err := db.Exec(ctx, `INSERT INTO marketing_suppressions (address_digest, reason, created_at) VALUES (?, 'unsubscribe', ?)`,
		marketing.SuppressionDigest(mktSecret, "reused@example.com"), mktNow); err != nil {
		t.Fatal(err)
	}
	gateDenied := mktAccount(t, db, "restricted@example.com", true)
	deactivated := mktAccount(t, db, "gone@example.com", true)
	if _, err := db.Exec(ctx, `UPDATE accounts SET status = 'deactivated' WHERE id = ?`, deactivated); err != nil {
		t.Fatal(err)
	}
	asked := map[string]int{}
	allow := gateFunc(func(_ context.Context, id string) (bool, error) {
		asked[id]++
		return id != gateDenied, nil
	})

	c, err := svc.CreateCampaign(ctx, staffer, marketing.CampaignDraft{Subject: "News", Text: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	// A draft is not sent.
	if res, err := mktBatch(svc, c.ID, allow); err != nil || !res.Done || res.Queued != 0 {
		t.Fatalf("draft batch: %+v %v", res, err)
	}
	if _, err := svc.StartCampaign(ctx, staffer, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.StartCampaign(ctx, staffer, c.ID); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("second start: %v", err)
	}
	if ids, err := store.SendingCampaigns(ctx, db); err != nil || len(ids) != 1 || ids[0] != c.ID {
		t.Fatalf("sending: %v %v", ids, err)
	}
	if batches := mktRun(t, svc, c.ID, allow); batches < 2 {
		t.Fatalf("%d batches, want the run resumed at least once", batches)
	}

	got := map[string]mail.Record{}
	recs, err := store.NewOutbox(db).List(ctx, mail.Filter{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Category == mail.Marketing {
			if _, dup := got[r.PersonID]; dup {
				t.Errorf("%s got the campaign twice", r.PersonID)
			}
			got[r.PersonID] = r
		}
	}
	if len(got) != len(customers) {
		t.Errorf("%d messages, want %d", len(got), len(customers))
	}
	for _, id := range customers {
		r, ok := got[id]
		if !ok {
			t.Errorf("customer %s got nothing", id)
			continue
		}
		if r.Headers["List-Unsubscribe"] != "<https://sessions.test/unsubscribe/"+id+">" || r.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
			t.Errorf("headers: %v", r.Headers)
		}
	}
	for name, id := range map[string]string{"unverified": unverified, "child": child, "objected": objected, "e-mail off": emailOff,
		"suppressed address": reused, "refused by the gate": gateDenied, "deactivated": deactivated} {
		if _, ok := got[id]; ok {
			t.Errorf("the %s member got the campaign", name)
		}
	}
	if asked[objected] != 0 || asked[unverified] != 0 {
		t.Error("the gate was asked about members who were out already")
	}
	c, err = store.GetCampaign(ctx, db, c.ID)
	if err != nil || c.Status != marketing.Sent || c.Queued != len(customers) || c.Skipped != 5 || c.FinishedAt == nil {
		t.Fatalf("campaign after sending: %+v %v", c, err)
	}
	if n, err := store.CampaignDeliveries(ctx, db, c.ID); err != nil || n != len(customers) {
		t.Fatalf("deliveries %d %v", n, err)
	}
	if n := mktAuditCount(t, db, "marketing.campaign.finish"); n != 1 {
		t.Fatalf("%d finish entries", n)
	}
	// Running it again sends nothing more.
	if res, err := mktBatch(svc, c.ID, allow); err != nil || !res.Done || res.Queued != 0 {
		t.Fatalf("after sending: %+v %v", res, err)
	}
}

func TestCampaignBatchIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db, _ := mktService(t)
	staffer := mktStaff
	for i := range 5 {
		mktAccount(t, db, fmt.Sprintf("m%d@example.com", i), true)
	}
	c, err := svc.CreateCampaign(ctx, staffer, marketing.CampaignDraft{Subject: "News", Text: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.StartCampaign(ctx, staffer, c.ID); err != nil {
		t.Fatal(err)
	}
	// The gate fails on the third member: the gate fails closed and the
	// whole batch is rolled back, so the next run starts it over.
	calls := 0
	failing := func(context.Context, string) (bool, error) {
		calls++
		if calls == 3 {
			return false, errors.New("gate unavailable")
		}
		return true, nil
	}
	if _, err := mktBatch(svc, c.ID, failing); err == nil {
		t.Fatal("a failing gate did not fail the batch")
	}
	var queued int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM mail_outbox`).Scan(&queued); err != nil || queued != 0 {
		t.Fatalf("%d messages queued by a failed batch", queued)
	}
	if n := mktRun(t, svc, c.ID, func(context.Context, string) (bool, error) { return true, nil }); n != 1 {
		t.Fatalf("%d batches", n)
	}
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM mail_outbox`).Scan(&queued); err != nil || queued != 5 {
		t.Fatalf("%d messages queued, want 5", queued)
	}
}
