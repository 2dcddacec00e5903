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

// lockServing takes the serving lock of the database at path, a lock on
// the file path.lock held until release or the process ends, or fails if
// another server holds it. Two servers on one database would both send
// its outbox, and the second to start would take the payouts the first is
// sending for interrupted ones. Commands run beside a server do not take it.
func lockServing(path string) (release func(), err error) {
	lockPath := path + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(lockPath)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, exitError{code: 1, msg: fmt.Sprintf("payoutdesk serve: another server is serving %s (pid %s); stop it first", path, strings.TrimSpace(string(holder)))}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The pid is for the message above only: the lock is what counts.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}
