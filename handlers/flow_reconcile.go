package handlers

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"

	"golang.org/x/time/rate"
)

// replayWindow is how long after an attempt its create may be sent again
// with the same idempotency key to learn its outcome. How long providers
// keep a key is mostly undocumented; a day is the usual. After it, only a
// lookup may settle the payout, or a manager.
const replayWindow = 24 * time.Hour

// ReconcileDue asks providers about every payout whose check is due and
// returns how many it checked. One that a person's "Refresh status" is
// checking meanwhile is not counted: it stays due, and counting it would
// have the worker run again at once, over and over, until that call ends.
//
// It starts no more than CheckRate checks a second, evenly: providers limit
// how often they may be asked (429), and the checks of every open payout
// must not outgrow what the database and the providers carry: a cashier
// session waits 15 minutes for its customer, asked about six times
// meanwhile, and at a thousand payouts a second that would be six
// thousand checks a second. Past the budget, the payouts due longest go
// first and the others wait; a person's "Refresh status" is never held
// back. The checks are spread over the second rather than started a
// second's worth at once: a provider's limit is often a short window with
// a small burst, which a hundred calls at once would trip, and their
// writes would come as one burst that everyone's forms wait behind.
func (f *Flow) ReconcileDue(ctx context.Context) (int, error) {
	limit := 4 * max(f.Parallel, 1)
	budget := f.checkBudget()
	if budget != nil {
		// A second's checks at most: the payouts due longest are asked
		// about before those that fall due meanwhile.
		limit = min(limit, max(int(f.CheckRate), 1))
	}
	due, err := f.Payouts.Due(ctx, f.Now(), limit)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, max(f.Parallel, 1))
	var wg sync.WaitGroup
	var checked atomic.Int64
	// A check under way finishes even when ctx ends (shutting down): the
	// provider may already have acted on its call (a confirm, a replayed
	// create), and what it answered must be recorded and audited. Each
	// call is bounded by SendTimeout; no new check starts once ctx ends.
	run := context.WithoutCancel(ctx)
	for _, p := range due {
		if budget != nil && budget.Wait(ctx) != nil {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if f.Reconcile(run, p, systemEvent("payout.status_changed")) {
				checked.Add(1)
			}
		})
	}
	wg.Wait()
	return int(checked.Load()), ctx.Err()
}

// checkBudget returns the limiter of CheckRate, nil without one. Its burst
// is a fiftieth of a second's checks, so that they go out evenly.
func (f *Flow) checkBudget() *rate.Limiter {
	if f.CheckRate <= 0 {
		return nil
	}
	f.checksOnce.Do(func() { f.checks = rate.NewLimiter(rate.Limit(f.CheckRate), max(int(f.CheckRate/50), 1)) })
	return f.checks
}

// errChecking: another check of the payout was under way, and was left
// to answer.
var errChecking = errors.New("another check of this payout is under way")

// errNotInFlight: the payout has ended, or is being sent, so its provider
// has nothing to tell about it.
var errNotInFlight = errors.New("the payout is not with its provider")

// ReconcileNow is Reconcile for a person waiting on it ("Refresh status"):
// it runs to its end even if they leave, and stopping the server waits for
// it as for the worker's sends, since the provider may act on the call (a
// replayed create, a confirm) and what it answered must be recorded. Its
// error says why the provider was not asked, or did not answer:
// errChecking, errNotInFlight, providers.ErrUnsupported when there is
// nothing it can be asked about the payout yet, or the call's error.
func (f *Flow) ReconcileNow(ctx context.Context, p db.Payout, ev db.Event) error {
	f.sending.Add(1)
	defer f.sending.Done()
	return f.reconcile(context.WithoutCancel(ctx), p, ev)
}

// Reconcile asks the provider where payout p stands and applies the answer.
// A Smart Glocal payout waiting for confirmation is checked against the
// provider's session and confirmed or cancelled. An unknown outcome is
// settled by resuming from the provider's id from the first attempt, or by
// replaying the create where that is safe (an idempotency key, within
// replayWindow of the attempt), else by a lookup. ev is
// the audit event to record a status change with. It reports false if
// another check of p was under way, and it left p to that one.
func (f *Flow) Reconcile(ctx context.Context, p db.Payout, ev db.Event) bool {
	return !errors.Is(f.reconcile(ctx, p, ev), errChecking)
}

