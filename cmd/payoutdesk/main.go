// Command payoutdesk runs the Payout Desk server and its administration
// commands. Run "payoutdesk help" for the list.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal stops gracefully, which waits for the payouts being
	// sent (up to the send timeout); a second one ends the process at once,
	// and the next start makes those payouts unknown, as after a crash.
	context.AfterFunc(ctx, stop)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "payoutdesk:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a given status and message.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func usageError(format string, args ...any) error {
	return exitError{code: 2, msg: fmt.Sprintf(format, args...) + "\nRun \"payoutdesk help\" for usage."}
}

// env is what a command gets from its surroundings.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// run dispatches a command line; without a command it serves.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	name := "serve"
	switch {
	case len(args) > 0 && isHelp(args[0]):
		name, args = "help", args[1:]
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		name, args = args[0], args[1:]
	}
	sub := func() (string, []string) {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return "", args
		}
		return args[0], args[1:]
	}
	switch name {
	case "serve":
		return serve(ctx, e, args)
	case "migrate":
		return migrate(ctx, e, args)
	case "backup":
		return backup(ctx, e, args)
	case "user":
		switch s, rest := sub(); s {
		case "add":
			return userAdd(ctx, e, rest)
		case "disable":
			return userDisable(ctx, e, rest)
		case "reset-password":
			return userResetPassword(ctx, e, rest)
		default:
			return usageError("payoutdesk user: want \"add\", \"disable\" or \"reset-password\", got %q", s)
		}
	case "audit":
		switch s, rest := sub(); s {
		case "verify":
			return auditVerify(ctx, e, rest)
		case "checkpoint":
			return auditCheckpoint(ctx, e, rest)
		default:
			return usageError("payoutdesk audit: want \"verify\" or \"checkpoint\", got %q", s)
		}
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError("payoutdesk: unknown command %q", name)
}

// isHelp reports whether arg asks for help the way the flag package
// understands it (-h, -help, --h, --help).
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--h", "--help":
		return true
	}
	return false
}

const usage = `Payout Desk — a payout back-office.

Usage:
  payoutdesk [serve] [flags]                 serve the web app (the default)
  payoutdesk user add --email E --role R [--password-stdin]
                                             add a user (agent, manager or admin); prints a
                                             random password unless one is read from stdin
  payoutdesk user disable --email E          disable a user and end their sessions
  payoutdesk user reset-password --email E [--password-stdin]
                                             give a user a new password, end their sessions
                                             and enable them if disabled; prints a random
                                             password unless one is read from stdin
  payoutdesk audit verify [--checkpoints PATH] [--key PATH]
                                             recompute the audit hash chain and check it
                                             against the signed checkpoints
  payoutdesk audit checkpoint                sign a checkpoint of the audit chain now
  payoutdesk migrate                         apply database migrations and exit
  payoutdesk backup [flags] PATH             write a consistent copy of the database
  payoutdesk help                            this text

Every command accepts the configuration flags; run "payoutdesk serve -h" to list them.
`
