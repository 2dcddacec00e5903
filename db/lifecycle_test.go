package db

// An internal test, so that the lifecycle is checked against the real
// ChangeTx on a real database, with payouts put in each status by SQL.

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// lifecycleFixture is one database holding many payouts, each put straight
// into the status a case starts from.
type lifecycleFixture struct {
	t     *testing.T
	d     *DB
	store *Payouts
	user  int64
	n     int
}

func newLifecycleFixture(t *testing.T) *lifecycleFixture {
	t.Helper()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "lifecycle.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	u, err := NewUsers(d).Create(ctx, "agent@example.com", RoleAgent, "correct horse battery",
		Event{Actor: Actor{Type: ActorCLI}, Action: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	return &lifecycleFixture{t: t, d: d, store: NewPayouts(d), user: u.ID}
}

// longAgo dates what a seeded payout was last written: any write by the
// change under test, even within the same second, moves updated_at.
var longAgo = formatTime(time.Date(2000, 1, 2, 3, 4, 5, 0, time.UTC))

// payout creates a payout through the store, then sets its status, dates
// and check with SQL: the lifecycle is what is under test, so it is not
// used to get there. A check date is set so that a change that clears it
// shows, whatever the status.
func (f *lifecycleFixture) payout(status Status, confirmed bool) int64 {
	f.t.Helper()
	ctx := context.Background()
	f.n++
	key := "lc" + strconv.Itoa(f.n)
	p, _, err := f.store.Create(ctx, NewPayout{
		Provider: "monime", Status: StatusPendingApproval, AmountMinor: 1000, Currency: "SLE",
		IdempotencyKey: key, Reference: "ref-" + key, Fields: map[string]string{}, BeneficiaryName: "Ada",
		BeneficiaryAccount: "123", BeneficiaryCountry: "SL", CreatedBy: f.user,
	}, Event{Actor: Actor{Type: ActorSystem}, Action: "payout.created"})
	if err != nil {
		f.t.Fatal(err)
	}
	var confirmedAt any
	if confirmed {
		confirmedAt = longAgo
	}
	_, err = f.d.W.ExecContext(ctx, `UPDATE payouts SET status = ?, updated_at = ?, confirmed_at = ?, next_check_at = ?
		WHERE id = ?`, status, longAgo, confirmedAt, longAgo, p.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return p.ID
}

// payoutState is everything a change could write about a payout: its
// whole row, whether it is in the outbox, and its audit events.
type payoutState struct {
	row    map[string]any
	outbox bool
	events int
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (f *lifecycleFixture) state(q querier, id int64) payoutState {
	f.t.Helper()
	ctx := context.Background()
	rows, err := q.QueryContext(ctx, `SELECT * FROM payouts WHERE id = ?`, id)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		f.t.Fatal(err)
	}
	if !rows.Next() {
		f.t.Fatalf("payout %d not found (%v)", id, rows.Err())
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		f.t.Fatal(err)
	}
	rows.Close()
	s := payoutState{row: map[string]any{}}
	for i, c := range cols {
		s.row[c] = vals[i]
	}
	target := strconv.FormatInt(id, 10)
	if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE payout_id = ?),
		(SELECT count(*) FROM audit_events WHERE target_type = 'payout' AND target_id = ?)`, id, target).
		Scan(&s.outbox, &s.events); err != nil {
		f.t.Fatal(err)
	}
	return s
}

var lifecycleEvent = Event{Actor: Actor{Type: ActorSystem}, Action: "payout.status_changed"}

// TestChangeFollowsTheLifecycle tries every pair of statuses. ChangeTx must
// refuse each move CanTransition forbids with ErrIllegalTransition and
// write nothing, and make each move it allows, with its audit event. The
// changes run in one transaction that is committed whatever they return:
// a refused change that wrote before refusing would then show, where a
// rollback by Change would hide it.
func TestChangeFollowsTheLifecycle(t *testing.T) {
	f := newLifecycleFixture(t)
	ctx := context.Background()
	type pair struct {
		from, to Status
		id       int64
		before   payoutState
	}
	var pairs []*pair
	for _, from := range Statuses {
		for _, to := range Statuses {
			p := &pair{from: from, to: to, id: f.payout(from, false)}
			p.before = f.state(f.d.R, p.id)
			pairs = append(pairs, p)
		}
	}
	if len(pairs) != 144 {
		t.Fatalf("%d pairs, want 12×12: a status is missing from Statuses", len(pairs))
	}
	errs := make([]error, len(pairs))
	err := f.d.InTx(ctx, func(tx *sql.Tx) error {
		for i, p := range pairs {
			errs[i] = f.store.ChangeTx(ctx, tx, p.id, Change{To: p.to}, lifecycleEvent)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	legal := 0
	for i, p := range pairs {
		err, after := errs[i], f.state(f.d.R, p.id)
		switch {
		case p.from == p.to:
			// Not a transition: a late report of the status a payout is
			// already in is taken, and moves and records nothing.
			if err != nil {
				t.Errorf("%s → %s (unchanged): %v, want it accepted", p.from, p.to, err)
			}
			if after.row["status"] != string(p.from) || after.events != p.before.events {
				t.Errorf("%s → %s (unchanged): status %v, %d audit events (was %d); want no move and no event",
					p.from, p.to, after.row["status"], after.events, p.before.events)
			}
		case CanTransition(p.from, p.to):
			legal++
			if err != nil {
				t.Errorf("%s → %s is legal, got %v", p.from, p.to, err)
				continue
			}
			if after.row["status"] != string(p.to) || after.row["updated_at"] == longAgo || after.events != p.before.events+1 {
				t.Errorf("%s → %s: status %v, updated_at %v, %d audit events (was %d); want %s, a new updated_at and one event more",
					p.from, p.to, after.row["status"], after.row["updated_at"], after.events, p.before.events, p.to)
			}
		default:
			if !errors.Is(err, ErrIllegalTransition) {
				t.Errorf("%s → %s is illegal, got %v, want ErrIllegalTransition", p.from, p.to, err)
			}
			if diff := cmp.Diff(p.before, after, cmp.AllowUnexported(payoutState{})); diff != "" {
				t.Errorf("%s → %s was refused but wrote (-before +after):\n%s", p.from, p.to, diff)
			}
		}
	}
	// Every status but the final ones has somewhere to go: a table that
	// lost its entries would pass the loop above by refusing everything.
	if legal != 40 {
		t.Errorf("%d legal transitions, want 40 (the lifecycle table changed: update this count with it)", legal)
	}
}

// TestConfirmedPayoutNeverAwaitsConfirmationAgain: once the provider's
// confirm step was answered, a stale "waiting for confirmation" (a late
// webhook, a reconciliation that read an old status) must not send the
// payout back to wait for a confirmation that already happened. Each
// status that may move to awaiting_confirmation is tried, confirmed and
// not, through Change.
func TestConfirmedPayoutNeverAwaitsConfirmationAgain(t *testing.T) {
	f := newLifecycleFixture(t)
	ctx := context.Background()
	var froms []Status
	for _, from := range Statuses {
		if CanTransition(from, StatusAwaitingConfirmation) {
			froms = append(froms, from)
		}
	}
	if len(froms) == 0 {
		t.Fatal("no status may move to awaiting_confirmation: the test no longer shows anything")
	}
	for _, from := range froms {
		confirmed := f.payout(from, true)
		before := f.state(f.d.R, confirmed)
		err := f.store.Change(ctx, confirmed, Change{To: StatusAwaitingConfirmation}, lifecycleEvent)
		if !errors.Is(err, ErrIllegalTransition) {
			t.Errorf("confirmed %s → awaiting_confirmation: got %v, want ErrIllegalTransition", from, err)
		}
		if diff := cmp.Diff(before, f.state(f.d.R, confirmed), cmp.AllowUnexported(payoutState{})); diff != "" {
			t.Errorf("confirmed %s → awaiting_confirmation was refused but wrote (-before +after):\n%s", from, diff)
		}
		// The same move unconfirmed is taken: it is confirmed_at that
		// refuses above, not the lifecycle table.
		unconfirmed := f.payout(from, false)
		if err := f.store.Change(ctx, unconfirmed, Change{To: StatusAwaitingConfirmation}, lifecycleEvent); err != nil {
			t.Errorf("unconfirmed %s → awaiting_confirmation: %v, want it accepted", from, err)
		}
	}
}
