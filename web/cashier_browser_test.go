package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// TestBrowserKibramoaCashier opens a cashier URL that the app's Kibramoa
// client got from the in-process sandbox, completes the payout as the
// customer would, lands on the redirect URL, and sees the signed webhooks
// reach the app.
func TestBrowserKibramoaCashier(t *testing.T) {
	ts := newTestServer(t)
	ctx := newBrowser(t)
	rail, _ := ts.App.Rails().Get(providers.Kibramoa)
	p := providers.Payout{
		IdempotencyKey: "idem-kib-1", Reference: "ref-kib-1",
		Amount: providers.Money{Minor: 15000, Currency: "BRL"},
		Fields: map[string]string{
			"amount": "150.00", "currency": "BRL", "country": "BR", "redirect_url": ts.URL + "/cashier/done",
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
	completeCashier(t, ctx, ts)

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
