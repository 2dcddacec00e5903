package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"payoutdesk/db"
	"payoutdesk/providers"
	auditview "payoutdesk/views/audit"
	"payoutdesk/views/components"
)

// maxFilterLen bounds each text of an audit filter.
const maxFilterLen = 200

// defaultPageSize is the page size of a log opened without one.
const defaultPageSize = "50"

// pageSizes are the page sizes offered.
var pageSizes = map[string]int{"25": 25, "50": 50, "100": 100, "200": 200}

// parseFilter reads the log's filters from the query into v, as typed, and
// into the filter they select. errs holds, by field, each value it cannot
// use (a typo is never a 500); "before" is the page's link, which has no
// field. An actor who is nobody is such a value: shown everyone's events,
// a manager could take them for that person's.
func (h *Audit) parseFilter(ctx context.Context, q url.Values, views string) (f db.AuditFilter, v auditview.Filters, errs map[string]string, err error) {
	v = auditview.Filters{From: q.Get("from"), To: q.Get("to"), Actor: strings.TrimSpace(q.Get("actor")),
		Action: q.Get("action"), Provider: q.Get("provider"), Payout: strings.TrimSpace(q.Get("payout")),
		Outcome: q.Get("outcome"), Text: strings.TrimSpace(q.Get("q")), Size: cmp.Or(q.Get("size"), defaultPageSize)}
	if v.Actions, err = h.actionOptions(ctx); err != nil {
		return f, v, nil, err
	}
	for _, n := range h.Rails.Names() {
		v.Providers = append(v.Providers, components.Option{Value: string(n), Label: n.Title()})
	}
	errs = map[string]string{}
	f.Limit = pageSizes[defaultPageSize]
	if n, ok := pageSizes[v.Size]; ok {
		f.Limit = n
	} else {
		errs["size"] = "Choose 25, 50, 100 or 200."
	}
	for _, t := range []struct {
		name string
		in   string
		out  *time.Time
		// through makes the bound include the whole of the minute (or
		// second, or day) written: "to 14:30" takes in 14:30:59.
		through bool
	}{{"from", v.From, &f.From, false}, {"to", v.To, &f.To, true}} {
		if t.in == "" {
			continue
		}
		when, span, err := parseWhen(t.in)
		if err != nil {
			errs[t.name] = "Enter a time like 2026-11-21T14:30, or a date like 2026-11-21."
			continue
		}
		if t.through {
			when = when.Add(span)
			if when.Year() > 9999 {
				// "To the end of 9999" is no bound at all; kept, it would
				// be year 10000, which sorts before every stored time.
				continue
			}
		}
		*t.out = when
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		// Applied, the range would match nothing and look like an empty
		// log; said, the manager sees the times were swapped.
		errs["to"] = "Enter a time on or after the From time."
	}
	// Each page and export records its filter in the log: a filter of
	// any length would let a link write that much.
	for name, val := range map[string]string{"actor": v.Actor, "action": v.Action, "q": v.Text} {
		if len(val) > maxFilterLen {
			errs[name] = fmt.Sprintf("Enter at most %d characters.", maxFilterLen)
		}
	}
	if v.Actor != "" && errs["actor"] == "" {
		f.ActorType, f.ActorID, err = h.parseActor(ctx, v.Actor)
		switch {
		case errors.Is(err, db.ErrNotFound):
			errs["actor"], err = fmt.Sprintf("No user has the email %q. Enter a whole email, a user's number, "+
				"system, anonymous, cli:NAME or provider:NAME.", v.Actor), nil
		case err != nil:
			return f, v, nil, err
		}
	}
	if v.Action != "" && errs["action"] == "" {
		if slices.ContainsFunc(v.Actions, func(o components.Option) bool { return o.Value == v.Action }) {
			f.Action = v.Action
		} else {
			errs["action"] = "Choose an action from the list: no event has this one."
		}
	}
	// Each page of the log is itself an event, and may be left out (views
	// "hidden"), unless its action is what is asked for. views is the
	// caller's default: the list hides them, or browsing would bury what
	// it seeks; an export holds the whole log unless told otherwise.
	switch v.Views = cmp.Or(q.Get("views"), views); v.Views {
	case viewsShown:
	case viewsHidden:
		if f.Action != viewedAction && f.Action != "audit." {
			f.ExceptAction = viewedAction
		}
	default:
		errs["views"] = "Choose whether views of this log are listed."
	}
	if v.Provider != "" {
		if _, ok := h.Rails.Get(providers.Name(v.Provider)); ok {
			f.Provider = v.Provider
		} else {
			errs["provider"] = "Choose a provider from the list."
		}
	}
	if v.Payout != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(v.Payout, "#"), 10, 64)
		if err != nil || id <= 0 {
			errs["payout"] = "Enter a payout number, like 1234."
		} else {
			// As read: leading zeros would otherwise be recorded with the
			// filter, however many.
			f.PayoutID, v.Payout = id, strconv.FormatInt(id, 10)
		}
	}
	switch v.Outcome {
	case "", db.OutcomeSuccess, db.OutcomeFailure:
		f.Outcome = v.Outcome
	default:
		errs["outcome"] = "Choose success or failure."
	}
	if errs["q"] == "" && strings.ContainsFunc(v.Text, unicode.IsControl) {
		// The full-text engine reads its query as a C string.
		errs["q"] = "Remove the control characters from the text."
	}
	f.Text = v.Text
	var msg string
	if f.Before, msg = pageCursor(q, "before"); msg != "" {
		errs["before"] = msg
	}
	// The page's own links always carry views and size: only values other
	// than the defaults are filters to clear.
	if v.From != "" || v.To != "" || v.Actor != "" || v.Action != "" || v.Provider != "" || v.Payout != "" ||
		v.Outcome != "" || v.Text != "" || v.Views != views || v.Size != defaultPageSize {
		v.ClearURL = "/audit"
	}
	if len(errs) > 0 {
		return f, v, errs, nil
	}
	keep := url.Values{}
	for k, val := range map[string]string{"from": v.From, "to": v.To, "actor": v.Actor, "action": v.Action,
		"provider": v.Provider, "payout": v.Payout, "outcome": v.Outcome, "q": v.Text, "views": v.Views} {
		if val != "" {
			keep.Set(k, val)
		}
	}
	// Always said, so that the filter recorded with each view and export
	// says whether views were left out.
	v.Query = keep.Encode()
	if f.ExceptAction != "" {
		shown := maps.Clone(q)
		shown.Set("views", viewsShown)
		shown.Del("before")
		v.ShowViewsURL = "/audit?" + shown.Encode()
	}
	return f, v, nil, nil
}

