package monime

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"payoutdesk/providers"
)

// createBody encodes the POST /payouts body for p. The same p always gives
// the same bytes, which Monime's idempotency replay relies on. It refuses
// only what cannot be sent; Check holds the agent-facing rules, and Monime
// itself judges the rest.
func (c *Client) createBody(p providers.Payout) ([]byte, error) {
	switch n := len(p.IdempotencyKey); {
	case n == 0:
		return nil, errors.New("no idempotency key")
	case n > MaxIdempotencyKeyLen:
		return nil, fmt.Errorf("idempotency key is %d bytes, Monime takes at most %d", n, MaxIdempotencyKeyLen)
	}
	md, err := metadataFor(p.Fields[FieldMetadata], p.Reference)
	if err != nil {
		return nil, err
	}
	code := strings.TrimSpace(p.Fields[FieldProviderCode])
	account := strings.TrimSpace(p.Fields[FieldAccountID])
	if d, ok := c.destination(code); ok {
		if a, ok := NormalizeAccount(d.Kind, account); ok {
			account = a
		}
	}
	req := createRequest{
		Amount:      wireAmount{Currency: p.Amount.Currency, Value: p.Amount.Minor},
		Destination: wireDestination{ProviderCode: code, AccountID: account},
		Metadata:    md,
	}
	// An agent may clear the field to use the main account; a payout made
	// without the form's field at all gets the configured default.
	src, present := p.Fields[FieldSourceAccount]
	if !present {
		src = c.cfg.DefaultSourceAccount
	}
	if src = strings.TrimSpace(src); src != "" {
		req.Source = &wireSource{FinancialAccountID: src}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return body, nil
}
