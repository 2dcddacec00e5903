package kibramoa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"payoutdesk/providers"
)

// sessionRequest is the body of POST /payout-session. Optional fields are
// omitted when empty; amount is written exactly as formatted by Client.amount.
type sessionRequest struct {
	Country           string      `json:"country"`
	Currency          string      `json:"currency"`
	Amount            json.Number `json:"amount"`
	RedirectURL       string      `json:"redirectUrl"`
	MerchantReference string      `json:"merchantReference,omitempty"`
	Description       string      `json:"description,omitempty"`
	UserID            string      `json:"userId,omitempty"`
	UserAgent         string      `json:"userAgent,omitempty"`
	UserDevice        string      `json:"userDevice,omitempty"`
	IP                string      `json:"ip,omitempty"`
	Language          string      `json:"language,omitempty"`
	Extra1            string      `json:"extra1,omitempty"`
	Extra2            string      `json:"extra2,omitempty"`
	Extra3            string      `json:"extra3,omitempty"`
}

// flexString decodes a JSON string, number or null into text, for fields the
// docs type inconsistently (statusCode is 401 in one place and "000" in another).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or a number, got %.20s", b)
		}
		*f = flexString(n)
	}
	return nil
}

// stringList decodes a JSON string, a list of strings or null: NestJS sends
// "message" as a list for validation errors and as a string otherwise.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var items []flexString
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		*l = (*l)[:0]
		for _, it := range items {
			if it != "" {
				*l = append(*l, string(it))
			}
		}
		return nil
	}
	var s flexString
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*l = nil
	if s != "" {
		*l = stringList{string(s)}
	}
	return nil
}

// errorEnvelope is Kibramoa's error body: {statusCode, message, error}.
type errorEnvelope struct {
	StatusCode flexString `json:"statusCode"`
	Message    stringList `json:"message"`
	Error      flexString `json:"error"`
}

// parseErrorEnvelope reads an error body; ok is false when the body is not
// the envelope (an HTML page from a proxy, say).
func parseErrorEnvelope(body []byte) (env errorEnvelope, ok bool) {
	if err := json.Unmarshal(body, &env); err != nil {
		return errorEnvelope{}, false
	}
	return env, env.StatusCode != "" || len(env.Message) > 0 || env.Error != ""
}

// wireFields maps the request's property names, with which NestJS starts its
// validation messages, to the form's field names.
var wireFields = map[string]string{
	"country":     "country",
	"currency":    "currency",
	"amount":      "amount",
	"redirectUrl": "redirect_url",
	"description": "description",
	"userId":      "user_id",
	"userAgent":   "user_agent",
	"userDevice":  "user_device",
	"ip":          "ip",
	"language":    "language",
	"extra1":      "extra1",
	"extra2":      "extra2",
	"extra3":      "extra3",
}

// fieldErrors files each validation message under the form field it names
// ("currency must be a string" → currency); others stay only in the message.
func fieldErrors(msgs []string) map[string][]string {
	var out map[string][]string
	for _, m := range msgs {
		prop, _, _ := strings.Cut(strings.TrimSpace(m), " ")
		name, ok := wireFields[prop]
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string][]string)
		}
		out[name] = append(out[name], m)
	}
	return out
}

// isDuplicateReference reports whether a refusal says the merchant reference
// was already used, which proves a payout with it exists at Kibramoa.
func isDuplicateReference(env errorEnvelope) bool {
	for _, m := range env.Message {
		l := strings.ToLower(m)
		if strings.Contains(l, "duplicate order") ||
			(strings.Contains(l, "merchantreference") && (strings.Contains(l, "unique") || strings.Contains(l, "duplicate") || strings.Contains(l, "exist"))) {
			return true
		}
	}
	return false
}

// sessionResponse is the answer to POST /payout-session. The example
// carries cashierUrl; the field table describes message as "the CashierUrl
// or A message of the error", so a URL there is read too.
type sessionResponse struct {
	CashierURL string          `json:"cashierUrl"`
	Message    json.RawMessage `json:"message"`
}

