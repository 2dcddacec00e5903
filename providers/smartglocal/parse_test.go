package smartglocal

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

func TestParseAnswerErrors(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		wantOutcome providers.Outcome
		wantCode    string
		wantMessage string
		wantRetry   bool
	}{
		{name: "401 envelope", status: 401, body: `{"status":"error","error":{"code":"invalid_signature","description":"bad sign"}}`,
			wantOutcome: providers.OutcomeRejected, wantCode: "invalid_signature", wantMessage: "bad sign"},
		{name: "429 is retryable", status: 429, body: `{"status":"error","error":{"code":"too_many_requests","description":"slow down"}}`,
			wantOutcome: providers.OutcomeRejected, wantCode: "too_many_requests", wantMessage: "slow down", wantRetry: true},
		{name: "description as a list", status: 400, body: `{"status":"error","error":{"code":"validation_error","description":["iban is required","amount is required"]}}`,
			wantOutcome: providers.OutcomeRejected, wantCode: "validation_error", wantMessage: "iban is required; amount is required"},
		{name: "message instead of description, numeric code", status: 400, body: `{"status":"error","error":{"code":1002,"message":"bad"}}`,
			wantOutcome: providers.OutcomeRejected, wantCode: "1002", wantMessage: "bad"},
		{name: "reject reasons appended", status: 400, body: `{"status":"error","error":{"code":"rejected","description":"refused","reject_reasons":[{"code":"limit","description":"over limit"}]}}`,
			wantOutcome: providers.OutcomeRejected, wantCode: "rejected", wantMessage: "refused: limit: over limit"},
		{name: "error without object", status: 200, body: `{"status":"error"}`,
			wantOutcome: providers.OutcomeRejected, wantMessage: "error answer without an error object"},
		{name: "4xx without envelope", status: 404, body: `<html>not found</html>`,
			wantOutcome: providers.OutcomeRejected, wantMessage: "answer without an error envelope: Not Found"},
		{name: "408 without envelope", status: 408, body: ``,
			wantOutcome: providers.OutcomeUnknown, wantMessage: "answer without an error envelope: Request Timeout"},
		{name: "502 html", status: 502, body: `<html>bad gateway</html>`,
			wantOutcome: providers.OutcomeUnknown, wantMessage: "answer without an error envelope: Bad Gateway"},
		{name: "503 envelope", status: 503, body: `{"status":"error","error":{"code":"unavailable","description":"later"}}`,
			wantOutcome: providers.OutcomeUnknown, wantCode: "unavailable", wantMessage: "later"},
		{name: "ok at 4xx", status: 400, body: `{"status":"ok","session":{"id":"ps_1","status":"created"}}`,
			wantOutcome: providers.OutcomeRejected, wantMessage: "error answer without an error object"},
		{name: "redirect", status: 302, body: ``, wantOutcome: providers.OutcomeUnknown},
		{name: "2xx not JSON", status: 200, body: `{"status": "ok", "session": {"id": `, wantOutcome: providers.OutcomeUnknown},
		{name: "2xx no session", status: 200, body: `{"status":"ok"}`, wantOutcome: providers.OutcomeUnknown},
		{name: "2xx odd status", status: 200, body: `{"status":"queued","session":{"id":"ps_1","status":"created"}}`, wantOutcome: providers.OutcomeUnknown},
		{name: "session without id", status: 200, body: `{"status":"ok","session":{"status":"created"}}`, wantOutcome: providers.OutcomeUnknown},
		{name: "session id not a string", status: 200, body: `{"status":"ok","session":{"id":12,"status":"created"}}`, wantOutcome: providers.OutcomeUnknown},
		{name: "payment without id", status: 200, body: `{"status":"ok","session":{"id":"ps_1","status":"in_progress","payments":[{"status":"pending"}]}}`, wantOutcome: providers.OutcomeUnknown},
		{name: "fractional amount", status: 200, body: `{"status":"ok","session":{"id":"ps_1","status":"in_progress","payments":[{"id":"po_1","status":"pending","amount_details":{"amount":10.5,"currency":"usd"}}]}}`, wantOutcome: providers.OutcomeUnknown},
		{name: "negative amount", status: 200, body: `{"status":"ok","session":{"id":"ps_1","status":"in_progress","payments":[{"id":"po_1","status":"pending","amount_details":{"amount":-1,"currency":"usd"}}]}}`, wantOutcome: providers.OutcomeUnknown},
		{name: "unknown currency", status: 200, body: `{"status":"ok","session":{"id":"ps_1","status":"in_progress","payments":[{"id":"po_1","status":"pending","amount_details":{"amount":100,"currency":"xyz"}}]}}`, wantOutcome: providers.OutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAnswer("start payout", tt.status, []byte(tt.body))
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want *providers.Error", err)
			}
			if pe.Outcome != tt.wantOutcome {
				t.Errorf("got outcome %s, want %s (%v)", pe.Outcome, tt.wantOutcome, err)
			}
			if pe.Code != tt.wantCode {
				t.Errorf("got code %q, want %q", pe.Code, tt.wantCode)
			}
			if tt.wantMessage != "" && pe.Message != tt.wantMessage {
				t.Errorf("got message %q, want %q", pe.Message, tt.wantMessage)
			}
			if pe.Retryable != tt.wantRetry {
				t.Errorf("got retryable %v, want %v", pe.Retryable, tt.wantRetry)
			}
			if pe.HTTPStatus != tt.status {
				t.Errorf("got http status %d, want %d", pe.HTTPStatus, tt.status)
			}
		})
	}
}