func (f *Flow) reconcile(ctx context.Context, p db.Payout, ev db.Event) error {
	// One check of a payout at a time: the worker's and a person's
	// "Refresh status" could otherwise both resume or replay it.
	if _, busy := f.checking.LoadOrStore(p.ID, struct{}{}); busy {
		return errChecking
	}
	defer f.checking.Delete(p.ID)
	return f.check(ctx, p, ev)
}

// check is Reconcile's work, once the payout is its own to check. It
// returns errNotInFlight for a payout not to ask about, or the error of a
// provider call that told nothing.
func (f *Flow) check(ctx context.Context, p db.Payout, ev db.Event) error {
	// The caller's copy may be a minute old (a batch of due payouts is
	// worked through a few at a time), and a manager may have settled the
	// payout since: replaying or resuming it then would send it after all.
	// An answer that arrives after a settling during the call is caught
	// when it is recorded (see recordLate).
	now, err := f.Payouts.Get(ctx, p.ID)
	if err != nil {
		f.Log.ErrorContext(ctx, "reconcile: read payout", "payout", p.ID, slog.Any("error", err))
		return err
	}
	p = now
	rail, ok := f.Rails.Get(providers.Name(p.Provider))
	switch {
	case !p.Status.InFlight():
		if !p.NextCheckAt.IsZero() {
			// Nothing to ask: drop the date, or the payout stays due.
			f.record(ctx, p, db.Change{ClearCheck: true}, db.Event{})
		}
		return errNotInFlight
	case !ok:
		// Its provider is not configured (any more): ask again later.
		f.record(ctx, p, db.Change{CountCheck: true, CheckAt: f.nextCheck(p.Checks + 1)}, db.Event{})
		return fmt.Errorf("%s is not configured: %w", providers.Name(p.Provider).Title(), providers.ErrUnsupported)
	}
	caps := rail.Capabilities()
	cctx, cancel := context.WithTimeout(ctx, f.SendTimeout)
	defer cancel()
	var res providers.Result
	// A payout changed since its approval is never sent again, replayed
	// or resumed: what would go out is not what the approver saw.
	approved := f.approvedAsSeen(p)
	switch {
	case p.Status == db.StatusAwaitingConfirmation && caps.ConfirmStep && p.ConfirmedAt.IsZero():
		return f.confirm(ctx, cctx, rail, p, ev)
	case p.Status == db.StatusUnknown && approved && caps.Resumable && p.ProviderID != "":
		res, err = rail.Submit(cctx, providerPayout(p), refOf(p))
	case p.Status == db.StatusUnknown && approved && caps.IdempotencyHeader && f.Now().Sub(p.SubmittedAt) < replayWindow:
		res, err = rail.Submit(cctx, providerPayout(p), refOf(p))
	case caps.StatusLookup:
		res, err = rail.Lookup(cctx, refOf(p))
	default:
		err = providers.ErrUnsupported
	}
	if err != nil {
		// Nothing learnt: keep the status, keep what was exchanged, ask again later.
		ch := withResult(db.Change{CountCheck: true, CheckAt: f.nextCheck(p.Checks + 1)}, res)
		ch.ErrorCode, ch.ErrorMessage = "", ""
		return f.unanswered(ctx, p, ch, ev, err)
	}
	f.applyAnswer(ctx, p, res, ev)
	return nil
}

