package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"payoutdesk/db"
	"payoutdesk/providers"
	auditview "payoutdesk/views/audit"
	"payoutdesk/views/components"
)

// AuditLog reads and records audit events.
type AuditLog interface {
	Search(ctx context.Context, f db.AuditFilter) ([]db.Event, error)
	Stream(ctx context.Context, f db.AuditFilter, fn func(db.Event) error) error
	Get(ctx context.Context, seq int64) (db.Event, error)
	Actions(ctx context.Context) ([]string, error)
	Record(ctx context.Context, e db.Event) error
}

// UserFinder finds a user by email.
type UserFinder interface {
	ByEmail(ctx context.Context, email string) (db.User, error)
}

// Audit is the audit log for managers and admins: a filtered list, one
// event, exports and the integrity check. Viewing and exporting the log
// are audit events themselves.
type Audit struct {
	Log   *slog.Logger
	Store AuditLog
	Users UserFinder
	Rails *providers.Registry
	// Verify recomputes the chain and checks it against the checkpoints,
	// with a note on what could not be checked.
	Verify func(ctx context.Context) (db.Verification, string, error)
}

// maxFilterLen bounds each text of an audit filter.
const maxFilterLen = 200

// pageSizes are the page sizes offered.
var pageSizes = map[string]int{"25": 25, "50": 50, "100": 100, "200": 200}

// parseFilter reads the log's filters from the query into v, as typed, and
// into the filter they select. errs holds, by field, each value it cannot
// use, a typo or a link's never becoming a 500; "before" is the page's
// link, which has no field. An actor who is nobody is such a value: shown
// everyone's events, a manager could take them for that person's.
func (h *Audit) parseFilter(ctx context.Context, q url.Values, views string) (f db.AuditFilter, v auditview.Filters, errs map[string]string, err error) {
	v = auditview.Filters{From: q.Get("from"), To: q.Get("to"), Actor: strings.TrimSpace(q.Get("actor")),
		Action: q.Get("action"), Provider: q.Get("provider"), Payout: strings.TrimSpace(q.Get("payout")),
		Outcome: q.Get("outcome"), Text: strings.TrimSpace(q.Get("q")), Size: cmp.Or(q.Get("size"), "50")}
	if v.Actions, err = h.actionOptions(ctx); err != nil {
		return f, v, nil, err
	}
	for _, n := range h.Rails.Names() {
		v.Providers = append(v.Providers, components.Option{Value: string(n), Label: n.Title()})
	}
	errs = map[string]string{}
	f.Limit = 50
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
		if f.ActorType, f.ActorID, err = h.parseActor(ctx, v.Actor); err != nil {
			errs["actor"], err = fmt.Sprintf("No user has the email %q. Enter a whole email, a user's number, "+
				"system, anonymous, cli:NAME or provider:NAME.", v.Actor), nil
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
	if f.Before, msg = parseCursor(q); msg != "" {
		errs["before"] = msg
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
// user's email or a user's id.
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
		return "", "", fmt.Errorf("no user has the email %q", s)
	}
	return db.ActorUser, strconv.FormatInt(u.ID, 10), nil
}

// List shows the audit log, newest first (GET /audit). A filter value it
// cannot use is kept as typed, with its error next to its field, and no
// event is listed (422), nor is a view recorded: a log with one filter
// left out would pass for the answer to all of them.
func (h *Audit) List(w http.ResponseWriter, r *http.Request) {
	f, v, errs, err := h.parseFilter(r.Context(), r.URL.Query(), viewsHidden)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	page := auditview.ListPage{Filters: v}
	if len(errs) > 0 {
		if msg, ok := errs["before"]; ok {
			delete(errs, "before")
			page.CursorError = msg
			if len(errs) == 0 {
				first := r.URL.Query()
				first.Del("before")
				page.FirstURL = "/audit?" + first.Encode()
			}
		}
		page.Errors = errs
		render(w, r, h.Log, http.StatusUnprocessableEntity, auditview.List(page))
		return
	}
	events, err := h.Store.Search(r.Context(), f)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	ev := event(r, viewedAction)
	ev.Details = map[string]any{"filter": v.Query, "before": f.Before, "shown": len(events)}
	if err := h.Store.Record(r.Context(), ev); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	for _, e := range events {
		page.Rows = append(page.Rows, auditRow(e))
	}
	if len(events) == f.Limit {
		next := r.URL.Query()
		next.Set("before", strconv.FormatInt(events[len(events)-1].Seq, 10))
		page.NextURL = "/audit?" + next.Encode()
	}
	if f.Before > 0 {
		// Keyset pages go one way; the way back is the first page.
		first := r.URL.Query()
		first.Del("before")
		page.FirstURL = "/audit?" + first.Encode()
	}
	render(w, r, h.Log, http.StatusOK, auditview.List(page))
}

// actionOptions lists each recorded action and, first, each family of them
// ("payout.*").
func (h *Audit) actionOptions(ctx context.Context) ([]components.Option, error) {
	actions, err := h.Store.Actions(ctx)
	if err != nil {
		return nil, err
	}
	families := map[string]bool{}
	var opts []components.Option
	for _, a := range actions {
		if fam, _, ok := strings.Cut(a, "."); ok {
			families[fam+"."] = true
		}
		opts = append(opts, components.Option{Value: a, Label: a})
	}
	var fams []components.Option
	for fam := range families {
		fams = append(fams, components.Option{Value: fam, Label: fam + "* (all)"})
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].Value < fams[j].Value })
	return append(fams, opts...), nil
}

