package monime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/monime"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
)

const waitWebhooks = 5 * time.Second

// start runs a sandbox and returns it with a client holding its credentials.
func start(t *testing.T, cfg sandbox.Config) (*sandboxtest.Env, *monime.Client) {
	t.Helper()
	env := sandboxtest.Start(t, cfg)
	c := monime.New(monime.Config{
		BaseURL:       env.BaseURL(providers.Monime),
		Token:         env.Credentials.MonimeToken,
		SpaceID:       env.Credentials.MonimeSpaceID,
		WebhookSecret: env.Credentials.MonimeWebhookSecret,
		WebhookHeader: cfg.MonimeWebhookHeader,
	})
	return env, c
}

var keySeq atomic.Int64

// payout is a valid payout of whole leones to an Orange Money number, with
// a fresh idempotency key and reference.
func payout(leones int64, account string) providers.Payout {
	n := keySeq.Add(1)
	return providers.Payout{
		IdempotencyKey: fmt.Sprintf("key-%d-%d", n, time.Now().UnixNano()),
		Reference:      fmt.Sprintf("po_%d", n),
		Amount:         providers.Money{Minor: leones * 100, Currency: "SLE"},
		Fields: map[string]string{
			monime.FieldProviderCode: "m17", monime.FieldAccountID: account,
			monime.FieldMetadata: "ticket=SUP-1",
		},
	}
}

func submit(t *testing.T, c *monime.Client, p providers.Payout, timeout time.Duration) (providers.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := c.Submit(ctx, p, providers.Ref{})
	if len(res.Exchanges) == 0 {
		t.Errorf("got no exchanges with error %v", err)
	}
	return res, err
}

// updates verifies and parses every Monime webhook received so far.
func updates(t *testing.T, env *sandboxtest.Env, c *monime.Client, n int) []providers.Update {
	t.Helper()
	var out []providers.Update
	for _, d := range env.Webhooks.Wait(t, providers.Monime, n, waitWebhooks) {
		u, err := c.Webhook(d.Header, d.Body, time.Now())
		if err != nil {
			t.Fatalf("webhook %s: %v", d.Body, err)
		}
		out = append(out, u)
	}
	return out
}

func statuses(us []providers.Update) []providers.Status {
	var out []providers.Status
	for _, u := range us {
		out = append(out, u.Status)
	}
	return out
}

func wantError(t *testing.T, err error, outcome providers.Outcome, status int, code string) *providers.Error {
	t.Helper()
	var pe *providers.Error
	if !errors.As(err, &pe) {
		t.Fatalf("got error %v, want *providers.Error", err)
	}
	if pe.Outcome != outcome || pe.HTTPStatus != status || pe.Code != code {
		t.Errorf("got %v / http %d / code %q, want %v / %d / %q (%v)", pe.Outcome, pe.HTTPStatus, pe.Code, outcome, status, code, err)
	}
	return pe
}

func TestSandboxPaidThroughWebhooks(t *testing.T) {
	env, c := start(t, sandbox.Config{MonimeWebhookHeader: "X-Desk-Secret"})
	p := payout(150, "076 123 456")
	res, err := submit(t, c, p, 5*time.Second)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if !strings.HasPrefix(res.ProviderID, "pyt-") || res.RawStatus != "pending" || res.Status != providers.StatusProcessing {
		t.Errorf("got %q %q %q, want pyt-… pending processing", res.ProviderID, res.RawStatus, res.Status)
	}
	if res.Amount == nil || *res.Amount != p.Amount {
		t.Errorf("got amount %v, want %v", res.Amount, p.Amount)
	}
	ex, _ := json.Marshal(res.Exchanges)
	for _, secret := range []string{env.Credentials.MonimeToken, "+23276123456"} {
		if strings.Contains(string(ex), secret) {
			t.Errorf("exchanges hold %q: %s", secret, ex)
		}
	}
	us := updates(t, env, c, 3)
	want := []providers.Status{providers.StatusProcessing, providers.StatusProcessing, providers.StatusPaid}
	if got := statuses(us); strings.Join(toStrings(got), ",") != strings.Join(toStrings(want), ",") {
		t.Errorf("got statuses %v, want %v", got, want)
	}
	final := us[2]
	if final.ProviderID != res.ProviderID || final.Reference != p.Reference || final.ProviderReference == "" || !final.HintOnly {
		t.Errorf("got final update %+v, want payout %s, reference %s, a transaction reference, hint only", final, res.ProviderID, p.Reference)
	}
	got, err := c.Lookup(context.Background(), providers.Ref{ProviderID: res.ProviderID})
	if err != nil || got.Status != providers.StatusPaid || got.ProviderReference != final.ProviderReference {
		t.Errorf("Lookup: got %q %q, %v, want paid %q", got.Status, got.ProviderReference, err, final.ProviderReference)
	}
	if n := env.Sandbox.Count(providers.Monime, "payout created"); n != 1 {
		t.Errorf("got %d payouts created, want 1", n)
	}
}

func toStrings(ss []providers.Status) []string {
	var out []string
	for _, s := range ss {
		out = append(out, string(s))
	}
	return out
}