// unanswered records ch, a check of p whose call failed with err and told
// nothing of the payout's status, and returns err. A provider answering
// that it has no such payout, though it accepted it (it lost it, or a
// restarted sandbox forgot it), makes p unknown with ev: left in flight,
// nobody would look at it again; as unknown, a manager does, while it is
// still asked about. The error is then errDisowned, whether or not a
// webhook moved p on during the call.
func (f *Flow) unanswered(ctx context.Context, p db.Payout, ch db.Change, ev db.Event, err error) error {
	if p.ProviderID == "" || !providers.NotFound(err) {
		f.record(ctx, p, ch, db.Event{})
		if !errors.Is(err, providers.ErrUnsupported) {
			f.Log.InfoContext(ctx, "reconcile: no answer", "payout", p.ID, slog.Any("error", err))
		}
		return err
	}
	if p.Status == db.StatusUnknown {
		ev = db.Event{}
	} else {
		// Only from the status the 404 was asked about: a webhook that
		// moved the payout on during the call is the provider holding it.
		ch.To, ch.Only, ch.ErrorMessage = db.StatusUnknown, []db.Status{p.Status}, "Unknown to the provider: "+providers.Describe(err)
		ev.Details = map[string]any{"source": "reconciliation", "why": disowned}
	}
	f.record(ctx, p, ch, ev)
	f.Log.WarnContext(ctx, "reconcile: provider has no such payout", "payout", p.ID, slog.Any("error", err))
	return fmt.Errorf("%w: %w", errDisowned, err)
}

// applyAnswer records what the provider said of p when asked: its status,
// if it moves the payout on, with ev; otherwise only the exchange.
func (f *Flow) applyAnswer(ctx context.Context, p db.Payout, res providers.Result, ev db.Event) {
	ch := withResult(db.Change{CountCheck: true, CheckAt: f.nextCheck(p.Checks + 1)}, res)
	to := answered(p, res.Status)
	if to == p.Status || !db.CanTransition(p.Status, to) {
		// Nothing new, or something older than what we know: record the
		// exchange only, and an id the payout did not have.
		ch.ErrorCode, ch.ErrorMessage = "", ""
		f.record(ctx, p, ch, learnt(p, &ch))
		return
	}
	ch.To = to
	if to == db.StatusAwaitingConfirmation {
		ch.CheckAt = f.Now()
	}
	ev.Details = map[string]any{"source": "reconciliation", "raw_status": res.RawStatus}
	if to == db.StatusUnknown {
		ev.Details["why"] = unsettled
	}
	f.record(ctx, p, ch, ev)
}

// learnt returns the event of an answer about p that moves no status but
// gives p the provider's id for it, which p did not have: the id says
// where the money went, so it is audited, as recordLate does. An id p
// already holds is never replaced. Otherwise no event: the answer is
// recorded as an exchange only.
func learnt(p db.Payout, ch *db.Change) db.Event {
	if p.ProviderID != "" {
		ch.ProviderID = ""
	}
	if ch.ProviderID == "" {
		return db.Event{}
	}
	ch.Record = true
	ev := systemEvent("payout.provider_id_learned")
	ev.Details = map[string]any{"source": "reconciliation", "provider_id": ch.ProviderID, "raw_status": ch.RawStatus}
	return ev
}

// errDisowned: the provider answered that it has no such payout. The
// payout became unknown, unless a webhook moved it on meanwhile.
var errDisowned = errors.New("the provider has no such payout")

// disowned says why a payout the provider no longer knows became unknown.
const disowned = "the provider answered that it has no such payout, though it had accepted it: it is asked again, and a manager may settle it by hand"

// unsettled says why a provider's status made a payout unknown.
const unsettled = "the provider's status does not say whether the payout was paid: it is asked again, and a manager may settle it by hand"

// answered is the status payout p moves to when its provider reports s. A
// status that settles nothing (Smart Glocal's "error", which their support
// resolves, or one no document lists) makes a payout the provider holds
// unknown, where a manager sees it and may decide, while reconciliation
// keeps asking. A payout being sent, or one already unknown or final,
// stays where it is; so does one already confirmed that the provider's
// copy still shows waiting for the confirm (it lags behind).
func answered(p db.Payout, s providers.Status) db.Status {
	to := lifecycleStatus(s)
	switch {
	case to == db.StatusAwaitingConfirmation && !p.ConfirmedAt.IsZero():
		return p.Status
	case to != db.StatusUnknown:
		return to
	}
	switch p.Status {
	case db.StatusProcessing, db.StatusAwaitingCustomer, db.StatusAwaitingConfirmation:
		return db.StatusUnknown
	}
	return p.Status
}

