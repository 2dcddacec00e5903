package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// steeredRail is a provider whose calls the test steers, to put a
// manager's decision exactly inside a call: the one thing the sandbox's
// timing cannot place.
type steeredRail struct {
	caps     providers.Capabilities
	submit   func(p providers.Payout) (providers.Result, error)
	lookup   func() (providers.Result, error)
	confirm  func() (providers.Result, error)
	confirms atomic.Int32
	// submitsLow counts the creates sent with a low-priority context.
	submitsLow atomic.Int32
}

func (r *steeredRail) Name() providers.Name                     { return providers.FedaPay }
func (r *steeredRail) Capabilities() providers.Capabilities     { return r.caps }
func (r *steeredRail) Form() providers.FormSpec                 { return providers.FormSpec{} }
func (r *steeredRail) Check(providers.Payout) map[string]string { return nil }
func (r *steeredRail) Beneficiary(providers.Payout) providers.Beneficiary {
	return providers.Beneficiary{}
}
func (r *steeredRail) Webhook(http.Header, []byte, time.Time) (providers.Update, error) {
	return providers.Update{}, providers.ErrUnsupported
}
func (r *steeredRail) Submit(ctx context.Context, p providers.Payout, _ providers.Ref) (providers.Result, error) {
	if db.IsLowPriority(ctx) {
		r.submitsLow.Add(1)
	}
	return r.submit(p)
}
func (r *steeredRail) Lookup(context.Context, providers.Ref) (providers.Result, error) {
	return r.lookup()
}
func (r *steeredRail) Confirm(context.Context, providers.Ref) (providers.Result, error) {
	r.confirms.Add(1)
	return r.confirm()
}
func (r *steeredRail) Cancel(context.Context, providers.Ref) (providers.Result, error) {
	return providers.Result{}, providers.ErrUnsupported
}

