package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by InTx once the database is closing.
var ErrClosed = errors.New("db: closed")

// maxBatch bounds how many transactions share one commit.
const maxBatch = 256

// CommitStats counts the work of the commit loop, for metrics and load
// reports.
type CommitStats struct {
	// Commits is the number of SQLite commits (fsyncs), Transactions the
	// number of InTx calls they carried.
	Commits      int64
	Transactions int64
	// CommitNanos is the time spent in COMMIT; BusyNanos the time spent in
	// whole batches, from BEGIN to COMMIT.
	CommitNanos int64
	BusyNanos   int64
}

// ObserveBatches has fn told, from the commit loop, how long each write
// batch held the writer, from BEGIN to the end of its COMMIT. Every write
// waits for the batch before its own: a long one shows in everyone's
// response time, as the text indexes' batches once did.
func (db *DB) ObserveBatches(fn func(time.Duration)) { db.observeBatch.Store(&fn) }

// Stats returns the commit loop's counters so far.
func (db *DB) Stats() CommitStats {
	return CommitStats{
		Commits:      db.stats.commits.Load(),
		Transactions: db.stats.transactions.Load(),
		CommitNanos:  db.stats.commitNanos.Load(),
		BusyNanos:    db.stats.busyNanos.Load(),
	}
}

type commitCounters struct {
	commits, transactions, commitNanos, busyNanos atomic.Int64
}

type writeRequest struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// InTx runs fn in a write transaction on the writer and returns once its
// changes are durably committed, or fn's error with nothing of fn written.
//
// With synchronous=FULL every commit costs an fsync, which bounds a single
// writer at a few thousand commits a second. So transactions that queue up
// while a commit is under way are run together in one SQLite transaction,
// each inside its own SAVEPOINT, and committed with one fsync: each fn is
// still atomic (its savepoint is rolled back if it fails) and durable when
// InTx returns, and fns run one after another, as if serially.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.W == nil {
		return ErrReadOnly
	}
	req := writeRequest{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-db.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the work may
	// already be committed, and the caller must not think otherwise.
	return <-req.done
}

// commitLoop is the only goroutine that runs write transactions.
func (db *DB) commitLoop() {
	defer close(db.done)
	for {
		var first writeRequest
		select {
		case first = <-db.writes:
		case <-db.closed:
			return
		}
		batch := []writeRequest{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-db.writes:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		db.runBatch(batch)
	}
}

func (db *DB) runBatch(batch []writeRequest) {
	start := time.Now()
	defer func() {
		d := time.Since(start)
		db.stats.busyNanos.Add(int64(d))
		if fn := db.observeBatch.Load(); fn != nil {
			(*fn)(d)
		}
	}()
	results := make([]error, len(batch))
	finish := func(err error) {
		for i, r := range batch {
			if results[i] == nil {
				results[i] = err
			}
			r.done <- results[i]
		}
	}
	// The transaction does not use any caller's context: one caller giving
	// up must not roll back the others' work.
	tx, err := db.W.BeginTx(context.Background(), nil)
	if err != nil {
		finish(fmt.Errorf("db: begin: %w", err))
		return
	}
	ran := 0
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		err := runSaved(tx, r)
		if errors.Is(err, errTxLost) {
			// SQLite abandoned the transaction: the work of the requests
			// run so far is gone, and nothing more may run in it (it would
			// commit on its own). They fail; the rest get a new one.
			tx.Rollback()
			for j := range i + 1 {
				if results[j] == nil {
					results[j] = err
				}
				batch[j].done <- results[j]
			}
			if rest := batch[i+1:]; len(rest) > 0 {
				db.runBatch(rest)
			}
			return
		}
		if err != nil {
			results[i] = err
			continue
		}
		ran++
	}
	if ran == 0 {
		tx.Rollback()
		finish(nil)
		return
	}
	commitStart := time.Now()
	err = tx.Commit()
	db.stats.commitNanos.Add(int64(time.Since(commitStart)))
	if err != nil {
		// A failed COMMIT (an I/O error, say) may leave SQLite's
		// transaction open on the writer's only connection, where every
		// later BEGIN would fail: end it, if it is there.
		db.W.Exec(`ROLLBACK`)
		finish(fmt.Errorf("db: commit: %w", err))
		return
	}
	db.stats.commits.Add(1)
	db.stats.transactions.Add(int64(ran))
	finish(nil)
}

// errTxLost reports that SQLite rolled back a whole batch's transaction
// (after an I/O error or a full disk, say) where only one request failed.
var errTxLost = errors.New("db: transaction lost")

// runSaved runs one request inside a savepoint, undoing only its own writes
// if it fails, or errTxLost if the savepoint could not be rolled back
// because the transaction itself is gone.
func runSaved(tx *sql.Tx, r writeRequest) (err error) {
	if _, err := tx.Exec(`SAVEPOINT w`); err != nil {
		return fmt.Errorf("%w: savepoint: %w", errTxLost, err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("db: write transaction panicked: %v", p)
		}
		if err != nil {
			if _, rerr := tx.Exec(`ROLLBACK TO w`); rerr != nil {
				err = fmt.Errorf("%w: %w (rolling back: %w)", errTxLost, err, rerr)
				return
			}
		}
		if _, rerr := tx.Exec(`RELEASE w`); rerr != nil && err == nil {
			err = fmt.Errorf("%w: release savepoint: %w", errTxLost, rerr)
		}
	}()
	return r.fn(tx)
}

// exec runs one statement as a write transaction of its own.
func (db *DB) exec(ctx context.Context, query string, args ...any) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
}
