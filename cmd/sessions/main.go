// Command sessions is the Sessions server and its operator commands.
//
//	sessions [serve]                  run the server (the default)
//	sessions migrate                  apply database migrations and exit
//	sessions datamap [--json]         print the record of processing
//	sessions audit verify [SEQ:HASH]  check the audit log's hash chain
//	sessions mail list [--status S] [--limit N]
//	sessions mail show [--raw] ID     show the mail outbox
//	sessions admin create --email E [--name N]
//	                                  make an administrator
//	sessions retention run [--dry-run] [--json]
//	                                  enforce the retention rules once
//
// Every command reads the same settings from flags and SESSIONS_*
// environment variables; see the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/retention"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what every command receives.
type env struct {
	cfg    config.Config
	args   []string // what is left after the command words and flags
	clock  clock.Clock
	stdout io.Writer
	stderr io.Writer
}

// commands maps command words to their implementations.
var commands = map[string]func(ctx context.Context, e env) error{
	"serve":         cmdServe,
	"migrate":       cmdMigrate,
	"audit verify":  cmdAuditVerify,
	"datamap":       cmdDatamap,
	"mail list":     cmdMailList,
	"mail show":     cmdMailShow,
	"admin create":  cmdAdminCreate,
	"retention run": cmdRetentionRun,
}

// exitError carries an exit status other than 1.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// run is the whole program; tests call it as main does.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name = args[0]
		args = args[1:]
		// Two-word commands such as "audit verify".
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			if _, ok := commands[name+" "+args[0]]; ok {
				name += " " + args[0]
				args = args[1:]
			}
		}
	}
	if name == "help" {
		printUsage(stdout)
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "sessions: unknown command %q\n", name)
		printUsage(stderr)
		return 2
	}
	settingArgs, cmdArgs := config.SplitArgs(args)
	cfg, rest, err := config.Load(settingArgs, getenv, stderr)
	if err == nil {
		err = checkRetention(cfg)
	}
	if err != nil {
		// Every configuration error, whatever the setting, is one line
		// naming it and exit status 2.
		fmt.Fprintf(stderr, "sessions: %v\n", err)
		return 2
	}
	err = cmd(ctx, env{cfg: cfg, args: append(rest, cmdArgs...), clock: clock.System{}, stdout: stdout, stderr: stderr})
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(stderr, "sessions: %s\n", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "sessions: %v\n", err)
	return 1
}

// checkRetention refuses retention overrides the data map does not allow,
// at start like every other setting; the retention package owns their
// syntax, so the configuration package need not know the data map.
func checkRetention(cfg config.Config) error {
	if _, err := retention.ParseOverrides(datamap.Default(), cfg.Retention); err != nil {
		return &config.Error{Setting: "SESSIONS_RETENTION", Reason: err.Error()}
	}
	return nil
}

func printUsage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "usage: sessions [command] [flags]\ncommands: %s\nsettings:\n", strings.Join(names, ", "))
	for _, line := range config.Usage() {
		fmt.Fprintf(w, "  %s\n", line)
	}
}
