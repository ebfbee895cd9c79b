package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/store"
)

var profileSecret = []byte("profile-test-secret-0123456789abcdef")

var profileNow = time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)

// profileAccount creates an active account and returns its id.
func profileAccount(t *testing.T, db *database.DB, email string) string {
	t.Helper()
	id := account.NewID()
	err := store.CreateAccount(context.Background(), db, account.Account{
		ID: id, Email: email, PasswordHash: "not-a-real-hash", PasswordChangedAt: profileNow, Name: "Member " + email,
		Status: account.Active, CreatedAt: profileNow, UpdatedAt: profileNow, LastActiveAt: profileNow,
	})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return id
}

func profileAuditCount(t *testing.T, db *database.DB) int {
	return countRows(t, db, `SELECT COUNT(*) FROM audit_log`)
}

func fullEdit() account.ProfileEdit {
	return account.ProfileEdit{
		Name: "Ada Lovelace", Username: "Ada", Phone: "+44 20 7946 0958", Company: "Engines Ltd",
		Address:   account.Address{Street: "1 Main St", City: "London", Postcode: "N1 9GU", Region: "London", Country: "GB"},
		BirthDate: "1990-12-10", Gender: "Woman", Country: "GB", City: "London",
		Interests: []string{"maths", "poetry"}, LinkedIn: "https://www.linkedin.com/in/ada", Facebook: "https://facebook.com/ada",
	}
}

