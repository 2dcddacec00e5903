package sandbox

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/kibramoa"
)

// kibCashierView is the cashier page's data.
type kibCashierView struct {
	Base        string
	NotFound    bool
	Merchant    string
	Description string
	Amount      string
	SessionID   string
	StatusText  string
	// Open is true while the customer can still complete or cancel.
	Open         bool
	Options      []kibOptionView
	AccountLabel string
	Account      string
	Error        string
	// redirect is where finishing the session sends the customer.
	redirect string
}

type kibOptionView struct {
	Name    string
	Checked bool
	// Refused says why the option cannot carry the amount; it is then
	// shown disabled.
	Refused string
}

func (k *kibramoaSim) cashierPage(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	sess := k.sessions[r.URL.Query().Get("sessionId")]
	var v kibCashierView
	if sess != nil {
		v = sess.view()
	}
	k.mu.Unlock()
	if sess == nil {
		k.renderCashier(w, http.StatusNotFound, kibCashierView{NotFound: true})
		return
	}
	k.renderCashier(w, http.StatusOK, v)
}

func (k *kibramoaSim) cashierSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot read the form", http.StatusBadRequest)
		return
	}
	id, action := r.PostForm.Get("sessionId"), r.PostForm.Get("action")
	option, account := r.PostForm.Get("option"), strings.TrimSpace(r.PostForm.Get("account"))

	k.mu.Lock()
	sess := k.sessions[id]
	if sess == nil {
		k.mu.Unlock()
		k.renderCashier(w, http.StatusNotFound, kibCashierView{NotFound: true})
		return
	}
	if !sess.open() {
		v := sess.view()
		k.mu.Unlock()
		k.renderCashier(w, http.StatusConflict, v)
		return
	}
	var problem string
	opt, offered := kibCountries[sess.req.Country].option(option)
	switch {
	case action == "cancel":
	case action != "complete":
		problem = "Choose Complete payout or Cancel."
	case !offered:
		problem = "Choose how you want to receive the money."
	case opt.refuses(sess.amount) != "":
		problem = opt.refuses(sess.amount) + ": choose another way to receive the money."
	case account == "":
		problem = "Enter the account that should receive the money."
	}
	if problem != "" {
		v := sess.view()
		v.Error, v.Account = problem, account
		for i := range v.Options {
			v.Options[i].Checked = v.Options[i].Name == option
		}
		k.mu.Unlock()
		k.renderCashier(w, http.StatusUnprocessableEntity, v)
		return
	}
	sess.decided = true
	sess.updated = time.Now().UTC()
	var cancelled kibNotification
	if action == "cancel" {
		sess.status = kibUserCancel
		cancelled = sess.notification()
	} else {
		sess.option, sess.account = option, account
		if FaultFor(sess.amount, account) == FaultDecline {
			sess.fault = FaultDecline
		}
	}
	redirect := sess.req.RedirectURL
	k.mu.Unlock()

	if action == "cancel" {
		k.send(cancelled)
	} else {
		k.s.after(kibProcessingSteps, func() { k.process(id) })
	}
	http.Redirect(w, r, redirect, http.StatusSeeOther)
}

// process moves a completed session to PROCESSING, then to its final status.
func (k *kibramoaSim) process(id string) {
	k.mu.Lock()
	sess := k.sessions[id]
	sess.status = kibProcessing
	sess.updated = time.Now().UTC()
	n := sess.notification()
	k.mu.Unlock()
	k.send(n)
	k.s.after(kibFinalSteps, func() { k.finish(id) })
}

// finish settles a session: completed, or declined for the decline fault,
// then plays the webhook faults on the final notification.
func (k *kibramoaSim) finish(id string) {
	k.mu.Lock()
	sess := k.sessions[id]
	sess.updated = time.Now().UTC()
	sess.paymentRef = "KBM-" + strings.ToUpper(strings.ReplaceAll(sess.txID, "-", "")[:12])
	if sess.fault == FaultDecline {
		sess.status = kibDeclined
		sess.errCode, sess.errMsg = "301", "Payout declined by the beneficiary bank: account rejected"
	} else {
		sess.status = kibCompleted
	}
	final := sess.notification()
	// Notifications carry no timestamp: the stale one is the final one back
	// in PROCESSING.
	stale := final
	stale.Status, stale.Errors = kibProcessing, nil
	fault := sess.fault
	k.mu.Unlock()
	k.s.finalWebhook(fault, func() { k.send(final) }, func() { k.send(stale) })
}

