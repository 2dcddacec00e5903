package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/views"
	payoutsview "payoutdesk/views/payouts"
)

// payout loads the payout named in the path; it has answered (404 or 500)
// when ok is false.
func (h *Payouts) payout(w http.ResponseWriter, r *http.Request) (db.Payout, bool) {
	id, ok := pathID(r, "id")
	if !ok {
		NotFound(w, r)
		return db.Payout{}, false
	}
	p, err := h.Store.Get(r.Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		NotFound(w, r)
		return p, false
	}
	if err != nil {
		serverError(w, r, h.Log, err)
		return p, false
	}
	return p, true
}

// decisionOn reads the payout a decision form names (approve, reject,
// withdraw, resolve) and the form itself; it has answered the request if
// either cannot be read.
func (h *Payouts) decisionOn(w http.ResponseWriter, r *http.Request) (db.Payout, bool) {
	p, ok := h.payout(w, r)
	return p, ok && parseForm(w, r, 64<<10)
}

// Show renders one payout with its timeline (GET /payouts/{id}).
func (h *Payouts) Show(w http.ResponseWriter, r *http.Request) {
	p, ok := h.payout(w, r)
	if !ok {
		return
	}
	page, err := h.showPage(r, p)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	if name := r.URL.Query().Get("notice"); name != "" {
		page.Notice, page.NoticeName = notice(name, page)
	}
	if r.Header.Get("HX-Request") == "true" {
		h.poll(w, r, page)
		return
	}
	h.renderShow(w, r, http.StatusOK, page)
}

// notice is the message a payout page shows for its ?notice= value, and
// that value; nothing for a value that names no notice.
func notice(name string, page payoutsview.ShowPage) (views.Flash, string) {
	n, ok := notices[name]
	if !ok {
		return views.Flash{}, ""
	}
	if name == "created" && page.Provider == string(providers.Kibramoa) {
		n = kibramoaCreated
		if page.CashierShown() {
			n = kibramoaCreatedReady
		}
	}
	return n, name
}

