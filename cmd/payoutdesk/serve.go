package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"payoutdesk/db"
	"payoutdesk/web"
)

// config parses the configuration flags of a command; extra registers the
// command's own flags first.
func config(e env, name string, args []string, extra func(fs *flag.FlagSet)) (web.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("payoutdesk "+name, flag.ContinueOnError)
	// What the flag package writes, the list of flags after any mistyped
	// one, is shown for -h only: a mistake is one line, said once.
	var flagOut bytes.Buffer
	fs.SetOutput(&flagOut)
	if extra != nil {
		extra(fs)
	}
	cfg, err := web.LoadConfig(fs, args, e.getenv)
	if errors.Is(err, flag.ErrHelp) {
		e.stderr.Write(flagOut.Bytes())
		return cfg, fs, exitError{code: 0}
	}
	if err != nil {
		msg := err.Error()
		if flagOut.Len() > 0 {
			msg += fmt.Sprintf("\nRun \"payoutdesk %s -h\" for its flags.", name)
		}
		return cfg, fs, exitError{code: 2, msg: msg}
	}
	return cfg, fs, nil
}

// commandArgs is how many arguments a command takes after its flags (none
// unless listed). Anything more is refused: "payoutdesk -db X migrate"
// would otherwise serve, and could send queued payouts, instead of
// migrating.
var commandArgs = map[string]int{"backup": 1}

// createsDB names the commands that may create the database (adding the
// first user before the first start is a way to set up); the others refuse
// a path where there is none, since a mistyped one would otherwise act on a
// new, empty database and report success (a backup of nothing, say).
var createsDB = map[string]bool{"serve": true, "migrate": true, "user add": true}

// readsOnly names the commands that open the database read-only, changing
// nothing in it (not even its journal mode): checking a database, or an
// auditor's copy of one, must leave it as it was.
var readsOnly = map[string]bool{"audit verify": true}

// openDB parses a command's flags as config does, lets check (if set)
// refuse the command's own arguments, and only then opens the database,
// migrating it if need be.
func openDB(ctx context.Context, e env, name string, args []string, extra func(fs *flag.FlagSet), check func(fs *flag.FlagSet, cfg web.Config) error) (web.Config, *db.DB, error) {
	cfg, err := commandConfig(e, name, args, extra, check)
	if err != nil {
		return cfg, nil, err
	}
	if readsOnly[name] {
		d, err := db.OpenReadOnly(ctx, cfg.DBPath)
		return cfg, d, err
	}
	release, err := lockForCommand(ctx, name, cfg.DBPath)
	if err != nil {
		return cfg, nil, err
	}
	defer release()
	d, err := db.Open(ctx, cfg.DBPath)
	return cfg, d, err
}

// commandConfig is openDB without the opening: the command's flags and
// arguments checked, and its database there unless the command creates one.
func commandConfig(e env, name string, args []string, extra func(fs *flag.FlagSet), check func(fs *flag.FlagSet, cfg web.Config) error) (web.Config, error) {
	cfg, fs, err := config(e, name, args, extra)
	if err != nil {
		return cfg, err
	}
	if fs.NArg() > commandArgs[name] {
		return cfg, usageError("payoutdesk %s: unexpected argument %q (the command comes first, then its flags, then its argument if it takes one: payoutdesk COMMAND -db PATH …)", name, fs.Arg(commandArgs[name]))
	}
	if check != nil {
		if err := check(fs, cfg); err != nil {
			return cfg, err
		}
	}
	if !createsDB[name] {
		if _, err := os.Stat(cfg.DBPath); err != nil {
			return cfg, usageError("payoutdesk %s: no database at %s (the server, or payoutdesk migrate, creates one)", name, cfg.DBPath)
		}
	}
	return cfg, nil
}

func newLogger(e env, cfg web.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// serve opens the database (migrating it), creates the first accounts on an
// empty one once it can listen, and serves until ctx is cancelled by SIGINT
// or SIGTERM.
func serve(ctx context.Context, e env, args []string) error {
	start := time.Now()
	cfg, err := commandConfig(e, "serve", args, nil, nil)
	if err != nil {
		return err
	}
	// Before opening: a second server must not even migrate the database
	// under the first one.
	release, err := lockServing(cfg.DBPath)
	if err != nil {
		return err
	}
	defer release()
	d, err := db.Open(ctx, cfg.DBPath)
	if err != nil {
		return err
	}
	defer d.Close()
	log := newLogger(e, cfg)
	web.TuneGC(e.getenv)
	setup := func(ctx context.Context) error { return web.Bootstrap(ctx, d, cfg.AllSandbox(), e.stdout) }
	return web.Serve(ctx, cfg, web.Deps{DB: d, Log: log, Setup: setup}, func(baseURL string) {
		log.Info("ready", "url", baseURL, "startup", time.Since(start).Round(time.Microsecond))
	})
}
