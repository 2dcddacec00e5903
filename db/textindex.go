package db

import (
	"context"
	"database/sql"
)

// textIndex is a full-text index filled in batches, behind the table it
// indexes, rather than row by row in each writing transaction: one row at a
// time costs FTS5 about fifteen times as much. It is described by its
// statements; rows are keyed by an increasing integer.
type textIndex struct {
	// lag counts the rows added past the position.
	lag string
	// position reads the last key indexed.
	position string
	// upTo finds the last key of the next batch (args: position, size).
	upTo string
	// insert indexes the rows of a batch (args: position, last key).
	insert string
	// setPosition records the batch as indexed (arg: last key).
	setPosition string
}

// indexChunk bounds the rows one indexing transaction takes: the writer is
// shared, and a few thousand rows at once would hold it for long enough to
// show in the response time of everyone's requests (about 0.1 s at the rate
// the load benchmark writes audit events).
const indexChunk = 500

// catchUp indexes the rows added since the last call, in transactions of at
// most indexChunk rows, and returns how many it indexed. With maxLag > 0 it
// indexes nothing when more rows than that wait (after an upgrade, say),
// and says so with caughtUp false: a search should not wait for them.
func (db *DB) catchUp(ctx context.Context, ix textIndex, maxLag int64) (total int64, caughtUp bool, err error) {
	// Most calls find nothing new: ask a reader first rather than queue a
	// write transaction behind everyone else's.
	var lag int64
	if err := db.R.QueryRowContext(ctx, ix.lag).Scan(&lag); err != nil {
		return 0, false, err
	}
	if lag <= 0 {
		return 0, true, nil
	}
	if maxLag > 0 && lag > maxLag {
		return 0, false, nil
	}
	for {
		var n int64
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			var from int64
			if err := tx.QueryRowContext(ctx, ix.position).Scan(&from); err != nil {
				return err
			}
			var to sql.NullInt64
			if err := tx.QueryRowContext(ctx, ix.upTo, from, indexChunk).Scan(&to); err != nil || !to.Valid {
				return err
			}
			res, err := tx.ExecContext(ctx, ix.insert, from, to.Int64)
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, ix.setPosition, to.Int64)
			return err
		})
		if err != nil {
			return total, false, err
		}
		total += n
		if n < indexChunk {
			return total, true, nil
		}
	}
}
