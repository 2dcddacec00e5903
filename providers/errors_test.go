package providers_test

import (
	"net/http"
	"testing"

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
