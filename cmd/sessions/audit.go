package main

import (
	"context"
	"fmt"

	"github.com/sessionshq/sessions/internal/privacy/audit"
)

// cmdAuditVerify checks the audit log's hash chain:
//
//	sessions audit verify [SEQ:HASH]
//
// It exits 0 when the chain is intact and 1 at the first broken link. The
// optional argument is a head printed by an earlier run and kept outside
// the database: only against it can entries cut off the end be noticed.
// Once retention has removed the oldest entries, the log is checked from
// the anchor it sealed with the server's key, which needs that key too.
func cmdAuditVerify(ctx context.Context, e env) error {
	var anchor *audit.Checkpoint
	switch len(e.args) {
	case 0:
	case 1:
		c, err := audit.ParseCheckpoint(e.args[0])
		if err != nil {
			return &exitError{code: 2, msg: "audit verify: " + err.Error()}
		}
		anchor = &c
	default:
		return &exitError{code: 2, msg: "usage: sessions audit verify [SEQ:HASH]"}
	}
	a, err := open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Services.Console.OperatorVerifyAudit(ctx, anchor)
	if err != nil {
		return err
	}
	if res.Intact {
		fmt.Fprintf(e.stdout, "audit log intact: %d entries\n", res.Entries)
		if res.Pruned != nil {
			fmt.Fprintf(e.stdout, "entries up to %d were removed by retention; the log starts from its anchor %s\n", res.Pruned.Seq, res.Pruned)
		}
		fmt.Fprintf(e.stdout, "head: %s\n", res.Head)
		return nil
	}
	b := res.FirstBroken
	fmt.Fprintf(e.stdout, "audit log broken at seq %d (%s): %s\n", b.Seq, b.Reason, b.Message)
	fmt.Fprintf(e.stdout, "the %d entries before it are intact; last intact: %s\n", res.Entries, res.Head)
	// The report is on stdout; the status says the rest.
	return &exitError{code: 1}
}
