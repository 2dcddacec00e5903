package smartglocal

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

const (
	createdOK = `{"status":"ok","session":{"id":"ps_1","status":"created"}}`
	startedOK = `{"status":"ok","session":{"id":"ps_1","status":"in_progress","payments":[{"id":"po_1","status":"in_progress"}]}}`
	serverErr = `{"status":"error","error":{"code":"internal_error","description":"internal error"}}`
)

func TestSubmitCardRequest(t *testing.T) {
	fake := newFakeSG(t, map[string]fakeAnswer{"session/create": {200, createdOK}, "session/start/payout": {200, startedOK}})
	p := cardPayout("4111 1111 1111 1111")
	p.Reference, p.IdempotencyKey = "pd-9", "key-9"
	p.Fields["recipient_first_name"] = "stale value from the bank form"
	p.Fields["iban"] = "BE71096123456769"
	p.Fields["customer_reference"] = "user123"
	p.Fields["customer_email"] = "user@example.com"
	if _, err := fake.client(t, Config{}).Submit(context.Background(), p, providers.Ref{}); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	reqs := fake.requests()
	if len(reqs) != 2 {
		t.Fatalf("got requests %v, want create and start", fake.paths())
	}
	want := map[string]any{
		"session_id":     "ps_1",
		"payment_method": map[string]any{"type": "card", "card": map[string]any{"type": "bank_card", "bank_card": map[string]any{"number": "4111111111111111"}}},
		"amount_details": map[string]any{"amount": json.Number("15000"), "currency": "usd"},
		"participant_details": map[string]any{
			"recipient": map[string]any{"full_name": "Ann Lee", "country_iso3": "FRA"},
		},
		"customer": map[string]any{"reference": "user123", "contacts": []any{map[string]any{"email": "user@example.com"}}},
		"metadata": map[string]any{"payoutdesk_reference": "pd-9", "idempotency_key": "key-9"},
	}
	if diff := cmp.Diff(want, decodeMap(t, reqs[1].Body)); diff != "" {
		t.Errorf("start/payout body (-want +got):\n%s", diff)
	}
	wantCreate := map[string]any{
		"customer": want["customer"],
		"metadata": want["metadata"],
	}
	if diff := cmp.Diff(wantCreate, decodeMap(t, reqs[0].Body)); diff != "" {
		t.Errorf("create body (-want +got):\n%s", diff)
	}
}

func TestSubmitResume(t *testing.T) {
	tests := []struct {
		name       string
		status     fakeAnswer
		wantPaths  []string
		wantStatus providers.Status
		wantErr    error
	}{
		{name: "payment exists: no second start", status: fakeAnswer{200, startedOK},
			wantPaths: []string{"/api/v1/session/status"}, wantStatus: providers.StatusProcessing},
		{name: "session created but not started", status: fakeAnswer{200, createdOK},
			wantPaths: []string{"/api/v1/session/status", "/api/v1/session/start/payout"}, wantStatus: providers.StatusProcessing},
		{name: "session cancelled before start", status: fakeAnswer{200, `{"status":"ok","session":{"id":"ps_1","status":"cancelled"}}`},
			wantPaths: []string{"/api/v1/session/status"}, wantStatus: providers.StatusCancelled},
		{name: "status unknown", status: fakeAnswer{500, serverErr},
			wantPaths: []string{"/api/v1/session/status"}, wantErr: providers.ErrOutcomeUnknown},
		// The session exists whatever the refusal says: never failed.
		{name: "status refused", status: fakeAnswer{401, `{"status":"error","error":{"code":"invalid_signature","description":"x"}}`},
			wantPaths: []string{"/api/v1/session/status"}, wantErr: providers.ErrOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSG(t, map[string]fakeAnswer{"session/status": tt.status, "session/start/payout": {200, startedOK}})
			res, err := fake.client(t, Config{}).Submit(context.Background(), cardPayout("4111111111111111"), providers.Ref{ProviderID: "ps_1"})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			if diff := cmp.Diff(tt.wantPaths, fake.paths()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if res.ProviderID != "ps_1" || res.Status != tt.wantStatus || len(res.Exchanges) != len(tt.wantPaths) {
				t.Errorf("got id %q status %q with %d exchanges, want ps_1 %q with %d", res.ProviderID, res.Status, len(res.Exchanges), tt.wantStatus, len(tt.wantPaths))
			}
		})
	}
}

