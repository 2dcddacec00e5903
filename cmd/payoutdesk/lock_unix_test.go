//go:build unix

package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandsDoNotMigrateUnderAServer: beside a running server, a command
// that would migrate the database refuses and changes nothing, one that
// would not runs; a server does not start while a command migrates.
func TestCommandsDoNotMigrateUnderAServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "served.db")
	if _, err := runCmd(t, path, "", "user", "add", "--email", "a@example.com", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	latest := userVersion(t, path)
	setUserVersion(t, path, latest-1)

	// A server of the version before, serving: flock conflicts between
	// two opens of the lock file, in one process as in two.
	release, err := lockServing(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"migrate"},
		{"user", "add", "--email", "b@example.com", "--role", "agent"},
		{"user", "disable", "--email", "a@example.com"},
	} {
		_, err := runCmd(t, path, "", args...)
		if exitCode(err) != 1 || !strings.Contains(err.Error(), "payoutdesk serve (pid ") || !strings.Contains(err.Error(), "stop that first") {
			t.Errorf("%s beside a server, with a migration to apply: %v; want exit 1 naming the server", strings.Join(args, " "), err)
		}
		if v := userVersion(t, path); v != latest-1 {
			t.Fatalf("%s beside a server migrated the database to %d", strings.Join(args, " "), v)
		}
	}
	release()

	// Up to date, a command runs beside the server.
	if out, err := runCmd(t, path, "", "migrate"); err != nil || userVersion(t, path) != latest {
		t.Fatalf("migrate with no server = %q, %v; want version %d", out, err, latest)
	}
	release, err = lockServing(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, path, "", "user", "add", "--email", "b@example.com", "--role", "agent"); err != nil {
		t.Errorf("user add beside a server, nothing to migrate: %v", err)
	}
	release()

	// A server holding the lock of a database it has yet to create: the
	// command says so rather than that SQLite cannot open the file.
	fresh := filepath.Join(t.TempDir(), "starting.db")
	release, err = lockServing(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, fresh, "", "user", "add", "--email", "b@example.com", "--role", "agent"); exitCode(err) != 1 || !strings.Contains(err.Error(), "is creating "+fresh+"; try again once it has started") {
		t.Errorf("user add while a server creates the database: %v; want exit 1 saying the server is creating it", err)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the command created the database the server was about to: %v", err)
	}
	release()
	// The file made, not yet migrated: still being created, not a schema
	// to stop the server for.
	if err := os.WriteFile(fresh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	release, err = lockServing(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, fresh, "", "user", "add", "--email", "b@example.com", "--role", "agent"); exitCode(err) != 1 || !strings.Contains(err.Error(), "is creating "+fresh+"; try again once it has started") {
		t.Errorf("user add while a server migrates the database it created: %v; want exit 1 saying the server is creating it", err)
	}
	release()
	// A command creating it finishes rather than starts.
	release, err = lockForCommand(context.Background(), "migrate", fresh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, fresh, "", "user", "add", "--email", "b@example.com", "--role", "agent"); exitCode(err) != 1 ||
		!strings.Contains(err.Error(), "payoutdesk migrate (pid ") || !strings.Contains(err.Error(), "try again once it has finished") {
		t.Errorf("user add while migrate creates the database: %v; want exit 1 saying to try again once migrate has finished", err)
	}
	release()

	// A command migrating holds the lock: no server starts meanwhile.
	release, err = lockForCommand(context.Background(), "migrate", path)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := lockServing(path); exitCode(err) != 1 || !strings.Contains(err.Error(), "payoutdesk migrate (pid ") {
		t.Errorf("serve while migrate runs: %v; want exit 1 naming migrate", err)
	}
}
