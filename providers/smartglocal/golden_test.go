package smartglocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"payoutdesk/providers"
)

// seedRequest is the seed's curl example taken apart.
type seedRequest struct {
	Method string
	URL    *url.URL
	Header map[string]string
	Body   []byte
}

func loadSeedRequest(t *testing.T) seedRequest {
	t.Helper()
	text := string(readTestdata(t, "seed_start_payout_request.txt"))
	m := regexp.MustCompile(`curl -X (\w+) \\\n(\S+) \\`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("seed request: no curl line")
	}
	u, err := url.Parse(m[2])
	if err != nil {
		t.Fatal(err)
	}
	sr := seedRequest{Method: m[1], URL: u, Header: map[string]string{}}
	for _, h := range regexp.MustCompile(`-H '([^:]+): ([^']*)'`).FindAllStringSubmatch(text, -1) {
		sr.Header[h[1]] = h[2]
	}
	_, body, ok := strings.Cut(text, "-d '")
	if !ok {
		t.Fatal("seed request: no -d body")
	}
	sr.Body = []byte(body[:strings.LastIndex(body, "'")])
	return sr
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

// seedPayout carries the seed example's values.
func seedPayout() providers.Payout {
	return providers.Payout{
		IdempotencyKey: "idem-3230",
		Reference:      "pd-3230",
		Amount:         providers.Money{Minor: 1000, Currency: "USD"},
		Fields: map[string]string{
			"payment_method":             "bank_account",
			"iban":                       "NUMBER_VALUE",
			"remittance_description":     "purpose of remittance",
			"recipient_bank_name":        "All Banks Belgium / EUR / Payment System: SEPA",
			"recipient_currency":         "EUR",
			"recipient_country_iso3":     "BEL",
			"recipient_first_name":       "John",
			"recipient_last_name":        "Johnson",
			"sender_company_name":        "Company name",
			"sender_registration_number": "1234567890",
			"sender_country_iso3":        "USA",
			"sender_code":                "1234567890",
		},
	}
}

func seedResult() providers.Result {
	return providers.Result{
		ProviderID: "ps_3230",
		PaymentID:  "po_1313",
		RawStatus:  "in_progress/in_progress",
		Status:     providers.StatusProcessing,
		Amount:     &providers.Money{Minor: 10000, Currency: "USD"},
		Beneficiary: providers.Beneficiary{
			Name:          "John Johnson",
			AccountMasked: "•••• ALUE",
			Country:       "BEL",
		},
	}
}

func TestGoldenStartPayoutRequest(t *testing.T) {
	seed := loadSeedRequest(t)
	fake := newFakeSG(t, map[string]fakeAnswer{
		"session/create":       {200, `{"status":"ok","session":{"id":"ps_3230","status":"created"}}`},
		"session/start/payout": {200, string(readTestdata(t, "seed_response_ok_repaired.json"))},
	})
	c := fake.client(t, Config{Project: seed.Header["X-PARTNER-PROJECT"]})
	res, err := c.Submit(context.Background(), seedPayout(), providers.Ref{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}

	reqs := fake.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests (%v), want create then start", len(reqs), fake.paths())
	}
	create, start := reqs[0], reqs[1]
	if got, want := create.Path, "/api/v1/session/create"; got != want {
		t.Errorf("first request: got path %s, want %s", got, want)
	}
	if got, want := create.Header.Get(DefaultIdempotencyHeader), "idem-3230"; got != want {
		t.Errorf("create: got idempotency header %q, want %q", got, want)
	}
	wantCreate := map[string]any{"metadata": map[string]any{"payoutdesk_reference": "pd-3230", "idempotency_key": "idem-3230"}}
	if diff := cmp.Diff(wantCreate, decodeMap(t, create.Body)); diff != "" {
		t.Errorf("create body (-want +got):\n%s", diff)
	}

	if got, want := start.Method, seed.Method; got != want {
		t.Errorf("got method %s, want %s", got, want)
	}
	if got, want := start.Path, seed.URL.Path; got != want {
		t.Errorf("got path %s, want %s", got, want)
	}
	for name, want := range seed.Header {
		if name == HeaderSignature {
			continue // a placeholder in the seed; verified below
		}
		if got := start.Header.Get(name); got != want {
			t.Errorf("header %s: got %q, want %q", name, got, want)
		}
	}
	partner, _, _ := testKeys(t)
	if err := Verify(&partner.PublicKey, start.Body, start.Header.Get(HeaderSignature)); err != nil {
		t.Errorf("X-PARTNER-SIGN does not verify over the bytes sent: %v", err)
	}
	if start.Header.Get(DefaultIdempotencyHeader) != "" {
		t.Errorf("start/payout carries the idempotency header; want it on session/create only")
	}
	// The seed's example plus the metadata Payout Desk adds to find its payouts.
	want := decodeMap(t, seed.Body)
	want["metadata"] = map[string]any{"payoutdesk_reference": "pd-3230", "idempotency_key": "idem-3230"}
	if diff := cmp.Diff(want, decodeMap(t, start.Body)); diff != "" {
		t.Errorf("start/payout body (-want +got):\n%s", diff)
	}

	if diff := cmp.Diff(seedResult(), res, cmpopts.IgnoreFields(providers.Result{}, "Exchanges")); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
	if got, want := len(res.Exchanges), 2; got != want {
		t.Fatalf("got %d exchanges, want %d", got, want)
	}
	ex := res.Exchanges[1]
	if got, want := ex.RequestHeader[http.CanonicalHeaderKey(HeaderSignature)], "[redacted]"; got != want {
		t.Errorf("exchange signature header: got %q, want %q", got, want)
	}
	if got, want := ex.RequestHeader[http.CanonicalHeaderKey(HeaderProject)], "[redacted]"; got != want {
		t.Errorf("exchange project header: got %q, want %q", got, want)
	}
	if strings.Contains(ex.RequestBody, "NUMBER_VALUE") || strings.Contains(ex.ResponseBody, "NUMBER_VALUE") {
		t.Errorf("exchange holds the unmasked IBAN: %s / %s", ex.RequestBody, ex.ResponseBody)
	}
}

func TestGoldenResponses(t *testing.T) {
	verbatim := readTestdata(t, "seed_response_ok.txt")
	repaired := readTestdata(t, "seed_response_ok_repaired.json")
	// The other reading of the seed's unbalanced braces: amount and
	// participants inside payment_method, the missing brace at the end.
	nested := bytes.Replace(verbatim, []byte("\"metadata\": \"good\"\n}"), []byte("\"metadata\": \"good\"\n}\n}"), 1)
	errBody := readTestdata(t, "seed_response_error.json")
	seedErr := func(status int, o providers.Outcome) *providers.Error {
		return &providers.Error{Provider: providers.SmartGlocal, Op: "start payout", HTTPStatus: status,
			Code: "error code", Message: "error description", Outcome: o}
	}
	tests := []struct {
		name       string
		status     int
		body       []byte
		want       providers.Result
		wantErr    *providers.Error
		wantUnread bool
	}{
		{name: "success, braces repaired", status: 200, body: repaired, want: seedResult()},
		{name: "success, nested reading", status: 200, body: nested, want: seedResult()},
		{name: "success verbatim is not JSON", status: 200, body: verbatim, wantUnread: true},
		{name: "error 400", status: 400, body: errBody, wantErr: seedErr(400, providers.OutcomeRejected)},
		{name: "error 200", status: 200, body: errBody, wantErr: seedErr(200, providers.OutcomeRejected)},
		{name: "error 500", status: 500, body: errBody, wantErr: seedErr(500, providers.OutcomeUnknown)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := parseAnswer("start payout", tt.status, tt.body)
			switch {
			case tt.wantUnread:
				if !errors.Is(err, providers.ErrOutcomeUnknown) {
					t.Fatalf("got %v, want an unknown outcome", err)
				}
			case tt.wantErr != nil:
				var pe *providers.Error
				if !errors.As(err, &pe) {
					t.Fatalf("got %v, want *providers.Error", err)
				}
				if diff := cmp.Diff(tt.wantErr, pe); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
			default:
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				var got providers.Result
				snap.fill(&got)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Result (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestSeedRepairIsOneBrace(t *testing.T) {
	verbatim := readTestdata(t, "seed_response_ok.txt")
	repaired := readTestdata(t, "seed_response_ok_repaired.json")
	if json.Valid(verbatim) {
		t.Fatal("the verbatim seed response is valid JSON now; drop the repaired copy")
	}
	if got, want := len(repaired)-len(verbatim), 2; got != want {
		t.Fatalf("repaired copy differs by %d bytes, want %d (one \"}\" line)", got, want)
	}
	i := 0
	for i < len(verbatim) && verbatim[i] == repaired[i] {
		i++
	}
	if got, want := string(repaired[i:i+2]), "\n}"; got != want {
		t.Errorf("repaired copy inserts %q, want a closing brace", got)
	}
	if !bytes.Equal(verbatim[i:], repaired[i+2:]) {
		t.Error("repaired copy differs from the seed beyond the inserted brace")
	}
}
