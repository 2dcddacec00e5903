package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/providers/fedapay"
	"payoutdesk/providers/kibramoa"
	"payoutdesk/providers/monime"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
	"payoutdesk/web"
)

func withValues(base url.Values, set map[string]string) url.Values {
	out := url.Values{}
	for k, v := range base {
		out[k] = append([]string(nil), v...)
	}
	for k, v := range set {
		out.Set(k, v)
	}
	return out
}

func countPayouts(t *testing.T, ts *testServer) int {
	t.Helper()
	var n int
	if err := ts.DB.R.QueryRow(`SELECT count(*) FROM payouts`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSameKeyMakesOnePayout(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	key := agent.openForm(providers.Monime)
	form := withValues(validForms(ts)[providers.Monime], map[string]string{"provider": "monime", "idempotency_key": key})

	const n = 20
	locations := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, err := agent.formRequest("/payouts", form, agent.sameOrigin())
			if err != nil {
				t.Error(err)
				return
			}
			r, err := agent.send(req)
			if err != nil {
				t.Errorf("POST %d: %v", i, err)
				return
			}
			if r.StatusCode != http.StatusSeeOther {
				t.Errorf("POST %d: status %d", i, r.StatusCode)
			}
			locations[i], _, _ = strings.Cut(r.Header.Get("Location"), "?")
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, l := range locations {
		if l != locations[0] {
			t.Fatalf("the same key led to different payouts: %v", locations)
		}
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(locations[0], "/payouts/"), 10, 64)
	ts.waitStatus(id, db.StatusPaid)
	if got := countPayouts(t, ts); got != 1 {
		t.Errorf("%d payouts stored, want 1", got)
	}
	if got := ts.App.Sandbox().Count(providers.Monime, "payout created"); got != 1 {
		t.Errorf("the sandbox created %d payouts, want 1", got)
	}
	if got := ts.App.Sandbox().Count(providers.Monime, "replayed"); got != 0 {
		t.Errorf("the sandbox got %d repeated requests, want none", got)
	}
	if got := len(ts.events("payout.created")); got != 1 {
		t.Errorf("%d payout.created events, want 1", got)
	}
	// The back button's resubmit says what happened.
	r := agent.postForm("/payouts", form)
	wantLocation(t, r, locations[0]+"?notice=duplicate")
	if msg := agent.get(r.Header.Get("Location")).doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "already submitted") {
		t.Errorf("resubmitting says %q", msg)
	}
	// Back, a corrected amount or number, submitted again: still the one
	// payout, and the agent is told the correction went nowhere.
	for field, v := range map[string]string{"amount": "11.00", "account_id": "+23278999999"} {
		r = agent.postForm("/payouts", withValues(form, map[string]string{field: v}))
		wantLocation(t, r, locations[0]+"?notice=changed")
		if msg := agent.get(r.Header.Get("Location")).doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "NOT applied") {
			t.Errorf("resubmitting with another %s says %q", field, msg)
		}
	}
	if got := countPayouts(t, ts); got != 1 {
		t.Errorf("%d payouts stored after changed resubmits, want 1", got)
	}
	// While the payout holds the whole number, a typo fixed in its middle
	// (the masked last digits alike) is a change too.
	key = agent.openForm(providers.FedaPay)
	big := withValues(bigFedaPay(ts), map[string]string{"provider": "fedapay", "idempotency_key": key})
	first := agent.postForm("/payouts", big)
	wantStatus(t, first, http.StatusSeeOther)
	payout, _, _ := strings.Cut(first.Header.Get("Location"), "?")
	r = agent.postForm("/payouts", withValues(big, map[string]string{"phone_number": "97818080"}))
	wantLocation(t, r, payout+"?notice=changed")
}

// Every reference shows its payout's key. A form sent by another user
// with that key must not tell whether its details match the payout:
// answered "already submitted" or "changed", guesses would find the
// account number behind its mask. It is refused alike, with a fresh key,
// creating nothing, and the attempt is on the payout's record.
func TestAnotherUsersKeyTellsNothing(t *testing.T) {
	ts := newTestServerWith(t, false) // the payout stays queued, its number whole
	creator := ts.as(db.RoleAgent)
	form := validForms(ts)[providers.Monime]
	id := creator.submit(providers.Monime, creator.openForm(providers.Monime), form)
	path := "/payouts/" + strconv.FormatInt(id, 10)

	colleague := ts.colleague()
	page := colleague.get(path)
	wantStatus(t, page, http.StatusOK)
	key, ok := strings.CutPrefix(strings.TrimSpace(page.doc(t).Find(`[data-testid="payout-reference"]`).Text()), "PD-")
	if !ok || strings.Contains(page.Body, form.Get("account_id")) {
		t.Fatalf("the colleague's page shows reference key %q, or the whole number", key)
	}
	for _, guess := range []string{"+23278999456", form.Get("account_id")} {
		r := colleague.postForm("/payouts", withValues(form, map[string]string{
			"provider": "monime", "idempotency_key": key, "account_id": guess}))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		doc := r.doc(t)
		if msg := doc.Find(`[data-testid="form-error"]`).Text(); !strings.Contains(msg, "out of date") {
			t.Errorf("guess %s: the form says %q, want it out of date", guess, msg)
		}
		if fresh, _ := doc.Find(`input[name="idempotency_key"]`).Attr("value"); fresh == key || fresh == "" {
			t.Errorf("guess %s: the form comes back with key %q, want a fresh one", guess, fresh)
		}
		if strings.Contains(r.Body, path) {
			t.Errorf("guess %s: the answer links to the payout", guess)
		}
	}
	if got := countPayouts(t, ts); got != 1 {
		t.Errorf("%d payouts stored, want 1", got)
	}
	refused := ts.events("payout.create_refused")
	if len(refused) != 2 {
		t.Fatalf("%d refusals audited, want 2", len(refused))
	}
	for _, e := range refused {
		if e.Actor.Email != "colleague@example.com" || e.TargetID != strconv.FormatInt(id, 10) || e.Outcome != db.OutcomeFailure {
			t.Errorf("refusal audited as %+v, want the colleague's failure on payout %d", e, id)
		}
	}
	// The creator's own resubmission is still told what became of it.
	r := creator.postForm("/payouts", withValues(form, map[string]string{"provider": "monime", "idempotency_key": key}))
	wantLocation(t, r, path+"?notice=duplicate")
}

func TestHostilePayoutInputsGet422(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	fedapay := validForms(ts)[providers.FedaPay]
	key := agent.openForm(providers.FedaPay)
	base := withValues(fedapay, map[string]string{"provider": "fedapay", "idempotency_key": key})
	huge := strings.Repeat("A", 100_000)
	tests := []struct {
		name  string
		set   map[string]string
		field string // where the message must appear; "" for the form
	}{
		{"huge name", map[string]string{"firstname": huge}, "firstname"},
		{"huge amount", map[string]string{"amount": huge}, "amount"},
		{"control characters", map[string]string{"lastname": "Koffi\x00\x1b[31m"}, "lastname"},
		{"invalid UTF-8", map[string]string{"lastname": "Ko\xff\xfeffi"}, "lastname"},
		{"direction override", map[string]string{"firstname": "Ama\u202eiffoK"}, "firstname"},
		{"zero-width space", map[string]string{"lastname": "Ko\u200bffi"}, "lastname"},
		{"decimal comma read as thousands", map[string]string{"amount": "0,500"}, "amount"},
		{"dot grouping thousands", map[string]string{"amount": "5.000"}, "amount"},
		{"HTML in a name is fine, HTML as email is not", map[string]string{"email": `<script>alert(1)</script>`}, "email"},
		{"SQL fragment as phone", map[string]string{"phone_number": "97'; DROP TABLE payouts; --"}, "phone_number"},
		{"negative amount", map[string]string{"amount": "-2000"}, "amount"},
		{"NaN amount", map[string]string{"amount": "NaN"}, "amount"},
		{"infinite amount", map[string]string{"amount": "Inf"}, "amount"},
		{"exponent amount", map[string]string{"amount": "2e3"}, "amount"},
		{"huge number", map[string]string{"amount": "999999999999999999999"}, "amount"},
		{"zero", map[string]string{"amount": "0"}, "amount"},
		{"wrong currency for the provider", map[string]string{"currency": "USD"}, "currency"},
		{"unknown currency", map[string]string{"currency": "ZZZ"}, "currency"},
		{"unknown mode", map[string]string{"mode": "paypal"}, "mode"},
		{"forged idempotency key", map[string]string{"idempotency_key": "../../etc/passwd"}, ""},
		{"missing idempotency key", map[string]string{"idempotency_key": ""}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := agent.forT(t).postForm("/payouts", withValues(base, tt.set))
			wantStatus(t, r, http.StatusUnprocessableEntity)
			sel := `[data-testid="form-error"]`
			if tt.field != "" {
				sel = `[data-testid="error-` + tt.field + `"]`
			}
			if strings.TrimSpace(r.doc(t).Find(sel).Text()) == "" {
				t.Errorf("no message at %s", sel)
			}
		})
	}
	// HTML in a free-text field is kept as text and escaped on the page.
	r := agent.postForm("/payouts", withValues(base, map[string]string{"firstname": `<b onmouseover="x()">Ama</b>`, "amount": "oops"}))
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if strings.Contains(r.Body, `<b onmouseover`) {
		t.Error("a typed value was rendered as HTML")
	}
	unknown := agent.postForm("/payouts", url.Values{"provider": {"paypal"}, "amount": {"10"}})
	wantStatus(t, unknown, http.StatusUnprocessableEntity)
	if unknown.doc(t).Find(`[data-testid="form-error"]`).Text() == "" {
		t.Error("an unknown provider gets no message")
	}
	if got := countPayouts(t, ts); got != 0 {
		t.Errorf("%d payouts were created from hostile input", got)
	}
}

