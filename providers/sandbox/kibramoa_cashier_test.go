package sandbox_test

import (
	"context"
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

// TestKibramoaCashierProblems posts what a customer's browser could send
// wrongly to the simulated cashier: each is refused and leaves the session
// open, with no notification.
func TestKibramoaCashierProblems(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	c := kibramoa.New(kibramoa.Config{
		BaseURL:            env.BaseURL(providers.Kibramoa),
		APIKey:             env.Credentials.KibramoaAPIKey,
		DefaultRedirectURL: "https://desk.example/payouts/42",
	})
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