// viewedAction is the event of a page of the audit log being viewed.
const viewedAction = "audit.viewed"

// Whether the log's own views are listed: the "views" parameter.
const (
	viewsHidden = "hidden"
	viewsShown  = "shown"
)

// parseWhen reads a UTC time from a datetime-local field or a date, with
// the span its precision covers (a minute, a second or a day).
func parseWhen(s string) (time.Time, time.Duration, error) {
	for _, l := range []struct {
		layout string
		span   time.Duration
	}{{"2006-01-02T15:04", time.Minute}, {"2006-01-02T15:04:05", time.Second}, {"2006-01-02", 24 * time.Hour}} {
		if t, err := time.Parse(l.layout, s); err == nil {
			return t, l.span, nil
		}
	}
	return time.Time{}, 0, errors.New("bad time")
}

// parseActor reads "system", "anonymous", "provider:NAME", "cli:NAME", a
// user's email or a user's id; an email nobody has is db.ErrNotFound.
func (h *Audit) parseActor(ctx context.Context, s string) (kind, id string, err error) {
	if kind, id, ok := strings.Cut(s, ":"); ok && (kind == db.ActorProvider || kind == db.ActorCLI) {
		return kind, id, nil
	}
	switch s {
	case db.ActorSystem, db.ActorAnonymous:
		return s, "", nil
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return db.ActorUser, s, nil
	}
	u, err := h.Users.ByEmail(ctx, s)
	if err != nil {
		return "", "", err
	}
	return db.ActorUser, strconv.FormatInt(u.ID, 10), nil
}
