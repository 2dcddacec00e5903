package smartglocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"payoutdesk/providers"
)

// snapshot is what a session says about a payout, checked and flattened.
type snapshot struct {
	SessionID     string
	SessionStatus string
	NextAction    string
	PaymentID     string
	PaymentStatus string
	ErrorCode     string
	ErrorMessage  string
	Reference     string
	Amount        *providers.Money
	Beneficiary   providers.Beneficiary
}

// Status maps the snapshot onto the payout lifecycle.
func (s snapshot) Status() providers.Status {
	return mapStatus(s.SessionStatus, s.PaymentStatus, s.NextAction)
}

// fill copies the snapshot into r.
func (s snapshot) fill(r *providers.Result) {
	r.ProviderID = s.SessionID
	r.PaymentID = s.PaymentID
	r.RawStatus = rawStatus(s.SessionStatus, s.PaymentStatus)
	r.Status = s.Status()
	r.NextAction = s.NextAction
	r.ErrorCode = s.ErrorCode
	r.ErrorMessage = s.ErrorMessage
	r.Amount = s.Amount
	r.Beneficiary = s.Beneficiary
}

// parseAnswer reads the answer to any Smart Glocal method. An answer with
// status "error", or any non-2xx answer, is classified by its HTTP status
// (providers.Classify); a 2xx answer that cannot be read is unknown.
func parseAnswer(op string, httpStatus int, body []byte) (snapshot, error) {
	var env envelope
	decErr := json.Unmarshal(body, &env)
	is2xx := httpStatus >= 200 && httpStatus < 300
	switch {
	case decErr != nil && !is2xx:
		return snapshot{}, providers.Classify(providers.SmartGlocal, op, httpStatus, "", "answer without an error envelope: "+http.StatusText(httpStatus), nil)
	case decErr != nil:
		return snapshot{}, providers.Unknown(providers.SmartGlocal, op, httpStatus, fmt.Errorf("unreadable answer: %w", decErr))
	case env.Status == "error" || !is2xx:
		var code, msg string
		if env.Error != nil {
			code, msg = string(env.Error.Code), env.Error.text()
		}
		if code == "" && msg == "" {
			msg = "error answer without an error object"
		}
		return snapshot{}, providers.Classify(providers.SmartGlocal, op, httpStatus, code, msg, nil)
	case env.Status != "ok" && env.Status != "":
		return snapshot{}, providers.Unknown(providers.SmartGlocal, op, httpStatus, fmt.Errorf("unexpected answer status %q", env.Status))
	}
	snap, err := readSession(env.Session)
	if err != nil {
		return snapshot{}, providers.Unknown(providers.SmartGlocal, op, httpStatus, err)
	}
	return snap, nil
}

// readSession checks a session object strictly where it matters: ids,
// statuses and amounts. Unknown fields are ignored.
func readSession(raw json.RawMessage) (snapshot, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return snapshot{}, errors.New("answer has no session")
	}
	var s session
	if err := json.Unmarshal(raw, &s); err != nil {
		return snapshot{}, fmt.Errorf("unreadable session: %w", err)
	}
	if s.ID == "" || s.Status == "" {
		return snapshot{}, errors.New("session without id or status")
	}
	snap := snapshot{SessionID: s.ID, SessionStatus: s.Status, NextAction: s.NextAction, Reference: reference(s.Metadata)}
	for i, p := range s.Payments {
		if p.ID == "" || p.Status == "" {
			return snapshot{}, fmt.Errorf("payment %d without id or status", i)
		}
	}
	if len(s.Payments) == 0 {
		return snap, nil
	}
	p := s.Payments[0]
	snap.PaymentID, snap.PaymentStatus = p.ID, p.Status
	// A session in progress whose payout is pending waits for our confirm
	// (providers.md §2.3): an answer that leaves next_action out must not
	// read as "moved on", or the payout would never be confirmed and Smart
	// Glocal would cancel it after 240 minutes.
	if snap.NextAction == "" && snap.SessionStatus == sessionInProgress && snap.PaymentStatus == paymentPending {
		snap.NextAction = actionConfirm
	}
	if p.Error != nil {
		snap.ErrorCode, snap.ErrorMessage = string(p.Error.Code), p.Error.text()
	}
	if snap.Reference == "" {
		snap.Reference = reference(p.Metadata)
	}
	ad, pd := p.AmountDetails, p.ParticipantDetails
	if pm := p.PaymentMethod; pm != nil {
		if ad == nil {
			ad = pm.AmountDetails
		}
		if pd == nil {
			pd = pm.ParticipantDetails
		}
	}
	if ad != nil {
		m, err := readAmount(ad)
		if err != nil {
			return snapshot{}, err
		}
		snap.Amount = &m
	}
	snap.Beneficiary = beneficiaryOf(p.PaymentMethod, pd)
	return snap, nil
}

// readAmount reads integer minor units of a known currency, whose code
// Smart Glocal writes in lower case.
func readAmount(ad *amountDetails) (providers.Money, error) {
	m, err := providers.ParseMinor(ad.Amount.String(), strings.ToUpper(ad.Currency))
	if err != nil {
		return providers.Money{}, fmt.Errorf("amount_details: %w", err)
	}
	return m, nil
}

func beneficiaryOf(pm *paymentMethodIn, pd *participantDetails) providers.Beneficiary {
	var b providers.Beneficiary
	if pd != nil && pd.Recipient != nil {
		r := pd.Recipient
		b.Name = r.FullName
		if b.Name == "" {
			b.Name = strings.TrimSpace(r.FirstName + " " + r.LastName)
		}
		b.Country = r.CountryISO3
	}
	if pm != nil {
		switch {
		case pm.BankAccount != nil && pm.BankAccount.Global != nil && pm.BankAccount.Global.IBAN != "":
			b.AccountMasked = providers.MaskAccount(pm.BankAccount.Global.IBAN)
			b.AccountPrint = ibanPrint(pm.BankAccount.Global.IBAN)
		case pm.Card != nil && pm.Card.BankCard != nil && pm.Card.BankCard.Number != "":
			b.AccountMasked = providers.MaskAccount(pm.Card.BankCard.Number)
			b.AccountPrint = cardPrint(pm.Card.BankCard.Number)
		}
	}
	return b
}

// reference finds Payout Desk's reference in free-form metadata; metadata
// of another shape (the seed's "good") yields "".
func reference(raw json.RawMessage) string {
	var m struct {
		Reference any `json:"payoutdesk_reference"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	s, _ := m.Reference.(string)
	return s
}