// expire ends a session the customer never completed nor cancelled.
func (k *kibramoaSim) expire(id string) {
	k.mu.Lock()
	sess := k.sessions[id]
	if !sess.open() {
		k.mu.Unlock()
		return
	}
	sess.status = kibExpired
	sess.updated = time.Now().UTC()
	n := sess.notification()
	k.mu.Unlock()
	k.send(n)
}

func (sess *kibSession) open() bool { return sess.status == kibInit && !sess.decided }

// view builds the cashier page for the session; the caller holds k.mu.
func (sess *kibSession) view() kibCashierView {
	c := kibCountries[sess.req.Country]
	v := kibCashierView{
		Merchant:     kibMerchantName,
		Description:  sess.req.Description,
		Amount:       sess.amount.String(),
		SessionID:    sess.id,
		AccountLabel: c.account,
		Open:         sess.open(),
		redirect:     sess.req.RedirectURL,
	}
	switch sess.status {
	case kibInit, kibProcessing:
		v.StatusText = "Your payout is being processed."
		if v.Open {
			v.StatusText = "Choose how to receive the money, enter your account and confirm."
		}
	case kibCompleted:
		v.StatusText = "This payout has been completed: the money is on its way to your account."
	case kibDeclined:
		v.StatusText = "This payout was declined: " + sess.errMsg
	case kibUserCancel:
		v.StatusText = "You cancelled this payout."
	case kibExpired:
		v.StatusText = "This payout link has expired."
	}
	for _, o := range c.options {
		v.Options = append(v.Options, kibOptionView{Name: o.name, Refused: o.refuses(sess.amount)})
	}
	return v
}

func (k *kibramoaSim) renderCashier(w http.ResponseWriter, status int, v kibCashierView) {
	v.Base = k.s.cfg.BaseURL
	w.Header().Set("Cache-Control", "no-store")
	if csp := k.s.cfg.FormCSP; csp != nil && v.Open {
		// Browsers hold a form's redirects to form-action too.
		if u, err := url.Parse(v.redirect); err == nil && u.Scheme != "" && u.Host != "" {
			w.Header().Set("Content-Security-Policy", csp(u.Scheme+"://"+u.Host))
		}
	}
	renderHTML(w, status, "kibramoa_cashier.html", v)
}

// kibNotification is the body Kibramoa POSTs to the merchant's notification URL.
type kibNotification struct {
	InternalID        string      `json:"internalId"`
	SessionID         string      `json:"sessionId"`
	MerchantName      string      `json:"merchantName"`
	UserID            string      `json:"userId"`
	Type              string      `json:"type"`
	PaymentOptionName string      `json:"paymentOptionName"`
	Country           string      `json:"country"`
	Currency          string      `json:"currency"`
	PaymentAmount     json.Number `json:"paymentAmount"`
	MerchantReference string      `json:"merchantReference"`
	Status            string      `json:"status"`
	Language          string      `json:"language"`
	PaymentReference  string      `json:"paymentReference"`
	Extra1            string      `json:"extra1"`
	Extra2            string      `json:"extra2"`
	Extra3            string      `json:"extra3"`
	Customer          kibCustomer `json:"customer"`
	Errors            *kibErrors  `json:"errors,omitempty"`
}

// notification snapshots the session as a notification; the caller holds k.mu.
func (sess *kibSession) notification() kibNotification {
	typ := "BANK"
	if sess.option == "TPaga" {
		typ = "WALLET"
	}
	n := kibNotification{
		InternalID: sess.txID, SessionID: sess.id, MerchantName: kibMerchantName,
		UserID: sess.req.UserID, Type: typ, PaymentOptionName: sess.option,
		Country: sess.req.Country, Currency: sess.req.Currency, PaymentAmount: sess.wireAmount(),
		MerchantReference: sess.req.MerchantReference, Status: sess.status, Language: sess.req.Language,
		PaymentReference: sess.paymentRef, Extra1: sess.req.Extra1, Extra2: sess.req.Extra2, Extra3: sess.req.Extra3,
		Customer: kibCustomer{UserDevice: sess.req.UserDevice, UserAgent: sess.req.UserAgent, IP: sess.req.IP},
	}
	if sess.errCode != "" {
		n.Errors = &kibErrors{Code: sess.errCode, Msg: sess.errMsg}
	}
	return n
}

// send signs a notification with the webhook secret and delivers it.
func (k *kibramoaSim) send(n kibNotification) {
	body, err := json.Marshal(n)
	if err != nil {
		k.s.log.Error("kibramoa: encode notification", slog.Any("error", err))
		return
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(kibramoa.SignatureHeader, kibramoa.Sign(k.s.cfg.Credentials.KibramoaWebhookSecret, body))
	k.s.deliver(providers.Kibramoa, h, body)
}
