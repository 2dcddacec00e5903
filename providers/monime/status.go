package monime

import (
	"strings"

	"payoutdesk/providers"
)

// Raw payout statuses of the legacy 2024-08-01 API.
const (
	RawPending    = "pending"
	RawProcessing = "processing"
	RawDelayed    = "delayed"
	RawCompleted  = "completed"
	RawFailed     = "failed"
)

// MapStatus maps a Monime payout status onto the payout lifecycle. Delayed
// payouts are still in flight, so they map to processing; the delay reason
// is kept in Result.RawStatus and Update.RawStatus as "delayed: <reason>".
// Any status Monime may add later maps to unknown, which makes the app ask
// again rather than guess.
func MapStatus(raw string) providers.Status {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case RawPending, RawProcessing, RawDelayed:
		return providers.StatusProcessing
	case RawCompleted:
		return providers.StatusPaid
	case RawFailed:
		return providers.StatusFailed
	}
	return providers.StatusUnknown
}

// maxRawStatus bounds the raw status text kept for the payout's page.
const maxRawStatus = 200

// rawStatus is the status shown to people: the provider's status, followed
// by the delay reason when a delayed payout carries one ("delayed: operator
// maintenance").
func rawStatus(status, delayedReason string) string {
	status = strings.TrimSpace(status)
	reason := strings.TrimSpace(delayedReason)
	if !strings.EqualFold(status, RawDelayed) || reason == "" {
		return status
	}
	s := []rune(status + ": " + reason)
	if len(s) > maxRawStatus {
		s = append(s[:maxRawStatus-1], '…')
	}
	return string(s)
}
