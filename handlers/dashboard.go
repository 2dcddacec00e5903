package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/views/dashboard"
)

// ActivityReader reads a user's own audit events.
type ActivityReader interface {
	ByActor(ctx context.Context, actorType, actorID string, limit int) ([]db.Event, error)
}

// UserGetter reads one user.
type UserGetter interface {
	Get(ctx context.Context, id int64) (db.User, error)
}

// AttentionReader reads a user's payouts that wait on somebody.
type AttentionReader interface {
	Attention(ctx context.Context, user int64, endedSince time.Time, limit int) (db.AttentionLists, error)
}

// BacklogReader counts what waits for a manager's decision.
type BacklogReader interface {
	Backlog(ctx context.Context) (db.Backlog, error)
}

// Dashboard is the landing page of a signed-in user: what waits for them
// (as a manager too), their payouts that need attention, who they are, and
// what they did recently.
type Dashboard struct {
	Log      *slog.Logger
	Activity ActivityReader
	Users    UserGetter
	Payouts  AttentionReader
	Backlog  BacklogReader
	// Now is the clock failures are recent by.
	Now func() time.Time
}

const (
	// attentionShown is how many payouts of each kind the dashboard lists.
	attentionShown = 5
	// recentEnd is how long a payout that ended unpaid stays on its
	// creator's dashboard: long enough to tell the customer, short enough
	// that the list does not fill with failures dealt with long ago.
	recentEnd = 7 * day
	// endedKind names the group of payouts that ended without paying.
	endedKind = "ended"
)

// attentionText says, per status, what a waiting payout's creator is
// told: what it waits for, what they can do, and the link to all of them.
var attentionText = map[db.Status]struct{ title, advice, more string }{
	db.StatusAwaitingCustomer: {"Waiting for the customer",
		"The customer chooses how to be paid in the Kibramoa cashier. Open a payout to copy its cashier link again.",
		"All your payouts waiting for the customer"},
	db.StatusUnknown: {"Outcome unknown",
		"The provider may still pay these: do not create them again. Payout Desk keeps asking the provider, and a manager can settle one by hand.",
		"All your payouts with an unknown outcome"},
	db.StatusPendingApproval: {"Waiting for approval",
		"A manager must approve these before they are sent. If one is wrong, open it and withdraw it.",
		"All your payouts waiting for approval"},
}

// endedText is attentionText for the payouts that ended without paying.
var endedText = struct{ title, advice, more string }{"Ended without payment in the last 7 days",
	"Failed at the provider, rejected by a manager, expired or cancelled: nothing was paid out. Open one for the reason, or to create it again.",
	"All your payouts"}

var roleAbout = map[string]string{
	db.RoleAgent:   "Agents create payouts, launch Kibramoa cashier sessions and follow payouts until they are paid or failed.",
	db.RoleManager: "Managers do everything agents do, approve payouts that need a second person, resolve unknown outcomes and review the audit log.",
	db.RoleAdmin:   "Administrators manage users and roles, see provider settings and do everything managers do.",
}

// Show renders the dashboard (GET /).
func (h *Dashboard) Show(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	u, err := h.Users.Get(r.Context(), me.ID)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	events, err := h.Activity.ByActor(r.Context(), db.ActorUser, strconv.FormatInt(me.ID, 10), 20)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	p := dashboard.Page{Email: u.Email, Role: u.Role, RoleAbout: roleAbout[u.Role], Since: u.CreatedAt}
	if p.Attention, err = h.attention(r.Context(), me.ID); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	if db.RoleRank(u.Role) >= db.RoleRank(db.RoleManager) {
		b, err := h.Backlog.Backlog(r.Context())
		if err != nil {
			serverError(w, r, h.Log, err)
			return
		}
		p.Managers = &dashboard.Backlog{Approvals: b.PendingApproval, Unknown: b.Unknown}
	}
	for _, e := range events {
		target := e.TargetType
		if e.TargetID != "" {
			target += " " + e.TargetID
		}
		p.Activity = append(p.Activity, dashboard.Activity{At: e.At, Action: e.Action, Target: target, Outcome: e.Outcome, IP: e.Origin.IP})
	}
	render(w, r, h.Log, http.StatusOK, dashboard.Dashboard(p))
}

// attention lists the user's payouts that wait on somebody, by kind, with
// a link to the whole list of a kind when more wait than are shown.
func (h *Dashboard) attention(ctx context.Context, user int64) ([]dashboard.Group, error) {
	lists, err := h.Payouts.Attention(ctx, user, h.Now().Add(-recentEnd), attentionShown+1)
	if err != nil {
		return nil, err
	}
	var out []dashboard.Group
	add := func(kind string, text struct{ title, advice, more string }, list []db.Payout, more url.Values) {
		if len(list) == 0 {
			return
		}
		g := dashboard.Group{Status: kind, Title: text.title, Advice: text.advice}
		if len(list) > attentionShown {
			list = list[:attentionShown]
			g.MoreURL, g.MoreLabel = "/payouts?"+more.Encode(), text.more
		}
		for _, p := range list {
			row := dashboard.Payout{ID: p.ID, CreatedAt: p.CreatedAt,
				Provider: providers.Name(p.Provider).Title(), Amount: amountOf(p).String(),
				Beneficiary: p.BeneficiaryName, Account: p.BeneficiaryAccount}
			if kind == endedKind {
				row.Status, row.Why = p.Status.Label(), truncate(p.ErrorMessage, 160)
			}
			g.Payouts = append(g.Payouts, row)
		}
		out = append(out, g)
	}
	for _, st := range db.AttentionStatuses {
		add(string(st), attentionText[st], lists.Waiting[st], url.Values{"status": {string(st)}, "created_by": {"me"}})
	}
	// The list cannot select by how or when a payout ended: it offers all
	// of the user's payouts, newest first.
	add(endedKind, endedText, lists.Ended, url.Values{"created_by": {"me"}})
	return out, nil
}
