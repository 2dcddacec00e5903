package web_test

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// statusWait bounds every wait for a status on the payout page. The page
// polls every 2 s and the sandbox steps every 20 ms, so a payout that works
// gets there in a few seconds.
const statusWait = 10 * time.Second

// TestBrowserPayoutPerProvider is the agent's journey in a real browser:
// sign in, create a payout with each provider through the picker and the
// form, and watch it reach paid on its page without reloading it (htmx
// polling). For Kibramoa the agent opens the cashier from the payout page,
// which opens a new tab where the customer completes it.
func TestBrowserPayoutPerProvider(t *testing.T) {
	ts := newTestServer(t)
	ctx := newBrowser(t)
	forms := validForms(ts)

	signInInBrowser(t, ctx, ts, "agent@example.com", db.RoleAgent)

	ids := map[providers.Name]int64{}
	focusedOnRefresh := 0
	providerOrder := []providers.Name{providers.Kibramoa, providers.SmartGlocal, providers.Monime, providers.FedaPay}
	for _, name := range providerOrder {
		t.Run(string(name), func(t *testing.T) {
			form := forms[name]
			id := createPayoutInBrowser(t, ctx, ts, name, form)
			ids[name] = id

			if want := wantAmount(t, form.Get("amount"), form.Get("currency")); want != "" {
				if got := value(t, ctx, "amount", chromedp.Text(chromedp.CSS(`[data-testid="payout-amount"]`))); got != want {
					t.Errorf("the payout page shows the amount %q, want %q", got, want)
				}
			}
			first := value(t, ctx, "first status", chromedp.AttributeValue(chromedp.CSS(`[data-testid="status"]`), "data-status")).Value
			t.Logf("payout %d first rendered as %s", id, first)

			// A full reload would drop this mark: it proves the page
			// changed through htmx, not by navigation.
			step(t, ctx, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__payoutPageMark = true`))
			if first != string(db.StatusPaid) && !value(t, ctx, "htmx", chromedp.Evaluate[bool](`typeof window.htmx === "object"`)) {
				t.Errorf("htmx is not loaded on the payout page, so it cannot poll; %s", pageDiag(ctx))
			}

			if name == providers.Kibramoa {
				// The cashier's address coming in reloads the page once, if
				// it was drawn without it: only a fresh page's policy lets
				// "Open cashier" go to the cashier's site. The cashier card
				// is not polled (polling would take its focus), so the page
				// reloads again to drop it once the customer is done.
				waitPageStatus(t, ctx, db.StatusAwaitingCustomer)
				step(t, ctx, "wait for the cashier card", chromedp.WaitVisible(chromedp.CSS(`[data-testid="open-cashier"]`)))
				completeCashierInNewTab(t, ctx, ts, form.Get("amount")+" "+form.Get("currency"))
			}
			// Someone on "Refresh status" when the payout ends keeps their
			// place: the button goes, and the focus moves to the status
			// rather than falling back to the start of the page.
			onRefresh := name != providers.Kibramoa && value(t, ctx, "focus Refresh status", chromedp.Evaluate[bool](
				`(() => { const b = document.getElementById("refresh-status"); if (b) b.focus(); return !!b && document.activeElement === b })()`))
			waitPageStatus(t, ctx, db.StatusPaid)
			if onRefresh {
				focusedOnRefresh++
				// htmx settles the new content a moment after the swap.
				wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := chromedp.Run(wctx, chromedp.Poll[bool](`document.activeElement.id === "status-heading"`))
				cancel()
				if err != nil {
					got := value(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.tagName`))
					t.Errorf("the payout ended while Refresh status had the focus; the focus is now on %s, want the status heading", got)
				}
			}

			if name == providers.Kibramoa {
				if value(t, ctx, "cashier card", chromedp.Evaluate[bool](`document.querySelector('[data-testid="cashier"]') !== null`)) {
					t.Error("the paid payout's page still offers the cashier")
				}
			} else if !value(t, ctx, "page mark", chromedp.Evaluate[bool](`window.__payoutPageMark === true`)) {
				t.Errorf("the payout page was reloaded to show paid; it should update in place by polling")
			}
			if loc := value(t, ctx, "location", chromedp.Location()); payoutIDFromURL(ts, loc) != id {
				t.Errorf("the back-office tab is on %s, want the page of payout %d", loc, id)
			}
			if pid := value(t, ctx, "provider id", chromedp.Text(chromedp.CSS(`[data-testid="provider-id"]`))); pid == "" || pid == "—" {
				t.Errorf("the paid payout's page shows no provider id (%q)", pid)
			}
			if polls := value(t, ctx, "polling", chromedp.AttributeValue(chromedp.CSS(`#live`), "hx-trigger")); polls.Exists {
				t.Errorf("the paid payout's page still polls (hx-trigger=%q)", polls.Value)
			}
			// Not ts.waitStatus: it fails through the parent test.
			p, err := db.NewPayouts(ts.DB).Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != db.StatusPaid || p.Provider != string(name) {
				t.Errorf("payout %d is stored as %s for provider %q, want paid for %q", id, p.Status, p.Provider, name)
			}
		})
	}

	if focusedOnRefresh == 0 {
		t.Error("no payout page offered Refresh status before its payout ended, so keeping the focus was not tried")
	}

	// One payout per provider, and the cashier launch is audited.
	all, err := db.NewPayouts(ts.DB).List(context.Background(), db.PayoutFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	perProvider := map[string][]int64{}
	for _, p := range all {
		perProvider[p.Provider] = append(perProvider[p.Provider], p.ID)
	}
	for name, id := range ids {
		if got := perProvider[string(name)]; len(got) != 1 || got[0] != id {
			t.Errorf("%s payouts in the database: %v, want exactly the one created (%d)", name, got, id)
		}
	}
	if len(all) != len(providerOrder) {
		t.Errorf("%d payouts in the database, want %d (one per provider): %v", len(all), len(providerOrder), perProvider)
	}
	if kib, ok := ids[providers.Kibramoa]; ok {
		var launched []db.Event
		for _, e := range ts.events("payout.cashier_launched") {
			if e.TargetType == "payout" && e.TargetID == strconv.FormatInt(kib, 10) {
				launched = append(launched, e)
			}
		}
		if len(launched) != 1 {
			t.Errorf("%d payout.cashier_launched events for Kibramoa payout %d, want 1", len(launched), kib)
		} else if a := launched[0].Actor; a.Type != db.ActorUser || a.Email != "agent@example.com" {
			t.Errorf("the cashier launch is audited as %+v, want the agent", a)
		}
	}
}

