package web

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"payoutdesk/db"
)

// coalesced runs fn one call at a time for any number of callers. A caller
// that arrives while a call runs waits for the next one, which it shares
// with everyone else who arrived meanwhile: each result comes from a call
// that started after its caller asked, and no more than one runs at once
// however many ask. It is how the audit check, which reads the whole log,
// is run for every manager pressing Verify.
type coalesced[T any] struct {
	fn func(context.Context) (T, error)

	mu      sync.Mutex
	running bool
	next    *sharedCall[T] // the call the newest callers wait for
}

type sharedCall[T any] struct {
	done    chan struct{}
	callers int // how many wait for it: with none left, it is not made
	val     T
	err     error
}

func newCoalesced[T any](fn func(context.Context) (T, error)) *coalesced[T] {
	return &coalesced[T]{fn: fn}
}

// Do returns the result of a call of fn that started after Do was called,
// or ctx's error if ctx ends first. The call itself runs on without ctx's
// cancellation, for the others who share it.
func (c *coalesced[T]) Do(ctx context.Context) (T, error) {
	c.mu.Lock()
	if c.next == nil {
		c.next = &sharedCall[T]{done: make(chan struct{})}
	}
	call := c.next
	call.callers++
	if !c.running {
		c.running = true
		go c.run(context.WithoutCancel(ctx))
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.val, call.err
	case <-ctx.Done():
		c.mu.Lock()
		call.callers--
		c.mu.Unlock()
		var zero T
		return zero, ctx.Err()
	}
}

// run makes the waiting calls, one after another, until none is waiting.
func (c *coalesced[T]) run(ctx context.Context) {
	for {
		c.mu.Lock()
		call := c.next
		c.next = nil
		if call == nil {
			c.running = false
			c.mu.Unlock()
			return
		}
		abandoned := call.callers == 0
		c.mu.Unlock()
		// Everyone who asked for it has gone (pages closed while an
		// earlier check ran): a whole read of the log for nobody.
		if !abandoned {
			call.val, call.err = c.call(ctx)
		}
		close(call.done)
	}
}

// call runs fn once. A panic is an error for the callers who share the
// call, as a handler's own panic is a 500 for its request: on this
// goroutine, outside any handler, it would end the whole server.
func (c *coalesced[T]) call(ctx context.Context) (val T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return c.fn(ctx)
}

// verified is VerifyAudit's result.
type verified struct {
	v    db.Verification
	note string
}
