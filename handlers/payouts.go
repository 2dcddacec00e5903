package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/views"
	payoutsview "payoutdesk/views/payouts"
)

// TimelineReader reads the audit events about one target.
type TimelineReader interface {
	ByTarget(ctx context.Context, targetType, targetID string) ([]db.Event, error)
}

// UserLister lists users, for the "created by" filter.
type UserLister interface {
	List(ctx context.Context) ([]db.User, error)
}

// Payouts is where agents create and follow payouts.
type Payouts struct {
	Log      *slog.Logger
	Rails    *providers.Registry
	Store    PayoutStore
	Audit    TimelineReader
	Users    UserLister
	Flow     *Flow
	Sessions *SessionStore
	// Approvals decides which payouts wait for a second person.
	Approvals ApprovalRules
	// ApprovalTTL is how long a payout may wait for approval.
	ApprovalTTL time.Duration
	Now         func() time.Time
}

// maxPayoutForm bounds a payout form's body. Generous, so that an
// over-long value is answered with a message next to its field.
const maxPayoutForm = 1 << 20

// New shows the provider picker (GET /payouts/new).
func (h *Payouts) New(w http.ResponseWriter, r *http.Request) {
	render(w, r, h.Log, http.StatusOK, payoutsview.Picker(h.picker("")))
}

func (h *Payouts) picker(errMsg string) payoutsview.PickerPage {
	p := payoutsview.PickerPage{Error: errMsg}
	for _, n := range h.Rails.Names() {
		rail, _ := h.Rails.Get(n)
		p.Providers = append(p.Providers, payoutsview.ProviderChoice{
			Name: string(n), Title: n.Title(), Intro: rail.Form().Intro, Sandbox: sandboxed(h.Rails, n),
		})
	}
	return p
}

// NewForm shows a provider's form with its defaults and a fresh
// idempotency key (GET /payouts/new/{provider}); with ?copy=ID, filled in
// from that payout, if it ended without paying anything.
func (h *Payouts) NewForm(w http.ResponseWriter, r *http.Request) {
	rail, ok := h.Rails.Get(providers.Name(r.PathValue("provider")))
	if !ok {
		NotFound(w, r)
		return
	}
	values := rail.Form().Defaults()
	if r.URL.Query().Has("copy") {
		copied, ok := h.copyValues(w, r, rail)
		if !ok {
			return
		}
		if copied != nil {
			values = copied
		}
	}
	render(w, r, h.Log, http.StatusOK, payoutsview.Form(h.formPage(rail, newIdempotencyKey(), values, nil)))
}

// copyValues returns the form values of the payout named by ?copy, for
// creating it again, and flashes what the agent must know; nil values
// leave the form at its defaults. Account numbers are not copied: they are
// masked once a payout ends, and a wrong number is the usual reason to
// create one again. A payout paid, or possibly still under way, is not
// copied at all, as sending it again could pay twice.
func (h *Payouts) copyValues(w http.ResponseWriter, r *http.Request, rail providers.Rail) (map[string]string, bool) {
	id, err := strconv.ParseInt(r.URL.Query().Get("copy"), 10, 64)
	if err != nil || id <= 0 {
		NotFound(w, r)
		return nil, false
	}
	p, err := h.Store.Get(r.Context(), id)
	if errors.Is(err, db.ErrNotFound) || err == nil && p.Provider != string(rail.Name()) {
		NotFound(w, r)
		return nil, false
	}
	if err != nil {
		serverError(w, r, h.Log, err)
		return nil, false
	}
	c := views.ChromeFrom(r.Context())
	if !p.EndedUnpaid() {
		c.Flashes = append(c.Flashes, views.Flash{Kind: "warning", Message: fmt.Sprintf(
			"Payout %d is %s, or may have been paid, so its details were not copied: only a payout that ended without paying anything is created again this way.", id, p.Status.Label())})
		return nil, true
	}
	spec := rail.Form()
	values := map[string]string{}
	var retype []string
	for _, fl := range spec.Fields {
		v, ok := p.Fields[fl.Name]
		switch {
		case !ok:
		case fl.Account:
			retype = append(retype, midSentence(fl.Label))
		default:
			values[fl.Name] = v
		}
	}
	msg := fmt.Sprintf("Copied from payout %d (%s): check the details, then submit to create a new payout.", id, p.Status.Label())
	if len(retype) > 0 {
		msg += " Enter the " + orList(retype) + " again: it is not kept once a payout ends."
	}
	c.Flashes = append(c.Flashes, views.Flash{Kind: "info", Message: msg})
	return values, true
}

