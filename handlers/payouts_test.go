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