// A value outside a field's list or format is refused for every
// provider, where no rule of the provider's own would catch it: a
// currency Smart Glocal is not offered in, a device or language
// Kibramoa's cashier does not know, a Monime account id with a space.
func TestUnlistedChoicesAndFormatsGet422(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	for _, tt := range []struct {
		provider providers.Name
		set      map[string]string
		field    string
	}{
		{providers.SmartGlocal, map[string]string{"currency": "JPY"}, "currency"},
		{providers.Kibramoa, map[string]string{"user_device": "PHONE"}, "user_device"},
		{providers.Kibramoa, map[string]string{"language": "FR"}, "language"},
		{providers.Monime, map[string]string{"source_account": "fa 123"}, "source_account"},
	} {
		t.Run(string(tt.provider)+" "+tt.field, func(t *testing.T) {
			c := agent.forT(t)
			form := withValues(validForms(ts)[tt.provider], tt.set)
			form.Set("provider", string(tt.provider))
			form.Set("idempotency_key", c.openForm(tt.provider))
			r := c.postForm("/payouts", form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			if msg := r.doc(t).Find(`[data-testid="error-` + tt.field + `"]`).Text(); strings.TrimSpace(msg) == "" {
				t.Errorf("no message at %s", tt.field)
			}
		})
	}
	if got := countPayouts(t, ts); got != 0 {
		t.Errorf("%d payouts were created from unlisted values", got)
	}
}

func TestAmountAndProviderLimits(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	forms := validForms(ts)
	tests := []struct {
		provider providers.Name
		set      map[string]string
		field    string
		want     string
	}{
		{providers.SmartGlocal, map[string]string{"amount": "1.005"}, "amount", "at most 2 decimal places"},
		{providers.FedaPay, map[string]string{"amount": "10.5"}, "amount", "whole number"},
		{providers.FedaPay, map[string]string{"amount": "1,000,001"}, "amount", "1,000,000"},
		{providers.Monime, map[string]string{"metadata": strings.Repeat("k", 65) + "=v"}, "metadata", "64"},
		{providers.Monime, map[string]string{"metadata": "ticket=" + strings.Repeat("v", 101)}, "metadata", "100"},
		{providers.Kibramoa, map[string]string{"country": "MX", "currency": "BRL"}, "currency", ""},
		// A digit short must not be some other customer's wallet.
		{providers.Monime, map[string]string{"account_id": "078 123 45"}, "account_id", "8 digits"},
		{providers.FedaPay, map[string]string{"phone_country": "tg", "mode": "moov_tg", "phone_number": "97 80 80 8"}, "phone_number", "8 digits"},
		// Three capital letters that name no country.
		{providers.SmartGlocal, map[string]string{"recipient_country_iso3": "ZZZ"}, "recipient_country_iso3", "three-letter ISO 3166 code of a country"},
		{providers.SmartGlocal, map[string]string{"sender_country_iso3": "usd"}, "sender_country_iso3", "such as BEL or USA"},
	}
	for i, tt := range tests {
		t.Run(string(tt.provider)+"/"+tt.field+"/"+strconv.Itoa(i), func(t *testing.T) {
			agent := agent.forT(t)
			key := agent.openForm(tt.provider)
			form := withValues(forms[tt.provider], tt.set)
			form.Set("provider", string(tt.provider))
			form.Set("idempotency_key", key)
			r := agent.postForm("/payouts", form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			msg := r.doc(t).Find(`[data-testid="error-` + tt.field + `"]`).Text()
			if msg == "" || !strings.Contains(msg, tt.want) {
				t.Errorf("message next to %s = %q, want one mentioning %q", tt.field, msg, tt.want)
			}
			// Right under the input, before any hint.
			if next := r.doc(t).Find("#f-" + tt.field).Next(); next.AttrOr("data-testid", "") != "error-"+tt.field {
				t.Errorf("what follows the %s input is %q, want its error", tt.field, next.AttrOr("class", ""))
			}
		})
	}
	// The largest FedaPay payout allowed goes through, once a manager
	// approves it (it is above the approval threshold).
	key := agent.openForm(providers.FedaPay)
	id := agent.submit(providers.FedaPay, key, withValues(forms[providers.FedaPay], map[string]string{"amount": "1,000,000"}))
	ts.waitStatus(id, db.StatusPendingApproval)
	ts.as(db.RoleManager).approve(id)
	if p := ts.waitStatus(id, db.StatusPaid); p.AmountMinor != 1_000_000 || p.Currency != "XOF" {
		t.Errorf("payout = %d %s, want 1000000 XOF", p.AmountMinor, p.Currency)
	}
}

// A country code typed in small letters is taken in capitals, not refused.
func TestCountryCodeTakenInCapitals(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.SmartGlocal, agent.openForm(providers.SmartGlocal),
		withValues(validForms(ts)[providers.SmartGlocal], map[string]string{"recipient_country_iso3": "bel"}))
	p, err := db.NewPayouts(ts.DB).Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Fields["recipient_country_iso3"]; got != "BEL" || p.BeneficiaryCountry != "BEL" {
		t.Errorf("the payout holds country %q (beneficiary %q), want BEL", got, p.BeneficiaryCountry)
	}
}

// FedaPay takes at most 3 payouts to one number in 24 hours: the 4th is
// refused at the form, however the number is typed (Benin's old eight
// digits or the ten they became), with the time the next can be made, and
// nothing is stored or sent.
func TestFedaPayNumberCap(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	form := validForms(ts)[providers.FedaPay]
	for _, number := range []string{"97808080", "+229 01 97 80 80 80", "229 97808080"} {
		agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), withValues(form, map[string]string{"phone_number": number}))
	}
	key := agent.openForm(providers.FedaPay)
	fourth := withValues(form, map[string]string{"provider": "fedapay", "idempotency_key": key, "phone_number": "00229 97-80-80 80"})
	r := agent.postForm("/payouts", fourth)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	doc := r.doc(t)
	msg := doc.Find(`[data-testid="error-phone_number"]`).Text()
	for _, want := range []string{"at most 3 payouts to one mobile money number in 24 hours", "already has 3", "UTC"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message at the number = %q, want it to say %q", msg, want)
		}
	}
	// Waiting is not a fix: the summary names the field without asking
	// the agent to fix it.
	if sum := doc.Find(`[data-testid="form-errors"] p`).Text(); sum != "Nothing was sent, because of this field:" {
		t.Errorf("form summary %q", sum)
	}
	if v, _ := doc.Find(`input[name="phone_number"]`).Attr("value"); v != "00229 97-80-80 80" {
		t.Errorf("number kept as %q", v)
	}
	if n := countPayouts(t, ts); n != 3 {
		t.Errorf("%d payouts stored, want 3", n)
	}
	if n := len(ts.events("payout.created")); n != 3 {
		t.Errorf("%d payout.created events, want 3", n)
	}
	// The same form, to another number, goes.
	agent.submit(providers.FedaPay, key, withValues(form, map[string]string{"phone_number": "97808081"}))
	// Another country's number with the same digits is another number.
	agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay),
		withValues(form, map[string]string{"phone_country": "tg", "mode": "moov_tg"}))
}

func TestDeclineShowsTheProvidersWords(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	key := agent.openForm(providers.FedaPay)
	id := agent.submit(providers.FedaPay, key, withValues(validForms(ts)[providers.FedaPay], map[string]string{"amount": "666"}))
	p := ts.waitStatus(id, db.StatusFailed)
	if p.ErrorCode == "" || p.ErrorMessage == "" {
		t.Fatalf("failed payout has no provider error: %+v", p)
	}
	page := agent.get("/payouts/" + strconv.FormatInt(id, 10)).doc(t)
	if got := page.Find(`[data-testid="provider-error"]`).Text(); !strings.Contains(got, p.ErrorCode) || !strings.Contains(got, p.ErrorMessage) {
		t.Errorf("the page shows %q, want the provider's code %q and message %q", got, p.ErrorCode, p.ErrorMessage)
	}
	wantStoredMasked(t, p)
	// Nothing was paid, so the page offers to create it again: a new form
	// with a new key, filled in but for the number, which must be typed
	// again (only its masked form is kept).
	copyLink, _ := page.Find(`[data-testid="copy-payout"]`).Attr("href")
	if page.Find(`[data-testid="unpaid-advice"]`).Length() != 1 || copyLink != "/payouts/new/fedapay?copy="+strconv.FormatInt(id, 10) {
		t.Fatalf("a failed payout's page offers %q to create it again", copyLink)
	}
	r := agent.get(copyLink)
	wantStatus(t, r, http.StatusOK)
	form := r.doc(t)
	if copied, _ := form.Find(`input[name="idempotency_key"]`).Attr("value"); copied == key || len(copied) != 26 {
		t.Errorf("the copy's idempotency key is %q; want a new one", copied)
	}
	for name, want := range map[string]string{"amount": "666", "phone_number": "", "firstname": "Ama", "email": "ama@example.com"} {
		if !fieldKeeps(form, name, want) {
			t.Errorf("the copy's %s is not %q", name, want)
		}
	}
	if msg := form.Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "Copied from payout "+strconv.FormatInt(id, 10)) || !strings.Contains(msg, "Enter the mobile money number again") {
		t.Errorf("the copy says %q", msg)
	}
	again := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), withValues(validForms(ts)[providers.FedaPay], map[string]string{"amount": "666"}))
	if again == id {
		t.Error("creating it again returned the old payout")
	}
	// What paid, or may still pay, is not copied; nor is what is not there.
	paid := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), validForms(ts)[providers.FedaPay])
	ts.waitStatus(paid, db.StatusPaid)
	if page := agent.get("/payouts/" + strconv.FormatInt(paid, 10)).doc(t); page.Find(`[data-testid="copy-payout"]`).Length() != 0 {
		t.Error("a paid payout offers to be created again")
	}
	r = agent.get("/payouts/new/fedapay?copy=" + strconv.FormatInt(paid, 10))
	wantStatus(t, r, http.StatusOK)
	if form := r.doc(t); !strings.Contains(form.Find(`[data-testid="flash"]`).Text(), "not copied") || fieldKeeps(form, "firstname", "Ama") {
		t.Errorf("a paid payout's details were copied: %q, first name kept %v", form.Find(`[data-testid="flash"]`).Text(), fieldKeeps(form, "firstname", "Ama"))
	}
	for _, bad := range []string{"abc", "-1", "999999", strconv.FormatInt(id, 10) + "&x"} {
		wantStatus(t, agent.get("/payouts/new/monime?copy="+bad), http.StatusNotFound)
	}
	// A refusal at creation (over the provider's own limit) fails with the
	// provider's field errors.
	key = agent.openForm(providers.Kibramoa)
	id = agent.submit(providers.Kibramoa, key, withValues(validForms(ts)[providers.Kibramoa], map[string]string{"amount": "500"}))
	// Said in people's words, not as the client's error chain.
	if p := ts.waitStatus(id, db.StatusUnknown); !strings.HasPrefix(p.ErrorMessage, "No clear answer: Kibramoa answered HTTP 500 to “") ||
		strings.Contains(p.ErrorMessage, "(unknown)") {
		t.Errorf("a 500 from the provider: %q, want the outcome unknown, said plainly", p.ErrorMessage)
	}
	// The event keeps the whole error.
	if ev := ts.events("payout.outcome_unknown"); len(ev) != 1 || !strings.Contains(fmt.Sprint(ev[0].Details["error"]), "kibramoa: ") {
		t.Errorf("the unknown outcome's event: %+v", ev)
	}
}

