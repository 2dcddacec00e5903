package layout

import (
	"strings"
)

// navItem is a link in the top bar, shown to roles at or above MinRole.
type navItem struct {
	Label   string
	Href    string
	MinRole string
}

var navItems = []navItem{
	{"Dashboard", "/", "agent"},
	{"Overview", "/overview", "manager"},
	{"Payouts", "/payouts", "agent"},
	{"New payout", "/payouts/new", "agent"},
	{"Approvals", "/approvals", "manager"},
	{"Unknown outcomes", "/payouts/unknown", "manager"},
	{"Audit log", "/audit", "manager"},
	{"Users", "/users", "admin"},
	{"Providers", "/providers", "admin"},
}

var roleRank = map[string]int{"agent": 1, "manager": 2, "admin": 3}

// navFor returns the links a user of role may follow.
func navFor(role string) []navItem {
	var out []navItem
	for _, it := range navItems {
		if roleRank[role] >= roleRank[it.MinRole] {
			out = append(out, it)
		}
	}
	return out
}

// matches reports whether the page at path is within the section href.
func matches(href, path string) bool {
	if href == "/" {
		return path == "/"
	}
	return path == href || strings.HasPrefix(path, href+"/")
}

// ariaCurrent marks the link of the section the page at path belongs to:
// the longest matching one, so /payouts/new is "New payout", not "Payouts".
func ariaCurrent(items []navItem, href, path string) string {
	best := ""
	for _, it := range items {
		if matches(it.Href, path) && len(it.Href) > len(best) {
			best = it.Href
		}
	}
	if best == href {
		return "page"
	}
	return "false"
}
