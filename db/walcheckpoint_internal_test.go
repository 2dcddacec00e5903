package db

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The WAL is copied into the database file beside the writer, well before
// the writer's own checkpoint would (at 8,000 pages): the file grows with
// what was committed, with no further write or close.
func TestWALIsCheckpointedBesideTheWriter(t *testing.T) {
	d := openInternalDB(t)
	ctx := context.Background()
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(d.Path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// Let the migrations' pages reach the file first.
	time.Sleep(3 * walCheckpointEvery)
	before := size()
	err := d.InTx(ctx, func(tx *sql.Tx) error {
		for i := range 200 {
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`,
				fmt.Sprintf("filler-%03d", i), []byte(strings.Repeat("x", 4000)))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); size() < before+200*4000; {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes, %d before 800 kB were committed: the WAL was not checkpointed", size(), before)
		}
		time.Sleep(walCheckpointEvery / 2)
	}
}