func TestAgentsCannotResolveManagersMust(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	key := agent.openForm(providers.Kibramoa)
	// 408: Kibramoa creates the session but never answers; it has no
	// idempotency key or lookup by reference, so only a person can settle it.
	id := agent.submit(providers.Kibramoa, key, withValues(validForms(ts)[providers.Kibramoa], map[string]string{"amount": "408"}))
	p := ts.waitStatus(id, db.StatusUnknown)
	path := "/payouts/" + strconv.FormatInt(id, 10)
	form := url.Values{"outcome": {"failed"}, "reason": {"Kibramoa support confirmed the session was never completed."}}
	wantStatus(t, agent.postForm(path+"/resolve", form), http.StatusForbidden)
	page := agent.get(path).doc(t)
	if page.Find(`[data-testid="resolve"]`).Length() != 0 {
		t.Error("an agent is offered the resolve form")
	}
	if !strings.Contains(page.Find(`[data-testid="unknown-advice"]`).Text(), "Do not create this payout again") {
		t.Error("the agent is not told to leave an unknown payout alone")
	}
	// The creation's success is not told above an unknown outcome, on the
	// page or by its polling, which a page opened earlier still does; a
	// notice that is no success stays.
	if msg := agent.get(path + "?notice=created").doc(t).Find(`[data-testid="flash"]`).Text(); msg != "" {
		t.Errorf("above an unknown outcome the page says %q", msg)
	}
	polled := agent.poll(path+"?notice=created&v=queued.stale", nil)
	wantStatus(t, polled, http.StatusOK)
	if notice := polled.doc(t).Find("#notice"); notice.Length() != 1 || notice.Find(`[data-testid="flash"]`).Length() != 0 {
		t.Errorf("the poll answers #notice %d times, holding %q; want it once, empty", notice.Length(), notice.Text())
	}
	// While the status stays, polls leave the notice as it is: drawn
	// again, its live region would be read out again.
	same := agent.poll(path+"?notice=changed&v=unknown.stale", nil)
	wantStatus(t, same, http.StatusOK)
	if n := same.doc(t).Find("#notice").Length(); n != 0 {
		t.Errorf("a poll finding the same status answers #notice %d times, want none", n)
	}
	if msg := agent.get(path + "?notice=changed").doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "NOT applied") {
		t.Errorf("the changes-not-applied warning reads %q above an unknown outcome", msg)
	}

	manager := ts.as(db.RoleManager)
	queue := manager.get("/payouts/unknown").doc(t)
	row := queue.Find(`[data-testid="payout-` + strconv.FormatInt(id, 10) + `"]`)
	if row.Length() != 1 {
		t.Error("the unknown payout is not in the managers' queue")
	}
	// The queue says why each is unknown, and offers no new payout: making
	// one of these again is what must not happen.
	if why := row.Find(`[data-testid="queue-problem"]`).Text(); why != p.ErrorMessage || why == "" || queue.Find(`[data-testid="new-payout"]`).Length() != 0 {
		t.Errorf("the queue says %q for a payout unknown because %q, or offers a new payout", why, p.ErrorMessage)
	}
	// The reason's rule is given before it is broken, as the reject's is.
	if hint := manager.get(path).doc(t).Find(`[data-testid="resolve"] #f-reason-hint`).Text(); !strings.Contains(hint, "10 to 1000 characters") {
		t.Errorf("the resolve form's reason hint %q does not say how long a reason must be", hint)
	}
	r := manager.postForm(path+"/resolve", url.Values{"outcome": {"failed"}, "reason": {"short"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	// The browser puts the cursor in the reason: the card may be far below.
	if _, focused := r.doc(t).Find(`[data-testid="resolve"] textarea[name="reason"]`).Attr("autofocus"); !focused {
		t.Error("the resolve form's reason, refused, does not take the focus")
	}
	if r.doc(t).Find(`[data-testid="error-reason"]`).Text() == "" {
		t.Error("a too-short reason gets no message")
	}
	wantStatus(t, manager.postForm(path+"/resolve", form), http.StatusSeeOther)
	got, _ := db.NewPayouts(ts.DB).Get(context.Background(), p.ID)
	if got.Status != db.StatusFailed {
		t.Fatalf("after resolving: %s, want failed", got.Status)
	}
	// The failure shown is the manager's finding, not the timeout.
	if msg := agent.get(path).doc(t).Find(`[data-testid="provider-error"]`).Text(); !strings.Contains(msg, "Settled as failed by hand: "+form.Get("reason")) ||
		strings.Contains(msg, "No clear answer") {
		t.Errorf("the settled payout's page says %q", msg)
	}
	ev := ts.events("payout.resolved")
	if len(ev) != 1 || ev[0].Reason != form.Get("reason") || ev[0].Actor.Email != "manager@example.com" {
		t.Errorf("resolve events = %+v, want one by the manager with the reason", ev)
	}
	// Settled is settled: a second decision changes nothing.
	manager.postForm(path+"/resolve", url.Values{"outcome": {"paid"}, "reason": {"Changed my mind about it entirely."}})
	if again, _ := db.NewPayouts(ts.DB).Get(context.Background(), p.ID); again.Status != db.StatusFailed {
		t.Errorf("a resolved payout moved to %s", again.Status)
	}
	// Settled as paid, a payout says by whom and why where its status is:
	// no provider said it.
	paid := agent.submit(providers.Kibramoa, agent.openForm(providers.Kibramoa), withValues(validForms(ts)[providers.Kibramoa], map[string]string{"amount": "408"}))
	ts.waitStatus(paid, db.StatusUnknown)
	paidPath := "/payouts/" + strconv.FormatInt(paid, 10)
	because := "The customer sent a screenshot of the credit."
	wantStatus(t, manager.postForm(paidPath+"/resolve", url.Values{"outcome": {"paid"}, "reason": {because}}), http.StatusSeeOther)
	if got := agent.get(paidPath).doc(t).Find(`[data-testid="settled-paid"]`).Text(); !strings.Contains(got, "Settled as paid by hand by manager@example.com: "+because) {
		t.Errorf("the payout settled as paid says %q", got)
	}
	if got := agent.get(path).doc(t).Find(`[data-testid="settled-paid"]`).Length(); got != 0 {
		t.Error("the payout settled as failed says it was settled as paid")
	}
	// Only an unknown outcome is settled by hand: a payout still with its
	// provider (here waiting for the Kibramoa customer) is left to it.
	open := agent.submit(providers.Kibramoa, agent.openForm(providers.Kibramoa), validForms(ts)[providers.Kibramoa])
	ts.waitStatus(open, db.StatusAwaitingCustomer)
	manager.postForm("/payouts/"+strconv.FormatInt(open, 10)+"/resolve", url.Values{"outcome": {"paid"}, "reason": {"The customer says they were paid already."}})
	if got, _ := db.NewPayouts(ts.DB).Get(context.Background(), open); got.Status != db.StatusAwaitingCustomer {
		t.Errorf("a manager settled a payout waiting for its customer as %s", got.Status)
	}
	if n := len(ts.events("payout.resolved")); n != 2 {
		t.Errorf("%d payout.resolved events, want the two", n)
	}
}

// A provider status that settles nothing (999: Smart Glocal's session
// "error", its payout "failed", which Smart Glocal says is not final) makes
// the payout unknown, where a manager sees it, rather than leaving it
// "processing" and asked about forever; asking again keeps it unknown.
func TestUnsettledStatusWaitsForAManager(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.SmartGlocal, agent.openForm(providers.SmartGlocal),
		withValues(validForms(ts)[providers.SmartGlocal], map[string]string{"amount": "999"}))
	p := ts.waitStatus(id, db.StatusUnknown)
	if p.RawStatus != "error/failed" || p.ErrorCode != "internal_error" {
		t.Errorf("unknown payout keeps provider status %q and error %q, want error/failed and internal_error", p.RawStatus, p.ErrorCode)
	}
	var why []db.Event
	for _, e := range ts.events("payout.status_changed") {
		if e.TargetID == strconv.FormatInt(id, 10) && e.Details["why"] != nil {
			why = append(why, e)
		}
	}
	if len(why) != 1 || !strings.Contains(fmt.Sprint(why[0].Details["why"]), "does not say whether the payout was paid") {
		t.Errorf("events saying why the payout is unknown: %+v, want one", why)
	}
	// Reconciliation asks again and again; the answer does not change, so
	// neither does the payout.
	deadline, first := time.Now().Add(10*time.Second), p.Checks
	for p.Checks < first+3 {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s the payout was checked %d times", p.Checks)
		}
		time.Sleep(20 * time.Millisecond)
		p, _ = db.NewPayouts(ts.DB).Get(context.Background(), id)
	}
	if p.Status != db.StatusUnknown {
		t.Fatalf("after %d checks the payout is %s, want unknown", p.Checks, p.Status)
	}
	if n := ts.App.Sandbox().Count(providers.SmartGlocal, "payout created"); n != 1 {
		t.Errorf("%d payouts at Smart Glocal, want 1", n)
	}
	manager := ts.as(db.RoleManager)
	path := "/payouts/" + strconv.FormatInt(id, 10)
	row := manager.get("/payouts/unknown").doc(t).Find(`[data-testid="payout-` + strconv.FormatInt(id, 10) + `"]`)
	if row.Length() != 1 || !strings.Contains(row.Find(`[data-testid="queue-problem"]`).Text(), "support") {
		t.Errorf("the managers' queue shows %q for the payout, want it with the provider's words", row.Text())
	}
	if agent.get("/").doc(t).Find(`[data-testid="attention-unknown"] a[href="`+path+`"]`).Length() != 1 {
		t.Error("the agent's dashboard does not list the unknown payout")
	}
	form := url.Values{"outcome": {"failed"}, "reason": {"Smart Glocal support confirmed the payout failed."}}
	wantStatus(t, manager.postForm(path+"/resolve", form), http.StatusSeeOther)
	if got, _ := db.NewPayouts(ts.DB).Get(context.Background(), id); got.Status != db.StatusFailed {
		t.Errorf("after the manager's decision the payout is %s, want failed", got.Status)
	}
}

