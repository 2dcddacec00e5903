// Package kibramoa is the Kibramoa payout rail: hosted-cashier payout
// sessions (POST /payout-session), transaction lookup
// (GET /payments/{transactionId}) and x-signature webhooks.
package kibramoa

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"payoutdesk/providers"
)

// AmountFormat says how the payout amount is written on the wire.
type AmountFormat string

// Amount formats. Kibramoa's docs switched from integer cents to decimal
// major units on 2022-12-12; which one the live API takes is unconfirmed.
const (
	// AmountDecimal sends major units with the currency's decimals (150.00).
	AmountDecimal AmountFormat = "decimal"
	// AmountMinor sends integer minor units (15000 for 150.00), as the
	// docs did before 2022-12-12.
	AmountMinor AmountFormat = "minor"
)

// SignatureHeader is the header that carries a notification's signature.
const SignatureHeader = "x-signature"

// Request header names.
const (
	headerAPIKey      = "X-API-KEY"
	headerContentType = "Content-Type"
)

// maxReference is the documented length limit of merchantReference.
const maxReference = 36

// maskKeys are JSON keys of a transaction that may hold account data.
var maskKeys = []string{"account", "accountNumber", "phone", "number", "pixKey", "clabe", "iban", "document_id", "documentId"}

// Config configures a Client.
type Config struct {
	// BaseURL is the API root without a trailing slash, such as
	// "https://api.sandbox.kibramoa.net".
	BaseURL string
	// APIKey is the merchant key sent in X-API-KEY.
	APIKey string
	// WebhookSecret is the merchant signature secret (not the API key)
	// that signs notifications.
	WebhookSecret string
	// DefaultRedirectURL is where the cashier sends the customer back, used
	// as the form's default and when a payout has no redirect_url.
	DefaultRedirectURL string
	// HTTPClient sends the requests (default http.DefaultClient); redirects
	// are never followed.
	HTTPClient *http.Client
	// Timeout bounds each method, all its requests, when its ctx has no
	// deadline (default 30 s).
	Timeout time.Duration
	// AmountFormat is AmountDecimal (default) or AmountMinor. It applies to
	// the amount sent and to paymentAmount read back.
	AmountFormat AmountFormat
	// WebhookRawOnly verifies signatures over the raw body only. By default
	// a signature over the compact re-serialisation of the body is accepted
	// too, since Kibramoa's sample code signs JSON.stringify(payload).
	WebhookRawOnly bool
}

// Client is the Kibramoa rail. It is safe for concurrent use.
type Client struct {
	cfg Config
}

var _ providers.Rail = (*Client)(nil)

// New returns a Client for cfg, filling in defaults.
func New(cfg Config) *Client {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.AmountFormat == "" {
		cfg.AmountFormat = AmountDecimal
	}
	return &Client{cfg: cfg}
}

// Name returns providers.Kibramoa.
func (c *Client) Name() providers.Name { return providers.Kibramoa }

// Capabilities describes Kibramoa: a hosted cashier, lookup by transaction id,
// no confirm step, no cancel and no idempotency header.
func (c *Client) Capabilities() providers.Capabilities {
	return providers.Capabilities{
		StatusLookup:  true,
		HostedCashier: true,
		Signature:     providers.SignatureHMACBase64,
	}
}

// Submit creates a cashier payout session. The result awaits the customer,
// with the cashier URL and the session id; Kibramoa's transaction id comes
// later, in notifications.
func (c *Client) Submit(ctx context.Context, p providers.Payout, prev providers.Ref) (providers.Result, error) {
	const op = "create payout session"
	var res providers.Result
	if prev.PaymentID != "" || prev.ProviderID != "" {
		// A session already exists: a second POST would open a second
		// payout, and the customer may still complete the first, so its
		// outcome is unknown (a lookup settles it), never "not sent".
		return res, providers.Unknown(providers.Kibramoa, op, 0, fmt.Errorf("a cashier session already exists for this payout (session %q, transaction %q)", prev.PaymentID, prev.ProviderID))
	}
	body, err := c.sessionBody(p)
	if err != nil {
		return res, providers.NotSent(providers.Kibramoa, op, err)
	}
	ctx, cancel := providers.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.call(ctx, &res, op, http.MethodPost, "/payout-session", body, nil)
	if err != nil {
		return res, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return res, c.refusal(op, resp)
	}
	cashier, session, err := parseSessionResponse(resp.Body)
	if err != nil {
		return res, providers.Unknown(providers.Kibramoa, op, resp.Status, err)
	}
	res.Status = providers.StatusAwaitingCustomer
	res.CashierURL = cashier
	res.PaymentID = session
	return res, nil
}

