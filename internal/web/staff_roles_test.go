package web_test

// Staff role separation: nobody changes their own staff roles (an
// administrator cannot make themselves privacy officer; a second
// administrator must), and a staff role is in force only while its holder
// signs in with two steps.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

func TestAdministratorCannotGrantThemselvesARole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	self := h.newStaff(t, staff.Admin)
	second := h.newStaff(t, staff.Admin)
	api := h.apiClient(t, self)
	browser := h.signIn(t, self)

	res := api.sendJSON(t, http.MethodPost, "/api/admin/staff", map[string]string{"email": self.Email, "role": "privacy_officer"})
	wantStatus(t, res, http.StatusForbidden)
	wantBody(t, res, "another administrator")
	wantStatus(t, browser.postForm(t, "/admin/staff", url.Values{"email": {self.Email}, "role": {"privacy_officer"}}), http.StatusForbidden)
	wantStatus(t, browser.postForm(t, "/admin/staff", url.Values{"email": {self.Email}, "role": {"support"}}), http.StatusForbidden)
	if roles, _ := store.StaffRoles(ctx, h.DB, self.ID); !slices.Equal(roles, []string{"admin"}) {
		t.Fatalf("an administrator granted themselves a role: %v", roles)
	}
	// Nor do they drop their own, even with another administrator about.
	wantStatus(t, api.do(t, http.MethodDelete, "/api/admin/staff/"+self.ID+"/roles/admin", nil, nil), http.StatusForbidden)
	wantStatus(t, browser.postForm(t, "/admin/staff/"+self.ID+"/revoke", url.Values{"role": {"admin"}}), http.StatusForbidden)
	if page := browser.get(t, "/admin/staff").text(); strings.Contains(page, `aria-label="Revoke Administrator from `+self.Name+`"`) {
		t.Error("the register offers to revoke the administrator's own role")
	}

	// A second administrator can.
	res = h.apiClient(t, second).sendJSON(t, http.MethodPost, "/api/admin/staff", map[string]string{"email": self.Email, "role": "privacy_officer"})
	wantStatus(t, res, http.StatusCreated)
	if roles, _ := store.StaffRoles(ctx, h.DB, self.ID); !slices.Equal(roles, []string{"privacy_officer", "admin"}) {
		t.Fatalf("roles after a second administrator's grant: %v", roles)
	}
}

func TestStaffRolesNeedTwoStepSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.newStaff(t, staff.Admin)
	officer := h.newMember(t)
	// Granting to someone without two-step sign-in is allowed; the role
	// waits, and the register says so.
	res := h.apiClient(t, admin).sendJSON(t, http.MethodPost, "/api/admin/staff", map[string]string{"email": officer.Email, "role": "privacy_officer"})
	wantStatus(t, res, http.StatusCreated)
	var entry struct {
		Active bool `json:"active"`
	}
	res.decode(t, &entry)
	if entry.Active {
		t.Fatal("the register calls a role in force for an account without two-step sign-in")
	}
	wantBody(t, h.signIn(t, admin).get(t, "/admin/staff"), "Not in force")

	browser := h.signIn(t, officer)
	res = browser.get(t, "/admin")
	wantStatus(t, res, http.StatusForbidden)
	wantBody(t, res, "Turn on two-step sign-in first", "Privacy officer", `href="/account/security"`)
	for _, path := range []string{"/admin/audit", "/admin/requests", "/api/admin/requests"} {
		res := browser.get(t, path)
		wantStatus(t, res, http.StatusForbidden)
		wantBody(t, res, "two-step sign-in")
	}
	res = h.apiClient(t, officer).get(t, "/api/admin/audit/verify")
	wantStatus(t, res, http.StatusForbidden)
	var me struct {
		StaffRoles []string `json:"staff_roles"`
	}
	browser.get(t, "/api/me").decode(t, &me)
	if len(me.StaffRoles) != 0 {
		t.Fatalf("GET /api/me lists roles not in force: %v", me.StaffRoles)
	}

	// Two-step sign-in on: the role is in force.
	enableTOTP(t, h, browser)
	wantStatus(t, browser.get(t, "/admin/audit"), http.StatusOK)
	wantStatus(t, browser.get(t, "/api/admin/requests"), http.StatusOK)
	res = browser.get(t, "/admin")
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, `href="/admin/audit"`)
}
