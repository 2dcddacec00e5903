package fedapay_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"payoutdesk/providers"
	"payoutdesk/providers/fedapay"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
)

func TestSandboxCreateFaults(t *testing.T) {
	const wrongKey = "sk_sandbox_wrong_key_123"
	tests := []struct {
		name        string
		amount      int64
		change      func(p *providers.Payout)
		cfg         func(*fedapay.Config)
		wantOutcome providers.Outcome
		wantHTTP    int
		wantMessage string
		wantFields  []string
		wantCreated int
		wantStatus  providers.Status
	}{
		{name: "validation: over the limit", amount: 1_000_001, wantOutcome: providers.OutcomeRejected, wantHTTP: 422,
			wantMessage: "The given data was invalid.", wantFields: []string{"amount"}},
		{name: "validation: missing mode", amount: 5000, change: func(p *providers.Payout) { p.Fields[fedapay.FieldMode] = "" },
			wantOutcome: providers.OutcomeRejected, wantHTTP: 422, wantMessage: "The given data was invalid.", wantFields: []string{"mode"}},
		{name: "validation: names and mode", amount: 5000,
			change: func(p *providers.Payout) {
				p.Fields[fedapay.FieldMode], p.Fields[fedapay.FieldFirstname], p.Fields[fedapay.FieldLastname] = "mtn", "", ""
			},
			wantOutcome: providers.OutcomeRejected, wantHTTP: 422, wantMessage: "The given data was invalid.",
			wantFields: []string{"customer.firstname", "customer.lastname", "mode"}},
		{name: "bad credentials", amount: 5000, cfg: func(c *fedapay.Config) { c.SecretKey = wrongKey },
			wantOutcome: providers.OutcomeRejected, wantHTTP: 401, wantMessage: "Unauthenticated."},
		{name: "server error", amount: 500, wantOutcome: providers.OutcomeUnknown, wantHTTP: 500, wantMessage: "Server Error"},
		{name: "timeout", amount: 408, cfg: func(c *fedapay.Config) { c.Timeout = 200 * time.Millisecond },
			wantOutcome: providers.OutcomeUnknown, wantCreated: 1},
		{name: "malformed answer", amount: 418, wantOutcome: providers.OutcomeUnknown, wantCreated: 1},
		{name: "slow beyond the deadline", amount: 777, cfg: func(c *fedapay.Config) { c.Timeout = 100 * time.Millisecond },
			wantOutcome: providers.OutcomeUnknown, wantCreated: 1},
		{name: "slow within the deadline", amount: 777, wantCreated: 1, wantStatus: providers.StatusProcessing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := sandboxtest.Start(t, sandbox.Config{})
			var opts []func(*fedapay.Config)
			if tt.cfg != nil {
				opts = append(opts, tt.cfg)
			}
			c := newClient(env, opts...)
			p := newPayout(tt.amount, "97808080")
			if tt.change != nil {
				tt.change(&p)
			}
			res, err := c.Submit(context.Background(), p, providers.Ref{})
			if len(res.Exchanges) == 0 {
				t.Errorf("got no exchanges, want them also on error")
			}
			if b, _ := json.Marshal(res.Exchanges); strings.Contains(string(b), wrongKey) || (err != nil && strings.Contains(err.Error(), wrongKey)) {
				t.Errorf("the secret key leaks into the error or exchanges")
			}
			checkCount(t, env, "payout created", tt.wantCreated)
			if tt.wantOutcome == 0 {
				if err != nil || res.Status != tt.wantStatus {
					t.Fatalf("Submit: got %q, %v; want %q", res.Status, err, tt.wantStatus)
				}
				return
			}
			if got := providers.OutcomeOf(err); err == nil || got != tt.wantOutcome {
				t.Fatalf("got %v (outcome %v), want outcome %v", err, got, tt.wantOutcome)
			}
			if tt.wantOutcome == providers.OutcomeUnknown && !errors.Is(err, providers.ErrOutcomeUnknown) {
				t.Errorf("errors.Is(%v, ErrOutcomeUnknown) is false", err)
			}
			var pe *providers.Error
			errors.As(err, &pe)
			if pe.HTTPStatus != tt.wantHTTP || pe.Message != tt.wantMessage {
				t.Errorf("got http %d %q, want %d %q", pe.HTTPStatus, pe.Message, tt.wantHTTP, tt.wantMessage)
			}
			var fields []string
			for k := range pe.Fields {
				fields = append(fields, k)
			}
			if diff := cmp.Diff(tt.wantFields, fields, cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("fields mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
