package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FedaPay wire types as the simulator reads and writes them. They are the
// simulator's own, not the client's, so a client bug shows up as a
// validation error here.

// fpPayoutObject is FedaPay's payout object (klass "v1/payout").
type fpPayoutObject struct {
	Klass             string         `json:"klass"`
	ID                int64          `json:"id"`
	Reference         string         `json:"reference"`
	Amount            int64          `json:"amount"`
	Status            string         `json:"status"`
	CustomerID        int64          `json:"customer_id"`
	CurrencyID        int64          `json:"currency_id"`
	Mode              string         `json:"mode"`
	LastErrorCode     *string        `json:"last_error_code"`
	LastErrorMessage  *string        `json:"last_error_message"`
	Commission        int64          `json:"commission"`
	Fees              int64          `json:"fees"`
	FixedCommission   int64          `json:"fixed_commission"`
	AmountTransferred int64          `json:"amount_transferred"`
	AmountDebited     int64          `json:"amount_debited"`
	CreatedAt         string         `json:"created_at"`
	UpdatedAt         string         `json:"updated_at"`
	ScheduledAt       *string        `json:"scheduled_at"`
	StartedAt         *string        `json:"started_at"`
	SentAt            *string        `json:"sent_at"`
	FailedAt          *string        `json:"failed_at"`
	DeletedAt         *string        `json:"deleted_at"`
	Metadata          map[string]any `json:"metadata"`
	CustomMetadata    map[string]any `json:"custom_metadata"`
	PaymentMethodID   *int64         `json:"payment_method_id"`
	TransactionKey    *string        `json:"transaction_key"`
	MerchantReference *string        `json:"merchant_reference"`
	Description       *string        `json:"description"`
	AccountID         int64          `json:"account_id"`
	BalanceID         int64          `json:"balance_id"`
}

// fpEvent is a FedaPay webhook Event.
type fpEvent struct {
	ID        int64          `json:"id"`
	Klass     string         `json:"klass"`
	Name      string         `json:"name"`
	Object    string         `json:"object"`
	ObjectID  int64          `json:"object_id"`
	Entity    fpPayoutObject `json:"entity"`
	AccountID int64          `json:"account_id"`
	CreatedAt string         `json:"created_at"`
}

// fpErrorBody is FedaPay's error envelope.
type fpErrorBody struct {
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors"`
}

type fpPhone struct {
	Number  string `json:"number"`
	Country string `json:"country"`
}

// fpCreate is the body of POST /payouts.
type fpCreate struct {
	Amount   json.RawMessage `json:"amount"`
	Currency *struct {
		ISO string          `json:"iso"`
		ID  json.RawMessage `json:"id"`
	} `json:"currency"`
	Customer *struct {
		ID          json.RawMessage `json:"id"`
		Firstname   string          `json:"firstname"`
		Lastname    string          `json:"lastname"`
		Email       string          `json:"email"`
		PhoneNumber *fpPhone        `json:"phone_number"`
	} `json:"customer"`
	Mode              string         `json:"mode"`
	Description       *string        `json:"description"`
	MerchantReference *string        `json:"merchant_reference"`
	CustomMetadata    map[string]any `json:"custom_metadata"`
}

// reference is the create's merchant_reference, "" when absent.
func (c fpCreate) reference() string {
	if c.MerchantReference == nil {
		return ""
	}
	return *c.MerchantReference
}

// fpStart is the body of PUT /payouts/start.
type fpStart struct {
	Payouts []struct {
		ID          json.RawMessage `json:"id"`
		ScheduledAt *string         `json:"scheduled_at"`
		PhoneNumber *fpPhone        `json:"phone_number"`
	} `json:"payouts"`
}

// fpModes maps each documented mode to its country.
var fpModes = map[string]string{
	"mtn_open": "bj", "moov": "bj", "sbin": "bj", "moov_tg": "tg", "togocel": "tg",
	"mtn_ci": "ci", "mtn_open_gn": "gn", "airtel_ne": "ne", "free_sn": "sn",
}

const fpMaxAmount = 1_000_000

// fpXOFCurrencyID is the id of XOF in FedaPay's currency table.
const fpXOFCurrencyID = 1

