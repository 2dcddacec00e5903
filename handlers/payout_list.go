package handlers

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"payoutdesk/db"
	"payoutdesk/providers"
	payoutsview "payoutdesk/views/payouts"
)

// List shows payouts with filters, newest first (GET /payouts). Agents see
// their own unless they ask for everyone's. A filter value it cannot use
// is kept as typed, with its error next to its field, and nothing is
// listed (422): a list that left one filter out would pass for the answer
// to all of them.
func (h *Payouts) List(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	page := payoutsview.ListPage{Title: "Payouts"}
	if err := h.filterChoices(r.Context(), &page); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	f, errs := parsePayoutFilter(r.URL.Query(), me, &page)
	for _, n := range h.Rails.Names() {
		f.IDProviders = append(f.IDProviders, string(n))
	}
	if page.CreatedBy == "me" {
		// An agent's list shows their own payouts by default: when none
		// matches, the page offers the same search over everyone's.
		all := r.URL.Query()
		all.Set("created_by", "anyone")
		all.Del("before")
		page.EveryoneURL = "/payouts?" + all.Encode()
	}
	if len(errs) > 0 {
		h.refuseList(w, r, page, errs)
		return
	}
	h.renderList(w, r, page, f)
}

// parsePayoutFilter reads the list's filters from q into page, as typed,
// and into the filter they select. errs holds, by field, each value that
// cannot be used; "before" is the page's link, which has no field.
func parsePayoutFilter(q url.Values, me db.User, page *payoutsview.ListPage) (f db.PayoutFilter, errs map[string]string) {
	errs = map[string]string{}
	f.Limit = 50
	page.Provider, page.Status, page.From, page.To = q.Get("provider"), q.Get("status"), q.Get("from"), q.Get("to")
	if page.Provider != "" {
		if slices.ContainsFunc(page.Providers, func(o payoutsview.Option) bool { return o.Value == page.Provider }) {
			f.Provider = page.Provider
		} else {
			errs["provider"] = "Choose a provider from the list."
		}
	}
	if v := db.Status(page.Status); v != "" {
		if slices.Contains(db.Statuses, v) {
			f.Status = v
		} else {
			errs["status"] = "Choose a status from the list."
		}
	}
	mine := "anyone"
	if me.Role == db.RoleAgent {
		mine = "me"
	}
	page.CreatedBy = cmp.Or(q.Get("created_by"), mine)
	switch page.CreatedBy {
	case "me":
		f.CreatedBy = me.ID
	case "anyone":
	default:
		id, err := strconv.ParseInt(page.CreatedBy, 10, 64)
		known := slices.ContainsFunc(page.Creators, func(o payoutsview.Option) bool { return o.Value == page.CreatedBy })
		if err != nil || !known {
			errs["created_by"] = "Choose who created the payouts from the list."
		} else {
			f.CreatedBy = id
		}
	}
	for _, d := range []struct {
		name string
		in   string
		dst  *time.Time
		add  time.Duration
	}{{"from", page.From, &f.From, 0}, {"to", page.To, &f.To, 24 * time.Hour}} {
		if d.in == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.in)
		switch {
		case err != nil:
			errs[d.name] = "Enter a date like 2026-11-21."
		case t.Year() < 1000 || t.Year() > 9998:
			// Stored times compare as text: a five-digit year would sort
			// before every real one.
			errs[d.name] = "Enter a year from 1000 to 9998."
		default:
			*d.dst = t.Add(d.add)
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		// Applied, the range would match nothing and look like an empty
		// list; said, the agent sees the dates were swapped.
		errs["to"] = "Enter a date on or after the From date."
	}
	if v := strings.TrimSpace(q.Get("q")); v != "" {
		page.Text = truncate(v, 100)
		if strings.ContainsFunc(v, unicode.IsControl) {
			// A NUL would end SQLite's LIKE pattern early, matching all.
			errs["q"] = "Remove the control characters from the text."
		} else {
			f.Text = page.Text
		}
	}
	if page.Provider != "" || page.Status != "" || page.From != "" || page.To != "" || page.Text != "" || page.CreatedBy != mine {
		page.ClearURL = "/payouts"
	}
	var msg string
	if f.Before, msg = pageCursor(q, "before"); msg != "" {
		errs["before"] = msg
	}
	return f, errs
}

// pageCursor reads the keyset cursor named name from a page's link: none
// is the first page, and anything but a positive number is a link damaged
// on its way, which the message says.
func pageCursor(q url.Values, name string) (int64, string) {
	v := q.Get(name)
	if v == "" {
		return 0, ""
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, "The link to this page is damaged: it does not say where the list goes on."
	}
	return n, ""
}