func TestTimeoutSettledByReconciliation(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	key := agent.openForm(providers.Monime)
	// 408: Monime creates the payout and never answers; the worker gives up
	// after the send timeout and marks the payout unknown. Reconciliation
	// replays the same request with the same Idempotency-Key.
	id := agent.submit(providers.Monime, key, withValues(validForms(ts)[providers.Monime], map[string]string{"amount": "408"}))
	// Reported on, it no longer carries the timeout as its trouble: not
	// while processing, were the page to show it then, nor once paid.
	if p := ts.waitStatus(id, db.StatusPaid); p.ErrorMessage != "" || p.ErrorCode != "" {
		t.Errorf("the paid payout keeps %q %q", p.ErrorCode, p.ErrorMessage)
	}
	// Paid, it no longer shows the timeout in red (its timeline keeps it).
	page := agent.get("/payouts/" + strconv.FormatInt(id, 10)).doc(t)
	if msg := page.Find(`[data-testid="provider-error"]`).Text(); msg != "" {
		t.Errorf("the paid payout shows an error: %q", msg)
	}
	timeline := page.Find(`[data-testid="timeline"]`).Text()
	if !strings.Contains(timeline, "unknown") {
		t.Error("the timeline lost the unknown outcome")
	}
	// "No clear answer" is Payout Desk's own account, not Monime's words.
	if !strings.Contains(timeline, "Message: No clear answer") || strings.Contains(timeline, "Provider's message: No clear answer") {
		t.Errorf("the timeline gives the unknown outcome's message as %q", timeline)
	}
	// The call that got no answer says so in words, with how long it waited.
	if !regexp.MustCompile(`no answer after \d+ ms: timed out`).MatchString(timeline) || strings.Contains(timeline, "deadline") {
		t.Errorf("the timeline gives the timed-out call as %q", timeline)
	}
	// Depending on how far the provider got by the time of the replay, the
	// payout goes through processing or straight to paid.
	statuses, _ := ts.trail(id)
	if got := strings.Join(statuses, " "); got != "queued submitting unknown processing paid" && got != "queued submitting unknown paid" {
		t.Errorf("statuses %v, want queued submitting unknown [processing] paid", statuses)
	}
	sb := ts.App.Sandbox()
	if sb.Count(providers.Monime, "payout created") != 1 || sb.Count(providers.Monime, "replayed") < 1 {
		t.Errorf("sandbox: %d created, %d replayed; want 1 created and at least one replay",
			sb.Count(providers.Monime, "payout created"), sb.Count(providers.Monime, "replayed"))
	}
}

