package db_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"payoutdesk/db"
)

// The dashboard's lists hold the user's own payouts in each status that
// waits on somebody, newest first, and nothing else.
func TestAttention(t *testing.T) {
	f := newCapFixture(t)
	ctx := context.Background()
	want := map[db.Status][]string{}
	for i, st := range []db.Status{db.StatusFailed, db.StatusPaid, db.StatusUnknown, db.StatusFailed,
		db.StatusAwaitingCustomer, db.StatusFailed, db.StatusProcessing, db.StatusCancelled} {
		key := "A" + strconv.Itoa(i)
		f.mustCreate(key, "+22990000"+strconv.Itoa(10+i))
		f.send(key, db.Change{To: st})
		if slices.Contains(db.AttentionStatuses, st) {
			want[st] = append([]string{key}, want[st]...)
		}
	}
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

	got, err := f.store.Attention(ctx, me, 2)
	if err != nil {
		t.Fatal(err)
	}
	// At most two of each: the newest two of the three failed.
	want[db.StatusFailed] = want[db.StatusFailed][:2]
	for _, st := range db.AttentionStatuses {
		var keys []string
		for _, p := range got[st] {
			keys = append(keys, p.IdempotencyKey)
		}
		if !slices.Equal(keys, want[st]) {
			t.Errorf("%s: %v, want %v", st, keys, want[st])
		}
	}
	if len(got) != len(db.AttentionStatuses) {
		t.Errorf("%d statuses listed, want %d", len(got), len(db.AttentionStatuses))
	}
}
