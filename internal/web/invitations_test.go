package web_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// readdress gives m's account another (confirmed) address, for tests that
// need a member at an address of their choosing.
func readdress(t *testing.T, h *harness, m *testMember, email string) {
	t.Helper()
	if _, err := h.DB.Exec(context.Background(), `UPDATE accounts SET email = ? WHERE id = ?`, email, m.ID); err != nil {
		t.Fatal(err)
	}
	m.Email = email
}

// inviteeShape is a participant as the API answers, without what differs
// between any two invitations anyway (id, address, time).
func inviteeShape(t *testing.T, p map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	for k, v := range p {
		if k != "id" && k != "email" && k != "created_at" {
			out[k] = v
		}
	}
	return out
}

// participantsOf reads the participant list through the API, by id.
func participantsOf(t *testing.T, c *client, meetingID string) map[string]map[string]any {
	t.Helper()
	res := c.get(t, "/api/meetings/"+meetingID+"/participants")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("participants: %d %s", res.StatusCode, res.Body)
	}
	var list struct {
		Participants []map[string]any `json:"participants"`
	}
	res.decode(t, &list)
	out := map[string]map[string]any{}
	for _, p := range list.Participants {
		out[p["id"].(string)] = p
	}
	return out
}

// TestMeetingInvitationDoesNotRevealAccounts invites a member and an
// address nobody holds: the API's answers, the participant list and the
// page show the two alike, until the member joins the call and is named.
func TestMeetingInvitationDoesNotRevealAccounts(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	host, member := h.newMember(t), h.newMember(t)
	api := h.apiClient(t, host)
	id := createMeeting(t, api, nil)

	var ids []string
	var shapes []map[string]any
	for _, addr := range []string{member.Email, "nobody@example.org"} {
		res := api.sendJSON(t, http.MethodPost, "/api/meetings/"+id+"/participants", map[string]string{"email": addr})
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("invite %s: %d %s", addr, res.StatusCode, res.Body)
		}
		var p map[string]any
		res.decode(t, &p)
		if p["account_id"] != nil || p["name"] != "" || p["guest"] != nil || p["state"] != "invited" || p["email"] != addr {
			t.Fatalf("inviting %s answered %s", addr, res.Body)
		}
		ids = append(ids, p["id"].(string))
		shapes = append(shapes, inviteeShape(t, p))
	}
	if !reflect.DeepEqual(shapes[0], shapes[1]) {
		t.Fatalf("the answers differ: %v and %v", shapes[0], shapes[1])
	}
	list := participantsOf(t, api, id)
	if !reflect.DeepEqual(inviteeShape(t, list[ids[0]]), inviteeShape(t, list[ids[1]])) || list[ids[0]]["state"] != "invited" {
		t.Fatalf("the list tells the invitees apart: %v and %v", list[ids[0]], list[ids[1]])
	}
	page := h.signIn(t, host).get(t, "/meetings/"+id)
	if page.StatusCode != http.StatusOK || strings.Contains(page.text(), member.Name) || strings.Count(page.text(), ">invited</span>") != 2 {
		t.Fatalf("the page names the member or tells the invitees apart:\n%s", page.Body)
	}
	// The member's invitation is in their own list all the same.
	if res := h.apiClient(t, member).get(t, "/api/meetings/"+id); res.StatusCode != http.StatusOK {
		t.Fatalf("the invited member cannot see the meeting: %d", res.StatusCode)
	}

	// Joining the call accepts the invitation: from then on they are named.
	if res := postJSON(t, h.apiClient(t, member), "/api/meetings/"+id+"/join", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("join: %d %s", res.StatusCode, res.Body)
	}
	list = participantsOf(t, api, id)
	if p := list[ids[0]]; p["state"] != "accepted" || p["name"] != member.Name || p["account_id"] != member.ID || p["guest"] != false {
		t.Fatalf("after joining, the member is listed as %v", p)
	}
	if p := list[ids[1]]; p["state"] != "invited" || p["guest"] != nil {
		t.Fatalf("the other invitee changed: %v", p)
	}
	if page := h.signIn(t, host).get(t, "/meetings/"+id); !strings.Contains(page.text(), member.Name) {
		t.Fatal("the page does not name the member who joined")
	}
}

