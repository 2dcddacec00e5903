package monime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"payoutdesk/providers"
)

// createRequest is the body of POST /payouts in the legacy 2024-08-01 API.
type createRequest struct {
	Amount      wireAmount        `json:"amount"`
	Destination wireDestination   `json:"destination"`
	Source      *wireSource       `json:"source,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

type wireAmount struct {
	Currency string `json:"currency"`
	Value    int64  `json:"value"`
}

type wireDestination struct {
	ProviderCode string `json:"providerCode"`
	AccountID    string `json:"accountId"`
}

type wireSource struct {
	FinancialAccountID string `json:"financialAccountId"`
}

// maskKeys are the JSON keys holding account numbers, masked in exchanges
// (phoneNumber and accountNumber are the newer API's names).
var maskKeys = []string{"accountId", "phoneNumber", "accountNumber"}

// envelope is Monime's answer to every call: {success, messages, result}
// on success; error answers add an error object.
type envelope struct {
	Success  *bool           `json:"success"`
	Messages json.RawMessage `json:"messages"`
	Message  json.RawMessage `json:"message"`
	Result   json.RawMessage `json:"result"`
	Error    json.RawMessage `json:"error"`
}

// payout is what the client reads from a Monime payout object.
type payout struct {
	ID            string
	Status        string
	DelayedReason string
	Amount        *providers.Money
	ProviderCode  string
	AccountID     string
	// DestinationReference is the operator's or bank's transaction reference.
	DestinationReference string
	FailureCode          string
	FailureMessage       string
	// Reference is the metadata entry ReferenceKey, when present.
	Reference string
}

// object decodes raw as a JSON object; ok is false for anything else.
func object(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

// text returns raw as a string if it is a JSON string, else "".
func text(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// first returns the first non-empty string among the keys of m.
func first(m map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		if s := text(m[k]); s != "" {
			return s
		}
	}
	return ""
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// parseAmount reads {currency, value} strictly: value must be a JSON
// integer of minor units, currency a known ISO 4217 code.
func parseAmount(raw json.RawMessage) (*providers.Money, error) {
	m, ok := object(raw)
	if !ok {
		return nil, errors.New("amount is not an object")
	}
	money, err := providers.ParseMinor(string(bytes.TrimSpace(m["value"])), strings.ToUpper(text(m["currency"])))
	if err != nil {
		return nil, fmt.Errorf("amount: %w", err)
	}
	return &money, nil
}

// parsePayout reads a payout object: strictly for its id, status and
// amount, leniently for the rest (unknown fields are ignored, fields of
// the wrong type read as empty).
func parsePayout(raw json.RawMessage) (payout, error) {
	m, ok := object(raw)
	if !ok {
		return payout{}, errors.New("result is not a payout object")
	}
	p, err := readPayout(m)
	switch {
	case err != nil:
		return payout{}, err
	case p.ID == "":
		return payout{}, errors.New("payout without id")
	case p.Status == "":
		return payout{}, errors.New("payout without status")
	}
	return p, nil
}

// readPayout reads the fields of a payout object; of those that matter it
// checks only the amount, leaving id and status to the caller.
func readPayout(m map[string]json.RawMessage) (payout, error) {
	p := payout{ID: text(m["id"]), Status: text(m["status"]), DelayedReason: text(m["delayedReason"])}
	if !isNull(m["amount"]) {
		amount, err := parseAmount(m["amount"])
		if err != nil {
			return payout{}, err
		}
		p.Amount = amount
	}
	if d, ok := object(m["destination"]); ok {
		p.ProviderCode = first(d, "providerCode", "providerId")
		p.AccountID = first(d, "accountId", "phoneNumber", "accountNumber", "walletId")
		p.DestinationReference = text(d["transactionReference"])
	}
	if f, ok := object(m["failureDetail"]); ok {
		p.FailureCode = text(f["code"])
		p.FailureMessage = first(f, "explanation", "message")
	}
	if md, ok := object(m["metadata"]); ok {
		p.Reference = text(md[ReferenceKey])
	}
	return p, nil
}

// parsePayoutResponse reads a 2xx answer of create or get payout.
func parsePayoutResponse(body []byte) (payout, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return payout{}, fmt.Errorf("answer is not JSON: %w", err)
	}
	if env.Success != nil && !*env.Success {
		return payout{}, errors.New("answer says success false")
	}
	if isNull(env.Result) {
		// A bare payout object, should an API version drop the envelope.
		return parsePayout(body)
	}
	return parsePayout(env.Result)
}

// parseDeleteResponse reads a 2xx answer of delete payout, {success,
// messages}. The 2xx status is what counts; only an explicit success false
// casts doubt on it.
func parseDeleteResponse(body []byte) error {
	var env envelope
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &env) != nil {
		return nil
	}
	if env.Success != nil && !*env.Success {
		return errors.New("answer says success false")
	}
	return nil
}

// result is the provider-neutral view of p.
func (p payout) result(dests []Destination) providers.Result {
	r := providers.Result{
		ProviderID:        p.ID,
		ProviderReference: p.DestinationReference,
		Reference:         p.Reference,
		RawStatus:         rawStatus(p.Status, p.DelayedReason),
		Status:            MapStatus(p.Status),
		Amount:            p.Amount,
	}
	if r.Status == providers.StatusFailed {
		r.ErrorCode, r.ErrorMessage = p.FailureCode, p.FailureMessage
	}
	if p.AccountID != "" || p.ProviderCode != "" {
		r.Beneficiary = providers.Beneficiary{Name: p.ProviderCode, AccountMasked: providers.MaskAccount(p.AccountID), Country: "SL"}
		for _, d := range dests {
			if d.Code == p.ProviderCode {
				r.Beneficiary.Name = d.Label
			}
		}
	}
	return r
}
