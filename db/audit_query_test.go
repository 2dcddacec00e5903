package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"payoutdesk/db"
)

var (
	seedActions   = []string{"payout.created", "payout.status_changed", "payout.submitted", "webhook.received", "auth.login.failed", "auth.login.succeeded", "audit.viewed"}
	seedProviders = []string{"", "kibramoa", "smartglocal", "monime", "fedapay"}
	seedStart     = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
)

// seedAudit appends n varied events, their times spread over 30 days in
// sequence order, and returns them as stored.
func seedAudit(t testing.TB, d *db.DB, n int) []db.Event {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	var out []db.Event
	for start := 0; start < n; start += 2000 {
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			for i := start; i < min(start+2000, n); i++ {
				e := db.Event{
					At:       seedStart.Add(time.Duration(float64(i) / float64(n) * float64(30*24*time.Hour))),
					Actor:    db.Actor{Type: db.ActorUser, ID: fmt.Sprint(rng.IntN(5) + 1), Email: fmt.Sprintf("user%d@example.com", rng.IntN(5)+1)},
					Action:   seedActions[rng.IntN(len(seedActions))],
					Outcome:  db.OutcomeSuccess,
					Provider: seedProviders[rng.IntN(len(seedProviders))],
					Details:  map[string]any{"note": fmt.Sprintf("word%d", rng.IntN(500)), "i": i},
				}
				if rng.IntN(10) == 0 {
					e.Outcome = db.OutcomeFailure
				}
				if rng.IntN(3) == 0 {
					e.TargetType, e.TargetID = "payout", fmt.Sprint(rng.IntN(200)+1)
				}
				if rng.IntN(4) == 0 {
					e.Actor = db.Actor{Type: db.ActorProvider, ID: "monime"}
				}
				if rng.IntN(2) == 0 {
					e.Actor.Role = "agent"
					e.Origin = db.Origin{IP: fmt.Sprintf("203.0.113.%d", rng.IntN(250)), UserAgent: "Mozilla/5.0 \"test\"", RequestID: fmt.Sprint("req-", i)}
				}
				if rng.IntN(5) == 0 {
					e.Reason = fmt.Sprintf("reason %d, with = and \t", i)
				}
				if err := db.Append(ctx, tx, &e); err != nil {
					return err
				}
				out = append(out, e)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// matches is the straightforward reading of a filter, applied in Go.
func matches(e db.Event, f db.AuditFilter) bool {
	switch {
	case !f.From.IsZero() && e.At.Before(f.From), !f.To.IsZero() && !e.At.Before(f.To):
		return false
	case f.ActorType != "" && (e.Actor.Type != f.ActorType || e.Actor.ID != f.ActorID):
		return false
	case strings.HasSuffix(f.Action, ".") && !strings.HasPrefix(e.Action, f.Action):
		return false
	case f.Action != "" && !strings.HasSuffix(f.Action, ".") && e.Action != f.Action:
		return false
	case f.Provider != "" && e.Provider != f.Provider:
		return false
	case f.PayoutID != 0 && (e.TargetType != "payout" || e.TargetID != fmt.Sprint(f.PayoutID)):
		return false
	case f.Outcome != "" && e.Outcome != f.Outcome:
		return false
	case f.Text != "" && !strings.Contains(e.DetailsJSON+" "+e.Actor.Email, `"`+f.Text+`"`) && !strings.Contains(e.Actor.Email, f.Text):
		return false
	}
	return true
}

func TestAuditSearchMatchesAStraightforwardFilter(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 100,000 events")
	}
	d := newTestDB(t)
	all := seedAudit(t, d, 100_000)
	a := db.NewAudit(d)
	week := seedStart.Add(7 * 24 * time.Hour)
	filters := []db.AuditFilter{
		{},
		{Action: "webhook.received", Provider: "monime"},
		{Action: "payout."},
		{Outcome: db.OutcomeFailure, From: week, To: week.Add(7 * 24 * time.Hour)},
		{ActorType: db.ActorUser, ActorID: "3", Outcome: db.OutcomeFailure},
		{ActorType: db.ActorProvider, ActorID: "monime", Action: "auth."},
		{PayoutID: 42},
		{Text: "word123"},
		{Text: "word77", Provider: "fedapay", From: week},
		{Text: "user4@example.com", Action: "audit.viewed"},
		{From: seedStart.Add(29 * 24 * time.Hour)},
		{To: seedStart.Add(time.Hour)},
		{From: seedStart.AddDate(1, 0, 0)},
		{Text: "nothing-like-this"},
	}
	for _, f := range filters {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			var want []int64
			for i := len(all) - 1; i >= 0; i-- {
				if matches(all[i], f) {
					want = append(want, all[i].Seq)
				}
			}
			var got []int64
			page := f
			page.Limit = 500
			for {
				events, err := a.Search(context.Background(), page)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range events {
					got = append(got, e.Seq)
				}
				if len(events) < page.Limit {
					break
				}
				page.Before = events[len(events)-1].Seq
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d events, want %d (first got %v, first want %v)", len(got), len(want), head(got), head(want))
			}
		})
	}
}

