package smartglocal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
	"payoutdesk/providers/smartglocal"
)

const waitHooks = 5 * time.Second

func newEnv(t *testing.T) (*sandboxtest.Env, *smartglocal.Client) {
	t.Helper()
	env := sandboxtest.Start(t, sandbox.Config{})
	return env, clientFor(env, smartglocal.Config{})
}

func clientFor(env *sandboxtest.Env, cfg smartglocal.Config) *smartglocal.Client {
	cfg.BaseURL = env.BaseURL(providers.SmartGlocal)
	if cfg.Project == "" {
		cfg.Project = env.Credentials.SmartGlocalProject
	}
	if cfg.Key == nil {
		cfg.Key = env.Credentials.SmartGlocalPartnerKey
	}
	cfg.ProviderKey = &env.Credentials.SmartGlocalProviderKey.PublicKey
	return smartglocal.New(cfg)
}

// payout is a valid bank payout of the given whole euros.
func payout(euros int64) providers.Payout {
	return providers.Payout{
		IdempotencyKey: "key-" + time.Now().Format("150405.000000000"),
		Reference:      "pd-ref-1",
		Amount:         providers.Money{Minor: euros * 100, Currency: "EUR"},
		Fields: map[string]string{
			"payment_method":         "bank_account",
			"iban":                   "BE71 0961 2345 6769",
			"remittance_description": "refund",
			"recipient_first_name":   "John",
			"recipient_last_name":    "Johnson",
			"recipient_country_iso3": "BEL",
			"recipient_currency":     "EUR",
			"sender_company_name":    "Acme",
			"sender_country_iso3":    "USA",
		},
	}
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// hook waits for the n-th Smart Glocal webhook and parses it with c.
func hook(t *testing.T, env *sandboxtest.Env, c *smartglocal.Client, n int) providers.Update {
	t.Helper()
	d := env.Webhooks.Wait(t, providers.SmartGlocal, n, waitHooks)[n-1]
	u, err := c.Webhook(d.Header, d.Body, time.Now())
	if err != nil {
		t.Fatalf("webhook %d: %v", n, err)
	}
	return u
}

func wantStatus(t *testing.T, what string, got, want providers.Status) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got status %s, want %s", what, got, want)
	}
}

func TestSandboxConfirmFlow(t *testing.T) {
	env, c := newEnv(t)
	p := payout(150)
	res, err := c.Submit(ctxFor(t, 5*time.Second), p, providers.Ref{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	wantStatus(t, "submit", res.Status, providers.StatusProcessing)
	if res.ProviderID == "" || res.PaymentID == "" || len(res.Exchanges) != 2 {
		t.Fatalf("got %+v, want session and payment ids and two exchanges", res)
	}
	ready := hook(t, env, c, 1)
	wantStatus(t, "ready_to_confirm", ready.Status, providers.StatusAwaitingConfirmation)
	if ready.ProviderID != res.ProviderID || ready.PaymentID != res.PaymentID || ready.Reference != p.Reference || ready.NextAction != "confirm" {
		t.Errorf("ready_to_confirm: got %+v, want ids %s/%s, reference %s, next action confirm", ready, res.ProviderID, res.PaymentID, p.Reference)
	}
	// providers.md §2.3: the session in_progress, the payout pending.
	if ready.RawStatus != "in_progress/pending" {
		t.Errorf("ready_to_confirm: session/payout status %q, want in_progress/pending", ready.RawStatus)
	}

	ref := providers.Ref{ProviderID: res.ProviderID, PaymentID: res.PaymentID}
	look, err := c.Lookup(ctxFor(t, 5*time.Second), ref)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	wantStatus(t, "lookup before confirm", look.Status, providers.StatusAwaitingConfirmation)
	if look.Amount == nil || *look.Amount != p.Amount || look.Beneficiary != c.Beneficiary(p) {
		t.Errorf("lookup: got amount %v, beneficiary %+v; want %v, %+v", look.Amount, look.Beneficiary, p.Amount, c.Beneficiary(p))
	}

	conf, err := c.Confirm(ctxFor(t, 5*time.Second), ref)
	if err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	wantStatus(t, "confirm", conf.Status, providers.StatusProcessing)
	if conf.RawStatus != "in_progress/in_progress" {
		t.Errorf("confirmed: session/payout status %q, want in_progress/in_progress", conf.RawStatus)
	}
	done := hook(t, env, c, 2)
	wantStatus(t, "payment_finished", done.Status, providers.StatusPaid)
	if done.EventID == ready.EventID {
		t.Error("two different webhooks share an event id")
	}
	look, err = c.Lookup(ctxFor(t, 5*time.Second), ref)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	wantStatus(t, "lookup after finish", look.Status, providers.StatusPaid)
	if _, err := c.Confirm(ctxFor(t, 5*time.Second), ref); !errors.Is(err, providers.ErrRejected) {
		t.Errorf("second confirm: got %v, want a refusal", err)
	}
	if got := env.Sandbox.Count(providers.SmartGlocal, "payout created"); got != 1 {
		t.Errorf("got %d payouts created, want 1", got)
	}
}

func TestSandboxCancel(t *testing.T) {
	// A step long enough that the first cancel lands before the session
	// is ready for confirmation, even on a loaded machine.
	env := sandboxtest.Start(t, sandbox.Config{Step: 500 * time.Millisecond})
	c := clientFor(env, smartglocal.Config{})
	res, err := c.Submit(ctxFor(t, 5*time.Second), payout(150), providers.Ref{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	ref := providers.Ref{ProviderID: res.ProviderID}
	if _, err := c.Cancel(ctxFor(t, 5*time.Second), ref); !errors.Is(err, providers.ErrRejected) {
		t.Errorf("cancel before ready_to_confirm: got %v, want a refusal", err)
	}
	hook(t, env, c, 1)
	got, err := c.Cancel(ctxFor(t, 5*time.Second), ref)
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	wantStatus(t, "cancel", got.Status, providers.StatusCancelled)
	wantStatus(t, "payment_finished", hook(t, env, c, 2).Status, providers.StatusCancelled)
	if _, err := c.Confirm(ctxFor(t, 5*time.Second), ref); !errors.Is(err, providers.ErrRejected) {
		t.Errorf("confirm after cancel: got %v, want a refusal", err)
	}
}

func TestSandboxDecline(t *testing.T) {
	tests := []struct {
		name string
		p    providers.Payout
	}{
		{"magic amount", payout(666)},
		{"account ending 0000", func() providers.Payout {
			p := payout(150)
			p.Fields["iban"] = "DE02100100100000000000"
			return p
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, c := newEnv(t)
			res, err := c.Submit(ctxFor(t, 5*time.Second), tt.p, providers.Ref{})
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			hook(t, env, c, 1)
			if _, err := c.Confirm(ctxFor(t, 5*time.Second), providers.Ref{ProviderID: res.ProviderID}); err != nil {
				t.Fatalf("Confirm: %v", err)
			}
			u := hook(t, env, c, 2)
			wantStatus(t, "payment_finished", u.Status, providers.StatusFailed)
			if u.ErrorCode != "recipient_bank_declined" || u.ErrorMessage == "" {
				t.Errorf("got error %q %q, want the provider's decline code and message", u.ErrorCode, u.ErrorMessage)
			}
			look, err := c.Lookup(ctxFor(t, 5*time.Second), providers.Ref{ProviderID: res.ProviderID})
			if err != nil || look.Status != providers.StatusFailed || look.ErrorCode != u.ErrorCode {
				t.Errorf("lookup: got %s %q (%v), want failed %q", look.Status, look.ErrorCode, err, u.ErrorCode)
			}
		})
	}
}
