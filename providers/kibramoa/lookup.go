package kibramoa

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"payoutdesk/providers"
)

// Lookup reads a transaction by Kibramoa's transaction id (ref.ProviderID,
// learnt from a notification's internalId). Kibramoa has no lookup by
// session id or merchant reference, so without it Lookup returns
// providers.ErrUnsupported. Its 404 is not marked NotFound: that the
// internalId is the transaction's id is not confirmed, and if it is not,
// every lookup would say "not found" of payouts Kibramoa holds.
func (c *Client) Lookup(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	const op = "get transaction"
	var res providers.Result
	id := strings.TrimSpace(ref.ProviderID)
	if id == "" || id == ref.PaymentID {
		return res, providers.NotSent(providers.Kibramoa, op, fmt.Errorf("transaction id not known yet (it arrives with the first notification): %w", providers.ErrUnsupported))
	}
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.call(ctx, &res, op, http.MethodGet, "/payments/"+url.PathEscape(id), nil, maskKeys)
	if err != nil {
		return res, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return res, c.refusal(op, resp)
	}
	tx, err := decodeTransaction(resp.Body)
	if err != nil {
		return res, providers.Unknown(providers.Kibramoa, op, resp.Status, err)
	}
	if tx.ID != "" && tx.ID != id {
		return res, providers.Unknown(providers.Kibramoa, op, resp.Status, fmt.Errorf("asked for transaction %s, got %s", id, tx.ID))
	}
	// An amount that cannot be read leaves the status standing, as in a
	// notification (see Webhook); the answer is in the exchange recorded.
	if amount, err := tx.amount(c.cfg.AmountFormat); err == nil {
		res.Amount = amount
	}
	res.ProviderID = id
	res.PaymentID = tx.SessionID
	res.ProviderReference = string(tx.PaymentReference)
	res.RawStatus = tx.Status
	res.Status = MapStatus(tx.Status)
	res.ErrorCode, res.ErrorMessage = tx.failure()
	res.PayoutOption = tx.payoutOption()
	res.Beneficiary.Country = tx.Country
	return res, nil
}
