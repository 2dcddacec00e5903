package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"payoutdesk/db"
	"payoutdesk/providers"
	payoutsview "payoutdesk/views/payouts"
)

// Inbox is the managers' inbox of payouts waiting for approval, oldest
// waiting first (GET /approvals).
func (h *Payouts) Inbox(w http.ResponseWriter, r *http.Request) {
	list, err := h.Store.List(r.Context(), db.PayoutFilter{Status: db.StatusPendingApproval, Limit: 500})
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	me, _ := UserFrom(r.Context())
	page := payoutsview.ApprovalsPage{}
	for i := len(list) - 1; i >= 0; i-- {
		p := list[i]
		_, why := h.Approvals.Needs(p.Provider, providers.Money{Minor: p.AmountMinor, Currency: p.Currency})
		page.Rows = append(page.Rows, payoutsview.ApprovalRow{
			ID: p.ID, CreatedAt: p.CreatedAt, ExpiresAt: p.CreatedAt.Add(h.ApprovalTTL), Provider: providers.Name(p.Provider).Title(),
			Amount: providers.Money{Minor: p.AmountMinor, Currency: p.Currency}.String(), Beneficiary: p.BeneficiaryName,
			Account: p.BeneficiaryAccount, CreatedBy: p.CreatedByEmail, Own: p.CreatedBy == me.ID, Why: why,
		})
	}
	render(w, r, h.Log, http.StatusOK, payoutsview.Approvals(page))
}

// Approve approves a payout waiting for approval and queues it for sending
// (POST /payouts/{id}/approve). The form carries the hash of what the
// manager saw; a payout that has changed since, or that they created
// themselves, is refused, whatever the client sends.
func (h *Payouts) Approve(w http.ResponseWriter, r *http.Request) {
	p, ok := h.payout(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		ErrorPage(w, r, http.StatusBadRequest)
		return
	}
	me, _ := UserFrom(r.Context())
	note := truncate(strings.TrimSpace(r.PostForm.Get("note")), 1000)
	refuse := func(status int, why string) {
		ev := event(r.Context(), r.UserAgent(), "payout.approval_refused")
		ev.Outcome, ev.Reason = db.OutcomeFailure, why
		if err := h.Store.Change(r.Context(), p.ID, db.Change{Record: true}, ev); err != nil {
			serverError(w, r, h.Log, err)
			return
		}
		h.decisionError(w, r, p, status, why)
	}
	switch {
	case p.Status != db.StatusPendingApproval:
		h.flash(w, r, "warning", "This payout is not waiting for approval (it is "+p.Status.Label()+"); nothing was changed.")
		redirect(w, r, payoutPath(p.ID))
		return
	case p.CreatedBy == me.ID:
		refuse(http.StatusForbidden, "Nobody approves their own payout: another manager must approve it.")
		return
	case r.PostForm.Get("seen") != approvalHash(p):
		refuse(http.StatusConflict, "The payout changed after you opened it. Review it again before approving.")
		return
	case h.expired(p):
		h.expire(w, r, p)
		return
	}
	ev := event(r.Context(), r.UserAgent(), "payout.approved")
	ev.Reason = note
	hash := approvalHash(p)
	ev.Details = map[string]any{"approval_hash": hash}
	ch := db.Change{Only: []db.Status{db.StatusPendingApproval}, To: db.StatusQueued, Enqueue: true, ApprovalHash: hash, ApprovedBy: me.ID}
	err := h.Store.Change(r.Context(), p.ID, ch, ev)
	switch {
	case errors.Is(err, db.ErrIllegalTransition):
		h.flash(w, r, "warning", "Someone else decided on this payout first; nothing was changed.")
	case err != nil:
		serverError(w, r, h.Log, err)
		return
	default:
		h.Flow.Notify()
		h.flash(w, r, "success", "Approved. The payout is queued for sending.")
	}
	redirect(w, r, payoutPath(p.ID))
}

// Reject rejects a payout waiting for approval, with a mandatory reason
// (POST /payouts/{id}/reject).
func (h *Payouts) Reject(w http.ResponseWriter, r *http.Request) {
	p, ok := h.payout(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		ErrorPage(w, r, http.StatusBadRequest)
		return
	}
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	if msg := reasonError(reason); msg != "" {
		h.decisionError(w, r, p, http.StatusUnprocessableEntity, msg)
		return
	}
	me, _ := UserFrom(r.Context())
	ev := event(r.Context(), r.UserAgent(), "payout.rejected")
	ev.Reason = reason
	ch := db.Change{Only: []db.Status{db.StatusPendingApproval}, To: db.StatusRejected,
		ErrorMessage: "Rejected by " + me.Email + ": " + reason}
	err := h.Store.Change(r.Context(), p.ID, ch, ev)
	switch {
	case errors.Is(err, db.ErrIllegalTransition):
		h.flash(w, r, "warning", "This payout is not waiting for approval any more; nothing was changed.")
	case err != nil:
		serverError(w, r, h.Log, err)
		return
	default:
		h.flash(w, r, "success", "Rejected. The agent sees your reason on the payout.")
	}
	redirect(w, r, payoutPath(p.ID))
}

// reasonError says what is wrong with a mandatory reason; "" if nothing.
func reasonError(reason string) string {
	if n := len([]rune(reason)); n < 10 || n > 1000 {
		return "Give a reason of 10 to 1000 characters."
	}
	if strings.ContainsFunc(reason, func(c rune) bool { return c < ' ' && c != '\n' && c != '\r' && c != '\t' }) {
		return "The reason must not contain control characters."
	}
	return ""
}

// decisionError shows the payout again with a message at its approval card.
func (h *Payouts) decisionError(w http.ResponseWriter, r *http.Request, p db.Payout, status int, msg string) {
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
	page.Approval.Error, page.Approval.Reason = msg, strings.TrimSpace(r.PostForm.Get("reason"))
	h.renderShow(w, r, status, page)
}

func (h *Payouts) expired(p db.Payout) bool {
	return h.ApprovalTTL > 0 && h.Now().Sub(p.CreatedAt) > h.ApprovalTTL
}

// expire ends a payout that waited too long, found while deciding on it.
func (h *Payouts) expire(w http.ResponseWriter, r *http.Request, p db.Payout) {
	ev := systemEvent("payout.expired")
	ev.Reason = "not approved within " + h.ApprovalTTL.String()
	err := h.Store.Change(r.Context(), p.ID, db.Change{Only: []db.Status{db.StatusPendingApproval}, To: db.StatusExpired,
		ErrorMessage: "Expired: nobody approved it within " + h.ApprovalTTL.String() + "."}, ev)
	if err != nil && !errors.Is(err, db.ErrIllegalTransition) {
		serverError(w, r, h.Log, err)
		return
	}
	h.flash(w, r, "warning", "This payout waited too long for approval and has expired; nothing will be sent.")
	redirect(w, r, payoutPath(p.ID))
}

func payoutPath(id int64) string { return "/payouts/" + strconv.FormatInt(id, 10) }