// TestInvitationsNeedAConfirmedAddress: an account that never confirmed its
// address is refused with 403 when it invites anyone, to a meeting or to an
// organisation, and nothing is stored or mailed; the page keeps what was
// typed.
func TestInvitationsNeedAConfirmedAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	unconfirmed := h.newUnverifiedMember(t)
	api := h.apiClient(t, unconfirmed)
	id := createMeeting(t, api, nil)
	res := api.sendJSON(t, http.MethodPost, "/api/meetings/"+id+"/participants", map[string]string{"email": "victim@example.org"})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("API invitation by an unconfirmed account: %d %s", res.StatusCode, res.Body)
	}
	page := h.signIn(t, unconfirmed).postForm(t, "/meetings/"+id+"/participants", url.Values{"email": {"victim@example.org"}})
	if page.StatusCode != http.StatusForbidden || !strings.Contains(page.text(), "confirm your e-mail address") ||
		!strings.Contains(page.text(), `value="victim@example.org"`) {
		t.Fatalf("form invitation by an unconfirmed account: %d\n%.3000s", page.StatusCode, page.Body)
	}

	// An organisation admin who never confirmed their address.
	owner := h.newMember(t)
	o, err := h.Srv.Services.Orgs.Create(context.Background(), service.Member(owner.ID), "Relay Ltd", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AddMember(context.Background(), h.DB, o.ID, unconfirmed.ID, org.Admin, h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	res = api.sendJSON(t, http.MethodPost, "/api/orgs/"+o.ID+"/invitations", map[string]string{"email": "victim@example.org", "role": "member"})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("organisation invitation by an unconfirmed admin: %d %s", res.StatusCode, res.Body)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ?`, "victim@example.org"); n != 0 {
		t.Fatalf("%d messages to the address after refusals", n)
	}
}

// TestInvitationsAreLimitedPerDay: past the daily limit, meeting and
// organisation invitations, by API and by form, are refused with 429 and a
// Retry-After until the next day; the form keeps what was typed.
func TestInvitationsAreLimitedPerDay(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, map[string]string{"SESSIONS_INVITATIONS_PER_DAY": "2"})
	host := h.newMember(t)
	api := h.apiClient(t, host)
	id := createMeeting(t, api, nil)
	for _, addr := range []string{"one@example.org", "two@example.org"} {
		if res := api.sendJSON(t, http.MethodPost, "/api/meetings/"+id+"/participants", map[string]string{"email": addr}); res.StatusCode != http.StatusCreated {
			t.Fatalf("invite %s: %d %s", addr, res.StatusCode, res.Body)
		}
	}
	retryAfter := func(res *response) int {
		n, err := strconv.Atoi(res.Header.Get("Retry-After"))
		if err != nil {
			return 0
		}
		return n
	}
	res := api.sendJSON(t, http.MethodPost, "/api/meetings/"+id+"/participants", map[string]string{"email": "three@example.org"})
	if res.StatusCode != http.StatusTooManyRequests || retryAfter(res) <= 0 || retryAfter(res) > 24*3600 {
		t.Fatalf("a third invitation with a limit of two: %d Retry-After %q %s", res.StatusCode, res.Header.Get("Retry-After"), res.Body)
	}
	page := h.signIn(t, host).postForm(t, "/meetings/"+id+"/participants", url.Values{"email": {"three@example.org"}})
	if page.StatusCode != http.StatusTooManyRequests || retryAfter(page) <= 0 || !strings.Contains(page.text(), `value="three@example.org"`) {
		t.Fatalf("the form past the limit: %d Retry-After %q\n%.3000s", page.StatusCode, page.Header.Get("Retry-After"), page.Body)
	}
	o, err := h.Srv.Services.Orgs.Create(context.Background(), service.Member(host.ID), "Busy Ltd", "")
	if err != nil {
		t.Fatal(err)
	}
	res = api.sendJSON(t, http.MethodPost, "/api/orgs/"+o.ID+"/invitations", map[string]string{"email": "three@example.org", "role": "member"})
	if res.StatusCode != http.StatusTooManyRequests || retryAfter(res) <= 0 {
		t.Fatalf("an organisation invitation past the limit: %d %s", res.StatusCode, res.Body)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ?`, "three@example.org"); n != 0 {
		t.Fatalf("%d messages past the limit", n)
	}
	h.Clock.Advance(24 * time.Hour)
	if res := api.sendJSON(t, http.MethodPost, "/api/meetings/"+id+"/participants", map[string]string{"email": "three@example.org"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("the next day: %d %s", res.StatusCode, res.Body)
	}
}

// TestOrganisationInvitationOnlyForTheInvitedAddress: another member who
// holds the link cannot accept it (403, and the page says why instead of
// offering to accept); the account of the invited address can.
func TestOrganisationInvitationOnlyForTheInvitedAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	owner := h.newMember(t)
	api := h.apiClient(t, owner)
	o, err := h.Srv.Services.Orgs.Create(context.Background(), service.Member(owner.ID), "Bound Ltd", "")
	if err != nil {
		t.Fatal(err)
	}
	colleague := h.newMember(t)
	if res := api.sendJSON(t, http.MethodPost, "/api/orgs/"+o.ID+"/invitations", map[string]string{"email": colleague.Email, "role": "member"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("invite colleague: %d %s", res.StatusCode, res.Body)
	}
	if _, _, err := h.Srv.Services.Orgs.Accept(context.Background(), service.Member(colleague.ID), orgLinkPattern.FindStringSubmatch(h.nextMail(t).Text)[1]); err != nil {
		t.Fatal(err)
	}
	res := api.sendJSON(t, http.MethodPost, "/api/orgs/"+o.ID+"/invitations", map[string]string{"email": "New.Hire@Example.org", "role": "admin"})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("invite: %d %s", res.StatusCode, res.Body)
	}
	token := orgLinkPattern.FindStringSubmatch(h.nextMail(t).Text)[1]

	res = h.apiClient(t, colleague).sendJSON(t, http.MethodPost, "/api/invitations/accept", map[string]string{"token": token})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a member accepted an invitation mailed to someone else: %d %s", res.StatusCode, res.Body)
	}
	browser := h.signIn(t, colleague)
	if page := browser.get(t, "/invitations/"+token); page.StatusCode != http.StatusOK ||
		!strings.Contains(page.text(), "This invitation is for another address") || strings.Contains(page.text(), `action="/invitations/accept"`) {
		_, after, _ := strings.Cut(page.text(), "<main")
		t.Fatalf("the invitation page for another account: %d\n%.3000s", page.StatusCode, after)
	}
	if res := browser.postForm(t, "/invitations/accept", url.Values{"token": {token}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("the form accepted for another account: %d", res.StatusCode)
	}
	if m, err := store.OrganisationMember(context.Background(), h.DB, o.ID, colleague.ID); err != nil || m.Role != org.Member {
		t.Fatalf("the colleague's membership changed: %+v %v", m, err)
	}

	hire := h.newMember(t)
	readdress(t, h, hire, "new.hire@example.org")
	res = h.apiClient(t, hire).sendJSON(t, http.MethodPost, "/api/invitations/accept", map[string]string{"token": token})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the addressee's acceptance: %d %s", res.StatusCode, res.Body)
	}
	if m, err := store.OrganisationMember(context.Background(), h.DB, o.ID, hire.ID); err != nil || m.Role != org.Admin {
		t.Fatalf("membership = %+v, %v", m, err)
	}
}
