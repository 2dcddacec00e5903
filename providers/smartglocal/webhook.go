package smartglocal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"payoutdesk/providers"
)

// Webhook types Smart Glocal sends about payouts.
const (
	WebhookReadyToConfirm  = "ready_to_confirm"
	WebhookPaymentFinished = "payment_finished"
)

// Webhook verifies X-PARTNER-SIGN (Smart Glocal's RSA signature of the raw
// body) with Config.ProviderKey and parses the delivery. The signature has
// no timestamp, so now is not used: replays are caught by EventID.
func (c *Client) Webhook(h http.Header, body []byte, now time.Time) (providers.Update, error) {
	if err := Verify(c.cfg.ProviderKey, body, h.Get(HeaderSignature)); err != nil {
		return providers.Update{}, err
	}
	return ParseWebhook(body)
}

// ParseWebhook parses a webhook body {"type", "session"} whose signature
// was already verified. Errors wrap providers.ErrPayload.
func ParseWebhook(body []byte) (providers.Update, error) {
	var w struct {
		Type    string          `json:"type"`
		Session json.RawMessage `json:"session"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return providers.Update{}, fmt.Errorf("smartglocal: webhook: %v: %w", err, providers.ErrPayload)
	}
	snap, err := readSession(w.Session)
	if err != nil {
		return providers.Update{}, fmt.Errorf("smartglocal: webhook %q: %v: %w", w.Type, err, providers.ErrPayload)
	}
	// ready_to_confirm means the session waits for confirm even if an
	// older payload shape leaves next_action out.
	if w.Type == WebhookReadyToConfirm && snap.NextAction == "" && snap.SessionStatus == sessionInProgress {
		snap.NextAction = actionConfirm
	}
	return providers.Update{
		Provider:     providers.SmartGlocal,
		EventID:      providers.BodyEventID(body),
		ProviderID:   snap.SessionID,
		PaymentID:    snap.PaymentID,
		Reference:    snap.Reference,
		RawStatus:    rawStatus(snap.SessionStatus, snap.PaymentStatus),
		Status:       snap.Status(),
		NextAction:   snap.NextAction,
		ErrorCode:    snap.ErrorCode,
		ErrorMessage: snap.ErrorMessage,
		Amount:       snap.Amount,
	}, nil
}