func fpWriteError(w http.ResponseWriter, status int, msg string, errs map[string][]string) {
	if errs == nil {
		errs = map[string][]string{}
	}
	writeJSON(w, status, fpErrorBody{Message: msg, Errors: errs})
}

// fpDecode reads a JSON body; a wrong type is a 422 on that field, anything
// else unreadable a 400. Like the Laravel API FedaPay answers as, it reads
// no JSON from a body not sent as application/json: v is then left empty,
// so the caller's validation answers 422 with every required field missing.
func fpDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	if !jsonContent(r) {
		return true
	}
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &te) && te.Field != "":
		fpWriteError(w, http.StatusUnprocessableEntity, "The given data was invalid.",
			map[string][]string{te.Field: {fmt.Sprintf("The %s field has the wrong type.", te.Field)}})
	default:
		fpWriteError(w, http.StatusBadRequest, "Invalid request body.", nil)
	}
	return false
}

// fpPositiveInt reads a JSON integer greater than zero.
func fpPositiveInt(raw json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil && n > 0
}

// validate checks a create request as FedaPay's API would, returning
// Laravel-style field errors.
func (f *fedapaySim) validate(req fpCreate) map[string][]string {
	errs := map[string][]string{}
	add := func(field, msg string) { errs[field] = append(errs[field], msg) }
	if len(req.Amount) == 0 {
		add("amount", "The amount field is required.")
	} else if n, ok := fpPositiveInt(req.Amount); !ok {
		add("amount", "The amount must be a positive integer.")
	} else if n > fpMaxAmount {
		add("amount", fmt.Sprintf("The amount may not be greater than %d.", fpMaxAmount))
	}
	switch {
	case req.Currency == nil:
		add("currency", "The currency field is required.")
	case req.Currency.ISO == "" && len(req.Currency.ID) == 0:
		add("currency.iso", "The currency.iso field is required.")
	case req.Currency.ISO != "" && req.Currency.ISO != "XOF":
		add("currency.iso", "The selected currency.iso is invalid.")
	case req.Currency.ISO == "" && string(req.Currency.ID) != strconv.Itoa(fpXOFCurrencyID):
		add("currency.id", "The selected currency.id is invalid.")
	}
	country := ""
	if c := req.Customer; c == nil {
		add("customer", "The customer field is required.")
	} else if len(c.ID) == 0 {
		if strings.TrimSpace(c.Firstname) == "" {
			add("customer.firstname", "The customer.firstname field is required.")
		}
		if strings.TrimSpace(c.Lastname) == "" {
			add("customer.lastname", "The customer.lastname field is required.")
		}
		if c.Email != "" && !fpLooksLikeEmail(c.Email) {
			add("customer.email", "The customer.email must be a valid email address.")
		}
		if ph := c.PhoneNumber; ph != nil {
			country = ph.Country
			if !fpValidNumber(ph.Number) {
				add("customer.phone_number.number", "The customer.phone_number.number format is invalid.")
			}
			if !fpKnownCountry(ph.Country) {
				add("customer.phone_number.country", "The selected customer.phone_number.country is invalid.")
			}
		}
	}
	if req.Mode == "" {
		add("mode", "The mode field is required.")
	} else if mc, ok := fpModes[req.Mode]; !ok {
		add("mode", "The selected mode is invalid.")
	} else if country != "" && fpKnownCountry(country) && mc != country {
		add("mode", fmt.Sprintf("The mode %s is not available for the country %s.", req.Mode, country))
	}
	if req.Description != nil && utf8.RuneCountInString(*req.Description) > 255 {
		add("description", "The description may not be greater than 255 characters.")
	}
	if req.MerchantReference != nil && utf8.RuneCountInString(*req.MerchantReference) > 255 {
		add("merchant_reference", "The merchant reference may not be greater than 255 characters.")
	}
	return errs
}

func fpKnownCountry(c string) bool {
	for _, mc := range fpModes {
		if mc == c {
			return true
		}
	}
	return false
}

// fpValidNumber accepts 6 to 15 digits, optionally after a "+".
func fpValidNumber(n string) bool {
	d := strings.TrimPrefix(n, "+")
	return len(d) >= 6 && len(d) <= 15 && strings.Trim(d, "0123456789") == ""
}

func fpLooksLikeEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(s, " \t")
}

func fpPtr[T any](v T) *T { return &v }