// confirm answers Smart Glocal's confirm step: the provider's session must
// still hold the payout's amount, currency and recipient, else the session
// is cancelled and the payout says why. call bounds the provider calls;
// ctx, which outlives it, records what they answered; changed is the event
// of a session the provider no longer has (see unanswered). It returns the
// error of a lookup or confirm that went unanswered.
func (f *Flow) confirm(ctx, call context.Context, rail providers.Rail, p db.Payout, changed db.Event) error {
	res, err := rail.Lookup(call, refOf(p))
	if err != nil {
		ch := db.Change{CountCheck: true, CheckAt: f.nextCheck(p.Checks + 1), Exchanges: exchanges(res.Exchanges)}
		return f.unanswered(ctx, p, ch, changed, err)
	}
	if lifecycleStatus(res.Status) != db.StatusAwaitingConfirmation {
		// Already moved on (confirmed elsewhere, cancelled by the provider):
		// record what the lookup said, without asking again.
		f.applyAnswer(ctx, p, res, systemEvent("payout.status_changed"))
		return nil
	}
	seen := exchanges(res.Exchanges)
	if diffs := sessionDiffs(p, rail.Beneficiary(providerPayout(p)), res); len(diffs) > 0 {
		cres, cerr := rail.Cancel(call, refOf(p))
		// Recorded even if the provider's webhook reports the cancellation first.
		ch := withResult(db.Change{Exchanges: seen, CountCheck: true, CheckAt: f.nextCheck(p.Checks + 1), Record: true}, cres)
		ch.ErrorCode = "session_mismatch"
		ch.ErrorMessage = "Cancelled instead of confirmed: the provider's session differs from the payout (" + strings.Join(diffs, "; ") + ")."
		ev := systemEvent("payout.confirmation_refused")
		ev.Outcome, ev.Reason = db.OutcomeFailure, strings.Join(diffs, "; ")
		if cerr == nil && lifecycleStatus(cres.Status) == db.StatusCancelled {
			ch.To = db.StatusCancelled
		}
		f.record(ctx, p, ch, ev)
		return nil
	}
	// The confirm releases the money: that it was sent is on record
	// before it is, as the create's attempt is, so that a crash or a lost
	// answer leaves its trace in the audit log.
	sending := db.Change{Exchanges: seen, Record: true, Only: []db.Status{db.StatusAwaitingConfirmation}}
	if err := f.Payouts.Change(ctx, p.ID, sending, systemEvent("payout.confirming")); err != nil {
		// Moved on meanwhile (a webhook), or not recorded: no confirm
		// without its record. The next check asks again.
		f.Log.InfoContext(ctx, "confirm not sent", "payout", p.ID, slog.Any("error", err))
		return nil
	}
	cres, cerr := rail.Confirm(call, refOf(p))
	ch := withResult(db.Change{}, cres)
	if cerr != nil {
		// Whether the confirm arrived is unknown: look again soon; a second
		// confirm of a confirmed session is refused harmlessly.
		ch.CountCheck, ch.CheckAt, ch.Record = true, f.nextCheck(p.Checks+1), true
		ev := systemEvent("payout.confirm_unanswered")
		ev.Outcome, ev.Reason = db.OutcomeFailure, cerr.Error()
		f.record(ctx, p, ch, ev)
		return cerr
	}
	ch.Confirmed, ch.Record = true, true
	ch.To = lifecycleStatus(cres.Status)
	if ch.To == db.StatusAwaitingConfirmation || ch.To == db.StatusUnknown {
		ch.To = db.StatusProcessing
	}
	ch.CheckAt = f.nextCheck(0)
	ev := systemEvent("payout.confirmed")
	ev.Details = map[string]any{"checked": "amount, currency and recipient match the payout"}
	f.record(ctx, p, ch, ev)
	return nil
}

// sessionDiffs lists how the provider's view of a payout differs from ours;
// want is who the payout's form names.
func sessionDiffs(p db.Payout, want providers.Beneficiary, res providers.Result) []string {
	var diffs []string
	amount := amountOf(p)
	switch {
	case res.Amount == nil:
		diffs = append(diffs, "the provider did not say the amount")
	case !strings.EqualFold(res.Amount.Currency, amount.Currency) || res.Amount.Minor != amount.Minor:
		diffs = append(diffs, fmt.Sprintf("amount %s, expected %s", res.Amount, amount))
	}
	if !strings.EqualFold(strings.TrimSpace(res.Beneficiary.Name), strings.TrimSpace(p.BeneficiaryName)) {
		diffs = append(diffs, fmt.Sprintf("recipient %q, expected %q", res.Beneficiary.Name, p.BeneficiaryName))
	}
	got := res.Beneficiary
	switch {
	case got.AccountMasked != p.BeneficiaryAccount:
		diffs = append(diffs, fmt.Sprintf("account %s, expected %s", got.AccountMasked, p.BeneficiaryAccount))
	// Both whole: the last four characters are not enough.
	case got.AccountPrint != "" && want.AccountPrint != "" && got.AccountPrint != want.AccountPrint:
		diffs = append(diffs, fmt.Sprintf("account %s is another account with the same last characters", got.AccountMasked))
	}
	return diffs
}