// createPayoutInBrowser goes from the picker to the provider's form, fills
// it with form, submits it and returns the created payout's id, on whose
// page the browser then is.
func createPayoutInBrowser(t *testing.T, ctx context.Context, ts *testServer, name providers.Name, form map[string][]string) int64 {
	t.Helper()
	pick := `[data-testid="pick-` + string(name) + `"]`
	step(t, ctx, "open the provider picker",
		chromedp.Navigate(ts.URL+"/payouts/new"),
		chromedp.WaitVisible(chromedp.CSS(pick)),
	)
	step(t, ctx, "pick "+string(name),
		chromedp.Click(chromedp.CSS(pick)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="payout-form"]`)),
	)
	if loc := value(t, ctx, "location", chromedp.Location()); loc != ts.URL+"/payouts/new/"+string(name) {
		t.Fatalf("picking %s led to %s, want /payouts/new/%s", name, loc, name)
	}

	id := submitPayoutForm(t, ctx, ts, name, form)
	want := "Payout created and queued for sending. Its status below updates by itself."
	got := value(t, ctx, "flash", chromedp.Text(chromedp.CSS(`[data-testid="flash"]`)))
	if name == providers.Kibramoa {
		// Which one depends on whether the link was in when the page loaded.
		want = "Payout created. Its cashier link appears here in a moment: open it for the customer, or copy it and send it to them."
		if got == "Payout created. Its cashier link is below: open it for the customer, or copy it and send it to them." {
			want = got
		}
	}
	if got != want {
		t.Errorf("after submitting, the page says %q, want %q", got, want)
	}
	// Shown once: a reload must not say "created" again.
	if loc := value(t, ctx, "location", chromedp.Location()); loc != ts.URL+"/payouts/"+strconv.FormatInt(id, 10) {
		t.Errorf("the created payout's address is %s, want it without its one-time notice", loc)
	}
	return id
}

// submitPayoutForm fills the provider's form, on which the browser is,
// with form, submits it and returns the created payout's id, on whose page
// the browser then is.
func submitPayoutForm(t *testing.T, ctx context.Context, ts *testServer, name providers.Name, form map[string][]string) int64 {
	t.Helper()
	// What the form offers: control id → tag name.
	controls := value(t, ctx, "form controls", chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll('[data-testid="payout-form"] [id^="f-"]')].map(e => [e.id, e.tagName]))`))
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, field := range names {
		v := form[field][0]
		sel := chromedp.CSS("#f-" + field)
		switch tag := controls["f-"+field]; tag {
		case "":
			t.Errorf("the %s form has no field %q (it has %v)", name, field, controls)
			continue
		case "SELECT":
			step(t, ctx, fmt.Sprintf("choose %q in the %s select (is it one of its options?)", v, field), chromedp.SetValue(sel, v))
		default:
			// Empty it first (some fields come with a default), then type
			// as the agent would. Not chromedp.SetValue(sel, ""): in
			// chromedp v0.22.1 it sends no argument for "" (omitempty on
			// the call argument) and the field ends up holding "undefined".
			step(t, ctx, "type "+field,
				chromedp.Evaluate[chromedp.Void](`document.getElementById(`+strconv.Quote("f-"+field)+`).value = ""`),
				chromedp.SendKeys(sel, v),
			)
		}
		if got := value(t, ctx, "read "+field, chromedp.Value(sel)); got != v {
			t.Errorf("after filling, the %s field %q holds %q, want %q", name, field, got, v)
		}
	}

	step(t, ctx, "submit the "+string(name)+" form",
		chromedp.Click(chromedp.CSS(`[data-testid="payout-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="status"], [data-testid="form-error"], [data-testid^="error-"]`)),
	)
	loc := value(t, ctx, "location", chromedp.Location())
	id := payoutIDFromURL(ts, loc)
	if id == 0 {
		t.Fatalf("submitting the %s form led to %s, want /payouts/{id}; %s", name, loc, pageDiag(ctx))
	}
	return id
}

