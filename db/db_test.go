package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

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
		{"writer synchronous FULL", false, "synchronous", "2"},
		{"writer foreign keys", false, "foreign_keys", "1"},
		{"writer busy timeout", false, "busy_timeout", "10000"},
		{"writer savepoint journals in memory", false, "temp_store", "2"},
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