// TestUnknownMonimeNeverCreatedTwice: an unknown Monime payout whose id we
// hold is read back, not created again; without an id, its create is
// replayed with the same idempotency key only within a day of the attempt,
// since Monime does not say how long it keeps keys.
func TestUnknownMonimeNeverCreatedTwice(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	sb := ts.App.Sandbox()
	store := db.NewPayouts(ts.DB)
	unknown := func(id int64, providerID string, submitted time.Time) {
		t.Helper()
		if _, err := ts.DB.W.Exec(`UPDATE payouts SET status = 'unknown', finished_at = NULL, provider_id = ?, submitted_at = ?,
			next_check_at = '2000-01-01T00:00:00.000000Z' WHERE id = ?`, providerID, submitted.UTC().Format(db.TimeLayout), id); err != nil {
			t.Fatal(err)
		}
	}
	checked := func(id int64, after int) db.Payout {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if p, err := store.Get(context.Background(), id); err == nil && p.Checks > after {
				return p
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("payout %d was not checked again", id)
		return db.Payout{}
	}

	// With Monime's id: a lookup settles it.
	id := agent.submit(providers.Monime, agent.openForm(providers.Monime), validForms(ts)[providers.Monime])
	paid := ts.waitStatus(id, db.StatusPaid)
	unknown(id, paid.ProviderID, ts.Clock.Now())
	ts.waitStatus(id, db.StatusPaid)
	// Without it, a day after the attempt: nothing is sent; it waits for a manager.
	other := agent.submit(providers.Monime, agent.openForm(providers.Monime), validForms(ts)[providers.Monime])
	ts.waitStatus(other, db.StatusPaid)
	unknown(other, "", ts.Clock.Now().Add(-25*time.Hour))
	if p := checked(other, 0); p.Status != db.StatusUnknown {
		t.Errorf("a day-old unknown payout without an id became %s", p.Status)
	}
	xs, err := store.Exchanges(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	creates := 0
	for _, x := range xs {
		if x.Method == http.MethodPost {
			creates++
		}
	}
	if creates != 1 {
		t.Errorf("%d creates sent for the day-old payout, want only the first attempt's", creates)
	}
	if n := sb.Count(providers.Monime, "replayed"); n != 0 {
		t.Errorf("Monime saw %d replayed creates, want none", n)
	}
	if n := sb.Count(providers.Monime, "payout created"); n != 2 {
		t.Errorf("Monime created %d payouts, want 2", n)
	}
}

// TestUnknownPayoutChangedSinceApprovalIsNotReplayed: reconciliation
// replays an unknown Monime create with its idempotency key, but not for a
// payout changed since its approval: what would go out is not what the
// approver saw. It stays unknown, for a manager.
func TestUnknownPayoutChangedSinceApprovalIsNotReplayed(t *testing.T) {
	ts := newTestServerWith(t, false)
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.Monime, agent.openForm(providers.Monime), validForms(ts)[providers.Monime])
	// Its attempt was recorded and its outcome is unknown (as after a
	// timeout); its approval hash no longer matches it.
	for _, q := range []string{
		`DELETE FROM outbox WHERE payout_id = ?`,
		`UPDATE payouts SET status = 'unknown', submitted_at = ?, next_check_at = '2000-01-01T00:00:00.000000Z',
			approval_hash = 'what the approver saw' WHERE id = ?`,
	} {
		args := []any{id}
		if strings.Contains(q, "submitted_at") {
			args = []any{ts.Clock.Now().UTC().Format(db.TimeLayout), id}
		}
		if _, err := ts.DB.W.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	ts.startWorkers()
	store := db.NewPayouts(ts.DB)
	deadline := time.Now().Add(10 * time.Second)
	p, err := store.Get(context.Background(), id)
	for ; err == nil && p.Checks == 0 && time.Now().Before(deadline); p, err = store.Get(context.Background(), id) {
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || p.Checks == 0 {
		t.Fatalf("the payout was not checked (%v)", err)
	}
	if p.Status != db.StatusUnknown {
		t.Errorf("the payout changed since its approval became %s, want unknown", p.Status)
	}
	if n := ts.App.Sandbox().Count(providers.Monime, "payout created"); n != 0 {
		t.Errorf("Monime created %d payouts, want none: the changed payout was replayed", n)
	}
}

// TestCashierArrivingByPollReloadsThePage: a page drawn before the
// cashier's address was known only lets forms go to this site; once the
// address comes in, polling asks for the page afresh (whose policy lets
// "Open cashier" go there), saying the link is there, which is what the
// page promised ("appears here in a moment"), rather than that the payout
// moved on; and a page that knows it polls on.
func TestCashierArrivingByPollReloadsThePage(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.Kibramoa, agent.openForm(providers.Kibramoa), validForms(ts)[providers.Kibramoa])
	ts.waitStatus(id, db.StatusAwaitingCustomer)
	path := "/payouts/" + strconv.FormatInt(id, 10)
	poll := func(target string) response { t.Helper(); return agent.poll(target, nil) }
	r := poll(path)
	reload := r.Header.Get("HX-Redirect")
	if !strings.HasPrefix(reload, path+"?notice=") {
		t.Fatalf("a poll from a page drawn without the cashier: status %d, HX-Redirect %q; want a reload", r.StatusCode, reload)
	}
	const want = "The cashier link is ready below: open it for the customer, or copy it and send it to them."
	if got := strings.TrimSpace(agent.get(reload).doc(t).Find(`[data-testid="flash"]`).Text()); got != want {
		t.Errorf("the page reloaded for the cashier link says %q, want %q", got, want)
	}
	page := agent.get(path)
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+ts.URL) {
		t.Errorf("the page's policy %q does not let Open cashier go to the cashier", csp)
	}
	pollURL, _ := page.doc(t).Find(`#live`).Attr("hx-get")
	// 200 or 204: the workers may have moved its next check on meanwhile.
	if r := poll(pollURL); (r.StatusCode != http.StatusOK && r.StatusCode != http.StatusNoContent) || r.Header.Get("HX-Redirect") != "" {
		t.Errorf("a poll from a page that knows the cashier (%s): status %d, HX-Redirect %q; want it to poll on", pollURL, r.StatusCode, r.Header.Get("HX-Redirect"))
	}
}

func TestSessionMismatchCancelsInsteadOfConfirming(t *testing.T) {
	// A sandbox step long enough that the recipient is changed before the
	// session is ready to confirm, however loaded the machine: with 20 ms
	// it was sometimes confirmed and paid first.
	ts := newTestServerConfig(t, true, func(c *web.Config) { c.SandboxStep = 500 * time.Millisecond })
	agent := ts.as(db.RoleAgent)
	key := agent.openForm(providers.SmartGlocal)
	// The worker is stopped from confirming by a payout whose recipient was
	// changed after it was sent: the session no longer matches it.
	form := validForms(ts)[providers.SmartGlocal]
	id := agent.submit(providers.SmartGlocal, key, form)
	ts.waitStatus(id, db.StatusProcessing)
	if _, err := ts.DB.W.Exec(`UPDATE payouts SET beneficiary_name = 'Someone Else' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	ts.waitStatus(id, db.StatusCancelled)
	// Smart Glocal's webhook may report the cancellation before the answer
	// to the app's cancel is recorded: wait for that record.
	if ev := ts.waitEvents("payout.confirmation_refused", 1, nil); len(ev) != 1 || ev[0].Outcome != db.OutcomeFailure {
		t.Errorf("refusal events = %+v", ev)
	}
	p, err := db.NewPayouts(ts.DB).Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != db.StatusCancelled || p.ErrorCode != "session_mismatch" || !strings.Contains(p.ErrorMessage, "recipient") {
		t.Errorf("cancelled payout is %s and says %s %q, want cancelled and why", p.Status, p.ErrorCode, p.ErrorMessage)
	}
	if n := ts.App.Sandbox().Count(providers.SmartGlocal, "payout created"); n != 1 {
		t.Errorf("%d payouts at Smart Glocal, want 1", n)
	}
}

// The confirm step compares whole accounts, not their last four characters:
// a session paying another IBAN that ends alike is cancelled, and neither
// IBAN is written out in saying so.
func TestConfirmTellsApartAccountsEndingAlike(t *testing.T) {
	ts := newTestServerConfig(t, true, func(c *web.Config) { c.SandboxStep = 500 * time.Millisecond })
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.SmartGlocal, agent.openForm(providers.SmartGlocal), validForms(ts)[providers.SmartGlocal])
	ts.waitStatus(id, db.StatusProcessing)
	// Sent for BE68 5390 0754 7034; the row now names another valid IBAN
	// with the same last four digits.
	if _, err := ts.DB.W.Exec(`UPDATE payouts SET fields = json_set(fields, '$.iban', 'BE15 5391 0754 7034') WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	ts.waitStatus(id, db.StatusCancelled)
	// Smart Glocal's webhook may report the cancellation before the answer
	// to the app's cancel is recorded: wait for that record.
	refused := ts.waitEvents("payout.confirmation_refused", 1, nil)
	p, err := db.NewPayouts(ts.DB).Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p.ErrorCode != "session_mismatch" || !strings.Contains(p.ErrorMessage, "another account with the same last characters") {
		t.Errorf("the payout says %s %q, want the account named as different", p.ErrorCode, p.ErrorMessage)
	}
	for _, ev := range refused {
		for _, iban := range []string{"5390", "5391"} {
			if strings.Contains(p.ErrorMessage+ev.Reason+ev.DetailsJSON, iban) {
				t.Errorf("the refusal writes out an IBAN: %q %q %s", p.ErrorMessage, ev.Reason, ev.DetailsJSON)
			}
		}
	}
	if n := ts.App.Sandbox().Count(providers.SmartGlocal, "session confirmed"); n != 0 {
		t.Errorf("%d sessions confirmed, want none", n)
	}
}

// A payout we still think waits for our confirm, which the provider has
// already settled (the confirm's answer was lost, say): reconciliation
// records what the provider says instead of confirming again.
func TestConfirmStepFindsThePayoutMovedOn(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.SmartGlocal, agent.openForm(providers.SmartGlocal), validForms(ts)[providers.SmartGlocal])
	ts.waitStatus(id, db.StatusPaid)
	if _, err := ts.DB.W.Exec(`UPDATE payouts SET status = 'awaiting_confirmation', confirmed_at = NULL,
		next_check_at = '2000-01-01T00:00:00.000000Z' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	ts.waitStatus(id, db.StatusPaid)
	moved := false
	for _, e := range ts.events("payout.status_changed") {
		moved = moved || (e.TargetID == strconv.FormatInt(id, 10) && e.Details["source"] == "reconciliation")
	}
	if !moved {
		t.Error("no payout.status_changed event from reconciliation")
	}
	if n := ts.App.Sandbox().Count(providers.SmartGlocal, "session confirmed"); n != 1 {
		t.Errorf("Smart Glocal confirmed %d times, want once", n)
	}
}

func TestWebhooksCannotRewriteAFinalPayout(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	key := agent.openForm(providers.FedaPay)
	// 333: the sandbox sends the final "sent" webhook, then a stale
	// "processing" one.
	id := agent.submit(providers.FedaPay, key, withValues(validForms(ts)[providers.FedaPay], map[string]string{"amount": "333"}))
	p := ts.waitStatus(id, db.StatusPaid)
	stale := ts.waitEvents("webhook.received", 1, func(e db.Event) bool {
		_, ignored := e.Details["ignored"]
		return ignored && e.Details["raw_status"] == "processing"
	})
	if !strings.Contains(stale[0].Details["ignored"].(string), "stale") {
		t.Errorf("stale webhook recorded as %v", stale[0].Details)
	}

	seen := ts.events("webhook.received")
	firstID := seen[0].Details["event_id"].(string)
	secret := sandboxtest.Credentials(t).FedaPayWebhookSecret
	post := func(body, signature string) int {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/webhooks/fedapay", strings.NewReader(body))
		req.Header.Set(fedapay.SignatureHeader, signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	body := func(eventID, status string) string {
		return `{"id":` + eventID + `,"name":"payout.` + status + `","object":"payout","entity":{"id":` + p.ProviderID +
			`,"status":"` + status + `","merchant_reference":"` + p.Reference + `","amount":2000}}`
	}
	failed := body("987654", "failed")
	if got := post(failed, fedapay.Sign("not-the-secret", []byte(failed), time.Now())); got != http.StatusUnauthorized {
		t.Errorf("forged webhook: status %d, want 401", got)
	}
	replay := body(firstID, "failed")
	if got := post(replay, fedapay.Sign(secret, []byte(replay), time.Now())); got != http.StatusOK {
		t.Errorf("replayed event id: status %d, want 200 (acknowledged, ignored)", got)
	}
	if got := post(failed, fedapay.Sign(secret, []byte(failed), time.Now())); got != http.StatusOK {
		t.Errorf("genuine late failure: status %d, want 200", got)
	}
	after, _ := db.NewPayouts(ts.DB).Get(context.Background(), id)
	if after.Status != db.StatusPaid || after.ErrorCode != "" {
		t.Errorf("after forged, replayed and late webhooks the payout is %s %q, want paid untouched", after.Status, after.ErrorCode)
	}
	if n := len(ts.events("webhook.rejected")); n != 1 {
		t.Errorf("%d rejected webhooks audited, want 1", n)
	}
	all := ts.events("webhook.received")
	last, dup := all[len(all)-1], all[len(all)-2]
	if dup.Details["duplicate"] != true || last.Details["ignored"] == nil {
		t.Errorf("replay audited as %v and late failure as %v; want duplicate and ignored", dup.Details, last.Details)
	}

	// A status nobody maps, after the end, does not overwrite the final one.
	odd := `{"id":777001,"name":"payout.updated","object":"payout","entity":{"id":` + p.ProviderID + `,"status":"on_hold","merchant_reference":"` + p.Reference + `","amount":2000}}`
	if got := post(odd, fedapay.Sign(secret, []byte(odd), time.Now())); got != http.StatusOK {
		t.Errorf("late odd status: status %d, want 200", got)
	}
	if after, _ := db.NewPayouts(ts.DB).Get(context.Background(), id); after.Status != db.StatusPaid || after.RawStatus != p.RawStatus {
		t.Errorf("after a late odd status the payout is %s, provider status %q; want paid, %q", after.Status, after.RawStatus, p.RawStatus)
	}

	// A payout never sent (waiting for approval) is out of any provider's
	// reach, whatever a signed body claims.
	waiting := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	w, _ := db.NewPayouts(ts.DB).Get(context.Background(), waiting)
	claim := `{"id":555111,"name":"payout.sent","object":"payout","entity":{"id":424242,"status":"sent","merchant_reference":"` + w.Reference + `","amount":600000}}`
	if got := post(claim, fedapay.Sign(secret, []byte(claim), time.Now())); got != http.StatusOK {
		t.Errorf("webhook naming an unsent payout: status %d, want 200 (acknowledged, ignored)", got)
	}
	if after, _ := db.NewPayouts(ts.DB).Get(context.Background(), waiting); after.Status != db.StatusPendingApproval || after.ProviderID != "" || after.RawStatus != "" {
		t.Errorf("a webhook changed an unsent payout: %s, provider id %q, raw status %q", after.Status, after.ProviderID, after.RawStatus)
	}
	if all := ts.events("webhook.received"); all[len(all)-1].Details["ignored"] != "the payout was never sent to the provider" {
		t.Errorf("the webhook naming an unsent payout is audited as %v", all[len(all)-1].Details)
	}
}

// unknownMonime stores a Monime payout of amount minor SLE with key, as a
// send whose outcome was lost leaves it: unknown, sent sentAgo, with no
// Monime id. Its fields are returned with it, to send it again.
func (ts *testServer) unknownMonime(key string, minor int64, sentAgo time.Duration) (db.Payout, map[string]string) {
	ts.t.Helper()
	ctx := context.Background()
	store := db.NewPayouts(ts.DB)
	fields := map[string]string{"amount": fmt.Sprintf("%d.%02d", minor/100, minor%100), "currency": "SLE", "provider_code": "m17", "account_id": "+23278123456"}
	p, _, err := store.Create(ctx, db.NewPayout{
		Provider: "monime", Status: db.StatusQueued, AmountMinor: minor, Currency: "SLE",
		IdempotencyKey: key, Reference: "PD-" + key, Fields: fields,
		BeneficiaryName: "+232 •••• 3456", BeneficiaryAccount: "•••• 3456", CreatedBy: ts.Users[db.RoleAgent].ID,
	}, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.created"})
	if err != nil {
		ts.t.Fatal(err)
	}
	for _, to := range []db.Status{db.StatusSubmitting, db.StatusUnknown} {
		if err := store.Change(ctx, p.ID, db.Change{To: to}, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout." + string(to)}); err != nil {
			ts.t.Fatal(err)
		}
	}
	if _, err := ts.DB.W.Exec(`UPDATE payouts SET submitted_at = ? WHERE id = ?`, time.Now().Add(-sentAgo).UTC().Format(db.TimeLayout), p.ID); err != nil {
		ts.t.Fatal(err)
	}
	if p, err = store.Get(ctx, p.ID); err != nil {
		ts.t.Fatal(err)
	}
	return p, fields
}

// TestNobodySettlesTheirOwnUnknownPayout: settling an unknown outcome as
// failed lets the payout be created again, so, as with approvals, the
// manager who created it cannot settle it; another manager or an admin can.
func TestNobodySettlesTheirOwnUnknownPayout(t *testing.T) {
	ts := newTestServerWith(t, false) // nothing settles it but people
	p, _ := ts.unknownMonime("OWNUNKNOWN", 1000, time.Hour)
	manager := ts.as(db.RoleManager)
	if _, err := ts.DB.W.Exec(`UPDATE payouts SET created_by = ? WHERE id = ?`, ts.Users[db.RoleManager].ID, p.ID); err != nil {
		t.Fatal(err)
	}
	path := "/payouts/" + strconv.FormatInt(p.ID, 10)
	page := manager.get(path).doc(t)
	if page.Find(`[data-testid="resolve"]`).Length() != 0 || !strings.Contains(page.Find(`[data-testid="resolve-refused"]`).Text(), "another manager must settle it") {
		t.Error("the manager who created the payout is offered to settle it, or not told who must")
	}
	pollURL, _ := page.Find(`#live`).Attr("hx-get")
	// The card is among the polled parts, so that it can go by itself.
	if r := manager.poll(path+"?v=unknown.stale", nil); r.doc(t).Find(`#live [data-testid="resolve-refused"]`).Length() != 1 {
		t.Errorf("the polled parts (status %d) lack the card saying another manager must settle it", r.StatusCode)
	}
	for _, outcome := range []string{"failed", "paid"} {
		r := manager.postForm(path+"/resolve", url.Values{"outcome": {outcome}, "reason": {"I know what happened to my own payout."}})
		wantStatus(t, r, http.StatusForbidden)
		if r.doc(t).Find(`[data-testid="resolve-refused"]`).Length() != 1 {
			t.Errorf("settling their own payout as %s: the refusal does not say why", outcome)
		}
	}
	if got, _ := db.NewPayouts(ts.DB).Get(context.Background(), p.ID); got.Status != db.StatusUnknown {
		t.Fatalf("the creator settled their own payout: %s", got.Status)
	}
	if refused := ts.events("payout.resolve_refused"); len(refused) != 2 || refused[0].Actor.Email != "manager@example.com" || refused[0].Outcome != db.OutcomeFailure {
		t.Errorf("refusals audited as %+v, want two failures by the manager", refused)
	}
	admin := ts.as(db.RoleAdmin)
	// The queue and the dashboard tell the creator it is another's to
	// settle, and count it apart from those they may settle.
	row := `[data-testid="payout-` + strconv.FormatInt(p.ID, 10) + `"]`
	if manager.get("/payouts/unknown").doc(t).Find(row+` [data-testid="queue-yours"]`).Length() != 1 ||
		admin.get("/payouts/unknown").doc(t).Find(row+` [data-testid="queue-yours"]`).Length() != 0 {
		t.Error("the queue does not mark the payout as the creator's own, for the creator only")
	}
	mdoc := manager.get("/").doc(t)
	if got := strings.TrimSpace(mdoc.Find(`[data-testid="managers-unknown-own"]`).Text()); got != "1 payout of yours has an unknown outcome, to be settled by another manager" ||
		mdoc.Find(`[data-testid="managers-unknown"]`).Length() != 0 {
		t.Errorf("the creator's dashboard says %q of their own, or offers it to settle", got)
	}
	if got := mdoc.Find(`[data-testid="count/payouts/unknown"]`).Text(); got != "" {
		t.Errorf("the creator's menu counts %q unknown outcomes to settle, want none", got)
	}
	adoc := admin.get("/").doc(t)
	if got := strings.TrimSpace(adoc.Find(`[data-testid="managers-unknown"]`).Text()); got != "1 payout has an unknown outcome" {
		t.Errorf("another manager's dashboard says %q of unknown outcomes", got)
	}
	if got := adoc.Find(`[data-testid="count/payouts/unknown"]`).Text(); got != "1" {
		t.Errorf("another manager's menu counts %q unknown outcomes, want 1", got)
	}
	wantStatus(t, admin.postForm(path+"/resolve", url.Values{"outcome": {"failed"}, "reason": {"Monime support confirmed it never left."}}), http.StatusSeeOther)
	if got, _ := db.NewPayouts(ts.DB).Get(context.Background(), p.ID); got.Status != db.StatusFailed {
		t.Errorf("settled by an admin: %s, want failed", got.Status)
	}
	// The creator's page, still open, drops "another manager must settle
	// it" with its next poll.
	r := manager.poll(pollURL, nil)
	wantStatus(t, r, http.StatusOK)
	if r.doc(t).Find(`[data-testid="resolve-refused"]`).Length() != 0 {
		t.Error("once settled, the creator's page still says another manager must settle it")
	}
}

// "Refresh status" on an unknown Monime payout replays its create; the
// agent's browser giving up meanwhile must not lose what the provider was
// asked and answered. 408: the sandbox holds the replay until the app's
// call times out, long after the browser left.
func TestRefreshRecordsItsCheckAfterTheBrowserLeaves(t *testing.T) {
	ts := newTestServerWith(t, false) // no reconciliation but the agent's
	ctx := context.Background()
	store := db.NewPayouts(ts.DB)
	// Sent a moment ago, so its create may be replayed with its key.
	p, _ := ts.unknownMonime("REFRESHLEAVESKEY", 40800, 0)
	agent := ts.as(db.RoleAgent)
	agent.hc.Timeout = 300 * time.Millisecond
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/payouts/"+strconv.FormatInt(p.ID, 10)+"/refresh", nil)
	req.Header.Set("Origin", ts.URL)
	if resp, err := agent.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the refresh answered (%d) before the browser gave up: the test needs a held call", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := store.Get(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		xs, err := store.Exchanges(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Monime's webhooks about the payout the replay made may add
		// lookups of their own (GET); the replay is the POST.
		replays := 0
		for _, x := range xs {
			if x.Method == http.MethodPost {
				replays++
			}
		}
		if got.Checks >= 1 && replays == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the browser left: %d checks and %d replays recorded, want the refresh's", got.Checks, replays)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := ts.App.Sandbox().Count(providers.Monime, "payout created"); n != 1 {
		t.Errorf("%d payouts at Monime, want 1", n)
	}
}

// A Monime payout whose create answer was lost holds no Monime id, and
// past the replay window cannot be asked about. Monime's webhook names the
// id: the app asks Monime about that payout, and takes the id and status
// once Monime says the payout carries our reference.
func TestMonimeHintGivesTheLostID(t *testing.T) {
	ts := newTestServerWith(t, false) // only the webhook may settle it
	ctx := context.Background()
	store := db.NewPayouts(ts.DB)
	// Sent two days ago: too long ago to replay the create.
	p, fields := ts.unknownMonime("LOSTIDKEY", 1000, 48*time.Hour)
	// The create reached Monime; its answer is what was lost.
	rail, _ := ts.App.Rails().Get(providers.Monime)
	res, err := rail.Submit(ctx, providers.Payout{IdempotencyKey: p.IdempotencyKey, Reference: p.Reference,
		Amount: providers.Money{Minor: 1000, Currency: "SLE"}, Fields: fields}, providers.Ref{})
	if err != nil {
		t.Fatal(err)
	}
	got := ts.waitStatus(p.ID, db.StatusPaid)
	if got.ProviderID != res.ProviderID {
		t.Errorf("the paid payout holds Monime id %q, want %q", got.ProviderID, res.ProviderID)
	}

	// A hint naming our reference with the id of a payout that carries
	// another reference binds nothing.
	other, err := rail.Submit(ctx, providers.Payout{IdempotencyKey: "ELSEWHEREKEY", Reference: "PD-ELSEWHERE",
		Amount: providers.Money{Minor: 1000, Currency: "SLE"}, Fields: fields}, providers.Ref{})
	if err != nil {
		t.Fatal(err)
	}
	// Its own payout, so that late hints about the first cannot touch it.
	lost, _ := ts.unknownMonime("HIJACKEDKEY", 1000, 48*time.Hour)
	body := `{"apiVersion":"2024-08-01","event":{"id":"evt-crafted","name":"payout.completed"},"object":{"id":"` + other.ProviderID +
		`","type":"payout"},"data":{"id":"` + other.ProviderID + `","status":"completed","metadata":{"payoutdesk_reference":"` + lost.Reference + `"}}}`
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/webhooks/monime", strings.NewReader(body))
	for k, v := range monime.WebhookHeaders("", sandboxtest.Credentials(t).MonimeWebhookSecret) {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the crafted hint: status %d, want 200", resp.StatusCode)
	}
	if after, _ := store.Get(ctx, lost.ID); after.Status != db.StatusUnknown || after.ProviderID != "" {
		t.Errorf("a hint with another payout's id made ours %s with id %q", after.Status, after.ProviderID)
	}
	// Monime's own webhooks about the other payout arrive meanwhile.
	var crafted []db.Event
	for _, e := range ts.events("webhook.received") {
		if e.Details["event_id"] == "evt-crafted" {
			crafted = append(crafted, e)
		}
	}
	if len(crafted) != 1 || !strings.Contains(fmt.Sprint(crafted[0].Details["lookup"]), "not this payout's") {
		t.Errorf("the crafted hint is audited as %+v", crafted)
	}
}

// kibramoaNotifies posts a Kibramoa notification signed with the sandbox's
// webhook secret, as Kibramoa would, and fails unless it is acknowledged.
func (ts *testServer) kibramoaNotifies(body string) {
	ts.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/webhooks/kibramoa", strings.NewReader(body))
	req.Header.Set(kibramoa.SignatureHeader, kibramoa.Sign(sandboxtest.Credentials(ts.t).KibramoaWebhookSecret, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ts.t.Fatalf("Kibramoa's notification %s: status %d, want 200", body, resp.StatusCode)
	}
}

// TestKibramoaStatusCountsWhateverItsAmount: the unit of Kibramoa's
// paymentAmount is unconfirmed and nothing acts on it, so a signed
// COMPLETED whose amount cannot be read still pays the payout (refused, it
// would be resent until Kibramoa gave up), and the amount is put on record
// as unread.
func TestKibramoaStatusCountsWhateverItsAmount(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.Kibramoa, agent.openForm(providers.Kibramoa), validForms(ts)[providers.Kibramoa])
	p := ts.waitStatus(id, db.StatusAwaitingCustomer)
	ts.kibramoaNotifies(fmt.Sprintf(`{"internalId":"kb-unread-amount","sessionId":%q,"merchantReference":%q,"status":"COMPLETED","currency":"BRL","paymentAmount":150.125}`,
		p.PaymentID, p.Reference))
	if got, _ := db.NewPayouts(ts.DB).Get(t.Context(), id); got.Status != db.StatusPaid {
		t.Fatalf("after a COMPLETED with an unreadable amount the payout is %s, want paid", got.Status)
	}
	var unread []any
	for _, e := range ts.events("webhook.received") {
		if v, ok := e.Details["amount_unread"]; ok {
			unread = append(unread, v)
		}
	}
	if len(unread) != 1 || !strings.Contains(fmt.Sprint(unread[0]), `"150.125"`) {
		t.Errorf("the unread amount is on record as %v, want once, quoting 150.125", unread)
	}
}

// A payout that ended with a status alone, no words from its provider,
// says what the status means: a Kibramoa customer cancelling in the
// cashier, or never finishing there.
func TestEndedWithoutWordsIsExplained(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.Kibramoa, agent.openForm(providers.Kibramoa), validForms(ts)[providers.Kibramoa])
	p := ts.waitStatus(id, db.StatusAwaitingCustomer)
	ts.cashierAction(p.CashierURL, "", "cancel")
	ts.waitStatus(id, db.StatusCancelled)
	advice := agent.get("/payouts/" + strconv.FormatInt(id, 10)).doc(t).Find(`[data-testid="unpaid-advice"]`)
	if got := advice.Find(`[data-testid="ended-why"]`).Text(); got != "The customer cancelled in Kibramoa's cashier." {
		t.Errorf("a payout its customer cancelled says %q", got)
	}

	// Expired, told by a notification with no message.
	id = agent.submit(providers.Kibramoa, agent.openForm(providers.Kibramoa), validForms(ts)[providers.Kibramoa])
	p = ts.waitStatus(id, db.StatusAwaitingCustomer)
	ts.kibramoaNotifies(fmt.Sprintf(`{"internalId":%q,"sessionId":%q,"merchantReference":%q,"status":"EXPIRED","currency":"BRL","paymentAmount":%d}`,
		p.ProviderID, p.PaymentID, p.Reference, p.AmountMinor/100))
	ts.waitStatus(id, db.StatusExpired)
	if got := agent.get("/payouts/" + strconv.FormatInt(id, 10)).doc(t).Find(`[data-testid="ended-why"]`).Text(); got != "The customer did not finish in Kibramoa's cashier before it expired." {
		t.Errorf("a payout whose cashier expired says %q", got)
	}

	// A failure with the provider's own words keeps to them.
	form := validForms(ts)[providers.Monime]
	form.Set("amount", "666")
	id = agent.submit(providers.Monime, agent.openForm(providers.Monime), form)
	ts.waitStatus(id, db.StatusFailed)
	if n := agent.get("/payouts/" + strconv.FormatInt(id, 10)).doc(t).Find(`[data-testid="ended-why"]`).Length(); n != 0 {
		t.Error("a failure the provider explained is explained again")
	}
}