func actorName(a db.Actor) string {
	switch a.Type {
	case db.ActorUser:
		return a.Email
	case db.ActorProvider, db.ActorCLI:
		return a.Type + ":" + a.ID
	}
	return a.Type
}

func payoutTarget(e db.Event) int64 {
	if e.TargetType != "payout" {
		return 0
	}
	id, _ := strconv.ParseInt(e.TargetID, 10, 64)
	return id
}

func auditRow(e db.Event) auditview.Row {
	row := auditview.Row{Seq: e.Seq, At: e.At, Actor: actorName(e.Actor), Action: e.Action, Outcome: e.Outcome,
		Provider: providers.Name(e.Provider).Title(), PayoutID: payoutTarget(e)}
	if e.TargetType != "" {
		row.Target = strings.TrimSpace(e.TargetType + " " + e.TargetID)
	}
	var parts []string
	if t := eventTitle(e.Action); t != e.Action {
		parts = append(parts, t)
	}
	if before, after := statusChange(e.Details); after != "" && before != after {
		parts = append(parts, db.Status(before).Label()+" → "+db.Status(after).Label())
	}
	if e.Reason != "" {
		parts = append(parts, e.Reason)
	}
	row.Summary = truncate(strings.Join(parts, " · "), 200)
	return row
}

// Show renders one event with its before/after diff (GET /audit/{seq}).
func (h *Audit) Show(w http.ResponseWriter, r *http.Request) {
	seq, ok := pathID(r, "seq")
	if !ok {
		NotFound(w, r)
		return
	}
	e, err := h.Store.Get(r.Context(), seq)
	if errors.Is(err, db.ErrNotFound) {
		NotFound(w, r)
		return
	}
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	ev := event(r, "audit.viewed")
	ev.TargetType, ev.TargetID = "audit_event", strconv.FormatInt(seq, 10)
	if err := h.Store.Record(r.Context(), ev); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	// The next event always exists: viewing this one recorded it.
	page := auditview.EventPage{
		Seq: e.Seq, At: e.At, Actor: actorName(e.Actor), Role: e.Actor.Role, Action: e.Action,
		Target: strings.TrimSpace(e.TargetType + " " + e.TargetID), PayoutID: payoutTarget(e), Outcome: e.Outcome,
		Provider: providers.Name(e.Provider).Title(), IP: e.Origin.IP, UserAgent: e.Origin.UserAgent, RequestID: e.Origin.RequestID,
		Reason: e.Reason, Details: indentJSON(e.DetailsJSON), Hash: e.Hash, PrevSeq: e.Seq - 1, NextSeq: e.Seq + 1,
		Changes: diff(e.Details),
	}
	if t := eventTitle(e.Action); t != e.Action {
		page.Title = t
	}
	page.ActorLink = "/audit?" + url.Values{"actor": {actorFilter(e.Actor)}}.Encode()
	render(w, r, h.Log, http.StatusOK, auditview.Event(page))
}

// actorFilter is how the list's actor filter names an actor: a user by
// id, which outlives a change of email, others as they are shown.
func actorFilter(a db.Actor) string {
	if a.Type == db.ActorUser {
		return a.ID
	}
	return actorName(a)
}

// diff lists the values an event's details record before and after.
func diff(d map[string]any) []auditview.Change {
	before, _ := d["before"].(map[string]any)
	after, _ := d["after"].(map[string]any)
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var out []auditview.Change
	for k := range keys {
		c := auditview.Change{Field: k, Before: valueText(before[k]), After: valueText(after[k])}
		if k == "status" {
			c.BeforeLabel, c.AfterLabel = statusLabel(before[k]), statusLabel(after[k])
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// statusLabel is a recorded status as the payout pages name it, or "" when
// that is the code itself.
func statusLabel(v any) string {
	s, ok := v.(string)
	if !ok {
		return ""
	}
	if l := db.Status(s).Label(); l != s {
		return l
	}
	return ""
}

func valueText(v any) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprint(v)
}

// VerifyIntegrity runs the same check as "payoutdesk audit verify" and
// shows its result; the check itself is audited (POST /audit/verify).
func (h *Audit) VerifyIntegrity(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	v, note, err := h.Verify(r.Context())
	// A file the check needs (the checkpoint file, a key) is missing,
	// unreadable or damaged: that is a finding for the manager, not a
	// fault of the server.
	var unverified string
	if errors.Is(err, db.ErrCannotVerify) {
		unverified, err = err.Error(), nil
	}
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	took := time.Since(start)
	ev := event(r, "audit.verified")
	ev.Details = map[string]any{"events": v.Events, "checkpoints": v.Checkpoints, "head": v.Head, "took_ms": took.Milliseconds()}
	switch {
	case unverified != "":
		ev.Outcome = db.OutcomeFailure
		ev.Details["problem"] = "could not run: " + unverified
	case !v.OK():
		ev.Outcome = db.OutcomeFailure
		if v.BrokenAt != 0 {
			ev.Details["broken_at"], ev.Details["problem"] = v.BrokenAt, v.Problem
		}
		if v.Schema != "" {
			ev.Details["schema"] = v.Schema
		}
	}
	if err := h.Store.Record(r.Context(), ev); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	render(w, r, h.Log, http.StatusOK, auditview.Verify(auditview.VerifyPage{OK: v.OK(), Unverified: unverified, Events: v.Events, Head: v.Head,
		Checkpoints: v.Checkpoints, BrokenAt: v.BrokenAt, Problem: v.Problem, Schema: v.Schema, Note: note, Took: took.Round(time.Millisecond)}))
}
