package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

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
	render(w, r, h.Log, http.StatusOK, payoutsview.Form(h.formPage(rail, NewIdempotencyKey(), values, nil)))
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

// sandboxed reports whether the provider n is served by the sandbox.
func sandboxed(rails *providers.Registry, n providers.Name) bool {
	return rails.Mode(n) == providers.ModeSandbox
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
	p, created, err := h.Flow.Create(r.Context(), np, ev)
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
			f.key = NewIdempotencyKey()
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
	"moved":   {Kind: "info", Message: "This payout moved on while its page was open: here it is as it is now."},
	"cashier": {Kind: "success", Message: "The cashier link is ready below: open it for the customer, or copy it and send it to them."},
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
