package fedapay_test

import (
	"context"
	"errors"
	"testing"

	"payoutdesk/providers"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
)

// A resumed Submit reads the payout an earlier attempt created and starts
// it only if it is the one meant: one that holds another amount or
// another merchant reference is left pending at FedaPay, and the outcome
// is unknown, for a person to settle. (The sandbox's payouts carry a
// currency_id, not a currency: TestGoldenResumeRefusesAnotherCurrency
// covers the currency.)
func TestSandboxResumeRefusesAnotherPayout(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	c := newClient(env, failingStart)
	first := newPayout(5000, "97808080")
	created, err := c.Submit(context.Background(), first, providers.Ref{})
	if !errors.Is(err, providers.ErrNotSent) || created.ProviderID == "" {
		t.Fatalf("first Submit: got %v with id %q, want not sent with the created payout's id", err, created.ProviderID)
	}

	otherAmount := first
	otherAmount.Amount.Minor = 50000
	otherRef := newPayout(5000, "97808080")
	for name, p := range map[string]providers.Payout{"another amount": otherAmount, "another reference": otherRef} {
		t.Run(name, func(t *testing.T) {
			res, err := c.Submit(context.Background(), p, providers.Ref{ProviderID: created.ProviderID, Reference: p.Reference})
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Outcome != providers.OutcomeUnknown {
				t.Errorf("resumed Submit of %s: got %v (status %q), want an unknown outcome", name, err, res.RawStatus)
			}
		})
	}
	checkCount(t, env, "payout started", 0)
	if got, err := c.Lookup(context.Background(), providers.Ref{ProviderID: created.ProviderID}); err != nil || got.RawStatus != "pending" {
		t.Errorf("the payout at FedaPay: got %q, %v; want still pending", got.RawStatus, err)
	}
}