// unknownPayout makes a payout being sent unknown, due for a check.
func unknownPayout(t *testing.T, d *db.DB, p db.Payout) db.Payout {
	t.Helper()
	store := db.NewPayouts(d)
	if _, err := d.W.Exec(`UPDATE payouts SET submitted_at = ? WHERE id = ?`, time.Now().UTC().Format(db.TimeLayout), p.ID); err != nil {
		t.Fatal(err)
	}
	if err := store.Change(t.Context(), p.ID, db.Change{To: db.StatusUnknown, Dequeue: true, CheckAt: time.Now().Add(-time.Second)},
		systemEvent("payout.outcome_unknown")); err != nil {
		t.Fatal(err)
	}
	p, err := store.Get(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// submittedPayout moves a payout being sent to status, with the
// provider's id, as the provider's answer would, and returns it.
func submittedPayout(t *testing.T, d *db.DB, p db.Payout, status db.Status, providerID string) db.Payout {
	t.Helper()
	store := db.NewPayouts(d)
	if err := store.Change(t.Context(), p.ID, db.Change{To: status, ProviderID: providerID}, systemEvent("payout.submitted")); err != nil {
		t.Fatal(err)
	}
	p, err := store.Get(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// settlingManager returns the manager who settles payouts by hand, as an
// audit actor: an active account, as a change by a person requires.
func settlingManager(t *testing.T, d *db.DB) db.Actor {
	users := db.NewUsers(d)
	u, err := users.ByEmail(context.Background(), "manager@example.com")
	if errors.Is(err, db.ErrNotFound) {
		u, err = users.Create(context.Background(), "manager@example.com", db.RoleManager, "a long enough password",
			db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "user.created"})
	}
	if err != nil {
		t.Fatal(err)
	}
	return db.Actor{Type: db.ActorUser, ID: strconv.FormatInt(u.ID, 10), Email: u.Email, Role: u.Role}
}

// settleFailed is a manager settling an unknown payout as failed.
func settleFailed(t *testing.T, d *db.DB, id int64) {
	ev := db.Event{Actor: settlingManager(t, d), Action: "payout.resolved", Reason: "the provider's support found nothing"}
	if err := db.NewPayouts(d).Change(context.Background(), id, settled(db.StatusFailed, ev.Reason), ev); err != nil {
		t.Error(err)
	}
}

func actionsOf(t *testing.T, d *db.DB, id int64) []string {
	t.Helper()
	events, err := db.NewAudit(d).ByTarget(t.Context(), "payout", strconv.FormatInt(id, 10))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.Action)
	}
	return out
}

// A batch of due payouts is checked a few at a time. One a manager settles
// as failed while it waits its turn is not replayed when its turn comes.
func TestReconcileSkipsAPayoutSettledWhileWaiting(t *testing.T) {
	f, d, sending := flowOnDB(t)
	store := db.NewPayouts(d)
	f.Parallel, f.SendTimeout = 1, 5*time.Second
	a, b := unknownPayout(t, d, sending()), unknownPayout(t, d, sending())
	inA, releaseA := make(chan struct{}), make(chan struct{})
	var bSent atomic.Int32
	rail := &steeredRail{caps: providers.Capabilities{IdempotencyHeader: true, StatusLookup: true}}
	rail.submit = func(p providers.Payout) (providers.Result, error) {
		if p.IdempotencyKey == a.IdempotencyKey {
			close(inA)
			<-releaseA
		} else {
			bSent.Add(1)
		}
		return providers.Result{Status: providers.StatusProcessing, ProviderID: "prov-" + p.IdempotencyKey, RawStatus: "pending"}, nil
	}
	f.Rails.Add(rail, providers.ModeLive)
	var wg sync.WaitGroup
	wg.Go(func() { f.ReconcileDue(context.Background()) })
	<-inA
	settleFailed(t, d, b.ID)
	close(releaseA)
	wg.Wait()
	if n := bSent.Load(); n != 0 {
		t.Errorf("payout B was sent %d times after a manager settled it as failed", n)
	}
	got, _ := store.Get(t.Context(), b.ID)
	if got.Status != db.StatusFailed || got.ProviderID != "" || got.ErrorCode != db.SettledFailedByHand {
		t.Errorf("B is %s, provider id %q, code %q; want failed as settled (%s), untouched", got.Status, got.ProviderID, got.ErrorCode, db.SettledFailedByHand)
	}
}

// A manager settles an unknown payout as failed while its replayed create
// is at the provider, which answers that it holds the payout: the payout
// stays failed (final) but is marked as maybe paid, audited, so that it is
// not created again.
func TestReplayAnsweredAfterSettlingIsContradiction(t *testing.T) {
	f, d, sending := flowOnDB(t)
	store := db.NewPayouts(d)
	f.SendTimeout = 5 * time.Second
	p := unknownPayout(t, d, sending())
	rail := &steeredRail{caps: providers.Capabilities{IdempotencyHeader: true, StatusLookup: true}}
	rail.submit = func(providers.Payout) (providers.Result, error) {
		settleFailed(t, d, p.ID) // the manager's click lands during the call
		return providers.Result{Status: providers.StatusProcessing, ProviderID: "prov-1", RawStatus: "pending"}, nil
	}
	f.Rails.Add(rail, providers.ModeLive)
	f.Reconcile(t.Context(), p, systemEvent("payout.status_changed"))
	got, _ := store.Get(t.Context(), p.ID)
	if got.Status != db.StatusFailed || got.ErrorCode != db.PaidAfterEnd || got.EndedUnpaid() || got.ProviderID != "prov-1" {
		t.Errorf("after the late answer the payout is %s, code %q, ended unpaid %v, provider id %q; want failed, %s, not ended unpaid, prov-1",
			got.Status, got.ErrorCode, got.EndedUnpaid(), got.ProviderID, db.PaidAfterEnd)
	}
	if acts := actionsOf(t, d, p.ID); !slices.Contains(acts, "payout.contradicted") {
		t.Errorf("the payout's events %v have no payout.contradicted", acts)
	}
}

// A webhook whose hint is checked by a lookup is applied to the payout as
// it is when recorded: "paid" after a manager settled the payout as
// failed during the lookup is a contradiction, not a stale word.
func TestHintLookupAfterSettlingIsContradiction(t *testing.T) {
	f, d, sending := flowOnDB(t)
	store := db.NewPayouts(d)
	f.Webhooks, f.SendTimeout = db.NewWebhooks(d), 5*time.Second
	p := unknownPayout(t, d, sending())
	if err := store.Change(t.Context(), p.ID, db.Change{ProviderID: "prov-1"}, db.Event{}); err != nil {
		t.Fatal(err)
	}
	rail := &steeredRail{caps: providers.Capabilities{StatusLookup: true}}
	rail.lookup = func() (providers.Result, error) {
		settleFailed(t, d, p.ID)
		return providers.Result{Status: providers.StatusPaid, RawStatus: "sent", ProviderID: "prov-1", Reference: p.Reference}, nil
	}
	f.Rails.Add(rail, providers.ModeLive)
	u := providers.Update{EventID: "evt-1", Reference: p.Reference, ProviderID: "prov-1", Status: providers.StatusPaid, RawStatus: "sent", HintOnly: true}
	ev := db.Event{Actor: db.Actor{Type: db.ActorProvider, ID: "fedapay"}, Action: "webhook.received"}
	if err := f.ApplyWebhook(t.Context(), providers.FedaPay, u, ev); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Get(t.Context(), p.ID)
	if got.Status != db.StatusFailed || got.ErrorCode != db.PaidAfterEnd {
		t.Errorf("the payout is %s with code %q, want failed and %s", got.Status, got.ErrorCode, db.PaidAfterEnd)
	}
	if acts := actionsOf(t, d, p.ID); !slices.Contains(acts, "payout.contradicted") {
		t.Errorf("the payout's events %v have no payout.contradicted", acts)
	}
}

// Smart Glocal's confirm releases the money: it is on record before it is
// sent, and a confirm whose answer is lost says so in the audit log.
func TestConfirmIsAuditedBeforeItIsSent(t *testing.T) {
	f, d, sending := flowOnDB(t)
	f.SendTimeout = 5 * time.Second
	p := submittedPayout(t, d, sending(), db.StatusAwaitingConfirmation, "sess-1")
	rail := &steeredRail{caps: providers.Capabilities{ConfirmStep: true, StatusLookup: true}}
	rail.lookup = func() (providers.Result, error) {
		return providers.Result{Status: providers.StatusAwaitingConfirmation, RawStatus: "ready_to_confirm", ProviderID: "sess-1",
			Amount: &providers.Money{Minor: 2000, Currency: "XOF"}, Beneficiary: providers.Beneficiary{Name: "x", AccountMasked: "•••• 8080"}}, nil
	}
	var before []string
	rail.confirm = func() (providers.Result, error) {
		before = actionsOf(t, d, p.ID)
		return providers.Result{}, &providers.Error{Provider: providers.SmartGlocal, Op: "confirm", Outcome: providers.OutcomeUnknown, Err: context.DeadlineExceeded}
	}
	f.Rails.Add(rail, providers.ModeLive)
	f.Reconcile(t.Context(), p, systemEvent("payout.status_changed"))
	if rail.confirms.Load() != 1 {
		t.Fatalf("%d confirms sent, want 1", rail.confirms.Load())
	}
	if !slices.Contains(before, "payout.confirming") {
		t.Errorf("when the confirm was sent the payout's events were %v, with no payout.confirming", before)
	}
	if acts := actionsOf(t, d, p.ID); !slices.Contains(acts, "payout.confirm_unanswered") {
		t.Errorf("after the lost answer the payout's events are %v, with no payout.confirm_unanswered", acts)
	}
}

// Stopping waits for a check a person asked for ("Refresh status") to
// record what the provider answered, as it waits for the worker's sends.
func TestWaitAwaitsARefreshUnderWay(t *testing.T) {
	f, d, sending := flowOnDB(t)
	store := db.NewPayouts(d)
	f.SendTimeout = 5 * time.Second
	p := submittedPayout(t, d, sending(), db.StatusProcessing, "prov-1")
	asked, answer := make(chan struct{}), make(chan struct{})
	rail := &steeredRail{caps: providers.Capabilities{StatusLookup: true}}
	rail.lookup = func() (providers.Result, error) {
		close(asked)
		<-answer
		return providers.Result{Status: providers.StatusPaid, RawStatus: "sent", ProviderID: "prov-1"}, nil
	}
	f.Rails.Add(rail, providers.ModeLive)
	ctx, leave := context.WithCancel(t.Context())
	go f.ReconcileNow(ctx, p, systemEvent("payout.status_changed"))
	<-asked
	leave() // the person closes the tab
	stopped := make(chan struct{})
	go func() { f.Wait(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Wait returned while the check was under way")
	case <-time.After(50 * time.Millisecond):
	}
	close(answer)
	<-stopped
	if got, _ := store.Get(t.Context(), p.ID); got.Status != db.StatusPaid {
		t.Errorf("after Wait the payout is %s, want paid as the provider answered", got.Status)
	}
}

// Two checks of one payout at once (the worker's and a person's "Refresh
// status") make one provider call: a second replay or resume is not sent.
func TestOneCheckOfAPayoutAtATime(t *testing.T) {
	f, d, sending := flowOnDB(t)
	f.SendTimeout = 5 * time.Second
	p := unknownPayout(t, d, sending())
	inCall, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	rail := &steeredRail{caps: providers.Capabilities{IdempotencyHeader: true, StatusLookup: true}}
	rail.submit = func(providers.Payout) (providers.Result, error) {
		if calls.Add(1) == 1 {
			close(inCall)
			<-release
		}
		return providers.Result{Status: providers.StatusProcessing, ProviderID: "prov-1", RawStatus: "pending"}, nil
	}
	f.Rails.Add(rail, providers.ModeLive)
	var wg sync.WaitGroup
	wg.Go(func() { f.Reconcile(t.Context(), p, systemEvent("payout.status_changed")) })
	<-inCall
	if f.Reconcile(t.Context(), p, systemEvent("payout.status_changed")) {
		t.Error("a second check of a payout under way says it ran")
	}
	// The worker finds it due, but it is not checked: reported as checked,
	// the worker would run again at once, over and over, until the first
	// check ends.
	if n, err := f.ReconcileDue(t.Context()); n != 0 || err != nil {
		t.Errorf("ReconcileDue while the only due payout is being checked: %d checked, %v; want 0", n, err)
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d provider calls for two simultaneous checks, want 1", n)
	}
	// Once done, the payout can be checked again.
	var looked atomic.Int32
	rail.lookup = func() (providers.Result, error) {
		looked.Add(1)
		return providers.Result{Status: providers.StatusProcessing, ProviderID: "prov-1", RawStatus: "pending"}, nil
	}
	f.Reconcile(t.Context(), p, systemEvent("payout.status_changed"))
	if looked.Load() != 1 {
		t.Errorf("a later check made %d lookups, want 1", looked.Load())
	}
}

// settlePaid is a manager settling an unknown payout as paid, as Resolve
// records it.
func settlePaid(t *testing.T, d *db.DB, id int64) {
	ev := db.Event{Actor: settlingManager(t, d), Action: "payout.resolved", Reason: "the provider's support says it was paid"}
	if err := db.NewPayouts(d).Change(context.Background(), id, settled(db.StatusPaid, ev.Reason), ev); err != nil {
		t.Error(err)
	}
}

// A payout a manager settled as paid, which the provider then reports
// failed, cancelled or expired, stays paid (final) but says the
// beneficiary may not have the money: whether the word comes by webhook
// or as the late answer to a call made before the settling.
func TestUnpaidAfterSettledPaidIsContradiction(t *testing.T) {
	f, d, sending, rail := lookupFlow(t)
	store := db.NewPayouts(d)
	check := func(id int64, how string) {
		t.Helper()
		got, _ := store.Get(t.Context(), id)
		if got.Status != db.StatusPaid || got.ErrorCode != db.ReversedAfterPaid {
			t.Errorf("%s: the payout is %s with code %q, want paid and %s", how, got.Status, got.ErrorCode, db.ReversedAfterPaid)
		}
		if acts := actionsOf(t, d, id); !slices.Contains(acts, "payout.contradicted") {
			t.Errorf("%s: the payout's events %v have no payout.contradicted", how, acts)
		}
	}
	for _, said := range []providers.Status{providers.StatusFailed, providers.StatusCancelled, providers.StatusExpired} {
		hooked := unknownPayout(t, d, sending())
		settlePaid(t, d, hooked.ID)
		u := providers.Update{EventID: "evt-" + string(said), Reference: hooked.Reference, ProviderID: "prov-" + string(said),
			Status: said, RawStatus: string(said)}
		if err := f.ApplyWebhook(t.Context(), providers.FedaPay, u, webhookEvent()); err != nil {
			t.Fatal(err)
		}
		check(hooked.ID, string(said)+" by webhook")

		asked := unknownPayout(t, d, sending())
		rail.lookup = func() (providers.Result, error) {
			settlePaid(t, d, asked.ID) // the manager's click lands during the call
			return providers.Result{Status: said, RawStatus: string(said)}, nil
		}
		f.Reconcile(t.Context(), asked, systemEvent("payout.status_changed"))
		check(asked.ID, string(said)+" as a late answer")
	}
}

// A payout a manager settled as failed, which the provider then says it
// holds, may still be paid: by webhook as by a late answer, it stays failed
// but is no longer offered to be created again. The same word after the
// provider's own "failed" is a late delivery, and changes nothing.
func TestHeldAfterSettledFailedIsContradiction(t *testing.T) {
	f, d, sending, rail := lookupFlow(t)
	store := db.NewPayouts(d)
	started := func(p db.Payout, id string) providers.Update {
		return providers.Update{EventID: id, Reference: p.Reference, ProviderID: "prov-" + id, Status: providers.StatusProcessing, RawStatus: "started"}
	}
	check := func(id int64, how string) {
		t.Helper()
		got, _ := store.Get(t.Context(), id)
		if got.Status != db.StatusFailed || got.ErrorCode != db.PaidAfterEnd || got.EndedUnpaid() {
			t.Errorf("%s: the payout is %s, code %q, ended unpaid %v; want failed, %s, not ended unpaid",
				how, got.Status, got.ErrorCode, got.EndedUnpaid(), db.PaidAfterEnd)
		}
	}

	hooked := unknownPayout(t, d, sending())
	settleFailed(t, d, hooked.ID)
	if err := f.ApplyWebhook(t.Context(), providers.FedaPay, started(hooked, "1"), webhookEvent()); err != nil {
		t.Fatal(err)
	}
	check(hooked.ID, "by webhook")

	asked := unknownPayout(t, d, sending())
	rail.lookup = func() (providers.Result, error) {
		settleFailed(t, d, asked.ID)
		return providers.Result{Status: providers.StatusProcessing, RawStatus: "started"}, nil
	}
	f.Reconcile(t.Context(), asked, systemEvent("payout.status_changed"))
	check(asked.ID, "as a late answer")

	failed := submittedPayout(t, d, unknownPayout(t, d, sending()), db.StatusProcessing, "prov-3")
	for i, u := range []providers.Update{
		{EventID: "3", Reference: failed.Reference, Status: providers.StatusFailed, RawStatus: "failed"},
		started(failed, "4"),
	} {
		if err := f.ApplyWebhook(t.Context(), providers.FedaPay, u, webhookEvent()); err != nil {
			t.Fatalf("webhook %d: %v", i, err)
		}
	}
	if got, _ := store.Get(t.Context(), failed.ID); got.ErrorCode != "" || !got.EndedUnpaid() {
		t.Errorf("a late 'started' after the provider's own failure made the payout code %q, ended unpaid %v", got.ErrorCode, got.EndedUnpaid())
	}
}

// A lookup of a payout in flight answers "paid" after a "failed" webhook
// ended the payout meanwhile: the provider has said both, so the payout
// is marked maybe paid, as when the two words come by webhook, and not
// offered to be created again.
func TestLatePaidAfterFailedWebhookIsContradiction(t *testing.T) {
	f, d, sending, rail := lookupFlow(t)
	store := db.NewPayouts(d)
	p := submittedPayout(t, d, unknownPayout(t, d, sending()), db.StatusProcessing, "prov-1")
	rail.lookup = func() (providers.Result, error) {
		u := providers.Update{EventID: "1", Reference: p.Reference, ProviderID: "prov-1", Status: providers.StatusFailed, RawStatus: "failed"}
		if err := f.ApplyWebhook(t.Context(), providers.FedaPay, u, webhookEvent()); err != nil {
			t.Error(err)
		}
		return providers.Result{Status: providers.StatusPaid, RawStatus: "sent", ProviderID: "prov-1"}, nil
	}
	f.Reconcile(t.Context(), p, systemEvent("payout.status_changed"))
	got, _ := store.Get(t.Context(), p.ID)
	if got.Status != db.StatusFailed || got.ErrorCode != db.PaidAfterEnd || got.EndedUnpaid() {
		t.Errorf("the payout is %s, code %q, ended unpaid %v; want failed, %s, not ended unpaid",
			got.Status, got.ErrorCode, got.EndedUnpaid(), db.PaidAfterEnd)
	}
	if acts := actionsOf(t, d, p.ID); !slices.Contains(acts, "payout.contradicted") {
		t.Errorf("the payout's events %v have no payout.contradicted", acts)
	}
}

// lookupFlow is flowOnDB taking webhooks, with a live provider whose
// status lookups the test steers.
func lookupFlow(t *testing.T) (*Flow, *db.DB, func() db.Payout, *steeredRail) {
	t.Helper()
	f, d, sending := flowOnDB(t)
	f.Webhooks, f.SendTimeout = db.NewWebhooks(d), 5*time.Second
	rail := &steeredRail{caps: providers.Capabilities{StatusLookup: true}}
	f.Rails.Add(rail, providers.ModeLive)
	return f, d, sending, rail
}

// webhookEvent is the record of a FedaPay delivery, as Receive starts it.
func webhookEvent() db.Event {
	return db.Event{Actor: db.Actor{Type: db.ActorProvider, ID: "fedapay"}, Action: "webhook.received"}
}

// The confirm step releases the money only for the session the payout
// describes: a session for another amount, currency or recipient, or one
// that does not say its amount, is not confirmed, and the payout says why.
func TestConfirmStepRefusesASessionThatDiffers(t *testing.T) {
	f, d, sending := flowOnDB(t)
	f.SendTimeout = 5 * time.Second
	same := providers.Result{Status: providers.StatusAwaitingConfirmation, RawStatus: "ready_to_confirm", ProviderID: "sess-1",
		Amount: &providers.Money{Minor: 2000, Currency: "XOF"}, Beneficiary: providers.Beneficiary{Name: "x", AccountMasked: "•••• 8080"}}
	var answer providers.Result
	rail := &steeredRail{caps: providers.Capabilities{ConfirmStep: true, StatusLookup: true}}
	rail.lookup = func() (providers.Result, error) { return answer, nil }
	rail.confirm = func() (providers.Result, error) {
		return providers.Result{Status: providers.StatusProcessing, RawStatus: "confirmed"}, nil
	}
	f.Rails.Add(rail, providers.ModeLive)
	for name, change := range map[string]func(*providers.Result){
		"another amount":   func(r *providers.Result) { r.Amount = &providers.Money{Minor: 2001, Currency: "XOF"} },
		"another currency": func(r *providers.Result) { r.Amount = &providers.Money{Minor: 2000, Currency: "XAF"} },
		"no amount":        func(r *providers.Result) { r.Amount = nil },
		"another name":     func(r *providers.Result) { r.Beneficiary.Name = "y" },
		"another account":  func(r *providers.Result) { r.Beneficiary.AccountMasked = "•••• 9999" },
	} {
		t.Run(name, func(t *testing.T) {
			answer = same
			change(&answer)
			p := submittedPayout(t, d, sending(), db.StatusAwaitingConfirmation, "sess-1")
			before := rail.confirms.Load()
			f.Reconcile(t.Context(), p, systemEvent("payout.status_changed"))
			if n := rail.confirms.Load() - before; n != 0 {
				t.Errorf("%d confirms sent for a session with %s, want none", n, name)
			}
			got, err := db.NewPayouts(d).Get(t.Context(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ErrorCode != "session_mismatch" || !slices.Contains(actionsOf(t, d, p.ID), "payout.confirmation_refused") {
				t.Errorf("the payout says %s %q, events %v; want session_mismatch and a refusal on record", got.ErrorCode, got.ErrorMessage, actionsOf(t, d, p.ID))
			}
		})
	}
	// The same session is confirmed: it is the differences above that
	// held the confirms back.
	answer = same
	p := submittedPayout(t, d, sending(), db.StatusAwaitingConfirmation, "sess-1")
	before := rail.confirms.Load()
	f.Reconcile(t.Context(), p, systemEvent("payout.status_changed"))
	if n := rail.confirms.Load() - before; n != 1 {
		t.Errorf("%d confirms sent for the session the payout describes, want 1", n)
	}
}

// "Refresh status" says the provider was asked only when it answered:
// ReconcileNow returns why it was not asked, or the call that went
// unanswered, the confirm step's too.
func TestReconcileNowSaysWhetherTheProviderAnswered(t *testing.T) {
	f, d, sending := flowOnDB(t)
	f.SendTimeout = 5 * time.Second
	unanswered := &providers.Error{Provider: providers.SmartGlocal, Op: "look up payout", Outcome: providers.OutcomeUnknown, Err: context.DeadlineExceeded}
	rail := &steeredRail{caps: providers.Capabilities{ConfirmStep: true, StatusLookup: true}}
	rail.lookup = func() (providers.Result, error) { return providers.Result{}, unanswered }
	f.Rails.Add(rail, providers.ModeLive)
	tests := []struct {
		name    string
		payout  func() db.Payout
		wantErr error
	}{
		{"being sent", sending, errNotInFlight},
		{"ended", func() db.Payout { return submittedPayout(t, d, sending(), db.StatusFailed, "po-1") }, errNotInFlight},
		{"confirm step, lookup unanswered", func() db.Payout { return submittedPayout(t, d, sending(), db.StatusAwaitingConfirmation, "sess-1") }, unanswered},
		{"lookup unanswered", func() db.Payout { return submittedPayout(t, d, sending(), db.StatusProcessing, "po-2") }, unanswered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := f.ReconcileNow(t.Context(), tt.payout(), systemEvent("payout.status_changed")); !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// goneFlow is a flow whose Smart Glocal-like provider the test steers, and
// that provider's answer that it has no such session.
func goneFlow(t *testing.T) (*Flow, *db.DB, func() db.Payout, *steeredRail, *providers.Error) {
	t.Helper()
	f, d, sending := flowOnDB(t)
	f.SendTimeout = 5 * time.Second
	gone := providers.Classify(providers.SmartGlocal, "check session", http.StatusNotFound, "session_not_found", "no session", nil)
	gone.NotFound = true
	rail := &steeredRail{caps: providers.Capabilities{ConfirmStep: true, StatusLookup: true}}
	f.Rails.Add(rail, providers.ModeLive)
	return f, d, sending, rail, gone
}

// A provider answering 404 about a payout it accepted no longer has it:
// whatever step the payout waits at, it becomes unknown, where a manager
// sees it; one already unknown stays so, and the check says why.
func TestAPayoutItsProviderNoLongerHasBecomesUnknown(t *testing.T) {
	f, d, sending, rail, gone := goneFlow(t)
	rail.lookup = func() (providers.Result, error) { return providers.Result{}, gone }
	tests := []struct {
		name   string
		status db.Status
	}{
		{"waiting for its confirm", db.StatusAwaitingConfirmation},
		{"processing", db.StatusProcessing},
		{"unknown already", db.StatusUnknown},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := submittedPayout(t, d, sending(), tt.status, "sess-"+strconv.Itoa(i))
			if err := f.ReconcileNow(t.Context(), p, systemEvent("payout.status_changed")); !errors.Is(err, errDisowned) || !errors.Is(err, gone) {
				t.Errorf("check = %v, want errDisowned with the provider's answer", err)
			}
			after, err := f.Payouts.Get(t.Context(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.Status != db.StatusUnknown || after.NextCheckAt.IsZero() {
				t.Errorf("payout is %s, next check %v; want unknown, still checked", after.Status, after.NextCheckAt)
			}
			if rail.confirms.Load() != 0 {
				t.Errorf("%d confirms sent for a session the provider does not have", rail.confirms.Load())
			}
		})
	}
}

// A 404 answered while a webhook moved the payout on (the provider holds
// it after all) leaves the webhook's status: the payout is not made
// unknown from a status it is no longer in.
func TestANotFoundDuringAWebhookLeavesTheWebhooksStatus(t *testing.T) {
	f, d, sending, rail, gone := goneFlow(t)
	p := submittedPayout(t, d, sending(), db.StatusProcessing, "sess-moved")
	rail.lookup = func() (providers.Result, error) {
		webhook := systemEvent("payout.status_changed")
		webhook.Actor = db.Actor{Type: db.ActorProvider, ID: "smartglocal"}
		if err := f.Payouts.Change(t.Context(), p.ID, db.Change{To: db.StatusAwaitingConfirmation}, webhook); err != nil {
			t.Fatal(err)
		}
		return providers.Result{}, gone
	}
	asked := f.ReconcileNow(t.Context(), p, systemEvent("payout.status_changed"))
	after, err := f.Payouts.Get(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != db.StatusAwaitingConfirmation || after.ErrorMessage != "" {
		t.Errorf("payout is %s with message %q; want awaiting_confirmation, as the webhook left it, without one", after.Status, after.ErrorMessage)
	}
	// "Refresh status" gives the status the webhook brought, not the 404
	// as if the provider had not answered.
	if kind, msg := refreshMessage(asked, after); kind != "info" || msg != "Asked the provider. Status: "+db.StatusAwaitingConfirmation.Label()+"." {
		t.Errorf("Refresh says %s %q", kind, msg)
	}
}
