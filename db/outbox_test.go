package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"payoutdesk/db"
)

// The worker claims what is due: each claim counts an attempt (the retry
// delay grows with them), marks the payout as being sent since then, and a
// payout put back in the outbox for later waits until then.
func TestClaimOutboxCountsAttemptsAndWaitsForRequeues(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	store := db.NewPayouts(d)
	p := newPayout(t, d)
	claim := func(at time.Time) []db.Payout {
		t.Helper()
		out, err := store.ClaimOutbox(ctx, at, 10, func(db.Payout) db.Event {
			return db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.submitting"}
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// brief is what a claim says about a payout, for messages.
	brief := func(ps []db.Payout) string {
		var s string
		for _, p := range ps {
			s += fmt.Sprintf("[payout %d %s since %v, attempt %d]", p.ID, p.Status, p.SubmittedAt, p.SendAttempts)
		}
		return s
	}
	now := time.Now().Add(time.Second).UTC().Truncate(time.Microsecond)
	got := claim(now)
	if len(got) != 1 || got[0].ID != p.ID || got[0].Status != db.StatusSubmitting || got[0].SendAttempts != 1 || !got[0].SubmittedAt.Equal(now) {
		t.Fatalf("first claim = %s, want payout %d submitting since %v, attempt 1", brief(got), p.ID, now)
	}
	if again := claim(now); len(again) != 0 {
		t.Fatalf("a payout being sent was claimed again: %s", brief(again))
	}

	// The provider could not be reached: back in the outbox for a minute.
	later := now.Add(time.Minute)
	ev := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.send_retry"}
	if err := store.Change(ctx, p.ID, db.Change{To: db.StatusQueued, Requeue: later}, ev); err != nil {
		t.Fatal(err)
	}
	if early := claim(later.Add(-time.Second)); len(early) != 0 {
		t.Fatalf("a payout requeued until %v was claimed before: %s", later, brief(early))
	}
	got = claim(later)
	if len(got) != 1 || got[0].SendAttempts != 2 || !got[0].SubmittedAt.Equal(later) {
		t.Fatalf("second claim = %s, want the payout, attempt 2, submitting since %v", brief(got), later)
	}
}
