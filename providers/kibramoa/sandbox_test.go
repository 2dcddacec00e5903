package kibramoa_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"payoutdesk/providers"
	"payoutdesk/providers/kibramoa"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
)

const returnURL = "https://desk.example/payouts/42"

// start runs a sandbox and a client configured against it.
func start(t *testing.T, cfg sandbox.Config) (*sandboxtest.Env, *kibramoa.Client) {
	t.Helper()
	env := sandboxtest.Start(t, cfg)
	format := kibramoa.AmountDecimal
	if cfg.KibramoaAmountMinor {
		format = kibramoa.AmountMinor
	}
	c := kibramoa.New(kibramoa.Config{
		BaseURL:            env.BaseURL(providers.Kibramoa),
		APIKey:             env.Credentials.KibramoaAPIKey,
		WebhookSecret:      env.Credentials.KibramoaWebhookSecret,
		DefaultRedirectURL: returnURL,
		AmountFormat:       format,
	})
	return env, c
}

var refSeq atomic.Int64

// payout returns a Brazilian payout of amount (major units) with a fresh reference.
func payout(t *testing.T, amount string) providers.Payout {
	t.Helper()
	m, err := providers.ParseMoney(amount, "BRL")
	if err != nil {
		t.Fatal(err)
	}
	n := refSeq.Add(1)
	return providers.Payout{
		IdempotencyKey: fmt.Sprintf("idem-%d", n),
		Reference:      fmt.Sprintf("pd-test-%d", n),
		Amount:         m,
		Fields: map[string]string{
			"country":      "BR",
			"redirect_url": returnURL,
			"description":  "Refund of order 8108",
			"user_id":      "cust-8108",
			"user_device":  "MOBILE",
			"ip":           "13.12.11.10",
			"language":     "PT",
			"extra1":       "ticket SUP-123",
		},
	}
}

