package handlers

import (
	"context"
	"runtime"
	"sync"
)

// loginGate runs one sign-in attempt at a time per throttle key, so that
// attempts sent in parallel cannot all pass the lock check before any of
// their failures is counted; and only a few password checks at once
// overall, since each holds its hash's memory (19 MiB) for tens of
// milliseconds. The zero value is ready to use.
type loginGate struct {
	once  sync.Once
	slots chan struct{}

	mu   sync.Mutex
	keys map[string]*keySlot
}

// keySlot is one key's turn, and how many attempts hold or await it.
type keySlot struct {
	turn chan struct{}
	refs int
}

// enter waits for the turn of each key, in the order given, then for a
// slot; every caller must give its keys in the same order (account, then
// IP), so that no two wait on each other. leave gives them all back.
func (g *loginGate) enter(ctx context.Context, keys ...string) (leave func(), err error) {
	g.once.Do(func() { g.slots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0))) })
	var held []string
	releaseKeys := func() {
		for _, k := range held {
			g.release(k, true)
		}
	}
	for _, k := range keys {
		if err := g.acquire(ctx, k); err != nil {
			releaseKeys()
			return nil, err
		}
		held = append(held, k)
	}
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		releaseKeys()
		return nil, ctx.Err()
	}
	return func() { <-g.slots; releaseKeys() }, nil
}

func (g *loginGate) acquire(ctx context.Context, key string) error {
	g.mu.Lock()
	if g.keys == nil {
		g.keys = map[string]*keySlot{}
	}
	s := g.keys[key]
	if s == nil {
		s = &keySlot{turn: make(chan struct{}, 1)}
		g.keys[key] = s
	}
	s.refs++
	g.mu.Unlock()
	select {
	case s.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		g.release(key, false)
		return ctx.Err()
	}
}

// release gives back key's turn if held, and forgets the key once nobody
// holds or awaits it.
func (g *loginGate) release(key string, held bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.keys[key]
	if held {
		<-s.turn
	}
	if s.refs--; s.refs == 0 {
		delete(g.keys, key)
	}
}
