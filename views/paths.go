package views

import (
	"strconv"

	"github.com/a-h/templ"
)

// PayoutURL is the address of payout id's page followed by suffix: an
// action such as "/approve", a query, or "" for the page itself.
func PayoutURL(id int64, suffix string) templ.SafeURL {
	return templ.SafeURL("/payouts/" + strconv.FormatInt(id, 10) + suffix)
}
