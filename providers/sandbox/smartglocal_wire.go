package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"payoutdesk/providers"
)

// Smart Glocal wire structs as the sandbox reads them: independent of the
// client's, and decoded with unknown fields refused, so a misspelt key in
// the client shows up as an error here.

type sgSessionReq struct {
	SessionID string `json:"session_id"`
}

type sgCreateReq struct {
	PaymentMethod      *sgMethod       `json:"payment_method"`
	PaymentDetails     json.RawMessage `json:"payment_details"`
	AmountDetails      *sgAmount       `json:"amount_details"`
	ParticipantDetails *sgParticipants `json:"participant_details"`
	Customer           *sgCustomer     `json:"customer"`
	PaymentOptions     json.RawMessage `json:"payment_options"`
	Metadata           json.RawMessage `json:"metadata"`
}

type sgStartReq struct {
	SessionID          string          `json:"session_id"`
	PaymentMethod      *sgMethod       `json:"payment_method"`
	AmountDetails      *sgAmount       `json:"amount_details"`
	ParticipantDetails *sgParticipants `json:"participant_details"`
	Customer           *sgCustomer     `json:"customer"`
	Metadata           json.RawMessage `json:"metadata"`
}

type sgMethod struct {
	Type        string         `json:"type"`
	BankAccount *sgBankAccount `json:"bank_account,omitempty"`
	Card        *sgCard        `json:"card,omitempty"`
}

type sgBankAccount struct {
	SystemType string    `json:"system_type"`
	Global     *sgGlobal `json:"global,omitempty"`
}

type sgGlobal struct {
	IBAN        string `json:"iban"`
	Description string `json:"description,omitempty"`
}

type sgCard struct {
	Type     string      `json:"type"`
	BankCard *sgBankCard `json:"bank_card,omitempty"`
}

type sgBankCard struct {
	Number string `json:"number"`
}

type sgAmount struct {
	// Amount stays raw so that "1000" (a string) or 10.5 are refused.
	Amount   json.RawMessage `json:"amount"`
	Currency string          `json:"currency"`
}

type sgParticipants struct {
	Recipient *sgPerson `json:"recipient,omitempty"`
	Sender    *sgPerson `json:"sender,omitempty"`
}

