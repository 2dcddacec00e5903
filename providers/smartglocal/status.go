package smartglocal

import "payoutdesk/providers"

// Session statuses (session.status), payout statuses (session.payments[].status)
// and the next action Smart Glocal waits for, from providers.md §2.5.
const (
	sessionCreated    = "created"
	sessionInProgress = "in_progress"
	sessionAccepted   = "accepted"
	sessionCancelled  = "cancelled"
	sessionError      = "error"

	paymentPending   = "pending"
	paymentSucceeded = "succeeded"
	paymentFailed    = "failed"

	actionConfirm = "confirm"
)

// mapStatus maps a session's status, its payout's status ("" when the
// session has no payout yet) and its next action onto the payout lifecycle.
//
// Session "error" is explicitly not final at Smart Glocal (their support
// settles it), so it is unknown whatever the payout says. A failed payout
// is final otherwise. Contradictions are unknown rather than guessed: a
// succeeded payout in a cancelled session, a failed one in an accepted
// ("completed successfully") session, and a cancelled session whose payout
// is still under way (cancel is only offered before the payout starts).
// Read as an unpaid end, any of them would offer to create the payout
// again while the money may have gone.
func mapStatus(sessionStatus, paymentStatus, nextAction string) providers.Status {
	switch {
	case sessionStatus == sessionError:
		return providers.StatusUnknown
	case paymentStatus == paymentFailed:
		if sessionStatus == sessionAccepted {
			return providers.StatusUnknown
		}
		return providers.StatusFailed
	case paymentStatus == paymentSucceeded:
		if sessionStatus == sessionCancelled || sessionStatus == sessionCreated {
			return providers.StatusUnknown
		}
		return providers.StatusPaid
	}
	switch sessionStatus {
	case sessionAccepted:
		if paymentStatus == "" {
			return providers.StatusPaid
		}
		// Accepted while the payout still reads pending/in_progress: wait
		// for the payout's own final status.
		return providers.StatusProcessing
	case sessionCancelled:
		if paymentStatus != "" && paymentStatus != paymentPending {
			return providers.StatusUnknown
		}
		return providers.StatusCancelled
	case sessionInProgress:
		if nextAction == actionConfirm {
			return providers.StatusAwaitingConfirmation
		}
		return providers.StatusProcessing
	}
	// "created" (not started yet) and anything undocumented.
	return providers.StatusUnknown
}

// rawStatus is the provider's own status words as kept on the payout:
// the session's status, then the payout's when there is one.
func rawStatus(sessionStatus, paymentStatus string) string {
	if paymentStatus == "" {
		return sessionStatus
	}
	return sessionStatus + "/" + paymentStatus
}