func TestParseAnswerSessions(t *testing.T) {
	tests := []struct {
		name string
		body string
		want snapshot
	}{
		{
			name: "created session",
			body: `{"status":"ok","session":{"id":"ps_1","status":"created","metadata":{"payoutdesk_reference":"pd-1"}}}`,
			want: snapshot{SessionID: "ps_1", SessionStatus: "created", Reference: "pd-1"},
		},
		{
			name: "ready to confirm, card, amount at payment level, extra fields",
			body: `{"status":"ok","extra":1,"session":{"id":"ps_2","status":"in_progress","next_action":"confirm","acquiring_payments":[],
				"payments":[{"id":"po_2","status":"pending","payment_method":{"type":"card","card":{"type":"bank_card","bank_card":{"number":"411111******1111"}}},
				"amount_details":{"amount":"2500","currency":"EUR"},"participant_details":{"recipient":{"full_name":"Ann Lee","country_iso3":"FRA"}},
				"metadata":{"payoutdesk_reference":"pd-2"}}]}}`,
			want: snapshot{SessionID: "ps_2", SessionStatus: "in_progress", NextAction: "confirm", PaymentID: "po_2", PaymentStatus: "pending",
				Reference: "pd-2", Amount: &providers.Money{Minor: 2500, Currency: "EUR"},
				Beneficiary: providers.Beneficiary{Name: "Ann Lee", AccountMasked: "•••• 1111", Country: "FRA"}},
		},
		{
			name: "waiting for confirm, next_action left out",
			body: `{"status":"ok","session":{"id":"ps_5","status":"in_progress","payments":[{"id":"po_5","status":"pending"}]}}`,
			want: snapshot{SessionID: "ps_5", SessionStatus: "in_progress", NextAction: "confirm", PaymentID: "po_5", PaymentStatus: "pending"},
		},
		{
			name: "confirmed, in progress",
			body: `{"status":"ok","session":{"id":"ps_6","status":"in_progress","payments":[{"id":"po_6","status":"in_progress"}]}}`,
			want: snapshot{SessionID: "ps_6", SessionStatus: "in_progress", PaymentID: "po_6", PaymentStatus: "in_progress"},
		},
		{
			name: "failed payout with error",
			body: `{"status":"ok","session":{"id":"ps_3","status":"cancelled","payments":[{"id":"po_3","status":"failed","error":{"code":"recipient_bank_declined","description":"declined"}}]}}`,
			want: snapshot{SessionID: "ps_3", SessionStatus: "cancelled", PaymentID: "po_3", PaymentStatus: "failed",
				ErrorCode: "recipient_bank_declined", ErrorMessage: "declined"},
		},
		{
			name: "metadata of another shape",
			body: `{"session":{"id":"ps_4","status":"accepted","metadata":"good","payments":[{"id":"po_4","status":"succeeded","metadata":["x"]}]}}`,
			want: snapshot{SessionID: "ps_4", SessionStatus: "accepted", PaymentID: "po_4", PaymentStatus: "succeeded"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAnswer("lookup payout", 200, []byte(tt.body))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("snapshot (-want +got):\n%s", diff)
			}
		})
	}
}
