package handlers

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"

	"golang.org/x/time/rate"
)

// PayoutStore is the payout storage the workflow needs.
type PayoutStore interface {
	Create(ctx context.Context, np db.NewPayout, ev db.Event) (db.Payout, bool, error)
	Get(ctx context.Context, id int64) (db.Payout, error)
	Match(ctx context.Context, provider, reference, providerID, paymentID string) (db.Payout, error)
	List(ctx context.Context, f db.PayoutFilter) ([]db.Payout, error)
	ClaimOutbox(ctx context.Context, now time.Time, limit int, ev func(db.Payout) db.Event) ([]db.Payout, error)
	Change(ctx context.Context, id int64, ch db.Change, ev db.Event) error
	ChangeTx(ctx context.Context, tx *sql.Tx, id int64, ch db.Change, ev db.Event) error
	FreshTx(ctx context.Context, tx *sql.Tx, p db.Payout) (db.Payout, error)
	Due(ctx context.Context, now time.Time, limit int) ([]db.Payout, error)
	Interrupted(ctx context.Context) ([]db.Payout, error)
	Exchanges(ctx context.Context, payoutID int64) ([]db.Exchange, error)
}

// Flow moves payouts through their lifecycle: it sends queued payouts,
// applies what providers answer, and reconciles payouts whose outcome is
// still open. Every status change goes through db's transition table and
// is audited in the same transaction.
type Flow struct {
	Log      *slog.Logger
	Rails    *providers.Registry
	Payouts  PayoutStore
	Webhooks WebhookStore
	Now      func() time.Time
	// SendTimeout bounds one provider call.
	SendTimeout time.Duration
	// CheckEvery is the first delay before asking a provider again; it
	// doubles with each check up to CheckMax.
	CheckEvery, CheckMax time.Duration
	// Parallel bounds the provider calls under way at once.
	Parallel int
	// CheckRate bounds the checks ReconcileDue makes, a second, all
	// providers together (0: no bound).
	CheckRate float64
	// ApprovalKey keys approval hashes (approvalHash): the installation's
	// own secret, kept in the database beside the account numbers it
	// hides.
	ApprovalKey []byte

	wakeOnce sync.Once
	wake     [2]chan struct{}

	slotsOnce sync.Once
	slots     chan struct{}
	sending   sync.WaitGroup
	// running is set by Start and cleared by Wait; runMu orders it with
	// the sends Create starts.
	runMu   sync.RWMutex
	running bool
	// checking holds the ids of the payouts being reconciled.
	checking sync.Map
	// checks holds CheckRate's budget.
	checksOnce sync.Once
	checks     *rate.Limiter

	// lost holds the outcomes of sends that could not be recorded yet.
	lostMu sync.Mutex
	lost   []lostOutcome
}

// Wakeups returns one channel per worker (sending, reconciliation) that
// receives when there may be new work for it.
func (f *Flow) Wakeups() (send, check <-chan struct{}) {
	f.wakeOnce.Do(func() { f.wake = [2]chan struct{}{make(chan struct{}, 1), make(chan struct{}, 1)} })
	return f.wake[0], f.wake[1]
}

