package db_test

import (
	"context"
	"database/sql"
	"testing"

	"payoutdesk/db"
)

// A delivery whose event id was seen before, from the same provider, is
// recorded as a duplicate and not acted on again; the same id from
// another provider is another event.
func TestWebhookDuplicatesRecordedNotApplied(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	store := db.NewWebhooks(d)
	applied := 0
	apply := func(*sql.Tx) error { applied++; return nil }
	ev := db.Event{Actor: db.Actor{Type: db.ActorProvider, ID: "fedapay"}, Action: "webhook.received"}
	for i, tt := range []struct {
		provider, id string
		duplicate    bool
	}{
		{"fedapay", "41", false},
		{"fedapay", "41", true},
		{"monime", "41", false},
		{"fedapay", "42", false},
	} {
		dup, err := store.Received(ctx, tt.provider, tt.id, ev, apply)
		if err != nil || dup != tt.duplicate {
			t.Errorf("delivery %d (%s %s): duplicate %v, %v; want %v", i+1, tt.provider, tt.id, dup, err, tt.duplicate)
		}
	}
	if applied != 3 {
		t.Errorf("applied %d times, want 3: once per event", applied)
	}
	evs, err := db.NewAudit(d).Search(ctx, db.AuditFilter{Action: "webhook.received"})
	if err != nil || len(evs) != 4 {
		t.Fatalf("%d webhook events audited (%v), want every delivery", len(evs), err)
	}
	dups := 0
	for _, e := range evs {
		if e.Details["duplicate"] == true {
			dups++
		}
	}
	if dups != 1 {
		t.Errorf("%d deliveries audited as duplicates, want 1", dups)
	}
}
