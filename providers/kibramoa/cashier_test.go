package kibramoa_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
	"payoutdesk/providers/kibramoa"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
)

// browser does not follow redirects, so tests see the cashier's 303.
var browser = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type page struct {
	status   int
	body     string
	location string
}

func get(t *testing.T, u string) page {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return readPage(t, resp)
}

func readPage(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{resp.StatusCode, string(b), resp.Header.Get("Location")}
}

var actionAttr = regexp.MustCompile(`<form method="post" action="([^"]*)"`)

// submit posts the cashier form found on the page at pageURL, as a browser would.
func submit(t *testing.T, pageURL string, form url.Values) page {
	t.Helper()
	p := get(t, pageURL)
	m := actionAttr.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no cashier form on %s (HTTP %d):\n%s", pageURL, p.status, p.body)
	}
	base, _ := url.Parse(pageURL)
	action, err := base.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return post(t, action.String(), form)
}

func post(t *testing.T, u string, form url.Values) page {
	t.Helper()
	resp, err := browser.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	return readPage(t, resp)
}

// cashierPost is the cashier form's endpoint, for posts without a page.
func cashierPost(env *sandboxtest.Env) string {
	return env.BaseURL(providers.Kibramoa) + "/cashier/payout/"
}

// updates waits for n notifications and verifies and parses each with c.
func updates(t *testing.T, env *sandboxtest.Env, c *kibramoa.Client, n int) []providers.Update {
	t.Helper()
	var out []providers.Update
	for _, d := range env.Webhooks.Wait(t, providers.Kibramoa, n, 3*time.Second) {
		u, err := c.Webhook(d.Header, d.Body, time.Now())
		if err != nil {
			t.Fatalf("notification %s: %v", d.Body, err)
		}
		out = append(out, u)
	}
	return out
}

func statuses(us []providers.Update) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.RawStatus+"/"+string(u.Status))
	}
	return out
}

func TestCashierComplete(t *testing.T) {
	tests := []struct {
		name, amount, account string
		wantShown             string
		want                  providers.Status
		wantRaw, wantCode     string
		// minor runs client and sandbox with amounts in minor units.
		minor bool
	}{
		{"completed", "1500.00", "12345678901", "1,500.00 BRL", providers.StatusPaid, "COMPLETED", "", false},
		{"decline fault", "666", "12345678901", "666.00 BRL", providers.StatusFailed, "DECINED", "301", false},
		{"account ending 0000", "150", "99990000", "150.00 BRL", providers.StatusFailed, "DECINED", "301", false},
		{"completed, amounts in minor units", "1500.00", "12345678901", "1,500.00 BRL", providers.StatusPaid, "COMPLETED", "", true},
		{"decline fault, amounts in minor units", "666", "12345678901", "666.00 BRL", providers.StatusFailed, "DECINED", "301", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, c := start(t, sandbox.Config{KibramoaAmountMinor: tt.minor})
			p := payout(t, tt.amount)
			res, err := c.Submit(context.Background(), p, providers.Ref{})
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			pg := get(t, res.CashierURL)
			if pg.status != http.StatusOK || !strings.Contains(pg.body, tt.wantShown) || !strings.Contains(pg.body, "Refund of order 8108") {
				t.Fatalf("got cashier page HTTP %d without %q and the description:\n%s", pg.status, tt.wantShown, pg.body)
			}
			if n := strings.Count(pg.body, `data-testid="cashier-option"`); n != 2 {
				t.Errorf("got %d payout options for Brazil, want 2 (PIX, Bank Transfer)", n)
			}
			done := submit(t, res.CashierURL, url.Values{"sessionId": {res.PaymentID}, "option": {"PIX"}, "account": {tt.account}, "action": {"complete"}})
			if done.status != http.StatusSeeOther || done.location != returnURL {
				t.Fatalf("got HTTP %d to %q, want 303 to %q", done.status, done.location, returnURL)
			}

			got := updates(t, env, c, 2)
			if diff := cmp.Diff([]string{"PROCESSING/processing", tt.wantRaw + "/" + string(tt.want)}, statuses(got)); diff != "" {
				t.Fatalf("notifications mismatch (-want +got):\n%s", diff)
			}
			final := got[1]
			if final.ProviderID == "" || final.ProviderID != got[0].ProviderID || final.PaymentID != res.PaymentID || final.Reference != p.Reference {
				t.Errorf("got ids %q/%q/%q, want one transaction id, session %q and reference %q",
					final.ProviderID, final.PaymentID, final.Reference, res.PaymentID, p.Reference)
			}
			if final.Amount == nil || *final.Amount != p.Amount {
				t.Errorf("got amount %v, want %v", final.Amount, p.Amount)
			}
			if final.ErrorCode != tt.wantCode || (tt.wantCode != "") != (final.ErrorMessage != "") {
				t.Errorf("got error %q %q, want code %q with a message only on failure", final.ErrorCode, final.ErrorMessage, tt.wantCode)
			}
			if final.EventID == got[0].EventID {
				t.Error("got the same event id for two different notifications")
			}

			looked, err := c.Lookup(context.Background(), providers.Ref{ProviderID: final.ProviderID, PaymentID: final.PaymentID})
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if looked.Status != tt.want || looked.RawStatus != tt.wantRaw || looked.ErrorCode != tt.wantCode || looked.ProviderReference == "" ||
				looked.Amount == nil || *looked.Amount != p.Amount {
				t.Errorf("got lookup %+v, want status %s, code %q, a payment reference and amount %v", looked, tt.wantRaw, tt.wantCode, p.Amount)
			}

			after := get(t, res.CashierURL)
			if strings.Contains(after.body, "cashier-complete") || strings.Contains(after.body, "cashier-cancel") {
				t.Errorf("a settled session still offers buttons:\n%s", after.body)
			}
			again := post(t, cashierPost(env), url.Values{"sessionId": {res.PaymentID}, "option": {"PIX"}, "account": {"1"}, "action": {"complete"}})
			if again.status != http.StatusConflict {
				t.Errorf("second completion: got HTTP %d, want 409", again.status)
			}
			time.Sleep(100 * time.Millisecond)
			if n := len(env.Webhooks.All(providers.Kibramoa)); n != 2 {
				t.Errorf("got %d notifications, want 2", n)
			}
		})
	}
}