// poll answers the page's htmx polling with its live parts only, and
// with no content (204, and the time it was read) when they are as the
// page's version says it shows them; a status that changed since is said
// in the page's live region. The decision cards (approve or reject, settle
// by hand) stay out of the parts, so that polling never wipes what is
// typed there; once the status has moved on and such a card must come or
// go, the browser loads the payout's page afresh, with a GET: the page
// polling may be the answer to a POST, which a reload would send again.
// The poll's "shown" names the status the page's cards were drawn for.
// Likewise once a cashier address comes in: the page was served with a
// policy that lets forms go to this site only, so its "Open cashier" needs
// the page afresh. The cashier card, out of the polled parts too, comes
// and goes with a reload.
func (h *Payouts) poll(w http.ResponseWriter, r *http.Request, page payoutsview.ShowPage) {
	q := r.URL.Query()
	shown := q.Get("shown")
	if (shown != "" && shown != page.Status) || (shown == "" && (page.Decides() || page.CashierShown())) || (page.CashierURL != "" && q.Get("cashier") == "") {
		// The cashier link coming in is what a Kibramoa payout's page
		// waits for ("appears here in a moment"), not a surprise.
		notice := "moved"
		if q.Get("cashier") == "" && page.CashierShown() {
			notice = "cashier"
		}
		w.Header().Set("HX-Redirect", payoutPath(page.ID)+"?notice="+notice)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	version, err := pollVersion(r.Context(), page)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	sent := q.Get("v")
	if sent == version {
		// Nothing new: the page stays as it is, but for when it was read.
		w.Header().Set("X-Status-As-Of", page.AsOf.Format(time.RFC3339))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	page.Version = version
	parts := payoutsview.PolledSameStatus
	if before, _, ok := strings.Cut(sent, "."); !ok || before != page.Status {
		parts = payoutsview.Polled
		if ok {
			page.StatusSaid = "Status changed: " + page.StatusLabel + "."
		}
	}
	render(w, r, h.Log, http.StatusOK, payoutsview.Show(page), parts...)
}

// pollVersion identifies what page's polled parts show, but for the time
// it was read: its status, then a hash of the parts as drawn, so that
// whatever they come to show (a new event, a provider's id, the next
// check's time) makes another version.
func pollVersion(ctx context.Context, page payoutsview.ShowPage) (string, error) {
	// The notice follows the status, which the version starts with.
	page.AsOf, page.Version, page.StatusSaid = time.Time{}, "", ""
	page.Notice, page.NoticeName = views.Flash{}, ""
	sum := sha256.New()
	if err := templ.RenderFragments(ctx, sum, payoutsview.Show(page), payoutsview.Polled...); err != nil {
		return "", fmt.Errorf("version payout %d: %w", page.ID, err)
	}
	return page.Status + "." + hex.EncodeToString(sum.Sum(nil)[:12]), nil
}

func (h *Payouts) renderShow(w http.ResponseWriter, r *http.Request, status int, page payoutsview.ShowPage) {
	version, err := pollVersion(r.Context(), page)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	page.Version = version
	if origin, ok := webOrigin(page.CashierURL); ok {
		// The "Open cashier" form is redirected to the cashier.
		w.Header().Set("Content-Security-Policy", CSP(origin))
	}
	render(w, r, h.Log, status, payoutsview.Show(page))
}

// webOrigin is the origin of an http(s) URL.
func webOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}

func (h *Payouts) showPage(r *http.Request, p db.Payout) (payoutsview.ShowPage, error) {
	me, _ := UserFrom(r.Context())
	name := providers.Name(p.Provider)
	page := payoutsview.ShowPage{
		ID: p.ID, ProviderTitle: name.Title(), Sandbox: sandboxed(h.Rails, name),
		Status: string(p.Status), StatusLabel: p.Status.Label(), Final: p.Status.Final(),
		Sent: !p.SubmittedAt.IsZero(), Reversed: p.Status == db.StatusPaid && p.ErrorCode == db.ReversedAfterPaid,
		Unpaid: p.EndedUnpaid(), Contradicted: p.Status.Final() && p.ErrorCode == db.PaidAfterEnd, Amount: amountOf(p).String(), Reference: p.Reference,
		BeneficiaryName: p.BeneficiaryName, BeneficiaryAccount: p.BeneficiaryAccount, BeneficiaryCountry: p.BeneficiaryCountry,
		ProviderID: p.ProviderID, PaymentID: p.PaymentID, ProviderReference: p.ProviderReference, RawStatus: p.RawStatus,
		ErrorCode: p.ErrorCode, ErrorMessage: p.ErrorMessage, CashierURL: p.CashierURL, Provider: p.Provider, PayoutOption: p.PayoutOption, CreatedBy: p.CreatedByEmail,
		CreatedAt: p.CreatedAt, NextCheckAt: p.NextCheckAt, AsOf: h.Now().UTC(),
	}
	if !mayUseCashier(me, p) {
		page.CashierURL, page.Withheld = "", true
		if p.PaymentID != "" && strings.Contains(p.CashierURL, p.PaymentID) {
			page.PaymentID = "" // Kibramoa's session id: the link is built from it
		}
	}
	if p.Status == db.StatusUnknown && db.RoleRank(me.Role) >= db.RoleRank(db.RoleManager) {
		page.CanResolve = p.CreatedBy != me.ID
		if !page.CanResolve {
			page.ResolveRefused = resolveOwnMessage
		}
	}
	switch {
	case p.Status == db.StatusPendingApproval:
		_, why := h.Approvals.Needs(p.Provider, amountOf(p))
		manager := db.RoleRank(me.Role) >= db.RoleRank(db.RoleManager)
		page.Approval = payoutsview.Approval{Pending: true, Why: why, ExpiresAt: p.CreatedAt.Add(h.ApprovalTTL),
			Own: manager && p.CreatedBy == me.ID, CanDecide: manager && p.CreatedBy != me.ID, CanWithdraw: p.CreatedBy == me.ID,
			Hash: h.Flow.approvalHash(p)}
	case p.ApprovedBy != 0:
		page.Approval = payoutsview.Approval{ApprovedBy: p.ApprovedByEmail, ApprovedAt: p.ApprovedAt}
	}
	if rail, ok := h.Rails.Get(name); ok {
		page.EndedWhy = endedWhy(p, rail.Capabilities())
		for _, fl := range rail.Form().Fields {
			v, ok := p.Fields[fl.Name]
			if !ok || v == "" || fl.Name == providers.FieldNameAmount || fl.Name == providers.FieldNameCurrency {
				continue
			}
			if fl.Account {
				v = providers.MaskAccount(v)
			}
			if o, ok := option(fl, v); ok {
				v = o.Label
			}
			page.Details = append(page.Details, payoutsview.Detail{Label: fl.Label, Value: v})
		}
	}
	events, err := h.Audit.ByTarget(r.Context(), "payout", strconv.FormatInt(p.ID, 10))
	if err != nil {
		return page, err
	}
	xs, err := h.Store.Exchanges(r.Context(), p.ID)
	if err != nil {
		return page, err
	}
	page.Timeline = timeline(events, xs)
	if p.Status == db.StatusPaid && p.ErrorCode == db.SettledPaidByHand {
		for _, e := range slices.Backward(events) {
			if e.Action == "payout.resolved" {
				page.SettledPaid = "Settled as paid by hand by " + actorName(e.Actor) + ": " + e.Reason
				break
			}
		}
	}
	if page.Withheld {
		for i := range page.Timeline {
			// Kibramoa's answer carries the cashier link.
			page.Timeline[i].Request, page.Timeline[i].Response = "", ""
		}
	}
	return page, nil
}

// mayUseCashier reports whether u may see and open p's cashier link, and
// the provider requests and answers that carry it: whoever holds the link
// chooses where the money goes. Its creator may, and managers, who step in
// for an agent; not the other agents, who may read the payout.
func mayUseCashier(u db.User, p db.Payout) bool {
	return p.CreatedBy == u.ID || db.RoleRank(u.Role) >= db.RoleRank(db.RoleManager)
}

// endedWhy says how payout p ended unpaid when its provider gave no words
// for it: a status alone ("USER_CANCEL") leaves the agent with nothing to
// tell the customer. On a hosted cashier, cancelling and expiring are the
// customer's doing. An error code is the provider's reason, shown as it
// is.
func endedWhy(p db.Payout, caps providers.Capabilities) string {
	if !p.EndedUnpaid() || p.ErrorMessage != "" || p.ErrorCode != "" || p.SubmittedAt.IsZero() {
		return ""
	}
	name := providers.Name(p.Provider).Title()
	switch {
	case caps.HostedCashier && p.Status == db.StatusCancelled:
		return "The customer cancelled in " + name + "'s cashier."
	case caps.HostedCashier && p.Status == db.StatusExpired:
		return "The customer did not finish in " + name + "'s cashier before it expired."
	}
	return name + " reported it " + p.Status.Label() + " without saying why."
}

// timeline merges audit events and provider exchanges by time.
func timeline(events []db.Event, xs []db.Exchange) []payoutsview.TimelineItem {
	var items []payoutsview.TimelineItem
	for _, e := range events {
		it := payoutsview.TimelineItem{At: e.At, Title: eventTitle(e.Action), Who: timelineActor(e.Actor), Outcome: e.Outcome}
		var parts []string
		if before, after := statusChange(e.Details); before != after && after != "" {
			parts = append(parts, db.Status(before).Label()+" → "+db.Status(after).Label())
		}
		if e.Reason != "" {
			parts = append(parts, "Reason: "+e.Reason)
		}
		// In people's words: the audit log's event page has the raw details.
		// A message is the provider's own only when the provider told it
		// (a webhook); Payout Desk words others ("No clear answer: …").
		message := "Message"
		if e.Actor.Type == db.ActorProvider {
			message = "Provider's message"
		}
		for _, f := range [...]struct{ key, label string }{
			{"error_message", message}, {"raw_status", "Provider's status"}, {"payout_option", "Payout option"},
		} {
			if after, ok := e.Details["after"].(map[string]any); ok {
				// A rejection's reason is stored as its message too.
				if v, ok := after[f.key].(string); ok && v != "" && v != e.Reason && !strings.HasSuffix(v, ": "+e.Reason) {
					parts = append(parts, f.label+": "+v)
				}
			}
		}
		it.Summary = strings.Join(parts, " · ")
		items = append(items, it)
	}
	for _, x := range xs {
		it := payoutsview.TimelineItem{At: x.At, Title: "Provider call: " + x.Op, Who: "provider API", Exchange: x.ID,
			Request: x.Method + " " + x.URL + "\n" + x.RequestBody, Response: x.ResponseBody}
		it.Summary = fmt.Sprintf("HTTP %d in %d ms", x.Status, x.DurationMillis)
		if x.Error != "" {
			it.Summary, it.Outcome = fmt.Sprintf("no answer after %d ms: %s", x.DurationMillis, x.Error), db.OutcomeFailure
		}
		items = append(items, it)
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].At.Before(items[j].At) })
	return items
}

