package fedapay_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
	"payoutdesk/providers/fedapay"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
)

const webhookWait = 5 * time.Second

// newClient returns a client for the sandbox, adjusted by opts.
func newClient(env *sandboxtest.Env, opts ...func(*fedapay.Config)) *fedapay.Client {
	cfg := fedapay.Config{
		BaseURL:       env.BaseURL(providers.FedaPay),
		SecretKey:     env.Credentials.FedaPaySecretKey,
		WebhookSecret: env.Credentials.FedaPayWebhookSecret,
		Timeout:       3 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	return fedapay.New(cfg)
}

var refSeq atomic.Int64

// newPayout is a valid payout of amount XOF to phone in Benin.
func newPayout(amount int64, phone string) providers.Payout {
	ref := fmt.Sprintf("po-test-%d-%d", time.Now().UnixNano()%1e9, refSeq.Add(1))
	return providers.Payout{
		IdempotencyKey: "idem-" + ref,
		Reference:      ref,
		Amount:         providers.Money{Minor: amount, Currency: "XOF"},
		Fields: map[string]string{
			fedapay.FieldMode: "mtn_open", fedapay.FieldFirstname: "Ama", fedapay.FieldLastname: "Kpoti",
			fedapay.FieldEmail: "ama@example.com", fedapay.FieldPhone: phone, fedapay.FieldPhoneCountry: "bj",
			fedapay.FieldDescription: "Refund of order 1234",
		},
	}
}

// updates waits for n FedaPay webhooks and verifies and parses each.
func updates(t *testing.T, env *sandboxtest.Env, c *fedapay.Client, n int) []providers.Update {
	t.Helper()
	var out []providers.Update
	for _, d := range env.Webhooks.Wait(t, providers.FedaPay, n, webhookWait) {
		u, err := c.Webhook(d.Header, d.Body, time.Now())
		if err != nil {
			t.Fatalf("webhook %s: %v", d.Body, err)
		}
		out = append(out, u)
	}
	return out
}

func rawStatuses(us []providers.Update) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.RawStatus)
	}
	return out
}

func ops(res providers.Result) []string {
	var out []string
	for _, ex := range res.Exchanges {
		out = append(out, ex.Op)
	}
	return out
}

func checkCount(t *testing.T, env *sandboxtest.Env, op string, want int) {
	t.Helper()
	if got := env.Sandbox.Count(providers.FedaPay, op); got != want {
		t.Errorf("count %q: got %d, want %d", op, got, want)
	}
}

