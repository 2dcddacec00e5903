package monime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"payoutdesk/providers"
)

// captured is one request a test server received.
type captured struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// fakeMonime answers every request with status and body and records it.
func fakeMonime(t *testing.T, status int, body []byte) (*httptest.Server, func() []captured) {
	t.Helper()
	var mu sync.Mutex
	var got []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, captured{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: b})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured {
		mu.Lock()
		defer mu.Unlock()
		return append([]captured(nil), got...)
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seedResponse is the seed's success answer with its placeholder currency
// "<string>", which the client refuses (TestGoldenCreateResponse), replaced
// by SLE.
func seedResponse(t *testing.T) []byte {
	t.Helper()
	return bytes.ReplaceAll(readTestdata(t, "seed_response.json"), []byte(`"currency": "<string>"`), []byte(`"currency": "SLE"`))
}

// decodeJSON decodes b into a generic value with exact numbers.
func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// seedHead reads the method, path and headers of the seed's curl example.
func seedHead(t *testing.T) (method, path string, header map[string]string) {
	t.Helper()
	head := string(readTestdata(t, "seed_request_head.txt"))
	method = regexp.MustCompile(`--request (\w+)`).FindStringSubmatch(head)[1]
	u, err := url.Parse(regexp.MustCompile(`--url (\S+)`).FindStringSubmatch(head)[1])
	if err != nil {
		t.Fatal(err)
	}
	header = make(map[string]string)
	for _, m := range regexp.MustCompile(`--header '([^:]+): ([^']*)'`).FindAllStringSubmatch(head, -1) {
		header[m[1]] = m[2]
	}
	return method, u.Path, header
}

// seedPayout is the payout that, with seedConfig, makes the seed's example
// request (whose values are the seed's placeholders).
func seedPayout() providers.Payout {
	return providers.Payout{
		IdempotencyKey: "<idempotency-key>",
		Amount:         providers.Money{Minor: 123, Currency: "<string>"},
		Fields: map[string]string{
			FieldProviderCode:  "m17",
			FieldAccountID:     "+23278000000",
			FieldSourceAccount: "<string>",
		},
	}
}

func seedConfig(baseURL string) Config {
	return Config{BaseURL: baseURL, Token: "<token>", SpaceID: "<monime-space-id>"}
}

func TestGoldenCreateRequest(t *testing.T) {
	wantMethod, wantPath, wantHeader := seedHead(t)
	seedBody := decodeJSON(t, readTestdata(t, "seed_request.json"))
	// The client omits empty metadata, which Monime reads as no metadata:
	// the seed's "metadata": {} is the one difference.
	if md, ok := seedBody["metadata"].(map[string]any); !ok || len(md) != 0 {
		t.Fatalf("seed metadata = %v, want {}", seedBody["metadata"])
	}
	delete(seedBody, "metadata")
	withMetadata := decodeJSON(t, readTestdata(t, "seed_request.json"))
	withMetadata["metadata"] = map[string]any{"ticket": "SUP-123", ReferenceKey: "po_7f3a"}

	tests := []struct {
		name     string
		payout   func() providers.Payout
		wantBody map[string]any
	}{
		{"seed example", seedPayout, seedBody},
		{"with metadata and reference", func() providers.Payout {
			p := seedPayout()
			p.Reference = "po_7f3a"
			p.Fields[FieldMetadata] = "ticket = SUP-123\n\n"
			return p
		}, withMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := fakeMonime(t, http.StatusOK, seedResponse(t))
			c := New(seedConfig(srv.URL))
			if _, err := c.Submit(context.Background(), tt.payout(), providers.Ref{}); err != nil {
				t.Fatalf("Submit: %v", err)
			}
			reqs := got()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			req := reqs[0]
			if req.Method != wantMethod || req.Path != wantPath {
				t.Errorf("got %s %s, want %s %s", req.Method, req.Path, wantMethod, wantPath)
			}
			for k, v := range wantHeader {
				if g := req.Header.Get(k); g != v {
					t.Errorf("header %s: got %q, want %q", k, g, v)
				}
			}
			if diff := cmp.Diff(tt.wantBody, decodeJSON(t, req.Body)); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGoldenCreateResponse(t *testing.T) {
	verbatim, _ := fakeMonime(t, http.StatusOK, readTestdata(t, "seed_response.json"))
	_, err := New(seedConfig(verbatim.URL)).Submit(context.Background(), seedPayout(), providers.Ref{})
	if !errors.Is(err, providers.ErrOutcomeUnknown) || !errors.Is(err, providers.ErrCurrency) {
		t.Errorf("seed answer with currency <string>: got %v, want an unknown outcome for the unknown currency", err)
	}
	srv, _ := fakeMonime(t, http.StatusOK, seedResponse(t))
	c := New(seedConfig(srv.URL))
	res, err := c.Submit(context.Background(), seedPayout(), providers.Ref{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	want := providers.Result{
		ProviderID:        "<string>",
		ProviderReference: "<string>",
		RawStatus:         "pending",
		Status:            providers.StatusProcessing,
		Amount:            &providers.Money{Minor: 123, Currency: "SLE"},
		Beneficiary:       providers.Beneficiary{Name: "<string>", AccountMasked: providers.MaskAccount("<string>"), Country: "SL"},
	}
	if diff := cmp.Diff(want, res, cmpopts.IgnoreFields(providers.Result{}, "Exchanges")); diff != "" {
		t.Errorf("result mismatch (-want +got):\n%s", diff)
	}
	if len(res.Exchanges) != 1 {
		t.Fatalf("got %d exchanges, want 1", len(res.Exchanges))
	}
	ex, _ := json.Marshal(res.Exchanges[0])
	if strings.Contains(string(ex), "<token>") || strings.Contains(string(ex), "+23278000000") {
		t.Errorf("exchange leaks the token or the account: %s", ex)
	}
	if got := res.Exchanges[0].RequestHeader["Authorization"]; got != "[redacted]" {
		t.Errorf("recorded Authorization = %q, want [redacted]", got)
	}
}

func TestGoldenErrorResponse(t *testing.T) {
	srv, _ := fakeMonime(t, http.StatusUnprocessableEntity, readTestdata(t, "error_response_3p.json"))
	c := New(seedConfig(srv.URL))
	res, err := c.Submit(context.Background(), seedPayout(), providers.Ref{})
	var got *providers.Error
	if !errors.As(err, &got) {
		t.Fatalf("got error %v, want *providers.Error", err)
	}
	want := &providers.Error{
		Provider: providers.Monime, Op: "create payout", Outcome: providers.OutcomeRejected, HTTPStatus: 422,
		Code: "validation_failed", Message: "The payout is not valid",
		Fields: map[string][]string{"destination.accountId": {"must be an MSISDN such as +23278000000"}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(providers.Error{}, "Err")); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
	if len(res.Exchanges) != 1 || res.Exchanges[0].Status != 422 {
		t.Errorf("got exchanges %+v, want one with status 422", res.Exchanges)
	}
}

func TestGoldenLookupAndCancelRequests(t *testing.T) {
	tests := []struct {
		name       string
		call       func(*Client) (providers.Result, error)
		status     int
		body       string
		wantMethod string
		wantStatus providers.Status
	}{
		{"lookup", func(c *Client) (providers.Result, error) {
			return c.Lookup(context.Background(), providers.Ref{ProviderID: "pyt-1/x"})
		}, 200, string(seedResponse(t)), http.MethodGet, providers.StatusProcessing},
		{"cancel", func(c *Client) (providers.Result, error) {
			return c.Cancel(context.Background(), providers.Ref{ProviderID: "pyt-1/x"})
		}, 200, `{"success": true, "messages": []}`, http.MethodDelete, providers.StatusCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := fakeMonime(t, tt.status, []byte(tt.body))
			res, err := tt.call(New(seedConfig(srv.URL)))
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if res.Status != tt.wantStatus {
				t.Errorf("got status %q, want %q", res.Status, tt.wantStatus)
			}
			req := got()[0]
			if req.Method != tt.wantMethod || req.Path != "/payouts/pyt-1%2Fx" {
				t.Errorf("got %s %s, want %s /payouts/pyt-1%%2Fx", req.Method, req.Path, tt.wantMethod)
			}
			if req.Header.Get("Authorization") != "Bearer <token>" || req.Header.Get("Monime-Space-Id") != "<monime-space-id>" {
				t.Errorf("got headers %v, want the Bearer token and space id", req.Header)
			}
			if req.Header.Get("Idempotency-Key") != "" {
				t.Errorf("got Idempotency-Key on %s, want none", req.Method)
			}
		})
	}
}

// The newer API names the destination's account phoneNumber or
// accountNumber: either is read as the account, and neither is recorded
// whole in the exchange.
func TestGoldenNewerAccountNamesMasked(t *testing.T) {
	for _, name := range []string{"phoneNumber", "accountNumber"} {
		t.Run(name, func(t *testing.T) {
			body := bytes.Replace(seedResponse(t), []byte(`"accountId": "<string>"`), []byte(`"`+name+`": "+23278123456"`), 1)
			srv, _ := fakeMonime(t, http.StatusOK, body)
			res, err := New(seedConfig(srv.URL)).Submit(context.Background(), seedPayout(), providers.Ref{})
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			if res.Beneficiary.AccountMasked != "•••• 3456" {
				t.Errorf("account read as %q, want •••• 3456", res.Beneficiary.AccountMasked)
			}
			ex, _ := json.Marshal(res.Exchanges)
			if strings.Contains(string(ex), "23278123456") || !strings.Contains(string(ex), "•••• 3456") {
				t.Errorf("exchange does not mask the %s: %s", name, ex)
			}
		})
	}
}
