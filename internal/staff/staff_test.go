package staff

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

// TestRoleTable is the policy written out in full: every role against
// every permission. A change to grants that is not also made here fails.
func TestRoleTable(t *testing.T) {
	const (
		S = Support
		P = PrivacyOfficer
		A = Admin
	)
	want := map[Permission][]Role{
		OpenConsole:          {S, P, A},
		LookUpPeople:         {S, P},
		ViewContact:          {S, P},
		ViewAccountStatus:    {S, P},
		ViewMeetingContent:   {},
		ReadAuditLog:         {P},
		EditSubprocessors:    {P},
		HandleRightsRequests: {P},
		ManageStaff:          {A},
		ManageSettings:       {A},
		OperateOutbox:        {A},
		ReadMail:             {P},
		SendMarketing:        {A},
		ViewAnalytics:        {P, A},
		PublishNotice:        {P, A},
		ReviewRetention:      {P},
		ManageLegalHolds:     {P},
	}
	if len(want) != len(Permissions) {
		t.Fatalf("the table covers %d permissions, the package declares %d", len(want), len(Permissions))
	}
	for _, p := range Permissions {
		allowed, ok := want[p]
		if !ok {
			t.Errorf("permission %s has no row in the table", p)
			continue
		}
		for _, r := range Roles {
			wantOK := false
			for _, a := range allowed {
				wantOK = wantOK || a == r
			}
			if got := Grants(r, p); got != wantOK {
				t.Errorf("Grants(%s, %s) = %v, want %v", r, p, got, wantOK)
			}
		}
	}
}

func TestNobodyReadsMeetingContent(t *testing.T) {
	if got := RolesWith(ViewMeetingContent); len(got) != 0 {
		t.Fatalf("roles that read meeting content: %v, want none", got)
	}
	if Can(Roles, ViewMeetingContent) {
		t.Fatal("holding every role grants meeting content")
	}
}

func TestSupportStaysOutOfRegistersAndMail(t *testing.T) {
	for _, p := range []Permission{ReadAuditLog, EditSubprocessors, OperateOutbox, ReadMail, ManageStaff, ManageSettings} {
		if Can([]Role{Support}, p) {
			t.Errorf("support has %s", p)
		}
	}
}

func TestActingRoleIsTheNarrowest(t *testing.T) {
	cases := []struct {
		roles []Role
		p     Permission
		want  Role
		ok    bool
	}{
		{[]Role{Admin, Support}, ViewContact, Support, true},
		{[]Role{PrivacyOfficer, Support}, ViewContact, Support, true},
		{[]Role{Admin, PrivacyOfficer}, ViewContact, PrivacyOfficer, true},
		{[]Role{Admin, PrivacyOfficer}, ReadMail, PrivacyOfficer, true},
		{[]Role{Admin}, ReadMail, "", false},
		{[]Role{Support}, ReadAuditLog, "", false},
		{nil, OpenConsole, "", false},
		{[]Role{"owner"}, OpenConsole, "", false},
	}
	for _, c := range cases {
		got, ok := ActingRole(c.roles, c.p)
		if got != c.want || ok != c.ok {
			t.Errorf("ActingRole(%v, %s) = %q, %v; want %q, %v", c.roles, c.p, got, ok, c.want, c.ok)
		}
	}
}

func TestParseRoles(t *testing.T) {
	got := ParseRoles([]string{"admin", "root", "support", "admin"})
	if len(got) != 2 || got[0] != Support || got[1] != Admin {
		t.Fatalf("ParseRoles = %v, want [support admin]", got)
	}
	if ParseRoles(nil) != nil {
		t.Fatal("no names should give no roles")
	}
}

func TestCleanReason(t *testing.T) {
	cases := []struct {
		in    string
		want  string
		valid bool
	}{
		{"", "", false},
		{"   short   ", "", false},
		{"123456789", "", false},
		{"  ticket #4411: cannot sign in  ", "ticket #4411: cannot sign in", true},
		{"line one\nline two", "line one\nline two", true},
		{strings.Repeat("é", MaxReason), strings.Repeat("é", MaxReason), true},
		{strings.Repeat("a", MaxReason+1), "", false},
		{"bell \a in the reason", "", false},
		{"bad \xff utf-8 here", "", false},
	}
	for _, c := range cases {
		got, err := CleanReason(c.in)
		if c.valid {
			if err != nil || got != c.want {
				t.Errorf("CleanReason(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			continue
		}
		e, ok := errs.As(err)
		if !ok || e.Code != errs.Invalid || e.Fields["reason"] == "" {
			t.Errorf("CleanReason(%q) = %q, %v; want an invalid reason field", c.in, got, err)
		}
	}
}

func TestNewAccess(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	a, err := NewAccess("acc_staff", []Role{Admin, Support}, "acc_person", ViewPerson, "ticket 12: locked out", now)
	if err != nil {
		t.Fatal(err)
	}
	if a.Role != Support || a.StaffID != "acc_staff" || a.PersonID != "acc_person" || a.View != ViewPerson ||
		!a.At.Equal(now) || a.Reason != "ticket 12: locked out" || !strings.HasPrefix(a.ID, "sal_") {
		t.Fatalf("access = %+v", a)
	}
	if _, err := NewAccess("acc_staff", []Role{Admin}, "acc_person", ViewPerson, "ticket 12: locked out", now); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("an admin looking a person up: %v, want forbidden", err)
	}
	if _, err := NewAccess("acc_staff", []Role{Support}, "acc_person", ViewMailMessage, "ticket 12: locked out", now); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("support reading mail: %v, want forbidden", err)
	}
	if _, err := NewAccess("acc_staff", []Role{Support}, "acc_person", ViewPerson, "why not", now); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("a short reason: %v, want invalid", err)
	}
}

func TestLabelsAndPurposes(t *testing.T) {
	for _, r := range Roles {
		if r.Label() == string(r) || r.Purpose() == "" || !r.Valid() {
			t.Errorf("role %s: label %q, purpose %q", r, r.Label(), r.Purpose())
		}
	}
	if Role("owner").Valid() {
		t.Error("an organisation role is taken for a staff role")
	}
	for _, v := range []View{ViewPerson, ViewMailMessage} {
		if v.Label() == string(v) {
			t.Errorf("view %s has no label", v)
		}
	}
}
