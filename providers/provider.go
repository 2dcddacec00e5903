// Package providers defines the provider-neutral payout contract that every
// payout rail (Kibramoa, Smart Glocal, Monime, FedaPay) implements, the money
// type they share, and the HTTP plumbing their clients have in common. Each
// provider lives in its own sub-package; the sandbox sub-package simulates
// all four over their real wire protocols.
package providers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// Name identifies a provider; it is also the path segment of its webhook URL.
type Name string

// The four providers.
const (
	Kibramoa    Name = "kibramoa"
	SmartGlocal Name = "smartglocal"
	Monime      Name = "monime"
	FedaPay     Name = "fedapay"
)

// All lists the providers in the order the UI shows them.
var All = []Name{Kibramoa, SmartGlocal, Monime, FedaPay}

// Title is the provider's display name.
func (n Name) Title() string {
	switch n {
	case Kibramoa:
		return "Kibramoa"
	case SmartGlocal:
		return "Smart Glocal"
	case Monime:
		return "Monime"
	case FedaPay:
		return "FedaPay"
	}
	return string(n)
}

// Status is what a provider says about a payout, mapped onto the payout
// lifecycle. A provider never reports the lifecycle's internal states
// (pending_approval, queued, submitting).
type Status string

// Provider-reported statuses.
const (
	// StatusProcessing: accepted by the provider and in flight.
	StatusProcessing Status = "processing"
	// StatusAwaitingCustomer: a Kibramoa cashier session waits for the customer.
	StatusAwaitingCustomer Status = "awaiting_customer"
	// StatusAwaitingConfirmation: Smart Glocal's ready_to_confirm step.
	StatusAwaitingConfirmation Status = "awaiting_confirmation"
	StatusPaid                 Status = "paid"
	StatusFailed               Status = "failed"
	StatusCancelled            Status = "cancelled"
	StatusExpired              Status = "expired"
	// StatusUnknown: the provider's answer does not settle the outcome (for
	// example Smart Glocal's session status "error", which is not final).
	StatusUnknown Status = "unknown"
)

// Payout is the request a payout makes to a provider.
type Payout struct {
	// IdempotencyKey is minted when the agent's form is rendered; the same
	// key always means the same payout.
	IdempotencyKey string
	// Reference is the merchant reference the provider sees (≤36 chars),
	// derived from the idempotency key.
	Reference string
	Amount    Money
	// Fields are the values of the provider's form (FormSpec), already
	// validated, keyed by Field.Name. Amount and currency are not in Fields.
	Fields map[string]string
}

// Ref is everything known about a payout at the provider, used to look it up,
// confirm or cancel it.
type Ref struct {
	// ProviderID is the provider's own id for the payout object: Kibramoa's
	// transaction id (once known) or session id, Smart Glocal's session id,
	// Monime's payout id, FedaPay's payout id.
	ProviderID string
	// PaymentID is a secondary id: Smart Glocal's payout id inside the
	// session, Kibramoa's cashier session id.
	PaymentID string
	// Reference is the merchant reference the payout was sent with.
	Reference      string
	IdempotencyKey string
}

// Result is what a provider said about a payout.
type Result struct {
	ProviderID string
	PaymentID  string
	// ProviderReference is the provider's own human-facing reference
	// (FedaPay's reference, Monime's transaction reference).
	ProviderReference string
	// Reference is our merchant reference as the provider holds it, when
	// its answer carries one (Monime's metadata).
	Reference string
	RawStatus string
	Status    Status
	// NextAction is "confirm" when Smart Glocal waits for session/confirm.
	NextAction string
	// CashierURL is where a Kibramoa customer completes the payout.
	CashierURL string
	// PayoutOption is the option the beneficiary picked with the provider
	// (SPEI, PIX, a wallet… in Kibramoa's cashier), when the provider says.
	PayoutOption string
	// ErrorCode and ErrorMessage are the provider's own words on a failure.
	ErrorCode    string
	ErrorMessage string
	// Amount and Beneficiary are what the provider holds, when it says
	// (Smart Glocal sessions), so the app can check it before confirming.
	Amount      *Money
	Beneficiary Beneficiary
	// Exchanges are the HTTP requests made and answers received, with
	// secrets removed, in order. Present also when an error is returned.
	Exchanges []Exchange
}

// Beneficiary is who receives a payout, as shown to people: the account is
// always masked.
type Beneficiary struct {
	Name          string
	AccountMasked string
	Country       string
	// AccountPrint stands for the whole account, when it was known whole
	// (see AccountPrint), so that two accounts with the same last four
	// characters can be told apart without carrying either. Never shown
	// or stored.
	AccountPrint string
}

