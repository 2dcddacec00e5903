package smartglocal

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Requests, as the seed (session/start/payout) and providers.md §2.4 show them.

type sessionRequest struct {
	SessionID string `json:"session_id"`
}

type createRequest struct {
	Customer *customer `json:"customer,omitempty"`
	Metadata *metadata `json:"metadata,omitempty"`
}

type startPayoutRequest struct {
	SessionID          string              `json:"session_id"`
	PaymentMethod      *paymentMethod      `json:"payment_method,omitempty"`
	AmountDetails      *amountDetails      `json:"amount_details,omitempty"`
	ParticipantDetails *participantDetails `json:"participant_details,omitempty"`
	Customer           *customer           `json:"customer,omitempty"`
	Metadata           *metadata           `json:"metadata,omitempty"`
}

type paymentMethod struct {
	Type        string       `json:"type"`
	BankAccount *bankAccount `json:"bank_account,omitempty"`
	Card        *card        `json:"card,omitempty"`
}

type bankAccount struct {
	SystemType string         `json:"system_type"`
	Global     *globalAccount `json:"global,omitempty"`
}

type globalAccount struct {
	IBAN        string `json:"iban"`
	Description string `json:"description,omitempty"`
}

type card struct {
	Type     string    `json:"type"`
	BankCard *bankCard `json:"bank_card,omitempty"`
}

type bankCard struct {
	Number string `json:"number"`
}

// amountDetails is integer minor units and a lowercase ISO 4217 code on the
// way out; on the way in the amount is kept as its JSON text and checked.
type amountDetails struct {
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
}

type participantDetails struct {
	Recipient *participant `json:"recipient,omitempty"`
	Sender    *participant `json:"sender,omitempty"`
}

// participant holds both the recipient's and the sender's fields; unset ones
// are omitted.
type participant struct {
	FirstName          string `json:"first_name,omitempty"`
	LastName           string `json:"last_name,omitempty"`
	FullName           string `json:"full_name,omitempty"`
	BankName           string `json:"bank_name,omitempty"`
	Currency           string `json:"currency,omitempty"`
	CountryISO3        string `json:"country_iso3,omitempty"`
	CompanyName        string `json:"company_name,omitempty"`
	RegistrationNumber string `json:"registration_number,omitempty"`
	Code               string `json:"code,omitempty"`
}

type customer struct {
	Reference string    `json:"reference,omitempty"`
	Contacts  []contact `json:"contacts,omitempty"`
}

type contact struct {
	Email string `json:"email,omitempty"`
}

// metadata is what Payout Desk puts in the session's free-form metadata to
// recognise its payouts in answers and webhooks.
type metadata struct {
	Reference      string `json:"payoutdesk_reference,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Answers: every method replies {"status","session","error"}.

type envelope struct {
	Status  string          `json:"status"`
	Session json.RawMessage `json:"session"`
	Error   *wireError      `json:"error"`
}

type wireError struct {
	Code        flexString `json:"code"`
	Description flexString `json:"description"`
	// Message is read in case an error carries it instead of description.
	Message flexString `json:"message"`
	// RejectReasons appear in the Bank 131 SDK's Error object.
	RejectReasons flexString `json:"reject_reasons"`
}

// text is the error's human wording, reject reasons appended.
func (e *wireError) text() string {
	msg := string(e.Description)
	if msg == "" {
		msg = string(e.Message)
	}
	if e.RejectReasons != "" {
		if msg != "" {
			msg += ": "
		}
		msg += string(e.RejectReasons)
	}
	return msg
}

type session struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	NextAction string          `json:"next_action"`
	Metadata   json.RawMessage `json:"metadata"`
	Payments   []payment       `json:"payments"`
}

type payment struct {
	ID                 string              `json:"id"`
	Status             string              `json:"status"`
	PaymentMethod      *paymentMethodIn    `json:"payment_method"`
	AmountDetails      *amountDetails      `json:"amount_details"`
	ParticipantDetails *participantDetails `json:"participant_details"`
	Metadata           json.RawMessage     `json:"metadata"`
	Error              *wireError          `json:"error"`
}

// paymentMethodIn is a payment method in an answer. The seed's success
// example nests amount_details and participant_details inside it (its braces
// do not balance); both places are read.
type paymentMethodIn struct {
	paymentMethod
	AmountDetails      *amountDetails      `json:"amount_details"`
	ParticipantDetails *participantDetails `json:"participant_details"`
}

// flexString reads a JSON string, number, boolean, list of those or of
// objects with a code/description, or null, as one line of text.
type flexString string

// UnmarshalJSON accepts any JSON value and keeps its text.
func (f *flexString) UnmarshalJSON(b []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*f = flexString(flatten(v))
	return nil
}

func flatten(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, 0, len(t))
		for _, x := range t {
			if s := flatten(x); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "; ")
	case map[string]any:
		var parts []string
		for _, k := range []string{"code", "description", "message", "field"} {
			if s := flatten(t[k]); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ": ")
	}
	return ""
}