// firstPageURL is the first page of the keyset list r is a page of:
// keyset pages go one way, and the way back is the first.
func firstPageURL(r *http.Request) string {
	first := r.URL.Query()
	first.Del("before")
	return r.URL.Path + "?" + first.Encode()
}

// cursorRefusal takes the damaged page link's error out of errs, the
// refused values by field. A damaged link alone is offered the first page;
// with other values refused, a link would carry them.
func cursorRefusal(r *http.Request, errs map[string]string) (msg, firstURL string) {
	msg, ok := errs["before"]
	if !ok {
		return "", ""
	}
	delete(errs, "before")
	if len(errs) == 0 {
		firstURL = firstPageURL(r)
	}
	return msg, firstURL
}

// refuseList shows the list's filters as typed with their errors, and no
// payouts (422).
func (h *Payouts) refuseList(w http.ResponseWriter, r *http.Request, page payoutsview.ListPage, errs map[string]string) {
	page.CursorError, page.FirstURL = cursorRefusal(r, errs)
	page.Errors = errs
	render(w, r, h.Log, http.StatusUnprocessableEntity, payoutsview.List(page))
}

// Unknown is the queue of payouts whose outcome is unknown, for managers
// to settle (GET /payouts/unknown).
func (h *Payouts) Unknown(w http.ResponseWriter, r *http.Request) {
	page := payoutsview.ListPage{Title: "Unknown outcomes", Queue: true}
	f := db.PayoutFilter{Status: db.StatusUnknown, Limit: 50}
	var msg string
	if f.Before, msg = pageCursor(r.URL.Query(), "before"); msg != "" {
		h.refuseList(w, r, page, map[string]string{"before": msg})
		return
	}
	h.renderList(w, r, page, f)
}

// filterChoices fills in the choices of the list's filters.
func (h *Payouts) filterChoices(ctx context.Context, page *payoutsview.ListPage) error {
	for _, n := range h.Rails.Names() {
		page.Providers = append(page.Providers, payoutsview.Option{Value: string(n), Label: n.Title()})
	}
	for _, s := range db.Statuses {
		page.Statuses = append(page.Statuses, payoutsview.Option{Value: string(s), Label: s.Label()})
	}
	page.Creators = []payoutsview.Option{{Value: "me", Label: "Me"}, {Value: "anyone", Label: "Anyone"}}
	users, err := h.Users.List(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		page.Creators = append(page.Creators, payoutsview.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Email})
	}
	return nil
}

// renderList shows the payouts f selects, with a link to the next page.
func (h *Payouts) renderList(w http.ResponseWriter, r *http.Request, page payoutsview.ListPage, f db.PayoutFilter) {
	// One more than shown: the link to the next page is offered only if
	// there is something on it.
	size := f.Limit
	f.Limit++
	list, err := h.Store.List(r.Context(), f)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	more := len(list) > size
	list = list[:min(len(list), size)]
	me, _ := UserFrom(r.Context())
	for _, p := range list {
		page.Rows = append(page.Rows, payoutsview.Row{
			ID: p.ID, CreatedAt: p.CreatedAt, Provider: providers.Name(p.Provider).Title(),
			Sandbox: sandboxed(h.Rails, providers.Name(p.Provider)), Amount: amountOf(p).String(), Beneficiary: p.BeneficiaryName,
			Account: p.BeneficiaryAccount, Status: string(p.Status), StatusLabel: p.Status.Label(), Reference: p.Reference,
			CreatedBy: p.CreatedByEmail, Problem: p.ErrorMessage, NextCheckAt: p.NextCheckAt, Yours: p.CreatedBy == me.ID,
		})
	}
	// A number searched for is most often a payout's: when that payout is
	// listed, it is named above the list, not left among the payouts
	// whose reference or account merely holds the digits.
	if n, err := strconv.ParseInt(strings.TrimPrefix(page.Text, "#"), 10, 64); err == nil && n > 0 {
		for _, row := range page.Rows {
			if row.ID == n {
				page.Exact = n
			}
		}
	}
	if more {
		next := r.URL.Query()
		next.Set("before", strconv.FormatInt(list[len(list)-1].ID, 10))
		page.NextURL = r.URL.Path + "?" + next.Encode()
	}
	if f.Before > 0 {
		page.FirstURL = firstPageURL(r)
	}
	render(w, r, h.Log, http.StatusOK, payoutsview.List(page))
}
