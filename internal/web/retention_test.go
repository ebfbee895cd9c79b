package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/privacy/retention"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/retain"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// ---- helpers the access matrix uses too ----

// retRun records a dry retention run and returns its id.
func retRun(t *testing.T, h *harness) string {
	t.Helper()
	run := retRunAt(t, h, true)
	return run.ID
}

func retRunAt(t *testing.T, h *harness, dry bool) retention.Run {
	t.Helper()
	run, err := h.Srv.Services.Retention.Run(context.Background(), retain.Options{Trigger: retention.ByCommand, DryRun: dry, Record: true})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// retHold places a hold on a new member and returns its id.
func retHold(t *testing.T, h *harness) string {
	t.Helper()
	in := retention.HoldRequest{PersonID: h.newMember(t).ID, Reason: "Matrix claim"}
	if err := in.Clean(h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	officer := service.Actor{AccountID: "acc_test", Roles: []staff.Role{staff.PrivacyOfficer}}
	hold, err := h.Srv.Services.Retention.PlaceHold(context.Background(), officer, in)
	if err != nil {
		t.Fatal(err)
	}
	return hold.ID
}

// TestRetentionWarningMailAndSignInCancel: a member whose account is
// about to reach five years unused receives the warning by SMTP; signing
// in through the real form afterwards keeps the account, whatever later
// runs find.
func TestRetentionWarningMailAndSignInCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	m := h.newMember(t)
	if _, err := h.DB.Exec(ctx, `UPDATE accounts SET last_active_at = ? WHERE id = ?`, h.Clock.Now().AddDate(-5, 0, 29), m.ID); err != nil {
		t.Fatal(err)
	}
	run := retRunAt(t, h, false)
	var warned int64
	for _, r := range run.Results {
		if r.Rule == retention.InactiveRule && r.Action == retention.Warn {
			warned = r.Rows
		}
	}
	if warned != 1 {
		t.Fatalf("warned %d members", warned)
	}
	msg := h.nextMail(t)
	if len(msg.EnvelopeTo) != 1 || msg.EnvelopeTo[0] != m.Email || !strings.Contains(msg.Subject, "erased unless you sign in") {
		t.Fatalf("warning to %v: %q", msg.EnvelopeTo, msg.Subject)
	}
	if want := h.Clock.Now().AddDate(0, 0, 30).Format("2 January 2006"); !strings.Contains(msg.Text, want) {
		t.Fatalf("the warning does not name %s:\n%s", want, msg.Text)
	}

	h.Clock.Advance(2 * 24 * time.Hour)
	if res := h.anon().postForm(t, "/signin", url.Values{"email": {m.Email}, "password": {m.Password}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	h.Clock.Advance(40 * 24 * time.Hour)
	run = retRunAt(t, h, false)
	if n := run.Total(retention.Erase); n != 0 {
		t.Fatalf("%d erasures after the member signed in", n)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM accounts WHERE id = ? AND status = 'active'`, m.ID); n != 1 {
		t.Fatal("the account that was signed in to is gone")
	}
}

// TestRetentionConsole: the privacy officer sees what a run would remove
// with example ids, the report of runs, places a hold (refused with
// field errors when incomplete) and releases it; the reason never reaches
// the logs. Support sees none of it.
func TestRetentionConsole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	officer := h.newStaff(t, staff.PrivacyOfficer)
	c := h.signIn(t, officer)
	api := h.apiClient(t, officer)
	old := h.Clock.Now().AddDate(0, -26, 0)
	if _, err := h.DB.Exec(ctx, `INSERT INTO analytics_events (occurred_at, day, kind, path, name, visitor_id, ip_prefix) VALUES (?, ?, 'pageview', '/', '', 'av_old', '')`,
		old, old.Format("2006-01-02")); err != nil {
		t.Fatal(err)
	}
	var eventID string
	if err := h.DB.QueryRow(ctx, `SELECT CAST(id AS TEXT) FROM analytics_events`).Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	retRunAt(t, h, false)
	h.Clock.Advance(time.Minute)
	// The event went with that run; a new one shows in the preview.
	if _, err := h.DB.Exec(ctx, `INSERT INTO analytics_events (occurred_at, day, kind, path, name, visitor_id, ip_prefix) VALUES (?, ?, 'pageview', '/', '', 'av_old2', '')`,
		old, old.Format("2006-01-02")); err != nil {
		t.Fatal(err)
	}

	res := c.get(t, "/api/admin/retention/preview")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d %s", res.StatusCode, res.Body)
	}
	var preview struct {
		Results []retention.Result `json:"results"`
	}
	if err := json.Unmarshal(res.Body, &preview); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range preview.Results {
		if r.Rule == "analytics-25m" && r.Action == retention.Delete {
			found = r.Rows == 1 && len(r.Examples) == 1
		}
	}
	if !found {
		t.Fatalf("the preview does not show the expired event: %s", res.Body)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM analytics_events`); n != 1 {
		t.Fatal("the preview deleted something")
	}

	page := c.get(t, "/admin/retention")
	if page.StatusCode != http.StatusOK || !strings.Contains(string(page.Body), "analytics-25m") || !strings.Contains(string(page.Body), "Legal holds") {
		t.Fatalf("page: %d", page.StatusCode)
	}
	runs := c.get(t, "/api/admin/retention/runs")
	var list struct {
		Runs []retention.Run `json:"runs"`
	}
	if err := json.Unmarshal(runs.Body, &list); err != nil || len(list.Runs) != 1 || list.Runs[0].Total(retention.Delete) < 1 {
		t.Fatalf("runs: %s (%v)", runs.Body, err)
	}
	if strings.Contains(string(runs.Body), eventID+`"`) && strings.Contains(string(runs.Body), "examples") {
		t.Fatal("the report of a real run names rows")
	}
	if r := c.get(t, "/admin/retention/runs/"+list.Runs[0].ID); r.StatusCode != http.StatusOK {
		t.Fatalf("run page: %d", r.StatusCode)
	}
	if r := c.get(t, "/api/admin/retention/runs/ret_nope"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown run: %d", r.StatusCode)
	}

	// Holds: refused when incomplete, placed, listed, released once.
	bad := api.sendJSON(t, http.MethodPost, "/api/admin/legal-holds", map[string]any{"person_id": "someone@example.com", "reason": "", "ends_at": h.Clock.Now().Add(-time.Hour)})
	if bad.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad hold: %d", bad.StatusCode)
	}
	fields := bad.problemFields(t)
	for _, f := range []string{"person_id", "reason", "ends_at"} {
		if fields[f] == "" {
			t.Errorf("no error for %s: %v", f, fields)
		}
	}
	held := h.newMember(t)
	const reason = "Dispute HOLDREASONQX with the member's employer"
	form := c.postForm(t, "/admin/retention/holds", url.Values{"person_id": {held.ID}, "reason": {reason}, "ends_at": {"2099-01-31"}})
	if form.StatusCode != http.StatusSeeOther {
		t.Fatalf("place hold: %d %s", form.StatusCode, form.Body)
	}
	if ok, err := store.PersonHeld(ctx, h.DB, held.ID, h.Clock.Now()); err != nil || !ok {
		t.Fatalf("held = %v, %v", ok, err)
	}
	holds := c.get(t, "/api/admin/legal-holds")
	var hl struct {
		Holds []retention.Hold `json:"holds"`
	}
	if err := json.Unmarshal(holds.Body, &hl); err != nil || len(hl.Holds) != 1 || hl.Holds[0].EndsAt == nil {
		t.Fatalf("holds: %s", holds.Body)
	}
	if r := c.postForm(t, "/admin/retention/holds/"+hl.Holds[0].ID+"/release", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("release: %d", r.StatusCode)
	}
	if r := api.sendJSON(t, http.MethodPost, "/api/admin/legal-holds/"+hl.Holds[0].ID+"/release", nil); r.StatusCode != http.StatusConflict {
		t.Fatalf("second release: %d", r.StatusCode)
	}
	if ok, _ := store.PersonHeld(ctx, h.DB, held.ID, h.Clock.Now()); ok {
		t.Fatal("still held after the release")
	}
	if strings.Contains(h.Logs.String(), "HOLDREASONQX") || strings.Contains(h.Logs.String(), held.ID) {
		t.Fatalf("the logs name the hold's reason or person:\n%s", h.Logs.String())
	}

	// Support opens none of it.
	sup := h.signIn(t, h.newStaff(t, staff.Support))
	if r := sup.get(t, "/admin/retention"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("support: %d", r.StatusCode)
	}
}
