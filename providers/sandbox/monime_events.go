package sandbox

import (
	"crypto/rand"
	"encoding/json"
	"log/slog"
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
	p.processing, p.processingAt = p.json, time.Now()
	snap, at := p.json, p.processingAt
	m.mu.Unlock()
	m.send(m.event("payout.processing", snap, at))
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
	snap, stale, staleAt, fault := p.json, p.processing, p.processingAt, p.fault
	m.mu.Unlock()
	final := m.event(event, snap, time.Now())
	m.s.finalWebhook(fault, func() { m.send(final) }, func() { m.send(m.event("payout.processing", stale, staleAt)) })
}

// event encodes a delivery about payout snap, as a new event that happened at.
func (m *monimeSim) event(name string, snap monimePayoutJSON, at time.Time) []byte {
	var wh monimeWebhook
	wh.APIVersion = "2024-08-01"
	wh.Event.ID = "evt-" + rand.Text()
	wh.Event.Name = name
	wh.Event.Timestamp = monimeTime(at)
	wh.Object.ID, wh.Object.Type = snap.ID, "payout"
	wh.Data = snap
	body, err := json.Marshal(wh)
	if err != nil {
		m.s.log.Error("monime webhook", slog.Any("error", err))
		return nil
	}
	return body
}

// send delivers a webhook body with the custom header configured on the
// webhook, which carries the shared secret.
func (m *monimeSim) send(body []byte) {
	if body != nil {
		m.s.deliver(providers.Monime, monime.WebhookHeaders(m.s.cfg.MonimeWebhookHeader, m.s.cfg.Credentials.MonimeWebhookSecret), body)
	}
}
