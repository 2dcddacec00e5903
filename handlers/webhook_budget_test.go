package handlers

import (
	"strconv"
	"testing"
	"time"
)

func TestRejectionBudget(t *testing.T) {
	var b rejectionBudget
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	audited := func(sender string, n int) (count int, last []rejectionVerdict) {
		t.Helper()
		for range n {
			v := b.take(sender, now)
			if v.Audit {
				count++
			}
			if v.Last && v.Audit {
				last = append(last, v)
			}
		}
		return count, last
	}
	// One sender: its budget one by one, then one note, then nothing.
	n, last := audited("192.0.2.1", rejectionsBySender+50)
	if n != rejectionsBySender+1 || len(last) != 1 || last[0].Overall || !last[0].Until.Equal(now.Add(rejectionWindow)) {
		t.Fatalf("one sender past its budget: %d audited, notes %+v; want %d and one note until the window's end", n, last, rejectionsBySender+1)
	}
	// Another sender has a budget of its own; one IPv6 /64 is one sender.
	if n, _ := audited("192.0.2.2", 3); n != 3 {
		t.Errorf("another sender: %d of 3 audited", n)
	}
	if n, _ := audited("2001:db8::1", rejectionsBySender); n != rejectionsBySender {
		t.Errorf("an IPv6 sender: %d of %d audited", n, rejectionsBySender)
	}
	if n, _ := audited("2001:db8::ffff:2", 2); n != 1 {
		t.Errorf("the same /64 from another address: %d of 2 audited, want the note only", n)
	}
	// A new window: the sender's next refusal says how many went unrecorded.
	now = now.Add(rejectionWindow)
	if v := b.take("192.0.2.1", now); !v.Audit || v.Last || v.Unrecorded != 49 {
		t.Errorf("first refusal of the next window: %+v, want audited, saying 49 went unrecorded", v)
	}
	if v := b.take("192.0.2.1", now); v.Unrecorded != 0 {
		t.Errorf("the unrecorded count is reported twice: %+v", v)
	}
	// Many senders: everyone's budget, one note, then nothing, for new
	// senders too.
	b = rejectionBudget{}
	total := 0
	var notes []rejectionVerdict
	for i := range 2 * rejectionsOverall {
		n, last := audited("198.51.100."+strconv.Itoa(i%250), 1)
		total += n
		notes = append(notes, last...)
	}
	if total != rejectionsOverall+1 || len(notes) != 1 || !notes[0].Overall {
		t.Errorf("many senders: %d audited, notes %+v; want %d and one note for everyone", total, notes, rejectionsOverall+1)
	}
}

func TestRejectionBudgetRemembersBoundedSenders(t *testing.T) {
	var b rejectionBudget
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for i := range maxRejectionSenders + 10 {
		b.take("10."+strconv.Itoa(i>>16&255)+"."+strconv.Itoa(i>>8&255)+"."+strconv.Itoa(i&255), now)
	}
	if len(b.senders) != maxRejectionSenders {
		t.Errorf("%d senders remembered, want at most %d", len(b.senders), maxRejectionSenders)
	}
	// Once their windows end, room is made.
	b.take("203.0.113.9", now.Add(rejectionWindow))
	if _, ok := b.senders["203.0.113.9"]; !ok || len(b.senders) != 1 {
		t.Errorf("after the windows ended: %d senders remembered, the new one among them: %v", len(b.senders), ok)
	}
}

// TestRejectionBudgetReportsWhatEveryonesBudgetLeftUnrecorded: refusals a
// sender made while everyone's budget was spent are reported by its next
// audited one, even when its own window has not ended.
func TestRejectionBudgetReportsWhatEveryonesBudgetLeftUnrecorded(t *testing.T) {
	var b rejectionBudget
	start := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for i := range rejectionsOverall / rejectionsBySender {
		for range rejectionsBySender {
			b.take("198.51.100."+strconv.Itoa(i), start)
		}
	}
	late := start.Add(rejectionWindow - time.Minute)
	if v := b.take("192.0.2.7", late); !v.Audit || !v.Overall {
		t.Fatalf("first refusal past everyone's budget: %+v, want the note", v)
	}
	for range 5 {
		if v := b.take("192.0.2.7", late); v.Audit {
			t.Fatalf("a refusal past everyone's budget was audited: %+v", v)
		}
	}
	// Everyone's window ends before this sender's.
	if v := b.take("192.0.2.7", start.Add(rejectionWindow)); !v.Audit || v.Unrecorded != 5 {
		t.Errorf("the sender's next refusal: %+v, want audited, saying 5 went unrecorded", v)
	}
}

// TestRejectionBudgetSweepsAFullMapRarely: while every remembered sender's
// window runs, new senders do not each read the whole map.
func TestRejectionBudgetSweepsAFullMapRarely(t *testing.T) {
	var b rejectionBudget
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for i := range maxRejectionSenders {
		b.take("10."+strconv.Itoa(i>>16&255)+"."+strconv.Itoa(i>>8&255)+"."+strconv.Itoa(i&255), now)
	}
	b.take("203.0.113.1", now)
	swept := b.swept
	if swept.IsZero() {
		t.Fatal("a full map was not swept for a new sender")
	}
	b.take("203.0.113.2", now.Add(time.Second))
	if !b.swept.Equal(swept) {
		t.Errorf("a full map was swept again after 1 s")
	}
}
