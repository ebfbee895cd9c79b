package store_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/safehttp"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/store"
)

// receiver is a real https server that keeps what it is sent.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// client reaches r: the check is relaxed for loopback, which the default
// refuses.
func (r *receiver) client() *safehttp.Client {
	return &safehttp.Client{RootCAs: r.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		Allow: func(a netip.Addr) bool { return a.IsLoopback() }}
}

func TestDirectTransferPostsThePortabilityPackage(t *testing.T) {
	ctx := context.Background()
	w := newRightsWorld(t)
	srv := newReceiver(t, http.StatusCreated)
	x, err := store.RequestTransfer(ctx, w.db, rightsSecret, w.id, srv.URL+"/import", w.clk.Now())
	if err != nil || x.State != rights.TransferConfirming {
		t.Fatalf("request = %+v, %v", x, err)
	}
	if _, err := store.ConfirmTransfer(ctx, w.db, rightsSecret, w.other, x.ID, w.clk.Now()); err == nil {
		t.Fatal("another member confirmed the transfer")
	}
	tr := &store.Transferer{DB: w.db, Exporter: w.exporter(), Client: srv.client(), Clock: w.clk, Secret: rightsSecret, TempDir: t.TempDir()}
	// Not confirmed yet: nothing is sent.
	if err := tr.Send(ctx, x.ID); err != nil || len(srv.received()) != 0 {
		t.Fatalf("an unconfirmed transfer was sent: %v", err)
	}
	if x, err = store.ConfirmTransfer(ctx, w.db, rightsSecret, w.id, x.ID, w.clk.Now()); err != nil || x.State != rights.TransferQueued {
		t.Fatalf("confirm = %+v, %v", x, err)
	}
	if err := tr.Send(ctx, x.ID); err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("the service received %d bodies", len(got))
	}
	var pkg struct {
		Format string                     `json:"format"`
		Tables map[string]json.RawMessage `json:"tables"`
	}
	if err := json.Unmarshal([]byte(got[0]), &pkg); err != nil || pkg.Format != rights.PortableFormat {
		t.Fatalf("received %v %q", err, pkg.Format)
	}
	if !strings.Contains(got[0], w.email) || strings.Contains(got[0], "password_hash") {
		t.Error("the package is not the member's provided data")
	}
	x, _ = store.TransferOf(ctx, w.db, w.id, x.ID)
	if x.State != rights.TransferSent || x.StatusCode != http.StatusCreated || x.Size != int64(len(got[0])) {
		t.Fatalf("sent transfer = %+v", x)
	}
	recips, err := store.PersonRecipients(ctx, w.db, w.exporter().Map, rights.Person{AccountID: w.id})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recips {
		if strings.HasPrefix(r.ID, "transfer:127.0.0.1") && len(r.Deliveries) == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("the transfer is not among the member's recipients: %+v", recips)
	}

	// The production client refuses the same loopback service.
	y, _ := store.RequestTransfer(ctx, w.db, rightsSecret, w.id, srv.URL+"/import", w.clk.Now())
	if _, err := store.ConfirmTransfer(ctx, w.db, rightsSecret, w.id, y.ID, w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	tr.Client = &safehttp.Client{}
	if err := tr.Send(ctx, y.ID); err != nil {
		t.Fatal(err)
	}
	if y, _ = store.TransferOf(ctx, w.db, w.id, y.ID); y.State != rights.TransferFailed || y.Error != "refused-address" {
		t.Fatalf("transfer to loopback = %+v", y)
	}
	if len(srv.received()) != 1 {
		t.Fatal("the refused transfer reached the service")
	}
}

func TestRequestTransferRefusesBadAddresses(t *testing.T) {
	ctx := context.Background()
	w := newRightsWorld(t)
	for _, u := range []string{"http://example.com/import", "ftp://example.com", "https://user:pw@example.com/", "not a url", ""} {
		if _, err := store.RequestTransfer(ctx, w.db, rightsSecret, w.id, u, w.clk.Now()); err == nil {
			t.Errorf("RequestTransfer(%q) accepted", u)
		}
	}
	for range 3 {
		if _, err := store.RequestTransfer(ctx, w.db, rightsSecret, w.id, "https://example.com/import", w.clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.RequestTransfer(ctx, w.db, rightsSecret, w.id, "https://example.com/import", w.clk.Now()); err == nil {
		t.Error("a fourth waiting transfer was accepted")
	}
}

func TestNotifyRecipientsByMailAndWebhook(t *testing.T) {
	ctx := context.Background()
	w := newRightsWorld(t)
	hook := newReceiver(t, http.StatusNoContent)
	staffer := audit.Party{Kind: "staff", ID: w.other}
	if err := store.SetRecipientContact(ctx, w.db, rightsSecret, staffer, store.RecipientContact{Recipient: vendors.GoogleCloud, PrivacyEmail: "Privacy@Cloud.example"}, w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := store.SetRecipientContact(ctx, w.db, rightsSecret, staffer, store.RecipientContact{Recipient: vendors.Revolgy, WebhookURL: hook.URL + "/notices"}, w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := store.SetRecipientContact(ctx, w.db, rightsSecret, staffer, store.RecipientContact{Recipient: vendors.Revolgy, WebhookURL: "http://plain.example"}, w.clk.Now()); err == nil {
		t.Error("a plain http webhook was accepted")
	}
	recips, err := store.PersonRecipients(ctx, w.db, w.exporter().Map, rights.Person{AccountID: w.id})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range recips {
		ids[r.ID] = true
	}
	if !ids[vendors.GoogleCloud] || !ids[vendors.Revolgy] {
		t.Fatalf("recipients = %+v", recips)
	}

	mailIDs, err := store.NotifyRecipients(ctx, w.db, rightsSecret, rights.Person{AccountID: w.id}, rights.ChangeRestriction, w.clk.Now())
	if err != nil || len(mailIDs) != 1 {
		t.Fatalf("notify = %v, %v", mailIDs, err)
	}
	var to, text string
	if err := w.db.QueryRow(ctx, `SELECT to_address, body_text FROM mail_outbox WHERE id = ?`, mailIDs[0]).Scan(&to, &text); err != nil {
		t.Fatal(err)
	}
	if to != "privacy@cloud.example" || !strings.Contains(text, w.id) || !strings.Contains(text, "restricted") {
		t.Errorf("notice mail to %q:\n%s", to, text)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM recipient_notices WHERE change = 'restriction'`); n != len(recips) {
		t.Errorf("%d notices for %d recipients", n, len(recips))
	}
	sent, err := store.DeliverRecipientNotices(ctx, w.db, hook.client(), w.clk.Now())
	if err != nil || sent != 1 {
		t.Fatalf("deliver = %d, %v", sent, err)
	}
	got := hook.received()
	if len(got) != 1 || !strings.Contains(got[0], w.id) || !strings.Contains(got[0], `"change":"restriction"`) {
		t.Fatalf("webhook received %q", got)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM recipient_notices WHERE channel = 'webhook' AND state = 'sent' AND payload IS NULL`); n != 1 {
		t.Error("the delivered webhook notice kept its body")
	}
	if _, err := store.NotifyRecipients(ctx, w.db, rightsSecret, rights.Person{AccountID: w.id}, rights.Change("nonsense"), w.clk.Now()); err == nil {
		t.Error("an unknown change was accepted")
	}
}
