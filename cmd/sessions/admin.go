package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/app"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// passwordLinkTTL is how long the password link printed for a new
// administrator works: the operator has to pass it on, which may take
// longer than the hour an e-mailed reset link gets.
const passwordLinkTTL = 24 * time.Hour

// operatorParty is who the audit log names for what the operator does
// from the command line or through the printed setup link.
var operatorParty = audit.Party{Kind: "operator"}

// cmdAdminCreate makes an administrator:
//
//	sessions admin create --email E [--name N]
//
// An account with the address is given the role. Without one, an account
// is created with name N and an unusable password, and a one-time link to
// choose the password is printed. The password itself never passes
// through the command line.
func cmdAdminCreate(ctx context.Context, e env) error {
	const usage = "usage: sessions admin create --email E [--name N] (--name is required when no account has the address)"
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	emailFlag := fs.String("email", "", "address of the account")
	nameFlag := fs.String("name", "", "name of the account, when it is created")
	rest, err := parseInterleaved(fs, e.args)
	if err != nil || len(rest) > 0 {
		return &exitError{code: 2, msg: usage}
	}
	email := account.NormaliseEmail(*emailFlag)
	v := errs.Validation{}
	account.CheckEmail(v, "email", email)
	if msg, bad := v["email"]; bad {
		return &exitError{code: 2, msg: "admin create: --email: " + msg}
	}
	a, err := open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()

	now := a.Clock.Now()
	var (
		id      string
		created bool
		granted bool
		link    string
	)
	err = a.DB.InTx(ctx, func(tx *database.Tx) error {
		existing, err := store.AccountByEmail(ctx, tx, email)
		switch {
		case err == nil:
			id = existing.ID
		case errors.Is(err, database.ErrNotFound):
			name := account.CleanName(*nameFlag)
			v := errs.Validation{}
			account.CheckName(v, "name", name)
			if msg, bad := v["name"]; bad {
				return &exitError{code: 2, msg: "admin create: no account has this address, so --name is needed: " + msg}
			}
			if id, link, err = createAdminAccount(ctx, tx, a, email, name, now); err != nil {
				return err
			}
			created = true
		default:
			return err
		}
		granted, err = store.GrantStaffRole(ctx, tx, a.Secret, operatorParty, id, staff.Admin, now)
		if e, ok := errs.As(err); ok && e.Code != errs.Internal {
			return &exitError{code: 1, msg: "admin create: " + e.Message}
		}
		return err
	})
	if err != nil {
		return err
	}
	switch {
	case created:
		fmt.Fprintf(e.stdout, "Created account %s for %s and made it an administrator.\n", id, email)
		fmt.Fprintf(e.stdout, "To choose its password, open this link within %d hours; it works once:\n\n  %s\n\n", int(passwordLinkTTL.Hours()), link)
	case granted:
		fmt.Fprintf(e.stdout, "Account %s (%s) is now an administrator.\n", id, email)
	default:
		fmt.Fprintf(e.stdout, "Account %s (%s) is an administrator already.\n", id, email)
	}
	return nil
}

// createAdminAccount opens an account for the first administrator inside
// tx. Its password is random and never shown: the returned link, a
// password reset link, is how the person sets their own. The address
// counts as confirmed because the operator vouches for it.
func createAdminAccount(ctx context.Context, tx database.Querier, a *app.App, email, name string, now time.Time) (string, string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", err
	}
	hash, err := account.NewHasher(account.DefaultHashParams, nil).Hash(base64.RawURLEncoding.EncodeToString(raw[:]))
	if err != nil {
		return "", "", err
	}
	acc := account.Account{
		ID: account.NewID(), Email: email, EmailVerifiedAt: &now, PasswordHash: hash, PasswordChangedAt: now,
		Name: name, Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if err := store.CreateAccount(ctx, tx, acc); err != nil {
		return "", "", err
	}
	if err := store.AppendAudit(ctx, tx, a.Secret, audit.Entry{
		At: now, Actor: operatorParty, Action: "account.create", Subject: audit.Party{Kind: "member", ID: acc.ID},
		Purpose: "account", Detail: map[string]string{"via": "command"},
	}); err != nil {
		return "", "", err
	}
	exp := now.Add(passwordLinkTTL)
	token := signed.Make(a.Secret, account.PurposeReset, acc.ID, exp)
	if err := store.CreateEmailToken(ctx, tx, signed.Digest(token), account.PurposeReset, acc.ID, "", now, exp); err != nil {
		return "", "", err
	}
	return acc.ID, baseURL(a) + "/reset-password?token=" + url.QueryEscape(token), nil
}

func baseURL(a *app.App) string { return strings.TrimRight(a.Config.BaseURL, "/") }

// announceSetup prints, while no administrator exists, a one-time link
// that creates the first one. It goes to stdout for the person who
// started the server, never to the log. Each start prints a fresh link
// and voids the earlier ones; once an administrator exists it prints
// nothing and every link is dead.
func announceSetup(ctx context.Context, a *app.App, w io.Writer) error {
	exists, err := store.AdminExists(ctx, a.DB)
	if err != nil || exists {
		return err
	}
	now := a.Clock.Now()
	exp := now.Add(staff.SetupTTL)
	token := signed.Make(a.Secret, staff.SetupPurpose, staff.SetupSubject, exp)
	if err := store.IssueSetupToken(ctx, a.DB, signed.Digest(token), now, exp); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nNo administrator exists yet. To create the first one, open this link within %d hours; it works once:\n\n  %s/setup?token=%s\n\n(or run: sessions admin create --email you@example.com --name \"Your Name\")\n\n",
		int(staff.SetupTTL.Hours()), baseURL(a), url.QueryEscape(token))
	return nil
}
