package db

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"
	"time"
)

// queued is how long the test gives a goroutine to reach the writer's
// queue: a request that took longer would only make the test pass without
// showing anything, never fail it.
const queued = 50 * time.Millisecond

// A low-priority write queued before a person's runs after it, and not in
// its commit: the batch running when both arrive takes the person's and
// leaves the other for the next, whether that batch began with a person's
// request or a low-priority one.
func TestPeoplesWritesGoFirst(t *testing.T) {
	for _, tc := range []struct {
		name         string
		runningIsLow bool
	}{
		{"behind a person's request", false},
		{"behind a low-priority request", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			d := openInternalDB(t)
			low := LowPriority(ctx)

			running, hold := make(chan struct{}), make(chan struct{})
			runningCtx := ctx
			if tc.runningIsLow {
				runningCtx = low
			}
			first := make(chan error, 1)
			go func() {
				first <- d.InTx(runningCtx, func(*sql.Tx) error {
					close(running)
					<-hold
					return nil
				})
			}()
			<-running

			// Queued first, at low priority: it notes whether the
			// person's write, queued after it, was committed before it ran.
			var sawPersons atomic.Bool
			lowDone := make(chan error, 1)
			go func() {
				lowDone <- d.InTx(low, func(tx *sql.Tx) error {
					var n int
					if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = 'person'`).Scan(&n); err != nil {
						return err
					}
					sawPersons.Store(n == 1)
					_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('low', x'00')`)
					return err
				})
			}()
			time.Sleep(queued)
			personDone := make(chan error, 1)
			go func() { personDone <- insertNote(ctx, d, "person", "p", nil) }()
			time.Sleep(queued)
			close(hold)

			for name, c := range map[string]chan error{"running": first, "low-priority": lowDone, "person's": personDone} {
				if err := <-c; err != nil {
					t.Fatalf("%s write: %v", name, err)
				}
			}
			if !sawPersons.Load() {
				t.Error("the low-priority write ran before the person's, queued after it, was committed")
			}
		})
	}
}

// With nobody else waiting, a low-priority write is run, committed and
// synced as any other, and IsLowPriority tells the two kinds apart.
func TestLowPriorityWritesStillRun(t *testing.T) {
	ctx := context.Background()
	d := openInternalDB(t)
	if IsLowPriority(ctx) || !IsLowPriority(LowPriority(ctx)) || !IsLowPriority(context.WithoutCancel(LowPriority(ctx))) {
		t.Fatal("IsLowPriority does not tell a marked context, or one derived from it, from an unmarked one")
	}
	before := d.Stats()
	if err := insertNote(LowPriority(ctx), d, "k", "v", nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Durable(LowPriority(ctx)); err != nil {
		t.Fatal(err)
	}
	after := d.Stats()
	if after.Commits-before.Commits != 1 || after.Syncs-before.Syncs < 1 {
		t.Errorf("commits %d, fsyncs %d after one low-priority write; want 1 and at least 1",
			after.Commits-before.Commits, after.Syncs-before.Syncs)
	}
	var v []byte
	if err := d.R.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'k'`).Scan(&v); err != nil || string(v) != "v" {
		t.Errorf("read back %q, %v", v, err)
	}
}