func TestProfileRoundTripAndAudit(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	id := profileAccount(t, db, "ada@example.com")

	empty, err := store.GetProfile(ctx, db, id)
	if err != nil || empty.AccountID != id || empty.Username != "" {
		t.Fatalf("profile of a new member = %+v, %v", empty, err)
	}

	changed, err := store.UpdateProfile(ctx, db, profileSecret, audit.Party{Kind: "member", ID: id}, id, fullEdit(), profileNow)
	if err != nil {
		t.Fatalf("UpdateProfile: %v", err)
	}
	if len(changed) != 16 {
		t.Errorf("changed %d fields (%v), want 16", len(changed), changed)
	}
	p, err := store.GetProfile(ctx, db, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "ada" || p.Phone != "+442079460958" || p.Address.Postcode != "N1 9GU" || account.FormatDate(p.BirthDate) != "1990-12-10" ||
		strings.Join(p.Interests, ",") != "maths,poetry" || p.Facebook != "https://facebook.com/ada" || p.Country != "GB" {
		t.Errorf("stored profile = %+v", p)
	}
	acc, err := store.AccountByID(ctx, db, id)
	if err != nil || acc.Name != "Ada Lovelace" {
		t.Errorf("the name did not reach the account: %q, %v", acc.Name, err)
	}

	// Change two fields: the entry names them and keeps digests only.
	edit := fullEdit()
	edit.Phone = "+40 721 234 567"
	edit.Company = ""
	before := profileAuditCount(t, db)
	changed, err = store.UpdateProfile(ctx, db, profileSecret, audit.Party{Kind: "member", ID: id}, id, edit, profileNow.Add(time.Minute))
	if err != nil || strings.Join(changed, ",") != "phone,company" {
		t.Fatalf("second edit changed %v, %v", changed, err)
	}
	if got := profileAuditCount(t, db); got != before+1 {
		t.Fatalf("audit entries %d, want %d", got, before+1)
	}
	recs, err := store.AuditForSubject(ctx, db, id, 0, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("audit for subject: %v, %v", recs, err)
	}
	r := recs[0]
	if r.Action != "profile.update" || r.ActorID != id {
		t.Errorf("entry = %+v", r)
	}
	d, err := audit.DecodeDetail(r.Detail)
	if err != nil {
		t.Fatal(err)
	}
	if d["fields"] != "phone,company" || d["old.phone"] != account.OldValueDigest(profileSecret, "phone", "+442079460958") ||
		d["old.company"] != account.OldValueDigest(profileSecret, "company", "Engines Ltd") {
		t.Errorf("detail = %v", d)
	}
	for _, old := range []string{"+442079460958", "Engines Ltd", "7946"} {
		if strings.Contains(r.Detail, old) {
			t.Errorf("the audit entry holds the old value %q", old)
		}
	}

	// Saving the same values again changes nothing and audits nothing.
	before = profileAuditCount(t, db)
	if changed, err := store.UpdateProfile(ctx, db, profileSecret, audit.Party{Kind: "member", ID: id}, id, edit, profileNow.Add(2*time.Minute)); err != nil || len(changed) != 0 {
		t.Errorf("unchanged edit: %v, %v", changed, err)
	}
	if got := profileAuditCount(t, db); got != before {
		t.Errorf("an unchanged edit was audited")
	}
}

func TestProfileRefusedEditChangesNothing(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	ada := profileAccount(t, db, "ada@example.com")
	bob := profileAccount(t, db, "bob@example.com")
	if _, err := store.UpdateProfile(ctx, db, profileSecret, audit.Party{Kind: "member", ID: ada}, ada, fullEdit(), profileNow); err != nil {
		t.Fatal(err)
	}
	bobEdit := account.ProfileEdit{Name: "Bob", Phone: "+40721234567"}
	if _, err := store.UpdateProfile(ctx, db, profileSecret, audit.Party{Kind: "member", ID: bob}, bob, bobEdit, profileNow); err != nil {
		t.Fatal(err)
	}
	snapshot := func() (account.Profile, string, int) {
		p, err := store.GetProfile(ctx, db, bob)
		if err != nil {
			t.Fatal(err)
		}
		acc, err := store.AccountByID(ctx, db, bob)
		if err != nil {
			t.Fatal(err)
		}
		return p, acc.Name, profileAuditCount(t, db)
	}
	p0, name0, n0 := snapshot()

	cases := map[string]struct {
		edit  account.ProfileEdit
		field string
	}{
		"username taken, other case": {account.ProfileEdit{Name: "Bobby", Username: "ADA", Phone: "+40721234567"}, "username"},
		"future birth date":          {account.ProfileEdit{Name: "Bobby", BirthDate: "2027-01-01"}, "birth_date"},
		"unknown country":            {account.ProfileEdit{Name: "Bobby", Country: "ZZ"}, "country"},
	}
	for what, tc := range cases {
		_, err := store.UpdateProfile(ctx, db, profileSecret, audit.Party{Kind: "member", ID: bob}, bob, tc.edit, profileNow.Add(time.Hour))
		e, ok := errs.As(err)
		if !ok || e.Code != errs.Invalid || e.Fields[tc.field] == "" {
			t.Errorf("%s: err = %v, want a message for %s", what, err, tc.field)
		}
		p, name, n := snapshot()
		if name != name0 || p.Phone != p0.Phone || p.Username != p0.Username || !p.UpdatedAt.Equal(p0.UpdatedAt) || n != n0 {
			t.Errorf("%s: the refused edit changed something: name %q, profile %+v, audit %d→%d", what, name, p, n0, n)
		}
	}
}

func TestAvatarReplacementReturnsOldKey(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	id := profileAccount(t, db, "ada@example.com")
	member := audit.Party{Kind: "member", ID: id}
	if old, err := store.SetAvatar(ctx, db, profileSecret, member, id, "avatar/one", profileNow); err != nil || old != "" {
		t.Fatalf("first avatar: %q, %v", old, err)
	}
	if old, err := store.SetAvatar(ctx, db, profileSecret, member, id, "avatar/two", profileNow); err != nil || old != "avatar/one" {
		t.Fatalf("replacing: old = %q, %v", old, err)
	}
	if old, err := store.SetAvatar(ctx, db, profileSecret, member, id, "", profileNow); err != nil || old != "avatar/two" {
		t.Fatalf("removing: old = %q, %v", old, err)
	}
	p, _ := store.GetProfile(ctx, db, id)
	if p.AvatarKey != "" {
		t.Errorf("avatar still %q", p.AvatarKey)
	}
}

// childProfile makes id a 12-year-old German resident.
func childProfile(t *testing.T, db *database.DB, id string) {
	t.Helper()
	edit := account.ProfileEdit{Name: "Kim", BirthDate: "2013-06-01", Country: "DE"}
	if _, err := store.UpdateProfile(context.Background(), db, profileSecret, audit.Party{Kind: "member", ID: id}, id, edit, profileNow); err != nil {
		t.Fatal(err)
	}
}

func guardianMail(to string) mail.Message {
	return mail.Message{Category: mail.Transactional, Template: "account.guardian", To: to, Subject: "Please confirm", Text: "link"}
}

func TestGuardianConsentFlow(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	adult := profileAccount(t, db, "adult@example.com")
	child := profileAccount(t, db, "kim@example.com")
	childProfile(t, db, child)

	_, err := store.RequestGuardianConsent(ctx, db, profileSecret, account.NewGuardianLinkID(), adult, "p@example.com", "d0", profileNow.Add(time.Hour), profileNow, guardianMail("p@example.com"))
	if errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("an adult account asked for a guardian: %v", err)
	}

	send := func(to string, at time.Time) string {
		t.Helper()
		tok := signed.Make(profileSecret, account.GuardianLinkPurpose, "x", at.Add(account.GuardianLinkLifetime))
		if _, err := store.RequestGuardianConsent(ctx, db, profileSecret, account.NewGuardianLinkID(), child, to, signed.Digest(tok),
			at.Add(account.GuardianLinkLifetime), at, guardianMail(to)); err != nil {
			t.Fatalf("request: %v", err)
		}
		return signed.Digest(tok)
	}
	first := send("old-parent@example.com", profileNow)
	second := send("parent@example.com", profileNow.Add(time.Minute))

	if _, err := store.ConfirmGuardianConsent(ctx, db, profileSecret, first, "v", "h", profileNow.Add(2*time.Minute)); !errors.Is(err, store.ErrGuardianLink) {
		t.Fatalf("a superseded link confirmed: %v", err)
	}
	if _, err := store.ConfirmGuardianConsent(ctx, db, profileSecret, second, "v", "h", profileNow.Add(account.GuardianLinkLifetime+time.Minute)); !errors.Is(err, store.ErrGuardianLink) {
		t.Fatalf("an expired link confirmed: %v", err)
	}
	if _, err := store.ConfirmGuardianConsent(ctx, db, profileSecret, "forged", "v", "h", profileNow.Add(2*time.Minute)); !errors.Is(err, store.ErrGuardianLink) {
		t.Fatalf("an unknown link confirmed: %v", err)
	}
	p, _ := store.GetProfile(ctx, db, child)
	if r := account.RestrictionsFor(p, profileNow); !r.Child || r.Marketing || r.Recording {
		t.Fatalf("before confirmation: %+v", r)
	}

	at := profileNow.Add(3 * time.Minute)
	g, err := store.ConfirmGuardianConsent(ctx, db, profileSecret, second, account.GuardianNoticeVersion, account.GuardianNoticeDigest(), at)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if g.AccountID != child || g.GuardianEmail != "parent@example.com" || g.Status != "confirmed" {
		t.Errorf("confirmation = %+v", g)
	}
	if _, err := store.ConfirmGuardianConsent(ctx, db, profileSecret, second, "v", "h", at.Add(time.Minute)); !errors.Is(err, store.ErrGuardianLink) {
		t.Fatalf("a used link confirmed again: %v", err)
	}

	// The evidence: who, when, what was shown, for which account, by which link.
	list, err := store.GuardianRequests(ctx, db, child)
	if err != nil || len(list) != 2 {
		t.Fatalf("requests = %v, %v", list, err)
	}
	ev := list[0]
	if ev.Status != "confirmed" || ev.GuardianEmail != "parent@example.com" || ev.ConfirmedAt == nil || !ev.ConfirmedAt.Equal(at) ||
		ev.NoticeVersion != account.GuardianNoticeVersion || ev.NoticeSHA256 != account.GuardianNoticeDigest() {
		t.Errorf("evidence = %+v", ev)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM guardian_consents WHERE token_digest = ? AND account_id = ?`, second, child); n != 1 {
		t.Errorf("the token digest is not kept with the evidence")
	}
	if list[1].Status != "superseded" {
		t.Errorf("the first link is %s, want superseded", list[1].Status)
	}

	p, _ = store.GetProfile(ctx, db, child)
	if r := account.RestrictionsFor(p, at); !r.Child || !r.Marketing || !r.Analytics || !r.Recording || !r.AI {
		t.Errorf("after confirmation: %+v", r)
	}
	if _, err := store.RequestGuardianConsent(ctx, db, profileSecret, account.NewGuardianLinkID(), child, "p@example.com", "d9", at.Add(time.Hour), at, guardianMail("p@example.com")); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("a confirmed account asked again: %v", err)
	}
	recs, _ := store.AuditForSubject(ctx, db, child, 0, 1)
	if len(recs) != 1 || recs[0].Action != "guardian.confirm" || recs[0].ActorKind != "guardian" {
		t.Errorf("last audit entry = %+v", recs)
	}
}

func profileSession(t *testing.T, db *database.DB, id string) {
	t.Helper()
	s := account.Session{ID: account.NewSessionID(), AccountID: id, CreatedAt: profileNow, LastSeenAt: profileNow, ExpiresAt: profileNow.Add(24 * time.Hour)}
	if err := store.CreateSession(context.Background(), db, s, "digest-"+s.ID); err != nil {
		t.Fatal(err)
	}
}

func TestDeactivateAndReactivate(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	id := profileAccount(t, db, "ada@example.com")
	profileSession(t, db, id)
	profileSession(t, db, id)

	msg := mail.Message{Category: mail.Transactional, Template: "account.deactivated", To: "ada@example.com", Subject: "Deactivated", Text: "Come back"}
	mailID, err := store.DeactivateAccount(ctx, db, profileSecret, id, profileNow, msg)
	if err != nil || mailID == "" {
		t.Fatalf("deactivate: %q, %v", mailID, err)
	}
	acc, _ := store.AccountByID(ctx, db, id)
	if acc.Status != account.Deactivated || acc.DeactivatedAt == nil {
		t.Errorf("account = %+v", acc)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM account_sessions WHERE account_id = ?`, id); n != 0 {
		t.Errorf("%d sessions survived deactivation", n)
	}
	if _, err := store.DeactivateAccount(ctx, db, profileSecret, id, profileNow, mail.Message{}); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("deactivating twice: %v", err)
	}

	// Within the grace period signing in brings it back.
	ok, err := store.ReactivateIfDeactivated(ctx, db, profileSecret, id, profileNow.Add(29*24*time.Hour), 30*24*time.Hour)
	if err != nil || !ok {
		t.Fatalf("reactivate within grace: %v, %v", ok, err)
	}
	if acc, _ := store.AccountByID(ctx, db, id); acc.Status != account.Active {
		t.Errorf("status after reactivation = %s", acc.Status)
	}
	if ok, err := store.ReactivateIfDeactivated(ctx, db, profileSecret, id, profileNow, 0); ok || err != nil {
		t.Errorf("an active account: %v, %v", ok, err)
	}

	// Past the grace period it does not.
	if _, err := store.DeactivateAccount(ctx, db, profileSecret, id, profileNow.Add(40*24*time.Hour), mail.Message{}); err != nil {
		t.Fatal(err)
	}
	_, err = store.ReactivateIfDeactivated(ctx, db, profileSecret, id, profileNow.Add(71*24*time.Hour), 30*24*time.Hour)
	if errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("reactivation after the grace period: %v", err)
	}
	if acc, _ := store.AccountByID(ctx, db, id); acc.Status != account.Deactivated {
		t.Errorf("status = %s", acc.Status)
	}
}

