package fedapay

import (
	"strings"

	"payoutdesk/providers"
)

// MapStatus maps a FedaPay payout status onto the payout lifecycle:
// pending, scheduled, started and processing are in flight, sent is paid,
// failed is failed. A payout whose deleted_at is set is cancelled, unless
// its status already says the money was sent or failed. Any other status is
// unknown.
func MapStatus(raw string, deleted bool) providers.Status {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "sent":
		return providers.StatusPaid
	case "failed":
		return providers.StatusFailed
	}
	if deleted {
		return providers.StatusCancelled
	}
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "pending", "scheduled", "started", "processing":
		return providers.StatusProcessing
	}
	return providers.StatusUnknown
}
