package org

import (
	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
)

// CheckInvitee says whether the account may accept the invitation: it
// must be the account of the address the invitation was mailed to, which
// its owner confirmed. Whoever else holds the link (a colleague it was
// forwarded to, someone reading over a shoulder) cannot use it, so the
// people who run the organisation get the member they invited.
func CheckInvitee(inv Invitation, a account.Account) error {
	invited := account.CleanEmail(errs.Validation{}, "email", inv.Email)
	if account.CleanEmail(errs.Validation{}, "email", a.Email) != invited {
		return errs.E(errs.Forbidden, "this invitation was sent to another address: sign in with the account that has that address to accept it")
	}
	if !a.Verified() {
		return errs.E(errs.Forbidden, "confirm your e-mail address before you accept: follow the link we sent you, or ask for a new one in your account settings")
	}
	return nil
}
