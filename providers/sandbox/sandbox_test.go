package sandbox

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"payoutdesk/providers"
)

// A burst of webhooks goes out through a bounded set of reused connections:
// a provider's delivery workers, not a connection per webhook.
func TestWebhookBurstReusesBoundedConnections(t *testing.T) {
	var conns, inFlight, peak atomic.Int64
	var wg sync.WaitGroup
	const burst = 500
	wg.Add(burst)
	app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer wg.Done()
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		w.Write([]byte(`{"received": true}`))
	}))
	app.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	app.Start()
	t.Cleanup(app.Close)
	sb := New(Config{BaseURL: "http://sandbox.invalid", WebhookURL: func(providers.Name) string { return app.URL }})
	t.Cleanup(sb.Close)

	for range burst {
		sb.deliver(providers.FedaPay, http.Header{}, []byte(`{"name":"payout.sent"}`))
	}
	wg.Wait()
	if p := peak.Load(); p > webhookSenders {
		t.Errorf("%d webhooks in flight at once, want at most %d", p, webhookSenders)
	}
	// A sender's slot is free as soon as it has read the answer, a moment
	// before its connection is back in the idle pool, so the next webhook may
	// dial a new one: the bound on connections is loose, not one per webhook.
	if n := conns.Load(); n > 2*webhookSenders {
		t.Errorf("%d webhooks opened %d connections, want at most %d", burst, n, 2*webhookSenders)
	}
}

// Webhooks handed over while the sandbox closes are either delivered before
// Close returns or dropped: none starts after it. Without -race, a start
// after Close shows as a WaitGroup panic some of the time.
func TestCloseRacesDeliveries(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
	}))
	t.Cleanup(app.Close)
	for range 10 {
		sb := New(Config{BaseURL: "http://sandbox.invalid", WebhookURL: func(providers.Name) string { return app.URL }})
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						sb.deliver(providers.Monime, http.Header{}, []byte(`{}`))
					}
				}
			})
		}
		time.Sleep(2 * time.Millisecond)
		sb.Close()
		// (A request already sent may still reach the app a moment later,
		// cancelled; what must not happen is a delivery taken on.)
		atClose := sb.Count(providers.Monime, "webhook sent")
		time.Sleep(time.Millisecond)
		close(stop)
		wg.Wait()
		if n := sb.Count(providers.Monime, "webhook sent") - atClose; n != 0 {
			t.Fatalf("%d webhooks were taken on after Close returned", n)
		}
	}
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr bool
	}{
		{"object", `{"a": 1}`, false},
		{"trailing white space", "{\"a\": 1}\n\t ", false},
		{"trailing brace", `{"a": 1}}`, true},
		{"trailing bracket", `{"a": 1}]`, true},
		{"second object", `{"a": 1}{"a": 2}`, true},
		{"trailing word", `{"a": 1} x`, true},
		{"unknown field", `{"a": 1, "b": 2}`, true},
		{"empty", ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v struct{ A int }
			if err := decodeStrict([]byte(tt.body), &v); (err != nil) != tt.wantErr {
				t.Errorf("got error %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

// Monime replays a payout only for the same Idempotency-Key and the same
// body; a body with trailing data is refused, not hashed as some other body.
func TestMonimeIdempotencyKey(t *testing.T) {
	creds := Credentials{MonimeToken: "mon-token", MonimeSpaceID: "spc-1"}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	sb := New(Config{BaseURL: srv.URL, Step: time.Hour, Credentials: creds})
	t.Cleanup(sb.Close)
	mux.Handle("/", sb.Handler())
	post := func(key, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+MonimePrefix+"/payouts", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+creds.MonimeToken)
		req.Header.Set("Monime-Space-Id", creds.MonimeSpaceID)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, m
	}
	const a = `{"amount": {"currency": "SLE", "value": 15000}, "destination": {"providerCode": "m17", "accountId": "+23276123456"}}`
	b := strings.Replace(a, "15000", "16000", 1)
	id := func(m map[string]any) any { r, _ := m["result"].(map[string]any); return r["id"] }

	tests := []struct {
		name       string
		key, body  string
		wantStatus int
		wantSameID bool // the payout of the first request
	}{
		{"first use", "k1", a, 200, true},
		{"same body", "k1", a, 200, true},
		{"same body, other white space", "k1", strings.ReplaceAll(a, ": ", ":") + "\n", 200, true},
		{"other body", "k1", b, 409, false},
		{"trailing brace", "k2", a + "}", 400, false},
		{"other body with trailing brace", "k2", b + "}", 400, false},
	}
	var first any
	for _, tt := range tests {
		status, m := post(tt.key, tt.body)
		if first == nil {
			first = id(m)
		}
		if status != tt.wantStatus || (id(m) == first) != tt.wantSameID {
			t.Errorf("%s: got %d %v, want %d, same payout %v", tt.name, status, m, tt.wantStatus, tt.wantSameID)
		}
	}
	if got := sb.Count(providers.Monime, "payout created"); got != 1 {
		t.Errorf("got %d payouts created, want 1", got)
	}
}
