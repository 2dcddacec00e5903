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

// checkpointLoop copies the WAL into the database file beside the writer.
//
// Left to itself, SQLite checkpoints on the writer's connection, after the
// commit that takes the WAL past 1,000 pages: every write waits the
// milliseconds that takes, and under load that is most of the worst
// response times. A PASSIVE checkpoint on another connection copies the
// frames committed so far while the writer goes on. What it cannot do is
// start the WAL over, which SQLite does only when a write transaction
// begins with every frame copied, and the writer commits meanwhile. So the
// writer's own checkpoints stay: they find little left to copy, and after
// them the WAL starts over.
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
		db.ckpt.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done)
	}
}
