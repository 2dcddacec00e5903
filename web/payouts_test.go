package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/providers/sandbox/sandboxtest"
)

// validForms are complete, valid payout forms, one per provider.
func validForms(ts *testServer) map[providers.Name]url.Values {
	return sandboxtest.ValidForms(ts.URL + "/cashier/done")
}

// openForm renders a provider's form and returns its idempotency key.
func (c *client) openForm(provider providers.Name) string {
	c.ts.t.Helper()
	r := c.get("/payouts/new/" + string(provider))
	wantStatus(c.ts.t, r, http.StatusOK)
	key, _ := r.doc(c.ts.t).Find(`input[name="idempotency_key"]`).Attr("value")
	if len(key) != 26 {
		c.ts.t.Fatalf("form of %s: idempotency key %q", provider, key)
	}
	return key
}

// submit posts a payout form and returns the payout's id.
func (c *client) submit(provider providers.Name, key string, form url.Values) int64 {
	c.ts.t.Helper()
	v := url.Values{"provider": {string(provider)}, "idempotency_key": {key}}
	for k, vs := range form {
		v[k] = vs
	}
	r := c.postForm("/payouts", v)
	wantStatus(c.ts.t, r, http.StatusSeeOther)
	m := regexp.MustCompile(`^/payouts/(\d+)\?notice=(created|pending)$`).FindStringSubmatch(r.Header.Get("Location"))
	if m == nil {
		c.ts.t.Fatalf("created payout redirects to %q", r.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// waitStatus waits until payout id reaches want, failing if it settles on
// another final status or takes too long.
func (ts *testServer) waitStatus(id int64, want db.Status) db.Payout {
	ts.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		p, err := db.NewPayouts(ts.DB).Get(context.Background(), id)
		if err != nil {
			ts.t.Fatal(err)
		}
		if p.Status == want {
			return p
		}
		if p.Status.Final() || time.Now().After(deadline) {
			ts.t.Fatalf("payout %d is %s (%s %s), want %s", id, p.Status, p.ErrorCode, p.ErrorMessage, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// completeCashier plays the Kibramoa customer: opens the cashier link,
// picks the first payout option and completes. It returns the option.
func (ts *testServer) completeCashier(cashierURL, account string) (option string) {
	ts.t.Helper()
	return ts.cashierAction(cashierURL, account, "complete")
}

// cashierAction plays the Kibramoa customer choosing action in the
// cashier ("complete" or "cancel"), with the first payout option that
// takes the amount.
func (ts *testServer) cashierAction(cashierURL, account, action string) (option string) {
	ts.t.Helper()
	customer := ts.client()
	r := customer.get(strings.TrimPrefix(cashierURL, ts.URL))
	wantStatus(ts.t, r, http.StatusOK)
	doc := r.doc(ts.t)
	session, _ := doc.Find(`input[name="sessionId"]`).Attr("value")
	option, _ = doc.Find(`[data-testid="cashier-option"]:not([disabled])`).First().Attr("value")
	u, _ := url.Parse(cashierURL)
	r = customer.postForm(u.Path, url.Values{"sessionId": {session}, "option": {option}, "account": {account}, "action": {action}})
	wantStatus(ts.t, r, http.StatusSeeOther)
	return option
}

// trail returns a payout's audit trail: the statuses it went through, in
// order, and every action recorded.
func (ts *testServer) trail(id int64) (statuses []string, actions map[string]bool) {
	ts.t.Helper()
	events, err := db.NewAudit(ts.DB).ByTarget(context.Background(), "payout", strconv.FormatInt(id, 10))
	if err != nil {
		ts.t.Fatal(err)
	}
	actions = map[string]bool{}
	for _, e := range events {
		actions[e.Action] = true
		if e.Action == "payout.created" {
			statuses = append(statuses, e.Details["status"].(string))
			continue
		}
		before, _ := e.Details["before"].(map[string]any)
		after, _ := e.Details["after"].(map[string]any)
		if after != nil && before["status"] != after["status"] {
			statuses = append(statuses, after["status"].(string))
		}
	}
	return statuses, actions
}

func TestPayoutJourneyPerProvider(t *testing.T) {
	ts := newTestServer(t)
	forms := validForms(ts)
	tests := []struct {
		provider providers.Name
		// invalid is a variation of the valid form and the fields it breaks.
		invalid    map[string]string
		wantErrors []string
		statuses   []string
		actions    []string
	}{
		{providers.Kibramoa, map[string]string{"amount": "150.005", "redirect_url": "javascript:alert(1)", "user_id": ""},
			[]string{"amount", "redirect_url", "user_id"},
			[]string{"queued", "submitting", "awaiting_customer", "processing", "paid"},
			[]string{"payout.created", "payout.submitting", "payout.submitted", "payout.cashier_launched", "payout.status_changed"}},
		{providers.SmartGlocal, map[string]string{"iban": "BE00 0000 0000 0001", "currency": "XXX", "recipient_country_iso3": "BE"},
			[]string{"iban", "currency", "recipient_country_iso3"},
			[]string{"queued", "submitting", "processing", "awaiting_confirmation", "processing", "paid"},
			[]string{"payout.created", "payout.submitting", "payout.submitted", "payout.confirmed", "payout.status_changed"}},
		{providers.Monime, map[string]string{"amount": "-5", "provider_code": "m99", "metadata": "no equals sign"},
			[]string{"amount", "provider_code", "metadata"},
			[]string{"queued", "submitting", "processing", "paid"},
			[]string{"payout.created", "payout.submitting", "payout.submitted", "payout.status_changed"}},
		{providers.FedaPay, map[string]string{"amount": "10.5", "firstname": "", "email": "not-an-email"},
			[]string{"amount", "firstname", "email"},
			[]string{"queued", "submitting", "processing", "paid"},
			[]string{"payout.created", "payout.submitting", "payout.submitted", "payout.status_changed"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.provider), func(t *testing.T) {
			ts := ts.forT(t)
			agent := ts.as(db.RoleAgent)
			key := agent.openForm(tt.provider)

			bad := url.Values{"provider": {string(tt.provider)}, "idempotency_key": {key}}
			for k, v := range forms[tt.provider] {
				bad[k] = v
			}
			for k, v := range tt.invalid {
				bad.Set(k, v)
			}
			r := agent.postForm("/payouts", bad)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			doc := r.doc(t)
			for _, field := range tt.wantErrors {
				if doc.Find(`[data-testid="error-`+field+`"]`).Text() == "" {
					t.Errorf("no error message next to %s", field)
				}
			}
			// Posted to /payouts, it is still the "New payout" page.
			if cur := doc.Find(`nav a[aria-current="page"]`).AttrOr("href", ""); cur != "/payouts/new" {
				t.Errorf("the navigation marks %q as the current page, want /payouts/new", cur)
			}
			// The errors are summed up at the top, linked to their fields,
			// and the cursor is in the first.
			if n := doc.Find(`[data-testid="form-errors"][role="alert"] li a[href^="#f-"]`).Length(); n != len(tt.wantErrors) {
				t.Errorf("the error summary links %d fields, want %d", n, len(tt.wantErrors))
			}
			doc.Find(`[data-testid="form-errors"] li`).Each(func(_ int, li *goquery.Selection) {
				// Each names its field once: "Amount must…", not "Amount: Amount must…".
				if label := li.Find("a").Text(); strings.HasPrefix(li.Text(), label+": "+label) || strings.HasPrefix(li.Text(), label+" "+label) {
					t.Errorf("the error summary says %q", li.Text())
				}
			})
			if doc.Find(`[autofocus]`).Length() != 1 || doc.Find(`[aria-invalid="true"][autofocus]`).Length() != 1 {
				t.Error("the cursor is not put in the first field with an error")
			}
			if title := doc.Find("title").Text(); !strings.HasPrefix(title, "Error: ") {
				t.Errorf("page title %q does not say the form has errors", title)
			}
			// Only the broken fields are blamed (a bad amount is not a bad currency).
			doc.Find(`[data-testid^="error-"]`).Each(func(_ int, e *goquery.Selection) {
				field, _ := e.Attr("data-testid")
				field = strings.TrimPrefix(field, "error-")
				if !slices.Contains(tt.wantErrors, field) {
					t.Errorf("unexpected error next to %s: %q", field, e.Text())
				}
			})
			if got, _ := doc.Find(`input[name="idempotency_key"]`).Attr("value"); got != key {
				t.Errorf("the re-rendered form changed the idempotency key")
			}
			for k, v := range tt.invalid {
				if k != "currency" && k != "provider_code" && !fieldKeeps(doc, k, v) {
					t.Errorf("the re-rendered form lost the typed %s %q", k, v)
				}
			}

			id := agent.submit(tt.provider, key, forms[tt.provider])
			page := agent.get("/payouts/" + strconv.FormatInt(id, 10) + "?notice=created")
			want := "Payout created and queued for sending. Its status below updates by itself."
			if tt.provider == providers.Kibramoa {
				want = "Payout created. Its cashier link appears here in a moment: open it for the customer, or copy it and send it to them."
				if page.doc(t).Find(`[data-testid="open-cashier"]`).Length() > 0 {
					want = "Payout created. Its cashier link is below: open it for the customer, or copy it and send it to them."
				}
			}
			if msg := page.doc(t).Find(`[data-testid="flash"]`).Text(); msg != want {
				t.Errorf("after submitting the page says %q", msg)
			}
			// Account numbers are masked wherever they are shown, while the
			// payout is open too (a final one stores them masked).
			for _, field := range []string{"iban", "account_id", "phone_number"} {
				raw := forms[tt.provider].Get(field)
				if raw == "" {
					continue
				}
				digits := strings.Map(func(r rune) rune {
					if r >= '0' && r <= '9' {
						return r
					}
					return -1
				}, raw)
				body := strings.NewReplacer(" ", "", "\u00a0", "").Replace(page.Body)
				if strings.Contains(body, digits[:len(digits)-2]) {
					t.Errorf("the open payout's page shows the %s %q unmasked", field, raw)
				}
			}
			var option string // what the Kibramoa customer picks
			if tt.provider == providers.Kibramoa {
				p := ts.waitStatus(id, db.StatusAwaitingCustomer)
				// Loaded again once the link is in, the notice points to it.
				again := agent.get("/payouts/" + strconv.FormatInt(id, 10) + "?notice=created")
				if msg := again.doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "Its cashier link is below") {
					t.Errorf("with the cashier link in, the page says %q", msg)
				}
				r := agent.postForm("/payouts/"+strconv.FormatInt(id, 10)+"/cashier", nil)
				wantStatus(t, r, http.StatusSeeOther)
				wantLocation(t, r, p.CashierURL)
				option = ts.completeCashier(p.CashierURL, "customer42@pix.example")
			}
			p := ts.waitStatus(id, db.StatusPaid)
			if p.ProviderID == "" || p.FinishedAt.IsZero() {
				t.Errorf("paid payout %+v lacks the provider's id or its finish time", p)
			}
			statuses, actions := ts.trail(id)
			if strings.Join(statuses, " ") != strings.Join(tt.statuses, " ") {
				t.Errorf("audited statuses\n got %v\nwant %v", statuses, tt.statuses)
			}
			for _, a := range tt.actions {
				if !actions[a] {
					t.Errorf("no %s event in the trail", a)
				}
			}
			show := agent.get("/payouts/" + strconv.FormatInt(id, 10)).doc(t)
			if st, _ := show.Find(`[data-testid="status"]`).Attr("data-status"); st != "paid" {
				t.Errorf("the payout page shows status %q", st)
			}
			if got := show.Find(`[data-testid="payout-option"]`).Text(); option != "" && got != option+", chosen by the customer" || option == "" && got != "" {
				t.Errorf("the payout page shows the payout option %q; the customer picked %q", got, option)
			}
			if show.Find(`[data-testid="timeline-item"]`).Length() < len(tt.statuses) {
				t.Error("the timeline lacks events")
			}
			// In people's words, not the audit log's field names.
			if tl := show.Find(`[data-testid="timeline"]`).Text(); strings.Contains(tl, "raw_status") || strings.Contains(tl, "provider:") ||
				!strings.Contains(tl, "Provider's status: ") || !strings.Contains(tl, "· "+tt.provider.Title()) {
				t.Errorf("the timeline reads:\n%s", strings.Join(strings.Fields(tl), " "))
			}
			if _, polling := show.Find(`#live`).Attr("hx-trigger"); polling || show.Find(`[data-testid="as-of"]`).Length() != 0 {
				t.Error("a paid payout's page still polls, or says its status may be stale")
			}
			if n := ts.App.Sandbox().Count(tt.provider, "payout created"); n != 1 {
				t.Errorf("the sandbox saw %d payouts, want 1", n)
			}
		})
	}
}

func fieldKeeps(doc *goquery.Document, name, value string) bool {
	sel := doc.Find(`[name="` + name + `"]`)
	if v, ok := sel.Attr("value"); ok {
		return v == value
	}
	return sel.Text() == value
}

// TestOwnPayoutsSearchOffersEveryones: an agent's list shows their own
// payouts by default; a search that finds none of theirs says so and offers
// the same search over everyone's, where a colleague's payout is found.
func TestOwnPayoutsSearchOffersEveryones(t *testing.T) {
	ts := newTestServer(t)
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
	id := manager.submit(providers.Monime, manager.openForm(providers.Monime), validForms(ts)[providers.Monime])
	p, err := db.NewPayouts(ts.DB).Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	mine := agent.get("/payouts?" + url.Values{"q": {p.Reference}}.Encode()).doc(t)
	link, ok := mine.Find(`[data-testid="no-payouts"] [data-testid="search-everyone"]`).Attr("href")
	if !ok || !strings.Contains(mine.Find(`[data-testid="no-payouts"]`).Text(), "your") {
		t.Fatalf("an empty search of the agent's own payouts says %q, with no link to everyone's", mine.Find(`[data-testid="no-payouts"]`).Text())
	}
	everyone := agent.get(link).doc(t)
	if everyone.Find(`[data-testid="payout-`+strconv.FormatInt(id, 10)+`"]`).Length() != 1 {
		t.Errorf("searching everyone's payouts (%s) does not find the colleague's", link)
	}
}

// Every field marked required (*) says so to assistive technology too: with
// the required attribute, or, where it is required only for some values of
// another field, aria-required; and none says so without the mark.
func TestRequiredFieldsSayTheyAreRequired(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	for _, provider := range providers.All {
		doc := agent.get("/payouts/new/" + string(provider)).doc(t)
		marked := 0
		doc.Find(`.field`).Each(func(_ int, field *goquery.Selection) {
			control := field.Find(`input, select, textarea`).First()
			name, _ := control.Attr("name")
			_, required := control.Attr("required")
			aria, _ := control.Attr("aria-required")
			mark := field.Find(`label .req`).Length() > 0
			if mark {
				marked++
			}
			if mark != (required || aria == "true") {
				t.Errorf("%s: field %s marked required %v, but required %v, aria-required %q", provider, name, mark, required, aria)
			}
		})
		if marked == 0 {
			t.Errorf("%s: no field marked required: the test proves nothing", provider)
		}
		// Some fields are optional: the form says what the mark means,
		// before its first field.
		if note := doc.Find(`[data-testid="payout-form"] [data-testid="required-note"]`); !strings.Contains(note.Text(), "marked * are required") ||
			note.NextAllFiltered("fieldset").Length() == 0 {
			t.Errorf("%s: the form does not say, before its fields, that * marks a required field (note %q)", provider, note.Text())
		}
	}
	// Smart Glocal's account fields are required only for their method:
	// the case aria-required is for.
	if n := agent.get("/payouts/new/smartglocal").doc(t).Find(`[aria-required="true"]`).Length(); n == 0 {
		t.Error("Smart Glocal's form has no field required only for some methods")
	}
}
