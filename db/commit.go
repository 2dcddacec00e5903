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
	// Commits is the number of SQLite commits, Transactions the number of
	// InTx calls they carried, and Syncs the number of fsyncs of the WAL
	// that made them durable (one covers every commit before it).
	Commits      int64
	Transactions int64
	Syncs        int64
	// CommitNanos is the time spent in COMMIT (writing the WAL, not
	// syncing it); BusyNanos the writer's time in batches, from BEGIN to
	// COMMIT, less the time a batch was held open waiting for requests
	// while the WAL was synced; SyncNanos the time spent in fsync, beside
	// the writer.
	CommitNanos int64
	BusyNanos   int64
	SyncNanos   int64
}

// ObserveBatches has fn told, from the commit loop, how long the writer
// worked on each write batch, from BEGIN to the end of its COMMIT (less
// its waits, see BusyNanos). Every write waits for the batch before its
// own: a long one shows in everyone's response time, as the text indexes'
// batches once did.
func (db *DB) ObserveBatches(fn func(time.Duration)) { db.observeBatch.Store(&fn) }

// Stats returns the commit loop's counters so far.
func (db *DB) Stats() CommitStats {
	return CommitStats{
		Commits:      db.stats.commits.Load(),
		Transactions: db.stats.transactions.Load(),
		Syncs:        db.stats.syncs.Load(),
		CommitNanos:  db.stats.commitNanos.Load(),
		BusyNanos:    db.stats.busyNanos.Load(),
		SyncNanos:    db.stats.syncNanos.Load(),
	}
}

type commitCounters struct {
	commits, transactions, syncs, commitNanos, busyNanos, syncNanos atomic.Int64
}

// A writeRequest is one InTx call; a nil fn asks only to be answered once
// everything committed before it is durable (see Durable).
type writeRequest struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// A settled batch has been committed (or failed) by the writer, and waits
// for the WAL's fsync before its callers are answered.
type settled struct {
	batch   []writeRequest
	results []error
	// committed says the batch wrote to the WAL, which must be synced
	// before anyone is told so.
	committed bool
}

// InTx runs fn in a write transaction on the writer and returns once its
// changes are durably committed, or fn's error with nothing of fn written.
//
// Durably means that the WAL holding them has been fsynced: a few thousand
// fsyncs a second at best, each a millisecond or more. Two things keep
// that off the writer's time:
//
//   - Transactions that queue up while the writer is busy run together in
//     one SQLite transaction, each inside its own SAVEPOINT, and are
//     committed at once: each fn is still atomic (its savepoint is rolled
//     back if it fails), and fns run one after another, as if serially.
//   - The writer commits without syncing (synchronous=NORMAL) and hands
//     the batch to syncLoop, which fsyncs the WAL and only then answers
//     the batch's callers, while the writer goes on with the next batch.
//
// Other connections may see a batch's changes up to one fsync before they
// are durable. Anything that tells the world outside the process what it
// read, as a signed audit checkpoint does, first calls Durable. Anything
// done after an InTx returns needs nothing more: that InTx's fsync covers
// every commit before it.
//
// A ctx marked LowPriority puts fn behind the requests somebody is waiting
// on: the writer takes it only when none of those is queued, and a batch
// holding one of those takes no more low-priority requests. Without that,
// under load, a person's request could wait for a batch of the workers'
// bookkeeping (reconciliation checks, text indexing) to finish first.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if fn == nil {
		return errors.New("db: InTx without a function")
	}
	return db.queue(ctx, fn)
}

// Durable returns once every transaction committed before the call is on
// disk.
func (db *DB) Durable(ctx context.Context) error {
	return db.queue(ctx, nil)
}

