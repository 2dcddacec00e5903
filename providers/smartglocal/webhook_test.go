package smartglocal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

const readyHook = `{"type":"ready_to_confirm","session":{"id":"ps_3230","status":"in_progress","next_action":"confirm",
"metadata":{"payoutdesk_reference":"pd-3230"},"payments":[{"id":"po_1313","status":"pending",
"payment_method":{"type":"bank_account","bank_account":{"system_type":"global","global":{"iban":"BE71096123456769"}}},
"amount_details":{"amount":10000,"currency":"usd"},"participant_details":{"recipient":{"first_name":"John","last_name":"Johnson","country_iso3":"BEL"}}}]}}`

func signedHeader(t *testing.T, body []byte) http.Header {
	t.Helper()
	_, provider, _ := testKeys(t)
	sig, err := Sign(provider, body)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"X-Partner-Sign": {sig}}
}

func webhookClient(t *testing.T) *Client {
	_, provider, _ := testKeys(t)
	return New(Config{ProviderKey: &provider.PublicKey})
}

func TestWebhook(t *testing.T) {
	body := []byte(readyHook)
	got, err := webhookClient(t).Webhook(signedHeader(t, body), body, time.Now())
	if err != nil {
		t.Fatalf("Webhook: %v", err)
	}
	sum := sha256.Sum256(body)
	want := providers.Update{
		Provider:   providers.SmartGlocal,
		EventID:    hex.EncodeToString(sum[:]),
		ProviderID: "ps_3230",
		PaymentID:  "po_1313",
		Reference:  "pd-3230",
		RawStatus:  "in_progress/pending",
		Status:     providers.StatusAwaitingConfirmation,
		NextAction: "confirm",
		Amount:     &providers.Money{Minor: 10000, Currency: "USD"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Update (-want +got):\n%s", diff)
	}
}

func TestWebhookParse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want providers.Update
	}{
		{
			name: "ready_to_confirm without next_action",
			body: `{"type":"ready_to_confirm","session":{"id":"ps_1","status":"in_progress","payments":[{"id":"po_1","status":"pending"}]}}`,
			want: providers.Update{ProviderID: "ps_1", PaymentID: "po_1", RawStatus: "in_progress/pending",
				Status: providers.StatusAwaitingConfirmation, NextAction: "confirm"},
		},
		{
			name: "payment_finished failed",
			body: `{"type":"payment_finished","session":{"id":"ps_1","status":"cancelled","payments":[{"id":"po_1","status":"failed","error":{"code":"recipient_bank_declined","description":"declined"}}]}}`,
			want: providers.Update{ProviderID: "ps_1", PaymentID: "po_1", RawStatus: "cancelled/failed",
				Status: providers.StatusFailed, ErrorCode: "recipient_bank_declined", ErrorMessage: "declined"},
		},
		{
			name: "unknown type, extra fields",
			body: `{"type":"payment_refunded","extra":{"a":1},"session":{"id":"ps_1","status":"accepted","payments":[{"id":"po_1","status":"succeeded","refunds":[]}]}}`,
			want: providers.Update{ProviderID: "ps_1", PaymentID: "po_1", RawStatus: "accepted/succeeded", Status: providers.StatusPaid},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWebhook([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			tt.want.Provider = providers.SmartGlocal
			sum := sha256.Sum256([]byte(tt.body))
			tt.want.EventID = hex.EncodeToString(sum[:])
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Update (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhookRejected(t *testing.T) {
	body := []byte(readyHook)
	_, _, other := testKeys(t)
	wrongSig, err := Sign(other, body)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(body, []byte(`"amount":10000`), []byte(`"amount":90000`), 1)
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"tampered body", signedHeader(t, body), tampered, providers.ErrSignature},
		{"wrong key", http.Header{"X-Partner-Sign": {wrongSig}}, body, providers.ErrSignature},
		{"missing signature", http.Header{}, body, providers.ErrSignature},
		{"malformed signature", http.Header{"X-Partner-Sign": {"not base64!"}}, body, providers.ErrSignature},
		{"signed but not JSON", signedHeader(t, []byte("hello")), []byte("hello"), providers.ErrPayload},
		{"signed, no session", signedHeader(t, []byte(`{"type":"ready_to_confirm"}`)), []byte(`{"type":"ready_to_confirm"}`), providers.ErrPayload},
		{"signed, session without id", signedHeader(t, []byte(`{"session":{"status":"accepted"}}`)), []byte(`{"session":{"status":"accepted"}}`), providers.ErrPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhookClient(t).Webhook(tt.header, tt.body, time.Now())
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := New(Config{}).Webhook(signedHeader(t, body), body, time.Now()); !errors.Is(err, providers.ErrSignature) {
		t.Errorf("no provider key configured: got %v, want ErrSignature", err)
	}
}
