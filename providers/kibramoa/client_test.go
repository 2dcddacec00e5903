package kibramoa

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

func TestCapabilities(t *testing.T) {
	want := providers.Capabilities{StatusLookup: true, HostedCashier: true, Signature: providers.SignatureHMACBase64}
	c := New(Config{})
	if diff := cmp.Diff(want, c.Capabilities()); diff != "" {
		t.Errorf("capabilities mismatch (-want +got):\n%s", diff)
	}
	if got := c.Name(); got != providers.Kibramoa {
		t.Errorf("got name %q, want %q", got, providers.Kibramoa)
	}
}

func TestSecretsStayOut(t *testing.T) {
	const key = "pjxrlEFwzgYvP13V5LHWLZ5wiN6YHG-secret"
	srv, _ := serve(t, http.StatusUnauthorized, readFile(t, "payout_session_401.json"))
	c := New(Config{BaseURL: srv.URL, APIKey: key})
	res, err := c.Submit(context.Background(), seedPayout(providers.Money{Minor: 15000, Currency: "BRL"}), providers.Ref{})
	if err == nil {
		t.Fatal("got no error, want the 401 refusal")
	}
	if strings.Contains(err.Error(), key) {
		t.Errorf("error %q contains the API key", err)
	}
	if len(res.Exchanges) != 1 {
		t.Fatalf("got %d exchanges, want 1", len(res.Exchanges))
	}
	ex, _ := json.Marshal(res.Exchanges)
	if strings.Contains(string(ex), key) {
		t.Errorf("exchange contains the API key: %s", ex)
	}
	if got := res.Exchanges[0].RequestHeader["X-Api-Key"]; got != "[redacted]" {
		t.Errorf("got recorded X-API-KEY %q, want [redacted]", got)
	}
}

func TestNotSent(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name          string
		cfg           Config
		payout        providers.Payout
		prev          providers.Ref
		wantExchanges int
	}{
		{"connection refused", Config{BaseURL: closed.URL}, seedPayout(providers.Money{Minor: 100, Currency: "BRL"}), providers.Ref{}, 1},
		{"unknown amount format", Config{BaseURL: closed.URL, AmountFormat: "cents"}, seedPayout(providers.Money{Minor: 100, Currency: "BRL"}), providers.Ref{}, 0},
		{"reference too long", Config{BaseURL: closed.URL}, providers.Payout{Reference: strings.Repeat("r", 37), Amount: providers.Money{Minor: 100, Currency: "BRL"}}, providers.Ref{}, 0},
		{"zero amount", Config{BaseURL: closed.URL}, seedPayout(providers.Money{Currency: "BRL"}), providers.Ref{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := New(tt.cfg).Submit(context.Background(), tt.payout, tt.prev)
			if !errors.Is(err, providers.ErrNotSent) {
				t.Fatalf("got error %v, want one that is ErrNotSent", err)
			}
			if len(res.Exchanges) != tt.wantExchanges {
				t.Errorf("got %d exchanges, want %d", len(res.Exchanges), tt.wantExchanges)
			}
		})
	}
}

// A payout whose cashier session exists is not sent again, and its outcome
// is left unknown, not "not sent": the customer may still complete it.
func TestSessionAlreadyExistsIsUnknown(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, prev := range []providers.Ref{{PaymentID: "54ed4d33"}, {ProviderID: "ee40a31b"}} {
		res, err := New(Config{BaseURL: closed.URL}).Submit(context.Background(), seedPayout(providers.Money{Minor: 100, Currency: "BRL"}), prev)
		if providers.OutcomeOf(err) != providers.OutcomeUnknown || len(res.Exchanges) != 0 {
			t.Errorf("Submit with %+v: %v and %d exchanges, want an unknown outcome and nothing sent", prev, err, len(res.Exchanges))
		}
	}
}

func TestDefaultTimeoutAppliesWithoutDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(Config{BaseURL: srv.URL, Timeout: 50 * time.Millisecond})
	start := time.Now()
	res, err := c.Submit(context.Background(), seedPayout(providers.Money{Minor: 100, Currency: "BRL"}), providers.Ref{})
	if !errors.Is(err, providers.ErrOutcomeUnknown) {
		t.Fatalf("got error %v, want ErrOutcomeUnknown", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("got a call of %v, want it cut at the 50ms timeout", d)
	}
	if len(res.Exchanges) != 1 {
		t.Errorf("got %d exchanges, want 1", len(res.Exchanges))
	}
}

func TestUnsupported(t *testing.T) {
	c := New(Config{BaseURL: "http://127.0.0.1:1"})
	ctx := context.Background()
	tests := []struct {
		name string
		call func() (providers.Result, error)
	}{
		{"lookup without transaction id", func() (providers.Result, error) {
			return c.Lookup(ctx, providers.Ref{PaymentID: "s-1", Reference: "r"})
		}},
		{"lookup by session id", func() (providers.Result, error) {
			return c.Lookup(ctx, providers.Ref{ProviderID: "s-1", PaymentID: "s-1"})
		}},
		{"confirm", func() (providers.Result, error) { return c.Confirm(ctx, providers.Ref{ProviderID: "t-1"}) }},
		{"cancel", func() (providers.Result, error) { return c.Cancel(ctx, providers.Ref{ProviderID: "t-1"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.call()
			if !errors.Is(err, providers.ErrUnsupported) {
				t.Errorf("got error %v, want ErrUnsupported", err)
			}
			if providers.OutcomeOf(err) != providers.OutcomeNotSent {
				t.Errorf("got outcome %v, want not sent", providers.OutcomeOf(err))
			}
			if len(res.Exchanges) != 0 {
				t.Errorf("got %d exchanges, want none", len(res.Exchanges))
			}
		})
	}
}

func TestMapStatus(t *testing.T) {
	tests := []struct {
		raw  string
		want providers.Status
	}{
		{"INIT", providers.StatusAwaitingCustomer},
		{"PROCESSING", providers.StatusProcessing},
		{"COMPLETED", providers.StatusPaid},
		{"USER_CANCEL", providers.StatusCancelled},
		{"ERROR", providers.StatusFailed},
		{"DECLINED", providers.StatusFailed},
		{"DECINED", providers.StatusFailed},
		{"REFUNDED", providers.StatusFailed},
		{"EXPIRED", providers.StatusExpired},
		{" completed ", providers.StatusPaid},
		{"decined", providers.StatusFailed},
		{"", providers.StatusUnknown},
		{"PENDING", providers.StatusUnknown},
		{"CANCELLED", providers.StatusUnknown},
	}
	for _, tt := range tests {
		if got := MapStatus(tt.raw); got != tt.want {
			t.Errorf("MapStatus(%q): got %q, want %q", tt.raw, got, tt.want)
		}
	}
}
