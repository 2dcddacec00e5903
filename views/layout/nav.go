package layout

import (
	"strconv"
	"strings"

	"payoutdesk/views"
)

// matches reports whether the page at path is within the section href.
func matches(href, path string) bool {
	if href == "/" {
		return path == "/"
	}
	return path == href || strings.HasPrefix(path, href+"/")
}

// ariaCurrent marks the link of the section the page at path belongs to:
// the longest matching one, so /payouts/new is "New payout", not "Payouts".
func ariaCurrent(items []views.NavLink, href, path string) string {
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

// countText is a navigation link's number as a screen reader reads it
// after the link's label: ", 2 waiting".
func countText(n int, counted string) string {
	return strings.TrimSpace(", " + strconv.Itoa(n) + " " + counted)
}
