// Package sandboxtest starts the provider sandbox on a loopback port for
// tests, with a recorder standing in for the app's webhook endpoint.
package sandboxtest

import (
	"io"
	"net/http"
	"net/http/httptest"
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
	Server      *httptest.Server
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
	return &Env{Sandbox: sb, Server: srv, Webhooks: rec, Credentials: cfg.Credentials}
}

// Delivery is one webhook the sandbox sent.
type Delivery struct {
	Provider providers.Name
	Header   http.Header
	Body     []byte
}

// Recorder answers 200 to every webhook and keeps it.
type Recorder struct {
	server *httptest.Server
	mu     sync.Mutex
	got    []Delivery
	// Status, when set, is answered instead of 200 (to test retries).
	status int
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
