package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/privacy/retention"
	"github.com/sessionshq/sessions/internal/service/retain"
)

// cmdRetentionRun runs the retention engine once, as the hourly job does
// but without its time budget:
//
//	sessions retention run [--dry-run] [--json]
//
// With --dry-run nothing changes: it prints, per rule and table, how many
// rows would be deleted or cleared and how many people warned or erased,
// with a few example ids. Either way the run is kept in the staff report.
// Erasures it starts are carried out by the server's erasure jobs.
func cmdRetentionRun(ctx context.Context, e env) error {
	const usage = "usage: sessions retention run [--dry-run] [--json]"
	fs := flag.NewFlagSet("retention run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dry := fs.Bool("dry-run", false, "count what a run would do and change nothing")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseInterleaved(fs, e.args)
	if err != nil || len(rest) > 0 {
		return &exitError{code: 2, msg: usage}
	}
	a, err := open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	run, err := a.Services.Retention.Run(ctx, retain.Options{Trigger: retention.ByCommand, DryRun: *dry, Record: true})
	var cerr *config.Error
	if errors.As(err, &cerr) {
		return &exitError{code: 2, msg: cerr.Error()}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(run)
	}
	kind := "run"
	if run.DryRun {
		kind = "dry run (nothing was changed)"
	}
	fmt.Fprintf(e.stdout, "retention %s %s: %s\n\n", kind, run.ID, run.State)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tTABLE\tACTION\tCOUNT\tHELD\tEXAMPLES")
	for _, r := range run.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", r.Rule, r.Table, r.Action, r.Rows, r.Held, strings.Join(r.Examples, " "))
	}
	return tw.Flush()
}
