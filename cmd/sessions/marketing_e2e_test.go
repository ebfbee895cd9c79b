package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/marketing"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// TestBinarySendsCampaignWithOneClickUnsubscribe runs the real binary:
// its periodic job sends a campaign that is being sent, the message
// arrives on a real SMTP server with the RFC 8058 headers, and a POST of
// List-Unsubscribe=One-Click to its URL, without a cookie, suppresses the
// address.
func TestBinarySendsCampaignWithOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, target := dbtest.OpenTarget(t)
	smtp := mailtest.Start(t)
	secret := "e2e-marketing-secret-of-at-least-32-bytes"
	now := time.Now().UTC()
	ada := account.Account{
		ID: account.NewID(), Email: "ada@example.com", EmailVerifiedAt: &now, PasswordHash: "x", PasswordChangedAt: now,
		Name: "Ada", Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if err := store.CreateAccount(ctx, db, ada); err != nil {
		t.Fatal(err)
	}
	// The campaign is composed and started as staff would, by the same
	// use cases, on a database the binary then opens.
	services, err := wire.New(wire.Parts{DB: db, Clock: clock.System{}, Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	staffer := service.Actor{AccountID: "acc_e2e", Roles: []staff.Role{staff.Admin}}
	c, err := services.Campaigns.CreateCampaign(ctx, staffer, marketing.CampaignDraft{Subject: "E2E news", Text: "Hello from the binary."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := services.Campaigns.StartCampaign(ctx, staffer, c.ID); err != nil {
		t.Fatal(err)
	}

	env := append(target.Env(), "SESSIONS_SMTP_ADDR="+smtp.Addr, "SESSIONS_SMTP_TLS=none",
		"SESSIONS_SECRET_KEY="+secret, "SESSIONS_BASE_URL=https://sessions.test")
	s := startBinary(t, env...)
	defer s.stop(t)

	msg := smtp.Next(t)
	if msg.Subject != "E2E news" || !strings.Contains(msg.Header.Get("To"), ada.Email) {
		t.Fatalf("unexpected message %q to %q", msg.Subject, msg.Header.Get("To"))
	}
	if got := msg.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe-Post = %q", got)
	}
	m := regexp.MustCompile(`^<(https://sessions\.test/unsubscribe/[^>]+)>$`).FindStringSubmatch(msg.Header.Get("List-Unsubscribe"))
	if m == nil {
		t.Fatalf("List-Unsubscribe = %q", msg.Header.Get("List-Unsubscribe"))
	}
	u, _ := url.Parse(m[1])
	req, err := http.NewRequest(http.MethodPost, s.url+u.Path, strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("one-click POST: %d", res.StatusCode)
	}
	if ok, err := store.Suppressed(ctx, db, marketing.SuppressionDigest([]byte(secret), ada.Email)); err != nil || !ok {
		t.Fatalf("the address is not suppressed: %v %v", ok, err)
	}
	if strings.Contains(s.stderr.String(), ada.Email) {
		t.Error("the server logged the address")
	}
}