func TestSandboxDecline(t *testing.T) {
	tests := []struct {
		name    string
		leones  int64
		account string
	}{
		{"magic amount", 666, "+23276123456"},
		{"account ending in 0000", 150, "+23278000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, c := start(t, sandbox.Config{})
			res, err := submit(t, c, payout(tt.leones, tt.account), 5*time.Second)
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			// Every update after the in-flight ones must be the failure.
			var final providers.Update
			for _, u := range updates(t, env, c, 3) {
				if u.Status != providers.StatusProcessing {
					final = u
				}
			}
			if final.ProviderID != res.ProviderID || final.Status != providers.StatusFailed ||
				final.ErrorCode != "providerAccountBlocked" || final.ErrorMessage == "" {
				t.Errorf("got final update %+v, want failed with the provider's code and message", final)
			}
			got, err := c.Lookup(context.Background(), providers.Ref{ProviderID: res.ProviderID})
			if err != nil || got.Status != providers.StatusFailed || got.ErrorCode != "providerAccountBlocked" || got.ErrorMessage == "" {
				t.Errorf("Lookup: got %+v, %v, want failed providerAccountBlocked", got, err)
			}
		})
	}
}

func TestSandboxRefusals(t *testing.T) {
	env, c := start(t, sandbox.Config{})
	base := monime.Config{BaseURL: env.BaseURL(providers.Monime), Token: env.Credentials.MonimeToken, SpaceID: env.Credentials.MonimeSpaceID}
	wrongToken, wrongSpace := base, base
	wrongToken.Token = "mon_sandbox_wrong"
	wrongSpace.SpaceID = "spc-other"
	bad := payout(150, "+2327612")
	tests := []struct {
		name    string
		client  *monime.Client
		p       providers.Payout
		outcome providers.Outcome
		status  int
		code    string
		field   string
	}{
		{name: "validation", client: c, p: bad, outcome: providers.OutcomeRejected, status: 422, code: "validation_failed", field: "destination.accountId"},
		{name: "bad token", client: monime.New(wrongToken), p: payout(150, "+23276123456"), outcome: providers.OutcomeRejected, status: 401, code: "unauthenticated"},
		{name: "wrong space", client: monime.New(wrongSpace), p: payout(150, "+23276123456"), outcome: providers.OutcomeRejected, status: 403, code: "permission_denied"},
		{name: "server error", client: c, p: payout(500, "+23276123456"), outcome: providers.OutcomeUnknown, status: 500, code: "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := submit(t, tt.client, tt.p, 5*time.Second)
			pe := wantError(t, err, tt.outcome, tt.status, tt.code)
			if tt.field != "" && len(pe.Fields[tt.field]) == 0 {
				t.Errorf("got fields %v, want a message for %s", pe.Fields, tt.field)
			}
			if pe.Message == "" || strings.Contains(err.Error(), env.Credentials.MonimeToken) {
				t.Errorf("got message %q in %q, want the provider's words and no token", pe.Message, err)
			}
		})
	}
	if n := env.Sandbox.Count(providers.Monime, "payout created"); n != 0 {
		t.Errorf("got %d payouts created, want 0", n)
	}
}

func TestSandboxUnknownOutcomes(t *testing.T) {
	env, c := start(t, sandbox.Config{SlowDelay: 300 * time.Millisecond})
	tests := []struct {
		name        string
		leones      int64
		timeout     time.Duration
		wantUnknown bool
	}{
		{"timeout", 408, 300 * time.Millisecond, true},
		{"malformed answer", 418, 5 * time.Second, true},
		{"slow within the deadline", 777, 5 * time.Second, false},
		{"slow beyond the deadline", 777, 100 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created := env.Sandbox.Count(providers.Monime, "payout created")
			p := payout(tt.leones, "+23276123456")
			res, err := submit(t, c, p, tt.timeout)
			if tt.wantUnknown != errors.Is(err, providers.ErrOutcomeUnknown) {
				t.Fatalf("got error %v, want outcome unknown: %v", err, tt.wantUnknown)
			}
			if !tt.wantUnknown {
				if !strings.HasPrefix(res.ProviderID, "pyt-") {
					t.Errorf("got provider id %q, want pyt-…", res.ProviderID)
				}
				return
			}
			// The same request again settles the outcome without a second payout.
			again, err := submit(t, c, p, 5*time.Second)
			if err != nil || !strings.HasPrefix(again.ProviderID, "pyt-") {
				t.Fatalf("resubmit: got %q, %v, want the payout", again.ProviderID, err)
			}
			if n := env.Sandbox.Count(providers.Monime, "payout created") - created; n != 1 {
				t.Errorf("got %d payouts created, want 1", n)
			}
		})
	}
}

func TestSandboxIdempotency(t *testing.T) {
	env, c := start(t, sandbox.Config{})
	p := payout(150, "+23276123456")
	first, err := submit(t, c, p, 5*time.Second)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	again, err := submit(t, c, p, 5*time.Second)
	if err != nil || again.ProviderID != first.ProviderID {
		t.Errorf("replay: got %q, %v, want %q", again.ProviderID, err, first.ProviderID)
	}
	if created, replayed := env.Sandbox.Count(providers.Monime, "payout created"), env.Sandbox.Count(providers.Monime, "replayed"); created != 1 || replayed != 1 {
		t.Errorf("got %d created and %d replayed, want 1 and 1", created, replayed)
	}
	conflict := p
	conflict.Amount.Minor++
	// The key already made a payout: a conflict on it settles nothing.
	_, err = submit(t, c, conflict, 5*time.Second)
	wantError(t, err, providers.OutcomeUnknown, 409, "idempotency_conflict")
	if n := env.Sandbox.Count(providers.Monime, "payout created"); n != 1 {
		t.Errorf("got %d payouts created after a conflict, want 1", n)
	}
}
