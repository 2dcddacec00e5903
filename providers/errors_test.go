package providers_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"payoutdesk/providers"
)

// Only a provider's own JSON answer of 404 to a lookup says that it has no
// such payout: a proxy's or a wrong base URL's 404 page, another status,
// or no answer at all says nothing of the kind.
func TestMarkNotFound(t *testing.T) {
	answered := func(body string) providers.Result {
		return providers.Result{Exchanges: []providers.Exchange{{Status: http.StatusNotFound, ResponseBody: body}}}
	}
	tests := []struct {
		name string
		err  error
		res  providers.Result
		want bool
	}{
		{"the provider's JSON 404", providers.Classify(providers.Monime, "get payout", 404, "not_found", "No payout with this id", nil),
			answered(`{"success":false,"error":{"reason":"not_found"}}`), true},
		{"a 404 page", providers.Classify(providers.Monime, "get payout", 404, "", "Not Found", nil),
			answered("<html><body>404 Not Found</body></html>"), false},
		{"a body withheld as not JSON", providers.Classify(providers.Monime, "get payout", 404, "", "Not Found", nil),
			answered("[22 bytes, not JSON, withheld]"), false},
		{"an empty 404", providers.Classify(providers.Monime, "get payout", 404, "", "Not Found", nil), answered(""), false},
		{"another refusal", providers.Classify(providers.Monime, "get payout", 400, "bad", "Bad", nil),
			answered(`{"success":false}`), false},
		{"a 404 without its exchange", providers.Classify(providers.Monime, "get payout", 404, "not_found", "", nil), providers.Result{}, false},
		{"no answer", providers.Unknown(providers.Monime, "get payout", 0, http.ErrHandlerTimeout), answered(""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			providers.MarkNotFound(tt.err, tt.res)
			if got := providers.NotFound(tt.err); got != tt.want {
				t.Errorf("NotFound = %v, want %v", got, tt.want)
			}
		})
	}
	if providers.NotFound(nil) {
		t.Error("NotFound(nil) = true")
	}
}

// A retryable refusal keeps the wait its Retry-After asked for, given in
// seconds or as a date; anything else in the header says nothing, and
// other errors are left alone.
func TestNoteRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"3", 3 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"", 0},
		{"-5", 0},
		{"+5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"99999999999", 0}, // beyond 32 bits of seconds
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		e := providers.Classify(providers.Monime, "create payout", http.StatusTooManyRequests, "", "", nil)
		providers.NoteRetryAfter(fmt.Errorf("send: %w", e), http.Header{"Retry-After": {tt.header}}, now)
		if e.RetryAfter != tt.want {
			t.Errorf("Retry-After %q: waits %v, want %v", tt.header, e.RetryAfter, tt.want)
		}
	}
	// Only a retryable refusal waits: a final refusal is not sent again.
	refused := providers.Classify(providers.Monime, "create payout", http.StatusBadRequest, "", "", nil)
	providers.NoteRetryAfter(refused, http.Header{"Retry-After": {"3"}}, now)
	if refused.RetryAfter != 0 {
		t.Errorf("a 400 keeps a wait of %v", refused.RetryAfter)
	}
	providers.NoteRetryAfter(errors.New("not a provider's answer"), http.Header{"Retry-After": {"3"}}, now)
	providers.NoteRetryAfter(nil, http.Header{"Retry-After": {"3"}}, now)
}
