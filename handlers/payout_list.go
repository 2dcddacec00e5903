package handlers

import (
	"net/http"
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
// their own unless they ask for everyone's.
func (h *Payouts) List(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	q := r.URL.Query()
	page := payoutsview.ListPage{Title: "Payouts"}
	f := db.PayoutFilter{Limit: 50}
	for _, n := range h.Rails.Names() {
		f.IDProviders = append(f.IDProviders, string(n))
	}
	var problems []string
	if v := q.Get("provider"); v != "" {
		if _, ok := h.Rails.Get(providers.Name(v)); ok {
			f.Provider, page.Provider = v, v
		} else {
			problems = append(problems, "unknown provider")
		}
	}
	if v := db.Status(q.Get("status")); v != "" {
		if slices.Contains(db.Statuses, v) {
			f.Status, page.Status = v, string(v)
		} else {
			problems = append(problems, "unknown status")
		}
	}
	page.CreatedBy = q.Get("created_by")
	if page.CreatedBy == "" {
		page.CreatedBy = "anyone"
		if me.Role == db.RoleAgent {
			page.CreatedBy = "me"
		}
	}
	switch page.CreatedBy {
	case "me":
		f.CreatedBy = me.ID
	case "anyone":
	default:
		id, err := strconv.ParseInt(page.CreatedBy, 10, 64)
		if err != nil || id <= 0 {
			problems = append(problems, "unknown creator")
			page.CreatedBy = "anyone"
		} else {
			f.CreatedBy = id
		}
	}
	for _, d := range []struct {
		name string
		dst  *time.Time
		view *string
		add  time.Duration
	}{{"from", &f.From, &page.From, 0}, {"to", &f.To, &page.To, 24 * time.Hour}} {
		if v := q.Get(d.name); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil || t.Year() < 1000 || t.Year() > 9998 {
				// Stored times compare as text: a five-digit year would
				// sort before every real one.
				problems = append(problems, "dates must look like 2026-11-21")
				continue
			}
			*d.dst, *d.view = t.Add(d.add), v
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		// Applied, the range would match nothing and look like an empty
		// list; said, the agent sees the dates were swapped.
		problems = append(problems, `the "from" date is after the "to" date`)
		f.From, f.To, page.From, page.To = time.Time{}, time.Time{}, "", ""
	}
	if v := strings.TrimSpace(q.Get("q")); v != "" {
		if strings.ContainsFunc(v, unicode.IsControl) {
			// A NUL would end SQLite's LIKE pattern early, matching all.
			problems = append(problems, "text cannot hold control characters")
		} else {
			page.Text = truncate(v, 100)
			f.Text = page.Text
		}
	}
	if v := q.Get("before"); v != "" {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			f.Before = id
		}
	}
	if len(problems) > 0 {
		page.FilterError = "Some filters were ignored: " + strings.Join(problems, ", ") + "."
	}
	if page.CreatedBy == "me" {
		// An agent's list shows their own payouts by default: when none
		// matches, the page offers the same search over everyone's.
		all := r.URL.Query()
		all.Set("created_by", "anyone")
		all.Del("before")
		page.EveryoneURL = "/payouts?" + all.Encode()
	}
	h.renderList(w, r, page, f)
}

// Unknown is the queue of payouts whose outcome is unknown, for managers
// to settle (GET /payouts/unknown).
func (h *Payouts) Unknown(w http.ResponseWriter, r *http.Request) {
	page := payoutsview.ListPage{Title: "Unknown outcomes", Queue: true}
	f := db.PayoutFilter{Status: db.StatusUnknown, Limit: 50}
	if id, err := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64); err == nil && id > 0 {
		f.Before = id
	}
	h.renderList(w, r, page, f)
}

// renderList shows the payouts f selects, with a link to the next page and,
// unless page is the queue, the filters' choices.
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
		// Keyset pages go one way; the way back is the first page.
		first := r.URL.Query()
		first.Del("before")
		page.FirstURL = r.URL.Path + "?" + first.Encode()
	}
	if !page.Queue {
		for _, n := range h.Rails.Names() {
			page.Providers = append(page.Providers, payoutsview.Option{Value: string(n), Label: n.Title()})
		}
		for _, s := range db.Statuses {
			page.Statuses = append(page.Statuses, payoutsview.Option{Value: string(s), Label: s.Label()})
		}
		page.Creators = []payoutsview.Option{{Value: "me", Label: "Me"}, {Value: "anyone", Label: "Anyone"}}
		if users, err := h.Users.List(r.Context()); err == nil {
			for _, u := range users {
				page.Creators = append(page.Creators, payoutsview.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Email})
			}
		}
	}
	render(w, r, h.Log, http.StatusOK, payoutsview.List(page))
}
