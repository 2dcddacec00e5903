package fedapay

import (
	"strings"

	"payoutdesk/providers"
)

// MapStatus maps a FedaPay payout status onto the payout lifecycle:
// scheduled, started and processing are in flight, sent is paid, failed is
// failed. Pending is created but not started, and stays so until someone
// starts it: as "in flight" it would be waited on for ever (our start
// refused or lost, a webhook for the created payout overtaking it), so it
// is unknown, which has it checked and, still pending, started again from
// its id. A pending or scheduled payout whose deleted_at is set
// is cancelled. What deletion means is not documented; providers.md reads
// it as cancelling a payout not yet under way, so one that reads deleted
// while started or processing, or in a status no document lists, is
// unknown: calling it cancelled, an unpaid end, could have it paid again
// while FedaPay may still be paying it. Any other status is unknown.
func MapStatus(raw string, deleted bool) providers.Status {
	status := strings.ToLower(strings.TrimSpace(raw))
	switch status {
	case "sent":
		return providers.StatusPaid
	case "failed":
		return providers.StatusFailed
	case "pending", "scheduled":
		switch {
		case deleted:
			return providers.StatusCancelled
		case status == "pending":
			return providers.StatusUnknown
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
