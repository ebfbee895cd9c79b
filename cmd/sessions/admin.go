package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/app"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/service/accounts"
	"github.com/sessionshq/sessions/internal/staff"
)

// passwordLinkTTL is how long the password link printed for a new
// administrator works.
const passwordLinkTTL = accounts.OperatorLinkTTL

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

	res, err := a.Services.Accounts.CreateAccount(ctx, accounts.NewAccount{Via: accounts.ViaOperator, Email: email, Name: *nameFlag})
	if fe, ok := errs.As(err); ok && fe.Fields["name"] != "" {
		return &exitError{code: 2, msg: "admin create: no account has this address, so --name is needed: " + fe.Fields["name"]}
	}
	if fe, ok := errs.As(err); ok && fe.Code != errs.Internal {
		return &exitError{code: 1, msg: "admin create: " + fe.Message}
	}
	if err != nil {
		return err
	}
	id, created, granted, link := res.AccountID, res.New, res.Granted, res.PasswordLink
	switch {
	case created:
		fmt.Fprintf(e.stdout, "Created account %s for %s and made it an administrator.\n", id, email)
		fmt.Fprintf(e.stdout, "To choose its password, open this link within %d hours; it works once:\n\n  %s\n\n", int(passwordLinkTTL.Hours()), link)
	case granted:
		fmt.Fprintf(e.stdout, "Account %s (%s) is now an administrator.\n", id, email)
	default:
		fmt.Fprintf(e.stdout, "Account %s (%s) is an administrator already.\n", id, email)
	}
	if !res.TwoStep {
		fmt.Fprintln(e.stdout, "The role works once the account turns on two-step sign-in: sign in and set it up at /account/security.")
	}
	return nil
}

// announceSetup prints, while no administrator exists, a one-time link
// that creates the first one. It goes to stdout for the person who
// started the server, never to the log. Each start prints a fresh link
// and voids the earlier ones; once an administrator exists it prints
// nothing and every link is dead.
func announceSetup(ctx context.Context, a *app.App, w io.Writer) error {
	link, err := a.Services.Accounts.AnnounceSetup(ctx)
	if err != nil || link == "" {
		return err
	}
	fmt.Fprintf(w, "\nNo administrator exists yet. To create the first one, open this link within %d hours; it works once:\n\n  %s\n\n(or run: sessions admin create --email you@example.com --name \"Your Name\")\n\n",
		int(staff.SetupTTL.Hours()), link)
	return nil
}
