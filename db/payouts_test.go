package db_test

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
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
	// Whatever the provider holds it for, it is asked about: a webhook
	// lost while it waits for its customer must not leave it there.
	for _, s := range []db.Status{db.StatusAwaitingConfirmation, db.StatusUnknown, db.StatusAwaitingCustomer} {
		if err := store.Change(ctx, p.ID, db.Change{To: s, CheckAt: now}, ev); err != nil {
			t.Fatal(err)
		}
		if due, err := store.Due(ctx, now.Add(time.Minute), 10); err != nil || len(due) != 1 {
			t.Errorf("due while %s: %d payouts, %v; want it", s, len(due), err)
		}
	}
	if err := store.Change(ctx, p.ID, db.Change{To: db.StatusPaid}, ev); err != nil {
		t.Fatal(err)
	}
	if due, err := store.Due(ctx, now.Add(time.Minute), 10); err != nil || len(due) != 0 {
		t.Errorf("due once paid: %d payouts, %v; want none", len(due), err)
	}
}

// Leaving unknown, a payout drops the words that explained its unknown
// outcome, unless the change brings words of its own; staying unknown, it
// keeps them.
func TestLeavingUnknownClearsItsExplanation(t *testing.T) {
	tests := []struct {
		name                string
		to                  db.Status
		code, message       string
		wantCode, wantWords string
	}{
		{"still unknown", db.StatusUnknown, "", "", "", "No clear answer: a timeout."},
		{"reported processing", db.StatusProcessing, "", "", "", ""},
		{"reported paid", db.StatusPaid, "", "", "", ""},
		{"reported failed with its reason", db.StatusFailed, "INSUFFICIENT_FUNDS", "Not enough money.", "INSUFFICIENT_FUNDS", "Not enough money."},
		{"reported failed, a code only", db.StatusFailed, "E42", "", "E42", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDB(t)
			ctx := context.Background()
			store := db.NewPayouts(d)
			p := newPayout(t, d)
			ev := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.status_changed"}
			for _, ch := range []db.Change{
				{To: db.StatusSubmitting},
				{To: db.StatusUnknown, ErrorMessage: "No clear answer: a timeout."},
				{To: tt.to, RawStatus: "reported", ErrorCode: tt.code, ErrorMessage: tt.message, FromProvider: true},
			} {
				if err := store.Change(ctx, p.ID, ch, ev); err != nil {
					t.Fatal(err)
				}
			}
			got, err := store.Get(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.to || got.ErrorCode != tt.wantCode || got.ErrorMessage != tt.wantWords {
				t.Errorf("payout is %s with code %q and message %q; want %s, %q, %q", got.Status, got.ErrorCode, got.ErrorMessage, tt.to, tt.wantCode, tt.wantWords)
			}
		})
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
		if f.Name == "Only" || f.Name == "FromProvider" {
			continue // conditions on a change, which write nothing by themselves
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

// capFixture creates FedaPay payouts capped at 3 per number per 24 hours.
type capFixture struct {
	t     *testing.T
	d     *db.DB
	store *db.Payouts
	agent int64
}

func newCapFixture(t *testing.T) *capFixture {
	d := newTestDB(t)
	return &capFixture{t: t, d: d, store: db.NewPayouts(d), agent: newPayout(t, d).CreatedBy}
}

func (f *capFixture) create(key, number string, status db.Status) (db.Payout, bool, error) {
	return f.store.Create(context.Background(), db.NewPayout{
		Provider: "fedapay", Status: status, AmountMinor: 2000, Currency: "XOF", IdempotencyKey: key,
		Reference: "PD-" + key, Fields: map[string]string{"phone_number": number}, BeneficiaryName: "Ama Koffi",
		BeneficiaryAccount: "•••• 8080", CreatedBy: f.agent,
		Cap: db.RecipientCap{Recipient: number, Max: 3, Window: 24 * time.Hour},
	}, db.Event{Actor: db.Actor{Type: db.ActorUser, ID: "1"}, Action: "payout.created"})
}

// mustCreate creates a queued payout, which must be allowed.
func (f *capFixture) mustCreate(key, number string) db.Payout {
	f.t.Helper()
	p, created, err := f.create(key, number, db.StatusQueued)
	if err != nil || !created {
		f.t.Fatalf("payout %s: created %v, err %v", key, created, err)
	}
	return p
}

// refused checks that a payout to number is refused with count counted.
func (f *capFixture) refused(key, number string, count int) *db.CapError {
	f.t.Helper()
	_, _, err := f.create(key, number, db.StatusQueued)
	capErr, ok := errors.AsType[*db.CapError](err)
	if !ok || capErr.Count != count || capErr.Max != 3 {
		f.t.Fatalf("payout %s: err %v, want a CapError counting %d of 3", key, err, count)
	}
	return capErr
}

// send claims every queued payout, as the worker does before calling the
// provider, and applies changes to the one with the given key.
func (f *capFixture) send(key string, changes ...db.Change) {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.store.ClaimOutbox(ctx, time.Now(), 100, func(db.Payout) db.Event {
		return db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.submitting"}
	}); err != nil {
		f.t.Fatal(err)
	}
	f.change(key, changes...)
}

func (f *capFixture) change(key string, changes ...db.Change) {
	f.t.Helper()
	ctx := context.Background()
	p, err := f.store.ByKey(ctx, key)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, c := range changes {
		if err := f.store.Change(ctx, p.ID, c, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.status_changed"}); err != nil {
			f.t.Fatalf("%s → %s: %v", key, c.To, err)
		}
	}
}

// backdate moves the times the payouts with these keys were made and sent.
func (f *capFixture) backdate(ago time.Duration, keys ...string) {
	f.t.Helper()
	at := time.Now().Add(-ago).UTC().Format(db.TimeLayout)
	for _, k := range keys {
		if err := f.d.InTx(context.Background(), func(tx *sql.Tx) error {
			_, err := tx.Exec(`UPDATE payouts SET created_at = ?, submitted_at = CASE WHEN submitted_at IS NULL THEN NULL ELSE ? END
				WHERE idempotency_key = ?`, at, at, k)
			return err
		}); err != nil {
			f.t.Fatal(err)
		}
	}
}

const capNumber = "+22997808080"

// A provider's cap on payouts to one recipient counts what the provider has
// or may have received in the window, whatever became of it since, and
// nothing it cannot have; the number is not stored in the clear.
func TestRecipientCap(t *testing.T) {
	f := newCapFixture(t)
	// A fails at FedaPay (it has an id there), B is paid, C is queued.
	f.mustCreate("A", capNumber)
	f.send("A", db.Change{To: db.StatusProcessing, ProviderID: "101"}, db.Change{To: db.StatusFailed})
	f.mustCreate("B", capNumber)
	f.send("B", db.Change{To: db.StatusPaid, ProviderID: "102"})
	f.mustCreate("C", capNumber)
	f.refused("D", capNumber, 3)
	// Another number is not affected.
	f.mustCreate("E", "+22997000001")

	// Resubmitting a form that made its payout shows that payout.
	if p, created, err := f.create("B", capNumber, db.StatusQueued); err != nil || created || p.Reference != "PD-B" {
		t.Errorf("resubmitted form over the cap: %q created %v, err %v; want its payout", p.Reference, created, err)
	}
	// FedaPay refused C outright (no id, never with FedaPay): its place is free.
	f.send("C", db.Change{To: db.StatusFailed, ErrorCode: "validation"})
	f.mustCreate("F", capNumber)
	// C's form sent again once the others have filled the cap shows C,
	// not the cap.
	if p, created, err := f.create("C", capNumber, db.StatusQueued); err != nil || created || p.Reference != "PD-C" {
		t.Errorf("C's form resubmitted over the cap: %q created %v, err %v; want C", p.Reference, created, err)
	}

	var n int
	if err := f.d.R.QueryRow(`SELECT count(*) FROM payouts WHERE recipient_key LIKE '%97808080%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d recipient keys hold the number in the clear (err %v)", n, err)
	}
}

// A payout counts from when it was last sent, and leaves the window a day
// (and a margin) later; the error says when there is room again.
func TestRecipientCapWindow(t *testing.T) {
	f := newCapFixture(t)
	for _, k := range []string{"A", "B", "C"} {
		f.mustCreate(k, capNumber)
		f.send(k, db.Change{To: db.StatusProcessing, ProviderID: "1" + k})
	}
	// A was made two days ago but sent 23 hours ago (approved late, say);
	// B and C were sent 23h30 ago.
	f.backdate(23*time.Hour+30*time.Minute, "B", "C")
	f.backdate(23*time.Hour, "A")
	if err := f.d.InTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE payouts SET created_at = ? WHERE idempotency_key = 'A'`,
			time.Now().Add(-48*time.Hour).UTC().Format(db.TimeLayout))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	capErr := f.refused("D", capNumber, 3)
	// Room again when B leaves the window: 30 min from now, plus the margin.
	want := before.Add(30*time.Minute + db.CapMargin)
	if d := capErr.Next.Sub(want); d < -time.Second || d > time.Second {
		t.Errorf("next at %v, want about %v", capErr.Next, want)
	}
	// Past the window and its margin, B and C no longer count.
	f.backdate(24*time.Hour+db.CapMargin+time.Minute, "B", "C")
	f.mustCreate("D", capNumber)
}

// Payouts still to be sent count however old they are, as they will reach
// the provider: waiting for approval, queued, or queued again after an
// attempt that could not reach it.
func TestRecipientCapCountsPayoutsToBeSent(t *testing.T) {
	f := newCapFixture(t)
	if _, created, err := f.create("A", capNumber, db.StatusPendingApproval); err != nil || !created {
		t.Fatalf("A: created %v, err %v", created, err)
	}
	f.mustCreate("C", capNumber)
	f.send("C", db.Change{To: db.StatusQueued, Requeue: time.Now().Add(time.Hour)})
	f.mustCreate("B", capNumber)
	f.backdate(72*time.Hour, "A", "B", "C")
	before := time.Now()
	capErr := f.refused("D", capNumber, 3)
	if capErr.Next.Before(before.Add(24*time.Hour)) || capErr.Waiting != 3 {
		t.Errorf("next at %v, %d waiting; want a day from now at least, 3 waiting", capErr.Next, capErr.Waiting)
	}
	// Rejected before sending, A frees its place.
	f.change("A", db.Change{To: db.StatusRejected})
	f.mustCreate("D", capNumber)
}

// A payout whose outcome was unknown may have reached the provider, even
// without an id there: settled as failed by a manager, it still counts.
func TestRecipientCapCountsUnknownOutcomes(t *testing.T) {
	f := newCapFixture(t)
	f.mustCreate("A", capNumber)
	f.send("A", db.Change{To: db.StatusUnknown}, db.Change{To: db.StatusFailed})
	f.mustCreate("B", capNumber)
	f.mustCreate("C", capNumber)
	f.refused("D", capNumber, 3)
}

// The hashes of final payouts too old to count are erased; those that may
// still count, or are not final, are kept.
func TestForgetRecipients(t *testing.T) {
	f := newCapFixture(t)
	ctx := context.Background()
	f.mustCreate("OLD", capNumber)
	f.send("OLD", db.Change{To: db.StatusProcessing, ProviderID: "1"}, db.Change{To: db.StatusPaid})
	f.mustCreate("RECENT", capNumber)
	f.send("RECENT", db.Change{To: db.StatusProcessing, ProviderID: "2"}, db.Change{To: db.StatusPaid})
	f.mustCreate("STUCK", capNumber)
	f.send("STUCK", db.Change{To: db.StatusUnknown})
	f.backdate(48*time.Hour, "OLD", "STUCK")
	n, err := f.store.ForgetRecipients(ctx, time.Now().Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("forgot %d, err %v; want 1", n, err)
	}
	for key, want := range map[string]bool{"OLD": false, "RECENT": true, "STUCK": true} {
		var kept bool
		if err := f.d.R.QueryRow(`SELECT recipient_key != '' FROM payouts WHERE idempotency_key = ?`, key).Scan(&kept); err != nil {
			t.Fatal(err)
		}
		if kept != want {
			t.Errorf("%s: hash kept %v, want %v", key, kept, want)
		}
	}
}

// Submitted at once, payouts to one number are counted one after another:
// exactly three are made.
func TestRecipientCapConcurrent(t *testing.T) {
	f := newCapFixture(t)
	var made, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, created, err := f.create("P"+strconv.Itoa(i), capNumber, db.StatusQueued)
			switch _, isCap := errors.AsType[*db.CapError](err); {
			case created && err == nil:
				made.Add(1)
			case isCap:
				refused.Add(1)
			default:
				t.Errorf("payout %d: created %v, err %v", i, created, err)
			}
		})
	}
	wg.Wait()
	if made.Load() != 3 || refused.Load() != 17 {
		t.Errorf("%d made and %d refused, want 3 and 17", made.Load(), refused.Load())
	}
}

