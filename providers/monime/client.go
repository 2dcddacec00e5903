// Package monime is the Monime payout rail (Sierra Leone mobile money and
// banks), speaking Monime's legacy 2024-08-01 payouts API: POST /payouts,
// GET /payouts/{id} and DELETE /payouts/{id}, with a Bearer token, the
// Monime-Space-Id header and a required Idempotency-Key.
package monime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"payoutdesk/providers"
)

// Defaults and limits of Monime's API.
const (
	DefaultBaseURL = "https://api.monime.io"
	DefaultTimeout = 30 * time.Second
	// DefaultWebhookHeader is the custom header the deployment adds to
	// Monime's webhook configuration, carrying Config.WebhookSecret.
	DefaultWebhookHeader = "X-Webhook-Secret"
	// MaxIdempotencyKeyLen and MaxSpaceIDLen are Monime's header limits,
	// counted in bytes so that a multi-byte value is never sent too long.
	MaxIdempotencyKeyLen = 64
	MaxSpaceIDLen        = 100
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API root without a version segment (default
	// DefaultBaseURL). Monime has no separate sandbox host.
	BaseURL string
	// Token is the access token sent as "Authorization: Bearer <token>".
	Token string
	// SpaceID is the Monime space (spc-…) sent as Monime-Space-Id.
	SpaceID string
	// WebhookSecret is the value Monime's webhooks carry in WebhookHeader.
	WebhookSecret string
	// WebhookHeader names the shared-secret header (default
	// DefaultWebhookHeader); Monime publishes no signature format.
	WebhookHeader string
	// DefaultSourceAccount is the financial account (fac-…) the form
	// proposes to pay from; empty lets Monime use the space's main account.
	DefaultSourceAccount string
	// Currencies the form offers (default SLE, the only currency of the
	// legacy API; the newer caph API also takes USD).
	Currencies []string
	// Destinations are the operators and banks the form offers (default
	// DefaultDestinations).
	Destinations []Destination
	// HTTPClient sends the requests (default http.DefaultClient); redirects
	// are never followed.
	HTTPClient *http.Client
	// Timeout bounds each method, all its requests, when its ctx has no
	// deadline (default 30 s).
	Timeout time.Duration
}

// Client is the Monime rail. Create it with New.
type Client struct {
	cfg Config
}

var _ providers.Rail = (*Client)(nil)

// New returns a Client for cfg, with defaults filled in.
func New(cfg Config) *Client {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.WebhookHeader == "" {
		cfg.WebhookHeader = DefaultWebhookHeader
	}
	if len(cfg.Currencies) == 0 {
		cfg.Currencies = []string{"SLE"}
	}
	if len(cfg.Destinations) == 0 {
		cfg.Destinations = DefaultDestinations
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Client{cfg: cfg}
}

// Name returns providers.Monime.
func (c *Client) Name() providers.Name { return providers.Monime }

// Capabilities describes Monime: no confirm step, a safe-to-repeat create,
// lookup and cancel, and a shared-secret webhook header.
func (c *Client) Capabilities() providers.Capabilities {
	return providers.Capabilities{
		IdempotencyHeader: true,
		StatusLookup:      true,
		Cancel:            true,
		Resumable:         true,
		Signature:         providers.SignatureSharedKey,
	}
}

// Submit creates the payout with POST /payouts. Monime requires an
// Idempotency-Key so that a retried create makes no second payout (how long
// it remembers a key, and what it answers a changed body, is not published;
// a conflict comes back as a rejection). Submit ignores prev and always
// sends the same bytes for the same p: that is how an unknown outcome is
// settled.
func (c *Client) Submit(ctx context.Context, p providers.Payout, ref providers.Ref) (providers.Result, error) {
	// Resumable: once Monime has given the payout an id, it is read back,
	// never created again (an idempotency key may have expired by then).
	if ref.ProviderID != "" {
		return c.Lookup(ctx, ref)
	}
	const op = "create payout"
	body, err := c.createBody(p)
	if err != nil {
		return providers.Result{}, providers.NotSent(providers.Monime, op, err)
	}
	h, err := c.header()
	if err != nil {
		return providers.Result{}, providers.NotSent(providers.Monime, op, err)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Idempotency-Key", p.IdempotencyKey)
	return c.payoutCall(ctx, op, http.MethodPost, c.cfg.BaseURL+"/payouts", h, body)
}

// Lookup reads the payout with GET /payouts/{id}.
func (c *Client) Lookup(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	const op = "get payout"
	if ref.ProviderID == "" {
		// The legacy API has no lookup by idempotency key; Submit again instead.
		return providers.Result{}, providers.NotSent(providers.Monime, op, fmt.Errorf("no Monime payout id: %w", providers.ErrUnsupported))
	}
	h, err := c.header()
	if err != nil {
		return providers.Result{}, providers.NotSent(providers.Monime, op, err)
	}
	res, err := c.payoutCall(ctx, op, http.MethodGet, c.payoutURL(ref.ProviderID), h, nil)
	providers.MarkNotFound(err, res)
	return res, err
}

// Confirm is not part of Monime's flow.
func (c *Client) Confirm(context.Context, providers.Ref) (providers.Result, error) {
	return providers.Result{}, providers.NotSent(providers.Monime, "confirm payout", providers.ErrUnsupported)
}

// Cancel deletes the payout with DELETE /payouts/{id}, which Monime allows
// only before processing starts; later it answers an error.
func (c *Client) Cancel(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	const op = "delete payout"
	if ref.ProviderID == "" {
		return providers.Result{}, providers.NotSent(providers.Monime, op, fmt.Errorf("no Monime payout id: %w", providers.ErrUnsupported))
	}
	h, err := c.header()
	if err != nil {
		return providers.Result{}, providers.NotSent(providers.Monime, op, err)
	}
	resp, ex, err := c.do(ctx, op, http.MethodDelete, c.payoutURL(ref.ProviderID), h, nil)
	res := providers.Result{ProviderID: ref.ProviderID, Exchanges: []providers.Exchange{ex}}
	if err != nil {
		return res, err
	}
	if err := statusError(op, resp); err != nil {
		return res, err
	}
	if err := parseDeleteResponse(resp.Body); err != nil {
		return res, providers.Unknown(providers.Monime, op, resp.Status, err)
	}
	res.RawStatus, res.Status = "deleted", providers.StatusCancelled
	return res, nil
}

func (c *Client) payoutURL(id string) string {
	return c.cfg.BaseURL + "/payouts/" + url.PathEscape(id)
}

// header returns the authentication headers every call carries.
func (c *Client) header() (http.Header, error) {
	switch {
	case c.cfg.Token == "":
		return nil, errors.New("no Monime access token configured")
	case c.cfg.SpaceID == "":
		return nil, errors.New("no Monime space id configured")
	case len(c.cfg.SpaceID) > MaxSpaceIDLen:
		return nil, fmt.Errorf("Monime space id longer than %d characters", MaxSpaceIDLen)
	}
	h := make(http.Header)
	h.Set("Authorization", "Bearer "+c.cfg.Token)
	h.Set("Monime-Space-Id", c.cfg.SpaceID)
	h.Set("Accept", "application/json")
	return h, nil
}

// payoutCall makes a call answered by a payout object (create, get).
func (c *Client) payoutCall(ctx context.Context, op, method, u string, h http.Header, body []byte) (providers.Result, error) {
	resp, ex, err := c.do(ctx, op, method, u, h, body)
	res := providers.Result{Exchanges: []providers.Exchange{ex}}
	if err != nil {
		return res, err
	}
	if err := statusError(op, resp); err != nil {
		// A conflict on a create sent with its idempotency key may mean
		// another copy of it is being handled (how Monime replays keys is
		// unpublished): the payout may well exist, so nothing is settled.
		if pe := (*providers.Error)(nil); method == http.MethodPost && resp.Status == http.StatusConflict && errors.As(err, &pe) {
			pe.Outcome = providers.OutcomeUnknown
		}
		return res, err
	}
	p, err := parsePayoutResponse(resp.Body)
	if err != nil {
		return res, providers.Unknown(providers.Monime, op, resp.Status, err)
	}
	out := p.result(c.cfg.Destinations)
	out.Exchanges = res.Exchanges
	return out, nil
}

// do sends the one request of a Monime method through providers.Do,
// bounded by Config.Timeout when ctx has no deadline of its own.
func (c *Client) do(ctx context.Context, op, method, u string, h http.Header, body []byte) (providers.Response, providers.Exchange, error) {
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	return providers.Do(ctx, c.cfg.HTTPClient, providers.Call{
		Provider: providers.Monime, Op: op, Method: method, URL: u, Header: h, Body: body,
		SecretHeaders: []string{"Authorization"}, MaskKeys: maskKeys,
	})
}

// statusError turns a non-2xx answer into an *providers.Error.
func statusError(op string, resp providers.Response) error {
	if resp.Status >= 200 && resp.Status < 300 {
		return nil
	}
	a := parseError(resp.Status, resp.Body)
	e := providers.Classify(providers.Monime, op, resp.Status, a.Code, a.Message, a.Fields)
	providers.NoteRetryAfter(e, resp.Header, time.Now())
	return e
}
