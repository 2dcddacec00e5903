package db

import (
	"context"
	"database/sql"
	"fmt"
)

// textIndex is an FTS5 full-text index filled in batches, behind the table
// it indexes, rather than row by row in each writing transaction: one row
// at a time costs FTS5 about fifteen times as much. It is described by its
// table and statements; rows are keyed by an increasing integer.
type textIndex struct {
	// table is the FTS5 table's name.
	table string
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

// indexChunk bounds the rows one indexing transaction takes. The writer is
// shared: everyone's request waits behind it. At 500 rows a transaction
// held it for 10 to 30 ms (FTS5 writes its new segment when the savepoint
// is released), which was most of the load benchmark's p99; at 64 it holds
// it for about a millisecond.
const indexChunk = 64

// mergePages is the merge work one transaction does, in pages written. The
// indexes' automerge is off (migration 0015): merging in the transaction
// that writes a segment held the writer for up to 26 ms at a time. The
// merging is done here instead, in steps of this size, each its own
// transaction: under the load benchmark a step of 16 pages held the writer
// for 4.4 ms at most (one of 50, for 9 ms).
const mergePages = 16

// maxMergeSteps bounds the merge steps taken in one go. FTS5 still merges
// in the writing transaction once a level holds 16 segments
// (crisismerge), so merging has to keep pace with the batches; four
// batches rarely leave more than a few steps to do.
const maxMergeSteps = 16

// catchUp indexes the rows added since the last call, up to the last one
// there was when called, in transactions of at most indexChunk rows, and
// returns how many it indexed. With maxLag > 0 it indexes nothing when more
// rows than that wait (after an upgrade, say), and says so with caughtUp
// false: a search should not wait for them.
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
	// Up to the head as it was at the start: rows keep coming under load,
	// and a search waiting on this must not chase them.
	var stop, batches int64
	for {
		var n, to int64
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			var from int64
			if err := tx.QueryRowContext(ctx, ix.position).Scan(&from); err != nil {
				return err
			}
			if stop == 0 {
				stop = from + lag
			}
			var last sql.NullInt64
			if err := tx.QueryRowContext(ctx, ix.upTo, from, indexChunk).Scan(&last); err != nil || !last.Valid {
				return err
			}
			res, err := tx.ExecContext(ctx, ix.insert, from, last.Int64)
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
			to = last.Int64
			_, err = tx.ExecContext(ctx, ix.setPosition, to)
			return err
		})
		if err != nil {
			return total, false, err
		}
		total += n
		batches++
		done := n < indexChunk || to >= stop
		// Each batch adds a segment, and FTS5 merges a level once it holds
		// four (usermerge): merging after every fourth batch, and after
		// the last, finds work rather than a transaction's worth of none.
		if n > 0 && (done || batches%4 == 0) {
			if err := db.merge(ctx, ix); err != nil {
				return total, false, err
			}
		}
		if done {
			return total, true, nil
		}
	}
}

// merge does the index's pending merge work, if any, in steps of about
// mergePages pages (FTS5 ends a step only between terms, so a step with a
// long list of rows for one term writes more). FTS5 merges only where a
// level holds enough segments (its usermerge setting, 4), and a step that
// found nothing changes fewer than two rows, as FTS5's documentation says
// to check.
func (db *DB) merge(ctx context.Context, ix textIndex) error {
	step := fmt.Sprintf(`INSERT INTO %s (%[1]s, rank) VALUES ('merge', %d)`, ix.table, mergePages)
	for range maxMergeSteps {
		var changed int64
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			var before, after int64
			if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, step); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
				return err
			}
			changed = after - before
			return nil
		})
		if err != nil {
			return fmt.Errorf("merge %s: %w", ix.table, err)
		}
		if changed < 2 {
			return nil
		}
	}
	return nil
}
