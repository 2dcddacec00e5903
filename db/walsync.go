package db

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// syncLoop answers the callers of settled batches, in order, once what
// they committed is on disk: it takes every batch settled since its last
// fsync and covers them all with one more.
func (db *DB) syncLoop() {
	defer close(db.done)
	for first := range db.settled {
		round := []settled{first}
	gather:
		for {
			select {
			case s, ok := <-db.settled:
				if !ok {
					break gather
				}
				round = append(round, s)
			default:
				break gather
			}
		}
		// A round with no commit needs no fsync: every commit settled
		// before it was synced by an earlier round.
		var err error
		for _, s := range round {
			if s.committed {
				err = db.syncWAL()
				break
			}
		}
		synced := int64(0)
		for _, s := range round {
			for i, r := range s.batch {
				if s.results[i] == nil {
					s.results[i] = err
				}
				r.done <- s.results[i]
			}
			if s.committed {
				synced++
			}
		}
		// Tell a writer holding its batch open for this fsync to commit.
		db.unsynced.Add(-synced)
		select {
		case db.syncedRound <- struct{}{}:
		default:
		}
	}
}

// syncWAL fsyncs the WAL. Once an fsync has failed, the kernel may have
// dropped the pages it could not write and a later fsync succeed without
// them, so nothing is called durable again: every write from then on
// fails, and the server must be restarted, when SQLite recovers the WAL
// from what the disk really holds.
func (db *DB) syncWAL() error {
	if err := db.syncFailure(); err != nil {
		return err
	}
	start := time.Now()
	err := db.sync(db.wal.sync)
	db.stats.syncNanos.Add(int64(time.Since(start)))
	db.stats.syncs.Add(1)
	var failed *syncFailed
	if errors.As(err, &failed) {
		db.syncErr.Store(&err)
	}
	return err
}

// syncFailure returns the error that ended durable writes, if one did.
func (db *DB) syncFailure() error {
	if err := db.syncErr.Load(); err != nil {
		return *err
	}
	return nil
}

// syncFailed is an fsync's own failure, as opposed to not finding the file.
type syncFailed struct{ err error }

func (e *syncFailed) Error() string {
	return fmt.Sprintf("db: the disk failed to sync the WAL, so recent writes may be lost; restart the server: %v", e.err)
}

func (e *syncFailed) Unwrap() error { return e.err }

// walFile is the database's WAL, opened apart from SQLite to be fsynced
// beside the writer. fsync makes a file's written data durable whichever
// descriptor it is called on. SQLite holds no locks on the WAL itself, so
// this descriptor cannot release any of SQLite's.
type walFile struct {
	path string
	f    *os.File
}

// sync fsyncs the WAL. It reopens the file if it is no longer the one at
// path: SQLite deletes the WAL when its last connection to the database
// closes, and makes a new one with the next.
func (w *walFile) sync() error {
	at, err := os.Stat(w.path)
	if err != nil {
		return fmt.Errorf("db: sync the WAL: %w", err)
	}
	if w.f != nil {
		if held, err := w.f.Stat(); err != nil || !os.SameFile(at, held) {
			w.f.Close()
			w.f = nil
		}
	}
	if w.f == nil {
		f, err := os.OpenFile(w.path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("db: sync the WAL: %w", err)
		}
		w.f = f
	}
	if err := w.f.Sync(); err != nil {
		return &syncFailed{err}
	}
	return nil
}

func (w *walFile) close() error {
	if w.f == nil {
		return nil
	}
	return w.f.Close()
}
