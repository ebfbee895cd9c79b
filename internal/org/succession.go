package org

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/sessionshq/sessions/internal/platform/mail"
)

// An organisation always has someone to answer for it. When the account
// of its last owner is erased, the organisation passes to its
// longest-standing admin or, with no admin, to its longest-standing
// member; guests, who come from outside, never inherit it. With neither,
// nobody is left to run it: it is deleted once the data map's retention
// rule OwnerlessRule has run from the moment it lost its owner, and its
// open invitations are withdrawn at once, since no one could answer for
// whoever accepted them.

// OwnerlessRule is the data map's retention rule for an organisation
// left without an owner.
const OwnerlessRule = "org-ownerless-30d"

// Successor picks who inherits an organisation whose last owner, leaving,
// goes: among the other members, the admin who joined first, else the
// member who joined first (the account id breaks a tie, so that the
// choice never depends on the order rows come in). false when there is
// no one but guests.
func Successor(members []Membership, leaving string) (Membership, bool) {
	for _, role := range []Role{Admin, Member} {
		var candidates []Membership
		for _, m := range members {
			if m.Role == role && m.AccountID != leaving {
				candidates = append(candidates, m)
			}
		}
		if len(candidates) > 0 {
			return slices.MinFunc(candidates, func(a, b Membership) int {
				return cmp.Or(a.JoinedAt.Compare(b.JoinedAt), cmp.Compare(a.AccountID, b.AccountID))
			}), true
		}
	}
	return Membership{}, false
}

// SuccessionMail tells the new owner that the organisation is now theirs
// and why. It does not name the owner whose account was erased.
func SuccessionMail(o Organisation, heir Membership, link string) mail.Message {
	text := fmt.Sprintf(`Hello,

You are now an owner of the organisation "%s" on Sessions.

Its last owner's account has been deleted, and as its longest-standing %s you take over: you can now manage its members and their roles, accept its Data Processing Addendum, and delete the organisation. If you do not want this, make another member an owner and then leave, or delete the organisation.

%s

Sessions
`, o.Name, heir.Role.noun(), link)
	return mail.Message{
		PersonID: heir.AccountID,
		Category: mail.Transactional,
		Template: "org.succession",
		To:       heir.Email,
		Subject:  fmt.Sprintf("You are now an owner of %s", o.Name),
		Text:     text,
	}
}

// noun names the role in a sentence, in lower case.
func (r Role) noun() string {
	switch r {
	case Admin:
		return "admin"
	case Member:
		return "member"
	}
	return string(r)
}
