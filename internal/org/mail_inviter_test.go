package org

import (
	"strings"
	"testing"
	"time"
)

// TestInvitationMailLinksTheInviter checks that the invitation, addressed
// to someone else, is linked to the member it names, so that their
// erasure finds it.
func TestInvitationMailLinksTheInviter(t *testing.T) {
	inv := Invitation{ID: "inv_1", OrganisationID: "org_1", Email: "newcomer@example.com", Role: Member,
		InvitedBy: "acc_inviter", ExpiresAt: time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)}
	m := InvitationMail(Organisation{ID: "org_1", Name: "Acme"}, "Ivy Inviter", inv, "https://sessions.example/invitations/token")
	if !strings.Contains(m.Text, "Ivy Inviter invited you") {
		t.Fatalf("the invitation does not name the inviter; the test proves nothing:\n%s", m.Text)
	}
	if m.AboutID != "acc_inviter" || m.PersonID != "" {
		t.Errorf("the invitation is linked to recipient %q and named member %q, want none and acc_inviter", m.PersonID, m.AboutID)
	}
}