func TestSandboxSubmit(t *testing.T) {
	tests := []struct {
		name        string
		amount      string
		key         string // overrides the API key when set
		fields      map[string]string
		timeout     time.Duration
		wantStatus  providers.Status
		wantOutcome providers.Outcome
		wantHTTP    int
		wantMessage string // contained in the error's message
		wantFields  []string
		wantCreated int
	}{
		{name: "success", amount: "150.00", wantStatus: providers.StatusAwaitingCustomer, wantCreated: 1},
		{name: "slow answer within the deadline", amount: "777", timeout: 5 * time.Second, wantStatus: providers.StatusAwaitingCustomer, wantCreated: 1},
		{name: "validation error", amount: "150", fields: map[string]string{"country": "", "user_device": "PHONE"},
			wantOutcome: providers.OutcomeRejected, wantHTTP: 400, wantMessage: "userDevice must be one of the following values",
			wantFields: []string{"country", "user_device"}},
		{name: "country and currency do not match", amount: "150", fields: map[string]string{"country": "MX"},
			wantOutcome: providers.OutcomeRejected, wantHTTP: 400, wantMessage: "No payout options available for country MX and currency BRL"},
		{name: "bad credentials", amount: "150", key: "wrong-key", wantOutcome: providers.OutcomeRejected, wantHTTP: 401, wantMessage: "Unauthorized"},
		{name: "server error", amount: "500", wantOutcome: providers.OutcomeUnknown, wantHTTP: 500},
		{name: "timeout", amount: "408", timeout: 300 * time.Millisecond, wantOutcome: providers.OutcomeUnknown, wantCreated: 1},
		{name: "malformed answer", amount: "418", wantOutcome: providers.OutcomeUnknown, wantHTTP: 200, wantCreated: 1},
		{name: "slow answer beyond the deadline", amount: "777", timeout: 100 * time.Millisecond, wantOutcome: providers.OutcomeUnknown, wantCreated: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, c := start(t, sandbox.Config{})
			if tt.key != "" {
				c = kibramoa.New(kibramoa.Config{BaseURL: env.BaseURL(providers.Kibramoa), APIKey: tt.key})
			}
			p := payout(t, tt.amount)
			for k, v := range tt.fields {
				p.Fields[k] = v
			}
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			res, err := c.Submit(ctx, p, providers.Ref{})
			if len(res.Exchanges) != 1 {
				t.Errorf("got %d exchanges, want 1", len(res.Exchanges))
			}
			if got := env.Sandbox.Count(providers.Kibramoa, "payout created"); got != tt.wantCreated {
				t.Errorf("got %d payouts created, want %d", got, tt.wantCreated)
			}
			if tt.wantOutcome == 0 {
				if err != nil {
					t.Fatalf("Submit: %v", err)
				}
				if res.Status != tt.wantStatus || res.PaymentID == "" {
					t.Errorf("got status %q and session %q, want %q and a session id", res.Status, res.PaymentID, tt.wantStatus)
				}
				wantURL := env.BaseURL(providers.Kibramoa) + "/cashier/payout/?sessionId=" + res.PaymentID
				if res.CashierURL != wantURL {
					t.Errorf("got cashier URL %q, want %q", res.CashierURL, wantURL)
				}
				return
			}
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("got error %v, want a *providers.Error", err)
			}
			if pe.Outcome != tt.wantOutcome || pe.HTTPStatus != tt.wantHTTP {
				t.Errorf("got outcome %v and HTTP %d, want %v and %d (%v)", pe.Outcome, pe.HTTPStatus, tt.wantOutcome, tt.wantHTTP, err)
			}
			if tt.wantOutcome == providers.OutcomeUnknown && !errors.Is(err, providers.ErrOutcomeUnknown) {
				t.Errorf("got error %v, want errors.Is ErrOutcomeUnknown", err)
			}
			if !strings.Contains(pe.Message, tt.wantMessage) {
				t.Errorf("got message %q, want it to contain %q", pe.Message, tt.wantMessage)
			}
			var fields []string
			for f := range pe.Fields {
				fields = append(fields, f)
			}
			if diff := cmp.Diff(tt.wantFields, fields, sortStrings); diff != "" {
				t.Errorf("field errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSandboxDuplicateReferenceIsUnknown(t *testing.T) {
	env, c := start(t, sandbox.Config{})
	p := payout(t, "150")
	if _, err := c.Submit(context.Background(), p, providers.Ref{}); err != nil {
		t.Fatalf("first Submit: %v", err)
	}
	_, err := c.Submit(context.Background(), p, providers.Ref{})
	if !errors.Is(err, providers.ErrOutcomeUnknown) {
		t.Errorf("second Submit: got %v, want ErrOutcomeUnknown (a payout with this reference exists)", err)
	}
	if got := env.Sandbox.Count(providers.Kibramoa, "payout created"); got != 1 {
		t.Errorf("got %d payouts created, want 1", got)
	}
}

func TestSandboxLookupErrors(t *testing.T) {
	env, c := start(t, sandbox.Config{})
	tests := []struct {
		name        string
		client      *kibramoa.Client
		ref         providers.Ref
		wantErr     error
		wantHTTP    int
		wantMessage string
	}{
		{"unknown transaction", c, providers.Ref{ProviderID: "2d0c5a55-8d4e-4a4b-9d6b-3f7f2b6f1a10"}, providers.ErrRejected, 404, "Transaction not found."},
		{"not a uuid", c, providers.Ref{ProviderID: "tx-1"}, providers.ErrRejected, 400, "Validation failed (uuid is expected)"},
		{"bad credentials", kibramoa.New(kibramoa.Config{BaseURL: env.BaseURL(providers.Kibramoa), APIKey: "nope"}),
			providers.Ref{ProviderID: "2d0c5a55-8d4e-4a4b-9d6b-3f7f2b6f1a10"}, providers.ErrRejected, 401, "Unauthorized"},
		{"no transaction id yet", c, providers.Ref{PaymentID: "54ed4d33-9c24-4ef0-a7f8-242920a657a5"}, providers.ErrUnsupported, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.Lookup(context.Background(), tt.ref)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			var pe *providers.Error
			if errors.As(err, &pe) && (pe.HTTPStatus != tt.wantHTTP || pe.Message != tt.wantMessage) {
				t.Errorf("got HTTP %d %q, want %d %q", pe.HTTPStatus, pe.Message, tt.wantHTTP, tt.wantMessage)
			}
		})
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })
