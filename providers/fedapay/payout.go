package fedapay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"payoutdesk/providers"
)

// Steps of the payout flow, as named in errors and exchanges.
const (
	opCreate = "create payout"
	opStart  = "start payout"
	opLookup = "look up payout"
	opFind   = "find payout by reference"
	opCancel = "cancel payout"
	opCheck  = "check payout"
)

// Submit creates the payout (POST /payouts) and starts it (PUT
// /payouts/start). When prev.ProviderID is set, an earlier attempt created
// it: Submit reads it and starts it only if it is still pending, so a payout
// is never created twice. With Config.LookupByReference, prev.Reference
// alone is enough to look for the earlier attempt.
func (c *Client) Submit(ctx context.Context, p providers.Payout, prev providers.Ref) (providers.Result, error) {
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var res providers.Result
	units, err := p.Amount.WholeUnits()
	if err == nil && units <= 0 {
		err = errors.New("amount must be positive")
	}
	if err != nil {
		return res, providers.NotSent(providers.FedaPay, opCreate, err)
	}

	var po payout
	switch {
	case prev.ProviderID != "":
		po, err = c.get(ctx, &res, opLookup, "/payouts/"+url.PathEscape(prev.ProviderID))
		providers.MarkNotFound(err, res)
		err = providers.AboutHeld(err)
	case prev.Reference != "" && c.cfg.LookupByReference:
		po, err = c.get(ctx, &res, opFind, "/payouts/merchant/"+url.PathEscape(prev.Reference))
		if isNotFound(err) {
			po, err = c.create(ctx, &res, p, units)
		}
	default:
		po, err = c.create(ctx, &res, p, units)
	}
	if err != nil {
		return res, err
	}
	c.fill(&res, po, p.Amount.Currency)
	if err := matches(po, p, units); err != nil {
		return res, err
	}
	if po.Status != "pending" || po.Deleted {
		return res, nil
	}

	body, err := json.Marshal(startRequest{Payouts: []startItem{{ID: po.ID}}})
	if err != nil {
		return res, providers.NotSent(providers.FedaPay, opStart, err)
	}
	answer, err := c.call(ctx, &res, opStart, http.MethodPut, "/payouts/start", body, nil)
	// A refused start ("Insufficient balance") leaves the payout at FedaPay,
	// pending, where anyone may still start it: from the dashboard, or once
	// the balance is topped up. Unknown, it is checked (and started, if
	// still pending) until it moves on or a manager settles it.
	err = providers.AboutHeld(err)
	if err != nil {
		return res, err
	}
	started, err := decodeStarted(answer, po.ID)
	if err != nil {
		return res, providers.Unknown(providers.FedaPay, opStart, 0, err)
	}
	c.fill(&res, started, p.Amount.Currency)
	return res, nil
}

// create sends POST /payouts.
func (c *Client) create(ctx context.Context, res *providers.Result, p providers.Payout, units int64) (payout, error) {
	body, err := c.createBody(p, units)
	if err != nil {
		return payout{}, providers.NotSent(providers.FedaPay, opCreate, err)
	}
	var extra http.Header
	if c.cfg.SendIdempotencyKey && p.IdempotencyKey != "" {
		extra = http.Header{"Idempotency-Key": {p.IdempotencyKey}}
	}
	return c.payoutCall(ctx, res, opCreate, http.MethodPost, "/payouts", body, extra)
}

// createBody builds the POST /payouts body from the payout and its form.
func (c *Client) createBody(p providers.Payout, units int64) ([]byte, error) {
	f := p.Fields
	req := createRequest{
		Amount:            units,
		Currency:          currencyISO{ISO: p.Amount.Currency},
		Mode:              strings.TrimSpace(f[FieldMode]),
		MerchantReference: p.Reference,
		Description:       strings.TrimSpace(f[FieldDescription]),
		Customer: customer{
			Firstname: strings.TrimSpace(f[FieldFirstname]),
			Lastname:  strings.TrimSpace(f[FieldLastname]),
			Email:     strings.TrimSpace(f[FieldEmail]),
		},
	}
	if raw := strings.TrimSpace(f[FieldPhone]); raw != "" {
		country := strings.ToLower(strings.TrimSpace(f[FieldPhoneCountry]))
		number, err := formatPhone(raw, country, c.cfg.PhoneFormat)
		if err != nil {
			return nil, err
		}
		req.Customer.PhoneNumber = &phoneNumber{Number: number, Country: country}
	}
	return json.Marshal(req)
}

