package fedapay

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

func TestGoldenAnswers(t *testing.T) {
	tests := []struct {
		name        string
		create      cannedAnswer
		start       cannedAnswer
		wantStatus  providers.Status
		wantRaw     string
		wantErr     *providers.Error
		wantOutcome providers.Outcome
	}{
		{name: "bare create, bare start sent (docs shapes)",
			create:     cannedAnswer{201, readTestdata(t, "create_response_bare.json")},
			start:      cannedAnswer{200, readTestdata(t, "start_response_bare.json")},
			wantStatus: providers.StatusPaid, wantRaw: "sent"},
		{name: "create answers 200 (SDK mocks)",
			create:     cannedAnswer{200, readTestdata(t, "create_response.json")},
			start:      cannedAnswer{200, readTestdata(t, "start_response.json")},
			wantStatus: providers.StatusProcessing, wantRaw: "started"},
		{name: "validation error envelope",
			create: cannedAnswer{422, readTestdata(t, "error_422.json")},
			wantErr: &providers.Error{Provider: providers.FedaPay, Op: opCreate, Outcome: providers.OutcomeRejected, HTTPStatus: 422,
				Message: "The given data was invalid.",
				Fields: map[string][]string{"mode": {"The mode field is required."},
					"customer.lastname": {"The customer.lastname field is required."}}}},
		{name: "message list and field string",
			create: cannedAnswer{400, []byte(`{"message": ["Bad", "request"], "errors": {"amount": "too big"}}`)},
			wantErr: &providers.Error{Provider: providers.FedaPay, Op: opCreate, Outcome: providers.OutcomeRejected, HTTPStatus: 400,
				Message: "Bad; request", Fields: map[string][]string{"amount": {"too big"}}}},
		{name: "rate limited is retryable",
			create: cannedAnswer{429, []byte(`{"message": "Too Many Attempts."}`)},
			wantErr: &providers.Error{Provider: providers.FedaPay, Op: opCreate, Outcome: providers.OutcomeRejected, HTTPStatus: 429,
				Message: "Too Many Attempts.", Retryable: true}},
		{name: "500 without body is unknown",
			create: cannedAnswer{500, nil},
			wantErr: &providers.Error{Provider: providers.FedaPay, Op: opCreate, Outcome: providers.OutcomeUnknown, HTTPStatus: 500,
				Message: "Internal Server Error"}},
		{name: "start refused after create",
			create: cannedAnswer{201, readTestdata(t, "create_response.json")},
			start:  cannedAnswer{422, []byte(`{"message": "Insufficient balance", "errors": {}}`)},
			// The created payout stays at FedaPay, pending: not a failure.
			wantErr: &providers.Error{Provider: providers.FedaPay, Op: opStart, Outcome: providers.OutcomeUnknown, HTTPStatus: 422,
				Message: "Insufficient balance"}},
		{name: "create 2xx without id", create: cannedAnswer{201, []byte(`{"v1/payout": {"status": "pending"}}`)},
			wantOutcome: providers.OutcomeUnknown},
		{name: "create 2xx not JSON", create: cannedAnswer{201, []byte(`<html>`)}, wantOutcome: providers.OutcomeUnknown},
		{name: "create answers another amount", create: cannedAnswer{201, []byte(`{"id": 1, "status": "pending", "amount": 20000}`)},
			wantOutcome: providers.OutcomeUnknown},
		{name: "start answer without our payout",
			create: cannedAnswer{201, readTestdata(t, "create_response.json")},
			start:  cannedAnswer{200, []byte(`{"v1/payouts": [{"id": 2, "status": "started"}]}`)}, wantOutcome: providers.OutcomeUnknown},
		{name: "redirect status is unknown", create: cannedAnswer{304, nil}, wantOutcome: providers.OutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answers := map[string]cannedAnswer{"POST /v1/payouts": tt.create}
			if tt.start.status != 0 {
				answers["PUT /v1/payouts/start"] = tt.start
			}
			_, srv := startFake(t, answers)
			c := New(Config{BaseURL: srv.URL + "/v1", SecretKey: "sk_sandbox_golden"})
			res, err := c.Submit(context.Background(), examplePayout("97808080"), providers.Ref{})
			if len(res.Exchanges) == 0 {
				t.Errorf("got no exchanges, want them also on error")
			}
			switch {
			case tt.wantErr != nil:
				var pe *providers.Error
				if !errors.As(err, &pe) {
					t.Fatalf("got error %v, want *providers.Error", err)
				}
				if diff := cmp.Diff(tt.wantErr, pe); diff != "" {
					t.Errorf("error mismatch (-want +got):\n%s", diff)
				}
			case tt.wantOutcome != 0:
				if got := providers.OutcomeOf(err); err == nil || got != tt.wantOutcome {
					t.Errorf("got error %v (outcome %v), want outcome %v", err, got, tt.wantOutcome)
				}
			default:
				if err != nil {
					t.Fatalf("Submit: %v", err)
				}
				if res.Status != tt.wantStatus || res.RawStatus != tt.wantRaw {
					t.Errorf("got %q/%q, want %q/%q", res.RawStatus, res.Status, tt.wantRaw, tt.wantStatus)
				}
			}
		})
	}
}