// sandboxed reports whether the provider n is served by the sandbox. A
// handler given no registry (a report in a test) labels nothing.
func sandboxed(rails *providers.Registry, n providers.Name) bool {
	return rails != nil && rails.Mode(n) == providers.ModeSandbox
}

// Create validates a payout form and creates the payout, queued for sending
// (POST /payouts). The same idempotency key twice makes one payout.
func (h *Payouts) Create(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r, maxPayoutForm) {
		return
	}
	rail, ok := h.Rails.Get(providers.Name(r.PostForm.Get("provider")))
	if !ok {
		render(w, r, h.Log, http.StatusUnprocessableEntity, payoutsview.Picker(h.picker("Choose a provider from the list.")))
		return
	}
	f := parsePayoutForm(rail, r.PostForm)
	if len(f.errors) > 0 {
		h.refuseForm(w, r, rail, f)
		return
	}
	me, _ := UserFrom(r.Context())
	b := rail.Beneficiary(f.payout)
	ev := event(r, "payout.created")
	status := db.StatusQueued
	if needs, why := h.Approvals.Needs(string(rail.Name()), f.payout.Amount); needs {
		status = db.StatusPendingApproval
		ev.Details = map[string]any{"needs_approval": why}
	}
	np := db.NewPayout{
		Provider: string(rail.Name()), Status: status,
		AmountMinor: f.payout.Amount.Minor, Currency: f.payout.Amount.Currency,
		IdempotencyKey: f.payout.IdempotencyKey, Reference: f.payout.Reference, Fields: f.payout.Fields,
		BeneficiaryName: b.Name, BeneficiaryAccount: b.AccountMasked, BeneficiaryCountry: b.Country, CreatedBy: me.ID,
	}
	var limit providers.RecipientLimit
	if l, ok := rail.(providers.RecipientLimiter); ok {
		if limit, ok = l.RecipientLimit(f.payout); ok {
			np.Cap = db.RecipientCap{Recipient: limit.Recipient, Max: limit.Max, Window: limit.Window}
		}
	}
	p, created, err := h.Store.Create(r.Context(), np, ev)
	if capErr, ok := errors.AsType[*db.CapError](err); ok {
		f.errors = map[string]string{limit.Field: capMessage(rail.Name(), limit, capErr)}
		h.refuseForm(w, r, rail, f)
		return
	}
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	if !created && p.CreatedBy != me.ID {
		// The key is another user's payout's: every reference shows its
		// key. Whether these details match that payout would tell its
		// account number whole, a guess at a time, so nothing about it is
		// said; the attempt is on its record.
		if h.recordRefusal(w, r, p, "payout.create_refused", "a form sent by another user carried this payout's idempotency key") {
			f.errors = map[string]string{"": formOutOfDate}
			f.key = newIdempotencyKey()
			h.refuseForm(w, r, rail, f)
		}
		return
	}
	// The message rides in the URL rather than in the session: no second
	// write on the busiest path.
	notice := "duplicate"
	switch {
	case !created && !sameSubmission(rail, f.payout, b, p):
		notice = "changed"
	case created && p.Status == db.StatusPendingApproval:
		notice = "pending"
	case created:
		h.Flow.Notify()
		notice = "created"
	}
	redirect(w, r, payoutPath(p.ID)+"?notice="+notice)
}

// refuseForm shows the form again, as typed, with its errors (422).
func (h *Payouts) refuseForm(w http.ResponseWriter, r *http.Request, rail providers.Rail, f payoutForm) {
	// Posted to /payouts, the form is still the "New payout" page.
	views.ChromeFrom(r.Context()).Path = "/payouts/new/" + string(rail.Name())
	render(w, r, h.Log, http.StatusUnprocessableEntity, payoutsview.Form(h.formPage(rail, f.key, f.values, f.errors)))
}