func TestCashierCancel(t *testing.T) {
	env, c := start(t, sandbox.Config{})
	res, err := c.Submit(context.Background(), payout(t, "150"), providers.Ref{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	done := submit(t, res.CashierURL, url.Values{"sessionId": {res.PaymentID}, "action": {"cancel"}})
	if done.status != http.StatusSeeOther || done.location != returnURL {
		t.Fatalf("got HTTP %d to %q, want 303 to %q", done.status, done.location, returnURL)
	}
	got := updates(t, env, c, 1)
	if diff := cmp.Diff([]string{"USER_CANCEL/cancelled"}, statuses(got)); diff != "" {
		t.Fatalf("notifications mismatch (-want +got):\n%s", diff)
	}
	looked, err := c.Lookup(context.Background(), providers.Ref{ProviderID: got[0].ProviderID})
	if err != nil || looked.Status != providers.StatusCancelled {
		t.Errorf("got lookup %v, %v; want cancelled", looked.Status, err)
	}
	pg := get(t, res.CashierURL)
	if !strings.Contains(pg.body, "cancelled") || strings.Contains(pg.body, "cashier-complete") {
		t.Errorf("cancelled page should say so and offer no buttons:\n%s", pg.body)
	}
}

func TestCashierWebhookFaults(t *testing.T) {
	tests := []struct {
		name         string
		amount       string
		want         []string
		wantSameLast bool
	}{
		{"duplicate final webhook", "222", []string{"PROCESSING/processing", "COMPLETED/paid", "COMPLETED/paid"}, true},
		{"stale webhook after the final one", "333", []string{"PROCESSING/processing", "COMPLETED/paid", "PROCESSING/processing"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, c := start(t, sandbox.Config{})
			res, err := c.Submit(context.Background(), payout(t, tt.amount), providers.Ref{})
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			submit(t, res.CashierURL, url.Values{"sessionId": {res.PaymentID}, "option": {"Bank Transfer"}, "account": {"0012345"}, "action": {"complete"}})
			got := updates(t, env, c, 3)
			if diff := cmp.Diff(tt.want, statuses(got)); diff != "" {
				t.Fatalf("notifications mismatch (-want +got):\n%s", diff)
			}
			if same := got[1].EventID == got[2].EventID; same != tt.wantSameLast {
				t.Errorf("last two event ids equal: got %v, want %v", same, tt.wantSameLast)
			}
			if got[0].EventID == got[2].EventID {
				t.Error("the stale notification repeats the first one's event id; it should be a distinct delivery")
			}
		})
	}
}

func TestCashierExpiry(t *testing.T) {
	env, c := start(t, sandbox.Config{Step: time.Millisecond})
	res, err := c.Submit(context.Background(), payout(t, "150"), providers.Ref{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	got := updates(t, env, c, 1)
	if diff := cmp.Diff([]string{"EXPIRED/expired"}, statuses(got)); diff != "" {
		t.Fatalf("notifications mismatch (-want +got):\n%s", diff)
	}
	pg := get(t, res.CashierURL)
	if !strings.Contains(pg.body, "expired") || strings.Contains(pg.body, "cashier-complete") {
		t.Errorf("expired page should say so and offer no buttons:\n%s", pg.body)
	}
	late := post(t, cashierPost(env), url.Values{"sessionId": {res.PaymentID}, "option": {"PIX"}, "account": {"1"}, "action": {"complete"}})
	if late.status != http.StatusConflict {
		t.Errorf("completing an expired session: got HTTP %d, want 409", late.status)
	}
}
