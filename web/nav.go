package web

import (
	"fmt"

	"payoutdesk/db"
	"payoutdesk/views"
)

// navLinks are the top bar's links, in order.
var navLinks = []views.NavLink{
	{Label: "Dashboard", Href: "/"},
	{Label: "Overview", Href: "/overview"},
	{Label: "Payouts", Href: "/payouts"},
	{Label: "New payout", Href: "/payouts/new"},
	{Label: "Approvals", Href: "/approvals", Counted: "waiting"},
	{Label: "Unknown outcomes", Href: "/payouts/unknown", Counted: "to settle"},
	{Label: "Audit log", Href: "/audit"},
	{Label: "Users", Href: "/users"},
	{Label: "Providers", Href: "/providers"},
}

// navByRole returns, for each role, the links it is shown: those whose
// page's GET route lets it in. The bar then offers users only the pages
// they may open, with no second list of who may see what to keep in step.
func navByRole(routes []route) (map[string][]views.NavLink, error) {
	access := map[string]string{}
	for _, rt := range routes {
		access[rt.pattern] = rt.access
	}
	out := map[string][]views.NavLink{}
	for _, l := range navLinks {
		pattern := "GET " + l.Href
		if l.Href == "/" {
			pattern = "GET /{$}"
		}
		a, ok := access[pattern]
		if !ok || db.RoleRank(a) == 0 {
			return nil, fmt.Errorf("web: navigation link %s has no route for signed-in users", l.Href)
		}
		for _, role := range db.Roles {
			if db.RoleRank(role) >= db.RoleRank(a) {
				out[role] = append(out[role], l)
			}
		}
	}
	return out, nil
}
