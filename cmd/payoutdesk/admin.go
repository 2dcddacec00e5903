package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/go-playground/validator/v10"

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

// emailRule is the rule the Users page applies to a new user's email
// (handlers' newUserForm): the command line accepts exactly what it does.
const emailRule = "required,email,max=254"

func userAdd(ctx context.Context, e env, args []string) error {
	var email, role string
	var fromStdin bool
	password := db.GeneratePassword()
	_, d, err := openDB(ctx, e, "user add", args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address of the new user (required)")
		fs.StringVar(&role, "role", "", "agent, manager or admin (required)")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin instead of generating one")
	}, func(*flag.FlagSet, web.Config) (err error) {
		email = strings.TrimSpace(email)
		if validator.New().Var(email, emailRule) != nil {
			return usageError("payoutdesk user add: --email is required and must be an email address")
		}
		if problem := db.EmailLookAlike(email); problem != "" {
			return usageError("payoutdesk user add: --email %s", problem)
		}
		if db.RoleRank(role) == 0 {
			return usageError("payoutdesk user add: --role must be agent, manager or admin, got %q", role)
		}
		if fromStdin {
			password, err = readPassword(e, "user add")
		}
		return err
	})
	if err != nil {
		return err
	}
	defer d.Close()
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

// readPassword reads a password from the first line of standard input.
func readPassword(e env, cmd string) (string, error) {
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usageError("payoutdesk %s: no password on stdin", cmd)
	}
	password := strings.TrimRight(line, "\r\n")
	if problem := db.PasswordProblem(password); problem != "" {
		return "", usageError("payoutdesk %s: %s", cmd, problem)
	}
	return password, nil
}

func userResetPassword(ctx context.Context, e env, args []string) error {
	var email string
	var fromStdin bool
	password := db.GeneratePassword()
	_, d, err := openDB(ctx, e, "user reset-password", args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address of the user (required)")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin instead of generating one")
	}, func(*flag.FlagSet, web.Config) (err error) {
		if email == "" {
			return usageError("payoutdesk user reset-password: --email is required")
		}
		if fromStdin {
			password, err = readPassword(e, "user reset-password")
		}
		return err
	})
	if err != nil {
		return err
	}
	defer d.Close()
	users := db.NewUsers(d)
	u, err := userByEmail(ctx, users, "user reset-password", email)
	if err != nil {
		return err
	}
	wasDisabled, err := users.ResetPassword(ctx, u.ID, db.AnyVersion, password, db.Event{Actor: cliActor(), Action: "user.password_reset"})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "new password for %s; their sessions have ended\n", u.Email)
	if wasDisabled {
		fmt.Fprintf(e.stdout, "%s was disabled and is enabled again\n", u.Email)
	}
	if !fromStdin {
		fmt.Fprintf(e.stdout, "password: %s\n(shown only now; it is not stored)\n", password)
	}
	return nil
}

// userByEmail finds the user a command names; none is exit status 1.
func userByEmail(ctx context.Context, users *db.Users, cmd, email string) (db.User, error) {
	u, err := users.ByEmail(ctx, email)
	if errors.Is(err, db.ErrNotFound) {
		return u, exitError{code: 1, msg: fmt.Sprintf("payoutdesk %s: no user with email %s", cmd, db.NormalizeEmail(email))}
	}
	return u, err
}

func userDisable(ctx context.Context, e env, args []string) error {
	var email string
	_, d, err := openDB(ctx, e, "user disable", args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address of the user to disable (required)")
	}, func(*flag.FlagSet, web.Config) error {
		if email == "" {
			return usageError("payoutdesk user disable: --email is required")
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer d.Close()
	users := db.NewUsers(d)
	u, err := userByEmail(ctx, users, "user disable", email)
	if err != nil {
		return err
	}
	if u.Disabled() {
		fmt.Fprintf(e.stdout, "%s was already disabled\n", u.Email)
		return nil
	}
	err = users.Disable(ctx, u.ID, db.Event{Actor: cliActor(), Action: "user.disabled"})
	if errors.Is(err, db.ErrLastAdmin) {
		return exitError{code: 1, msg: fmt.Sprintf("payoutdesk user disable: %s is the last active admin; add another admin first", u.Email)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "disabled %s; their sessions have ended\n", u.Email)
	return nil
}

func auditVerify(ctx context.Context, e env, args []string) error {
	var file, key string
	cfg, d, err := openDB(ctx, e, "audit verify", args, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "checkpoints", "", "checkpoint file to check the chain against (default: the configured one, DB.checkpoints)")
		fs.StringVar(&key, "key", "", "checkpoint key, private or public PEM (default: the configured one, DB.checkpoint-key)")
	}, func(_ *flag.FlagSet, cfg web.Config) error {
		// Verifying creates nothing (openDB refuses a missing database):
		// a missing named file must not pass as "no checkpoints".
		named := file
		if named == "" {
			named = cfg.CheckpointFile
		}
		if _, err := os.Stat(named); named != "" && err != nil {
			return usageError("payoutdesk audit verify: no checkpoint file at %s", named)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer d.Close()
	if file != "" {
		cfg.CheckpointFile = file
	}
	if key != "" {
		// The named key is trusted with its own ring, KEY.pub, if any.
		cfg.CheckpointKey, cfg.CheckpointKeyRing = key, ""
	}
	v, note, err := web.VerifyAudit(ctx, d, cfg)
	if err != nil {
		// Exit 1 means a broken history: a check that could not run (a
		// key or checkpoint file it cannot read) is exit 2.
		return exitError{code: 2, msg: "payoutdesk audit verify: " + err.Error()}
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
	cfg, d, err := openDB(ctx, e, "audit checkpoint", args, nil, nil)
	if err != nil {
		return err
	}
	defer d.Close()
	cp, warnings, err := web.CheckpointNow(ctx, d, cfg)
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, "warning:", w)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "checkpoint: seq %d, hash %s, key %s\n", cp.Seq, cp.Hash, cp.KeyID)
	return nil
}

func migrate(ctx context.Context, e env, args []string) error {
	_, d, err := openDB(ctx, e, "migrate", args, nil, nil)
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
	var dest string
	cfg, err := commandConfig(e, "backup", args, nil, func(fs *flag.FlagSet, _ web.Config) error {
		if fs.NArg() != 1 {
			return usageError("payoutdesk backup: want one destination path")
		}
		dest = fs.Arg(0)
		return nil
	})
	if err != nil {
		return err
	}
	// Read-only and unmigrated: the copy is of the database as it is.
	head, err := db.Backup(ctx, cfg.DBPath, dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup written to %s\n", dest)
	abs, err := filepath.Abs(cfg.DBPath)
	if err != nil {
		return err
	}
	n, err := web.CopyCheckpoints(cfg, abs, dest, head)
	if err != nil {
		return fmt.Errorf("payoutdesk backup: the copy is written, but not its checkpoints: %w", err)
	}
	verify := "payoutdesk audit verify -db " + shellQuote(dest)
	if n > 0 {
		fmt.Fprintf(e.stdout, "with its %d signed checkpoints in %s and their public key in %s\n", n, dest+".checkpoints", dest+".checkpoint-key.pub")
		verify += " -key " + shellQuote(dest+".checkpoint-key.pub")
	}
	fmt.Fprintf(e.stdout, "check it with: %s\n", verify)
	return nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:+,=@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
