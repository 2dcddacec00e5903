package kibramoa

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"payoutdesk/providers"
)

// Sign returns the x-signature value of a notification body:
// base64(HMAC-SHA256(secret, body)).
func Sign(secret string, body []byte) string {
	return base64.StdEncoding.EncodeToString(mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// Webhook verifies a notification's x-signature on the raw body and parses
// it. Kibramoa signs no timestamp, so now is not used and a replayed
// notification is caught by its EventID instead.
func (c *Client) Webhook(h http.Header, body []byte, now time.Time) (providers.Update, error) {
	if err := verify(c.cfg.WebhookSecret, h.Get(SignatureHeader), body, !c.cfg.WebhookRawOnly); err != nil {
		return providers.Update{}, err
	}
	return parseNotification(body, c.cfg.AmountFormat)
}

// verify checks signature against the raw body and, when compact is set,
// against the body's compact re-serialisation (json.Compact keeps key order
// and string escapes), which is what JSON.stringify of the parsed payload
// gives for most bodies.
func verify(secret, signature string, body []byte, compact bool) error {
	if secret == "" {
		return fmt.Errorf("kibramoa: no webhook secret configured: %w", providers.ErrSignature)
	}
	signature = strings.TrimSpace(signature)
	if signature == "" {
		return fmt.Errorf("kibramoa: missing %s header: %w", SignatureHeader, providers.ErrSignature)
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		got, err = base64.RawStdEncoding.DecodeString(signature)
	}
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("kibramoa: malformed %s header: %w", SignatureHeader, providers.ErrSignature)
	}
	if hmac.Equal(got, mac(secret, body)) {
		return nil
	}
	if compact {
		var buf bytes.Buffer
		if json.Compact(&buf, body) == nil && !bytes.Equal(buf.Bytes(), body) && hmac.Equal(got, mac(secret, buf.Bytes())) {
			return nil
		}
	}
	return fmt.Errorf("kibramoa: %s does not match the body: %w", SignatureHeader, providers.ErrSignature)
}

// compacted is body without insignificant whitespace. A notification's
// EventID is made from it, as its signature may be: re-spacing a captured
// notification then does not make a new one that passes as a first delivery.
func compacted(body []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, body) != nil {
		return body
	}
	return buf.Bytes()
}

// parseNotification reads a verified notification body into an Update.
func parseNotification(body []byte, f AmountFormat) (providers.Update, error) {
	bad := func(err error) (providers.Update, error) {
		return providers.Update{}, fmt.Errorf("kibramoa: notification: %w: %w", providers.ErrPayload, err)
	}
	tx, err := decodeTransaction(body)
	if err != nil {
		return bad(err)
	}
	if tx.InternalID == "" && tx.SessionID == "" && tx.MerchantReference == "" {
		return bad(errors.New("no internalId, sessionId or merchantReference"))
	}
	u := providers.Update{
		Provider:          providers.Kibramoa,
		EventID:           providers.BodyEventID(compacted(body)),
		ProviderID:        tx.InternalID,
		PaymentID:         tx.SessionID,
		Reference:         string(tx.MerchantReference),
		ProviderReference: string(tx.PaymentReference),
		RawStatus:         tx.Status,
		Status:            MapStatus(tx.Status),
		Refunded:          normalizeStatus(tx.Status) == "REFUNDED",
		PayoutOption:      tx.payoutOption(),
	}
	// The amount's unit is unconfirmed (major or minor units) and nothing
	// acts on it: a signed status is not refused for it, which would have
	// Kibramoa resend it until it gave up, and the payout never learn it.
	if amount, err := tx.amount(f); err != nil {
		u.AmountUnread = err.Error()
	} else {
		u.Amount = amount
	}
	u.ErrorCode, u.ErrorMessage = tx.failure()
	if code, msg := tx.errorWords(); u.Status == providers.StatusPaid && (code != "" || msg != "") {
		u.PaidError = strings.TrimSpace(code + " " + msg)
	}
	return u, nil
}
