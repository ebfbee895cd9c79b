package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/staff"
)

// hostingContacts gives the two hosting companies every member's account
// data goes to a privacy contact each through the staff API, and returns
// the addresses by registry id.
func hostingContacts(t *testing.T, h *harness, po *client) map[string]string {
	t.Helper()
	addrs := map[string]string{vendors.GoogleCloud: "privacy@cloud.example", vendors.Revolgy: "dpo@revolgy.example"}
	for id, addr := range addrs {
		res := po.sendJSON(t, http.MethodPut, "/api/admin/recipients/"+id, map[string]string{"privacy_email": addr, "webhook_url": ""})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("set contact of %s: %d %s", id, res.StatusCode, res.Body)
		}
	}
	return addrs
}

// noticesTo delivers the outbox and returns the messages the SMTP server
// received after the first skip, by recipient address.
func noticesTo(t *testing.T, h *harness, skip int) map[string]*mailtest.Message {
	t.Helper()
	h.deliverMail(t)
	out := map[string]*mailtest.Message{}
	for _, m := range h.SMTP.Messages()[skip:] {
		out[m.EnvelopeTo[0]] = m
	}
	return out
}

func TestStaffRestrictionMailsEachRecipient(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	po := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))
	addrs := hostingContacts(t, h, po)
	ada := h.newMember(t)
	h.deliverMail(t)
	before := len(h.SMTP.Messages())

	path := "/api/admin/people/" + ada.ID + "/restriction"
	if res := po.sendJSON(t, http.MethodPut, path, map[string]bool{"restricted": true}); res.StatusCode != http.StatusOK {
		t.Fatalf("restrict: %d %s", res.StatusCode, res.Body)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE template = 'rights.recipient_notice' AND status = 'pending'`); n != len(addrs) {
		t.Fatalf("%d notices in the outbox, want %d", n, len(addrs))
	}
	got := noticesTo(t, h, before)
	for _, addr := range addrs {
		m := got[addr]
		if m == nil || !strings.Contains(m.Text, ada.ID) || !strings.Contains(m.Text, "restricted") || !strings.Contains(m.Subject, "restriction") {
			t.Errorf("no restriction notice to %s: %+v", addr, m)
		}
	}
	if n := h.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'rights.recipients_notified' AND subject_id = ?`, ada.ID); n != 1 {
		t.Errorf("%d audit entries for the notices", n)
	}

	// Setting it again, and lifting it, tells no recipient.
	for _, on := range []bool{true, false} {
		if res := po.sendJSON(t, http.MethodPut, path, map[string]bool{"restricted": on}); res.StatusCode != http.StatusOK {
			t.Fatalf("restricted=%v: %d", on, res.StatusCode)
		}
	}
	if extra := noticesTo(t, h, before+len(got)); len(extra) != 0 {
		t.Errorf("notices after a repeat and a lift: %v", extra)
	}
}

