package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	mailpkg "github.com/sessionshq/sessions/internal/platform/mail"
)

// cmdMailList prints the mail outbox, newest first:
//
//	sessions mail list [--status pending|sent|failed|held] [--limit N]
//
// Without an SMTP server this is how the operator reads what the product
// would have sent.
func cmdMailList(ctx context.Context, e env) error {
	const usage = "usage: sessions mail list [--status pending|sent|failed|held] [--limit N]"
	fs := flag.NewFlagSet("mail list", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	status := fs.String("status", "", "only messages with this status")
	limit := fs.Int("limit", 50, "at most this many messages")
	rest, err := parseInterleaved(fs, e.args)
	if err != nil || len(rest) > 0 {
		return &exitError{code: 2, msg: usage}
	}
	f := mailpkg.Filter{Status: mailpkg.Status(*status), Limit: *limit}
	if f.Status != "" && !f.Status.Valid() {
		return &exitError{code: 2, msg: "mail list: --status must be pending, sent, failed or held"}
	}
	if f.Limit < 1 || f.Limit > mailpkg.MaxListLimit {
		return &exitError{code: 2, msg: fmt.Sprintf("mail list: --limit must be from 1 to %d", mailpkg.MaxListLimit)}
	}
	a, err := open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := a.Services.Console.OperatorOutbox(ctx, f)
	if err != nil {
		return err
	}
	recs := list.Messages
	if len(recs) == 0 {
		fmt.Fprintln(e.stdout, "the outbox holds no such messages")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tCATEGORY\tTEMPLATE\tRECIPIENT\tSUBJECT\tSTATUS\tATTEMPTS")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n",
			r.ID, r.CreatedAt.UTC().Format(time.DateTime), r.Category, terminalLine(r.Template, 40),
			terminalLine(r.To, 40), terminalLine(r.Subject, 50), r.Status, r.Attempts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !list.SMTP {
		fmt.Fprintln(e.stdout, "\nno SMTP server is configured (SESSIONS_SMTP_ADDR): pending messages are not delivered")
	}
	return nil
}

// cmdMailShow prints one outbox message whole:
//
//	sessions mail show [--raw] ID
//
// With --raw it prints the RFC 5322 message exactly as it would be sent.
func cmdMailShow(ctx context.Context, e env) error {
	const usage = "usage: sessions mail show [--raw] ID"
	fs := flag.NewFlagSet("mail show", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	raw := fs.Bool("raw", false, "print the message as it goes over SMTP")
	rest, err := parseInterleaved(fs, e.args)
	if err != nil || len(rest) != 1 {
		return &exitError{code: 2, msg: usage}
	}
	a, err := open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	r, err := a.Services.Console.OperatorOutboxMessage(ctx, rest[0])
	if err != nil {
		return err
	}
	if *raw {
		from, err := mail.ParseAddress(a.Config.MailFrom)
		if err != nil {
			return err
		}
		msg, err := mailpkg.Compose(from, r)
		if err != nil {
			return err
		}
		_, err = io.WriteString(e.stdout, terminalText(strings.ReplaceAll(string(msg), "\r\n", "\n")))
		return err
	}

	w := e.stdout
	field := func(name, value string) { fmt.Fprintf(w, "%-14s %s\n", name+":", terminalLine(value, 0)) }
	field("ID", r.ID)
	field("Created", r.CreatedAt.UTC().Format(time.RFC3339))
	field("Category", string(r.Category))
	field("Template", r.Template)
	person := r.PersonID
	if person == "" {
		person = "-"
	}
	field("Person", person)
	field("To", r.To)
	field("Subject", r.Subject)
	field("Status", string(r.Status))
	field("Attempts", fmt.Sprint(r.Attempts))
	if r.Status == mailpkg.Pending {
		field("Next attempt", r.NextAttemptAt.UTC().Format(time.RFC3339))
	}
	if r.LastError != "" {
		field("Last error", r.LastError)
	}
	if r.SentAt != nil {
		field("Sent", r.SentAt.UTC().Format(time.RFC3339))
	}
	if len(r.Headers) > 0 {
		names := make([]string, 0, len(r.Headers))
		for n := range r.Headers {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintln(w, "Headers:")
		for _, n := range names {
			fmt.Fprintf(w, "  %s: %s\n", terminalLine(n, 0), terminalLine(r.Headers[n], 0))
		}
	}
	fmt.Fprintf(w, "\n--- text ---\n%s\n", terminalText(r.Text))
	if r.HTML != "" {
		fmt.Fprintf(w, "--- html ---\n%s\n", terminalText(r.HTML))
	}
	return nil
}

// parseInterleaved parses flags that may come before or after positional
// arguments, as in "mail show ID --raw".
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// terminalText makes stored text safe to print: control characters (which
// could drive the operator's terminal) become U+FFFD; line breaks and tabs
// stay.
func terminalText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return unicode.ReplacementChar
		}
		return r
	}, s)
}

// terminalLine is terminalText on one line, shortened to max runes (0 for
// no limit), for table cells.
func terminalLine(s string, max int) string {
	s = strings.NewReplacer("\n", " ", "\t", " ").Replace(terminalText(s))
	if r := []rune(s); max > 0 && len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
