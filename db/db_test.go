package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"payoutdesk/db"
)

func newTestDB(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestOpenSetsPragmasAndMigrates(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		reader bool
		pragma string
		want   string
	}{
		{"writer journal mode", false, "journal_mode", "wal"},
		// NORMAL, as syncLoop fsyncs the WAL before a commit is reported.
		{"writer synchronous NORMAL", false, "synchronous", "1"},
		{"writer foreign keys", false, "foreign_keys", "1"},
		{"writer busy timeout", false, "busy_timeout", "10000"},
		{"writer savepoint journals in memory", false, "temp_store", "2"},
		{"writer checkpoints only a very large WAL", false, "wal_autocheckpoint", "64000"},
		{"reader query only", true, "query_only", "1"},
		{"reader foreign keys", true, "foreign_keys", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := d.W
			if tt.reader {
				conn = d.R
			}
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
	cur, latest, err := d.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cur != latest || cur == 0 {
		t.Errorf("schema version %d, latest %d: want equal and non-zero", cur, latest)
	}
}

func TestReopenKeepsDataAndVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "re.db")
	ctx := context.Background()
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewSettings(d).Init(ctx, "k", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, err = db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := db.NewSettings(d).Init(ctx, "k", []byte("v2"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "v1" {
		t.Errorf("setting after reopen = %q, want the first value v1", got)
	}
}

// TestGetOrMakeMakesOnce: a setting made on first use is made once, kept
// across a reopen, and read afterwards without being made again; a value
// that could not be made stores nothing.
func TestGetOrMakeMakesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "make.db")
	ctx := context.Background()
	made := 0
	newValue := func() ([]byte, error) {
		made++
		return []byte("v" + strconv.Itoa(made)), nil
	}
	for range 2 {
		d, err := db.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.NewSettings(d).GetOrMake(ctx, "k", newValue)
		d.Close()
		if err != nil || string(got) != "v1" {
			t.Fatalf("GetOrMake = %q, %v; want v1", got, err)
		}
	}
	if made != 1 {
		t.Errorf("the value was made %d times, want once", made)
	}

	d := newTestDB(t)
	broken := errors.New("no entropy")
	if _, err := db.NewSettings(d).GetOrMake(ctx, "k", func() ([]byte, error) { return nil, broken }); !errors.Is(err, broken) {
		t.Fatalf("GetOrMake with a failing maker: %v, want its error", err)
	}
	if _, err := db.NewSettings(d).Get(ctx, "k"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("after a failed make the setting reads %v, want ErrNotFound", err)
	}
}

func TestReaderRefusesWrites(t *testing.T) {
	d := newTestDB(t)
	_, err := d.R.Exec(`INSERT INTO settings (key, value) VALUES ('x', 'y')`)
	if err == nil {
		t.Fatal("insert through the read pool succeeded, want an error")
	}
}

func TestConcurrentWritersQueue(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	const writers, each = 32, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Each transaction reads then writes, the pattern that fails
				// at once with SQLITE_BUSY under deferred transactions.
				_, err := db.NewSettings(d).Init(ctx, fmt.Sprintf("w%d-%d", w, i), []byte("v"))
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write failed: %v", err)
	}
	var n int
	if err := d.R.QueryRow(`SELECT count(*) FROM settings`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != writers*each {
		t.Errorf("got %d rows, want %d", n, writers*each)
	}
}

func TestGroupCommitIsolatesFailures(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.InTx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.Exec(`INSERT INTO settings (key, value) VALUES (?, x'76')`, fmt.Sprint("k", i)); err != nil {
					return err
				}
				if i%4 == 0 {
					// The write above must vanish with the failure.
					return errors.New("planned failure")
				}
				if i%4 == 1 {
					panic("planned panic")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i%4 == 0 || i%4 == 1) != (err != nil) {
			t.Errorf("request %d: err = %v", i, err)
		}
	}
	var n int
	d.R.QueryRow(`SELECT count(*) FROM settings`).Scan(&n)
	if n != 32 {
		t.Errorf("got %d rows, want the 32 of the requests that succeeded", n)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	ran := false
	if err := d.InTx(canceled, func(*sql.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Errorf("canceled request: err = %v, ran = %v; want context.Canceled without running", err, ran)
	}
	d.Close()
	if err := d.InTx(ctx, func(*sql.Tx) error { return nil }); !errors.Is(err, db.ErrClosed) {
		t.Errorf("write after Close: err = %v, want ErrClosed", err)
	}
}

// batched queues three requests behind a blocker so that they share one
// transaction, runs them and returns their errors in order.
func batched(t *testing.T, d *db.DB, fns ...func(*sql.Tx) error) []error {
	t.Helper()
	release := make(chan struct{})
	blocked := make(chan struct{})
	go d.InTx(context.Background(), func(*sql.Tx) error { close(blocked); <-release; return nil })
	<-blocked
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = d.InTx(context.Background(), fn) })
	}
	time.Sleep(50 * time.Millisecond) // let them all queue behind the blocker
	before := d.Stats()
	close(release)
	wg.Wait()
	if after := d.Stats(); after.Commits-before.Commits > int64(len(fns)) {
		t.Logf("requests were not batched (%d commits)", after.Commits-before.Commits)
	}
	return errs
}

