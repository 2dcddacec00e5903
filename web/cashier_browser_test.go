package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// TestBrowserKibramoaCashier opens a cashier URL that the app's Kibramoa
// client got from the in-process sandbox, completes the payout as the
// customer would, lands on the redirect URL (the merchant's own site, on
// another origin than the app and its sandbox), and sees the signed
// webhooks reach the app.
func TestBrowserKibramoaCashier(t *testing.T) {
	ts := newTestServer(t)
	ctx := newBrowser(t)
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><title>Shop</title><p data-testid="cashier-done">Thank you</p>`)
	}))
	t.Cleanup(merchant.Close)
	redirect := merchant.URL + "/payout/return"
	rail, _ := ts.App.Rails().Get(providers.Kibramoa)
	p := providers.Payout{
		IdempotencyKey: "idem-kib-1", Reference: "ref-kib-1",
		Amount: providers.Money{Minor: 15000, Currency: "BRL"},
		Fields: map[string]string{
			"amount": "150.00", "currency": "BRL", "country": "BR", "redirect_url": redirect,
			"user_id": "customer-42", "description": "Refund of order 1001",
		},
	}
	if errs := rail.Check(p); len(errs) > 0 {
		t.Fatalf("Check = %v", errs)
	}
	res, err := rail.Submit(context.Background(), p, providers.Ref{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != providers.StatusAwaitingCustomer || !strings.HasPrefix(res.CashierURL, ts.URL+"/sandbox/") {
		t.Fatalf("submit = %+v, want awaiting_customer with a cashier URL on the app's listener", res)
	}

	step(t, ctx, "open the cashier",
		chromedp.Navigate(res.CashierURL),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="cashier-amount"]`)),
	)
	if amount := value(t, ctx, "amount", chromedp.Text(chromedp.CSS(`[data-testid="cashier-amount"]`))); !strings.Contains(amount, "150.00") || !strings.Contains(amount, "BRL") {
		t.Errorf("cashier shows %q, want 150.00 BRL", amount)
	}
	completeCashier(t, ctx, redirect)

	completed := func(e db.Event) bool {
		return fromProvider(providers.Kibramoa)(e) && e.Details["raw_status"] == "COMPLETED"
	}
	got := ts.waitEvents("webhook.received", 1, completed)[0]
	if got.Details["reference"] != "ref-kib-1" || got.Details["status"] != "paid" || got.Details["amount"] != "150.00 BRL" {
		t.Errorf("completion webhook = %+v, want reference ref-kib-1 paid 150.00 BRL", got.Details)
	}
	if n := len(ts.events("webhook.rejected")); n != 0 {
		t.Errorf("%d of the sandbox's webhooks were rejected", n)
	}
}