// waitPageStatus waits, without reloading, until the payout page shows
// want, failing at once if it shows another final status.
func waitPageStatus(t *testing.T, ctx context.Context, want db.Status) {
	t.Helper()
	sels := []string{`[data-testid="status"][data-status="` + string(want) + `"]`}
	for _, s := range []db.Status{db.StatusFailed, db.StatusCancelled, db.StatusRejected, db.StatusExpired, db.StatusPaid} {
		if s != want {
			sels = append(sels, `[data-testid="status"][data-status="`+string(s)+`"]`)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, statusWait)
	defer cancel()
	start := time.Now()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(strings.Join(sels, ", ")))); err != nil {
		t.Fatalf("waited %s for the payout page to show %s: %v; %s", statusWait, want, err, pageDiag(ctx))
	}
	got := value(t, ctx, "status", chromedp.AttributeValue(chromedp.CSS(`[data-testid="status"]`), "data-status")).Value
	if got != string(want) {
		t.Fatalf("the payout page shows %s, want %s; %s", got, want, pageDiag(ctx))
	}
	t.Logf("page showed %s after %s", want, time.Since(start).Round(time.Millisecond))
}

// completeCashierInNewTab clicks "Open cashier" on the payout page, catches
// the tab it opens and completes the cashier there as the customer would.
func completeCashierInNewTab(t *testing.T, ctx context.Context, ts *testServer, wantAmount string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	opened := chromedp.WaitNewTarget(wctx, func(info *target.Info) bool { return info.Type == "page" })
	step(t, ctx, "open the cashier", chromedp.Click(chromedp.CSS(`[data-testid="open-cashier"]`)))
	var id target.ID
	select {
	case id = <-opened:
	case <-wctx.Done():
	}
	if id == "" {
		t.Fatalf("clicking Open cashier opened no new tab within 10 s; the back-office tab shows: %s", pageDiag(ctx))
	}
	tab, closeTab := chromedp.NewContext(ctx, chromedp.WithTargetID(id))
	defer closeTab()
	attach(t, tab, "the cashier tab")

	step(t, tab, "load the cashier in the new tab", chromedp.WaitVisible(chromedp.CSS(`[data-testid="cashier-amount"]`)))
	if loc := value(t, tab, "cashier location", chromedp.Location()); !strings.HasPrefix(loc, ts.URL+"/sandbox/") {
		t.Errorf("the cashier tab is on %s, want the sandbox cashier under %s/sandbox/", loc, ts.URL)
	}
	if got := value(t, tab, "cashier amount", chromedp.Text(chromedp.CSS(`[data-testid="cashier-amount"]`))); !strings.Contains(got, wantAmount) {
		t.Errorf("the cashier shows %q, want it to contain %q", got, wantAmount)
	}
	completeCashier(t, tab, ts.URL+"/cashier/done")
}

