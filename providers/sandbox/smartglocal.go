package sandbox

import (
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/smartglocal"
)

// Smart Glocal's error codes are not published; the sandbox uses these.
const (
	sgCodeProject       = "invalid_project"
	sgCodeSignature     = "invalid_signature"
	sgCodeRequest       = "invalid_request"
	sgCodeValidation    = "validation_error"
	sgCodeNotFound      = "session_not_found"
	sgCodeSessionStatus = "invalid_session_status"
	sgCodeInternal      = "internal_error"
	sgCodeRateLimit     = "too_many_requests"
	sgCodeDeclined      = "recipient_bank_declined"
)

// sgAutoCancelSteps is how long a payout waits for session/confirm before
// it is cancelled (Smart Glocal: 240 minutes).
const sgAutoCancelSteps = 120

// smartglocalSim simulates Smart Glocal's session API: session/create,
// session/start/payout, session/confirm, session/cancel and session/status,
// each a signed POST, with ready_to_confirm and payment_finished webhooks
// signed by the provider key.
type smartglocalSim struct {
	s *Sandbox

	mu       sync.Mutex
	sessions map[string]*sgSession
	byKey    map[string]*sgSession
}

type sgSession struct {
	id, status, nextAction string
	created, updated       time.Time
	create                 sgCreateReq
	pay                    *sgPayment
	fault                  Fault
	// ready is the ready_to_confirm state, replayed late for FaultOutOfOrder.
	ready sgSessionJS
}

type sgPayment struct {
	id, status        string
	created, finished time.Time
	sgPayout
	errCode, errDesc string
}

func newSmartGlocal(s *Sandbox) *smartglocalSim {
	return &smartglocalSim{s: s, sessions: make(map[string]*sgSession), byKey: make(map[string]*sgSession)}
}

func (k *smartglocalSim) routes(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("POST "+prefix+"/session/create", k.auth(k.create))
	mux.HandleFunc("POST "+prefix+"/session/start/payout", k.auth(k.start))
	mux.HandleFunc("POST "+prefix+"/session/confirm", k.auth(k.confirm))
	mux.HandleFunc("POST "+prefix+"/session/cancel", k.auth(k.cancel))
	mux.HandleFunc("POST "+prefix+"/session/status", k.auth(k.status))
}

// auth checks X-PARTNER-PROJECT and the RSA signature of the raw body.
func (k *smartglocalSim) auth(next func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, providers.MaxResponseBytes))
		if err != nil {
			sgFail(w, http.StatusBadRequest, sgCodeRequest, "request body too large or unreadable")
			return
		}
		creds := k.s.cfg.Credentials
		if project := r.Header.Get(smartglocal.HeaderProject); project == "" || project != creds.SmartGlocalProject {
			sgFail(w, http.StatusUnauthorized, sgCodeProject, "unknown X-PARTNER-PROJECT")
			return
		}
		if creds.SmartGlocalPartnerKey == nil {
			sgFail(w, http.StatusUnauthorized, sgCodeSignature, "no partner key is registered for this project")
			return
		}
		if err := smartglocal.Verify(&creds.SmartGlocalPartnerKey.PublicKey, body, r.Header.Get(smartglocal.HeaderSignature)); err != nil {
			sgFail(w, http.StatusUnauthorized, sgCodeSignature, "X-PARTNER-SIGN does not match the request body")
			return
		}
		// Every Smart Glocal request is a JSON body sent as application/json.
		if !jsonContent(r) {
			sgFail(w, http.StatusBadRequest, sgCodeRequest, "Content-Type must be application/json")
			return
		}
		next(w, r, body)
	}
}

func (k *smartglocalSim) create(w http.ResponseWriter, r *http.Request, body []byte) {
	var req sgCreateReq
	if !sgDecode(w, body, &req) {
		return
	}
	var key string
	switch h := k.s.cfg.SmartGlocalIdempotencyHeader; h {
	case "":
		key = r.Header.Get(smartglocal.DefaultIdempotencyHeader)
	case smartglocal.NoIdempotencyHeader:
	default:
		key = r.Header.Get(h)
	}
	k.mu.Lock()
	sess, seen := k.byKey[key]
	if key == "" || !seen {
		now := time.Now()
		sess = &sgSession{id: "ps_" + sgID(), status: "created", created: now, updated: now, create: req}
		k.sessions[sess.id] = sess
		if key != "" {
			k.byKey[key] = sess
		}
	}
	out := sess.json()
	k.mu.Unlock()
	if !seen {
		k.s.count(providers.SmartGlocal, "session created")
	}
	sgOK(w, out)
}

