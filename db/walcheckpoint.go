package db

import (
	"context"
	"database/sql"
	"net/url"
	"time"
)

// walCheckpointEvery is how often checkpointLoop copies the WAL's new
// frames into the database file.
const walCheckpointEvery = 100 * time.Millisecond

// openCheckpointer opens the connection checkpointLoop uses. It is not
// query-only: SQLite counts a checkpoint as writing.
func openCheckpointer(abs string) (*sql.DB, error) {
	c, err := open(dsn(abs, url.Values{
		"_busy_timeout": {busyTimeoutParam},
		"_synchronous":  {"FULL"},
		"_time_format":  {"sqlite"},
	}), false)
	if err != nil {
		return nil, err
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	return c, nil
}

// walRestartFrames is the WAL's length, in frames (pages), past which
// the writer starts it over: 128 MB. Each start holds the writer for an
// fsync of the database file, a median of 7.5 to 12 ms under the load
// benchmark, where 8,000 frames came about twice a second: at 32,000 the
// writer is held 0.8% of the time rather than 1.8%. The WAL index grows
// with it, by 32 kB per 4,096 frames, and so does the WAL read back after
// a crash.
var walRestartFrames = 32000

// checkpointLoop copies the WAL into the database file beside the writer.
//
// Left to itself, SQLite checkpoints on the writer's connection, after the
// commit that takes the WAL past 1,000 pages: every write waits the
// milliseconds that takes, and under load that is most of the worst
// response times. A PASSIVE checkpoint on another connection copies the
// frames committed so far while the writer goes on. What it cannot do is
// start the WAL over, which SQLite does only when a write transaction
// begins with every frame copied, and the writer commits meanwhile. So once
// the WAL is long, right after a pass that copied all of it, the loop asks
// the writer to checkpoint the few frames committed since (restartWAL).
func (db *DB) checkpointLoop() {
	defer close(db.checkpointed)
	t := time.NewTicker(walCheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-db.closed:
			return
		case <-t.C:
		}
		// An error is not fatal: the writer's own checkpoints still bound
		// the WAL.
		var busy, log, done int
		err := db.ckpt.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done)
		if err == nil && log >= walRestartFrames && done == log {
			select {
			case db.restart <- struct{}{}:
			default:
			}
		}
	}
}

// restartWAL runs on the writer, between batches: it checkpoints the
// frames committed since checkpointLoop's last pass, so that the next
// write transaction starts the WAL over. SQLite's own checkpoint after a
// commit did the same with up to a pass's worth of frames left to copy:
// 10 to 16 ms under the load benchmark, against a median of 7.5 ms here.
func (db *DB) restartWAL() {
	start := time.Now()
	// An error leaves the WAL as it is: the next pass asks again.
	db.W.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	db.stats.busyNanos.Add(int64(time.Since(start)))
}
