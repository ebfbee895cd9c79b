package main

import (
	"context"
	"flag"
	"io"

	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
)

// cmdDatamap prints the record of processing activities built from the
// data map and the shipped sub-processor registry:
//
//	sessions datamap [--json]
//
// Markdown by default, JSON with --json. It opens no database, so it works
// before the first start; staff edits to the registry show on the server's
// /privacy/record page instead.
func cmdDatamap(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("datamap", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print JSON instead of Markdown")
	if err := fs.Parse(e.args); err != nil || fs.NArg() > 0 {
		return &exitError{code: 2, msg: "usage: sessions datamap [--json]"}
	}
	record := datamap.BuildRecord(datamap.Default(), vendors.Seed())
	out := record.Markdown()
	if *asJSON {
		var err error
		if out, err = record.JSON(); err != nil {
			return err
		}
	}
	_, err := e.stdout.Write(out)
	return err
}