// ApplyWebhook records a verified webhook and applies its status to the
// payout it names, in one transaction; a duplicate is recorded and not
// applied, and a status older than what we know changes nothing. For
// providers whose webhooks are only hints, the payout is re-read first.
func (f *Flow) ApplyWebhook(ctx context.Context, name providers.Name, u providers.Update, ev db.Event) error {
	if ev.Details == nil {
		ev.Details = map[string]any{}
	}
	p, err := f.Payouts.Match(ctx, string(name), u.Reference, u.ProviderID, u.PaymentID)
	if errors.Is(err, db.ErrNotFound) {
		ev.Details["payout"] = "none matches"
		_, err := f.Webhooks.Received(ctx, string(name), u.EventID, ev, nil)
		return err
	}
	if err != nil {
		return err
	}
	ev.Details["payout_id"] = p.ID
	if p.SubmittedAt.IsZero() {
		// Never sent (waiting for approval, rejected, still queued): no
		// provider can know of it, whatever a signed body says.
		ev.Details["ignored"] = "the payout was never sent to the provider"
		_, err := f.Webhooks.Received(ctx, string(name), u.EventID, ev, nil)
		return err
	}
	said := webhookNews{ch: db.Change{ProviderID: u.ProviderID, PaymentID: u.PaymentID, ProviderReference: u.ProviderReference,
		RawStatus: u.RawStatus, ErrorCode: u.ErrorCode, ErrorMessage: u.ErrorMessage, PayoutOption: u.PayoutOption},
		status: u.Status, word: u.RawStatus, refunded: u.Refunded, message: u.ErrorMessage}
	if u.HintOnly {
		rail, _ := f.Rails.Get(name)
		ref := refOf(p)
		if ref.ProviderID == "" && (p.Status == db.StatusUnknown || p.EndedUnpaid()) {
			// We never learnt the provider's id (the create's answer was
			// lost, and the payout is unknown or was settled by hand):
			// the hint's is worth asking about, and kept only if the
			// provider says that payout carries our reference. A payout
			// still being sent waits for its answer instead.
			ref.ProviderID = u.ProviderID
		}
		cctx, cancel := context.WithTimeout(ctx, f.SendTimeout)
		res, lerr := rail.Lookup(cctx, ref)
		cancel()
		if lerr == nil && p.ProviderID == "" && res.Reference != p.Reference {
			lerr = fmt.Errorf("the provider's payout %s carries reference %q, not this payout's", ref.ProviderID, res.Reference)
		}
		if lerr != nil {
			// Unverified: keep the exchange, leave the status to reconciliation.
			said.ch, said.hold = db.Change{Exchanges: exchanges(res.Exchanges), CheckAt: f.Now()}, true
			ev.Details["lookup"] = "failed: " + lerr.Error()
		} else {
			said.ch, said.status, said.word = withResult(db.Change{}, res), res.Status, res.RawStatus
			ev.Details["lookup"] = string(res.Status)
		}
	}
	var to db.Status
	_, err = f.Webhooks.Received(ctx, string(name), u.EventID, ev, func(tx *sql.Tx) error {
		// Decided on the payout as it is now: the lookup above may have
		// taken seconds, and a manager may have settled it meanwhile.
		cur, err := f.Payouts.FreshTx(ctx, tx, p)
		if err != nil {
			return err
		}
		var change db.Change
		var contradicted bool
		change, to, contradicted = webhookChange(name, cur, said, ev.Details)
		pe := systemEvent("payout.status_changed")
		pe.Actor = db.Actor{Type: db.ActorProvider, ID: string(name)}
		pe.Details = map[string]any{"source": "webhook", "event_id": u.EventID}
		if contradicted && (change.ErrorMessage != "" || change.RawStatus != "") {
			// No status change, but an event of its own, once per new word.
			pe.Action, pe.Outcome = "payout.contradicted", db.OutcomeFailure
			pe.Details["raw_status"] = said.word
			change.Record = true
		}
		if to != cur.Status {
			change.To = to
			change.Fields = f.finalFields(cur, to)
			switch to {
			case db.StatusAwaitingConfirmation:
				change.CheckAt = f.Now()
			case db.StatusUnknown:
				pe.Details["why"] = unsettled
				change.CheckAt = f.nextCheck(0)
			default:
				if to.InFlight() && cur.NextCheckAt.IsZero() {
					// Moved on while its send was under way (a payout
					// being sent has no check date): should the send's
					// answer never be recorded (the process dies), the
					// payout must still be asked about.
					change.CheckAt = f.nextCheck(0)
				}
			}
		}
		if change.IsZero() {
			return nil
		}
		err = f.Payouts.ChangeTx(ctx, tx, cur.ID, change, pe)
		if errors.Is(err, db.ErrIllegalTransition) {
			ev.Details["ignored"] = fmt.Sprintf("stale: %s cannot follow %s", to, cur.Status)
			change.To, change.Fields = "", nil
			change.ErrorCode, change.ErrorMessage, change.RawStatus = "", "", ""
			return f.Payouts.ChangeTx(ctx, tx, cur.ID, change, db.Event{})
		}
		return err
	})
	if err == nil && to == db.StatusAwaitingConfirmation {
		f.Notify()
	}
	return err
}

