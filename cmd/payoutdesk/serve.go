package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"payoutdesk/db"
	"payoutdesk/web"
)

// config parses the configuration flags of a command; extra registers the
// command's own flags first.
func config(e env, name string, args []string, extra func(fs *flag.FlagSet)) (web.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("payoutdesk "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if extra != nil {
		extra(fs)
	}
	cfg, err := web.LoadConfig(fs, args, e.getenv)
	if err == flag.ErrHelp {
		return cfg, fs, exitError{code: 0}
	}
	if err != nil {
		return cfg, fs, exitError{code: 2, msg: err.Error()}
	}
	return cfg, fs, nil
}

func newLogger(e env, cfg web.Config) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, exitError{code: 2, msg: fmt.Sprintf("PAYOUTDESK_LOG_LEVEL: want debug, info, warn or error, got %q", cfg.LogLevel)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.LogFormat {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return nil, exitError{code: 2, msg: fmt.Sprintf("PAYOUTDESK_LOG_FORMAT: want text or json, got %q", cfg.LogFormat)}
}

// serve opens the database (migrating it), creates the first accounts on an
// empty one, and serves until ctx is cancelled by SIGINT or SIGTERM.
func serve(ctx context.Context, e env, args []string) error {
	start := time.Now()
	cfg, _, err := config(e, "serve", args, nil)
	if err != nil {
		return err
	}
	log, err := newLogger(e, cfg)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.DBPath)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := web.Bootstrap(ctx, d, cfg.AllSandbox(), e.stdout); err != nil {
		return err
	}
	return web.Serve(ctx, cfg, web.Deps{DB: d, Log: log}, func(baseURL string) {
		log.Info("ready", "url", baseURL, "startup", time.Since(start).Round(time.Microsecond))
	})
}
