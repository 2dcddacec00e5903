package fedapay

import (
	"strings"

	"payoutdesk/providers"
)

// MapStatus maps a FedaPay payout status onto the payout lifecycle:
// pending, scheduled, started and processing are in flight, sent is paid,
// failed is failed. A pending or scheduled payout whose deleted_at is set
// is cancelled. What deletion means is not documented; providers.md reads
// it as cancelling a payout not yet under way, so one that reads deleted
// while started or processing, or in a status no document lists, is
// unknown: calling it cancelled, an unpaid end, could have it paid again
// while FedaPay may still be paying it. Any other status is unknown.
func MapStatus(raw string, deleted bool) providers.Status {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "sent":
		return providers.StatusPaid
	case "failed":
		return providers.StatusFailed
	case "pending", "scheduled":
		if deleted {
			return providers.StatusCancelled
		}
		return providers.StatusProcessing
	case "started", "processing":
		if deleted {
			return providers.StatusUnknown
		}
		return providers.StatusProcessing
	}
	return providers.StatusUnknown
}
