package fedapay

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

// captured is one request the fake FedaPay received.
type captured struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// fakeAPI answers each "METHOD /path" with a canned status and body and
// records what it received.
type fakeAPI struct {
	mu      sync.Mutex
	got     []captured
	answers map[string]cannedAnswer
}

type cannedAnswer struct {
	status int
	body   []byte
}

func startFake(t *testing.T, answers map[string]cannedAnswer) (*fakeAPI, *httptest.Server) {
	t.Helper()
	f := &fakeAPI{answers: answers}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, captured{r.Method, r.URL.Path, r.Header.Clone(), body})
		f.mu.Unlock()
		a, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		w.Write(a.body)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// examplePayout is the payout of providers.md §4.3's example request.
func examplePayout(phone string) providers.Payout {
	return providers.Payout{
		IdempotencyKey: "idem-6f1c",
		Reference:      "bo-payout-6f1c...",
		Amount:         providers.Money{Minor: 2000, Currency: "XOF"},
		Fields: map[string]string{
			FieldMode: "mtn_open", FieldDescription: "support refund #123",
			FieldFirstname: "John", FieldLastname: "Doe", FieldEmail: "john@example.com",
			FieldPhone: phone, FieldPhoneCountry: "bj",
		},
	}
}

func TestGoldenSubmit(t *testing.T) {
	fake, srv := startFake(t, map[string]cannedAnswer{
		"POST /v1/payouts":      {http.StatusCreated, readTestdata(t, "create_response.json")},
		"PUT /v1/payouts/start": {http.StatusOK, readTestdata(t, "start_response.json")},
	})
	c := New(Config{BaseURL: srv.URL + "/v1/", SecretKey: "sk_sandbox_golden", PhoneFormat: PhoneInternational})

	res, err := c.Submit(context.Background(), examplePayout("97 80 80 80"), providers.Ref{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if len(fake.got) != 2 {
		t.Fatalf("got %d requests, want 2 (create, start)", len(fake.got))
	}

	create := fake.got[0]
	if create.Method != http.MethodPost || create.Path != "/v1/payouts" {
		t.Errorf("create: got %s %s, want POST /v1/payouts", create.Method, create.Path)
	}
	checkHeaders(t, create.Header)
	want := decodeMap(t, readTestdata(t, "create_request.json"))
	// The app has no custom metadata to send: the form has no such field.
	delete(want, "custom_metadata")
	if diff := cmp.Diff(want, decodeMap(t, create.Body)); diff != "" {
		t.Errorf("create body mismatch (-want +got):\n%s", diff)
	}

	start := fake.got[1]
	if start.Method != http.MethodPut || start.Path != "/v1/payouts/start" {
		t.Errorf("start: got %s %s, want PUT /v1/payouts/start", start.Method, start.Path)
	}
	checkHeaders(t, start.Header)
	if diff := cmp.Diff(decodeMap(t, readTestdata(t, "start_request.json")), decodeMap(t, start.Body)); diff != "" {
		t.Errorf("start body mismatch (-want +got):\n%s", diff)
	}

	if got, want := res.ProviderID, "1"; got != want {
		t.Errorf("ProviderID: got %q, want %q", got, want)
	}
	if got, want := res.ProviderReference, "pyt_8Xq2LmT4"; got != want {
		t.Errorf("ProviderReference: got %q, want %q", got, want)
	}
	if res.RawStatus != "started" || res.Status != providers.StatusProcessing {
		t.Errorf("status: got %q/%q, want started/processing", res.RawStatus, res.Status)
	}
	if diff := cmp.Diff(&providers.Money{Minor: 2000, Currency: "XOF"}, res.Amount); diff != "" {
		t.Errorf("Amount mismatch (-want +got):\n%s", diff)
	}
	checkExchanges(t, res.Exchanges, []string{opCreate, opStart})
}

func checkHeaders(t *testing.T, h http.Header) {
	t.Helper()
	if got, want := h.Get("Authorization"), "Bearer sk_sandbox_golden"; got != want {
		t.Errorf("Authorization: got %q, want %q", got, want)
	}
	if got, want := h.Get("Content-Type"), "application/json"; got != want {
		t.Errorf("Content-Type: got %q, want %q", got, want)
	}
	if got := h.Get("Idempotency-Key"); got != "" {
		t.Errorf("Idempotency-Key: got %q, want none by default", got)
	}
}

// checkExchanges checks the ops recorded and that neither the secret key
// nor the full phone number is in them.
func checkExchanges(t *testing.T, exs []providers.Exchange, ops []string) {
	t.Helper()
	var got []string
	for _, ex := range exs {
		got = append(got, ex.Op)
		b, _ := json.Marshal(ex)
		for _, secret := range []string{"sk_sandbox_golden", "97808080"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("exchange %q holds %q: %s", ex.Op, secret, b)
			}
		}
	}
	if diff := cmp.Diff(ops, got); diff != "" {
		t.Errorf("exchange ops mismatch (-want +got):\n%s", diff)
	}
}

func TestGoldenPhoneFormats(t *testing.T) {
	tests := []struct {
		name   string
		format PhoneFormat
		typed  string
		want   string
	}{
		{"default local strips country code", "", "+229 97 80 80 80", "97808080"},
		{"local keeps local", PhoneLocal, "97808080", "97808080"},
		{"international adds code", PhoneInternational, "97808080", "+22997808080"},
		{"as typed", PhoneAsTyped, "+229 97-80-80-80", "+22997808080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := startFake(t, map[string]cannedAnswer{
				"POST /v1/payouts":      {http.StatusCreated, readTestdata(t, "create_response.json")},
				"PUT /v1/payouts/start": {http.StatusOK, readTestdata(t, "start_response.json")},
			})
			c := New(Config{BaseURL: srv.URL + "/v1", SecretKey: "sk", PhoneFormat: tt.format})
			if _, err := c.Submit(context.Background(), examplePayout(tt.typed), providers.Ref{}); err != nil {
				t.Fatalf("Submit: %v", err)
			}
			var body createRequest
			if err := json.Unmarshal(fake.got[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			if got := body.Customer.PhoneNumber.Number; got != tt.want {
				t.Errorf("number: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGoldenIdempotencyKeyOption(t *testing.T) {
	for _, send := range []bool{false, true} {
		fake, srv := startFake(t, map[string]cannedAnswer{
			"POST /v1/payouts":      {http.StatusCreated, readTestdata(t, "create_response.json")},
			"PUT /v1/payouts/start": {http.StatusOK, readTestdata(t, "start_response.json")},
		})
		c := New(Config{BaseURL: srv.URL + "/v1", SecretKey: "sk", SendIdempotencyKey: send})
		if _, err := c.Submit(context.Background(), examplePayout("97808080"), providers.Ref{}); err != nil {
			t.Fatalf("Submit: %v", err)
		}
		want := ""
		if send {
			want = "idem-6f1c"
		}
		if got := fake.got[0].Header.Get("Idempotency-Key"); got != want {
			t.Errorf("SendIdempotencyKey %v: create header got %q, want %q", send, got, want)
		}
		if got := fake.got[1].Header.Get("Idempotency-Key"); got != "" {
			t.Errorf("SendIdempotencyKey %v: start header got %q, want none", send, got)
		}
	}
}
