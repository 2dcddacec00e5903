// Package db keeps Payout Desk's state in one SQLite file: opening it with
// the right pragmas, embedded forward-only migrations, one store type per
// aggregate with hand-written SQL, and the tamper-evident audit chain.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors returned by the stores.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
)

// DB is the database: one writer connection, so writers queue in Go rather
// than fail with SQLITE_BUSY, and a pool of read-only connections, which WAL
// lets run beside the writer. Write transactions go through InTx, which
// commits the transactions that queue up together (group commit).
type DB struct {
	W    *sql.DB
	R    *sql.DB
	Path string

	// writes carries the write requests somebody is waiting on, later
	// those marked LowPriority (see InTx).
	writes  chan writeRequest
	later   chan writeRequest
	settled chan settled
	// unsynced counts the committed batches syncLoop has yet to sync;
	// syncedRound wakes the writer when it has synced some.
	unsynced    atomic.Int64
	syncedRound chan struct{}
	wal         walFile
	syncErr     atomic.Pointer[error]
	// sync runs the WAL's fsync (its argument); tests wrap it to hold or
	// fail it.
	sync func(fsync func() error) error
	// ckpt is checkpointLoop's connection; checkpointed is closed when the
	// loop has stopped.
	ckpt         *sql.DB
	checkpointed chan struct{}
	// restart asks the writer to let the WAL start over (see restartWAL).
	restart   chan struct{}
	closed    chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	stats     commitCounters
	// observeBatch, when set, is told how long each write batch held the
	// writer (see ObserveBatches).
	observeBatch atomic.Pointer[func(time.Duration)]
}

// busyTimeout is how long a connection waits for a lock another holds.
const busyTimeout = 10 * time.Second

// busyTimeoutParam is busyTimeout as the driver's _busy_timeout, in ms.
var busyTimeoutParam = strconv.Itoa(int(busyTimeout.Milliseconds()))

// Open opens (creating if needed) the database at path and applies pending
// migrations on the writer before returning.
func Open(ctx context.Context, path string) (*DB, error) {
	return openWithSync(ctx, path, func(fsync func() error) error { return fsync() })
}

// openWithSync is Open with the WAL's fsyncs run through syncWith (see
// DB.sync).
func openWithSync(ctx context.Context, path string, syncWith func(fsync func() error) error) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	// The database holds password hashes and sessions: a new one is its
	// owner's only, as SQLite then makes its -wal and -shm files. Without
	// O_EXCL, so that a symlink to a file yet to exist is followed.
	f, err := os.OpenFile(abs, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", abs, err)
	}
	f.Close()
	// synchronous=NORMAL, under which a WAL commit is not fsynced and can
	// be lost on power loss, because syncLoop fsyncs the WAL before any
	// caller is told of the commit (see InTx): the effect of FULL, with the
	// fsync off the writer's time. A payout the provider already received
	// must not vanish.
	w, err := open(dsn(abs, url.Values{
		"_busy_timeout": {busyTimeoutParam},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
		"_foreign_keys": {"1"},
		"_txlock":       {"immediate"},
		"_time_format":  {"sqlite"},
		// Each queued transaction runs in a savepoint (see commit.go),
		// whose sub-journal would otherwise be a temporary file: a write
		// system call for every page a transaction first touches.
		// checkpointLoop copies the WAL into the file beside the writer,
		// and has the writer start it over (see restartWAL). The writer's
		// own checkpoints are only a backstop, should that not happen.
		"_pragma": {"temp_store(memory)", fmt.Sprintf("wal_autocheckpoint(%d)", 2*walRestartFrames)},
	}), true)
	if err != nil {
		return nil, fmt.Errorf("db: open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The writer must exist (and have switched the file to WAL) before the
	// readers open it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open writer %s: %w", abs, err)
	}
	r, err := openReaders(abs, nil)
	if err != nil {
		w.Close()
		return nil, err
	}
	ckpt, err := openCheckpointer(abs)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("db: open checkpointer: %w", err)
	}
	db := &DB{W: w, R: r, Path: abs, writes: make(chan writeRequest), later: make(chan writeRequest), settled: make(chan settled, 64), syncedRound: make(chan struct{}, 1),
		wal: walFile{path: walPath(abs)}, sync: syncWith, ckpt: ckpt, checkpointed: make(chan struct{}),
		restart: make(chan struct{}, 1),
		closed:  make(chan struct{}), done: make(chan struct{})}
	go db.commitLoop()
	go db.syncLoop()
	go db.checkpointLoop()
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// walPath is where SQLite keeps the WAL of the database at abs: beside the
// file a symbolic link leads to, not beside the link.
func walPath(abs string) string {
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return abs + "-wal"
}

// ErrReadOnly is InTx's answer on a database opened with OpenReadOnly.
var ErrReadOnly = errors.New("db: opened read-only")

