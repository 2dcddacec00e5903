package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os/user"
	"runtime/debug"
	"strings"

	"payoutdesk/db"
	"payoutdesk/web"
)

// cliActor is the audit actor of administration commands: the OS account
// that ran them.
func cliActor() db.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return db.Actor{Type: db.ActorCLI, ID: name}
}

func openDB(ctx context.Context, e env, name string, args []string, extra func(fs *flag.FlagSet)) (*db.DB, *flag.FlagSet, error) {
	cfg, fs, err := config(e, name, args, extra)
	if err != nil {
		return nil, fs, err
	}
	d, err := db.Open(ctx, cfg.DBPath)
	return d, fs, err
}

func userAdd(ctx context.Context, e env, args []string) error {
	var email, role string
	var fromStdin bool
	d, _, err := openDB(ctx, e, "user add", args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address of the new user (required)")
		fs.StringVar(&role, "role", "", "agent, manager or admin (required)")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin instead of generating one")
	})
	if err != nil {
		return err
	}
	defer d.Close()
	if email == "" || !strings.Contains(email, "@") {
		return usageError("payoutdesk user add: --email is required and must be an email address")
	}
	if db.RoleRank(role) == 0 {
		return usageError("payoutdesk user add: --role must be agent, manager or admin, got %q", role)
	}
	password := db.GeneratePassword()
	if fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return usageError("payoutdesk user add: no password on stdin")
		}
		password = strings.TrimRight(line, "\r\n")
		if len(password) < db.MinPasswordLength {
			return usageError("payoutdesk user add: the password must have at least %d characters", db.MinPasswordLength)
		}
	}
	ev := db.Event{Actor: cliActor(), Action: "user.created"}
	u, err := db.NewUsers(d).Create(ctx, email, role, password, ev)
	if errors.Is(err, db.ErrDuplicate) {
		return exitError{code: 1, msg: fmt.Sprintf("payoutdesk user add: a user with email %s already exists", db.NormalizeEmail(email))}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added %s %s (id %d)\n", u.Role, u.Email, u.ID)
	if !fromStdin {
		fmt.Fprintf(e.stdout, "password: %s\n(shown only now; it is not stored)\n", password)
	}
	return nil
}

func userDisable(ctx context.Context, e env, args []string) error {
	var email string
	d, _, err := openDB(ctx, e, "user disable", args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address of the user to disable (required)")
	})
	if err != nil {
		return err
	}
	defer d.Close()
	if email == "" {
		return usageError("payoutdesk user disable: --email is required")
	}
	users := db.NewUsers(d)
	u, err := users.ByEmail(ctx, email)
	if errors.Is(err, db.ErrNotFound) {
		return exitError{code: 1, msg: fmt.Sprintf("payoutdesk user disable: no user with email %s", db.NormalizeEmail(email))}
	}
	if err != nil {
		return err
	}
	if u.Disabled() {
		fmt.Fprintf(e.stdout, "%s was already disabled\n", u.Email)
		return nil
	}
	if err := users.Disable(ctx, u.ID, db.Event{Actor: cliActor(), Action: "user.disabled"}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "disabled %s; their sessions have ended\n", u.Email)
	return nil
}

func auditVerify(ctx context.Context, e env, args []string) error {
	var file, key string
	cfg, _, err := config(e, "audit verify", args, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "checkpoints", "", "checkpoint file to check the chain against (default: the configured one, DB.checkpoints)")
		fs.StringVar(&key, "key", "", "checkpoint key, private or public PEM (default: the configured one, DB.checkpoint-key)")
	})
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.DBPath)
	if err != nil {
		return err
	}
	defer d.Close()
	if file != "" {
		cfg.CheckpointFile = file
	}
	if key != "" {
		cfg.CheckpointKey = key
	}
	// Verification reads every event once and keeps none: collecting that
	// garbage less often makes it about a tenth faster, at the cost of a
	// few megabytes in a process that exits right after.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	v, note, err := web.VerifyAuditConfig(ctx, d, cfg)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(e.stderr, "note:", note)
	}
	if !v.OK() {
		return exitError{code: 1, msg: v.String()}
	}
	fmt.Fprintln(e.stdout, v.String())
	return nil
}

func auditCheckpoint(ctx context.Context, e env, args []string) error {
	cfg, _, err := config(e, "audit checkpoint", args, nil)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.DBPath)
	if err != nil {
		return err
	}
	defer d.Close()
	cp, err := web.CheckpointNow(ctx, d, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "checkpoint: seq %d, hash %s, key %s\n", cp.Seq, cp.Hash, cp.KeyID)
	return nil
}

func migrate(ctx context.Context, e env, args []string) error {
	d, _, err := openDB(ctx, e, "migrate", args, nil)
	if err != nil {
		return err
	}
	defer d.Close()
	cur, _, err := d.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "schema version %d (up to date)\n", cur)
	return nil
}

func backup(ctx context.Context, e env, args []string) error {
	d, fs, err := openDB(ctx, e, "backup", args, nil)
	if err != nil {
		return err
	}
	defer d.Close()
	if fs.NArg() != 1 {
		return usageError("payoutdesk backup: want one destination path")
	}
	if err := d.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup written to %s\n", fs.Arg(0))
	return nil
}
