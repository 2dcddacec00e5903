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

// current reports whether href is the section of the page at path.
func current(href, path string) bool {
	if href == "/" {
		return path == "/"
	}
	return path == href || strings.HasPrefix(path, href+"/")
}

func ariaCurrent(href, path string) string {
	if current(href, path) {
		return "page"
	}
	return "false"
}
