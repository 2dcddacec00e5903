// Package sandboxtest starts the provider sandbox on a loopback port for
// tests, with a recorder standing in for the app's webhook endpoint.
package sandboxtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/sandbox"
)

var (
	credsOnce sync.Once
	creds     sandbox.Credentials
	credsErr  error
)

// Credentials returns one random credential set per test binary, since RSA
// key generation is slow.
func Credentials(t testing.TB) sandbox.Credentials {
	t.Helper()
	credsOnce.Do(func() { creds, credsErr = sandbox.GenerateCredentials() })
	if credsErr != nil {
		t.Fatal(credsErr)
	}
	return creds
}

// Env is a running sandbox and the recorder that receives its webhooks.
type Env struct {
	Sandbox     *sandbox.Sandbox
	Webhooks    *Recorder
	Credentials sandbox.Credentials
}

// BaseURL returns provider p's API base URL on the sandbox.
func (e *Env) BaseURL(p providers.Name) string { return e.Sandbox.BaseURL(p) }

// Start runs a sandbox over loopback HTTP until the test ends. cfg may leave
// BaseURL, WebhookURL and Credentials empty; Step defaults to 20 ms and
// SlowDelay to 300 ms so tests stay fast.
func Start(t testing.TB, cfg sandbox.Config) *Env {
	t.Helper()
	rec := newRecorder()
	t.Cleanup(rec.server.Close)
	if cfg.Step == 0 {
		cfg.Step = 20 * time.Millisecond
	}
	if cfg.SlowDelay == 0 {
		cfg.SlowDelay = 300 * time.Millisecond
	}
	if cfg.Credentials.SmartGlocalPartnerKey == nil {
		cfg.Credentials = Credentials(t)
	}
	if cfg.WebhookURL == nil {
		cfg.WebhookURL = func(p providers.Name) string { return rec.server.URL + "/webhooks/" + string(p) }
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	cfg.BaseURL = srv.URL + "/sandbox"
	sb := sandbox.New(cfg)
	mux.Handle("/sandbox/", http.StripPrefix("/sandbox", sb.Handler()))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		sb.Close()
		srv.Close()
	})
	return &Env{Sandbox: sb, Webhooks: rec, Credentials: cfg.Credentials}
}

// ValidForms returns one complete, valid payout form per provider, as an
// agent fills it in on the app; redirectURL is Kibramoa's return page (the
// app's /cashier/done). Monime's source_account is left out: Monime then
// pays from the space's main account.
func ValidForms(redirectURL string) map[providers.Name]url.Values {
	return map[providers.Name]url.Values{
		providers.Kibramoa: {
			"amount": {"150.00"}, "currency": {"BRL"}, "country": {"BR"}, "redirect_url": {redirectURL},
			"user_id": {"customer-42"}, "description": {"Refund of order 1001"}, "user_device": {"MOBILE"}, "ip": {"203.0.113.7"},
		},
		providers.SmartGlocal: {
			"amount": {"10.00"}, "currency": {"USD"}, "payment_method": {"bank_account"}, "iban": {"BE68 5390 0754 7034"},
			"remittance_description": {"Refund"}, "recipient_first_name": {"John"}, "recipient_last_name": {"Johnson"},
			"recipient_bank_name": {"All Banks Belgium"}, "recipient_currency": {"EUR"}, "recipient_country_iso3": {"BEL"},
		},
		providers.Monime: {
			"amount": {"25.50"}, "currency": {"SLE"}, "provider_code": {"m17"}, "account_id": {"+23278123456"},
			"metadata": {"ticket=SUP-123"},
		},
		providers.FedaPay: {
			"amount": {"2000"}, "currency": {"XOF"}, "mode": {"mtn_open"}, "firstname": {"Ama"}, "lastname": {"Koffi"},
			"phone_country": {"bj"}, "phone_number": {"97808080"}, "email": {"ama@example.com"},
		},
	}
}

// Delivery is one webhook the sandbox sent.
type Delivery struct {
	Provider providers.Name
	Header   http.Header
	Body     []byte
}

// Recorder keeps every webhook and answers 200, or what AnswerWith set.
type Recorder struct {
	server *httptest.Server
	mu     sync.Mutex
	got    []Delivery
	status int // 0 answers 200
}

func newRecorder() *Recorder {
	r := &Recorder{}
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		p := providers.Name(strings.TrimPrefix(req.URL.Path, "/webhooks/"))
		r.mu.Lock()
		r.got = append(r.got, Delivery{Provider: p, Header: req.Header.Clone(), Body: body})
		status := r.status
		r.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
		}
	}))
	return r
}

// AnswerWith makes the recorder answer status to later deliveries (0 = 200).
func (r *Recorder) AnswerWith(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

// All returns the deliveries for provider p so far.
func (r *Recorder) All(p providers.Name) []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Delivery
	for _, d := range r.got {
		if d.Provider == p {
			out = append(out, d)
		}
	}
	return out
}

// Wait waits until provider p has sent at least n webhooks and returns them,
// failing the test after timeout.
func (r *Recorder) Wait(t testing.TB, p providers.Name, n int, timeout time.Duration) []Delivery {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := r.All(p)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d %s webhooks after %v, want %d", len(got), p, timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
