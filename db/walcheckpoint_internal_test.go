package db

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
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

// Under a steady stream of commits the WAL starts over at about
// walRestartFrames: the checkpointer copies it and has the writer finish.
// Requests always queued, the writer is never idle when a pass has copied
// everything, which would let the WAL start over by itself; and the
// writer's own checkpoint, its backstop, is put out of reach.
func TestWALStartsOverUnderSteadyWrites(t *testing.T) {
	old := walRestartFrames
	walRestartFrames = 1000 // before Open: no loop reads it yet
	t.Cleanup(func() { walRestartFrames = old })
	d := openInternalDB(t)
	ctx := context.Background()
	if _, err := d.W.Exec(`PRAGMA wal_autocheckpoint(1000000)`); err != nil {
		t.Fatal(err)
	}
	const rows = 12000 // of a page each: 48 MB of WAL, never started over
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1); i <= rows && !t.Failed(); i = next.Add(1) {
				err := d.InTx(ctx, func(tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`,
						fmt.Sprintf("filler-%05d", i), []byte(strings.Repeat("x", 4000)))
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	fi, err := os.Stat(d.wal.path)
	if err != nil {
		t.Fatal(err)
	}
	// The file keeps its largest size when the WAL starts over.
	if frames := fi.Size() / (24 + 4096); frames > 10000 {
		t.Errorf("the WAL reached %d frames; want it started over near %d", frames, walRestartFrames)
	}
}