func (c *Client) sessionBody(p providers.Payout) ([]byte, error) {
	if len(p.Reference) > maxReference {
		return nil, fmt.Errorf("merchant reference is %d characters, Kibramoa allows %d", len(p.Reference), maxReference)
	}
	amount, err := c.amount(p.Amount)
	if err != nil {
		return nil, err
	}
	f := p.Fields
	body, err := json.Marshal(sessionRequest{
		Country:           f["country"],
		Currency:          p.Amount.Currency,
		Amount:            amount,
		RedirectURL:       c.redirectURL(f),
		MerchantReference: p.Reference,
		Description:       f["description"],
		UserID:            f["user_id"],
		UserAgent:         f["user_agent"],
		UserDevice:        f["user_device"],
		IP:                f["ip"],
		Language:          f["language"],
		Extra1:            f["extra1"],
		Extra2:            f["extra2"],
		Extra3:            f["extra3"],
	})
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return body, nil
}

// amount formats m for the wire in the configured unit.
func (c *Client) amount(m providers.Money) (json.Number, error) {
	if m.Minor <= 0 {
		return "", fmt.Errorf("amount %s is not positive", m)
	}
	decimal, err := m.Decimal()
	if err != nil {
		return "", err
	}
	switch c.cfg.AmountFormat {
	case AmountDecimal:
		return json.Number(decimal), nil
	case AmountMinor:
		return json.Number(strconv.FormatInt(m.Minor, 10)), nil
	}
	return "", fmt.Errorf("unknown AmountFormat %q (want %q or %q)", c.cfg.AmountFormat, AmountDecimal, AmountMinor)
}

// Confirm returns providers.ErrUnsupported: Kibramoa has no confirm step.
func (c *Client) Confirm(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	return providers.Result{}, providers.NotSent(providers.Kibramoa, "confirm payout", providers.ErrUnsupported)
}

// Cancel returns providers.ErrUnsupported: Kibramoa documents no cancel; the
// customer can cancel in the cashier, and an untouched session expires.
func (c *Client) Cancel(ctx context.Context, ref providers.Ref) (providers.Result, error) {
	return providers.Result{}, providers.NotSent(providers.Kibramoa, "cancel payout", providers.ErrUnsupported)
}

// call sends one request through providers.Do and records the exchange on
// res, also when it fails.
func (c *Client) call(ctx context.Context, res *providers.Result, op, method, path string, body []byte, mask []string) (providers.Response, error) {
	h := http.Header{}
	h.Set(headerAPIKey, c.cfg.APIKey)
	h.Set("Accept", "application/json")
	if body != nil {
		h.Set(headerContentType, "application/json")
	}
	resp, ex, err := providers.Do(ctx, c.cfg.HTTPClient, providers.Call{
		Provider:      providers.Kibramoa,
		Op:            op,
		Method:        method,
		URL:           c.cfg.BaseURL + path,
		Header:        h,
		Body:          body,
		SecretHeaders: []string{headerAPIKey},
		MaskKeys:      mask,
	})
	res.Exchanges = append(res.Exchanges, ex)
	return resp, err
}

// refusal turns a non-2xx answer into an *Error with Kibramoa's own words.
func (c *Client) refusal(op string, resp providers.Response) *providers.Error {
	env, ok := parseErrorEnvelope(resp.Body)
	var code, msg string
	var fields map[string][]string
	if ok {
		code = string(env.StatusCode)
		msg = strings.Join(env.Message, "; ")
		if msg == "" {
			msg = string(env.Error)
		}
		fields = fieldErrors(env.Message)
	} else {
		msg = http.StatusText(resp.Status)
	}
	e := providers.Classify(providers.Kibramoa, op, resp.Status, code, msg, fields)
	providers.NoteRetryAfter(e, resp.Header, time.Now())
	if ok && isDuplicateReference(env) {
		// "Reference already used" means a payout with it exists.
		e.Outcome = providers.OutcomeUnknown
		e.Retryable = false
	}
	return e
}