type sgPerson struct {
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

type sgCustomer struct {
	Reference string `json:"reference,omitempty"`
	Contacts  []struct {
		Email string `json:"email,omitempty"`
		Phone string `json:"phone,omitempty"`
	} `json:"contacts,omitempty"`
}

// sgPayout is a start/payout request after validation.
type sgPayout struct {
	method       sgMethod
	amount       providers.Money
	account      string
	participants *sgParticipants
	customer     *sgCustomer
	metadata     json.RawMessage
}

// validateStart merges a start request with what session/create carried
// and checks it the way Smart Glocal documents the payout fields.
func validateStart(req sgStartReq, created sgCreateReq) (sgPayout, error) {
	p := sgPayout{participants: req.ParticipantDetails, customer: req.Customer, metadata: req.Metadata}
	pm, ad := req.PaymentMethod, req.AmountDetails
	if pm == nil {
		pm = created.PaymentMethod
	}
	if ad == nil {
		ad = created.AmountDetails
	}
	if p.participants == nil {
		p.participants = created.ParticipantDetails
	}
	if p.customer == nil {
		p.customer = created.Customer
	}
	if len(p.metadata) == 0 {
		p.metadata = created.Metadata
	}
	if pm == nil {
		return p, errors.New("payment_method is required")
	}
	if ad == nil {
		return p, errors.New("amount_details is required")
	}
	var recipient sgPerson
	if p.participants != nil && p.participants.Recipient != nil {
		recipient = *p.participants.Recipient
	}
	switch pm.Type {
	case "bank_account":
		ba := pm.BankAccount
		switch {
		case ba == nil:
			return p, errors.New("payment_method.bank_account is required")
		case ba.SystemType != "global":
			return p, fmt.Errorf("payment_method.bank_account.system_type %q is not supported", ba.SystemType)
		case ba.Global == nil || ba.Global.IBAN == "":
			return p, errors.New("payment_method.bank_account.global.iban is required")
		case !sgIBANShape(ba.Global.IBAN):
			return p, errors.New("payment_method.bank_account.global.iban is not a valid IBAN")
		case recipient.FirstName == "" || recipient.LastName == "":
			return p, errors.New("participant_details.recipient.first_name and last_name are required")
		}
		p.account = ba.Global.IBAN
	case "card":
		c := pm.Card
		switch {
		case c == nil:
			return p, errors.New("payment_method.card is required")
		case c.Type != "bank_card":
			return p, fmt.Errorf("payment_method.card.type %q is not supported", c.Type)
		case c.BankCard == nil || !sgDigits(c.BankCard.Number, 12, 19):
			return p, errors.New("payment_method.card.bank_card.number must be 12 to 19 digits")
		case recipient.FullName == "":
			return p, errors.New("participant_details.recipient.full_name is required for card payouts")
		}
		p.account = c.BankCard.Number
	case "":
		return p, errors.New("payment_method.type is required")
	default:
		return p, fmt.Errorf("payment_method.type %q is not supported", pm.Type)
	}
	for _, c := range []string{recipient.CountryISO3, senderCountry(p.participants)} {
		if c != "" && (len(c) != 3 || strings.ToUpper(c) != c || !sgLetters(c)) {
			return p, fmt.Errorf("country_iso3 %q must be three capital letters", c)
		}
	}
	code := strings.ToUpper(ad.Currency)
	if _, err := providers.Exponent(code); err != nil || len(ad.Currency) != 3 {
		return p, fmt.Errorf("amount_details.currency %q is not a known currency", ad.Currency)
	}
	minor, err := strconv.ParseInt(string(ad.Amount), 10, 64)
	if err != nil {
		return p, errors.New("amount_details.amount must be an integer number of minor units")
	}
	if minor <= 0 {
		return p, errors.New("amount_details.amount must be greater than zero")
	}
	p.method, p.amount = *pm, providers.Money{Minor: minor, Currency: code}
	return p, nil
}

func senderCountry(p *sgParticipants) string {
	if p == nil || p.Sender == nil {
		return ""
	}
	return p.Sender.CountryISO3
}

func sgIBANShape(s string) bool {
	if len(s) < 15 || len(s) > 34 || !sgLetters(s[:2]) || !sgDigits(s[2:4], 2, 2) {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func sgLetters(s string) bool {
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return s != ""
}

func sgDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Answers.

type sgEnvelope struct {
	Status  string       `json:"status"`
	Session *sgSessionJS `json:"session,omitempty"`
	Error   *sgErrorJS   `json:"error,omitempty"`
}

type sgErrorJS struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

type sgSessionJS struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	NextAction string          `json:"next_action,omitempty"`
	CreatedAt  string          `json:"created_at"`
	UpdatedAt  string          `json:"updated_at"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	Payments   []sgPaymentJS   `json:"payments,omitempty"`
}

type sgPaymentJS struct {
	ID                 string          `json:"id"`
	Status             string          `json:"status"`
	CreatedAt          string          `json:"created_at"`
	FinishedAt         string          `json:"finished_at,omitempty"`
	Customer           *sgCustomer     `json:"customer,omitempty"`
	PaymentMethod      sgMethod        `json:"payment_method"`
	AmountDetails      sgAmountJS      `json:"amount_details"`
	ParticipantDetails *sgParticipants `json:"participant_details,omitempty"`
	Metadata           json.RawMessage `json:"metadata,omitempty"`
	Error              *sgErrorJS      `json:"error,omitempty"`
}

type sgAmountJS struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// sgTime formats times as Smart Glocal does: 2024-05-27T02:03:00.000000Z.
func sgTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// sgMaskCard shows a card number the way card processors echo it.
func sgMaskCard(n string) string {
	if len(n) < 10 {
		return strings.Repeat("*", len(n))
	}
	return n[:6] + strings.Repeat("*", len(n)-10) + n[len(n)-4:]
}
