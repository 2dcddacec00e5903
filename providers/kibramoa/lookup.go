package kibramoa

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"payoutdesk/providers"
)

// Lookup reads a transaction by Kibramoa's transaction id (ref.ProviderID,
// learnt from a notification's internalId). Kibramoa has no lookup by
// session id or merchant reference, so without it Lookup returns
// providers.ErrUnsupported.
func (c *Client) Lookup(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	const op = "get transaction"
	var res providers.Result
	id := strings.TrimSpace(ref.ProviderID)
	if id == "" || id == ref.PaymentID {
		return res, c.unsupported(op, errors.New("transaction id not known yet (it arrives with the first notification)"))
	}
	resp, err := c.call(ctx, &res, op, http.MethodGet, "/payments/"+url.PathEscape(id), nil, maskKeys)
	if err != nil {
		return res, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return res, c.refusal(op, resp)
	}
	tx, err := decodeTransaction(resp.Body)
	if err != nil {
		return res, c.unknown(op, resp.Status, err)
	}
	if tx.ID != "" && tx.ID != id {
		return res, c.unknown(op, resp.Status, fmt.Errorf("asked for transaction %s, got %s", id, tx.ID))
	}
	amount, err := tx.amount(c.cfg.AmountFormat)
	if err != nil {
		return res, c.unknown(op, resp.Status, err)
	}
	res.ProviderID = id
	res.PaymentID = tx.SessionID
	res.ProviderReference = string(tx.PaymentReference)
	res.RawStatus = tx.Status
	res.Status = MapStatus(tx.Status)
	res.ErrorCode, res.ErrorMessage = tx.failure(res.Status, tx.Status)
	res.Amount = amount
	res.Beneficiary.Country = tx.Country
	return res, nil
}
