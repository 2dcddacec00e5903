// Package fedapay is the FedaPay payout rail: mobile money payouts in XOF to
// Benin, Togo, Côte d'Ivoire, Niger, Senegal and Guinea, created with
// POST /payouts and sent with PUT /payouts/start, with webhooks signed in
// X-FEDAPAY-SIGNATURE.
package fedapay

import (
	"context"
	"net/http"
	"strings"
	"time"

	"payoutdesk/providers"
)

// PhoneFormat says how the beneficiary's phone number is written on the wire.
type PhoneFormat string

// Phone formats. The seed describes phone_number.number as "without national
// prefix" while FedaPay's guide shows "+22997808080"; which one the server
// wants for payouts is unconfirmed.
const (
	// PhoneLocal strips the country calling code ("+229", "00229") when the
	// agent typed one, as the seed describes. The default.
	PhoneLocal PhoneFormat = "local"
	// PhoneInternational always sends "+<calling code><number>", as in the
	// guide's example.
	PhoneInternational PhoneFormat = "international"
	// PhoneAsTyped sends the agent's digits (and leading "+") unchanged.
	PhoneAsTyped PhoneFormat = "as_typed"
)

// Defaults applied by New.
const (
	DefaultTimeout   = 30 * time.Second
	DefaultTolerance = 5 * time.Minute
)

// Config configures a Client.
type Config struct {
	// BaseURL ends in /v1, such as https://sandbox-api.fedapay.com/v1.
	BaseURL string
	// SecretKey is the API secret key (sk_sandbox_… or sk_live_…).
	SecretKey string
	// WebhookSecret is the webhook endpoint's signing secret (wh_…).
	WebhookSecret string
	// Tolerance is how far a webhook's timestamp may be from now, either
	// way (default 5 minutes).
	Tolerance time.Duration
	// Modes are the payout modes offered in the form (default DefaultModes).
	// Which modes are enabled for payouts depends on the FedaPay account.
	Modes []Mode
	// Currencies offered in the form (default XOF only; FedaPay documents
	// XOF, GNF for Guinea is unconfirmed).
	Currencies []string
	// PhoneFormat is how phone numbers are sent (default PhoneLocal).
	PhoneFormat PhoneFormat
	// AllowCancel enables Cancel (DELETE /payouts/{id}), whose semantics
	// are unconfirmed; presumably it removes a payout not yet started.
	AllowCancel bool
	// LookupByReference enables finding a payout by merchant reference with
	// GET /payouts/merchant/{reference}, an endpoint seen only in community
	// code. With it, Lookup works without a payout id and Submit looks for
	// an earlier attempt before creating. Enable it only once the endpoint
	// is confirmed: Submit takes its 404 to mean "no earlier attempt".
	LookupByReference bool
	// SendIdempotencyKey adds Payout.IdempotencyKey as an Idempotency-Key
	// header on create, as the PHP SDK does on retries. Whether the server
	// honours it is unconfirmed, so Capabilities never claim it.
	SendIdempotencyKey bool
	// HTTPClient sends the requests (default http.DefaultClient); redirects
	// are never followed.
	HTTPClient *http.Client
	// Timeout bounds each method, all its requests, when its ctx has no
	// deadline (default 30 s).
	Timeout time.Duration
}

// Client is the FedaPay payout rail.
type Client struct {
	cfg  Config
	base string
}

var _ providers.Rail = (*Client)(nil)

// New returns a client for cfg, with defaults filled in.
func New(cfg Config) *Client {
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if len(cfg.Modes) == 0 {
		cfg.Modes = DefaultModes()
	}
	if len(cfg.Currencies) == 0 {
		cfg.Currencies = []string{"XOF"}
	}
	if cfg.PhoneFormat == "" {
		cfg.PhoneFormat = PhoneLocal
	}
	return &Client{cfg: cfg, base: strings.TrimRight(cfg.BaseURL, "/")}
}

// Name returns providers.FedaPay.
func (c *Client) Name() providers.Name { return providers.FedaPay }

// Capabilities reports what FedaPay offers: status lookup, cancel when
// enabled, timed HMAC webhooks, and no confirm step or idempotency header.
func (c *Client) Capabilities() providers.Capabilities {
	return providers.Capabilities{
		StatusLookup: true,
		Cancel:       c.cfg.AllowCancel,
		Resumable:    true,
		Signature:    providers.SignatureTimedHMAC,
	}
}

// Confirm is not a FedaPay step.
func (c *Client) Confirm(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	return providers.Result{}, providers.NotSent(providers.FedaPay, "confirm payout", providers.ErrUnsupported)
}

// maskKeys are the JSON keys holding phone numbers.
var maskKeys = []string{"number", "phone_number"}

// call sends one request, records its exchange in res and turns a non-2xx
// answer into an *Error.
func (c *Client) call(ctx context.Context, res *providers.Result, op, method, path string, body []byte, extra http.Header) ([]byte, error) {
	h := http.Header{
		"Authorization": {"Bearer " + c.cfg.SecretKey},
		"Accept":        {"application/json"},
	}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	for k, vs := range extra {
		h[k] = vs
	}
	resp, ex, err := providers.Do(ctx, c.cfg.HTTPClient, providers.Call{
		Provider:      providers.FedaPay,
		Op:            op,
		Method:        method,
		URL:           c.base + path,
		Header:        h,
		Body:          body,
		SecretHeaders: []string{"Authorization"},
		MaskKeys:      maskKeys,
	})
	res.Exchanges = append(res.Exchanges, ex)
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		e := apiError(op, resp.Status, resp.Body)
		providers.NoteRetryAfter(e, resp.Header, time.Now())
		return nil, e
	}
	return resp.Body, nil
}

// apiError classifies a non-2xx answer, carrying FedaPay's message and
// field errors.
func apiError(op string, status int, body []byte) *providers.Error {
	msg, fields := parseError(body)
	if msg == "" && len(fields) == 0 {
		msg = http.StatusText(status)
	}
	return providers.Classify(providers.FedaPay, op, status, "", msg, fields)
}
