package sandbox_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/kibramoa"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
)

// cashierBrowser does not follow redirects, so tests see the cashier's 303.
var cashierBrowser = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// cashierCall sends a GET (form nil) or a form POST to the cashier and
// returns the status and body.
func cashierCall(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if form == nil {
		resp, err = cashierBrowser.Get(u)
	} else {
		resp, err = cashierBrowser.PostForm(u, form)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// cashierSandbox starts a sandbox and a Kibramoa client of it.
func cashierSandbox(t *testing.T) (*sandboxtest.Env, *kibramoa.Client) {
	env := sandboxtest.Start(t, sandbox.Config{})
	return env, kibramoa.New(kibramoa.Config{
		BaseURL:            env.BaseURL(providers.Kibramoa),
		APIKey:             env.Credentials.KibramoaAPIKey,
		DefaultRedirectURL: "https://desk.example/payouts/42",
	})
}

// TestKibramoaCashierProblems posts what a customer's browser could send
// wrongly to the simulated cashier: each is refused and leaves the session
// open, with no notification.
func TestKibramoaCashierProblems(t *testing.T) {
	env, c := cashierSandbox(t)
	res, err := c.Submit(context.Background(), providers.Payout{
		IdempotencyKey: "idem-cashier-problems",
		Reference:      "pd-cashier-problems",
		Amount:         providers.Money{Minor: 15000, Currency: "BRL"},
		Fields:         map[string]string{"country": "BR", "user_id": "cust-8108"},
	}, providers.Ref{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	cashier := env.BaseURL(providers.Kibramoa) + "/cashier/payout/"
	id := res.PaymentID
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantText   string
	}{
		{"no option", url.Values{"sessionId": {id}, "account": {"123"}, "action": {"complete"}}, 422, "Choose how you want to receive the money."},
		{"option of another country", url.Values{"sessionId": {id}, "option": {"SPEI"}, "account": {"123"}, "action": {"complete"}}, 422, "Choose how you want to receive the money."},
		{"no account", url.Values{"sessionId": {id}, "option": {"PIX"}, "account": {"  "}, "action": {"complete"}}, 422, "Enter the account that should receive the money."},
		{"unknown action", url.Values{"sessionId": {id}, "option": {"PIX"}, "account": {"123"}, "action": {"refund"}}, 422, "Choose Complete payout or Cancel."},
		{"unknown session", url.Values{"sessionId": {"nope"}, "option": {"PIX"}, "account": {"123"}, "action": {"complete"}}, 404, "Payout not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := cashierCall(t, cashier, tt.form)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantText) {
				t.Errorf("got HTTP %d, want %d with %q:\n%s", status, tt.wantStatus, tt.wantText, body)
			}
		})
	}
	for _, u := range []string{cashier + "?sessionId=nope", cashier} {
		if status, _ := cashierCall(t, u, nil); status != http.StatusNotFound {
			t.Errorf("GET %s: got HTTP %d, want 404", u, status)
		}
	}
	if _, body := cashierCall(t, res.CashierURL, nil); !strings.Contains(body, `data-testid="cashier-complete"`) {
		t.Errorf("after refused posts the session should still be open:\n%s", body)
	}
	time.Sleep(60 * time.Millisecond)
	if n := len(env.Webhooks.All(providers.Kibramoa)); n != 0 {
		t.Errorf("got %d notifications, want none", n)
	}
}

// TestKibramoaCashierOptionLimits: an option whose limits leave out the
// amount is shown disabled, says what it takes, and is refused if posted
// anyway; the other options still complete the payout.
func TestKibramoaCashierOptionLimits(t *testing.T) {
	env, c := cashierSandbox(t)
	tests := []struct {
		country string
		amount  providers.Money
		option  string
		refused string // "" when the option takes the amount
	}{
		{"BR", providers.Money{Minor: 5_000_01, Currency: "BRL"}, "PIX", "PIX takes 1.00 to 5,000.00 BRL"},
		{"BR", providers.Money{Minor: 99, Currency: "BRL"}, "PIX", "PIX takes 1.00 to 5,000.00 BRL"},
		{"BR", providers.Money{Minor: 5_000_00, Currency: "BRL"}, "PIX", ""},
		{"BR", providers.Money{Minor: 1_00, Currency: "BRL"}, "PIX", ""},
		{"MX", providers.Money{Minor: 10_000_01, Currency: "MXN"}, "SPEI", "SPEI takes up to 10,000.00 MXN"},
		{"MX", providers.Money{Minor: 10_000_00, Currency: "MXN"}, "SPEI", ""},
	}
	for i, tt := range tests {
		t.Run(tt.amount.String(), func(t *testing.T) {
			res, err := c.Submit(context.Background(), providers.Payout{
				IdempotencyKey: fmt.Sprintf("idem-limits-%d", i),
				Reference:      fmt.Sprintf("pd-limits-%d", i),
				Amount:         tt.amount,
				Fields:         map[string]string{"country": tt.country, "user_id": "cust-8108"},
			}, providers.Ref{})
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			_, page := cashierCall(t, res.CashierURL, nil)
			shown := strings.Contains(page, tt.refused+": not for this amount.") && strings.Contains(page, `value="`+tt.option+`" data-testid="cashier-option" disabled`)
			if tt.refused != "" && !shown || tt.refused == "" && strings.Contains(page, "not for this amount") {
				t.Errorf("the cashier page does not show %s as %q:\n%s", tt.option, tt.refused, page)
			}
			form := url.Values{"sessionId": {res.PaymentID}, "option": {tt.option}, "account": {"123"}, "action": {"complete"}}
			status, body := cashierCall(t, env.BaseURL(providers.Kibramoa)+"/cashier/payout/", form)
			switch {
			case tt.refused == "" && status != http.StatusSeeOther:
				t.Errorf("%s for %s: HTTP %d, want it taken", tt.option, tt.amount, status)
			case tt.refused != "" && (status != http.StatusUnprocessableEntity || !strings.Contains(body, tt.refused+": choose another way to receive the money.")):
				t.Errorf("%s for %s: HTTP %d, want 422 saying %q:\n%s", tt.option, tt.amount, status, tt.refused, body)
			case tt.refused != "":
				form.Set("option", "Bank Transfer")
				if status, _ := cashierCall(t, env.BaseURL(providers.Kibramoa)+"/cashier/payout/", form); status != http.StatusSeeOther {
					t.Errorf("Bank Transfer for %s: HTTP %d, want it taken", tt.amount, status)
				}
			}
		})
	}
}
