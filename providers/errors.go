package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Outcome says what a failed provider call means for the money.
type Outcome int

// Outcomes of a failed call.
const (
	// OutcomeRejected: the provider answered and refused; nothing was done.
	OutcomeRejected Outcome = iota + 1
	// OutcomeUnknown: the request may have been processed (network error
	// after connecting, timeout, 5xx, unreadable success answer).
	OutcomeUnknown
	// OutcomeNotSent: the request never reached the provider.
	OutcomeNotSent
)

func (o Outcome) String() string {
	switch o {
	case OutcomeRejected:
		return "rejected"
	case OutcomeUnknown:
		return "unknown"
	case OutcomeNotSent:
		return "not sent"
	}
	return "invalid"
}

// Sentinel errors. errors.Is(err, ErrOutcomeUnknown) holds for any *Error
// whose Outcome is OutcomeUnknown, and likewise for the others.
var (
	ErrOutcomeUnknown = errors.New("outcome unknown")
	ErrRejected       = errors.New("rejected by provider")
	ErrNotSent        = errors.New("not sent")
	// ErrUnsupported: the provider has no such operation.
	ErrUnsupported = errors.New("not supported by this provider")
	// ErrSignature: a webhook's signature is missing, malformed, stale or wrong.
	ErrSignature = errors.New("webhook signature invalid")
	// ErrPayload: a webhook's body cannot be understood.
	ErrPayload = errors.New("webhook payload invalid")
	// ErrIgnored: a webhook is genuine but not about a payout (a pay-in, a
	// customer update); it is acknowledged and not acted on.
	ErrIgnored = errors.New("webhook not about a payout")
)

// Error is a failed call to a provider. It never holds credentials.
type Error struct {
	Provider Name
	// Op is the step that failed, such as "create payout" or "start payout".
	Op         string
	Outcome    Outcome
	HTTPStatus int
	// Code and Message are the provider's own words, when it gave any.
	Code    string
	Message string
	// Fields are per-field messages (FedaPay's errors, Kibramoa's list).
	Fields map[string][]string
	// Retryable marks a refusal that did not process the request and may be
	// sent again later (HTTP 429).
	Retryable bool
	// RetryAfter is how long a retryable refusal asked to be left alone
	// (its Retry-After header, see NoteRetryAfter); zero when it did not say.
	RetryAfter time.Duration
	// NotFound marks a lookup's refusal as the provider saying it has no
	// payout by the id asked about (see MarkNotFound).
	NotFound bool
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Provider, e.Op)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": http %d", e.HTTPStatus)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	fmt.Fprintf(&b, " (%s)", e.Outcome)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// NotSent returns the error of a call to provider p that never reached it:
// a request that could not be built, or an operation it does not have.
func NotSent(p Name, op string, err error) *Error {
	return &Error{Provider: p, Op: op, Outcome: OutcomeNotSent, Err: err}
}

// Unknown returns the error of a call whose effect at provider p cannot be
// told, such as a 2xx answer that cannot be read; status is 0 when the
// answer is not the cause.
func Unknown(p Name, op string, status int, err error) *Error {
	return &Error{Provider: p, Op: op, Outcome: OutcomeUnknown, HTTPStatus: status, Err: err}
}

// AboutHeld returns err with a final refusal read as an unknown outcome,
// for a call about a payout the provider already holds (an earlier attempt
// created it). The refusal says nothing of that payout, which may be paid
// or started by someone else: read as failed, it would be offered to be
// created again and could be paid twice. Other errors are returned as they
// are.
func AboutHeld(err error) error {
	var pe *Error
	if errors.As(err, &pe) && pe.Outcome == OutcomeRejected && !pe.Retryable {
		pe.Outcome = OutcomeUnknown
	}
	return err
}

// Is matches the outcome sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrOutcomeUnknown:
		return e.Outcome == OutcomeUnknown
	case ErrRejected:
		return e.Outcome == OutcomeRejected
	case ErrNotSent:
		return e.Outcome == OutcomeNotSent
	}
	return false
}

// OutcomeOf returns the outcome of err: the *Error's, or OutcomeUnknown for
// any other non-nil error, since an unexplained failure cannot prove that
// nothing happened.
func OutcomeOf(err error) Outcome {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Outcome
	}
	return OutcomeUnknown
}

// NotFound reports whether err is the provider saying, in its own words,
// that it has no payout by the id it gave us: a lookup's refusal that
// MarkNotFound marked.
func NotFound(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.NotFound
}

// MarkNotFound marks err, the refusal of a lookup by the provider's own id
// of a payout (res its result), as NotFound when the provider answered 404
// with a JSON error of its own. A 404 page from a proxy or a mistyped base
// URL is no such answer, and must not make every payout in flight unknown.
func MarkNotFound(err error, res Result) {
	var pe *Error
	if !errors.As(err, &pe) || pe.HTTPStatus != http.StatusNotFound || len(res.Exchanges) == 0 {
		return
	}
	var body map[string]any
	pe.NotFound = json.Unmarshal([]byte(res.Exchanges[len(res.Exchanges)-1].ResponseBody), &body) == nil
}

// NoteRetryAfter records on err, a retryable refusal, how long the answer
// with header h asked to wait before the next try: Retry-After as seconds
// or as an HTTP date (RFC 9110 §10.2.3). A value of neither form, or a date
// already past, says nothing.
func NoteRetryAfter(err error, h http.Header, now time.Time) {
	var pe *Error
	if !errors.As(err, &pe) || !pe.Retryable {
		return
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	// Digits only: ParseUint refuses signs, and 32 bits of seconds cannot
	// overflow a Duration.
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		pe.RetryAfter = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil && t.After(now) {
		pe.RetryAfter = t.Sub(now)
	}
}

// Describe says what went wrong with a provider call in a support agent's
// words: which provider, which step and what it answered, without the
// error chain the logs keep ("FedaPay answered HTTP 500 to “create
// payout”: Internal error."). Any other error is its own text.
func Describe(err error) string {
	var pe *Error
	if !errors.As(err, &pe) {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(pe.Provider.Title())
	timedOut := isTimeout(pe.Err)
	switch {
	case pe.HTTPStatus != 0:
		fmt.Fprintf(&b, " answered HTTP %d to “%s”", pe.HTTPStatus, pe.Op)
	case timedOut:
		fmt.Fprintf(&b, " did not answer “%s” in time", pe.Op)
	default:
		fmt.Fprintf(&b, ", “%s”", pe.Op)
	}
	var words []string
	for _, w := range []string{pe.Code, pe.Message, pe.FieldText()} {
		if w = strings.TrimSpace(w); w != "" {
			words = append(words, w)
		}
	}
	switch {
	case len(words) > 0:
		b.WriteString(": " + strings.Join(words, ": "))
	case pe.Err != nil && !timedOut:
		b.WriteString(": " + pe.Err.Error())
	}
	if s := b.String(); !strings.HasSuffix(s, ".") {
		b.WriteString(".")
	}
	return b.String()
}

// FieldText is the per-field messages as one text, fields in order:
// "amount: too large; phone: invalid".
func (e *Error) FieldText() string {
	var parts []string
	for _, field := range slices.Sorted(maps.Keys(e.Fields)) {
		for _, m := range e.Fields[field] {
			parts = append(parts, field+": "+m)
		}
	}
	return strings.Join(parts, "; ")
}

// isTimeout reports whether err is a call that ran out of time.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