// completeCashier completes the sandbox cashier the browser shows, as the
// customer would, and checks that it lands on the redirect URL.
func completeCashier(t *testing.T, ctx context.Context, redirect string) {
	t.Helper()
	step(t, ctx, "complete the cashier",
		chromedp.Click(chromedp.CSS(`[data-testid="cashier-option"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="cashier-account"]`), "customer42@pix.example"),
		chromedp.Click(chromedp.CSS(`[data-testid="cashier-complete"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="cashier-done"], [data-testid="cashier-error"]`)),
	)
	if loc := value(t, ctx, "cashier done location", chromedp.Location()); loc != redirect {
		t.Fatalf("after completing, the customer is on %s, want the redirect URL %s; %s", loc, redirect, pageDiag(ctx))
	}
}

// payoutIDFromURL returns the id of the payout page at u (its query, such
// as ?notice=created, aside), or 0 if u is not a payout page of ts.
func payoutIDFromURL(ts *testServer, u string) int64 {
	rest, ok := strings.CutPrefix(u, ts.URL)
	if !ok {
		return 0
	}
	path, _, _ := strings.Cut(rest, "?")
	m := regexp.MustCompile(`^/payouts/(\d+)$`).FindStringSubmatch(path)
	if m == nil {
		return 0
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// wantAmount is how the payout page writes the form's amount.
func wantAmount(t *testing.T, amount, currency string) string {
	t.Helper()
	m, err := providers.ParseMoney(amount, currency)
	if err != nil {
		t.Errorf("valid form amount %q %s: %v", amount, currency, err)
		return ""
	}
	return m.String()
}

// pageDiag describes what the page shows, for failure messages.
func pageDiag(ctx context.Context) string {
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(dctx, chromedp.Evaluate[string](`(() => {
		const text = sel => [...document.querySelectorAll(sel)].map(e => e.textContent.trim().replace(/\s+/g, " ")).filter(Boolean).join(" | ");
		const st = document.querySelector('[data-testid="status"]');
		return "page " + location.href +
			"; status " + (st ? st.getAttribute("data-status") : "(none)") +
			"; raw status " + (text('[data-testid="raw-status"]') || "(none)") +
			"; provider error " + (text('[data-testid="provider-error"]') || "(none)") +
			"; flash " + (text('[data-testid="flash"]') || "(none)") +
			"; form errors " + (text('[data-testid="form-error"], [data-testid^="error-"], [data-testid="cashier-error"]') || "(none)");
	})()`))
	if err != nil {
		return fmt.Sprintf("(could not read the page: %v)", err)
	}
	return s
}

// TestBrowserFieldsFollowThePaymentMethod: the Smart Glocal form asks only
// for what the chosen method needs, marked as required; switching method
// shows the other fields.
func TestBrowserFieldsFollowThePaymentMethod(t *testing.T) {
	ts := newTestServer(t)
	ctx := newBrowser(t)
	signInInBrowser(t, ctx, ts, "agent@example.com", db.RoleAgent)
	step(t, ctx, "open the Smart Glocal form",
		chromedp.Navigate(ts.URL+"/payouts/new/smartglocal"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="payout-form"]`)),
	)
	const shown = `(() => Object.fromEntries(["iban", "card_number", "recipient_first_name", "recipient_full_name"].map(
		n => [n, !document.getElementById("f-" + n).closest(".field").hidden])))()`
	const marked = `!!document.querySelector('label[for="f-iban"] .req')`
	for _, tt := range []struct {
		method string
		want   map[string]bool
	}{
		{"bank_account", map[string]bool{"iban": true, "card_number": false, "recipient_first_name": true, "recipient_full_name": false}},
		{"card", map[string]bool{"iban": false, "card_number": true, "recipient_first_name": false, "recipient_full_name": true}},
	} {
		step(t, ctx, "choose "+tt.method, chromedp.SetValue(chromedp.CSS(`#f-payment_method`), tt.method),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("f-payment_method").dispatchEvent(new Event("change", {bubbles: true}))`))
		if got := value(t, ctx, "shown", chromedp.Evaluate[map[string]bool](shown)); !maps.Equal(got, tt.want) {
			t.Errorf("paying to %s, the form shows %v, want %v", tt.method, got, tt.want)
		}
	}
	if !value(t, ctx, "marked", chromedp.Evaluate[bool](marked)) {
		t.Error("the IBAN, required for a bank payout, is not marked as required")
	}
}
