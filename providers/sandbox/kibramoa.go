package sandbox

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"payoutdesk/providers"
)

// Kibramoa timeline, in steps: a session nobody opens expires; once the
// customer completes it, PROCESSING is notified after one step and the final
// status after one more.
const (
	kibExpirySteps     = 450
	kibProcessingSteps = 1
	kibFinalSteps      = 1
)

// Kibramoa transaction statuses, including the documented misspelling.
const (
	kibInit       = "INIT"
	kibProcessing = "PROCESSING"
	kibCompleted  = "COMPLETED"
	kibUserCancel = "USER_CANCEL"
	kibDeclined   = "DECINED"
	kibExpired    = "EXPIRED"
)

const kibMerchantName = "Payout Desk (sandbox merchant)"

// kibramoaSim simulates Kibramoa's payout-session API, its transaction
// lookup, the hosted cashier page and x-signature notifications.
type kibramoaSim struct {
	s      *Sandbox
	prefix string

	mu       sync.Mutex
	sessions map[string]*kibSession // by session id
	byTx     map[string]*kibSession // by transaction id
	byRef    map[string]*kibSession // by merchantReference
}

// kibSession is one payout session and the transaction behind it.
type kibSession struct {
	id, txID string
	req      kibSessionReq
	amount   providers.Money
	// minorUnits writes amounts in minor units (see Config).
	minorUnits bool
	fault      Fault
	status     string
	// decided is set once the customer completed or cancelled.
	decided          bool
	option, account  string
	paymentRef       string
	errCode, errMsg  string
	created, updated time.Time
}

func newKibramoa(s *Sandbox) *kibramoaSim {
	return &kibramoaSim{
		s:        s,
		sessions: make(map[string]*kibSession),
		byTx:     make(map[string]*kibSession),
		byRef:    make(map[string]*kibSession),
	}
}

func (k *kibramoaSim) routes(mux *http.ServeMux, prefix string) {
	k.prefix = prefix
	mux.HandleFunc("POST "+prefix+"/payout-session", k.createSession)
	mux.HandleFunc("GET "+prefix+"/payments/{id}", k.getPayment)
	mux.HandleFunc("GET "+prefix+"/cashier/payout/{$}", k.cashierPage)
	mux.HandleFunc("POST "+prefix+"/cashier/payout/{$}", k.cashierSubmit)
	mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		kibError(w, http.StatusNotFound, fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path[len(prefix):]), "Not Found")
	})
}

// kibError writes Kibramoa's NestJS error envelope; message is a string or
// a list of strings, errText may be empty.
func kibError(w http.ResponseWriter, status int, message any, errText string) {
	body := map[string]any{"statusCode": status, "message": message}
	if errText != "" {
		body["error"] = errText
	}
	writeJSON(w, status, body)
}

// authorized checks X-API-KEY, answering 401 as Kibramoa does when it fails.
func (k *kibramoaSim) authorized(w http.ResponseWriter, r *http.Request) bool {
	if secretOK(r.Header.Get("X-API-KEY"), k.s.cfg.Credentials.KibramoaAPIKey) {
		return true
	}
	kibError(w, http.StatusUnauthorized, "Unauthorized", "")
	return false
}

func (k *kibramoaSim) createSession(w http.ResponseWriter, r *http.Request) {
	if !k.authorized(w, r) {
		return
	}
	req, amount, status, msg := kibValidate(r, k.s.cfg.KibramoaAmountMinor)
	if msg != nil {
		kibError(w, status, msg, "Bad Request")
		return
	}
	if c, ok := kibCountries[req.Country]; !ok || c.currency != req.Currency {
		kibError(w, http.StatusBadRequest, fmt.Sprintf("No payout options available for country %s and currency %s", req.Country, req.Currency), "Bad Request")
		return
	}
	fault := FaultFor(amount, "")
	if fault == FaultServerError {
		kibError(w, http.StatusInternalServerError, "Internal server error", "")
		return
	}
	if k.s.rateLimited(w, providers.Kibramoa, fault, req.MerchantReference) {
		// NestJS's throttler, whose envelope Kibramoa's errors have.
		kibError(w, http.StatusTooManyRequests, "ThrottlerException: Too Many Requests", "")
		return
	}
	now := time.Now().UTC()
	sess := &kibSession{id: kibUUID(), txID: kibUUID(), req: req, amount: amount, minorUnits: k.s.cfg.KibramoaAmountMinor,
		fault: fault, status: kibInit, created: now, updated: now}
	k.mu.Lock()
	if req.MerchantReference != "" && k.byRef[req.MerchantReference] != nil {
		k.mu.Unlock()
		kibError(w, http.StatusBadRequest, "merchantReference must be unique: a payout with it already exists", "Bad Request")
		return
	}
	k.sessions[sess.id] = sess
	k.byTx[sess.txID] = sess
	if req.MerchantReference != "" {
		k.byRef[req.MerchantReference] = sess
	}
	k.mu.Unlock()
	k.s.count(providers.Kibramoa, "payout created")
	k.s.after(kibExpirySteps, func() { k.expire(sess.id) })

	if !k.s.answer(w, r, fault) {
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{
		"cashierUrl": k.s.cfg.BaseURL + k.prefix + "/cashier/payout/?sessionId=" + sess.id,
	})
}

var kibUUIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (k *kibramoaSim) getPayment(w http.ResponseWriter, r *http.Request) {
	if !k.authorized(w, r) {
		return
	}
	id := r.PathValue("id")
	if !kibUUIDPattern.MatchString(id) {
		kibError(w, http.StatusBadRequest, "Validation failed (uuid is expected)", "Bad Request")
		return
	}
	k.mu.Lock()
	sess := k.byTx[id]
	var tx kibTransaction
	if sess != nil {
		tx = sess.transaction()
	}
	k.mu.Unlock()
	if sess == nil {
		kibError(w, http.StatusNotFound, []string{"Transaction not found."}, "")
		return
	}
	writeJSON(w, http.StatusOK, tx)
}

// kibTransaction is the transaction object of GET /payments/{id}.
type kibTransaction struct {
	ID                string      `json:"id"`
	SessionID         string      `json:"sessionId"`
	Country           string      `json:"country"`
	Currency          string      `json:"currency"`
	PaymentAmount     json.Number `json:"paymentAmount"`
	Method            *string     `json:"method"`
	Status            string      `json:"status"`
	PaymentReference  *string     `json:"paymentReference"`
	MerchantReference string      `json:"merchantReference"`
	RedirectURL       string      `json:"redirectUrl"`
	Customer          kibCustomer `json:"customer"`
	Errors            *kibErrors  `json:"errors"`
	CreatedAt         string      `json:"createdAt"`
	UpdatedAt         string      `json:"updatedAt"`
}

type kibCustomer struct {
	UserDevice string `json:"userDevice,omitempty"`
	UserAgent  string `json:"userAgent,omitempty"`
	IP         string `json:"ip,omitempty"`
}

type kibErrors struct {
	Code string `json:"code"`
	Msg  string `json:"msg"`
}

// wireAmount is the session's amount as Kibramoa writes it.
func (sess *kibSession) wireAmount() json.Number {
	if sess.minorUnits {
		return json.Number(strconv.FormatInt(sess.amount.Minor, 10))
	}
	// The currency was checked when the session was created.
	d, _ := sess.amount.Decimal()
	return json.Number(d)
}

// transaction snapshots the session; the caller holds k.mu.
func (sess *kibSession) transaction() kibTransaction {
	tx := kibTransaction{
		ID:                sess.txID,
		SessionID:         sess.id,
		Country:           sess.req.Country,
		Currency:          sess.req.Currency,
		PaymentAmount:     sess.wireAmount(),
		Status:            sess.status,
		MerchantReference: sess.req.MerchantReference,
		RedirectURL:       sess.req.RedirectURL,
		Customer:          kibCustomer{UserDevice: sess.req.UserDevice, UserAgent: sess.req.UserAgent, IP: sess.req.IP},
		CreatedAt:         sess.created.Format(kibTimeFormat),
		UpdatedAt:         sess.updated.Format(kibTimeFormat),
	}
	if sess.option != "" {
		tx.Method = &sess.option
	}
	if sess.paymentRef != "" {
		tx.PaymentReference = &sess.paymentRef
	}
	if sess.errCode != "" {
		tx.Errors = &kibErrors{Code: sess.errCode, Msg: sess.errMsg}
	}
	return tx
}

const kibTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// kibUUID returns a random version 4 UUID.
func kibUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
