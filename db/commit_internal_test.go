package db

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// gateSyncs makes d's WAL syncs wait: each announces itself on entered and
// then waits for release, failing with what it receives, or syncing for
// real on nil.
func gateSyncs(t *testing.T, d *DB) (entered <-chan struct{}, release chan<- error) {
	t.Helper()
	in, out := make(chan struct{}, 16), make(chan error)
	real := d.syncWAL
	// Safe without a lock: no sync is under way once Open has returned,
	// and the next starts only after a write this test queues later.
	d.syncWAL = func() error {
		in <- struct{}{}
		if err := <-out; err != nil {
			return err
		}
		return real()
	}
	return in, out
}

func insertName(name string, ran chan<- struct{}) func(tx *sql.Tx) error {
	return func(tx *sql.Tx) error {
		if ran != nil {
			close(ran)
		}
		_, err := tx.Exec(`INSERT INTO names (name) VALUES (?)`, name)
		return err
	}
}

// A write is answered only once its commit is synced, but the writer does
// not wait for that sync: the next batch runs meanwhile.
func TestWritesAreAnsweredOnceSynced(t *testing.T) {
	d := openInternalDB(t)
	ctx := context.Background()
	if err := d.exec(ctx, `CREATE TABLE names (name TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	syncsBefore := d.Stats().Syncs
	entered, release := gateSyncs(t, d)

	errA := make(chan error, 1)
	go func() { errA <- d.InTx(ctx, insertName("a", nil)) }()
	<-entered // a is committed and its sync has begun
	var n int
	if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM names WHERE name = 'a'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("before the sync, readers see %d rows of a (err %v), want the commit", n, err)
	}

	ranB := make(chan struct{})
	errB := make(chan error, 1)
	go func() { errB <- d.InTx(ctx, insertName("b", ranB)) }()
	select {
	case <-ranB:
	case <-time.After(5 * time.Second):
		t.Fatal("the next write did not run while a sync was under way")
	}
	select {
	case err := <-errA:
		t.Fatalf("the first write was answered (%v) before its commit was synced", err)
	case <-time.After(50 * time.Millisecond):
	}

	release <- nil
	if err := <-errA; err != nil {
		t.Fatalf("first write: %v", err)
	}
	<-entered // b's sync
	release <- nil
	if err := <-errB; err != nil {
		t.Fatalf("second write: %v", err)
	}
	if got := d.Stats().Syncs - syncsBefore; got != 2 {
		t.Errorf("%d syncs counted, want 2", got)
	}
}

// After a failed fsync the kernel may have dropped what it could not
// write: the writes waiting for it fail, and no write runs after it.
func TestAFailedSyncStopsAllWrites(t *testing.T) {
	d := openInternalDB(t)
	ctx := context.Background()
	if err := d.exec(ctx, `CREATE TABLE names (name TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	entered, release := gateSyncs(t, d)
	errA := make(chan error, 1)
	go func() { errA <- d.InTx(ctx, insertName("a", nil)) }()
	<-entered
	release <- errors.New("input/output error")
	if err := <-errA; !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("write whose sync failed: err = %v, want ErrSyncFailed", err)
	}
	ran := make(chan struct{})
	if err := d.InTx(ctx, insertName("b", ran)); !errors.Is(err, ErrSyncFailed) {
		t.Errorf("write after a failed sync: err = %v, want ErrSyncFailed", err)
	}
	select {
	case <-ran:
		t.Error("a write ran after a failed sync")
	default:
	}
}
