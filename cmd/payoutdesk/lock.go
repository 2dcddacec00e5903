package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"payoutdesk/db"
)

// lockOwner is the process that holds a database's lock (see lockDB).
type lockOwner struct {
	pid string
	cmd string // "serve", or the command that writes
}

// lockServing takes the database's lock for a server, or says who holds it.
func lockServing(path string) (release func(), err error) {
	release, owner, err := lockDB(path, "serve")
	switch {
	case err != nil:
		return nil, err
	case owner == nil:
		return release, nil
	case owner.cmd == "serve":
		return nil, exitError{code: 1, msg: fmt.Sprintf("payoutdesk serve: another server is serving %s (pid %s); stop it first", path, owner.pid)}
	default:
		return nil, exitError{code: 1, msg: fmt.Sprintf("payoutdesk serve: payoutdesk %s (pid %s) is changing %s; start the server when it has finished", owner.cmd, owner.pid, path)}
	}
}

// lockForCommand takes the database's lock for a command that writes,
// while it opens the database, so that no server starts during a
// migration. Beside a server the command runs without it, unless opening
// would migrate: a server must not have its schema changed under it, and
// one of an earlier version could not read the new one.
func lockForCommand(ctx context.Context, name, path string) (release func(), err error) {
	release, owner, err := lockDB(path, name)
	if err != nil || owner == nil {
		return release, err
	}
	current, latest := 0, 0
	if _, err = os.Stat(path); err == nil {
		current, latest, err = db.SchemaVersion(ctx, path)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && current == 0):
		// A server starting, or a command, on a new database: it creates
		// and migrates it under the lock, in a moment. Nothing serves or
		// writes a database at version 0 otherwise.
		when := "once it has finished"
		if owner.cmd == "serve" {
			when = "once it has started"
		}
		return nil, exitError{code: 1, msg: fmt.Sprintf("payoutdesk %s: payoutdesk %s (pid %s) is creating %s; try again %s", name, owner.cmd, owner.pid, path, when)}
	case err != nil:
		return nil, err
	case current < latest:
		return nil, exitError{code: 1, msg: fmt.Sprintf("payoutdesk %s: %s has schema version %d and this program would migrate it to %d, but payoutdesk %s (pid %s) is using it; stop that first", name, path, current, latest, owner.cmd, owner.pid)}
	}
	return func() {}, nil
}
