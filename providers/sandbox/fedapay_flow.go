package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/fedapay"
)

// advance moves a started payout, or a scheduled one when its time has
// come, to processing after one step and to sent or failed after two,
// sending payout.processing and payout.sent or payout.failed webhooks.
func (f *fedapaySim) advance(id int64) {
	f.s.after(1, func() { f.process(id) })
	f.s.after(2, func() { f.finish(id) })
}

func (f *fedapaySim) process(id int64) {
	f.mu.Lock()
	rec := f.payouts[id]
	if rec == nil || (rec.obj.Status != "started" && rec.obj.Status != "scheduled") {
		f.mu.Unlock()
		return
	}
	rec.obj.Status, rec.obj.UpdatedAt = "processing", fpNow()
	rec.processing = rec.obj
	ev := f.event("payout.processing", rec.obj)
	f.mu.Unlock()
	f.send(ev)
}

func (f *fedapaySim) finish(id int64) {
	f.mu.Lock()
	rec := f.payouts[id]
	if rec == nil || rec.obj.Status != "processing" {
		f.mu.Unlock()
		return
	}
	now := fpNow()
	o := &rec.obj
	o.UpdatedAt = now
	name := "payout.sent"
	if rec.fault == FaultDecline {
		code, msg := "payout_declined", "The mobile money operator declined the payout."
		if strings.HasSuffix(rec.phone, "0000") {
			code, msg = "invalid_account", "The number is not a mobile money account."
		}
		o.Status, o.FailedAt, o.LastErrorCode, o.LastErrorMessage = "failed", &now, &code, &msg
		o.AmountTransferred = 0
		name = "payout.failed"
	} else {
		o.Status, o.SentAt = "sent", &now
		o.TransactionKey = fpPtr("tk_" + strconv.FormatInt(o.ID, 10) + "_" + strconv.FormatInt(time.Now().UnixMilli(), 10))
	}
	ev := f.event(name, *o)
	fault, processing := rec.fault, rec.processing
	f.mu.Unlock()
	f.s.finalWebhook(fault, func() { f.send(ev) }, func() {
		// A new event about the payout as it was while processing, dated then.
		f.mu.Lock()
		stale := f.event("payout.processing", processing)
		f.mu.Unlock()
		stale.CreatedAt = processing.UpdatedAt
		f.send(stale)
	})
}

// event builds a webhook Event about obj; f.mu must be held.
func (f *fedapaySim) event(name string, obj fpPayoutObject) fpEvent {
	f.lastEvent++
	return fpEvent{
		ID: f.lastEvent, Klass: "v1/event", Name: name, Object: "payout", ObjectID: obj.ID,
		Entity: obj, AccountID: obj.AccountID, CreatedAt: fpNow(),
	}
}

// send signs ev with the webhook secret and delivers it.
func (f *fedapaySim) send(ev fpEvent) {
	body, err := json.Marshal(ev)
	if err != nil {
		f.s.log.Error("fedapay: encode event", "err", err)
		return
	}
	h := http.Header{}
	h.Set(fedapay.SignatureHeader, fedapay.Sign(f.s.cfg.Credentials.FedaPayWebhookSecret, body, time.Now()))
	f.s.deliver(providers.FedaPay, h, body)
}

// lookup returns a copy of payout id, if it exists.
func (f *fedapaySim) lookup(id int64) (fpPayoutObject, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := f.payouts[id]
	if rec == nil {
		return fpPayoutObject{}, false
	}
	return rec.obj, true
}

func (f *fedapaySim) get(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	obj, ok := f.lookup(id)
	if !ok {
		fpWriteError(w, http.StatusNotFound, "Payout not found.", nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]fpPayoutObject{"v1/payout": obj})
}

// byMerchant serves GET /payouts/merchant/{reference}, an endpoint known
// only from community clients.
func (f *fedapaySim) byMerchant(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	f.mu.Lock()
	id, ok := f.byRef[r.PathValue("reference")]
	f.mu.Unlock()
	obj, found := f.lookup(id)
	if !ok || !found {
		fpWriteError(w, http.StatusNotFound, "Payout not found.", nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]fpPayoutObject{"v1/payout": obj})
}

// delete soft-deletes a payout that was never started.
func (f *fedapaySim) delete(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	rec := f.payouts[id]
	switch {
	case rec == nil || rec.obj.DeletedAt != nil:
		f.mu.Unlock()
		fpWriteError(w, http.StatusNotFound, "Payout not found.", nil)
		return
	case rec.obj.Status != "pending":
		f.mu.Unlock()
		fpWriteError(w, http.StatusUnprocessableEntity, "Only a pending payout can be deleted.", nil)
		return
	}
	now := fpNow()
	rec.obj.DeletedAt, rec.obj.UpdatedAt = &now, now
	obj := rec.obj
	ev := f.event("payout.deleted", obj)
	f.mu.Unlock()
	f.s.count(providers.FedaPay, "payout deleted")
	f.send(ev)
	writeJSON(w, http.StatusOK, map[string]fpPayoutObject{"v1/payout": obj})
}
