package smartglocal

import (
	"testing"

	"payoutdesk/providers"
)

func TestMapStatus(t *testing.T) {
	tests := []struct {
		name                   string
		session, payment, next string
		want                   providers.Status
	}{
		{"created, not started", "created", "", "", providers.StatusUnknown},
		{"started, payout pending", "in_progress", "pending", "", providers.StatusProcessing},
		{"ready to confirm", "in_progress", "pending", "confirm", providers.StatusAwaitingConfirmation},
		{"confirmed, in progress", "in_progress", "in_progress", "", providers.StatusProcessing},
		{"capture is not confirm", "in_progress", "pending", "capture", providers.StatusProcessing},
		{"accepted and succeeded", "accepted", "succeeded", "", providers.StatusPaid},
		{"accepted, no payout listed", "accepted", "", "", providers.StatusPaid},
		{"accepted, payout still in progress", "accepted", "in_progress", "", providers.StatusProcessing},
		{"succeeded while session in progress", "in_progress", "succeeded", "", providers.StatusPaid},
		{"succeeded in a cancelled session", "cancelled", "succeeded", "", providers.StatusUnknown},
		{"failed, session cancelled", "cancelled", "failed", "", providers.StatusFailed},
		{"failed, session in progress", "in_progress", "failed", "", providers.StatusFailed},
		{"cancelled before confirm", "cancelled", "pending", "", providers.StatusCancelled},
		{"cancelled, no payout", "cancelled", "", "", providers.StatusCancelled},
		{"cancelled while the payout is under way", "cancelled", "in_progress", "", providers.StatusUnknown},
		{"failed in an accepted session", "accepted", "failed", "", providers.StatusUnknown},
		{"session error, payout failed", "error", "failed", "", providers.StatusUnknown},
		{"session error, payout succeeded", "error", "succeeded", "", providers.StatusUnknown},
		{"session error alone", "error", "", "", providers.StatusUnknown},
		{"undocumented session status", "on_hold", "pending", "", providers.StatusUnknown},
		{"empty", "", "", "", providers.StatusUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mapStatus(tt.session, tt.payment, tt.next); got != tt.want {
				t.Errorf("mapStatus(%q, %q, %q): got %s, want %s", tt.session, tt.payment, tt.next, got, tt.want)
			}
		})
	}
}

func TestRawStatus(t *testing.T) {
	tests := []struct{ session, payment, want string }{
		{"created", "", "created"},
		{"in_progress", "pending", "in_progress/pending"},
	}
	for _, tt := range tests {
		if got := rawStatus(tt.session, tt.payment); got != tt.want {
			t.Errorf("rawStatus(%q, %q): got %q, want %q", tt.session, tt.payment, got, tt.want)
		}
	}
}
