package monime

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"

	"payoutdesk/providers"
)

// WebhookHeaders returns the headers of a Monime delivery whose webhook is
// configured with the custom header name carrying secret (name defaults to
// DefaultWebhookHeader). The sandbox uses it to sign its deliveries.
func WebhookHeaders(name, secret string) http.Header {
	if name == "" {
		name = DefaultWebhookHeader
	}
	h := make(http.Header)
	h.Set(name, secret)
	h.Set("Content-Type", "application/json")
	return h
}

// VerifyWebhook checks the shared-secret header of a delivery in constant
// time. Monime publishes no signature format, so the deployment adds a
// random secret to the webhook's custom headers and this checks it. The
// errors wrap providers.ErrSignature.
func VerifyWebhook(h http.Header, name, secret string) error {
	if secret == "" {
		return fmt.Errorf("monime webhook: no secret configured: %w", providers.ErrSignature)
	}
	got := h.Values(name)
	if len(got) == 0 || got[0] == "" {
		return fmt.Errorf("monime webhook: missing %s header: %w", name, providers.ErrSignature)
	}
	// Comparing digests keeps the secret's length out of the timing too.
	g, w := sha256.Sum256([]byte(got[0])), sha256.Sum256([]byte(secret))
	if len(got) > 1 || subtle.ConstantTimeCompare(g[:], w[:]) != 1 {
		return fmt.Errorf("monime webhook: wrong %s header: %w", name, providers.ErrSignature)
	}
	return nil
}

// Webhook verifies a delivery's shared-secret header and parses its body.
// The update is only a hint (Update.HintOnly): Monime's deliveries are not
// signed over their content, so the app re-reads the payout before acting.
func (c *Client) Webhook(h http.Header, body []byte, _ time.Time) (providers.Update, error) {
	if err := VerifyWebhook(h, c.cfg.WebhookHeader, c.cfg.WebhookSecret); err != nil {
		return providers.Update{}, err
	}
	return ParseWebhook(body)
}

// ParseWebhook reads a delivery body, {"apiVersion", "event": {"id",
// "name", "timestamp"}, "object": {"id", "type"}, "data": {payout}} (seen in
// community code, not published), leniently: the payout id comes from
// object.id or data.id; the status from data.status, else from the event
// name (payout.completed, payout.failed, payout.created, payout.processing).
// Errors wrap providers.ErrPayload, or providers.ErrIgnored for a genuine
// event about something other than a payout.
func ParseWebhook(body []byte) (providers.Update, error) {
	m, ok := object(body)
	if !ok {
		return providers.Update{}, fmt.Errorf("monime webhook: body is not a JSON object: %w", providers.ErrPayload)
	}
	event, _ := object(m["event"])
	obj, _ := object(m["object"])
	data, _ := object(m["data"])
	u := providers.Update{Provider: providers.Monime, HintOnly: true, EventID: text(event["id"])}
	if u.EventID == "" {
		u.EventID = providers.BodyEventID(body)
	}
	if t := text(obj["type"]); t != "" && t != "payout" {
		return providers.Update{}, fmt.Errorf("monime webhook: object type %q is not a payout: %w", t, providers.ErrIgnored)
	}
	name := text(event["name"])
	if name != "" && !strings.HasPrefix(strings.ToLower(name), "payout.") {
		return providers.Update{}, fmt.Errorf("monime webhook: event %q is not a payout event: %w", name, providers.ErrIgnored)
	}
	p, err := readPayout(data)
	if err != nil {
		return providers.Update{}, fmt.Errorf("monime webhook: %v: %w", err, providers.ErrPayload)
	}
	u.ProviderID = text(obj["id"])
	switch {
	case u.ProviderID == "":
		u.ProviderID = p.ID
	case p.ID != "" && p.ID != u.ProviderID:
		return providers.Update{}, fmt.Errorf("monime webhook: object id %q and data id %q differ: %w", u.ProviderID, p.ID, providers.ErrPayload)
	}
	if u.ProviderID == "" {
		return providers.Update{}, fmt.Errorf("monime webhook: no payout id: %w", providers.ErrPayload)
	}
	raw := p.Status
	if raw == "" {
		raw = statusFromEvent(name)
	}
	u.RawStatus, u.Status = rawStatus(raw, p.DelayedReason), MapStatus(raw)
	u.Reference, u.ProviderReference, u.Amount = p.Reference, p.DestinationReference, p.Amount
	if u.Status == providers.StatusFailed {
		u.ErrorCode, u.ErrorMessage = p.FailureCode, p.FailureMessage
	}
	return u, nil
}

// statusFromEvent derives a raw status from an event name such as
// "payout.completed"; "payout.created" means the payout is pending.
func statusFromEvent(name string) string {
	rest, ok := strings.CutPrefix(strings.ToLower(name), "payout.")
	if !ok {
		return ""
	}
	switch rest {
	case "created":
		return RawPending
	case RawProcessing, RawDelayed, RawCompleted, RawFailed:
		return rest
	}
	return ""
}
