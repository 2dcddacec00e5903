package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"
)

// gateSyncs makes d's WAL syncs wait: each announces itself on entered and
// then waits for release, failing with what it receives, or syncing for
// real on nil.
func gateSyncs(t *testing.T, d *DB) (entered <-chan struct{}, release chan<- error) {
	t.Helper()
	in, out, over := make(chan struct{}, 16), make(chan error), make(chan struct{})
	real := d.syncWAL
	// Safe without a lock: the sync loop reads syncWAL only after taking
	// a batch that this test queues later, through channels.
	d.syncWAL = func() error {
		in <- struct{}{}
		select {
		case err := <-out:
			if err != nil {
				return err
			}
		case <-over: // the test failed with a sync held: let Close finish
		}
		return real()
	}
	t.Cleanup(func() { close(over) }) // before the database's own Close
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

// A failure can follow from a write not yet durable (here a duplicate of
// a key whose commit is still being synced): it is answered only once
// that write is, as a success would be.
func TestFailuresWaitForTheCommitsBeforeThem(t *testing.T) {
	d := openInternalDB(t)
	ctx := context.Background()
	if err := d.exec(ctx, `CREATE TABLE names (name TEXT NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	entered, release := gateSyncs(t, d)
	errA := make(chan error, 1)
	go func() { errA <- d.InTx(ctx, insertName("a", nil)) }()
	<-entered
	errB := make(chan error, 1)
	go func() { errB <- d.InTx(ctx, insertName("a", nil)) }()
	select {
	case err := <-errB:
		t.Fatalf("the duplicate was answered (%v) before the write it clashed with was durable", err)
	case <-time.After(100 * time.Millisecond):
	}
	release <- nil
	if err := <-errA; err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := <-errB; err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("duplicate: err = %v, want the UNIQUE constraint", err)
	}
}

// A checkpoint signs the head Head returns: it must be on disk first.
func TestAuditHeadWaitsForTheSync(t *testing.T) {
	d := openInternalDB(t)
	ctx := context.Background()
	a := NewAudit(d)
	if err := a.Record(ctx, Event{Action: "test.event", Actor: Actor{Type: ActorSystem}, Outcome: OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
	entered, release := gateSyncs(t, d)
	type head struct {
		seq int64
		err error
	}
	got := make(chan head, 1)
	go func() { seq, _, err := a.Head(ctx); got <- head{seq, err} }()
	<-entered
	select {
	case h := <-got:
		t.Fatalf("Head returned %+v before its sync", h)
	case <-time.After(50 * time.Millisecond):
	}
	release <- nil
	if h := <-got; h.err != nil || h.seq == 0 {
		t.Errorf("Head = %+v, want the event's seq", h)
	}
}

// After a failed fsync the kernel may have dropped what it could not
// write: the writes waiting for it fail, one already running in the next
// transaction is rolled back, and no write runs after it.
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
	ranB := make(chan struct{})
	errB := make(chan error, 1)
	go func() { errB <- d.InTx(ctx, insertName("b", ranB)) }()
	<-ranB // b runs in the open transaction while a's sync is under way
	release <- errors.New("input/output error")
	if err := <-errA; !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("write whose sync failed: err = %v, want ErrSyncFailed", err)
	}
	if err := <-errB; !errors.Is(err, ErrSyncFailed) {
		t.Errorf("write run during the failed sync: err = %v, want ErrSyncFailed", err)
	}
	var n int
	if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM names WHERE name = 'b'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the write run during the failed sync left %d rows (err %v), want it rolled back", n, err)
	}
	ran := make(chan struct{})
	if err := d.InTx(ctx, insertName("c", ran)); !errors.Is(err, ErrSyncFailed) {
		t.Errorf("write after a failed sync: err = %v, want ErrSyncFailed", err)
	}
	select {
	case <-ran:
		t.Error("a write ran after a failed sync")
	default:
	}
}
