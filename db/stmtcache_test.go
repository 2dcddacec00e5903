package db_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"payoutdesk/db"
)

// TestCachedStatementsStayCorrect runs the same query again while its
// first rows are still open, inside one transaction on the single writer
// connection: the cache must hand out a second statement, not reset the
// first under its reader.
func TestCachedStatementsStayCorrect(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		if _, err := db.NewSettings(d).Init(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT key FROM settings WHERE key >= ? ORDER BY key`
	err := d.InTx(ctx, func(tx *sql.Tx) error {
		outer, err := tx.QueryContext(ctx, q, "a")
		if err != nil {
			return err
		}
		defer outer.Close()
		var got []string
		for outer.Next() {
			var k string
			if err := outer.Scan(&k); err != nil {
				return err
			}
			inner, err := tx.QueryContext(ctx, q, k)
			if err != nil {
				return err
			}
			n := 0
			for inner.Next() {
				n++
			}
			inner.Close()
			got = append(got, k+":"+string(rune('0'+n)))
		}
		if want := "a:3 b:2 c:1"; strings.Join(got, " ") != want {
			t.Errorf("nested use of one statement: %v, want %s", got, want)
		}
		return outer.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	// Many runs of one cached statement with different arguments.
	for i := range 100 {
		var v []byte
		key := []string{"a", "b", "c"}[i%3]
		if err := d.R.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v); err != nil || string(v) != key {
			t.Fatalf("run %d: %q, %v; want %q", i, v, err, key)
		}
	}
}