func TestGoldenLookupFailed(t *testing.T) {
	fake, srv := startFake(t, map[string]cannedAnswer{"GET /v1/payouts/1": {200, readTestdata(t, "payout_failed.json")}})
	c := New(Config{BaseURL: srv.URL + "/v1", SecretKey: "sk_sandbox_golden"})
	res, err := c.Lookup(context.Background(), providers.Ref{ProviderID: "1"})
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if fake.got[0].Method != http.MethodGet {
		t.Errorf("method: got %s, want GET", fake.got[0].Method)
	}
	res.Exchanges = nil
	want := providers.Result{ProviderID: "1", ProviderReference: "pyt_8Xq2LmT4", RawStatus: "failed", Status: providers.StatusFailed,
		ErrorCode: "payout_declined", ErrorMessage: "The mobile money operator declined the payout."}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Lookup mismatch (-want +got):\n%s", diff)
	}
}

// A payout an earlier attempt created is never read as failed because a
// later read of it is refused: it is still at FedaPay, and may be started.
func TestGoldenResumeRefusedIsUnknown(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusUnauthorized, http.StatusUnprocessableEntity} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			fake, srv := startFake(t, map[string]cannedAnswer{"GET /v1/payouts/1": {status, []byte(`{"message": "No query results"}`)}})
			c := New(Config{BaseURL: srv.URL + "/v1", SecretKey: "sk_sandbox_golden"})
			_, err := c.Submit(context.Background(), examplePayout("97808080"), providers.Ref{ProviderID: "1", Reference: "PD-1"})
			if got := providers.OutcomeOf(err); err == nil || got != providers.OutcomeUnknown {
				t.Errorf("got error %v (outcome %v), want outcome unknown", err, got)
			}
			if len(fake.got) != 1 || fake.got[0].Method != http.MethodGet {
				t.Errorf("got %d requests, want the one read and nothing created", len(fake.got))
			}
		})
	}
}

// A payout object that names its currency is started only in the payout's
// own: FedaPay holding 2000 EUR is not 2000 XOF.
func TestGoldenResumeRefusesAnotherCurrency(t *testing.T) {
	obj := strings.Replace(string(readTestdata(t, "create_response.json")), `"currency_id":1,`, `"currency":{"iso":"EUR"},`, 1)
	fake, srv := startFake(t, map[string]cannedAnswer{
		"GET /v1/payouts/1":     {http.StatusOK, []byte(obj)},
		"PUT /v1/payouts/start": {http.StatusOK, readTestdata(t, "start_response.json")},
	})
	c := New(Config{BaseURL: srv.URL + "/v1", SecretKey: "sk_sandbox_golden"})
	_, err := c.Submit(context.Background(), examplePayout("97808080"), providers.Ref{ProviderID: "1"})
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Outcome != providers.OutcomeUnknown {
		t.Errorf("Submit of a payout FedaPay holds in EUR: got %v, want an unknown outcome", err)
	}
	for _, r := range fake.got {
		if r.Method == http.MethodPut {
			t.Errorf("the payout was started (%s %s)", r.Method, r.Path)
		}
	}
}