func TestErasureRequest(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	id := profileAccount(t, db, "ada@example.com")
	profileSession(t, db, id)
	msg := func(r account.AccountRequest) mail.Message {
		return mail.Message{Category: mail.Transactional, Template: "account.erasure", To: "ada@example.com",
			Subject: "Deletion requested", Text: "Due " + r.DueAt.Format(time.DateOnly)}
	}
	req, mailID, err := store.RequestAccountErasure(ctx, db, profileSecret, id, profileNow, msg)
	if err != nil || mailID == "" {
		t.Fatalf("request: %v", err)
	}
	if want := time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC); !req.DueAt.Equal(want) {
		t.Errorf("due %s, want %s", req.DueAt, want)
	}
	list, err := store.AccountRequests(ctx, db, id)
	if err != nil || len(list) != 1 || list[0].Kind != "erasure" || list[0].State != "received" ||
		!list[0].ReceivedAt.Equal(profileNow) || !list[0].DueAt.Equal(req.DueAt) {
		t.Fatalf("requests = %+v, %v", list, err)
	}
	var text string
	if err := db.QueryRow(ctx, `SELECT body_text FROM mail_outbox WHERE id = ?`, mailID).Scan(&text); err != nil || !strings.Contains(text, "2026-02-28") {
		t.Errorf("confirmation mail = %q, %v", text, err)
	}
	acc, _ := store.AccountByID(ctx, db, id)
	if acc.Status != account.ErasurePending || acc.DeactivatedAt == nil {
		t.Errorf("account = %+v", acc)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM account_sessions WHERE account_id = ?`, id); n != 0 {
		t.Errorf("%d sessions survived", n)
	}
	if _, _, err := store.RequestAccountErasure(ctx, db, profileSecret, id, profileNow, msg); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("second request: %v", err)
	}
	if _, err := store.ReactivateIfDeactivated(ctx, db, profileSecret, id, profileNow.Add(time.Hour), 0); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("signing in reactivated an account waiting for erasure: %v", err)
	}

	// When the erasure is carried out, the request stays without a link.
	if _, err := db.Exec(ctx, `DELETE FROM accounts WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM account_requests WHERE id = ? AND account_id IS NULL`, req.ID); n != 1 {
		t.Errorf("the request record did not outlive the account without its link")
	}
}