// When SQLite abandons a batch's whole transaction (here a request ends it
// itself, as an I/O error or a full disk would), no request may report
// success for work that was lost, and none may commit on its own.
func TestGroupCommitSurvivesALostTransaction(t *testing.T) {
	d := newTestDB(t)
	var mu sync.Mutex
	var ran []string // the order the requests ran in
	insert := func(key string, breaks bool) func(*sql.Tx) error {
		return func(tx *sql.Tx) error {
			mu.Lock()
			ran = append(ran, key)
			mu.Unlock()
			if _, err := tx.Exec(`INSERT INTO settings (key, value) VALUES (?, x'76')`, key); err != nil {
				return err
			}
			if breaks {
				tx.Exec(`ROLLBACK`)
				return errors.New("planned failure")
			}
			return nil
		}
	}
	keys := []string{"a", "b", "breaker", "c", "d"}
	var fns []func(*sql.Tx) error
	for _, k := range keys {
		fns = append(fns, insert(k, k == "breaker"))
	}
	errs := batched(t, d, fns...)
	// The requests that ran before the failure lost their work with it; the
	// ones after it get a transaction of their own.
	after := false
	for _, k := range ran {
		i := slices.Index(keys, k)
		var n int
		if err := d.R.QueryRow(`SELECT count(*) FROM settings WHERE key = ?`, k).Scan(&n); err != nil {
			t.Fatal(err)
		}
		switch {
		case k == "breaker":
			if errs[i] == nil || n != 0 {
				t.Errorf("the failed request: err = %v, stored %d times", errs[i], n)
			}
			after = true
		case after:
			if errs[i] != nil || n != 1 {
				t.Errorf("request %s, run after the lost transaction: err = %v, stored %d times; want committed", k, errs[i], n)
			}
		default:
			// Batched with the failure, it lost its work and must say so.
			if errs[i] == nil || n != 0 {
				t.Errorf("request %s, run before the failure in its batch: err = %v, stored %d times; want its work lost and said", k, errs[i], n)
			}
		}
	}
	if len(ran) != len(keys) {
		t.Errorf("ran %v, want each request once", ran)
	}
}

// A caller giving up while its statement runs must not interrupt the
// statement: SQLite would abandon the whole batch's transaction.
func TestGroupCommitIgnoresACancelMidStatement(t *testing.T) {
	d := newTestDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	slow := func(tx *sql.Tx) error {
		time.AfterFunc(20*time.Millisecond, cancel)
		// A statement that runs for a while: 2 million rows counted.
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value)
			SELECT 'slow', x'76' FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) SELECT count(*) FROM n)`)
		return err
	}
	insert := func(key string) func(*sql.Tx) error {
		return func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO settings (key, value) VALUES (?, x'76')`, key)
			return err
		}
	}
	keys := []string{"a", "slow", "c"}
	errs := batched(t, d, insert("a"), slow, insert("c"))
	for i, k := range keys {
		var n int
		if err := d.R.QueryRow(`SELECT count(*) FROM settings WHERE key = ?`, k).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if errs[i] != nil || n != 1 {
			t.Errorf("request %s: err = %v, stored %d times; want it committed", k, errs[i], n)
		}
	}
}

// Another connection to the database closing (a command run beside the
// server) must not hold the server's writes while a reader of the server's
// is in the middle of a query: closing waits for nobody.
func TestCloseBesideAServerDoesNotStallItsWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	server, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	record := func() error {
		return db.NewAudit(server).Record(ctx, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "test.write"})
	}
	for range 5 {
		if err := record(); err != nil {
			t.Fatal(err)
		}
	}
	command, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := server.R.QueryContext(ctx, `SELECT seq FROM audit_events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	rows.Next() // a long read under way, an export say
	if err := record(); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- command.Close() }()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if err := record(); err != nil {
		t.Fatal(err)
	}
	// The stall this guards against lasts the busy timeout, 10 s.
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the server's write waited %v behind another connection's close", took)
	}
	if err := <-closed; err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ro.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.NewAudit(d).Record(ctx, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "test.event"}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	ro, err := db.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if v, err := db.NewAudit(ro).Verify(ctx); err != nil || !v.OK() || v.Events != 1 {
		t.Errorf("verify read-only: %v, %v", v, err)
	}
	if err := ro.InTx(ctx, func(*sql.Tx) error { return nil }); !errors.Is(err, db.ErrReadOnly) {
		t.Errorf("a write on a read-only database: %v, want ErrReadOnly", err)
	}
	if _, err := ro.R.ExecContext(ctx, `DELETE FROM sessions`); err == nil {
		t.Error("a read-only database's readers accepted a write")
	}
	// A database older than this program is not migrated behind the
	// caller's back: it is refused.
	old := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(old, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenReadOnly(ctx, old); err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Errorf("read-only open of an unmigrated database: %v, want a refusal saying to migrate", err)
	}
}

// TestFilesAreTheOwnersOnly: the database holds password hashes and
// sessions, so it, its WAL and its backups are created readable and
// writable by their owner only.
func TestFilesAreTheOwnersOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "private.db")
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	appendEvents(t, d, 1)
	backup := filepath.Join(dir, "copy.db")
	if _, err := db.Backup(context.Background(), path, backup); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", backup} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has permissions %v, want none for group or others", filepath.Base(p), perm)
		}
	}
	// Through a symlink to a database yet to exist, too.
	if err := os.Symlink(filepath.Join(dir, "target.db"), filepath.Join(dir, "link.db")); err != nil {
		t.Fatal(err)
	}
	linked, err := db.Open(context.Background(), filepath.Join(dir, "link.db"))
	if err != nil {
		t.Fatal(err)
	}
	linked.Close()
	if fi, err := os.Stat(filepath.Join(dir, "target.db")); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("a database created through a symlink: %v, %v", fi.Mode(), err)
	}
	// A backup never overwrites a file, and leaves it as it was.
	if err := os.WriteFile(filepath.Join(dir, "taken.db"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(context.Background(), path, filepath.Join(dir, "taken.db")); err == nil {
		t.Error("a backup over an existing file succeeded")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "taken.db")); string(b) != "mine" {
		t.Errorf("the existing file now holds %q", b)
	}
}
