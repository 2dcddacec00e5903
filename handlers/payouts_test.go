package handlers

import (
	"strings"
	"testing"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// The cap message never names a time before the real one (it rounds up to
// the minute) and says the window as people do.
func TestCapMessage(t *testing.T) {
	l := providers.RecipientLimit{Noun: "mobile money number"}
	tests := []struct {
		next    time.Time
		window  time.Duration
		waiting int
		want    []string
		notWant string
	}{
		{time.Date(2026, 11, 22, 10, 5, 30, 0, time.UTC), 24 * time.Hour, 0,
			[]string{"in 24 hours", "from 22 Nov 2026 at 10:06 UTC."}, "still to be sent"},
		{time.Date(2026, 11, 22, 10, 5, 0, 0, time.UTC), 24 * time.Hour, 0, []string{"22 Nov 2026 at 10:05 UTC"}, "earliest"},
		{time.Date(2026, 11, 22, 23, 59, 1, 0, time.FixedZone("WAT", 3600)), time.Hour, 0,
			[]string{"in an hour", "22 Nov 2026 at 23:00 UTC"}, "earliest"},
		{time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), 90 * time.Minute, 0, []string{"in 1h30m0s"}, "earliest"},
		{time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), 24 * time.Hour, 2,
			[]string{"already has 3, 2 of them still to be sent", "10:00 UTC at the earliest"}, ""},
	}
	for _, tt := range tests {
		got := capMessage(providers.FedaPay, l, &db.CapError{Count: 3, Max: 3, Waiting: tt.waiting, Window: tt.window, Next: tt.next})
		for _, w := range append(tt.want, "FedaPay takes at most 3 payouts to one mobile money number", "already has 3") {
			if !strings.Contains(got, w) {
				t.Errorf("message %q lacks %q", got, w)
			}
		}
		if tt.notWant != "" && strings.Contains(got, tt.notWant) {
			t.Errorf("message %q says %q", got, tt.notWant)
		}
	}
}

// A payout that ended unpaid is explained only when its provider said
// nothing: neither a message nor an error code.
func TestEndedWhy(t *testing.T) {
	sent := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	cashier := providers.Capabilities{HostedCashier: true}
	tests := []struct {
		name string
		p    db.Payout
		caps providers.Capabilities
		want string
	}{
		{"cancelled in the cashier", db.Payout{Provider: "kibramoa", Status: db.StatusCancelled, SubmittedAt: sent}, cashier,
			"The customer cancelled in Kibramoa's cashier."},
		{"cashier expired", db.Payout{Provider: "kibramoa", Status: db.StatusExpired, SubmittedAt: sent}, cashier,
			"The customer did not finish in Kibramoa's cashier before it expired."},
		{"failed without a word", db.Payout{Provider: "monime", Status: db.StatusFailed, SubmittedAt: sent}, providers.Capabilities{},
			"Monime reported it failed without saying why."},
		{"failed with a code only", db.Payout{Provider: "smartglocal", Status: db.StatusFailed, SubmittedAt: sent, ErrorCode: "insufficient_funds"},
			providers.Capabilities{}, ""},
		{"failed with a message", db.Payout{Provider: "monime", Status: db.StatusFailed, SubmittedAt: sent, ErrorMessage: "Wallet closed"},
			providers.Capabilities{}, ""},
		{"never sent", db.Payout{Provider: "fedapay", Status: db.StatusRejected}, providers.Capabilities{}, ""},
		{"paid", db.Payout{Provider: "monime", Status: db.StatusPaid, SubmittedAt: sent}, providers.Capabilities{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := endedWhy(tt.p, tt.caps); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