func TestSubmitFailures(t *testing.T) {
	tests := []struct {
		name          string
		answers       map[string]fakeAnswer
		payout        providers.Payout
		wantErr       error
		wantRequests  int
		wantSessionID string
	}{
		{name: "start 500 keeps the session id", answers: map[string]fakeAnswer{"session/create": {200, createdOK}, "session/start/payout": {500, serverErr}},
			payout: cardPayout("4111111111111111"), wantErr: providers.ErrOutcomeUnknown, wantRequests: 2, wantSessionID: "ps_1"},
		{name: "start answers about another session", answers: map[string]fakeAnswer{"session/create": {200, createdOK},
			"session/start/payout": {200, strings.Replace(startedOK, "ps_1", "ps_2", 1)}},
			payout: cardPayout("4111111111111111"), wantErr: providers.ErrOutcomeUnknown, wantRequests: 2, wantSessionID: "ps_1"},
		{name: "start rejected", answers: map[string]fakeAnswer{"session/create": {200, createdOK},
			"session/start/payout": {400, `{"status":"error","error":{"code":"validation_error","description":"iban"}}`}},
			payout: cardPayout("4111111111111111"), wantErr: providers.ErrRejected, wantRequests: 2, wantSessionID: "ps_1"},
		{name: "create rejected", answers: map[string]fakeAnswer{"session/create": {401, `{"status":"error","error":{"code":"invalid_signature","description":"x"}}`}},
			payout: cardPayout("4111111111111111"), wantErr: providers.ErrRejected, wantRequests: 1},
		{name: "create unreadable", answers: map[string]fakeAnswer{"session/create": {200, `{"status":"ok"`}},
			payout: cardPayout("4111111111111111"), wantErr: providers.ErrOutcomeUnknown, wantRequests: 1},
		{name: "unknown payment method is not sent", payout: func() providers.Payout {
			p := cardPayout("4111111111111111")
			p.Fields["payment_method"] = "wallet"
			return p
		}(), wantErr: providers.ErrNotSent},
		{name: "zero amount is not sent", payout: func() providers.Payout {
			p := cardPayout("4111111111111111")
			p.Amount.Minor = 0
			return p
		}(), wantErr: providers.ErrNotSent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSG(t, tt.answers)
			res, err := fake.client(t, Config{}).Submit(context.Background(), tt.payout, providers.Ref{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if got := len(fake.requests()); got != tt.wantRequests || len(res.Exchanges) != tt.wantRequests {
				t.Errorf("got %d requests and %d exchanges, want %d", got, len(res.Exchanges), tt.wantRequests)
			}
			if res.ProviderID != tt.wantSessionID {
				t.Errorf("got ProviderID %q, want %q", res.ProviderID, tt.wantSessionID)
			}
		})
	}
}

func TestIdempotencyHeaderConfig(t *testing.T) {
	tests := []struct {
		name, header, wantName string
	}{
		{"default", "", DefaultIdempotencyHeader},
		{"custom", "Idempotency-Key", "Idempotency-Key"},
		{"disabled", NoIdempotencyHeader, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSG(t, map[string]fakeAnswer{"session/create": {200, createdOK}, "session/start/payout": {200, startedOK}})
			p := cardPayout("4111111111111111")
			p.IdempotencyKey = "key-1"
			if _, err := fake.client(t, Config{IdempotencyHeader: tt.header}).Submit(context.Background(), p, providers.Ref{}); err != nil {
				t.Fatal(err)
			}
			h := fake.requests()[0].Header
			for _, name := range []string{DefaultIdempotencyHeader, "Idempotency-Key"} {
				want := ""
				if name == tt.wantName {
					want = "key-1"
				}
				if got := h.Get(name); got != want {
					t.Errorf("header %s: got %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestSessionCalls(t *testing.T) {
	fake := newFakeSG(t, map[string]fakeAnswer{"session/status": {200, startedOK}, "session/confirm": {200, startedOK}, "session/cancel": {200, startedOK}})
	c := fake.client(t, Config{})
	ref := providers.Ref{ProviderID: "ps_1", PaymentID: "po_1"}
	calls := []struct {
		name string
		fn   func(context.Context, providers.Ref) (providers.Result, error)
		path string
	}{
		{"lookup", c.Lookup, "/api/v1/session/status"},
		{"confirm", c.Confirm, "/api/v1/session/confirm"},
		{"cancel", c.Cancel, "/api/v1/session/cancel"},
	}
	for i, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.fn(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			got := fake.requests()[i]
			if got.Path != tt.path || string(got.Body) != `{"session_id":"ps_1"}` {
				t.Errorf("got %s %s, want %s {\"session_id\":\"ps_1\"}", got.Path, got.Body, tt.path)
			}
			if res.PaymentID != "po_1" || len(res.Exchanges) != 1 {
				t.Errorf("got payment %q, %d exchanges, want po_1, 1", res.PaymentID, len(res.Exchanges))
			}
			_, err = tt.fn(context.Background(), providers.Ref{})
			if !errors.Is(err, providers.ErrUnsupported) || !errors.Is(err, providers.ErrNotSent) {
				t.Errorf("no session id: got %v, want ErrUnsupported and ErrNotSent", err)
			}
		})
	}
	if got := len(fake.requests()); got != len(calls) {
		t.Errorf("got %d requests, want %d", got, len(calls))
	}
}

func TestTimeouts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		w.Write([]byte(startedOK))
	}))
	t.Cleanup(srv.Close)
	partner, _, _ := testKeys(t)
	c := New(Config{BaseURL: srv.URL, Project: "p", Key: partner, Timeout: 50 * time.Millisecond})
	_, err := c.Lookup(context.Background(), providers.Ref{ProviderID: "ps_1"})
	if !errors.Is(err, providers.ErrOutcomeUnknown) {
		t.Errorf("Config.Timeout without ctx deadline: got %v, want unknown outcome", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Lookup(ctx, providers.Ref{ProviderID: "ps_1"}); err != nil {
		t.Errorf("ctx deadline beyond the answer: got %v, want nil (Config.Timeout applies only without one)", err)
	}
}

func TestNoCredentialsInRecords(t *testing.T) {
	// An IBAN and a card number: neither may be recorded whole.
	for account, p := range map[string]providers.Payout{
		"BE71096123456769": bankPayout("BE71096123456769"),
		"4111111111111111": cardPayout("4111 1111 1111 1111"),
	} {
		fake := newFakeSG(t, map[string]fakeAnswer{"session/create": {200, createdOK}, "session/start/payout": {401, `{"status":"error","error":{"code":"invalid_signature","description":"x"}}`}})
		c := fake.client(t, Config{Project: "project-secret-42"})
		res, err := c.Submit(context.Background(), p, providers.Ref{})
		if err == nil {
			t.Fatal("got nil error, want the 401")
		}
		records, _ := json.Marshal(res.Exchanges)
		text := string(records) + err.Error()
		secrets := []string{"project-secret-42"}
		for _, r := range fake.requests() {
			secrets = append(secrets, r.Header.Get(HeaderSignature))
		}
		for _, s := range append(secrets, account) {
			if strings.Contains(text, s) {
				t.Errorf("exchanges or error contain %q", s)
			}
		}
		if !strings.Contains(text, providers.MaskAccount(account)) {
			t.Errorf("exchanges %s do not show the account masked, %s", records, providers.MaskAccount(account))
		}
	}
}
