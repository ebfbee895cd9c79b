package org

import (
	"testing"
	"time"
)

func TestSuccessor(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := func(id string, role Role, days int) Membership {
		return Membership{AccountID: id, Role: role, JoinedAt: t0.AddDate(0, 0, days)}
	}
	for _, tc := range []struct {
		name    string
		members []Membership
		want    string
	}{
		{"the admin who joined first, before any member", []Membership{m("leaving", Owner, 0), m("member", Member, 1), m("late-admin", Admin, 5), m("admin", Admin, 3)}, "admin"},
		{"with no admin, the member who joined first", []Membership{m("leaving", Owner, 0), m("b", Member, 4), m("a", Member, 2), m("guest", Guest, 1)}, "a"},
		{"the account id breaks a tie", []Membership{m("leaving", Owner, 0), m("y", Admin, 1), m("x", Admin, 1)}, "x"},
		{"guests never inherit", []Membership{m("leaving", Owner, 0), m("guest", Guest, 1)}, ""},
		{"alone", []Membership{m("leaving", Owner, 0)}, ""},
	} {
		got, ok := Successor(tc.members, "leaving")
		if got.AccountID != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: %q %v, want %q", tc.name, got.AccountID, ok, tc.want)
		}
	}
}