func TestRectificationCompletionMailsEachRecipient(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	poMember := h.newStaff(t, staff.PrivacyOfficer)
	addrs := hostingContacts(t, h, h.apiClient(t, poMember))
	po := h.signIn(t, poMember)
	ada := h.newMember(t)
	r := rqFiled(t, h, ada, rights.RightRectification)
	h.deliverMail(t)
	before := len(h.SMTP.Messages())

	if res := po.postForm(t, "/admin/requests/"+r.ID+"/start", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d %s", res.StatusCode, res.Body)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM recipient_notices`); n != 0 {
		t.Fatalf("%d notices before the correction was done", n)
	}
	if res := po.postForm(t, "/admin/requests/"+r.ID+"/complete", url.Values{"reason": {"Your city is corrected."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("complete: %d %s", res.StatusCode, res.Body)
	}
	got := noticesTo(t, h, before)
	for _, addr := range addrs {
		m := got[addr]
		if m == nil || !strings.Contains(m.Text, ada.ID) || !strings.Contains(m.Text, "corrected") {
			t.Errorf("no rectification notice to %s: %+v", addr, m)
		}
	}
	if got[ada.Email] == nil {
		t.Error("the person was not told the request is done")
	}
}

func TestRecipientContactEdits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	poMember := h.newStaff(t, staff.PrivacyOfficer)
	api := h.apiClient(t, poMember)
	browser := h.signIn(t, poMember)
	put := "/api/admin/recipients/" + vendors.GoogleCloud

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
		// apiOnly: a form's absent field is an empty one, so only the
		// API can leave one out.
		apiOnly bool
	}{
		{"bad address", map[string]any{"privacy_email": "privacy at cloud", "webhook_url": ""}, "privacy_email", false},
		{"plain http webhook", map[string]any{"privacy_email": "", "webhook_url": "http://hooks.example/art19"}, "webhook_url", false},
		{"missing webhook", map[string]any{"privacy_email": "privacy@cloud.example"}, "webhook_url", true},
	} {
		t.Run("api "+tc.name, func(t *testing.T) {
			res := api.sendJSON(t, http.MethodPut, put, tc.body)
			if res.StatusCode != http.StatusUnprocessableEntity || res.problemFields(t)[tc.field] == "" {
				t.Errorf("%d %s, want 422 naming %s", res.StatusCode, res.Body, tc.field)
			}
		})
		if tc.apiOnly {
			continue
		}
		t.Run("form "+tc.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range tc.body {
				form.Set(k, v.(string))
			}
			res := browser.postForm(t, "/admin/recipients/"+vendors.GoogleCloud, form)
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.text(), `aria-invalid="true"`) {
				t.Errorf("%d, want 422 with the field marked", res.StatusCode)
			}
		})
	}
	if n := h.count(t, `SELECT COUNT(*) FROM recipient_contacts`); n != 0 {
		t.Fatalf("%d contacts saved from refused edits", n)
	}
	if res := api.sendJSON(t, http.MethodPut, "/api/admin/recipients/no-such-vendor", map[string]string{"privacy_email": "x", "webhook_url": ""}); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown sub-processor: %d", res.StatusCode)
	}
	if res := browser.postForm(t, "/admin/recipients/no-such-vendor", url.Values{"privacy_email": {"a@b.example"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown sub-processor form: %d", res.StatusCode)
	}

	// A good edit through the form shows on the page and in the API, and
	// is audited.
	res := browser.postForm(t, "/admin/recipients/"+vendors.GoogleCloud, url.Values{"privacy_email": {"Privacy@Cloud.example"}, "webhook_url": {"https://hooks.example/art19"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/admin/recipients?saved=") {
		t.Fatalf("save: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	page := browser.get(t, res.Header.Get("Location"))
	if page.StatusCode != http.StatusOK || !strings.Contains(page.text(), "privacy@cloud.example") || !strings.Contains(page.text(), "https://hooks.example/art19") {
		t.Errorf("page after save: %d", page.StatusCode)
	}
	type contact struct {
		Recipient    string `json:"recipient"`
		PrivacyEmail string `json:"privacy_email"`
		WebhookURL   string `json:"webhook_url"`
	}
	var list struct {
		Recipients []contact `json:"recipients"`
	}
	api.get(t, "/api/admin/recipients").decode(t, &list)
	i := slices.IndexFunc(list.Recipients, func(r contact) bool { return r.Recipient == vendors.GoogleCloud })
	if i < 0 || list.Recipients[i].PrivacyEmail != "privacy@cloud.example" || list.Recipients[i].WebhookURL != "https://hooks.example/art19" {
		t.Errorf("API list: %+v", list.Recipients)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'rights.recipient_contact' AND subject_id = ?`, vendors.GoogleCloud); n != 1 {
		t.Errorf("%d audit entries for the edit", n)
	}
	// The log says which contact changed, never the address.
	if strings.Contains(h.Logs.String(), "privacy@cloud.example") {
		t.Error("the contact address reached the log")
	}
}

func TestPrivacyPageLinksToRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.signIn(t, h.newMember(t))
	page := c.get(t, "/account/privacy")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.text(), `href="/account/requests"`) {
		t.Errorf("the privacy page does not link to the requests: %d", page.StatusCode)
	}
}
