package monime

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

const testSecret = "whsec-0123456789abcdef0123456789abcdef"

const completedDelivery = `{"apiVersion": "2024-08-01",
 "event": {"id": "evt-1", "name": "payout.completed", "timestamp": "2025-01-02T03:04:05Z"},
 "object": {"id": "pyt-1", "type": "payout"},
 "data": {"id": "pyt-1", "status": "completed", "amount": {"currency": "SLE", "value": 15000},
   "destination": {"providerCode": "m17", "accountId": "+23276123456", "transactionReference": "OM-9"},
   "metadata": {"payoutdesk_reference": "po_1"}, "somethingNew": {"a": 1}}}`

func TestWebhookRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		header string // configured header name; "" uses the default
	}{
		{"default header", ""},
		{"custom header", "X-Payoutdesk-Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{WebhookSecret: testSecret, WebhookHeader: tt.header})
			got, err := c.Webhook(WebhookHeaders(tt.header, testSecret), []byte(completedDelivery), time.Now())
			if err != nil {
				t.Fatalf("Webhook: %v", err)
			}
			want := providers.Update{
				Provider: providers.Monime, EventID: "evt-1", ProviderID: "pyt-1", Reference: "po_1",
				ProviderReference: "OM-9", RawStatus: "completed", Status: providers.StatusPaid,
				Amount: &providers.Money{Minor: 15000, Currency: "SLE"}, HintOnly: true,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("update (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhookRejected(t *testing.T) {
	good := WebhookHeaders("", testSecret)
	tests := []struct {
		name   string
		secret string // configured
		header http.Header
		want   error
	}{
		{"wrong secret", testSecret, WebhookHeaders("", testSecret+"x"), providers.ErrSignature},
		{"secret prefix", testSecret, WebhookHeaders("", testSecret[:10]), providers.ErrSignature},
		{"missing header", testSecret, http.Header{"Content-Type": {"application/json"}}, providers.ErrSignature},
		{"secret in another header", testSecret, WebhookHeaders("X-Other", testSecret), providers.ErrSignature},
		{"header repeated", testSecret, http.Header{DefaultWebhookHeader: {testSecret, "other"}}, providers.ErrSignature},
		{"nothing configured", "", good, providers.ErrSignature},
		{"empty header value", testSecret, http.Header{DefaultWebhookHeader: {""}}, providers.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{WebhookSecret: tt.secret}).Webhook(tt.header, []byte(completedDelivery), time.Now())
			if !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestWebhookTamperedBody documents the scheme's limit: the shared secret
// does not cover the body, so a changed body still verifies. That is why
// every update is HintOnly and the app re-reads the payout before acting.
func TestWebhookTamperedBody(t *testing.T) {
	c := New(Config{WebhookSecret: testSecret})
	tampered := []byte(`{"event": {"id": "evt-2"}, "object": {"id": "pyt-1", "type": "payout"}, "data": {"status": "failed"}}`)
	u, err := c.Webhook(WebhookHeaders("", testSecret), tampered, time.Now())
	if err != nil {
		t.Fatalf("Webhook: %v", err)
	}
	if !u.HintOnly {
		t.Errorf("got HintOnly false, want true: a shared-secret delivery is never trusted")
	}
}

func TestParseWebhook(t *testing.T) {
	sum := sha256.Sum256([]byte(`{"data": {"id": "pyt-2", "status": "failed", "failureDetail": {"code": "expired", "explanation": "Too late"}}}`))
	tests := []struct {
		name    string
		body    string
		want    providers.Update
		wantErr error
	}{
		{"data only, hash as event id", `{"data": {"id": "pyt-2", "status": "failed", "failureDetail": {"code": "expired", "explanation": "Too late"}}}`,
			providers.Update{EventID: hex.EncodeToString(sum[:]), ProviderID: "pyt-2", RawStatus: "failed", Status: providers.StatusFailed,
				ErrorCode: "expired", ErrorMessage: "Too late"}, nil},
		{"status from event name", `{"event": {"id": "evt-3", "name": "payout.failed"}, "object": {"id": "pyt-3"}}`,
			providers.Update{EventID: "evt-3", ProviderID: "pyt-3", RawStatus: "failed", Status: providers.StatusFailed}, nil},
		{"created event is pending", `{"event": {"id": "evt-4", "name": "payout.created"}, "object": {"id": "pyt-4"}, "data": {"amount": null}}`,
			providers.Update{EventID: "evt-4", ProviderID: "pyt-4", RawStatus: "pending", Status: providers.StatusProcessing}, nil},
		{"unknown event keeps unknown", `{"event": {"id": "evt-5", "name": "payout.updated"}, "object": {"id": "pyt-5"}}`,
			providers.Update{EventID: "evt-5", ProviderID: "pyt-5", Status: providers.StatusUnknown}, nil},
		{"delayed", `{"event": {"id": "e"}, "data": {"id": "pyt-6", "status": "delayed", "delayedReason": "network"}}`,
			providers.Update{EventID: "e", ProviderID: "pyt-6", RawStatus: "delayed: network", Status: providers.StatusProcessing}, nil},
		{"not json", `{"event":`, providers.Update{}, providers.ErrPayload},
		{"array", `[]`, providers.Update{}, providers.ErrPayload},
		{"no id", `{"event": {"id": "e", "name": "payout.completed"}, "data": {"status": "completed"}}`, providers.Update{}, providers.ErrPayload},
		{"other object", `{"object": {"id": "pay-1", "type": "payment"}, "data": {"id": "pay-1", "status": "completed"}}`, providers.Update{}, providers.ErrIgnored},
		{"other event", `{"event": {"name": "payment.completed"}, "data": {"id": "pay-1", "status": "completed"}}`, providers.Update{}, providers.ErrIgnored},
		{"ids differ", `{"object": {"id": "pyt-1"}, "data": {"id": "pyt-2", "status": "completed"}}`, providers.Update{}, providers.ErrPayload},
		{"bad amount", `{"data": {"id": "pyt-1", "status": "completed", "amount": {"currency": "SLE", "value": "1"}}}`, providers.Update{}, providers.ErrPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWebhook([]byte(tt.body))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			tt.want.Provider, tt.want.HintOnly = providers.Monime, true
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("update (-want +got):\n%s", diff)
			}
		})
	}
}
