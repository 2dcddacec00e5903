package handlers

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// flowOnDB returns a Flow over a fresh database, with no providers, and a
// function that stores a FedaPay payout being sent (submitting).
func flowOnDB(t *testing.T) (*Flow, *db.DB, func() db.Payout) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "flow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	u, err := db.NewUsers(d).Create(ctx, "agent@example.com", db.RoleAgent, "a long enough password", db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	store := db.NewPayouts(d)
	f := &Flow{Log: slog.New(slog.DiscardHandler), Rails: providers.NewRegistry(), Payouts: store, Now: time.Now, CheckEvery: time.Second, CheckMax: time.Minute}
	n := 0
	sending := func() db.Payout {
		t.Helper()
		n++
		key := "K" + strconv.Itoa(n)
		p, _, err := store.Create(ctx, queuedPayout(key, u.ID), createdEvent)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Change(ctx, p.ID, db.Change{To: db.StatusSubmitting}, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.submitting"}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return f, d, sending
}

// An attempt's late answer does not undo what a webhook said meanwhile:
// a send that timed out leaves a payout the provider already reported as
// processing (or paid) as it is, with no error of the older outcome, and
// keeps only what was exchanged.
func TestLateSendOutcomeKeepsNewerStatus(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	store := db.NewPayouts(d)
	ev := db.Event{Actor: db.Actor{Type: db.ActorProvider, ID: "fedapay"}, Action: "payout.status_changed"}
	for _, webhook := range []db.Status{db.StatusProcessing, db.StatusPaid} {
		p := sending()
		sent, _ := store.Get(ctx, p.ID)
		// The webhook arrives while the start call is still waiting.
		steps := []db.Status{db.StatusProcessing}
		if webhook == db.StatusPaid {
			steps = append(steps, db.StatusPaid)
		}
		for _, to := range steps {
			if err := store.Change(ctx, p.ID, db.Change{To: to}, ev); err != nil {
				t.Fatal(err)
			}
		}
		call := providers.Exchange{Op: "start", Method: "PUT", URL: "https://sandbox/payouts/start", Error: "timeout"}
		f.recordSubmit(ctx, sent, providers.Result{Exchanges: []providers.Exchange{call}}, errors.New("start: context deadline exceeded"))
		got, err := store.Get(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != webhook || got.ErrorMessage != "" || got.RawStatus != sent.RawStatus {
			t.Errorf("after the webhook said %s, the timed-out send left status %s, error %q, raw status %q", webhook, got.Status, got.ErrorMessage, got.RawStatus)
		}
		if xs, err := store.Exchanges(ctx, p.ID); err != nil || len(xs) != 1 {
			t.Errorf("exchanges kept: %d, %v; want the attempt's one", len(xs), err)
		}
	}
}

// A payout that is due but no longer (or not yet) with its provider loses
// its check date, rather than staying due and keeping the reconciliation
// worker busy for nothing.
func TestReconcileDropsTheDateOfAPayoutNotInFlight(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	p := sending()
	// A date left by an earlier version, which kept one while sending.
	if _, err := d.W.ExecContext(ctx, `UPDATE payouts SET next_check_at = ? WHERE id = ?`, time.Now().UTC().Format(db.TimeLayout), p.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := f.ReconcileDue(ctx); err != nil || n != 1 {
		t.Fatalf("first pass checked %d, %v; want the stray one", n, err)
	}
	if n, err := f.ReconcileDue(ctx); err != nil || n != 0 {
		t.Errorf("second pass checked %d, %v; want none: the payout stays due", n, err)
	}
}

// A send's outcome that cannot be written is not lost: RetryLost writes
// it once the database takes writes again — the provider's own answer,
// not a guess — or, if a webhook moved the payout on meanwhile, keeps what
// the answer taught as for any late answer.
func TestLostSendOutcomeIsRecordedLater(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	store := db.NewPayouts(d)
	refused := &providers.Error{Provider: providers.FedaPay, Op: "create payout", Outcome: providers.OutcomeRejected, HTTPStatus: 400, Message: "bad number"}
	exec := func(q string) {
		t.Helper()
		if _, err := d.W.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	lost, movedOn := sending(), sending()
	exec(`CREATE TRIGGER no_status BEFORE UPDATE OF status ON payouts WHEN NEW.status != OLD.status BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`)
	f.recordSubmit(ctx, lost, providers.Result{}, refused)
	call := providers.Exchange{Op: "create", Method: "POST", URL: "https://sandbox/payouts", Status: 200}
	f.recordSubmit(ctx, movedOn, providers.Result{Status: providers.StatusProcessing, ProviderID: "fp-9", Exchanges: []providers.Exchange{call}}, nil)
	if n := f.RetryLost(ctx); n != 0 {
		t.Errorf("RetryLost recorded %d while writes are refused", n)
	}
	if got, _ := store.Get(ctx, lost.ID); got.Status != db.StatusSubmitting {
		t.Fatalf("with writes refused the payout is %s, want still submitting", got.Status)
	}
	exec(`DROP TRIGGER no_status`)
	// Meanwhile a webhook says the other one is being processed.
	if err := store.Change(ctx, movedOn.ID, db.Change{To: db.StatusProcessing}, db.Event{Actor: db.Actor{Type: db.ActorProvider, ID: "fedapay"}, Action: "payout.status_changed"}); err != nil {
		t.Fatal(err)
	}
	if n := f.RetryLost(ctx); n != 2 {
		t.Errorf("RetryLost recorded %d, want both", n)
	}
	if got, _ := store.Get(ctx, lost.ID); got.Status != db.StatusFailed || !strings.Contains(got.ErrorMessage, "bad number") {
		t.Errorf("once writes work again the payout is %s (%q), want failed with the provider's message", got.Status, got.ErrorMessage)
	}
	got, _ := store.Get(ctx, movedOn.ID)
	if got.Status != db.StatusProcessing || got.ProviderID != "fp-9" {
		t.Errorf("the payout a webhook moved on is %s with provider id %q, want processing with the id the answer gave", got.Status, got.ProviderID)
	}
	if n := f.RetryLost(ctx); n != 0 {
		t.Errorf("a second RetryLost recorded %d, want nothing left", n)
	}
}

// Asked about a payout it holds, a provider whose answer settles nothing
// makes the payout unknown, once, with why; a later answer that settles it
// moves it on. A payout still being sent is left to its send.
func TestUnsettledAnswerMakesThePayoutUnknown(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	store := db.NewPayouts(d)
	ask := func(p db.Payout, s providers.Status) db.Payout {
		t.Helper()
		p, err := store.Get(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.applyAnswer(ctx, p, providers.Result{Status: s, RawStatus: string(s)}, systemEvent("payout.status_changed"))
		if p, err = store.Get(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		return p
	}
	why := func(p db.Payout) int {
		n := 0
		events, err := db.NewAudit(d).ByTarget(ctx, "payout", strconv.FormatInt(p.ID, 10))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Details["why"] == unsettled {
				n++
			}
		}
		return n
	}

	if p := ask(sending(), providers.StatusUnknown); p.Status != db.StatusSubmitting {
		t.Errorf("a payout being sent moved to %s on an unsettling answer", p.Status)
	}
	p := sending()
	if err := store.Change(ctx, p.ID, db.Change{To: db.StatusProcessing}, systemEvent("payout.submitted")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if p = ask(p, providers.StatusUnknown); p.Status != db.StatusUnknown {
			t.Fatalf("after an unsettling answer the payout is %s, want unknown", p.Status)
		}
	}
	if n := why(p); n != 1 {
		t.Errorf("%d events say why the payout is unknown, want 1", n)
	}
	if p = ask(p, providers.StatusPaid); p.Status != db.StatusPaid {
		t.Errorf("after the provider says paid the payout is %s", p.Status)
	}
	// Whatever the provider held it for: waiting for its customer or for
	// our confirm, a payout it cannot say anything of is for a person.
	for _, held := range []db.Status{db.StatusAwaitingCustomer, db.StatusAwaitingConfirmation} {
		p := sending()
		if err := store.Change(ctx, p.ID, db.Change{To: held}, systemEvent("payout.submitted")); err != nil {
			t.Fatal(err)
		}
		if p = ask(p, providers.StatusUnknown); p.Status != db.StatusUnknown {
			t.Errorf("%s, after an unsettling answer the payout is %s, want unknown", held, p.Status)
		}
	}
}

// Each status a provider reports is the lifecycle status of the same
// name: an expired cashier session is not a failure, a cancellation not a
// refusal; a status the lifecycle does not have is unknown.
func TestProviderStatusesMapOntoTheLifecycle(t *testing.T) {
	for s, want := range map[providers.Status]db.Status{
		providers.StatusProcessing:           db.StatusProcessing,
		providers.StatusAwaitingCustomer:     db.StatusAwaitingCustomer,
		providers.StatusAwaitingConfirmation: db.StatusAwaitingConfirmation,
		providers.StatusPaid:                 db.StatusPaid,
		providers.StatusFailed:               db.StatusFailed,
		providers.StatusCancelled:            db.StatusCancelled,
		providers.StatusExpired:              db.StatusExpired,
		providers.StatusUnknown:              db.StatusUnknown,
		providers.Status("refunded"):         db.StatusUnknown,
	} {
		if got := lifecycleStatus(s); got != want {
			t.Errorf("provider status %q is %q on the payout, want %q", s, got, want)
		}
	}
}

// A payout confirmed with Smart Glocal whose copy there still reads
// "waiting for the confirm" (it lags) stays as it is and is asked again
// after the usual pause, not at once, over and over.
func TestConfirmedPayoutIgnoresALaggingConfirmStep(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	store := db.NewPayouts(d)
	p := sending()
	if err := store.Change(ctx, p.ID, db.Change{To: db.StatusProcessing, Confirmed: true}, systemEvent("payout.confirmed")); err != nil {
		t.Fatal(err)
	}
	p, _ = store.Get(ctx, p.ID)
	before := time.Now()
	f.applyAnswer(ctx, p, providers.Result{Status: providers.StatusAwaitingConfirmation, RawStatus: "in_progress/pending"}, systemEvent("payout.status_changed"))
	got, err := store.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != db.StatusProcessing || got.Checks != p.Checks+1 {
		t.Errorf("after a lagging answer the payout is %s with %d checks, want processing with %d", got.Status, got.Checks, p.Checks+1)
	}
	if wait := got.NextCheckAt.Sub(before); wait < f.CheckEvery {
		t.Errorf("asked again after %v, want the usual pause of at least %v", wait, f.CheckEvery)
	}
}

// refreshByDisabledAgent presses "Refresh status" on a processing payout
// as the agent who created it, who is disabled while the provider is being
// asked; during runs in the call too, and answer is what the provider says.
func refreshByDisabledAgent(t *testing.T, during func(*db.Payouts, db.Payout), answer providers.Result) (*db.Payouts, db.Payout, db.Actor) {
	t.Helper()
	f, d, sending := flowOnDB(t)
	store := db.NewPayouts(d)
	f.SendTimeout = 5 * time.Second
	p := submittedPayout(t, d, sending(), db.StatusProcessing, "prov-1")
	asker := db.Actor{Type: db.ActorUser, ID: strconv.FormatInt(p.CreatedBy, 10), Role: db.RoleAgent}
	rail := &steeredRail{caps: providers.Capabilities{StatusLookup: true}}
	rail.lookup = func() (providers.Result, error) {
		during(store, p)
		if err := db.NewUsers(d).Disable(t.Context(), p.CreatedBy, db.Event{Actor: db.Actor{Type: db.ActorCLI, ID: "test"}, Action: "user.disabled"}); err != nil {
			t.Error(err)
		}
		return answer, nil
	}
	f.Rails.Add(rail, providers.ModeLive)
	f.ReconcileNow(t.Context(), p, db.Event{Actor: asker, Action: "payout.status_changed"})
	return store, p, asker
}

// The provider's answer to a "Refresh status" is recorded even if the
// agent who asked was disabled during the call: it is the provider's word,
// not the agent's decision. The agent's own changes are refused then, and
// the page says why instead of showing a server error.
func TestRefreshAnswerOutlivesItsAsker(t *testing.T) {
	store, p, asker := refreshByDisabledAgent(t, func(*db.Payouts, db.Payout) {},
		providers.Result{Status: providers.StatusPaid, RawStatus: "sent", ProviderID: "prov-1"})
	if got, _ := store.Get(t.Context(), p.ID); got.Status != db.StatusPaid {
		t.Errorf("after the refresh the payout is %s, want paid as the provider answered", got.Status)
	}

	err := store.Change(t.Context(), p.ID, db.Change{Record: true}, db.Event{Actor: asker, Action: "payout.cashier_launched"})
	if !errors.Is(err, db.ErrActorDisabled) {
		t.Fatalf("a change by the disabled agent: %v, want ErrActorDisabled", err)
	}
	w := httptest.NewRecorder()
	serverError(w, httptest.NewRequest(http.MethodPost, "/payouts/1/cashier", nil), slog.New(slog.DiscardHandler), err)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "your account is disabled") {
		t.Errorf("the refused change answers %d %q, want 403 saying the account is disabled", w.Code, w.Body.String())
	}
}

// A Refresh whose answer comes after the payout moved on (a webhook said
// paid during the call) keeps what the provider answered, as a late
// answer, even though the agent who asked was disabled meanwhile.
func TestLateAnswerOutlivesItsAsker(t *testing.T) {
	paidMeanwhile := func(store *db.Payouts, p db.Payout) {
		paid := db.Event{Actor: db.Actor{Type: db.ActorProvider, ID: "fedapay"}, Action: "payout.status_changed"}
		if err := store.Change(t.Context(), p.ID, db.Change{To: db.StatusPaid}, paid); err != nil {
			t.Error(err)
		}
	}
	store, p, _ := refreshByDisabledAgent(t, paidMeanwhile, providers.Result{Status: providers.StatusFailed, RawStatus: "failed", ProviderID: "prov-1",
		Exchanges: []providers.Exchange{{Op: "lookup", Method: "GET", URL: "https://provider.example/payouts/prov-1", Status: 200}}})
	got, _ := store.Get(t.Context(), p.ID)
	xs, err := store.Exchanges(t.Context(), p.ID)
	if err != nil || len(xs) != 1 || got.Status != db.StatusPaid {
		t.Errorf("the payout is %s with %d exchanges (%v), want paid with the late lookup kept", got.Status, len(xs), err)
	}
}

// A webhook that moves a payout on while its send is under way gives it a
// check date: should the send's answer never be recorded (the process dies
// before it is), the payout is still asked about after the restart.
func TestWebhookDuringSendIsCheckedAfterACrash(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	f.Webhooks, f.SendTimeout = db.NewWebhooks(d), 5*time.Second
	var looked atomic.Int32
	rail := &steeredRail{caps: providers.Capabilities{StatusLookup: true, Resumable: true}}
	rail.lookup = func() (providers.Result, error) {
		looked.Add(1)
		return providers.Result{Status: providers.StatusPaid, RawStatus: "sent", ProviderID: "fp-1"}, nil
	}
	f.Rails.Add(rail, providers.ModeLive)
	p := sending()
	if _, err := d.W.Exec(`UPDATE payouts SET submitted_at = ? WHERE id = ?`, time.Now().UTC().Format(db.TimeLayout), p.ID); err != nil {
		t.Fatal(err)
	}
	u := providers.Update{EventID: "ev-1", Reference: p.Reference, ProviderID: "fp-1", Status: providers.StatusProcessing, RawStatus: "processing"}
	if err := f.ApplyWebhook(ctx, providers.FedaPay, u, webhookEvent()); err != nil {
		t.Fatal(err)
	}
	// The process dies before the send's answer is recorded; after the
	// restart, recovery runs, then reconciliation, as the workers do.
	if err := f.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	f.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if _, err := f.ReconcileDue(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.NewPayouts(d).Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if looked.Load() != 1 || got.Status != db.StatusPaid {
		t.Errorf("an hour after the restart: %d lookups, payout %s (next check %v); want it asked about and paid", looked.Load(), got.Status, got.NextCheckAt)
	}
}

// A send whose last call never reached the provider (429: try again) after
// a webhook said the payout was under way does not leave it waiting for
// ever: it is unknown, checked at once, and resumed from the provider's id.
func TestRetryAfterWebhookResumesThePayout(t *testing.T) {
	ctx := context.Background()
	f, d, _ := flowOnDB(t)
	f.Webhooks, f.SendTimeout, f.Parallel = db.NewWebhooks(d), 5*time.Second, 1
	store := db.NewPayouts(d)
	u, err := db.NewUsers(d).ByEmail(ctx, "agent@example.com")
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := store.Create(ctx, queuedPayout("RETRY", u.ID), createdEvent)
	if err != nil {
		t.Fatal(err)
	}
	rail := &steeredRail{caps: providers.Capabilities{StatusLookup: true, Resumable: true}}
	var submits atomic.Int32
	rail.submit = func(pp providers.Payout) (providers.Result, error) {
		res := providers.Result{ProviderID: "fp-7", RawStatus: "started", Status: providers.StatusProcessing}
		if submits.Add(1) > 1 {
			return res, nil // resumed: started
		}
		// A webhook for the payout just created overtakes the answer ...
		wu := providers.Update{EventID: "ev-p", Reference: pp.Reference, ProviderID: "fp-7", Status: providers.StatusProcessing, RawStatus: "processing"}
		if err := f.ApplyWebhook(ctx, providers.FedaPay, wu, webhookEvent()); err != nil {
			t.Error(err)
		}
		// ... and the start is refused for now: nothing was started.
		return res, providers.Classify(providers.FedaPay, "start payout", http.StatusTooManyRequests, "", "Too many requests", nil)
	}
	rail.lookup = func() (providers.Result, error) {
		return providers.Result{}, errors.New("a lookup cannot start the payout")
	}
	f.Rails.Add(rail, providers.ModeLive)
	if n, err := f.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("SendDue: %d, %v", n, err)
	}
	f.Wait()
	got, _ := store.Get(ctx, p.ID)
	if got.Status != db.StatusUnknown || got.NextCheckAt.After(time.Now()) || !strings.Contains(got.ErrorMessage, "did not reach FedaPay") {
		t.Fatalf("after the refused start: %s, next check %v, %q; want unknown, due now, saying why", got.Status, got.NextCheckAt, got.ErrorMessage)
	}
	if _, err := f.ReconcileDue(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ = store.Get(ctx, p.ID); submits.Load() != 2 || got.Status != db.StatusProcessing {
		t.Errorf("after the check: %d submits, payout %s; want it resumed (2 submits) and processing", submits.Load(), got.Status)
	}
}

// A webhook that names our payout by its reference but carries another
// provider id does not replace the id we hold: reconciliation goes on
// asking the provider about the payout it created for us.
func TestWebhookKeepsTheProviderIDWeHold(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	f.Webhooks = db.NewWebhooks(d)
	p := sending()
	if _, err := d.W.Exec(`UPDATE payouts SET submitted_at = ? WHERE id = ?`, time.Now().UTC().Format(db.TimeLayout), p.ID); err != nil {
		t.Fatal(err)
	}
	p = submittedPayout(t, d, p, db.StatusProcessing, "fp-1")
	u := providers.Update{EventID: "ev-1", Reference: p.Reference, ProviderID: "fp-2", Status: providers.StatusProcessing, RawStatus: "processing"}
	if err := f.ApplyWebhook(ctx, providers.FedaPay, u, webhookEvent()); err != nil {
		t.Fatal(err)
	}
	got, err := db.NewPayouts(d).Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ProviderID != "fp-1" {
		t.Errorf("after a webhook naming provider id fp-2, the payout holds %q, want fp-1 still", got.ProviderID)
	}
}

// A send that never reached the provider is tried again later when the
// network failed it (the provider was briefly unreachable), and fails
// when the request itself could not be made: sending it again would not
// help.
func TestUnsentPayoutRetriedOnlyAfterANetworkFailure(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	f.SendTimeout = 5 * time.Second
	var fail error
	rail := &steeredRail{submit: func(providers.Payout) (providers.Result, error) { return providers.Result{}, fail }}
	f.Rails.Add(rail, providers.ModeLive)
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tt := range []struct {
		name string
		err  error
		want db.Status
	}{
		{"connection refused", providers.NotSent(providers.FedaPay, "create payout", refused), db.StatusQueued},
		{"request not built", providers.NotSent(providers.FedaPay, "create payout", errors.New("amount must be positive")), db.StatusFailed},
	} {
		fail = tt.err
		p := sending()
		before := time.Now()
		f.send(ctx, p)
		got, err := db.NewPayouts(d).Get(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != tt.want {
			t.Errorf("%s: the payout is %s, want %s", tt.name, got.Status, tt.want)
		}
		var due sql.NullString
		if err := d.R.QueryRow(`SELECT available_at FROM outbox WHERE payout_id = ?`, p.ID).Scan(&due); tt.want == db.StatusQueued &&
			(err != nil || !due.Valid || due.String <= before.Add(time.Second).UTC().Format(db.TimeLayout)) {
			t.Errorf("%s: back in the outbox for %v (%v), want a few seconds from now at least", tt.name, due.String, err)
		}
	}
}

// A payout whose send the process stopped in the middle (recorded as
// being sent, its outcome never recorded) may have reached its provider:
// at the next start it is unknown, due for a check, and never sent again
// as new.
func TestInterruptedSendBecomesUnknownNeverResent(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	f.SendTimeout = 5 * time.Second
	var submits atomic.Int32
	rail := &steeredRail{submit: func(providers.Payout) (providers.Result, error) {
		submits.Add(1)
		return providers.Result{Status: providers.StatusProcessing, ProviderID: "fp-2"}, nil
	}}
	f.Rails.Add(rail, providers.ModeLive)
	p := sending()
	if err := f.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.NewPayouts(d).Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != db.StatusUnknown || got.NextCheckAt.IsZero() || got.NextCheckAt.After(time.Now()) || got.ErrorMessage == "" {
		t.Errorf("after the restart the payout is %s, next check %v, saying %q; want unknown, due now, and why",
			got.Status, got.NextCheckAt, got.ErrorMessage)
	}
	if acts := actionsOf(t, d, p.ID); !slices.Contains(acts, "payout.outcome_unknown") {
		t.Errorf("the payout's events are %v, with no payout.outcome_unknown", acts)
	}
	if n, err := f.SendDue(ctx); err != nil || n != 0 {
		t.Errorf("the sender claimed %d payouts (%v), want none", n, err)
	}
	f.Wait()
	if n := submits.Load(); n != 0 {
		t.Errorf("the interrupted payout was sent %d times again", n)
	}
}

// Expiring a payout found waiting for approval changes nothing if it
// stopped waiting meanwhile: approved and already being sent, it is not
// ended as expired while its provider may be paying it.
func TestExpireLeavesAPayoutThatStoppedWaiting(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	p := sending() // read while it waited; approved and claimed since
	p.Status = db.StatusPendingApproval
	ended, err := f.expire(ctx, p, time.Hour)
	if err != nil || ended {
		t.Errorf("expire = %v, %v; want false, nil", ended, err)
	}
	if got, err := db.NewPayouts(d).Get(ctx, p.ID); err != nil || got.Status != db.StatusSubmitting {
		t.Errorf("the payout is %s (%v), want still being sent", got.Status, err)
	}
}

// hookRail is a steeredRail whose webhooks verify and say u.
type hookRail struct {
	*steeredRail
	u providers.Update
}

func (r *hookRail) Webhook(http.Header, []byte, time.Time) (providers.Update, error) { return r.u, nil }

// A verified delivery that could not be recorded is answered with a 5xx,
// so that the provider delivers it again, rather than acknowledged and
// lost.
func TestUnrecordedWebhookAsksForItAgain(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	f.Webhooks = db.NewWebhooks(d)
	rail := &hookRail{steeredRail: &steeredRail{}}
	f.Rails.Add(rail, providers.ModeLive)
	h := &Webhooks{Log: slog.New(slog.DiscardHandler), Rails: f.Rails, Store: db.NewWebhooks(d), Flow: f, Now: time.Now}
	deliver := func(p db.Payout, event string) int {
		t.Helper()
		if _, err := d.W.Exec(`UPDATE payouts SET submitted_at = ? WHERE id = ?`, time.Now().UTC().Format(db.TimeLayout), p.ID); err != nil {
			t.Fatal(err)
		}
		rail.u = providers.Update{EventID: event, Reference: p.Reference, ProviderID: "fp-" + event, Status: providers.StatusPaid, RawStatus: "sent"}
		r := httptest.NewRequest(http.MethodPost, "/webhooks/fedapay", strings.NewReader(`{}`))
		r.SetPathValue("provider", "fedapay")
		w := httptest.NewRecorder()
		h.Receive(w, r)
		return w.Code
	}
	status := func(p db.Payout) db.Status {
		t.Helper()
		got, err := db.NewPayouts(d).Get(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	recorded := sending()
	if code := deliver(recorded, "ev-1"); code != http.StatusOK || status(recorded) != db.StatusPaid {
		t.Fatalf("a delivery recorded: HTTP %d, payout %s; want 200 and paid", code, status(recorded))
	}
	// The deliveries' table is gone (a failing disk would do): nothing
	// can be recorded.
	lost := sending()
	if _, err := d.W.Exec(`DROP TABLE webhook_deliveries`); err != nil {
		t.Fatal(err)
	}
	if code := deliver(lost, "ev-2"); code < 500 || status(lost) != db.StatusSubmitting {
		t.Errorf("a delivery not recorded: HTTP %d, payout %s; want a 5xx and the payout as it was", code, status(lost))
	}
}

// A webhook that moves an unknown payout on with the words it was made
// unknown with (the provider's own code and message, kept from an earlier
// answer) keeps them: only the words that made it unknown are dropped.
func TestWebhookLeavingUnknownKeepsTheProvidersWords(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	f.Webhooks = db.NewWebhooks(d)
	store := db.NewPayouts(d)
	p := sending()
	if err := store.Change(ctx, p.ID, db.Change{To: db.StatusUnknown, SubmittedAt: time.Now(), FromProvider: true,
		ErrorCode: "E1", ErrorMessage: "Held for review"}, systemEvent("payout.outcome_unknown")); err != nil {
		t.Fatal(err)
	}
	u := providers.Update{EventID: "evt-1", Reference: p.Reference, ProviderID: "po_1", RawStatus: "failed", Status: providers.StatusFailed,
		ErrorCode: "E1", ErrorMessage: "Held for review"}
	ev := db.Event{Actor: db.Actor{Type: db.ActorProvider, ID: "fedapay"}, Action: "webhook.received"}
	if err := f.ApplyWebhook(ctx, providers.FedaPay, u, ev); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != db.StatusFailed || got.ErrorCode != "E1" || got.ErrorMessage != "Held for review" {
		t.Errorf("after the webhook: %s, %q, %q; want failed, E1, Held for review", got.Status, got.ErrorCode, got.ErrorMessage)
	}
}

// While the flow runs, a payout created from a form is sent at once if a
// sending slot is free, its attempt recorded as it is created; otherwise
// it waits in the outbox, and the worker is woken for it.
func TestCreateSendsAtOnceWhenItCan(t *testing.T) {
	ctx := context.Background()
	f, d, _ := flowOnDB(t)
	f.Parallel = 1
	store := db.NewPayouts(d)
	send, _ := f.Wakeups()
	n := 0
	create := func() db.Payout {
		t.Helper()
		n++
		key := "C" + strconv.Itoa(n)
		p, created, err := f.Create(ctx, queuedPayout(key, 1), createdEvent)
		if err != nil || !created {
			t.Fatalf("create: %v, %v", created, err)
		}
		return p
	}
	waits := func(why string) {
		t.Helper()
		p := create()
		if p.Status != db.StatusQueued {
			t.Errorf("%s: created %s, want queued", why, p.Status)
		}
		select {
		case <-send:
		default:
			t.Errorf("%s: the sending worker was not woken", why)
		}
	}
	waits("before the flow runs")

	f.Start()
	p := create()
	if p.Status != db.StatusSubmitting || p.SendAttempts != 1 {
		t.Errorf("created %s (attempt %d) while the flow runs, want submitting (attempt 1)", p.Status, p.SendAttempts)
	}
	f.Wait()
	// No provider is configured here: the send's outcome says so.
	sent, err := store.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Status != db.StatusFailed || sent.ErrorMessage != "provider not configured" {
		t.Errorf("after its send: %s (%q), want failed for want of a provider", sent.Status, sent.ErrorMessage)
	}
	waits("after Wait")

	f.Start()
	f.slotPool() <- struct{}{} // the only slot, taken by another send
	waits("with no free slot")
	<-f.slotPool()
	f.Wait()
}

// A send started by the form's request is written as the workers' sends
// are, behind the requests people are waiting on: the person who sent the
// form has been answered already.
func TestCreatesSendIsLowPriority(t *testing.T) {
	ctx := context.Background()
	f, d, _ := flowOnDB(t)
	var sent atomic.Int32
	rail := &steeredRail{caps: providers.Capabilities{IdempotencyHeader: true, StatusLookup: true}}
	rail.submit = func(p providers.Payout) (providers.Result, error) {
		sent.Add(1)
		return providers.Result{Status: providers.StatusProcessing, ProviderID: "prov-" + p.IdempotencyKey, RawStatus: "pending"}, nil
	}
	f.Rails.Add(rail, providers.ModeLive)
	f.Start()
	p, created, err := f.Create(ctx, queuedPayout("L1", 1), createdEvent)
	if err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	f.Wait()
	if sent.Load() != 1 || rail.submitsLow.Load() != 1 {
		t.Errorf("%d sends, %d of them low-priority; want the one, low-priority", sent.Load(), rail.submitsLow.Load())
	}
	got, err := db.NewPayouts(d).Get(ctx, p.ID)
	if err != nil || got.Status != db.StatusProcessing {
		t.Errorf("after its send: %s, %v; want processing", got.Status, err)
	}
}

// ReconcileDue asks about no more than CheckRate payouts a second, those
// due longest first, and spreads its checks over the second rather than
// making them at once; the others wait for the next round.
func TestReconcileDueKeepsToItsRate(t *testing.T) {
	ctx := context.Background()
	f, d, sending := flowOnDB(t)
	store := db.NewPayouts(d)
	now := time.Now()
	f.Now = func() time.Time { return now }
	f.CheckRate = 4
	var mu sync.Mutex
	var asked []time.Time
	rail := &steeredRail{caps: providers.Capabilities{StatusLookup: true}}
	rail.lookup = func() (providers.Result, error) {
		mu.Lock()
		asked = append(asked, time.Now())
		mu.Unlock()
		return providers.Result{Status: providers.StatusProcessing, RawStatus: "pending"}, nil
	}
	f.Rails.Add(rail, providers.ModeLive)
	due := map[int64]time.Duration{}
	for i := range 6 {
		p := sending()
		// Due 6, 5, … 1 minutes ago: the first made is due longest.
		late := time.Duration(6-i) * time.Minute
		due[p.ID] = late
		if err := store.Change(ctx, p.ID, db.Change{To: db.StatusProcessing, Dequeue: true, CheckAt: now.Add(-late)},
			systemEvent("payout.submitted")); err != nil {
			t.Fatal(err)
		}
	}
	checked := func() []time.Duration {
		t.Helper()
		var lates []time.Duration
		for id, late := range due {
			p, err := store.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if p.Checks > 0 {
				lates = append(lates, late)
			}
		}
		slices.Sort(lates)
		return lates
	}
	start := time.Now()
	n, err := f.ReconcileDue(ctx)
	if err != nil || n != 4 {
		t.Fatalf("first round: %d checked (%v), want a second's 4", n, err)
	}
	if got := checked(); !slices.Equal(got, []time.Duration{3 * time.Minute, 4 * time.Minute, 5 * time.Minute, 6 * time.Minute}) {
		t.Errorf("checked the payouts due %v ago, want those due longest (3 to 6 minutes)", got)
	}
	// At 4 a second, a quarter of a second apart: the last starts 3/4 of
	// a second after the first.
	if len(asked) != 4 {
		t.Fatalf("%d calls to the provider, want 4", len(asked))
	}
	if asked[3].Sub(start) < 700*time.Millisecond {
		t.Errorf("the round's checks started %v after it began; want them spread over 3/4 of a second", asked[len(asked)-1].Sub(start))
	}
	if n, err := f.ReconcileDue(ctx); err != nil || n != 2 || len(checked()) != 6 {
		t.Errorf("next round: %d checked (%v), %d of 6 in all; want the other 2", n, err, len(checked()))
	}
	if len(asked) < 5 {
		t.Fatalf("%d calls to the provider, want 6", len(asked))
	}
	if gap := asked[4].Sub(asked[3]); gap < 200*time.Millisecond {
		t.Errorf("the next round's first check came %v after the last; want the rate kept across rounds", gap)
	}
}

// queuedPayout is a queued FedaPay payout with the given key, made by the
// given user, as the flow's tests create them.
func queuedPayout(key string, by int64) db.NewPayout {
	return db.NewPayout{
		Provider: "fedapay", Status: db.StatusQueued, AmountMinor: 2000, Currency: "XOF", IdempotencyKey: key, Reference: "PD-" + key,
		Fields: map[string]string{"amount": "2000"}, BeneficiaryName: "x", BeneficiaryAccount: "•••• 8080", CreatedBy: by,
	}
}

// createdEvent is the creation event of queuedPayout's payouts.
var createdEvent = db.Event{Actor: db.Actor{Type: db.ActorUser, ID: "1"}, Action: "payout.created"}