// get reads one payout object with a GET.
func (c *Client) get(ctx context.Context, res *providers.Result, op, path string) (payout, error) {
	return c.payoutCall(ctx, res, op, http.MethodGet, path, nil, nil)
}

// payoutCall makes a call whose answer is one payout object; an answer
// that is not one leaves the outcome unknown.
func (c *Client) payoutCall(ctx context.Context, res *providers.Result, op, method, path string, body []byte, extra http.Header) (payout, error) {
	answer, err := c.call(ctx, res, op, method, path, body, extra)
	if err != nil {
		return payout{}, err
	}
	po, err := decodePayout(answer)
	if err != nil {
		return payout{}, providers.Unknown(providers.FedaPay, op, 0, err)
	}
	return po, nil
}

// Lookup reads the payout by id (GET /payouts/{id}), or by merchant
// reference when only that is known and Config.LookupByReference is set.
func (c *Client) Lookup(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var res providers.Result
	var po payout
	var err error
	switch {
	case ref.ProviderID != "":
		po, err = c.get(ctx, &res, opLookup, "/payouts/"+url.PathEscape(ref.ProviderID))
		providers.MarkNotFound(err, res)
	case ref.Reference != "" && c.cfg.LookupByReference:
		po, err = c.get(ctx, &res, opFind, "/payouts/merchant/"+url.PathEscape(ref.Reference))
	default:
		return res, providers.NotSent(providers.FedaPay, opLookup, providers.ErrUnsupported)
	}
	if err != nil {
		return res, err
	}
	c.fill(&res, po, "")
	return res, nil
}

// Cancel deletes a payout that was not started (DELETE /payouts/{id}), when
// Config.AllowCancel is set. An answer without the payout counts as
// cancelled; an answer with it reports its status, cancelled only when
// deleted_at is set.
func (c *Client) Cancel(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	if !c.cfg.AllowCancel {
		return providers.Result{}, providers.NotSent(providers.FedaPay, opCancel, providers.ErrUnsupported)
	}
	if ref.ProviderID == "" {
		return providers.Result{}, providers.NotSent(providers.FedaPay, opCancel, errors.New("no FedaPay payout id"))
	}
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	res := providers.Result{ProviderID: ref.ProviderID}
	answer, err := c.call(ctx, &res, opCancel, http.MethodDelete, "/payouts/"+url.PathEscape(ref.ProviderID), nil, nil)
	if err != nil {
		return res, err
	}
	if po, err := decodePayout(answer); err == nil {
		c.fill(&res, po, "")
		return res, nil
	}
	res.RawStatus, res.Status = "deleted", providers.StatusCancelled
	return res, nil
}

// fill copies what FedaPay said about po into res; currency is the payout's
// own when the object does not carry one.
func (c *Client) fill(res *providers.Result, po payout, currency string) {
	res.ProviderID = strconv.FormatInt(po.ID, 10)
	res.ProviderReference = po.Reference
	res.RawStatus = po.Status
	if po.Deleted {
		res.RawStatus += " (deleted)"
	}
	res.Status = MapStatus(po.Status, po.Deleted)
	res.ErrorCode, res.ErrorMessage = po.ErrorCode, po.ErrorMessage
	if po.Currency != "" {
		currency = po.Currency
	}
	res.Amount = nil
	if po.HasAmount && currency != "" {
		if m, err := providers.FromWholeUnits(po.Amount, currency); err == nil {
			res.Amount = &m
		}
	}
}

// matches refuses to go on with a payout object that is not the one meant:
// another amount, currency or merchant reference. The payout is then left as
// it is, and the outcome for a person to settle.
func matches(po payout, p providers.Payout, units int64) error {
	var problem string
	switch {
	case po.HasAmount && po.Amount != units:
		problem = fmt.Sprintf("FedaPay holds amount %d, the payout is %d", po.Amount, units)
	case po.Currency != "" && po.Currency != p.Amount.Currency:
		problem = fmt.Sprintf("FedaPay holds currency %s, the payout is in %s", po.Currency, p.Amount.Currency)
	case po.MerchantReference != "" && p.Reference != "" && po.MerchantReference != p.Reference:
		problem = fmt.Sprintf("FedaPay payout %d has merchant reference %q, want %q", po.ID, po.MerchantReference, p.Reference)
	default:
		return nil
	}
	return &providers.Error{Provider: providers.FedaPay, Op: opCheck, Outcome: providers.OutcomeUnknown,
		Message: problem + "; payout left as it is"}
}

func isNotFound(err error) bool {
	var pe *providers.Error
	return errors.As(err, &pe) && pe.HTTPStatus == http.StatusNotFound
}
