package monime

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

func TestCapabilities(t *testing.T) {
	c := New(Config{})
	want := providers.Capabilities{IdempotencyHeader: true, StatusLookup: true, Cancel: true, Resumable: true, Signature: providers.SignatureSharedKey}
	if diff := cmp.Diff(want, c.Capabilities()); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}
	if c.Name() != providers.Monime {
		t.Errorf("got name %q, want monime", c.Name())
	}
}

func TestRefusedBeforeSending(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(*Config)
		payout func(*providers.Payout)
	}{
		{"idempotency key too long", nil, func(p *providers.Payout) { p.IdempotencyKey = strings.Repeat("k", 65) }},
		{"no idempotency key", nil, func(p *providers.Payout) { p.IdempotencyKey = "" }},
		{"bad metadata", nil, func(p *providers.Payout) { p.Fields[FieldMetadata] = "no equals sign" }},
		{"no token", func(c *Config) { c.Token = "" }, nil},
		{"no space", func(c *Config) { c.SpaceID = "" }, nil},
		{"space too long", func(c *Config) { c.SpaceID = strings.Repeat("s", 101) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := fakeMonime(t, http.StatusOK, readTestdata(t, "seed_response.json"))
			cfg := seedConfig(srv.URL)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			p := seedPayout()
			if tt.payout != nil {
				tt.payout(&p)
			}
			_, err := New(cfg).Submit(context.Background(), p, providers.Ref{})
			if !errors.Is(err, providers.ErrNotSent) {
				t.Errorf("got error %v, want not sent", err)
			}
			if n := len(got()); n != 0 {
				t.Errorf("got %d requests, want 0", n)
			}
		})
	}
	c := New(seedConfig("http://127.0.0.1:1"))
	for name, call := range map[string]func() (providers.Result, error){
		"lookup without id": func() (providers.Result, error) { return c.Lookup(context.Background(), providers.Ref{}) },
		"cancel without id": func() (providers.Result, error) { return c.Cancel(context.Background(), providers.Ref{}) },
		"confirm not in API": func() (providers.Result, error) {
			return c.Confirm(context.Background(), providers.Ref{ProviderID: "pyt-1"})
		},
	} {
		if _, err := call(); !errors.Is(err, providers.ErrUnsupported) || !errors.Is(err, providers.ErrNotSent) {
			t.Errorf("%s: got error %v, want unsupported and not sent", name, err)
		}
	}
}

