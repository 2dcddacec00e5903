package kibramoa

import (
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"payoutdesk/providers"
)

func addFiles(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

var edgeCases = [][]byte{
	nil, []byte(``), []byte(`null`), []byte(`[]`), []byte(`{}`), []byte(`"x"`), []byte(`{"cashierUrl":null}`),
	[]byte(`{"cashierUrl":"https://c.example/payout/?sessionId=%zz"}`), []byte(`{"cashierUrl":"http://[::1"}`),
	[]byte(`{"statusCode":{},"message":[1,null,"x"],"error":[]}`), []byte(`{"message":[[]]}`),
	[]byte(`{"status":"INIT","internalId":"a","currency":"BRL","paymentAmount":"1e999"}`),
	[]byte(`{"status":"INIT","internalId":"a","currency":"XXX1","paymentAmount":1}`),
	[]byte(`{"status":"INIT","id":"a","errors":[null,{"code":{}}]}`),
	[]byte(`{"status":"INIT","id":"a","currency":"CLP","paymentAmount":99999999999999999999}`),
}

func FuzzParseCreateResponse(f *testing.F) {
	addFiles(f, "payout_session_response.json", "payout_session_401.json", "error_400.json")
	for _, b := range edgeCases {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		url, session, err := parseSessionResponse(body)
		if err == nil && url == "" {
			t.Errorf("got no error and no cashier URL (session %q)", session)
		}
	})
}

func FuzzParseErrorEnvelope(f *testing.F) {
	addFiles(f, "payout_session_401.json", "error_400.json", "transaction_404.json")
	for _, b := range edgeCases {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, status := range []int{400, 401, 429, 500} {
			e := New(Config{}).refusal("create payout session", providers.Response{Status: status, Body: body})
			if e.Code == "" && e.Message == "" {
				t.Errorf("status %d: got neither the provider's words nor the status text", status)
			}
			if e.HTTPStatus != status || (status >= 500 && e.Outcome != providers.OutcomeUnknown) ||
				(status < 500 && e.Outcome != providers.OutcomeRejected && e.Outcome != providers.OutcomeUnknown) {
				t.Errorf("status %d: got http %d, outcome %v", status, e.HTTPStatus, e.Outcome)
			}
			if e.Retryable != (status == 429 && e.Outcome == providers.OutcomeRejected) {
				t.Errorf("status %d, outcome %v: got retryable %v", status, e.Outcome, e.Retryable)
			}
		}
	})
}

func FuzzParseTransaction(f *testing.F) {
	addFiles(f, "transaction.json", "notification.json", "transaction_404.json")
	for _, b := range edgeCases {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tx, err := decodeTransaction(body)
		if err != nil {
			return
		}
		for _, format := range []AmountFormat{AmountDecimal, AmountMinor} {
			if m, err := tx.amount(format); err == nil && m != nil && m.Minor < 0 {
				t.Errorf("got negative amount %v", m)
			}
		}
		if _, msg := tx.failure(); MapStatus(tx.Status) == providers.StatusFailed && msg == "" {
			t.Errorf("failed transaction %q without a message for the agent", tx.Status)
		}
	})
}

func FuzzWebhook(f *testing.F) {
	addFiles(f, "notification.json", "transaction.json")
	for _, b := range edgeCases {
		f.Add(b)
	}
	c := New(Config{WebhookSecret: testSecret})
	f.Fuzz(func(t *testing.T, body []byte) {
		// A correct signature over arbitrary bytes must parse or be ErrPayload.
		h := http.Header{}
		h.Set(SignatureHeader, Sign(testSecret, body))
		if _, err := c.Webhook(h, body, time.Now()); err != nil && !errors.Is(err, providers.ErrPayload) {
			t.Errorf("signed body: got error %v, want nil or ErrPayload", err)
		}
		// The body used as its own signature header must never verify.
		h.Set(SignatureHeader, string(body))
		if _, err := c.Webhook(h, body, time.Now()); !errors.Is(err, providers.ErrSignature) {
			t.Errorf("forged signature: got error %v, want ErrSignature", err)
		}
	})
}
