package db

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// heldSyncs opens a database whose WAL fsyncs wait for the test: each one
// is announced on started and runs when release receives.
type heldSyncs struct {
	db      *DB
	started chan struct{}
	release chan struct{}
	calls   atomic.Int64
}

func openHeldSyncs(t *testing.T) *heldSyncs {
	t.Helper()
	h := &heldSyncs{started: make(chan struct{}, 16), release: make(chan struct{})}
	var hold atomic.Bool
	d, err := openWithSync(context.Background(), filepath.Join(t.TempDir(), "test.db"), func(fsync func() error) error {
		if hold.Load() {
			h.calls.Add(1)
			h.started <- struct{}{}
			<-h.release
		}
		return fsync()
	})
	if err != nil {
		t.Fatal(err)
	}
	// The migrations sync freely; the test holds what comes after.
	hold.Store(true)
	t.Cleanup(func() {
		close(h.release)
		d.Close()
	})
	h.db = d
	return h
}

func insertNote(ctx context.Context, d *DB, key, value string, ran chan<- struct{}) error {
	return d.InTx(ctx, func(tx *sql.Tx) error {
		if ran != nil {
			close(ran)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, key, []byte(value))
		return err
	})
}

// syncStarted waits for h's next fsync to begin.
func (h *heldSyncs) syncStarted(t *testing.T) {
	t.Helper()
	select {
	case <-h.started:
	case <-time.After(5 * time.Second):
		t.Fatal("no fsync of the WAL began")
	}
}

func received(c <-chan error) bool {
	select {
	case <-c:
		return true
	case <-time.After(50 * time.Millisecond):
		return false
	}
}

// A commit is reported only once the WAL holding it is synced, and the
// writer goes on with the next requests meanwhile: they commit after that
// fsync, and are reported after one of their own.
func TestCommitsAreReportedAfterTheirSync(t *testing.T) {
	h := openHeldSyncs(t)
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- insertNote(ctx, h.db, "first", "1", nil) }()
	h.syncStarted(t)
	if received(first) {
		t.Fatal("InTx returned before the WAL holding its commit was synced")
	}
	// Committed, though not yet durable: SQLite's readers see it.
	var v string
	if err := h.db.R.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'first'`).Scan(&v); err != nil {
		t.Fatalf("the first commit is not in the WAL: %v", err)
	}

	ran := make(chan struct{})
	second := make(chan error, 1)
	go func() { second <- insertNote(ctx, h.db, "second", "2", ran) }()
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the writer waited for the fsync before running the next request")
	}
	durable := make(chan error, 1)
	go func() { durable <- h.db.Durable(ctx) }()

	h.release <- struct{}{}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// The second was held open for that fsync, and then needs its own.
	h.syncStarted(t)
	if received(second) || received(durable) {
		t.Fatal("the second request (or Durable after it) returned before an fsync after its commit")
	}
	h.release <- struct{}{}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if err := <-durable; err != nil {
		t.Fatal(err)
	}
	if n := h.calls.Load(); n != 2 {
		t.Errorf("%d fsyncs, want 2", n)
	}
	// Nothing committed since: Durable needs no fsync.
	if err := h.db.Durable(ctx); err != nil {
		t.Fatal(err)
	}
	if n := h.calls.Load(); n != 2 {
		t.Errorf("Durable with nothing to sync made an fsync (%d in all)", n)
	}
}

// Once an fsync of the WAL fails, no write is reported durable again:
// the batch it covered fails, and so does every later write, unrun.
func TestFailedSyncEndsWrites(t *testing.T) {
	var fail atomic.Bool
	d, err := openWithSync(context.Background(), filepath.Join(t.TempDir(), "test.db"), func(fsync func() error) error {
		if fail.Load() {
			return &syncFailed{syscall.EIO}
		}
		return fsync()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	fail.Store(true)
	err = insertNote(ctx, d, "lost", "1", nil)
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("write under a failed fsync: %v, want EIO and to restart", err)
	}
	// A later fsync would succeed: the failure still stands.
	fail.Store(false)
	ran := false
	err = d.InTx(ctx, func(*sql.Tx) error { ran = true; return nil })
	if !errors.Is(err, syscall.EIO) || ran {
		t.Errorf("write after a failed fsync: %v (ran %v), want EIO, unrun", err, ran)
	}
	if err := d.Durable(ctx); !errors.Is(err, syscall.EIO) {
		t.Errorf("Durable after a failed fsync: %v, want EIO", err)
	}
}

// SQLite makes a new WAL when the last connection to a database closes
// and another opens it: the file synced must be the one now at the path.
func TestWALFileFollowsAReplacedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db-wal")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := walFile{path: path}
	defer w.close()
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	old := w.f
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	now, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	held, err := w.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if w.f == old || !os.SameFile(now, held) {
		t.Error("the WAL's descriptor still names the removed file")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(); err == nil {
		t.Error("a missing WAL was synced without error")
	}
}

// The audit head, which a checkpoint signs into a file outside the
// database, is read only once the event is on disk.
func TestAuditHeadWaitsForItsSync(t *testing.T) {
	h := openHeldSyncs(t)
	ctx := context.Background()
	appended := make(chan error, 1)
	go func() {
		appended <- h.db.InTx(ctx, func(tx *sql.Tx) error {
			return Append(ctx, tx, &Event{Actor: Actor{Type: ActorSystem}, Action: "test.event"})
		})
	}()
	h.syncStarted(t)
	head := make(chan error, 1)
	var seq int64
	go func() {
		var err error
		seq, _, err = NewAudit(h.db).Head(ctx)
		head <- err
	}()
	if received(head) {
		t.Fatal("the audit head was read before its event was synced")
	}
	h.release <- struct{}{}
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	if err := <-head; err != nil || seq == 0 {
		t.Fatalf("head = %d, %v; want the event", seq, err)
	}
}