func TestSandboxCreateThenStartToPaid(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	c := newClient(env)
	p := newPayout(5000, "97808080")
	res, err := c.Submit(context.Background(), p, providers.Ref{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if diff := cmp.Diff([]string{"create payout", "start payout"}, ops(res)); diff != "" {
		t.Errorf("ops mismatch (-want +got):\n%s", diff)
	}
	if res.ProviderID == "" || res.ProviderReference == "" || res.RawStatus != "started" || res.Status != providers.StatusProcessing {
		t.Errorf("got %+v, want ids and started/processing", res)
	}
	for _, ex := range res.Exchanges {
		if strings.Contains(ex.RequestBody+ex.ResponseBody, "97808080") || strings.Contains(fmt.Sprint(ex.RequestHeader), env.Credentials.FedaPaySecretKey) {
			t.Errorf("exchange %q leaks the phone number or key", ex.Op)
		}
	}
	checkCount(t, env, "payout created", 1)
	checkCount(t, env, "payout started", 1)

	us := updates(t, env, c, 3)
	if diff := cmp.Diff([]string{"started", "processing", "sent"}, rawStatuses(us)); diff != "" {
		t.Errorf("webhook statuses mismatch (-want +got):\n%s", diff)
	}
	final := us[2]
	if final.Status != providers.StatusPaid || final.ProviderID != res.ProviderID || final.Reference != p.Reference {
		t.Errorf("final update: got %+v, want paid for %s / %s", final, res.ProviderID, p.Reference)
	}
	if diff := cmp.Diff(&providers.Money{Minor: 5000, Currency: "XOF"}, res.Amount); diff != "" {
		t.Errorf("Amount mismatch (-want +got):\n%s", diff)
	}

	got, err := c.Lookup(context.Background(), providers.Ref{ProviderID: res.ProviderID})
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if got.Status != providers.StatusPaid || got.RawStatus != "sent" {
		t.Errorf("Lookup: got %q/%q, want sent/paid", got.RawStatus, got.Status)
	}
}

func TestSandboxDecline(t *testing.T) {
	tests := []struct {
		name     string
		amount   int64
		phone    string
		wantCode string
	}{
		{"magic amount", 666, "97808080", "payout_declined"},
		{"number ending 0000", 5000, "97800000", "invalid_account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sandboxtest.Start(t, sandbox.Config{})
			c := newClient(env)
			res, err := c.Submit(context.Background(), newPayout(tt.amount, tt.phone), providers.Ref{})
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			final := updates(t, env, c, 3)[2]
			if final.Status != providers.StatusFailed || final.ErrorCode != tt.wantCode || final.ErrorMessage == "" {
				t.Errorf("final update: got %+v, want failed with %s", final, tt.wantCode)
			}
			got, err := c.Lookup(context.Background(), providers.Ref{ProviderID: res.ProviderID})
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if got.Status != providers.StatusFailed || got.ErrorCode != tt.wantCode || got.ErrorMessage != final.ErrorMessage {
				t.Errorf("Lookup: got %+v, want failed with %s", got, tt.wantCode)
			}
		})
	}
}

// FedaPay's cap: three payouts to one Mobile Money number in 24 hours. The
// fourth is refused before anything is created, with the number blamed; a
// payout that failed took nothing to the number and does not count, and
// another number is not held up.
func TestSandboxNumberCap(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	c := newClient(env)
	const number = "97808080"
	if _, err := c.Submit(context.Background(), newPayout(666, number), providers.Ref{}); err != nil {
		t.Fatalf("Submit of the declined payout: %v", err)
	}
	if final := updates(t, env, c, 3)[2]; final.Status != providers.StatusFailed {
		t.Fatalf("the declined payout ended %s", final.Status)
	}
	for i := range 3 {
		if _, err := c.Submit(context.Background(), newPayout(5000, number), providers.Ref{}); err != nil {
			t.Fatalf("payout %d of 3 to one number: %v", i+1, err)
		}
	}
	_, err := c.Submit(context.Background(), newPayout(5000, number), providers.Ref{})
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Outcome != providers.OutcomeRejected || pe.HTTPStatus != 422 || len(pe.Fields["customer.phone_number.number"]) != 1 {
		t.Fatalf("the fourth payout to one number: %v, want refused with the number blamed", err)
	}
	checkCount(t, env, "payout created", 4)
	if _, err := c.Submit(context.Background(), newPayout(5000, "97808081"), providers.Ref{}); err != nil {
		t.Errorf("another number is refused too: %v", err)
	}
}

func TestSandboxWebhookFaults(t *testing.T) {
	t.Run("duplicate", func(t *testing.T) {
		env := sandboxtest.Start(t, sandbox.Config{})
		c := newClient(env)
		if _, err := c.Submit(context.Background(), newPayout(222, "97808080"), providers.Ref{}); err != nil {
			t.Fatalf("Submit: %v", err)
		}
		us := updates(t, env, c, 4)
		if us[2].EventID != us[3].EventID || us[3].Status != providers.StatusPaid {
			t.Errorf("got %v then %v, want the final event twice", us[2], us[3])
		}
	})
	t.Run("out of order", func(t *testing.T) {
		env := sandboxtest.Start(t, sandbox.Config{})
		c := newClient(env)
		if _, err := c.Submit(context.Background(), newPayout(333, "97808080"), providers.Ref{}); err != nil {
			t.Fatalf("Submit: %v", err)
		}
		us := updates(t, env, c, 4)
		if diff := cmp.Diff([]string{"started", "processing", "sent", "processing"}, rawStatuses(us)); diff != "" {
			t.Errorf("webhook statuses mismatch (-want +got):\n%s", diff)
		}
		if us[3].EventID == us[1].EventID || us[3].EventID == us[2].EventID {
			t.Errorf("stale event reuses id %s of an earlier event", us[3].EventID)
		}
	})
}
