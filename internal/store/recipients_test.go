package store_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/safehttp"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// validatePortable checks a portability package against the schema
// published beside it.
func validatePortable(t *testing.T, body []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(rights.PortableSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("portable.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("portable.schema.json")
	if err != nil {
		t.Fatalf("the portable schema does not compile: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("the package does not validate against its schema: %v", err)
	}
}

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
	t.Parallel()
	ctx := context.Background()
	w := newRightsWorld(t)
	srv := newReceiver(t, http.StatusCreated)
	tr, env := rightsService(t, w.db, rightsSecret, w.blobs, w.clk)
	env.Outbound = srv.client()
	x, err := tr.RequestTransfer(ctx, w.id, srv.URL+"/import")
	if err != nil || x.State != rights.TransferConfirming {
		t.Fatalf("request = %+v, %v", x, err)
	}
	if _, err := tr.ConfirmTransfer(ctx, w.other, x.ID); err == nil {
		t.Fatal("another member confirmed the transfer")
	}
	// Not confirmed yet: nothing is sent.
	if err := tr.SendTransfer(ctx, x.ID); err != nil || len(srv.received()) != 0 {
		t.Fatalf("an unconfirmed transfer was sent: %v", err)
	}
	if x, err = tr.ConfirmTransfer(ctx, w.id, x.ID); err != nil || x.State != rights.TransferQueued {
		t.Fatalf("confirm = %+v, %v", x, err)
	}
	if err := tr.SendTransfer(ctx, x.ID); err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("the service received %d bodies", len(got))
	}
	var pkg struct {
		Format string                     `json:"format"`
		Tables map[string]json.RawMessage `json:"tables"`
		Files  map[string]struct {
			Base64 string `json:"base64"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(got[0]), &pkg); err != nil || pkg.Format != rights.PortableFormat {
		t.Fatalf("received %v %q", err, pkg.Format)
	}
	validatePortable(t, []byte(got[0]))
	if !strings.Contains(got[0], w.email) || strings.Contains(got[0], "password_hash") {
		t.Error("the package is not the member's provided data")
	}
	// The files the member uploaded travel with it; an earlier export,
	// which is not theirs to give, does not.
	var avatar bool
	for key, f := range pkg.Files {
		b, err := base64.StdEncoding.DecodeString(f.Base64)
		if err != nil {
			t.Fatalf("file %s: %v", key, err)
		}
		avatar = avatar || strings.HasSuffix(string(b), " avatar bytes")
		if key == w.earlierExport {
			t.Error("the package carries an earlier export")
		}
	}
	if !avatar {
		t.Errorf("the package lacks the member's profile picture; files: %d", len(pkg.Files))
	}
	x, _ = store.TransferOf(ctx, w.db, w.id, x.ID)
	if x.State != rights.TransferSent || x.StatusCode != http.StatusCreated || x.Size != int64(len(got[0])) {
		t.Fatalf("sent transfer = %+v", x)
	}
	recips, err := store.PersonRecipients(ctx, w.db, datamap.Default(), rights.Person{AccountID: w.id})
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
	y, _ := tr.RequestTransfer(ctx, w.id, srv.URL+"/import")
	if _, err := tr.ConfirmTransfer(ctx, w.id, y.ID); err != nil {
		t.Fatal(err)
	}
	env.Outbound = &safehttp.Client{}
	if err := tr.SendTransfer(ctx, y.ID); err != nil {
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
	t.Parallel()
	ctx := context.Background()
	w := newRightsWorld(t)
	tr := w.rights(t)
	for _, u := range []string{"http://example.com/import", "ftp://example.com", "https://user:pw@example.com/", "not a url", "", "https://127.0.0.1/import"} {
		if _, err := tr.RequestTransfer(ctx, w.id, u); err == nil {
			t.Errorf("RequestTransfer(%q) accepted", u)
		}
	}
	// A public address given as a number needs no name lookup.
	for range 3 {
		if _, err := tr.RequestTransfer(ctx, w.id, "https://93.184.215.14/import"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.RequestTransfer(ctx, w.id, "https://93.184.215.14/import"); err == nil {
		t.Error("a fourth waiting transfer was accepted")
	}
}

func TestNotifyRecipientsByMailAndWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRightsWorld(t)
	hook := newReceiver(t, http.StatusNoContent)
	if _, err := store.SetRecipientContact(ctx, w.db, store.RecipientContact{Recipient: vendors.GoogleCloud, PrivacyEmail: "Privacy@Cloud.example"}, w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetRecipientContact(ctx, w.db, store.RecipientContact{Recipient: vendors.Revolgy, WebhookURL: hook.URL + "/notices"}, w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetRecipientContact(ctx, w.db, store.RecipientContact{Recipient: vendors.Revolgy, WebhookURL: "http://plain.example"}, w.clk.Now()); err == nil {
		t.Error("a plain http webhook was accepted")
	}
	recips, err := store.PersonRecipients(ctx, w.db, datamap.Default(), rights.Person{AccountID: w.id})
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

	st, err := store.New(w.db, rightsSecret)
	if err != nil {
		t.Fatal(err)
	}
	mailIDs, err := st.NotifyRecipients(ctx, w.db, datamap.Default(), rights.Person{AccountID: w.id}, rights.ChangeRestriction, w.clk.Now())
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
	notices, env := rightsService(t, w.db, rightsSecret, w.blobs, w.clk)
	env.Outbound = hook.client()
	sent, err := notices.DeliverRecipientNotices(ctx)
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
	if _, err := st.NotifyRecipients(ctx, w.db, datamap.Default(), rights.Person{AccountID: w.id}, rights.Change("nonsense"), w.clk.Now()); err == nil {
		t.Error("an unknown change was accepted")
	}
}

// contactsForHosting gives the two hosting recipients every member's
// data goes to a privacy contact each, and returns their addresses.
func contactsForHosting(t *testing.T, w *rightsWorld) map[string]string {
	t.Helper()
	addrs := map[string]string{vendors.GoogleCloud: "privacy@cloud.example", vendors.Revolgy: "dpo@revolgy.example"}
	for id, addr := range addrs {
		if _, err := store.SetRecipientContact(context.Background(), w.db, store.RecipientContact{Recipient: id, PrivacyEmail: addr}, w.clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return addrs
}

// unrestricted lifts the restriction the world's member starts with, so
// that a test can watch one come into force.
func unrestricted(t *testing.T, w *rightsWorld) {
	t.Helper()
	if err := store.SetRestricted(context.Background(), w.db, rightsSecret, audit.Party{Kind: "system"}, w.id, false, w.clk.Now()); err != nil {
		t.Fatal(err)
	}
}

// recipientNoticeIDs lists the outbox ids of the messages to recipients'
// privacy contacts.
func recipientNoticeIDs(t *testing.T, w *rightsWorld) []string {
	t.Helper()
	return queryIDs(t, w.db, `SELECT id FROM mail_outbox WHERE template = 'rights.recipient_notice' ORDER BY id`)
}

// queryIDs runs a query that selects one id per row and returns them.
func queryIDs(t *testing.T, db *database.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// noticeMails returns the outbox rows of ids, by address.
func noticeMails(t *testing.T, w *rightsWorld, ids []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, id := range ids {
		var to, text string
		if err := w.db.QueryRow(context.Background(), `SELECT to_address, body_text FROM mail_outbox WHERE id = ?`, id).Scan(&to, &text); err != nil {
			t.Fatalf("outbox row %s: %v", id, err)
		}
		out[to] = text
	}
	return out
}

func TestStaffRestrictionNotifiesEachRecipientOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRightsWorld(t)
	addrs := contactsForHosting(t, w)
	staffer := audit.Party{Kind: "staff", ID: w.other}
	unrestricted(t, w)

	ids, err := store.SetRestrictedAndNotify(ctx, w.db, rightsSecret, staffer, w.id, true, w.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	mails := noticeMails(t, w, ids)
	if len(ids) != 2 || len(mails) != 2 {
		t.Fatalf("%d notice mails for two recipients with a contact: %v", len(ids), mails)
	}
	for _, addr := range addrs {
		if text, ok := mails[addr]; !ok || !strings.Contains(text, w.id) || !strings.Contains(text, "restricted") {
			t.Errorf("notice to %s:\n%s", addr, text)
		}
	}
	if on, err := store.Restricted(ctx, w.db, w.id); err != nil || !on {
		t.Fatalf("restricted = %v, %v", on, err)
	}
	notices := countRows(t, w.db, `SELECT COUNT(*) FROM recipient_notices WHERE change = 'restriction'`)
	if notices < 2 {
		t.Errorf("%d restriction notices recorded", notices)
	}

	// Restricting again changes nothing and tells nobody again; lifting
	// tells no recipient either.
	for _, restricted := range []bool{true, false} {
		again, err := store.SetRestrictedAndNotify(ctx, w.db, rightsSecret, staffer, w.id, restricted, w.clk.Now())
		if err != nil || len(again) != 0 {
			t.Errorf("restricted=%v: %v mails, %v", restricted, again, err)
		}
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM recipient_notices`); n != notices {
		t.Errorf("%d notices after a repeat and a lift, want %d", n, notices)
	}
	if on, _ := store.Restricted(ctx, w.db, w.id); on {
		t.Error("the restriction was not lifted")
	}
}

func TestRequestStepsNotifyRecipients(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	staffer := service.Actor{AccountID: "acc_staff", Roles: []staff.Role{staff.PrivacyOfficer}}
	for _, tc := range []struct {
		name   string
		right  rights.Right
		change rights.Change
		// noticedAt is the step whose result carries the notices; the
		// other step carries none.
		noticedAt rights.RequestAction
		word      string
	}{
		{"restriction on start", rights.RightRestriction, rights.ChangeRestriction, rights.ActStart, "restricted"},
		{"rectification on completion", rights.RightRectification, rights.ChangeRectification, rights.ActComplete, "corrected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newRightsWorld(t)
			addrs := contactsForHosting(t, w)
			unrestricted(t, w)
			svc := w.rights(t)
			r, err := svc.FileMemberRequest(ctx, w.id,
				rights.Intake{Channel: rights.ChannelAccount, Rights: []rights.Right{tc.right}, Details: "My city is wrong."})
			if err != nil {
				t.Fatal(err)
			}
			for _, step := range []rights.RequestStep{{Action: rights.ActStart}, {Action: rights.ActComplete, Reason: "Done."}} {
				before := recipientNoticeIDs(t, w)
				if _, err := svc.AdvanceRequest(ctx, staffer, r.ID, step); err != nil {
					t.Fatalf("%s: %v", step.Action, err)
				}
				queued := slices.DeleteFunc(recipientNoticeIDs(t, w), func(id string) bool { return slices.Contains(before, id) })
				if step.Action != tc.noticedAt {
					if len(queued) != 0 {
						t.Errorf("%s queued notices %v", step.Action, queued)
					}
					continue
				}
				mails := noticeMails(t, w, queued)
				if len(queued) != 2 || len(mails) != 2 {
					t.Fatalf("%s: %d notice mails, want one per recipient with a contact", step.Action, len(queued))
				}
				for _, addr := range addrs {
					if !strings.Contains(mails[addr], tc.word) || !strings.Contains(mails[addr], w.id) {
						t.Errorf("notice to %s:\n%s", addr, mails[addr])
					}
				}
			}
			if n := countRows(t, w.db, `SELECT COUNT(*) FROM recipient_notices WHERE change = ?`, string(tc.change)); n < 2 {
				t.Errorf("%d %s notices recorded", n, tc.change)
			}
			if n := countRows(t, w.db, `SELECT COUNT(*) FROM audit_log WHERE action = 'rights.recipients_notified'`); n != 1 {
				t.Errorf("%d audit entries for the notices", n)
			}
		})
	}
}

func TestRecipientContactValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRightsWorld(t)
	for _, tc := range []struct {
		name  string
		c     store.RecipientContact
		field string // "" when accepted
	}{
		{"address", store.RecipientContact{PrivacyEmail: " Privacy@Cloud.example "}, ""},
		{"webhook", store.RecipientContact{WebhookURL: "https://hooks.example/notices"}, ""},
		{"both", store.RecipientContact{PrivacyEmail: "p@x.example", WebhookURL: "https://hooks.example/n"}, ""},
		{"neither", store.RecipientContact{}, ""},
		{"not an address", store.RecipientContact{PrivacyEmail: "privacy at cloud"}, "privacy_email"},
		{"display name", store.RecipientContact{PrivacyEmail: "Privacy <privacy@cloud.example>"}, "privacy_email"},
		{"two addresses", store.RecipientContact{PrivacyEmail: "a@x.example, b@x.example"}, "privacy_email"},
		{"too long", store.RecipientContact{PrivacyEmail: strings.Repeat("a", 250) + "@x.example"}, "privacy_email"},
		{"plain http", store.RecipientContact{WebhookURL: "http://hooks.example/notices"}, "webhook_url"},
		{"credentials", store.RecipientContact{WebhookURL: "https://u:p@hooks.example/"}, "webhook_url"},
		{"not a url", store.RecipientContact{WebhookURL: "hooks"}, "webhook_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.Recipient = vendors.GoogleCloud
			_, err := store.SetRecipientContact(ctx, w.db, tc.c, w.clk.Now())
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid || e.Fields[tc.field] == "" {
				t.Fatalf("err = %v, want Invalid naming %s", err, tc.field)
			}
		})
	}
	got, err := store.RecipientContacts(ctx, w.db)
	if err != nil || len(got) != 1 || got[0].PrivacyEmail != "" || got[0].WebhookURL != "" {
		t.Errorf("contacts after the last accepted edit (neither) = %+v, %v", got, err)
	}
	_, err = store.SetRecipientContact(ctx, w.db, store.RecipientContact{Recipient: "no-such-vendor", PrivacyEmail: "bad"}, w.clk.Now())
	if errs.CodeOf(err) != errs.NotFound {
		t.Errorf("unknown sub-processor: %v", err)
	}
}

func TestWebhookNoticesGoOnlyThroughTheChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRightsWorld(t)
	hook := newReceiver(t, http.StatusOK)
	if _, err := store.SetRecipientContact(ctx, w.db, store.RecipientContact{Recipient: vendors.GoogleCloud, WebhookURL: hook.URL + "/art19"}, w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	unrestricted(t, w)
	if _, err := store.SetRestrictedAndNotify(ctx, w.db, rightsSecret, audit.Party{Kind: "staff", ID: w.other}, w.id, true, w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	// The default client refuses the loopback server each time, and gives
	// up after the allowed attempts, dropping the body.
	notices, env := rightsService(t, w.db, rightsSecret, w.blobs, w.clk)
	for i := range rights.TransferAttempts {
		if sent, err := notices.DeliverRecipientNotices(ctx); err != nil || sent != 0 {
			t.Fatalf("attempt %d: sent %d, %v", i+1, sent, err)
		}
	}
	if len(hook.received()) != 0 {
		t.Fatal("the default client reached a loopback webhook")
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM recipient_notices WHERE channel = 'webhook' AND state = 'failed' AND payload IS NULL`); n != 1 {
		t.Errorf("%d refused notices given up without their body", n)
	}

	// With the check relaxed for the test's loopback server, a new notice
	// reaches it, named by its id.
	if _, err := store.SetRestrictedAndNotify(ctx, w.db, rightsSecret, audit.Party{Kind: "staff", ID: w.other}, w.id, false, w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetRestrictedAndNotify(ctx, w.db, rightsSecret, audit.Party{Kind: "staff", ID: w.other}, w.id, true, w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	env.Outbound = hook.client()
	if sent, err := notices.DeliverRecipientNotices(ctx); err != nil || sent != 1 {
		t.Fatalf("deliver = %d, %v", sent, err)
	}
	got := hook.received()
	var body struct {
		ID     string `json:"id"`
		Change string `json:"change"`
		Person struct {
			AccountID string `json:"account_id"`
		} `json:"person"`
	}
	if len(got) != 1 || json.Unmarshal([]byte(got[0]), &body) != nil || body.Change != "restriction" || body.Person.AccountID != w.id ||
		countRows(t, w.db, `SELECT COUNT(*) FROM recipient_notices WHERE id = ? AND state = 'sent'`, body.ID) != 1 {
		t.Fatalf("webhook received %q", got)
	}
}
