package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/views"
	payoutsview "payoutdesk/views/payouts"
)

// inboxPage is how many payouts the approvals inbox shows at a time.
const inboxPage = 100

// Inbox is the managers' inbox of payouts waiting for approval, oldest
// waiting (soonest to expire) first, a page at a time (GET /approvals).
func (h *Payouts) Inbox(w http.ResponseWriter, r *http.Request) {
	after, msg := pageCursor(r.URL.Query(), "after")
	if msg != "" {
		render(w, r, h.Log, http.StatusUnprocessableEntity, payoutsview.Approvals(payoutsview.ApprovalsPage{CursorError: msg}))
		return
	}
	list, err := h.Store.List(r.Context(), db.PayoutFilter{Status: db.StatusPendingApproval, OldestFirst: true, After: after, Limit: inboxPage})
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	me, _ := UserFrom(r.Context())
	page := payoutsview.ApprovalsPage{}
	for _, p := range list {
		_, why := h.Approvals.Needs(p.Provider, amountOf(p))
		page.Rows = append(page.Rows, payoutsview.ApprovalRow{
			ID: p.ID, CreatedAt: p.CreatedAt, ExpiresAt: p.CreatedAt.Add(h.ApprovalTTL), Provider: providers.Name(p.Provider).Title(),
			Sandbox: sandboxed(h.Rails, providers.Name(p.Provider)), Amount: amountOf(p).String(), Beneficiary: p.BeneficiaryName,
			Account: p.BeneficiaryAccount, CreatedBy: p.CreatedByEmail, Own: p.CreatedBy == me.ID, Why: why,
		})
	}
	if len(list) == inboxPage {
		page.NextURL = "/approvals?after=" + strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	render(w, r, h.Log, http.StatusOK, payoutsview.Approvals(page))
}

// Approve approves a payout waiting for approval and queues it for sending
// (POST /payouts/{id}/approve). The form carries the hash of what the
// manager saw; a payout that has changed since, or that they created
// themselves, is refused, whatever the client sends.
func (h *Payouts) Approve(w http.ResponseWriter, r *http.Request) {
	p, ok := h.decisionOn(w, r)
	if !ok {
		return
	}
	me, _ := UserFrom(r.Context())
	switch {
	case p.Status != db.StatusPendingApproval:
		h.tooLate(w, r, p, event(r, "payout.approved"),
			"This payout is not waiting for approval (it is "+p.Status.Label()+"); nothing was changed.")
		return
	case p.CreatedBy == me.ID:
		h.refuse(w, r, p, "payout.approval_refused", http.StatusForbidden, "Nobody approves their own payout: another manager must approve it.")
		return
	case r.PostForm.Get("seen") != h.Flow.approvalHash(p):
		h.refuse(w, r, p, "payout.approval_refused", http.StatusConflict, "The payout changed after you opened it. Review it again before approving.")
		return
	case h.expired(p):
		h.expire(w, r, p)
		return
	}
	// An approval carries no free text: the form offers none, and what
	// the manager approved is the hash of what they saw.
	ev := event(r, "payout.approved")
	hash := h.Flow.approvalHash(p)
	ev.Details = map[string]any{"approval_hash": hash}
	ch := db.Change{Only: []db.Status{db.StatusPendingApproval}, To: db.StatusQueued, Enqueue: true, ApprovalHash: hash, ApprovedBy: me.ID}
	if h.decide(w, r, p, ch, ev, "Someone else decided on this payout first; nothing was changed.", "Approved. The payout is queued for sending.") {
		h.Flow.Notify()
	}
}

// Reject rejects a payout waiting for approval, with a mandatory reason
// (POST /payouts/{id}/reject).
func (h *Payouts) Reject(w http.ResponseWriter, r *http.Request) {
	p, ok := h.decisionOn(w, r)
	if !ok {
		return
	}
	me, _ := UserFrom(r.Context())
	switch {
	case p.Status != db.StatusPendingApproval:
		// Before the reason is read: the page has no reject form that a
		// message about it could be next to.
		h.tooLate(w, r, p, event(r, "payout.rejected"),
			"This payout is not waiting for approval any more (it is "+p.Status.Label()+"); nothing was changed.")
		return
	case p.CreatedBy == me.ID:
		h.refuse(w, r, p, "payout.rejection_refused", http.StatusForbidden,
			"Nobody rejects their own payout: another manager must decide on it. To take it back, withdraw it.")
		return
	case h.expired(p):
		// Past its time it has expired, whoever finds it first, as when
		// approved or withdrawn.
		h.expire(w, r, p)
		return
	}
	h.endWithReason(w, r, p, "payout.rejected", db.StatusRejected, "Rejected",
		"This payout is not waiting for approval any more; nothing was changed.", "Rejected. The agent sees your reason on the payout.")
}

// Withdraw lets the creator of a payout waiting for approval take it back,
// with a mandatory reason, before anyone decides on it (POST
// /payouts/{id}/withdraw): a mistake found while waiting is cancelled
// rather than left for a manager to reject.
func (h *Payouts) Withdraw(w http.ResponseWriter, r *http.Request) {
	p, ok := h.decisionOn(w, r)
	if !ok {
		return
	}
	me, _ := UserFrom(r.Context())
	switch {
	case p.CreatedBy != me.ID:
		// The page this came from offered no such form: the answer is the
		// error page, which says why whatever the payout's status.
		why := "Only the payout's creator can withdraw it; a manager can reject it instead. Nothing was changed."
		if h.recordRefusal(w, r, p, "payout.withdrawal_refused", why) {
			errorPage(w, r, http.StatusForbidden, "Not yours to withdraw", why)
		}
		return
	case p.Status != db.StatusPendingApproval:
		h.tooLate(w, r, p, event(r, "payout.withdrawn"),
			"This payout is not waiting for approval any more (it is "+p.Status.Label()+"); nothing was withdrawn.")
		return
	case h.expired(p):
		h.expire(w, r, p)
		return
	}
	h.endWithReason(w, r, p, "payout.withdrawn", db.StatusCancelled, "Withdrawn",
		"This payout was approved, rejected or expired meanwhile; nothing was withdrawn.",
		"Withdrawn. Nothing will be sent; you can create the payout again with corrected details.")
}

// endWithReason ends p, waiting for approval, in status to with the
// form's mandatory reason: audited as action, and shown on the payout as
// "<verb> by <email>: <reason>". raced and done are as for decide.
func (h *Payouts) endWithReason(w http.ResponseWriter, r *http.Request, p db.Payout, action string, to db.Status, verb, raced, done string) {
	me, _ := UserFrom(r.Context())
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	if msg := reasonError(reason); msg != "" {
		h.reasonError(w, r, p, msg)
		return
	}
	ev := event(r, action)
	ev.Reason = reason
	ch := db.Change{Only: []db.Status{db.StatusPendingApproval}, To: to, ErrorMessage: verb + " by " + me.Email + ": " + reason,
		Fields: h.Flow.finalFields(p, to)}
	h.decide(w, r, p, ch, ev, raced, done)
}

// decide applies a decision ch on p with its audit event, then
// shows the payout with done, or with raced when another decision got there
// first (ch.Only no longer holds): the decision that came too late is
// audited too, as a failure. It reports whether ch was applied.
func (h *Payouts) decide(w http.ResponseWriter, r *http.Request, p db.Payout, ch db.Change, ev db.Event, raced, done string) bool {
	err := h.Store.Change(r.Context(), p.ID, ch, ev)
	switch {
	case errors.Is(err, db.ErrIllegalTransition):
		// Recorded with what the payout is now, not the store's error.
		now, err := h.Store.Get(r.Context(), p.ID)
		if err != nil {
			serverError(w, r, h.Log, err)
			return false
		}
		h.tooLate(w, r, now, ev, raced)
		return false
	case err != nil:
		serverError(w, r, h.Log, err)
		return false
	}
	h.flash(w, r, p.ID, "success", done)
	redirect(w, r, payoutPath(p.ID))
	return true
}

// tooLate records a decision ev that came after payout p, as it is now,
// stopped waiting for it (another manager decided first, or the payout
// moved on) as a failure, and shows the payout with msg.
func (h *Payouts) tooLate(w http.ResponseWriter, r *http.Request, p db.Payout, ev db.Event, msg string) {
	ev.Action, ev.Outcome = ev.Action+"_too_late", db.OutcomeFailure
	ev.Details = map[string]any{"problem": "it is " + string(p.Status)}
	if err := h.Store.Change(r.Context(), p.ID, db.Change{Record: true}, ev); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	h.flash(w, r, p.ID, "warning", msg)
	redirect(w, r, payoutPath(p.ID))
}

// reasonError says what is wrong with a mandatory reason; "" if nothing.
func reasonError(reason string) string {
	if n := len([]rune(reason)); n < 10 || n > 1000 {
		return "Give a reason of 10 to 1000 characters."
	}
	return textProblem("The reason", reason, true)
}

// refuse records a refused decision on p as action, with why, and shows
// the payout again with why at its approval card.
func (h *Payouts) refuse(w http.ResponseWriter, r *http.Request, p db.Payout, action string, status int, why string) {
	if h.recordRefusal(w, r, p, action, why) {
		h.decisionError(w, r, p, status, why)
	}
}

// recordRefusal audits a refused action on p, with why; if that fails, it
// answers the request and reports false.
func (h *Payouts) recordRefusal(w http.ResponseWriter, r *http.Request, p db.Payout, action, why string) bool {
	ev := event(r, action)
	ev.Outcome, ev.Reason = db.OutcomeFailure, why
	if err := h.Store.Change(r.Context(), p.ID, db.Change{Record: true}, ev); err != nil {
		serverError(w, r, h.Log, err)
		return false
	}
	return true
}

// reasonError shows the payout again with msg at the reason to reject.
func (h *Payouts) reasonError(w http.ResponseWriter, r *http.Request, p db.Payout, msg string) {
	h.showDecision(w, r, p, http.StatusUnprocessableEntity, payoutsview.Approval{ReasonError: msg})
}

// decisionError shows the payout again with a message at its approval card.
func (h *Payouts) decisionError(w http.ResponseWriter, r *http.Request, p db.Payout, status int, msg string) {
	h.showDecision(w, r, p, status, payoutsview.Approval{Error: msg})
}

// showDecision shows the payout again with the messages of answer at its
// approval card, and the reason as typed.
func (h *Payouts) showDecision(w http.ResponseWriter, r *http.Request, p db.Payout, status int, answer payoutsview.Approval) {
	fresh, err := h.Store.Get(r.Context(), p.ID)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	page, err := h.showPage(r, fresh)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	page.Approval.Error, page.Approval.ReasonError = answer.Error, answer.ReasonError
	page.Approval.Reason = strings.TrimSpace(r.PostForm.Get("reason"))
	h.renderShow(w, r, status, page)
}

func (h *Payouts) expired(p db.Payout) bool {
	return h.ApprovalTTL > 0 && h.Now().Sub(p.CreatedAt) > h.ApprovalTTL
}

// expire ends a payout that waited too long, found while deciding on it.
func (h *Payouts) expire(w http.ResponseWriter, r *http.Request, p db.Payout) {
	ended, err := h.Flow.expire(r.Context(), p, h.ApprovalTTL)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	if ended {
		h.flash(w, r, p.ID, "warning", "This payout waited too long for approval and has expired; nothing will be sent.")
	} else {
		h.flash(w, r, p.ID, "warning", "This payout is not waiting for approval any more; nothing was changed.")
	}
	redirect(w, r, payoutPath(p.ID))
}

// payoutPath is the address of payout id's page.
func payoutPath(id int64) string { return string(views.PayoutURL(id, "")) }
