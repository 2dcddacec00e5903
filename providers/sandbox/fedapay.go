package sandbox

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"payoutdesk/providers"
)

// fedapaySim simulates FedaPay's payout API: POST /payouts creates a pending
// payout, PUT /payouts/start starts it, and the payout then moves to
// processing (one step) and sent or failed (two steps), with a signed
// webhook at each change. A payout never started stays pending and can be
// deleted. Every request needs "Authorization: Bearer <FedaPaySecretKey>".
type fedapaySim struct {
	s *Sandbox

	mu           sync.Mutex
	lastID       int64
	lastEvent    int64
	lastCustomer int64
	payouts      map[int64]*fpRecord
	byRef        map[string]int64
	customers    map[string]int64 // customer ids by email, as FedaPay dedupes them
	// byNumber holds the payouts of the last day to each Mobile Money
	// number, for FedaPay's cap (fpNumberCap).
	byNumber map[string][]*fpRecord
}

// FedaPay takes at most three payouts to one Mobile Money number in 24
// hours (providers.md §4.1). How its API refuses the next is not
// documented: the sandbox refuses the create, as a validation error on the
// number, so that nothing is created.
const (
	fpNumberCap    = 3
	fpNumberWindow = 24 * time.Hour
)

// fpRecord is one simulated payout.
type fpRecord struct {
	obj   fpPayoutObject
	fault Fault
	phone string
	// created is when the sandbox made it, for fpNumberCap.
	created time.Time
	// processing is the payout as it was while processing, for the stale
	// webhook of FaultOutOfOrder.
	processing fpPayoutObject
}

func newFedaPay(s *Sandbox) *fedapaySim {
	// FedaPay's ids are integers that never repeat. Counting from the
	// clock (in microseconds, well within JSON's exact integers) keeps them
	// so across restarts: counted from 1 again, a restarted sandbox's
	// webhooks reused event ids the app had seen and were dropped as
	// duplicates, and its payouts reused earlier payouts' ids.
	base := time.Now().UnixMicro()
	return &fedapaySim{
		s:            s,
		lastID:       base,
		lastEvent:    base,
		lastCustomer: base,
		payouts:      make(map[int64]*fpRecord),
		byRef:        make(map[string]int64),
		customers:    make(map[string]int64),
		byNumber:     make(map[string][]*fpRecord),
	}
}

func (f *fedapaySim) routes(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("POST "+prefix+"/payouts", f.create)
	mux.HandleFunc("PUT "+prefix+"/payouts/start", f.start)
	mux.HandleFunc("GET "+prefix+"/payouts/{id}", f.get)
	mux.HandleFunc("DELETE "+prefix+"/payouts/{id}", f.delete)
	mux.HandleFunc("GET "+prefix+"/payouts/merchant/{reference}", f.byMerchant)
	mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		if f.authorized(w, r) {
			fpWriteError(w, http.StatusNotFound, "Not found.", nil)
		}
	})
}

// authorized checks the bearer secret key, answering FedaPay's 401 envelope
// when it is missing or wrong.
func (f *fedapaySim) authorized(w http.ResponseWriter, r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !secretOK(got, f.s.cfg.Credentials.FedaPaySecretKey) {
		fpWriteError(w, http.StatusUnauthorized, "Unauthenticated.", nil)
		return false
	}
	return true
}

func (f *fedapaySim) create(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	var req fpCreate
	if !fpDecode(w, r, &req) {
		return
	}
	if errs := f.validate(req); len(errs) > 0 {
		fpWriteError(w, http.StatusUnprocessableEntity, "The given data was invalid.", errs)
		return
	}
	amount, _ := fpPositiveInt(req.Amount)
	phone := ""
	if req.Customer.PhoneNumber != nil {
		phone = req.Customer.PhoneNumber.Number
	}
	fault := FaultFor(providers.Money{Minor: amount, Currency: "XOF"}, phone)
	if fault == FaultServerError {
		fpWriteError(w, http.StatusInternalServerError, "Server Error", nil)
		return
	}
	if f.s.rateLimited(w, providers.FedaPay, fault, req.reference()) {
		// Laravel's throttle, which FedaPay's API is built on.
		fpWriteError(w, http.StatusTooManyRequests, "Too Many Attempts.", nil)
		return
	}
	obj, errs := f.insert(req, amount, phone, fault)
	if errs != nil {
		fpWriteError(w, http.StatusUnprocessableEntity, "The given data was invalid.", errs)
		return
	}
	if !f.s.answer(w, r, fault) {
		return
	}
	writeJSON(w, http.StatusCreated, map[string]fpPayoutObject{"v1/payout": obj})
}

// insert stores a new pending payout, refusing a merchant reference or
// customer id it does not know what to do with.
func (f *fedapaySim) insert(req fpCreate, amount int64, phone string, fault Fault) (fpPayoutObject, map[string][]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ref := req.reference()
	if _, dup := f.byRef[ref]; dup && ref != "" {
		return fpPayoutObject{}, map[string][]string{"merchant_reference": {"The merchant reference has already been taken."}}
	}
	if !f.numberFree(phone) {
		return fpPayoutObject{}, map[string][]string{"customer.phone_number.number": {
			fmt.Sprintf("This number has already received %d payouts in the last 24 hours.", fpNumberCap)}}
	}
	customerID, ok := f.customer(req)
	if !ok {
		return fpPayoutObject{}, map[string][]string{"customer.id": {"The selected customer.id is invalid."}}
	}
	f.lastID++
	now := fpNow()
	meta := req.CustomMetadata
	if meta == nil {
		meta = map[string]any{}
	}
	obj := fpPayoutObject{
		Klass: "v1/payout", ID: f.lastID, Reference: "pyt_" + rand.Text()[:12],
		Amount: amount, Status: "pending", CustomerID: customerID, CurrencyID: fpXOFCurrencyID,
		Mode: req.Mode, AmountTransferred: amount, AmountDebited: amount,
		CreatedAt: now, UpdatedAt: now, Metadata: map[string]any{}, CustomMetadata: meta,
		Description: req.Description, AccountID: 1, BalanceID: 1,
	}
	if ref != "" {
		obj.MerchantReference = &ref
		f.byRef[ref] = obj.ID
	}
	rec := &fpRecord{obj: obj, fault: fault, phone: phone, created: time.Now()}
	f.payouts[obj.ID] = rec
	if phone != "" {
		f.byNumber[phone] = append(f.byNumber[phone], rec)
	}
	f.s.count(providers.FedaPay, "payout created")
	return obj, nil
}

