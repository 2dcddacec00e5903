package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/providers/fedapay"
	"payoutdesk/providers/sandbox/sandboxtest"
)

// waitEvents polls the audit log until at least n events with action match
// keep, failing after a few seconds.
func (ts *testServer) waitEvents(action string, n int, keep func(db.Event) bool) []db.Event {
	ts.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []db.Event
		for _, e := range ts.events(action) {
			if keep == nil || keep(e) {
				got = append(got, e)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("got %d %s events, want %d", len(got), action, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fromProvider(p providers.Name) func(db.Event) bool {
	return func(e db.Event) bool { return e.Actor.Type == db.ActorProvider && e.Actor.ID == string(p) }
}

func TestProvidersPageShowsModesNotSecrets(t *testing.T) {
	ts := newTestServer(t)
	r := ts.as(db.RoleAdmin).get("/providers")
	wantStatus(t, r, ok)
	doc := r.doc(t)
	for _, p := range providers.All {
		row := doc.Find(`[data-testid="provider-` + string(p) + `"]`)
		if !strings.Contains(row.Text(), "SANDBOX") || !strings.Contains(row.Text(), ts.URL+"/webhooks/"+string(p)) {
			t.Errorf("%s row %q: want SANDBOX and its webhook URL", p, row.Text())
		}
	}
	creds := sandboxtest.Credentials(t)
	for _, secret := range []string{creds.KibramoaAPIKey, creds.KibramoaWebhookSecret, creds.MonimeToken, creds.MonimeWebhookSecret, creds.FedaPaySecretKey, creds.FedaPayWebhookSecret} {
		if strings.Contains(r.Body, secret) {
			t.Error("the providers page shows a secret")
		}
	}
	if !strings.Contains(ts.as(db.RoleAgent).get("/").Body, `href="/sandbox/"`) {
		t.Error("the navigation does not point at the sandbox")
	}
}

// TestSandboxWebhooksReachTheApp sends a FedaPay payout through the app's
// own client to the in-process sandbox, and checks that its signed webhooks
// are verified and audited, the duplicate included.
func TestSandboxWebhooksReachTheApp(t *testing.T) {
	ts := newTestServer(t)
	rail, _ := ts.App.Rails().Get(providers.FedaPay)
	p := providers.Payout{
		IdempotencyKey: "idem-fedapay-1", Reference: "ref-fedapay-1",
		Amount: providers.Money{Minor: 222, Currency: "XOF"}, // 222: the final webhook comes twice
		Fields: map[string]string{
			"amount": "222", "currency": "XOF", fedapay.FieldMode: "mtn_open", fedapay.FieldFirstname: "Ama",
			fedapay.FieldLastname: "Koffi", fedapay.FieldPhone: "97808080", fedapay.FieldPhoneCountry: "bj",
		},
	}
	if errs := rail.Check(p); len(errs) > 0 {
		t.Fatalf("Check = %v", errs)
	}
	res, err := rail.Submit(context.Background(), p, providers.Ref{})
	if err != nil {
		t.Fatal(err)
	}
	sent := func(e db.Event) bool { return fromProvider(providers.FedaPay)(e) && e.Details["raw_status"] == "sent" }
	got := ts.waitEvents("webhook.received", 2, sent)
	if got[0].Details["provider_id"] != res.ProviderID || got[0].Details["status"] != "paid" || got[0].Details["duplicate"] != false {
		t.Errorf("first final webhook = %+v, want payout %s paid, not a duplicate", got[0].Details, res.ProviderID)
	}
	if got[1].Details["duplicate"] != true || got[1].TargetID != got[0].TargetID {
		t.Errorf("second final webhook = %+v, want the same event marked duplicate", got[1].Details)
	}
	if ts.App.Sandbox().Count(providers.FedaPay, "payout created") != 1 {
		t.Error("the sandbox did not see exactly one payout")
	}
}

func TestForgedWebhooksRejectedAndAudited(t *testing.T) {
	ts := newTestServer(t)
	creds := sandboxtest.Credentials(t)
	body := []byte(`{"id":1,"name":"payout.sent","object":"payout","entity":{"id":5,"status":"sent"}}`)
	stale := fedapay.Sign(creds.FedaPayWebhookSecret, body, time.Now().Add(-time.Hour))
	tests := []struct {
		name, provider string
		header         map[string]string
		body           string
		want           int
	}{
		{"kibramoa without signature", "kibramoa", nil, `{"status":"COMPLETED"}`, http.StatusUnauthorized},
		{"kibramoa forged signature", "kibramoa", map[string]string{"x-signature": "bm9wZQ=="}, `{"status":"COMPLETED"}`, http.StatusUnauthorized},
		{"fedapay stale timestamp", "fedapay", map[string]string{fedapay.SignatureHeader: stale}, string(body), http.StatusUnauthorized},
		{"monime wrong secret", "monime", map[string]string{"X-Webhook-Secret": "guess"}, `{"data":{"id":"pyt-1","status":"completed"}}`, http.StatusUnauthorized},
		{"smartglocal bad signature", "smartglocal", map[string]string{"X-PARTNER-SIGN": "AAAA"}, `{"type":"payment_finished","session":{"id":"ps_1"}}`, http.StatusUnauthorized},
		{"unknown provider", "paypal", nil, `{}`, http.StatusNotFound},
		// Reversed by a direction override, "yapadef" would read as fedapay.
		{"unknown provider posing as one", "%E2%80%AEyapadef", nil, `{}`, http.StatusNotFound},
		{"body over 1 MiB", "fedapay", nil, `{"x":"` + strings.Repeat("x", 1<<20) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/webhooks/"+tt.provider, strings.NewReader(tt.body))
			// Providers post from their servers: a foreign origin must not matter.
			req.Header.Set("Origin", "https://provider.example")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	// Every delivery is audited, refused before its body was read too.
	rejected := ts.events("webhook.rejected")
	if len(rejected) != len(tests) {
		t.Fatalf("got %d rejected-webhook events, want %d", len(rejected), len(tests))
	}
	// A name that is no provider of ours is the sender's text: it is
	// quoted, with what is not plainly visible escaped, so that it can
	// never read as one of ours.
	unknown := map[string]string{"paypal": `"paypal"`, "%E2%80%AEyapadef": `"\u202eyapadef"`}
	for i, e := range rejected {
		read := tests[i].want != http.StatusNotFound && tests[i].want != http.StatusRequestEntityTooLarge
		actor := tests[i].provider
		if quoted, ok := unknown[actor]; ok {
			actor = quoted
		}
		if e.Outcome != db.OutcomeFailure || e.Actor.Type != db.ActorProvider || e.Actor.ID != actor || e.Details["reason"] == "" || (e.Details["body_sha256"] != nil) != read {
			t.Errorf("%s: rejected event %+v: want a failure by %s with a reason, and the body's hash if it was read", tests[i].name, e, actor)
		}
		if _, ok := unknown[tests[i].provider]; ok && e.Provider != "" {
			t.Errorf("a delivery to an unknown provider is filed under provider %q", e.Provider)
		}
	}
	if n := len(ts.events("webhook.received")); n != 0 {
		t.Errorf("forged webhooks produced %d received events", n)
	}
}

// TestRefusedWebhooksAuditedWithinABudget: refused deliveries cost a
// durable write each to a log that is never pruned, so one address has its
// first 100 in 10 minutes audited one by one, then one event saying the
// rest are only counted; they are still refused, and a valid delivery from
// the same address still counts.
func TestRefusedWebhooksAuditedWithinABudget(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.Kibramoa, agent.openForm(providers.Kibramoa), validForms(ts)[providers.Kibramoa])
	p := ts.waitStatus(id, db.StatusAwaitingCustomer)
	const sent = 130
	for i := range sent {
		resp, err := http.Post(ts.URL+"/webhooks/kibramoa", "application/json", strings.NewReader(`{"status":"COMPLETED","n":`+strconv.Itoa(i)+`}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unsigned delivery %d: status %d, want 401", i, resp.StatusCode)
		}
	}
	rejected := ts.events("webhook.rejected")
	if len(rejected) != 101 {
		t.Fatalf("%d of %d refused deliveries audited, want the first 100 and one note", len(rejected), sent)
	}
	if note := fmt.Sprint(rejected[100].Details["recording"]); !strings.Contains(note, "further ones are counted, not recorded, until") {
		t.Errorf("the last audited refusal says %q about the rest", note)
	}
	ts.kibramoaNotifies(fmt.Sprintf(`{"internalId":"kb-budget","sessionId":%q,"merchantReference":%q,"status":"COMPLETED","currency":"BRL","paymentAmount":10}`, p.PaymentID, p.Reference))
	if got, _ := db.NewPayouts(ts.DB).Get(t.Context(), id); got.Status != db.StatusPaid {
		t.Errorf("a signed delivery after the budget was spent left the payout %s, want paid", got.Status)
	}
}

// TestSandboxLabelWherePayoutsAppear: a payout of a provider on the sandbox
// is labelled SANDBOX wherever it is listed, so that nobody takes it for
// money moving: the manager deciding on it in the approvals inbox, its
// creator's dashboard, the overview's totals, the list and its own page.
func TestSandboxLabelWherePayoutsAppear(t *testing.T) {
	ts := newTestServer(t)
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
	id := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	row := `[data-testid="payout-` + strconv.FormatInt(id, 10) + `"]`
	places := []struct {
		name string
		c    *client
		path string
		in   string
	}{
		{"approvals inbox", manager, "/approvals", `[data-testid="approval-` + strconv.FormatInt(id, 10) + `"]`},
		{"dashboard", agent, "/", `[data-testid="attention-payout-` + strconv.FormatInt(id, 10) + `"]`},
		{"overview", manager, "/overview", `[data-testid="overview-provider"][data-provider="fedapay"] [data-testid="overview-provider-total"]`},
		{"payout list", agent, "/payouts", row},
		{"payout page", agent, "/payouts/" + strconv.FormatInt(id, 10), `h1`},
	}
	for _, p := range places {
		r := p.c.get(p.path)
		wantStatus(t, r, ok)
		el := r.doc(t).Find(p.in)
		if el.Length() != 1 {
			t.Errorf("%s: found %d of %s, want 1", p.name, el.Length(), p.in)
			continue
		}
		// Spaced from what it follows: "FedaPaySANDBOX" reads as one word.
		if text := strings.Join(strings.Fields(el.Text()), " "); !strings.Contains(text, " SANDBOX") {
			t.Errorf("%s: the sandbox payout reads %q, want SANDBOX as a word of its own", p.name, text)
		}
	}
}
