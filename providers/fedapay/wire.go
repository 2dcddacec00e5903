package fedapay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// createRequest is the body of POST /payouts.
type createRequest struct {
	Amount            int64       `json:"amount"`
	Currency          currencyISO `json:"currency"`
	Customer          customer    `json:"customer"`
	Mode              string      `json:"mode"`
	MerchantReference string      `json:"merchant_reference,omitempty"`
	Description       string      `json:"description,omitempty"`
}

type currencyISO struct {
	ISO string `json:"iso"`
}

type customer struct {
	Firstname   string       `json:"firstname"`
	Lastname    string       `json:"lastname"`
	Email       string       `json:"email,omitempty"`
	PhoneNumber *phoneNumber `json:"phone_number,omitempty"`
}

type phoneNumber struct {
	Number  string `json:"number"`
	Country string `json:"country"`
}

// startRequest is the body of PUT /payouts/start, in the official SDKs' shape.
type startRequest struct {
	Payouts []startItem `json:"payouts"`
}

type startItem struct {
	ID int64 `json:"id"`
}

// payoutWire is FedaPay's payout object as far as the client reads it. Its
// fields never fail to decode, so one decode reads the whole object and
// check is strict on id and status, lenient on everything else.
type payoutWire struct {
	Klass             flexString      `json:"klass"`
	ID                flexString      `json:"id"`
	Reference         flexString      `json:"reference"`
	Amount            json.RawMessage `json:"amount"`
	Status            string          `json:"status"`
	LastErrorCode     flexString      `json:"last_error_code"`
	LastErrorMessage  flexString      `json:"last_error_message"`
	MerchantReference flexString      `json:"merchant_reference"`
	DeletedAt         json.RawMessage `json:"deleted_at"`
	Currency          json.RawMessage `json:"currency"`
}

// payout is a parsed and checked payout object.
type payout struct {
	ID                int64
	Reference         string
	Status            string
	ErrorCode         string
	ErrorMessage      string
	MerchantReference string
	// Amount is in whole units; HasAmount is false when the object had none.
	Amount    int64
	HasAmount bool
	// Currency is the ISO code, when the object carries its currency.
	Currency string
	Deleted  bool
}

// payoutObject is a payout object, bare or wrapped in {"v1/payout": …}.
type payoutObject struct {
	payoutWire
	V1    *payoutWire `json:"v1/payout"`
	Plain *payoutWire `json:"payout"`
}

// wire returns the payout inside o.
func (o payoutObject) wire() payoutWire {
	switch {
	case o.V1 != nil:
		return *o.V1
	case o.Plain != nil:
		return *o.Plain
	}
	return o.payoutWire
}

// decodePayout reads one payout object, bare or wrapped.
func decodePayout(raw []byte) (payout, error) {
	var o payoutObject
	if err := json.Unmarshal(raw, &o); err != nil {
		return payout{}, fmt.Errorf("decode payout: %w", err)
	}
	return o.wire().check()
}

// check reads w into a payout: a positive integer id (sent as a number or,
// leniently, a numeric string) and a status are required.
func (w payoutWire) check() (payout, error) {
	if w.ID == "" {
		return payout{}, errors.New("payout without id")
	}
	id, err := strconv.ParseInt(string(w.ID), 10, 64)
	if err != nil || id <= 0 {
		return payout{}, fmt.Errorf("invalid payout id %.40q", w.ID)
	}
	if strings.TrimSpace(w.Status) == "" {
		return payout{}, fmt.Errorf("payout %d without status", id)
	}
	p := payout{
		ID:                id,
		Reference:         string(w.Reference),
		Status:            strings.ToLower(strings.TrimSpace(w.Status)),
		ErrorCode:         string(w.LastErrorCode),
		ErrorMessage:      string(w.LastErrorMessage),
		MerchantReference: string(w.MerchantReference),
		Deleted:           present(w.DeletedAt),
		Currency:          currencyCode(w.Currency),
	}
	if present(w.Amount) {
		n, err := parseWhole(w.Amount)
		if err != nil {
			return payout{}, fmt.Errorf("payout %d: %w", id, err)
		}
		p.Amount, p.HasAmount = n, true
	}
	return p, nil
}

// decodeStarted finds payout id in the answer to PUT /payouts/start:
// {"v1/payouts": […]} or a bare array; each item is decoded once.
func decodeStarted(body []byte, id int64) (payout, error) {
	raw := unwrap(body, "v1/payouts", "payouts")
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		// Leniently take an answer carrying the single payout, not a list.
		list = []json.RawMessage{body}
	}
	var lastErr error
	for _, item := range list {
		p, err := decodePayout(item)
		if err != nil {
			lastErr = err
			continue
		}
		if p.ID == id {
			return p, nil
		}
	}
	if lastErr != nil {
		return payout{}, fmt.Errorf("payout %d not in answer: %w", id, lastErr)
	}
	return payout{}, fmt.Errorf("payout %d not in answer", id)
}

// parseError reads FedaPay's error envelope {"message": …, "errors": {field:
// [msg…]}}, accepting a message list and field messages given as one string.
func parseError(body []byte) (string, map[string][]string) {
	var env struct {
		Message json.RawMessage `json:"message"`
		Errors  json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &env) != nil {
		return "", nil
	}
	msgs := stringList(env.Message)
	var fields map[string][]string
	var byField map[string]json.RawMessage
	if json.Unmarshal(env.Errors, &byField) == nil {
		for k, v := range byField {
			if l := stringList(v); len(l) > 0 {
				if fields == nil {
					fields = make(map[string][]string)
				}
				fields[k] = l
			}
		}
	} else {
		msgs = append(msgs, stringList(env.Errors)...)
	}
	return strings.Join(msgs, "; "), fields
}

// stringList reads a string or a list of strings; anything else is empty.
func stringList(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s = strings.TrimSpace(s); s != "" {
			return []string{s}
		}
		return nil
	}
	var l []json.RawMessage
	if json.Unmarshal(raw, &l) != nil {
		return nil
	}
	var out []string
	for _, item := range l {
		out = append(out, stringList(item)...)
	}
	return out
}

// unwrap returns the value under the first of keys present at the top of
// body, or body itself when it is not such a wrapper.
func unwrap(body []byte, keys ...string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return body
}

// present reports whether a raw JSON value is there and not null or "".
func present(raw json.RawMessage) bool {
	t := string(bytes.TrimSpace(raw))
	return t != "" && t != "null" && t != `""`
}

// currencyCode reads a currency given as {"iso": "XOF"} or "XOF".
func currencyCode(raw json.RawMessage) string {
	var obj struct {
		ISO string `json:"iso"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.ISO != "" {
		return strings.ToUpper(obj.ISO)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && len(s) == 3 {
		return strings.ToUpper(s)
	}
	return ""
}

// parseWhole reads a whole, non-negative amount given as a JSON number or
// numeric string; "2000.00" is accepted, "2000.5" is not.
func parseWhole(raw json.RawMessage) (int64, error) {
	s := string(bytes.TrimSpace(raw))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("amount: %w", err)
		}
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || strings.Trim(intPart, "0123456789") != "" || strings.Trim(frac, "0") != "" {
		return 0, fmt.Errorf("amount %.40q is not a whole number", s)
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %.40q out of range", s)
	}
	return n, nil
}

// flexString reads a string, or a number as its text; other values
// (null, objects, booleans) leave it empty.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if json.Unmarshal(b, &n) == nil {
		*f = flexString(n.String())
	}
	return nil
}
