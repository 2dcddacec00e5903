package sandbox

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/smartglocal"
)

// The Smart Glocal timeline: ready_to_confirm one step after start,
// payment_finished one step after confirm, auto-cancel of unconfirmed
// payouts, and the webhook faults.

// readyToConfirm is one step after start: the payout waits for confirm.
func (k *smartglocalSim) readyToConfirm(sess *sgSession) {
	k.mu.Lock()
	if sess.status != "in_progress" || sess.nextAction != "" {
		k.mu.Unlock()
		return
	}
	// The payout waits as pending until the confirm, as Smart Glocal's
	// ready_to_confirm shows it.
	sess.nextAction, sess.updated, sess.pay.status = "confirm", time.Now(), "pending"
	sess.ready = sess.json()
	hook := sgHook(smartglocal.WebhookReadyToConfirm, sess.ready)
	k.mu.Unlock()
	k.webhook(hook)
	k.s.after(sgAutoCancelSteps, func() {
		k.mu.Lock()
		var hook []byte
		if sess.status == "in_progress" && sess.nextAction == "confirm" {
			hook = k.cancelLocked(sess)
		}
		k.mu.Unlock()
		if hook != nil {
			k.webhook(hook)
		}
	})
}

// cancelLocked cancels a session waiting for confirm and returns the
// payment_finished webhook. The payout keeps its pending status: only the
// session says cancelled.
func (k *smartglocalSim) cancelLocked(sess *sgSession) []byte {
	now := time.Now()
	sess.status, sess.nextAction, sess.updated = "cancelled", "", now
	sess.pay.finished = now
	return sgHook(smartglocal.WebhookPaymentFinished, sess.json())
}

// finish is one step after confirm: the payout succeeds, or fails on a decline.
func (k *smartglocalSim) finish(sess *sgSession) {
	k.mu.Lock()
	now := time.Now()
	sess.updated, sess.pay.finished = now, now
	switch sess.fault {
	case FaultDecline:
		sess.status, sess.pay.status = "cancelled", "failed"
		sess.pay.errCode, sess.pay.errDesc = sgCodeDeclined, "The recipient's bank declined the payout"
	case FaultUnsettled:
		sess.status, sess.pay.status = "error", "failed"
		sess.pay.errCode, sess.pay.errDesc = sgCodeInternal, "Unexpected error: ask Smart Glocal support for the payout's final status"
	default:
		sess.status, sess.pay.status = "accepted", "succeeded"
	}
	hook := sgHook(smartglocal.WebhookPaymentFinished, sess.json())
	// The stale event is the ready_to_confirm one as a late retry would
	// send it, stamped when sent: Smart Glocal webhooks carry no event id,
	// so a byte-identical copy would be dropped as a duplicate and never
	// test how an older status is ignored.
	ready := sess.ready
	ready.UpdatedAt = sgTime(now.Add(time.Millisecond))
	stale := sgHook(smartglocal.WebhookReadyToConfirm, ready)
	fault := sess.fault
	k.mu.Unlock()
	k.s.finalWebhook(fault, func() { k.webhook(hook) }, func() { k.webhook(stale) })
}

// webhook signs body with the provider key and sends it.
func (k *smartglocalSim) webhook(body []byte) {
	sig, err := smartglocal.Sign(k.s.cfg.Credentials.SmartGlocalProviderKey, body)
	if err != nil {
		k.s.log.Error("sign smart glocal webhook", slog.Any("error", err))
		return
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(smartglocal.HeaderSignature, sig)
	k.s.deliver(providers.SmartGlocal, h, body)
}

func (sess *sgSession) json() sgSessionJS {
	out := sgSessionJS{
		ID: sess.id, Status: sess.status, NextAction: sess.nextAction,
		CreatedAt: sgTime(sess.created), UpdatedAt: sgTime(sess.updated),
		Metadata: sess.create.Metadata,
	}
	if p := sess.pay; p != nil {
		pj := sgPaymentJS{
			ID: p.id, Status: p.status, CreatedAt: sgTime(p.created), FinishedAt: sgTime(p.finished),
			Customer: p.customer, PaymentMethod: p.method, ParticipantDetails: p.participants, Metadata: p.metadata,
			AmountDetails: sgAmountJS{Amount: p.amount.Minor, Currency: strings.ToLower(p.amount.Currency)},
		}
		if c := p.method.Card; c != nil && c.BankCard != nil {
			masked := *c
			masked.BankCard = &sgBankCard{Number: sgMaskCard(c.BankCard.Number)}
			pj.PaymentMethod.Card = &masked
		}
		if p.errCode != "" {
			pj.Error = &sgErrorJS{Code: p.errCode, Description: p.errDesc}
		}
		out.Payments = []sgPaymentJS{pj}
	}
	return out
}

func sgHook(typ string, sess sgSessionJS) []byte {
	b, _ := json.Marshal(struct {
		Type    string      `json:"type"`
		Session sgSessionJS `json:"session"`
	}{typ, sess})
	return b
}
