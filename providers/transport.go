package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"time"
)

// MaxResponseBytes bounds how much of a provider's answer is read.
const MaxResponseBytes = 1 << 20

// Call is one HTTP request to a provider.
type Call struct {
	Provider Name
	// Op names the step for errors and the exchange log ("create payout").
	Op     string
	Method string
	URL    string
	Header http.Header
	// Body is sent exactly as given; signatures are computed over it.
	Body []byte
	// SecretHeaders are header names whose values never leave this call.
	SecretHeaders []string
	// MaskKeys are JSON keys whose string values (account numbers) are
	// masked in the recorded exchange.
	MaskKeys []string
}

// Exchange is one request and its answer as kept for the payout's timeline,
// with secret headers removed and account numbers masked.
type Exchange struct {
	Op             string            `json:"op"`
	Method         string            `json:"method"`
	URL            string            `json:"url"`
	RequestHeader  map[string]string `json:"request_header,omitempty"`
	RequestBody    string            `json:"request_body,omitempty"`
	Status         int               `json:"status,omitempty"`
	ResponseBody   string            `json:"response_body,omitempty"`
	Started        time.Time         `json:"started"`
	DurationMillis int64             `json:"duration_ms"`
	Error          string            `json:"error,omitempty"`
}

// Response is a provider's answer to a Call.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// WithTimeout bounds ctx by d when ctx has no deadline of its own. Clients
// apply it once at the start of each Rail method, so that d bounds the whole
// method, every request of a multi-step flow included.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// Do sends c with hc (http.DefaultClient when nil), bounded by ctx. It never
// follows a redirect, whatever hc says: a followed 307 or 308 would send the
// payout again, credentials included, to wherever the answer points. It
// returns the answer whatever its HTTP status, and the exchange to record.
// The error is nil when an answer was read; otherwise it is an *Error whose
// Outcome is OutcomeNotSent if no connection was made, else OutcomeUnknown.
func Do(ctx context.Context, hc *http.Client, c Call) (Response, Exchange, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ex := Exchange{
		Op:            c.Op,
		Method:        c.Method,
		URL:           c.URL,
		RequestHeader: redactHeader(c.Header, c.SecretHeaders),
		RequestBody:   MaskJSON(c.Body, c.MaskKeys...),
		Started:       time.Now().UTC(),
	}
	fail := func(o Outcome, err error) (Response, Exchange, error) {
		ex.DurationMillis = time.Since(ex.Started).Milliseconds()
		ex.Error = exchangeError(err)
		return Response{}, ex, &Error{Provider: c.Provider, Op: c.Op, Outcome: o, Err: err}
	}

	var connected bool
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected = true }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), c.Method, c.URL, bytes.NewReader(c.Body))
	if err != nil {
		return fail(OutcomeNotSent, fmt.Errorf("build request: %w", err))
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	// net/http would send a request carrying an Idempotency-Key again by
	// itself when a reused connection drops before the answer; without a
	// way to rewind the body it cannot, so every send is one exchange here.
	req.GetBody = nil
	resp, err := noRedirect.Do(req)
	if err != nil {
		// Once a connection is made, any byte of the request may have reached
		// the provider; only a failure before that proves nothing was sent.
		if !connected {
			return fail(OutcomeNotSent, scrubURLError(err))
		}
		return fail(OutcomeUnknown, scrubURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	ex.Status = resp.StatusCode
	if err != nil {
		return fail(OutcomeUnknown, fmt.Errorf("read answer: %w", scrubURLError(err)))
	}
	if len(body) > MaxResponseBytes {
		return fail(OutcomeUnknown, errors.New("answer larger than 1 MiB"))
	}
	ex.ResponseBody = MaskJSON(body, c.MaskKeys...)
	ex.DurationMillis = time.Since(ex.Started).Milliseconds()
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, ex, nil
}

// exchangeError is why an exchange got no answer, as its record and the
// payout's timeline show it: in words for a timeout or a stop, rather
// than Go's "context deadline exceeded".
func exchangeError(err error) string {
	switch {
	case isTimeout(err):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "stopped before an answer came"
	}
	return err.Error()
}

// scrubURLError drops the *url.Error wrapper, whose text repeats the method
// and URL, and keeps the cause (timeout, connection refused).
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func redactHeader(h http.Header, secret []string) map[string]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, vs := range h {
		v := strings.Join(vs, ", ")
		for _, s := range secret {
			if strings.EqualFold(k, s) {
				v = "[redacted]"
			}
		}
		out[k] = v
	}
	return out
}

// Classify turns a refusal into an *Error by its HTTP status. A 4xx is a
// refusal (429 a retryable one), except 408, which a proxy may send while
// the provider still works on the request. A 5xx, and a 1xx or 3xx (an
// unfollowed redirect, or an answer nobody expects), leave the outcome
// unknown. A 2xx is a refusal: callers pass one only when its body says so
// (Smart Glocal's "status": "error"). code and message are the provider's
// own words parsed by the caller.
func Classify(p Name, op string, status int, code, message string, fields map[string][]string) *Error {
	e := &Error{Provider: p, Op: op, HTTPStatus: status, Code: code, Message: message, Fields: fields, Outcome: OutcomeRejected}
	switch {
	case status >= 500, status < 200, status >= 300 && status < 400, status == http.StatusRequestTimeout:
		e.Outcome = OutcomeUnknown
	case status == http.StatusTooManyRequests:
		e.Retryable = true
	}
	return e
}

// MaskJSON returns body as text with the string values of the given keys
// masked wherever they appear. A body that is not JSON is returned as is
// when no keys are given, else replaced by a note, since it might hold an
// account number in a form the masking cannot see.
func MaskJSON(body []byte, keys ...string) string {
	if len(keys) == 0 || len(body) == 0 {
		return string(body)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Sprintf("[%d bytes, not JSON, withheld]", len(body))
	}
	v = maskValue(v, keys)
	out, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("[%d bytes withheld]", len(body))
	}
	return string(out)
}

func maskValue(v any, keys []string) any {
	switch t := v.(type) {
	case map[string]any:
		for k := range t {
			if s, ok := t[k].(string); ok && containsFold(keys, k) {
				t[k] = MaskAccount(s)
				continue
			}
			t[k] = maskValue(t[k], keys)
		}
	case []any:
		for i := range t {
			t[i] = maskValue(t[i], keys)
		}
	}
	return v
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// MaskAccount hides all but the last four characters of an account number,
// IBAN, card number or phone number: "•••• 6789". Separators are dropped
// first, so a number typed "97 80 80 80" shows as "•••• 8080" wherever it
// is masked; a value already masked is returned as it is.
func MaskAccount(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "•") {
		return s
	}
	r := []rune(StripSeparators(s))
	if len(r) <= 4 {
		return strings.Repeat("•", len(r))
	}
	return "•••• " + string(r[len(r)-4:])
}
