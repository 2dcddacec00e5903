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
	{Label: "Approvals", Href: "/approvals"},
	{Label: "Unknown outcomes", Href: "/payouts/unknown"},
	{Label: "Audit log", Href: "/audit"},
	{Label: "Users", Href: "/users"},
	{Label: "Providers", Href: "/providers"},
}

// navAccess returns the least role each navigation link's page lets in, as
// its GET route says: the bar then offers users only the pages they may
// open, with no second list of who may see what to keep in step.
func navAccess(routes []route) ([]string, error) {
	access := map[string]string{}
	for _, rt := range routes {
		access[rt.pattern] = rt.access
	}
	out := make([]string, len(navLinks))
	for i, l := range navLinks {
		pattern := "GET " + l.Href
		if l.Href == "/" {
			pattern = "GET /{$}"
		}
		a, ok := access[pattern]
		if !ok || db.RoleRank(a) == 0 {
			return nil, fmt.Errorf("web: navigation link %s has no route for signed-in users", l.Href)
		}
		out[i] = a
	}
	return out, nil
}

// navFor returns the links a user of role may follow.
func (s *Server) navFor(role string) []views.NavLink {
	var out []views.NavLink
	for i, l := range navLinks {
		if db.RoleRank(role) >= db.RoleRank(s.navAccess[i]) {
			out = append(out, l)
		}
	}
	return out
}
