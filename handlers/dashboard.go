package handlers

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/views/dashboard"
)

// ActivityReader reads a user's own audit events.
type ActivityReader interface {
	Search(ctx context.Context, f db.AuditFilter) ([]db.Event, error)
}

// UserGetter reads one user.
type UserGetter interface {
	Get(ctx context.Context, id int64) (db.User, error)
}

// AttentionReader reads a user's payouts that wait on somebody.
type AttentionReader interface {
	Attention(ctx context.Context, user int64, endedSince time.Time, limit int) (db.AttentionLists, error)
}

// BacklogReader counts what waits for a manager's decision, and what they
// should know of.
type BacklogReader interface {
	BacklogFor(ctx context.Context, user int64) (db.Backlog, error)
	Contradicted(ctx context.Context, since time.Time) (int64, error)
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
	// Rails says which providers are on the sandbox, for their label.
	Rails *providers.Registry
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
	// endedKind and contradictedKind name the groups of payouts that ended
	// without paying and of those whose provider later said otherwise.
	endedKind        = "ended"
	contradictedKind = "contradicted"
)

// groupText is what a dashboard group tells its reader: its title, what
// they can do, and the label of the link to all of its kind.
type groupText struct{ title, advice, more string }

// attentionText says, per status, what a waiting payout's creator is
// told: what it waits for, what they can do, and the link to all of them.
var attentionText = map[db.Status]groupText{
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

// contradictedText is attentionText for the payouts whose provider said
// otherwise after they ended.
var contradictedText = groupText{"Contradicted by the provider in the last 7 days",
	"The provider reported the money came back after paying, or reported paid a payout that had ended unpaid. " +
		"Check with the provider before telling the customer anything, and before creating any of these again.",
	"All your payouts"}

// endedText is attentionText for the payouts that ended without paying.
var endedText = groupText{"Ended without payment in the last 7 days",
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
	// Reading the log is left out, as the log itself does by default: a
	// manager's browsing would bury everything else.
	events, err := h.Activity.Search(r.Context(), db.AuditFilter{ActorType: db.ActorUser, ActorID: strconv.FormatInt(me.ID, 10),
		ExceptAction: "audit.viewed", Limit: 20})
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
		b, err := h.Backlog.BacklogFor(r.Context(), me.ID)
		if err != nil {
			serverError(w, r, h.Log, err)
			return
		}
		since := h.Now().Add(-recentEnd)
		contradicted, err := h.Backlog.Contradicted(r.Context(), since)
		if err != nil {
			serverError(w, r, h.Log, err)
			return
		}
		p.Managers = &dashboard.Backlog{Approvals: b.Others(), Own: b.Own, Unknown: b.UnknownOthers(), UnknownOwn: b.UnknownOwn,
			Contradicted: contradicted, ContradictedURL: contradictedEventsURL(since)}
	}
	for _, e := range events {
		a := dashboard.Activity{At: e.At, Action: e.Action, Title: activityTitle(e.Action), Outcome: e.Outcome, IP: e.Origin.IP}
		switch {
		case e.TargetType == "payout":
			a.Target = "Payout " + e.TargetID
			if id, err := strconv.ParseInt(e.TargetID, 10, 64); err == nil {
				a.TargetURL = payoutPath(id)
			}
		default:
			a.Target = targetName(e)
		}
		p.Activity = append(p.Activity, a)
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
	add := func(kind string, text groupText, list []db.Payout, more url.Values) {
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
				Provider: providers.Name(p.Provider).Title(), Sandbox: sandboxed(h.Rails, providers.Name(p.Provider)), Amount: amountOf(p).String(),
				Beneficiary: p.BeneficiaryName, Account: p.BeneficiaryAccount}
			if kind == endedKind || kind == contradictedKind {
				row.Status, row.Why = p.Status.Label(), shorten(p.ErrorMessage, 300)
				if rail, ok := h.Rails.Get(providers.Name(p.Provider)); ok && row.Why == "" {
					row.Why = endedWhy(p, rail.Capabilities())
				}
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
	add(contradictedKind, contradictedText, lists.Contradicted, url.Values{"created_by": {"me"}})
	add(endedKind, endedText, lists.Ended, url.Values{"created_by": {"me"}})
	return out, nil
}

// contradictedEventsURL lists the audit events of providers contradicting
// a payout's final status since a time, each linking to its payout.
func contradictedEventsURL(since time.Time) string {
	return "/audit?" + url.Values{"action": {"payout.contradicted"}, "from": {since.UTC().Format("2006-01-02T15:04")}}.Encode()
}

// activityTitles name, in words, what a user did, beyond the payout
// events the timeline already names.
var activityTitles = map[string]string{
	"auth.login.succeeded":         "Signed in",
	"auth.login.failed":            "Sign-in failed",
	"auth.logout":                  "Signed out",
	"auth.session.expired":         "Session expired",
	"user.created":                 "Added a user",
	"user.disabled":                "Disabled a user",
	"user.password_reset":          "Gave a user a new password",
	"user.role_changed":            "Changed a user's role",
	"audit.exported":               "Exported the audit log",
	"audit.verified":               "Verified the audit log",
	"audit.checkpoint_key_changed": "Changed the checkpoint key",
	"payout.created":               "Created a payout",
	"payout.approved":              "Approved a payout",
	"payout.rejected":              "Rejected a payout",
	"payout.withdrawn":             "Withdrew a payout",
	"payout.resolved":              "Settled a payout by hand",
	"payout.cashier_launched":      "Opened a cashier",
	"payout.status_changed":        "Refreshed a payout's status",
}

// activityTitle is what a user's action reads as on their dashboard.
func activityTitle(action string) string {
	return cmp.Or(activityTitles[action], eventTitle(action))
}

// shorten cuts a message for a list to at most n bytes, at a word when
// one ends in its second half, saying it was cut.
func shorten(s string, n int) string {
	cut := truncate(s, n)
	if cut == s {
		return s
	}
	if i := strings.LastIndex(cut, " "); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ") + "…"
}
