package sandbox

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"payoutdesk/providers"
)

// monimeSim simulates Monime's legacy payouts API: POST /payouts with a
// required Idempotency-Key (same key and body replay the same payout, same
// key and another body is a conflict), GET and DELETE /payouts/{id}, and
// shared-secret webhooks. A payout is pending when created, processing one
// step later and completed (or failed, for the decline fault) two steps
// after that.
type monimeSim struct {
	s *Sandbox

	mu      sync.Mutex
	payouts map[string]*monimePayout
	keys    map[string]monimeKey
}

// monimePayout is a payout's state and the fault it plays.
type monimePayout struct {
	json    monimePayoutJSON
	fault   Fault
	deleted bool
	// processing is the payout as it was while processing, and since when,
	// for the stale webhook of FaultOutOfOrder.
	processing   monimePayoutJSON
	processingAt time.Time
}

// monimeKey is what an Idempotency-Key was first used for.
type monimeKey struct {
	bodyHash [32]byte
	id       string
}

func newMonime(s *Sandbox) *monimeSim {
	return &monimeSim{s: s, payouts: make(map[string]*monimePayout), keys: make(map[string]monimeKey)}
}

func (m *monimeSim) routes(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("POST "+prefix+"/payouts", m.create)
	mux.HandleFunc("GET "+prefix+"/payouts/{id}", m.get)
	mux.HandleFunc("DELETE "+prefix+"/payouts/{id}", m.delete)
}

// auth checks the Bearer token and the space, answering when they fail.
func (m *monimeSim) auth(w http.ResponseWriter, r *http.Request) bool {
	creds := m.s.cfg.Credentials
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !secretOK(token, creds.MonimeToken) {
		monimeError(w, http.StatusUnauthorized, "unauthenticated", "Invalid or missing access token", nil)
		return false
	}
	space := r.Header.Get("Monime-Space-Id")
	switch {
	case space == "" || len(space) > 100:
		monimeError(w, http.StatusBadRequest, "invalid_request", "Monime-Space-Id header is required (at most 100 characters)",
			[]monimeDetail{{Field: "Monime-Space-Id", Message: "is required"}})
		return false
	case space != creds.MonimeSpaceID:
		monimeError(w, http.StatusForbidden, "permission_denied", "The access token has no access to this space", nil)
		return false
	}
	return true
}

func (m *monimeSim) create(w http.ResponseWriter, r *http.Request) {
	if !m.auth(w, r) {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 64 {
		monimeError(w, http.StatusBadRequest, "invalid_request", "Idempotency-Key header is required (at most 64 characters)",
			[]monimeDetail{{Field: "Idempotency-Key", Message: "is required, at most 64 characters"}})
		return
	}
	if !jsonContent(r) {
		monimeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json", nil)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		monimeError(w, http.StatusBadRequest, "invalid_request", "Request body too large", nil)
		return
	}
	var body monimeCreateBody
	if err := decodeStrict(raw, &body); err != nil {
		monimeError(w, http.StatusBadRequest, "invalid_request", "Request body is not a valid payout: "+err.Error(), nil)
		return
	}
	amount, details := body.validate()
	if len(details) > 0 {
		monimeError(w, http.StatusUnprocessableEntity, "validation_failed", "The payout is not valid", details)
		return
	}
	// Bodies that differ only in white space are the same request.
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		monimeError(w, http.StatusBadRequest, "invalid_request", "Request body is not a valid payout: "+err.Error(), nil)
		return
	}
	hash := sha256.Sum256(compact.Bytes())

	fault := FaultFor(providers.Money{Minor: amount.Value, Currency: amount.Currency}, body.Destination.AccountID)
	if m.s.rateLimited(w, providers.Monime, fault, key) {
		monimeError(w, http.StatusTooManyRequests, "rate_limited", "Too many requests, retry later", nil)
		return
	}

	m.mu.Lock()
	prev, seen := m.keys[key]
	var snap monimePayoutJSON
	deleted := false
	switch {
	case seen:
		p := m.payouts[prev.id]
		snap, deleted = p.json, p.deleted
	case fault != FaultServerError:
		snap = m.store(key, hash, &body, amount, fault)
	}
	m.mu.Unlock()

	switch {
	case seen && prev.bodyHash != hash:
		monimeError(w, http.StatusConflict, "idempotency_conflict",
			"This Idempotency-Key was already used with a different request body", nil)
		return
	case seen && deleted:
		monimeError(w, http.StatusConflict, "idempotency_conflict",
			"This Idempotency-Key belongs to a payout that was deleted", nil)
		return
	case seen:
		// Faults are not played again: a replay is how a client settles a
		// timeout.
		m.s.count(providers.Monime, "replayed")
		monimeOK(w, snap)
		return
	case fault == FaultServerError:
		monimeError(w, http.StatusInternalServerError, "internal", "Something went wrong on our side", nil)
		return
	}
	m.s.count(providers.Monime, "payout created")
	m.send(m.event("payout.created", snap, time.Now()))
	m.s.after(1, func() { m.process(snap.ID) })
	if !m.s.answer(w, r, fault) {
		return
	}
	monimeOK(w, snap)
}

// store creates a pending payout for a first use of key; m.mu is held.
func (m *monimeSim) store(key string, hash [32]byte, body *monimeCreateBody, amount monimeAmount, fault Fault) monimePayoutJSON {
	md := body.Metadata
	if md == nil {
		md = map[string]string{}
	}
	p := &monimePayout{fault: fault, json: monimePayoutJSON{
		ID: "pyt-" + rand.Text(), Status: "pending", Amount: amount,
		Charges: []any{}, CreateTime: monimeTime(time.Now()), Metadata: md,
	}}
	p.json.Destination.ProviderCode = body.Destination.ProviderCode
	p.json.Destination.AccountID = body.Destination.AccountID
	// Monime pays from the space's main account when no source account is
	// given: no source, or one whose financialAccountId is null or empty
	// (the legacy spec makes it nullable, defaulting to Main).
	p.json.Source.FinancialAccountID = "fac-main"
	if body.Source != nil && body.Source.FinancialAccountID != "" {
		p.json.Source.FinancialAccountID = body.Source.FinancialAccountID
	}
	m.payouts[p.json.ID] = p
	m.keys[key] = monimeKey{bodyHash: hash, id: p.json.ID}
	return p.json
}

func (m *monimeSim) get(w http.ResponseWriter, r *http.Request) {
	if !m.auth(w, r) {
		return
	}
	m.mu.Lock()
	p, ok := m.payouts[r.PathValue("id")]
	var snap monimePayoutJSON
	if ok && !p.deleted {
		snap = p.json
	}
	m.mu.Unlock()
	if snap.ID == "" {
		monimeError(w, http.StatusNotFound, "not_found", "No payout with this id", nil)
		return
	}
	monimeOK(w, snap)
}

func (m *monimeSim) delete(w http.ResponseWriter, r *http.Request) {
	if !m.auth(w, r) {
		return
	}
	m.mu.Lock()
	p, ok := m.payouts[r.PathValue("id")]
	var status string
	switch {
	case !ok || p.deleted:
	case p.json.Status == "pending":
		p.deleted = true
		status = "deleted"
	default:
		status = p.json.Status
	}
	m.mu.Unlock()
	switch status {
	case "":
		monimeError(w, http.StatusNotFound, "not_found", "No payout with this id", nil)
	case "deleted":
		m.s.count(providers.Monime, "payout deleted")
		monimeOK(w, nil)
	default:
		monimeError(w, http.StatusConflict, "failed_precondition",
			"Only a pending payout can be deleted; this one is "+status, nil)
	}
}