// numberFree reports whether phone may receive another payout under
// FedaPay's cap; f.mu is held. A payout that failed, or was deleted before
// it was started, took nothing to the number and does not count.
func (f *fedapaySim) numberFree(phone string) bool {
	if phone == "" {
		return true
	}
	since := time.Now().Add(-fpNumberWindow)
	recent := slices.DeleteFunc(f.byNumber[phone], func(rec *fpRecord) bool { return rec.created.Before(since) })
	if len(recent) == 0 {
		delete(f.byNumber, phone)
	} else {
		f.byNumber[phone] = recent
	}
	n := 0
	for _, rec := range recent {
		if rec.obj.Status != "failed" && rec.obj.DeletedAt == nil {
			n++
		}
	}
	return n < fpNumberCap
}

// customer finds or makes the payout's customer, by id or by email.
func (f *fedapaySim) customer(req fpCreate) (int64, bool) {
	if len(req.Customer.ID) > 0 {
		id, ok := fpPositiveInt(req.Customer.ID)
		return id, ok && id <= f.lastCustomer
	}
	email := strings.ToLower(req.Customer.Email)
	if id, ok := f.customers[email]; ok && email != "" {
		return id, true
	}
	f.lastCustomer++
	if email != "" {
		f.customers[email] = f.lastCustomer
	}
	return f.lastCustomer, true
}

func (f *fedapaySim) start(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	var req fpStart
	if !fpDecode(w, r, &req) {
		return
	}
	if len(req.Payouts) == 0 {
		fpWriteError(w, http.StatusUnprocessableEntity, "The given data was invalid.",
			map[string][]string{"payouts": {"The payouts field is required."}})
		return
	}
	f.mu.Lock()
	errs := map[string][]string{}
	var recs []*fpRecord
	seen := map[int64]bool{}
	for i, item := range req.Payouts {
		key := fmt.Sprintf("payouts.%d", i)
		id, ok := fpPositiveInt(item.ID)
		rec := f.payouts[id]
		switch {
		case !ok || rec == nil || rec.obj.DeletedAt != nil || seen[id]:
			errs[key+".id"] = []string{fmt.Sprintf("The selected %s.id is invalid.", key)}
		case rec.obj.Status != "pending":
			errs[key+".id"] = []string{fmt.Sprintf("The payout %d has already been started.", id)}
		case item.ScheduledAt != nil && !fpValidSchedule(*item.ScheduledAt):
			errs[key+".scheduled_at"] = []string{"The scheduled_at does not match the format Y-m-d H:i:s."}
		case item.PhoneNumber != nil && !fpValidNumber(item.PhoneNumber.Number):
			errs[key+".phone_number.number"] = []string{"The phone number format is invalid."}
		default:
			recs = append(recs, rec)
		}
		seen[id] = true
	}
	if len(errs) > 0 {
		f.mu.Unlock()
		fpWriteError(w, http.StatusUnprocessableEntity, "The given data was invalid.", errs)
		return
	}
	now := fpNow()
	out := make([]fpPayoutObject, 0, len(recs))
	events := make([]fpEvent, 0, len(recs))
	due := make([]time.Time, 0, len(recs))
	for i, rec := range recs {
		item := req.Payouts[i]
		rec.obj.Status, rec.obj.StartedAt, rec.obj.UpdatedAt = "started", &now, now
		at := time.Now()
		if item.ScheduledAt != nil {
			// A scheduled payout waits for its time (in UTC, as no zone is given).
			rec.obj.Status, rec.obj.ScheduledAt = "scheduled", item.ScheduledAt
			at, _ = time.Parse(time.DateTime, *item.ScheduledAt)
		}
		if item.PhoneNumber != nil && item.PhoneNumber.Number != rec.phone {
			// The decline fault follows the number the money goes to.
			rec.phone = item.PhoneNumber.Number
			rec.fault = FaultFor(providers.Money{Minor: rec.obj.Amount, Currency: "XOF"}, rec.phone)
		}
		out = append(out, rec.obj)
		events = append(events, f.event("payout."+rec.obj.Status, rec.obj))
		due = append(due, at)
		f.s.count(providers.FedaPay, "payout started")
	}
	f.mu.Unlock()
	for i, ev := range events {
		f.send(ev)
		id := out[i].ID
		f.s.afterDelay(time.Until(due[i]), func() { f.advance(id) })
	}
	writeJSON(w, http.StatusOK, map[string][]fpPayoutObject{"v1/payouts": out})
}

// fpValidSchedule checks a start's scheduled_at, "Y-m-d H:i:s". FedaPay
// does not say in which zone it is; the sandbox reads it as UTC.
func fpValidSchedule(s string) bool {
	_, err := time.Parse(time.DateTime, s)
	return err == nil
}

// fpNow is FedaPay's timestamp format.
func fpNow() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }
