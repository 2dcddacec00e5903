package db

import (
	"errors"
	"fmt"
	"slices"
)

// Status is where a payout is in its lifecycle, the same for every provider.
type Status string

// Payout statuses.
const (
	StatusPendingApproval      Status = "pending_approval"
	StatusRejected             Status = "rejected"
	StatusExpired              Status = "expired"
	StatusQueued               Status = "queued"
	StatusSubmitting           Status = "submitting"
	StatusProcessing           Status = "processing"
	StatusAwaitingCustomer     Status = "awaiting_customer"
	StatusAwaitingConfirmation Status = "awaiting_confirmation"
	StatusPaid                 Status = "paid"
	StatusFailed               Status = "failed"
	StatusCancelled            Status = "cancelled"
	StatusUnknown              Status = "unknown"
)

// Statuses lists every status, in lifecycle order, for filters.
var Statuses = []Status{
	StatusPendingApproval, StatusQueued, StatusSubmitting, StatusAwaitingCustomer, StatusAwaitingConfirmation,
	StatusProcessing, StatusUnknown, StatusPaid, StatusFailed, StatusCancelled, StatusRejected, StatusExpired,
}

// transitions is the payout lifecycle: the only place that says which
// status may follow which. Final statuses have no way out.
var transitions = map[Status][]Status{
	// Cancelled: withdrawn by its creator before anyone decided.
	StatusPendingApproval: {StatusQueued, StatusRejected, StatusExpired, StatusCancelled},
	StatusQueued:          {StatusSubmitting, StatusCancelled},
	// Back to queued only when the request provably never left.
	StatusSubmitting: {StatusQueued, StatusProcessing, StatusAwaitingCustomer, StatusAwaitingConfirmation,
		StatusPaid, StatusFailed, StatusCancelled, StatusExpired, StatusUnknown},
	StatusAwaitingCustomer: {StatusProcessing, StatusPaid, StatusFailed, StatusCancelled, StatusExpired, StatusUnknown},
	StatusAwaitingConfirmation: {StatusProcessing, StatusPaid, StatusFailed, StatusCancelled, StatusExpired,
		StatusUnknown},
	StatusProcessing: {StatusAwaitingConfirmation, StatusPaid, StatusFailed, StatusCancelled, StatusExpired,
		StatusUnknown},
	StatusUnknown: {StatusProcessing, StatusAwaitingCustomer, StatusAwaitingConfirmation, StatusPaid,
		StatusFailed, StatusCancelled, StatusExpired},
}

// ErrIllegalTransition is returned for a status change the lifecycle forbids.
var ErrIllegalTransition = errors.New("illegal status transition")

// CanTransition reports whether a payout may go from one status to another.
func CanTransition(from, to Status) bool {
	return slices.Contains(transitions[from], to)
}

// checkTransition returns ErrIllegalTransition, wrapped with both statuses,
// unless from → to is allowed.
func checkTransition(from, to Status) error {
	if !CanTransition(from, to) {
		return fmt.Errorf("%w: %s → %s", ErrIllegalTransition, from, to)
	}
	return nil
}

// Final reports whether nothing can follow s.
func (s Status) Final() bool {
	switch s {
	case StatusPaid, StatusFailed, StatusCancelled, StatusRejected, StatusExpired:
		return true
	}
	return false
}

// InFlight reports whether the provider holds the payout and its outcome is
// still to come: the statuses reconciliation follows.
func (s Status) InFlight() bool {
	switch s {
	case StatusProcessing, StatusAwaitingCustomer, StatusAwaitingConfirmation, StatusUnknown:
		return true
	}
	return false
}

// Label is the status as people read it.
func (s Status) Label() string {
	switch s {
	case StatusPendingApproval:
		return "waiting for approval"
	case StatusQueued:
		return "queued"
	case StatusSubmitting:
		return "sending"
	case StatusAwaitingCustomer:
		return "waiting for customer"
	case StatusAwaitingConfirmation:
		return "waiting for confirmation"
	case StatusUnknown:
		return "outcome unknown"
	}
	return string(s)
}
