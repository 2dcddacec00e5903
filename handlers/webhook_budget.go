package handlers

import (
	"sync"
	"time"
)

// Every refused webhook delivery is audited, and the audit log can never be
// pruned: without a bound, anyone could grow it, and queue durable commits
// on the single writer, by posting junk to /webhooks/. So each sender (an
// IP address; an IPv6 /64, which one host may hold whole) has its refusals
// audited one by one up to a budget per window, and all senders together
// up to a larger one. Past either, refusals are only counted: the first is
// audited saying so and until when, and the sender's next audited refusal
// says how many went unrecorded. A valid delivery never spends the budget.
const (
	rejectionWindow    = 10 * time.Minute
	rejectionsBySender = 100
	rejectionsOverall  = 1000
	// maxRejectionSenders bounds the senders remembered; past it, a new
	// sender is counted against the overall budget only.
	maxRejectionSenders = 10_000
)

// rejectionBudget decides which refused deliveries are audited one by one.
type rejectionBudget struct {
	mu      sync.Mutex
	senders map[string]*budgetWindow
	all     budgetWindow
	// swept is when the full map was last swept of ended windows: a sweep
	// reads every sender, so a stream of new senders must not cause one
	// each.
	swept time.Time
}

// budgetWindow counts one sender's (or everyone's) refusals in a window.
type budgetWindow struct {
	start time.Time
	// audited refusals in this window; unrecorded, those past the budget;
	// noted, whether the one that found the budget spent was recorded.
	audited, unrecorded int
	noted               bool
	// carried is what earlier windows left unrecorded, reported by the
	// next audited refusal.
	carried int
}

// roll starts a new window when the current one has ended.
func (w *budgetWindow) roll(now time.Time) {
	if now.Sub(w.start) < rejectionWindow {
		return
	}
	w.carried += w.unrecorded
	w.start, w.audited, w.unrecorded, w.noted = now, 0, 0, false
}

// rejectionVerdict is what to record of one refused delivery.
type rejectionVerdict struct {
	// Audit: record it. Last: it is the first past a budget, the sender's
	// or (Overall) everyone's, recorded to say that the rest are not,
	// until Until.
	Audit, Last, Overall bool
	Until                time.Time
	// Unrecorded is how many refusals from this sender went unrecorded
	// before this one.
	Unrecorded int
}

// take spends the budget of one refused delivery from sender.
func (b *rejectionBudget) take(sender string, now time.Time) rejectionVerdict {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.senders == nil {
		b.senders = map[string]*budgetWindow{}
	}
	key := addressKey(sender)
	w, ok := b.senders[key]
	if !ok {
		if len(b.senders) >= maxRejectionSenders && now.Sub(b.swept) >= time.Minute {
			b.forgetEnded(now)
			b.swept = now
		}
		w = &budgetWindow{start: now}
		if len(b.senders) < maxRejectionSenders {
			b.senders[key] = w
		} // else not remembered: only the overall budget holds it
	}
	w.roll(now)
	b.all.roll(now)
	switch {
	case w.audited >= rejectionsBySender:
		// The note that the sender's budget is spent counts against
		// everyone's, so that many senders cannot each add one unbounded.
		if !w.noted && b.all.audited < rejectionsOverall {
			w.noted = true
			b.all.audited++
			return rejectionVerdict{Audit: true, Last: true, Until: w.start.Add(rejectionWindow)}
		}
		w.unrecorded++
		return rejectionVerdict{}
	case b.all.audited >= rejectionsOverall:
		if !b.all.noted {
			b.all.noted = true
			return rejectionVerdict{Audit: true, Last: true, Overall: true, Until: b.all.start.Add(rejectionWindow)}
		}
		w.unrecorded++
		return rejectionVerdict{}
	}
	w.audited++
	b.all.audited++
	// Refusals left unrecorded in this window too: everyone's budget may
	// have been spent, and renewed, while the sender's window runs on.
	v := rejectionVerdict{Audit: true, Unrecorded: w.carried + w.unrecorded}
	w.carried, w.unrecorded = 0, 0
	return v
}

// forgetEnded drops the senders whose window has ended, with the count of
// their unrecorded refusals, which only their return would have reported
// (the note that recording stopped is in the audit log).
func (b *rejectionBudget) forgetEnded(now time.Time) {
	for k, w := range b.senders {
		if now.Sub(w.start) >= rejectionWindow {
			delete(b.senders, k)
		}
	}
}