// timelineActor names who caused a payout's event, for its timeline: the
// user's email, the provider by name, or the app itself.
func timelineActor(a db.Actor) string {
	switch a.Type {
	case db.ActorProvider:
		return providers.Name(a.ID).Title()
	case db.ActorSystem:
		return "Payout Desk"
	}
	return actorName(a)
}

func statusChange(d map[string]any) (before, after string) {
	if b, ok := d["before"].(map[string]any); ok {
		before, _ = b["status"].(string)
	}
	if a, ok := d["after"].(map[string]any); ok {
		after, _ = a["status"].(string)
	}
	return before, after
}

var eventTitles = map[string]string{
	"payout.approved":             "Approved",
	"payout.rejected":             "Rejected",
	"payout.withdrawn":            "Withdrawn by its creator",
	"payout.withdrawal_refused":   "Withdrawal refused",
	"payout.withdrawn_too_late":   "Withdrawal came too late",
	"payout.expired":              "Expired waiting for approval",
	"payout.approval_refused":     "Approval refused",
	"payout.resolve_refused":      "Settling by hand refused",
	"payout.rejection_refused":    "Rejection refused",
	"payout.approved_too_late":    "Approval came too late",
	"payout.rejected_too_late":    "Rejection came too late",
	"payout.resolved_too_late":    "Settling by hand came too late",
	"payout.send_refused":         "Not sent: differs from the approval",
	"payout.create_refused":       "Another user's form with its key refused",
	"payout.created":              "Created",
	"payout.submitting":           "Sending started",
	"payout.submitted":            "Accepted by the provider",
	"payout.send_failed":          "Refused by the provider",
	"payout.requeued":             "Will retry sending",
	"payout.outcome_unknown":      "Outcome unknown",
	"payout.status_changed":       "Status changed",
	"payout.confirming":           "Confirm sent to the provider",
	"payout.confirm_unanswered":   "Confirm sent, no answer",
	"payout.confirmed":            "Confirmed with the provider",
	"payout.late_answer":          "Provider's answer came after a newer status",
	"payout.provider_id_learned":  "Provider's id for it learnt",
	"payout.confirmation_refused": "Not confirmed: session differs",
	"payout.resolved":             "Settled by hand",
	"payout.cashier_launched":     "Cashier opened",
	"payout.cashier_refused":      "Cashier refused to someone else",
	"payout.contradicted":         "Final status contradicted by the provider",
	"payout.reversed":             "Reported back after it was paid",
}

