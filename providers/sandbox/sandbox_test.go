package sandbox

import (
	"net"
	"net/http"
	"net/http/httptest"
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
	if n := conns.Load(); n > webhookSenders {
		t.Errorf("%d webhooks opened %d connections, want at most %d", burst, n, webhookSenders)
	}
}