// webhookNews is what a verified delivery says of a payout, after the
// lookup a hint calls for: the change it carries, the provider's status
// and its word for it, whether the money came back, the provider's own
// message; hold when a hint could not be checked, so the status stays.
type webhookNews struct {
	ch       db.Change
	status   providers.Status
	word     string
	refunded bool
	message  string
	hold     bool
}

// webhookChange works out what news does to payout p: the change, the
// status it moves to, and whether it contradicts p's final status. Why a
// word was set aside is noted in details, the delivery's record.
func webhookChange(name providers.Name, p db.Payout, news webhookNews, details map[string]any) (db.Change, db.Status, bool) {
	ch, to := news.ch, p.Status
	if !news.hold {
		to = answered(p, news.status)
	}
	if p.ProviderID != "" {
		ch.ProviderID = "" // never overwrite an id we already hold
	}
	// A final status is final, yet the provider may say otherwise later:
	// the money came back after it was paid (Kibramoa's REFUNDED after
	// COMPLETED), or one of the words contradiction finds. The status
	// stays; the payout says so in red, audited as a failure, and its
	// creator's dashboard lists it.
	var contradicted bool
	switch code := contradiction(p, to); {
	case p.Status == db.StatusPaid && news.refunded:
		contradicted = true
		ch.ErrorCode, ch.ErrorMessage = db.ReversedAfterPaid, afterPaidMessage(name, news.word, news.message, false)
	case code != "":
		contradicted = true
		ch.ErrorCode, ch.ErrorMessage = code, contradictionMessage(name, code, to, news.word, news.message, p)
	case news.refunded && to == db.StatusFailed && ch.ErrorCode == "":
		ch.ErrorCode = db.RefundedCode
	}
	if contradicted {
		to = p.Status
	}
	ch = unchangedDropped(ch, p, to)
	if p.Status.Final() && !contradicted && (ch.RawStatus != "" || ch.ErrorCode != "" || ch.ErrorMessage != "") {
		// The outcome is settled: a later word (a status we cannot map,
		// say) is recorded with the delivery, not over the final one.
		ch.RawStatus, ch.ErrorCode, ch.ErrorMessage = "", "", ""
		if _, noted := details["ignored"]; !noted {
			details["ignored"] = "the payout is " + string(p.Status) + " already"
		}
	}
	return ch, to, contradicted
}

