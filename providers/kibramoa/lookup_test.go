package kibramoa

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

func TestGoldenLookup(t *testing.T) {
	const id = "099cdc76-45d1-49e1-8985-e1c82dcfadb3"
	tests := []struct {
		name    string
		status  int
		body    []byte
		format  AmountFormat
		want    providers.Result
		wantErr *errorView
	}{
		// The documented COMPLETED transaction carries an error ("Business
		// failed - duplicate order number"), which a paid payout does not
		// show.
		{"docs transaction", 200, readFile(t, "transaction.json"), AmountDecimal, providers.Result{
			ProviderID: id, PaymentID: "90545ca3-fe0d-457c-a9da-283ee2561d82", ProviderReference: "invoice-4726",
			RawStatus: "COMPLETED", Status: providers.StatusPaid,
			PayoutOption: "Bank Transfer", Amount: &providers.Money{Minor: 100000, Currency: "GBP"}, Beneficiary: providers.Beneficiary{Country: "GB"},
		}, nil},
		{"docs transaction read as minor units", 200, readFile(t, "transaction.json"), AmountMinor, providers.Result{
			ProviderID: id, PaymentID: "90545ca3-fe0d-457c-a9da-283ee2561d82", ProviderReference: "invoice-4726",
			RawStatus: "COMPLETED", Status: providers.StatusPaid,
			PayoutOption: "Bank Transfer", Amount: &providers.Money{Minor: 1000, Currency: "GBP"}, Beneficiary: providers.Beneficiary{Country: "GB"},
		}, nil},
		{"refunded without errors", 200, []byte(`{"id":"` + id + `","status":"REFUNDED","errors":null}`), AmountDecimal, providers.Result{
			ProviderID: id, RawStatus: "REFUNDED", Status: providers.StatusFailed,
			ErrorMessage: "Kibramoa refunded the payout: the money went back to the merchant balance",
		}, nil},
		{"method not a string is ignored", 200, []byte(`{"id":"` + id + `","status":"INIT","method":{"name":"SPEI"}}`), AmountDecimal, providers.Result{
			ProviderID: id, RawStatus: "INIT", Status: providers.StatusAwaitingCustomer,
		}, nil},
		{"undocumented status kept raw", 200, []byte(`{"id":"` + id + `","status":"ON_HOLD"}`), AmountDecimal, providers.Result{
			ProviderID: id, RawStatus: "ON_HOLD", Status: providers.StatusUnknown,
		}, nil},
		{"docs 404", 404, readFile(t, "transaction_404.json"), AmountDecimal, providers.Result{},
			&errorView{Outcome: providers.OutcomeRejected, HTTPStatus: 404, Code: "404", Message: "Transaction not found."}},
		{"another transaction", 200, []byte(`{"id":"other","status":"COMPLETED"}`), AmountDecimal, providers.Result{},
			&errorView{Outcome: providers.OutcomeUnknown, HTTPStatus: 200}},
		{"no status", 200, []byte(`{"id":"` + id + `"}`), AmountDecimal, providers.Result{},
			&errorView{Outcome: providers.OutcomeUnknown, HTTPStatus: 200}},
		// An amount that cannot be read leaves the status standing.
		{"amount too precise", 200, []byte(`{"id":"` + id + `","status":"COMPLETED","currency":"BRL","paymentAmount":1.005}`), AmountDecimal, providers.Result{
			ProviderID: id, RawStatus: "COMPLETED", Status: providers.StatusPaid,
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := serve(t, tt.status, tt.body)
			c := New(Config{BaseURL: srv.URL, APIKey: "secret-key", AmountFormat: tt.format})
			got, err := c.Lookup(context.Background(), providers.Ref{ProviderID: id, PaymentID: "session"})
			if diff := cmp.Diff(tt.wantErr, viewError(t, err)); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got, ignoreExchanges); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
			if len(*reqs) != 1 || (*reqs)[0].method != http.MethodGet || (*reqs)[0].path != "/payments/"+id {
				t.Fatalf("got requests %+v, want one GET /payments/%s", *reqs, id)
			}
			if k := (*reqs)[0].header.Get("X-API-KEY"); k != "secret-key" {
				t.Errorf("got X-API-KEY %q, want the configured key", k)
			}
			if len(got.Exchanges) != 1 {
				t.Fatalf("got %d exchanges, want 1", len(got.Exchanges))
			}
			if body := got.Exchanges[0].ResponseBody; strings.Contains(body, "+34666999666") || strings.Contains(body, "76486883X") {
				t.Errorf("exchange keeps the customer's phone or document number: %s", body)
			}
		})
	}
}
