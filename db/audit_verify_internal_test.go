package db

import (
	"context"
	"errors"
	"testing"
)

// Every test log of more than a few events is verified in parallel ranges,
// more of them than the small logs have events, so that the tamper tests
// cover range boundaries and ranges of one event too.
func init() {
	parallelFrom = 4
	verifyWorkers = func() int { return 16 }
}

// A verification cancelled while it reads says so, rather than naming an
// SQLite error or passing.
func TestVerifyRangeCancelledSaysSo(t *testing.T) {
	ctx := context.Background()
	d := openInternalDB(t)
	a := NewAudit(d)
	for range 3 {
		if err := a.Record(ctx, Event{Actor: Actor{Type: ActorSystem}, Action: "test.event"}); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := a.verifyRange(ctx, 1, 3, nil); err != nil || r.brokenAt != 0 || r.verified != 3 {
		t.Fatalf("verifyRange = %+v, %v; want 3 events verified", r, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, from := range []int64{1, 2} {
		if r, err := a.verifyRange(cancelled, from, 3, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled verifyRange from %d = %+v, %v; want context.Canceled", from, r, err)
		}
	}
}