// capMessage tells the agent why a payout to this recipient must wait,
// and until when (rounded up to the minute: never too early).
func capMessage(provider providers.Name, l providers.RecipientLimit, e *db.CapError) string {
	next := e.Next.UTC()
	if t := next.Truncate(time.Minute); t.Before(next) {
		next = t.Add(time.Minute)
	}
	msg := fmt.Sprintf("%s takes at most %d payouts to one %s in %s, and this one already has %d",
		provider.Title(), e.Max, l.Noun, windowText(e.Window), e.Count)
	when := next.Format("2 Jan 2006 at 15:04 UTC")
	if e.Waiting == 0 {
		return msg + ". The next can be made from " + when + "."
	}
	// Those still to be sent count from now, and from when they go.
	return fmt.Sprintf("%s, %d of them still to be sent. The next can be made from %s at the earliest, later if those go later.",
		msg, e.Waiting, when)
}

// windowText says a window the way people do: "24 hours", not "24h0m0s".
func windowText(d time.Duration) string {
	if d%time.Hour == 0 {
		if h := int(d / time.Hour); h != 1 {
			return strconv.Itoa(h) + " hours"
		}
		return "an hour"
	}
	return d.String()
}

// notices are the messages a payout page shows for its ?notice= value.
// The cashier link, not the sending, is what a Kibramoa payout's creator
// waits for.
// Once the link is there (the page loaded late, or again without
// JavaScript), the notice says so rather than promise it.
var (
	kibramoaCreated      = views.Flash{Kind: "success", Message: "Payout created. Its cashier link appears here in a moment: open it for the customer, or copy it and send it to them."}
	kibramoaCreatedReady = views.Flash{Kind: "success", Message: "Payout created. Its cashier link is below: open it for the customer, or copy it and send it to them."}
)

var notices = map[string]views.Flash{
	"created":   {Kind: "success", Message: "Payout created and queued for sending. Its status below updates by itself."},
	"duplicate": {Kind: "info", Message: "This form was already submitted: here is the payout it created."},
	"changed": {Kind: "warning", Message: "Your changes were NOT applied: this form had already created the payout below, " +
		"which is as first submitted. To pay different details, start a new payout."},
	"pending": {Kind: "info", Message: "Payout created. It needs a manager's approval before it is sent."},
	// The page reloads itself when what it offers must change (see poll).
	"moved": {Kind: "info", Message: "This payout moved on while its page was open: here it is as it is now."},
}

// sameSubmission reports whether a form sent again with the key of payout
// p holds what p was created from: the same amount and details. Account
// numbers are compared whole while p holds them; once it has ended it
// holds them masked, and only what the mask shows can be compared.
func sameSubmission(rail providers.Rail, sent providers.Payout, b providers.Beneficiary, p db.Payout) bool {
	if sent.Amount.Minor != p.AmountMinor || sent.Amount.Currency != p.Currency ||
		b.Name != p.BeneficiaryName || b.AccountMasked != p.BeneficiaryAccount {
		return false
	}
	for _, fl := range rail.Form().Fields {
		if fl.Account && p.Status.Final() {
			continue
		}
		if sent.Fields[fl.Name] != p.Fields[fl.Name] {
			return false
		}
	}
	return true
}

// flash queues a message about payout id for the next page; failing to,
// it only logs.
func (h *Payouts) flash(w http.ResponseWriter, r *http.Request, id int64, kind, msg string) {
	s, err := h.Sessions.Session(r)
	if err == nil {
		// Named, as the message may show on another payout's page opened
		// meanwhile in another tab.
		AddFlash(s, kind, "Payout "+strconv.FormatInt(id, 10)+": "+msg)
		err = s.Save(r, w)
	}
	if err != nil {
		h.Log.WarnContext(r.Context(), "flash", slog.Any("error", err))
	}
}

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
