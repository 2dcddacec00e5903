//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockDB takes the lock of the database at path, a lock on the file
// path.lock held until release or the process ends, for the command cmd.
// If another process holds it, release is nil and holder says which.
//
// A server holds it while it runs: two servers on one database would both
// send its outbox, and the second to start would take the payouts the
// first is sending for interrupted ones. A command that writes holds it
// while it opens, and so migrates, the database.
func lockDB(path, cmd string) (release func(), holder *lockOwner, err error) {
	lockPath := path + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, readOwner(lockPath), nil
		}
		return nil, nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Who holds it is for the messages only: the lock is what counts.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+" "+cmd+"\n"), 0)
	}
	return func() { f.Close() }, nil, nil
}

// readOwner reads who holds the lock at lockPath, as lockDB wrote it
// ("PID COMMAND"; a server of an earlier version wrote the pid alone).
func readOwner(lockPath string) *lockOwner {
	b, _ := os.ReadFile(lockPath)
	pid, cmd, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	if pid == "" {
		pid = "unknown"
	}
	if cmd == "" {
		cmd = "serve"
	}
	return &lockOwner{pid: pid, cmd: cmd}
}
