package db_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"payoutdesk/db"
)

// newPayout stores a queued payout created by a new agent.
func newPayout(t *testing.T, d *db.DB) db.Payout {
	t.Helper()
	ctx := context.Background()
	u, err := db.NewUsers(d).Create(ctx, "agent@example.com", db.RoleAgent, "a long enough password", db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := db.NewPayouts(d).Create(ctx, db.NewPayout{
		Provider: "monime", Status: db.StatusQueued, AmountMinor: 1000, Currency: "SLE", IdempotencyKey: "K1", Reference: "PD-K1",
		Fields: map[string]string{"amount": "10.00"}, BeneficiaryName: "x", BeneficiaryAccount: "•••• 3456", CreatedBy: u.ID,
	}, db.Event{Actor: db.Actor{Type: db.ActorUser, ID: "1"}, Action: "payout.created"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A final payout keeps the time it finished, whatever is recorded on it
// afterwards (a late webhook's raw status, an exchange).
func TestFinishedAtIsSetOnce(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	store := db.NewPayouts(d)
	p := newPayout(t, d)
	ev := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.status_changed"}
	for _, to := range []db.Status{db.StatusSubmitting, db.StatusProcessing, db.StatusPaid} {
		if err := store.Change(ctx, p.ID, db.Change{To: to}, ev); err != nil {
			t.Fatal(err)
		}
	}
	paid, err := store.Get(ctx, p.ID)
	if err != nil || paid.FinishedAt.IsZero() {
		t.Fatalf("paid payout: finished at %v, err %v", paid.FinishedAt, err)
	}
	time.Sleep(5 * time.Millisecond)
	if err := store.Change(ctx, p.ID, db.Change{RawStatus: "SUCCESSFUL (late)", To: db.StatusPaid}, db.Event{}); err != nil {
		t.Fatal(err)
	}
	later, err := store.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !later.FinishedAt.Equal(paid.FinishedAt) || later.RawStatus != "SUCCESSFUL (late)" {
		t.Errorf("after a later change: finished at %v (was %v), raw status %q", later.FinishedAt, paid.FinishedAt, later.RawStatus)
	}
}

// Only a payout the provider holds is checked with it: a check date asked
// for while the payout is still being sent (a webhook's lookup that could
// not answer) is not kept, or it would be due forever.
func TestCheckDateOnlyWhileInFlight(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	store := db.NewPayouts(d)
	p := newPayout(t, d)
	ev := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.status_changed"}
	if err := store.Change(ctx, p.ID, db.Change{To: db.StatusSubmitting}, ev); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := store.Change(ctx, p.ID, db.Change{CheckAt: now}, db.Event{}); err != nil {
		t.Fatal(err)
	}
	if due, err := store.Due(ctx, now.Add(time.Minute), 10); err != nil || len(due) != 0 {
		t.Fatalf("due while submitting: %d payouts, %v; want none", len(due), err)
	}
	if err := store.Change(ctx, p.ID, db.Change{To: db.StatusProcessing, CheckAt: now}, ev); err != nil {
		t.Fatal(err)
	}
	if due, err := store.Due(ctx, now.Add(time.Minute), 10); err != nil || len(due) != 1 {
		t.Fatalf("due while processing: %d payouts, %v; want it", len(due), err)
	}
}

// IsZero must know every field of Change: one set field, whichever, is a
// change to write.
func TestChangeIsZeroSeesEveryField(t *testing.T) {
	if !(db.Change{}).IsZero() || !(db.Change{Only: []db.Status{db.StatusQueued}}).IsZero() {
		t.Fatal("an empty change is not zero")
	}
	typ := reflect.TypeOf(db.Change{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "Only" {
			continue
		}
		var c db.Change
		v := reflect.ValueOf(&c).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int64:
			v.SetInt(1)
		case reflect.Map:
			v.Set(reflect.MakeMapWithSize(v.Type(), 1))
			v.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v"))
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		case reflect.Struct: // time.Time
			v.Set(reflect.ValueOf(time.Now()))
		default:
			t.Fatalf("field %s of kind %s: teach this test to set it", f.Name, v.Kind())
		}
		if c.IsZero() {
			t.Errorf("a change with only %s set reports IsZero", f.Name)
		}
	}
}
