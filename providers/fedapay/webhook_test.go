package fedapay

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

const testWebhookSecret = "wh_sandbox_test"

var testNow = time.Unix(1_772_446_504, 0)

func signedHeader(v string) http.Header {
	h := http.Header{}
	h.Set(SignatureHeader, v)
	return h
}

func TestWebhookRoundTrip(t *testing.T) {
	body := readTestdata(t, "webhook_payout_sent.json")
	c := New(Config{WebhookSecret: testWebhookSecret})
	got, err := c.Webhook(signedHeader(Sign(testWebhookSecret, body, testNow)), body, testNow.Add(time.Minute))
	if err != nil {
		t.Fatalf("Webhook: %v", err)
	}
	want := providers.Update{Provider: providers.FedaPay, EventID: "41", ProviderID: "1", Reference: "bo-payout-6f1c...",
		ProviderReference: "pyt_8Xq2LmT4", RawStatus: "sent", Status: providers.StatusPaid}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Update mismatch (-want +got):\n%s", diff)
	}
}

// TestSignatureVector checks Sign and Verify against a value computed
// outside Go, so that a wrong scheme shared by both cannot pass:
//
//	printf '%s' "1772446504.$body" | openssl dgst -sha256 -hmac wh_sandbox_test -hex
func TestSignatureVector(t *testing.T) {
	body := []byte(`{"id":41,"object":"payout","entity":{"id":1,"status":"sent"}}`)
	const want = "t=1772446504,s=ed1cade5638c140d12af383000bc5fa311aa43ebdb9b58d70aae815607ee9579"
	if got := Sign(testWebhookSecret, body, testNow); got != want {
		t.Errorf("Sign: got %s, want %s", got, want)
	}
	u, err := New(Config{WebhookSecret: testWebhookSecret}).Webhook(signedHeader(want), body, testNow)
	if err != nil || u.ProviderID != "1" || u.Status != providers.StatusPaid {
		t.Errorf("Webhook with the vector: got %+v, %v; want a verified, paid update", u, err)
	}
}

func TestVerifyRejects(t *testing.T) {
	body := readTestdata(t, "webhook_payout_sent.json")
	good := Sign(testWebhookSecret, body, testNow)
	sig := strings.SplitN(good, ",s=", 2)[1]
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
	}{
		{"tampered body", testWebhookSecret, good, []byte(strings.Replace(string(body), `"sent"`, `"failed"`, 1)), testNow},
		{"wrong key", "wh_other", good, body, testNow},
		{"stale", testWebhookSecret, good, body, testNow.Add(5*time.Minute + time.Second)},
		{"from the future", testWebhookSecret, good, body, testNow.Add(-5*time.Minute - time.Second)},
		{"missing header", testWebhookSecret, "", body, testNow},
		{"no timestamp", testWebhookSecret, "s=" + sig, body, testNow},
		{"no signature", testWebhookSecret, "t=1772446504", body, testNow},
		{"bad timestamp", testWebhookSecret, "t=abc,s=" + sig, body, testNow},
		{"two timestamps", testWebhookSecret, good + ",t=1772446505", body, testNow},
		{"signature not hex", testWebhookSecret, "t=1772446504,s=zz" + sig[2:], body, testNow},
		{"timestamp changed", testWebhookSecret, "t=1772446505,s=" + sig, body, testNow},
		{"no secret configured", "", good, body, testNow},
		// A forger who guesses that no secret is configured signs with the
		// empty key: the MAC then matches, so only the missing-secret guard
		// refuses it.
		{"no secret configured, signed with the empty key", "", Sign("", body, testNow), body, testNow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{WebhookSecret: tt.secret})
			_, err := c.Webhook(signedHeader(tt.header), tt.body, tt.now)
			if !errors.Is(err, providers.ErrSignature) {
				t.Errorf("got %v, want ErrSignature", err)
			}
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	body := readTestdata(t, "webhook_payout_sent.json")
	good := Sign(testWebhookSecret, body, testNow)
	ts, sig, _ := strings.Cut(good, ",")
	other := Sign("wh_rotated_out", body, testNow)
	_, otherSig, _ := strings.Cut(other, ",")
	tests := []struct {
		name   string
		header string
		now    time.Time
	}{
		{"exact", good, testNow},
		{"several s=, the second valid", ts + "," + otherSig + "," + sig, testNow},
		{"several s=, the first valid", ts + "," + sig + "," + otherSig + ",s=nothex", testNow},
		{"spaces and unknown keys", " " + ts + " , v0=abc , " + sig + " ", testNow},
		{"upper-case hex", ts + ",s=" + strings.ToUpper(strings.TrimPrefix(sig, "s=")), testNow},
		{"at the tolerance", good, testNow.Add(5 * time.Minute)},
		{"at the tolerance, early", good, testNow.Add(-5 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Verify(testWebhookSecret, tt.header, body, tt.now, DefaultTolerance); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		want       providers.Update
		wantErr    error
		wantHashID bool
	}{
		{name: "failed payout", body: `{"id": 9, "name": "payout.failed", "object": "payout", "entity": {"id": 5, "status": "failed",
			"last_error_code": "payout_declined", "last_error_message": "Declined.", "amount": 666, "currency": {"iso": "XOF"}}}`,
			want: providers.Update{Provider: providers.FedaPay, EventID: "9", ProviderID: "5", RawStatus: "failed", Status: providers.StatusFailed,
				ErrorCode: "payout_declined", ErrorMessage: "Declined.", Amount: &providers.Money{Minor: 666, Currency: "XOF"}}},
		{name: "status wins over an unknown name", body: `{"id": "ev_1", "name": "payout.whatever", "object": "payout", "entity": {"id": 5, "status": "sent"}}`,
			want: providers.Update{Provider: providers.FedaPay, EventID: "ev_1", ProviderID: "5", RawStatus: "sent", Status: providers.StatusPaid}},
		{name: "deleted payout", body: `{"id": 10, "object": "v1/payout", "entity": {"v1/payout": {"id": 5, "status": "pending", "deleted_at": "2026-03-02T10:00:00Z"}}}`,
			want: providers.Update{Provider: providers.FedaPay, EventID: "10", ProviderID: "5", RawStatus: "pending (deleted)", Status: providers.StatusCancelled}},
		{name: "no event id", body: `{"name": "payout.started", "entity": {"klass": "v1/payout", "id": 5, "status": "started"}}`,
			want:       providers.Update{Provider: providers.FedaPay, ProviderID: "5", RawStatus: "started", Status: providers.StatusProcessing},
			wantHashID: true},
		{name: "transaction event", body: `{"id": 1, "name": "transaction.approved", "object": "transaction", "entity": {"id": 5, "status": "approved"}}`,
			wantErr: ErrNotPayoutEvent},
		{name: "no entity", body: `{"id": 1, "name": "payout.sent", "object": "payout"}`, wantErr: providers.ErrPayload},
		{name: "entity without id", body: `{"id": 1, "object": "payout", "entity": {"status": "sent"}}`, wantErr: providers.ErrPayload},
		{name: "not JSON", body: `payout sent`, wantErr: providers.ErrPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEvent([]byte(tt.body))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !(errors.Is(err, providers.ErrPayload) || errors.Is(err, providers.ErrIgnored)) {
					t.Fatalf("got %v, want %v (and ErrPayload or ErrIgnored)", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseEvent: %v", err)
			}
			if tt.wantHashID {
				if len(got.EventID) != 64 {
					t.Errorf("EventID: got %q, want a SHA-256 hex digest", got.EventID)
				}
				got.EventID = ""
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Update mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
