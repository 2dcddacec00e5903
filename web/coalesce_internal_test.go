package web

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCoalescedSharesTheNextCall: callers who arrive while a call runs
// share one next call, which starts after they asked; never two at once.
func TestCoalescedSharesTheNextCall(t *testing.T) {
	var calls, running, overlap atomic.Int32
	release := make(chan struct{})
	c := newCoalesced(func(context.Context) (int32, error) {
		if running.Add(1) > 1 {
			overlap.Add(1)
		}
		defer running.Add(-1)
		n := calls.Add(1)
		if n == 1 {
			<-release
		}
		return n, nil
	})

	first := make(chan int32)
	go func() {
		n, _ := c.Do(context.Background())
		first <- n
	}()
	waitUntil(t, func() bool { return calls.Load() == 1 })

	const late = 5
	results := make(chan int32, late)
	var wg sync.WaitGroup
	for range late {
		wg.Go(func() {
			n, err := c.Do(context.Background())
			if err != nil {
				t.Error(err)
			}
			results <- n
		})
	}
	waitUntil(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.next != nil && c.next.callers == late
	})
	close(release)
	if n := <-first; n != 1 {
		t.Errorf("the first caller got call %d, want 1", n)
	}
	wg.Wait()
	close(results)
	for n := range results {
		if n != 2 {
			t.Errorf("a caller who arrived during call 1 got call %d, want the next one, 2", n)
		}
	}
	if calls.Load() != 2 || overlap.Load() != 0 {
		t.Errorf("%d calls, %d overlapping; want 2, none overlapping", calls.Load(), overlap.Load())
	}

	// Idle again: a new caller gets a new call at once.
	if n, err := c.Do(context.Background()); n != 3 || err != nil {
		t.Errorf("a caller after the others got %d, %v; want call 3", n, err)
	}

	// A caller who gives up gets its context's error; the call goes on
	// for whoever else shares it, and a call everyone gave up on before
	// it started is not made.
	block := make(chan struct{})
	var made atomic.Int32
	c.fn = func(context.Context) (int32, error) { made.Add(1); <-block; return 4, nil }
	ctx, cancel := context.WithCancel(context.Background())
	other := make(chan int32)
	go func() {
		n, _ := c.Do(context.Background())
		other <- n
	}()
	waitUntil(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.running && c.next == nil
	})
	cancel()
	if _, err := c.Do(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled caller got %v, want context.Canceled", err)
	}
	close(block)
	if n := <-other; n != 4 {
		t.Errorf("the caller who waited got %d, want 4", n)
	}
	waitUntil(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.running
	})
	if n := made.Load(); n != 1 {
		t.Errorf("%d calls made, want 1: the one the cancelled caller alone waited for is not made", n)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCoalescedCallPanicking: a call that panics is an error for those who
// share it, as a handler's own panic is a 500 for its request, not the end
// of the server; the next call runs as usual.
func TestCoalescedCallPanicking(t *testing.T) {
	var calls atomic.Int32
	c := newCoalesced(func(context.Context) (int32, error) {
		if calls.Add(1) == 1 {
			var m map[string]int
			m["boom"]++ // a nil map: panics
		}
		return calls.Load(), nil
	})
	if _, err := c.Do(context.Background()); err == nil || !strings.Contains(err.Error(), "panic") {
		t.Errorf("a panicking call: %v, want an error saying it panicked", err)
	}
	if n, err := c.Do(context.Background()); err != nil || n != 2 {
		t.Errorf("the call after it: %d, %v; want 2, nil", n, err)
	}
}
