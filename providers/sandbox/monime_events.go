package sandbox

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/monime"
)

// process moves a pending payout to processing, then schedules its end.
func (m *monimeSim) process(id string) {
	m.mu.Lock()
	p := m.payouts[id]
	if p == nil || p.deleted || p.json.Status != "pending" {
		m.mu.Unlock()
		return
	}
	ref := "STX-" + rand.Text()[:12]
	p.json.Status = "processing"
	p.json.Source.TransactionReference = &ref
	p.processing = p.json
	snap := p.json
	m.mu.Unlock()
	m.webhook("payout.processing", snap)
	m.s.after(2, func() { m.finish(id) })
}

// finish completes a processing payout, or fails it for the decline fault.
func (m *monimeSim) finish(id string) {
	m.mu.Lock()
	p := m.payouts[id]
	if p == nil || p.json.Status != "processing" {
		m.mu.Unlock()
		return
	}
	event := "payout.completed"
	if p.fault == FaultDecline {
		event = "payout.failed"
		p.json.Status = "failed"
		p.json.FailureDetail = &monimeFailureDetail{
			Code:        "providerAccountBlocked",
			Explanation: "The destination account is blocked by the provider and cannot receive funds.",
		}
	} else {
		ref := "DTX-" + rand.Text()[:12]
		p.json.Status = "completed"
		p.json.Destination.TransactionReference = &ref
	}
	snap, stale, fault := p.json, p.processing, p.fault
	m.mu.Unlock()
	body := m.webhook(event, snap)
	// The extra delivery comes a step later, as a provider's retry would, so
	// that the app sees it after the final one.
	switch fault {
	case FaultDuplicateWebhook:
		m.s.after(1, func() { m.s.deliver(providers.Monime, m.webhookHeader(), body) })
	case FaultOutOfOrder:
		m.s.after(1, func() { m.webhook("payout.processing", stale) })
	}
}

// webhook sends one delivery about payout snap and returns its body.
func (m *monimeSim) webhook(event string, snap monimePayoutJSON) []byte {
	var wh monimeWebhook
	wh.APIVersion = "2024-08-01"
	wh.Event.ID = "evt-" + rand.Text()
	wh.Event.Name = event
	wh.Event.Timestamp = monimeTime(time.Now())
	wh.Object.ID, wh.Object.Type = snap.ID, "payout"
	wh.Data = snap
	body, err := json.Marshal(wh)
	if err != nil {
		m.s.log.Error("monime webhook", "error", err)
		return nil
	}
	m.s.deliver(providers.Monime, m.webhookHeader(), body)
	return body
}

// webhookHeader is the custom header configured on the webhook, carrying
// the shared secret.
func (m *monimeSim) webhookHeader() http.Header {
	return monime.WebhookHeaders(m.s.cfg.MonimeWebhookHeader, m.s.cfg.Credentials.MonimeWebhookSecret)
}