func (k *smartglocalSim) start(w http.ResponseWriter, r *http.Request, body []byte) {
	var req sgStartReq
	if !sgDecode(w, body, &req) {
		return
	}
	k.mu.Lock()
	sess := k.sessions[req.SessionID]
	if sess == nil {
		k.mu.Unlock()
		sgFail(w, http.StatusNotFound, sgCodeNotFound, "no session "+req.SessionID)
		return
	}
	if sess.status != "created" {
		k.mu.Unlock()
		sgFail(w, http.StatusBadRequest, sgCodeSessionStatus, "session is "+sess.status+", not created")
		return
	}
	p, err := validateStart(req, sess.create)
	if err != nil {
		k.mu.Unlock()
		sgFail(w, http.StatusBadRequest, sgCodeValidation, err.Error())
		return
	}
	fault := FaultFor(p.amount, p.account)
	if fault == FaultServerError {
		k.mu.Unlock()
		sgFail(w, http.StatusInternalServerError, sgCodeInternal, "internal error")
		return
	}
	if k.s.rateLimited(w, providers.SmartGlocal, fault, sess.id) {
		k.mu.Unlock()
		sgFail(w, http.StatusTooManyRequests, sgCodeRateLimit, "too many requests, retry later")
		return
	}
	now := time.Now()
	sess.status, sess.updated, sess.fault = "in_progress", now, fault
	// The seed's start answer shows the payout already in_progress, as the
	// session is; it is pending while it waits for the confirm.
	sess.pay = &sgPayment{id: "po_" + sgID(), status: "in_progress", created: now, sgPayout: p}
	out := sess.json()
	k.mu.Unlock()
	k.s.count(providers.SmartGlocal, "payout created")
	k.s.after(1, func() { k.readyToConfirm(sess) })
	if k.s.answer(w, r, fault) {
		sgOK(w, out)
	}
}

func (k *smartglocalSim) confirm(w http.ResponseWriter, r *http.Request, body []byte) {
	k.decide(w, body, func(sess *sgSession) {
		k.s.count(providers.SmartGlocal, "session confirmed")
		sess.nextAction, sess.pay.status = "", "in_progress"
		k.s.after(1, func() { k.finish(sess) })
	})
}

func (k *smartglocalSim) cancel(w http.ResponseWriter, r *http.Request, body []byte) {
	var hook []byte
	k.decide(w, body, func(sess *sgSession) { hook = k.cancelLocked(sess) })
	if hook != nil {
		k.webhook(hook)
	}
}

// decide applies a confirm or cancel to a session waiting for one.
func (k *smartglocalSim) decide(w http.ResponseWriter, body []byte, apply func(*sgSession)) {
	var req sgSessionReq
	if !sgDecode(w, body, &req) {
		return
	}
	k.mu.Lock()
	sess := k.sessions[req.SessionID]
	if sess == nil {
		k.mu.Unlock()
		sgFail(w, http.StatusNotFound, sgCodeNotFound, "no session "+req.SessionID)
		return
	}
	if sess.status != "in_progress" || sess.nextAction != "confirm" {
		k.mu.Unlock()
		sgFail(w, http.StatusBadRequest, sgCodeSessionStatus, "session is not waiting for confirm or cancel")
		return
	}
	sess.updated = time.Now()
	apply(sess)
	out := sess.json()
	k.mu.Unlock()
	sgOK(w, out)
}

func (k *smartglocalSim) status(w http.ResponseWriter, r *http.Request, body []byte) {
	var req sgSessionReq
	if !sgDecode(w, body, &req) {
		return
	}
	k.mu.Lock()
	sess := k.sessions[req.SessionID]
	var out sgSessionJS
	if sess != nil {
		out = sess.json()
	}
	k.mu.Unlock()
	if sess == nil {
		sgFail(w, http.StatusNotFound, sgCodeNotFound, "no session "+req.SessionID)
		return
	}
	sgOK(w, out)
}

// sgDecode reads a JSON object strictly, answering invalid_request if it
// cannot.
func sgDecode(w http.ResponseWriter, body []byte, v any) bool {
	if err := decodeStrict(body, v); err != nil {
		sgFail(w, http.StatusBadRequest, sgCodeRequest, "invalid JSON: "+err.Error())
		return false
	}
	return true
}

func sgOK(w http.ResponseWriter, sess sgSessionJS) {
	writeJSON(w, http.StatusOK, sgEnvelope{Status: "ok", Session: &sess})
}

func sgFail(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, sgEnvelope{Status: "error", Error: &sgErrorJS{Code: code, Description: desc}})
}

// sgID is a random id suffix, so ids of a restarted sandbox never collide.
func sgID() string { return strings.ToLower(rand.Text()[:12]) }
