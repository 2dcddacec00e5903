package smartglocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"payoutdesk/providers"
)

// Submit creates a session and starts the payout in it. With prev.ProviderID
// set (an earlier attempt created the session) it reads the session first
// and starts the payout only if the session has none yet, so one payout
// never becomes two sessions or two payments.
func (c *Client) Submit(ctx context.Context, p providers.Payout, prev providers.Ref) (providers.Result, error) {
	var res providers.Result
	start, err := c.startRequest(p)
	if err != nil {
		return res, providers.NotSent(providers.SmartGlocal, "start payout", err)
	}
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var snap snapshot
	if prev.ProviderID == "" {
		var extra http.Header
		if c.idemHeader != "" && p.IdempotencyKey != "" {
			extra = http.Header{c.idemHeader: {p.IdempotencyKey}}
		}
		create := createRequest{Customer: start.Customer, Metadata: start.Metadata}
		snap, err = c.call(ctx, &res, "create session", "session/create", create, extra)
	} else {
		res.ProviderID = prev.ProviderID
		snap, err = c.call(ctx, &res, "check session", "session/status", sessionRequest{SessionID: prev.ProviderID}, nil)
		providers.MarkNotFound(err, res)
		err = providers.AboutHeld(err)
	}
	if err != nil {
		return res, err
	}
	if prev.ProviderID != "" && snap.SessionID != prev.ProviderID {
		return res, providers.Unknown(providers.SmartGlocal, "check session", 0, fmt.Errorf("answer is about session %q, not %q", snap.SessionID, prev.ProviderID))
	}
	snap.fill(&res)
	// A session that already holds a payout (an interrupted attempt, or
	// session/create answering an idempotent replay) is never started again.
	if snap.PaymentID != "" || snap.SessionStatus != sessionCreated {
		return res, nil
	}
	sessionID := snap.SessionID
	start.SessionID = sessionID
	snap, err = c.call(ctx, &res, "start payout", "session/start/payout", start, nil)
	if err != nil {
		return res, err
	}
	if snap.SessionID != sessionID {
		return res, providers.Unknown(providers.SmartGlocal, "start payout", 0, fmt.Errorf("answer is about session %q, not %q", snap.SessionID, sessionID))
	}
	snap.fill(&res)
	return res, nil
}

// startRequest builds session/start/payout from the payout, without the
// session id. Only fields of the chosen payment method are read, so values
// left from the other method's fields are never sent.
func (c *Client) startRequest(p providers.Payout) (startPayoutRequest, error) {
	val := func(name string) string { return strings.TrimSpace(p.Fields[name]) }
	if p.Amount.Minor <= 0 {
		return startPayoutRequest{}, errors.New("amount must be greater than zero")
	}
	if _, err := providers.Exponent(p.Amount.Currency); err != nil {
		return startPayoutRequest{}, err
	}
	req := startPayoutRequest{
		AmountDetails: &amountDetails{
			Amount:   json.Number(strconv.FormatInt(p.Amount.Minor, 10)),
			Currency: strings.ToLower(p.Amount.Currency),
		},
		Metadata: &metadata{Reference: p.Reference, IdempotencyKey: p.IdempotencyKey},
	}
	recipient := &participant{CountryISO3: val("recipient_country_iso3")}
	switch method := val("payment_method"); method {
	case methodBankAccount:
		req.PaymentMethod = &paymentMethod{Type: method, BankAccount: &bankAccount{
			SystemType: "global",
			Global:     &globalAccount{IBAN: compactIBAN(val("iban")), Description: val("remittance_description")},
		}}
		recipient.FirstName = val("recipient_first_name")
		recipient.LastName = val("recipient_last_name")
		recipient.BankName = val("recipient_bank_name")
		recipient.Currency = strings.ToLower(val("recipient_currency"))
	case methodCard:
		req.PaymentMethod = &paymentMethod{Type: method, Card: &card{
			Type:     "bank_card",
			BankCard: &bankCard{Number: digits(val("card_number"))},
		}}
		recipient.FullName = val("recipient_full_name")
	default:
		return startPayoutRequest{}, fmt.Errorf("unknown payment method %q", method)
	}
	req.ParticipantDetails = &participantDetails{Recipient: recipient}
	sender := participant{
		CompanyName:        val("sender_company_name"),
		RegistrationNumber: val("sender_registration_number"),
		CountryISO3:        val("sender_country_iso3"),
		Code:               val("sender_code"),
	}
	if sender != (participant{}) {
		req.ParticipantDetails.Sender = &sender
	}
	ref, email := val("customer_reference"), val("customer_email")
	if ref != "" || email != "" {
		req.Customer = &customer{Reference: ref}
		if email != "" {
			req.Customer.Contacts = []contact{{Email: email}}
		}
	}
	return req, nil
}