// A request already under way when its user is disabled changes no payout:
// the account is read again in the transaction that would write, so a
// disabled agent's form creates nothing and a disabled manager's decision
// lands nowhere. What a provider answered is still recorded, whoever asked.
func TestDisabledUserChangesNoPayout(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	store, users := db.NewPayouts(d), db.NewUsers(d)
	p := newPayout(t, d) // by agent@example.com, user 1
	system := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "user.created"}
	m, err := users.Create(ctx, "manager@example.com", db.RoleManager, "a long enough password", system)
	if err != nil {
		t.Fatal(err)
	}
	agent := db.Actor{Type: db.ActorUser, ID: "1", Role: db.RoleAgent}
	manager := db.Actor{Type: db.ActorUser, ID: strconv.FormatInt(m.ID, 10), Role: db.RoleManager}
	for _, u := range []int64{1, m.ID} {
		if err := users.Disable(ctx, u, db.Event{Actor: db.Actor{Type: db.ActorCLI, ID: "test"}, Action: "user.disabled"}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (n [3]int) {
		t.Helper()
		for i, q := range []string{`SELECT count(*) FROM payouts`, `SELECT count(*) FROM audit_events`, `SELECT count(*) FROM outbox`} {
			if err := d.R.QueryRowContext(ctx, q).Scan(&n[i]); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	before := count()

	_, created, err := store.Create(ctx, db.NewPayout{
		Provider: "monime", Status: db.StatusQueued, AmountMinor: 1000, Currency: "SLE", IdempotencyKey: "K2", Reference: "PD-K2",
		Fields: map[string]string{"amount": "10.00"}, BeneficiaryName: "x", BeneficiaryAccount: "•••• 3456", CreatedBy: 1,
	}, db.Event{Actor: agent, Action: "payout.created"})
	if !errors.Is(err, db.ErrActorDisabled) || created {
		t.Errorf("a disabled agent's payout: created %v, err %v; want ErrActorDisabled", created, err)
	}
	for name, ch := range map[string]db.Change{
		"a withdrawal":       {To: db.StatusCancelled, Only: []db.Status{db.StatusQueued}, Dequeue: true},
		"a recorded refusal": {Record: true},
	} {
		if err := store.Change(ctx, p.ID, ch, db.Event{Actor: manager, Action: "payout.test"}); !errors.Is(err, db.ErrActorDisabled) {
			t.Errorf("%s by a disabled manager: %v, want ErrActorDisabled", name, err)
		}
	}
	if after := count(); after != before {
		t.Errorf("payouts, audit events, outbox rows went from %v to %v: a disabled user's requests wrote", before, after)
	}
	if got, _ := store.Get(ctx, p.ID); got.Status != db.StatusQueued {
		t.Errorf("the payout is %s, want still queued", got.Status)
	}

	// The provider's answer to a "Refresh status" the agent asked for
	// before being disabled is kept, with its event.
	for _, to := range []db.Status{db.StatusSubmitting, db.StatusProcessing} {
		ch := db.Change{To: to, ProviderID: "prov-1", FromProvider: true}
		if err := store.Change(ctx, p.ID, ch, db.Event{Actor: agent, Action: "payout.status_changed"}); err != nil {
			t.Fatalf("the provider's answer, asked for by a disabled agent: %v", err)
		}
	}
	if got, _ := store.Get(ctx, p.ID); got.Status != db.StatusProcessing || got.ProviderID != "prov-1" {
		t.Errorf("after the provider's answer the payout is %s with id %q, want processing with prov-1", got.Status, got.ProviderID)
	}
}

// Overdue counts the payouts whose check is due, not those due later or
// with nothing to check, and says since when the oldest has waited.
func TestOverdueChecks(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	store := db.NewPayouts(d)
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	if n, since, err := store.Overdue(ctx, now); err != nil || n != 0 || !since.IsZero() {
		t.Fatalf("none due: %d since %v (%v), want 0 and no time", n, since, err)
	}
	p := newPayout(t, d)
	ev := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.status_changed"}
	if err := store.Change(ctx, p.ID, db.Change{To: db.StatusSubmitting}, ev); err != nil {
		t.Fatal(err)
	}
	if err := store.Change(ctx, p.ID, db.Change{To: db.StatusProcessing, CheckAt: now.Add(-3 * time.Minute)}, ev); err != nil {
		t.Fatal(err)
	}
	if n, since, err := store.Overdue(ctx, now); err != nil || n != 1 || !since.Equal(now.Add(-3*time.Minute)) {
		t.Errorf("one due 3 minutes ago: %d since %v (%v), want 1 since %v", n, since, err, now.Add(-3*time.Minute))
	}
	if n, _, err := store.Overdue(ctx, now.Add(-4*time.Minute)); err != nil || n != 0 {
		t.Errorf("before it fell due: %d (%v), want 0", n, err)
	}
}
