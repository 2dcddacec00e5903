package db

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestChangeOnlyHoldsOnTheCurrentStatus: a change conditioned on the
// payout's status (a withdrawal while it waits for approval, a confirm
// while it waits for confirmation) is refused with ErrIllegalTransition,
// and writes nothing, once the payout has moved on, even where the move
// itself would be legal from where it is now: a withdrawal racing an
// approval must not cancel a queued payout. With the current status among
// Only, the same change is taken.
func TestChangeOnlyHoldsOnTheCurrentStatus(t *testing.T) {
	f := newLifecycleFixture(t)
	ctx := context.Background()
	elsewhere := func(from Status) []Status {
		var out []Status
		for _, s := range Statuses {
			if s != from {
				out = append(out, s)
			}
		}
		return out
	}
	tried := 0
	for _, from := range Statuses {
		changes := []Change{{Record: true, ErrorMessage: "noted"}}
		for _, to := range Statuses {
			if CanTransition(from, to) {
				changes = append(changes, Change{To: to})
			}
		}
		for _, ch := range changes {
			refused := f.payout(from, false)
			before := f.state(f.d.R, refused)
			ch.Only = elsewhere(from)
			err := f.store.Change(ctx, refused, ch, lifecycleEvent)
			if !errors.Is(err, ErrIllegalTransition) {
				t.Errorf("%s, Only %v, → %q: got %v, want ErrIllegalTransition", from, ch.Only, ch.To, err)
			}
			if diff := cmp.Diff(before, f.state(f.d.R, refused), cmp.AllowUnexported(payoutState{})); diff != "" {
				t.Errorf("%s → %q outside Only was refused but wrote (-before +after):\n%s", from, ch.To, diff)
			}
			taken := f.payout(from, false)
			ch.Only = []Status{from}
			if err := f.store.Change(ctx, taken, ch, lifecycleEvent); err != nil {
				t.Errorf("%s, Only %v, → %q: %v, want it taken", from, ch.Only, ch.To, err)
			}
			tried++
		}
	}
	if tried != 40+len(Statuses) {
		t.Errorf("%d changes tried, want %d: the lifecycle table changed", tried, 40+len(Statuses))
	}
}

// TestStatusChangeNeedsAnAuditEvent: every status change is on the audit
// log. A change that moves the payout without an event to record is
// refused and writes nothing, whichever move it is.
func TestStatusChangeNeedsAnAuditEvent(t *testing.T) {
	f := newLifecycleFixture(t)
	ctx := context.Background()
	for _, from := range Statuses {
		for _, to := range Statuses {
			if from == to || !CanTransition(from, to) {
				continue
			}
			id := f.payout(from, false)
			before := f.state(f.d.R, id)
			if err := f.store.Change(ctx, id, Change{To: to}, Event{Actor: Actor{Type: ActorSystem}}); err == nil {
				t.Errorf("%s → %s without an audit event was accepted", from, to)
			}
			if diff := cmp.Diff(before, f.state(f.d.R, id), cmp.AllowUnexported(payoutState{})); diff != "" {
				t.Errorf("%s → %s without an audit event wrote (-before +after):\n%s", from, to, diff)
			}
		}
	}
}

// TestChangeWithoutMoveRecordsOnlyWhenAsked: a change that moves nothing
// appends its event only with Record (a refused decision, a confirm about
// to be sent), and keeps the provider exchanges and the confirm it carries
// either way.
func TestChangeWithoutMoveRecordsOnlyWhenAsked(t *testing.T) {
	f := newLifecycleFixture(t)
	ctx := context.Background()
	x := Exchange{At: time.Now(), Op: "confirm", Method: "POST", URL: "https://provider.example/confirm", Status: 200}
	for _, record := range []bool{false, true} {
		id := f.payout(StatusAwaitingConfirmation, false)
		before := f.state(f.d.R, id)
		ch := Change{Exchanges: []Exchange{x}, Confirmed: true, Record: record}
		if err := f.store.Change(ctx, id, ch, lifecycleEvent); err != nil {
			t.Fatalf("Record %v: %v", record, err)
		}
		after := f.state(f.d.R, id)
		want := before.events
		if record {
			want++
		}
		if after.events != want || after.row["status"] != string(StatusAwaitingConfirmation) {
			t.Errorf("Record %v: %d audit events (was %d), status %v; want %d, unchanged", record, after.events, before.events, after.row["status"], want)
		}
		if after.row["confirmed_at"] == nil || after.row["confirmed_at"] == longAgo {
			t.Errorf("Record %v: confirmed_at %v, want the time of the change", record, after.row["confirmed_at"])
		}
		xs, err := f.store.Exchanges(ctx, id)
		if err != nil || len(xs) != 1 || xs[0].Op != "confirm" || xs[0].URL != x.URL {
			t.Errorf("Record %v: exchanges %+v, %v; want the confirm", record, xs, err)
		}
	}
}

// TestFinalStatusLeavesTheOutbox: a queued payout that ends (cancelled,
// say) is no longer waiting to be sent.
func TestFinalStatusLeavesTheOutbox(t *testing.T) {
	f := newLifecycleFixture(t)
	ctx := context.Background()
	p, _, err := f.store.Create(ctx, NewPayout{
		Provider: "monime", Status: StatusQueued, AmountMinor: 1000, Currency: "SLE", IdempotencyKey: "queued",
		Reference: "ref-queued", Fields: map[string]string{}, BeneficiaryName: "Ada", BeneficiaryAccount: "123",
		BeneficiaryCountry: "SL", CreatedBy: f.user,
	}, Event{Actor: Actor{Type: ActorSystem}, Action: "payout.created"})
	if err != nil {
		t.Fatal(err)
	}
	if !f.state(f.d.R, p.ID).outbox {
		t.Fatal("a queued payout is not in the outbox")
	}
	if err := f.store.Change(ctx, p.ID, Change{To: StatusCancelled}, lifecycleEvent); err != nil {
		t.Fatal(err)
	}
	if f.state(f.d.R, p.ID).outbox {
		t.Error("a cancelled payout is still in the outbox")
	}
}

// TestStatusChangeEventCarriesTheProvidersWords: the audit event of a
// status change says what came with it (the provider's id, status word,
// error code and message, the payout option), as it was written on the
// payout, so that the log alone tells why a payout ended as it did.
func TestStatusChangeEventCarriesTheProvidersWords(t *testing.T) {
	f := newLifecycleFixture(t)
	ctx := context.Background()
	id := f.payout(StatusProcessing, false)
	ch := Change{To: StatusFailed, ProviderID: "po_1", RawStatus: "DECLINED", ErrorCode: "insufficient_funds",
		ErrorMessage: "The wallet cannot receive this amount.", PayoutOption: "mtn"}
	if err := f.store.Change(ctx, id, ch, lifecycleEvent); err != nil {
		t.Fatal(err)
	}
	evs, err := NewAudit(f.d).ByTarget(ctx, "payout", strconv.FormatInt(id, 10))
	if err != nil || len(evs) == 0 {
		t.Fatalf("events of the payout: %d, %v", len(evs), err)
	}
	after, _ := evs[len(evs)-1].Details["after"].(map[string]any)
	want := map[string]any{"status": "failed", "provider_id": "po_1", "raw_status": "DECLINED", "error_code": "insufficient_funds",
		"error_message": "The wallet cannot receive this amount.", "payout_option": "mtn"}
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("the event's after (-want +got):\n%s", diff)
	}
}
