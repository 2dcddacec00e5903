package kibramoa

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

const testSecret = "whsec-test-kibramoa"

func signed(sig string) http.Header {
	h := http.Header{}
	if sig != "" {
		h.Set(SignatureHeader, sig)
	}
	return h
}

func compactJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWebhookSignature(t *testing.T) {
	body := readFile(t, "notification.json")
	compact := compactJSON(t, body)
	sum := sha256.Sum256(body)
	tooShort := base64.StdEncoding.EncodeToString(sum[:16])
	tampered := bytes.Replace(body, []byte(`"COMPLETED"`), []byte(`"REFUNDED"`), 1)
	tests := []struct {
		name    string
		cfg     Config
		header  http.Header
		body    []byte
		wantErr error
	}{
		{"raw body", Config{WebhookSecret: testSecret}, signed(Sign(testSecret, body)), body, nil},
		{"unpadded base64", Config{WebhookSecret: testSecret}, signed(base64.RawStdEncoding.EncodeToString(mac(testSecret, body))), body, nil},
		{"compact re-serialisation accepted by default", Config{WebhookSecret: testSecret}, signed(Sign(testSecret, compact)), body, nil},
		{"compact re-serialisation refused when raw only", Config{WebhookSecret: testSecret, WebhookRawOnly: true}, signed(Sign(testSecret, compact)), body, providers.ErrSignature},
		{"raw body when raw only", Config{WebhookSecret: testSecret, WebhookRawOnly: true}, signed(Sign(testSecret, body)), body, nil},
		{"tampered body", Config{WebhookSecret: testSecret}, signed(Sign(testSecret, body)), tampered, providers.ErrSignature},
		{"wrong key", Config{WebhookSecret: testSecret}, signed(Sign("another-secret", body)), body, providers.ErrSignature},
		{"API key is not the secret", Config{APIKey: testSecret}, signed(Sign(testSecret, body)), body, providers.ErrSignature},
		// A forger who guesses that no secret is configured signs with the
		// empty key: the MAC then matches, so only the missing-secret guard
		// refuses it.
		{"no secret configured, signed with the empty key", Config{}, signed(Sign("", body)), body, providers.ErrSignature},
		{"missing header", Config{WebhookSecret: testSecret}, signed(""), body, providers.ErrSignature},
		{"not base64", Config{WebhookSecret: testSecret}, signed("not*base64!"), body, providers.ErrSignature},
		{"hex instead of base64", Config{WebhookSecret: testSecret}, signed(hex.EncodeToString(mac(testSecret, body))), body, providers.ErrSignature},
		{"truncated MAC", Config{WebhookSecret: testSecret}, signed(tooShort), body, providers.ErrSignature},
		{"signed but not JSON", Config{WebhookSecret: testSecret}, signed(Sign(testSecret, []byte("status=COMPLETED"))), []byte("status=COMPLETED"), providers.ErrPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg).Webhook(tt.header, tt.body, time.Now())
			if tt.wantErr == nil && err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestSignatureVector checks Sign and verification against a value computed
// outside Go, so that a wrong scheme shared by both cannot pass:
//
//	printf '%s' "$body" | openssl dgst -sha256 -hmac whsec-test-kibramoa -binary | base64
func TestSignatureVector(t *testing.T) {
	body := []byte(`{"internalId":"ee40a31b","sessionId":"35eac8b8","status":"COMPLETED"}`)
	const want = "3wYeh0V5o7d3kWMpdR+mrXFzpIjag7L26ErrGzzSmQc="
	if got := Sign(testSecret, body); got != want {
		t.Errorf("Sign: got %s, want %s", got, want)
	}
	u, err := New(Config{WebhookSecret: testSecret, WebhookRawOnly: true}).Webhook(signed(want), body, time.Now())
	if err != nil || u.ProviderID != "ee40a31b" || u.Status != providers.StatusPaid {
		t.Errorf("Webhook with the vector: got %+v, %v; want a verified, paid update", u, err)
	}
}

// TestRespacedNotificationIsNoNewEvent: a captured notification re-spaced
// still verifies (its compact form is signed) and must keep its event id,
// or a replay would pass as a first delivery.
func TestRespacedNotificationIsNoNewEvent(t *testing.T) {
	body := []byte(`{"internalId":"ee40a31b","sessionId":"35eac8b8","status":"COMPLETED"}`)
	c := New(Config{WebhookSecret: testSecret})
	first, err := c.Webhook(signed(Sign(testSecret, body)), body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	respaced := []byte(`{ "internalId": "ee40a31b", "sessionId": "35eac8b8", "status": "COMPLETED" }`)
	replay, err := c.Webhook(signed(Sign(testSecret, body)), respaced, time.Now())
	if err != nil {
		t.Fatalf("the re-spaced notification does not verify (%v): the test no longer shows anything", err)
	}
	if replay.EventID != first.EventID {
		t.Errorf("the re-spaced notification has event id %s, the original %s: a replay would pass as new", replay.EventID, first.EventID)
	}
}

func TestWebhookParse(t *testing.T) {
	docs := readFile(t, "notification.json")
	// The event id covers the body compacted, as the signature may.
	hash := func(b []byte) string {
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(buf.Bytes())
		return hex.EncodeToString(s[:])
	}
	declined := []byte(`{"internalId":"t-1","sessionId":"s-1","merchantReference":"ref-1","status":"DECINED","currency":"MXN","paymentAmount":"99.50","errors":{"code":301,"msg":"Account rejected"},"paymentOptionName":null,"method":" SPEI "}`)
	errorList := []byte(`{"internalId":"t-1","status":"ERROR","errors":[{"code":"E1","msg":"PSP down"}]}`)
	bare := []byte(`{"sessionId":"s-1","status":"ERROR"}`)
	tooPrecise := []byte(`{"internalId":"t","status":"COMPLETED","currency":"BRL","paymentAmount":1.001}`)
	negative := []byte(`{"internalId":"t","status":"COMPLETED","currency":"BRL","paymentAmount":-1}`)
	noCurrency := []byte(`{"internalId":"t","status":"COMPLETED","paymentAmount":10}`)
	fraction := []byte(`{"internalId":"t","status":"COMPLETED","currency":"BRL","paymentAmount":150.50}`)
	paidWithError := []byte(`{"internalId":"t-2","status":"COMPLETED","errors":{"code":"999","msg":"Business failed - duplicate order number"}}`)
	unreadAmount := func(body []byte, why string) providers.Update {
		return providers.Update{Provider: providers.Kibramoa, EventID: hash(body), ProviderID: "t",
			RawStatus: "COMPLETED", Status: providers.StatusPaid, AmountUnread: why}
	}
	tests := []struct {
		name    string
		format  AmountFormat
		body    []byte
		want    providers.Update
		wantErr error
	}{
		{"docs example", AmountDecimal, docs, providers.Update{
			Provider: providers.Kibramoa, EventID: hash(docs), ProviderID: "ee40a31b-a14f-48e2-a272-e3fc013f4735",
			PaymentID: "35eac8b8-e40b-447e-a214-8dd1f0e23996", Reference: "orde123", ProviderReference: "Invoice ABC123",
			RawStatus: "COMPLETED", Status: providers.StatusPaid, PayoutOption: "Lottery", Amount: &providers.Money{Minor: 13000, Currency: "BRL"},
		}, nil},
		{"docs example in minor units", AmountMinor, docs, providers.Update{
			Provider: providers.Kibramoa, EventID: hash(docs), ProviderID: "ee40a31b-a14f-48e2-a272-e3fc013f4735",
			PaymentID: "35eac8b8-e40b-447e-a214-8dd1f0e23996", Reference: "orde123", ProviderReference: "Invoice ABC123",
			RawStatus: "COMPLETED", Status: providers.StatusPaid, PayoutOption: "Lottery", Amount: &providers.Money{Minor: 130, Currency: "BRL"},
		}, nil},
		{"decline with numeric code and string amount", AmountDecimal, declined, providers.Update{
			Provider: providers.Kibramoa, EventID: hash(declined), ProviderID: "t-1", PaymentID: "s-1", Reference: "ref-1",
			RawStatus: "DECINED", Status: providers.StatusFailed, ErrorCode: "301", ErrorMessage: "Account rejected",
			PayoutOption: "SPEI", Amount: &providers.Money{Minor: 9950, Currency: "MXN"},
		}, nil},
		{"errors as a list", AmountDecimal, errorList, providers.Update{
			Provider: providers.Kibramoa, EventID: hash(errorList), ProviderID: "t-1",
			RawStatus: "ERROR", Status: providers.StatusFailed, ErrorCode: "E1", ErrorMessage: "PSP down",
		}, nil},
		{"error without details", AmountDecimal, bare, providers.Update{
			Provider: providers.Kibramoa, EventID: hash(bare), PaymentID: "s-1", RawStatus: "ERROR", Status: providers.StatusFailed,
			ErrorMessage: "Kibramoa reported an error while processing; the payout will not be processed",
		}, nil},
		{"no status", AmountDecimal, []byte(`{"internalId":"t-1"}`), providers.Update{}, providers.ErrPayload},
		{"status not a string", AmountDecimal, []byte(`{"internalId":"t-1","status":3}`), providers.Update{}, providers.ErrPayload},
		{"no identifier", AmountDecimal, []byte(`{"status":"COMPLETED"}`), providers.Update{}, providers.ErrPayload},
		{"id not a string", AmountDecimal, []byte(`{"internalId":7,"status":"COMPLETED"}`), providers.Update{}, providers.ErrPayload},
		// Completed with an error, as Kibramoa's example transaction: the
		// error is recorded, not shown as the payout's.
		{"completed with an error", AmountDecimal, paidWithError, providers.Update{
			Provider: providers.Kibramoa, EventID: hash(paidWithError), ProviderID: "t-2", RawStatus: "COMPLETED",
			Status: providers.StatusPaid, PaidError: "999 Business failed - duplicate order number",
		}, nil},
		// An amount that cannot be read is put on record; the signed
		// status still counts.
		{"amount too precise", AmountDecimal, tooPrecise, unreadAmount(tooPrecise, `paymentAmount "1.001": can have at most 2 decimal places in BRL`), nil},
		{"amount negative", AmountDecimal, negative, unreadAmount(negative, `paymentAmount "-1": must be a number such as 150 or 150.25`), nil},
		{"amount without currency", AmountDecimal, noCurrency, unreadAmount(noCurrency, "paymentAmount without currency"), nil},
		{"minor units with a fraction", AmountMinor, fraction, unreadAmount(fraction, `paymentAmount "150.50": "150.50" is not a whole number of minor units`), nil},
		{"array body", AmountDecimal, []byte(`[]`), providers.Update{}, providers.ErrPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{WebhookSecret: testSecret, AmountFormat: tt.format})
			got, err := c.Webhook(signed(Sign(testSecret, tt.body)), tt.body, time.Now())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want %v", err, tt.wantErr)
				}
				if errors.Is(err, providers.ErrSignature) {
					t.Errorf("got a signature error %v for a correctly signed body", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("update mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
