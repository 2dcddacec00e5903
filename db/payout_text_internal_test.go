package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
)

// A text search does not wait for an index far behind (new after an
// upgrade, say): it reads the table, finding the same payouts, and leaves
// the indexing to the worker. Once caught up, the index answers alike.
func TestListTextFarBehindReadsTheTable(t *testing.T) {
	ctx := context.Background()
	d := openInternalDB(t)
	seedPayoutsSQL(t, d, searchMaxLag+100)
	store := NewPayouts(d)
	position := func() int64 {
		var pos int64
		if err := d.R.QueryRowContext(ctx, `SELECT payout_id FROM payout_text_position`).Scan(&pos); err != nil {
			t.Fatal(err)
		}
		return pos
	}
	ids := func(f PayoutFilter) []int64 {
		ps, err := store.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	f := PayoutFilter{Text: "Beneficiary 123", Limit: 50}
	fromTable := ids(f)
	if len(fromTable) == 0 {
		t.Fatal("nothing found")
	}
	if pos := position(); pos != 0 {
		t.Errorf("the search indexed up to %d payouts first, want none", pos)
	}
	if _, err := store.IndexText(ctx); err != nil {
		t.Fatal(err)
	}
	if pos := position(); pos != searchMaxLag+100 {
		t.Fatalf("indexed up to %d, want %d", pos, searchMaxLag+100)
	}
	if fromIndex := ids(f); !slices.Equal(fromIndex, fromTable) {
		t.Errorf("through the index %v, from the table %v", fromIndex, fromTable)
	}
	// A text nearly every payout holds, with a status few have: the same
	// payouts as the table gives, read from the status's index.
	common := PayoutFilter{Text: "PD-", Status: StatusFailed, Limit: 50}
	var want []int64
	rows, err := d.R.QueryContext(ctx, `SELECT id FROM payouts WHERE status = 'failed' AND search LIKE '%pd-%' ORDER BY id DESC LIMIT 50`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	rows.Close()
	if got := ids(common); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("common text and a rare status: %v, want %v", got, want)
	}
}

// The text indexes merge their segments in steps of their own, in small
// transactions, rather than in the one that indexes a batch (FTS5's
// automerge, which held the writer for tens of milliseconds): with
// automerge off, forty batches must still leave a handful of segments, not
// one per batch.
func TestTextIndexesMergeInSteps(t *testing.T) {
	ctx := context.Background()
	d := openInternalDB(t)
	for _, table := range []string{"payout_text", "audit_text"} {
		var automerge string
		if err := d.R.QueryRowContext(ctx, `SELECT v FROM `+table+`_config WHERE k = 'automerge'`).Scan(&automerge); err != nil || automerge != "0" {
			t.Errorf("%s: automerge %q (%v), want 0", table, automerge, err)
		}
	}
	const batches = 40
	seedPayoutsSQL(t, d, batches*indexChunk)
	err := d.InTx(ctx, func(tx *sql.Tx) error {
		for i := range batches * indexChunk {
			e := Event{Actor: Actor{Type: ActorSystem}, Action: "test.event", Details: map[string]any{"note": fmt.Sprintf("event %d", i)}}
			if err := Append(ctx, tx, &e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	store := NewPayouts(d)
	n, err := store.IndexText(ctx)
	if err != nil || n != batches*indexChunk {
		t.Fatalf("indexed %d payouts (%v), want %d", n, err, batches*indexChunk)
	}
	audit := NewAudit(d)
	if n, err := audit.IndexText(ctx); err != nil || n < batches*indexChunk {
		t.Fatalf("indexed %d events (%v), want at least %d", n, err, batches*indexChunk)
	}
	for _, table := range []string{"payout_text", "audit_text"} {
		var segments int
		if err := d.R.QueryRowContext(ctx, `SELECT count(DISTINCT segid) FROM `+table+`_idx`).Scan(&segments); err != nil {
			t.Fatal(err)
		}
		// Unmerged, FTS5's own last resort (crisismerge) leaves ten.
		if segments > 5 {
			t.Errorf("%s: %d batches left %d segments, want at most 5", table, batches, segments)
		}
	}
	if es, err := audit.Search(ctx, AuditFilter{Text: "event 1234", Limit: 10}); err != nil || len(es) != 1 {
		t.Errorf("after merging, the audit index finds %d events (%v), want 1", len(es), err)
	}
	ps, err := store.List(ctx, PayoutFilter{Text: "Beneficiary 1234", Limit: 10})
	if err != nil || len(ps) == 0 {
		t.Fatalf("after merging, the index finds %d payouts (%v)", len(ps), err)
	}
}
