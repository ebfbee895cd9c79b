// Package orgs holds the use cases of organisations: their members, roles,
// invitations, branding and DPA acceptances.
//
// This is the one place where an organisation's rules are applied. Every
// change runs in one transaction that first locks the organisation's row,
// then reads the actor's role and applies the rules of package org, then
// writes the change and its audit entry. The lock is what keeps the "at
// least one owner" rule true under concurrent changes on PostgreSQL;
// SQLite's transactions already take turns. Someone who is not a member
// gets the same "not found" whether or not the organisation exists, so
// that ids cannot be probed.
package orgs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Service runs the use cases of organisations: their members, roles,
// invitations, branding and DPA acceptances.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }

// member is the account acting, or Unauthorized for nobody.
func member(a service.Actor) (string, error) {
	if a.AccountID == "" {
		return "", errs.E(errs.Unauthorized, "sign in first")
	}
	return a.AccountID, nil
}

// lock locks the organisation's row for the rest of tx and returns it
// with the actor's role, or NotFound when the actor is not a member.
func lock(ctx context.Context, tx *service.Tx, orgID, accountID string) (org.Organisation, org.Role, error) {
	if err := store.LockOrganisation(ctx, tx, orgID); err != nil {
		return org.Organisation{}, "", err
	}
	return store.OrganisationFor(ctx, tx, orgID, accountID)
}

// lockFor locks the organisation like lock and refuses unless the actor's
// role allows action, so that no change starts before that check.
func lockFor(ctx context.Context, tx *service.Tx, orgID, accountID string, action org.Action) (org.Organisation, org.Role, error) {
	o, role, err := lock(ctx, tx, orgID, accountID)
	if err != nil {
		return org.Organisation{}, "", err
	}
	if err := org.Require(role, action); err != nil {
		return org.Organisation{}, "", err
	}
	return o, role, nil
}

// read returns the organisation with the actor's role, refused unless
// that role allows action. Read-only use cases run without a transaction,
// as one read of the membership decides them.
func (s *Service) read(ctx context.Context, actor service.Actor, orgID string, action org.Action) (org.Organisation, org.Role, error) {
	id, err := member(actor)
	if err != nil {
		return org.Organisation{}, "", err
	}
	o, role, err := store.OrganisationFor(ctx, s.env.Store.DB, orgID, id)
	if err != nil {
		return org.Organisation{}, "", err
	}
	if err := org.Require(role, action); err != nil {
		return org.Organisation{}, "", err
	}
	return o, role, nil
}

// ---- audit ----

// actorParty is a member acting on an organisation, as the audit log
// names them.
func actorParty(accountID string) audit.Party { return audit.Party{Kind: "member", ID: accountID} }

func orgParty(orgID string) audit.Party { return audit.Party{Kind: "organisation", ID: orgID} }

// hashed is how the audit log remembers an old value without keeping it.
func hashed(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// newID is a random id with a prefix that says what it names.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// notFound reports whether err is a missing row, however the store said it.
func notFound(err error) bool {
	return errors.Is(err, database.ErrNotFound) || errs.CodeOf(err) == errs.NotFound
}
