package db_test

import (
	"context"
	"fmt"
	"strings"
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

// A payout created claimed (its first attempt started in the creating
// transaction) is stored as one claimed from the outbox would be, with the
// same two events, in one write transaction instead of two.
func TestCreateClaimedIsAsIfClaimedFromTheOutbox(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	store := db.NewPayouts(d)
	agent := newPayout(t, d).CreatedBy
	at := time.Now().Add(time.Second).UTC().Truncate(time.Microsecond)
	submitting := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.submitting"}
	np := func(key string) db.NewPayout {
		return db.NewPayout{Provider: "monime", Status: db.StatusQueued, AmountMinor: 1000, Currency: "SLE",
			IdempotencyKey: key, Reference: "PD-" + key, Fields: map[string]string{"amount": "10.00"},
			BeneficiaryName: "x", BeneficiaryAccount: "•••• 3456", CreatedBy: agent}
	}
	created := db.Event{Actor: db.Actor{Type: db.ActorUser, ID: "1"}, Action: "payout.created"}
	// newPayout's own, out of the way.
	if _, err := store.ClaimOutbox(ctx, at, 10, func(db.Payout) db.Event { return submitting }); err != nil {
		t.Fatal(err)
	}

	// The long way: created queued, then claimed.
	before := d.Stats().Transactions
	queued, _, err := store.Create(ctx, np("K2"), created)
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := store.ClaimOutbox(ctx, at, 10, func(db.Payout) db.Event { return submitting })
	if err != nil || len(claimed) != 1 || claimed[0].ID != queued.ID {
		t.Fatalf("claim = %v, %v; want payout %d", claimed, err, queued.ID)
	}
	long := d.Stats().Transactions - before

	before = d.Stats().Transactions
	withClaim := np("K3")
	withClaim.Claim = &db.Claim{At: at, Event: submitting}
	p, ok, err := store.Create(ctx, withClaim, created)
	if err != nil || !ok {
		t.Fatalf("create claimed: %v, %v", ok, err)
	}
	if short := d.Stats().Transactions - before; short != 1 || long != 2 {
		t.Errorf("write transactions: %d created claimed, %d created then claimed; want 1 and 2", short, long)
	}
	stored, err := store.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []db.Payout{p, stored} {
		if got.Status != db.StatusSubmitting || got.SendAttempts != 1 || !got.SubmittedAt.Equal(at) {
			t.Errorf("created claimed: %s since %v, attempt %d; want submitting since %v, attempt 1",
				got.Status, got.SubmittedAt, got.SendAttempts, at)
		}
		want := claimed[0]
		if got.Status != want.Status || got.SendAttempts != want.SendAttempts || !got.SubmittedAt.Equal(want.SubmittedAt) {
			t.Errorf("created claimed: %s, attempt %d, since %v; claimed from the outbox: %s, attempt %d, since %v",
				got.Status, got.SendAttempts, got.SubmittedAt, want.Status, want.SendAttempts, want.SubmittedAt)
		}
	}
	if again, err := store.ClaimOutbox(ctx, at, 10, func(db.Payout) db.Event { return submitting }); err != nil || len(again) != 0 {
		t.Errorf("a payout created claimed was claimed again from the outbox: %v, %v", again, err)
	}

	trail := func(id int64) string {
		t.Helper()
		evs, err := db.NewAudit(d).Search(ctx, db.AuditFilter{PayoutID: id})
		if err != nil {
			t.Fatal(err)
		}
		var s string
		for i := len(evs) - 1; i >= 0; i-- {
			s += evs[i].Action + " " + evs[i].DetailsJSON[strings.Index(evs[i].DetailsJSON, `"status"`):] + "\n"
		}
		return s
	}
	if short, long := trail(p.ID), trail(queued.ID); short != long || !strings.Contains(short, "payout.submitting") {
		t.Errorf("created claimed, the trail is\n%s\ncreated then claimed, it is\n%s", short, long)
	}

	// Sent back to the outbox, it is claimed as any other: attempt 2.
	later := at.Add(time.Minute)
	if err := store.Change(ctx, p.ID, db.Change{To: db.StatusQueued, Requeue: later},
		db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.send_retry"}); err != nil {
		t.Fatal(err)
	}
	got, err := store.ClaimOutbox(ctx, later, 10, func(db.Payout) db.Event { return submitting })
	if err != nil || len(got) != 1 || got[0].ID != p.ID || got[0].SendAttempts != 2 {
		t.Errorf("claim after a requeue = %v, %v; want payout %d, attempt 2", got, err, p.ID)
	}
}
