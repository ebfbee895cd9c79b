package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/app"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/service/accounts"
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

// setupLinkFile is the file in the data folder that holds the setup link
// while no administrator exists.
const setupLinkFile = "setup-link.txt"

// announceSetup writes, while no administrator exists, the link that
// creates the first one to a file in the data folder that only the
// server's user can read, and prints where it is. The link itself goes to
// w only when w is a terminal: output collected by a service manager or a
// container runtime is kept and shipped, and the link must not be. Every
// instance on one database writes the same link (see
// accounts.AnnounceSetup). Once an administrator exists it removes the
// file and prints nothing.
func announceSetup(ctx context.Context, a *app.App, w io.Writer) error {
	link, err := a.Services.Accounts.AnnounceSetup(ctx)
	if err != nil {
		return err
	}
	path := filepath.Join(a.Config.DataDir, setupLinkFile)
	if link.URL == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the spent setup link: %w", err)
		}
		return nil
	}
	if err := writePrivateFile(path, []byte(link.URL+"\n")); err != nil {
		return fmt.Errorf("write the setup link: %w", err)
	}
	fmt.Fprintf(w, "\nNo administrator exists yet. The one-time link that creates the first one is in\n\n  %s\n\n"+
		"(readable by this user only; it works once, until %s).\n", path, link.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"))
	if isTerminal(w) {
		fmt.Fprintf(w, "\n  %s\n", link.URL)
	}
	fmt.Fprintf(w, "\n(or run: sessions admin create --email you@example.com --name \"Your Name\")\n\n")
	return nil
}

// writePrivateFile replaces the file at path with b, readable and writable
// by the owner only from the moment it exists: the content is written to a
// new file of mode 0600 in the same folder, which then takes the name.
func writePrivateFile(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// isTerminal reports whether w is a terminal (a character device), where
// what is printed is read by a person and not collected into logs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
