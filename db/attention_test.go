package db_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"payoutdesk/db"
)

// The dashboard's lists hold the user's own payouts in each status that
// waits on somebody, newest first, and those that ended without paying
// lately (failed, cancelled...), latest end first: a payout that was
// unknown for days and failed today comes before newer ones that failed
// earlier.
func TestAttention(t *testing.T) {
	f := newCapFixture(t)
	ctx := context.Background()
	want := map[db.Status][]string{}
	statuses := []db.Status{db.StatusUnknown, db.StatusPaid, db.StatusUnknown, db.StatusFailed,
		db.StatusAwaitingCustomer, db.StatusFailed, db.StatusProcessing, db.StatusCancelled}
	for i, st := range statuses {
		key := "A" + strconv.Itoa(i)
		f.mustCreate(key, "+22990000"+strconv.Itoa(10+i))
		f.send(key, db.Change{To: st})
	}
	// A3 and A5 failed ten days ago; A0, unknown until now, fails now.
	if _, err := f.d.W.ExecContext(ctx, `UPDATE payouts SET finished_at = ? WHERE idempotency_key IN ('A3', 'A5')`,
		time.Now().Add(-240*time.Hour).UTC().Format(db.TimeLayout)); err != nil {
		t.Fatal(err)
	}
	f.change("A0", db.Change{To: db.StatusFailed})
	// A1, paid, is reported back by its provider.
	f.change("A1", db.Change{ErrorCode: db.ReversedAfterPaid, ErrorMessage: "refunded"})
	want[db.StatusUnknown] = []string{"A2"}
	want[db.StatusAwaitingCustomer] = []string{"A4"}
	if _, created, err := f.create("A8", "+2299000050", db.StatusPendingApproval); err != nil || !created {
		t.Fatalf("pending payout: created %v, %v", created, err)
	}
	want[db.StatusPendingApproval] = []string{"A8"}
	me := f.agent
	other, err := db.NewUsers(f.d).Create(ctx, "other@example.com", db.RoleAgent, "a long enough password",
		db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	f.agent = other.ID
	if _, created, err := f.create("B1", "+2299000060", db.StatusPendingApproval); err != nil || !created {
		t.Fatalf("other's payout: created %v, %v", created, err)
	}

	keys := func(list []db.Payout) []string {
		var out []string
		for _, p := range list {
			out = append(out, p.IdempotencyKey)
		}
		return out
	}
	// A7 was cancelled before A0 failed.
	for _, tt := range []struct {
		since time.Duration
		limit int
		ended []string
	}{
		{time.Hour, 5, []string{"A0", "A7"}},
		{30 * 24 * time.Hour, 5, []string{"A0", "A7", "A5", "A3"}},
		{30 * 24 * time.Hour, 2, []string{"A0", "A7"}},
	} {
		got, err := f.store.Attention(ctx, me, time.Now().Add(-tt.since), tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range db.AttentionStatuses {
			if k := keys(got.Waiting[st]); !slices.Equal(k, want[st]) {
				t.Errorf("%s: %v, want %v", st, k, want[st])
			}
		}
		if k := keys(got.Ended); !slices.Equal(k, tt.ended) {
			t.Errorf("ended since %s, %d at most: %v, want %v", tt.since, tt.limit, k, tt.ended)
		}
		if k := keys(got.Contradicted); !slices.Equal(k, []string{"A1"}) {
			t.Errorf("reported back since %s: %v, want [A1]", tt.since, k)
		}
	}
}
