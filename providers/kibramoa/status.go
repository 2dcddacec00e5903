package kibramoa

import (
	"strings"

	"payoutdesk/providers"
)

// MapStatus maps a Kibramoa transaction status, as sent in notifications and
// transaction objects, onto the payout lifecycle. Both DECLINED and the
// documented misspelling DECINED mean failed; REFUNDED is a failure too,
// since the money went back. Any status Kibramoa has not documented is
// StatusUnknown, so the caller keeps the raw status and asks a person.
func MapStatus(raw string) providers.Status {
	switch normalizeStatus(raw) {
	case "INIT":
		return providers.StatusAwaitingCustomer
	case "PROCESSING":
		return providers.StatusProcessing
	case "COMPLETED":
		return providers.StatusPaid
	case "USER_CANCEL":
		return providers.StatusCancelled
	case "ERROR", "DECLINED", "DECINED", "REFUNDED":
		return providers.StatusFailed
	case "EXPIRED":
		return providers.StatusExpired
	}
	return providers.StatusUnknown
}

func normalizeStatus(raw string) string {
	return strings.ToUpper(strings.TrimSpace(raw))
}