// Kibramoa's REFUNDED after COMPLETED: the payout stays paid, as the
// lifecycle's final statuses do, but its page says in red that the money
// came back, the event is audited as a failure, and a repeat adds nothing.
func TestRefundAfterPaidIsShown(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.Kibramoa, agent.openForm(providers.Kibramoa), validForms(ts)[providers.Kibramoa])
	p := ts.waitStatus(id, db.StatusAwaitingCustomer)
	ts.completeCashier(p.CashierURL, "12345678")
	p = ts.waitStatus(id, db.StatusPaid)
	path := "/payouts/" + strconv.FormatInt(id, 10)
	if agent.get(path).doc(t).Find(`[data-testid="reversed"]`).Length() != 0 {
		t.Fatal("a plainly paid payout says it was reported back")
	}
	body := fmt.Sprintf(`{"internalId":%q,"sessionId":%q,"merchantReference":%q,"status":"REFUNDED","currency":"BRL","paymentAmount":%d}`,
		p.ProviderID, p.PaymentID, p.Reference, p.AmountMinor/100)
	// The same word twice, the second not byte for byte: one event.
	ts.kibramoaNotifies(body)
	ts.kibramoaNotifies(body + " ")
	got, _ := db.NewPayouts(ts.DB).Get(t.Context(), id)
	if got.Status != db.StatusPaid || got.RawStatus != "REFUNDED" {
		t.Errorf("after the refund the payout is %s with provider status %q, want paid and REFUNDED", got.Status, got.RawStatus)
	}
	if msg := agent.get(path).doc(t).Find(`[data-testid="reversed"]`).Text(); !strings.Contains(msg, "Kibramoa reported REFUNDED after this payout was paid") {
		t.Errorf("the paid payout's page says %q about the refund", msg)
	}
	if ev := ts.events("payout.contradicted"); len(ev) != 1 || ev[0].Outcome != db.OutcomeFailure || ev[0].Actor.ID != "kibramoa" {
		t.Errorf("contradiction events: %+v, want one failure by Kibramoa", ev)
	}
	// The agent who created it finds it on their dashboard.
	row := agent.get("/").doc(t).Find(`[data-testid="attention-contradicted"] [data-testid="attention-payout-` + strconv.FormatInt(id, 10) + `"]`)
	if !strings.Contains(row.Text(), "REFUNDED") {
		t.Errorf("the dashboard lists the refunded payout as %q", row.Text())
	}
	// Every manager learns of it, once however often it was said, and
	// finds it through the audit log.
	manager := ts.as(db.RoleManager)
	link := manager.get("/").doc(t).Find(`[data-testid="managers-contradicted"]`)
	if got := strings.TrimSpace(link.Text()); got != "1 payout was contradicted by their provider in the last 7 days" {
		t.Errorf("a manager's dashboard says %q", got)
	}
	href, _ := link.Attr("href")
	events := manager.get(href).doc(t).Find(`[data-testid="events"] tbody tr`)
	if events.Length() != 1 || !strings.Contains(events.Text(), "payout.contradicted") {
		t.Errorf("the manager's link %s lists %d events: %q", href, events.Length(), events.Text())
	}
	if got, _ := events.Find(`[data-testid="row-target"]`).Attr("href"); got != path {
		t.Errorf("the listed event links to %q, want %s", got, path)
	}
}