func TestSubmitAnswers(t *testing.T) {
	payout := func(fields string) string {
		return `{"success": true, "messages": [], "result": {"id": "pyt-1", "amount": {"currency": "SLE", "value": 15000}` + fields + `}}`
	}
	tests := []struct {
		name   string
		status int
		body   string
		// want is the result on success; wantErr the error otherwise.
		want    providers.Result
		wantErr *providers.Error
	}{
		{"pending", 200, payout(`, "status": "pending", "destination": {"providerCode": "m17", "accountId": "+23276123456", "transactionReference": null}, "failureDetail": null`),
			providers.Result{ProviderID: "pyt-1", RawStatus: "pending", Status: providers.StatusProcessing,
				Beneficiary: providers.Beneficiary{Name: "Orange Money (m17)", AccountMasked: "•••• 3456", Country: "SL"}}, nil},
		{"created answers 201", 201, payout(`, "status": "pending"`),
			providers.Result{ProviderID: "pyt-1", RawStatus: "pending", Status: providers.StatusProcessing}, nil},
		{"delayed", 200, payout(`, "status": "delayed", "delayedReason": "operator maintenance"`),
			providers.Result{ProviderID: "pyt-1", RawStatus: "delayed: operator maintenance", Status: providers.StatusProcessing}, nil},
		{"completed", 200, payout(`, "status": "completed", "destination": {"transactionReference": "OM123"}, "extra": [1, 2]`),
			providers.Result{ProviderID: "pyt-1", ProviderReference: "OM123", RawStatus: "completed", Status: providers.StatusPaid,
				Beneficiary: providers.Beneficiary{AccountMasked: "", Country: ""}}, nil},
		{"failed camelCase", 200, payout(`, "status": "failed", "failureDetail": {"code": "fundInsufficient", "explanation": "Not enough funds"}`),
			providers.Result{ProviderID: "pyt-1", RawStatus: "failed", Status: providers.StatusFailed, ErrorCode: "fundInsufficient", ErrorMessage: "Not enough funds"}, nil},
		{"failed snake_case", 200, payout(`, "status": "failed", "failureDetail": {"code": "provider_account_blocked", "message": "Blocked"}`),
			providers.Result{ProviderID: "pyt-1", RawStatus: "failed", Status: providers.StatusFailed, ErrorCode: "provider_account_blocked", ErrorMessage: "Blocked"}, nil},
		{"new status", 200, payout(`, "status": "on_hold"`),
			providers.Result{ProviderID: "pyt-1", RawStatus: "on_hold", Status: providers.StatusUnknown}, nil},
		{"bare payout", 200, `{"id": "pyt-2", "status": "processing"}`,
			providers.Result{ProviderID: "pyt-2", RawStatus: "processing", Status: providers.StatusProcessing}, nil},
		{"not json", 200, `{"success": true, "result": {"id": `, providers.Result{}, unknownErr(200)},
		{"no id", 200, `{"success": true, "result": {"status": "pending"}}`, providers.Result{}, unknownErr(200)},
		{"no status", 200, `{"success": true, "result": {"id": "pyt-1"}}`, providers.Result{}, unknownErr(200)},
		{"fractional amount", 200, `{"result": {"id": "pyt-1", "status": "pending", "amount": {"currency": "SLE", "value": 1.5}}}`, providers.Result{}, unknownErr(200)},
		{"amount as string", 200, `{"result": {"id": "pyt-1", "status": "pending", "amount": {"currency": "SLE", "value": "150"}}}`, providers.Result{}, unknownErr(200)},
		{"success false", 200, `{"success": false, "messages": ["?"]}`, providers.Result{}, unknownErr(200)},
		{"redirect", 302, ``, providers.Result{},
			&providers.Error{Provider: providers.Monime, Op: "create payout", Outcome: providers.OutcomeUnknown, HTTPStatus: 302, Message: "Found"}},
		{"timeout from a proxy", 408, `<html>timeout</html>`, providers.Result{},
			&providers.Error{Provider: providers.Monime, Op: "create payout", Outcome: providers.OutcomeUnknown, HTTPStatus: 408, Message: "Request Timeout"}},
		{"unauthorized", 401, `{"success": false, "messages": ["Unauthorized"], "error": {"code": 401, "reason": "unauthenticated", "message": "Invalid token"}}`,
			providers.Result{}, rejectedErr(401, "unauthenticated", "Invalid token")},
		{"message list", 400, `{"error": {"code": 400, "message": ["a is bad", "b is bad"]}}`, providers.Result{}, rejectedErr(400, "", "a is bad; b is bad")},
		{"code as slug", 400, `{"error": {"code": "fund_insufficient", "message": "x"}}`, providers.Result{}, rejectedErr(400, "fund_insufficient", "x")},
		{"top-level message", 404, `{"success": false, "message": "Not found"}`, providers.Result{}, rejectedErr(404, "", "Not found")},
		// A conflict on the keyed create may be another copy of it at work:
		// the payout may exist, so the outcome is left unknown.
		{"conflict on the create", 409, `{"success": false, "messages": [{"message": "Key reused"}, 3]}`, providers.Result{},
			&providers.Error{Provider: providers.Monime, Op: "create payout", Outcome: providers.OutcomeUnknown, HTTPStatus: 409, Message: "Key reused"}},
		{"error as string", 401, `{"error": "Unauthorized"}`, providers.Result{}, rejectedErr(401, "", "Unauthorized")},
		{"plain details", 422, `{"error": {"details": ["amount too big", {"message": "and more"}]}}`, providers.Result{}, rejectedErr(422, "", "amount too big; and more")},
		{"html 400", 400, `<html>bad</html>`, providers.Result{}, rejectedErr(400, "", "Bad Request")},
		{"rate limited", 429, `{"error": {"code": 429, "reason": "rate_limited", "message": "Slow down"}}`, providers.Result{},
			&providers.Error{Provider: providers.Monime, Op: "create payout", Outcome: providers.OutcomeRejected, HTTPStatus: 429, Code: "rate_limited", Message: "Slow down", Retryable: true}},
		{"server error", 500, `{"error": {"code": 500, "reason": "internal", "message": "Oops"}}`, providers.Result{},
			&providers.Error{Provider: providers.Monime, Op: "create payout", Outcome: providers.OutcomeUnknown, HTTPStatus: 500, Code: "internal", Message: "Oops"}},
		{"gateway html", 503, `<html>down</html>`, providers.Result{},
			&providers.Error{Provider: providers.Monime, Op: "create payout", Outcome: providers.OutcomeUnknown, HTTPStatus: 503, Message: "Service Unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeMonime(t, tt.status, []byte(tt.body))
			res, err := New(seedConfig(srv.URL)).Submit(context.Background(), seedPayout(), providers.Ref{})
			if len(res.Exchanges) != 1 {
				t.Errorf("got %d exchanges, want 1", len(res.Exchanges))
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				res.Exchanges, res.Amount = nil, nil
				if diff := cmp.Diff(tt.want, res); diff != "" {
					t.Errorf("result (-want +got):\n%s", diff)
				}
				return
			}
			var got *providers.Error
			if !errors.As(err, &got) {
				t.Fatalf("got error %v, want *providers.Error", err)
			}
			got.Err = nil
			if diff := cmp.Diff(tt.wantErr, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func unknownErr(status int) *providers.Error {
	return &providers.Error{Provider: providers.Monime, Op: "create payout", Outcome: providers.OutcomeUnknown, HTTPStatus: status}
}

func rejectedErr(status int, code, msg string) *providers.Error {
	return &providers.Error{Provider: providers.Monime, Op: "create payout", Outcome: providers.OutcomeRejected, HTTPStatus: status, Code: code, Message: msg}
}

func TestCancelAnswers(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		wantOutcome providers.Outcome // 0: success
	}{
		{"deleted", 200, `{"success": true, "messages": ["Payout deleted"]}`, 0},
		{"empty body", 204, ``, 0},
		{"success false", 200, `{"success": false, "messages": []}`, providers.OutcomeUnknown},
		{"already processing", 409, `{"success": false, "error": {"code": 409, "reason": "failed_precondition"}}`, providers.OutcomeRejected},
		{"server error", 502, ``, providers.OutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeMonime(t, tt.status, []byte(tt.body))
			res, err := New(seedConfig(srv.URL)).Cancel(context.Background(), providers.Ref{ProviderID: "pyt-1"})
			if tt.wantOutcome == 0 {
				if err != nil || res.Status != providers.StatusCancelled || res.ProviderID != "pyt-1" {
					t.Errorf("got %q %q, %v, want cancelled pyt-1", res.Status, res.ProviderID, err)
				}
			} else if got := providers.OutcomeOf(err); err == nil || got != tt.wantOutcome {
				t.Errorf("got outcome %v (err %v), want %v", got, err, tt.wantOutcome)
			}
			if len(res.Exchanges) != 1 {
				t.Errorf("got %d exchanges, want 1", len(res.Exchanges))
			}
		})
	}
}

func TestDefaultTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	cfg := seedConfig(srv.URL)
	cfg.Timeout = 100 * time.Millisecond
	start := time.Now()
	res, err := New(cfg).Submit(context.Background(), seedPayout(), providers.Ref{})
	if !errors.Is(err, providers.ErrOutcomeUnknown) {
		t.Errorf("got error %v, want outcome unknown", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v, want about the 100 ms timeout", d)
	}
	if len(res.Exchanges) != 1 || res.Exchanges[0].Error == "" {
		t.Errorf("got exchanges %+v, want one recording the error", res.Exchanges)
	}
}