// parseSessionResponse reads a 2xx answer to POST /payout-session and returns
// the cashier URL and the session id carried in its sessionId query.
func parseSessionResponse(body []byte) (cashierURL, sessionID string, err error) {
	var r sessionResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return "", "", fmt.Errorf("decode answer: %w", err)
	}
	raw := strings.TrimSpace(r.CashierURL)
	var m string
	if raw == "" && json.Unmarshal(r.Message, &m) == nil && (strings.HasPrefix(m, "https://") || strings.HasPrefix(m, "http://")) {
		raw = strings.TrimSpace(m)
	}
	if raw == "" {
		return "", "", errors.New("answer has no cashierUrl")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", errors.New("cashierUrl is not an absolute http(s) URL")
	}
	return raw, u.Query().Get("sessionId"), nil
}

// txErrors is a transaction's or notification's error detail.
type txErrors struct {
	Code flexString `json:"code"`
	Msg  flexString `json:"msg"`
}

// txErrorsField accepts errors as null, an object or a list of objects (the
// first one wins), since only the object form is documented.
type txErrorsField struct{ txErrors }

func (e *txErrorsField) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '[':
		var list []txErrors
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		if len(list) > 0 {
			e.txErrors = list[0]
		}
		return nil
	}
	return json.Unmarshal(b, &e.txErrors)
}

// transaction is the object of GET /payments/{id} and, with more fields, the
// body of a notification. Unused documented fields are ignored.
type transaction struct {
	ID                string          `json:"id"`
	InternalID        string          `json:"internalId"`
	SessionID         string          `json:"sessionId"`
	Country           string          `json:"country"`
	Currency          string          `json:"currency"`
	PaymentAmount     json.RawMessage `json:"paymentAmount"`
	Status            string          `json:"status"`
	PaymentReference  flexString      `json:"paymentReference"`
	MerchantReference flexString      `json:"merchantReference"`
	Errors            txErrorsField   `json:"errors"`
	// The option the customer picked: a notification's paymentOptionName,
	// a transaction's method. Neither is documented for payouts, so any
	// shape but a string is ignored rather than refused.
	PaymentOptionName json.RawMessage `json:"paymentOptionName"`
	Method            json.RawMessage `json:"method"`
}

// payoutOption is the option the customer picked, if either field says.
func (tx transaction) payoutOption() string {
	for _, raw := range []json.RawMessage{tx.PaymentOptionName, tx.Method} {
		var s string
		if json.Unmarshal(raw, &s) == nil && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// decodeTransaction reads a transaction or notification object.
func decodeTransaction(body []byte) (transaction, error) {
	var tx transaction
	if err := json.Unmarshal(body, &tx); err != nil {
		return transaction{}, fmt.Errorf("decode: %w", err)
	}
	if strings.TrimSpace(tx.Status) == "" {
		return transaction{}, errors.New("no status")
	}
	return tx, nil
}

// amount reads paymentAmount in the configured unit; nil when absent.
func (tx transaction) amount(f AmountFormat) (*providers.Money, error) {
	raw := bytes.TrimSpace(tx.PaymentAmount)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var text string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, fmt.Errorf("paymentAmount: %w", err)
		}
	} else {
		text = string(raw)
	}
	if tx.Currency == "" {
		return nil, errors.New("paymentAmount without currency")
	}
	parse := providers.ParseDecimal
	if f == AmountMinor {
		parse = providers.ParseMinor
	}
	m, err := parse(text, tx.Currency)
	if err != nil {
		return nil, fmt.Errorf("paymentAmount %q: %w", text, err)
	}
	return &m, nil
}

// errorWords are the transaction's error code and message, as sent.
func (tx transaction) errorWords() (code, msg string) {
	return string(tx.Errors.Code), string(tx.Errors.Msg)
}

// failure returns the error code and message to show for the transaction:
// the provider's own words, else, when it failed, a sentence for the agent.
// A completed one has none: Kibramoa's own example of a COMPLETED
// transaction carries "Business failed - duplicate order number", which on
// a paid payout would only mislead.
func (tx transaction) failure() (code, msg string) {
	if MapStatus(tx.Status) == providers.StatusPaid {
		return "", ""
	}
	code, msg = tx.errorWords()
	if msg != "" || MapStatus(tx.Status) != providers.StatusFailed {
		return code, msg
	}
	switch normalizeStatus(tx.Status) {
	case "REFUNDED":
		return code, "Kibramoa refunded the payout: the money went back to the merchant balance"
	case "ERROR":
		return code, "Kibramoa reported an error while processing; the payout will not be processed"
	}
	return code, "the payout was declined by Kibramoa's payment provider"
}
