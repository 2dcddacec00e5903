package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// Wire shapes of Monime's legacy 2024-08-01 payouts API, written apart from
// the client's so that the sandbox catches the client's mistakes.

// monimeCreateBody is POST /payouts; unknown keys are refused.
type monimeCreateBody struct {
	Amount *struct {
		Currency string          `json:"currency"`
		Value    json.RawMessage `json:"value"`
	} `json:"amount"`
	Destination *struct {
		ProviderCode string `json:"providerCode"`
		AccountID    string `json:"accountId"`
	} `json:"destination"`
	Source *struct {
		FinancialAccountID string `json:"financialAccountId"`
	} `json:"source"`
	Metadata map[string]string `json:"metadata"`
}

type monimeAmount struct {
	Currency string `json:"currency"`
	Value    int64  `json:"value"`
}

type monimePayoutJSON struct {
	ID     string       `json:"id"`
	Status string       `json:"status"`
	Amount monimeAmount `json:"amount"`
	Source struct {
		FinancialAccountID   string  `json:"financialAccountId"`
		TransactionReference *string `json:"transactionReference"`
	} `json:"source"`
	Destination struct {
		ProviderCode         string  `json:"providerCode"`
		AccountID            string  `json:"accountId"`
		TransactionReference *string `json:"transactionReference"`
	} `json:"destination"`
	Charges       []any                `json:"charges"`
	DelayedReason *string              `json:"delayedReason"`
	FailureDetail *monimeFailureDetail `json:"failureDetail"`
	CreateTime    string               `json:"createTime"`
	Metadata      map[string]string    `json:"metadata"`
}

type monimeFailureDetail struct {
	Code        string `json:"code"`
	Explanation string `json:"explanation"`
}

// monimeWebhook is a delivery envelope as community code observes it.
type monimeWebhook struct {
	APIVersion string `json:"apiVersion"`
	Event      struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Timestamp string `json:"timestamp"`
	} `json:"event"`
	Object struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"object"`
	Data monimePayoutJSON `json:"data"`
}

// monimeDetail is one entry of an error envelope's details.
type monimeDetail struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// monimeProviders are the destination codes the legacy API knows, and
// whether each is mobile money.
var monimeProviders = map[string]bool{"m17": true, "m18": true, "slb001": false, "slb004": false, "slb007": false}

var (
	monimeMSISDN    = regexp.MustCompile(`^\+232[0-9]{8}$`)
	monimeBankAcct  = regexp.MustCompile(`^[0-9A-Z]{6,34}$`)
	monimePositive  = regexp.MustCompile(`^[1-9][0-9]*$`)
	monimeCurrency  = map[string]bool{"SLE": true, "USD": true}
	monimeMaxMDKeys = 64
)

// validate checks a create body as Monime would and returns the problems,
// keyed by field path; amount is set when the amount is valid.
func (b *monimeCreateBody) validate() (amount monimeAmount, details []monimeDetail) {
	bad := func(field, msg string) { details = append(details, monimeDetail{Field: field, Message: msg}) }
	if b.Amount == nil {
		bad("amount", "is required")
	} else {
		if !monimeCurrency[b.Amount.Currency] {
			bad("amount.currency", "must be SLE or USD")
		}
		v, err := strconv.ParseInt(string(b.Amount.Value), 10, 64)
		if !monimePositive.Match(b.Amount.Value) || err != nil {
			bad("amount.value", "must be a positive integer in minor units")
		}
		amount = monimeAmount{Currency: b.Amount.Currency, Value: v}
	}
	if b.Destination == nil {
		bad("destination", "is required")
	} else {
		momo, known := monimeProviders[b.Destination.ProviderCode]
		acct := b.Destination.AccountID
		switch {
		case !known:
			bad("destination.providerCode", "must be one of m17, m18, slb001, slb004, slb007")
		case acct == "":
			bad("destination.accountId", "is required")
		case momo && !monimeMSISDN.MatchString(acct):
			bad("destination.accountId", "must be an MSISDN such as +23276123456")
		case !momo && !monimeBankAcct.MatchString(acct):
			bad("destination.accountId", "must be a bank account number of 6 to 34 letters or digits")
		}
	}
	if len(b.Metadata) > monimeMaxMDKeys {
		bad("metadata", fmt.Sprintf("must have at most %d properties", monimeMaxMDKeys))
	}
	for k, v := range b.Metadata {
		if n := utf8.RuneCountInString(k); n == 0 || n > 64 {
			bad("metadata", fmt.Sprintf("key %q must be 1 to 64 characters", k))
		}
		if utf8.RuneCountInString(v) > 100 {
			bad("metadata."+k, "must be at most 100 characters")
		}
	}
	return amount, details
}

// monimeOK writes Monime's success envelope.
func monimeOK(w http.ResponseWriter, result any) {
	body := map[string]any{"success": true, "messages": []string{}}
	if result != nil {
		body["result"] = result
	}
	writeJSON(w, http.StatusOK, body)
}

// monimeError writes the error envelope community SDKs parse.
func monimeError(w http.ResponseWriter, status int, reason, message string, details []monimeDetail) {
	if details == nil {
		details = []monimeDetail{}
	}
	writeJSON(w, status, map[string]any{
		"success":  false,
		"messages": []string{message},
		"error":    map[string]any{"code": status, "reason": reason, "message": message, "details": details},
	})
}

func monimeTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
