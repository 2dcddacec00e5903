package monime

import (
	"strings"
	"testing"

	"payoutdesk/providers"
)

func TestMapStatus(t *testing.T) {
	tests := []struct {
		raw  string
		want providers.Status
	}{
		{"pending", providers.StatusProcessing},
		{"processing", providers.StatusProcessing},
		{"delayed", providers.StatusProcessing},
		{"completed", providers.StatusPaid},
		{"failed", providers.StatusFailed},
		{" Completed ", providers.StatusPaid},
		{"FAILED", providers.StatusFailed},
		{"unknown", providers.StatusUnknown},
		{"cancelled", providers.StatusUnknown},
		{"", providers.StatusUnknown},
	}
	for _, tt := range tests {
		if got := MapStatus(tt.raw); got != tt.want {
			t.Errorf("MapStatus(%q): got %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestRawStatus(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name, status, reason, want string
	}{
		{"plain", "processing", "", "processing"},
		{"reason ignored unless delayed", "processing", "busy", "processing"},
		{"delayed with reason", "delayed", " operator maintenance ", "delayed: operator maintenance"},
		{"delayed without reason", "delayed", "", "delayed"},
		{"long reason cut", "delayed", long, "delayed: " + long[:maxRawStatus-len("delayed: ")-1] + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawStatus(tt.status, tt.reason); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
