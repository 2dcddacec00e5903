package sandbox

import (
	"strings"

	"payoutdesk/providers"
)

// Fault is a misbehaviour the sandbox plays when a payout carries a magic
// value, so agents can train on, and tests can reach, every branch.
type Fault string

// Faults, triggered by the whole major-unit amount of a payout (any currency,
// no fractional part) or, for FaultDecline, also by an account ending in 0000.
const (
	FaultNone Fault = ""
	// FaultDecline: the provider accepts the payout, then fails it with its
	// own error code and message.
	FaultDecline Fault = "decline"
	// FaultServerError: the create call answers HTTP 500; nothing is created.
	FaultServerError Fault = "server_error"
	// FaultTimeout: the payout is created but the answer never comes; the
	// sandbox holds the request until the client gives up.
	FaultTimeout Fault = "timeout"
	// FaultSlow: the answer comes after Config.SlowDelay.
	FaultSlow Fault = "slow"
	// FaultMalformed: the payout is created and the answer is HTTP 200 with
	// a body that is not valid JSON.
	FaultMalformed Fault = "malformed"
	// FaultDuplicateWebhook: the final webhook is delivered twice.
	FaultDuplicateWebhook Fault = "duplicate_webhook"
	// FaultOutOfOrder: the final webhook is followed by a stale "in
	// progress" one.
	FaultOutOfOrder Fault = "out_of_order_webhook"
	// FaultUnsettled: Smart Glocal ends the session in status "error" with
	// the payout failed, which its documents call not final (its support
	// settles it). The other providers have no such status and pay as usual.
	FaultUnsettled Fault = "unsettled"
	// FaultRateLimited: the call that carries the amount answers HTTP 429
	// with Retry-After the first time, creating nothing; sent again, the
	// payout goes through (see Sandbox.rateLimited).
	FaultRateLimited Fault = "rate_limited"
)

// MagicValue documents one fault trigger for the sandbox index page.
type MagicValue struct {
	Amount int64 // whole major units
	Fault  Fault
	Effect string
}

// MagicValues lists every trigger, in the order the index page shows them.
var MagicValues = []MagicValue{
	{666, FaultDecline, "accepted, then failed by the provider with its own error code and message (also: any account ending in 0000)"},
	{500, FaultServerError, "the create call answers HTTP 500 and creates nothing"},
	{408, FaultTimeout, "the payout is created but the answer never comes (the client times out: outcome unknown)"},
	{777, FaultSlow, "the answer comes after the slow delay (3 s unless configured)"},
	{418, FaultMalformed, "the payout is created and the answer is HTTP 200 with a body that is not JSON"},
	{222, FaultDuplicateWebhook, "the final webhook is delivered twice"},
	{333, FaultOutOfOrder, "the final webhook is followed by a stale in-progress one"},
	{429, FaultRateLimited, "the call that carries the amount answers HTTP 429 (rate limited, Retry-After: 3 s) the first time and creates nothing; sent again, the payout goes through"},
	{999, FaultUnsettled, "Smart Glocal only: the session ends in status error with the payout failed, which is not final (Smart Glocal's support settles it); the other providers pay as usual"},
}

// FaultFor returns the fault a payout of amount m to account triggers.
func FaultFor(m providers.Money, account string) Fault {
	if strings.HasSuffix(strings.TrimSpace(account), "0000") {
		return FaultDecline
	}
	units, err := m.WholeUnits()
	if err != nil {
		return FaultNone
	}
	for _, v := range MagicValues {
		if v.Amount == units {
			return v.Fault
		}
	}
	return FaultNone
}
