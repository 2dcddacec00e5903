package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// BenchmarkAppend times appending one audit event, the part of every
// payout's write transactions that the chain costs, in transactions of
// a hundred events, so that the commit does not hide it.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(b.TempDir(), "audit.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ev := Event{Actor: Actor{Type: ActorSystem}, Action: "payout.status_changed", TargetType: "payout", TargetID: "12345",
		Provider: "kibramoa", Details: map[string]any{"before": map[string]any{"status": "queued"}, "after": map[string]any{"status": "submitting"}}}
	b.ResetTimer()
	for i := 0; i < b.N; i += 100 {
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			for range min(100, b.N-i) {
				e := ev
				if err := Append(ctx, tx, &e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