func (db *DB) queue(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.W == nil {
		return ErrReadOnly
	}
	if err := db.syncFailure(); err != nil {
		return err
	}
	req := writeRequest{ctx: ctx, fn: fn, done: make(chan error, 1)}
	lane := db.writes
	if IsLowPriority(ctx) {
		lane = db.later
	}
	select {
	case lane <- req:
	case <-db.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the work may
	// already be committed, and the caller must not think otherwise.
	return <-req.done
}

// lowPriorityKey marks a context whose writes nobody is waiting on.
type lowPriorityKey struct{}

// LowPriority returns ctx with its writes marked as work nobody is waiting
// on (the background workers', for instance): InTx runs them once the
// writes somebody is waiting on are done. They are still run in the order
// each goroutine makes them, and are as durable.
func LowPriority(ctx context.Context) context.Context {
	return context.WithValue(ctx, lowPriorityKey{}, true)
}

// IsLowPriority reports whether ctx was marked by LowPriority.
func IsLowPriority(ctx context.Context) bool { return ctx.Value(lowPriorityKey{}) != nil }

// commitLoop is the only goroutine that runs write transactions. A batch
// starts with a request somebody is waiting on if one is queued.
func (db *DB) commitLoop() {
	defer close(db.settled)
	for {
		select {
		case first := <-db.writes:
			db.runBatch(first)
			continue
		case <-db.restart:
			// At once: it has least to copy right after the pass.
			db.restartWAL()
			continue
		default:
		}
		select {
		case first := <-db.writes:
			db.runBatch(first)
		case first := <-db.later:
			db.runBatch(first)
		case <-db.restart:
			db.restartWAL()
		case <-db.closed:
			return
		}
	}
}

// runBatch runs first and the requests that follow it in one transaction,
// and hands the outcome to syncLoop, which answers the callers in the
// order their batches ran.
//
// The batch is committed as soon as no request is waiting and syncLoop is
// idle. While syncLoop is fsyncing earlier batches, committing would not
// answer anyone sooner (the next fsync must wait for this one), so the
// batch stays open and takes the requests that arrive meanwhile: a commit
// writes each page it changed to the WAL once, however many requests
// changed it.
//
// Requests somebody is waiting on are taken first. Once the batch holds
// one, it takes no more low-priority requests: under load they keep
// coming (a round of reconciliation checks, say), and each would add its
// time to that person's wait for the commit.
func (db *DB) runBatch(first writeRequest) {
	start := time.Now()
	var waited time.Duration // for syncLoop, not busy
	defer func() {
		d := time.Since(start) - waited
		db.stats.busyNanos.Add(int64(d))
		if fn := db.observeBatch.Load(); fn != nil {
			(*fn)(d)
		}
	}()
	batch := []writeRequest{first}
	results := []error{nil}
	settle := func(err error, committed bool) {
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
		if committed {
			db.unsynced.Add(1)
		}
		db.settled <- settled{batch: batch, results: results, committed: committed}
	}
	// The transaction does not use any caller's context: one caller giving
	// up must not roll back the others' work.
	tx, err := db.W.BeginTx(context.Background(), nil)
	if err != nil {
		settle(fmt.Errorf("db: begin: %w", err), false)
		return
	}
	ran := 0
	// run runs the newest request of the batch, and reports false if the
	// transaction was lost with it.
	run := func() bool {
		i := len(batch) - 1
		r := batch[i]
		if r.fn == nil {
			return true
		}
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			return true
		}
		err := runSaved(tx, r)
		if errors.Is(err, errTxLost) {
			// SQLite abandoned the transaction: the work of the requests
			// run so far is gone, and nothing more may run in it (it would
			// commit on its own). They fail; the next get a new one.
			tx.Rollback()
			for j, r := range batch {
				if results[j] == nil && r.fn != nil {
					results[j] = err
				}
			}
			settle(nil, false)
			return false
		}
		if err != nil {
			results[i] = err
			return true
		}
		ran++
		return true
	}
	if !run() {
		return
	}
	awaited := !IsLowPriority(first.ctx) // the batch holds a request somebody is waiting on
gather:
	for len(batch) < maxBatch {
		later := db.later
		if awaited {
			later = nil // never ready
		}
		var r writeRequest
		select {
		case r = <-db.writes:
		default:
			select {
			case r = <-later:
			default:
				if db.unsynced.Load() == 0 {
					break gather
				}
				wait := time.Now()
				select {
				case r = <-db.writes:
					waited += time.Since(wait)
				case r = <-later:
					waited += time.Since(wait)
				case <-db.syncedRound:
					waited += time.Since(wait)
					continue
				case <-db.closed:
					break gather
				}
			}
		}
		awaited = awaited || !IsLowPriority(r.ctx)
		batch, results = append(batch, r), append(results, nil)
		if !run() {
			return
		}
	}
	if ran == 0 {
		tx.Rollback()
		settle(nil, false)
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
		settle(fmt.Errorf("db: commit: %w", err), false)
		return
	}
	db.stats.commits.Add(1)
	db.stats.transactions.Add(int64(ran))
	settle(nil, true)
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
