package db

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"
)

// The writer connection commits with synchronous=NORMAL, which writes the
// WAL but does not fsync it. The sync loop fsyncs the WAL once for the
// commits made since its last fsync, and only then answers their requests,
// so that InTx still returns only once its work would survive a power
// loss. Meanwhile the writer runs the writes that arrive in its next
// transaction, which it commits once the sync is done, instead of waiting
// out the fsync itself (about 40% of its time under load when it did).
//
// Readers may see a commit a millisecond or so before it is durable; every
// answer to a caller waits for it, failures included, since a failure can
// follow from an earlier write (a duplicate key, say).

// ErrSyncFailed is returned by InTx once an fsync of the WAL has failed.
var ErrSyncFailed = errors.New("db: writing the write-ahead log to disk failed; no more writes until restarted")

// outcome is a batch's answers on their way to the sync loop: results[i]
// is request i's error, nil where its work was committed.
type outcome struct {
	batch     []writeRequest
	results   []error
	committed bool
}

// answer hands a batch's answers to the sync loop, which delivers them in
// order, each once every commit before it, and its own, is durable.
func (db *DB) answer(batch []writeRequest, results []error, committed bool) {
	db.unanswered.Add(1)
	db.outcomes <- outcome{batch: batch, results: results, committed: committed}
}

// syncLoop answers the batches' requests, fsyncing the WAL first if any
// of them committed. Batches that arrive during one fsync share the next.
func (db *DB) syncLoop() {
	defer close(db.done)
	for first := range db.outcomes {
		waiting := []outcome{first}
	gather:
		for {
			select {
			case o, ok := <-db.outcomes:
				if !ok {
					break gather
				}
				waiting = append(waiting, o)
			default:
				break gather
			}
		}
		var err error
		if slices.ContainsFunc(waiting, func(o outcome) bool { return o.committed }) {
			err = db.syncNow()
		}
		for _, o := range waiting {
			for i, r := range o.batch {
				r.done <- cmp.Or(o.results[i], err)
			}
		}
		db.unanswered.Add(-int64(len(waiting)))
		select {
		case db.answered <- struct{}{}:
		default: // the writer has yet to see the last one
		}
	}
}

// nextWhileSyncing returns a write that arrives while the sync loop is
// still busy with earlier batches, if the batch, of n so far, has room for
// it. The batch's transaction stays open meanwhile: committing it at once
// would only wait for that sync, and the writes that arrive share its
// commit instead of each paying for a commit of its own. It also reports
// how long it waited.
func (db *DB) nextWhileSyncing(n int) (r writeRequest, waited time.Duration, ok bool) {
	start := time.Now()
	defer func() { waited = time.Since(start) }()
	for n < maxBatch && db.unanswered.Load() > 0 {
		select {
		case r := <-db.writes:
			return r, 0, true
		case <-db.answered:
		case <-db.closed:
			return r, 0, false
		}
	}
	return r, 0, false
}

// syncNow fsyncs the WAL, or, if that fails, stops all writes: after a
// failed fsync the kernel may have dropped the pages it could not write,
// so commits the readers can see may not be on disk. Only a restart, which
// recovers from what is on disk, makes the database trustworthy again.
//
// Calls are serialised: Linux reports a writeback error once per open
// file, so of two fsyncs at once only one might see it, and the other
// would report a loss as success.
func (db *DB) syncNow() error {
	db.syncMu.Lock()
	defer db.syncMu.Unlock()
	if err := db.syncFailed.Load(); err != nil {
		return *err
	}
	start := time.Now()
	err := db.syncWAL()
	db.stats.syncNanos.Add(int64(time.Since(start)))
	db.stats.syncs.Add(1)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrSyncFailed, err)
		db.syncFailed.Store(&err)
		return err
	}
	return nil
}

// syncOpenWAL fsyncs the WAL through f, opened on path when the database
// was. The descriptor is kept rather than opened for each sync because
// Linux reports a writeback error once to each descriptor open when it
// happened: a new one could miss an error that SQLite's own fsync, at a
// checkpoint whose result it ignores, saw first.
func syncOpenWAL(f *os.File, path string) error {
	// SQLite does not remove the WAL while a connection of ours is open;
	// were it ever replaced, this descriptor would not reach the commits.
	open, err := f.Stat()
	if err != nil {
		return fmt.Errorf("db: sync WAL: %w", err)
	}
	if now, err := os.Stat(path); err != nil || !os.SameFile(open, now) {
		return fmt.Errorf("db: sync WAL: %s is no longer the file opened (%v)", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("db: sync WAL: %w", err)
	}
	return nil
}

// syncWALAt fsyncs the WAL at path, if there is one, for a process that
// does not write: the server beside it writes the WAL, and without one
// all is in the main file, which SQLite synced when it checkpointed.
func syncWALAt(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("db: sync WAL: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("db: sync WAL: %w", err)
	}
	return nil
}