func eventTitle(action string) string {
	if t, ok := eventTitles[action]; ok {
		return t
	}
	return action
}

// settled is the change a manager's settling of an unknown payout as
// outcome (paid or failed), for reason, makes. Its code marks the status
// as a person's finding, so that a provider's later word against it reads
// as news, not as a stale delivery (see contradiction).
func settled(outcome db.Status, reason string) db.Change {
	ch := db.Change{Only: []db.Status{db.StatusUnknown}, To: outcome, ErrorCode: db.SettledPaidByHand}
	if outcome == db.StatusFailed {
		// What the page shows as the failure is the manager's finding, not
		// the timeout that made the outcome unknown (still in the timeline).
		ch.ErrorCode, ch.ErrorMessage = db.SettledFailedByHand, "Settled as failed by hand: "+reason
	}
	return ch
}

// Refresh asks the provider now (POST /payouts/{id}/refresh): the "Refresh
// status" button, which works without JavaScript.
func (h *Payouts) Refresh(w http.ResponseWriter, r *http.Request) {
	p, ok := h.payout(w, r)
	if !ok {
		return
	}
	if p.SubmittedAt.IsZero() {
		h.flash(w, r, p.ID, "info", "Not sent to the provider, so there is nothing to ask it. Status: "+p.Status.Label()+".")
		redirect(w, r, payoutPath(p.ID))
		return
	}
	asked := h.Flow.ReconcileNow(r.Context(), p, event(r, "payout.status_changed"))
	after, err := h.Store.Get(r.Context(), p.ID)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	kind, msg := refreshMessage(asked, after)
	h.flash(w, r, p.ID, kind, msg)
	redirect(w, r, payoutPath(p.ID))
}

