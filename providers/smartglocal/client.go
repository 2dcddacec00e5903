// Package smartglocal is the Smart Glocal payout rail: session/create, then
// session/start/payout, then session/confirm once Smart Glocal sends
// ready_to_confirm, every request signed with the partner's RSA key and
// every webhook verified with Smart Glocal's.
package smartglocal

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"payoutdesk/providers"
)

// DefaultIdempotencyHeader is the idempotency header of the Bank 131 SDK,
// whose protocol Smart Glocal shares; that Smart Glocal reads it is
// unconfirmed.
const DefaultIdempotencyHeader = "X-PARTNER-IDEMPOTENCY-KEY"

// NoIdempotencyHeader as Config.IdempotencyHeader sends no idempotency header.
const NoIdempotencyHeader = "-"

// Header names of Smart Glocal's request authentication.
const (
	HeaderProject   = "X-PARTNER-PROJECT"
	HeaderSignature = "X-PARTNER-SIGN"
)

// Config configures a Client.
type Config struct {
	// BaseURL ends in /api/v1 ("https://demo.smart-glocal.com/api/v1").
	BaseURL string
	// Project is the X-PARTNER-PROJECT id given by Smart Glocal.
	Project string
	// Key is the partner's private key; it signs every request.
	Key *rsa.PrivateKey
	// ProviderKey is Smart Glocal's public key; it verifies webhooks.
	ProviderKey *rsa.PublicKey
	// HTTPClient sends the requests (default http.DefaultClient); redirects
	// are never followed.
	HTTPClient *http.Client
	// Timeout bounds each method, all its requests, when its ctx has no
	// deadline (default 30 s).
	Timeout time.Duration
	// IdempotencyHeader is the header carrying Payout.IdempotencyKey on
	// session/create: "" means DefaultIdempotencyHeader, NoIdempotencyHeader
	// sends none.
	IdempotencyHeader string
	// Sender prefills the form's sender fields (the paying company).
	Sender Sender
}

// Sender is the paying company as participant_details.sender describes it.
type Sender struct {
	CompanyName        string
	RegistrationNumber string
	CountryISO3        string
	Code               string
}

// Client is the Smart Glocal rail.
type Client struct {
	cfg        Config
	idemHeader string
}

var _ providers.Rail = (*Client)(nil)

// New returns a client for cfg.
func New(cfg Config) *Client {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	idem := cfg.IdempotencyHeader
	switch idem {
	case "":
		idem = DefaultIdempotencyHeader
	case NoIdempotencyHeader:
		idem = ""
	}
	return &Client{cfg: cfg, idemHeader: idem}
}

// Name returns providers.SmartGlocal.
func (c *Client) Name() providers.Name { return providers.SmartGlocal }

// Capabilities reports a confirm step, status lookup and cancel. The
// idempotency header's name is unconfirmed, so a repeated create is not
// assumed safe; the stored session id is the dedupe point instead.
func (c *Client) Capabilities() providers.Capabilities {
	return providers.Capabilities{
		ConfirmStep:       true,
		IdempotencyHeader: false,
		StatusLookup:      true,
		Cancel:            true,
		Resumable:         true,
		Signature:         providers.SignatureRSA,
	}
}

// Lookup reads the session with session/status.
func (c *Client) Lookup(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	res, err := c.sessionCall(ctx, "lookup payout", "session/status", ref)
	providers.MarkNotFound(err, res)
	return res, err
}

// Confirm answers ready_to_confirm with session/confirm.
func (c *Client) Confirm(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	return c.sessionCall(ctx, "confirm payout", "session/confirm", ref)
}

// Cancel answers ready_to_confirm with session/cancel.
func (c *Client) Cancel(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	return c.sessionCall(ctx, "cancel payout", "session/cancel", ref)
}

func (c *Client) sessionCall(ctx context.Context, op, method string, ref providers.Ref) (providers.Result, error) {
	var res providers.Result
	if ref.ProviderID == "" {
		return res, providers.NotSent(providers.SmartGlocal, op, fmt.Errorf("no session id: %w", providers.ErrUnsupported))
	}
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	snap, err := c.call(ctx, &res, op, method, sessionRequest{SessionID: ref.ProviderID}, nil)
	if err != nil {
		return res, err
	}
	snap.fill(&res)
	return res, nil
}

// call signs and sends one request, records the exchange in res and reads
// the answer.
func (c *Client) call(ctx context.Context, res *providers.Result, op, method string, req any, extra http.Header) (snapshot, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return snapshot{}, providers.NotSent(providers.SmartGlocal, op, fmt.Errorf("encode request: %w", err))
	}
	sig, err := Sign(c.cfg.Key, body)
	if err != nil {
		return snapshot{}, providers.NotSent(providers.SmartGlocal, op, err)
	}
	h := http.Header{}
	for k, vs := range extra {
		h[k] = vs
	}
	h.Set("Content-Type", "application/json")
	h.Set(HeaderProject, c.cfg.Project)
	h.Set(HeaderSignature, sig)
	resp, ex, err := providers.Do(ctx, c.cfg.HTTPClient, providers.Call{
		Provider:      providers.SmartGlocal,
		Op:            op,
		Method:        http.MethodPost,
		URL:           c.cfg.BaseURL + "/" + method,
		Header:        h,
		Body:          body,
		SecretHeaders: []string{HeaderProject, HeaderSignature},
		MaskKeys:      []string{"iban", "number"},
	})
	res.Exchanges = append(res.Exchanges, ex)
	if err != nil {
		return snapshot{}, err
	}
	snap, err := parseAnswer(op, resp.Status, resp.Body)
	providers.NoteRetryAfter(err, resp.Header, time.Now())
	return snap, err
}
