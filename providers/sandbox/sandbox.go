// Package sandbox simulates the four payout providers over their real wire
// protocols: same paths, same auth headers, same envelopes and validation
// errors, statuses that advance over time, signed webhooks sent back to the
// app, the Smart Glocal confirm step, Monime idempotency replay and the
// Kibramoa cashier page. Magic amounts trigger faults (see MagicValues).
//
// State lives in memory: a restarted sandbox has forgotten its payouts, and
// answers HTTP 404 about them, as a provider that lost one would.
package sandbox

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"payoutdesk/providers"
)

// Config configures a Sandbox.
type Config struct {
	// BaseURL is the absolute URL at which Handler is mounted, without a
	// trailing slash ("http://127.0.0.1:8080/sandbox"). Cashier URLs and
	// the index page are built from it.
	BaseURL string
	// WebhookURL returns where a provider's webhooks go (the app's
	// /webhooks/{provider}); nil or "" disables delivery.
	WebhookURL func(providers.Name) string
	// Step is the time between two status changes of a payout (default 2 s).
	Step time.Duration
	// SlowDelay is how long FaultSlow answers take (default 3 s).
	SlowDelay time.Duration
	// MonimeWebhookHeader is the custom header Monime adds to deliveries,
	// carrying Credentials.MonimeWebhookSecret.
	MonimeWebhookHeader string
	// KibramoaAmountMinor makes the Kibramoa simulation read and write
	// amounts in minor units (15000 for 150.00 BRL), as the client's
	// "minor" amount format sends them; decimal major units otherwise.
	KibramoaAmountMinor bool
	// SmartGlocalIdempotencyHeader is the header Smart Glocal's session
	// create reads its idempotency key from, as the client is configured
	// to send it ("" for the default, smartglocal.NoIdempotencyHeader for
	// none).
	SmartGlocalIdempotencyHeader string
	// FormCSP returns the Content-Security-Policy for a page whose forms
	// may also go, or be redirected, to formTargets. The cashier page sets
	// it so that finishing a session can reach a redirect URL on another
	// site, which the mounting app's own policy forbids. Nil leaves the
	// policy to the app.
	FormCSP     func(formTargets ...string) string
	Credentials Credentials
	// Client delivers webhooks (default: 10 s timeout).
	Client *http.Client
	Logger *slog.Logger
}

// Sandbox serves the simulated providers. Create it with New and stop its
// timers and deliveries with Close.
type Sandbox struct {
	cfg Config
	mux *http.ServeMux
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// senders bounds the webhooks in flight, as a provider's delivery
	// workers do: unbounded, a burst opens a connection per webhook.
	senders chan struct{}

	mu     sync.Mutex
	timers map[*time.Timer]struct{}
	counts map[string]int
	// limited holds the payouts FaultRateLimited has refused once, by
	// provider and key.
	limited map[string]bool
}

// Path prefixes of each simulated API under the sandbox's mount point; the
// app's clients use BaseURL + prefix as their base URL.
const (
	KibramoaPrefix    = "/kibramoa"
	SmartGlocalPrefix = "/smartglocal/api/v1"
	MonimePrefix      = "/monime"
	FedaPayPrefix     = "/fedapay/v1"
)

// New builds a sandbox that serves all four providers.
func New(cfg Config) *Sandbox {
	if cfg.Step <= 0 {
		cfg.Step = 2 * time.Second
	}
	if cfg.SlowDelay <= 0 {
		cfg.SlowDelay = 3 * time.Second
	}
	if cfg.Client == nil {
		// Deliveries run concurrently: keep an idle connection for each
		// sender, so that none pays for a new one.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = webhookSenders
		cfg.Client = &http.Client{Timeout: 10 * time.Second, Transport: t}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MonimeWebhookHeader == "" {
		cfg.MonimeWebhookHeader = "X-Webhook-Secret"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sandbox{
		cfg:     cfg,
		mux:     http.NewServeMux(),
		log:     cfg.Logger.With("component", "sandbox"),
		ctx:     ctx,
		cancel:  cancel,
		timers:  make(map[*time.Timer]struct{}),
		counts:  make(map[string]int),
		limited: make(map[string]bool),
		senders: make(chan struct{}, webhookSenders),
	}
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /sandbox.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, templateFS, "templates/sandbox.css")
	})
	newKibramoa(s).routes(s.mux, KibramoaPrefix)
	newSmartGlocal(s).routes(s.mux, SmartGlocalPrefix)
	newMonime(s).routes(s.mux, MonimePrefix)
	newFedaPay(s).routes(s.mux, FedaPayPrefix)
	return s
}

// Handler serves the sandbox; mount it with http.StripPrefix at BaseURL's path.
func (s *Sandbox) Handler() http.Handler { return s.mux }

// BaseURL returns the sandbox's base URL for a provider's client.
func (s *Sandbox) BaseURL(p providers.Name) string {
	switch p {
	case providers.Kibramoa:
		return s.cfg.BaseURL + KibramoaPrefix
	case providers.SmartGlocal:
		return s.cfg.BaseURL + SmartGlocalPrefix
	case providers.Monime:
		return s.cfg.BaseURL + MonimePrefix
	case providers.FedaPay:
		return s.cfg.BaseURL + FedaPayPrefix
	}
	return ""
}

// Close stops pending status changes and waits for webhook deliveries under way.
func (s *Sandbox) Close() {
	// Cancel under mu, so that after and deliver, which check it under mu,
	// add no work once Wait has begun.
	s.mu.Lock()
	s.cancel()
	for t := range s.timers {
		t.Stop()
	}
	clear(s.timers)
	s.mu.Unlock()
	s.wg.Wait()
}