// A payout a manager settled as failed by hand, which Kibramoa then
// reports completed, stays failed (final), but must not be created again:
// its page says it may have been paid, offers no "Create again", refuses
// to be copied, and the dashboard lists it apart from the unpaid ones.
func TestPaidAfterSettledFailedIsNotCreatedAgain(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	// 408: Kibramoa creates the session but its answer never comes.
	id := agent.submit(providers.Kibramoa, agent.openForm(providers.Kibramoa), withValues(validForms(ts)[providers.Kibramoa], map[string]string{"amount": "408"}))
	p := ts.waitStatus(id, db.StatusUnknown)
	path := "/payouts/" + strconv.FormatInt(id, 10)
	settle := url.Values{"outcome": {"failed"}, "reason": {"Kibramoa support found no completed transaction."}}
	wantStatus(t, ts.as(db.RoleManager).postForm(path+"/resolve", settle), http.StatusSeeOther)
	if agent.get(path).doc(t).Find(`[data-testid="copy-payout"]`).Length() != 1 {
		t.Fatal("a payout settled as failed does not offer to be created again: the test proves nothing")
	}
	ts.kibramoaNotifies(fmt.Sprintf(`{"internalId":"tx-late-1","merchantReference":%q,"status":"COMPLETED","currency":"BRL","paymentAmount":408}`, p.Reference))
	if got, _ := db.NewPayouts(ts.DB).Get(t.Context(), id); got.Status != db.StatusFailed {
		t.Errorf("after the late completion the payout is %s, want failed still", got.Status)
	}
	page := agent.get(path).doc(t)
	if msg := page.Find(`[data-testid="contradicted"]`).Text(); !strings.Contains(msg, "Kibramoa reported COMPLETED after this payout had ended as failed") {
		t.Errorf("the page says %q about the late completion", msg)
	}
	if page.Find(`[data-testid="copy-payout"]`).Length() != 0 || page.Find(`[data-testid="unpaid-advice"]`).Length() != 0 {
		t.Error("a payout reported paid is still offered to be created again")
	}
	copied := agent.get("/payouts/new/kibramoa?copy=" + strconv.FormatInt(id, 10)).doc(t)
	if msg := copied.Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "not copied") {
		t.Errorf("copying it says %q, want a refusal", msg)
	}
	dash := agent.get("/").doc(t)
	in := func(group string) bool {
		return dash.Find(`[data-testid="attention-`+group+`"] [data-testid="attention-payout-`+strconv.FormatInt(id, 10)+`"]`).Length() == 1
	}
	if !in("contradicted") || in("ended") {
		t.Errorf("the dashboard lists it as contradicted %v, as ended unpaid %v; want only contradicted", in("contradicted"), in("ended"))
	}
	if ev := ts.events("payout.contradicted"); len(ev) != 1 || ev[0].Outcome != db.OutcomeFailure {
		t.Errorf("contradiction events: %+v", ev)
	}
}

// Kibramoa's COMPLETED delivered after its REFUNDED (a retried delivery)
// is late news of a payout whose money came back: it stays failed and may
// be created again, nothing is said to contradict it.
func TestCompletedAfterRefundedIsLate(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.Kibramoa, agent.openForm(providers.Kibramoa), validForms(ts)[providers.Kibramoa])
	p := ts.waitStatus(id, db.StatusAwaitingCustomer)
	for _, status := range []string{"REFUNDED", "COMPLETED"} {
		ts.kibramoaNotifies(fmt.Sprintf(`{"internalId":"tx-refunded-1","sessionId":%q,"merchantReference":%q,"status":%q,"currency":"BRL","paymentAmount":%d}`,
			p.PaymentID, p.Reference, status, p.AmountMinor/100))
	}
	got, _ := db.NewPayouts(ts.DB).Get(t.Context(), id)
	if got.Status != db.StatusFailed || !got.EndedUnpaid() || got.ErrorCode != db.RefundedCode {
		t.Errorf("after REFUNDED then COMPLETED the payout is %s, code %q, ended unpaid %v; want failed, refunded, true", got.Status, got.ErrorCode, got.EndedUnpaid())
	}
	if n := len(ts.events("payout.contradicted")); n != 0 {
		t.Errorf("%d contradiction events, want none", n)
	}
}

