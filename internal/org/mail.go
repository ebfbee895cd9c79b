package org

import (
	"fmt"

	"github.com/sessionshq/sessions/internal/platform/mail"
)

// InvitationMail is the e-mail that carries an invitation's link. It says
// who invited whom to what, in which role, and until when the link works;
// nothing else. It is linked to no recipient: the address may have no
// account yet, and the outbox row is found by the address instead. It is
// linked to the inviter, whom it names.
func InvitationMail(o Organisation, inviter string, inv Invitation, link string) mail.Message {
	by := inviter
	if by == "" {
		by = "A member"
	}
	text := fmt.Sprintf(`Hello,

%s invited you to join the organisation "%s" on Sessions as %s.

To accept, open the link below and sign in, or create an account first if you have none. You may accept with any account; the invitation goes to the account you accept it with.

%s

The link works once, until %s. If you did not expect this invitation, ignore this message: nothing happens unless you accept.

Sessions
`, by, o.Name, article(inv.Role), link, inv.ExpiresAt.UTC().Format("2 January 2006 at 15:04 UTC"))
	return mail.Message{
		AboutID:  inv.InvitedBy,
		Category: mail.Transactional,
		Template: "org.invitation",
		To:       inv.Email,
		Subject:  fmt.Sprintf("Invitation to join %s on Sessions", o.Name),
		Text:     text,
		// Whoever holds the link can accept the invitation.
		Secrets: []string{link},
	}
}

// article names a role with its indefinite article, for sentences.
func article(r Role) string {
	switch r {
	case Owner:
		return "an owner"
	case Admin:
		return "an admin"
	case Member:
		return "a member"
	case Guest:
		return "a guest"
	}
	return string(r)
}