// refreshMessage is what "Refresh status" tells the person who pressed it:
// the flash's kind and text, from the check's outcome asked and the payout
// as it is after it.
func refreshMessage(asked error, after db.Payout) (kind, msg string) {
	// Said as it went: a status the provider was not asked about, or did
	// not answer on, is only the last one known.
	status := "Status: " + after.Status.Label() + "."
	switch {
	case asked == nil:
		return "info", "Asked the provider. " + status
	case errors.Is(asked, errChecking):
		return "info", "The provider was being asked already. " + status
	case errors.Is(asked, errNotInFlight) && after.Status.Final():
		return "info", "Not asked: this payout has ended. " + status
	case errors.Is(asked, errNotInFlight):
		return "info", "Not asked: this payout is still being sent. " + status
	case errors.Is(asked, providers.ErrUnsupported):
		return "info", "Not asked: there is no way yet to look this payout up at the provider; its status changes when the provider reports. " + status
	case errors.Is(asked, errDisowned) && after.Status == db.StatusUnknown:
		return "warning", "The provider says it has no such payout, though it had accepted it: " + providers.Describe(asked) +
			" Its outcome is unknown until the provider finds it or a manager settles it by hand; do not create it again. " + status
	case errors.Is(asked, errDisowned):
		// A webhook moved it on while the provider's 404 was on its way:
		// the provider holds it after all, and its status is the news.
		return "info", "Asked the provider. " + status
	case errors.As(asked, new(*providers.Error)):
		return "warning", "No answer from the provider: " + providers.Describe(asked) + " Payout Desk asks again later. " + status
	default:
		// Not the provider's doing (the payout could not be read, say):
		// its words are for the log, where the check put them, not for
		// the agent.
		return "warning", "The provider could not be asked just now; Payout Desk asks again later. " + status
	}
}

// LaunchCashier records that an agent opened the Kibramoa cashier, then
// sends the browser there (POST /payouts/{id}/cashier).
func (h *Payouts) LaunchCashier(w http.ResponseWriter, r *http.Request) {
	p, ok := h.payout(w, r)
	if !ok {
		return
	}
	if me, _ := UserFrom(r.Context()); !mayUseCashier(me, p) {
		if h.recordRefusal(w, r, p, "payout.cashier_refused", "Only the payout's creator or a manager may open its cashier.") {
			Forbidden(w, r)
		}
		return
	}
	if p.CashierURL == "" || p.Status.Final() {
		h.flash(w, r, p.ID, "warning", "This payout has no open cashier session.")
		redirect(w, r, payoutPath(p.ID))
		return
	}
	ev := event(r, "payout.cashier_launched")
	if err := h.Store.Change(r.Context(), p.ID, db.Change{Record: true}, ev); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	http.Redirect(w, r, p.CashierURL, http.StatusSeeOther)
}

// resolveOwnMessage is why a manager cannot settle their own payout.
const resolveOwnMessage = "Nobody settles their own payout by hand: another manager must settle it."

// Resolve settles an unknown outcome by hand, with a mandatory reason
// (POST /payouts/{id}/resolve, managers).
func (h *Payouts) Resolve(w http.ResponseWriter, r *http.Request) {
	p, ok := h.decisionOn(w, r)
	if !ok {
		return
	}
	if me, _ := UserFrom(r.Context()); p.CreatedBy == me.ID {
		// As with approvals, a second person: settling an unknown payout
		// as failed lets it be created again, which pays twice if the
		// provider did pay it. Whatever its status as read here: it may
		// become unknown before the change is written.
		if !h.recordRefusal(w, r, p, "payout.resolve_refused", resolveOwnMessage) {
			return
		}
		page, err := h.showPage(r, p)
		if err != nil {
			serverError(w, r, h.Log, err)
			return
		}
		h.renderShow(w, r, http.StatusForbidden, page)
		return
	}
	if p.Status != db.StatusUnknown {
		// Before the form is read: the page has no settle form that a
		// message about it could be next to.
		h.tooLate(w, r, p, event(r, "payout.resolved"),
			"Only an unknown outcome is settled by hand, and this payout is "+p.Status.Label()+"; nothing was changed.")
		return
	}
	outcome := db.Status(r.PostForm.Get("outcome"))
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	errs := map[string]string{}
	if outcome != db.StatusPaid && outcome != db.StatusFailed {
		errs["outcome"] = "Say whether the money was paid out."
	}
	if msg := reasonError(reason); msg != "" {
		errs["reason"] = msg
	}
	if len(errs) > 0 {
		page, err := h.showPage(r, p)
		if err != nil {
			serverError(w, r, h.Log, err)
			return
		}
		page.ResolveOutcome, page.ResolveReason, page.ResolveErrors = string(outcome), reason, errs
		h.renderShow(w, r, http.StatusUnprocessableEntity, page)
		return
	}
	ev := event(r, "payout.resolved")
	ev.Reason = reason
	ch := settled(outcome, reason)
	ch.Fields = h.Flow.finalFields(p, outcome)
	h.decide(w, r, p, ch, ev, "This payout is no longer unknown; nothing was changed.", "Decision recorded: "+outcome.Label()+".")
}
