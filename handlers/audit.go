package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

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
		page.CursorError, page.FirstURL = cursorRefusal(r, errs)
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
	if err := h.recordRead(r, ev); err != nil {
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
		page.FirstURL = firstPageURL(r)
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

// targetName names an event's target; an account also by the email its
// event recorded, as no page shows an account's id: in its details, or as
// its actor's, when the account acted on itself (signing in or out).
func targetName(e db.Event) string {
	name := strings.TrimSpace(e.TargetType + " " + e.TargetID)
	if e.TargetType != "user" {
		return name
	}
	email, _ := e.Details["email"].(string)
	if email == "" && e.Actor.Type == db.ActorUser && e.Actor.ID == e.TargetID {
		email = e.Actor.Email
	}
	if email != "" {
		name += " (" + email + ")"
	}
	return name
}

func auditRow(e db.Event) auditview.Row {
	row := auditview.Row{Seq: e.Seq, At: e.At, Actor: actorName(e.Actor), Action: e.Action, Outcome: e.Outcome,
		Provider: providers.Name(e.Provider).Title(), PayoutID: payoutTarget(e)}
	if e.TargetType != "" {
		row.Target = targetName(e)
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

// recordRead records ev, the audit log being read by r, unless r is a HEAD
// request: its answer carries no events, so nobody has seen any.
func (h *Audit) recordRead(r *http.Request, ev db.Event) error {
	if r.Method == http.MethodHead {
		return nil
	}
	return h.Store.Record(r.Context(), ev)
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
	if err := h.recordRead(r, ev); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	// The next event always exists: viewing this one recorded it.
	page := auditview.EventPage{
		Seq: e.Seq, At: e.At, Actor: actorName(e.Actor), Role: e.Actor.Role, Action: e.Action,
		Target: targetName(e), PayoutID: payoutTarget(e), Outcome: e.Outcome,
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
