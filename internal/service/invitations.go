package service

import (
	"context"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/store"
)

// CountInvitation is the gate of every invitation a member sends to an
// address (email, normalised), in the use case's transaction: the
// inviter must have confirmed their own address, and may send
// Config.InvitationsPerDay invitations a day; an address receives at most
// Config.InvitationsPerAddressPerDay a day from people who share none of
// its organisations. The counters live in the database, so every instance
// counts in the same place; a refusal rolls them back with the rest of
// the use case.
//
// The answer depends only on the inviter and on what the recipient's own
// organisations are, never on whether the address has an account that is
// a stranger's, so it tells a stranger nothing about the address.
func (t *Tx) CountInvitation(ctx context.Context, inviterID, email string) error {
	inviter, err := store.AccountByID(ctx, t, inviterID)
	if err != nil {
		return err
	}
	if err := account.CheckInviter(inviter); err != nil {
		return err
	}
	perDay, perAddress := t.env.Config.InvitationsPerDay, t.env.Config.InvitationsPerAddressPerDay
	if perDay <= 0 {
		perDay = account.DefaultInvitationsPerDay
	}
	if perAddress <= 0 {
		perAddress = account.DefaultInvitationsPerAddressPerDay
	}
	day, left := account.InvitationDay(t.env.Clock.Now())
	sent, err := store.CountInvitation(ctx, t, ratelimit.Key(t.env.Secret, "invitations-from", inviterID), day)
	if err != nil {
		return err
	}
	if sent > perDay {
		return account.TooManyInvitations(perDay, left)
	}
	colleague, err := store.SharesOrganisation(ctx, t, inviterID, email)
	if err != nil || colleague {
		return err
	}
	received, err := store.CountInvitation(ctx, t, ratelimit.Key(t.env.Secret, "invitations-to", email), day)
	if err != nil {
		return err
	}
	if received > perAddress {
		return account.TooManyInvitationsTo(left)
	}
	return nil
}