// contradiction is the error code that marks final payout p when its
// provider's word, read as status to, says otherwise, or "": paid after it
// ended unpaid (creating it again could pay twice), ended unpaid after a
// manager settled it as paid, or still held after a manager settled it as
// failed. Against the provider's own final word, an unpaid end or a word
// that it holds the payout is a late delivery, not news; and a payout
// whose money came back was paid first, so a "paid" after it is late too.
func contradiction(p db.Payout, to db.Status) string {
	switch {
	case !p.Status.Final():
	case p.Status == db.StatusPaid:
		if p.ErrorCode == db.SettledPaidByHand && to.Final() && to != db.StatusPaid {
			return db.ReversedAfterPaid
		}
	case p.ErrorCode == db.RefundedCode:
	case to == db.StatusPaid:
		return db.PaidAfterEnd
	case p.ErrorCode == db.SettledFailedByHand && to.InFlight() && to != db.StatusUnknown:
		return db.PaidAfterEnd
	}
	return ""
}

// contradictionMessage tells people what contradiction's code means for
// payout p, given the provider's word (read as status to) and its own
// message.
func contradictionMessage(name providers.Name, code string, to db.Status, word, said string, p db.Payout) string {
	if code == db.ReversedAfterPaid {
		return afterPaidMessage(name, word, said, true)
	}
	return paidAfterEndMessage(name, word, to == db.StatusPaid, p)
}

// afterPaidMessage tells people what a provider said (word, and its own
// message when it gave one) of a payout that read as paid: paid by the
// provider, or settled as paid by a manager (byHand).
func afterPaidMessage(name providers.Name, word, said string, byHand bool) string {
	when, meaning, unsaid := "was paid", "the money went back instead of staying with the beneficiary", "a refund"
	if byHand {
		when, meaning, unsaid = "was settled as paid by hand", "the beneficiary may not have the money", "a failure"
	}
	msg := fmt.Sprintf("%s reported %s after this payout %s: %s. Check with %s before telling the customer it was paid.",
		name.Title(), cmp.Or(word, unsaid), when, meaning, name.Title())
	if said != "" {
		msg += " Its words: " + said
	}
	return msg
}

// paidAfterEndMessage tells people that a provider reported paid, or
// still under way (word), payout p, which had ended unpaid; what ended it
// is kept after.
func paidAfterEndMessage(name providers.Name, word string, paid bool, p db.Payout) string {
	maybe := "the money may have been paid after all"
	if !paid {
		maybe = "the money may yet be paid"
	}
	msg := fmt.Sprintf("%s reported %s after this payout had ended as %s: %s. "+
		"Check with %s before creating it again, or it may be paid twice.", name.Title(), cmp.Or(word, "it paid"), p.Status.Label(), maybe, name.Title())
	ended := p.ErrorMessage
	if p.ErrorCode == db.PaidAfterEnd {
		// Said before ("under way", now "paid"): how the payout had ended
		// is at the end of that message, after the first endedWith.
		_, ended, _ = strings.Cut(ended, endedWith)
	}
	if ended != "" {
		msg += endedWith + ended
	}
	return msg
}

// endedWith introduces, in paidAfterEndMessage, how the payout had ended.
const endedWith = " It had ended with: "

// unchangedDropped clears the values of ch that the payout already holds,
// so that a webhook repeating what we know writes nothing but its record.
// A payout leaving unknown (moving to to) keeps its error words only if
// the change gives them again (db.Payouts.ChangeTx drops the words that
// made it unknown): the provider's own, repeated, stay in the change.
func unchangedDropped(ch db.Change, p db.Payout, to db.Status) db.Change {
	leaving := p.Status == db.StatusUnknown && to != p.Status
	for _, f := range []struct {
		v    *string
		have string
		keep bool
	}{
		{&ch.ProviderID, p.ProviderID, false}, {&ch.PaymentID, p.PaymentID, false}, {&ch.ProviderReference, p.ProviderReference, false},
		{&ch.RawStatus, p.RawStatus, false}, {&ch.ErrorCode, p.ErrorCode, leaving}, {&ch.ErrorMessage, p.ErrorMessage, leaving},
		{&ch.CashierURL, p.CashierURL, false}, {&ch.PayoutOption, p.PayoutOption, false},
	} {
		if !f.keep && *f.v == f.have {
			*f.v = ""
		}
	}
	return ch
}