// A Monime payout whose create answer was lost, settled as failed by a
// manager, then paid by Monime after all: Monime's hints name its id, which
// the app asks about, and the payout is marked as possibly paid, so that
// nobody creates it again: from Monime's first word that it holds the
// payout, then again, once "completed", saying how it had ended once.
func TestMonimePaidAfterSettledFailed(t *testing.T) {
	ts := newTestServerWith(t, false) // only the webhooks may say anything
	p, fields := ts.unknownMonime("SETTLEDKEY", 1000, 48*time.Hour)
	path := "/payouts/" + strconv.FormatInt(p.ID, 10)
	settle := url.Values{"outcome": {"failed"}, "reason": {"Monime support found no such payout."}}
	wantStatus(t, ts.as(db.RoleManager).postForm(path+"/resolve", settle), http.StatusSeeOther)
	rail, _ := ts.App.Rails().Get(providers.Monime)
	res, err := rail.Submit(t.Context(), providers.Payout{IdempotencyKey: p.IdempotencyKey, Reference: p.Reference,
		Amount: providers.Money{Minor: 1000, Currency: "SLE"}, Fields: fields}, providers.Ref{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := db.NewPayouts(ts.DB).Get(t.Context(), p.ID)
		if got.ErrorCode == db.PaidAfterEnd && strings.Contains(got.ErrorMessage, "Monime reported completed") {
			if got.Status != db.StatusFailed || got.ProviderID != res.ProviderID || got.EndedUnpaid() {
				t.Errorf("the payout is %s with id %q, ended unpaid %v; want failed, %s, false", got.Status, got.ProviderID, got.EndedUnpaid(), res.ProviderID)
			}
			if n := strings.Count(got.ErrorMessage, "ended with: Settled as failed by hand: Monime support found no such payout."); n != 1 ||
				strings.Count(got.ErrorMessage, "Monime reported") != 1 {
				t.Errorf("the payout says %q, want Monime's last word and how it had ended, once", got.ErrorMessage)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s the payout is %s with code %q, not marked as possibly paid", got.Status, got.ErrorCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRefreshStatusWithoutJavaScript(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	key := agent.openForm(providers.Kibramoa)
	id := agent.submit(providers.Kibramoa, key, validForms(ts)[providers.Kibramoa])
	p := ts.waitStatus(id, db.StatusAwaitingCustomer)
	path := "/payouts/" + strconv.FormatInt(id, 10)
	page := agent.get(path).doc(t)
	if page.Find(`form[action="`+path+`/refresh"][method="post"] [data-testid="refresh"]`).Length() != 1 {
		t.Fatal("no plain refresh form on an open payout")
	}
	r := agent.postForm(path+"/refresh", nil)
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, path)
	// Kibramoa can be asked about a payout only once its customer has
	// acted in the cashier: the page must not claim it was asked.
	if msg := agent.get(path).doc(t).Find(`[data-testid="flash"]`).Text(); msg != "Payout "+strconv.FormatInt(id, 10)+": Not asked: there is no way yet to look this payout up at the provider; its status changes when the provider reports. Status: waiting for customer." {
		t.Errorf("after refreshing the page says %q", msg)
	}
	if link, _ := page.Find(`[data-testid="cashier-link"]`).Attr("value"); link == "" {
		t.Error("no cashier link to copy")
	}
	csp := agent.get(path).Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' "+ts.URL) {
		t.Errorf("CSP %q does not let the Open cashier form reach the cashier", csp)
	}

	// Ended since its page was drawn (the customer cancelled): there is
	// nothing to ask, and the page does not claim it asked.
	ts.cashierAction(p.CashierURL, "", "cancel")
	ts.waitStatus(id, db.StatusCancelled)
	agent.postForm(path+"/refresh", nil)
	if msg := agent.get(path).doc(t).Find(`[data-testid="flash"]`).Text(); msg != "Payout "+strconv.FormatInt(id, 10)+": Not asked: this payout has ended. Status: cancelled." {
		t.Errorf("refreshing a payout that has ended says %q", msg)
	}

	// A provider that does not answer is not said to have been asked.
	form := validForms(ts)[providers.Monime]
	form.Set("amount", "500")
	failing := agent.submit(providers.Monime, agent.openForm(providers.Monime), form)
	ts.waitStatus(failing, db.StatusUnknown)
	path = "/payouts/" + strconv.FormatInt(failing, 10)
	agent.postForm(path+"/refresh", nil)
	if msg := agent.get(path).doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, ": No answer from the provider: Monime answered HTTP 500") ||
		!strings.HasSuffix(msg, "Payout Desk asks again later. Status: outcome unknown.") {
		t.Errorf("refreshing a payout whose provider answers HTTP 500 says %q", msg)
	}

	// A payout waiting for approval was never sent: there is no provider
	// to ask, and the page neither offers to nor claims it did.
	waiting := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	path = "/payouts/" + strconv.FormatInt(waiting, 10)
	if agent.get(path).doc(t).Find(`[data-testid="refresh"]`).Length() != 0 {
		t.Error("a payout never sent offers Refresh status")
	}
	agent.postForm(path+"/refresh", nil)
	if msg := agent.get(path).doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "Not sent to the provider") {
		t.Errorf("refreshing a payout never sent says %q", msg)
	}
	if xs, _ := db.NewPayouts(ts.DB).Exchanges(t.Context(), waiting); len(xs) != 0 {
		t.Errorf("refreshing a payout never sent asked the provider %d times", len(xs))
	}
}

// A manager's own payout is refused to them whatever its status as read:
// it may become unknown between that read and the change.
func TestNobodySettlesTheirOwnPayoutBeforeItIsUnknown(t *testing.T) {
	ts := newTestServerWith(t, false)
	p := ts.seedPayout() // queued
	if _, err := ts.DB.W.Exec(`UPDATE payouts SET created_by = ? WHERE id = ?`, ts.Users[db.RoleManager].ID, p.ID); err != nil {
		t.Fatal(err)
	}
	r := ts.as(db.RoleManager).postForm("/payouts/"+strconv.FormatInt(p.ID, 10)+"/resolve", url.Values{"outcome": {"failed"}, "reason": {"I know what happened to my own payout."}})
	wantStatus(t, r, http.StatusForbidden)
	if got, _ := db.NewPayouts(ts.DB).Get(context.Background(), p.ID); got.Status != db.StatusQueued {
		t.Errorf("the creator's resolve left the payout %s, want queued", got.Status)
	}
	if refused := ts.events("payout.resolve_refused"); len(refused) != 1 {
		t.Errorf("%d refusals audited, want 1", len(refused))
	}
}

// Whoever holds a Kibramoa cashier link chooses where the money goes:
// another agent may read the payout, but neither sees the link (on the
// card or in Kibramoa's answer) nor opens the cashier; a manager may.
func TestCashierLinkIsForItsCreatorAndManagers(t *testing.T) {
	ts := newTestServer(t)
	creator := ts.as(db.RoleAgent)
	id := creator.submit(providers.Kibramoa, creator.openForm(providers.Kibramoa), validForms(ts)[providers.Kibramoa])
	p := ts.waitStatus(id, db.StatusAwaitingCustomer)
	link, err := url.Parse(p.CashierURL)
	session := link.Query().Get("sessionId")
	if err != nil || session == "" {
		t.Fatalf("cashier link %q has no session id", p.CashierURL)
	}
	path := "/payouts/" + strconv.FormatInt(id, 10)

	colleague := ts.colleague()
	page := colleague.get(path)
	wantStatus(t, page, http.StatusOK)
	if i := strings.Index(page.Body, session); i >= 0 {
		t.Errorf("another agent's page of the payout shows its cashier session: …%s", page.Body[max(0, i-150):i])
	}
	if page.doc(t).Find(`[data-testid="withheld"]`).Length() != 1 {
		t.Error("another agent's page does not say what it withholds")
	}
	r := colleague.postForm(path+"/cashier", nil)
	wantStatus(t, r, http.StatusForbidden)
	if strings.Contains(r.Body, session) || r.Header.Get("Location") != "" {
		t.Error("the refused cashier launch gave the link away")
	}
	if refused := ts.events("payout.cashier_refused"); len(refused) != 1 || refused[0].Actor.Email != "colleague@example.com" {
		t.Errorf("refused launches audited as %+v, want one by the colleague", refused)
	}
	if got := creator.get(path).doc(t).Find(`[data-testid="timeline"]`).Text(); !strings.Contains(got, "Cashier refused to someone else") {
		t.Errorf("the creator's timeline does not say in words that the cashier was refused: %q", got)
	}

	for _, c := range []*client{creator, ts.as(db.RoleManager)} {
		page := c.get(path)
		if !strings.Contains(page.Body, session) || page.doc(t).Find(`[data-testid="withheld"]`).Length() != 0 {
			t.Error("the creator's or a manager's page lacks the cashier link, or says it is withheld")
		}
		r := c.postForm(path+"/cashier", nil)
		wantStatus(t, r, http.StatusSeeOther)
		wantLocation(t, r, p.CashierURL)
	}
}

// TestLearntProviderIDIsAudited: a FedaPay payout whose create was taken
// but never answered (408) is unknown, without FedaPay's id. Found by its
// reference, it is still "pending" (created, not started), which moves no
// status: the id it now has says where the money would go, so it is
// audited, and the payout is then resumed with it and paid.
func TestLearntProviderIDIsAudited(t *testing.T) {
	ts := newTestServerConfig(t, true, func(c *web.Config) { c.Providers.FedaPay.LookupByReference = true })
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), withValues(validForms(ts)[providers.FedaPay], map[string]string{"amount": "408"}))
	p := ts.waitStatus(id, db.StatusPaid)
	var learnt []db.Event
	for _, ev := range ts.events("payout.provider_id_learned") {
		if ev.TargetID == strconv.FormatInt(id, 10) {
			learnt = append(learnt, ev)
		}
	}
	if len(learnt) != 1 || learnt[0].Details["provider_id"] != p.ProviderID || p.ProviderID == "" {
		t.Fatalf("FedaPay's id %q reached the payout with events %+v, want one payout.provider_id_learned naming it", p.ProviderID, learnt)
	}
	if n := ts.App.Sandbox().Count(providers.FedaPay, "payout created"); n != 1 {
		t.Errorf("FedaPay saw %d payouts, want 1", n)
	}
}

// TestRateLimitedPayoutIsSentAgain: a provider's HTTP 429 (sandbox amount
// 429) created nothing, so the payout goes back to the queue, neither
// failed nor unknown, waits as long as the answer's Retry-After asks, and
// is sent again as the same payout: one at the provider.
func TestRateLimitedPayoutIsSentAgain(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	ids := map[providers.Name]int64{}
	for _, p := range providers.All {
		ids[p] = agent.submit(p, agent.openForm(p), withValues(validForms(ts)[p], map[string]string{"amount": "429"}))
	}
	for _, p := range providers.All {
		t.Run(string(p), func(t *testing.T) {
			ts := ts.forT(t)
			id := ids[p]
			want := db.StatusPaid
			if p == providers.Kibramoa {
				want = db.StatusAwaitingCustomer
			}
			ts.waitStatus(id, want)
			statuses, _ := ts.trail(id)
			if len(statuses) < 4 || strings.Join(statuses[:4], " ") != "queued submitting queued submitting" {
				t.Errorf("audited statuses %v, want the payout queued again after the refusal", statuses)
			}
			var requeued []db.Event
			for _, ev := range ts.events("payout.requeued") {
				if ev.TargetID == strconv.FormatInt(id, 10) {
					requeued = append(requeued, ev)
				}
			}
			if len(requeued) != 1 || requeued[0].Details["http_status"] != float64(http.StatusTooManyRequests) ||
				requeued[0].Details["retry_in_s"] != sandbox.RateLimitWait.Seconds() {
				t.Errorf("requeued events %+v, want one after HTTP 429 waiting the %v the provider asked for", requeued, sandbox.RateLimitWait)
			}
			// The timeline says why it waited, in people's words.
			tl := strings.Join(strings.Fields(agent.forT(t).get("/payouts/"+strconv.FormatInt(id, 10)).doc(t).Find(`[data-testid="timeline"]`).Text()), " ")
			if want := p.Title() + " asked to wait (HTTP 429); nothing was created; sending again in 3 s"; !strings.Contains(tl, want) {
				t.Errorf("the timeline does not say %q:\n%s", want, tl)
			}
			sb := ts.App.Sandbox()
			if created, limited := sb.Count(p, "payout created"), sb.Count(p, "rate limited"); created != 1 || limited != 1 {
				t.Errorf("the sandbox refused %d and created %d payouts, want 1 and 1", limited, created)
			}
		})
	}
}