// Count returns how many times op happened at provider p, such as
// Count(providers.Monime, "payout created"). Tests use it to prove that a
// payout reached a provider exactly once.
func (s *Sandbox) Count(p providers.Name, op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[string(p)+" "+op]
}

func (s *Sandbox) count(p providers.Name, op string) {
	s.mu.Lock()
	s.countLocked(p, op)
	s.mu.Unlock()
}

// countLocked is count with s.mu held.
func (s *Sandbox) countLocked(p providers.Name, op string) { s.counts[string(p)+" "+op]++ }

// after runs fn after n steps, unless the sandbox is closed first.
func (s *Sandbox) after(n int, fn func()) { s.afterDelay(time.Duration(n)*s.cfg.Step, fn) }

// afterDelay runs fn after d, unless the sandbox is closed first.
func (s *Sandbox) afterDelay(d time.Duration, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		_, live := s.timers[t]
		delete(s.timers, t)
		s.mu.Unlock()
		if live {
			fn()
		}
	})
	s.timers[t] = struct{}{}
}

// deliver POSTs a webhook body to the app in the background, retrying with
// growing pauses on failure as the real providers do (five tries).
func (s *Sandbox) deliver(p providers.Name, header http.Header, body []byte) {
	if s.cfg.WebhookURL == nil {
		return
	}
	url := s.cfg.WebhookURL(p)
	if url == "" {
		return
	}
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	s.countLocked(p, "webhook sent")
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		pause := s.cfg.Step / 2
		for try := 1; try <= 5; try++ {
			if s.post(url, header, body) {
				return
			}
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(pause):
				pause *= 2
			}
		}
		s.log.Warn("webhook not accepted", "provider", p, "url", url)
	}()
}

// finalWebhook sends a payout's final webhook and plays the webhook faults
// on it, a step later so that the extra delivery arrives after the final
// one: FaultDuplicateWebhook sends final again, FaultOutOfOrder sends stale,
// an earlier state of the payout with its original timestamps.
func (s *Sandbox) finalWebhook(f Fault, final, stale func()) {
	final()
	switch f {
	case FaultDuplicateWebhook:
		s.after(1, final)
	case FaultOutOfOrder:
		s.after(1, stale)
	}
}

// webhookSenders is how many webhooks the sandbox delivers at once.
const webhookSenders = 32

func (s *Sandbox) post(url string, header http.Header, body []byte) bool {
	select {
	case s.senders <- struct{}{}:
		defer func() { <-s.senders }()
	case <-s.ctx.Done():
		return false
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return false
	}
	// Read to the end, or the connection cannot be used again.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

// rateLimited plays FaultRateLimited for the call of provider p that
// carries a payout's amount, the payout known by key (its reference,
// idempotency key or session): it reports whether to refuse this call with
// HTTP 429, which it does the first time only, after setting Retry-After.
// The caller writes the provider's own envelope and creates nothing.
func (s *Sandbox) rateLimited(w http.ResponseWriter, p providers.Name, f Fault, key string) bool {
	if f != FaultRateLimited {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := string(p) + " " + key
	if s.limited[k] {
		return false
	}
	s.limited[k] = true
	s.countLocked(p, "rate limited")
	w.Header().Set("Retry-After", strconv.Itoa(int(RateLimitWait/time.Second)))
	return true
}

// RateLimitWait is the Retry-After of FaultRateLimited's refusal: longer
// than the app's own first wait, so that a test can tell it was read.
const RateLimitWait = 3 * time.Second

// answer plays the create-time faults around a handler's normal answer.
// It returns false when the fault already answered (or withheld) the
// response, in which case the caller must not write anything.
func (s *Sandbox) answer(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f {
	case FaultTimeout:
		// Hold the request until the client gives up or the sandbox stops.
		select {
		case <-r.Context().Done():
		case <-s.ctx.Done():
		case <-time.After(2 * time.Minute):
		}
		return false
	case FaultSlow:
		select {
		case <-r.Context().Done():
			return false
		case <-time.After(s.cfg.SlowDelay):
		}
	case FaultMalformed:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"status": "ok", "session": {"id": `))
		return false
	}
	return true
}

// decodeStrict decodes body, a single JSON value without unknown fields,
// into v: anything after the value but white space is an error.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// secretOK reports whether got, trimmed of white space, is the configured
// secret want, in constant time; an unset secret matches nothing.
func secretOK(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(want)) == 1
}

// jsonContent reports whether r says its body is JSON, as every simulated
// provider requires: Content-Type application/json, with any parameters.
func jsonContent(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json"
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

//go:embed templates
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

func (s *Sandbox) index(w http.ResponseWriter, r *http.Request) {
	data := struct {
		Base   string
		Step   time.Duration
		Slow   time.Duration
		Magic  []MagicValue
		Routes []struct{ Name, Base string }
	}{Base: s.cfg.BaseURL, Step: s.cfg.Step, Slow: s.cfg.SlowDelay, Magic: MagicValues}
	for _, p := range providers.All {
		data.Routes = append(data.Routes, struct{ Name, Base string }{p.Title(), s.BaseURL(p)})
	}
	renderHTML(w, http.StatusOK, "index.html", data)
}

// renderHTML executes template name into a buffer first, so that a failure
// still gets a clean 500, then writes it with status.
func renderHTML(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "sandbox: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