// Notify tells the workers that there may be new work, without blocking.
// Each worker has its own channel, so one never takes another's signal.
func (f *Flow) Notify() {
	f.Wakeups()
	for _, c := range f.wake {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// systemEvent is an audit event by the system (the workers).
func systemEvent(action string) db.Event {
	return db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: action}
}

func providerPayout(p db.Payout) providers.Payout {
	return providers.Payout{
		IdempotencyKey: p.IdempotencyKey,
		Reference:      p.Reference,
		Amount:         amountOf(p),
		Fields:         p.Fields,
	}
}

// amountOf is the payout's amount as providers take it.
func amountOf(p db.Payout) providers.Money {
	return providers.Money{Minor: p.AmountMinor, Currency: p.Currency}
}

func refOf(p db.Payout) providers.Ref {
	return providers.Ref{ProviderID: p.ProviderID, PaymentID: p.PaymentID, Reference: p.Reference, IdempotencyKey: p.IdempotencyKey}
}

// lifecycleStatus maps what a provider says onto the payout lifecycle.
func lifecycleStatus(s providers.Status) db.Status {
	switch s {
	case providers.StatusProcessing:
		return db.StatusProcessing
	case providers.StatusAwaitingCustomer:
		return db.StatusAwaitingCustomer
	case providers.StatusAwaitingConfirmation:
		return db.StatusAwaitingConfirmation
	case providers.StatusPaid:
		return db.StatusPaid
	case providers.StatusFailed:
		return db.StatusFailed
	case providers.StatusCancelled:
		return db.StatusCancelled
	case providers.StatusExpired:
		return db.StatusExpired
	}
	return db.StatusUnknown
}

func exchanges(xs []providers.Exchange) []db.Exchange {
	out := make([]db.Exchange, len(xs))
	for i, x := range xs {
		out[i] = db.Exchange{At: x.Started, Op: x.Op, Method: x.Method, URL: x.URL, RequestHeaders: x.RequestHeader,
			RequestBody: x.RequestBody, Status: x.Status, ResponseBody: x.ResponseBody, DurationMillis: x.DurationMillis, Error: x.Error}
	}
	return out
}

// withResult copies what a provider result says into a change.
func withResult(ch db.Change, res providers.Result) db.Change {
	ch.ProviderID, ch.PaymentID, ch.ProviderReference = res.ProviderID, res.PaymentID, res.ProviderReference
	ch.RawStatus, ch.CashierURL, ch.PayoutOption = res.RawStatus, res.CashierURL, res.PayoutOption
	ch.ErrorCode, ch.ErrorMessage = res.ErrorCode, res.ErrorMessage
	ch.Exchanges = append(ch.Exchanges, exchanges(res.Exchanges)...)
	return ch
}

// nextCheck is when to ask the provider about p again: CheckEvery after the
// first check, doubling up to CheckMax.
func (f *Flow) nextCheck(checks int) time.Time {
	d := f.CheckEvery << min(checks, 16)
	if d <= 0 || d > f.CheckMax {
		d = f.CheckMax
	}
	return f.Now().Add(d)
}

// finalFields masks the account numbers of a payout that will never be
// sent again, so that the database keeps no more than the pages show.
func (f *Flow) finalFields(p db.Payout, to db.Status) map[string]string {
	if !to.Final() {
		return nil
	}
	rail, ok := f.Rails.Get(providers.Name(p.Provider))
	if !ok {
		return nil
	}
	form := rail.Form()
	out := make(map[string]string, len(p.Fields))
	for k, v := range p.Fields {
		out[k] = v
		if fl, ok := form.Field(k); ok && fl.Account && v != "" {
			out[k] = providers.MaskAccount(v)
		}
	}
	return out
}

// Create stores a new payout. While the flow runs (Start), a queued one is
// sent at once when a sending slot is free: its attempt is recorded as
// started in the transaction that creates it, which saves the transaction
// of claiming it from the outbox, a third of a payout's writes before its
// answer. Otherwise it waits in the outbox for SendDue.
func (f *Flow) Create(ctx context.Context, np db.NewPayout, ev db.Event) (db.Payout, bool, error) {
	if np.Status != db.StatusQueued || !f.startSend() {
		p, created, err := f.Payouts.Create(ctx, np, ev)
		if created && p.Status == db.StatusQueued {
			f.Notify()
		}
		return p, created, err
	}
	np.Claim = &db.Claim{At: f.Now(), Event: submittingEvent()}
	p, created, err := f.Payouts.Create(ctx, np, ev)
	if err != nil || !created {
		f.endSend()
		return p, created, err
	}
	go func() {
		defer f.endSend()
		// As in SendDue: not cut short by the request's end or shutdown,
		// and written as the workers' writes are, behind people's.
		f.send(db.LowPriority(context.WithoutCancel(ctx)), p)
	}()
	return p, true, nil
}

// Start lets Create send payouts itself, until Wait. It is called with
// the workers' start, as only then is anyone there to wait for the sends.
func (f *Flow) Start() {
	f.runMu.Lock()
	f.running = true
	f.runMu.Unlock()
}

// startSend takes a sending slot for a send started outside SendDue, if
// the flow runs and one is free, and counts the send for Wait.
func (f *Flow) startSend() bool {
	f.runMu.RLock()
	defer f.runMu.RUnlock()
	if !f.running {
		return false
	}
	select {
	case f.slotPool() <- struct{}{}:
		f.sending.Add(1)
		return true
	default:
		return false
	}
}

func (f *Flow) endSend() {
	<-f.slotPool()
	f.sending.Done()
}

// slotPool holds a token for each send under way, Parallel at most.
func (f *Flow) slotPool() chan struct{} {
	f.slotsOnce.Do(func() { f.slots = make(chan struct{}, max(f.Parallel, 1)) })
	return f.slots
}

// submittingEvent records that a payout's attempt has started.
func submittingEvent() db.Event {
	e := systemEvent("payout.submitting")
	e.Details = map[string]any{"note": "attempt recorded before the request is sent"}
	return e
}

// SendDue claims as many payouts waiting in the outbox as there are free
// sending slots (Parallel in all), waiting for one to free up if none is,
// and starts sending them. It returns how many it claimed; Wait waits for
// the sends under way.
func (f *Flow) SendDue(ctx context.Context) (int, error) {
	f.slotPool()
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// Claiming costs a write transaction: gather a few free slots first,
	// waiting a moment at most, so that one claim serves several payouts.
	free := 1
	gather := time.NewTimer(2 * time.Millisecond)
	defer gather.Stop()
	for free < cap(f.slots) {
		if free >= max(cap(f.slots)/8, 1) {
			select {
			case f.slots <- struct{}{}:
				free++
				continue
			default:
			}
			break
		}
		select {
		case f.slots <- struct{}{}:
			free++
			continue
		case <-gather.C:
		}
		break
	}
	batch, err := f.Payouts.ClaimOutbox(ctx, f.Now(), free, func(db.Payout) db.Event { return submittingEvent() })
	for range free - len(batch) {
		<-f.slots
	}
	for _, p := range batch {
		f.sending.Go(func() {
			defer func() { <-f.slots }()
			// A send is not cut short by shutdown: it would turn an answer
			// on its way into an unknown outcome. It is bounded by SendTimeout.
			f.send(context.WithoutCancel(ctx), p)
		})
	}
	return len(batch), err
}

// Wait waits for the sends under way, and the checks people asked for
// (ReconcileNow), to record their outcome, and tries once more to record
// those that could not be. What is still lost then is "submitting", made
// unknown by Recover at the next start.
func (f *Flow) Wait() {
	// No send starts from a form after this: Create leaves the payout in
	// the outbox, for the next start.
	f.runMu.Lock()
	f.running = false
	f.runMu.Unlock()
	f.sending.Wait()
	f.RetryLost(context.Background())
}

// send makes the provider call for a claimed payout and records its
// outcome. Anything that may have reached the provider and gave no clear
// answer makes the payout unknown: it is never sent as a new payout again.
func (f *Flow) send(ctx context.Context, p db.Payout) {
	rail, ok := f.Rails.Get(providers.Name(p.Provider))
	if !ok {
		f.recordSent(ctx, p, db.Change{To: db.StatusFailed, ErrorMessage: "provider not configured"}, systemEvent("payout.send_failed"))
		return
	}
	if !f.approvedAsSeen(p) {
		// Someone changed the payout after its approval: what would go out
		// is not what the approver saw.
		ev := systemEvent("payout.send_refused")
		ev.Outcome, ev.Reason = db.OutcomeFailure, "the payout differs from what was approved"
		f.recordSent(ctx, p, db.Change{To: db.StatusFailed, ErrorCode: "approval_mismatch",
			ErrorMessage: "Not sent: the payout differs from what its approver saw."}, ev)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, f.SendTimeout)
	res, err := rail.Submit(cctx, providerPayout(p), refOf(p))
	cancel()
	f.recordSubmit(ctx, p, res, err)
}

func (f *Flow) recordSubmit(ctx context.Context, p db.Payout, res providers.Result, err error) {
	ch := withResult(db.Change{}, res)
	var ev db.Event
	switch {
	case err == nil:
		ch.To, ch.Dequeue, ch.Record = lifecycleStatus(res.Status), true, true
		ev = systemEvent("payout.submitted")
		switch {
		case ch.To == db.StatusAwaitingConfirmation:
			ch.CheckAt = f.Now()
		case ch.To.InFlight():
			ch.CheckAt = f.nextCheck(0)
		}
	case providers.OutcomeOf(err) == providers.OutcomeNotSent && !transient(err):
		ch.To, ch.ErrorMessage = db.StatusFailed, "Not sent: "+providers.Describe(err)
		ev = systemEvent("payout.send_failed")
	case providers.OutcomeOf(err) == providers.OutcomeNotSent:
		wait := retryDelay(p.SendAttempts)
		ch.To, ch.Requeue = db.StatusQueued, f.Now().Add(wait)
		ev = requeued(wait, providers.Name(p.Provider).Title()+" could not be reached; nothing was sent")
	case providers.OutcomeOf(err) == providers.OutcomeRejected && providerError(err).Retryable:
		pe := providerError(err)
		// The provider's own wait is kept, within the longest of ours.
		wait := max(retryDelay(p.SendAttempts), min(pe.RetryAfter, maxRetryDelay))
		ch.To, ch.Requeue = db.StatusQueued, f.Now().Add(wait)
		ev = requeued(wait, fmt.Sprintf("%s asked to wait (HTTP %d); nothing was created", pe.Provider.Title(), pe.HTTPStatus))
		ev.Details["http_status"] = pe.HTTPStatus
	case providers.OutcomeOf(err) == providers.OutcomeRejected:
		pe := providerError(err)
		ch.To, ch.ErrorCode, ch.ErrorMessage = db.StatusFailed, errorCode(pe), errorMessage(pe)
		ev = systemEvent("payout.send_failed")
	default:
		ch.To, ch.Dequeue, ch.CheckAt = db.StatusUnknown, true, f.nextCheck(0)
		ch.ErrorMessage = "No clear answer: " + providers.Describe(err)
		ev = systemEvent("payout.outcome_unknown")
	}
	if err != nil {
		// The payout's message is in people's words; the event keeps the
		// whole error for whoever investigates.
		if ev.Details == nil {
			ev.Details = map[string]any{}
		}
		ev.Details["error"] = err.Error()
	}
	// The answer to this attempt applies to a payout still being sent: a
	// webhook may have moved it on while the call was under way.
	f.recordSent(ctx, p, ch, ev)
}

// recordSent records the outcome of a claimed payout's send. One that
// cannot be written is kept and written again by RetryLost: left alone,
// the payout would stay "submitting", which only a restart looks at again
// (Recover). Nothing is inferred from the failure: what the provider
// answered, sent or not sent, is what must be recorded.
func (f *Flow) recordSent(ctx context.Context, p db.Payout, ch db.Change, ev db.Event) {
	ch.Only = []db.Status{db.StatusSubmitting}
	if f.record(ctx, p, ch, ev) != nil {
		f.keepLost(lostOutcome{p, ch, ev})
	}
}

// lostOutcome is a send's outcome that could not be recorded yet.
type lostOutcome struct {
	p  db.Payout
	ch db.Change
	ev db.Event
}

func (f *Flow) keepLost(l lostOutcome) {
	f.lostMu.Lock()
	f.lost = append(f.lost, l)
	f.lostMu.Unlock()
}

// RetryLost records again the send outcomes that could not be recorded;
// it reports how many it recorded.
func (f *Flow) RetryLost(ctx context.Context) int {
	f.lostMu.Lock()
	lost := f.lost
	f.lost = nil
	f.lostMu.Unlock()
	n := 0
	for _, l := range lost {
		if f.record(ctx, l.p, l.ch, l.ev) != nil {
			f.keepLost(l)
			continue
		}
		n++
	}
	return n
}

// record applies a change worked out from a provider's answer; account
// numbers are masked once the payout is final. Its error is logged.
func (f *Flow) record(ctx context.Context, p db.Payout, ch db.Change, ev db.Event) error {
	// A provider's answer is recorded even if the person whose "Refresh
	// status" asked for it was disabled meanwhile.
	ch.FromProvider = true
	if ch.Fields == nil {
		ch.Fields = f.finalFields(p, ch.To)
	}
	err := f.Payouts.Change(ctx, p.ID, ch, ev)
	if errors.Is(err, db.ErrIllegalTransition) && (ch.To != "" || len(ch.Only) > 0) {
		// A webhook moved the payout further meanwhile (it is paid while
		// the answer to our call was on its way), or a manager settled it:
		// keep what we learnt and the record of what we did, leave the
		// newer status.
		f.Log.InfoContext(ctx, "outcome older than the payout's status", "payout", p.ID, "to", ch.To, slog.Any("error", err))
		err = f.recordLate(ctx, p, ch, ev)
	}
	if err != nil {
		f.Log.ErrorContext(ctx, "record payout outcome", "payout", p.ID, "to", ch.To, slog.Any("error", err))
	}
	return err
}

// recordLate records an answer about payout p that came after the payout
// moved on. It is news when it contradicts the payout's final status as a
// webhook saying so would (see contradiction): "paid" for a payout that
// ended unpaid meanwhile, an unpaid end for one a manager settled as paid,
// or "still held" for one a manager settled as failed. The status stays
// (final), but the payout is marked, so that nobody creates it again or
// tells the customer it was paid. Provider ids it learns are audited. A
// send to be tried again after a webhook said the payout was under way
// makes it unknown, due for a check at once.
func (f *Flow) recordLate(ctx context.Context, p db.Payout, ch db.Change, ev db.Event) error {
	older, name := olderOutcome(ch), providers.Name(p.Provider)
	cur, err := f.Payouts.Get(ctx, p.ID)
	if err != nil {
		return err
	}
	if cur.ProviderID != "" {
		older.ProviderID = "" // never overwrite an id we already hold
	}
	if slices.Contains(ch.Only, db.StatusSubmitting) && ch.To == db.StatusQueued && cur.Status.InFlight() && cur.Status != db.StatusUnknown {
		// The provider said the payout was under way while its send was,
		// yet the send's last call provably never reached it and was to be
		// tried again: a webhook for the payout just created, then its
		// start refused with "too many requests". Left in flight, nothing
		// would ever send that call. Unknown, the payout is checked now and
		// resumed where it stands at the provider.
		news := older
		news.To, news.Only, news.CheckAt, news.Dequeue = db.StatusUnknown, []db.Status{cur.Status}, f.Now(), true
		news.ErrorMessage = fmt.Sprintf("%s said it was %s while it was being sent, but the send's last step did not reach %s. Checking with %s.",
			name.Title(), cmp.Or(cur.RawStatus, string(cur.Status)), name.Title(), name.Title())
		uev := systemEvent("payout.outcome_unknown")
		uev.Details = map[string]any{"source": "late answer", "answer": "requeue", "status": string(cur.Status)}
		err := f.Payouts.Change(ctx, p.ID, news, uev)
		if !errors.Is(err, db.ErrIllegalTransition) {
			return err
		}
		// Moved on again meanwhile: keep only what was learnt.
	}
	code := contradiction(cur, ch.To)
	if code != "" {
		msg := contradictionMessage(name, code, ch.To, cmp.Or(ch.RawStatus, string(ch.To)), ch.ErrorMessage, cur)
		news := older
		news.Only, news.Record, news.RawStatus = []db.Status{cur.Status}, true, ch.RawStatus
		news.ErrorCode, news.ErrorMessage = code, msg
		cev := systemEvent("payout.contradicted")
		cev.Outcome = db.OutcomeFailure
		cev.Details = map[string]any{"source": "late answer", "answer": string(ch.To), "raw_status": ch.RawStatus}
		err := f.Payouts.Change(ctx, p.ID, news, cev)
		if !errors.Is(err, db.ErrIllegalTransition) {
			return err
		}
		// Moved on again meanwhile: keep only what was learnt.
	}
	if older.ProviderID != "" {
		// An id the payout did not have: it says where the money went,
		// so it is audited.
		lev := systemEvent("payout.late_answer")
		lev.Details = map[string]any{"answer": string(ch.To), "status": string(cur.Status)}
		older.Record, ev = true, lev
	}
	return f.Payouts.Change(ctx, p.ID, older, ev)
}

// olderOutcome is what to keep of ch once the payout has moved on without
// it: the exchanges and the provider's ids it learnt (still marked as the
// provider's), not a status, an error or a place in the outbox that belong
// to the older outcome.
func olderOutcome(ch db.Change) db.Change {
	ch.To, ch.Only, ch.Fields = "", nil, nil
	ch.RawStatus, ch.ErrorCode, ch.ErrorMessage = "", "", ""
	ch.Requeue = time.Time{}
	return ch
}

// transient reports whether a not-sent error is a network failure worth
// retrying, rather than a request the client refused to build.
func transient(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && !errors.Is(err, providers.ErrUnsupported)
}

// requeued is the event of a payout put back in the queue for wait, why
// saying what happened to it.
func requeued(wait time.Duration, why string) db.Event {
	ev := systemEvent("payout.requeued")
	ev.Reason = fmt.Sprintf("%s; sending again in %d s", why, seconds(wait))
	ev.Details = map[string]any{"retry_in_s": wait.Seconds()}
	return ev
}

// retryDelay spaces out attempts to reach a provider: 2 s doubling to 5 min.
func retryDelay(attempts int) time.Duration {
	return min(2*time.Second<<min(max(attempts-1, 0), 10), maxRetryDelay)
}

// maxRetryDelay bounds the wait before sending a payout again, a
// provider's Retry-After included: a queued payout is one an agent is
// waiting on.
const maxRetryDelay = 5 * time.Minute

func providerError(err error) *providers.Error {
	var pe *providers.Error
	if errors.As(err, &pe) {
		return pe
	}
	return &providers.Error{Message: err.Error()}
}

func errorCode(pe *providers.Error) string {
	if pe.Code != "" {
		return pe.Code
	}
	if pe.HTTPStatus != 0 {
		return fmt.Sprintf("http_%d", pe.HTTPStatus)
	}
	return ""
}

// errorMessage is the provider's own words, with its field errors.
func errorMessage(pe *providers.Error) string {
	msg := pe.Message
	if fields := pe.FieldText(); fields != "" {
		if msg != "" {
			msg += "; "
		}
		msg += fields
	}
	if msg == "" && pe.Err != nil {
		msg = pe.Err.Error()
	}
	return msg
}

// ExpireApprovals expires the payouts that have waited for approval longer
// than ttl, and returns how many. A ttl of 0 expires none.
func (f *Flow) ExpireApprovals(ctx context.Context, ttl time.Duration) (int, error) {
	if ttl <= 0 {
		return 0, nil
	}
	old, err := f.Payouts.List(ctx, db.PayoutFilter{Status: db.StatusPendingApproval, To: f.Now().Add(-ttl), Limit: 100})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range old {
		done, err := f.expire(ctx, p, ttl)
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

// expire ends p, which waited for approval longer than ttl. It reports
// false, and changes nothing, if p no longer waits.
func (f *Flow) expire(ctx context.Context, p db.Payout, ttl time.Duration) (bool, error) {
	ev := systemEvent("payout.expired")
	ev.Reason = "not approved within " + windowText(ttl)
	err := f.Payouts.Change(ctx, p.ID, db.Change{Only: []db.Status{db.StatusPendingApproval}, To: db.StatusExpired,
		ErrorMessage: "Expired: nobody approved it within " + windowText(ttl) + ".", Fields: f.finalFields(p, db.StatusExpired)}, ev)
	if errors.Is(err, db.ErrIllegalTransition) {
		return false, nil
	}
	return err == nil, err
}

// Recover makes every payout whose attempt was interrupted (the process
// stopped after recording it and before recording its outcome) unknown,
// to be settled by reconciliation, never re-sent as new.
func (f *Flow) Recover(ctx context.Context) error {
	list, err := f.Payouts.Interrupted(ctx)
	if err != nil {
		return err
	}
	for _, p := range list {
		ev := systemEvent("payout.outcome_unknown")
		ev.Reason = "the server stopped while this payout was being sent"
		ch := db.Change{To: db.StatusUnknown, Dequeue: true, CheckAt: f.Now(),
			ErrorMessage: "Sending was interrupted by a restart; the provider may have received it."}
		if err := f.Payouts.Change(ctx, p.ID, ch, ev); err != nil {
			return err
		}
		f.Log.WarnContext(ctx, "interrupted payout marked unknown", "payout", p.ID)
	}
	return nil
}