// OpenReadOnly opens the existing database at path for reading only: no
// writer, no migrations, nothing written to the file. It is how a database,
// or an auditor's copy of one, is checked without being changed. Its schema
// must be this program's.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	db, err := openReadOnly(path)
	if err != nil {
		return nil, err
	}
	current, latest, err := db.Version(ctx)
	if err == nil && current != latest {
		err = fmt.Errorf("db: %s has schema version %d, this program %d: migrate it (or a copy of it) first", db.Path, current, latest)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openReadOnly is OpenReadOnly whatever the database's schema version.
func openReadOnly(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	// mode=ro: SQLite itself refuses to write, the journal mode included.
	r, err := openReaders(abs, url.Values{"mode": {"ro"}})
	if err != nil {
		return nil, err
	}
	db := &DB{R: r, Path: abs, closed: make(chan struct{}), done: make(chan struct{})}
	close(db.done) // no commit loop to wait for
	return db, nil
}

// openReaders opens the pool of query-only connections, one per CPU (at
// least four), with extra added to their parameters.
func openReaders(abs string, extra url.Values) (*sql.DB, error) {
	q := url.Values{
		"_busy_timeout": {busyTimeoutParam},
		"_foreign_keys": {"1"},
		"_query_only":   {"1"},
		"_time_format":  {"sqlite"},
	}
	for k, v := range extra {
		q[k] = v
	}
	r, err := open(dsn(abs, q), false)
	if err != nil {
		return nil, fmt.Errorf("db: open readers: %w", err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return r, nil
}

func open(dsn string, uninterruptible bool) (*sql.DB, error) {
	c, err := newConnector(dsn, uninterruptible)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

func dsn(path string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// Close stops accepting writes, closes readers and the writer, and
// checkpoints what it can of the WAL into the main file.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.closed)
		<-db.done
		errR := db.R.Close()
		if db.ckpt != nil {
			<-db.checkpointed
			errR = errors.Join(errR, db.ckpt.Close())
		}
		if db.W == nil {
			db.closeErr = errR
			return
		}
		// PASSIVE: copy what it can and wait for nobody. TRUNCATE would
		// hold the write lock while waiting out another process's readers
		// (a command run beside the server), stalling that server's
		// writes; SQLite checkpoints and removes the WAL anyway when the
		// last connection to the database closes.
		var busy, log, done int
		if err := db.W.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil && errR == nil {
			errR = err
		}
		db.closeErr = errors.Join(errR, db.W.Close(), db.wal.close())
	})
	return db.closeErr
}

// Ping checks that the database answers a read.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.R.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// Backup writes a consistent copy of the database at src to dest (VACUUM
// INTO), which must not exist yet, and returns the last audit seq the copy
// holds. It opens src read-only and whatever its schema version: a backup
// is what one takes before migrating, and it may run beside the server or
// on a read-only file.
func Backup(ctx context.Context, src, dest string) (head int64, err error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return 0, fmt.Errorf("db: backup %s: %w", src, err)
	}
	// mode=ro, not query_only, which refuses VACUUM INTO as a write.
	ro := func(path string) (*sql.DB, error) {
		return open(dsn(path, url.Values{"mode": {"ro"}, "_busy_timeout": {busyTimeoutParam}}), false)
	}
	r, err := ro(abs)
	if err != nil {
		return 0, fmt.Errorf("db: backup %s: %w", abs, err)
	}
	defer r.Close()
	// VACUUM INTO fills an empty file: created here, it is the owner's
	// only, as the database is.
	if err := createPrivate(dest); err != nil {
		return 0, fmt.Errorf("db: backup %s to %s: %w", abs, dest, err)
	}
	if _, err := r.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		os.Remove(dest)
		return 0, fmt.Errorf("db: backup %s to %s: %w", abs, dest, err)
	}
	// The copy's own head: the original may have moved on since.
	destAbs, err := filepath.Abs(dest)
	if err != nil {
		return 0, fmt.Errorf("db: backup %s: %w", dest, err)
	}
	c, err := ro(destAbs)
	if err != nil {
		return 0, fmt.Errorf("db: backup %s: %w", dest, err)
	}
	defer c.Close()
	if err := c.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM audit_events`).Scan(&head); err != nil {
		return 0, fmt.Errorf("db: backup %s: read its audit head: %w", dest, err)
	}
	return head, nil
}

// createPrivate creates an empty file at path that only its owner can read
// or write, or fails if there is one.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// TimeLayout is how every timestamp is stored: UTC, fixed width, so that
// text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("db: bad timestamp %q: %w", s, err)
	}
	return t, nil
}

// nullTime scans an optional timestamp column.
type nullTime struct{ t *time.Time }

func (n nullTime) Scan(src any) error {
	if src == nil {
		*n.t = time.Time{}
		return nil
	}
	s, ok := src.(string)
	if !ok {
		return fmt.Errorf("db: timestamp of type %T", src)
	}
	t, err := parseTime(s)
	*n.t = t
	return err
}

// timeCol scans a required timestamp column.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	s, ok := src.(string)
	if !ok {
		return fmt.Errorf("db: timestamp of type %T", src)
	}
	t, err := parseTime(s)
	*c.t = t
	return err
}

func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}
