package db_test

import (
	"context"
	"database/sql"
	"errors"
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

// A provider's cap on payouts to one recipient counts what the provider may
// have received in the window, whatever became of it since, and nothing it
// cannot have: payouts rejected before sending, failed before reaching it,
// or older than the window. A form already submitted still finds its payout.
func TestRecipientCap(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	store := db.NewPayouts(d)
	agent := newPayout(t, d).CreatedBy
	capOf := func(number string) db.RecipientCap {
		return db.RecipientCap{Recipient: number, Max: 3, Window: 24 * time.Hour}
	}
	create := func(key, number string) (db.Payout, bool, error) {
		return store.Create(ctx, db.NewPayout{
			Provider: "fedapay", Status: db.StatusQueued, AmountMinor: 2000, Currency: "XOF", IdempotencyKey: key,
			Reference: "PD-" + key, Fields: map[string]string{"phone_number": number}, BeneficiaryName: "Ama Koffi",
			BeneficiaryAccount: "•••• 8080", CreatedBy: agent, Cap: capOf(number),
		}, db.Event{Actor: db.Actor{Type: db.ActorUser, ID: "1"}, Action: "payout.created"})
	}
	ev := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.status_changed"}
	const number = "+22997808080"

	// Three payouts to the number: the first fails at FedaPay (it has an
	// id there, so it counts), the second is paid, the third is queued.
	var first, second db.Payout
	for i, key := range []string{"A", "B", "C"} {
		p, created, err := create(key, number)
		if err != nil || !created {
			t.Fatalf("payout %s: created %v, err %v", key, created, err)
		}
		switch i {
		case 0:
			first = p
			for _, c := range []db.Change{{To: db.StatusSubmitting}, {To: db.StatusFailed, ProviderID: "101"}} {
				if err := store.Change(ctx, p.ID, c, ev); err != nil {
					t.Fatal(err)
				}
			}
		case 1:
			second = p
			for _, c := range []db.Change{{To: db.StatusSubmitting}, {To: db.StatusPaid, ProviderID: "102"}} {
				if err := store.Change(ctx, p.ID, c, ev); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// A was sent an hour after it was made (approved late, say): it counts
	// from when it was sent, which makes B the oldest.
	sentAt := first.CreatedAt.Add(time.Hour)
	if err := d.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE payouts SET submitted_at = ? WHERE id = ?`, sentAt.UTC().Format(db.TimeLayout), first.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	_, _, err := create("D", number)
	capErr, ok := errors.AsType[*db.CapError](err)
	if !ok {
		t.Fatalf("4th payout to the number: err %v, want a CapError", err)
	}
	// There is room again when the oldest, B, leaves the window.
	if want := second.CreatedAt.Add(24 * time.Hour); capErr.Count != 3 || capErr.Max != 3 || !capErr.Next.Equal(want) {
		t.Errorf("cap error %d of %d next at %v, want 3 of 3 next at %v", capErr.Count, capErr.Max, capErr.Next, want)
	}
	if n := countPayouts(t, d); n != 4 { // newPayout's own, A, B, C
		t.Errorf("%d payouts stored after the refusal, want 4", n)
	}

	// Resubmitting a form that made its payout shows that payout.
	if p, created, err := create("B", number); err != nil || created || p.Reference != "PD-B" {
		t.Errorf("resubmitted form over the cap: %q created %v, err %v; want its payout", p.Reference, created, err)
	}
	// Another number is not affected.
	if _, created, err := create("E", "+22997000001"); err != nil || !created {
		t.Errorf("another number: created %v, err %v", created, err)
	}

	// A payout that never reached FedaPay frees its place: C is cancelled
	// before sending.
	c, err := store.ByKey(ctx, "C")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Change(ctx, c.ID, db.Change{To: db.StatusCancelled}, ev); err != nil {
		t.Fatal(err)
	}
	if _, created, err := create("F", number); err != nil || !created {
		t.Fatalf("after a cancelled unsent payout: created %v, err %v", created, err)
	}
	if _, _, err := create("G", number); !errors.As(err, &capErr) || capErr.Count != 3 {
		t.Fatalf("full again: err %v, want a CapError", err)
	}

	// A day later the first two leave the window.
	dayAgo := time.Now().Add(-24*time.Hour - time.Minute).UTC().Format(db.TimeLayout)
	if err := d.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE payouts SET created_at = ?, submitted_at = ? WHERE idempotency_key IN ('A', 'B')`, dayAgo, dayAgo)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, created, err := create("G", number); err != nil || !created {
		t.Errorf("after the window: created %v, err %v", created, err)
	}

	// Payouts still waiting to be sent count however old they are: they
	// will reach FedaPay. F and G, made two days ago, still queued, count.
	twoDaysAgo := time.Now().Add(-48 * time.Hour).UTC().Format(db.TimeLayout)
	if err := d.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE payouts SET created_at = ? WHERE idempotency_key IN ('F', 'G')`, twoDaysAgo)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, created, err := create("H", number); err != nil || !created {
		t.Fatalf("third in the window: created %v, err %v", created, err)
	}
	before := time.Now()
	_, _, err = create("I", number)
	if !errors.As(err, &capErr) || capErr.Count != 3 || capErr.Next.Before(before.Add(24*time.Hour)) {
		t.Errorf("with two old queued payouts: err %v, want a CapError with room again in a day", err)
	}

	// The number is stored only as a hash.
	var plain int
	if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM payouts WHERE recipient_key LIKE '%97808080%'`).Scan(&plain); err != nil || plain != 0 {
		t.Errorf("%d recipient keys hold the number (err %v)", plain, err)
	}
}

func countPayouts(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.R.QueryRow(`SELECT count(*) FROM payouts`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
