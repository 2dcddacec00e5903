package kibramoa

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"payoutdesk/providers"
)

// seedRequest is the example request of the seed document.
type seedRequest struct {
	method, path string
	header       http.Header
	body         []byte
}

func readSeedRequest(t *testing.T) seedRequest {
	t.Helper()
	raw, err := os.ReadFile("testdata/payout_session_request.http")
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := strings.Cut(string(raw), "\n\n")
	if !ok {
		t.Fatal("seed request has no blank line between headers and body")
	}
	lines := strings.Split(head, "\n")
	method, rest, _ := strings.Cut(lines[0], " ")
	path, _, _ := strings.Cut(rest, " ")
	h := http.Header{}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		h.Add(k, strings.TrimSpace(v))
	}
	return seedRequest{method: method, path: path, header: h, body: []byte(body)}
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// seedPayout is the seed's example request as a Payout, the amount given in
// the test case.
func seedPayout(amount providers.Money) providers.Payout {
	return providers.Payout{
		IdempotencyKey: "idem-8108",
		Reference:      "custom8108",
		Amount:         amount,
		Fields: map[string]string{
			"country":      "BR",
			"redirect_url": "https://merchant1.io/where/to/go",
			"description":  "Additional remark for this payout.",
			"user_id":      "merchant_user123",
			"user_agent":   "Mozilla/5.0 (X11; Linux x86_64)",
			"user_device":  "DESKTOP",
			"ip":           "13.12.11.10",
			"language":     "PT",
			"extra1":       "merchant extra value 1",
			"extra2":       "merchant extra value 2",
			"extra3":       "merchant extra value 3",
		},
	}
}

// captured is a request as the test server saw it.
type captured struct {
	method, path string
	header       http.Header
	body         []byte
}

// serve starts a server that records each request and answers status/body.
func serve(t *testing.T, status int, body []byte) (*httptest.Server, *[]captured) {
	t.Helper()
	var got []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, captured{r.Method, r.URL.Path, r.Header.Clone(), b})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// numericEqual compares JSON numbers by value: the seed's 150 and the
// decimal format's 150.00 are the same amount.
var numericEqual = cmp.Comparer(func(a, b json.Number) bool {
	x, okx := new(big.Rat).SetString(a.String())
	y, oky := new(big.Rat).SetString(b.String())
	return okx && oky && x.Cmp(y) == 0
})

