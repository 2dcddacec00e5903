package handlers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// WebhookStore records webhook deliveries with their audit events.
type WebhookStore interface {
	Received(ctx context.Context, provider, eventID string, ev db.Event, apply func(tx *sql.Tx) error) (bool, error)
	Rejected(ctx context.Context, ev db.Event) error
}

// Webhooks receives provider webhooks at POST /webhooks/{provider}. It
// verifies each delivery on its raw body, drops duplicates and audits every
// delivery, rejected ones included.
type Webhooks struct {
	Log   *slog.Logger
	Rails *providers.Registry
	Store WebhookStore
	Flow  *Flow
	Now   func() time.Time

	// refusals bounds the refused deliveries audited one by one.
	refusals rejectionBudget
}

// maxWebhookBytes bounds a delivery's body; providers send a few KiB.
const maxWebhookBytes = 1 << 20

// Receive handles one delivery. What it writes is written even if the
// sender hangs up meanwhile: every delivery is audited, and a hint's lookup
// may already have been answered.
func (h *Webhooks) Receive(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(context.WithoutCancel(r.Context()))
	name := providers.Name(r.PathValue("provider"))
	ev := event(r, "webhook.received")
	ev.Actor, ev.Provider = db.Actor{Type: db.ActorProvider, ID: string(name)}, string(name)
	rail, ok := h.Rails.Get(name)
	if !ok {
		// No provider of ours: the name is the sender's text, kept short
		// and quoted, with what is not plainly visible escaped, so that it
		// never reads as one of ours (a direction override shows
		// "yapadef" as "fedapay").
		ev.Actor, ev.Provider = db.Actor{Type: db.ActorProvider, ID: strconv.QuoteToGraphic(truncate(string(name), 64))}, ""
		h.reject(w, r, ev, http.StatusNotFound, errors.New("unknown provider"), nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBytes))
	if err != nil {
		h.reject(w, r, ev, http.StatusRequestEntityTooLarge, fmt.Errorf("body too large or unreadable: %w", err), nil)
		return
	}
	u, err := rail.Webhook(r.Header, body, h.Now())
	switch {
	case errors.Is(err, providers.ErrIgnored):
		ev.Action = "webhook.ignored"
		ev.Details = map[string]any{"reason": err.Error(), "body_sha256": providers.BodyEventID(body)}
		if err := h.Store.Rejected(r.Context(), ev); err != nil {
			serverError(w, r, h.Log, err)
			return
		}
		writeWebhookOK(w)
		return
	case errors.Is(err, providers.ErrSignature):
		h.reject(w, r, ev, http.StatusUnauthorized, err, body)
		return
	case err != nil:
		h.reject(w, r, ev, http.StatusBadRequest, err, body)
		return
	}
	ev.TargetType, ev.TargetID = "provider_event", u.EventID
	ev.Details = updateDetails(u)
	if err := h.Flow.ApplyWebhook(r.Context(), name, u, ev); err != nil {
		// A 5xx makes the provider deliver again later.
		serverError(w, r, h.Log, err)
		return
	}
	writeWebhookOK(w)
}

// reject audits a delivery refused for err, within the sender's budget
// (see rejectionBudget), and answers status; body, when read, is described
// by its size and hash.
func (h *Webhooks) reject(w http.ResponseWriter, r *http.Request, ev db.Event, status int, err error, body []byte) {
	v := h.refusals.take(ev.Origin.IP, h.Now())
	if !v.Audit {
		http.Error(w, http.StatusText(status), status)
		return
	}
	ev.Action, ev.Outcome = "webhook.rejected", db.OutcomeFailure
	ev.Details = map[string]any{"reason": err.Error()}
	if body != nil {
		// BodyEventID is the body's hex SHA-256.
		ev.Details["body_sha256"], ev.Details["bytes"] = providers.BodyEventID(body), len(body)
	}
	if v.Last {
		limit, from := rejectionsBySender, "this address"
		if v.Overall {
			limit, from = rejectionsOverall, "all addresses"
		}
		ev.Details["recording"] = fmt.Sprintf("more than %d refused deliveries from %s in %v: further ones are counted, not recorded, until %s",
			limit, from, rejectionWindow, v.Until.UTC().Format(time.RFC3339))
	}
	if v.Unrecorded > 0 {
		ev.Details["unrecorded_before"] = v.Unrecorded
	}
	if err := h.Store.Rejected(r.Context(), ev); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	h.Log.WarnContext(r.Context(), "webhook rejected", "provider", ev.Actor.ID, slog.Any("error", err))
	http.Error(w, http.StatusText(status), status)
}

// updateDetails describes a verified update for the audit log.
func updateDetails(u providers.Update) map[string]any {
	d := map[string]any{
		"event_id":   u.EventID,
		"status":     string(u.Status),
		"raw_status": u.RawStatus,
	}
	for k, v := range map[string]string{
		"provider_id": u.ProviderID, "payment_id": u.PaymentID, "reference": u.Reference,
		"provider_reference": u.ProviderReference, "next_action": u.NextAction,
		"error_code": u.ErrorCode, "error_message": u.ErrorMessage, "payout_option": u.PayoutOption,
	} {
		if v != "" {
			d[k] = v
		}
	}
	if u.Amount != nil {
		d["amount"] = u.Amount.String()
	}
	if u.AmountUnread != "" {
		d["amount_unread"] = u.AmountUnread
	}
	if u.PaidError != "" {
		d["paid_error"] = u.PaidError
	}
	if u.HintOnly {
		d["hint_only"] = true
	}
	return d
}

// writeWebhookOK answers 200, which every provider takes as "delivered".
func writeWebhookOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"ok"}`))
}
