package fedapay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"payoutdesk/providers"
)

// SignatureHeader carries FedaPay's webhook signature:
// "t=<unix seconds>,s=<hex HMAC-SHA256(secret, "<t>.<raw body>")>".
const SignatureHeader = "X-FEDAPAY-SIGNATURE"

// ErrNotPayoutEvent is returned, wrapped with providers.ErrIgnored, for a
// verified event about something other than a payout (FedaPay sends
// transaction and customer events to the same endpoint); the app may
// acknowledge it and ignore it.
var ErrNotPayoutEvent = errors.New("not a payout event")

// Sign returns the X-FEDAPAY-SIGNATURE value for body sent at t.
func Sign(secret string, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",s=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks an X-FEDAPAY-SIGNATURE header against the raw body: one of
// its s= values must be the body's HMAC, and its timestamp within tolerance
// of now, either way. Errors wrap providers.ErrSignature.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return fmt.Errorf("fedapay: no webhook secret configured: %w", providers.ErrSignature)
	}
	if strings.TrimSpace(header) == "" {
		return fmt.Errorf("fedapay: missing %s header: %w", SignatureHeader, providers.ErrSignature)
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "t":
			v = strings.TrimSpace(v)
			if ts != "" && ts != v {
				return fmt.Errorf("fedapay: two timestamps in signature: %w", providers.ErrSignature)
			}
			ts = v
		case "s":
			if b, err := hex.DecodeString(strings.TrimSpace(v)); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || t <= 0 || len(sigs) == 0 {
		return fmt.Errorf("fedapay: malformed signature header: %w", providers.ErrSignature)
	}
	want := mac(secret, ts, body)
	matched := false
	for _, s := range sigs {
		// Compare every candidate so timing does not tell which one matched.
		if hmac.Equal(s, want) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("fedapay: signature does not match: %w", providers.ErrSignature)
	}
	if age := now.Unix() - t; age > int64(tolerance/time.Second) || -age > int64(tolerance/time.Second) {
		return fmt.Errorf("fedapay: signature timestamp %d outside tolerance of %v: %w", t, tolerance, providers.ErrSignature)
	}
	return nil
}

// eventWire is a FedaPay Event as delivered to webhooks.
type eventWire struct {
	ID     flexString      `json:"id"`
	Name   flexString      `json:"name"`
	Object flexString      `json:"object"`
	Entity json.RawMessage `json:"entity"`
}

// Webhook verifies a delivery with Config.WebhookSecret and parses it. Payout
// event names are not documented, so the status comes from the entity, not
// from the event's name.
func (c *Client) Webhook(h http.Header, body []byte, now time.Time) (providers.Update, error) {
	if err := Verify(c.cfg.WebhookSecret, h.Get(SignatureHeader), body, now, c.cfg.Tolerance); err != nil {
		return providers.Update{}, err
	}
	return parseEvent(body)
}

// parseEvent reads a verified event body into an Update. The entity is
// decoded once, before knowing whether it is a payout: a decode error only
// counts once the event is known to be about one.
func parseEvent(body []byte) (providers.Update, error) {
	var ev eventWire
	if err := json.Unmarshal(body, &ev); err != nil {
		return providers.Update{}, fmt.Errorf("fedapay: decode event: %w", errors.Join(providers.ErrPayload, err))
	}
	if !present(ev.Entity) {
		return providers.Update{}, fmt.Errorf("fedapay: event %q without entity: %w", ev.Name, providers.ErrPayload)
	}
	var entity payoutObject
	decodeErr := json.Unmarshal(ev.Entity, &entity)
	w := entity.wire()
	object := strings.TrimPrefix(strings.ToLower(string(ev.Object)), "v1/")
	if object != "payout" && string(w.Klass) != "v1/payout" {
		return providers.Update{}, fmt.Errorf("fedapay: event %q about %q: %w: %w", ev.Name, ev.Object, ErrNotPayoutEvent, providers.ErrIgnored)
	}
	if decodeErr != nil {
		return providers.Update{}, fmt.Errorf("fedapay: event %q: decode payout: %w", ev.Name, errors.Join(providers.ErrPayload, decodeErr))
	}
	po, err := w.check()
	if err != nil {
		return providers.Update{}, fmt.Errorf("fedapay: event %q: %w", ev.Name, errors.Join(providers.ErrPayload, err))
	}
	u := providers.Update{
		Provider:          providers.FedaPay,
		EventID:           strings.TrimSpace(string(ev.ID)),
		ProviderID:        strconv.FormatInt(po.ID, 10),
		Reference:         po.MerchantReference,
		ProviderReference: po.Reference,
		RawStatus:         po.Status,
		Status:            MapStatus(po.Status, po.Deleted),
		ErrorCode:         po.ErrorCode,
		ErrorMessage:      po.ErrorMessage,
	}
	if po.Deleted {
		u.RawStatus += " (deleted)"
	}
	if u.EventID == "" {
		u.EventID = providers.BodyEventID(body)
	}
	if po.HasAmount && po.Currency != "" {
		if m, err := providers.FromWholeUnits(po.Amount, po.Currency); err == nil {
			u.Amount = &m
		}
	}
	return u, nil
}