// RecipientLimit is a provider's cap on payouts to one recipient in a
// rolling window (FedaPay: 3 to one mobile money number in 24 hours). The
// app checks it against the payouts it has already made when one is created.
type RecipientLimit struct {
	// Field is the form field naming the recipient, where a refusal shows,
	// and Noun what the recipient is ("mobile money number").
	Field, Noun string
	// Recipient identifies the recipient, normalised so that two spellings
	// of one number agree.
	Recipient string
	Max       int
	Window    time.Duration
}

// RecipientLimiter is a Rail whose provider caps payouts per recipient.
type RecipientLimiter interface {
	// RecipientLimit returns the cap that applies to p, if any. p has
	// passed Check.
	RecipientLimit(p Payout) (RecipientLimit, bool)
}

// Update is a provider-neutral status update parsed from a verified webhook.
type Update struct {
	Provider Name
	// EventID identifies the delivery for de-duplication: the provider's
	// event id, or a hash of the raw body when the provider sends none.
	EventID           string
	ProviderID        string
	PaymentID         string
	Reference         string
	ProviderReference string
	RawStatus         string
	Status            Status
	NextAction        string
	ErrorCode         string
	ErrorMessage      string
	// PayoutOption is as in Result.
	PayoutOption string
	Amount       *Money
	// PaidError is an error the provider attached to a paid transaction
	// (Kibramoa's own example of one carries an error): recorded with the
	// delivery, not shown on the payout.
	PaidError string
	// AmountUnread is why an amount the provider sent could not be read
	// (a unit the seeds leave unconfirmed, say): nothing acts on a
	// webhook's amount, so its status still counts; this goes on record.
	AmountUnread string
	// HintOnly marks webhooks that carry no trustworthy status (Monime): the
	// app must re-read the payout from the provider before acting.
	HintOnly bool
	// Refunded: the provider says the money came back after the payout
	// succeeded (Kibramoa's REFUNDED), which is news even for a payout
	// already paid, unlike a late failure, which is a stale delivery.
	Refunded bool
}

// BodyEventID is the Update.EventID of a delivery that carries no event id
// of its own: the hex SHA-256 of its raw body, so that a repeated delivery
// is recognised and a different one is not.
func BodyEventID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// SignatureKind names how a provider signs its webhooks.
type SignatureKind string

// Webhook signature schemes.
const (
	SignatureHMACBase64 SignatureKind = "hmac-sha256-base64"   // Kibramoa x-signature
	SignatureRSA        SignatureKind = "rsa-sha256"           // Smart Glocal X-PARTNER-SIGN
	SignatureSharedKey  SignatureKind = "shared-secret-header" // Monime (no published scheme)
	SignatureTimedHMAC  SignatureKind = "hmac-sha256-timed"    // FedaPay X-FEDAPAY-SIGNATURE
)

// Capabilities is what differs between providers.
type Capabilities struct {
	// ConfirmStep: the provider waits for an explicit confirm (Smart Glocal).
	ConfirmStep bool
	// IdempotencyHeader: a repeated create with the same key is safe, so an
	// unknown outcome may be settled by sending the same request again.
	IdempotencyHeader bool
	StatusLookup      bool
	Cancel            bool
	// Resumable: Submit with a Ref holding the provider's id from an
	// earlier attempt never creates a second payout; it looks that payout up
	// and finishes its flow (FedaPay's start, Smart Glocal's start).
	Resumable bool
	// HostedCashier: the customer completes the payout on a provider page.
	HostedCashier bool
	Signature     SignatureKind
}

// Rail is a payout provider as the app uses it. Every method takes ctx, whose
// deadline bounds the whole call. Errors are *Error values (or wrap one), so
// callers can tell a refusal from an unknown outcome.
type Rail interface {
	Name() Name
	Capabilities() Capabilities
	// Form is the agent's form for this provider.
	Form() FormSpec
	// Check runs the provider's domain rules on a payout whose fields passed
	// the form spec (limits, currency/country pairs, metadata sizes). It
	// returns messages keyed by field name; empty means valid.
	Check(p Payout) map[string]string
	// Beneficiary summarises who receives p, for lists and pages.
	Beneficiary(p Payout) Beneficiary
	// Submit sends a payout: every request of the provider's create flow
	// (Kibramoa session; Smart Glocal create + start; Monime create; FedaPay
	// create + start). prev carries ids from an earlier, interrupted attempt
	// so a multi-step flow resumes instead of creating a second payout.
	Submit(ctx context.Context, p Payout, prev Ref) (Result, error)
	// Lookup reads the payout's current status; ErrUnsupported if the
	// provider has no lookup for what ref holds.
	Lookup(ctx context.Context, ref Ref) (Result, error)
	// Confirm answers a confirm step (Smart Glocal); ErrUnsupported otherwise.
	Confirm(ctx context.Context, ref Ref) (Result, error)
	// Cancel cancels a payout where the provider allows it.
	Cancel(ctx context.Context, ref Ref) (Result, error)
	// Webhook verifies a delivery on its raw body and parses it.
	Webhook(h http.Header, body []byte, now time.Time) (Update, error)
}
