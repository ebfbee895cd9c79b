package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// newAuditTestServer returns a harness whose audit log holds three
// entries, and a privacy officer's browser; the officer's role is
// inserted without an audit entry of its own, so the log holds exactly
// those three.
func newAuditTestServer(t *testing.T) (*harness, *client) {
	t.Helper()
	h := newHarness(t)
	for i, action := range []string{"profile.read", "profile.update", "export.create"} {
		err := store.AppendAudit(context.Background(), h.DB, h.Secret, audit.Entry{
			At:      h.Clock.Now().Add(time.Duration(i) * time.Minute),
			Actor:   audit.Party{Kind: "staff", ID: "stf_9"},
			Action:  action,
			Subject: audit.Party{Kind: "member", ID: fmt.Sprintf("mbr_%d", i)},
			Purpose: "support",
			Detail:  map[string]string{"fields": "email"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return h, h.signIn(t, h.newStaffUnaudited(t, staff.PrivacyOfficer))
}

type auditTestVerifyBody struct {
	Intact  bool  `json:"intact"`
	Entries int64 `json:"entries"`
	Head    struct {
		Seq  int64  `json:"seq"`
		Hash string `json:"hash"`
	} `json:"head"`
	FirstBroken *struct {
		Seq     int64  `json:"seq"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"first_broken"`
}

func auditTestVerify(t *testing.T, po *client, query string) auditTestVerifyBody {
	t.Helper()
	res := po.get(t, "/api/admin/audit/verify"+query)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("verify: %d %s", res.StatusCode, res.Body)
	}
	var body auditTestVerifyBody
	if err := json.Unmarshal(res.Body, &body); err != nil {
		t.Fatal(err)
	}
	return body
}

func TestAuditRoutesNeedThePrivacyOfficer(t *testing.T) {
	t.Parallel()
	h, po := newAuditTestServer(t)
	support := h.signIn(t, h.newStaffUnaudited(t, staff.Support))
	admin := h.signIn(t, h.newStaffUnaudited(t, staff.Admin))
	cases := []struct {
		who         string
		c           *client
		path        string
		status      int
		contentType string
	}{
		{"anonymous", h.anon(), "/api/admin/audit/verify", http.StatusUnauthorized, "application/problem+json"},
		{"support", support, "/api/admin/audit/verify", http.StatusForbidden, "application/problem+json"},
		{"admin", admin, "/api/admin/audit/verify", http.StatusForbidden, "application/problem+json"},
		{"anonymous", h.anon(), "/admin/audit", http.StatusSeeOther, ""},
		{"support", support, "/admin/audit", http.StatusForbidden, "text/html"},
		{"privacy officer", po, "/api/admin/audit/verify?anchor=nonsense", http.StatusUnprocessableEntity, "application/problem+json"},
		{"privacy officer", po, "/admin/audit?before=zero", http.StatusUnprocessableEntity, "text/html"},
	}
	for _, c := range cases {
		res := c.c.get(t, c.path)
		if res.StatusCode != c.status || !strings.HasPrefix(res.Header.Get("Content-Type"), c.contentType) {
			t.Errorf("GET %s (%s): %d %s", c.path, c.who, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if strings.Contains(res.text(), "mbr_1") {
			t.Errorf("GET %s (%s) shows an entry", c.path, c.who)
		}
	}
}

func TestAuditVerifyAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, po := newAuditTestServer(t)
	db := h.DB
	body := auditTestVerify(t, po, "")
	if !body.Intact || body.Entries != 3 || body.Head.Seq != 3 || len(body.Head.Hash) != 64 || body.FirstBroken != nil {
		t.Fatalf("intact: %+v", body)
	}
	anchor := fmt.Sprintf("?anchor=%d:%s", body.Head.Seq, body.Head.Hash)
	if b := auditTestVerify(t, po, anchor); !b.Intact {
		t.Fatalf("anchored at the head: %+v", b)
	}

	if _, err := db.Exec(ctx, "UPDATE audit_log SET purpose = 'marketing' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	body = auditTestVerify(t, po, "")
	if body.Intact || body.Entries != 1 || body.FirstBroken == nil || body.FirstBroken.Seq != 2 ||
		body.FirstBroken.Reason != string(audit.ReasonEdited) || body.FirstBroken.Message == "" {
		t.Fatalf("edited: %+v %+v", body, body.FirstBroken)
	}

	if _, err := db.Exec(ctx, "UPDATE audit_log SET purpose = 'support' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "DELETE FROM audit_log WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	if b := auditTestVerify(t, po, ""); !b.Intact {
		t.Fatalf("tail cut without anchor should pass: %+v", b)
	}
	body = auditTestVerify(t, po, anchor)
	if body.Intact || body.FirstBroken == nil || body.FirstBroken.Seq != 3 || body.FirstBroken.Reason != string(audit.ReasonTruncated) {
		t.Fatalf("tail cut with anchor: %+v", body)
	}
}

func TestAuditConsolePage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, po := newAuditTestServer(t)
	db := h.DB
	res := po.get(t, "/admin/audit")
	page := res.text()
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("page: %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	for _, want := range []string{"The chain is intact: 3 entries verified", "mbr_0", "mbr_2", "stf_9", "profile.update", "fields=email"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Newest first.
	if strings.Index(page, "export.create") > strings.Index(page, "profile.read") {
		t.Error("entries are not newest first")
	}

	if _, err := store.ClearAuditPerson(ctx, db, "mbr_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE audit_log SET detail = '{"fields":"name"}' WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	page = po.get(t, "/admin/audit").text()
	for _, want := range []string{"The chain is broken at entry 3", "erased", `badge-dot">edited</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page after tampering lacks %q", want)
		}
	}
	if strings.Contains(page, "mbr_1") {
		t.Error("the erased id is still shown")
	}
}