// TestAuditTimeBoundsAtTheEdges: the time filters bisect the sequence
// numbers, so events sharing a time, bounds falling exactly on an event,
// and bounds before or after the whole log are where they could go wrong.
func TestAuditTimeBoundsAtTheEdges(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	offsets := []time.Duration{0, time.Second, time.Second, time.Second, 2 * time.Second, 5 * time.Second}
	err := d.InTx(ctx, func(tx *sql.Tx) error {
		for i, off := range offsets {
			e := db.Event{At: t0.Add(off), Actor: db.Actor{Type: db.ActorSystem}, Action: "test.tick", Details: map[string]any{"i": i}}
			if err := db.Append(ctx, tx, &e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	tests := []struct {
		from, to time.Time
		want     []int64
	}{
		{at(1), time.Time{}, []int64{6, 5, 4, 3, 2}},
		{time.Time{}, at(1), []int64{1}},
		{at(1), at(2), []int64{4, 3, 2}},
		{at(0.5), at(1.5), []int64{4, 3, 2}},
		{at(-1), at(0), nil},
		{at(0), at(0.000001), []int64{1}},
		{at(5), time.Time{}, []int64{6}},
		{at(5.000001), time.Time{}, nil},
		{at(3), at(4), nil},
		{at(-10), at(10), []int64{6, 5, 4, 3, 2, 1}},
		{at(2), at(1), nil},
	}
	a := db.NewAudit(d)
	for _, tt := range tests {
		got, err := a.Search(ctx, db.AuditFilter{From: tt.from, To: tt.to, Action: "test.tick"})
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range got {
			seqs = append(seqs, e.Seq)
		}
		if !slices.Equal(seqs, tt.want) {
			t.Errorf("from %v to %v: events %v, want %v", tt.from.Sub(t0), tt.to.Sub(t0), seqs, tt.want)
		}
	}
}

func head(s []int64) []int64 { return s[:min(len(s), 5)] }

func TestAuditPagesNeverSkipOrRepeatWhileEventsArrive(t *testing.T) {
	d := newTestDB(t)
	seedAudit(t, d, 3000)
	a := db.NewAudit(d)
	f := db.AuditFilter{Action: "webhook.received", Limit: 50}
	first, err := a.Search(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	err = a.Stream(context.Background(), db.AuditFilter{Action: "webhook.received"}, func(e db.Event) error {
		want = append(want, e.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{}
	for _, e := range first {
		got = append(got, e.Seq)
	}
	// New webhooks arrive between every page.
	for page := first; len(page) == f.Limit; {
		appendEvents(t, d, 3)
		seedAudit(t, d, 20)
		f.Before = page[len(page)-1].Seq
		if page, err = a.Search(context.Background(), f); err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			got = append(got, e.Seq)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("paging while events arrive returned %d events, want the %d present at the start", len(got), len(want))
	}
}

func TestAuditActions(t *testing.T) {
	d := newTestDB(t)
	seedAudit(t, d, 500)
	got, err := db.NewAudit(d).Actions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(seedActions)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("actions %v, want %v", got, want)
	}
}

func TestAuditStreamMatchesSearchAndStopsEarly(t *testing.T) {
	d := newTestDB(t)
	seedAudit(t, d, 3000)
	a := db.NewAudit(d)
	ctx := context.Background()
	f := db.AuditFilter{Outcome: db.OutcomeSuccess}
	var want []db.Event
	for page := []db.Event(nil); ; {
		var err error
		if page, err = a.Search(ctx, f); err != nil {
			t.Fatal(err)
		}
		want = append(want, page...)
		if len(page) < 50 {
			break
		}
		f.Before = page[len(page)-1].Seq
	}
	f.Before = 0
	var got []db.Event
	if err := a.Stream(ctx, f, func(e db.Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) < 1000 {
		t.Fatalf("stream gave %d events, search %d", len(got), len(want))
	}
	for i := range got {
		// The stream leaves details encoded and carries the hashed
		// encoding; everything else is the same.
		g, w := got[i], want[i]
		w.Details, g.Canon = nil, ""
		if !reflect.DeepEqual(g, w) || g.DetailsJSON == "" || !strings.HasPrefix(got[i].Canon, `["`+strconv.FormatInt(g.Seq, 10)+`",`) {
			t.Fatalf("event %d: stream %+v, search %+v", i, g, w)
		}
	}

	// Unfiltered, more events than one of the stream's pages: every one,
	// newest first, once.
	var all []int64
	if err := a.Stream(ctx, db.AuditFilter{}, func(e db.Event) error { all = append(all, e.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	head, _, err := a.Head(ctx)
	if err != nil || int64(len(all)) != head || len(all) < 2*2048 && len(all) < 3000 {
		t.Fatalf("the unfiltered stream gave %d events of %d (%v)", len(all), head, err)
	}
	for i, seq := range all {
		if seq != head-int64(i) {
			t.Fatalf("event %d of the stream is seq %d, want %d", i, seq, head-int64(i))
		}
	}

	// A consumer that fails stops the stream, however far reading got ahead.
	stop := errors.New("client went away")
	n := 0
	err = a.Stream(ctx, f, func(db.Event) error {
		if n++; n == 700 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 700 {
		t.Errorf("stream after the consumer failed: %d events, error %v", n, err)
	}

	// So does a cancelled request.
	cctx, cancel := context.WithCancel(ctx)
	n = 0
	err = a.Stream(cctx, f, func(db.Event) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("stream after cancel: %d events, error %v", n, err)
	}
}

func TestIndexTextWritesOnlyWhenBehind(t *testing.T) {
	d := newTestDB(t)
	seedAudit(t, d, 1200)
	a := db.NewAudit(d)
	ctx := context.Background()
	if n, err := a.IndexText(ctx); err != nil || n != 1200 {
		t.Fatalf("first index: %d events, %v; want 1200", n, err)
	}
	before := d.Stats()
	if n, err := a.IndexText(ctx); err != nil || n != 0 {
		t.Fatalf("index with nothing new: %d events, %v", n, err)
	}
	if tx := d.Stats().Transactions - before.Transactions; tx != 0 {
		t.Errorf("indexing nothing new ran %d write transactions", tx)
	}
}
