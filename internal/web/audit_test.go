package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/web"
)

const auditTestPassword = "operator-password-for-tests"

var auditTestSecret = []byte("web-audit-test-secret-0123456789abcdef")

func newAuditTestServer(t *testing.T) (*web.Server, *database.DB) {
	t.Helper()
	db := dbtest.Open(t)
	vars := map[string]string{
		"SESSIONS_ADMIN_PASSWORD": auditTestPassword,
		"SESSIONS_DATA_DIR":       t.TempDir(),
	}
	cfg, _, err := config.Load(nil, func(k string) string { return vars[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	srv, err := web.New(web.Deps{Config: cfg, DB: db, Clock: clk, Log: slog.New(slog.DiscardHandler), Secret: auditTestSecret})
	if err != nil {
		t.Fatal(err)
	}
	for i, action := range []string{"profile.read", "profile.update", "export.create"} {
		err := store.AppendAudit(context.Background(), db, auditTestSecret, audit.Entry{
			At:      clk.Now().Add(time.Duration(i) * time.Minute),
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
	return srv, db
}

func auditTestGet(srv http.Handler, path, password string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if password != "" {
		req.SetBasicAuth("operator", password)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
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

func auditTestVerify(t *testing.T, srv http.Handler, query string) auditTestVerifyBody {
	t.Helper()
	rec := auditTestGet(srv, "/api/admin/audit/verify"+query, auditTestPassword)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("verify: %d %s", rec.Code, rec.Body)
	}
	var body auditTestVerifyBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	return body
}

func TestAuditRoutesNeedTheOperator(t *testing.T) {
	srv, _ := newAuditTestServer(t)
	cases := []struct {
		path, password string
		status         int
		contentType    string
	}{
		{"/api/admin/audit/verify", "", http.StatusUnauthorized, "application/problem+json"},
		{"/api/admin/audit/verify", "wrong-password-here", http.StatusUnauthorized, "application/problem+json"},
		{"/admin/audit", "", http.StatusUnauthorized, "text/html"},
		{"/api/admin/audit/verify?anchor=nonsense", auditTestPassword, http.StatusUnprocessableEntity, "application/problem+json"},
		{"/admin/audit?before=zero", auditTestPassword, http.StatusUnprocessableEntity, "text/html"},
	}
	for _, c := range cases {
		rec := auditTestGet(srv, c.path, c.password)
		if rec.Code != c.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), c.contentType) {
			t.Errorf("GET %s (password %q): %d %s", c.path, c.password, rec.Code, rec.Header().Get("Content-Type"))
		}
		if strings.Contains(rec.Body.String(), "mbr_1") {
			t.Errorf("GET %s (password %q) shows an entry", c.path, c.password)
		}
	}
}

func TestAuditVerifyAPI(t *testing.T) {
	ctx := context.Background()
	srv, db := newAuditTestServer(t)
	body := auditTestVerify(t, srv, "")
	if !body.Intact || body.Entries != 3 || body.Head.Seq != 3 || len(body.Head.Hash) != 64 || body.FirstBroken != nil {
		t.Fatalf("intact: %+v", body)
	}
	anchor := fmt.Sprintf("?anchor=%d:%s", body.Head.Seq, body.Head.Hash)
	if b := auditTestVerify(t, srv, anchor); !b.Intact {
		t.Fatalf("anchored at the head: %+v", b)
	}

	if _, err := db.Exec(ctx, "UPDATE audit_log SET purpose = 'marketing' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	body = auditTestVerify(t, srv, "")
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
	if b := auditTestVerify(t, srv, ""); !b.Intact {
		t.Fatalf("tail cut without anchor should pass: %+v", b)
	}
	body = auditTestVerify(t, srv, anchor)
	if body.Intact || body.FirstBroken == nil || body.FirstBroken.Seq != 3 || body.FirstBroken.Reason != string(audit.ReasonTruncated) {
		t.Fatalf("tail cut with anchor: %+v", body)
	}
}

func TestAuditConsolePage(t *testing.T) {
	ctx := context.Background()
	srv, db := newAuditTestServer(t)
	rec := auditTestGet(srv, "/admin/audit", auditTestPassword)
	page := rec.Body.String()
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("page: %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
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
	page = auditTestGet(srv, "/admin/audit", auditTestPassword).Body.String()
	for _, want := range []string{"The chain is broken at entry 3", "erased", `badge-dot">edited</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page after tampering lacks %q", want)
		}
	}
	if strings.Contains(page, "mbr_1") {
		t.Error("the erased id is still shown")
	}
}
