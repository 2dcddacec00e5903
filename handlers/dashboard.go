package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"payoutdesk/db"
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

// Dashboard is the landing page of a signed-in user.
type Dashboard struct {
	Log      *slog.Logger
	Activity ActivityReader
	Users    UserGetter
}

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
	for _, e := range events {
		target := e.TargetType
		if e.TargetID != "" {
			target += " " + e.TargetID
		}
		p.Activity = append(p.Activity, dashboard.Activity{At: e.At, Action: e.Action, Target: target, Outcome: e.Outcome, IP: e.Origin.IP})
	}
	render(w, r, h.Log, http.StatusOK, dashboard.Dashboard(p))
}