func TestGoldenRequest(t *testing.T) {
	seed := readSeedRequest(t)
	tests := []struct {
		name       string
		format     AmountFormat
		amount     providers.Money
		opts       []cmp.Option
		wantAmount string // exactly as written on the wire
	}{
		{"decimal major units", AmountDecimal, providers.Money{Minor: 15000, Currency: "BRL"}, []cmp.Option{numericEqual}, `"amount":150.00`},
		{"default format is decimal", "", providers.Money{Minor: 15000, Currency: "BRL"}, []cmp.Option{numericEqual}, `"amount":150.00`},
		{"legacy minor units", AmountMinor, providers.Money{Minor: 150, Currency: "BRL"}, nil, `"amount":150,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := serve(t, http.StatusCreated, readFile(t, "payout_session_response.json"))
			c := New(Config{BaseURL: srv.URL + "/", APIKey: seed.header.Get("X-API-KEY"), AmountFormat: tt.format})
			if _, err := c.Submit(context.Background(), seedPayout(tt.amount), providers.Ref{}); err != nil {
				t.Fatalf("Submit: %v", err)
			}
			if len(*got) != 1 {
				t.Fatalf("got %d requests, want 1", len(*got))
			}
			req := (*got)[0]
			if req.method != seed.method || req.path != seed.path {
				t.Errorf("got %s %s, want %s %s", req.method, req.path, seed.method, seed.path)
			}
			for _, h := range []string{"X-API-KEY", "Content-Type"} {
				if g, w := req.header.Get(h), seed.header.Get(h); g != w {
					t.Errorf("header %s: got %q, want %q", h, g, w)
				}
			}
			if diff := cmp.Diff(decodeMap(t, seed.body), decodeMap(t, req.body), tt.opts...); diff != "" {
				t.Errorf("body mismatch (-seed +sent):\n%s", diff)
			}
			if !bytes.Contains(req.body, []byte(tt.wantAmount)) {
				t.Errorf("got body %s, want it to contain %s", req.body, tt.wantAmount)
			}
		})
	}
}

func TestSubmitOmitsEmptyOptionalFields(t *testing.T) {
	srv, got := serve(t, http.StatusCreated, readFile(t, "payout_session_response.json"))
	c := New(Config{BaseURL: srv.URL, APIKey: "k", DefaultRedirectURL: "https://desk.example/back"})
	p := providers.Payout{Reference: "ref-1", Amount: providers.Money{Minor: 1000, Currency: "CLP"}, Fields: map[string]string{"country": "CL"}}
	if _, err := c.Submit(context.Background(), p, providers.Ref{}); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	want := map[string]any{
		"country": "CL", "currency": "CLP", "amount": json.Number("1000"),
		"redirectUrl": "https://desk.example/back", "merchantReference": "ref-1",
	}
	if diff := cmp.Diff(want, decodeMap(t, (*got)[0].body)); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

// errorView is the part of a *providers.Error the tests compare.
type errorView struct {
	Outcome    providers.Outcome
	HTTPStatus int
	Code       string
	Message    string
	Fields     map[string][]string
	Retryable  bool
	// NotFound stays false: a lookup's 404 is not taken to say Kibramoa
	// has no such payout (see Lookup).
	NotFound bool
}

func viewError(t *testing.T, err error) *errorView {
	t.Helper()
	if err == nil {
		return nil
	}
	pe, ok := err.(*providers.Error)
	if !ok {
		t.Fatalf("got error %T (%v), want *providers.Error", err, err)
	}
	if pe.Provider != providers.Kibramoa {
		t.Errorf("got provider %q, want kibramoa", pe.Provider)
	}
	return &errorView{pe.Outcome, pe.HTTPStatus, pe.Code, pe.Message, pe.Fields, pe.Retryable, pe.NotFound}
}

var ignoreExchanges = cmpopts.IgnoreFields(providers.Result{}, "Exchanges")

func TestGoldenCreateResponses(t *testing.T) {
	seedURL := "https://cashier.kibramoa.net/payout/?sessionId=54ed4d33-9c24-4ef0-a7f8-242920a657u5"
	okResult := providers.Result{Status: providers.StatusAwaitingCustomer, CashierURL: seedURL, PaymentID: "54ed4d33-9c24-4ef0-a7f8-242920a657u5"}
	tests := []struct {
		name    string
		status  int
		body    []byte
		want    providers.Result
		wantErr *errorView
	}{
		{"seed response as 201", 201, readFile(t, "payout_session_response.json"), okResult, nil},
		{"seed response as 200", 200, readFile(t, "payout_session_response.json"), okResult, nil},
		{"cashier URL without session id", 201, []byte(`{"cashierUrl":"https://cashier.kibramoa.net/payout/"}`),
			providers.Result{Status: providers.StatusAwaitingCustomer, CashierURL: "https://cashier.kibramoa.net/payout/"}, nil},
		{"seed 401", 401, readFile(t, "payout_session_401.json"), providers.Result{},
			&errorView{Outcome: providers.OutcomeRejected, HTTPStatus: 401, Code: "401", Message: "Unauthorized"}},
		{"docs 400 with message list", 400, readFile(t, "error_400.json"), providers.Result{},
			&errorView{Outcome: providers.OutcomeRejected, HTTPStatus: 400, Code: "400", Message: "currency must be a string",
				Fields: map[string][]string{"currency": {"currency must be a string"}}}},
		{"string status code and several messages", 400, []byte(`{"statusCode":"400","message":["redirectUrl must be a URL address","property foo should not exist"],"error":"Bad Request"}`), providers.Result{},
			&errorView{Outcome: providers.OutcomeRejected, HTTPStatus: 400, Code: "400", Message: "redirectUrl must be a URL address; property foo should not exist",
				Fields: map[string][]string{"redirect_url": {"redirectUrl must be a URL address"}}}},
		{"429 is retryable", 429, []byte(`{"statusCode":429,"message":"ThrottlerException: Too Many Requests"}`), providers.Result{},
			&errorView{Outcome: providers.OutcomeRejected, HTTPStatus: 429, Code: "429", Message: "ThrottlerException: Too Many Requests", Retryable: true}},
		{"4xx without envelope", 403, []byte(`<html>forbidden</html>`), providers.Result{},
			&errorView{Outcome: providers.OutcomeRejected, HTTPStatus: 403, Message: "Forbidden"}},
		{"duplicate reference means it exists", 400, []byte(`{"statusCode":400,"message":"merchantReference must be unique","error":"Bad Request"}`), providers.Result{},
			&errorView{Outcome: providers.OutcomeUnknown, HTTPStatus: 400, Code: "400", Message: "merchantReference must be unique"}},
		{"500 is unknown", 500, []byte(`{"statusCode":500,"message":"Internal server error"}`), providers.Result{},
			&errorView{Outcome: providers.OutcomeUnknown, HTTPStatus: 500, Code: "500", Message: "Internal server error"}},
		{"2xx without cashierUrl", 201, []byte(`{"result":"ok"}`), providers.Result{}, &errorView{Outcome: providers.OutcomeUnknown, HTTPStatus: 201}},
		{"2xx with a relative cashierUrl", 200, []byte(`{"cashierUrl":"/payout/?sessionId=x"}`), providers.Result{}, &errorView{Outcome: providers.OutcomeUnknown, HTTPStatus: 200}},
		{"2xx not JSON", 200, []byte(`{"cashierUrl": `), providers.Result{}, &errorView{Outcome: providers.OutcomeUnknown, HTTPStatus: 200}},
		{"3xx is unknown", 304, nil, providers.Result{}, &errorView{Outcome: providers.OutcomeUnknown, HTTPStatus: 304, Message: "Not Modified"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := serve(t, tt.status, tt.body)
			c := New(Config{BaseURL: srv.URL, APIKey: "secret-key"})
			got, err := c.Submit(context.Background(), seedPayout(providers.Money{Minor: 15000, Currency: "BRL"}), providers.Ref{})
			if diff := cmp.Diff(tt.wantErr, viewError(t, err)); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got, ignoreExchanges); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
			if len(got.Exchanges) != 1 {
				t.Fatalf("got %d exchanges, want 1", len(got.Exchanges))
			}
			if g := got.Exchanges[0].Status; g != tt.status {
				t.Errorf("got exchange status %d, want %d", g, tt.status)
			}
		})
	}
}
